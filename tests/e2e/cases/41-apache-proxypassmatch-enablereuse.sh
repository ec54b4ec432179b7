# Apache 2.4 ProxyPassMatch ... enablereuse=on: mod_proxy_fcgi keeps its
# connections to the daemon (FCGI_KEEP_CONN) and sends the next request on
# them.  Each kept front connection would pin a php-fpm worker, and Apache
# opens as many as it has busy threads, so the daemon's pool sits between
# them (SPEC §5.4: upstream_max_conns = pm.max_children).  The direct
# server does not keep its connection, so no worker is pinned by it.
LOG_LEVEL=debug fe_daemon 'upstream_max_conns = 6;'
pm="ProxyPassMatch \"^/(.*\\.php)\$\""
start_apache apache-fcn "$pm \"unix:$T/fcn.sock|fcgi://localhost$T/www/\$1\" \
enablereuse=on" || fail "apache-fcn did not start"
PORT_fcn=$SRV_PORT
start_apache apache-php "$pm \"unix:$T/php.sock|fcgi://localhost$T/www/\$1\"" ||
    fail "apache-php did not start"
fe_checks "$PORT_fcn" "$SRV_PORT" 2000 20 50
# Apache did keep its connections: far fewer than the 3000 requests.
n=$(grep -c ' accept ' "$T/daemon.log")
[ "$n" -le 100 ] || fail "enablereuse: $n connections for 3000 requests"
fe_srv_errors apache-fcn
stop_srv apache-fcn apache-php
