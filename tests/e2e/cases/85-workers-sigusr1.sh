# SPEC §6.2: SIGUSR1 to the master reaches every worker.  workers = 2 and
# log = file; after a rename, SIGUSR1 to the master: each worker's lines
# go to the new file, none to the renamed one.  A worker that did not
# reopen would go on writing to the renamed file.
stop_daemon
WP=$(free_port)
cat > "$T/fcn.conf" <<CONF
log = "$T/fcn.log";
workers = 2;
apps = ( { name = "e2e"; listen = "127.0.0.1:$WP";
	upstream = "unix:$T/php.sock"; } );
CONF
rm -f "$T/fcn.log" "$T/fcn.log.1"
: > "$T/daemon.log"
"$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 &
echo $! > "$T/daemon.pid"
for i in $(seq 1 100); do
	[ "$(grep -c 'worker [01] started' "$T/fcn.log" 2>/dev/null)" = 2 ] &&
	    break
	sleep 0.05
done
mv "$T/fcn.log" "$T/fcn.log.1"
kill -USR1 "$(cat "$T/daemon.pid")"
for i in $(seq 1 100); do [ -e "$T/fcn.log" ] && break; sleep 0.05; done
sleep 0.3	# the master's SIGUSR1 on to each worker
# Each worker says a line of its own: a SIGHUP sent to a worker itself
# is logged ("SIGHUP to a worker ignored") and changes nothing.
for w in $(ps -o pid= --ppid "$(cat "$T/daemon.pid")"); do
	kill -HUP "$w"
done
for i in $(seq 1 100); do
	[ "$(grep -c 'SIGHUP to a worker' "$T/fcn.log" 2>/dev/null)" = 2 ] &&
	    break
	sleep 0.05
done
new=$(grep -c 'SIGHUP to a worker' "$T/fcn.log" 2>/dev/null)
old=$(grep -c 'SIGHUP to a worker' "$T/fcn.log.1")
echo "    after SIGUSR1: $new workers wrote to the new file, $old to the renamed one"
[ "${new:-0}" = 2 ] || fail "new file has lines of ${new:-0} of 2 workers"
[ "$old" = 0 ] || fail "a worker still writes to the renamed file"
# And the workers still serve (the SIGHUPs changed nothing).
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect 127.0.0.1:$WP 2>&1)
case $out in *'"REMOTE_ADDR"'*) ;; *) fail "no answer after: $out";; esac
stop_daemon
start_daemon ''
good_request
