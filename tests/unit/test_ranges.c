/*
 * proto/ranges.c: the provenance header, the rules a fetched list must
 * pass (SPEC §3.4), the text format and the rendering of an installed
 * file.  Text inputs go through guarded_copy(), so reading past len
 * crashes even without ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ranges.h"
#include "tests/unit/util.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static int
meta(const char *text, struct ranges_meta *m)
{
	size_t	len = strlen(text);

	return (ranges_meta_parse((const char *)guarded_copy(text, len), len,
	    m));
}

static void
test_ranges_meta_full(void)
{
	struct ranges_meta	m;

	CU_ASSERT_EQUAL(meta("# provider: cloudflare\n"
	    "# source: https://www.cloudflare.com/ips-v4 "
	    "https://www.cloudflare.com/ips-v6\n"
	    "# fetched: 2026-12-07T12:00:00Z\n"
	    "# entries: 22\n"
	    "# sha256: 00\n"
	    "173.245.48.0/20\n", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "cloudflare");
	CU_ASSERT_EQUAL(m.rm_fetched, 1796644800);
	CU_ASSERT_EQUAL(m.rm_entries, 22);
}

static void
test_ranges_meta_absent(void)
{
	struct ranges_meta	m;

	/* A hand-written trusted_proxies_file: no provenance at all. */
	CU_ASSERT_EQUAL(meta("# our LBs\n10.1.0.0/16\n", &m), 0);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "");
	CU_ASSERT_EQUAL(m.rm_fetched, -1);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	CU_ASSERT_EQUAL(meta("", &m), 0);
	CU_ASSERT_EQUAL(m.rm_fetched, -1);
	CU_ASSERT_EQUAL(ranges_meta_parse(NULL, 0, &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	/* Only the leading run of '#' lines is the header. */
	CU_ASSERT_EQUAL(meta("10.1.0.0/16\n# provider: x\n", &m), 0);
	CU_ASSERT_EQUAL(meta("\n# provider: x\n", &m), 0);
	CU_ASSERT_EQUAL(meta(" # provider: x\n", &m), 0);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "");
	/* Provider found, nothing else. */
	CU_ASSERT_EQUAL(meta("# provider: fastly", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "fastly");
	CU_ASSERT_EQUAL(m.rm_fetched, -1);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	/* An empty value is still a provider line. */
	CU_ASSERT_EQUAL(meta("# provider:\n", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "");
}

static void
test_ranges_meta_lenient_layout(void)
{
	struct ranges_meta	m;

	/* CRLF, no space after '#', blanks around the value, no final
	 * newline, unknown keys and comments in between. */
	CU_ASSERT_EQUAL(meta("#provider:\tcloudfront  \r\n"
	    "# a note\r\n#\r\n# region: GLOBAL\r\n"
	    "#   fetched:   2024-02-29T23:59:59Z \r\n"
	    "# entries: 7", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "cloudfront");
	CU_ASSERT_EQUAL(m.rm_fetched, 1709251199);
	CU_ASSERT_EQUAL(m.rm_entries, 7);
	/* The first line of each key wins. */
	CU_ASSERT_EQUAL(meta("# provider: a\n# provider: b\n# entries: 1\n"
	    "# entries: 2\n", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "a");
	CU_ASSERT_EQUAL(m.rm_entries, 1);
	/* A key is matched up to its colon: "providerx:" is no provider. */
	CU_ASSERT_EQUAL(meta("# providerx: a\n", &m), 0);
}

static void
test_ranges_meta_bad_values(void)
{
	static const char *const bad_fetched[] = {
		"2026-12-07 12:00:00Z", "2026-12-07T12:00:00", "2026-12-07",
		"2026-12-07T12:00:00+00:00", "2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-12-07T24:00:00Z", "2026-12-07T12:60:00Z",
		"2026-12-07T12:00:60Z", "1969-12-31T23:59:59Z",
		"2026-12-0xT12:00:00Z", "+026-12-07T12:00:00Z", "",
		"2026-12-07T12:00:00Zjunk", "yesterday",
	};
	struct ranges_meta	m;
	char			text[128];
	size_t			i;

	for (i = 0; i < NITEMS(bad_fetched); i++) {
		snprintf(text, sizeof(text), "# provider: x\n# fetched: %s\n",
		    bad_fetched[i]);
		CU_ASSERT_EQUAL(meta(text, &m), 1);
		CU_ASSERT_EQUAL(m.rm_fetched, -1);
		if (m.rm_fetched != -1)
			fprintf(stderr, "\nfetched \"%s\" taken\n",
			    bad_fetched[i]);
	}
	CU_ASSERT_EQUAL(meta("# entries: -1\n", &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	CU_ASSERT_EQUAL(meta("# entries: 12a\n", &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	CU_ASSERT_EQUAL(meta("# entries: +3\n", &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	CU_ASSERT_EQUAL(meta("# entries: 99999999999999999999999\n", &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, -1);
	CU_ASSERT_EQUAL(meta("# entries: 0\n", &m), 0);
	CU_ASSERT_EQUAL(m.rm_entries, 0);
	/* A provider name longer than the field is cut, never overflows. */
	CU_ASSERT_EQUAL(meta("# provider: "
	    "abcdefghijklmnopqrstuvwxyz0123456789\n", &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider,
	    "abcdefghijklmnopqrstuvwxyz01234");
}

static void
test_ranges_meta_every_truncation(void)
{
	static const char	full[] = "# provider: cloudflare\n"
	    "# fetched: 2026-12-07T12:00:00Z\n# entries: 22\n";
	struct ranges_meta	m;
	size_t			len;

	/* Every prefix of a header parses within its length (the guard
	 * page is right after it); a cut value reads as absent or
	 * invalid, never as another value. */
	for (len = 0; len <= sizeof(full) - 1; len++) {
		ranges_meta_parse((const char *)guarded_copy(full, len), len,
		    &m);
		CU_ASSERT_TRUE(m.rm_fetched == -1 || m.rm_fetched ==
		    1796644800);
		CU_ASSERT_TRUE(m.rm_entries == -1 || m.rm_entries == 2 ||
		    m.rm_entries == 22);
	}
}

static void
test_ranges_time(void)
{
	static const struct {
		const char	*text;
		int64_t		 t;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-03-01T00:00:00Z", 951868800 },
		{ "2024-02-29T23:59:59Z", 1709251199 },
		{ "2026-12-07T12:00:00Z", 1796644800 },
		{ "9999-12-31T23:59:59Z", 253402300799LL },
	};
	char	buf[RANGES_TIMELEN];
	int64_t	t;
	size_t	i;

	for (i = 0; i < NITEMS(cases); i++) {
		CU_ASSERT_EQUAL(ranges_time_parse(cases[i].text,
		    strlen(cases[i].text)), cases[i].t);
		CU_ASSERT_STRING_EQUAL(ranges_time_format(cases[i].t, buf),
		    cases[i].text);
	}
	CU_ASSERT_STRING_EQUAL(ranges_time_format(-1, buf), "?");
	CU_ASSERT_STRING_EQUAL(ranges_time_format(253402300800LL, buf), "?");
	/* Every day of 1970-2100 and some seconds: format then parse. */
	for (t = 0; t < 4102444800LL; t += 86400 - 7) {
		ranges_time_format(t, buf);
		CU_ASSERT_EQUAL_FATAL(ranges_time_parse(buf, strlen(buf)), t);
	}
}

struct entry_case {
	const char		*in;
	enum ranges_status	 st;
	const char		*range;	/* the reserved range hit */
};

static const struct entry_case entry_cases[] = {
	{ "173.245.48.0/20", RANGES_OK, NULL },
	{ "2400:cb00::/32", RANGES_OK, NULL },
	{ "198.51.100.7", RANGES_OK, NULL },		/* a host, /32 */
	{ "2001:db8::/32", RANGES_OK, NULL },
	{ "1.0.0.0/8", RANGES_OK, NULL },
	{ "11.0.0.0/8", RANGES_OK, NULL },
	{ "100.128.0.0/10", RANGES_OK, NULL },
	{ "172.32.0.0/16", RANGES_OK, NULL },
	{ "192.169.0.0/16", RANGES_OK, NULL },
	{ "fec0::/10", RANGES_OK, NULL },
	{ "0.0.0.0/0", RANGES_ERR_ALL, NULL },
	{ "::/0", RANGES_ERR_ALL, NULL },
	{ "::ffff:0:0/96", RANGES_ERR_MAPPED, NULL },
	{ "::ffff:198.51.100.0/120", RANGES_ERR_MAPPED, NULL },
	{ "10.0.0.0/8", RANGES_ERR_RESERVED, "10.0.0.0/8" },
	{ "10.200.0.0/16", RANGES_ERR_RESERVED, "10.0.0.0/8" },
	{ "8.0.0.0/6", RANGES_ERR_RESERVED, "10.0.0.0/8" },	/* holds it */
	{ "0.0.0.0/8", RANGES_ERR_RESERVED, "0.0.0.0/8" },
	{ "0.0.0.0/1", RANGES_ERR_RESERVED, "0.0.0.0/8" },
	{ "100.64.0.0/10", RANGES_ERR_RESERVED, "100.64.0.0/10" },
	{ "100.127.255.0/24", RANGES_ERR_RESERVED, "100.64.0.0/10" },
	{ "127.0.0.1", RANGES_ERR_RESERVED, "127.0.0.0/8" },
	{ "169.254.169.254", RANGES_ERR_RESERVED, "169.254.0.0/16" },
	{ "172.16.0.0/12", RANGES_ERR_RESERVED, "172.16.0.0/12" },
	{ "172.31.0.0/16", RANGES_ERR_RESERVED, "172.16.0.0/12" },
	{ "192.168.1.0/24", RANGES_ERR_RESERVED, "192.168.0.0/16" },
	{ "128.0.0.0/1", RANGES_ERR_RESERVED, "169.254.0.0/16" },
	{ "::", RANGES_ERR_RESERVED, "::/128" },
	{ "::/127", RANGES_ERR_RESERVED, "::/128" },
	{ "::1", RANGES_ERR_RESERVED, "::1/128" },
	{ "fc00::/7", RANGES_ERR_RESERVED, "fc00::/7" },
	{ "fd12:3456::/32", RANGES_ERR_RESERVED, "fc00::/7" },
	{ "fe80::/10", RANGES_ERR_RESERVED, "fe80::/10" },
	{ "febf::/16", RANGES_ERR_RESERVED, "fe80::/10" },
	{ "f000::/4", RANGES_ERR_RESERVED, "fc00::/7" },
	{ "10.0.0.1/8", RANGES_ERR_CIDR, NULL },	/* host bits */
	{ "2400:cb00::1/32", RANGES_ERR_CIDR, NULL },
	{ "198.51.100.0/33", RANGES_ERR_CIDR, NULL },
	{ "www.cloudflare.com", RANGES_ERR_CIDR, NULL },
	{ "<!DOCTYPE html>", RANGES_ERR_CIDR, NULL },
	{ " 198.51.100.0/24", RANGES_ERR_CIDR, NULL },	/* JSON: exact */
	{ "198.51.100.0/24 ", RANGES_ERR_CIDR, NULL },
	{ "", RANGES_ERR_CIDR, NULL },
};

static void
test_ranges_entry_rules(void)
{
	const struct entry_case	*k;
	struct ranges_fault	 f;
	struct cidr		 c;
	const char		*in;
	size_t			 i, len;

	for (i = 0; i < NITEMS(entry_cases); i++) {
		k = &entry_cases[i];
		len = strlen(k->in);
		in = (const char *)guarded_copy(k->in, len);
		CU_ASSERT_EQUAL(ranges_entry_check(in, len, &c, &f), k->st);
		CU_ASSERT_EQUAL(f.rf_status, k->st);
		if (f.rf_status != k->st)
			fprintf(stderr, "\nentry \"%s\": %d\n", k->in,
			    f.rf_status);
		CU_ASSERT_PTR_EQUAL(f.rf_entry, in);
		CU_ASSERT_EQUAL(f.rf_entrylen, len);
		if (k->range != NULL) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(f.rf_range);
			CU_ASSERT_STRING_EQUAL(f.rf_range, k->range);
			CU_ASSERT_PTR_NOT_NULL(f.rf_kind);
		} else
			CU_ASSERT_PTR_NULL(f.rf_range);
	}
}

static void
test_ranges_entry_cidr_reason(void)
{
	struct ranges_fault	f;
	struct cidr		c;

	ranges_entry_check("10.0.0.1/8", 10, &c, &f);
	CU_ASSERT_EQUAL(f.rf_cidr, CIDR_ERR_HOSTBITS);
	ranges_entry_check("1.2.3.0/40", 10, &c, &f);
	CU_ASSERT_EQUAL(f.rf_cidr, CIDR_ERR_PREFIX);
	ranges_entry_check("nope", 4, &c, &f);
	CU_ASSERT_EQUAL(f.rf_cidr, CIDR_ERR_ADDR);
	ranges_entry_check("fe80::/10", 9, &c, &f);
	CU_ASSERT_STRING_EQUAL(f.rf_kind, "link-local");
	ranges_entry_check("127.0.0.0/8", 11, &c, &f);
	CU_ASSERT_STRING_EQUAL(f.rf_kind, "loopback");
	ranges_entry_check("::", 2, &c, &f);
	CU_ASSERT_STRING_EQUAL(f.rf_kind, "unspecified");
	/* A valid entry comes back as its block. */
	CU_ASSERT_EQUAL(ranges_entry_check("2400:cb00::/32", 14, &c, &f),
	    RANGES_OK);
	CU_ASSERT_EQUAL(c.c_addr.a_family, ADDR_V6);
	CU_ASSERT_EQUAL(c.c_plen, 32);
}

/* Parse text into l (guarded); returns the status. */
static enum ranges_status
text(struct ranges_list *l, const char *s, int flags, struct ranges_fault *f)
{
	size_t	len = strlen(s);

	return (ranges_text_parse(l, (const char *)guarded_copy(s, len), len,
	    flags, f));
}

/* l as "a b c" in canonical form, in a static buffer. */
static const char *
list_text(const struct ranges_list *l)
{
	static char	buf[1024];
	char		tmp[CIDR_STRLEN];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < l->rl_n; i++) {
		cidr_format(&l->rl_v[i], tmp);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i ? " " : "", tmp);
	}
	return (buf);
}

static void
test_ranges_text_body(void)
{
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;

	/* Cloudflare's layout: no final newline; CRLF and blanks too. */
	CU_ASSERT_EQUAL(text(&l, "173.245.48.0/20\n103.21.244.0/22", 0, &f),
	    RANGES_OK);
	CU_ASSERT_STRING_EQUAL(list_text(&l), "173.245.48.0/20 "
	    "103.21.244.0/22");
	CU_ASSERT_EQUAL(text(&l, "\r\n  2400:cb00::/32 \r\n\n\t\n"
	    "2606:4700::/32\r\n", 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(l.rl_n, 4);
	CU_ASSERT_EQUAL(l.rl_seen, 4);
	ranges_list_free(&l);
	CU_ASSERT_EQUAL(l.rl_n, 0);
	CU_ASSERT_PTR_NULL(l.rl_v);
	/* An empty body parses to an empty list: ranges_list_finish
	 * refuses that. */
	CU_ASSERT_EQUAL(text(&l, "", 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(text(&l, "\n\r\n  \n", 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(l.rl_n, 0);
}

static void
test_ranges_text_refusals(void)
{
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;

	/* An HTML page: refused at its first line. */
	CU_ASSERT_EQUAL(text(&l, "<!DOCTYPE html>\n<html>\n", 0, &f),
	    RANGES_ERR_CIDR);
	CU_ASSERT_EQUAL(f.rf_line, 1);
	CU_ASSERT_EQUAL(f.rf_index, 1);
	CU_ASSERT_EQUAL(f.rf_entrylen, 15);
	CU_ASSERT_EQUAL(memcmp(f.rf_entry, "<!DOCTYPE html>", 15), 0);
	ranges_list_free(&l);
	/* The line and the entry rank differ when blank lines come first. */
	CU_ASSERT_EQUAL(text(&l, "\n198.51.100.0/24\n\n10.0.0.0/8\n", 0,
	    &f), RANGES_ERR_RESERVED);
	CU_ASSERT_EQUAL(f.rf_line, 4);
	CU_ASSERT_EQUAL(f.rf_index, 2);
	CU_ASSERT_STRING_EQUAL(f.rf_range, "10.0.0.0/8");
	ranges_list_free(&l);
	/* A provider's body has no comments. */
	CU_ASSERT_EQUAL(text(&l, "# ranges\n198.51.100.0/24\n", 0, &f),
	    RANGES_ERR_CIDR);
	ranges_list_free(&l);
	CU_ASSERT_EQUAL(text(&l, "198.51.100.0/24\n0.0.0.0/0\n", 0, &f),
	    RANGES_ERR_ALL);
	CU_ASSERT_EQUAL(f.rf_line, 2);
	ranges_list_free(&l);
	/* A NUL byte inside a line. */
	CU_ASSERT_EQUAL(ranges_text_parse(&l, "1.2.3.0/24\0\n", 12, 0, &f),
	    RANGES_ERR_CIDR);
	ranges_list_free(&l);
}

static void
test_ranges_text_installed(void)
{
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;

	/* An installed file: '#' comments, as the daemon reads them. */
	CU_ASSERT_EQUAL(text(&l, "# provider: x\n# entries: 2\n"
	    "198.51.100.0/24 # edge\n2400:cb00::/32\n",
	    RANGES_TEXT_COMMENTS, &f), RANGES_OK);
	CU_ASSERT_STRING_EQUAL(list_text(&l),
	    "198.51.100.0/24 2400:cb00::/32");
	ranges_list_free(&l);
	/* Hand-edited: lax reading counts what it cannot use, and applies
	 * no rule (the admin's own 10/8 is still an entry it had). */
	CU_ASSERT_EQUAL(text(&l, "# x\n10.0.0.0/8\nbogus\n1.2.3.4/8\n"
	    "198.51.100.0/24\n", RANGES_TEXT_COMMENTS | RANGES_TEXT_LAX, &f),
	    RANGES_OK);
	CU_ASSERT_EQUAL(l.rl_n, 2);
	CU_ASSERT_EQUAL(l.rl_bad, 2);
	CU_ASSERT_EQUAL(l.rl_seen, 4);
	ranges_list_free(&l);
}

static void
test_ranges_finish_dedup(void)
{
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;

	/* Duplicates dropped, the first kept, the order otherwise the
	 * provider's; the same block written two ways is one. */
	CU_ASSERT_EQUAL(text(&l, "2400:cb00::/32\n198.51.100.0/24\n"
	    "2400:CB00:0::/32\n203.0.113.0/24\n198.51.100.0/24\n"
	    "198.51.100.0/25\n", 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 0, 0, &f), RANGES_OK);
	CU_ASSERT_STRING_EQUAL(list_text(&l), "2400:cb00::/32 "
	    "198.51.100.0/24 203.0.113.0/24 198.51.100.0/25");
	ranges_list_free(&l);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 0, 0, &f), RANGES_ERR_EMPTY);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 0, 1, &f), RANGES_ERR_EMPTY);
}

static void
test_ranges_dedup_large(void)
{
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;
	char			s[32];
	size_t			i, k;
	int			n;

	/* 100,000 entries, each twice: n log n, not n^2. */
	for (i = 0; i < 200000; i++) {
		k = i % 100000;
		n = snprintf(s, sizeof(s), "%zu.%zu.%zu.0/24", 40 + k / 65536,
		    k / 256 % 256, k % 256);
		CU_ASSERT_EQUAL_FATAL(ranges_list_add(&l, s, (size_t)n, &f),
		    RANGES_OK);
	}
	CU_ASSERT_EQUAL(f.rf_index, 200000);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 0, 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(l.rl_n, 100000);
	cidr_format(&l.rl_v[99999], s);
	CU_ASSERT_STRING_EQUAL(s, "41.134.159.0/24");
	ranges_list_free(&l);
}

static void
test_ranges_shrink(void)
{
	static const struct {
		size_t	have, had;
		int	shrunk;
	} cases[] = {
		{ 10, 21, 1 }, { 11, 21, 0 }, { 5, 10, 0 }, { 4, 10, 1 },
		{ 0, 1, 1 }, { 1, 1, 0 }, { 1, 2, 0 }, { 1, 3, 1 },
		{ 5, 0, 0 }, { 30, 10, 0 }, { SIZE_MAX / 2, SIZE_MAX, 1 },
		{ SIZE_MAX / 2 + 1, SIZE_MAX, 0 },
	};
	struct ranges_list	l = { 0 };
	struct ranges_fault	f;
	size_t			i;

	for (i = 0; i < NITEMS(cases); i++)
		CU_ASSERT_EQUAL(ranges_shrunk(cases[i].have, cases[i].had),
		    cases[i].shrunk);
	/* Counted after duplicates are dropped; --force lets it in. */
	CU_ASSERT_EQUAL(text(&l, "198.51.100.0/24\n198.51.100.0/24\n"
	    "203.0.113.0/24\n", 0, &f), RANGES_OK);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 5, 0, &f), RANGES_ERR_SHRUNK);
	CU_ASSERT_EQUAL(f.rf_have, 2);
	CU_ASSERT_EQUAL(f.rf_had, 5);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 5, 1, &f), RANGES_OK);
	CU_ASSERT_EQUAL(ranges_list_finish(&l, 4, 0, &f), RANGES_OK);
	ranges_list_free(&l);
}

static void
test_ranges_equal(void)
{
	struct ranges_list	a = { 0 }, b = { 0 };
	struct ranges_fault	f;

	text(&a, "198.51.100.0/24\n2400:cb00::/32\n", 0, &f);
	text(&b, "198.51.100.0/24\n2400:cb00:0::/32\n", 0, &f);
	CU_ASSERT_TRUE(ranges_list_equal(&a, &b));
	ranges_list_free(&b);
	text(&b, "2400:cb00::/32\n198.51.100.0/24\n", 0, &f);
	CU_ASSERT_FALSE(ranges_list_equal(&a, &b));	/* order matters */
	ranges_list_free(&b);
	text(&b, "198.51.100.0/24\n", 0, &f);
	CU_ASSERT_FALSE(ranges_list_equal(&a, &b));
	ranges_list_free(&b);
	text(&b, "198.51.100.0/25\n2400:cb00::/32\n", 0, &f);
	CU_ASSERT_FALSE(ranges_list_equal(&a, &b));
	ranges_list_free(&a);
	ranges_list_free(&b);
	CU_ASSERT_TRUE(ranges_list_equal(&a, &b));
}

static const char rendered[] =
    "# provider: cloudflare\n"
    "# source: https://www.cloudflare.com/ips-v4 "
    "https://www.cloudflare.com/ips-v6\n"
    "# fetched: 2026-12-07T12:00:00Z\n"
    "# entries: 3\n"
    "# sha256: 000102030405060708090a0b0c0d0e0f"
    "101112131415161718191a1b1c1d1e1f\n"
    "173.245.48.0/20\n"
    "2400:cb00::/32\n"
    "198.51.100.0/24\n";

static void
render_fixture(struct ranges_header *h, struct ranges_list *l)
{
	struct ranges_fault	f;
	size_t			i;

	h->rh_provider = "cloudflare";
	h->rh_source = "https://www.cloudflare.com/ips-v4 "
	    "https://www.cloudflare.com/ips-v6";
	h->rh_fetched = 1796644800;
	for (i = 0; i < sizeof(h->rh_sha256); i++)
		h->rh_sha256[i] = (uint8_t)i;
	memset(l, 0, sizeof(*l));
	text(l, "173.245.48.0/20\n2400:CB00::/32\n198.51.100.0/24\n", 0, &f);
}

static void
test_ranges_render(void)
{
	struct ranges_header	h;
	struct ranges_list	l, back = { 0 };
	struct ranges_meta	m;
	struct ranges_fault	f;
	char			buf[1024];
	size_t			n;

	render_fixture(&h, &l);
	n = ranges_render(&h, &l, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, sizeof(rendered) - 1);
	CU_ASSERT_STRING_EQUAL(buf, rendered);
	/* What it writes is what the readers read back. */
	CU_ASSERT_EQUAL(ranges_meta_parse(buf, n, &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "cloudflare");
	CU_ASSERT_EQUAL(m.rm_fetched, 1796644800);
	CU_ASSERT_EQUAL(m.rm_entries, 3);
	CU_ASSERT_EQUAL(ranges_text_parse(&back, buf, n,
	    RANGES_TEXT_COMMENTS, &f), RANGES_OK);
	CU_ASSERT_TRUE(ranges_list_equal(&l, &back));
	ranges_list_free(&back);
	ranges_list_free(&l);
}

static void
test_ranges_render_bounded(void)
{
	struct ranges_header	h;
	struct ranges_list	l;
	char			buf[64];
	size_t			size;

	render_fixture(&h, &l);
	/* As snprintf: the length needed, at most size bytes written. */
	CU_ASSERT_EQUAL(ranges_render(&h, &l, NULL, 0), sizeof(rendered) - 1);
	for (size = 1; size <= sizeof(buf); size++) {
		memset(buf, 'Z', sizeof(buf));
		CU_ASSERT_EQUAL(ranges_render(&h, &l, buf, size),
		    sizeof(rendered) - 1);
		CU_ASSERT_EQUAL(strlen(buf), size - 1);
		CU_ASSERT_EQUAL(memcmp(buf, rendered, size - 1), 0);
		if (size < sizeof(buf))
			CU_ASSERT_EQUAL(buf[size], 'Z');
	}
	ranges_list_free(&l);
}

static void
test_ranges_render_hostile_header(void)
{
	struct ranges_header	h;
	struct ranges_list	l;
	struct ranges_meta	m;
	char			buf[1024];

	/* A URL with a newline must not add a line of its own (here a
	 * second "# provider:" or an entry). */
	render_fixture(&h, &l);
	h.rh_source = "http://x/\n0.0.0.0/0\r\x7f";
	h.rh_provider = "a\nb";
	ranges_render(&h, &l, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# provider: a?b\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf,
	    "# source: http://x/?0.0.0.0/0??\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "\n0.0.0.0/0"));
	CU_ASSERT_EQUAL(ranges_meta_parse(buf, strlen(buf), &m), 1);
	CU_ASSERT_STRING_EQUAL(m.rm_provider, "a?b");
	ranges_list_free(&l);
}

static void
test_ranges_strerror(void)
{
	int	st;

	for (st = RANGES_OK; st <= RANGES_ERR_NOMEM; st++)
		CU_ASSERT_STRING_NOT_EQUAL(
		    ranges_strerror((enum ranges_status)st), "unknown error");
}

void
suite_ranges(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("ranges", NULL, NULL)) == NULL)
		abort();
	ADD_TEST(s, "ranges: meta reads provider, fetched, entries",
	    test_ranges_meta_full);
	ADD_TEST(s, "ranges: meta absent, or after the leading comments",
	    test_ranges_meta_absent);
	ADD_TEST(s, "ranges: meta tolerates CRLF, blanks, other keys",
	    test_ranges_meta_lenient_layout);
	ADD_TEST(s, "ranges: meta bad fetched and entries are -1",
	    test_ranges_meta_bad_values);
	ADD_TEST(s, "ranges: meta within len at every truncation",
	    test_ranges_meta_every_truncation);
	ADD_TEST(s, "ranges: UTC time parse and format, 1970-2100 round trip",
	    test_ranges_time);
	ADD_TEST(s, "ranges: entry rules (/0, mapped, reserved, CIDR)",
	    test_ranges_entry_rules);
	ADD_TEST(s, "ranges: entry refusal says why",
	    test_ranges_entry_cidr_reason);
	ADD_TEST(s, "ranges: text body, blank lines, CRLF, no final newline",
	    test_ranges_text_body);
	ADD_TEST(s, "ranges: text body refused at its line",
	    test_ranges_text_refusals);
	ADD_TEST(s, "ranges: installed file, comments and lax reading",
	    test_ranges_text_installed);
	ADD_TEST(s, "ranges: duplicates dropped in order, empty refused",
	    test_ranges_finish_dedup);
	ADD_TEST(s, "ranges: 200,000 entries deduplicated",
	    test_ranges_dedup_large);
	ADD_TEST(s, "ranges: shrink rule and --force",
	    test_ranges_shrink);
	ADD_TEST(s, "ranges: list equality is blocks in order",
	    test_ranges_equal);
	ADD_TEST(s, "ranges: render the header and the list, read it back",
	    test_ranges_render);
	ADD_TEST(s, "ranges: render bounded like snprintf",
	    test_ranges_render_bounded);
	ADD_TEST(s, "ranges: control bytes in header values become '?'",
	    test_ranges_render_hostile_header);
	ADD_TEST(s, "ranges: every status has a message",
	    test_ranges_strerror);
}
