# php-fpm restarted under load: while it is down every request gets a
# 502 or 503 (none hangs or is lost), and once it is back none fails.
. "$HERE/pool.sh"
start_fpm p3
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-p3.sock\"; upstream_max_conns = 4;
	upstream_down_ms = 200; }" "$T/fcn.sock"
load 100 4 "http://127.0.0.1:$ORIGIN/conn.php" > "$T/r1.out"
load 400 4 "http://127.0.0.1:$ORIGIN/conn.php?s=0.002" > "$T/r2.out" &
lp=$!
sleep 0.3
stop_fpm p3 TERM
sleep 0.5
start_fpm p3
wait $lp
sleep 0.3
load 200 4 "http://127.0.0.1:$ORIGIN/conn.php" > "$T/r3.out"
bad=$(grep -v -E '^(200|502|503) ' "$T/r2.out" | wc -l)
echo "      during the restart: $(cut -d' ' -f1 "$T/r2.out" | sort | uniq -c |
    tr '\n' ' ')"
[ "$bad" = 0 ] || fail "during the restart: $(grep -v -E '^(200|502|503) ' \
    "$T/r2.out" | head -3)"
[ "$(grep -c '^200 ' "$T/r1.out")" = 100 ] || fail "before the restart"
[ "$(grep -c '^200 ' "$T/r3.out")" = 200 ] || fail "after the restart: \
$(grep -v '^200 ' "$T/r3.out" | head -3)"
stop_fpm p3
