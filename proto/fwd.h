/*
 * Forwarded-header syntax: X-Forwarded-For style comma lists, RFC 7239
 * Forwarded elements, and the validators for the values the policy may
 * copy into params (host, path prefix, scheme, port).  Nothing here
 * decides trust; that is proto/normalize.
 */
#ifndef FCN_PROTO_FWD_H
#define FCN_PROTO_FWD_H

#include <stddef.h>

#include "proto/addr.h"

#define FWD_MAX_HOPS		64	/* SPEC §4.3: the rightmost 64 */
#define FWD_MAX_PREFIX		1024	/* SPEC §4.7 */
#define FWD_MAX_HOST		253

struct fwd_span {
	const char	*s;
	size_t		 len;
};

/*
 * One entry of a client list.  For X-Forwarded-For the hop is the entry;
 * for RFC 7239 it is the for= of one element, and proto/host carry that
 * element's other pairs (len 0 when absent).
 */
struct fwd_hop {
	struct fwd_span	 h_text;	/* as sent, for the trail */
	struct addr	 h_addr;
	int		 h_port;	/* -1 when none */
	int		 h_isaddr;	/* h_addr is valid */
	int		 h_hasfor;	/* RFC 7239: element had for= */
	int		 h_malformed;	/* RFC 7239: element did not parse */
	int		 h_ident;	/* "unknown" or an obfuscated _id
					   (RFC 7239 §6): no address, but
					   not an error either */
	size_t		 h_index;	/* position in the whole list */
	struct fwd_span	 h_proto;
	struct fwd_span	 h_host;
};

/*
 * Split a comma list (empty elements ignored, OWS trimmed).  The rightmost
 * cap entries are stored in order; returns how many; *total is the count
 * of all entries.
 */
size_t	fwd_list_split(const char *s, size_t len, struct fwd_span *out,
	    size_t cap, size_t *total);
/*
 * Parse an X-Forwarded-For style list into hops (rightmost cap kept, in
 * order).  Returns the number stored; *total counts all entries.
 */
size_t	fwd_xff_parse(const char *s, size_t len, struct fwd_hop *out,
	    size_t cap, size_t *total);
/*
 * Parse an RFC 7239 Forwarded value into one hop per element (rightmost
 * cap kept).  Elements without for= have h_hasfor 0; an element that does
 * not parse has h_malformed 1 and is not an address.  h_index is the
 * element's position.  Returns the number stored; *total counts elements.
 */
size_t	fwd_forwarded_parse(const char *s, size_t len, struct fwd_hop *out,
	    size_t cap, size_t *total);

enum fwd_scheme {
	FWD_SCHEME_BAD,
	FWD_SCHEME_HTTP,	/* "http" or "off", any case */
	FWD_SCHEME_HTTPS,	/* "https" or "on", any case */
};
enum fwd_scheme fwd_scheme(const char *s, size_t len);

/*
 * A host as SPEC §4.6 allows: DNS name, IPv4, or [IPv6], with an optional
 * :port.  Returns 0 (and *port, -1 if none) or -1.
 */
int	fwd_host_check(const char *s, size_t len, int *port);
/*
 * The same check, also giving the length of the host part (*hostlen,
 * brackets of an IPv6 literal and a trailing dot included, ":port" not).
 * Returns 0, or -1 (then *hostlen is 0 and *port -1).
 */
int	fwd_host_parse(const char *s, size_t len, size_t *hostlen, int *port);

enum fwd_prefix {
	FWD_PREFIX_OK,		/* *outlen is the length to use */
	FWD_PREFIX_ROOT,	/* "/" alone: nothing to do */
	FWD_PREFIX_BAD,
};
/*
 * SPEC §4.7 prefix rules.  On OK, *outlen excludes a trailing '/'.
 * *why names the broken rule on FWD_PREFIX_BAD (static string).
 */
enum fwd_prefix fwd_prefix_check(const char *s, size_t len, size_t *outlen,
	    const char **why);

#endif
