# SIGHUP removing an app: its listener stops accepting, the request in
# flight on it completes with the old policy, then its socket goes away.
APPS_AB="{ name = \"a\"; listen = \"unix:$T/fcn.sock\"; upstream = \"unix:$T/php.sock\"; },
	{ name = \"b\"; listen = \"unix:$T/fcn-b.sock\"; upstream = \"unix:$T/php.sock\"; }"
start_apps "$APPS_AB" "$T/fcn-b.sock"
( env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/slow.php" \
    QUERY_STRING=s=1 REMOTE_ADDR=127.0.0.1 \
    cgi-fcgi -bind -connect "$T/fcn-b.sock" > "$T/b.out" ) &
bpid=$!
sleep 0.3
cat > "$T/fcn.conf" <<CONF
apps = ( { name = "a"; listen = "unix:$T/fcn.sock"; upstream = "unix:$T/php.sock"; } );
CONF
kill -HUP "$(cat "$T/daemon.pid")"
sleep 0.2
out=$(env -i REQUEST_METHOD=GET SCRIPT_FILENAME="$T/www/dump.php" \
    REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect "$T/fcn-b.sock" 2>&1)
case "$out" in *script*) fail "removed app still accepts";; esac
[ ! -e "$T/fcn-b.sock" ] || fail "removed app's socket still there"
t0=$(date +%s%N)
env -i REQUEST_METHOD=GET cgi-fcgi -bind -connect "$T/fcn-b.sock" \
    >/dev/null 2>&1
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 200 ] ||
    fail "a client of the removed app waited instead of being refused"
wait $bpid
grep -q slept "$T/b.out" || fail "in-flight request on the removed app lost"
sleep 0.1
[ ! -e "$T/fcn-b.sock" ] || fail "removed app's socket still there"
good_request
log_has 'app=b removed: draining 1 connections'
