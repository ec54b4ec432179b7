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

#include "proto/fwd.h"
#include "proto/normalize.h"

#define TRAIL_VALUE_MAX	120	/* longer values are cut in the trail */

struct ctx {
	const struct norm_policy *pol;
	struct params		*p;
	struct norm_trail	*t;
	int			 full;		/* arena ran out */
	int			 trusted;
	struct addr		 peer;
	/* Step 3 result, for hop alignment in steps 4-6. */
	const struct norm_name	*c_hdr;		/* client header used */
	int			 c_forwarded;	/* it was HTTP_FORWARDED */
	size_t			 c_total;	/* entries in that list */
	long			 c_index;	/* chosen entry, -1 if none */
	struct fwd_hop		 c_hop;		/* the chosen entry */
	int			 host_port;	/* port of the new host, -1 */
};

static const struct norm_name n_forwarded = { PARAMS_STR("HTTP_FORWARDED") };
static const struct norm_name n_remote_addr = { PARAMS_STR("REMOTE_ADDR") };
static const struct norm_name n_remote_port = { PARAMS_STR("REMOTE_PORT") };

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
static void	join_repeated(struct ctx *, const struct norm_names *);
static void	remove_names(struct ctx *, const struct norm_names *);
static int	present(struct ctx *, const struct norm_names *, char *,
		    size_t *);
static void	untrusted(struct ctx *);
static void	client(struct ctx *);
static void	client_apply(struct ctx *, const struct fwd_hop *);
static int	pick(struct ctx *, const struct norm_names *, int,
		    struct fwd_span *, const struct norm_name **);
static int	scheme(struct ctx *);
static void	secure(struct ctx *, enum fwd_scheme, const char *);
static void	host(struct ctx *);
static void	port(struct ctx *, enum fwd_scheme);
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
 * SPEC §4.8.  php-fpm cuts a name at NUL or '=' ("HTTPS\0x" is HTTPS), so
 * such names could smuggle a param past the policy.
 */
static enum norm_verdict
hygiene(struct ctx *c)
{
	const struct norm_policy *pol = c->pol;
	const struct param	*e;
	const uint8_t		*s;
	size_t			 i, j, k;
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
		for (j = 0; j < e->p_nlen; j++)
			if (s[j] < 0x20 || s[j] == 0x7f || s[j] == '=') {
				TR(c, 0, "reject 400: param name \"%s\" has "
				    "NUL, '=' or a control byte",
				    esc((const char *)s, e->p_nlen, b,
				    sizeof(b)));
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
 * SPEC §4.3: nginx 1.22 sends one param per header line and php-fpm would
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

static void
remove_names(struct ctx *c, const struct norm_names *nn)
{
	size_t	i;

	for (i = 0; i < nn->nn_n; i++)
		params_remove(c->p, nn->nn_v[i].n_str, nn->nn_v[i].n_len);
}

/* Append the names of nn present in the request to buf; 1 if any. */
static int
present(struct ctx *c, const struct norm_names *nn, char *buf, size_t *len)
{
	size_t	i, cap = 256;
	int	any = 0;
	int	n;

	for (i = 0; i < nn->nn_n; i++) {
		if (params_find(c->p, nn->nn_v[i].n_str,
		    nn->nn_v[i].n_len) == -1)
			continue;
		any = 1;
		if (*len < cap) {
			n = snprintf(buf + *len, cap - *len, "%s%s",
			    *len ? "," : "", nn->nn_v[i].n_str);
			if (n > 0)
				*len += (size_t)n < cap - *len ? (size_t)n :
				    cap - *len - 1;
		}
	}
	return (any);
}

/* SPEC §4.2: an untrusted peer's forwarded headers are never used. */
static void
untrusted(struct ctx *c)
{
	const struct norm_policy *pol = c->pol;
	struct norm_names	 uri = { &pol->np_uri, pol->np_uri.n_len ? 1 : 0 };
	char			 names[256] = "";
	size_t			 len = 0;
	int			 any = 0;

	any |= present(c, &pol->np_client, names, &len);
	any |= present(c, &pol->np_proto, names, &len);
	any |= present(c, &pol->np_port, names, &len);
	any |= present(c, &pol->np_host, names, &len);
	any |= present(c, &uri, names, &len);
	if (!any)
		return;
	TR(c, NORM_W_UNTRUSTED, "untrusted peer sent %s: %s", names,
	    pol->np_strip ? "removed" : "ignored");
	if (!pol->np_strip)
		return;
	remove_names(c, &pol->np_client);
	remove_names(c, &pol->np_proto);
	remove_names(c, &pol->np_port);
	remove_names(c, &pol->np_host);
	remove_names(c, &uri);
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
	if (addr_equal(&h->h_addr, &c->peer)) {
		TR(c, 0, "client %s is the peer: REMOTE_ADDR unchanged", a);
		return;
	}
	if (get(c, &n_remote_addr, &old))
		set(c, "REALIP_REMOTE_ADDR", old.s, old.len);
	if (get(c, &n_remote_port, &old))
		set(c, "REALIP_REMOTE_PORT", old.s, old.len);
	set(c, "REMOTE_ADDR", a, alen);
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

static void
client(struct ctx *c)
{
	const struct norm_policy *pol = c->pol;
	struct fwd_hop		 hops[FWD_MAX_HOPS];
	const struct fwd_hop	*h;
	struct fwd_span		 v;
	const struct cidr	*m;
	char			 b[TRAIL_VALUE_MAX + 8], cb[CIDR_STRLEN];
	size_t			 i, n = 0;
	long			 found = -1, k;

	for (i = 0; i < pol->np_client.nn_n; i++)
		if (get(c, &pol->np_client.nn_v[i], &v))
			break;
	if (i == pol->np_client.nn_n) {
		TR(c, 0, "no client header present: REMOTE_ADDR unchanged");
		return;
	}
	c->c_hdr = &pol->np_client.nn_v[i];
	c->c_forwarded = is_name(&n_forwarded, c->c_hdr->n_str,
	    c->c_hdr->n_len);
	n = c->c_forwarded ?
	    fwd_forwarded_parse(v.s, v.len, hops, FWD_MAX_HOPS, &c->c_total) :
	    fwd_xff_parse(v.s, v.len, hops, FWD_MAX_HOPS, &c->c_total);
	TR(c, 0, "%s: %zu entries \"%s\"%s", c->c_hdr->n_str, c->c_total,
	    esc(v.s, v.len, b, sizeof(b)),
	    c->c_total > n ? " (only the rightmost 64 examined)" : "");
	for (k = 0; k < (long)n; k++) {
		/* rightmost_untrusted walks right to left, SPEC §4.3. */
		h = &hops[pol->np_pick == NORM_PICK_RIGHTMOST ? (long)n - 1 -
		    k : k];
		if (!h->h_hasfor)
			continue;
		if (!h->h_isaddr) {
			TR(c, h->h_ident ? 0 : NORM_W_CLIENT, "hop %zu \"%s\" "
			    "is not an address: %s", h->h_index + 1,
			    span_esc(&h->h_text, b), pol->np_pick ==
			    NORM_PICK_LEFTMOST ? "skipped" : "walk ends");
			if (pol->np_pick == NORM_PICK_LEFTMOST)
				continue;
			break;
		}
		if ((m = cidr_set_match(pol->np_trusted, &h->h_addr)) != NULL) {
			TR(c, 0, "hop %zu %s trusted by %s", h->h_index + 1,
			    span_esc(&h->h_text, b), cidr_str(m, cb));
			if (pol->np_pick == NORM_PICK_RIGHTMOST)
				found = h - hops;
			continue;
		}
		TR(c, 0, "hop %zu %s untrusted: client", h->h_index + 1,
		    span_esc(&h->h_text, b));
		found = h - hops;
		break;
	}
	if (found == -1) {
		TR(c, 0, "no client address found: REMOTE_ADDR unchanged");
		return;
	}
	c->c_index = (long)hops[found].h_index;
	c->c_hop = hops[found];
	if (k == (long)n && pol->np_pick == NORM_PICK_RIGHTMOST)
		TR(c, 0, "every hop trusted: client is the leftmost");
	client_apply(c, &hops[found]);
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
}

/* SPEC §4.5: only when step 4 set the scheme. */
static void
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
	if (p < 0)
		p = s == FWD_SCHEME_HTTPS ? 443 : 80;
	n = snprintf(pb, sizeof(pb), "%d", p);
	set(c, "SERVER_PORT", pb, (size_t)n);
	TR(c, 0, "SERVER_PORT=%d (%s)", p, why);
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
	struct fwd_span		 v;
	const struct cidr	*m;
	enum norm_verdict	 verdict;
	char			 b[TRAIL_VALUE_MAX + 8], cb[CIDR_STRLEN];
	int			 s;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	c.pol = pol;
	c.p = p;
	c.t = t;
	c.c_index = -1;
	c.host_port = -1;

	/* §4.8 first: a request we refuse is not worth rewriting. */
	if ((verdict = hygiene(&c)) != NORM_OK)
		return (verdict);
	for (i = 0; i < pol->np_drop.nn_n; i++)
		if (params_remove(p, pol->np_drop.nn_v[i].n_str,
		    pol->np_drop.nn_v[i].n_len) > 0)
			TR(&c, 0, "%s removed (drop_params)",
			    pol->np_drop.nn_v[i].n_str);
	join_repeated(&c, &pol->np_client);
	join_repeated(&c, &pol->np_proto);
	join_repeated(&c, &pol->np_port);
	join_repeated(&c, &pol->np_host);
	join_repeated(&c, &uri);

	/* §4.1 and §4.2. */
	v.s = "";
	v.len = 0;
	if (!get(&c, &n_remote_addr, &v) ||
	    addr_parse(v.s, v.len, &c.peer) != 0) {
		TR(&c, NORM_W_PEER, "REMOTE_ADDR \"%s\" is not an IP address: "
		    "request untrusted", esc(v.s, v.len, b, sizeof(b)));
		m = NULL;
	} else if ((m = cidr_set_match(pol->np_trusted, &c.peer)) == NULL) {
		TR(&c, 0, "peer %s untrusted", esc(v.s, v.len, b, sizeof(b)));
	} else {
		TR(&c, 0, "peer %s trusted by %s", esc(v.s, v.len, b,
		    sizeof(b)), cidr_str(m, cb));
	}
	c.trusted = m != NULL;
	if (m == NULL) {
		untrusted(&c);
		if (pol->np_assume_secure) {
			secure(&c, FWD_SCHEME_HTTPS, "assume_secure_protocol");
			port(&c, FWD_SCHEME_HTTPS);
		}
	} else {
		client(&c);
		s = scheme(&c);
		host(&c);
		if (s != FWD_SCHEME_BAD)
			port(&c, (enum fwd_scheme)s);
		prefix(&c);
	}
	return (c.full ? NORM_FULL : NORM_OK);
}
