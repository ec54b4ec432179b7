#include <arpa/inet.h>

#include <string.h>

#include "proto/addr.h"
#include "tests/unit/util.h"

struct hop_case {
	const char	*in;
	int		 ok;
	const char	*canon;
	int		 port;
};

static const struct hop_case hop_cases[] = {
	{ "192.0.2.1", 1, "192.0.2.1", -1 },
	{ "192.0.2.1:8080", 1, "192.0.2.1", 8080 },
	{ "192.0.2.1:65535", 1, "192.0.2.1", 65535 },
	{ "192.0.2.1:65536", 0, NULL, -1 },
	{ "192.0.2.1:0", 0, NULL, -1 },
	{ "192.0.2.1:", 0, NULL, -1 },
	{ "192.0.2.1:080", 0, NULL, -1 },
	{ "2001:db8::1", 1, "2001:db8::1", -1 },
	{ "2001:DB8:0:0:0:0:0:1", 1, "2001:db8::1", -1 },
	{ "[2001:db8::1]", 1, "2001:db8::1", -1 },
	{ "[2001:db8::1]:443", 1, "2001:db8::1", 443 },
	{ "[2001:db8::1]443", 0, NULL, -1 },
	{ "[2001:db8::1", 0, NULL, -1 },
	{ "[192.0.2.1]", 1, "192.0.2.1", -1 },
	{ "::ffff:192.0.2.1", 1, "192.0.2.1", -1 },
	{ "[::ffff:192.0.2.1]:81", 1, "192.0.2.1", 81 },
	{ "::1", 1, "::1", -1 },
	{ "fe80::1%eth0", 0, NULL, -1 },
	{ "256.1.1.1", 0, NULL, -1 },
	{ "1.2.3", 0, NULL, -1 },
	{ "01.2.3.4", 0, NULL, -1 },
	{ "1.2.3.4 ", 0, NULL, -1 },
	{ "unknown", 0, NULL, -1 },
	{ "_hidden", 0, NULL, -1 },
	{ "", 0, NULL, -1 },
	{ "example.com", 0, NULL, -1 },
	{ "1.2.3.4:80:80", 0, NULL, -1 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", 0, NULL, -1 },
};

static void
test_addr_hops(void)
{
	struct addr	a;
	char		buf[ADDR_STRLEN];
	size_t		i;
	int		port;

	for (i = 0; i < sizeof(hop_cases) / sizeof(hop_cases[0]); i++) {
		const struct hop_case *c = &hop_cases[i];
		const char *in = (const char *)guarded_copy(c->in,
		    strlen(c->in));
		int ok = addr_parse_hop(in, strlen(c->in), &a, &port) == 0;

		CU_ASSERT_EQUAL(ok, c->ok);
		if (ok != c->ok)
			fprintf(stderr, "\naddr case \"%s\"\n", c->in);
		CU_ASSERT_EQUAL(port, c->port);
		if (ok && c->canon) {
			addr_format(&a, buf);
			CU_ASSERT_STRING_EQUAL(buf, c->canon);
		}
	}
}

/* IPv4 is formatted by hand: the same text as inet_ntop, every octet. */
static void
test_addr_format_v4(void)
{
	struct addr	a;
	char		buf[ADDR_STRLEN], ref[ADDR_STRLEN];
	int		v;

	memset(&a, 0, sizeof(a));
	a.a_family = ADDR_V4;
	for (v = 0; v < 256; v++) {
		a.a_bytes[0] = (uint8_t)v;
		a.a_bytes[1] = (uint8_t)(255 - v);
		a.a_bytes[2] = (uint8_t)(v / 2);
		a.a_bytes[3] = (uint8_t)(v * 7);
		inet_ntop(AF_INET, a.a_bytes, ref, sizeof(ref));
		CU_ASSERT_EQUAL(addr_format(&a, buf), strlen(ref));
		CU_ASSERT_STRING_EQUAL(buf, ref);
	}
}

static void
test_addr_nul_and_length(void)
{
	struct addr	a;

	CU_ASSERT_EQUAL(addr_parse("1.2.3.4\0", 8, &a), -1);
	CU_ASSERT_EQUAL(addr_parse("1.2\0.3.4", 8, &a), -1);
	CU_ASSERT_EQUAL(addr_parse("0000:0000:0000:0000:0000:0000:0000:0000:1",
	    41, &a), -1);
	CU_ASSERT_EQUAL(addr_parse("1.2.3.4", 7, &a), 0);
	CU_ASSERT_EQUAL(a.a_family, ADDR_V4);
}

static void
test_addr_equal_folds_mapped(void)
{
	struct addr	a, b;

	CU_ASSERT_EQUAL(addr_parse(PARAMS_STR("::ffff:10.0.0.1"), &a), 0);
	CU_ASSERT_EQUAL(addr_parse(PARAMS_STR("10.0.0.1"), &b), 0);
	CU_ASSERT(addr_equal(&a, &b));
	CU_ASSERT_EQUAL(addr_parse(PARAMS_STR("::a00:1"), &a), 0);
	CU_ASSERT(!addr_equal(&a, &b));
	/* Raw socket bytes fold the same way. */
	addr_set(&a, ADDR_V6, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\x01");
	CU_ASSERT(addr_equal(&a, &b));
	addr_set(&a, ADDR_V4, "\x0a\0\0\x01");
	CU_ASSERT(addr_equal(&a, &b));
}

static void
test_addr_port(void)
{
	CU_ASSERT_EQUAL(addr_parse_port("1", 1), 1);
	CU_ASSERT_EQUAL(addr_parse_port("65535", 5), 65535);
	CU_ASSERT_EQUAL(addr_parse_port("65536", 5), -1);
	CU_ASSERT_EQUAL(addr_parse_port("99999", 5), -1);
	CU_ASSERT_EQUAL(addr_parse_port("123456", 6), -1);
	CU_ASSERT_EQUAL(addr_parse_port("+80", 3), -1);
	CU_ASSERT_EQUAL(addr_parse_port("", 0), -1);
	CU_ASSERT_EQUAL(addr_parse_port("0", 1), -1);
}

void
suite_addr(void)
{
	CU_pSuite	s = CU_add_suite("addr", NULL, NULL);

	ADD_TEST(s, "addr: hop forms, ports, brackets, mapped, garbage",
	    test_addr_hops);
	ADD_TEST(s, "addr: NUL bytes and over-long input", 
	    test_addr_nul_and_length);
	ADD_TEST(s, "addr: v4-mapped IPv6 equals IPv4",
	    test_addr_equal_folds_mapped);
	ADD_TEST(s, "addr: port 1-65535 only", test_addr_port);
	ADD_TEST(s, "addr: IPv4 text as inet_ntop's, every octet",
	    test_addr_format_v4);
}
