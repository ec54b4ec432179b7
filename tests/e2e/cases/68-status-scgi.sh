# SPEC §6.1 over an SCGI front: ping and status are answered by the
# daemon (raw CGI response), 403 outside status_allow.
SC=$T/fcn-st-scgi.sock
start_apps "{ name = \"sc\"; listen = \"unix:$SC\"; protocol = \"scgi\";
	upstream = \"unix:$T/php.sock\"; trusted_proxies = [ \"127.0.0.1\" ];
	status_path = \"/st\"; ping_path = \"/ping\"; }" "$SC"
scgi() {	# scgi SCRIPT_NAME REMOTE_ADDR [QUERY_STRING]
	php -r '$h = "CONTENT_LENGTH\0" . "0\0SCGI\0" . "1\0" .
	    "SCRIPT_NAME\0" . $argv[2] . "\0REMOTE_ADDR\0" . $argv[3] .
	    "\0QUERY_STRING\0" . ($argv[4] ?? "") . "\0REQUEST_METHOD\0GET\0";
	    $s = stream_socket_client("unix://" . $argv[1]);
	    fwrite($s, strlen($h) . ":" . $h . ",");
	    echo stream_get_contents($s);' "$SC" "$@"
}
out=$(scgi /ping 127.0.0.1)
case "$out" in *"Status: 200"*pong*) ;; *) fail "SCGI ping: $out" ;; esac
out=$(scgi /st 127.0.0.1 json)
case "$out" in *"Status: 200"*application/json*'"app":"sc"'*) ;;
*) fail "SCGI status: $out" ;; esac
out=$(scgi /st 192.0.2.1)
case "$out" in *"Status: 403"*) ;; *) fail "SCGI status from outside: $out" ;; esac
