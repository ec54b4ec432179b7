start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	max_params_bytes = 2048;'
code=$(curl -s -o /dev/null -w '%{http_code}' \
    -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' a)" \
    "http://127.0.0.1:$ORIGIN/dump.php")
[ "$code" = 431 ] || fail "oversized params: want 431, got $code"
good_request
