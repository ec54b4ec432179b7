# fuzz_conn's find (issue N): on a multiplexed connection (the pool),
# php-fpm's answer to one request broke off (its worker died mid-answer)
# while another request on the connection was still sending its params.
# The connection must close (only a close tells the web server the answer
# was cut, SPEC §5.5), and the other request goes with it, logged.  Before
# the fix the other request was left to its timers while the connection
# lingered, then dropped without a line (or closed by "params timeout").
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	upstream_max_conns = 3; params_timeout_ms = 5000;'
DIE="SCRIPT_FILENAME=$T/www/die.php"
out=$(DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" \
    begin:2:keep pall:2:SCRIPT_NAME=/two tic begin:1:keep params:1:$DIE \
    stdin:1 eof toc 2>&1)
echo "$out" | sed 's/^/    /'
grep -q '^eof' <<<"$out" || fail "the cut connection was not closed: $out"
ms=$(sed -n 's/^toc \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$ms" ] && [ "$ms" -lt 1500 ] || fail "closed after $ms ms"
log_wait 'upstream closed mid-request conn=[0-9]* peer=[^ ]* req=1$'
log_has 'abort conn=[0-9]* peer=[^ ]* req=2 reason="php-fpm.s answer to req=1 broke off: the connection closes"'
log_lacks 'params timeout'
# The daemon goes on.
good_request
