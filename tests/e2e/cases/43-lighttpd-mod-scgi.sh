# lighttpd 1.4 mod_scgi in front of the daemon's SCGI listener (protocol =
# "scgi"); the direct comparison is lighttpd mod_fastcgi to php-fpm.
start_apps "{ name = \"web\"; listen = \"unix:$T/fcn-scgi.sock\";
	protocol = \"scgi\"; upstream = \"unix:$T/php.sock\";
	trusted_proxies = [ \"127.0.0.1\" ]; }" "$T/fcn-scgi.sock"
start_lighttpd lighttpd-scgi mod_scgi "scgi.server = ( \".php\" =>
	(( \"socket\" => \"$T/fcn-scgi.sock\",
	   \"check-local\" => \"enable\" )) )" ||
    fail "lighttpd-scgi did not start"
PORT_fcn=$SRV_PORT
start_lighttpd lighttpd-php mod_fastcgi "fastcgi.server = ( \".php\" =>
	(( \"socket\" => \"$T/php.sock\", \"check-local\" => \"enable\" )) )" ||
    fail "lighttpd-php did not start"
fe_checks "$PORT_fcn" "$SRV_PORT" 300 20 10
fe_srv_errors lighttpd-scgi
stop_srv lighttpd-scgi lighttpd-php
