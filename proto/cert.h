/*
 * Client-certificate identity as a TLS terminator in front reports it
 * (SPEC §4.10): the pure parsers behind the policy's step 10.
 *
 * Sources give text (Envoy's X-Forwarded-Client-Cert, ingress-nginx's
 * ssl-client-* headers, AWS ALB's X-Amzn-Mtls-Clientcert-*) and sometimes
 * the certificate itself (PEM, URL-encoded, or DER from PROXY v2).  When
 * the certificate is there, every field comes from it, parsed with
 * OpenSSL's libcrypto: parsing only, no verification is claimed beyond
 * what the terminator did.  Nothing here does I/O or keeps state; the
 * libcrypto calls allocate and free within one call.
 */
#ifndef FCN_PROTO_CERT_H
#define FCN_PROTO_CERT_H

#include <stddef.h>
#include <stdint.h>

#define CERT_PEM_MAX	(16 * 1024)	/* a leaf and its chain, decoded */
#define CERT_DN_MAX	1024
#define CERT_ATTR_MAX	256
#define CERT_SERIAL_MAX	(2 * 20 + 1)	/* RFC 5280: at most 20 octets */
#define CERT_TIME_MAX	32		/* "Dec  7 08:56:35 2026 GMT" */

/*
 * Apache mod_ssl's names for one certificate (SPEC §4.10), NUL-terminated
 * strings; "" when unknown.
 */
struct cert_id {
	char	ci_s_dn[CERT_DN_MAX];	/* RFC 2253: "CN=alice,O=Example" */
	char	ci_s_cn[CERT_ATTR_MAX];	/* first CN=, RFC 4514 escapes undone */
	char	ci_s_email[CERT_ATTR_MAX]; /* first emailAddress=, likewise */
	/* (from a certificate: raw UTF-8, first in the certificate's order
	 * as Apache takes it, which RFC 2253 text prints last) */
	char	ci_i_dn[CERT_DN_MAX];
	char	ci_serial[CERT_SERIAL_MAX + 1]; /* upper-case hex, as Apache:
						 * two digits an octet, "00" */
	char	ci_v_start[CERT_TIME_MAX]; /* Apache's form, GMT */
	char	ci_v_end[CERT_TIME_MAX];
};

/*
 * The leaf (first) certificate of a PEM text of at most CERT_PEM_MAX
 * bytes into *out (every field, _CN and _Email from the subject).  The
 * first PEM block must be a CERTIFICATE without headers, its DER read to
 * the last byte; text before it is allowed (RFC 7468 §5.2), blocks after
 * it are not read.  A field that does not fit refuses the certificate.
 * 0, or -1 with *why set to a static reason ("not a PEM certificate",
 * "larger than 16 KiB", ...); *out is then all "".
 */
int	cert_from_pem(const char *pem, size_t len, struct cert_id *out,
	    const char **why);
/* The same from DER bytes (PROXY v2's PP2_SUBTYPE_SSL_CLIENT_CERT). */
int	cert_from_der(const uint8_t *der, size_t len, struct cert_id *out,
	    const char **why);

/*
 * URL-decoding as nginx's $ssl_client_escaped_cert and ALB's passthrough
 * header write it (%XX; '+' is kept as '+').  Writes at most cap bytes
 * to out; returns the decoded length, or (size_t)-1 for a bad escape or
 * an output longer than cap.
 */
size_t	cert_urldecode(const char *s, size_t len, char *out, size_t cap);

/*
 * The value of the first attribute attr (e.g. "CN", "emailAddress") of an
 * RFC 2253 / 4514 DN string, with its escapes undone ("\," "\2C" and
 * quoted values); attr matches without regard to case, by name only (no
 * OID aliases).  1 and out set (NUL-terminated, cut to cap - 1 bytes:
 * then 0), or 0 and out "" when absent or malformed: the whole DN must
 * parse, "\00" and a '#' hexstring value for attr count as malformed.
 */
int	cert_dn_attr(const char *dn, size_t len, const char *attr, char *out,
	    size_t cap);

/* A span of the input. */
struct cert_span {
	const char	*s;
	size_t		 len;
};

/*
 * Envoy's X-Forwarded-Client-Cert (x-forwarded-client-cert in Envoy's
 * docs): elements separated by ',', each of ';'-separated Key=value
 * pairs; a value containing ',', ';' or '=' is double-quoted, and inside
 * quotes only \" is an escape (other backslashes are kept, so an RFC 4514
 * "\," in Subject reaches the DN as written).  Keys (any case): By, Hash,
 * Cert, Chain, Subject, URI, DNS; others are ignored.  Only the first
 * element's values are kept; x_elements counts them all (the policy
 * refuses more than one).  Quoted values are copied unescaped into buf
 * (cap bytes; cap >= len is never FULL), so the spans point into s or
 * into buf.  An absent key leaves its span { NULL, 0 }, an empty value
 * has len 0 and s set; a repeated key (DNS, URI) keeps its first value.
 * Any status but OK leaves *out all zero.
 */
struct cert_xfcc {
	size_t		x_elements;
	struct cert_span x_by, x_hash, x_cert, x_chain, x_subject, x_uri,
			x_dns;
};
enum cert_xfcc_status {
	CERT_XFCC_OK,
	CERT_XFCC_EMPTY,	/* no element at all */
	CERT_XFCC_SYNTAX,	/* a pair without '=', an unclosed quote, ... */
	CERT_XFCC_FULL,		/* buf too small for the unescaped values */
};
enum cert_xfcc_status cert_xfcc_parse(const char *s, size_t len,
	    struct cert_xfcc *out, char *buf, size_t cap);
const char *cert_xfcc_strerror(enum cert_xfcc_status);

/*
 * AWS ALB's X-Amzn-Mtls-Clientcert-Validity, "NotBefore=2026-12-07T08:56:35Z;
 * NotAfter=2027-12-07T08:56:35Z", into Apache's form in start and end
 * (CERT_TIME_MAX each).  0, or -1 when it is not that.
 */
int	cert_alb_validity(const char *s, size_t len, char *start, char *end);

#endif
