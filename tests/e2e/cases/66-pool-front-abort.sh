# The front gives up mid-request (issue 20): php-fpm is still running the
# script and will answer anyway, so with the pool that connection stays
# busy until its answer is drained, then goes back to the pool: no byte
# of the abandoned answer leaks into the next request, and the pool's
# slot stands for a php-fpm worker the whole time.
. "$HERE/pool.sh"
start_fpm pg
start_apps "{ name = \"pool\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php-pg.sock\"; upstream_max_conns = 1;
	status_path = \"/fcgi-normalizer-status\";
	status_allow = [ \"127.0.0.1\" ]; }" "$T/fcn.sock"
curl -s -m 0.4 "http://127.0.0.1:$ORIGIN/slow.php?s=1.5" >/dev/null
t0=$(date +%s%N)
RESP=$(curl -s "http://127.0.0.1:$ORIGIN/dump.php")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect script "$T/www/dump.php"
# It waited for the drain (the one slot), not for a queue timeout.
[ $ms -ge 600 ] && [ $ms -lt 2500 ] ||
    fail "next request waited $ms ms: want the rest of the 1.5 s script"
# Two requests, one php-fpm connection: the drained one was reused.
s=$(curl -s "http://127.0.0.1:$ORIGIN/fcgi-normalizer-status")
echo "$s" | grep -q '^connects: *1$' ||
    fail "drained connection not reused: $(echo "$s" | grep connects)"
log_has 'front closed mid-request'
stop_fpm pg
