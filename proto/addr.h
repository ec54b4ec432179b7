/*
 * IP addresses as the policy sees them: parse, compare, format.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is turned into IPv4 on parse, so the
 * rest of the program only ever meets one form of an IPv4 peer (SPEC §4.1).
 */
#ifndef FCN_PROTO_ADDR_H
#define FCN_PROTO_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_V4		4
#define ADDR_V6		6
#define ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */

struct addr {
	uint8_t	a_family;	/* ADDR_V4 or ADDR_V6 */
	uint8_t	a_bytes[16];	/* network order; IPv4 uses the first 4 */
};

/*
 * Parse a bare address literal of len bytes (no brackets, no port, no
 * zone).  Returns 0, or -1 when it is not an address; *a is zeroed then.
 */
int	addr_parse(const char *s, size_t len, struct addr *a);
/*
 * Set *a from raw network-order bytes (4 for ADDR_V4, 16 for ADDR_V6), as
 * sockets and PROXY v2 give them; a v4-mapped IPv6 address becomes IPv4.
 */
void	addr_set(struct addr *a, int family, const void *bytes);
/*
 * Parse one hop as proxies write it: a.b.c.d, a.b.c.d:port, IPv6,
 * [IPv6], [IPv6]:port.  *port is 1-65535 when a port was given, else -1.
 * Returns 0, or -1 (then *a is zeroed and *port is -1).
 */
int	addr_parse_hop(const char *s, size_t len, struct addr *a, int *port);
/* A decimal port 1-65535 without sign or leading zeros; -1 if not one. */
int	addr_parse_port(const char *s, size_t len);
/* Canonical text (inet_ntop) into buf of ADDR_STRLEN; returns its length. */
size_t	addr_format(const struct addr *, char *buf);
/* 1 if both are the same address of the same family. */
int	addr_equal(const struct addr *, const struct addr *);

#endif
