# A php-fpm worker that dies before answering, its request partly unread
# (killed, crashed): the daemon sees the connection reset, as when
# php-fpm stops with a connection in its backlog, and cannot tell the two
# apart.  The script may have run, so only a request that may run twice
# (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) is retried; a POST gets a 502
# and runs once; so does a PUT whose bytes are no longer all kept (over
# 64 KiB).  Before: the POST ran twice ("connection reset before accept,
# retrying the request"), and the large PUT was retried with only the
# bytes not yet written, no BEGIN_REQUEST or params.
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; upstream_max_conns = 2;'
DIE="SCRIPT_FILENAME=$T/www/die.php,QUERY_STRING=early=1"
fs() { DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" "$@"; }
runs() { [ -f "$T/www/die.runs" ] && wc -l < "$T/www/die.runs" || echo 0; }
rm -f "$T/www/die.runs"		# case 86 runs it too
out=$(fs begin:1 params:1:$DIE,REQUEST_METHOD=POST,CONTENT_TYPE=application/octet-stream,CONTENT_LENGTH=3 \
    stdin:1:abc stdin:1 wait:1 2>&1)
echo "    POST: $out; runs $(runs)"
grep -q '^end 1 status=502' <<<"$out" || fail "POST: $out"
[ "$(runs)" = 1 ] || fail "the POST ran $(runs) times"
log_has 'answer conn=[0-9]* peer=unix status="502 Bad Gateway" reason="connection reset before any answer, not retried: its method may not run twice"'
log_lacks 'retrying the request'
rm -f "$T/www/die.runs"
out=$(fs begin:1 params:1:$DIE stdin:1 wait:1 2>&1)
echo "    GET: $out; runs $(runs)"
grep -q '^end 1 status=502' <<<"$out" || fail "GET: $out"
[ "$(runs)" = 2 ] || fail "the GET ran $(runs) times (retried once: 2)"
log_has 'connection reset before any answer, retrying the request'
# A PUT of 70,000 bytes: over what the daemon keeps for a retry.
rm -f "$T/www/die.runs"
out=$(fs begin:1 params:1:$DIE,REQUEST_METHOD=PUT,CONTENT_LENGTH=70000 \
    stdin:1:$(head -c 70000 /dev/zero | tr '\0' a) stdin:1 wait:1 2>&1)
echo "    PUT 70000: $out; runs $(runs)"
grep -q '^end 1 status=502' <<<"$out" || fail "PUT: $out"
[ "$(runs)" = 1 ] || fail "the large PUT ran $(runs) times"
# The reset comes on reading, or on writing when the worker died before
# the daemon had written it all: a 502 either way, never a retry.
grep -q -e 'not retried: its bytes are no longer kept' \
    -e 'reason="upstream write error"' "$T/daemon.log" ||
    fail "the large PUT's 502 is not logged"
good_request
