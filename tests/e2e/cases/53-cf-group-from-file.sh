# SPEC §4.3a: CF-Connecting-IP in a client_headers group with from_file
# (the CDN's ranges; here 198.51.100.0/24 stands for them).  The trusted
# LB on 127.0.0.1 appends the CDN edge to X-Forwarded-For; the entry hop
# must be in from_file, else the header is a forgery: skipped, warned,
# counted, and the next entry (X-Forwarded-For) is used.  A reload
# re-reads from_file.
printf '# CDN ranges\n198.51.100.0/24\n' > "$T/cdn-ips.txt"
start_daemon "trusted_proxies = [ \"127.0.0.1\" ];
	client_headers = ( { header = \"HTTP_CF_CONNECTING_IP\";
		from_file = \"$T/cdn-ips.txt\"; }, \"HTTP_X_FORWARDED_FOR\" );"
# Genuine: through the CDN edge 198.51.100.77.
RESP=$(curl -s -H 'CF-Connecting-IP: 203.0.113.50' \
    -H 'X-Forwarded-For: 198.51.100.77' "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 203.0.113.50
expect client_ip 203.0.113.50
expect fwd ''
# Forged: straight to the LB from 6.6.6.6.
RESP=$(curl -s -H 'CF-Connecting-IP: 1.1.1.1' \
    -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 6.6.6.6
expect idiom_ip 6.6.6.6
expect fwd ''
sleep 0.1
log_has 'warn app=e2e .*HTTP_CF_CONNECTING_IP ignored: the request entered through 6.6.6.6, not in its from'
# Reload re-reads from_file: now 6.6.6.0/24 is a CDN range too.
echo 6.6.6.0/24 >> "$T/cdn-ips.txt"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.3
RESP=$(curl -s -H 'CF-Connecting-IP: 1.1.1.1' \
    -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 1.1.1.1
# A broken from_file fails the reload and keeps the running config.
echo 6.6.6.1/24 >> "$T/cdn-ips.txt"
kill -HUP "$(cat "$T/daemon.pid")"; sleep 0.3
log_has 'cdn-ips.txt:4: "6.6.6.1/24": address has bits set right of the prefix (did you mean 6.6.6.0/24?)'
RESP=$(curl -s -H 'CF-Connecting-IP: 1.1.1.1' \
    -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 1.1.1.1
good_request
