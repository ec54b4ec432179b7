# The common path: TCP load balancer (HAProxy send-proxy) -> nginx
# "listen proxy_protocol" -> fastcgi_param PROXY_PROTOCOL_ADDR -> daemon
# with client_headers = [ "PROXY_PROTOCOL_ADDR" ]; and curl's own
# --haproxy-protocol.
H3=$(free_port)
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	client_headers = [ "PROXY_PROTOCOL_ADDR" ];'
start_haproxy "listen lb
	bind 127.0.0.1:$H3
	server n 127.0.0.1:$PPNGINX send-proxy"
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$H3/dump.php")
expect REMOTE_ADDR 127.0.0.2
RESP=$(curl -s --interface 127.0.0.3 --haproxy-protocol \
    "http://127.0.0.1:$PPNGINX/dump.php")
expect REMOTE_ADDR 127.0.0.3
