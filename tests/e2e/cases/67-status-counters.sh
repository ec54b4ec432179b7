# SPEC §6.1: the status page through nginx counts exactly what was sent:
# rewritten requests, untrusted forgers, a 431, a 502 (php-fpm down), a 503
# (full queue); 403 outside status_allow; ping 503 while php-fpm is down.
. "$HERE/pool.sh"
start_fpm st 'pm.max_children = 2'
start_apps "{ name = \"st\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-st.sock\"; upstream_max_conns = 1;
	queue_timeout_ms = 300; upstream_down_ms = 100;
	max_params_bytes = 4096;
	trusted_proxies = [ \"127.0.0.1\" ];
	status_path = \"/fcgi-normalizer-status\";
	ping_path = \"/fcgi-normalizer-ping\";
	status_allow = [ \"127.0.0.1\" ]; }" "$T/fcn.sock"
O="http://127.0.0.1:$ORIGIN"
st() { curl -s "$O/fcgi-normalizer-status?$1"; }
# 3 through the edge: REMOTE_ADDR, HTTPS and HTTP_HOST rewritten.
for i in 1 2 3; do
	curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/dump.php" >/dev/null
done
# 2 from an untrusted peer (127.0.0.5) forging headers, 1 without.
for i in 1 2; do
	curl -s --interface 127.0.0.5 -H 'X-Forwarded-For: 6.6.6.6' \
	    -H 'Client-IP: 6.6.6.6' "$O/dump.php" >/dev/null
done
curl -s --interface 127.0.0.5 "$O/dump.php" >/dev/null
# One 431.
curl -s -o /dev/null -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" \
    "$O/dump.php"
# One 503: the only slot is busy for 1 s, the queue waits 300 ms.
curl -s -o /dev/null "$O/slow.php?s=1" &
sp=$!
sleep 0.3
c503=$(curl -s -o /dev/null -w '%{http_code}' "$O/dump.php")
wait $sp
[ "$c503" = 503 ] || fail "full queue: $c503"
# Ping is 200 with php-fpm up; 503 and then one 502 with it down.
[ "$(curl -s "$O/fcgi-normalizer-ping")" = pong ] || fail "ping while up"
stop_fpm st
code=$(curl -s -o "$T/ping.out" -w '%{http_code}' "$O/fcgi-normalizer-ping")
[ "$code" = 503 ] || fail "ping with php-fpm down: $code $(cat "$T/ping.out")"
c502=$(curl -s -o /dev/null -w '%{http_code}' "$O/dump.php")
[ "$c502" = 502 ] || fail "php-fpm down: $c502"
start_fpm st 'pm.max_children = 2'
sleep 0.2
[ "$(curl -s "$O/fcgi-normalizer-ping")" = pong ] || fail "ping back up"
# Outside status_allow: 403.
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
    -H 'X-Forwarded-For: 10.9.9.9' "http://127.0.0.1:$EDGE/fcgi-normalizer-status")
[ "$code" = 403 ] || fail "status from outside status_allow: $code"
st json > "$T/st.json"
jv() { php -r '$j = json_decode(file_get_contents($argv[1]), true);
    echo json_encode($j[$argv[2]] ?? null);' "$T/st.json" "$1"; }
want() {	# want KEY VALUE
	local got
	got=$(jv "$1")
	[ "$got" = "$2" ] || fail "status json \"$1\": want $2, got $got"
}
want "requests" 10
want "requests relayed" 7
want "requests 431" 1
want "requests 502" 1
want "requests 503" 1
want "trusted requests" 6
want "rewritten addr" 3
want "rewritten scheme" 3
want "rewritten host" 3
want "spoofing attempts" 2
want "status requests" 5
want "status 403" 1
cp "$T/st.json" "$T/status-sample.json"
st openmetrics > "$T/st.om"
promtool check metrics < "$T/st.om" >"$T/promtool.out" 2>&1 ||
    fail "promtool: $(head -5 "$T/promtool.out")"
grep -q '^fcgi_normalizer_requests_total{app="st"} 10$' "$T/st.om" ||
    fail "openmetrics requests: $(grep requests_total "$T/st.om" | head -3)"
# Help with trust (§6.1 full): 127.0.0.2 sends X-Forwarded-For on every
# request, like a load balancer left out of trusted_proxies; 127.0.0.3
# forges it once.
for i in $(seq 1 12); do
	curl -s -o /dev/null --interface 127.0.0.2 \
	    -H "X-Forwarded-For: 203.0.113.$i" "$O/dump.php"
done
curl -s -o /dev/null --interface 127.0.0.3 -H 'X-Forwarded-For: 6.6.6.6' \
    "$O/dump.php"
st 'full' > "$T/st.full"
blk() { awk -v n="$1" '/^untrusted peer:/ { on = ($3 == n) } on' "$T/st.full"; }
blk 127.0.0.2/32 | grep -q '^requests: *12$' ||
    fail "full view, 127.0.0.2: $(blk 127.0.0.2/32)"
blk 127.0.0.2/32 | grep -q '^hint: .*load balancer.*127.0.0.2/32' ||
    fail "full view, no hint for 127.0.0.2: $(blk 127.0.0.2/32)"
blk 127.0.0.3/32 | grep -q '^requests: *1$' ||
    fail "full view, 127.0.0.3: $(blk 127.0.0.3/32)"
! blk 127.0.0.3/32 | grep -q '^hint:' ||
    fail "full view, a hint for one forged request: $(blk 127.0.0.3/32)"
blk 127.0.0.5/32 | grep -q '^without forwarded: *1$' ||
    fail "full view, 127.0.0.5: $(blk 127.0.0.5/32)"
cp "$T/st.full" "$T/status-sample.full"
st 'openmetrics&full' > "$T/st.omfull"
promtool check metrics < "$T/st.omfull" >"$T/promtool.out" 2>&1 ||
    fail "promtool (full): $(head -5 "$T/promtool.out")"
stop_fpm st
