# HAProxy 2.6 mode http, fcgi-app with default options (no
# multiplexing; HAProxy keeps idle connections to the daemon with
# FCGI_KEEP_CONN).
LOG_LEVEL=debug fe_daemon
start_haproxy_fcgi haproxy-fcn "" "unix@$T/fcn.sock" ||
    fail "haproxy-fcn did not start"
PORT_fcn=$SRV_PORT
start_haproxy_fcgi haproxy-php "" "unix@$T/php.sock" ||
    fail "haproxy-php did not start"
fe_checks "$PORT_fcn" "$SRV_PORT" 300 20 10
# HAProxy kept its connections (option keep-conn is its default).
n=$(grep -c ' accept ' "$T/daemon.log")
[ "$n" -le 100 ] || fail "keep-conn: $n connections for 505 requests"
fe_srv_errors haproxy-fcn
stop_srv haproxy-fcn haproxy-php
