/*
 * The php-fpm side (SPEC §5.4): upstream connections, the pool of kept
 * ones, the FIFO queue, several servers, and the safe-retry rule.
 *
 * A pool belongs to one app of one config generation.  With
 * upstream_max_conns = 0 it only opens connections (one per front
 * connection, kept by that front while its web server keeps it); with
 * N > 0 it binds a request to a connection from BEGIN_REQUEST to
 * END_REQUEST, keeps at most N connections per server, and queues the
 * rest.
 *
 * Ownership: the pool owns its connections.  A bound connection is lent
 * to one client (a request, or between requests without the pool its
 * front connection), which writes the request into it with up_add*()
 * and gives it back with up_release(), up_abandon() or up_drop().  The
 * pool reaches its client only through the struct up_client_ops the
 * client gave it (SPEC §7: calls go down), and every such call is the
 * last thing the calling function does, so the client may drop the
 * connection from inside it.
 */
#ifndef FCN_DAEMON_UPSTREAM_H
#define FCN_DAEMON_UPSTREAM_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config/config.h"
#include "daemon/side.h"
#include "proto/balance.h"
#include "proto/fcgi.h"

struct gen;
struct up_pool;
struct upc;

/*
 * How the pool reaches the client it serves (set by the client when it
 * asks for a connection or holds one).  owner is the client's pointer.
 */
struct up_client_ops {
	/* A queued request got its connection. */
	void	(*ready)(void *owner, struct upc *);
	/* php-fpm sent bytes (in u->u_side.s_in). */
	void	(*input)(void *owner, struct upc *);
	/* Our writes went out: the client may send more. */
	void	(*drained)(void *owner, struct upc *);
	/* The connection is gone: a retry is under way (ready or failed
	   follows), or a held connection was closed by php-fpm. */
	void	(*unbound)(void *owner);
	/* status: "502 ..." / "503 ..." to answer, or NULL: close after
	   relaying what came (php-fpm closed mid-response). */
	void	(*failed)(void *owner, const char *status, const char *why);
};

/* One php-fpm address of an app. */
struct up_server {
	struct up_pool		*us_pool;
	const char		*us_text;	/* the config's canonical text */
	struct bal_server	*us_bal;	/* busy, idle, down: in the
						   pool's array for bal_choose */
	struct sockaddr_storage	 us_ss;
	int			 us_sslen;
	int			 us_tcp;
	struct upc		*us_idle;	/* LIFO: fewest busy workers */
	struct upc		*us_fresh;	/* new connections whose
						   request has no answer yet */
	unsigned long		 us_connects;
	unsigned long		 us_fails;
};

/* One connection to php-fpm. */
struct upc {
	struct up_pool		*u_pool;
	struct up_server	*u_srv;
	void			*u_owner;	/* lent to; NULL when idle */
	const struct up_client_ops *u_ops;
	struct side		 u_side;
	struct fcgi_dec		 u_dec;		/* what php-fpm answers */
	struct event		*u_ctimer;	/* connect timeout */
	struct event		*u_itimer;	/* idle timeout, in the pool */
	struct upc		*u_next;	/* idle list */
	struct upc		*u_fnext;	/* its server's us_fresh */
	struct upc		**u_fprevp;	/* NULL: not in us_fresh */
	struct up_wait		*u_wait;	/* of the request it serves */
	uint64_t		 u_bound_ms;	/* when it was lent */
	struct evbuffer		*u_replay;	/* request bytes sent, for a
						   retry (while u_replaying) */
	int			 u_replaying;
	int			 u_connecting;
	int			 u_idle;	/* in its server's idle list */
	int			 u_reused;	/* served a request before */
	int			 u_active;	/* a request is in flight */
	int			 u_answered;	/* php-fpm sent a byte of it */
	int			 u_written;	/* a byte reached the socket */
	int			 u_draining;	/* its client left: php-fpm's
						   answer is read to its end,
						   then it goes idle */
};

/*
 * A request's place in the queue, embedded in struct req.  Zero-filled
 * is "not waiting".
 */
struct up_wait {
	void			*w_owner;
	const struct up_client_ops *w_ops;
	struct up_pool		*w_pool;	/* while queued */
	struct up_wait		*w_next;
	struct event		*w_timer;	/* queue_timeout_ms */
	uint64_t		 w_since;	/* ms, when it needed one */
	struct evbuffer		*w_carry;	/* bytes for the next upc */
	int			 w_queued;
	int			 w_retried_connect;
	int			 w_retried_reuse;
	int			 w_idempotent;	/* may run twice (its method) */
};

enum up_got {
	UP_BOUND,	/* *out is lent to the conn */
	UP_QUEUED,	/* ops->ready() comes later, or ops->failed() */
	UP_FAILED,	/* every server refused: answer 502 */
};

/* Counters of a pool (SPEC §6.1). */
struct up_stats {
	unsigned long	st_connects;
	unsigned long	st_connect_fails;
	unsigned long	st_retries;
	unsigned long	st_queued;	/* requests that waited */
	unsigned long	st_queue_ms;	/* their total wait */
	unsigned long	st_queue_timeouts;
	size_t		st_queue_max;
};

struct up_pool *up_pool_new(struct event_base *, struct gen *,
		    const struct cfg_app *);
/* The app (by name) stopped using p: idle connections close now. */
void		up_pool_retire(struct up_pool *);
/*
 * SPEC §6.2: n processes share each pool's upstream_max_conns; pools made
 * from now on hold ceil(total / n) per upstream server.
 */
void		 up_set_workers(size_t n);
/* A front connection starts or stops using p. */
void		up_pool_ref(struct up_pool *);
void		up_pool_unref(struct up_pool *);
size_t		up_pool_capacity(const struct up_pool *);
int		up_pool_keepalive(const struct up_pool *);

/*
 * w's request has its params: lend it a connection (UP_BOUND, *out set),
 * queue it (UP_QUEUED), or give up (UP_FAILED, nothing to undo).
 */
enum up_got	up_acquire(struct up_pool *, struct up_wait *,
		    struct upc **out);
/* Leave the queue (the front closed or was answered). */
void		up_cancel(struct up_pool *, struct up_wait *);
/* The carry buffer and timer of w, freed (w is not queued). */
void		up_wait_free(struct up_wait *);
/*
 * A request starts on a connection its front held between requests (no
 * pool): w is its client now.
 */
void		up_request_start(struct upc *, struct up_wait *);
/*
 * The request on u ended with END_REQUEST; without the pool the front
 * connection holds u for its next request (owner, ops: told when
 * php-fpm closes it meanwhile, through ops->unbound).
 */
void		up_hold(struct upc *, const struct up_client_ops *, void *);
/* Give u back after END_REQUEST: kept idle for the next request. */
void		up_release(struct upc *);
/* Give u back in any other state: it is closed, never reused. */
void		up_drop(struct upc *);
/*
 * The client left mid-answer, with all of its request sent: php-fpm's
 * answer is read and dropped to its END_REQUEST, then u goes idle
 * (closed instead without the pool's keepalive or on any error).
 */
void		up_abandon(struct upc *);
/* The process stops: from now on an abandoned connection is closed. */
void		up_stop(void);
/* Request bytes for php-fpm, kept for a retry while that is possible. */
void		up_add(struct upc *, const void *, size_t);
void		up_add_buffer(struct upc *, struct evbuffer *, size_t);
/* Write what is buffered; -1: the client was told (ops->failed). */
int		up_flush(struct upc *);
/*
 * A reload replaced old by p: the counters go on (SPEC §6.1), and when p
 * works the same way (pool on or off, kept or not) the requests of
 * front connections opened before the reload, and old's queue, go to p.
 */
void		up_pool_inherit(struct up_pool *p, struct up_pool *old);
/*
 * The pool's figures now for the status page, upstreams into su (cap
 * entries; sl->sl_up points there).
 */
struct status_live;
struct status_upstream;
void		up_status(struct up_pool *, struct status_live *,
		    struct status_upstream *su, size_t cap);
/*
 * Does at least one upstream accept a connection (a kept idle one
 * counts)?  For the ping page, without blocking the loop: 1 yes, 0 no
 * (*why says why), -1 a TCP connect is under way: done(owner, ok, why)
 * is called later, within connect_timeout_ms, unless up_ping_cancel()
 * is called on *pg first.
 */
struct up_ping;
int		up_ping(struct up_pool *, void (*done)(void *, int,
		    const char *), void *owner, struct up_ping **pg,
		    const char **why);
void		up_ping_cancel(struct up_ping *);

#endif
