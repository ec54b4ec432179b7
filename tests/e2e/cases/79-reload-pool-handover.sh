# A reload under load, with the pool and nginx's kept connections
# (fastcgi_keep_conn + keepalive): the front connections opened before
# the reload go on after it.  Their new requests must take the new pool,
# not the retired one: two pools side by side would hold twice
# upstream_max_conns (= pm.max_children) php-fpm connections, and the new
# pool's kept ones, never idle under load, starve the old pool's fresh
# ones in php-fpm's backlog until the queue times out (seen in make soak:
# 503s five seconds after the first SIGHUP).
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; upstream_max_conns = 6;
	queue_timeout_ms = 3000; upstream_idle_timeout_ms = 20000;'
end=$(($(date +%s) + 8))
pids=""
# Eight clients on nginx's kept connections, eight in close mode (a new
# front connection each time: after the reload those are the new pool's).
for i in $(seq 1 16); do
	path=/keep/slow.php
	[ "$i" -gt 8 ] && path=/slow.php
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' \
		    "http://127.0.0.1:$ORIGIN$path?s=0.02"
	done > "$T/ho.$i" &
	pids="$pids $!"
done
sleep 2
kill -HUP "$(cat "$T/daemon.pid")"
sleep 2
kill -HUP "$(cat "$T/daemon.pid")"
wait $pids
got=$(cat "$T"/ho.* | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
rm -f "$T"/ho.*
echo "    16 clients for 8 s (8 on kept nginx connections), 2 reloads: $got"
case $got in
*" 200 ") [ "$(echo "$got" | wc -w)" = 2 ] || fail "non-200 answers: $got";;
*) fail "non-200 answers: $got";;
esac
log_lacks 'queue timeout'
log_lacks 'is larger than php-fpm'
good_request
