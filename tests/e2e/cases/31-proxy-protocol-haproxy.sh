# HAProxy (mode tcp) with send-proxy and send-proxy-v2 in front of the
# daemon's PROXY listener; the announced source is PROXY_PROTOCOL_ADDR.
PPD=$(free_port); H1=$(free_port); H2=$(free_port)
start_apps "{ name = \"pp\"; listen = \"127.0.0.1:$PPD\";
	proxy_protocol = true; allow_from = [ \"127.0.0.1\" ];
	upstream = \"unix:$T/php.sock\"; trusted_proxies = [ \"10.0.0.0/8\" ];
	client_headers = [ \"PROXY_PROTOCOL_ADDR\" ]; }"
start_haproxy "listen v1
	bind 127.0.0.1:$H1
	server d 127.0.0.1:$PPD send-proxy
listen v2
	bind 127.0.0.1:$H2
	server d 127.0.0.1:$PPD send-proxy-v2"
for h in $H1 $H2; do
	out=$(BIND=127.0.0.2:0 fcgi_get "tcp://127.0.0.1:$h" REQUEST_METHOD=GET \
	    SCRIPT_FILENAME="$T/www/dump.php" REMOTE_ADDR=10.0.0.1)
	RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
	expect REMOTE_ADDR 127.0.0.2
	expect REALIP_REMOTE_ADDR 10.0.0.1
done
# No PROXY header at all: closed and logged; the daemon still answers.
HOLD_TARGET="tcp://127.0.0.1:$PPD" hold_conn 2 "$BEGIN_HEX" >/dev/null
out=$(BIND=127.0.0.2:0 fcgi_get "tcp://127.0.0.1:$H2" REQUEST_METHOD=GET \
    SCRIPT_FILENAME="$T/www/dump.php" REMOTE_ADDR=10.0.0.1)
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect REMOTE_ADDR 127.0.0.2
sleep 0.1
log_has 'PROXY protocol: no PROXY protocol header'
# A peer that connects and sends nothing is closed after 5 s.
r=$(HOLD_TARGET="tcp://127.0.0.1:$PPD" hold_conn 8 "")
case "$r" in "closed after "[45]???" ms") ;; *) fail "silent peer: $r";; esac
log_has 'no PROXY protocol header within 5 s'
