/*
 * Address parsing.  inet_pton/inet_ntop are pure library functions (no
 * syscall, no global state); we only add the framing proxies use around
 * them: brackets, ports, v4-mapped folding.
 */
#include <arpa/inet.h>
#include <string.h>

#include "proto/addr.h"

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
addr_parse(const char *s, size_t len, struct addr *a)
{
	char	tmp[ADDR_STRLEN];
	uint8_t	raw[16];

	memset(a, 0, sizeof(*a));
	if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL)
		return (-1);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (memchr(s, ':', len) == NULL) {
		if (inet_pton(AF_INET, tmp, a->a_bytes) != 1)
			return (-1);
		a->a_family = ADDR_V4;
		return (0);
	}
	if (inet_pton(AF_INET6, tmp, raw) != 1) {
		memset(a, 0, sizeof(*a));
		return (-1);
	}
	addr_set(a, ADDR_V6, raw);
	return (0);
}

void
addr_set(struct addr *a, int family, const void *bytes)
{
	const uint8_t	*b = bytes;

	memset(a, 0, sizeof(*a));
	if (family == ADDR_V6 && memcmp(b, v4mapped, sizeof(v4mapped)) != 0) {
		a->a_family = ADDR_V6;
		memcpy(a->a_bytes, b, 16);
		return;
	}
	/* SPEC §4.1: v4-mapped IPv6 is IPv4 everywhere. */
	a->a_family = ADDR_V4;
	memcpy(a->a_bytes, family == ADDR_V6 ? b + 12 : b, 4);
}

int
addr_parse_port(const char *s, size_t len)
{
	size_t	i;
	long	v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v <= 65535 ? (int)v : -1);
}

int
addr_parse_hop(const char *s, size_t len, struct addr *a, int *port)
{
	const char	*c, *end = s + len;

	*port = -1;
	if (len > 0 && s[0] == '[') {
		if ((c = memchr(s, ']', len)) == NULL)
			goto bad;
		if (addr_parse(s + 1, (size_t)(c - s - 1), a) != 0)
			goto bad;
		if (c + 1 == end)
			return (0);
		if (c[1] != ':' ||
		    (*port = addr_parse_port(c + 2, (size_t)(end - c - 2))) < 0)
			goto bad;
		return (0);
	}
	/* One colon is a.b.c.d:port; more than one is bare IPv6. */
	c = memchr(s, ':', len);
	if (c != NULL && memchr(c + 1, ':', (size_t)(end - c - 1)) == NULL) {
		if (addr_parse(s, (size_t)(c - s), a) != 0 ||
		    a->a_family != ADDR_V4 ||
		    (*port = addr_parse_port(c + 1, (size_t)(end - c - 1))) < 0)
			goto bad;
		return (0);
	}
	if (addr_parse(s, len, a) == 0)
		return (0);
bad:
	memset(a, 0, sizeof(*a));
	*port = -1;
	return (-1);
}

size_t
addr_format(const struct addr *a, char *buf)
{
	int	af = a->a_family == ADDR_V4 ? AF_INET : AF_INET6;
	size_t	n = 0;
	int	i, v;

	/* IPv4 by hand: glibc's inet_ntop goes through sprintf (1.6k
	   instructions, on every rewritten request). */
	if (a->a_family == ADDR_V4) {
		for (i = 0; i < 4; i++) {
			v = a->a_bytes[i];
			if (i > 0)
				buf[n++] = '.';
			if (v >= 100)
				buf[n++] = (char)('0' + v / 100);
			if (v >= 10)
				buf[n++] = (char)('0' + v / 10 % 10);
			buf[n++] = (char)('0' + v % 10);
		}
		buf[n] = '\0';
		return (n);
	}
	if (inet_ntop(af, a->a_bytes, buf, ADDR_STRLEN) == NULL) {
		buf[0] = '\0';
		return (0);
	}
	return (strlen(buf));
}

int
addr_equal(const struct addr *x, const struct addr *y)
{
	size_t	n = x->a_family == ADDR_V4 ? 4 : 16;

	return (x->a_family == y->a_family &&
	    memcmp(x->a_bytes, y->a_bytes, n) == 0);
}
