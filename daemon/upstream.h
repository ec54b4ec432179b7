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
 * to one front connection, which writes the request into it with
 * up_add*() and gives it back with up_release() or up_drop().  Every
 * callback into conn.c is the last thing the calling function does, so
 * the conn may close itself (and drop the upstream) from inside it.
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

struct conn;
struct gen;
struct up_pool;

/* One php-fpm address of an app. */
struct up_server {
	const char		*us_text;	/* the config's canonical text */
	struct bal_server	*us_bal;	/* busy, idle, down: in the
						   pool's array for bal_choose */
	struct sockaddr_storage	 us_ss;
	int			 us_sslen;
	int			 us_tcp;
	struct upc		*us_idle;	/* LIFO: fewest busy workers */
	unsigned long		 us_connects;
	unsigned long		 us_fails;
};

/* One connection to php-fpm. */
struct upc {
	struct up_pool		*u_pool;
	struct up_server	*u_srv;
	struct conn		*u_conn;	/* lent to; NULL when idle */
	struct side		 u_side;
	struct fcgi_dec		 u_dec;		/* what php-fpm answers */
	struct event		*u_timer;	/* connect, then idle timeout */
	struct event		*u_slow;	/* first byte on a fresh conn */
	struct upc		*u_next;	/* idle list */
	struct up_wait		*u_wait;	/* of the conn it is lent to */
	struct evbuffer		*u_replay;	/* request bytes sent, for a
						   retry (while u_replaying) */
	int			 u_replaying;
	int			 u_connecting;
	int			 u_idle;	/* in its server's idle list */
	int			 u_reused;	/* served a request before */
	int			 u_active;	/* a request is in flight */
	int			 u_answered;	/* php-fpm sent a byte of it */
	int			 u_written;	/* a byte reached the socket */
};

/*
 * A front connection's place in the queue, embedded in struct conn.
 * Zero-filled is "not waiting".
 */
struct up_wait {
	struct conn		*w_conn;
	struct up_pool		*w_pool;	/* while queued */
	struct up_wait		*w_next;
	struct event		*w_timer;	/* queue_timeout_ms */
	uint64_t		 w_since;	/* ms, when it needed one */
	struct evbuffer		*w_carry;	/* bytes for the next upc */
	int			 w_queued;
	int			 w_retried_connect;
	int			 w_retried_reuse;
};

enum up_got {
	UP_BOUND,	/* *out is lent to the conn */
	UP_QUEUED,	/* conn_up_ready() comes later, or conn_up_failed() */
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
/* A request starts on a connection the conn already holds (no pool). */
void		up_request_start(struct upc *);
/* The request on u ended with END_REQUEST; the conn keeps u (no pool). */
void		up_request_done(struct upc *);
/* Give u back after END_REQUEST: kept idle for the next request. */
void		up_release(struct upc *);
/* Give u back in any other state: it is closed, never reused. */
void		up_drop(struct upc *);
/* Request bytes for php-fpm, kept for a retry while that is possible. */
void		up_add(struct upc *, const void *, size_t);
void		up_add_buffer(struct upc *, struct evbuffer *, size_t);
/* Write what is buffered; -1: the conn was told (conn_up_failed). */
int		up_flush(struct upc *);
/* A reload replaced old by p: the counters go on (SPEC §6.1). */
void		up_pool_inherit(struct up_pool *p, const struct up_pool *old);
/*
 * The pool's figures now for the status page, upstreams into su (cap
 * entries; sl->sl_up points there).
 */
struct status_live;
struct status_upstream;
void		up_status(const struct up_pool *, struct status_live *,
		    struct status_upstream *su, size_t cap);
/*
 * Does at least one upstream accept a connection (a kept idle one
 * counts)?  For the ping page.  A TCP connect is waited for at most
 * 100 ms.  1 yes; 0 no, with *why.
 */
int		up_ping(const struct up_pool *, const char **why);

/* Callbacks into conn.c (each the last thing its caller does). */
void	conn_up_ready(struct conn *, struct upc *);
void	conn_up_input(struct conn *, struct upc *);
void	conn_up_drained(struct conn *, struct upc *);
/* u is gone (retry under way: conn_up_ready follows, or failed). */
void	conn_up_unbound(struct conn *);
/* status: "502 ..." / "503 ..." to answer, or NULL: close after relaying
   what came (php-fpm closed mid-response). */
void	conn_up_failed(struct conn *, const char *status, const char *why);

#endif
