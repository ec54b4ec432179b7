# Issue 20, SPEC §5.4: the pool is larger than php-fpm's pm.max_children.
# php-fpm with 2 workers, a pool of 6 with upstream_idle_timeout_ms 300,
# nginx's close mode in front, 20 requests 6 at a time to a page that
# sleeps 50 ms: all served, slowly (kept connections pin both workers,
# fresh ones wait in php-fpm's backlog), and the daemon says why, once.
# A pool that fits php-fpm (2 of 2) serves the same load without a word.
. "$HERE/pool.sh"
start_fpm mc 'pm.max_children = 2'
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-mc.sock\"; upstream_max_conns = 6;
	upstream_idle_timeout_ms = 300; }" "$T/fcn.sock"
t0=$(date +%s%N)
load 20 6 "http://127.0.0.1:$ORIGIN/slow.php?s=0.05" > "$T/mc.out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
n=$(grep -c '^200 ' "$T/mc.out")
echo "    pool 6 > pm.max_children 2: $n of 20 answered in $ms ms"
[ "$n" = 20 ] || fail "pool > pm.max_children: $n of 20 answered"
sleep 0.2
log_has "upstream_max_conns (6) is larger than php-fpm's pm.max_children"
[ "$(grep -c 'larger than php-fpm' "$T/daemon.log")" = 1 ] ||
    fail "warned more than once a minute"
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-mc.sock\"; upstream_max_conns = 2;
	upstream_idle_timeout_ms = 300; }" "$T/fcn.sock"
load 20 6 "http://127.0.0.1:$ORIGIN/slow.php?s=0.05" > "$T/mc.out"
n=$(grep -c '^200 ' "$T/mc.out")
[ "$n" = 20 ] || fail "pool = pm.max_children: $n of 20 answered"
sleep 0.2
log_lacks "larger than php-fpm"
stop_fpm mc
