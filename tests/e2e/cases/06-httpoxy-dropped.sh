# HTTP_PROXY (httpoxy) is dropped before php-fpm sees it.  Sent with
# cgi-fcgi, as any FastCGI client could; the debug trail shows the drop.
LOG_LEVEL=debug start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    REMOTE_ADDR=127.0.0.1 HTTP_PROXY=http://evil.example:8080 \
    cgi-fcgi -bind -connect "$T/fcn.sock")
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect HTTP_PROXY null
expect script "$T/www/dump.php"
log_has 'policy: HTTP_PROXY removed (drop_params)'
