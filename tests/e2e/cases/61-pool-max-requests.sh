# php-fpm recycles a worker every 5 requests (pm.max_requests), closing
# kept connections under load: no request may fail (safe retry, §5.4).
. "$HERE/pool.sh"
start_fpm p2 'pm.max_children = 4
pm.max_requests = 5'
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-p2.sock\"; upstream_max_conns = 4; }" \
    "$T/fcn.sock"
load 600 6 "http://127.0.0.1:$ORIGIN/conn.php" > "$T/mr.out"
n200=$(grep -c '^200 ' "$T/mr.out")
echo "      pm.max_requests=5: $n200 of 600 answered 200," \
    "$(grep -c 'retrying' "$T/daemon.log") retries"
[ "$n200" = 600 ] || fail "pm.max_requests=5: $n200 of 600 answered 200: \
$(grep -v '^200 ' "$T/mr.out" | sort | uniq -c | head -5)"
stop_fpm p2
