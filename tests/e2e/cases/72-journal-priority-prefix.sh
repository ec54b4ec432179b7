# Under systemd (JOURNAL_STREAM names the stream on stderr) every line
# carries its syslog priority as "<N>" (sd-daemon.h), so journalctl -p
# warning shows warnings; the "LEVEL app=..." text stays.  When stderr is
# not that stream (redirected), no prefix.
stop_daemon
port=$(free_port)
cat > "$T/fcn.conf" <<CONF
apps = ( { name = "e2e"; listen = "unix:$T/fcn.sock";
	upstream = "127.0.0.1:$port"; } );
CONF
: > "$T/daemon.log"
js=$(stat -c '%d:%i' "$T/daemon.log")
JOURNAL_STREAM=$js "$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
wait_for "$T/fcn.sock"
# Upstream down: a warn line and an info line for the 502 answer.
env -i REQUEST_METHOD=GET SCRIPT_FILENAME=/x.php \
    cgi-fcgi -bind -connect "$T/fcn.sock" > /dev/null 2>&1
log_has '^<6>info app=- started: '
log_wait '^<4>warn app=e2e upstream 127.0.0.1:'
log_lacks '^info app='
stop_daemon
# A JOURNAL_STREAM that is not our stderr: plain lines.
: > "$T/daemon.log"
JOURNAL_STREAM=1:1 "$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
wait_for "$T/fcn.sock"
sleep 0.1
log_has '^info app=- started: '
log_lacks '^<'
stop_daemon
# -t errors under the journal: FILE:LINE at priority err.
echo 'bogus_key = 1;' >> "$T/fcn.conf"
: > "$T/daemon.log"
JOURNAL_STREAM=$js "$BIN" -t -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1
log_has "^<3>$T/fcn.conf:3: "
: > "$T/daemon.log"
