# Garbage and an oversized netstring straight at the SCGI socket, then a
# good request through nginx.
start_apps "{ name = \"scgi\"; listen = \"unix:$T/fcn-scgi.sock\";
	protocol = \"scgi\"; upstream = \"unix:$T/php.sock\";
	max_params_bytes = 4096; }"
scgi_raw() {
	php -r '$s = stream_socket_client("unix://" . $argv[1], $e, $es, 2);
	    fwrite($s, $argv[2]); stream_set_timeout($s, 3);
	    echo stream_get_contents($s);' "$T/fcn-scgi.sock" "$1"
}
scgi_raw 'GET / HTTP/1.1' >/dev/null
r=$(scgi_raw '99999:CONTENT_LENGTH')
case "$r" in "Status: 431"*) ;; *) fail "oversized netstring: $r";; esac
scgi_raw '5:abcde;' >/dev/null
good() {
	RESP=$(curl -s "http://127.0.0.1:$SCGI/dump.php")
	expect script "$T/www/dump.php"
}
good
code=$(curl -s -o /dev/null -w '%{http_code}' \
    -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" \
    "http://127.0.0.1:$SCGI/dump.php")
[ "$code" = 431 ] || fail "big header over SCGI: want 431, got $code"
good
sleep 0.1
log_has 'bad netstring length'
log_has "netstring not closed by ','"
# php-fpm unreachable over SCGI: the daemon answers 502 itself.
start_apps "{ name = \"scgi\"; listen = \"unix:$T/fcn-scgi.sock\";
	protocol = \"scgi\"; upstream = \"unix:$T/nobody.sock\"; }"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SCGI/dump.php")
[ "$code" = 502 ] || fail "SCGI upstream down: want 502, got $code"
