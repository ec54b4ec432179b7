# lighttpd 1.4 mod_fastcgi (fastcgi.server with "socket") in front of the
# daemon.
fe_daemon
for s in fcn php; do
	start_lighttpd "lighttpd-$s" mod_fastcgi "fastcgi.server = ( \".php\" =>
	(( \"socket\" => \"$T/$s.sock\", \"check-local\" => \"enable\" )) )" ||
	    fail "lighttpd-$s did not start"
	eval "PORT_$s=\$SRV_PORT"
done
fe_checks "$PORT_fcn" "$PORT_php" 300 20 10
fe_srv_errors lighttpd-fcn
stop_srv lighttpd-fcn lighttpd-php
