#include <stdio.h>
#include <string.h>

#include "proto/proxyproto.h"
#include "tests/unit/util.h"

/* The kept TLVs as text: " ssl=1 authority=x unique_id=y refused". */
static const char *
tlvs(const struct pp_result *r)
{
	static char	t[512];
	int		n = 0;

	t[0] = '\0';
	if (r->r_ssl != -1)
		n += snprintf(t + n, sizeof(t) - (size_t)n, " ssl=%d",
		    r->r_ssl);
	if (r->r_authority_len > 0)
		n += snprintf(t + n, sizeof(t) - (size_t)n, " authority=%.*s",
		    (int)r->r_authority_len, (const char *)r->r_authority);
	if (r->r_unique_id_len > 0)
		n += snprintf(t + n, sizeof(t) - (size_t)n, " unique_id=%.*s",
		    (int)r->r_unique_id_len, (const char *)r->r_unique_id);
	if (r->r_tlv_refused)
		snprintf(t + n, sizeof(t) - (size_t)n, " refused");
	return (t);
}

static const char *
run(const void *in, size_t len, size_t step)
{
	static char		out[256];
	struct pp_dec		d;
	struct pp_result	r;
	enum pp_status		st = PP_MORE;
	size_t			off = 0, n, used;
	char			a[ADDR_STRLEN], b[ADDR_STRLEN];
	const uint8_t		*piece;

	memset(&d, 0, sizeof(d));
	while (off < len) {
		n = step && step < len - off ? step : len - off;
		piece = guarded_copy((const uint8_t *)in + off, n);
		st = pp_dec_feed(&d, piece, n, &used, &r);
		off += used;
		if (st != PP_MORE)
			break;
	}
	if (st == PP_OK && !r.r_local) {
		addr_format(&r.r_src, a);
		addr_format(&r.r_dst, b);
		snprintf(out, sizeof(out), "ok %s:%d -> %s:%d used %zu%s", a,
		    r.r_src_port, b, r.r_dst_port, off, tlvs(&r));
	} else if (st == PP_OK) {
		snprintf(out, sizeof(out), "local used %zu", off);
	} else {
		snprintf(out, sizeof(out), "%s", pp_strerror(st));
	}
	return (out);
}

#define SIG "\r\n\r\n\0\r\nQUIT\n"
#define V4ADDR	"\xc0\x00\x02\x01" "\xc0\x00\x02\x02" "\x1f\x90\x01\xbb"

struct pp_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;
};

#define S(x)	x, sizeof(x) - 1
static const struct pp_case cases[] = {
	{ "v1 TCP4", S("PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\nGET"),
	  "ok 192.0.2.1:56324 -> 192.0.2.2:443 used 42" },
	{ "v1 TCP6", S("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"),
	  "ok 2001:db8::1:1 -> 2001:db8::2:65535 used 44" },
	{ "v1 UNKNOWN", S("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"),
	  "local used 35" },
	{ "v1 TCP4 with IPv6", S("PROXY TCP4 ::1 ::1 1 2\r\n"),
	  "malformed PROXY v1 header" },
	{ "v1 bad port", S("PROXY TCP4 1.2.3.4 1.2.3.4 0 2\r\n"),
	  "malformed PROXY v1 header" },
	{ "v1 double space", S("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n"),
	  "malformed PROXY v1 header" },
	{ "v1 extra field", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n"),
	  "malformed PROXY v1 header" },
	{ "v1 bare LF", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxx"), "PROXY v1 header longer than 107 bytes" },
	{ "not PROXY", S("GET / HTTP/1.1\r\n"), "no PROXY protocol header" },
	{ "FastCGI instead", S("\x01\x01\x00\x01"), "no PROXY protocol header" },
	{ "v2 TCP4", S(SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x01"
	  "\xc0\x00\x02\x02" "\x1f\x90\x01\xbb" "rest"),
	  "ok 192.0.2.1:8080 -> 192.0.2.2:443 used 28" },
	{ "v2 TCP6 with a TLV", S(SIG "\x21\x21\x00\x28"
	  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" "\x00\x50\x01\xbb"
	  "\x04\x00\x01\x00"), "ok 2001:db8::1:80 -> 2001:db8::2:443 used 56" },
	{ "v2 TCP6 v4-mapped folds to IPv4", S(SIG "\x21\x21\x00\x24"
	  "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x07"
	  "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x08" "\x00\x50\x01\xbb"),
	  "ok 192.0.2.7:80 -> 192.0.2.8:443 used 52" },
	{ "v2 LOCAL", S(SIG "\x20\x00\x00\x00"), "local used 16" },
	{ "v2 version 1", S(SIG "\x11\x11\x00\x0c"), "PROXY v2 version not 2" },
	{ "v2 command 2", S(SIG "\x22\x11\x00\x0c"),
	  "PROXY v2 command not LOCAL or PROXY" },
	{ "v2 unix family", S(SIG "\x21\x31\x00\x00"),
	  "PROXY v2 address family not supported" },
	{ "v2 short for IPv4", S(SIG "\x21\x11\x00\x04" "\x01\x02\x03\x04"),
	  "PROXY v2 length too short" },
	/* SPEC §5.3: TLVs checked, SSL/AUTHORITY/UNIQUE_ID kept. */
	{ "v2 SSL, AUTHORITY, UNIQUE_ID and an unknown TLV kept/skipped",
	  S(SIG "\x21\x11\x00\x3b" V4ADDR
	  "\x20\x00\x0a" "\x01" "\x00\x00\x00\x00" "\x21\x00\x02" "h2"
	  "\x02\x00\x0f" "shop.example.:8"
	  "\xe0\x00\x02" "zz"
	  "\x05\x00\x05" "id-42"
	  "\x04\x00\x00" "tail"),
	  "ok 192.0.2.1:8080 -> 192.0.2.2:443 used 75 ssl=1 "
	  "authority=shop.example.:8 unique_id=id-42" },
	{ "v2 SSL TLV without the client bit", S(SIG "\x21\x11\x00\x14" V4ADDR
	  "\x20\x00\x05" "\x00" "\x00\x00\x00\x00"),
	  "ok 192.0.2.1:8080 -> 192.0.2.2:443 used 36 ssl=0" },
	{ "v2 AUTHORITY with a space is refused", S(SIG "\x21\x11\x00\x12"
	  V4ADDR "\x02\x00\x03" "a b"),
	  "ok 192.0.2.1:8080 -> 192.0.2.2:443 used 34 refused" },
	{ "v2 TLV header cut short by the header end", S(SIG
	  "\x21\x11\x00\x0e" V4ADDR "\x02\x00" "more"),
	  "PROXY v2 TLV runs past the header" },
	{ "v2 TLV value runs past the header end", S(SIG "\x21\x11\x00\x11"
	  V4ADDR "\x02\x00\x05" "ab" "cdefgh"),
	  "PROXY v2 TLV runs past the header" },
	{ "v2 SSL TLV shorter than its fixed part", S(SIG "\x21\x11\x00\x10"
	  V4ADDR "\x20\x00\x01" "\x01"), "PROXY v2 TLV runs past the header" },
	{ "v2 LOCAL with bytes after: skipped", S(SIG "\x20\x00\x00\x03"
	  "\xff\xff\xff" "GET"), "local used 19" },
	{ NULL, NULL, 0, NULL },
};

static void
test_proxyproto_table_any_split(void)
{
	const struct pp_case	*k;
	char			 whole[256];
	size_t			 step, i;
	int			 bad = 0;

	for (k = cases; k->name != NULL; k++) {
		snprintf(whole, sizeof(whole), "%s", run(k->in, k->len, 0));
		if (strcmp(whole, k->want) != 0) {
			fprintf(stderr, "\npp case %s: %s\n", k->name, whole);
			bad++;
		}
		for (step = 1; step < k->len; step++)
			if (strcmp(run(k->in, k->len, step), whole) != 0) {
				fprintf(stderr, "\npp case %s step %zu: %s\n",
				    k->name, step, run(k->in, k->len, step));
				bad++;
				break;
			}
		/* Every proper prefix of a valid header needs more. */
		if (strncmp(k->want, "ok", 2) == 0)
			for (i = 0; i + 1 < k->len && i < 20; i++)
				if (strcmp(run(k->in, i, 0), "need more input"))
					bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* v1 is at most 107 bytes with its CRLF: 107 passes, 108 does not. */
static void
test_proxyproto_v1_max_length(void)
{
	char	line[120];

	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 105, "\r\n", 2);
	CU_ASSERT_STRING_EQUAL(run(line, 107, 0), "local used 107");
	CU_ASSERT_STRING_EQUAL(run(line, 107, 1), "local used 107");
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 106, "\r\n", 2);
	CU_ASSERT_STRING_EQUAL(run(line, 108, 0),
	    "PROXY v1 header longer than 107 bytes");
}

/* v2 with 60,000 bytes of TLVs: checked and skipped, never stored. */
static void
test_proxyproto_v2_large_tlvs(void)
{
	static uint8_t	in[60100];
	size_t		n = 16 + 12 + 60000, i;

	memcpy(in, SIG "\x21\x11", 14);
	in[14] = (uint8_t)((n - 16) >> 8);
	in[15] = (uint8_t)(n - 16);
	memcpy(in + 16, "\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x01\x00\x02",
	    12);
	/* 60 PP2_TYPE_NOOP TLVs of 1,000 bytes each. */
	memset(in + 28, 0xee, 60000);
	for (i = 0; i < 60; i++)
		memcpy(in + 28 + i * 1000, "\x04\x03\xe5", 3);
	CU_ASSERT_STRING_EQUAL(run(in, n + 5, 0),
	    "ok 10.0.0.1:1 -> 10.0.0.2:2 used 60028");
	CU_ASSERT_STRING_EQUAL(run(in, n, 7),
	    "ok 10.0.0.1:1 -> 10.0.0.2:2 used 60028");
	/* The last TLV one byte too long: it runs past the header. */
	in[28 + 59 * 1000 + 2] = 0xe6;
	CU_ASSERT_STRING_EQUAL(run(in, n + 5, 0),
	    "PROXY v2 TLV runs past the header");
}

/*
 * SPEC §4.10: the SSL TLV's client bits, verify and CN sub-TLV always;
 * the certificate sub-TLV (0x28) only into a buffer given for it, byte
 * by byte as well as whole.
 */
static void
test_proxyproto_v2_ssl_cert(void)
{
	static const uint8_t	 der[300] = { 0x30, 0x82, 0x01, 0x28 };
	static uint8_t		 in[1024], buf[2048];
	struct pp_dec		 d;
	struct pp_result	 r;
	enum pp_status		 st = PP_MORE;
	size_t			 n = 28, ssl, used, off, step;

	memcpy(in, SIG "\x21\x11", 14);
	memcpy(in + 16, "\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x01\x00\x02",
	    12);
	ssl = 5 + 3 + 5 + 3 + sizeof(der);
	in[n++] = 0x20;
	in[n++] = (uint8_t)(ssl >> 8);
	in[n++] = (uint8_t)ssl;
	memcpy(in + n, "\x05\x00\x00\x00\x00", 5);		/* CONN | SSL */
	memcpy(in + n + 5, "\x22\x00\x05" "alice", 8);
	memcpy(in + n + 13, "\x28\x01\x2c", 3);
	memcpy(in + n + 16, der, sizeof(der));
	n += ssl;
	in[14] = (uint8_t)((n - 16) >> 8);
	in[15] = (uint8_t)(n - 16);
	for (step = 1; step <= n; step += n - 1) {
		memset(&d, 0, sizeof(d));
		pp_dec_ssl_buffer(&d, buf, sizeof(buf));
		for (off = 0; off < n && st != PP_OK; off += used)
			st = pp_dec_feed(&d, in + off, n - off < step ?
			    n - off : step, &used, &r);
		CU_ASSERT_EQUAL(st, PP_OK);
		CU_ASSERT_EQUAL(r.r_ssl, 1);
		CU_ASSERT_EQUAL(r.r_ssl_client, 5);
		CU_ASSERT_EQUAL(r.r_ssl_verify, 0);
		CU_ASSERT_EQUAL(r.r_ssl_cn_len, 5);
		CU_ASSERT_EQUAL(memcmp(r.r_ssl_cn, "alice", 5), 0);
		CU_ASSERT_EQUAL(r.r_ssl_cert_len, sizeof(der));
		CU_ASSERT(r.r_ssl_cert != NULL &&
		    memcmp(r.r_ssl_cert, der, sizeof(der)) == 0);
		st = PP_MORE;
	}
	/* No buffer: the CN (within the first bytes) but no certificate. */
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(pp_dec_feed(&d, in, n, &used, &r), PP_OK);
	CU_ASSERT_EQUAL(r.r_ssl_cn_len, 5);
	CU_ASSERT_PTR_NULL(r.r_ssl_cert);
	/* A buffer too small for the whole value: no certificate. */
	memset(&d, 0, sizeof(d));
	pp_dec_ssl_buffer(&d, buf, 100);
	CU_ASSERT_EQUAL(pp_dec_feed(&d, in, n, &used, &r), PP_OK);
	CU_ASSERT_EQUAL(r.r_ssl_cn_len, 5);
	CU_ASSERT_PTR_NULL(r.r_ssl_cert);
}

void
suite_proxyproto(void)
{
	CU_pSuite	s = CU_add_suite("proxyproto", NULL, NULL);

	ADD_TEST(s, "proxyproto: v1/v2 fields and every status, any split",
	    test_proxyproto_table_any_split);
	ADD_TEST(s, "proxyproto: v1 at 107 bytes passes, 108 fails",
	    test_proxyproto_v1_max_length);
	ADD_TEST(s, "proxyproto: 60,000 bytes of v2 TLVs checked, not stored",
	    test_proxyproto_v2_large_tlvs);
	ADD_TEST(s, "proxyproto: SSL TLV bits, CN and certificate sub-TLVs",
	    test_proxyproto_v2_ssl_cert);
}
