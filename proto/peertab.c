/*
 * The untrusted-peer table of the "full" status view (SPEC §6.1).  Pure:
 * the daemon passes the peer, the names and its clock.
 */
#include <string.h>

#include "proto/peertab.h"

#define XFF_NAME	"HTTP_X_FORWARDED_FOR"

static size_t	row_lookup(const struct peertab *, const struct cidr *);
static struct peertab_row *row_take(struct peertab *, const struct cidr *);
static int	names_has(const char *set, size_t setlen, const char *name,
		    size_t len);
static int	names_add(struct peertab_row *, const char *name, size_t len);
static int	name_ok(const char *name, size_t len);
static int	private_net(const struct cidr *);

int
peertab_fold(const struct addr *peer, struct cidr *net)
{
	static const uint8_t	loop6[16] = { [15] = 1 };

	memset(net, 0, sizeof(*net));
	if (peer->a_family != ADDR_V4 && peer->a_family != ADDR_V6)
		return (-1);
	/* addr_set() turns a v4-mapped IPv6 peer into IPv4 (SPEC §4.1). */
	addr_set(&net->c_addr, peer->a_family, peer->a_bytes);
	/*
	 * 127/8 holds local processes (another nginx, a TLS terminator, a
	 * test client), each its own: one host each, as ::1 below.
	 */
	if (net->c_addr.a_family == ADDR_V4 && net->c_addr.a_bytes[0] == 127) {
		net->c_plen = 32;
		return (0);
	}
	if (net->c_addr.a_family == ADDR_V4) {
		net->c_addr.a_bytes[3] = 0;
		net->c_plen = 24;
		return (0);
	}
	/*
	 * ::1 is one host, not a network: folded to ::/64 the hint would
	 * suggest trusting addresses that are not loopback at all.
	 */
	if (memcmp(net->c_addr.a_bytes, loop6, 16) == 0) {
		net->c_plen = 128;
		return (0);
	}
	memset(net->c_addr.a_bytes + 8, 0, 8);
	net->c_plen = 64;
	return (0);
}

void
peertab_note(struct peertab *pt, const struct addr *peer, const char *names,
    size_t nameslen, uint64_t now)
{
	struct peertab_row	*r;
	struct cidr		 net;
	const char		*p, *end, *comma;
	size_t			 i;

	if (peertab_fold(peer, &net) == -1)
		return;
	if ((i = row_lookup(pt, &net)) < pt->pt_n)
		r = &pt->pt_rows[i];
	else
		r = row_take(pt, &net);
	r->pr_count++;
	r->pr_last = now;
	r->pr_seq = ++pt->pt_seq;
	if (names_has(names, nameslen, XFF_NAME, strlen(XFF_NAME)))
		r->pr_xff++;
	for (p = names, end = names + nameslen; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (comma > p && names_add(r, p, (size_t)(comma - p)) == -1)
			r->pr_names_lost = 1;
	}
}

void
peertab_note_clean(struct peertab *pt, const struct addr *peer, uint64_t now)
{
	struct cidr	net;
	size_t		i;

	(void)now;
	if (pt->pt_n == 0 || peertab_fold(peer, &net) == -1)
		return;
	if ((i = row_lookup(pt, &net)) < pt->pt_n)
		pt->pt_rows[i].pr_clean++;
}

void
peertab_merge(struct peertab *dst, const struct peertab *src)
{
	const struct peertab_row	*rows[PEERTAB_ROWS], *s;
	struct peertab_row		*r;
	const char			*p, *comma;
	size_t				 i, n, k;

	/* Oldest first: the newest of src end up the newest of dst. */
	n = peertab_sorted(src, rows, PEERTAB_ROWS);
	for (k = n; k-- > 0;) {
		s = rows[k];
		if ((i = row_lookup(dst, &s->pr_net)) < dst->pt_n)
			r = &dst->pt_rows[i];
		else
			r = row_take(dst, &s->pr_net);
		r->pr_count += s->pr_count;
		r->pr_xff += s->pr_xff;
		r->pr_clean += s->pr_clean;
		r->pr_last = r->pr_last > s->pr_last ? r->pr_last : s->pr_last;
		r->pr_seq = ++dst->pt_seq;
		r->pr_names_lost |= s->pr_names_lost;
		for (p = s->pr_names; *p != '\0'; p = *comma ? comma + 1 :
		    comma) {
			comma = p + strcspn(p, ",");
			if (names_add(r, p, (size_t)(comma - p)) == -1)
				r->pr_names_lost = 1;
		}
	}
	dst->pt_evicted += src->pt_evicted;
}

size_t
peertab_count(const struct peertab *pt)
{
	return (pt->pt_n);
}

size_t
peertab_sorted(const struct peertab *pt, const struct peertab_row **out,
    size_t cap)
{
	const struct peertab_row	*r;
	size_t				 i, j, n = 0;

	/*
	 * Insertion sort on the note order, keeping the cap newest: 32
	 * rows at most.
	 */
	for (i = 0; i < pt->pt_n && cap > 0; i++) {
		r = &pt->pt_rows[i];
		j = n < cap ? n++ : cap;
		for (; j > 0 && out[j - 1]->pr_seq < r->pr_seq; j--)
			if (j < cap)
				out[j] = out[j - 1];
		if (j < cap)
			out[j] = r;
	}
	return (n);
}

const struct peertab_row *
peertab_find(const struct peertab *pt, const struct addr *peer)
{
	struct cidr	net;
	size_t		i;

	if (peertab_fold(peer, &net) == -1 ||
	    (i = row_lookup(pt, &net)) >= pt->pt_n)
		return (NULL);
	return (&pt->pt_rows[i]);
}

int
peertab_hint(const struct peertab_row *r)
{
	if (r->pr_count < PEERTAB_HINT_MIN || r->pr_clean != 0 ||
	    r->pr_xff != r->pr_count)
		return (0);
	return (private_net(&r->pr_net));
}

/* The index of net's row, or pt_n when it has none. */
static size_t
row_lookup(const struct peertab *pt, const struct cidr *net)
{
	size_t	i;

	for (i = 0; i < pt->pt_n; i++)
		if (pt->pt_rows[i].pr_net.c_plen == net->c_plen &&
		    addr_equal(&pt->pt_rows[i].pr_net.c_addr, &net->c_addr))
			break;
	return (i);
}

/* A fresh row for net: a free one, or the least recently seen. */
static struct peertab_row *
row_take(struct peertab *pt, const struct cidr *net)
{
	struct peertab_row	*r;
	size_t			 i, old = 0;

	if (pt->pt_n < PEERTAB_ROWS)
		r = &pt->pt_rows[pt->pt_n++];
	else {
		for (i = 1; i < PEERTAB_ROWS; i++)
			if (pt->pt_rows[i].pr_seq < pt->pt_rows[old].pr_seq)
				old = i;
		r = &pt->pt_rows[old];
		pt->pt_evicted++;
	}
	memset(r, 0, sizeof(*r));
	r->pr_net = *net;
	return (r);
}

/* 1 if the comma-separated set[0..setlen) holds exactly name[0..len). */
static int
names_has(const char *set, size_t setlen, const char *name, size_t len)
{
	const char	*p, *end = set + setlen, *comma;

	for (p = set; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if ((size_t)(comma - p) == len && memcmp(p, name, len) == 0)
			return (1);
	}
	return (0);
}

/* Add name to the row's set; -1 when it is left out. */
static int
names_add(struct peertab_row *r, const char *name, size_t len)
{
	size_t	used = strlen(r->pr_names), sep = used > 0;

	if (!name_ok(name, len))
		return (-1);
	if (names_has(r->pr_names, used, name, len))
		return (0);
	/* Compare by subtraction: used < PEERTAB_NAMES always. */
	if (len + sep > PEERTAB_NAMES - 1 - used)
		return (-1);
	if (sep)
		r->pr_names[used++] = ',';
	memcpy(r->pr_names + used, name, len);
	r->pr_names[used + len] = '\0';
	return (0);
}

/*
 * Names are shown in three formats: keep the printable ASCII that params
 * are named with, so no renderer ever meets a quote or a control byte.
 */
static int
name_ok(const char *name, size_t len)
{
	size_t	i;
	char	ch;

	for (i = 0; i < len; i++) {
		ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.'))
			return (0);
	}
	return (len > 0);
}

/* 10/8, 172.16/12, 192.168/16, 127/8, fc00::/7, ::1. */
static int
private_net(const struct cidr *net)
{
	const uint8_t	*b = net->c_addr.a_bytes;
	size_t		 i;

	if (net->c_addr.a_family == ADDR_V4)
		return (b[0] == 10 || b[0] == 127 ||
		    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		    (b[0] == 192 && b[1] == 168));
	if ((b[0] & 0xfe) == 0xfc)
		return (1);
	if (net->c_plen != 128 || b[15] != 1)
		return (0);
	for (i = 0; i < 15; i++)
		if (b[i] != 0)
			return (0);
	return (1);
}
