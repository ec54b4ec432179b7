start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	reject_params = [ "HTTP_X_EVIL" ];'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Evil: 1' \
    "http://127.0.0.1:$ORIGIN/dump.php")
[ "$code" = 403 ] || fail "reject_params: want 403, got $code"
good_request
log_has 'status="403 Forbidden"'
