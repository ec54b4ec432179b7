# Out of file descriptors: accept pauses (logged, no busy loop) and the
# daemon serves again once descriptors are free.
stop_daemon
cat > "$T/fcn.conf" <<CONF
apps = ( { name = "e2e"; listen = "unix:$T/fcn.sock";
	upstream = "unix:$T/php.sock"; params_timeout_ms = 5000; } );
CONF
: > "$T/daemon.log"
( ulimit -n 20; exec "$BIN" -c "$T/fcn.conf" >>"$T/daemon.log" 2>&1 ) &
echo $! > "$T/daemon.pid"
wait_for "$T/fcn.sock"
hpids=""
for i in $(seq 1 16); do
	hold_conn 2 "$BEGIN_HEX" >/dev/null & hpids="$hpids $!"
done
sleep 0.5
t0=$(cut -d' ' -f14,15 /proc/$(cat "$T/daemon.pid")/stat | tr ' ' +)
sleep 1
t1=$(cut -d' ' -f14,15 /proc/$(cat "$T/daemon.pid")/stat | tr ' ' +)
[ $(( (t1) - (t0) )) -lt 20 ] || fail "daemon spins while out of fds"
wait $hpids
sleep 1.2
good_request
log_has 'accept: Too many open files'
