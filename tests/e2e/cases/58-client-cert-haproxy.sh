# SPEC §4.10, client_cert_from = "proxy_protocol": HAProxy terminates
# mutual TLS and speaks FastCGI to the daemon (fcgi-app) with a PROXY v2
# header carrying the SSL TLV (send-proxy-v2-ssl-cn): the client bits,
# the verify result and the client certificate's CN.
. tests/e2e/pki.sh
pki_make || fail "openssl could not make the test PKI"
cat "$T/pki/server.pem" "$T/pki/server.key" > "$T/pki/server-full.pem"
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; proxy_protocol = true;
	client_cert_from = "proxy_protocol";'
start_haproxy_fcgi ha-mtls "" "unix@$T/fcn.sock send-proxy-v2-ssl-cn" "" \
    "ssl crt $T/pki/server-full.pem ca-file $T/pki/ca.pem verify optional" ||
    fail "haproxy (mTLS) did not start"
HA=$SRV_PORT
hcurl() {
	curl -s -m 10 --cacert "$T/pki/ca.pem" "$@" \
	    "https://127.0.0.1:$HA/cert.php"
}
RESP=$(hcurl --cert "$T/pki/alice.pem" --key "$T/pki/alice.key")
expect SSL_CLIENT_VERIFY SUCCESS
expect SSL_CLIENT_S_DN_CN alice
expect left ''
# TLS without a certificate: HAProxy still sends verify 0 and its own
# certificate's CN; neither is the client's.
RESP=$(hcurl)
expect SSL_CLIENT_VERIFY NONE
expect SSL_CLIENT_S_DN_CN null
expect left ''
# A client forging the daemon's own carrier params as headers gets
# nothing either: they are HTTP_* params, stripped, never read.
RESP=$(hcurl -H 'Proxy-Protocol-Ssl-Client: 7' -H 'ssl-client-verify: SUCCESS')
expect SSL_CLIENT_VERIFY NONE
expect left ''
stop_srv ha-mtls
# PP2_SUBTYPE_SSL_CLIENT_CERT (0x28): the certificate itself in the SSL
# TLV (HAProxy 2.6 sends no such sub-TLV: the header is made here).  The
# identity then comes from the certificate; a CN sub-TLV that disagrees
# loses, with a warning.
pp2_ssl() {	# pp2_ssl OUT CN CERT.pem: a PROXY v2 header, TCP/IPv4
	openssl x509 -in "$3" -outform DER -out "$T/pp2.der"
	python3 - "$1" "$2" "$T/pp2.der" <<'PY'
import struct, sys
out, cn, der = sys.argv[1], sys.argv[2].encode(), open(sys.argv[3], 'rb').read()
def tlv(t, v): return struct.pack('!BH', t, len(v)) + v
ssl = bytes([0x07]) + struct.pack('!I', 0) + tlv(0x21, b'TLSv1.3') + \
    tlv(0x22, cn) + tlv(0x28, der)
body = bytes([127, 0, 0, 1, 127, 0, 0, 1]) + struct.pack('!HH', 50000, 443) + \
    tlv(0x20, ssl)
hdr = b'\r\n\r\n\x00\r\nQUIT\n' + bytes([0x21, 0x11]) + struct.pack('!H', len(body))
open(out, 'wb').write(hdr + body)
PY
}
fs58() {
	BODY=1 DOC=$T/www php "$HERE/fcgi-script.php" "unix://$T/fcn.sock" \
	    "rawfile:$T/pp2.bin" begin:1 \
	    'params:1:SCRIPT_FILENAME='"$T"'/www/cert.php,SCRIPT_NAME=/cert.php' \
	    stdin:1 wait:1 | sed -n 's/^body 1 //p'
}
pp2_ssl "$T/pp2.bin" alice "$T/pki/alice.pem"
RESP=$(fs58)
expect SSL_CLIENT_VERIFY SUCCESS
expect SSL_CLIENT_S_DN 'emailAddress=alice@example.com,CN=alice,O=Example'
expect SSL_CLIENT_M_SERIAL 0A1B2C
expect left ''
got=$(printf '%s' "$RESP" | json SSL_CLIENT_CERT)
[ "$got" = "$(cat "$T/pki/alice.pem")" ] ||
    fail "PP2 SSL_CLIENT_CERT is not alice.pem: $(printf '%s' "$got" | head -c 80)"
pp2_ssl "$T/pp2.bin" mallory "$T/pki/alice.pem"
RESP=$(fs58)
expect SSL_CLIENT_S_DN_CN alice
sleep 0.1
log_has 'warn app=e2e .*proxy_protocol: CN "mallory" disagrees with the certificate'"'"'s "alice": the certificate wins'
# (The listener wants a PROXY header: nginx's good_request cannot come
# here; the daemon answered the last request above.)
