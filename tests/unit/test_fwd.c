#include <stdio.h>
#include <string.h>

#include "proto/fwd.h"
#include "tests/unit/util.h"

/* Render hops as "text|addr|port;" for comparison. */
static const char *
render(const struct fwd_hop *h, size_t n, size_t total)
{
	static char	buf[4096];
	char		a[ADDR_STRLEN];
	size_t		i, o;

	o = (size_t)snprintf(buf, sizeof(buf), "%zu:", total);
	for (i = 0; i < n && o < sizeof(buf) - 200; i++) {
		if (h[i].h_isaddr)
			addr_format(&h[i].h_addr, a);
		else
			strcpy(a, h[i].h_malformed ? "!" : "-");
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s|%s|%d",
		    i ? ";" : "", (int)h[i].h_text.len, h[i].h_text.s, a,
		    h[i].h_port);
	}
	return (buf);
}

struct list_case {
	const char	*in;
	const char	*want;
};

static const struct list_case xff_cases[] = {
	{ "203.0.113.7", "1:203.0.113.7|203.0.113.7|-1" },
	/* nginx $proxy_add_x_forwarded_for */
	{ "203.0.113.7, 10.0.0.2",
	    "2:203.0.113.7|203.0.113.7|-1;10.0.0.2|10.0.0.2|-1" },
	/* HAProxy option forwardfor, AWS ALB: no space, ports */
	{ "203.0.113.7,10.0.0.2:1234",
	    "2:203.0.113.7|203.0.113.7|-1;10.0.0.2:1234|10.0.0.2|1234" },
	{ " a , , b ,", "2:a|-|-1;b|-|-1" },
	{ "[2001:db8::1]:80,\t2001:db8::2",
	    "2:[2001:db8::1]:80|2001:db8::1|80;2001:db8::2|2001:db8::2|-1" },
	{ "", "0:" },
	{ ",,,", "0:" },
	{ "unknown, 1.2.3.4", "2:unknown|-|-1;1.2.3.4|1.2.3.4|-1" },
};

static void
test_fwd_xff(void)
{
	struct fwd_hop	h[FWD_MAX_HOPS];
	size_t		i, n, total;

	for (i = 0; i < sizeof(xff_cases) / sizeof(xff_cases[0]); i++) {
		const char *in = (const char *)guarded_copy(xff_cases[i].in,
		    strlen(xff_cases[i].in));

		n = fwd_xff_parse(in, strlen(xff_cases[i].in), h,
		    FWD_MAX_HOPS, &total);
		CU_ASSERT_STRING_EQUAL(render(h, n, total), xff_cases[i].want);
	}
}

static void
test_fwd_xff_keeps_rightmost_64(void)
{
	char		buf[4096];
	struct fwd_hop	h[FWD_MAX_HOPS];
	size_t		i, n, total, o = 0;

	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s10.0.%zu.1",
		    i ? ", " : "", i);
	n = fwd_xff_parse(buf, o, h, FWD_MAX_HOPS, &total);
	CU_ASSERT_EQUAL(n, 64);
	CU_ASSERT_EQUAL(total, 100);
	CU_ASSERT_EQUAL(h[0].h_index, 36);
	CU_ASSERT_EQUAL(strncmp(h[0].h_text.s, "10.0.36.1", 9), 0);
	CU_ASSERT_EQUAL(h[63].h_index, 99);
}

static const struct list_case fwd_cases[] = {
	/* RFC 7239 §7.1 examples */
	{ "for=\"_gazonk\"", "1:_gazonk|-|-1" },
	{ "For=\"[2001:db8:cafe::17]:4711\"",
	    "1:[2001:db8:cafe::17]:4711|2001:db8:cafe::17|4711" },
	{ "for=192.0.2.60;proto=http;by=203.0.113.43",
	    "1:192.0.2.60|192.0.2.60|-1" },
	{ "for=192.0.2.43, for=198.51.100.17",
	    "2:192.0.2.43|192.0.2.43|-1;198.51.100.17|198.51.100.17|-1" },
	{ "for=unknown", "1:unknown|-|-1" },
	/* common mistakes still read */
	{ "for=[2001:db8::1]", "1:[2001:db8::1]|2001:db8::1|-1" },
	{ "for=1.2.3.4; proto=https", "1:1.2.3.4|1.2.3.4|-1" },
	/* a comma inside a quoted string does not split */
	{ "for=\"1.2.3.4\";host=\"a,b\", for=5.6.7.8",
	    "2:1.2.3.4|1.2.3.4|-1;5.6.7.8|5.6.7.8|-1" },
	/* broken elements are hops that are not addresses */
	{ "for=\"1.2.3.4", "1:for=\"1.2.3.4|!|-1" },
	{ "for", "1:for|!|-1" },
	{ "for=1.2.3.4;for=5.6.7.8", "1:for=1.2.3.4;for=5.6.7.8|!|-1" },
	{ "for=", "1:for=|!|-1" },
	{ "for=1.2.3.4 junk", "1:for=1.2.3.4 junk|!|-1" },
	{ "by=1.2.3.4", "1:by=1.2.3.4|-|-1" },
};

static void
test_fwd_forwarded(void)
{
	struct fwd_hop	h[FWD_MAX_HOPS];
	size_t		i, n, total;

	for (i = 0; i < sizeof(fwd_cases) / sizeof(fwd_cases[0]); i++) {
		const char *in = (const char *)guarded_copy(fwd_cases[i].in,
		    strlen(fwd_cases[i].in));

		n = fwd_forwarded_parse(in, strlen(fwd_cases[i].in), h,
		    FWD_MAX_HOPS, &total);
		CU_ASSERT_STRING_EQUAL(render(h, n, total), fwd_cases[i].want);
		if (strcmp(render(h, n, total), fwd_cases[i].want) != 0)
			fprintf(stderr, "\nforwarded \"%s\": %s\n",
			    fwd_cases[i].in, render(h, n, total));
	}
}

static void
test_fwd_forwarded_pairs(void)
{
	struct fwd_hop	h[4];
	size_t		n, total;
	const char	*in = "for=1.1.1.1;proto=http, for=2.2.2.2;"
	    "Proto=HTTPS;host=\"example.com:8443\"";

	n = fwd_forwarded_parse(in, strlen(in), h, 4, &total);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(h[0].h_proto.len, 4);
	CU_ASSERT_EQUAL(h[1].h_proto.len, 5);
	CU_ASSERT_EQUAL(strncmp(h[1].h_host.s, "example.com:8443", 16), 0);
	CU_ASSERT_EQUAL(h[0].h_host.len, 0);
	CU_ASSERT(h[1].h_hasfor && h[1].h_index == 1);
}

struct host_case {
	const char	*in;
	int		 ok;
	int		 port;
};

static void
test_fwd_host(void)
{
	static const struct host_case cases[] = {
		{ "example.com", 1, -1 },
		{ "Example.COM:8443", 1, 8443 },
		{ "a_b.example", 1, -1 },
		{ "192.0.2.1:80", 1, 80 },
		{ "[2001:db8::1]", 1, -1 },
		{ "[2001:db8::1]:443", 1, 443 },
		{ "[2001:db8::1]x", 0, -1 },
		{ "[nope]", 0, -1 },
		{ "2001:db8::1", 0, -1 },
		{ "example.com:0", 0, -1 },
		{ "example.com:99999", 0, -1 },
		{ "example.com:", 0, -1 },
		{ "exa mple.com", 0, -1 },
		{ "example.com/evil", 0, -1 },
		{ "evil.com\r\nX: y", 0, -1 },
		{ "a..b", 0, -1 },
		{ ".a", 0, -1 },
		{ "a.", 1, -1 },
		{ "shop.example.", 1, -1 },
		{ "shop.example.:8443", 1, 8443 },
		{ "shop.example..", 0, -1 },
		{ ".", 0, -1 },
		{ "[::1].", 0, -1 },
		{ "", 0, -1 },
		{ "user@example.com", 0, -1 },
	};
	char	long_label[80], long_name[300];
	size_t	i;
	int	port;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = (const char *)guarded_copy(cases[i].in,
		    strlen(cases[i].in));

		CU_ASSERT_EQUAL(fwd_host_check(in, strlen(cases[i].in),
		    &port) == 0, cases[i].ok);
		CU_ASSERT_EQUAL(port, cases[i].port);
	}
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CU_ASSERT_EQUAL(fwd_host_check(long_label, 64, &port), -1);
	CU_ASSERT_EQUAL(fwd_host_check(long_label, 63, &port), 0);
	for (i = 0; i < 254; i++)
		long_name[i] = i % 2 ? '.' : 'a';
	long_name[255] = '\0';
	CU_ASSERT_EQUAL(fwd_host_check(long_name, 253, &port), 0);
	/* 253 and a trailing dot is the absolute form; 255 is too long. */
	CU_ASSERT_EQUAL(fwd_host_check(long_name, 254, &port), 0);
	long_name[254] = 'a';
	CU_ASSERT_EQUAL(fwd_host_check(long_name, 255, &port), -1);
}

struct prefix_case {
	const char		*in;
	enum fwd_prefix		 st;
	size_t			 len;
};

static void
test_fwd_prefix(void)
{
	static const struct prefix_case cases[] = {
		{ "/matomo", FWD_PREFIX_OK, 7 },
		{ "/matomo/", FWD_PREFIX_OK, 7 },
		{ "/a/b-c_d.e/~f%20g", FWD_PREFIX_OK, 17 },
		{ "/", FWD_PREFIX_ROOT, 0 },
		{ "", FWD_PREFIX_BAD, 0 },
		{ "matomo", FWD_PREFIX_BAD, 0 },
		{ "/a/../b", FWD_PREFIX_BAD, 0 },
		{ "/a/..", FWD_PREFIX_BAD, 0 },
		{ "/./a", FWD_PREFIX_BAD, 0 },
		{ "/a/%2e%2E/b", FWD_PREFIX_BAD, 0 },
		{ "/a/...", FWD_PREFIX_OK, 6 },
		{ "/a//b", FWD_PREFIX_BAD, 0 },
		{ "//a", FWD_PREFIX_BAD, 0 },
		{ "/a?x", FWD_PREFIX_BAD, 0 },
		{ "/a#x", FWD_PREFIX_BAD, 0 },
		{ "/a%00", FWD_PREFIX_BAD, 0 },
		{ "/a b", FWD_PREFIX_BAD, 0 },
		{ "/a\tb", FWD_PREFIX_BAD, 0 },
		{ "/a\x7f", FWD_PREFIX_BAD, 0 },
		{ "/a\\b", FWD_PREFIX_BAD, 0 },
	};
	char		 big[1100];
	const char	*why;
	size_t		 i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = (const char *)guarded_copy(cases[i].in,
		    strlen(cases[i].in));

		CU_ASSERT_EQUAL(fwd_prefix_check(in, strlen(cases[i].in),
		    &len, &why), cases[i].st);
		CU_ASSERT_EQUAL(len, cases[i].len);
		CU_ASSERT_EQUAL(why != NULL, cases[i].st == FWD_PREFIX_BAD);
	}
	big[0] = '/';
	memset(big + 1, 'a', sizeof(big) - 1);
	CU_ASSERT_EQUAL(fwd_prefix_check(big, 1024, &len, &why),
	    FWD_PREFIX_OK);
	CU_ASSERT_EQUAL(fwd_prefix_check(big, 1025, &len, &why),
	    FWD_PREFIX_BAD);
}

static void
test_fwd_scheme(void)
{
	CU_ASSERT_EQUAL(fwd_scheme("https", 5), FWD_SCHEME_HTTPS);
	CU_ASSERT_EQUAL(fwd_scheme("HTTPS", 5), FWD_SCHEME_HTTPS);
	CU_ASSERT_EQUAL(fwd_scheme("On", 2), FWD_SCHEME_HTTPS);
	CU_ASSERT_EQUAL(fwd_scheme("http", 4), FWD_SCHEME_HTTP);
	CU_ASSERT_EQUAL(fwd_scheme("OFF", 3), FWD_SCHEME_HTTP);
	CU_ASSERT_EQUAL(fwd_scheme("ftp", 3), FWD_SCHEME_BAD);
	CU_ASSERT_EQUAL(fwd_scheme("https ", 6), FWD_SCHEME_BAD);
	CU_ASSERT_EQUAL(fwd_scheme("", 0), FWD_SCHEME_BAD);
	CU_ASSERT_EQUAL(fwd_scheme("https\0", 6), FWD_SCHEME_BAD);
}

void
suite_fwd(void)
{
	CU_pSuite	s = CU_add_suite("fwd", NULL, NULL);

	ADD_TEST(s, "fwd: X-Forwarded-For shapes (nginx, HAProxy, ALB)",
	    test_fwd_xff);
	ADD_TEST(s, "fwd: only the rightmost 64 hops are kept",
	    test_fwd_xff_keeps_rightmost_64);
	ADD_TEST(s, "fwd: RFC 7239 elements, quoting, broken elements",
	    test_fwd_forwarded);
	ADD_TEST(s, "fwd: RFC 7239 proto= and host= per element",
	    test_fwd_forwarded_pairs);
	ADD_TEST(s, "fwd: host validation", test_fwd_host);
	ADD_TEST(s, "fwd: path prefix validation", test_fwd_prefix);
	ADD_TEST(s, "fwd: scheme values", test_fwd_scheme);
}
