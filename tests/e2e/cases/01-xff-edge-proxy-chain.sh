# Client 127.0.0.2 -> edge (adds XFF, proto, host) -> origin -> daemon.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect REALIP_REMOTE_ADDR 127.0.0.1
expect HTTPS on
expect REQUEST_SCHEME https
expect SERVER_PORT 443
expect HTTP_HOST public.example
expect script "$T/www/dump.php"
