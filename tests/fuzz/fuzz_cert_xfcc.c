/*
 * libFuzzer target: the text forms of a client certificate.  The first
 * byte sets the copy buffer of cert_xfcc_parse() (0-4080 bytes, so FULL
 * is reached), the rest is an X-Forwarded-Client-Cert value; its spans
 * must lie in the input or the buffer, and go on as the policy uses them
 * (Subject to cert_dn_attr(), Cert to cert_urldecode() and
 * cert_from_pem()).  The same bytes also go to cert_dn_attr() with a
 * small cap and to cert_alb_validity().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cert.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_span(const struct cert_span *sp, const char *s, size_t len,
    const char *buf, size_t cap)
{
	if (sp->s == NULL) {
		if (sp->len != 0)
			abort();
		return;
	}
	if (sp->s >= s && sp->s <= s + len && sp->len <= (size_t)(s + len -
	    sp->s))
		return;
	if (sp->s >= buf && sp->s <= buf + cap && sp->len <= (size_t)(buf +
	    cap - sp->s))
		return;
	abort();
}

static void
use(const struct cert_xfcc *x)
{
	static char	 dec[CERT_PEM_MAX];
	struct cert_id	 id;
	const char	*why;
	char		 v[CERT_ATTR_MAX];
	size_t		 n;

	if (x->x_subject.s != NULL) {
		cert_dn_attr(x->x_subject.s, x->x_subject.len, "CN", v,
		    sizeof(v));
		cert_dn_attr(x->x_subject.s, x->x_subject.len, "emailAddress",
		    v, sizeof(v));
	}
	if (x->x_cert.s == NULL)
		return;
	n = cert_urldecode(x->x_cert.s, x->x_cert.len, dec, sizeof(dec));
	if (n != (size_t)-1)
		cert_from_pem(dec, n, &id, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 buf[4096];
	static const struct cert_xfcc empty;
	struct cert_xfcc	 x;
	enum cert_xfcc_status	 st;
	const char		*s = (const char *)data + 1;
	char			 v[16];
	char			 start[CERT_TIME_MAX], end[CERT_TIME_MAX];
	size_t			 len, cap;

	if (size == 0)
		return (0);
	cap = (size_t)data[0] * 16;
	len = size - 1;
	st = cert_xfcc_parse(s, len, &x, buf, cap);
	if (cert_xfcc_strerror(st) == NULL)
		abort();
	if (st != CERT_XFCC_OK) {
		if (memcmp(&x, &empty, sizeof(x)) != 0)
			abort();
	} else {
		if (x.x_elements == 0)
			abort();
		check_span(&x.x_by, s, len, buf, cap);
		check_span(&x.x_hash, s, len, buf, cap);
		check_span(&x.x_cert, s, len, buf, cap);
		check_span(&x.x_chain, s, len, buf, cap);
		check_span(&x.x_subject, s, len, buf, cap);
		check_span(&x.x_uri, s, len, buf, cap);
		check_span(&x.x_dns, s, len, buf, cap);
		use(&x);
	}
	if (cert_dn_attr(s, len, "CN", v, (size_t)(data[0] & 15)) == 1 &&
	    strlen(v) >= (size_t)(data[0] & 15))
		abort();
	/* "Dec  7 08:56:35 2026 GMT"; a year below 1000 is shorter. */
	if (cert_alb_validity(s, len, start, end) == 0 &&
	    (strlen(start) > 24 || strlen(end) > 24 || strncmp(start +
	    strlen(start) - 4, " GMT", 4) != 0))
		abort();
	return (0);
}
