# A client talking to the origin directly cannot spoof anything.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: evil.example' \
    "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect HTTPS null
expect HTTP_X_FORWARDED_FOR null
expect HTTP_HOST 127.0.0.1
sleep 0.1
log_has 'untrusted peer sent HTTP_X_FORWARDED_FOR.*untrusted_total=1'
