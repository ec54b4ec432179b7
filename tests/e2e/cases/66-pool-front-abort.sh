# The front gives up mid-request: that php-fpm connection is closed, never
# handed to the next request (php-fpm is still running the first).
. "$HERE/pool.sh"
start_fpm pg
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-pg.sock\"; upstream_max_conns = 1; }" \
    "$T/fcn.sock"
curl -s -m 0.4 "http://127.0.0.1:$ORIGIN/slow.php?s=2" >/dev/null
t0=$(date +%s%N)
RESP=$(curl -s "http://127.0.0.1:$ORIGIN/dump.php")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect script "$T/www/dump.php"
[ $ms -lt 1000 ] || fail "next request waited $ms ms: aborted connection reused?"
log_has 'front closed mid-request'
stop_fpm pg
