/*
 * CIDR blocks and the trusted-proxy set.
 *
 * A set is compiled once (at config load) into sorted, nested ranges per
 * family; a lookup is a binary search plus a walk up the enclosing ranges,
 * so 10,000 entries cost about as much as 10 (SPEC §8; contrast nginx's
 * linear ngx_cidr_match).  A lookup never allocates.
 */
#ifndef FCN_PROTO_CIDR_H
#define FCN_PROTO_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

#define CIDR_STRLEN	(ADDR_STRLEN + 4)

struct cidr {
	struct addr	c_addr;		/* network address */
	uint8_t		c_plen;		/* prefix length */
};

enum cidr_status {
	CIDR_OK,
	CIDR_ERR_ADDR,		/* address part is not an IP literal */
	CIDR_ERR_PREFIX,	/* prefix length missing, not a number, too long */
	CIDR_ERR_HOSTBITS,	/* bits set right of the prefix */
};

/*
 * Parse "addr" (a host route) or "addr/len".  On CIDR_ERR_HOSTBITS *c
 * holds the masked network so the caller can suggest it.
 */
enum cidr_status cidr_parse(const char *s, size_t len, struct cidr *c);
const char	*cidr_strerror(enum cidr_status);
/* "net/len" into buf of CIDR_STRLEN; returns the length. */
size_t		 cidr_format(const struct cidr *, char *buf);
/* 1 if a lies inside c. */
int		 cidr_contains(const struct cidr *c, const struct addr *a);

struct cidr_set;

/*
 * Compile n blocks into a new set (copies them; duplicates are kept once).
 * NULL on ENOMEM.  An empty set is valid and matches nothing.
 */
struct cidr_set	*cidr_set_new(const struct cidr *, size_t n);
void		 cidr_set_free(struct cidr_set *);
/* Number of distinct blocks. */
size_t		 cidr_set_count(const struct cidr_set *);
/* The innermost block holding a, or NULL. */
const struct cidr *cidr_set_match(const struct cidr_set *,
		    const struct addr *a);

#endif
