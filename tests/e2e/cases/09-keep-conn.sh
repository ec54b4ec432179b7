# nginx fastcgi_keep_conn on + upstream keepalive: many requests per conn.
LOG_LEVEL=debug start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
for i in 1 2 3 4 5 6; do
	RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
	    "http://127.0.0.1:$EDGE/keep/dump.php?i=$i")
	expect REMOTE_ADDR 127.0.0.2
	expect REQUEST_URI "/keep/dump.php?i=$i"
done
n=$(grep -c ' accept conn=' "$T/daemon.log")
[ "$n" -lt 6 ] || fail "expected connection reuse, saw $n accepts"
