# HAProxy 2.6 fcgi-app with option mpxs-conns (and max-reqs, without which
# HAProxy still sends one request at a time): several request ids in
# flight on one connection to the daemon.  http-reuse always lets every
# client's requests share the connections, so the 20 concurrent clients do
# multiplex.
LOG_LEVEL=debug fe_daemon
start_haproxy_fcgi haproxy-fcn "	option mpxs-conns
	option max-reqs 10" "unix@$T/fcn.sock" "	http-reuse always" ||
    fail "haproxy-fcn did not start"
PORT_fcn=$SRV_PORT
start_haproxy_fcgi haproxy-php "" "unix@$T/php.sock" ||
    fail "haproxy-php did not start"
fe_checks "$PORT_fcn" "$SRV_PORT" 300 20 10
# Requests shared connections: fewer than the 20 concurrent clients.
n=$(grep -c ' accept ' "$T/daemon.log")
[ "$n" -lt 20 ] || fail "mpxs-conns: $n connections, no multiplexing"
fe_srv_errors haproxy-fcn
stop_srv haproxy-fcn haproxy-php
