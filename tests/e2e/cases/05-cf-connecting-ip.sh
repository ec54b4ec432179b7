start_daemon 'trusted_proxies = [ "127.0.0.0/8" ];
	client_headers = [ "HTTP_CF_CONNECTING_IP" ];'
RESP=$(curl -s -H 'CF-Connecting-IP: 198.51.100.23' \
    -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 198.51.100.23
