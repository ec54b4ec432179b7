start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
pids=""
for i in $(seq 1 50); do
	curl -s "http://127.0.0.1:$ORIGIN/dump.php?i=$i" > "$T/c$i" &
	pids="$pids $!"
done
wait $pids
n=$(grep -l "\"REQUEST_URI\":\"/dump.php?i=" "$T"/c* | wc -l)
[ "$n" = 50 ] || fail "only $n of 50 concurrent requests answered"
rm -f "$T"/c*
