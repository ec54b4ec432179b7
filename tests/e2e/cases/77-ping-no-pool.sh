# The ping page with no idle pooled connection (no pool, unix upstream):
# the connect succeeds at once and the ping is answered once; requests
# after it are served (the first cut of the non-blocking ping answered
# twice and freed the request twice, corrupting every later request).
LOG_LEVEL=debug start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	ping_path = "/fcn-ping"; status_allow = [ "127.0.0.1" ];'
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
out=$(fs begin:1 "params:1:SCRIPT_NAME=/fcn-ping" stdin:1 wait:1 | tr '\n' ';')
echo "    ping: $out"
n=$(grep -c ' answer ' "$T/daemon.log")
[ "$n" = 1 ] || fail "one ping, $n answers logged"
for i in 1 2 3 4 5; do
	fs begin:1 "params:1:SCRIPT_FILENAME=$T/www/slow.php,QUERY_STRING=s=0.3" stdin:1 wait:1 > "$T/c$i.out" &
	pids="${pids:-} $!"
done
wait $pids
ok=$(cat "$T"/c*.out | grep -c 'end 1 status=200')
echo "    5 concurrent after the ping: $ok answered 200"
[ "$ok" = 5 ] || fail "5 concurrent requests after a ping: $ok answered: $(cat "$T"/c*.out | tr '\n' ';')"
