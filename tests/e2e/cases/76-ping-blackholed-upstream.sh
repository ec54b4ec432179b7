# Issue 20: the ping page never blocks the event loop.  An upstream in a
# network namespace of our own whose packets go nowhere (a permanent
# neighbour entry to a MAC nobody has: connects neither succeed nor
# fail) sits first in the list; the ping answers within 5 ms from the
# unix php-fpm behind it.  An app whose only upstream is that one answers
# its ping 503 after connect_timeout_ms, and meanwhile the other app's
# requests are served at once.
NS=fcnbh$$
bh_down() {
	ip link del fcnbh0 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
bh_down
if ! { ip netns add "$NS" && ip link add fcnbh0 type veth peer name fcnbh1 &&
    ip link set fcnbh1 netns "$NS" &&
    ip addr add 198.18.0.1/30 dev fcnbh0 && ip link set fcnbh0 up &&
    ip -n "$NS" addr add 198.18.0.2/30 dev fcnbh1 &&
    ip -n "$NS" link set fcnbh1 up &&
    ip neigh replace 198.18.0.2 lladdr 02:00:00:00:0b:0b dev fcnbh0 \
    nud permanent; }; then
	fail "cannot make the blackholed namespace"
fi
start_apps "{ name = \"bh\"; listen = \"unix:$T/fcn.sock\";
	upstream = [ \"198.18.0.2:9000\", \"unix:$T/php.sock\" ];
	upstream_balance = \"first\";
	ping_path = \"/fcgi-normalizer-ping\";
	status_allow = [ \"127.0.0.1\" ]; },
    { name = \"bh2\"; listen = \"unix:$T/bh2.sock\";
	upstream = \"198.18.0.2:9000\"; connect_timeout_ms = 400;
	ping_path = \"/ping\"; status_allow = [ \"127.0.0.1\" ]; },
    { name = \"ok\"; listen = \"unix:$T/ok.sock\";
	upstream = \"unix:$T/php.sock\"; }" "$T/fcn.sock"
times=""
for i in 1 2 3 4 5; do
	r=$(curl -s -o "$T/ping.out" -w '%{http_code} %{time_total}' \
	    "http://127.0.0.1:$ORIGIN/fcgi-normalizer-ping")
	[ "${r% *}" = 200 ] && [ "$(cat "$T/ping.out")" = pong ] ||
	    fail "ping with a blackholed first upstream: $r"
	times="$times ${r#* }"
done
med=$(echo $times | tr ' ' '\n' | sort -n | sed -n 3p)
echo "    ping, blackholed first upstream: median ${med}s of$times"
awk -v t="$med" 'BEGIN { exit !(t < 0.005) }' ||
    fail "ping took ${med}s (over 5 ms)"
# Only the blackholed upstream: 503 after the connect timeout; the loop
# keeps serving another app meanwhile (timed inside the client).
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/$1" "${@:2}"; }
fs bh2.sock begin:1 params:1:SCRIPT_NAME=/ping stdin:1 wait:1 \
    > "$T/bh2.out" &
P=$!
sleep 0.1
r=$(fs ok.sock tic begin:1 params:1 stdin:1 wait:1 toc)
wait $P
ms=$(sed -n 's/^toc //p' <<<"$r")
echo "    a request while a ping waits on the blackholed upstream: $ms ms"
grep -q '^end 1 status=200 ' <<<"$r" &&
    awk -v t="$ms" 'BEGIN { exit !(t < 20) }' ||
    fail "request during a blackholed ping: $r"
grep -q '^end 1 status=503 ' "$T/bh2.out" ||
    fail "ping of the blackholed app: $(cat "$T/bh2.out")"
log_has 'ping: no upstream accepts a connection'
bh_down
