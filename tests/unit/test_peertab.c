/* proto/peertab: the untrusted peers of the "full" status view (§6.1). */
#include <stdio.h>
#include <string.h>

#include "proto/peertab.h"
#include "tests/unit/util.h"

#define XFF	"HTTP_X_FORWARDED_FOR"

static struct addr
peer(const char *s)
{
	struct addr	a;

	if (addr_parse(s, strlen(s), &a) == -1)
		abort();
	return (a);
}

static void
note(struct peertab *pt, const char *p, const char *names, uint64_t now)
{
	struct addr	a = peer(p);

	peertab_note(pt, &a, names, strlen(names), now);
}

static void
note_clean(struct peertab *pt, const char *p, uint64_t now)
{
	struct addr	a = peer(p);

	peertab_note_clean(pt, &a, now);
}

static const char *
net_of(const struct peertab_row *r)
{
	static char	buf[CIDR_STRLEN];

	cidr_format(&r->pr_net, buf);
	return (buf);
}

static const struct peertab_row *
find(const struct peertab *pt, const char *p)
{
	struct addr	a = peer(p);

	return (peertab_find(pt, &a));
}

struct fold_case {
	const char	*in;
	const char	*net;
};

static const struct fold_case fold_cases[] = {
	{ "192.0.2.77", "192.0.2.0/24" },
	{ "192.0.2.0", "192.0.2.0/24" },
	{ "192.0.2.255", "192.0.2.0/24" },
	{ "10.1.2.3", "10.1.2.0/24" },
	{ "127.0.0.1", "127.0.0.1/32" },
	{ "127.0.0.2", "127.0.0.2/32" },
	{ "::ffff:198.51.100.9", "198.51.100.0/24" },
	{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
	{ "2001:db8:1:2::", "2001:db8:1:2::/64" },
	{ "2001:db8::1", "2001:db8::/64" },
	{ "fd00:1:2:3:ffff:ffff:ffff:ffff", "fd00:1:2:3::/64" },
	{ "::1", "::1/128" },
	{ "::2", "::/64" },
	{ "::", "::/64" },
};

static void
test_peertab_fold(void)
{
	struct cidr	net;
	char		buf[CIDR_STRLEN];
	size_t		i;

	for (i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
		const struct fold_case *c = &fold_cases[i];
		struct addr a = peer(c->in);

		CU_ASSERT_EQUAL(peertab_fold(&a, &net), 0);
		cidr_format(&net, buf);
		CU_ASSERT_STRING_EQUAL(buf, c->net);
		if (strcmp(buf, c->net) != 0)
			fprintf(stderr, "\npeertab fold \"%s\": got %s\n",
			    c->in, buf);
	}
}

/*
 * A v4-mapped address built by hand (not through addr_set) still folds
 * to its IPv4 /24, and so shares a row with the plain IPv4 peer.
 */
static void
test_peertab_fold_v4mapped_raw(void)
{
	struct peertab	pt;
	struct addr	a, zero;
	struct cidr	net;
	char		buf[CIDR_STRLEN];
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff,
	    [12] = 192, [13] = 0, [14] = 2, [15] = 9 };

	memset(&pt, 0, sizeof(pt));
	memset(&a, 0, sizeof(a));
	a.a_family = ADDR_V6;
	memcpy(a.a_bytes, mapped, 16);
	CU_ASSERT_EQUAL(peertab_fold(&a, &net), 0);
	cidr_format(&net, buf);
	CU_ASSERT_STRING_EQUAL(buf, "192.0.2.0/24");
	peertab_note(&pt, &a, XFF, strlen(XFF), 1);
	note(&pt, "192.0.2.200", XFF, 2);
	CU_ASSERT_EQUAL(peertab_count(&pt), 1);
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_count, 2);

	/* Zero-filled (a unix socket peer): no row, no crash. */
	memset(&zero, 0, sizeof(zero));
	CU_ASSERT_EQUAL(peertab_fold(&zero, &net), -1);
	peertab_note(&pt, &zero, XFF, strlen(XFF), 3);
	peertab_note_clean(&pt, &zero, 3);
	CU_ASSERT_EQUAL(peertab_count(&pt), 1);
	CU_ASSERT_PTR_NULL(peertab_find(&pt, &zero));
}

/* Fill the table, touch the oldest, add one more: the second goes. */
static void
test_peertab_evicts_least_recent(void)
{
	struct peertab	pt;
	char		ip[32];
	int		i;

	memset(&pt, 0, sizeof(pt));
	for (i = 0; i < PEERTAB_ROWS; i++) {
		snprintf(ip, sizeof(ip), "198.51.%d.1", i);
		note(&pt, ip, XFF, 100 + (uint64_t)i);
	}
	CU_ASSERT_EQUAL(peertab_count(&pt), PEERTAB_ROWS);
	CU_ASSERT_EQUAL(pt.pt_evicted, 0);
	note(&pt, "198.51.0.2", XFF, 200);		/* row 0 is fresh */
	note(&pt, "203.0.113.5", XFF, 201);		/* evicts 198.51.1.0 */
	CU_ASSERT_EQUAL(peertab_count(&pt), PEERTAB_ROWS);
	CU_ASSERT_EQUAL(pt.pt_evicted, 1);
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "198.51.0.9"));
	CU_ASSERT_PTR_NULL(find(&pt, "198.51.1.1"));
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "198.51.2.1"));
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "203.0.113.5"));
	/* The new row starts from zero. */
	CU_ASSERT_EQUAL(find(&pt, "203.0.113.5")->pr_count, 1);
	note(&pt, "203.0.114.5", XFF, 202);		/* evicts 198.51.2.0 */
	CU_ASSERT_PTR_NULL(find(&pt, "198.51.2.1"));
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "198.51.3.1"));
}

/*
 * Within one second of the caller's clock the order of the notes
 * decides, and clean requests do not keep a row alive.
 */
static void
test_peertab_evicts_in_note_order(void)
{
	struct peertab	pt;
	char		ip[32];
	int		i;

	memset(&pt, 0, sizeof(pt));
	for (i = 0; i < PEERTAB_ROWS; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:0:%x::1", i);
		note(&pt, ip, XFF, 50);
	}
	for (i = 0; i < 100; i++)
		note_clean(&pt, "2001:db8::7", 50);
	note(&pt, "2001:db8:ffff::1", XFF, 50);
	CU_ASSERT_PTR_NULL(find(&pt, "2001:db8::1"));
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "2001:db8:0:1::1"));
	CU_ASSERT_PTR_NOT_NULL(find(&pt, "2001:db8:ffff::2"));
}

/* Most recently seen first. */
static void
test_peertab_sorted(void)
{
	struct peertab			 pt;
	const struct peertab_row	*rows[PEERTAB_ROWS];
	size_t				 n;

	memset(&pt, 0, sizeof(pt));
	CU_ASSERT_EQUAL(peertab_sorted(&pt, rows, PEERTAB_ROWS), 0);
	note(&pt, "192.0.2.1", XFF, 10);
	note(&pt, "198.51.100.1", XFF, 11);
	note(&pt, "203.0.113.1", XFF, 12);
	note(&pt, "192.0.2.2", XFF, 13);
	n = peertab_sorted(&pt, rows, PEERTAB_ROWS);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(net_of(rows[0]), "192.0.2.0/24");
	CU_ASSERT_STRING_EQUAL(net_of(rows[1]), "203.0.113.0/24");
	CU_ASSERT_STRING_EQUAL(net_of(rows[2]), "198.51.100.0/24");
	CU_ASSERT_EQUAL(rows[0]->pr_last, 13);
	/* The capacity is respected. */
	CU_ASSERT_EQUAL(peertab_sorted(&pt, rows, 2), 2);
	CU_ASSERT_STRING_EQUAL(net_of(rows[1]), "203.0.113.0/24");
}

/* A clean request counts only for a net already in the table. */
static void
test_peertab_clean(void)
{
	struct peertab	pt;

	memset(&pt, 0, sizeof(pt));
	note_clean(&pt, "192.0.2.1", 1);
	CU_ASSERT_EQUAL(peertab_count(&pt), 0);
	note(&pt, "192.0.2.1", XFF, 2);
	note_clean(&pt, "192.0.2.99", 3);
	note_clean(&pt, "192.0.2.1", 4);
	note_clean(&pt, "192.0.3.1", 5);
	CU_ASSERT_EQUAL(peertab_count(&pt), 1);
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_clean, 2);
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_count, 1);
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_last, 2);
}

struct names_case {
	const char	*name;
	const char	*notes[6];	/* names argument of each note */
	const char	*want;
	int		 lost;
};

#define N40A	"HTTP_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define N40B	"HTTP_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define N40C	"HTTP_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
#define N40D	"HTTP_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
#define N127	N40A N40B N40C "1234567"	/* one name of 127 bytes */
#define N128	N127 "Y"

static const struct names_case names_cases[] = {
	{ "one name", { XFF }, XFF, 0 },
	{ "a list in one note", { XFF ",HTTP_X_FORWARDED_PROTO" },
	    XFF ",HTTP_X_FORWARDED_PROTO", 0 },
	{ "the same name twice is kept once",
	    { XFF, XFF ",HTTP_FORWARDED", "HTTP_FORWARDED," XFF },
	    XFF ",HTTP_FORWARDED", 0 },
	{ "duplicates inside one note", { XFF "," XFF "," XFF }, XFF, 0 },
	{ "a prefix of a name is another name",
	    { "HTTP_X_FORWARDED_FORX", XFF, "HTTP_X_FORWARDED_FO" },
	    "HTTP_X_FORWARDED_FORX," XFF ",HTTP_X_FORWARDED_FO", 0 },
	{ "empty names are skipped", { ",," XFF ",,", "", "," }, XFF, 0 },
	{ "unprintable or quoting names are left out",
	    { "HTTP_A\"B", "HTTP_A B", "HTTP_\n", "HTTP_\xc3\xa9", XFF },
	    XFF, 1 },
	{ "three 40-byte names fit (122 bytes)", { N40A, N40B, N40C },
	    N40A "," N40B "," N40C, 0 },
	{ "a fourth does not, a 4-byte one fills the set to 127",
	    { N40A "," N40B "," N40C "," N40D ",HTTP" },
	    N40A "," N40B "," N40C ",HTTP", 1 },
	{ "5 bytes would make 128", { N40A "," N40B "," N40C, "HTTPS" },
	    N40A "," N40B "," N40C, 1 },
	{ "127 bytes fill the set exactly", { N127 }, N127, 0 },
	{ "128 bytes do not fit", { N128, XFF }, XFF, 1 },
	{ "nothing fits after a full set", { N127, "A" }, N127, 1 },
};

static void
test_peertab_names(void)
{
	struct peertab	pt;
	size_t		i, j;

	for (i = 0; i < sizeof(names_cases) / sizeof(names_cases[0]); i++) {
		const struct names_case *c = &names_cases[i];
		const struct peertab_row *r;

		memset(&pt, 0, sizeof(pt));
		for (j = 0; j < 6 && c->notes[j] != NULL; j++)
			note(&pt, "192.0.2.1", c->notes[j], j);
		r = find(&pt, "192.0.2.1");
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_TRUE(strlen(r->pr_names) < PEERTAB_NAMES);
		CU_ASSERT_STRING_EQUAL(r->pr_names, c->want);
		CU_ASSERT_EQUAL(r->pr_names_lost, c->lost);
		if (strcmp(r->pr_names, c->want) != 0 ||
		    r->pr_names_lost != c->lost)
			fprintf(stderr, "\npeertab names \"%s\": got \"%s\" "
			    "lost %d\n", c->name, r->pr_names,
			    r->pr_names_lost);
	}
}

/*
 * The names argument is a length, not a C string: bytes past nameslen
 * are never read (the input ends at a PROT_NONE page).
 */
static void
test_peertab_names_bounded_input(void)
{
	static const char	in[] = XFF ",HTTP_X_FORWARDED_PROTO";
	struct peertab		pt;
	struct addr		a = peer("192.0.2.1");
	const char		*g;

	memset(&pt, 0, sizeof(pt));
	g = (const char *)guarded_copy(in, strlen(in));
	peertab_note(&pt, &a, g, strlen(in), 1);
	g = (const char *)guarded_copy(in, strlen(XFF) - 1);
	peertab_note(&pt, &a, g, strlen(XFF) - 1, 2);
	CU_ASSERT_STRING_EQUAL(pt.pt_rows[0].pr_names,
	    XFF ",HTTP_X_FORWARDED_PROTO,HTTP_X_FORWARDED_FO");
	/* The truncated note did not carry X-Forwarded-For. */
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_xff, 1);
	CU_ASSERT_EQUAL(pt.pt_rows[0].pr_count, 2);
}

struct hint_case {
	const char	*name;
	const char	*peer;
	int		 n;		/* notes with names */
	const char	*names;
	int		 nother;	/* then notes without XFF */
	int		 nclean;
	int		 want;
};

static const struct hint_case hint_cases[] = {
	{ "10/8 load balancer", "10.0.0.5", 10, XFF, 0, 0, 1 },
	{ "XFF among other names", "10.0.0.5", 50,
	    XFF ",HTTP_X_FORWARDED_PROTO,HTTP_X_FORWARDED_HOST", 0, 0, 1 },
	{ "172.16/12 low end", "172.16.0.1", 10, XFF, 0, 0, 1 },
	{ "172.16/12 high end", "172.31.255.1", 10, XFF, 0, 0, 1 },
	{ "192.168/16", "192.168.1.1", 10, XFF, 0, 0, 1 },
	{ "127/8", "127.0.0.2", 10, XFF, 0, 0, 1 },
	{ "fc00::/7 (fd)", "fd12:3456::1", 10, XFF, 0, 0, 1 },
	{ "fc00::/7 (fc)", "fc00::1", 10, XFF, 0, 0, 1 },
	{ "::1", "::1", 10, XFF, 0, 0, 1 },
	{ "v4-mapped 10/8", "::ffff:10.1.1.1", 12, XFF, 0, 0, 1 },
	{ "9 requests are too few", "10.0.0.5", 9, XFF, 0, 0, 0 },
	{ "a request without forwarded params", "10.0.0.5", 20, XFF, 0, 1,
	    0 },
	{ "one request without XFF", "10.0.0.5", 20, XFF, 1, 0, 0 },
	{ "never XFF", "10.0.0.5", 20, "HTTP_X_FORWARDED_PROTO", 0, 0, 0 },
	{ "public IPv4: a client forging", "203.0.113.9", 100, XFF, 0, 0, 0 },
	{ "172.32 is public", "172.32.0.1", 10, XFF, 0, 0, 0 },
	{ "172.15 is public", "172.15.255.1", 10, XFF, 0, 0, 0 },
	{ "192.169 is public", "192.169.0.1", 10, XFF, 0, 0, 0 },
	{ "11/8 is public", "11.0.0.1", 10, XFF, 0, 0, 0 },
	{ "public IPv6", "2001:db8::1", 10, XFF, 0, 0, 0 },
	{ "fe00:: is not fc00::/7", "fe00::1", 10, XFF, 0, 0, 0 },
	{ "link-local is not private here", "fe80::1", 10, XFF, 0, 0, 0 },
	{ "::2 is not loopback", "::2", 10, XFF, 0, 0, 0 },
};

static void
test_peertab_hint(void)
{
	struct peertab	pt;
	size_t		i;
	int		j, got;

	for (i = 0; i < sizeof(hint_cases) / sizeof(hint_cases[0]); i++) {
		const struct hint_case *c = &hint_cases[i];

		memset(&pt, 0, sizeof(pt));
		for (j = 0; j < c->n; j++)
			note(&pt, c->peer, c->names, (uint64_t)j);
		for (j = 0; j < c->nother; j++)
			note(&pt, c->peer, "HTTP_X_REAL_IP", (uint64_t)j);
		for (j = 0; j < c->nclean; j++)
			note_clean(&pt, c->peer, (uint64_t)j);
		CU_ASSERT_EQUAL_FATAL(peertab_count(&pt), 1);
		got = peertab_hint(&pt.pt_rows[0]);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			fprintf(stderr, "\npeertab hint \"%s\": got %d\n",
			    c->name, got);
	}
}

/* SPEC §6.2: two workers' tables as one. */
static void
test_peertab_merge(void)
{
	struct peertab			a, b;
	const struct peertab_row	*r;
	int				i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	note(&a, "10.1.2.3", XFF, 5);
	note(&a, "192.0.2.1", "HTTP_X_REAL_IP", 6);
	note(&b, "10.1.2.9", "HTTP_X_FORWARDED_PROTO", 9);
	note(&b, "10.1.2.9", XFF, 9);
	note_clean(&b, "10.1.2.4", 10);
	peertab_merge(&a, &b);
	CU_ASSERT_EQUAL(peertab_count(&a), 2);
	r = &a.pt_rows[0];
	CU_ASSERT_STRING_EQUAL(net_of(r), "10.1.2.0/24");
	CU_ASSERT_EQUAL(r->pr_count, 3);
	CU_ASSERT_EQUAL(r->pr_xff, 2);
	CU_ASSERT_EQUAL(r->pr_clean, 1);
	CU_ASSERT_EQUAL(r->pr_last, 9);
	CU_ASSERT_STRING_EQUAL(r->pr_names,
	    XFF ",HTTP_X_FORWARDED_PROTO");
	/* Full: 40 nets from b into a full a keep 32 rows. */
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 40; i++) {
		char	p[32];

		snprintf(p, sizeof(p), "10.%d.0.1", i + 10);
		note(&b, p, XFF, (uint64_t)i);
	}
	peertab_merge(&a, &b);
	CU_ASSERT_EQUAL(peertab_count(&a), PEERTAB_ROWS);
	/* The newest of b are kept. */
	{
		struct addr	x = peer("10.49.0.1");

		CU_ASSERT_PTR_NOT_NULL(peertab_find(&a, &x));
	}
}

/*
 * 10,000 notes from random peers of a small space (so rows are both hit
 * and evicted): never more than 32 rows, never two rows for one net, the
 * peer just noted always has its row, counts add up.
 */
static void
test_peertab_random_bounded(void)
{
	struct peertab	pt;
	struct addr	a;
	uint32_t	x = 2463534242u;
	uint64_t	total;
	size_t		i, j, k, bad = 0;

	memset(&pt, 0, sizeof(pt));
	for (i = 0; i < 10000; i++) {
		uint8_t b[16] = { 0 };

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (x & 1) {
			b[0] = 10, b[1] = (uint8_t)(x >> 8), b[2] = x >> 16 & 7;
			b[3] = (uint8_t)(x >> 24);
			addr_set(&a, ADDR_V4, b);
		} else {
			b[0] = 0xfd, b[7] = x >> 8 & 15;
			b[15] = (uint8_t)(x >> 24);
			addr_set(&a, ADDR_V6, b);
		}
		if (x & 2)
			peertab_note_clean(&pt, &a, i);
		else
			peertab_note(&pt, &a, XFF, strlen(XFF), i / 3);
		if (peertab_count(&pt) > PEERTAB_ROWS ||
		    (!(x & 2) && peertab_find(&pt, &a) == NULL))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(peertab_count(&pt), PEERTAB_ROWS);
	CU_ASSERT_TRUE(pt.pt_evicted > 0);
	total = 0;
	for (j = 0; j < pt.pt_n; j++) {
		total += pt.pt_rows[j].pr_count;
		for (k = j + 1; k < pt.pt_n; k++)
			CU_ASSERT_FALSE(pt.pt_rows[j].pr_net.c_plen ==
			    pt.pt_rows[k].pr_net.c_plen &&
			    addr_equal(&pt.pt_rows[j].pr_net.c_addr,
			    &pt.pt_rows[k].pr_net.c_addr));
	}
	CU_ASSERT_TRUE(total + pt.pt_evicted <= pt.pt_seq);
}

void
suite_peertab(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("peertab", NULL, NULL)) == NULL)
		abort();
	ADD_TEST(s, "peertab: peers fold to /24, /64, loopback to one host",
	    test_peertab_fold);
	ADD_TEST(s, "peertab: a raw v4-mapped peer shares the IPv4 row",
	    test_peertab_fold_v4mapped_raw);
	ADD_TEST(s, "peertab: a full table evicts the least recently seen",
	    test_peertab_evicts_least_recent);
	ADD_TEST(s, "peertab: eviction follows note order within a second",
	    test_peertab_evicts_in_note_order);
	ADD_TEST(s, "peertab: rows sorted most recent first",
	    test_peertab_sorted);
	ADD_TEST(s, "peertab: clean requests count only for known nets",
	    test_peertab_clean);
	ADD_TEST(s, "peertab: header names, deduplicated and bounded",
	    test_peertab_names);
	ADD_TEST(s, "peertab: names are read within nameslen only",
	    test_peertab_names_bounded_input);
	ADD_TEST(s, "peertab: two tables merged, bounded",
	    test_peertab_merge);
	ADD_TEST(s, "peertab: load balancer hint yes and no",
	    test_peertab_hint);
	ADD_TEST(s, "peertab: 10,000 random notes stay within 32 rows",
	    test_peertab_random_bounded);
}
