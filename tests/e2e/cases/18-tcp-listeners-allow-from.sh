# TCP listeners on 127.0.0.1 and [::1]; peers outside allow_from are
# closed at once and logged.
P=$(free_port); P6=$(free_port)
start_apps "{
	name = \"tcp4\"; listen = \"127.0.0.1:$P\"; upstream = \"unix:$T/php.sock\";
	allow_from = [ \"127.0.0.1\" ]; trusted_proxies = [ \"10.0.0.0/8\" ];
}, {
	name = \"tcp6\"; listen = \"[::1]:$P6\"; upstream = \"unix:$T/php.sock\";
}"
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    REMOTE_ADDR=10.1.1.1 HTTP_X_FORWARDED_FOR=203.0.113.5 \
    cgi-fcgi -bind -connect "127.0.0.1:$P")
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect REMOTE_ADDR 203.0.113.5
out=$(fcgi_get "tcp://[::1]:$P6" REQUEST_METHOD=GET \
    SCRIPT_FILENAME="$T/www/dump.php" REMOTE_ADDR=10.1.1.1 \
    HTTP_X_FORWARDED_FOR=203.0.113.5)
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect script "$T/www/dump.php"
expect REMOTE_ADDR 10.1.1.1		# tcp6 trusts nobody (default [])
r=$(HOLD_TARGET="tcp://127.0.0.1:$P" hold_conn 2 "$BEGIN_HEX" 127.0.0.2:0)
case "$r" in "closed after "*) ;; *) fail "peer 127.0.0.2: $r";; esac
log_has 'refused peer=127.0.0.2 reason="not in allow_from"'
