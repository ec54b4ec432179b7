/*
 * Every numbered rule of SPEC §4, trusted and untrusted (STYLE S16).
 * A case is: policy (app config body), params in, params out, verdict,
 * and lines the trail must contain ('|' separates them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/normalize.h"
#include "tests/unit/util.h"

#define TRUST	"trusted_proxies = [ \"10.0.0.0/8\", \"127.0.0.1\", " \
		"\"2001:db8::/32\" ];"

/* The rules before §4.9: forwarded params passed on, to compare them. */
#define KEEP	TRUST "forwarded_after = \"keep\";"

/* SPEC §4.3a: CF-Connecting-IP believed only from Cloudflare's ranges. */
#define CF_GROUP "client_headers = ( { header = \"HTTP_CF_CONNECTING_IP\"; " \
		"from = [ \"173.245.48.0/20\", \"2400:cb00::/32\" ]; }, " \
		"\"HTTP_X_FORWARDED_FOR\" );"
#define CF	TRUST CF_GROUP
#define CF_PEER	"trusted_proxies = [ \"10.0.0.0/8\", \"173.245.48.0/20\" ];" \
		CF_GROUP

struct norm_case {
	const char		*name;
	const char		*policy;
	const char		*in;
	const char		*out;
	enum norm_verdict	 verdict;
	const char		*trail;		/* substrings, '|' separated */
	unsigned		 flags;		/* NORM_W_* expected */
};

static const struct norm_case cases[] = {
	/* §4.1 peer */
	{ "4.1 peer not an IP: untrusted, headers stripped", TRUST,
	  "REMOTE_ADDR=unix:\nHTTP_X_FORWARDED_FOR=1.2.3.4\n",
	  "REMOTE_ADDR=unix:\n", NORM_OK,
	  "REMOTE_ADDR \"unix:\" is not an IP address", NORM_W_PEER |
	  NORM_W_UNTRUSTED },
	{ "4.1 peer missing", TRUST, "HTTP_X_FORWARDED_FOR=1.2.3.4\n",
	  "", NORM_OK, "is not an IP address", NORM_W_PEER | NORM_W_UNTRUSTED },
	{ "4.1 v4-mapped peer is IPv4", KEEP,
	  "REMOTE_ADDR=::ffff:10.0.0.1\nHTTP_X_FORWARDED_FOR=1.2.3.4\n",
	  "REMOTE_ADDR=1.2.3.4\nHTTP_X_FORWARDED_FOR=1.2.3.4\n"
	  "REALIP_REMOTE_ADDR=::ffff:10.0.0.1\n", NORM_OK,
	  "peer ::ffff:10.0.0.1 trusted by 10.0.0.0/8", 0 },
	{ "4.1 assume_secure applies with a bad peer",
	  TRUST "assume_secure_protocol = true;",
	  "REMOTE_ADDR=bogus\nSERVER_PORT=80\n",
	  "REMOTE_ADDR=bogus\nSERVER_PORT=443\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\n", NORM_OK, "assume_secure_protocol",
	  NORM_W_PEER },
	/* §4.2 trust */
	{ "4.2 untrusted peer: every forwarded header stripped",
	  TRUST "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_FOR=1.2.3.4\n"
	  "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_PORT=443\n"
	  "HTTP_X_FORWARDED_HOST=evil\nHTTP_X_FORWARDED_URI=/x\nA=b\n",
	  "REMOTE_ADDR=192.0.2.9\nA=b\n", NORM_OK,
	  "peer 192.0.2.9 untrusted|warn: untrusted peer sent "
	  "HTTP_X_FORWARDED_FOR,HTTP_X_FORWARDED_PROTO,HTTP_X_FORWARDED_PORT,"
	  "HTTP_X_FORWARDED_HOST,HTTP_X_FORWARDED_URI: removed",
	  NORM_W_UNTRUSTED },
	{ "4.2 untrusted, strip_untrusted off: kept, not used",
	  TRUST "strip_untrusted = false;",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_FOR=1.2.3.4\n",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_FOR=1.2.3.4\n", NORM_OK,
	  ": ignored", NORM_W_UNTRUSTED },
	{ "4.2 untrusted peer without headers: quiet", TRUST,
	  "REMOTE_ADDR=192.0.2.9\n", "REMOTE_ADDR=192.0.2.9\n", NORM_OK,
	  "peer 192.0.2.9 untrusted", 0 },
	{ "4.2 empty trusted_proxies trusts nobody", "",
	  "REMOTE_ADDR=127.0.0.1\nHTTP_X_FORWARDED_FOR=1.2.3.4\n",
	  "REMOTE_ADDR=127.0.0.1\n", NORM_OK, "untrusted", NORM_W_UNTRUSTED },
	/* §4.3 client address */
	{ "4.3 rightmost untrusted in a trusted chain", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nREMOTE_PORT=5555\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.1, 203.0.113.7, 10.0.0.2\n",
	  "REMOTE_ADDR=203.0.113.7\nREMOTE_PORT=5555\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.1, 203.0.113.7, 10.0.0.2\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\nREALIP_REMOTE_PORT=5555\n", NORM_OK,
	  "hop 3 10.0.0.2 trusted by 10.0.0.0/8|hop 2 203.0.113.7 untrusted: "
	  "client|REMOTE_ADDR=203.0.113.7", 0 },
	{ "4.3 spoofed leftmost is never picked (rightmost)", KEEP,
	  "REMOTE_ADDR=127.0.0.1\nHTTP_X_FORWARDED_FOR=10.9.9.9, 6.6.6.6\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_X_FORWARDED_FOR=10.9.9.9, 6.6.6.6\n"
	  "REALIP_REMOTE_ADDR=127.0.0.1\n", NORM_OK, NULL, 0 },
	{ "4.3 leftmost_untrusted picks the first untrusted",
	  KEEP "client_pick = \"leftmost_untrusted\";",
	  "REMOTE_ADDR=127.0.0.1\n"
	  "HTTP_X_FORWARDED_FOR=10.1.1.1, junk, 6.6.6.6, 7.7.7.7\n",
	  "REMOTE_ADDR=6.6.6.6\n"
	  "HTTP_X_FORWARDED_FOR=10.1.1.1, junk, 6.6.6.6, 7.7.7.7\n"
	  "REALIP_REMOTE_ADDR=127.0.0.1\n", NORM_OK,
	  "hop 2 \"junk\" is not an address: skipped", NORM_W_CLIENT },
	{ "4.3 leftmost_untrusted, all trusted: unchanged",
	  KEEP "client_pick = \"leftmost_untrusted\";",
	  "REMOTE_ADDR=127.0.0.1\nHTTP_X_FORWARDED_FOR=10.1.1.1\n",
	  "REMOTE_ADDR=127.0.0.1\nHTTP_X_FORWARDED_FOR=10.1.1.1\n", NORM_OK,
	  "no client address found", 0 },
	{ "4.3 every hop trusted: leftmost", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=10.0.0.1, 10.0.0.2\n",
	  "REMOTE_ADDR=10.0.0.1\nHTTP_X_FORWARDED_FOR=10.0.0.1, 10.0.0.2\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "every hop trusted: client is the leftmost", 0 },
	{ "4.3 invalid hop ends the walk at the last accepted", KEEP,
	  "REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6, garbage, 10.0.0.3, 10.0.0.2\n",
	  "REMOTE_ADDR=10.0.0.3\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6, garbage, 10.0.0.3, 10.0.0.2\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "warn: hop 2 \"garbage\" is not an address: walk ends",
	  NORM_W_CLIENT },
	{ "4.3 invalid rightmost hop: nothing accepted", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6, 999.1.1.1\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6, 999.1.1.1\n",
	  NORM_OK, "no client address found", NORM_W_CLIENT },
	{ "4.3 unknown ends the walk without a warning", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=unknown\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=unknown\n", NORM_OK,
	  "hop 1 \"unknown\" is not an address: walk ends", 0 },
	{ "4.3 empty elements are ignored", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=, 6.6.6.6 ,, \n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_X_FORWARDED_FOR=, 6.6.6.6 ,, \n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, "1 entries", 0 },
	{ "4.3 hop port becomes REMOTE_PORT", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nREMOTE_PORT=1\n"
	  "HTTP_X_FORWARDED_FOR=[2001:db9::1]:4711\n",
	  "REMOTE_ADDR=2001:db9::1\nREMOTE_PORT=4711\n"
	  "HTTP_X_FORWARDED_FOR=[2001:db9::1]:4711\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\nREALIP_REMOTE_PORT=1\n", NORM_OK,
	  "REMOTE_PORT=4711", 0 },
	{ "4.3 canonical text form", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=2001:DB9:0:0::01\n",
	  "REMOTE_ADDR=2001:db9::1\nHTTP_X_FORWARDED_FOR=2001:DB9:0:0::01\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, NULL, 0 },
	{ "4.3 client equal to peer: unchanged", TRUST,
	  "REMOTE_ADDR=192.0.2.1\nHTTP_X_FORWARDED_FOR=192.0.2.1\n",
	  "REMOTE_ADDR=192.0.2.1\n", NORM_OK, "untrusted", NORM_W_UNTRUSTED },
	{ "4.3 repeated header lines joined in place of the first", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6\nA=1\n"
	  "HTTP_X_FORWARDED_FOR=7.7.7.7\nHTTP_X_FORWARDED_FOR=10.0.0.9\n",
	  "REMOTE_ADDR=7.7.7.7\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6, 7.7.7.7, 10.0.0.9\nA=1\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "HTTP_X_FORWARDED_FOR: 3 header lines joined", 0 },
	{ "4.3 first present client header wins",
	  KEEP "client_headers = [ \"HTTP_CF_CONNECTING_IP\", "
	  "\"HTTP_X_FORWARDED_FOR\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CF_CONNECTING_IP=\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_CF_CONNECTING_IP=\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6\nREALIP_REMOTE_ADDR=10.0.0.5\n",
	  NORM_OK, "HTTP_X_FORWARDED_FOR: 1 entries", 0 },
	{ "4.3 CF-Connecting-IP",
	  KEEP "client_headers = [ \"HTTP_CF_CONNECTING_IP\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CF_CONNECTING_IP=2001:db9::7\n",
	  "REMOTE_ADDR=2001:db9::7\nHTTP_CF_CONNECTING_IP=2001:db9::7\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, NULL, 0 },
	{ "4.3 X-Real-IP", KEEP "client_headers = [ \"HTTP_X_REAL_IP\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_REAL_IP=198.51.100.4\n",
	  "REMOTE_ADDR=198.51.100.4\nHTTP_X_REAL_IP=198.51.100.4\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, NULL, 0 },
	{ "4.3 PROXY_PROTOCOL_ADDR",
	  KEEP "client_headers = [ \"PROXY_PROTOCOL_ADDR\" ];",
	  "REMOTE_ADDR=127.0.0.1\nPROXY_PROTOCOL_ADDR=198.51.100.4\n",
	  "REMOTE_ADDR=198.51.100.4\nPROXY_PROTOCOL_ADDR=198.51.100.4\n"
	  "REALIP_REMOTE_ADDR=127.0.0.1\n", NORM_OK, NULL, 0 },
	{ "4.3 RFC 7239 with IPv6 and a port",
	  KEEP "client_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=\"[2001:db9::17]:4711\";"
	  "proto=https, for=10.0.0.4\n",
	  "REMOTE_ADDR=2001:db9::17\nHTTP_FORWARDED=for=\"[2001:db9::17]:4711\";"
	  "proto=https, for=10.0.0.4\nREALIP_REMOTE_ADDR=10.0.0.5\n"
	  "REMOTE_PORT=4711\n", NORM_OK,
	  "hop 2 10.0.0.4 trusted|hop 1 [2001:db9::17]:4711 untrusted", 0 },
	{ "4.3 RFC 7239 obfuscated identifier ends the walk",
	  KEEP "client_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=6.6.6.6, for=_hidden, "
	  "for=10.0.0.4\n",
	  "REMOTE_ADDR=10.0.0.4\nHTTP_FORWARDED=for=6.6.6.6, for=_hidden, "
	  "for=10.0.0.4\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "\"_hidden\" is not an address: walk ends", 0 },
	{ "4.3 RFC 7239 element without for= is skipped",
	  KEEP "client_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=6.6.6.6, by=10.0.0.1\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_FORWARDED=for=6.6.6.6, by=10.0.0.1\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, NULL, 0 },
	/* §4.3c hop count */
	{ "4.3c N=1: the rightmost entry (AWS ALB)",
	  KEEP "client_pick = \"hops\"; trusted_hops = 1;",
	  "REMOTE_ADDR=10.0.3.7\nHTTP_X_FORWARDED_FOR=1.1.1.1, 203.0.113.7\n",
	  "REMOTE_ADDR=203.0.113.7\nHTTP_X_FORWARDED_FOR=1.1.1.1, "
	  "203.0.113.7\nREALIP_REMOTE_ADDR=10.0.3.7\n", NORM_OK,
	  "peer 10.0.3.7 trusted|hop 2 203.0.113.7 is 1 from the right "
	  "(trusted_hops = 1): client", 0 },
	{ "4.3c N=2: Google LB appends the client and itself",
	  "trusted_proxies = [ \"35.191.0.0/16\", \"130.211.0.0/22\" ];"
	  "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=35.191.1.1\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.9, 34.120.0.5\n",
	  "REMOTE_ADDR=198.51.100.9\nREALIP_REMOTE_ADDR=35.191.1.1\n", NORM_OK,
	  "2 entries|hop 1 198.51.100.9 is 2 from the right", 0 },
	{ "4.3c N=2: a spoofed entry left of the count is not taken",
	  "trusted_proxies = [ \"35.191.0.0/16\" ];"
	  "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=35.191.1.1\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6, 198.51.100.9, 34.120.0.5\n",
	  "REMOTE_ADDR=198.51.100.9\nREALIP_REMOTE_ADDR=35.191.1.1\n", NORM_OK,
	  "hop 2 198.51.100.9 is 2 from the right", 0 },
	{ "4.3c short chain: unchanged, never the leftmost",
	  "trusted_proxies = [ \"35.191.0.0/16\" ];"
	  "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=35.191.1.1\nHTTP_X_FORWARDED_FOR=34.120.0.5\n",
	  "REMOTE_ADDR=35.191.1.1\n", NORM_OK,
	  "warn: short chain: 1 entries, trusted_hops = 2: REMOTE_ADDR "
	  "unchanged", NORM_W_SHORT },
	{ "4.3c no list at all is no short chain",
	  TRUST "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=10.0.0.5\n", "REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "no client header present", 0 },
	{ "4.3c untrusted peer: nothing believed, stripped",
	  TRUST "client_pick = \"hops\"; trusted_hops = 1;",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_FOR=1.1.1.1, 203.0.113.7\n",
	  "REMOTE_ADDR=192.0.2.9\n", NORM_OK, "peer 192.0.2.9 untrusted",
	  NORM_W_UNTRUSTED },
	{ "4.3c the entry is taken even if trusted",
	  KEEP "client_pick = \"hops\"; trusted_hops = 1;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.9\n",
	  "REMOTE_ADDR=10.0.0.9\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.9\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "hop 2 10.0.0.9 is 1 from the right", 0 },
	{ "4.3c entries right of the count are not judged",
	  KEEP "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=198.51.100.9, junk\n",
	  "REMOTE_ADDR=198.51.100.9\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.9, junk\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK, "is 2 from the right", 0 },
	{ "4.3c the entry at the count is no address: unchanged, warn",
	  KEEP "client_pick = \"hops\"; trusted_hops = 1;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=1.1.1.1, junk\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=1.1.1.1, junk\n",
	  NORM_OK, "warn: hop 2 \"junk\" (1 from the right, trusted_hops = "
	  "1) is not an address: REMOTE_ADDR unchanged|no client address "
	  "found", NORM_W_CLIENT },
	{ "4.3c an unknown entry: unchanged, no warning",
	  KEEP "client_pick = \"hops\"; trusted_hops = 1;"
	  "client_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=1.1.1.1, for=unknown\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=1.1.1.1, for=unknown\n",
	  NORM_OK, "hop 2 \"unknown\" (1 from the right", 0 },
	{ "4.3c Forwarded elements count, proto of the chosen one",
	  KEEP "client_pick = \"hops\"; trusted_hops = 2;"
	  "client_headers = [ \"HTTP_FORWARDED\" ];"
	  "proto_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=6.6.6.6;proto=http, "
	  "for=\"[2001:db9::7]:443\";proto=https, for=10.0.0.1;proto=http\n",
	  "REMOTE_ADDR=2001:db9::7\nHTTP_FORWARDED=for=6.6.6.6;proto=http, "
	  "for=\"[2001:db9::7]:443\";proto=https, for=10.0.0.1;proto=http\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\nREMOTE_PORT=443\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\n",
	  NORM_OK, "is 2 from the right", 0 },
	{ "4.3c hop-aligned proto list",
	  KEEP "client_pick = \"hops\"; trusted_hops = 2;",
	  "REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.9, 34.120.0.5\n"
	  "HTTP_X_FORWARDED_PROTO=https, http\n",
	  "REMOTE_ADDR=198.51.100.9\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.9, 34.120.0.5\n"
	  "HTTP_X_FORWARDED_PROTO=https, http\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\nHTTPS=on\nREQUEST_SCHEME=https\n"
	  "SERVER_PORT=443\n", NORM_OK, NULL, 0 },
	{ "4.3c repeated params joined, empty elements ignored",
	  KEEP "client_pick = \"hops\"; trusted_hops = 3;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=198.51.100.9, ,\n"
	  "HTTP_X_FORWARDED_FOR=10.1.1.1\nHTTP_X_FORWARDED_FOR=10.2.2.2,\n",
	  "REMOTE_ADDR=198.51.100.9\nHTTP_X_FORWARDED_FOR=198.51.100.9, ,, "
	  "10.1.1.1, 10.2.2.2,\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "3 entries|is 3 from the right", 0 },
	{ "4.3c the client is the peer: unchanged",
	  KEEP "client_pick = \"hops\"; trusted_hops = 1;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=10.0.0.5\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=10.0.0.5\n", NORM_OK,
	  "is the peer: REMOTE_ADDR unchanged", 0 },
	/* §4.10 client certificate */
	{ "4.10 nginx SUCCESS: identity from the DN text",
	  KEEP "client_cert_from = \"nginx\";",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_SSL_CLIENT_VERIFY=SUCCESS\n"
	  "HTTP_SSL_CLIENT_SUBJECT_DN=CN=bob,O=Example\n"
	  "HTTP_SSL_CLIENT_ISSUER_DN=CN=Test CA\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=bob,O=Example\nSSL_CLIENT_S_DN_CN=bob\n"
	  "SSL_CLIENT_I_DN=CN=Test CA\n", NORM_OK,
	  "client_cert_from nginx: HTTP_SSL_CLIENT_VERIFY=SUCCESS|"
	  "removed (client certificate): HTTP_SSL_CLIENT_VERIFY|"
	  "SSL_CLIENT_S_DN_CN=bob", 0 },
	{ "4.10 nginx FAILED: the verdict, no identity",
	  KEEP "client_cert_from = \"nginx\";",
	  "REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_SSL_CLIENT_VERIFY=FAILED:certificate has expired\n"
	  "HTTP_SSL_CLIENT_SUBJECT_DN=CN=bob,O=Example\n",
	  "REMOTE_ADDR=10.0.0.5\n"
	  "SSL_CLIENT_VERIFY=FAILED:certificate has expired\n", NORM_OK,
	  NULL, 0 },
	{ "4.10 nginx: a value nginx never sends is no certificate",
	  KEEP "client_cert_from = \"nginx\";",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_SSL_CLIENT_VERIFY=yes\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=NONE\n", NORM_OK,
	  "warn: HTTP_SSL_CLIENT_VERIFY \"yes\" is not one of nginx's",
	  NORM_W_CERT },
	{ "4.10 source configured but absent: NONE, web server's replaced",
	  KEEP "client_cert_from = \"nginx\";",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=forged\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=NONE\n", NORM_OK,
	  "no HTTP_SSL_CLIENT_VERIFY", 0 },
	{ "4.10 untrusted peer: stripped whatever the source",
	  TRUST "client_cert_from = \"nginx\";",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_SSL_CLIENT_VERIFY=SUCCESS\n"
	  "HTTP_SSL_CLIENT_SUBJECT_DN=CN=admin\n",
	  "REMOTE_ADDR=192.0.2.9\nSSL_CLIENT_VERIFY=NONE\n", NORM_OK,
	  "untrusted peer sent HTTP_SSL_CLIENT_VERIFY,"
	  "HTTP_SSL_CLIENT_SUBJECT_DN", NORM_W_UNTRUSTED },
	{ "4.10 none: a client's forged header never reaches PHP",
	  KEEP, "REMOTE_ADDR=10.0.0.5\nHTTP_SSL_CLIENT_VERIFY=SUCCESS\n"
	  "HTTP_X_SSL_CLIENT_S_DN=CN=admin\nHTTP_X_CLIENT_CERT_CN=admin\n"
	  "HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT=CN=admin\n"
	  "HTTP_X_FORWARDED_CLIENT_CERT=Subject=\"CN=admin\"\n",
	  "REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "removed (client certificate): HTTP_X_SSL_CLIENT_S_DN", 0 },
	{ "4.10 none: the web server's own SSL_CLIENT_* pass unchanged",
	  KEEP, "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=bob\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=bob\n", NORM_OK, NULL, 0 },
	{ "4.10 xfcc: one element, Subject text, escapes kept",
	  KEEP "client_cert_from = \"xfcc\";",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_CLIENT_CERT=By=spiffe://"
	  "edge;Hash=ab12;Subject=\"CN=alice\\, jr,emailAddress=a@x.example"
	  ",O=Example\";URI=spiffe://client\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=alice\\, jr,emailAddress=a@x.example,"
	  "O=Example\nSSL_CLIENT_S_DN_CN=alice, jr\n"
	  "SSL_CLIENT_S_DN_Email=a@x.example\n", NORM_OK,
	  "client_cert_from xfcc: one element: SUCCESS", 0 },
	{ "4.10 xfcc: two elements (not sanitized): no identity",
	  KEEP "client_cert_from = \"xfcc\";",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_CLIENT_CERT=Subject=\""
	  "CN=forged\",Subject=\"CN=alice\"\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=NONE\n", NORM_OK,
	  "warn: HTTP_X_FORWARDED_CLIENT_CERT has 2 elements, not 1",
	  NORM_W_CERT },
	{ "4.10 alb verify mode: text fields, serial upper case",
	  KEEP "client_cert_from = \"alb\";",
	  "REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT=CN=carol,O=Example\n"
	  "HTTP_X_AMZN_MTLS_CLIENTCERT_ISSUER=CN=Test CA\n"
	  "HTTP_X_AMZN_MTLS_CLIENTCERT_SERIAL_NUMBER=0a1b2c\n"
	  "HTTP_X_AMZN_MTLS_CLIENTCERT_VALIDITY=NotBefore=2026-12-07T08:56:35Z;"
	  "NotAfter=2027-01-17T10:00:00Z\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN=CN=carol,O=Example\nSSL_CLIENT_S_DN_CN=carol\n"
	  "SSL_CLIENT_I_DN=CN=Test CA\nSSL_CLIENT_M_SERIAL=0A1B2C\n"
	  "SSL_CLIENT_V_START=Dec  7 08:56:35 2026 GMT\n"
	  "SSL_CLIENT_V_END=Jan 17 10:00:00 2027 GMT\n", NORM_OK,
	  "verify mode: SUCCESS", 0 },
	{ "4.10 alb passthrough: unverified, no identity",
	  KEEP "client_cert_from = \"alb\";",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_AMZN_MTLS_CLIENTCERT=-----BEGIN\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=FAILED:not verified by "
	  "the load balancer (ALB passthrough mode)\n", NORM_OK,
	  "passthrough mode", 0 },
	{ "4.10 PROXY v2 SSL: client cert, verify 0, CN",
	  KEEP "client_cert_from = \"proxy_protocol\"; proxy_protocol = true;",
	  "REMOTE_ADDR=10.0.0.5\nPROXY_PROTOCOL_SSL_CLIENT=7\n"
	  "PROXY_PROTOCOL_SSL_VERIFY=0\nPROXY_PROTOCOL_SSL_CN=dave\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=SUCCESS\n"
	  "SSL_CLIENT_S_DN_CN=dave\n", NORM_OK, "SUCCESS, CN dave", 0 },
	{ "4.10 PROXY v2 SSL: TLS without a certificate (the CN is ours)",
	  KEEP "client_cert_from = \"proxy_protocol\"; proxy_protocol = true;",
	  "REMOTE_ADDR=10.0.0.5\nPROXY_PROTOCOL_SSL_CLIENT=1\n"
	  "PROXY_PROTOCOL_SSL_VERIFY=0\nPROXY_PROTOCOL_SSL_CN=proxy.example\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=NONE\n", NORM_OK,
	  "TLS without a client certificate", 0 },
	{ "4.10 PROXY v2 SSL: verify failed",
	  KEEP "client_cert_from = \"proxy_protocol\"; proxy_protocol = true;",
	  "REMOTE_ADDR=10.0.0.5\nPROXY_PROTOCOL_SSL_CLIENT=3\n"
	  "PROXY_PROTOCOL_SSL_VERIFY=10\n",
	  "REMOTE_ADDR=10.0.0.5\nSSL_CLIENT_VERIFY=FAILED:X509 verify error "
	  "10\n", NORM_OK, NULL, 0 },
	/* §4.4 scheme, §4.5 port */
	{ "4.4 https from a trusted proxy", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=HTTPS\n"
	  "SERVER_PORT=80\nREQUEST_SCHEME=http\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=HTTPS\n"
	  "SERVER_PORT=443\nREQUEST_SCHEME=https\nHTTPS=on\n", NORM_OK,
	  "HTTPS=on REQUEST_SCHEME=https|SERVER_PORT=443 (default", 0 },
	{ "4.4 http removes HTTPS", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTPS=on\nHTTP_X_FORWARDED_PROTO=off\n"
	  "SERVER_PORT=443\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=off\n"
	  "SERVER_PORT=80\nREQUEST_SCHEME=http\n", NORM_OK,
	  "HTTPS removed", 0 },
	{ "4.4 bad scheme ignored with a warning", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=gopher\n"
	  "SERVER_PORT=80\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=gopher\n"
	  "SERVER_PORT=80\n", NORM_OK, "warn: HTTP_X_FORWARDED_PROTO \"gopher\" "
	  "is not http/https/on/off: ignored", NORM_W_SCHEME },
	{ "4.4 hop-aligned proto list", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.4\n"
	  "HTTP_X_FORWARDED_PROTO=https, http\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.4\n"
	  "HTTP_X_FORWARDED_PROTO=https, http\nREALIP_REMOTE_ADDR=10.0.0.5\n"
	  "HTTPS=on\nREQUEST_SCHEME=https\nSERVER_PORT=443\n", NORM_OK, NULL,
	  0 },
	{ "4.4 unaligned proto list: rightmost", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.4\n"
	  "HTTP_X_FORWARDED_PROTO=https, https, http\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_X_FORWARDED_FOR=6.6.6.6, 10.0.0.4\n"
	  "HTTP_X_FORWARDED_PROTO=https, https, http\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\nREQUEST_SCHEME=http\nSERVER_PORT=80\n",
	  NORM_OK, NULL, 0 },
	{ "4.4 RFC 7239 proto of the chosen element",
	  KEEP "client_headers = [ \"HTTP_FORWARDED\" ];"
	  "proto_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=6.6.6.6;proto=https, "
	  "for=10.0.0.4;proto=http\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_FORWARDED=for=6.6.6.6;proto=https, "
	  "for=10.0.0.4;proto=http\nREALIP_REMOTE_ADDR=10.0.0.5\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\n", NORM_OK, NULL, 0 },
	{ "4.4 RFC 7239 proto of the rightmost element otherwise",
	  KEEP "proto_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=proto=http, proto=https\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=proto=http, proto=https\n"
	  "HTTPS=on\nREQUEST_SCHEME=https\nSERVER_PORT=443\n", NORM_OK, NULL,
	  0 },
	{ "4.4 assume_secure_protocol wins over the header",
	  KEEP "assume_secure_protocol = true;",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=http\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=http\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\n", NORM_OK,
	  "assume_secure_protocol: HTTPS=on", 0 },
	{ "4.4 assume_secure_protocol for an untrusted peer",
	  TRUST "assume_secure_protocol = true;",
	  "REMOTE_ADDR=192.0.2.1\nHTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=192.0.2.1\nHTTPS=on\nREQUEST_SCHEME=https\n"
	  "SERVER_PORT=443\n", NORM_OK, NULL, NORM_W_UNTRUSTED },
	{ "4.5 X-Forwarded-Port", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=8443\nSERVER_PORT=80\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=8443\nSERVER_PORT=8443\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\n", NORM_OK,
	  "SERVER_PORT=8443 (HTTP_X_FORWARDED_PORT)", 0 },
	{ "4.5 bad port falls back to the host's port", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=99999\nHTTP_X_FORWARDED_HOST=ex.org:8444\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=99999\nHTTP_X_FORWARDED_HOST=ex.org:8444\n"
	  "HTTPS=on\nREQUEST_SCHEME=https\nHTTP_HOST=ex.org:8444\n"
	  "SERVER_PORT=8444\nSERVER_NAME=ex.org\n", NORM_OK, "warn: HTTP_X_FORWARDED_PORT "
	  "\"99999\" is not a port|port of the forwarded host", NORM_W_PORT },
	{ "4.5 a lone X-Forwarded-Port is applied", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PORT=8443\nSERVER_PORT=80\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_PORT=8443\n"
	  "SERVER_PORT=8443\n", NORM_OK,
	  "SERVER_PORT=8443 (HTTP_X_FORWARDED_PORT)", 0 },
	/* §4.6 host */
	{ "4.6 X-Forwarded-Host", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=origin.internal\n"
	  "HTTP_X_FORWARDED_HOST=www.example.com\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=www.example.com\n"
	  "HTTP_X_FORWARDED_HOST=www.example.com\n"
	  "SERVER_NAME=www.example.com\n", NORM_OK,
	  "HTTP_HOST=www.example.com", 0 },
	{ "4.6 bad host kept with a warning", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=origin\n"
	  "HTTP_X_FORWARDED_HOST=evil.com/x\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=origin\n"
	  "HTTP_X_FORWARDED_HOST=evil.com/x\n", NORM_OK,
	  "warn: HTTP_X_FORWARDED_HOST \"evil.com/x\" is not a valid host",
	  NORM_W_HOST },
	{ "4.6 host list: rightmost", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_HOST=a.example, b.example\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_HOST=a.example, b.example\n"
	  "HTTP_HOST=b.example\nSERVER_NAME=b.example\n", NORM_OK, NULL, 0 },
	{ "4.6 RFC 7239 host= of the chosen element",
	  KEEP "client_headers = [ \"HTTP_FORWARDED\" ];"
	  "host_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=6.6.6.6;host=\"[2001:db8::"
	  "5]:8443\"\n",
	  "REMOTE_ADDR=6.6.6.6\nHTTP_FORWARDED=for=6.6.6.6;host=\"[2001:db8::"
	  "5]:8443\"\nREALIP_REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_HOST=[2001:db8::5]:8443\nSERVER_PORT=8443\n"
	  "SERVER_NAME=[2001:db8::5]\n", NORM_OK, NULL, 0 },
	/* §4.7 prefix */
	{ "4.7 Matomo sub-path", TRUST
	  "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_FILENAME=/srv/index.php\n"
	  "SCRIPT_NAME=/index.php\nREQUEST_URI=/index.php?module=X\n"
	  "DOCUMENT_URI=/index.php\nPHP_SELF=/index.php\n"
	  "HTTP_X_FORWARDED_URI=/matomo/\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_FILENAME=/srv/index.php\n"
	  "SCRIPT_NAME=/matomo/index.php\n"
	  "REQUEST_URI=/matomo/index.php?module=X\n"
	  "DOCUMENT_URI=/matomo/index.php\nPHP_SELF=/matomo/index.php\n",
	  NORM_OK, "prefix /matomo added", 0 },
	{ "4.7 bad prefix kept with a warning", KEEP
	  "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\n"
	  "HTTP_X_FORWARDED_URI=/a/../b\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\n"
	  "HTTP_X_FORWARDED_URI=/a/../b\n", NORM_OK,
	  "has a . or .. segment: ignored", NORM_W_PREFIX },
	{ "4.7 prefix / is a no-op", KEEP
	  "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nHTTP_X_FORWARDED_URI=/\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nHTTP_X_FORWARDED_URI=/\n",
	  NORM_OK, "nothing to prefix", 0 },
	{ "4.7 uri_header off by default", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nHTTP_X_FORWARDED_URI=/m\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nHTTP_X_FORWARDED_URI=/m\n",
	  NORM_OK, NULL, 0 },
	{ "4.7/4.8 duplicate SCRIPT_NAME: the last one, prefixed once", KEEP
	  "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nSCRIPT_NAME=/j.php\n"
	  "HTTP_X_FORWARDED_URI=/m\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/m/j.php\n", NORM_OK,
	  "SCRIPT_NAME sent more than once: \"/i.php\" removed, the last one "
	  "\"/j.php\" is the value", 0 },
	/* §4.8 hygiene */
	{ "4.8 HTTP_PROXY dropped (httpoxy)", TRUST,
	  "REMOTE_ADDR=192.0.2.1\nHTTP_PROXY=http://evil:8080\nA=1\n",
	  "REMOTE_ADDR=192.0.2.1\nA=1\n", NORM_OK, NULL, 0 },
	{ "4.8 reject_params: 403",
	  TRUST "reject_params = [ \"PHP_VALUE\", \"PHP_ADMIN_VALUE\" ];",
	  "REMOTE_ADDR=10.0.0.5\nPHP_VALUE=auto_prepend_file=/tmp/x\n",
	  NULL, NORM_FORBIDDEN, "reject 403: PHP_VALUE is in reject_params",
	  0 },
	{ "4.8 NUL in a name: 400", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTPS\001x=on\n", NULL, NORM_BAD_REQUEST,
	  "reject 400: param name \"HTTPS\\x01x\"", 0 },
	{ "4.8 '=' in a value is fine", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nA=B=C\n", "REMOTE_ADDR=10.0.0.5\nA=B=C\n",
	  NORM_OK, NULL, 0 },
	{ "4.8 LF in a value: 400", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_X=a\rb\n", NULL, NORM_BAD_REQUEST,
	  "value of HTTP_X has CR or LF", 0 },
	{ "4.8 CR allowed in PHP_VALUE", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nPHP_VALUE=a=1\rb=2\n",
	  "REMOTE_ADDR=10.0.0.5\nPHP_VALUE=a=1\rb=2\n", NORM_OK, NULL, 0 },
	{ "4.8 empty name: 400", TRUST, "REMOTE_ADDR=10.0.0.5\n=x\n", NULL,
	  NORM_BAD_REQUEST, "empty param name", 0 },
	/* §4.8: the last occurrence of a policy param is its value. */
	{ "4.8 REMOTE_ADDR twice: trust judged on the last (untrusted)",
	  TRUST, "REMOTE_ADDR=10.0.0.5\nHTTP_X_FORWARDED_FOR=6.6.6.6\n"
	  "REMOTE_ADDR=192.0.2.9\n", "REMOTE_ADDR=192.0.2.9\n", NORM_OK,
	  "REMOTE_ADDR sent more than once: \"10.0.0.5\" removed, the last "
	  "one \"192.0.2.9\" is the value|peer 192.0.2.9 untrusted",
	  NORM_W_UNTRUSTED },
	{ "4.8 REMOTE_ADDR twice: trust judged on the last (trusted)",
	  TRUST, "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_FOR=6.6.6.6\n"
	  "REMOTE_ADDR=10.0.0.5\n",
	  "REMOTE_ADDR=6.6.6.6\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "peer 10.0.0.5 trusted", 0 },
	{ "4.8 HTTP_HOST and SERVER_PORT twice: the last ones", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=a.example\nSERVER_PORT=1\n"
	  "HTTP_HOST=b.example\nSERVER_PORT=80\nHTTP_X_FORWARDED_PROTO=https\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=b.example\nSERVER_PORT=443\n"
	  "HTTPS=on\nREQUEST_SCHEME=https\nSERVER_NAME=b.example\n", NORM_OK,
	  NULL, 0 },
	/* §4.9: what the app can still read. */
	{ "4.9 Laravel '*' spoof: raw X-Forwarded-For not passed on", TRUST,
	  "REMOTE_ADDR=10.0.0.5\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6, 203.0.113.7\n",
	  "REMOTE_ADDR=203.0.113.7\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "removed (forwarded_after): HTTP_X_FORWARDED_FOR=\"6.6.6.6, "
	  "203.0.113.7\"", 0 },
	{ "4.9 forged Client-IP and X-Real-IP removed on a trusted request",
	  TRUST, "REMOTE_ADDR=10.0.0.5\nHTTP_CLIENT_IP=6.6.6.6\n"
	  "HTTP_X_REAL_IP=6.6.6.7\nHTTP_X_FORWARDED_FOR=203.0.113.7\n"
	  "PROXY_PROTOCOL_UNIQUE_ID=abc\n",
	  "REMOTE_ADDR=203.0.113.7\nPROXY_PROTOCOL_UNIQUE_ID=abc\n"
	  "REALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "forwarded_after = strip: HTTP_CLIENT_IP,HTTP_X_REAL_IP,"
	  "HTTP_X_FORWARDED_FOR removed|HTTP_CLIENT_IP=\"6.6.6.6\"", 0 },
	{ "4.9 forwarded_after = keep passes them on", KEEP,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CLIENT_IP=6.6.6.6\n"
	  "HTTP_X_FORWARDED_FOR=203.0.113.7\n",
	  "REMOTE_ADDR=203.0.113.7\nHTTP_CLIENT_IP=6.6.6.6\n"
	  "HTTP_X_FORWARDED_FOR=203.0.113.7\nREALIP_REMOTE_ADDR=10.0.0.5\n",
	  NORM_OK, NULL, 0 },
	{ "4.9 keep still removes an applied uri_header",
	  KEEP "uri_header = \"HTTP_X_FORWARDED_URI\";",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\nHTTP_X_FORWARDED_URI=/m\n"
	  "HTTP_X_FORWARDED_PREFIX=/p\n",
	  "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/m/i.php\n"
	  "HTTP_X_FORWARDED_PREFIX=/p\n", NORM_OK, NULL, 0 },
	{ "4.2 untrusted, Forwarded-only app: a forged X-Forwarded-Proto goes",
	  TRUST "client_headers = [ \"HTTP_FORWARDED\" ];"
	  "proto_headers = [ \"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_REAL_IP=6.6.6.6\nHTTP_CLIENT_IP=6.6.6.7\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.8\n", "REMOTE_ADDR=192.0.2.9\n", NORM_OK,
	  "warn: untrusted peer sent HTTP_X_FORWARDED_PROTO,HTTP_X_REAL_IP,"
	  "HTTP_CLIENT_IP,HTTP_X_FORWARDED_FOR: removed|removed (untrusted "
	  "peer): HTTP_X_FORWARDED_PROTO=\"https\"", NORM_W_UNTRUSTED },
	{ "4.9 forwarded_params replaces the list, configured names added",
	  TRUST "forwarded_params = [ \"HTTP_X_MY_HINT\" ];",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_X_MY_HINT=1\nHTTP_CLIENT_IP=6.6.6.6\n"
	  "HTTP_X_FORWARDED_PORT=1\n",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_CLIENT_IP=6.6.6.6\n", NORM_OK,
	  "untrusted peer sent HTTP_X_MY_HINT,HTTP_X_FORWARDED_PORT",
	  NORM_W_UNTRUSTED },
	/* §4.5 and §4.6: host and port agree. */
	{ "4.6 https + port 443: the Host has no port", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=80\n"
	  "SERVER_NAME=backend\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=443\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=443\n"
	  "SERVER_NAME=public.example\nHTTPS=on\nREQUEST_SCHEME=https\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 http + port 80: the Host has no port", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=8080\n"
	  "HTTPS=on\nHTTP_X_FORWARDED_PROTO=http\nHTTP_X_FORWARDED_PORT=80\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=80\n"
	  "REQUEST_SCHEME=http\nSERVER_NAME=public.example\n", NORM_OK, NULL,
	  0 },
	{ "4.6 https + port 8443: HTTP_HOST=public.example:8443", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=80\n"
	  "SERVER_NAME=backend\nHTTP_X_FORWARDED_PROTO=https\n"
	  "HTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example:8443\n"
	  "SERVER_PORT=8443\nSERVER_NAME=public.example\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\n", NORM_OK,
	  "HTTP_HOST=public.example:8443 (host and SERVER_PORT agree)", 0 },
	{ "4.6 http + port 8080: HTTP_HOST=public.example:8080", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nSERVER_PORT=80\n"
	  "HTTP_X_FORWARDED_PROTO=http\nHTTP_X_FORWARDED_PORT=8080\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example:8080\n"
	  "SERVER_PORT=8080\nREQUEST_SCHEME=http\nSERVER_NAME=public.example\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 forwarded host + 8443", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=backend:8080\nSERVER_NAME=backend\n"
	  "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_PORT=8443\n"
	  "HTTP_X_FORWARDED_HOST=shop.example\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=shop.example:8443\n"
	  "SERVER_NAME=shop.example\nHTTPS=on\nREQUEST_SCHEME=https\n"
	  "SERVER_PORT=8443\n", NORM_OK, NULL, 0 },
	{ "4.6 forwarded host with a port, https 443 from the port header",
	  TRUST, "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=backend\n"
	  "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_PORT=443\n"
	  "HTTP_X_FORWARDED_HOST=shop.example:8444\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=shop.example\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\nSERVER_NAME=shop.example\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 forwarded host with a port and no port header", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=backend\n"
	  "HTTP_X_FORWARDED_PROTO=http\n"
	  "HTTP_X_FORWARDED_HOST=shop.example:8080\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=shop.example:8080\n"
	  "REQUEST_SCHEME=http\nSERVER_PORT=8080\nSERVER_NAME=shop.example\n",
	  NORM_OK, "SERVER_PORT=8080 (port of the forwarded host)", 0 },
	{ "4.6 a Host that carries a port: replaced by the forwarded one",
	  TRUST, "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example:8080\n"
	  "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example:8443\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=8443\n"
	  "SERVER_NAME=public.example\n", NORM_OK, NULL, 0 },
	{ "4.6 a Host that carries a port, scheme only: the default port",
	  TRUST, "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example:8080\n"
	  "HTTP_X_FORWARDED_PROTO=https\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=public.example\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\nSERVER_NAME=public.example\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 IPv6 Host keeps its brackets", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=[2001:db8::5]:8080\n"
	  "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=[2001:db8::5]:8443\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=8443\nSERVER_NAME=[2001:db8::5]\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 no Host at all: only SERVER_PORT", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nSERVER_NAME=backend\n"
	  "HTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=10.0.0.5\nSERVER_NAME=backend\nSERVER_PORT=8443\n",
	  NORM_OK, NULL, 0 },
	{ "4.6 absolute host shop.example. accepted, dot kept", TRUST,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=backend\n"
	  "HTTP_X_FORWARDED_HOST=shop.example.\n",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_HOST=shop.example.\n"
	  "SERVER_NAME=shop.example.\n", NORM_OK, NULL, 0 },
	{ "4.6 untrusted: X-Forwarded-Port ignored and removed", TRUST,
	  "REMOTE_ADDR=192.0.2.9\nHTTP_HOST=public.example\nSERVER_PORT=80\n"
	  "HTTP_X_FORWARDED_PORT=8443\n",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_HOST=public.example\nSERVER_PORT=80\n",
	  NORM_OK, NULL, NORM_W_UNTRUSTED },
	/* §4.2: unix: peers. */
	{ "4.2 unix: peer trusted with \"unix:\"",
	  "trusted_proxies = [ \"unix:\" ];",
	  "REMOTE_ADDR=unix:\nHTTP_X_FORWARDED_FOR=198.51.100.4\n"
	  "HTTP_X_FORWARDED_PROTO=https\n",
	  "REMOTE_ADDR=198.51.100.4\nREALIP_REMOTE_ADDR=unix:\nHTTPS=on\n"
	  "REQUEST_SCHEME=https\nSERVER_PORT=443\n", NORM_OK,
	  "peer unix: trusted by \"unix:\"", 0 },
	{ "4.2 unix: peer untrusted without \"unix:\"", TRUST,
	  "REMOTE_ADDR=unix:\nHTTP_X_FORWARDED_PROTO=https\n",
	  "REMOTE_ADDR=unix:\n", NORM_OK, "trusted_proxies \"unix:\" trusts",
	  NORM_W_PEER | NORM_W_UNTRUSTED },
	{ "4.2 \"unix:\" does not trust an IP peer",
	  "trusted_proxies = [ \"unix:\" ];",
	  "REMOTE_ADDR=127.0.0.1\nHTTP_X_FORWARDED_FOR=198.51.100.4\n",
	  "REMOTE_ADDR=127.0.0.1\n", NORM_OK, NULL, NORM_W_UNTRUSTED },
	/* §4.3a: headers with their own sources. */
	{ "4.3a CF group: the peer is in from", CF_PEER,
	  "REMOTE_ADDR=173.245.48.5\nHTTP_CF_CONNECTING_IP=198.51.100.7\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6\n",
	  "REMOTE_ADDR=198.51.100.7\nREALIP_REMOTE_ADDR=173.245.48.5\n",
	  NORM_OK, "HTTP_CF_CONNECTING_IP believed: peer 173.245.48.5 is in "
	  "its from|HTTP_CF_CONNECTING_IP: client 198.51.100.7", 0 },
	{ "4.3a CF group: the entry hop found through X-Forwarded-For", CF,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CF_CONNECTING_IP=2001:db9::7\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.7, 173.245.48.5, 10.0.0.9\n",
	  "REMOTE_ADDR=2001:db9::7\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "believed: entry hop 173.245.48.5 (from HTTP_X_FORWARDED_FOR) is "
	  "in its from", 0 },
	{ "4.3a CF group forged from outside from: skipped, next entry", CF,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CF_CONNECTING_IP=1.1.1.1\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6\n",
	  "REMOTE_ADDR=6.6.6.6\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "warn: HTTP_CF_CONNECTING_IP ignored: the request entered through "
	  "6.6.6.6, not in its from (spoofing attempt?); next client header|"
	  "HTTP_X_FORWARDED_FOR: 1 entries|removed (forwarded_after): "
	  "HTTP_CF_CONNECTING_IP=\"1.1.1.1\"",
	  NORM_W_SOURCE | NORM_W_UNTRUSTED },
	{ "4.3a CF group forged, no other entry: unchanged", CF,
	  "REMOTE_ADDR=10.0.0.5\nHTTP_CF_CONNECTING_IP=1.1.1.1\n",
	  "REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "entered through 10.0.0.5, not in its from|no client header present",
	  NORM_W_SOURCE | NORM_W_UNTRUSTED },
	{ "4.3a CF group believed but not an address: no fallback", CF_PEER,
	  "REMOTE_ADDR=173.245.48.5\nHTTP_CF_CONNECTING_IP=garbage\n"
	  "HTTP_X_FORWARDED_FOR=6.6.6.6\n", "REMOTE_ADDR=173.245.48.5\n",
	  NORM_OK, "warn: HTTP_CF_CONNECTING_IP \"garbage\" is not an address: "
	  "REMOTE_ADDR unchanged", NORM_W_CLIENT },
	{ "4.3a CF group: peer in from but not trusted: untrusted", CF,
	  "REMOTE_ADDR=173.245.48.5\nHTTP_CF_CONNECTING_IP=198.51.100.7\n",
	  "REMOTE_ADDR=173.245.48.5\n", NORM_OK, "peer 173.245.48.5 untrusted",
	  NORM_W_UNTRUSTED },
	/* §4.3b: conflicts. */
	{ "4.3b Forwarded and X-Forwarded-For disagree: first wins, warn",
	  TRUST "client_headers = [ \"HTTP_FORWARDED\", "
	  "\"HTTP_X_FORWARDED_FOR\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=198.51.100.1\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.2\n",
	  "REMOTE_ADDR=198.51.100.1\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  "warn: HTTP_FORWARDED gives client 198.51.100.1 but "
	  "HTTP_X_FORWARDED_FOR gives 198.51.100.2: the first configured, "
	  "HTTP_FORWARDED, wins", NORM_W_CONFLICT },
	{ "4.3b Forwarded and X-Forwarded-For agree: quiet",
	  TRUST "client_headers = [ \"HTTP_X_FORWARDED_FOR\", "
	  "\"HTTP_FORWARDED\" ];",
	  "REMOTE_ADDR=10.0.0.5\nHTTP_FORWARDED=for=198.51.100.1\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.1\n",
	  "REMOTE_ADDR=198.51.100.1\nREALIP_REMOTE_ADDR=10.0.0.5\n", NORM_OK,
	  NULL, 0 },
	{ "4.3b untrusted peer: no conflict judged, both stripped",
	  TRUST "client_headers = [ \"HTTP_FORWARDED\", "
	  "\"HTTP_X_FORWARDED_FOR\" ];",
	  "REMOTE_ADDR=192.0.2.9\nHTTP_FORWARDED=for=198.51.100.1\n"
	  "HTTP_X_FORWARDED_FOR=198.51.100.2\n", "REMOTE_ADDR=192.0.2.9\n",
	  NORM_OK, "untrusted peer sent HTTP_FORWARDED,HTTP_X_FORWARDED_FOR",
	  NORM_W_UNTRUSTED },
	/* §5.3: the PROXY v2 TLV params in the policy. */
	{ "5.3 PROXY v2 TLVs: scheme and host from PROXY_PROTOCOL_*",
	  TRUST "client_headers = [ \"PROXY_PROTOCOL_ADDR\" ];"
	  "proto_headers = [ \"PROXY_PROTOCOL_PROTO\" ];"
	  "host_headers = [ \"PROXY_PROTOCOL_AUTHORITY\" ];",
	  "REMOTE_ADDR=10.0.0.1\nHTTP_HOST=backend\nSERVER_PORT=80\n"
	  "PROXY_PROTOCOL_ADDR=198.51.100.4\nPROXY_PROTOCOL_PORT=4711\n"
	  "PROXY_PROTOCOL_PROTO=https\nPROXY_PROTOCOL_AUTHORITY=shop.example\n"
	  "PROXY_PROTOCOL_UNIQUE_ID=req-1\n",
	  "REMOTE_ADDR=198.51.100.4\nHTTP_HOST=shop.example\nSERVER_PORT=443\n"
	  "PROXY_PROTOCOL_UNIQUE_ID=req-1\nREALIP_REMOTE_ADDR=10.0.0.1\n"
	  "HTTPS=on\nREQUEST_SCHEME=https\nSERVER_NAME=shop.example\n",
	  NORM_OK, "PROXY_PROTOCOL_AUTHORITY: HTTP_HOST=shop.example", 0 },
	{ "5.3 PROXY v2 TLV params from an untrusted peer: stripped",
	  TRUST "proto_headers = [ \"PROXY_PROTOCOL_PROTO\" ];",
	  "REMOTE_ADDR=192.0.2.9\nPROXY_PROTOCOL_PROTO=https\n"
	  "PROXY_PROTOCOL_AUTHORITY=evil.example\nPROXY_PROTOCOL_UNIQUE_ID=x\n",
	  "REMOTE_ADDR=192.0.2.9\nPROXY_PROTOCOL_UNIQUE_ID=x\n", NORM_OK,
	  NULL, NORM_W_UNTRUSTED },
	{ NULL, NULL, NULL, NULL, NORM_OK, NULL, 0 },
};

static int
run_case(const struct norm_case *k)
{
	struct cfg		*c = cfg_app_text(k->policy);
	struct params		*p = params_new(65536);
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			 trail[8192], want[512];
	const char		*s, *bar;
	int			 ok = 1;

	params_from_text(p, k->in);
	norm_trail_init(&t, trail, sizeof(trail), 1);
	v = norm_run(&c->c_apps[0].a_policy, p, &t);
	if (v != k->verdict)
		ok = 0;
	if (k->out != NULL && strcmp(params_to_text(p), k->out) != 0)
		ok = 0;
	if (t.t_flags != k->flags)
		ok = 0;
	for (s = k->trail; s != NULL && *s; s = bar ? bar + 1 : NULL) {
		bar = strchr(s, '|');
		snprintf(want, sizeof(want), "%.*s", (int)(bar ? bar - s :
		    (long)strlen(s)), s);
		if (strstr(trail, want) == NULL)
			ok = 0;
		if (bar == NULL)
			break;
	}
	if (!ok)
		fprintf(stderr, "\nFAILED: %s\nverdict %d flags %#x\n--- out:\n"
		    "%s--- trail:\n%s", k->name, v, t.t_flags,
		    params_to_text(p), trail);
	params_free(p);
	cfg_free(c);
	return (ok);
}

static void
test_normalize_spec_rules(void)
{
	const struct norm_case	*k;
	int			 failed = 0, n = 0;

	for (k = cases; k->name != NULL; k++, n++)
		if (!run_case(k))
			failed++;
	printf("\n    normalize: %d rule cases, %d failed\n", n, failed);
	CU_ASSERT_EQUAL(failed, 0);
}

/* The exact trail for one request, compared as text (STYLE S16). */
static void
test_normalize_trail_text(void)
{
	struct cfg		*c = cfg_app_text(TRUST);
	struct params		*p = params_new(65536);
	struct norm_trail	 t;
	char			 trail[4096];

	params_from_text(p, "REMOTE_ADDR=10.0.0.5\n"
	    "HTTP_X_FORWARDED_FOR=203.0.113.7, 10.0.0.2\n"
	    "HTTP_X_FORWARDED_PROTO=https\n");
	norm_trail_init(&t, trail, sizeof(trail), 1);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t), NORM_OK);
	CU_ASSERT_STRING_EQUAL(trail,
	    "peer 10.0.0.5 trusted by 10.0.0.0/8\n"
	    "HTTP_X_FORWARDED_FOR: 2 entries \"203.0.113.7, 10.0.0.2\"\n"
	    "hop 2 10.0.0.2 trusted by 10.0.0.0/8\n"
	    "hop 1 203.0.113.7 untrusted: client\n"
	    "REMOTE_ADDR=203.0.113.7 (old value in REALIP_REMOTE_ADDR)\n"
	    "HTTP_X_FORWARDED_PROTO \"https\": HTTPS=on REQUEST_SCHEME=https\n"
	    "SERVER_PORT=443 (default for the scheme)\n"
	    "removed (forwarded_after): HTTP_X_FORWARDED_FOR=\"203.0.113.7, "
	    "10.0.0.2\"\n"
	    "removed (forwarded_after): HTTP_X_FORWARDED_PROTO=\"https\"\n"
	    "forwarded_after = strip: HTTP_X_FORWARDED_FOR,"
	    "HTTP_X_FORWARDED_PROTO removed\n");
	/* Quiet mode writes nothing for a clean request. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=10.0.0.5\n"
	    "HTTP_X_FORWARDED_FOR=203.0.113.7\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_STRING_EQUAL(trail, "");
	/* A tiny trail buffer truncates, never overruns. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=10.0.0.5\n"
	    "HTTP_X_FORWARDED_FOR=203.0.113.7\n");
	norm_trail_init(&t, trail, 16, 1);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_EQUAL(strlen(trail), 15);
	params_free(p);
	cfg_free(c);
}

/* What the daemon counts (SPEC §6.1) is reported as structure. */
static void
test_normalize_report(void)
{
	struct cfg		*c = cfg_app_text(TRUST
	    " host_headers = [ \"HTTP_X_FORWARDED_HOST\" ];"
	    " uri_header = \"HTTP_X_FORWARDED_URI\";");
	struct params		*p = params_new(65536);
	struct norm_trail	 t;
	char			 trail[1024], a[ADDR_STRLEN];

	params_from_text(p, "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/i.php\n"
	    "HTTP_X_FORWARDED_FOR=203.0.113.7\nHTTP_X_FORWARDED_PROTO=https\n"
	    "HTTP_X_FORWARDED_HOST=shop.example\nHTTP_X_FORWARDED_URI=/m\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t), NORM_OK);
	CU_ASSERT_EQUAL(t.t_done, NORM_R_TRUSTED | NORM_R_PEER | NORM_R_ADDR |
	    NORM_R_SCHEME | NORM_R_HOST | NORM_R_PREFIX);
	CU_ASSERT_EQUAL(t.t_nlen, 0);
	/* Trusted, nothing forwarded: trusted only. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=10.0.0.5\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_EQUAL(t.t_done, NORM_R_TRUSTED | NORM_R_PEER);
	/* Untrusted with forwarded params: the peer and the names. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=192.0.2.66\n"
	    "HTTP_X_FORWARDED_FOR=6.6.6.6\nHTTP_CLIENT_IP=6.6.6.6\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_EQUAL(t.t_done, NORM_R_PEER);
	addr_format(&t.t_peer, a);
	CU_ASSERT_STRING_EQUAL(a, "192.0.2.66");
	CU_ASSERT_STRING_EQUAL(t.t_names,
	    "HTTP_X_FORWARDED_FOR,HTTP_CLIENT_IP");
	CU_ASSERT_EQUAL(t.t_nlen, strlen(t.t_names));
	/* More names than fit: whole names only. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=192.0.2.66\n"
	    "HTTP_X_FORWARDED_FOR=1\nHTTP_X_FORWARDED_HOST=1\n"
	    "HTTP_X_FORWARDED_PROTO=1\nHTTP_X_FORWARDED_PORT=1\n"
	    "HTTP_X_FORWARDED_PREFIX=1\nHTTP_X_FORWARDED_SERVER=1\n"
	    "HTTP_X_FORWARDED_SCHEME=1\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_STRING_EQUAL(t.t_names, "HTTP_X_FORWARDED_FOR,"
	    "HTTP_X_FORWARDED_HOST,HTTP_X_FORWARDED_PROTO,"
	    "HTTP_X_FORWARDED_PORT,HTTP_X_FORWARDED_PREFIX");
	/* A peer that is no address: nothing. */
	params_reset(p);
	params_from_text(p, "REMOTE_ADDR=unix:\n");
	norm_trail_init(&t, trail, sizeof(trail), 0);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	CU_ASSERT_EQUAL(t.t_done, 0);
	params_free(p);
	cfg_free(c);
}

/* php-fpm reads "HTTPS=x" up to '=': such a name is refused. */
static void
test_normalize_equals_in_name(void)
{
	struct cfg		*c = cfg_app_text(TRUST);
	struct params		*p = params_new(4096);
	struct norm_trail	 t;

	params_append(p, PARAMS_STR("REMOTE_ADDR"), "10.0.0.5", 8);
	params_append(p, PARAMS_STR("HTTPS=on"), "x", 1);
	norm_trail_init(&t, NULL, 0, 0);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t),
	    NORM_BAD_REQUEST);
	params_reset(p);
	params_append(p, PARAMS_STR("REMOTE_ADDR"), "10.0.0.5", 8);
	params_append(p, "HTTPS\0x", 7, "on", 2);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t),
	    NORM_BAD_REQUEST);
	params_reset(p);
	params_append(p, PARAMS_STR("REMOTE_ADDR"), "10.0.0.5", 8);
	params_append(p, PARAMS_STR("X"), "o\0n", 3);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t),
	    NORM_BAD_REQUEST);
	params_free(p);
	cfg_free(c);
}

/*
 * The name check word by word (SWAR) must say what the byte rule says:
 * every byte value at every place of names 1 to 20 bytes long.
 */
static void
test_normalize_name_bytes(void)
{
	struct cfg		*c = cfg_app_text(TRUST);
	struct params		*p = params_new(4096);
	struct norm_trail	 t;
	char			 name[24];
	size_t			 len, at;
	unsigned		 b, bad = 0;
	int			 want, got;

	norm_trail_init(&t, NULL, 0, 0);
	for (len = 1; len <= 20; len++)
		for (at = 0; at < len; at++)
			for (b = 0; b < 256; b++) {
				memset(name, 'A', len);
				name[at] = (char)b;
				params_reset(p);
				params_append(p, PARAMS_STR("REMOTE_ADDR"),
				    "10.0.0.5", 8);
				params_append(p, name, len, "v", 1);
				want = b < 0x20 || b == 0x7f || b == '=';
				got = norm_run(&c->c_apps[0].a_policy, p, &t) ==
				    NORM_BAD_REQUEST;
				bad += want != got;
			}
	/* Names of mixed bytes (words with several hits, borrows). */
	srand(7);
	for (at = 0; at < 100000; at++) {
		static const uint8_t pick[] = { 0x00, 0x1f, 0x20, 0x21, 0x3c,
		    0x3d, 0x3e, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xff, 'A', 'z' };

		len = 1 + (size_t)rand() % 24;
		want = 0;
		for (b = 0; b < len; b++) {
			name[b] = (char)(rand() % 3 ? pick[rand() %
			    (int)sizeof(pick)] : rand() % 256);
			want |= (uint8_t)name[b] < 0x20 ||
			    (uint8_t)name[b] == 0x7f || name[b] == '=';
		}
		params_reset(p);
		params_append(p, PARAMS_STR("REMOTE_ADDR"), "10.0.0.5", 8);
		params_append(p, name, len, "v", 1);
		got = norm_run(&c->c_apps[0].a_policy, p, &t) ==
		    NORM_BAD_REQUEST;
		bad += want != got;
	}
	CU_ASSERT_EQUAL(bad, 0);
	params_free(p);
	cfg_free(c);
}

/* 64 hops examined at most: the rightmost 64. */
static void
test_normalize_64_hops(void)
{
	struct cfg		*c = cfg_app_text(TRUST);
	struct params		*p = params_new(65536);
	struct norm_trail	 t;
	char			 xff[4096], trail[16384];
	size_t			 i, o = 0;

	o += (size_t)snprintf(xff, sizeof(xff), "6.6.6.6");
	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(xff + o, sizeof(xff) - o, ", 10.0.%zu.1",
		    i);
	params_append(p, PARAMS_STR("REMOTE_ADDR"), "10.0.0.5", 8);
	params_append(p, PARAMS_STR("HTTP_X_FORWARDED_FOR"), xff, o);
	norm_trail_init(&t, trail, sizeof(trail), 1);
	norm_run(&c->c_apps[0].a_policy, p, &t);
	/* 6.6.6.6 is beyond the window: the leftmost examined hop wins. */
	CU_ASSERT(strstr(params_to_text(p), "REMOTE_ADDR=10.0.36.1\n") != NULL);
	CU_ASSERT(strstr(trail, "only the rightmost 64 examined") != NULL);
	params_free(p);
	cfg_free(c);
}

/* The arena running out while rewriting is 431, never an overrun. */
static void
test_normalize_full_arena(void)
{
	struct cfg		*c = cfg_app_text(TRUST
	    "uri_header = \"HTTP_X_FORWARDED_URI\";");
	struct params		*p = params_new(300);
	struct norm_trail	 t;

	params_from_text(p, "REMOTE_ADDR=10.0.0.5\nSCRIPT_NAME=/index.php\n"
	    "REQUEST_URI=/index.php\nHTTP_X_FORWARDED_FOR=6.6.6.6\n"
	    "HTTP_X_FORWARDED_URI=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	norm_trail_init(&t, NULL, 0, 0);
	CU_ASSERT_EQUAL(norm_run(&c->c_apps[0].a_policy, p, &t), NORM_FULL);
	params_free(p);
	cfg_free(c);
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

/* ns per policy run, n runs, the request restored by copying the arena. */
static double
one_round(const struct norm_policy *pol, struct params *p,
    const struct params *tpl, size_t n)
{
	struct norm_trail	t;
	double			t0;
	size_t			i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		params_reset(p);
		memcpy(p->p_buf, tpl->p_buf, tpl->p_used);
		memcpy(p->p_buf + p->p_cap - tpl->p_count *
		    sizeof(struct param), tpl->p_buf + tpl->p_cap -
		    tpl->p_count * sizeof(struct param), tpl->p_count *
		    sizeof(struct param));
		p->p_used = tpl->p_used;
		p->p_count = p->p_live = tpl->p_count;
		norm_trail_init(&t, NULL, 0, 0);
		norm_run(pol, p, &t);
	}
	return ((now_ns() - t0) / (double)n);
}

/* SPEC §8: a typical request (30 params, 3-hop XFF) and 10k CIDRs. */
static void
test_normalize_speed(void)
{
	char		 body[400000], in[8192];
	size_t		 o, i, n = 200000;
	struct cfg	*c;
	struct params	*p = params_new(65536), *tpl;
	double		 ns = 0, best = 0;
	int		 round;

	o = (size_t)snprintf(body, sizeof(body), "trusted_proxies = [ ");
	for (i = 0; i < 10000; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s\"%zu.%zu"
		    ".0.0/16\"", i ? ", " : "", 11 + i / 250, i % 250);
	snprintf(body + o, sizeof(body) - o, " ];");
	c = cfg_app_text(body);
	o = 0;
	for (i = 0; i < 26; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o,
		    "PARAM_%02zu=some typical value of a param %zu\n", i, i);
	snprintf(in + o, sizeof(in) - o, "REMOTE_ADDR=11.1.2.3\n"
	    "HTTP_X_FORWARDED_FOR=203.0.113.7, 12.3.4.5, 13.4.5.6\n"
	    "HTTP_X_FORWARDED_PROTO=https\nHTTP_X_FORWARDED_HOST=example.com\n");
	/* Time the policy alone: restore the request by copying the arena. */
	tpl = params_new(65536);
	params_from_text(tpl, in);
	/*
	 * The fastest of 3 rounds: the box is shared (other builds, e2e
	 * runs), and a scheduler hiccup is not the policy's cost.
	 */
	for (round = 0; round < 3; round++) {
		ns = one_round(&c->c_apps[0].a_policy, p, tpl, n / 3);
		if (round == 0 || ns < best)
			best = ns;
	}
	ns = best;
	params_free(tpl);
	CU_ASSERT(strstr(params_to_text(p), "REMOTE_ADDR=203.0.113.7") != NULL);
	printf("\n    normalize: %.0f ns per request (30 params, 3 hops, "
	    "10,000 CIDRs)\n", ns);
	CU_ASSERT(ns < 20000.0);	/* sanity bound; make bench measures */
	params_free(p);
	cfg_free(c);
}

void
suite_normalize(void)
{
	CU_pSuite	s = CU_add_suite("normalize", NULL, NULL);

	ADD_TEST(s, "normalize: every rule of SPEC §4, trusted and untrusted",
	    test_normalize_spec_rules);
	ADD_TEST(s, "normalize: the trail as text, quiet and truncated",
	    test_normalize_trail_text);
	ADD_TEST(s, "normalize: trusted, rewrites, peer and names reported",
	    test_normalize_report);
	ADD_TEST(s, "normalize: NUL or '=' in a name, NUL in a value: 400",
	    test_normalize_equals_in_name);
	ADD_TEST(s, "normalize: name bytes, every value at every place",
	    test_normalize_name_bytes);
	ADD_TEST(s, "normalize: at most the rightmost 64 hops",
	    test_normalize_64_hops);
	ADD_TEST(s, "normalize: arena full while rewriting is 431",
	    test_normalize_full_arena);
	ADD_TEST(s, "normalize: speed with 10,000 trusted CIDRs",
	    test_normalize_speed);
}
