/*
 * The rewrite policy, SPEC §4.  Steps are numbered as in the spec.
 *
 * Values read from params are spans into the params arena.  They stay
 * valid while we work: the arena never moves, removal only marks entries,
 * and a value is only overwritten in place when that same param is set,
 * which never happens to a forwarded header we are still reading.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
	const struct norm_names	*nn = &c->pol->np_fwd;
	size_t			 i;

	/* Most params fail on the length alone (fwd_lens, set per run). */
	if (len == 0 || (len >= 64 ? !(c->fwd_lens & 1) :
	    !(c->fwd_lens >> len & 1)))
		return (0);
	for (i = 0; i < nn->nn_n; i++)
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
		return (c.full ? NORM_FULL : NORM_OK);
	}
	client(&c);
	s = scheme(&c);
	host(&c);
	port_set = port(&c, (enum fwd_scheme)s);
	agree(&c, port_set);
	prefix(&c);
	/* §4.9: whatever the app reads, it reads one answer. */
	if (!pol->np_keep && scan_fwd(&c, 1, "forwarded_after",
	    tr_on(&c, 0) ? names : NULL, sizeof(names)))
		TR(&c, 0, "forwarded_after = strip: %s removed", names);
	return (c.full ? NORM_FULL : NORM_OK);
}
