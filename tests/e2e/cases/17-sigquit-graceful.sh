# SIGQUIT: stop accepting, let the request in flight finish, exit 0.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
curl -s -o "$T/slow.out" -w '%{http_code}' \
    "http://127.0.0.1:$ORIGIN/slow.php?s=1" > "$T/slow.code" &
cpid=$!
sleep 0.4
dpid=$(cat "$T/daemon.pid")
kill -QUIT "$dpid"
sleep 0.2
# The listener is closed and unlinked: nginx answers 502 at once.
code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$ORIGIN/dump.php")
[ "$code" = 502 ] || fail "new request during SIGQUIT: $code"
wait $cpid
[ "$(cat "$T/slow.code")" = 200 ] || fail "in-flight request: $(cat "$T/slow.code")"
grep -q slept "$T/slow.out" || fail "in-flight request lost its body"
wait "$dpid"; rc=$?
[ $rc = 0 ] || fail "daemon exit code $rc after SIGQUIT"
rm -f "$T/daemon.pid"
log_has 'SIGQUIT: graceful stop'
