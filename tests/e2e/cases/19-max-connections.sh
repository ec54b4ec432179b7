# At max_connections the listener stops accepting; it resumes after a close.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	max_connections = 2; params_timeout_ms = 1500;'
hold_conn 3 "$BEGIN_HEX" >/dev/null & h1=$!
hold_conn 3 "$BEGIN_HEX" >/dev/null & h2=$!
sleep 0.3
t0=$(date +%s%N)
good_request		# waits in the backlog until a held one times out
t1=$(date +%s%N)
wait $h1 $h2
[ $(( (t1 - t0) / 1000000 )) -ge 800 ] || fail "third connection served at once"
log_has 'max_connections 2 reached'
