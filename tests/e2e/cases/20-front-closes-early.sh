# The client gives up: nginx closes, we close php-fpm's connection at once.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
curl -s -m 0.5 "http://127.0.0.1:$ORIGIN/slow.php?s=2" >/dev/null
sleep 0.2
log_has 'reason="front closed mid-request"'
good_request
