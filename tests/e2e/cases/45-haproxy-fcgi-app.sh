# HAProxy 2.6 mode http, fcgi-app with default options (no
# multiplexing; HAProxy keeps idle connections to the daemon with
# FCGI_KEEP_CONN).  Kept front connections need the pool: without it each
# one holds a php-fpm connection and php-fpm a worker on it, and once
# HAProxy keeps more than pm.max_children, a new one waits for a worker
# that never comes (CI saw 2 curl timeouts in 500; 10 concurrent 1 s pages
# through HAProxy -> php-fpm directly time out the same way).
LOG_LEVEL=debug fe_daemon "upstream_max_conns = 6;"
start_haproxy_fcgi haproxy-fcn "" "unix@$T/fcn.sock" ||
    fail "haproxy-fcn did not start"
PORT_fcn=$SRV_PORT
# The direct HAProxy must not keep its connection to php-fpm: that would
# pin a 7th worker beside the pool's 6, and the daemon rightly warns
# that its pool is larger than what php-fpm has left (CI saw it).
start_haproxy_fcgi haproxy-php "	no option keep-conn" "unix@$T/php.sock" ||
    fail "haproxy-php did not start"
fe_checks "$PORT_fcn" "$SRV_PORT" 300 20 10
# HAProxy kept its connections (option keep-conn is its default).
n=$(grep -c ' accept ' "$T/daemon.log")
[ "$n" -le 100 ] || fail "keep-conn: $n connections for 505 requests"
# More slow requests at once than php-fpm has workers: HAProxy opens a
# connection for each, the pool queues what php-fpm cannot take yet.
if [ "$CASE_OK" = 1 ]; then
	pids=""
	for j in $(seq 1 10); do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' \
		    "http://127.0.0.1:$PORT_fcn/slow.php?s=1" > "$T/burst$j" &
		pids="$pids $!"
	done
	wait $pids
	got=$(cat "$T"/burst* | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
	echo "    10 x 1 s pages at once, 6 php-fpm workers: $got"
	[ "$got" = "10 200 " ] || fail "burst past pm.max_children: $got"
	rm -f "$T"/burst*
fi
fe_srv_errors haproxy-fcn
stop_srv haproxy-fcn haproxy-php
