#!/bin/bash
# make demo: a real edge nginx (the "load balancer") in front of an origin
# nginx, with php-fpm behind it directly and through fcgi-normalizer, all on
# loopback in a temp dir.  Shows what PHP sees both ways.
set -u
cd "$(dirname "$0")/.."
. tests/e2e/lib.sh
[ -n "${KEEP:-}" ] && DEMO_KEEP=1
start_php || exit 1
start_nginx || exit 1
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	uri_header = "HTTP_X_FORWARDED_URI";' || exit 1
show() {
	printf '%s' "$2" | php -r '$j = json_decode(stream_get_contents(STDIN),
	    true); printf("  %-32s REMOTE_ADDR=%s HTTPS=%s HTTP_HOST=%s "
	    . "SERVER_PORT=%s SCRIPT_NAME=%s\n", $argv[1], $j["REMOTE_ADDR"],
	    $j["HTTPS"] ?? "-", $j["HTTP_HOST"], $j["SERVER_PORT"],
	    $j["SCRIPT_NAME"]);' "$1"
}
echo "client 127.0.0.2 -> edge nginx :$EDGE (adds X-Forwarded-*, TLS terminated)"
echo "  -> origin nginx -> php-fpm               (direct)"
echo "  -> origin nginx -> fcgi-normalizer -> php-fpm"
echo
show "direct:" "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/direct/dump.php")"
show "through fcgi-normalizer:" "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/dump.php")"
echo
echo "Matomo under /matomo/ (the edge strips the prefix, sends X-Forwarded-Uri):"
show "through fcgi-normalizer:" "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/matomo/dump.php")"
echo
echo "A client that talks to the origin directly and forges headers:"
show "through fcgi-normalizer:" "$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$ORIGIN/dump.php")"
echo
echo "The daemon's log:"
sed 's/^/  /' "$T/daemon.log"
