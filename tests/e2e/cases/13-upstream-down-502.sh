start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
# Re-point the app at a socket nobody listens on.
sed -i "s|unix:$T/php.sock|unix:$T/nobody.sock|" "$T/fcn.conf"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.3
code=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$ORIGIN/dump.php")
[ "$code" = 502 ] || fail "upstream down: want 502, got $code"
log_has 'upstream unix:.*nobody.sock'
