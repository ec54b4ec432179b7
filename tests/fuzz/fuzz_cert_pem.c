/*
 * libFuzzer target: a client certificate as the sources carry it (PEM,
 * DER from PROXY v2, URL-encoded PEM) through libcrypto into Apache's
 * names.  Checks what the header promises: -1 leaves every field "" with
 * a reason, 0 leaves NUL-terminated fields and an upper-case hex serial,
 * and the DNs written read back through cert_dn_attr() without harm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cert.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_serial(const char *s)
{
	size_t	n = 0;

	if (*s == '-')
		s++;
	for (; s[n] != '\0'; n++)
		if (strchr("0123456789ABCDEF", s[n]) == NULL)
			abort();
	if (n == 0 || n % 2 != 0)
		abort();
}

static void
check(int rc, const struct cert_id *id, const char *why)
{
	static const struct cert_id	 empty;
	char				 v[CERT_ATTR_MAX];

	if (rc == -1) {
		if (why == NULL || why[0] == '\0' ||
		    memcmp(id, &empty, sizeof(empty)) != 0)
			abort();
		return;
	}
	if (rc != 0 || memchr(id->ci_s_dn, '\0', CERT_DN_MAX) == NULL ||
	    memchr(id->ci_i_dn, '\0', CERT_DN_MAX) == NULL ||
	    memchr(id->ci_s_cn, '\0', CERT_ATTR_MAX) == NULL ||
	    memchr(id->ci_s_email, '\0', CERT_ATTR_MAX) == NULL ||
	    memchr(id->ci_v_start, '\0', CERT_TIME_MAX) == NULL ||
	    memchr(id->ci_v_end, '\0', CERT_TIME_MAX) == NULL ||
	    id->ci_v_start[0] == '\0' || id->ci_v_end[0] == '\0')
		abort();
	check_serial(id->ci_serial);
	cert_dn_attr(id->ci_s_dn, strlen(id->ci_s_dn), "CN", v, sizeof(v));
	cert_dn_attr(id->ci_s_dn, strlen(id->ci_s_dn), "emailAddress", v,
	    sizeof(v));
	cert_dn_attr(id->ci_i_dn, strlen(id->ci_i_dn), "O", v, 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 dec[CERT_PEM_MAX];
	struct cert_id	 id;
	const char	*why;
	size_t		 n;

	why = NULL;
	check(cert_from_pem((const char *)data, size, &id, &why), &id, why);
	why = NULL;
	check(cert_from_der(data, size, &id, &why), &id, why);
	/* nginx's $ssl_client_escaped_cert, ALB's passthrough header. */
	if (memchr(data, '%', size) == NULL)
		return (0);
	n = cert_urldecode((const char *)data, size, dec, sizeof(dec));
	if (n == (size_t)-1)
		return (0);
	if (n > size)
		abort();
	why = NULL;
	check(cert_from_pem(dec, n, &id, &why), &id, why);
	return (0);
}
