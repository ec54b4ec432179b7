# nginx scgi_pass -> daemon (SCGI) -> php-fpm (FastCGI): the same policy.
start_apps "{ name = \"scgi\"; listen = \"unix:$T/fcn-scgi.sock\";
	protocol = \"scgi\"; upstream = \"unix:$T/php.sock\";
	trusted_proxies = [ \"127.0.0.1\" ]; }"
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$EDGE/scgi/dump.php?x=1")
expect REMOTE_ADDR 127.0.0.2
expect HTTPS on
expect script "$T/www/dump.php"
# Untrusted: a client straight at the SCGI origin, spoofing.
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$SCGI/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect HTTPS null
expect HTTP_X_FORWARDED_FOR null
sleep 0.1
log_has 'untrusted peer sent HTTP_X_FORWARDED_FOR'
