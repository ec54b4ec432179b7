# Apache 2.4 mod_proxy_fcgi wired as Debian's php8.2-fpm.conf does it
# (SetHandler "proxy:unix:...|fcgi://localhost"), in front of the daemon.
# Apache writes the empty STDIN record after the params, so a bodyless GET
# races the response: enough GETs that a 0.3 % failure shows.
fe_daemon
for s in fcn php; do
	start_apache "apache-$s" "<FilesMatch \"\\.php\$\">
	SetHandler \"proxy:unix:$T/$s.sock|fcgi://localhost\"
</FilesMatch>" || fail "apache-$s did not start"
	eval "PORT_$s=\$SRV_PORT"
done
fe_checks "$PORT_fcn" "$PORT_php" 2000 20 50
fe_srv_errors apache-fcn
stop_srv apache-fcn apache-php
