# Garbage, wrong version, lying length, truncated record: each closes the
# connection with one log line; the daemon keeps answering.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
raw_send 474554202f20485454502f312e310d0a0d0a >/dev/null	# "GET / HTTP/1.1"
good_request
raw_send 02010001000800000001000000000000 >/dev/null	# version 2
good_request
# BEGIN, then STDOUT (an app-to-server type) from the web server
raw_send 010100010008000000010000000000000106000100000000 >/dev/null
good_request
# BEGIN, then a pair "AB" claiming a 16-byte value, then the empty PARAMS
raw_send 01010001000800000001000000000000010400010004000002104142\
0104000100000000 >/dev/null
good_request
raw_send 01010001000800 >/dev/null			# truncated header
good_request
sleep 0.1
log_has 'unsupported FastCGI version'
log_has 'unknown or misdirected record type'
log_has 'name-value pair cut short'
log_has 'front closed mid-request'
kill -0 "$(cat "$T/daemon.pid")" || fail "daemon died"
