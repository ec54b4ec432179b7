/*
 * The rewrite policy, SPEC §4.  Steps are numbered as in the spec.
 *
 * Values read from params are spans into the params arena.  They stay
 * valid while we work: the arena never moves, removal only marks entries,
 * and a value is only overwritten in place when that same param is set,
 * which never happens to a forwarded header we are still reading.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/cert.h"
#include "proto/fwd.h"
#include "proto/normalize.h"

#define TRAIL_VALUE_MAX	120	/* longer values are cut in the trail */
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct ctx {
	const struct norm_policy *pol;
	struct params		*p;
	struct norm_trail	*t;
	int			 full;		/* arena ran out */
	int			 trusted;
	int			 peer_unix;	/* REMOTE_ADDR=unix: */
	struct addr		 peer;
	/* Step 3 result, for hop alignment in steps 4-6. */
	const struct norm_name	*c_hdr;		/* client header used */
	int			 c_forwarded;	/* it was HTTP_FORWARDED */
	size_t			 c_total;	/* entries in that list */
	long			 c_index;	/* chosen entry, -1 if none */
	struct fwd_hop		 c_hop;		/* the chosen entry */
	int			 host_set;	/* step 6 applied a host */
	int			 host_port;	/* port of the new host, -1 */
	uint64_t		 fwd_lens;	/* bit n: a forwarded_params
						   name has length n (bit 0:
						   64 or more) */
};

/* One walk of a client list (SPEC §4.3). */
struct walk {
	struct fwd_hop		 w_hops[FWD_MAX_HOPS];
	size_t			 w_n;		/* hops stored (rightmost) */
	size_t			 w_total;	/* entries in the list */
	long			 w_found;	/* index in w_hops, -1: none */
	int			 w_forwarded;	/* RFC 7239 syntax */
	int			 w_alltrusted;	/* every hop was trusted */
};

static const struct norm_name n_forwarded = { PARAMS_STR("HTTP_FORWARDED") };
static const struct norm_name n_remote_addr = { PARAMS_STR("REMOTE_ADDR") };
static const struct norm_name n_remote_port = { PARAMS_STR("REMOTE_PORT") };
static const struct norm_name n_xff = { PARAMS_STR("HTTP_X_FORWARDED_FOR") };
static const struct norm_name n_host = { PARAMS_STR("HTTP_HOST") };
static const struct norm_name n_https = { PARAMS_STR("HTTPS") };

/*
 * SPEC §4.8: the params the policy reads or writes.  php-fpm keeps the
 * last occurrence of a name, so that one is the value for us too.
 */
static const struct norm_name policy_params[] = {
	{ PARAMS_STR("REMOTE_ADDR") }, { PARAMS_STR("REMOTE_PORT") },
	{ PARAMS_STR("HTTPS") }, { PARAMS_STR("REQUEST_SCHEME") },
	{ PARAMS_STR("SERVER_PORT") }, { PARAMS_STR("SERVER_NAME") },
	{ PARAMS_STR("HTTP_HOST") }, { PARAMS_STR("SCRIPT_NAME") },
	{ PARAMS_STR("REQUEST_URI") }, { PARAMS_STR("DOCUMENT_URI") },
	{ PARAMS_STR("PHP_SELF") },
};


/*
 * Trail lines: the arguments (escaping, formatting) are only evaluated
 * when the line will be written, so a quiet request pays for none of it.
 */
#define TR(c, warn, ...) do {						\
	if (tr_on((c), (warn)))						\
		tr((c), (warn), __VA_ARGS__);				\
	else								\
		(c)->t->t_flags |= (warn);				\
} while (0)

static void	tr(struct ctx *, unsigned, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	tr_on(const struct ctx *, unsigned);
static const char *esc(const char *, size_t, char *, size_t);
static const char *cidr_str(const struct cidr *, char *);
static const char *span_esc(const struct fwd_span *, char *);
static int	get(const struct ctx *, const struct norm_name *,
		    struct fwd_span *);
static void	set(struct ctx *, const char *, const char *, size_t);
static void	unset(struct ctx *, const char *);
static enum norm_verdict hygiene(struct ctx *);
static void	last_wins(struct ctx *);
static void	keep_last(struct ctx *, const struct norm_name *);
static void	join_repeated(struct ctx *, const struct norm_names *);
static int	is_fwd(const struct ctx *, const uint8_t *, size_t);
static int	scan_fwd(struct ctx *, int, const char *, char *, size_t);
static int	peer(struct ctx *);
static void	untrusted(struct ctx *);
static void	cert_step(struct ctx *);
static void	cert_source(struct ctx *);
static void	walk(struct ctx *, const struct norm_name *,
		    const struct fwd_span *, struct walk *, int,
		    enum norm_pick);
static void	count_hops(struct ctx *, struct walk *, int);
static int	entered_from(struct ctx *, const struct cidr_set *,
		    const struct norm_name *);
static void	single(struct ctx *, const struct norm_name *,
		    const struct fwd_span *);
static void	conflict(struct ctx *, const struct norm_name *,
		    const struct walk *);
static void	conflict_walk(struct ctx *, const struct norm_name *,
		    const struct addr *, const struct norm_name *,
		    const struct fwd_span *);
static void	client(struct ctx *);
static void	client_apply(struct ctx *, const struct fwd_hop *);
static int	pick(struct ctx *, const struct norm_names *, int,
		    struct fwd_span *, const struct norm_name **);
static int	scheme(struct ctx *);
static void	secure(struct ctx *, enum fwd_scheme, const char *);
static void	host(struct ctx *);
static int	port(struct ctx *, enum fwd_scheme);
static void	agree(struct ctx *, int);
static void	prefix(struct ctx *);
static int	is_name(const struct norm_name *, const char *, size_t);

void
norm_trail_init(struct norm_trail *t, char *buf, size_t cap, int verbose)
{
	t->t_buf = buf;
	t->t_cap = cap;
	t->t_len = 0;
	t->t_verbose = verbose;
	t->t_flags = 0;
	t->t_done = 0;
	t->t_nlen = 0;
	t->t_names[0] = '\0';
	memset(&t->t_peer, 0, sizeof(t->t_peer));
	if (cap > 0)
		buf[0] = '\0';
}

const char *
norm_verdict_str(enum norm_verdict v)
{
	switch (v) {
	case NORM_OK:
		return ("ok");
	case NORM_BAD_REQUEST:
		return ("400 bad param name or value");
	case NORM_FORBIDDEN:
		return ("403 rejected param");
	case NORM_FULL:
		return ("431 params too large after rewrite");
	}
	return ("?");
}

/* Lines are written when verbose, or when they carry a warning flag. */
static int
tr_on(const struct ctx *c, unsigned warn)
{
	return (c->t->t_cap > 0 && (warn != 0 || c->t->t_verbose));
}

static void
tr(struct ctx *c, unsigned warn, const char *fmt, ...)
{
	struct norm_trail	*t = c->t;
	va_list			 ap;
	int			 n;
	size_t			 room;

	t->t_flags |= warn;
	if (!tr_on(c, warn) || t->t_len + 1 >= t->t_cap)
		return;
	room = t->t_cap - t->t_len;
	if (warn) {
		n = snprintf(t->t_buf + t->t_len, room, "warn: ");
		if (n > 0 && (size_t)n < room) {
			t->t_len += (size_t)n;
			room -= (size_t)n;
		}
	}
	va_start(ap, fmt);
	n = vsnprintf(t->t_buf + t->t_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n + 1 >= room) {
		/* Truncated: end the buffer with a newline all the same. */
		t->t_len = t->t_cap - 1;
		t->t_buf[t->t_len - 1] = '\n';
		t->t_buf[t->t_len] = '\0';
		return;
	}
	t->t_len += (size_t)n;
	t->t_buf[t->t_len++] = '\n';
	t->t_buf[t->t_len] = '\0';
}

/* Quote a value for the trail: printable ASCII kept, the rest \xNN. */
static const char *
esc(const char *s, size_t len, char *buf, size_t cap)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		ch;

	for (i = 0; i < len && o + 8 < cap; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 0xf];
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return (buf);
}

/* esc() of a span into a trail-sized buffer. */
static const char *
span_esc(const struct fwd_span *sp, char *buf)
{
	return (esc(sp->s, sp->len, buf, TRAIL_VALUE_MAX + 8));
}

static const char *
cidr_str(const struct cidr *m, char *buf)
{
	cidr_format(m, buf);
	return (buf);
}

static int
is_name(const struct norm_name *n, const char *s, size_t len)
{
	return (n->n_len == len && memcmp(n->n_str, s, len) == 0);
}

/* The value of the first live param called n, if present and non-empty. */
static int
get(const struct ctx *c, const struct norm_name *n, struct fwd_span *v)
{
	const struct param	*e;
	long			 i;

	if ((i = params_find(c->p, n->n_str, n->n_len)) == -1)
		return (0);
	e = params_at(c->p, (size_t)i);
	v->s = (const char *)params_value(c->p, e);
	v->len = e->p_vlen;
	return (v->len > 0);
}

static void
set(struct ctx *c, const char *name, const char *v, size_t len)
{
	if (params_set(c->p, name, strlen(name), v, len) != PARAMS_OK)
		c->full = 1;
}

static void
unset(struct ctx *c, const char *name)
{
	params_remove(c->p, name, strlen(name));
}

/*
 * Does any byte of the name fall under 0x20, or equal 0x7f or '='?  Eight
 * bytes at a time (the byte loop was a third of the policy's time): a
 * byte under n shows in (x - n) & ~x & 0x80, a byte equal to k is a zero
 * of x ^ k.  The tail is padded with 'A'.
 */
static int
bad_name(const uint8_t *s, size_t len)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	high = 0x8080808080808080ULL;
	uint64_t	x, d, e;
	size_t		i;

	for (i = 0; i < len; i += 8) {
		x = 0x4141414141414141ULL;
		memcpy(&x, s + i, len - i < 8 ? len - i : 8);
		d = x ^ (ones * 0x7f);
		e = x ^ (ones * '=');
		if (((x - ones * 0x20) | (d - ones) | (e - ones)) &
		    ~x & high)
			return (1);
	}
	return (0);
}

/*
 * SPEC §4.8.  php-fpm cuts a name at NUL or '=' ("HTTPS\0x" is HTTPS), so
 * such names could smuggle a param past the policy.
 */
static enum norm_verdict
hygiene(struct ctx *c)
{
	const struct norm_policy *pol = c->pol;
	const struct param	*e;
	const uint8_t		*s;
	size_t			 i, k;
	int			 crlf_ok;
	char			 b[TRAIL_VALUE_MAX + 8];

	for (i = 0; i < c->p->p_count; i++) {
		if ((e = params_at(c->p, i)) == NULL)
			continue;
		s = params_name(c->p, e);
		if (e->p_nlen == 0) {
			TR(c, 0, "reject 400: empty param name");
			return (NORM_BAD_REQUEST);
		}
		if (bad_name(s, e->p_nlen)) {
			TR(c, 0, "reject 400: param name \"%s\" has NUL, '=' "
			    "or a control byte", esc((const char *)s,
			    e->p_nlen, b, sizeof(b)));
			return (NORM_BAD_REQUEST);
		}
		crlf_ok = (e->p_nlen == 9 && memcmp(s, "PHP_VALUE", 9) == 0) ||
		    (e->p_nlen == 15 && memcmp(s, "PHP_ADMIN_VALUE", 15) == 0);
		/* memchr is vectorised: three passes beat one byte loop. */
		s = params_value(c->p, e);
		if (memchr(s, '\0', e->p_vlen) != NULL || (!crlf_ok &&
		    (memchr(s, '\r', e->p_vlen) != NULL ||
		    memchr(s, '\n', e->p_vlen) != NULL))) {
			TR(c, 0, "reject 400: value of %s has %s",
			    esc((const char *)params_name(c->p, e), e->p_nlen,
			    b, sizeof(b)), memchr(s, '\0', e->p_vlen) ?
			    "NUL" : "CR or LF");
			return (NORM_BAD_REQUEST);
		}
		s = params_name(c->p, e);
		for (k = 0; k < pol->np_reject.nn_n; k++)
			if (is_name(&pol->np_reject.nn_v[k], (const char *)s,
			    e->p_nlen)) {
				TR(c, 0, "reject 403: %s is in reject_params",
				    pol->np_reject.nn_v[k].n_str);
				return (NORM_FORBIDDEN);
			}
	}
	return (NORM_OK);
}

/*
 * SPEC §4.8: for the params the policy reads or writes, the last
 * occurrence is the value, as php-fpm sees it; earlier ones are removed
 * before the policy runs, so trust is judged on the REMOTE_ADDR php-fpm
 * would show (nginx configs often set a param twice).
 */
static void
last_wins(struct ctx *c)
{
	const struct norm_name	*n;
	const struct param	*e;
	const uint8_t		*nm;
	unsigned		 seen = 0, dup = 0, bit, lens = 0;
	size_t			 i, j;

	for (j = 0; j < nitems(policy_params); j++)
		lens |= 1U << policy_params[j].n_len;	/* all < 32 */
	/* One pass to find duplicates: the common request has none. */
	for (i = 0; i < c->p->p_count; i++) {
		if ((e = params_at(c->p, i)) == NULL)
			continue;
		/* Names of other lengths are most params: one test each. */
		if (e->p_nlen >= 32 || !(lens >> e->p_nlen & 1))
			continue;
		nm = params_name(c->p, e);
		for (j = 0; j < nitems(policy_params); j++) {
			n = &policy_params[j];
			/* First byte before memcmp: this runs per param. */
			if (n->n_len != e->p_nlen || n->n_str[0] != nm[0] ||
			    memcmp(n->n_str, nm, n->n_len) != 0)
				continue;
			bit = 1U << j;
			dup |= seen & bit;
			seen |= bit;
			break;
		}
	}
	for (j = 0; dup != 0 && j < nitems(policy_params); j++)
		if (dup & (1U << j))
			keep_last(c, &policy_params[j]);
}

/* Remove every occurrence of n but the last, with a trail line each. */
static void
keep_last(struct ctx *c, const struct norm_name *n)
{
	const struct param	*e;
	char			 b[TRAIL_VALUE_MAX + 8];
	char			 b2[TRAIL_VALUE_MAX + 8];
	long			 first, last, k;

	first = params_find(c->p, n->n_str, n->n_len);
	last = first;
	while ((k = params_find_next(c->p, last, n->n_str, n->n_len)) != -1)
		last = k;
	for (k = first; k != last && k != -1;
	    k = params_find_next(c->p, k, n->n_str, n->n_len)) {
		if (tr_on(c, 0)) {
			e = params_at(c->p, (size_t)k);
			esc((const char *)params_value(c->p, e), e->p_vlen, b,
			    sizeof(b));
			e = params_at(c->p, (size_t)last);
			esc((const char *)params_value(c->p, e), e->p_vlen, b2,
			    sizeof(b2));
			TR(c, 0, "%s sent more than once: \"%s\" removed, the "
			    "last one \"%s\" is the value (as php-fpm reads it)",
			    n->n_str, b, b2);
		}
		params_remove_at(c->p, (size_t)k);
	}
}

/* SPEC §4.3: nginx 1.22 sends one param per header line and php-fpm would
 * keep only the last; every line counts, so join them in order.
 */
static void
join_repeated(struct ctx *c, const struct norm_names *nn)
{
	size_t	i;
	long	n;

	for (i = 0; i < nn->nn_n; i++) {
		n = params_join(c->p, nn->nn_v[i].n_str, nn->nn_v[i].n_len,
		    ", ", 2);
		if (n < 0)
			c->full = 1;
		else if (n > 1)
			TR(c, 0, "%s: %ld header lines joined",
			    nn->nn_v[i].n_str, n);
	}
}

/* 1 if the param name s is one of forwarded_params (SPEC §4.9). */
static int
is_fwd(const struct ctx *c, const uint8_t *s, size_t len)
{
	const struct norm_policy *pol = c->pol;
	const struct norm_names	*nn = &pol->np_fwd;
	size_t			 i, end = nn->nn_n, b = len < 64 ? len : 64;

	/* Most params fail on the length alone (fwd_lens, set per run). */
	if (len == 0 || (len >= 64 ? !(c->fwd_lens & 1) :
	    !(c->fwd_lens >> len & 1)))
		return (0);
	i = 0;
	if (pol->np_fwd_indexed) {
		i = pol->np_fwd_at[b];
		end = pol->np_fwd_at[b + 1];
	}
	for (; i < end; i++)
		if (nn->nn_v[i].n_len == len && nn->nn_v[i].n_str[len - 1] ==
		    (char)s[len - 1] && memcmp(nn->nn_v[i].n_str, s, len) == 0)
			return (1);
	return (0);
}

/*
 * SPEC §4.2 and §4.9: find (and with rm, remove) every forwarded param,
 * in one pass.  The trail keeps each original value, so --explain still
 * shows what the proxy sent.  Their names go to buf (comma-separated,
 * cut at cap) when buf is not NULL; returns how many there were.
 */
static int
scan_fwd(struct ctx *c, int rm, const char *why, char *buf, size_t cap)
{
	const struct param	*e;
	char			 b[TRAIL_VALUE_MAX + 8];
	size_t			 i, len = 0;
	int			 any = 0, n;

	if (buf != NULL)
		buf[0] = '\0';
	for (i = 0; i < c->p->p_count; i++) {
		if ((e = params_at(c->p, i)) == NULL ||
		    !is_fwd(c, params_name(c->p, e), e->p_nlen))
			continue;
		any++;
		if (buf != NULL && len + 1 < cap) {
			n = snprintf(buf + len, cap - len, "%s%.*s", len ? ","
			    : "", (int)e->p_nlen,
			    (const char *)params_name(c->p, e));
			if (n > 0)
				len += (size_t)n < cap - len ? (size_t)n :
				    cap - len - 1;
		}
		if (!rm)
			continue;
		TR(c, 0, "removed (%s): %.*s=\"%s\"", why, (int)e->p_nlen,
		    (const char *)params_name(c->p, e),
		    esc((const char *)params_value(c->p, e), e->p_vlen, b,
		    sizeof(b)));
		params_remove_at(c->p, i);
	}
	return (any);
}

/*
 * SPEC §4.1 and §4.2: judge the peer.  Returns 1 when it is trusted.
 * "unix:" is exactly what nginx sends for a unix-socket client; it is no
 * address, so only trusted_proxies = [ "unix:" ] trusts it.
 */
static int
peer(struct ctx *c)
{
	const struct cidr	*m;
	struct fwd_span		 v = { "", 0 };
	char			 b[TRAIL_VALUE_MAX + 8], cb[CIDR_STRLEN];

	get(c, &n_remote_addr, &v);
	if (v.len == 5 && memcmp(v.s, "unix:", 5) == 0) {
		c->peer_unix = 1;
		if (c->pol->np_trust_unix) {
			TR(c, 0, "peer unix: trusted by \"unix:\"");
			return (1);
		}
		TR(c, NORM_W_PEER, "REMOTE_ADDR \"unix:\" is not an IP "
		    "address: request untrusted (trusted_proxies \"unix:\" "
		    "trusts a unix-socket peer)");
		return (0);
	}
	if (v.len == 0 || addr_parse(v.s, v.len, &c->peer) != 0) {
		TR(c, NORM_W_PEER, "REMOTE_ADDR \"%s\" is not an IP address: "
		    "request untrusted", esc(v.s, v.len, b, sizeof(b)));
		return (0);
	}
	c->t->t_peer = c->peer;
	c->t->t_done |= NORM_R_PEER;
	if ((m = cidr_set_match(c->pol->np_trusted, &c->peer)) == NULL) {
		TR(c, 0, "peer %s untrusted", esc(v.s, v.len, b, sizeof(b)));
		return (0);
	}
	TR(c, 0, "peer %s trusted by %s", esc(v.s, v.len, b, sizeof(b)),
	    cidr_str(m, cb));
	return (1);
}

/*
 * SPEC §4.2: an untrusted peer's forwarded params are never used; every
 * one of forwarded_params goes, not only the configured headers (an app
 * may read others, e.g. X-Forwarded-Proto for HTTPS).
 */
static void
untrusted(struct ctx *c)
{
	char	names[256];
	size_t	n;

	if (!scan_fwd(c, c->pol->np_strip, "untrusted peer", names,
	    sizeof(names)))
		return;
	TR(c, NORM_W_UNTRUSTED, "untrusted peer sent %s: %s", names,
	    c->pol->np_strip ? "removed" : "ignored");
	/* For the counters: which headers (at most what fits). */
	n = strlen(names);
	if (n >= sizeof(c->t->t_names)) {
		/* Whole names only: cut at the last comma that fits. */
		n = sizeof(c->t->t_names) - 1;
		while (n > 0 && names[n] != ',')
			n--;
	}
	memcpy(c->t->t_names, names, n);
	c->t->t_names[n] = '\0';
	c->t->t_nlen = n;
}

/* SPEC §4.3: set REMOTE_ADDR (and REMOTE_PORT) from the chosen hop. */
static void
client_apply(struct ctx *c, const struct fwd_hop *h)
{
	char		a[ADDR_STRLEN], pbuf[8];
	struct fwd_span	old;
	size_t		alen;
	int		n;

	alen = addr_format(&h->h_addr, a);
	if (!c->peer_unix && addr_equal(&h->h_addr, &c->peer)) {
		TR(c, 0, "client %s is the peer: REMOTE_ADDR unchanged", a);
		return;
	}
	if (get(c, &n_remote_addr, &old))
		set(c, "REALIP_REMOTE_ADDR", old.s, old.len);
	if (get(c, &n_remote_port, &old))
		set(c, "REALIP_REMOTE_PORT", old.s, old.len);
	set(c, "REMOTE_ADDR", a, alen);
	c->t->t_done |= NORM_R_ADDR;
	if (h->h_port > 0) {
		n = snprintf(pbuf, sizeof(pbuf), "%d", h->h_port);
		set(c, "REMOTE_PORT", pbuf, (size_t)n);
		TR(c, 0, "REMOTE_ADDR=%s REMOTE_PORT=%d "
		    "(old values in REALIP_REMOTE_ADDR/PORT)", a, h->h_port);
	} else {
		TR(c, 0, "REMOTE_ADDR=%s (old value in REALIP_REMOTE_ADDR)",
		    a);
	}
}

/*
 * SPEC §4.3: walk the list v of header hdr as mode says.
 * rightmost_untrusted: from the right, trusted hops skipped, the first
 * untrusted address is the client, a hop that is no address ends the
 * walk.  hops: a count, see count_hops().  quiet: no trail lines (a walk
 * made only to compare or to find the entry hop).
 */
static void
walk(struct ctx *c, const struct norm_name *hdr, const struct fwd_span *v,
    struct walk *w, int quiet, enum norm_pick mode)
{
	const struct norm_policy *pol = c->pol;
	const struct fwd_hop	*h;
	const struct cidr	*m;
	char			 b[TRAIL_VALUE_MAX + 8], cb[CIDR_STRLEN];
	int			 left = mode == NORM_PICK_LEFTMOST;
	long			 k;

	w->w_found = -1;
	w->w_alltrusted = 0;
	w->w_forwarded = is_name(&n_forwarded, hdr->n_str, hdr->n_len);
	w->w_n = w->w_forwarded ? fwd_forwarded_parse(v->s, v->len,
	    w->w_hops, FWD_MAX_HOPS, &w->w_total) : fwd_xff_parse(v->s,
	    v->len, w->w_hops, FWD_MAX_HOPS, &w->w_total);
	if (!quiet)
		TR(c, 0, "%s: %zu entries \"%s\"%s", hdr->n_str, w->w_total,
		    esc(v->s, v->len, b, sizeof(b)), w->w_total > w->w_n ?
		    " (only the rightmost 64 examined)" : "");
	if (mode == NORM_PICK_HOPS) {
		count_hops(c, w, quiet);
		return;
	}
	for (k = 0; k < (long)w->w_n; k++) {
		h = &w->w_hops[left ? k : (long)w->w_n - 1 - k];
		if (!h->h_hasfor)
			continue;
		if (!h->h_isaddr) {
			if (!quiet)
				TR(c, h->h_ident ? 0 : NORM_W_CLIENT, "hop %zu "
				    "\"%s\" is not an address: %s",
				    h->h_index + 1, span_esc(&h->h_text, b),
				    left ? "skipped" : "walk ends");
			if (left)
				continue;
			return;
		}
		if ((m = cidr_set_match(pol->np_trusted, &h->h_addr)) != NULL) {
			if (!quiet)
				TR(c, 0, "hop %zu %s trusted by %s",
				    h->h_index + 1, span_esc(&h->h_text, b),
				    cidr_str(m, cb));
			if (!left)
				w->w_found = h - w->w_hops;
			continue;
		}
		if (!quiet)
			TR(c, 0, "hop %zu %s untrusted: client", h->h_index + 1,
			    span_esc(&h->h_text, b));
		w->w_found = h - w->w_hops;
		return;
	}
	w->w_alltrusted = !left && w->w_found != -1;
}

/*
 * SPEC §4.3c: the client is the entry trusted_hops places from the right
 * (1: the one the nearest proxy appended).  A count, not a walk: nothing
 * right of it is judged, and it is taken even if it is trusted; the peer
 * was judged in step 2, which no hop count does by itself.  A chain
 * shorter than the count has no client: never the leftmost entry, which
 * the client wrote.  trusted_hops <= 16 < FWD_MAX_HOPS, so the entry is
 * among the hops stored whenever the list is long enough.
 */
static void
count_hops(struct ctx *c, struct walk *w, int quiet)
{
	size_t			 n = c->pol->np_hops;
	const struct fwd_hop	*h;
	char			 b[TRAIL_VALUE_MAX + 8];

	if (n == 0 || w->w_total < n || w->w_n < n) {
		if (!quiet)
			TR(c, NORM_W_SHORT, "short chain: %zu entries, "
			    "trusted_hops = %zu: REMOTE_ADDR unchanged (a "
			    "proxy in front did not append, or the count is "
			    "wrong)", w->w_total, n);
		return;
	}
	h = &w->w_hops[w->w_n - n];
	if (!h->h_hasfor || !h->h_isaddr) {
		if (!quiet)
			TR(c, h->h_ident ? 0 : NORM_W_CLIENT, "hop %zu \"%s\" "
			    "(%zu from the right, trusted_hops = %zu) is not an "
			    "address: REMOTE_ADDR unchanged", h->h_index + 1,
			    span_esc(&h->h_text, b), n, n);
		return;
	}
	if (!quiet)
		TR(c, 0, "hop %zu %s is %zu from the right (trusted_hops = "
		    "%zu): client", h->h_index + 1, span_esc(&h->h_text, b),
		    n, n);
	w->w_found = h - w->w_hops;
}

/*
 * SPEC §4.3a: a group entry is believed only when the request entered
 * our trusted chain from an address of its from: the peer itself, else
 * the client the X-Forwarded-For walk finds.  1 if so.  Not inlined,
 * for the same reason as conflict_walk().
 */
static __attribute__((noinline)) int
entered_from(struct ctx *c, const struct cidr_set *from,
    const struct norm_name *hdr)
{
	struct walk	 w;
	struct fwd_span	 v;
	const struct addr *entry = NULL;
	char		 a[ADDR_STRLEN] = "unix:";

	if (!c->peer_unix) {
		entry = &c->peer;
		if (cidr_set_match(from, entry) != NULL) {
			TR(c, 0, "%s believed: peer %s is in its from",
			    hdr->n_str, (addr_format(entry, a), a));
			return (1);
		}
		addr_format(entry, a);
	}
	if (get(c, &n_xff, &v)) {
		walk(c, &n_xff, &v, &w, 1, NORM_PICK_RIGHTMOST);
		if (w.w_found != -1) {
			entry = &w.w_hops[w.w_found].h_addr;
			addr_format(entry, a);
			if (cidr_set_match(from, entry) != NULL) {
				TR(c, 0, "%s believed: entry hop %s (from "
				    "HTTP_X_FORWARDED_FOR) is in its from",
				    hdr->n_str, a);
				return (1);
			}
		}
	}
	TR(c, NORM_W_SOURCE | NORM_W_UNTRUSTED, "%s ignored: the request "
	    "entered through %s, not in its from (spoofing attempt?); next "
	    "client header", hdr->n_str, a);
	return (0);
}

/* A believed group entry: one address, optionally [v6]:port or v4:port. */
static void
single(struct ctx *c, const struct norm_name *hdr, const struct fwd_span *v)
{
	struct fwd_hop	h;
	char		b[TRAIL_VALUE_MAX + 8];

	memset(&h, 0, sizeof(h));
	if (addr_parse_hop(v->s, v->len, &h.h_addr, &h.h_port) != 0) {
		TR(c, NORM_W_CLIENT, "%s \"%s\" is not an address: REMOTE_ADDR "
		    "unchanged", hdr->n_str, esc(v->s, v->len, b, sizeof(b)));
		return;
	}
	TR(c, 0, "%s: client %s", hdr->n_str, esc(v->s, v->len, b,
	    sizeof(b)));
	h.h_text = *v;
	h.h_isaddr = h.h_hasfor = 1;
	c->c_hdr = hdr;
	c->c_total = 1;
	c->c_index = 0;
	c->c_hop = h;
	client_apply(c, &h);
}

/*
 * SPEC §4.3b: Forwarded and X-Forwarded-For both configured and present
 * but naming different clients: the first configured one wins, and the
 * disagreement is a warning (a proxy that sets only one of them).
 */
static void
conflict(struct ctx *c, const struct norm_name *hdr, const struct walk *w)
{
	const struct norm_names	*nn = &c->pol->np_client;
	const struct norm_name	*other;
	struct fwd_span		 v;
	size_t			 i;

	if (w->w_found == -1)
		return;
	other = w->w_forwarded ? &n_xff : &n_forwarded;
	if (!is_name(&n_xff, hdr->n_str, hdr->n_len) && !w->w_forwarded)
		return;
	for (i = 0; i < nn->nn_n; i++)
		if (is_name(other, nn->nn_v[i].n_str, nn->nn_v[i].n_len) &&
		    (c->pol->np_client_from == NULL ||
		    c->pol->np_client_from[i] == NULL))
			break;
	if (i == nn->nn_n || !get(c, other, &v))
		return;
	conflict_walk(c, hdr, &w->w_hops[w->w_found].h_addr, other, &v);
}

/*
 * The second walk of §4.3b.  Not inlined: its 64-hop array would
 * otherwise sit in client()'s frame on every request (and ASan poisons
 * and unpoisons a frame's arrays on each call).
 */
static __attribute__((noinline)) void
conflict_walk(struct ctx *c, const struct norm_name *hdr,
    const struct addr *first, const struct norm_name *other,
    const struct fwd_span *v)
{
	struct walk	w2;
	char		a[ADDR_STRLEN], b[ADDR_STRLEN];

	walk(c, other, v, &w2, 1, c->pol->np_pick);
	if (w2.w_found == -1 || addr_equal(first,
	    &w2.w_hops[w2.w_found].h_addr))
		return;
	addr_format(first, a);
	addr_format(&w2.w_hops[w2.w_found].h_addr, b);
	TR(c, NORM_W_CONFLICT, "%s gives client %s but %s gives %s: the "
	    "first configured, %s, wins", hdr->n_str, a, other->n_str, b,
	    hdr->n_str);
}

static void
client(struct ctx *c)
{
	const struct norm_policy *pol = c->pol;
	const struct cidr_set	*from;
	struct walk		 w;
	struct fwd_span		 v;
	size_t			 i;

	for (i = 0; i < pol->np_client.nn_n; i++) {
		if (!get(c, &pol->np_client.nn_v[i], &v))
			continue;
		from = pol->np_client_from ? pol->np_client_from[i] : NULL;
		if (from == NULL)
			break;
		if (entered_from(c, from, &pol->np_client.nn_v[i])) {
			single(c, &pol->np_client.nn_v[i], &v);
			return;
		}
	}
	if (i == pol->np_client.nn_n) {
		TR(c, 0, "no client header present: REMOTE_ADDR unchanged");
		return;
	}
	c->c_hdr = &pol->np_client.nn_v[i];
	walk(c, c->c_hdr, &v, &w, 0, pol->np_pick);
	c->c_forwarded = w.w_forwarded;
	c->c_total = w.w_total;
	conflict(c, c->c_hdr, &w);
	if (w.w_found == -1) {
		TR(c, 0, "no client address found: REMOTE_ADDR unchanged");
		return;
	}
	c->c_index = (long)w.w_hops[w.w_found].h_index;
	c->c_hop = w.w_hops[w.w_found];
	if (w.w_alltrusted)
		TR(c, 0, "every hop trusted: client is the leftmost");
	client_apply(c, &c->c_hop);
}

/*
 * The value of the first present header of nn, chosen as SPEC §4.4 says:
 * HTTP_FORWARDED gives the chosen element's proto= or host= (what = 0 or
 * 1); a comma list gives the entry aligned with the client hop when both
 * lists have as many entries, else the rightmost.
 */
static int
pick(struct ctx *c, const struct norm_names *nn, int what,
    struct fwd_span *out, const struct norm_name **hdr)
{
	struct fwd_hop	 hops[FWD_MAX_HOPS];
	struct fwd_span	 v = { "", 0 }, sp[FWD_MAX_HOPS];
	const struct fwd_hop *el;
	size_t		 i, n, total, slot;

	for (i = 0; i < nn->nn_n; i++)
		if (get(c, &nn->nn_v[i], &v))
			break;
	if (i == nn->nn_n)
		return (0);
	*hdr = &nn->nn_v[i];
	if (is_name(&n_forwarded, (*hdr)->n_str, (*hdr)->n_len)) {
		if (what == 2)
			return (0);	/* RFC 7239 has no port parameter */
		if (c->c_forwarded && c->c_index >= 0) {
			el = &c->c_hop;
		} else {
			n = fwd_forwarded_parse(v.s, v.len, hops, FWD_MAX_HOPS,
			    &total);
			if (n == 0)
				return (0);
			el = &hops[n - 1];
		}
		*out = what == 0 ? el->h_proto : el->h_host;
		return (out->len > 0);
	}
	n = fwd_list_split(v.s, v.len, sp, FWD_MAX_HOPS, &total);
	if (n == 0)
		return (0);
	slot = n - 1;
	if (c->c_index >= 0 && total == c->c_total &&
	    (size_t)c->c_index >= total - n)
		slot = (size_t)c->c_index - (total - n);
	*out = sp[slot];
	return (1);
}

static void
secure(struct ctx *c, enum fwd_scheme s, const char *why)
{
	if (s == FWD_SCHEME_HTTPS) {
		set(c, "HTTPS", "on", 2);
		set(c, "REQUEST_SCHEME", "https", 5);
		TR(c, 0, "%s: HTTPS=on REQUEST_SCHEME=https", why);
	} else {
		unset(c, "HTTPS");
		set(c, "REQUEST_SCHEME", "http", 4);
		TR(c, 0, "%s: HTTPS removed, REQUEST_SCHEME=http", why);
	}
}

/* SPEC §4.4.  Returns the scheme set, or FWD_SCHEME_BAD if none. */
static int
scheme(struct ctx *c)
{
	const struct norm_name	*hdr = NULL;
	struct fwd_span		 v;
	enum fwd_scheme		 s = FWD_SCHEME_BAD;
	char			 b[TRAIL_VALUE_MAX + 8], why[160];

	if (pick(c, &c->pol->np_proto, 0, &v, &hdr)) {
		s = fwd_scheme(v.s, v.len);
		if (s == FWD_SCHEME_BAD)
			TR(c, NORM_W_SCHEME, "%s \"%s\" is not http/https/on/"
			    "off: ignored", hdr->n_str, esc(v.s, v.len, b,
			    sizeof(b)));
		else if (!c->pol->np_assume_secure) {
			why[0] = '\0';
			if (tr_on(c, 0))
				snprintf(why, sizeof(why), "%s \"%s\"",
				    hdr->n_str, esc(v.s, v.len, b, sizeof(b)));
			secure(c, s, why);
			c->t->t_done |= NORM_R_SCHEME;
		}
	}
	if (c->pol->np_assume_secure) {
		secure(c, FWD_SCHEME_HTTPS, "assume_secure_protocol");
		return (FWD_SCHEME_HTTPS);
	}
	return (s);
}

/* SPEC §4.6. */
static void
host(struct ctx *c)
{
	const struct norm_name	*hdr = NULL;
	struct fwd_span		 v;
	char			 b[TRAIL_VALUE_MAX + 8];

	if (!pick(c, &c->pol->np_host, 1, &v, &hdr))
		return;
	if (fwd_host_check(v.s, v.len, &c->host_port) != 0) {
		c->host_port = -1;
		TR(c, NORM_W_HOST, "%s \"%s\" is not a valid host: ignored",
		    hdr->n_str, esc(v.s, v.len, b, sizeof(b)));
		return;
	}
	TR(c, 0, "%s: HTTP_HOST=%s", hdr->n_str, esc(v.s, v.len, b,
	    sizeof(b)));
	set(c, "HTTP_HOST", v.s, v.len);
	c->host_set = 1;
	c->t->t_done |= NORM_R_HOST;
}

/*
 * SPEC §4.5: the port header (whether or not a scheme was forwarded, as
 * Symfony and Laravel read it), else the forwarded host's port, else the
 * default of a forwarded scheme.  Returns the port set, or -1.
 */
static int
port(struct ctx *c, enum fwd_scheme s)
{
	const struct norm_name	*hdr = NULL;
	struct fwd_span		 v;
	char			 b[TRAIL_VALUE_MAX + 8], pb[8];
	int			 p = -1, n;
	const char		*why = "default for the scheme";

	if (c->trusted && pick(c, &c->pol->np_port, 2, &v, &hdr)) {
		if ((p = addr_parse_port(v.s, v.len)) < 0)
			TR(c, NORM_W_PORT, "%s \"%s\" is not a port 1-65535: "
			    "ignored", hdr->n_str, esc(v.s, v.len, b,
			    sizeof(b)));
		else
			why = hdr->n_str;
	}
	if (p < 0 && c->host_port > 0) {
		p = c->host_port;
		why = "port of the forwarded host";
	}
	if (p < 0 && s != FWD_SCHEME_BAD)
		p = s == FWD_SCHEME_HTTPS ? 443 : 80;
	if (p < 0)
		return (-1);
	n = snprintf(pb, sizeof(pb), "%d", p);
	set(c, "SERVER_PORT", pb, (size_t)n);
	TR(c, 0, "SERVER_PORT=%d (%s)", p, why);
	return (p);
}

/*
 * SPEC §4.6, host and port agree: apps build URLs from HTTP_HOST and
 * ignore SERVER_PORT whenever a Host exists, so a port set in step 5
 * goes into HTTP_HOST (left out when it is the scheme's default), and
 * SERVER_NAME becomes the host part (UseCanonicalName Off).
 */
static void
agree(struct ctx *c, int p)
{
	struct fwd_span	 v, https;
	char		 nh[FWD_MAX_HOST + 16], b[TRAIL_VALUE_MAX + 8];
	size_t		 hlen, len;
	int		 oldport, secure_on, def;

	if ((p < 0 && !c->host_set) || !get(c, &n_host, &v))
		return;
	if (fwd_host_parse(v.s, v.len, &hlen, &oldport) != 0 ||
	    hlen > FWD_MAX_HOST + 2) {
		TR(c, 0, "HTTP_HOST \"%s\" is not a valid host: HTTP_HOST and "
		    "SERVER_NAME left as they are", esc(v.s, v.len, b,
		    sizeof(b)));
		return;
	}
	memcpy(nh, v.s, hlen);
	len = hlen;
	if (p >= 0) {
		secure_on = get(c, &n_https, &https) && !(https.len == 3 &&
		    strncasecmp(https.s, "off", 3) == 0);
		def = secure_on ? 443 : 80;
		if (p != def)
			len += (size_t)snprintf(nh + len, sizeof(nh) - len,
			    ":%d", p);
		if (len != v.len || memcmp(nh, v.s, len) != 0) {
			set(c, "HTTP_HOST", nh, len);
			TR(c, 0, "HTTP_HOST=%.*s (host and SERVER_PORT agree)",
			    (int)len, nh);
		}
	}
	set(c, "SERVER_NAME", nh, hlen);
	TR(c, 0, "SERVER_NAME=%.*s", (int)hlen, nh);
}

/* SPEC §4.7. */
static void
prefix(struct ctx *c)
{
	static const char *const targets[] = {
		"SCRIPT_NAME", "REQUEST_URI", "DOCUMENT_URI", "PHP_SELF",
	};
	const struct norm_name	*uri = &c->pol->np_uri;
	struct fwd_span		 v;
	char			 b[TRAIL_VALUE_MAX + 8];
	char			 nv[FWD_MAX_PREFIX + 1];
	const char		*why;
	size_t			 plen, i;
	long			 k;

	if (uri->n_len == 0 || !get(c, uri, &v))
		return;
	if (tr_on(c, NORM_W_PREFIX))
		esc(v.s, v.len, b, sizeof(b));
	switch (fwd_prefix_check(v.s, v.len, &plen, &why)) {
	case FWD_PREFIX_BAD:
		TR(c, NORM_W_PREFIX, "%s \"%s\" %s: ignored", uri->n_str, b,
		    why);
		return;
	case FWD_PREFIX_ROOT:
		TR(c, 0, "%s \"/\": nothing to prefix", uri->n_str);
		return;
	case FWD_PREFIX_OK:
		break;
	}
	/* The uri param is removed below: keep the prefix apart. */
	memcpy(nv, v.s, plen);
	nv[plen] = '\0';
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		size_t nlen = strlen(targets[i]);

		if ((k = params_find(c->p, targets[i], nlen)) == -1)
			continue;
		if (params_prepend_at(c->p, (size_t)k, nv, plen) != PARAMS_OK) {
			c->full = 1;
			return;
		}
		/* Written once: php-fpm would take a later duplicate. */
		while ((k = params_find_next(c->p, k, targets[i], nlen)) != -1)
			params_remove_at(c->p, (size_t)k);
	}
	params_remove(c->p, uri->n_str, uri->n_len);
	c->t->t_done |= NORM_R_PREFIX;
	TR(c, 0, "%s \"%s\": prefix %s added to SCRIPT_NAME, REQUEST_URI, "
	    "DOCUMENT_URI, PHP_SELF; %s removed", uri->n_str, b, nv,
	    uri->n_str);
}

/*
 * SPEC §4.10: the headers a TLS terminator uses to say who the client is.
 * A client can send any of them, so none ever reaches PHP, whatever
 * client_cert_from says (CVE-2026-46579 was a router that left them).
 * PROXY_PROTOCOL_SSL_* are the daemon's own carriers of PP2_TYPE_SSL.
 */
static const struct norm_name cert_headers[] = {
	{ PARAMS_STR("HTTP_SSL_CLIENT_") }, { PARAMS_STR("HTTP_X_SSL_CLIENT_") },
	{ PARAMS_STR("HTTP_X_CLIENT_CERT") },
	{ PARAMS_STR("HTTP_X_FORWARDED_CLIENT_CERT") },
	{ PARAMS_STR("HTTP_X_AMZN_MTLS_") },
	{ PARAMS_STR("PROXY_PROTOCOL_SSL_") },	/* the last: see cert_param() */
};
static const struct norm_name n_ssl_client = { PARAMS_STR("SSL_CLIENT_") };

/* What step 10 found, before it is written. */
struct cert_found {
	char		cf_verify[128];	/* SUCCESS, NONE, FAILED:reason */
	struct cert_id	cf_id;
	char		cf_pem[CERT_PEM_MAX + 1]; /* the leaf, when carried */
	size_t		cf_pemlen;
	char		cf_xbuf[4096];	/* XFCC's unquoted values */
};

static int
has_prefix(const uint8_t *s, size_t len, const struct norm_name *pfx)
{
	return (len >= pfx->n_len && memcmp(s, pfx->n_str, pfx->n_len) == 0);
}

/* A param by its name given as a C string: 1 and *v when present. */
static int
cget(const struct ctx *c, const char *name, struct fwd_span *v)
{
	struct norm_name	n = { name, strlen(name) };

	return (get(c, &n, v));
}

static void
verdict_set(struct cert_found *f, const char *v, size_t len)
{
	if (len >= sizeof(f->cf_verify))
		len = sizeof(f->cf_verify) - 1;
	memcpy(f->cf_verify, v, len);
	f->cf_verify[len] = '\0';
}

/* A text field of the source into dst (cap bytes), cut to fit. */
static void
field(char *dst, size_t cap, const struct fwd_span *v)
{
	size_t	n = v->len < cap - 1 ? v->len : cap - 1;

	memcpy(dst, v->s, n);
	dst[n] = '\0';
}

/*
 * The certificate the source carries (URL-encoded PEM): every field from
 * it.  The leaf alone is kept for SSL_CLIENT_CERT.  0, or -1 (warned).
 */
static int
cert_pem(struct ctx *c, struct cert_found *f, const char *src,
    const struct fwd_span *v)
{
	const char	*why, *begin, *end;
	size_t		 n;

	n = cert_urldecode(v->s, v->len, f->cf_pem, CERT_PEM_MAX);
	if (n == (size_t)-1) {
		TR(c, NORM_W_CERT, "%s: the certificate is not URL-encoded "
		    "PEM of at most 16 KiB: no identity", src);
		return (-1);
	}
	f->cf_pem[n] = '\0';
	if (cert_from_pem(f->cf_pem, n, &f->cf_id, &why) != 0) {
		TR(c, NORM_W_CERT, "%s: the certificate does not parse (%s): "
		    "no identity", src, why);
		return (-1);
	}
	/* The leaf's block alone: no text before it, no chain after. */
	begin = strstr(f->cf_pem, "-----BEGIN CERTIFICATE-----");
	end = strstr(f->cf_pem, "-----END CERTIFICATE-----");
	if (begin != NULL && end != NULL && end > begin) {
		n = (size_t)(end - f->cf_pem) + 25;
		if (f->cf_pem[n] == '\r')
			n++;
		if (f->cf_pem[n] == '\n')
			n++;
		f->cf_pemlen = n - (size_t)(begin - f->cf_pem);
		memmove(f->cf_pem, begin, f->cf_pemlen);
	}
	TR(c, 0, "%s: certificate of %s, serial %s, issued by %s", src,
	    f->cf_id.ci_s_dn, f->cf_id.ci_serial, f->cf_id.ci_i_dn);
	return (0);
}

/* A text field that disagrees with the certificate loses (warned). */
static void
cert_agree(struct ctx *c, const char *src, const char *what,
    const struct fwd_span *v, const char *fromcert)
{
	char	b[TRAIL_VALUE_MAX + 8];

	if (v->len == strlen(fromcert) && memcmp(v->s, fromcert, v->len) == 0)
		return;
	TR(c, NORM_W_CERT, "%s: %s \"%s\" disagrees with the certificate's "
	    "\"%s\": the certificate wins", src, what, esc(v->s, v->len, b,
	    sizeof(b)), fromcert);
}

/* The identity from DN text alone (no certificate carried). */
static void
cert_text(struct cert_found *f, const struct fwd_span *subject,
    const struct fwd_span *issuer)
{
	if (subject != NULL) {
		field(f->cf_id.ci_s_dn, sizeof(f->cf_id.ci_s_dn), subject);
		cert_dn_attr(subject->s, subject->len, "CN", f->cf_id.ci_s_cn,
		    sizeof(f->cf_id.ci_s_cn));
		cert_dn_attr(subject->s, subject->len, "emailAddress",
		    f->cf_id.ci_s_email, sizeof(f->cf_id.ci_s_email));
	}
	if (issuer != NULL)
		field(f->cf_id.ci_i_dn, sizeof(f->cf_id.ci_i_dn), issuer);
}

/* ingress-nginx: ssl-client-verify, -subject-dn, -issuer-dn, -cert. */
static void
cert_nginx(struct ctx *c, struct cert_found *f)
{
	static const char	 src[] = "HTTP_SSL_CLIENT_VERIFY";
	struct fwd_span		 v, s = { 0 }, i = { 0 }, pem;
	int			 hs, hi;
	char			 b[TRAIL_VALUE_MAX + 8];

	if (!cget(c, src, &v)) {
		TR(c, 0, "client_cert_from nginx: no %s: no certificate", src);
		return;
	}
	if (!(v.len == 7 && memcmp(v.s, "SUCCESS", 7) == 0) &&
	    !(v.len == 4 && memcmp(v.s, "NONE", 4) == 0) &&
	    !(v.len > 7 && memcmp(v.s, "FAILED:", 7) == 0)) {
		TR(c, NORM_W_CERT, "%s \"%s\" is not one of nginx's values "
		    "(SUCCESS, FAILED:reason, NONE): no certificate", src,
		    esc(v.s, v.len, b, sizeof(b)));
		return;
	}
	verdict_set(f, v.s, v.len);
	TR(c, 0, "client_cert_from nginx: %s=%s", src, f->cf_verify);
	if (strcmp(f->cf_verify, "SUCCESS") != 0)
		return;
	hs = cget(c, "HTTP_SSL_CLIENT_SUBJECT_DN", &s);
	hi = cget(c, "HTTP_SSL_CLIENT_ISSUER_DN", &i);
	if (cget(c, "HTTP_SSL_CLIENT_CERT", &pem)) {
		if (cert_pem(c, f, "HTTP_SSL_CLIENT_CERT", &pem) != 0) {
			verdict_set(f, "NONE", 4);
			return;
		}
		if (hs)
			cert_agree(c, src, "subject", &s, f->cf_id.ci_s_dn);
		if (hi)
			cert_agree(c, src, "issuer", &i, f->cf_id.ci_i_dn);
		return;
	}
	cert_text(f, hs ? &s : NULL, hi ? &i : NULL);
}

/* Envoy's X-Forwarded-Client-Cert: exactly one element (SANITIZE_SET). */
static void
cert_xfcc(struct ctx *c, struct cert_found *f)
{
	static const char	 src[] = "HTTP_X_FORWARDED_CLIENT_CERT";
	struct cert_xfcc	 x;
	enum cert_xfcc_status	 st;
	struct fwd_span		 v, cert, subj;

	if (!cget(c, src, &v)) {
		TR(c, 0, "client_cert_from xfcc: no %s: no certificate", src);
		return;
	}
	if ((st = cert_xfcc_parse(v.s, v.len, &x, f->cf_xbuf,
	    sizeof(f->cf_xbuf))) != CERT_XFCC_OK) {
		TR(c, NORM_W_CERT, "%s: %s: no identity", src,
		    cert_xfcc_strerror(st));
		return;
	}
	if (x.x_elements != 1) {
		TR(c, NORM_W_CERT, "%s has %zu elements, not 1 (set the edge "
		    "to SANITIZE_SET): no identity", src, x.x_elements);
		return;
	}
	verdict_set(f, "SUCCESS", 7);
	TR(c, 0, "client_cert_from xfcc: one element: SUCCESS");
	subj.s = x.x_subject.s;
	subj.len = x.x_subject.len;
	if (x.x_cert.len > 0) {
		cert.s = x.x_cert.s;
		cert.len = x.x_cert.len;
		if (cert_pem(c, f, "HTTP_X_FORWARDED_CLIENT_CERT Cert", &cert) !=
		    0) {
			verdict_set(f, "NONE", 4);
			return;
		}
		if (subj.len > 0)
			cert_agree(c, src, "Subject", &subj, f->cf_id.ci_s_dn);
		return;
	}
	cert_text(f, subj.len > 0 ? &subj : NULL, NULL);
}

/*
 * AWS ALB.  Verify mode (the ALB checked the chain against its trust
 * store) sends _SUBJECT, _ISSUER, _SERIAL_NUMBER, _VALIDITY and _LEAF:
 * SUCCESS.  Passthrough mode sends the chain alone, unverified: no
 * identity is vouched for.
 */
static void
cert_alb(struct ctx *c, struct cert_found *f)
{
	static const char alb_pass[] = "FAILED:not verified by the load "
			    "balancer (ALB passthrough mode)";
	struct fwd_span	 s = { 0 }, i = { 0 }, sn = { 0 }, val = { 0 };
	struct fwd_span	 leaf = { 0 }, pass;
	int		 hs, hi, hsn, hv, hl;
	size_t		 k, n;

	hs = cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT", &s);
	hi = cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT_ISSUER", &i);
	hsn = cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT_SERIAL_NUMBER", &sn);
	hv = cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT_VALIDITY", &val);
	hl = cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT_LEAF", &leaf);
	if (!(hs || hi || hsn || hv || hl)) {
		if (cget(c, "HTTP_X_AMZN_MTLS_CLIENTCERT", &pass)) {
			verdict_set(f, alb_pass, strlen(alb_pass));
			TR(c, 0, "client_cert_from alb: passthrough mode, the "
			    "ALB verified nothing: SSL_CLIENT_VERIFY=%s",
			    f->cf_verify);
		} else
			TR(c, 0, "client_cert_from alb: no "
			    "X-Amzn-Mtls-Clientcert-* header: no certificate");
		return;
	}
	verdict_set(f, "SUCCESS", 7);
	TR(c, 0, "client_cert_from alb: verify mode: SUCCESS");
	if (hl) {
		if (cert_pem(c, f, "HTTP_X_AMZN_MTLS_CLIENTCERT_LEAF",
		    &leaf) != 0) {
			verdict_set(f, "NONE", 4);
			return;
		}
		if (hs)
			cert_agree(c, "alb", "subject", &s, f->cf_id.ci_s_dn);
		if (hi)
			cert_agree(c, "alb", "issuer", &i, f->cf_id.ci_i_dn);
		return;
	}
	cert_text(f, hs ? &s : NULL, hi ? &i : NULL);
	if (hsn && sn.len < sizeof(f->cf_id.ci_serial)) {
		for (k = n = 0; k < sn.len; k++)
			if (isxdigit((unsigned char)sn.s[k]))
				f->cf_id.ci_serial[n++] =
				    (char)toupper((unsigned char)sn.s[k]);
		f->cf_id.ci_serial[n] = '\0';
	}
	if (hv && cert_alb_validity(val.s, val.len, f->cf_id.ci_v_start,
	    f->cf_id.ci_v_end) != 0)
		TR(c, NORM_W_CERT, "alb: X-Amzn-Mtls-Clientcert-Validity is "
		    "not NotBefore=...;NotAfter=...: left out");
}

/* A decimal param the daemon wrote; -1 when absent or not a number. */
static long
cnum(const struct ctx *c, const char *name)
{
	struct fwd_span	v;
	long		n = 0;
	size_t		k;

	if (!cget(c, name, &v) || v.len > 10)
		return (-1);
	for (k = 0; k < v.len; k++) {
		if (v.s[k] < '0' || v.s[k] > '9')
			return (-1);
		n = n * 10 + (v.s[k] - '0');
	}
	return (n);
}

/*
 * PROXY v2 PP2_TYPE_SSL, as the daemon passed it on: SUCCESS only with
 * the client-TLS bit, a certificate bit (PP2_CLIENT_CERT_CONN or _SESS)
 * and verify 0 (HAProxy sends 0 also when no certificate was given).
 * PP2_SUBTYPE_SSL_CN names the client only with a certificate bit.
 */
static void
cert_proxy(struct ctx *c, struct cert_found *f)
{
	struct fwd_span	cn = { 0 }, pem;
	int		hcn;
	long		flags = cnum(c, "PROXY_PROTOCOL_SSL_CLIENT");
	long		verify = cnum(c, "PROXY_PROTOCOL_SSL_VERIFY");
	int		n;

	if (flags < 0 || !(flags & 0x01)) {
		TR(c, 0, "client_cert_from proxy_protocol: %s: no "
		    "certificate", flags < 0 ? "no PP2_TYPE_SSL" :
		    "the client did not use TLS");
		return;
	}
	if (!(flags & 0x06)) {
		TR(c, 0, "client_cert_from proxy_protocol: TLS without a "
		    "client certificate (client 0x%02lx)", flags);
		return;
	}
	if (verify != 0) {
		n = snprintf(f->cf_verify, sizeof(f->cf_verify),
		    "FAILED:X509 verify error %ld", verify);
		(void)n;
		TR(c, 0, "client_cert_from proxy_protocol: verify %ld: %s",
		    verify, f->cf_verify);
		return;
	}
	verdict_set(f, "SUCCESS", 7);
	hcn = cget(c, "PROXY_PROTOCOL_SSL_CN", &cn);
	if (hcn)
		field(f->cf_id.ci_s_cn, sizeof(f->cf_id.ci_s_cn), &cn);
	TR(c, 0, "client_cert_from proxy_protocol: client 0x%02lx, verify 0: "
	    "SUCCESS, CN %s", flags, f->cf_id.ci_s_cn[0] ? f->cf_id.ci_s_cn :
	    "not sent");
	if (!cget(c, "PROXY_PROTOCOL_SSL_CERT", &pem))
		return;
	memset(&f->cf_id, 0, sizeof(f->cf_id));
	if (cert_pem(c, f, "PP2_SUBTYPE_SSL_CLIENT_CERT", &pem) != 0) {
		verdict_set(f, "NONE", 4);
		return;
	}
	if (hcn)
		cert_agree(c, "proxy_protocol", "CN", &cn, f->cf_id.ci_s_cn);
}

/*
 * Is the param a certificate header (or, with ssl_client, an SSL_CLIENT_*
 * param)?  Run on every param of every request: most names leave at
 * their first or sixth byte.
 */
static int
cert_param(const uint8_t *nm, size_t len, int ssl_client)
{
	size_t	k;

	switch (len > 6 ? nm[0] : 0) {
	case 'H':
		if (nm[5] != 'S' && nm[5] != 'X')
			return (0);
		for (k = 0; k < 5; k++)
			if (has_prefix(nm, len, &cert_headers[k]))
				return (1);
		return (0);
	case 'P':
		return (has_prefix(nm, len, &cert_headers[5]));
	case 'S':
		return (ssl_client && has_prefix(nm, len, &n_ssl_client));
	default:
		return (0);
	}
}

/*
 * Remove every certificate header (always), and with a source configured
 * every SSL_CLIENT_* param too: the policy's values replace them.
 */
static void
cert_strip(struct ctx *c, int ssl_client)
{
	const struct param	*e;
	const uint8_t		*nm;
	size_t			 i;

	for (i = 0; i < c->p->p_count; i++) {
		if ((e = params_at(c->p, i)) == NULL)
			continue;
		nm = params_name(c->p, e);
		if (!cert_param(nm, e->p_nlen, ssl_client))
			continue;
		TR(c, 0, "removed (client certificate): %.*s", (int)e->p_nlen,
		    (const char *)nm);
		params_remove_at(c->p, i);
	}
}

/* Apache mod_ssl's params: the verdict, and the identity on SUCCESS. */
static void
cert_write(struct ctx *c, const struct cert_found *f)
{
	const struct cert_id	*id = &f->cf_id;
	const struct {
		const char	*name;
		const char	*v;
	} out[] = {
		{ "SSL_CLIENT_S_DN", id->ci_s_dn },
		{ "SSL_CLIENT_S_DN_CN", id->ci_s_cn },
		{ "SSL_CLIENT_S_DN_Email", id->ci_s_email },
		{ "SSL_CLIENT_I_DN", id->ci_i_dn },
		{ "SSL_CLIENT_M_SERIAL", id->ci_serial },
		{ "SSL_CLIENT_V_START", id->ci_v_start },
		{ "SSL_CLIENT_V_END", id->ci_v_end },
	};
	size_t	i;

	set(c, "SSL_CLIENT_VERIFY", f->cf_verify, strlen(f->cf_verify));
	TR(c, 0, "SSL_CLIENT_VERIFY=%s", f->cf_verify);
	if (strcmp(f->cf_verify, "SUCCESS") != 0)
		return;
	c->t->t_done |= NORM_R_CERT;
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		if (out[i].v[0] == '\0')
			continue;
		set(c, out[i].name, out[i].v, strlen(out[i].v));
		TR(c, 0, "%s=%s", out[i].name, out[i].v);
	}
	if (f->cf_pemlen > 0) {
		set(c, "SSL_CLIENT_CERT", f->cf_pem, f->cf_pemlen);
		TR(c, 0, "SSL_CLIENT_CERT: the leaf, %zu bytes of PEM",
		    f->cf_pemlen);
	}
}

/* SPEC §4.10: on every request, trusted or not. */
static void
cert_step(struct ctx *c)
{
	if (c->pol->np_cert == NORM_CERT_NONE)
		cert_strip(c, 0);
	else
		cert_source(c);
}

/*
 * Not inlined: its buffers (a decoded PEM) stay out of the frames of the
 * requests that have no source configured.
 */
static __attribute__((noinline)) void
cert_source(struct ctx *c)
{
	struct cert_found	f;

	memset(&f.cf_id, 0, sizeof(f.cf_id));
	f.cf_pemlen = 0;
	verdict_set(&f, "NONE", 4);
	if (!c->trusted)
		TR(c, 0, "client_cert_from: untrusted peer: no certificate");
	else if (c->pol->np_cert == NORM_CERT_NGINX)
		cert_nginx(c, &f);
	else if (c->pol->np_cert == NORM_CERT_XFCC)
		cert_xfcc(c, &f);
	else if (c->pol->np_cert == NORM_CERT_ALB)
		cert_alb(c, &f);
	else
		cert_proxy(c, &f);
	cert_strip(c, 1);
	cert_write(c, &f);
}

static int
by_length(const void *a, const void *b)
{
	const struct norm_name	*x = a, *y = b;
	size_t			 lx = x->n_len < 64 ? x->n_len : 64;
	size_t			 ly = y->n_len < 64 ? y->n_len : 64;

	return (lx < ly ? -1 : lx > ly);
}

void
norm_fwd_index(struct norm_policy *np, struct norm_name *v, size_t n)
{
	size_t	i, b;

	np->np_fwd_indexed = 0;
	if (n > 65535)
		return;
	qsort(v, n, sizeof(*v), by_length);
	np->np_fwd.nn_v = v;
	np->np_fwd.nn_n = n;
	for (b = 0, i = 0; b <= 65; b++) {
		while (i < n && (v[i].n_len < 64 ? v[i].n_len : 64) < b)
			i++;
		np->np_fwd_at[b] = (unsigned short)i;
	}
	np->np_fwd_indexed = 1;
}

enum norm_verdict
norm_run(const struct norm_policy *pol, struct params *p,
    struct norm_trail *t)
{
	struct ctx		 c;
	struct norm_names	 uri = { &pol->np_uri, pol->np_uri.n_len ? 1 : 0 };
	enum norm_verdict	 verdict;
	char			 names[256];
	int			 s, port_set;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	c.pol = pol;
	c.p = p;
	c.t = t;
	c.c_index = -1;
	c.host_port = -1;
	for (i = 0; i < pol->np_fwd.nn_n; i++)
		c.fwd_lens |= (uint64_t)1 << (pol->np_fwd.nn_v[i].n_len < 64 ?
		    pol->np_fwd.nn_v[i].n_len : 0);

	/* §4.8 first: a request we refuse is not worth rewriting. */
	if ((verdict = hygiene(&c)) != NORM_OK)
		return (verdict);
	for (i = 0; i < pol->np_drop.nn_n; i++)
		if (params_remove(p, pol->np_drop.nn_v[i].n_str,
		    pol->np_drop.nn_v[i].n_len) > 0)
			TR(&c, 0, "%s removed (drop_params)",
			    pol->np_drop.nn_v[i].n_str);
	last_wins(&c);
	join_repeated(&c, &pol->np_client);
	join_repeated(&c, &pol->np_proto);
	join_repeated(&c, &pol->np_port);
	join_repeated(&c, &pol->np_host);
	join_repeated(&c, &uri);

	/* §4.1 and §4.2. */
	c.trusted = peer(&c);
	if (c.trusted)
		t->t_done |= NORM_R_TRUSTED;
	if (!c.trusted) {
		untrusted(&c);
		if (pol->np_assume_secure) {
			secure(&c, FWD_SCHEME_HTTPS, "assume_secure_protocol");
			port(&c, FWD_SCHEME_HTTPS);
		}
		cert_step(&c);
		return (c.full ? NORM_FULL : NORM_OK);
	}
	client(&c);
	s = scheme(&c);
	host(&c);
	port_set = port(&c, (enum fwd_scheme)s);
	agree(&c, port_set);
	prefix(&c);
	cert_step(&c);
	/* §4.9: whatever the app reads, it reads one answer. */
	if (!pol->np_keep && scan_fwd(&c, 1, "forwarded_after",
	    tr_on(&c, 0) ? names : NULL, sizeof(names)))
		TR(&c, 0, "forwarded_after = strip: %s removed", names);
	return (c.full ? NORM_FULL : NORM_OK);
}
