# SPEC §4.10, client_cert_from = "proxy_protocol": HAProxy terminates
# mutual TLS and speaks FastCGI to the daemon (fcgi-app) with a PROXY v2
# header carrying the SSL TLV (send-proxy-v2-ssl-cn): the client bits,
# the verify result and the client certificate's CN.
. tests/e2e/pki.sh
pki_make || fail "openssl could not make the test PKI"
cat "$T/pki/server.pem" "$T/pki/server.key" > "$T/pki/server-full.pem"
HA=$(srv_port)
mkdir -p "$T/ha-mtls"
cat > "$T/ha-mtls/haproxy.cfg" <<CONF
global
	maxconn 64
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
fcgi-app php
	docroot $T/www
frontend fe
	bind 127.0.0.1:$HA ssl crt $T/pki/server-full.pem ca-file $T/pki/ca.pem verify optional
	default_backend php
backend php
	use-fcgi-app php
	server s1 unix@$T/fcn.sock proto fcgi send-proxy-v2-ssl-cn
CONF
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; proxy_protocol = true;
	client_cert_from = "proxy_protocol";'
haproxy -f "$T/ha-mtls/haproxy.cfg" -db > "$T/ha-mtls/haproxy.log" 2>&1 &
srv_started ha-mtls "$HA" $! || fail "haproxy (mTLS) did not start"
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
