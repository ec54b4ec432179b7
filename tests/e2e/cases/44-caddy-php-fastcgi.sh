# Caddy 2.6 php_fastcgi in front of the daemon.  Caddy replaces the
# X-Forwarded-* headers of a client it does not trust, so the edge
# (127.0.0.1) is in its trusted_proxies too; it appends the edge to
# X-Forwarded-For, which the daemon walks back over.
fe_daemon
for s in fcn php; do
	start_caddy "caddy-$s" "php_fastcgi unix/$T/$s.sock {
		trusted_proxies 127.0.0.1
	}" || fail "caddy-$s did not start"
	eval "PORT_$s=\$SRV_PORT"
done
fe_checks "$PORT_fcn" "$PORT_php" 300 20 10
fe_srv_errors caddy-fcn
stop_srv caddy-fcn caddy-php
