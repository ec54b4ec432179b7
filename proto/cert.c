/*
 * Client-certificate identity (SPEC §4.10): the certificate itself read
 * with libcrypto into Apache mod_ssl's names, and the text forms the
 * terminators send (Envoy's XFCC, RFC 4514 DNs, URL-encoded PEM, AWS
 * ALB's validity header).
 *
 * Every libcrypto object is created and freed within one call, and the
 * thread's OpenSSL error queue is put back as it was (ERR_set_mark /
 * ERR_pop_to_mark): a refused certificate leaves no trace that a later
 * ERR_get_error() in the daemon would mistake for its own failure.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "proto/cert.h"

/* RFC 5280 §4.1.2.2: "Conforming CAs MUST NOT use serialNumber values
 * longer than 20 octets." */
#define SERIAL_OCTETS_MAX	20

/*
 * Apache's SSL_CLIENT_S_DN (ssl_var_lookup_ssl_cert_dn_oneline): RFC 2253
 * without ESC_MSB, so UTF-8 stays UTF-8 ("CN=Zoë", not "CN=Zo\C3\AB").
 */
#define DN_FLAGS	(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/* Where a value of cert_dn_attr() goes; buf NULL: only checked. */
struct dn_out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 cut;
};

/* A read position in cert_xfcc_parse(), and its copy buffer. */
struct xfcc_cur {
	const char	*p;
	const char	*e;
	char		*buf;
	size_t		 cap;
	size_t		 used;
};

static int	pem_fill(const char *, size_t, struct cert_id *,
		    const char **);
static int	der_fill(const unsigned char *, long, struct cert_id *,
		    const char **);
static int	id_fill(X509 *, struct cert_id *, const char **);
static int	bio_take(BIO *, char *, size_t);
static int	name_text(BIO *, const X509_NAME *, char *, size_t);
static int	name_attr(const X509_NAME *, int, char *, size_t);
static int	serial_hex(const ASN1_INTEGER *, char *, size_t);
static int	time_text(BIO *, const ASN1_TIME *, char *, size_t);
static int	hexval(char);
static int	eq_nocase(const char *, size_t, const char *);
static int	is_ows(char);
static void	dn_put(struct dn_out *, char);
static int	dn_type(const char **, const char *, const char **, size_t *);
static int	dn_pair(const char **, const char *, char *);
static int	dn_value(const char **, const char *, struct dn_out *);
static int	dn_quoted(const char **, const char *, struct dn_out *);
static int	dn_string(const char **, const char *, struct dn_out *);
static int	dn_hex(const char **, const char *);
static struct cert_span *xfcc_slot(struct cert_xfcc *, const char *,
		    size_t);
static enum cert_xfcc_status xfcc_element(struct xfcc_cur *,
		    struct cert_xfcc *);
static enum cert_xfcc_status xfcc_pair(struct xfcc_cur *,
		    struct cert_xfcc *);
static enum cert_xfcc_status xfcc_quoted(struct xfcc_cur *,
		    struct cert_span *);
static int	d2(const char *);
static int	alb_time(const char *, size_t, char *);
static int	alb_pair(const char *, const char *, char *, char *);

int
cert_from_pem(const char *pem, size_t len, struct cert_id *out,
    const char **why)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if (len > CERT_PEM_MAX) {
		*why = "larger than 16 KiB";
		return (-1);
	}
	/* PEM is text: a NUL would end OpenSSL's line reader early. */
	if (len == 0 || memchr(pem, '\0', len) != NULL) {
		*why = "not a PEM certificate";
		return (-1);
	}
	ERR_set_mark();
	rc = pem_fill(pem, len, out, why);
	ERR_pop_to_mark();
	return (rc);
}

/*
 * PEM_read_bio(), not PEM_read_bio_X509(): the latter skips blocks of
 * other types (the leaf must come first) and would ask for a password
 * on the terminal for a "Proc-Type: 4,ENCRYPTED" header.
 */
static int
pem_fill(const char *pem, size_t len, struct cert_id *out, const char **why)
{
	BIO		*bio;
	char		*name = NULL, *header = NULL;
	unsigned char	*data = NULL;
	long		 dlen = 0;
	int		 rc = -1;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1)
		*why = "not a PEM certificate";
	else if (strcmp(name, PEM_STRING_X509) != 0)
		*why = "first PEM block is not a CERTIFICATE";
	else if (header[0] != '\0')
		*why = "PEM headers in a certificate";
	else
		rc = der_fill(data, dlen, out, why);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return (rc);
}

int
cert_from_der(const uint8_t *der, size_t len, struct cert_id *out,
    const char **why)
{
	int	rc;

	memset(out, 0, sizeof(*out));
	if (len > CERT_PEM_MAX) {
		*why = "larger than 16 KiB";
		return (-1);
	}
	ERR_set_mark();
	rc = der_fill(der, (long)len, out, why);
	ERR_pop_to_mark();
	return (rc);
}

/* One DER certificate, all of the bytes, into *out. */
static int
der_fill(const unsigned char *der, long len, struct cert_id *out,
    const char **why)
{
	const unsigned char	*p = der;
	X509			*x;
	int			 rc;

	if (len <= 0 || (x = d2i_X509(NULL, &p, len)) == NULL) {
		*why = "not an X.509 certificate";
		return (-1);
	}
	/* A certificate with something glued to it is not one we read. */
	if (p != der + len) {
		X509_free(x);
		*why = "bytes after the certificate";
		return (-1);
	}
	rc = id_fill(x, out, why);
	X509_free(x);
	return (rc);
}

/*
 * Apache mod_ssl's SSL_CLIENT_* values (ssl_engine_vars.c).  A field that
 * cannot be read, or does not fit, refuses the whole certificate: an
 * identity cut short could name someone else.
 */
static int
id_fill(X509 *x, struct cert_id *out, const char **why)
{
	const X509_NAME	*subj = X509_get_subject_name(x);
	BIO		*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	*why = NULL;
	if (name_text(b, subj, out->ci_s_dn, sizeof(out->ci_s_dn)) == -1)
		*why = "subject DN unreadable or longer than 1 KiB";
	else if (name_text(b, X509_get_issuer_name(x), out->ci_i_dn,
	    sizeof(out->ci_i_dn)) == -1)
		*why = "issuer DN unreadable or longer than 1 KiB";
	else if (name_attr(subj, NID_commonName, out->ci_s_cn,
	    sizeof(out->ci_s_cn)) == -1)
		*why = "subject CN not a string of at most 255 bytes";
	else if (name_attr(subj, NID_pkcs9_emailAddress, out->ci_s_email,
	    sizeof(out->ci_s_email)) == -1)
		*why = "subject emailAddress not a string of at most 255 bytes";
	else if (serial_hex(X509_get0_serialNumber(x), out->ci_serial,
	    sizeof(out->ci_serial)) == -1)
		*why = "serial number longer than 20 octets";
	else if (time_text(b, X509_get0_notBefore(x), out->ci_v_start,
	    sizeof(out->ci_v_start)) == -1)
		*why = "bad notBefore";
	else if (time_text(b, X509_get0_notAfter(x), out->ci_v_end,
	    sizeof(out->ci_v_end)) == -1)
		*why = "bad notAfter";
	BIO_free(b);
	if (*why != NULL) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	return (0);
}

/* Move what b holds into dst as a C string; -1 if it does not fit. */
static int
bio_take(BIO *b, char *dst, size_t cap)
{
	char	*p;
	long	 n;

	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n >= cap || memchr(p, '\0', (size_t)n) != NULL) {
		(void)BIO_reset(b);
		return (-1);
	}
	memcpy(dst, p, (size_t)n);
	dst[n] = '\0';
	(void)BIO_reset(b);
	return (0);
}

static int
name_text(BIO *b, const X509_NAME *n, char *dst, size_t cap)
{
	/* RFC2253 flags escape control bytes (NUL as "\00") themselves. */
	if (X509_NAME_print_ex(b, n, 0, DN_FLAGS) < 0) {
		(void)BIO_reset(b);
		return (-1);
	}
	return (bio_take(b, dst, cap));
}

/*
 * SSL_CLIENT_S_DN_CN and _Email: the first such attribute in the order
 * of the certificate (Apache walks the entries from index 0; RFC 2253
 * text lists them the other way round), as raw UTF-8.  "" when there is
 * none; -1 for a value that is not a string, not valid UTF-8, holds a
 * NUL (a C string would end there: "alice\0.evil.example") or is too
 * long.
 */
static int
name_attr(const X509_NAME *n, int nid, char *dst, size_t cap)
{
	const X509_NAME_ENTRY	*ne;
	unsigned char		*u = NULL;
	int			 i, ulen;

	dst[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(n, nid, -1)) < 0)
		return (0);
	if ((ne = X509_NAME_get_entry(n, i)) == NULL)
		return (-1);
	ulen = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(ne));
	if (ulen < 0)
		return (-1);
	if ((size_t)ulen >= cap || memchr(u, '\0', (size_t)ulen) != NULL) {
		OPENSSL_free(u);
		return (-1);
	}
	memcpy(dst, u, (size_t)ulen);
	dst[ulen] = '\0';
	OPENSSL_free(u);
	return (0);
}

/*
 * SSL_CLIENT_M_SERIAL as Apache writes it (i2a_ASN1_INTEGER): every
 * content octet as two upper-case hex digits, so 0x0A1B2C is "0A1B2C"
 * and zero is "00"; a '-' first for a negative one (RFC 5280 forbids
 * them, some CAs made them).
 */
static int
serial_hex(const ASN1_INTEGER *sn, char *dst, size_t cap)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*d = ASN1_STRING_get0_data(sn);
	int			 n = ASN1_STRING_length(sn), i;
	size_t			 o = 0;

	if (n < 0 || n > SERIAL_OCTETS_MAX || cap < 2 * SERIAL_OCTETS_MAX + 2)
		return (-1);
	if (ASN1_STRING_type(sn) & V_ASN1_NEG)
		dst[o++] = '-';
	if (n == 0) {
		dst[o++] = '0';
		dst[o++] = '0';
	}
	for (i = 0; i < n; i++) {
		dst[o++] = hex[d[i] >> 4];
		dst[o++] = hex[d[i] & 0x0f];
	}
	dst[o] = '\0';
	return (0);
}

/* SSL_CLIENT_V_START / _END: ASN1_TIME_print(), "Dec  7 08:56:35 2026 GMT". */
static int
time_text(BIO *b, const ASN1_TIME *t, char *dst, size_t cap)
{
	if (t == NULL || ASN1_TIME_print(b, t) != 1) {
		(void)BIO_reset(b);
		return (-1);
	}
	return (bio_take(b, dst, cap));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static int
eq_nocase(const char *s, size_t len, const char *lit)
{
	size_t	i;
	char	a, b;

	if (strlen(lit) != len)
		return (0);
	for (i = 0; i < len; i++) {
		a = s[i];
		b = lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return (0);
	}
	return (1);
}

static int
is_ows(char c)
{
	return (c == ' ' || c == '\t');
}

size_t
cert_urldecode(const char *s, size_t len, char *out, size_t cap)
{
	size_t	i, o = 0;
	int	hi, lo;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return ((size_t)-1);
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		/* '+' stays: it is base64, and ALB lists it as safe. */
		if (o == cap)
			return ((size_t)-1);
		out[o++] = c;
	}
	return (o);
}

static void
dn_put(struct dn_out *w, char c)
{
	if (w->buf == NULL)
		return;
	if (w->len + 1 < w->cap)
		w->buf[w->len++] = c;
	else
		w->cut = 1;
}

/*
 * RFC 4514 §3 attributeType (descr or numericoid, with RFC 2253 §4's
 * spaces around it) up to and past the '='.
 */
static int
dn_type(const char **pp, const char *e, const char **t, size_t *tlen)
{
	const char	*p = *pp;

	while (p < e && *p == ' ')
		p++;
	*t = p;
	while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
	    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
	    *p == '.'))
		p++;
	*tlen = (size_t)(p - *t);
	while (p < e && *p == ' ')
		p++;
	if (*tlen == 0 || p == e || *p != '=')
		return (-1);
	*pp = p + 1;
	return (0);
}

/*
 * RFC 4514 §3 pair after its '\': one of the specials, or a hex pair.
 * "\00" is refused: a NUL cannot live in the C string it goes to, and
 * "CN=alice\00.evil" must not read as "alice".
 */
static int
dn_pair(const char **pp, const char *e, char *c)
{
	const char	*p = *pp;
	int		 hi, lo;

	if (p == e)
		return (-1);
	if (strchr(",+\"\\<>;= #", *p) != NULL && *p != '\0') {
		*c = *p;
		*pp = p + 1;
		return (0);
	}
	if (e - p < 2 || (hi = hexval(p[0])) < 0 || (lo = hexval(p[1])) < 0 ||
	    (hi | lo) == 0)
		return (-1);
	*c = (char)(hi << 4 | lo);
	*pp = p + 2;
	return (0);
}

/* Quoted (RFC 2253 §4, from RFC 1779): '\' pairs as outside. */
static int
dn_quoted(const char **pp, const char *e, struct dn_out *w)
{
	const char	*p = *pp + 1;
	char		 c;

	for (;;) {
		if (p == e || *p == '\0')
			return (-1);
		if (*p == '"')
			break;
		if (*p == '\\') {
			p++;
			if (dn_pair(&p, e, &c) == -1)
				return (-1);
			dn_put(w, c);
		} else
			dn_put(w, *p++);
	}
	p++;
	while (p < e && *p == ' ')
		p++;
	if (p < e && *p != ',' && *p != '+')
		return (-1);
	*pp = p;
	return (0);
}

/*
 * RFC 4514 string up to an unescaped ',' or '+'.  The characters it
 * says must be escaped are refused bare (';' was a separator in RFC
 * 2253: reading it as text could make two attributes one); unescaped
 * spaces at either end are RFC 2253 §4 padding.
 */
static int
dn_string(const char **pp, const char *e, struct dn_out *w)
{
	const char	*p = *pp;
	size_t		 spaces = 0;
	char		 c;

	while (p < e && *p != ',' && *p != '+') {
		if (*p == '"' || *p == ';' || *p == '<' || *p == '>' ||
		    *p == '\0')
			return (-1);
		if (*p == ' ') {
			spaces++;
			p++;
			continue;
		}
		if (*p == '\\') {
			p++;
			if (dn_pair(&p, e, &c) == -1)
				return (-1);
		} else
			c = *p++;
		for (; spaces > 0; spaces--)
			dn_put(w, ' ');
		dn_put(w, c);
	}
	*pp = p;
	return (0);
}

/* RFC 4514 hexstring ("#" 1*hexpair, BER): checked, never decoded. */
static int
dn_hex(const char **pp, const char *e)
{
	const char	*p = *pp + 1;
	size_t		 n = 0;

	while (e - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
		p += 2;
		n++;
	}
	while (p < e && *p == ' ')
		p++;
	if (n == 0 || (p < e && *p != ',' && *p != '+'))
		return (-1);
	*pp = p;
	return (0);
}

static int
dn_value(const char **pp, const char *e, struct dn_out *w)
{
	while (*pp < e && **pp == ' ')
		(*pp)++;
	if (*pp < e && **pp == '"')
		return (dn_quoted(pp, e, w));
	if (*pp < e && **pp == '#')
		return (w->buf != NULL ? -1 : dn_hex(pp, e));
	return (dn_string(pp, e, w));
}

/*
 * The whole DN is read even after a match: a malformed DN names no one,
 * wherever the damage is.  A '#' hexstring is BER that only a
 * certificate parser should interpret, so a wanted attribute written
 * that way counts as malformed.
 */
int
cert_dn_attr(const char *dn, size_t len, const char *attr, char *out,
    size_t cap)
{
	const char	*p = dn, *e, *t;
	struct dn_out	 w, none = { NULL, 0, 0, 0 };
	size_t		 tlen;
	int		 found = 0;

	if (cap > 0)
		out[0] = '\0';
	if (len == 0 || cap == 0)
		return (0);
	w.buf = out;
	w.cap = cap;
	w.len = 0;
	w.cut = 0;
	/* p++: past the ',' between RDNs or the '+' inside one. */
	for (e = dn + len;; p++) {
		if (dn_type(&p, e, &t, &tlen) == -1)
			break;
		if (!found && eq_nocase(t, tlen, attr)) {
			found = 1;
			if (dn_value(&p, e, &w) == -1)
				break;
			out[w.len] = '\0';
		} else if (dn_value(&p, e, &none) == -1)
			break;
		if (p == e)
			return (found && !w.cut);
	}
	out[0] = '\0';
	return (0);
}

/* Where the value of key k goes (first element only), or NULL. */
static struct cert_span *
xfcc_slot(struct cert_xfcc *x, const char *k, size_t klen)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} keys[] = {
		{ "By",		offsetof(struct cert_xfcc, x_by) },
		{ "Hash",	offsetof(struct cert_xfcc, x_hash) },
		{ "Cert",	offsetof(struct cert_xfcc, x_cert) },
		{ "Chain",	offsetof(struct cert_xfcc, x_chain) },
		{ "Subject",	offsetof(struct cert_xfcc, x_subject) },
		{ "URI",	offsetof(struct cert_xfcc, x_uri) },
		{ "DNS",	offsetof(struct cert_xfcc, x_dns) },
	};
	struct cert_span	*sp;
	size_t			 i;

	if (x == NULL)
		return (NULL);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!eq_nocase(k, klen, keys[i].name))
			continue;
		sp = (struct cert_span *)(void *)((char *)x + keys[i].off);
		/* DNS and URI repeat (one pair per SAN): the first is kept. */
		return (sp->s == NULL ? sp : NULL);
	}
	return (NULL);
}

/*
 * A quoted value from its opening '"'.  Envoy escapes only '"' (as \");
 * every other backslash is data, so "CN=a\,b" keeps its RFC 4514 escape
 * for cert_dn_attr().  sp NULL: the value is checked, not kept.
 */
static enum cert_xfcc_status
xfcc_quoted(struct xfcc_cur *c, struct cert_span *sp)
{
	const char	*p = c->p + 1;
	size_t		 from = c->used;

	for (; p < c->e && *p != '"'; p++) {
		if (*p == '\\' && c->e - p >= 2 && p[1] == '"')
			p++;
		if (sp == NULL)
			continue;
		if (c->used == c->cap)
			return (CERT_XFCC_FULL);
		c->buf[c->used++] = *p;
	}
	if (p == c->e)
		return (CERT_XFCC_SYNTAX);
	if (sp != NULL) {
		/* An empty value points at its closing quote, never NULL. */
		sp->len = c->used - from;
		sp->s = sp->len > 0 ? c->buf + from : p;
	}
	c->p = p + 1;
	while (c->p < c->e && is_ows(*c->p))
		c->p++;
	if (c->p < c->e && *c->p != ';' && *c->p != ',')
		return (CERT_XFCC_SYNTAX);
	return (CERT_XFCC_OK);
}

/* One Key=value pair; x NULL for elements after the first. */
static enum cert_xfcc_status
xfcc_pair(struct xfcc_cur *c, struct cert_xfcc *x)
{
	const char		*k = c->p, *ke, *v;
	struct cert_span	*sp;

	while (c->p < c->e && *c->p != '=' && *c->p != ';' && *c->p != ',' &&
	    *c->p != '"')
		c->p++;
	if (c->p == c->e || *c->p != '=')
		return (CERT_XFCC_SYNTAX);
	for (ke = c->p; ke > k && is_ows(ke[-1]); ke--)
		;
	if (ke == k)
		return (CERT_XFCC_SYNTAX);
	sp = xfcc_slot(x, k, (size_t)(ke - k));
	c->p++;
	while (c->p < c->e && is_ows(*c->p))
		c->p++;
	if (c->p < c->e && *c->p == '"')
		return (xfcc_quoted(c, sp));
	/*
	 * Unquoted: up to ';' or ','.  A '"' inside is refused rather than
	 * guessed at, so no reader can split the header differently.
	 */
	for (v = c->p; c->p < c->e && *c->p != ';' && *c->p != ','; c->p++)
		if (*c->p == '"')
			return (CERT_XFCC_SYNTAX);
	for (ke = c->p; ke > v && is_ows(ke[-1]); ke--)
		;
	if (sp != NULL) {
		sp->s = v;
		sp->len = (size_t)(ke - v);
	}
	return (CERT_XFCC_OK);
}

/* Pairs up to the ',' that ends the element (or the end of input). */
static enum cert_xfcc_status
xfcc_element(struct xfcc_cur *c, struct cert_xfcc *x)
{
	enum cert_xfcc_status	st;
	size_t			npairs = 0;

	for (;;) {
		while (c->p < c->e && is_ows(*c->p))
			c->p++;
		if (c->p == c->e || *c->p == ',')
			break;
		if (*c->p == ';') {	/* an empty pair, as in "By=a;" */
			c->p++;
			continue;
		}
		if ((st = xfcc_pair(c, x)) != CERT_XFCC_OK)
			return (st);
		npairs++;
	}
	return (npairs > 0 ? CERT_XFCC_OK : CERT_XFCC_SYNTAX);
}

enum cert_xfcc_status
cert_xfcc_parse(const char *s, size_t len, struct cert_xfcc *out, char *buf,
    size_t cap)
{
	struct xfcc_cur		c;
	enum cert_xfcc_status	st;
	size_t			n = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return (CERT_XFCC_EMPTY);
	c.p = s;
	c.e = s + len;
	c.buf = buf;
	c.cap = buf == NULL ? 0 : cap;
	c.used = 0;
	while (c.p < c.e && is_ows(*c.p))
		c.p++;
	if (c.p == c.e)
		return (CERT_XFCC_EMPTY);
	for (;;) {
		st = xfcc_element(&c, n == 0 ? out : NULL);
		if (st != CERT_XFCC_OK) {
			memset(out, 0, sizeof(*out));
			return (st);
		}
		n++;
		if (c.p == c.e)
			break;
		c.p++;	/* the ',' between elements */
	}
	out->x_elements = n;
	return (CERT_XFCC_OK);
}

const char *
cert_xfcc_strerror(enum cert_xfcc_status st)
{
	switch (st) {
	case CERT_XFCC_OK:
		return ("ok");
	case CERT_XFCC_EMPTY:
		return ("no element");
	case CERT_XFCC_SYNTAX:
		return ("malformed X-Forwarded-Client-Cert");
	case CERT_XFCC_FULL:
		return ("X-Forwarded-Client-Cert values larger than the "
		    "buffer");
	}
	return ("unknown X-Forwarded-Client-Cert status");
}

static int
d2(const char *s)
{
	return ((s[0] - '0') * 10 + (s[1] - '0'));
}

/*
 * "2026-12-07T08:56:35Z" (exactly that: ALB writes UTC to the second)
 * into "Dec  7 08:56:35 2026 GMT".
 */
static int
alb_time(const char *s, size_t len, char *dst)
{
	static const char	 mon[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char	 form[] = "dddd-dd-ddTdd:dd:ddZ";
	static const int	 mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	int			 y, m, d, leap;
	size_t			 i;

	if (len != sizeof(form) - 1)
		return (-1);
	for (i = 0; i < len; i++)
		if (form[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != form[i])
			return (-1);
	y = d2(s) * 100 + d2(s + 2);
	m = d2(s + 5);
	d = d2(s + 8);
	leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap) || d2(s + 11) > 23 ||
	    d2(s + 14) > 59 || d2(s + 17) > 59)
		return (-1);
	snprintf(dst, CERT_TIME_MAX, "%s %2d %.2s:%.2s:%.2s %d GMT",
	    mon[m - 1], d, s + 11, s + 14, s + 17, y);
	return (0);
}

/* One "Key=value" of the header: 1 NotBefore, 2 NotAfter, 0 bad. */
static int
alb_pair(const char *p, const char *e, char *start, char *end)
{
	const char	*eq, *ke, *v;
	int		 bit;

	while (p < e && is_ows(*p))
		p++;
	while (e > p && is_ows(e[-1]))
		e--;
	if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL)
		return (0);
	for (ke = eq; ke > p && is_ows(ke[-1]); ke--)
		;
	for (v = eq + 1; v < e && is_ows(*v); v++)
		;
	if (eq_nocase(p, (size_t)(ke - p), "NotBefore"))
		bit = 1;
	else if (eq_nocase(p, (size_t)(ke - p), "NotAfter"))
		bit = 2;
	else
		return (0);
	if (alb_time(v, (size_t)(e - v), bit == 1 ? start : end) == -1)
		return (0);
	return (bit);
}

/* Both keys, each once, in either order (AWS writes NotBefore first). */
int
cert_alb_validity(const char *s, size_t len, char *start, char *end)
{
	const char	*p = s, *e, *semi;
	int		 got = 0, bit;

	start[0] = end[0] = '\0';
	if (len == 0)
		return (-1);
	for (e = s + len;; p = semi + 1) {
		semi = memchr(p, ';', (size_t)(e - p));
		bit = alb_pair(p, semi != NULL ? semi : e, start, end);
		if (bit == 0 || (got & bit) != 0) {
			got = 0;
			break;
		}
		got |= bit;
		if (semi == NULL)
			break;
	}
	if (got != 3) {
		start[0] = end[0] = '\0';
		return (-1);
	}
	return (0);
}
