# SPEC §5.3: HAProxy 2.6 terminates TLS (SNI shop.example) and sends
# PROXY v2 with the SSL, AUTHORITY and UNIQUE_ID TLVs
# (send-proxy-v2-ssl + proxy-v2-options authority,unique-id).  The app
# takes scheme and host from them: HTTPS=on, HTTP_HOST=shop.example.
# Then a v2 header whose TLV runs past its end: closed and logged, and
# the daemon still answers.
PPD=$(free_port); HT=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=shop.example \
    -keyout "$T/pp54.key" -out "$T/pp54.crt" >/dev/null 2>&1
cat "$T/pp54.crt" "$T/pp54.key" > "$T/pp54.pem"
start_apps "{ name = \"pp\"; listen = \"127.0.0.1:$PPD\";
	proxy_protocol = true; allow_from = [ \"127.0.0.1\" ];
	upstream = \"unix:$T/php.sock\"; trusted_proxies = [ \"10.0.0.0/8\" ];
	client_headers = [ \"PROXY_PROTOCOL_ADDR\" ];
	proto_headers = [ \"PROXY_PROTOCOL_PROTO\" ];
	host_headers = [ \"PROXY_PROTOCOL_AUTHORITY\" ]; }"
start_haproxy "listen tls
	bind 127.0.0.1:$HT ssl crt $T/pp54.pem
	unique-id-format req-%ci-%cp
	server d 127.0.0.1:$PPD send-proxy-v2-ssl proxy-v2-options authority,unique-id"
tls_fcgi() {	# tls_fcgi PORT SNI: a FastCGI request over TLS, prints STDOUT
	php -r '$t = "tls://127.0.0.1:" . $argv[1];
	    $ctx = stream_context_create(["socket" => ["bindto" => "127.0.0.2:0"],
	        "ssl" => ["verify_peer" => false, "verify_peer_name" => false,
	        "peer_name" => $argv[2], "SNI_enabled" => true]]);
	    $s = stream_socket_client($t, $e, $es, 3, STREAM_CLIENT_CONNECT, $ctx);
	    if (!$s) { echo "connect: $es\n"; exit(1); }
	    $p = "";
	    foreach (["REQUEST_METHOD=GET", "SCRIPT_FILENAME=" . $argv[3] .
	        "/sf.php", "SCRIPT_NAME=/sf.php", "REQUEST_URI=/sf.php",
	        "QUERY_STRING=", "REMOTE_ADDR=10.0.0.1", "SERVER_PORT=80",
	        "SERVER_NAME=backend", "HTTP_HOST=backend"] as $kv) {
	        [$k, $v] = explode("=", $kv, 2);
	        $p .= chr(strlen($k)) . chr(strlen($v)) . $k . $v; }
	    $r = fn($type, $c) => pack("CCnnCC", 1, $type, 1, strlen($c), 0, 0) . $c;
	    fwrite($s, $r(1, "\0\1\0\0\0\0\0\0") . $r(4, $p) . $r(4, "") . $r(5, ""));
	    $out = "";
	    while (strlen($h = fread($s, 8)) == 8) {
	        $u = unpack("Cv/Ct/nid/nlen/Cpad/Cr", $h);
	        $c = $u["len"] + $u["pad"] ? fread($s, $u["len"] + $u["pad"]) : "";
	        if ($u["t"] == 6) $out .= substr($c, 0, $u["len"]);
	        if ($u["t"] == 3) break; }
	    echo $out;' -- "$1" "$2" "$T/www"
}
out=$(tls_fcgi "$HT" shop.example)
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect REMOTE_ADDR 127.0.0.2
expect HTTPS on
expect secure yes
expect HTTP_HOST shop.example
expect SERVER_NAME shop.example
expect SERVER_PORT 443
expect uri https://shop.example/sf.php/
expect fwd PROXY_PROTOCOL_UNIQUE_ID
case "$(printf '%s' "$RESP" | json PROXY_PROTOCOL_UNIQUE_ID)" in
req-127.0.0.2-*) ;; *) fail "unique id: $RESP";; esac
# A v2 header whose AUTHORITY TLV claims 5 bytes with 2 left.
HOLD_TARGET="tcp://127.0.0.1:$PPD" hold_conn 2 \
    "0d0a0d0a000d0a515549540a21110011c0000201c00002021f9001bb0200056162$BEGIN_HEX" \
    >/dev/null
sleep 0.1
log_has 'PROXY protocol: PROXY v2 TLV runs past the header'
out=$(tls_fcgi "$HT" shop.example)
RESP=$(printf '%s' "$out" | sed -n '/^{/,$p')
expect HTTP_HOST shop.example
