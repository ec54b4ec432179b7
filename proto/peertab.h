/*
 * The untrusted peers that sent forwarded params (SPEC §6.1, the "full"
 * status view): who forges headers, or which load balancer someone forgot
 * to put in trusted_proxies.
 *
 * Peers are folded to their network (/24 for IPv4, /64 for IPv6, the host
 * itself for ::1), so a client hopping inside its own subnet stays one row.
 * The table is a fixed array of PEERTAB_ROWS rows: a lookup is a linear
 * scan of at most 32 rows, and a full table evicts the row seen least
 * recently.  Nothing here allocates, and the clock is the caller's.
 */
#ifndef FCN_PROTO_PEERTAB_H
#define FCN_PROTO_PEERTAB_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/cidr.h"

#define PEERTAB_ROWS	32	/* SPEC §6.1: at most 32 rows */
#define PEERTAB_NAMES	128	/* bytes of a row's name set, NUL included */
#define PEERTAB_HINT_MIN 10	/* requests before a row can get the hint */

/* One network of untrusted peers. */
struct peertab_row {
	struct cidr	pr_net;		/* the peer folded to its network */
	uint64_t	pr_count;	/* requests with forwarded params */
	uint64_t	pr_xff;		/* ... of which with X-Forwarded-For */
	uint64_t	pr_clean;	/* requests without forwarded params */
	uint64_t	pr_last;	/* last one with them, caller's clock */
	uint64_t	pr_seq;		/* table-wide order of that request */
	/*
	 * The forwarded param names seen, comma-separated, each once, in
	 * the order first seen, NUL-terminated.  pr_names_lost is set when
	 * a name did not fit (or was not printable) and was left out.
	 */
	char		pr_names[PEERTAB_NAMES];
	uint8_t		pr_names_lost;
};

/* Zero-filled is an empty table. */
struct peertab {
	struct peertab_row	pt_rows[PEERTAB_ROWS];
	size_t			pt_n;		/* rows in use */
	uint64_t		pt_seq;		/* notes so far */
	uint64_t		pt_evicted;	/* rows pushed out when full */
};

/*
 * A request from the untrusted peer carried the forwarded params whose
 * names are given comma-separated in names[0..nameslen) (e.g.
 * "HTTP_X_FORWARDED_FOR,HTTP_X_FORWARDED_PROTO").  now is the caller's
 * clock in seconds.  Adds or updates the peer's row; when the table is
 * full, the row seen least recently gives way.  A peer that is neither
 * IPv4 nor IPv6 (zero-filled, a unix socket) is ignored.
 */
void	peertab_note(struct peertab *, const struct addr *peer,
	    const char *names, size_t nameslen, uint64_t now);
/*
 * A request from the untrusted peer carried no forwarded params.  Counted
 * only when the peer's network already has a row: this never adds one and
 * does not change "last seen" or the eviction order.  now is unused today
 * and kept so both notes read alike.
 */
void	peertab_note_clean(struct peertab *, const struct addr *peer,
	    uint64_t now);
/*
 * Add src's rows to dst (SPEC §6.2: the workers' tables as one): counts
 * summed, names joined, last seen the later; full, the least recently
 * noted give way as in peertab_note.
 */
void	peertab_merge(struct peertab *dst, const struct peertab *src);
/* Rows in use (0 to PEERTAB_ROWS). */
size_t	peertab_count(const struct peertab *);
/*
 * The rows, most recently seen first, into out of cap entries; returns
 * how many were written.  Pointers are valid until the next note.
 */
size_t	peertab_sorted(const struct peertab *,
	    const struct peertab_row **out, size_t cap);
/* The row of peer's network, or NULL. */
const struct peertab_row *peertab_find(const struct peertab *,
	    const struct addr *peer);
/*
 * 1 when the row looks like a load balancer that should be in
 * trusted_proxies rather than a client forging headers: at least
 * PEERTAB_HINT_MIN requests, every one with X-Forwarded-For and none
 * without forwarded params, from a private (10/8, 172.16/12, 192.168/16,
 * fc00::/7) or loopback (127/8, ::1) network.  0 otherwise.
 */
int	peertab_hint(const struct peertab_row *);
/* Fold peer to its network as the table does; -1 if not IPv4/IPv6. */
int	peertab_fold(const struct addr *peer, struct cidr *net);

#endif
