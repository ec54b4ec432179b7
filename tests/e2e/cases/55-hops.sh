# SPEC §4.3c: client_pick = "hops".  The edge nginx appends the address it
# saw ($proxy_add_x_forwarded_for), as AWS ALB does; a client on
# 127.0.0.2/.3 stands for the visitor, 6.6.6.6 for what a visitor forges.
# The origin's peer (127.0.0.1, the edge) is the one trusted proxy.
hops_daemon() {
	start_daemon "trusted_proxies = [ \"127.0.0.1\" ];
	client_pick = \"hops\"; trusted_hops = $1;
	status_path = \"/fcgi-normalizer-status\";"
}
# N = 1 (AWS ALB): the entry the edge appended, whatever the client sent.
hops_daemon 1
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect REALIP_REMOTE_ADDR 127.0.0.1
expect HTTP_X_FORWARDED_FOR null
# N = 2 (Google LB: the client, then its own address): two proxies in
# front of the edge are played by the header, the edge appends the third.
hops_daemon 2
RESP=$(curl -s --interface 127.0.0.3 \
    -H 'X-Forwarded-For: 6.6.6.6, 198.51.100.9' \
    "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 198.51.100.9
# N = 3.
hops_daemon 3
RESP=$(curl -s --interface 127.0.0.3 \
    -H 'X-Forwarded-For: 6.6.6.6, 203.0.113.5, 198.51.100.9' \
    "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 203.0.113.5
# The entry at the count is taken even when it is trusted.
RESP=$(curl -s -H 'X-Forwarded-For: 6.6.6.6, 127.0.0.1, 127.0.0.1' \
    "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 6.6.6.6
# Short chain (3 expected, 2 there): REMOTE_ADDR unchanged, never the
# leftmost entry; a warning and the short_chains counter say so.
RESP=$(curl -s --interface 127.0.0.3 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$EDGE/dump.php")
expect REMOTE_ADDR 127.0.0.1
expect HTTP_X_FORWARDED_FOR null
sleep 0.1
log_has 'warn app=e2e .*short chain: 2 entries, trusted_hops = 3: REMOTE_ADDR unchanged'
st=$(curl -s "http://127.0.0.1:$ORIGIN/fcgi-normalizer-status")
printf '%s\n' "$st" | grep -q '^short chains: *1$' ||
    fail "status lacks 'short chains: 1': $(printf '%s' "$st" | grep short)"
# An untrusted peer (nginx saw 127.0.0.2 itself): nothing believed, the
# forwarded params stripped, whatever the count.
RESP=$(curl -s --interface 127.0.0.2 \
    -H 'X-Forwarded-For: 6.6.6.6, 7.7.7.7, 8.8.8.8' \
    "http://127.0.0.1:$ORIGIN/dump.php")
expect REMOTE_ADDR 127.0.0.2
expect HTTP_X_FORWARDED_FOR null
good_request
