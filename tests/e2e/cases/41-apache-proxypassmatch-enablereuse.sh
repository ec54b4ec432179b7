# Apache 2.4 ProxyPassMatch ... enablereuse=on: mod_proxy_fcgi keeps its
# connections to the daemon (FCGI_KEEP_CONN) and sends the next request on
# them.
fe_daemon
for s in fcn php; do
	start_apache "apache-$s" "ProxyPassMatch \"^/(.*\\.php)\$\" \
\"unix:$T/$s.sock|fcgi://localhost$T/www/\$1\" enablereuse=on" ||
	    fail "apache-$s did not start"
	eval "PORT_$s=\$SRV_PORT"
done
fe_checks "$PORT_fcn" "$PORT_php" 2000 20 50
fe_srv_errors apache-fcn
stop_srv apache-fcn apache-php
