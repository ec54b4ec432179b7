/*
 * Server choice for the upstream pool (SPEC §5.4), pure so that the rules
 * can be tested with an injected clock: which php-fpm server takes the
 * next request, or none (the request queues).
 */
#ifndef FCN_PROTO_BALANCE_H
#define FCN_PROTO_BALANCE_H

#include <stddef.h>
#include <stdint.h>

enum bal_policy {
	BAL_LEAST_CONN,	/* fewest busy connections among those up */
	BAL_FIRST,	/* the first that is up; the rest are backups */
};

/* What the pool knows of one server. */
struct bal_server {
	size_t		b_busy;		/* bound to a request or connecting */
	size_t		b_idle;		/* kept, free */
	uint64_t	b_down_until;	/* ms on the caller's clock; 0: up */
};

/*
 * The server for the next request, or -1 to queue it.  max is the
 * per-server connection limit (0: none).  least_conn: among the servers
 * up at now with a free slot (an idle connection, or room for a new
 * one), the fewest busy, ties in list order.  first: the first server up;
 * -1 when it is full (it is waited for).  When no server is up, the
 * least busy one with a free slot is tried anyway.
 */
int	bal_choose(const struct bal_server *, size_t n, size_t max,
	    enum bal_policy, uint64_t now);

#endif
