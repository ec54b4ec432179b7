# Issue 20: a web server that closes, or half-closes, its connection 2 ms
# or 50 ms after sending a request that php-fpm takes 1 s to answer gave
# up (nginx and HAProxy take a client's FIN so).  Without the pool,
# php-fpm's connection is closed within 100 ms of the EOF; with the
# pool, the request is aborted and php-fpm's answer drained, then the
# kept connection serves the next request, none of the old answer in it.
# strace times the daemon's own syscalls: the front's EOF read, then the
# close of the upstream socket (or, with the pool, no new connect).
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
SLOW="SCRIPT_FILENAME=$T/www/slow.php,QUERY_STRING=s=1"
# trace_on / trace_off: strace the daemon into $T/st.
trace_on() {
	strace -f -tt -e trace=accept4,socket,connect,read,close \
	    -p "$(cat "$T/daemon.pid")" -o "$T/st" 2>/dev/null &
	TRACE=$!
	sleep 0.3
}
trace_off() { sleep 0.1; kill "$TRACE"; wait "$TRACE" 2>/dev/null; }
# From the client's close (or shutdown) at $1 (HH:MM:SS.frac) to the
# daemon's close of its socket to php-fpm, in ms, from the trace.
eof_to_close() {
	awk -v at="$1" '
	function ms(t,  a) { split(t, a, ":"); return (a[1]*3600 + a[2]*60 + a[3]) * 1000 }
	/ connect\(/ && /php/ { match($0, /connect\([0-9]+/); up = substr($0, RSTART + 8, RLENGTH - 8) }
	up != "" && $0 ~ " close\\(" up "\\)" && !closed { closed = ms($2) }
	END { if (closed) printf "%d\n", closed - ms(at); else print "none" }' "$T/st"
}
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
for how in close shutwr; do
	for after in 2 50; do
		trace_on
		at=$(fs begin:1 "params:1:$SLOW" stdin:1 sleep:$after $how \
		    sleep:300 | sed -n 's/^[a-z]* at //p')
		trace_off
		d=$(eof_to_close "$at")
		echo "    no pool, $how after $after ms: php-fpm's connection closed $d ms after it"
		[ "$d" != none ] && [ "$d" -le 100 ] ||
		    fail "no pool, $how after $after ms: closed after $d ms"
	done
done
log_has 'reason="front closed mid-request"'
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; upstream_max_conns = 1;'
for how in close shutwr; do
	for after in 2 50; do
		trace_on
		fs begin:1:keep "params:1:$SLOW" stdin:1 sleep:$after $how \
		    >/dev/null
		out=$(fs begin:1:keep params:1:SCRIPT_NAME=/next stdin:1 wait:1)
		trace_off
		[[ "$out" =~ ^"end 1 status=200 bytes="[0-9]+" script=/next"$ ]] ||
		    fail "pool, $how after $after ms: next request got: $out"
		n=$(grep -c ' connect(' "$T/st")
		[ "$n" -le 1 ] || fail "pool, $how after $after ms: $n connects"
	done
done
echo "    pool: the drained connection served each next request"
good_request
