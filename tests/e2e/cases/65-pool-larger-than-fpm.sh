# A pool larger than pm.max_children: kept connections pin php-fpm's
# workers, a fresh one waits; the daemon says so, requests still complete.
. "$HERE/pool.sh"
start_fpm ps 'pm.max_children = 2'
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-ps.sock\"; upstream_max_conns = 8;
	upstream_idle_timeout_ms = 400; }" "$T/fcn.sock"
load 2 2 "http://127.0.0.1:$ORIGIN/conn.php" > "$T/f0.out"
load 6 6 "http://127.0.0.1:$ORIGIN/conn.php?s=0.1" > "$T/f1.out"
n=$(grep -c '^200 ' "$T/f1.out")
[ "$n" = 6 ] || fail "pool > pm.max_children: $n of 6 answered"
log_has "larger than php-fpm's pm.max_children"
stop_fpm ps
