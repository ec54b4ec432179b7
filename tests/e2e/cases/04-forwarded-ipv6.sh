# RFC 7239 Forwarded with an IPv6 client and port, over IPv6 loopback.
start_daemon 'trusted_proxies = [ "::1" ];
	client_headers = [ "HTTP_FORWARDED" ];
	proto_headers = [ "HTTP_FORWARDED" ];'
RESP=$(curl -s -g -H 'Forwarded: for="[2001:db8::7]:4711";proto=https' \
    "http://[::1]:$ORIGIN/dump.php")
expect REMOTE_ADDR 2001:db8::7
expect REMOTE_PORT 4711
expect REALIP_REMOTE_ADDR ::1
expect HTTPS on
