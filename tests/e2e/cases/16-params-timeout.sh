# A client that sends BEGIN_REQUEST and then nothing is closed after
# params_timeout_ms; so is one that trickles params.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	params_timeout_ms = 400;'
r=$(hold_conn 3 "$BEGIN_HEX")
case "$r" in "closed after "[3-9]??" ms") ;; *) fail "BEGIN only: $r";; esac
good_request
log_has 'reason="params timeout"'
