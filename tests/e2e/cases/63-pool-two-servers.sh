# Two php-fpm pools behind one app: least_conn spreads the load; one is
# stopped under load with no failed request; it comes back by itself.
# Under ASan this once failed a request in 400 two ways: a retry after a
# dead kept connection took the next kept one of the same php-fpm, as
# dead (now all of them are closed); and with upstream_down_ms = 300 a
# request queued behind the full pa outlived pb's down time, chose pb
# again and failed its second connect (once per reason, SPEC §5.4).
. "$HERE/pool.sh"
start_fpm pa
start_fpm pb
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = [ \"unix:$T/php-pa.sock\", \"unix:$T/php-pb.sock\" ];
	upstream_max_conns = 3; upstream_down_ms = 1500; }" "$T/fcn.sock"
load 300 6 "http://127.0.0.1:$ORIGIN/conn.php?s=0.005" > "$T/t1.out"
a=$(grep -c '^200 [0-9]* pa ' "$T/t1.out"); b=$(grep -c '^200 [0-9]* pb ' "$T/t1.out")
echo "      least_conn, 6 clients: pa $a, pb $b of 300"
[ $((a + b)) = 300 ] && [ "$a" -ge 60 ] && [ "$b" -ge 60 ] ||
    fail "least_conn spread: pa $a pb $b"
load 400 6 "http://127.0.0.1:$ORIGIN/conn.php?s=0.005" > "$T/t2.out" &
lp=$!
sleep 0.4
stop_fpm pb QUIT
wait $lp
n=$(grep -c '^200 ' "$T/t2.out")
echo "      pb stopped under load: $n of 400 answered 200"
[ "$n" = 400 ] || fail "pb stopped under load: $(grep -v '^200 ' \
    "$T/t2.out" | sort | uniq -c | head -3)"
start_fpm pb
sleep 2	# past upstream_down_ms
load 200 6 "http://127.0.0.1:$ORIGIN/conn.php?s=0.005" > "$T/t3.out"
b=$(grep -c '^200 [0-9]* pb ' "$T/t3.out")
echo "      pb back without reload: $b of 200"
[ "$(grep -c '^200 ' "$T/t3.out")" = 200 ] && [ "$b" -ge 20 ] ||
    fail "pb did not come back: $b of 200"
stop_fpm pa; stop_fpm pb
