# SPEC §5.4 pool: nginx in close mode (a connection per request), the
# daemon keeping at most 4 php-fpm connections: 1,000 requests ride on
# them.  Then keep-conn from nginx on the same pool, and GET_VALUES
# answered by the daemon.
. "$HERE/pool.sh"
start_fpm p1 'pm.max_children = 6'
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-p1.sock\"; upstream_max_conns = 4;
	trusted_proxies = [ \"127.0.0.1\" ]; }" "$T/fcn.sock"
load 1000 8 "http://127.0.0.1:$ORIGIN/conn.php" > "$T/pool.out"
n200=$(grep -c '^200 ' "$T/pool.out")
[ "$n200" = 1000 ] || fail "close mode: $n200 of 1000 answered 200"
# Socket inodes: the listener's is in every answer; the rest are the
# connections that carried the requests.
conns=$(awk '{ print $4 }' "$T/pool.out" | tr ',' '\n' | sort | uniq -c |
    awk '$1 < 1000 { n++ } END { print n + 0 }')
echo "      1000 requests over $conns php-fpm connections"
[ "$conns" -ge 1 ] && [ "$conns" -le 4 ] ||
    fail "1000 requests used $conns php-fpm connections, want <= 4"
# nginx keep-conn + the pool: requests of one kept front connection.
for i in 1 2 3 4 5; do
	RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
	    "http://127.0.0.1:$EDGE/keep/dump.php?i=$i")
	expect REMOTE_ADDR 127.0.0.2
	expect REQUEST_URI "/keep/dump.php?i=$i"
done
# GET_VALUES: answered by the daemon (capacity 4), php-fpm never asked.
out=$(php -r '$s = stream_socket_client("unix://" . $argv[1]);
    $c = "\x0e\x00FCGI_MAX_CONNS\x0d\x00FCGI_MAX_REQS";
    fwrite($s, pack("CCnnCC", 1, 9, 0, strlen($c), 0, 0) . $c);
    $h = fread($s, 8); $u = unpack("Cv/Ct/nid/nlen", $h);
    echo $u["t"], " ", fread($s, $u["len"]);' "$T/fcn.sock" | tr -c '[:print:]' .)
case "$out" in
"10 "*FCGI_MAX_CONNS4*FCGI_MAX_REQS4*) ;;
*) fail "GET_VALUES with the pool: $out" ;;
esac
log_lacks 'error'
