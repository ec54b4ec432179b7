# HAProxy 2.6 fcgi-app "option mpxs-conns" with the pool (SPEC §5.4):
# many requests in flight on each of HAProxy's few connections to the
# daemon, each on its own pooled php-fpm connection.
LOG_LEVEL=debug fe_daemon "upstream_max_conns = 6; queue_timeout_ms = 20000;"
start_haproxy_fcgi haproxy-fcn "	option mpxs-conns
	option max-reqs 10" "unix@$T/fcn.sock" "	http-reuse always" ||
    fail "haproxy-fcn did not start"
PORT_fcn=$SRV_PORT
# mpx_burst N URL: N requests at once (curl --parallel); prints the
# outcomes ("COUNT CODE", sorted) and the seconds it took.
mpx_burst() {
	local i
	for i in $(seq 1 "$1"); do
		printf 'url = "%s&i=%d"\noutput = "/dev/null"\n' "$2" "$i"
	done > "$T/mpx.cfg"
	timeout 120 curl -s -m 60 --parallel --parallel-immediate \
	    --parallel-max "$1" -K "$T/mpx.cfg" -w '%{http_code}\n' \
	    > "$T/mpx.out" 2>/dev/null
	sort "$T/mpx.out" | uniq -c | sed 's/^ *//' | tr '\n' ' '
}
if [ "$CASE_OK" = 1 ]; then
	# 200 at once, a small page.
	got=$(mpx_burst 200 "http://127.0.0.1:$PORT_fcn/ok.php?x=1")
	front=$(grep -c ' accept ' "$T/daemon.log")
	echo "    200 concurrent small pages: $got over $front front connections"
	[ "$got" = "200 200 " ] || fail "200 concurrent: $got"
	# 20 at once, 0.3 s each, 6 php-fpm workers: 4 rounds of 0.3 s;
	# HAProxy (max-reqs 10) puts them on 2 connections or so.
	start=$(date +%s%N)
	got=$(mpx_burst 20 "http://127.0.0.1:$PORT_fcn/slow.php?s=0.3")
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	front2=$(( $(grep -c ' accept ' "$T/daemon.log") - front ))
	echo "    20 concurrent 0.3 s pages: $got in $ms ms over $front2 new" \
	    "front connections"
	[ "$got" = "20 200 " ] || fail "20 concurrent slow pages: $got"
	# One request at a time per connection would take 20 x 0.3 s
	# divided by the connections HAProxy opened for them.
	serial=$(( 20 * 300 / (front2 > 0 ? front2 : 1) ))
	[ "$ms" -lt $(( serial * 2 / 3 )) ] ||
	    fail "no multiplexing: $ms ms, one at a time takes $serial ms"
	[ "$front" -lt 200 ] || fail "no multiplexing: $front connections"
	fe_log_clean
fi
fe_srv_errors haproxy-fcn
stop_srv haproxy-fcn
