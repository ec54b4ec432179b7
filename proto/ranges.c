/*
 * Provider range lists (SPEC §3.4): the provenance header, the rules a
 * fetched list must pass before it may be installed, the text format and
 * the rendering of an installed file.
 *
 * The rules exist because a ranges file decides whom the daemon believes:
 * one bad entry (a /0, a private range that every internal host sits in)
 * would let anyone set REMOTE_ADDR.  So a list is refused whole, never
 * trimmed of its bad entries, and the caller keeps the installed file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ranges.h"

/* Ranges no CDN or load balancer may claim (RFC 1918, 6598, 1122, 3927,
 * 4193, 4291): a list overlapping one would trust the local network. */
struct reserved {
	struct cidr	rs_net;
	const char	*rs_text;
	const char	*rs_kind;
};

static const struct reserved reserved[] = {
	{ { { ADDR_V4, { 0 } }, 8 }, "0.0.0.0/8", "unspecified" },
	{ { { ADDR_V4, { 10 } }, 8 }, "10.0.0.0/8", "private" },
	{ { { ADDR_V4, { 100, 64 } }, 10 }, "100.64.0.0/10",
	    "private (shared address space)" },
	{ { { ADDR_V4, { 127 } }, 8 }, "127.0.0.0/8", "loopback" },
	{ { { ADDR_V4, { 169, 254 } }, 16 }, "169.254.0.0/16", "link-local" },
	{ { { ADDR_V4, { 172, 16 } }, 12 }, "172.16.0.0/12", "private" },
	{ { { ADDR_V4, { 192, 168 } }, 16 }, "192.168.0.0/16", "private" },
	{ { { ADDR_V6, { 0 } }, 128 }, "::/128", "unspecified" },
	{ { { ADDR_V6, { [15] = 1 } }, 128 }, "::1/128", "loopback" },
	{ { { ADDR_V6, { 0xfc } }, 7 }, "fc00::/7", "private" },
	{ { { ADDR_V6, { 0xfe, 0x80 } }, 10 }, "fe80::/10", "link-local" },
};

#define META_PROVIDER	0x01
#define META_FETCHED	0x02
#define META_ENTRIES	0x04

/* ranges_render()'s output, bounded like snprintf. */
struct out {
	char	*o_buf;
	size_t	 o_size;
	size_t	 o_len;
};

/* A block and its rank in the list, for the duplicate pass. */
struct ranked {
	struct cidr	rk_c;
	size_t		rk_i;
};

static int	is_blank(char);
static void	trim(const char **, size_t *);
static void	meta_line(const char *, size_t, struct ranges_meta *, int *);
static long	parse_count(const char *, size_t);
static int	digits(const char *, size_t, int *);
static int64_t	days_from_civil(int64_t, int, int);
static void	civil_from_days(int64_t, int64_t *, int *, int *);
static int	days_in_month(int64_t, int);
static void	put_digits(char *, int, int);
static void	fault_init(struct ranges_fault *, enum ranges_status);
static int	overlaps(const struct cidr *, const struct cidr *);
static int	cidr_same(const struct cidr *, const struct cidr *);
static int	list_push(struct ranges_list *, const struct cidr *);
static int	ranked_cmp(const void *, const void *);
static int	list_dedup(struct ranges_list *);
static void	put(struct out *, const char *, size_t, int);
static void	put_line(struct out *, const char *, const char *);

static int
is_blank(char ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\r');
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

int
ranges_meta_parse(const char *text, size_t len, struct ranges_meta *out)
{
	const char	*nl;
	size_t		 pos = 0, end;
	int		 seen = 0;

	memset(out, 0, sizeof(*out));
	out->rm_fetched = -1;
	out->rm_entries = -1;
	/* Only the leading comments are the header: an entry line ends it,
	 * so a "# provider:" further down (a hand-written note) is not. */
	while (pos < len && text[pos] == '#') {
		nl = memchr(text + pos, '\n', len - pos);
		end = nl != NULL ? (size_t)(nl - text) : len;
		meta_line(text + pos + 1, end - pos - 1, out, &seen);
		pos = end + 1;
	}
	return ((seen & META_PROVIDER) != 0);
}

/* One "# key: value" line, '#' already skipped; the first of each key wins. */
static void
meta_line(const char *s, size_t len, struct ranges_meta *out, int *seen)
{
	static const struct {
		const char	*k_name;
		int		 k_bit;
	} keys[] = {
		{ "provider:", META_PROVIDER },
		{ "fetched:", META_FETCHED },
		{ "entries:", META_ENTRIES },
	};
	size_t	i, klen, n;

	trim(&s, &len);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		klen = strlen(keys[i].k_name);
		if (len >= klen && memcmp(s, keys[i].k_name, klen) == 0)
			break;
	}
	if (i == sizeof(keys) / sizeof(keys[0]) || (*seen & keys[i].k_bit))
		return;
	*seen |= keys[i].k_bit;
	s += klen;
	len -= klen;
	trim(&s, &len);
	switch (keys[i].k_bit) {
	case META_PROVIDER:
		n = len < sizeof(out->rm_provider) ? len :
		    sizeof(out->rm_provider) - 1;
		memcpy(out->rm_provider, s, n);
		out->rm_provider[n] = '\0';
		break;
	case META_FETCHED:
		out->rm_fetched = ranges_time_parse(s, len);
		break;
	case META_ENTRIES:
		out->rm_entries = parse_count(s, len);
		break;
	}
}

/* A plain decimal count (no sign, no blanks inside); -1 if not one. */
static long
parse_count(const char *s, size_t len)
{
	long	v = 0;
	size_t	i;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		if (v > (LONG_MAX - (s[i] - '0')) / 10)
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/* len decimal digits into *v; 0, or -1 when one is not a digit. */
static int
digits(const char *s, size_t len, int *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil).  Our own arithmetic rather than timegm(): no time
 * zone, no libc extension, the same answer everywhere.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (mdays[m - 1]);
}

int64_t
ranges_time_parse(const char *s, size_t len)
{
	int	y, mo, d, h, mi, sec;

	/* 0123456789012345678 9: only the form ranges_time_format writes. */
	if (len != RANGES_TIMELEN - 1 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return (-1);
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return (-1);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return (-1);
	return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
}

char *
ranges_time_format(int64_t t, char *buf)
{
	int64_t	y, rem;
	int	m, d;

	/* 253402300800 is 10000-01-01T00:00:00Z. */
	if (t < 0 || t >= 253402300800LL) {
		memcpy(buf, "?", 2);
		return (buf);
	}
	rem = t % 86400;
	civil_from_days(t / 86400, &y, &m, &d);
	memcpy(buf, "0000-00-00T00:00:00Z", RANGES_TIMELEN);
	put_digits(buf, 4, (int)y);
	put_digits(buf + 5, 2, m);
	put_digits(buf + 8, 2, d);
	put_digits(buf + 11, 2, (int)(rem / 3600));
	put_digits(buf + 14, 2, (int)(rem / 60 % 60));
	put_digits(buf + 17, 2, (int)(rem % 60));
	return (buf);
}

/* v as exactly n decimal digits, zero-padded (v fits: checked above). */
static void
put_digits(char *p, int n, int v)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void
fault_init(struct ranges_fault *f, enum ranges_status st)
{
	memset(f, 0, sizeof(*f));
	f->rf_status = st;
	f->rf_cidr = CIDR_OK;
}

/* CIDR blocks are disjoint or nested: they overlap when one holds the
 * other's network address. */
static int
overlaps(const struct cidr *a, const struct cidr *b)
{
	return (cidr_contains(a, &b->c_addr) || cidr_contains(b, &a->c_addr));
}

static int
cidr_same(const struct cidr *a, const struct cidr *b)
{
	size_t	n = a->c_addr.a_family == ADDR_V4 ? 4 : 16;

	return (a->c_addr.a_family == b->c_addr.a_family &&
	    a->c_plen == b->c_plen &&
	    memcmp(a->c_addr.a_bytes, b->c_addr.a_bytes, n) == 0);
}

enum ranges_status
ranges_entry_check(const char *s, size_t len, struct cidr *c,
    struct ranges_fault *f)
{
	enum cidr_status	cst;
	size_t			i;

	fault_init(f, RANGES_OK);
	f->rf_entry = s;
	f->rf_entrylen = len;
	if ((cst = cidr_parse(s, len, c)) != CIDR_OK) {
		f->rf_cidr = cst;
		return (f->rf_status = RANGES_ERR_CIDR);
	}
	/* cidr_parse folds ::ffff:a.b.c.d/n into IPv4 (SPEC §4.1); in a
	 * published list it is a mistake, or a way to smuggle 0.0.0.0/0
	 * in as ::ffff:0:0/96. */
	if (c->c_addr.a_family == ADDR_V4 && memchr(s, ':', len) != NULL)
		return (f->rf_status = RANGES_ERR_MAPPED);
	if (c->c_plen == 0)
		return (f->rf_status = RANGES_ERR_ALL);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (overlaps(c, &reserved[i].rs_net)) {
			f->rf_range = reserved[i].rs_text;
			f->rf_kind = reserved[i].rs_kind;
			return (f->rf_status = RANGES_ERR_RESERVED);
		}
	}
	return (RANGES_OK);
}

static int
list_push(struct ranges_list *l, const struct cidr *c)
{
	struct cidr	*v;
	size_t		 cap;

	if (l->rl_n == l->rl_cap) {
		cap = l->rl_cap == 0 ? 64 : l->rl_cap * 2;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(l->rl_v, cap * sizeof(*v))) == NULL)
			return (-1);
		l->rl_v = v;
		l->rl_cap = cap;
	}
	l->rl_v[l->rl_n++] = *c;
	return (0);
}

enum ranges_status
ranges_list_add(struct ranges_list *l, const char *s, size_t len,
    struct ranges_fault *f)
{
	struct cidr	c;

	l->rl_seen++;
	if (ranges_entry_check(s, len, &c, f) == RANGES_OK &&
	    list_push(l, &c) != 0)
		f->rf_status = RANGES_ERR_NOMEM;
	f->rf_index = l->rl_seen;
	return (f->rf_status);
}

enum ranges_status
ranges_text_parse(struct ranges_list *l, const char *text, size_t len,
    int flags, struct ranges_fault *f)
{
	const char	*line, *nl, *hash;
	size_t		 pos = 0, llen, lineno = 0;
	struct cidr	 c;

	fault_init(f, RANGES_OK);
	while (pos < len) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + 1;
		lineno++;
		/* As the daemon reads the file: '#' to the end is a comment. */
		if ((flags & RANGES_TEXT_COMMENTS) &&
		    (hash = memchr(line, '#', llen)) != NULL)
			llen = (size_t)(hash - line);
		trim(&line, &llen);
		if (llen == 0)
			continue;
		if (flags & RANGES_TEXT_LAX) {
			l->rl_seen++;
			if (cidr_parse(line, llen, &c) != CIDR_OK)
				l->rl_bad++;
			else if (list_push(l, &c) != 0)
				return (f->rf_status = RANGES_ERR_NOMEM);
			continue;
		}
		if (ranges_list_add(l, line, llen, f) != RANGES_OK) {
			f->rf_line = lineno;
			return (f->rf_status);
		}
	}
	return (RANGES_OK);
}

static int
ranked_cmp(const void *x, const void *y)
{
	const struct ranked	*a = x, *b = y;
	int			 d;

	if (a->rk_c.c_addr.a_family != b->rk_c.c_addr.a_family)
		return (a->rk_c.c_addr.a_family < b->rk_c.c_addr.a_family ?
		    -1 : 1);
	if ((d = memcmp(a->rk_c.c_addr.a_bytes, b->rk_c.c_addr.a_bytes,
	    sizeof(a->rk_c.c_addr.a_bytes))) != 0)
		return (d);
	if (a->rk_c.c_plen != b->rk_c.c_plen)
		return (a->rk_c.c_plen < b->rk_c.c_plen ? -1 : 1);
	return (a->rk_i < b->rk_i ? -1 : a->rk_i > b->rk_i);
}

/*
 * Drop later duplicates, keeping the provider's order.  Sorting a ranked
 * copy costs n log n where a pairwise scan would cost n^2: a 4 MiB body
 * can hold 400,000 lines.
 */
static int
list_dedup(struct ranges_list *l)
{
	struct ranked	*r;
	unsigned char	*drop;
	size_t		 i, m = 0;

	if (l->rl_n < 2)
		return (0);
	r = calloc(l->rl_n, sizeof(*r));
	drop = calloc(l->rl_n, 1);
	if (r == NULL || drop == NULL) {
		free(r);
		free(drop);
		return (-1);
	}
	for (i = 0; i < l->rl_n; i++) {
		r[i].rk_c = l->rl_v[i];
		r[i].rk_i = i;
	}
	qsort(r, l->rl_n, sizeof(*r), ranked_cmp);
	for (i = 1; i < l->rl_n; i++)
		if (cidr_same(&r[i - 1].rk_c, &r[i].rk_c))
			drop[r[i].rk_i] = 1;
	for (i = 0; i < l->rl_n; i++)
		if (!drop[i])
			l->rl_v[m++] = l->rl_v[i];
	l->rl_n = m;
	free(r);
	free(drop);
	return (0);
}

int
ranges_shrunk(size_t have, size_t had)
{
	/* have * 2 < had, which cannot overflow: 10 of 21 shrank, 11 not. */
	return (have < had && had - have > have);
}

enum ranges_status
ranges_list_finish(struct ranges_list *l, size_t had, int force,
    struct ranges_fault *f)
{
	fault_init(f, RANGES_OK);
	if (list_dedup(l) != 0)
		return (f->rf_status = RANGES_ERR_NOMEM);
	if (l->rl_n == 0)
		return (f->rf_status = RANGES_ERR_EMPTY);
	if (!force && ranges_shrunk(l->rl_n, had)) {
		f->rf_have = l->rl_n;
		f->rf_had = had;
		return (f->rf_status = RANGES_ERR_SHRUNK);
	}
	return (RANGES_OK);
}

int
ranges_list_equal(const struct ranges_list *a, const struct ranges_list *b)
{
	size_t	i;

	if (a->rl_n != b->rl_n)
		return (0);
	for (i = 0; i < a->rl_n; i++)
		if (!cidr_same(&a->rl_v[i], &b->rl_v[i]))
			return (0);
	return (1);
}

void
ranges_list_free(struct ranges_list *l)
{
	free(l->rl_v);
	memset(l, 0, sizeof(*l));
}

const char *
ranges_strerror(enum ranges_status st)
{
	switch (st) {
	case RANGES_OK:
		return ("ok");
	case RANGES_ERR_CIDR:
		return ("not a valid CIDR");
	case RANGES_ERR_ALL:
		return ("the whole address space (would trust everyone)");
	case RANGES_ERR_MAPPED:
		return ("an IPv4-mapped IPv6 range (::ffff:0:0/96)");
	case RANGES_ERR_RESERVED:
		return ("overlaps a reserved range");
	case RANGES_ERR_EMPTY:
		return ("the list is empty");
	case RANGES_ERR_SHRUNK:
		return ("the list shrank to fewer than half the installed "
		    "entries");
	case RANGES_ERR_NOMEM:
		return ("out of memory");
	}
	return ("unknown error");
}

/* Append s; with safe, control bytes become '?' (a header value stays on
 * its line whatever a URL holds). */
static void
put(struct out *o, const char *s, size_t len, int safe)
{
	size_t	i;
	char	ch;

	for (i = 0; i < len; i++, o->o_len++) {
		ch = s[i];
		if (safe && ((unsigned char)ch < 0x20 || ch == 0x7f))
			ch = '?';
		if (o->o_len + 1 < o->o_size)
			o->o_buf[o->o_len] = ch;
	}
}

static void
put_line(struct out *o, const char *key, const char *value)
{
	put(o, key, strlen(key), 0);
	put(o, value, strlen(value), 1);
	put(o, "\n", 1, 0);
}

size_t
ranges_render(const struct ranges_header *h, const struct ranges_list *l,
    char *buf, size_t size)
{
	struct out	 o = { buf, size, 0 };
	char		 tmp[CIDR_STRLEN + 72];
	size_t		 i;

	put_line(&o, "# provider: ", h->rh_provider);
	put_line(&o, "# source: ", h->rh_source);
	put_line(&o, "# fetched: ", ranges_time_format(h->rh_fetched, tmp));
	snprintf(tmp, sizeof(tmp), "%zu", l->rl_n);
	put_line(&o, "# entries: ", tmp);
	for (i = 0; i < sizeof(h->rh_sha256); i++)
		snprintf(tmp + 2 * i, 3, "%02x", h->rh_sha256[i]);
	put_line(&o, "# sha256: ", tmp);
	for (i = 0; i < l->rl_n; i++) {
		put(&o, tmp, cidr_format(&l->rl_v[i], tmp), 0);
		put(&o, "\n", 1, 0);
	}
	if (size > 0)
		o.o_buf[o.o_len < size ? o.o_len : size - 1] = '\0';
	return (o.o_len);
}
