#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/cidr.h"
#include "tests/unit/util.h"

struct cidr_case {
	const char		*in;
	enum cidr_status	 st;
	const char		*canon;
};

static const struct cidr_case cidr_cases[] = {
	{ "10.0.0.0/8", CIDR_OK, "10.0.0.0/8" },
	{ "10.1.2.3", CIDR_OK, "10.1.2.3/32" },
	{ "0.0.0.0/0", CIDR_OK, "0.0.0.0/0" },
	{ "::/0", CIDR_OK, "::/0" },
	{ "::1", CIDR_OK, "::1/128" },
	{ "2001:db8::/32", CIDR_OK, "2001:db8::/32" },
	{ "::ffff:10.0.0.0/104", CIDR_OK, "10.0.0.0/8" },
	{ "::ffff:10.0.0.0/95", CIDR_ERR_PREFIX, NULL },
	{ "10.0.0.1/8", CIDR_ERR_HOSTBITS, "10.0.0.0/8" },
	{ "2001:db8::1/32", CIDR_ERR_HOSTBITS, "2001:db8::/32" },
	{ "10.0.0.0/33", CIDR_ERR_PREFIX, NULL },
	{ "10.0.0.0/", CIDR_ERR_PREFIX, NULL },
	{ "10.0.0.0/08", CIDR_ERR_PREFIX, NULL },
	{ "10.0.0.0/-1", CIDR_ERR_PREFIX, NULL },
	{ "::/129", CIDR_ERR_PREFIX, NULL },
	{ "::/1000", CIDR_ERR_PREFIX, NULL },
	{ "192.168.*.*/16", CIDR_ERR_ADDR, NULL },
	{ "lb.example.com", CIDR_ERR_ADDR, NULL },
	{ "", CIDR_ERR_ADDR, NULL },
};

static void
test_cidr_parse(void)
{
	struct cidr	c;
	char		buf[CIDR_STRLEN];
	size_t		i;

	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		const struct cidr_case *k = &cidr_cases[i];
		enum cidr_status st = cidr_parse(k->in, strlen(k->in), &c);

		CU_ASSERT_EQUAL(st, k->st);
		if (st != k->st)
			fprintf(stderr, "\ncidr case \"%s\": %d\n", k->in, st);
		if (k->canon != NULL) {
			cidr_format(&c, buf);
			CU_ASSERT_STRING_EQUAL(buf, k->canon);
		}
	}
}

static const char *
match(const struct cidr_set *s, const char *ip)
{
	static char		 buf[CIDR_STRLEN];
	const struct cidr	*m;
	struct addr		 a;

	if (addr_parse(ip, strlen(ip), &a) != 0)
		return ("bad");
	if ((m = cidr_set_match(s, &a)) == NULL)
		return ("none");
	cidr_format(m, buf);
	return (buf);
}

static struct cidr_set *
mkset(const char *const *v)
{
	struct cidr	c[64];
	size_t		n;

	for (n = 0; v[n] != NULL; n++)
		CU_ASSERT_EQUAL_FATAL(cidr_parse(v[n], strlen(v[n]), &c[n]),
		    CIDR_OK);
	return (cidr_set_new(c, n));
}

static void
test_cidr_set_nested(void)
{
	static const char *const v[] = {
		"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.3.0.0/16",
		"192.168.1.1", "10.1.0.0/16", "2001:db8::/32",
		"2001:db8:1::/48", "::1", NULL,
	};
	struct cidr_set	*s = mkset(v);

	CU_ASSERT_EQUAL(cidr_set_count(s), 8);	/* one duplicate */
	CU_ASSERT_STRING_EQUAL(match(s, "10.1.2.3"), "10.1.2.0/24");
	CU_ASSERT_STRING_EQUAL(match(s, "10.1.3.3"), "10.1.0.0/16");
	/* Past a nested block, the enclosing one still matches. */
	CU_ASSERT_STRING_EQUAL(match(s, "10.2.0.1"), "10.0.0.0/8");
	CU_ASSERT_STRING_EQUAL(match(s, "10.255.255.255"), "10.0.0.0/8");
	CU_ASSERT_STRING_EQUAL(match(s, "11.0.0.0"), "none");
	CU_ASSERT_STRING_EQUAL(match(s, "9.255.255.255"), "none");
	CU_ASSERT_STRING_EQUAL(match(s, "192.168.1.1"), "192.168.1.1/32");
	CU_ASSERT_STRING_EQUAL(match(s, "192.168.1.2"), "none");
	CU_ASSERT_STRING_EQUAL(match(s, "::ffff:10.1.2.3"), "10.1.2.0/24");
	CU_ASSERT_STRING_EQUAL(match(s, "2001:db8:1::5"), "2001:db8:1::/48");
	CU_ASSERT_STRING_EQUAL(match(s, "2001:db8:2::5"), "2001:db8::/32");
	CU_ASSERT_STRING_EQUAL(match(s, "::1"), "::1/128");
	CU_ASSERT_STRING_EQUAL(match(s, "::2"), "none");
	cidr_set_free(s);
}

static void
test_cidr_set_families_apart(void)
{
	static const char *const v6all[] = { "::/0", NULL };
	static const char *const v4all[] = { "0.0.0.0/0", NULL };
	struct cidr_set	*s = mkset(v6all), *t = mkset(v4all), *e;

	/* nginx semantics: ::/0 does not trust IPv4 peers. */
	CU_ASSERT_STRING_EQUAL(match(s, "1.2.3.4"), "none");
	CU_ASSERT_STRING_EQUAL(match(s, "ffff::1"), "::/0");
	CU_ASSERT_STRING_EQUAL(match(t, "255.255.255.255"), "0.0.0.0/0");
	CU_ASSERT_STRING_EQUAL(match(t, "::1"), "none");
	e = cidr_set_new(NULL, 0);
	CU_ASSERT_STRING_EQUAL(match(e, "1.2.3.4"), "none");
	cidr_set_free(s);
	cidr_set_free(t);
	cidr_set_free(e);
}

/* The set must agree with a linear scan on random sets and addresses. */
static void
test_cidr_set_matches_linear_scan(void)
{
	struct cidr	 c[500];
	struct cidr_set	*s;
	struct addr	 a;
	size_t		 i, j, n = 0;
	unsigned	 seed = 12345, best;
	const struct cidr *m, *want;

	for (i = 0; i < 500; i++) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].c_addr.a_family = ADDR_V4;
		c[n].c_addr.a_bytes[0] = 10;
		c[n].c_addr.a_bytes[1] = (uint8_t)(rand_r(&seed) % 4);
		c[n].c_addr.a_bytes[2] = (uint8_t)(rand_r(&seed) % 4);
		c[n].c_addr.a_bytes[3] = (uint8_t)(rand_r(&seed) % 4);
		c[n].c_plen = (uint8_t)(8 + rand_r(&seed) % 25);
		/* Mask host bits. */
		for (j = c[n].c_plen; j < 32; j++)
			c[n].c_addr.a_bytes[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
		n++;
	}
	s = cidr_set_new(c, n);
	for (i = 0; i < 5000; i++) {
		memset(&a, 0, sizeof(a));
		a.a_family = ADDR_V4;
		a.a_bytes[0] = (uint8_t)(9 + rand_r(&seed) % 3);
		a.a_bytes[1] = (uint8_t)(rand_r(&seed) % 5);
		a.a_bytes[2] = (uint8_t)(rand_r(&seed) % 5);
		a.a_bytes[3] = (uint8_t)(rand_r(&seed) % 5);
		want = NULL;
		best = 0;
		for (j = 0; j < n; j++)
			if (cidr_contains(&c[j], &a) &&
			    (want == NULL || c[j].c_plen > best)) {
				want = &c[j];
				best = c[j].c_plen;
			}
		m = cidr_set_match(s, &a);
		CU_ASSERT_EQUAL(m == NULL, want == NULL);
		if (m != NULL && want != NULL)
			CU_ASSERT_EQUAL(m->c_plen, want->c_plen);
	}
	cidr_set_free(s);
}

/* SPEC §8: 10,000 CIDRs, lookup by prefix, not a scan. */
static void
test_cidr_set_10k_is_fast(void)
{
	struct cidr	*c = calloc(10000, sizeof(*c));
	struct cidr_set	*s;
	struct addr	 a;
	struct timespec	 t0, t1;
	size_t		 i;
	volatile int	 hits = 0;
	double		 ns;

	for (i = 0; i < 10000; i++) {
		c[i].c_addr.a_family = ADDR_V4;
		c[i].c_addr.a_bytes[0] = (uint8_t)(1 + i / 250);
		c[i].c_addr.a_bytes[1] = (uint8_t)(i % 250);
		c[i].c_plen = 16;
	}
	s = cidr_set_new(c, 10000);
	CU_ASSERT_EQUAL(cidr_set_count(s), 10000);
	memset(&a, 0, sizeof(a));
	a.a_family = ADDR_V4;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 1000000; i++) {
		a.a_bytes[0] = (uint8_t)(i % 50);
		a.a_bytes[1] = (uint8_t)(i % 251);
		hits += cidr_set_match(s, &a) != NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6;
	printf("\n    cidr: 10,000 blocks, %.0f ns per lookup\n", ns);
	CU_ASSERT(ns < 2000.0);	/* generous: sanitizers, noisy machine */
	CU_ASSERT(hits > 0);
	cidr_set_free(s);
	free(c);
}

void
suite_cidr(void)
{
	CU_pSuite	s = CU_add_suite("cidr", NULL, NULL);

	ADD_TEST(s, "cidr: parse forms and every error status",
	    test_cidr_parse);
	ADD_TEST(s, "cidr: nested blocks give the innermost match",
	    test_cidr_set_nested);
	ADD_TEST(s, "cidr: IPv4 and IPv6 sets are apart",
	    test_cidr_set_families_apart);
	ADD_TEST(s, "cidr: set agrees with a linear scan (random)",
	    test_cidr_set_matches_linear_scan);
	ADD_TEST(s, "cidr: 10,000 blocks stay fast",
	    test_cidr_set_10k_is_fast);
}
