/*
 * CIDR parsing and the nested-range lookup set.
 *
 * CIDR blocks are either disjoint or nested, never partly overlapping.
 * Sorted by (low end ascending, high end descending), every block comes
 * after the blocks enclosing it, and a stack pass gives each block its
 * nearest enclosing one.  For an address x, the block with the greatest
 * low end <= x is found by binary search; if x lies past its high end, the
 * innermost block holding x (if any) encloses it, so we climb parents.
 * The climb is at most 33 or 129 steps and in practice one or two.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/cidr.h"

typedef unsigned __int128 u128;

struct range {
	u128		r_lo;
	u128		r_hi;
	long		r_parent;	/* index of enclosing range or -1 */
	struct cidr	r_cidr;
};

struct cidr_set {
	struct range	*s_v4;
	size_t		 s_n4;
	struct range	*s_v6;
	size_t		 s_n6;
};

static u128	key(const struct addr *);
static void	bounds(const struct cidr *, u128 *, u128 *);
static int	range_cmp(const void *, const void *);
static size_t	compile(struct range *, size_t);
static const struct cidr *lookup(const struct range *, size_t, u128);

static u128
key(const struct addr *a)
{
	u128	k = 0;
	size_t	i, n = a->a_family == ADDR_V4 ? 4 : 16;

	for (i = 0; i < n; i++)
		k = (k << 8) | a->a_bytes[i];
	return (k);
}

static void
bounds(const struct cidr *c, u128 *lo, u128 *hi)
{
	unsigned	bits = c->c_addr.a_family == ADDR_V4 ? 32 : 128;
	unsigned	host = bits - c->c_plen;
	u128		mask;

	/* Shifting a u128 by 128 is undefined: handle /0 apart. */
	mask = host == 128 ? ~(u128)0 : (((u128)1 << host) - 1);
	*lo = key(&c->c_addr) & ~mask;
	*hi = *lo | mask;
}

enum cidr_status
cidr_parse(const char *s, size_t len, struct cidr *c)
{
	const char	*slash = memchr(s, '/', len);
	size_t		 alen = slash ? (size_t)(slash - s) : len;
	unsigned	 plen = 0, max, i;
	int		 mapped;
	u128		 lo, hi, k;

	memset(c, 0, sizeof(*c));
	if (addr_parse(s, alen, &c->c_addr) != 0)
		return (CIDR_ERR_ADDR);
	/* ::ffff:a.b.c.d/n folds to a.b.c.d/(n-96), like the address. */
	mapped = c->c_addr.a_family == ADDR_V4 && memchr(s, ':', alen);
	max = c->c_addr.a_family == ADDR_V4 && !mapped ? 32 : 128;
	if (slash == NULL) {
		plen = max;
	} else {
		if (len - alen < 2 || len - alen > 4)
			return (CIDR_ERR_PREFIX);
		for (i = 1; i < len - alen; i++) {
			if (slash[i] < '0' || slash[i] > '9')
				return (CIDR_ERR_PREFIX);
			plen = plen * 10 + (unsigned)(slash[i] - '0');
		}
		if (plen > max || (slash[1] == '0' && len - alen > 2))
			return (CIDR_ERR_PREFIX);
	}
	if (mapped) {
		if (plen < 96)
			return (CIDR_ERR_PREFIX);
		plen -= 96;
	}
	c->c_plen = (uint8_t)plen;
	k = key(&c->c_addr);
	bounds(c, &lo, &hi);
	if (k != lo) {
		/* Give back the network the user probably meant. */
		for (i = 0; i < 16; i++)
			c->c_addr.a_bytes[i] = 0;
		for (i = max == 32 || mapped ? 4 : 16; i-- > 0; lo >>= 8)
			c->c_addr.a_bytes[i] = (uint8_t)lo;
		return (CIDR_ERR_HOSTBITS);
	}
	return (CIDR_OK);
}

const char *
cidr_strerror(enum cidr_status st)
{
	switch (st) {
	case CIDR_OK:
		return ("ok");
	case CIDR_ERR_ADDR:
		return ("not an IP address or CIDR (host names are not allowed)");
	case CIDR_ERR_PREFIX:
		return ("bad prefix length");
	case CIDR_ERR_HOSTBITS:
		return ("address has bits set right of the prefix");
	}
	return ("unknown error");
}

size_t
cidr_format(const struct cidr *c, char *buf)
{
	size_t	n = addr_format(&c->c_addr, buf);
	unsigned p = c->c_plen;
	char	tmp[4];
	size_t	t = 0;

	do {
		tmp[t++] = (char)('0' + p % 10);
		p /= 10;
	} while (p != 0);
	buf[n++] = '/';
	while (t > 0)
		buf[n++] = tmp[--t];
	buf[n] = '\0';
	return (n);
}

int
cidr_contains(const struct cidr *c, const struct addr *a)
{
	u128	lo, hi, k;

	if (c->c_addr.a_family != a->a_family)
		return (0);
	bounds(c, &lo, &hi);
	k = key(a);
	return (k >= lo && k <= hi);
}

static int
range_cmp(const void *x, const void *y)
{
	const struct range	*a = x, *b = y;

	if (a->r_lo != b->r_lo)
		return (a->r_lo < b->r_lo ? -1 : 1);
	if (a->r_hi != b->r_hi)
		return (a->r_hi > b->r_hi ? -1 : 1);
	return (0);
}

/* Sort, drop duplicates, link parents; returns the new count. */
static size_t
compile(struct range *r, size_t n)
{
	size_t	i, m = 0;
	long	top;

	if (n == 0)
		return (0);
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++)
		if (range_cmp(&r[m], &r[i]) != 0)
			r[++m] = r[i];
	n = m + 1;
	for (i = 0; i < n; i++) {
		/* Climb from the previous range to one that encloses r[i]. */
		top = (long)i - 1;
		while (top != -1 && r[top].r_hi < r[i].r_lo)
			top = r[top].r_parent;
		r[i].r_parent = top;
	}
	return (n);
}

struct cidr_set *
cidr_set_new(const struct cidr *c, size_t n)
{
	struct cidr_set	*s;
	struct range	*r;
	size_t		 i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->s_v4 = calloc(n ? n : 1, sizeof(struct range));
	s->s_v6 = calloc(n ? n : 1, sizeof(struct range));
	if (s->s_v4 == NULL || s->s_v6 == NULL) {
		cidr_set_free(s);
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		r = c[i].c_addr.a_family == ADDR_V4 ? &s->s_v4[s->s_n4++] :
		    &s->s_v6[s->s_n6++];
		r->r_cidr = c[i];
		bounds(&c[i], &r->r_lo, &r->r_hi);
	}
	s->s_n4 = compile(s->s_v4, s->s_n4);
	s->s_n6 = compile(s->s_v6, s->s_n6);
	return (s);
}

void
cidr_set_free(struct cidr_set *s)
{
	if (s == NULL)
		return;
	free(s->s_v4);
	free(s->s_v6);
	free(s);
}

size_t
cidr_set_count(const struct cidr_set *s)
{
	return (s->s_n4 + s->s_n6);
}

static const struct cidr *
lookup(const struct range *r, size_t n, u128 k)
{
	size_t	lo = 0, hi = n, mid;
	long	i;

	/* Find the last range whose low end is <= k. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r[mid].r_lo <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = (long)lo - 1; i != -1; i = r[i].r_parent)
		if (k <= r[i].r_hi)
			return (&r[i].r_cidr);
	return (NULL);
}

const struct cidr *
cidr_set_match(const struct cidr_set *s, const struct addr *a)
{
	if (s == NULL)
		return (NULL);
	if (a->a_family == ADDR_V4)
		return (lookup(s->s_v4, s->s_n4, key(a)));
	return (lookup(s->s_v6, s->s_n6, key(a)));
}
