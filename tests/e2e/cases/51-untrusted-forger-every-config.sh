# SPEC §4.2: an untrusted client's forged X-Forwarded-Proto, Client-IP,
# X-Real-IP and X-Forwarded-For reach PHP in none of the app
# configurations: X-Forwarded-* (default), Forwarded only, a CF group.
# Debian's wordpress wp-config would turn X-Forwarded-Proto into HTTPS.
FORGED=(-H 'X-Forwarded-Proto: https' -H 'Client-IP: 6.6.6.7'
    -H 'X-Real-IP: 6.6.6.8' -H 'X-Forwarded-For: 6.6.6.6'
    -H 'Forwarded: for=6.6.6.5;proto=https' -H 'CF-Connecting-IP: 6.6.6.4')
for conf in '' \
    'client_headers = [ "HTTP_FORWARDED" ]; proto_headers = [ "HTTP_FORWARDED" ];
	host_headers = [ "HTTP_FORWARDED" ];' \
    'client_headers = ( { header = "HTTP_CF_CONNECTING_IP";
	from = [ "198.51.100.0/24" ]; }, "HTTP_X_FORWARDED_FOR" );'; do
	start_daemon "trusted_proxies = [ \"127.0.0.1\" ]; $conf"
	RESP=$(curl -s --interface 127.0.0.2 "${FORGED[@]}" \
	    "http://127.0.0.1:$ORIGIN/sf.php")
	expect REMOTE_ADDR 127.0.0.2
	expect client_ip 127.0.0.2
	expect idiom_ip 127.0.0.2
	expect secure no
	expect wp_https no
	expect HTTPS null
	expect fwd ''
	sleep 0.1
	log_has 'untrusted peer sent HTTP_X_FORWARDED_PROTO,HTTP_CLIENT_IP,HTTP_X_REAL_IP,HTTP_X_FORWARDED_FOR,HTTP_FORWARDED,HTTP_CF_CONNECTING_IP: removed'
done
good_request
