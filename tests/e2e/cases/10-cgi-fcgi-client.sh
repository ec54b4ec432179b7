# cgi-fcgi (libfcgi-bin) as a second real FastCGI client.
start_daemon 'trusted_proxies = [ "10.0.0.0/8" ];'
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    SCRIPT_NAME=/dump.php REQUEST_URI=/dump.php REMOTE_ADDR=10.1.2.3 \
    HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7" SERVER_PORT=80 \
    cgi-fcgi -bind -connect "$T/fcn.sock")
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect REMOTE_ADDR 203.0.113.9
expect REALIP_REMOTE_ADDR 10.1.2.3
