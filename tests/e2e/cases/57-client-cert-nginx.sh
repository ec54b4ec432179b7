# SPEC §4.10, client_cert_from = "nginx": an edge nginx terminates mutual
# TLS (ssl_verify_client optional, a test CA made here) and forwards
# ingress-nginx's headers (ssl-client-verify, -subject-dn, -issuer-dn, and
# the certificate URL-encoded) to the origin nginx -> daemon -> php-fpm.
# The identity comes from the certificate itself (libcrypto); a failed or
# missing certificate carries none; a client's forged headers never
# reach PHP.
. tests/e2e/pki.sh
pki_make || fail "openssl could not make the test PKI"
MTLS=$(srv_port)
mkdir -p "$T/mtls"
cat > "$T/mtls/forward.conf" <<CONF
proxy_set_header ssl-client-verify \$ssl_client_verify;
proxy_set_header ssl-client-subject-dn \$ssl_client_s_dn;
proxy_set_header ssl-client-issuer-dn \$ssl_client_i_dn;
proxy_set_header ssl-client-cert \$ssl_client_escaped_cert;
proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
proxy_pass http://127.0.0.1:$ORIGIN;
CONF
{ nginx_head mtls/nginx 64; cat <<CONF; } > "$T/mtls/nginx.conf"
	server {
		listen 127.0.0.1:$MTLS ssl;
		ssl_certificate $T/pki/server.pem;
		ssl_certificate_key $T/pki/server.key;
		ssl_client_certificate $T/pki/ca.pem;
		ssl_verify_client optional;
		# A certificate that fails verification is nginx's 495; passed
		# on, as ingress-nginx's auth-tls-pass does, the app sees why.
		error_page 495 = @failed;
		location / {
			include $T/mtls/forward.conf;
		}
		location @failed {
			include $T/mtls/forward.conf;
		}
	}
}
CONF
nginx -c "$T/mtls/nginx.conf" -e "$T/mtls/nginx-error.log" &
srv_started mtls "$MTLS" $! || fail "the mTLS edge did not start"
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; client_cert_from = "nginx";'
mcurl() {	# mcurl [CURL ARGS]: cert.php through the edge
	curl -s -m 10 --cacert "$T/pki/ca.pem" "$@" \
	    "https://127.0.0.1:$MTLS/cert.php"
}
pemdate() { openssl x509 -noout "-$1" -in "$2" | sed 's/^[^=]*=//'; }
# A valid certificate: every field from the certificate.
RESP=$(mcurl --cert "$T/pki/alice.pem" --key "$T/pki/alice.key")
expect SSL_CLIENT_VERIFY SUCCESS
expect SSL_CLIENT_S_DN 'emailAddress=alice@example.com,CN=alice,O=Example'
expect SSL_CLIENT_S_DN_CN alice
expect SSL_CLIENT_S_DN_Email alice@example.com
expect SSL_CLIENT_I_DN 'CN=Test CA,O=Example'
expect SSL_CLIENT_M_SERIAL 0A1B2C
expect SSL_CLIENT_V_START "$(pemdate startdate "$T/pki/alice.pem")"
expect SSL_CLIENT_V_END "$(pemdate enddate "$T/pki/alice.pem")"
expect left ''
got=$(printf '%s' "$RESP" | json SSL_CLIENT_CERT)
[ "$got" = "$(cat "$T/pki/alice.pem")" ] ||
    fail "SSL_CLIENT_CERT is not alice.pem: $(printf '%s' "$got" | head -c 80)"
# An expired certificate: nginx's verdict, no identity.
RESP=$(mcurl --cert "$T/pki/old.pem" --key "$T/pki/old.key")
expect SSL_CLIENT_VERIFY 'FAILED:certificate has expired'
expect SSL_CLIENT_S_DN null
expect SSL_CLIENT_CERT null
# A certificate of another CA.
RESP=$(mcurl --cert "$T/pki/rogue.pem" --key "$T/pki/rogue.key")
case $(printf '%s' "$RESP" | json SSL_CLIENT_VERIFY) in
FAILED:*) ;;
*) fail "rogue CA: $(printf '%s' "$RESP" | json SSL_CLIENT_VERIFY)";;
esac
expect SSL_CLIENT_S_DN_CN null
# No certificate.
RESP=$(mcurl)
expect SSL_CLIENT_VERIFY NONE
expect SSL_CLIENT_S_DN null
# A client forging the headers through the edge: nginx sets its own.
RESP=$(mcurl -H 'ssl-client-verify: SUCCESS' \
    -H 'ssl-client-subject-dn: CN=admin' -H 'X-SSL-Client-S-DN: CN=admin')
expect SSL_CLIENT_VERIFY NONE
expect SSL_CLIENT_S_DN null
expect left ''
# Around the edge, from an untrusted address: nothing believed, stripped.
RESP=$(curl -s --interface 127.0.0.2 -H 'ssl-client-verify: SUCCESS' \
    -H 'ssl-client-subject-dn: CN=admin' "http://127.0.0.1:$ORIGIN/cert.php")
expect SSL_CLIENT_VERIFY NONE
expect SSL_CLIENT_S_DN null
expect left ''
# Any app, any peer: with client_cert_from = "none" a forged
# ssl-client-verify never reaches PHP either, even from a trusted peer.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s -H 'ssl-client-verify: SUCCESS' -H 'X-Client-Cert: x' \
    -H 'X-Amzn-Mtls-Clientcert-Subject: CN=admin' \
    "http://127.0.0.1:$ORIGIN/cert.php")
expect SSL_CLIENT_VERIFY null
expect left ''
stop_srv mtls
good_request
