/*
 * Forwarded-header parsing and validation (SPEC §4.3 - §4.7).
 */
#include <string.h>

#include "proto/fwd.h"

static int	is_ows(char);
static struct fwd_span trim(const char *, const char *);
static size_t	next_elem(const char *, const char *, int);
static void	parse_element(const char *, size_t, struct fwd_hop *);
static int	pair_value(const char **, const char *, struct fwd_span *);
static int	eq_nocase(const char *, size_t, const char *);
static int	dns_name_ok(const char *, size_t);
static int	dot_segment(const char *, size_t);
static int	is_ident(const struct fwd_span *);

static int
is_ows(char c)
{
	return (c == ' ' || c == '\t');
}

static struct fwd_span
trim(const char *b, const char *e)
{
	struct fwd_span	sp;

	while (b < e && is_ows(*b))
		b++;
	while (e > b && is_ows(e[-1]))
		e--;
	sp.s = b;
	sp.len = (size_t)(e - b);
	return (sp);
}

/* RFC 7239 §6: "unknown" and obfuscated identifiers ("_" first). */
static int
is_ident(const struct fwd_span *sp)
{
	return (sp->len > 0 && (sp->s[0] == '_' || (sp->len == 7 &&
	    strncmp(sp->s, "unknown", 7) == 0)));
}

static int
eq_nocase(const char *s, size_t len, const char *lit)
{
	size_t	i;
	char	c;

	if (strlen(lit) != len)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return (0);
	}
	return (1);
}

/*
 * Length of the element starting at b, up to the next list comma.  With
 * quotes set, commas inside quoted-strings (RFC 7230 quoted-pair aware)
 * do not split.
 */
static size_t
next_elem(const char *b, const char *e, int quotes)
{
	const char	*p = b;
	int		 inq = 0;

	for (; p < e; p++) {
		if (inq) {
			if (*p == '\\' && p + 1 < e)
				p++;
			else if (*p == '"')
				inq = 0;
		} else if (*p == '"' && quotes) {
			inq = 1;
		} else if (*p == ',') {
			break;
		}
	}
	return ((size_t)(p - b));
}

size_t
fwd_list_split(const char *s, size_t len, struct fwd_span *out, size_t cap,
    size_t *total)
{
	const char	*e = s + len;
	struct fwd_span	 sp;
	size_t		 off, n, all = 0, skip, k = 0;

	/* Two passes: count, then keep only the rightmost cap entries. */
	for (off = 0; off <= len; off += n + 1) {
		n = next_elem(s + off, e, 0);
		if (trim(s + off, s + off + n).len > 0)
			all++;
	}
	skip = all > cap ? all - cap : 0;
	for (off = 0; off <= len && k < cap; off += n + 1) {
		n = next_elem(s + off, e, 0);
		sp = trim(s + off, s + off + n);
		if (sp.len == 0)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		out[k++] = sp;
	}
	*total = all;
	return (k);
}

size_t
fwd_xff_parse(const char *s, size_t len, struct fwd_hop *out, size_t cap,
    size_t *total)
{
	struct fwd_span	 sp[FWD_MAX_HOPS];
	size_t		 i, n;

	if (cap > FWD_MAX_HOPS)
		cap = FWD_MAX_HOPS;
	n = fwd_list_split(s, len, sp, cap, total);
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].h_text = sp[i];
		out[i].h_hasfor = 1;
		out[i].h_index = *total - n + i;
		out[i].h_isaddr = addr_parse_hop(sp[i].s, sp[i].len,
		    &out[i].h_addr, &out[i].h_port) == 0;
		out[i].h_ident = !out[i].h_isaddr && is_ident(&sp[i]);
	}
	return (n);
}

/*
 * Read one value (token or quoted-string) at *pp.  Quoted-pairs are not
 * unescaped: no address, host or scheme legitimately needs one, so a
 * value holding a backslash simply fails validation later.
 */
static int
pair_value(const char **pp, const char *e, struct fwd_span *v)
{
	const char	*p = *pp;

	if (p < e && *p == '"') {
		v->s = ++p;
		for (; p < e && *p != '"'; p++)
			if (*p == '\\' && p + 1 < e)
				p++;
		if (p >= e)
			return (-1);
		v->len = (size_t)(p - v->s);
		*pp = p + 1;
		return (0);
	}
	/*
	 * Tokens: accept any visible byte but the delimiters, so that the
	 * common mistake for=[2001:db8::1] still yields its address.
	 */
	v->s = p;
	while (p < e && *p != ';' && *p != ',' && *p != '"' &&
	    (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	v->len = (size_t)(p - v->s);
	*pp = p;
	return (v->len > 0 ? 0 : -1);
}

static void
parse_element(const char *b, size_t len, struct fwd_hop *h)
{
	const char	*p = b, *e = b + len, *name;
	struct fwd_span	 v, *dst;
	size_t		 nlen;

	memset(h, 0, sizeof(*h));
	h->h_port = -1;
	h->h_text = trim(b, e);
	while (p < e) {
		while (p < e && (is_ows(*p) || *p == ';'))
			p++;
		if (p >= e)
			break;
		name = p;
		while (p < e && *p != '=' && *p != ';' && !is_ows(*p))
			p++;
		nlen = (size_t)(p - name);
		if (p >= e || *p != '=' || nlen == 0 ||
		    (p++, pair_value(&p, e, &v) != 0))
			goto bad;
		while (p < e && is_ows(*p))
			p++;
		if (p < e && *p != ';')
			goto bad;
		dst = NULL;
		if (eq_nocase(name, nlen, "for")) {
			if (h->h_hasfor)
				goto bad;	/* RFC 7239 §4: once per element */
			h->h_hasfor = 1;
			h->h_text = v;
		} else if (eq_nocase(name, nlen, "proto")) {
			dst = &h->h_proto;
		} else if (eq_nocase(name, nlen, "host")) {
			dst = &h->h_host;
		}
		if (dst != NULL)
			*dst = v;
	}
	if (h->h_hasfor) {
		h->h_isaddr = addr_parse_hop(h->h_text.s, h->h_text.len,
		    &h->h_addr, &h->h_port) == 0;
		h->h_ident = !h->h_isaddr && is_ident(&h->h_text);
	}
	return;
bad:
	/* An element we cannot read is a hop that is not an address. */
	memset(h, 0, sizeof(*h));
	h->h_port = -1;
	h->h_text = trim(b, e);
	h->h_hasfor = 1;
	h->h_malformed = 1;
}

size_t
fwd_forwarded_parse(const char *s, size_t len, struct fwd_hop *out,
    size_t cap, size_t *total)
{
	const char	*e = s + len;
	struct fwd_hop	 tmp;
	size_t		 off, n, all = 0, skip, k = 0, ord = 0;

	for (off = 0; off <= len; off += n + 1) {
		n = next_elem(s + off, e, 1);
		if (trim(s + off, s + off + n).len > 0)
			all++;
	}
	skip = all > cap ? all - cap : 0;
	for (off = 0; off <= len && k < cap; off += n + 1) {
		n = next_elem(s + off, e, 1);
		if (trim(s + off, s + off + n).len == 0)
			continue;
		parse_element(s + off, n, &tmp);
		tmp.h_index = ord++;
		if (skip > 0) {
			skip--;
			continue;
		}
		out[k++] = tmp;
	}
	*total = all;
	return (k);
}

enum fwd_scheme
fwd_scheme(const char *s, size_t len)
{
	if (eq_nocase(s, len, "https") || eq_nocase(s, len, "on"))
		return (FWD_SCHEME_HTTPS);
	if (eq_nocase(s, len, "http") || eq_nocase(s, len, "off"))
		return (FWD_SCHEME_HTTP);
	return (FWD_SCHEME_BAD);
}

static int
dns_name_ok(const char *s, size_t len)
{
	size_t	i, label = 0;
	char	c;

	/* SPEC §4.6: one trailing dot (the absolute form) is allowed. */
	if (len > 1 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > FWD_MAX_HOST)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return (0);
		if (++label > 63)
			return (0);
	}
	return (label > 0);
}

int
fwd_host_check(const char *s, size_t len, int *port)
{
	size_t	hlen;

	return (fwd_host_parse(s, len, &hlen, port));
}

int
fwd_host_parse(const char *s, size_t len, size_t *hostlen, int *port)
{
	const char	*c;
	struct addr	 a;
	size_t		 hlen = len;

	*port = -1;
	*hostlen = 0;
	if (len > 0 && s[0] == '[') {
		if ((c = memchr(s, ']', len)) == NULL ||
		    addr_parse(s + 1, (size_t)(c - s - 1), &a) != 0)
			return (-1);
		hlen = (size_t)(c - s + 1);
		*hostlen = hlen;
		if (hlen == len)
			return (0);
		if (s[hlen] != ':')
			return (-1);
	} else {
		if ((c = memchr(s, ':', len)) != NULL)
			hlen = (size_t)(c - s);
		if (!dns_name_ok(s, hlen))
			return (-1);
		*hostlen = hlen;
		if (hlen == len)
			return (0);
	}
	if ((*port = addr_parse_port(s + hlen + 1, len - hlen - 1)) < 0) {
		*hostlen = 0;
		return (-1);
	}
	return (0);
}

/* 1 if the segment is "." or ".." (also spelt with %2e). */
static int
dot_segment(const char *s, size_t len)
{
	size_t	i = 0, dots = 0;

	while (i < len) {
		if (s[i] == '.') {
			i++;
		} else if (len - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
		    (s[i + 2] == 'e' || s[i + 2] == 'E')) {
			i += 3;
		} else {
			return (0);
		}
		dots++;
	}
	return (dots == 1 || dots == 2);
}

enum fwd_prefix
fwd_prefix_check(const char *s, size_t len, size_t *outlen, const char **why)
{
	size_t		 i, seg = 1;
	unsigned char	 c;

	*outlen = 0;
	*why = NULL;
	if (len == 0 || s[0] != '/') {
		*why = "does not start with /";
		return (FWD_PREFIX_BAD);
	}
	if (len > FWD_MAX_PREFIX) {
		*why = "longer than 1024 bytes";
		return (FWD_PREFIX_BAD);
	}
	for (i = 1; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (dot_segment(s + seg, i - seg)) {
				*why = "has a . or .. segment";
				return (FWD_PREFIX_BAD);
			}
			if (i < len && i == seg) {
				*why = "has //";
				return (FWD_PREFIX_BAD);
			}
			seg = i + 1;
			continue;
		}
		c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '?' || c == '#' ||
		    c == '\\') {
			*why = "has ?, #, \\, whitespace or a control byte";
			return (FWD_PREFIX_BAD);
		}
		if (c == '%' && len - i >= 3 && s[i + 1] == '0' &&
		    s[i + 2] == '0') {
			*why = "has %00";
			return (FWD_PREFIX_BAD);
		}
	}
	if (len == 1)
		return (FWD_PREFIX_ROOT);
	*outlen = s[len - 1] == '/' ? len - 1 : len;
	return (FWD_PREFIX_OK);
}
