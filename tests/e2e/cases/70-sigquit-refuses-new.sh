# SIGQUIT closes the listeners the daemon bound itself (SPEC §6): during
# the drain a connect() is refused at once, on a unix socket (its file is
# gone) and on TCP, so nginx fails over instead of waiting for a reset;
# the request in flight still completes and the daemon exits 0.
port=$(free_port)
start_apps "{ name = \"e2e\"; listen = \"unix:$T/fcn.sock\";
	upstream = \"unix:$T/php.sock\"; trusted_proxies = [ \"127.0.0.1\" ]; },
    { name = \"tcp\"; listen = \"127.0.0.1:$port\";
	upstream = \"unix:$T/php.sock\"; }" "$T/fcn.sock"
try_connect() {	# prints "refused MS" or "connected MS"
	php -r '$t = microtime(true);
	    $s = @stream_socket_client($argv[1], $e, $es, 3);
	    printf("%s %d\n", $s ? "connected" : "refused",
	        (microtime(true) - $t) * 1000);' "$1"
}
r=$(try_connect "tcp://127.0.0.1:$port")
[ "${r%% *}" = connected ] || fail "TCP listener not up before SIGQUIT: $r"
curl -s -o "$T/slow.out" -w '%{http_code}' \
    "http://127.0.0.1:$ORIGIN/slow.php?s=1" > "$T/slow.code" &
cpid=$!
sleep 0.4
dpid=$(cat "$T/daemon.pid")
kill -QUIT "$dpid"
sleep 0.2
kill -0 "$dpid" 2>/dev/null || fail "daemon gone before the drain ended"
for target in "unix://$T/fcn.sock" "tcp://127.0.0.1:$port"; do
	r=$(try_connect "$target")
	[ "${r%% *}" = refused ] && [ "${r##* }" -lt 500 ] ||
	    fail "connect to $target during the drain: $r (want refused at once)"
done
[ ! -e "$T/fcn.sock" ] || fail "socket file still there during the drain"
wait $cpid
[ "$(cat "$T/slow.code")" = 200 ] || fail "in-flight request: $(cat "$T/slow.code")"
grep -q slept "$T/slow.out" || fail "in-flight request lost its body"
wait "$dpid"; rc=$?
[ $rc = 0 ] || fail "daemon exit code $rc after SIGQUIT"
rm -f "$T/daemon.pid"
log_has 'SIGQUIT: graceful stop'
log_lacks 'unlink'
