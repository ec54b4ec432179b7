# log = file; after a rename, SIGUSR1 reopens it (logrotate).
stop_daemon
cat > "$T/fcn.conf" <<CONF
log = "$T/fcn.log";
apps = ( { name = "e2e"; listen = "unix:$T/fcn.sock";
	upstream = "unix:$T/php.sock"; } );
CONF
: > "$T/daemon.log"
"$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
wait_for "$T/fcn.sock"
grep -q 'started' "$T/fcn.log" || fail "no start line in the log file"
mv "$T/fcn.log" "$T/fcn.log.1"
kill -USR1 "$(cat "$T/daemon.pid")"; sleep 0.2
curl -s -H 'X-Forwarded-For: 1.2.3.4' "http://127.0.0.1:$ORIGIN/dump.php" >/dev/null
sleep 0.2
grep -q 'untrusted peer sent' "$T/fcn.log" 2>/dev/null || fail "log not reopened"
