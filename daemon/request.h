/*
 * One request (SPEC §4, §5): its params, the policy's verdict, the
 * daemon's own answers (400, 403, 431, 502, 503, status and ping), the
 * hand-off to the upstream pool, and php-fpm's answer relayed to the
 * front.  The unit the pool serves; a front connection holds a set of
 * them (one for SCGI and without the pool).
 *
 * Calls go down only (SPEC §7): the front protocols (conn_fcgi.c,
 * conn_scgi.c) create and feed requests by name; a request reaches its
 * front connection only through the struct req_owner_ops in its context,
 * and the pool reaches the request through struct up_client_ops.  Every
 * call into the owner is the last thing the calling function does with
 * the request: the owner may free it from inside (req_free).
 */
#ifndef FCN_DAEMON_REQUEST_H
#define FCN_DAEMON_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config/config.h"
#include "daemon/upstream.h"
#include "proto/fcgi.h"
#include "proto/params.h"
#include "proto/proxyproto.h"

/*
 * Per direction, at most WM_HIGH bytes wait to be written before we stop
 * reading the other side; reading resumes below WM_LOW.  With the params
 * arena (given back once the params are sent) a connection stays well
 * under SPEC §5.5's 256 KiB.
 */
#define WM_HIGH		(64 * 1024)
#define WM_LOW		(16 * 1024)

struct req;
struct status_app;

/* How a request ended (struct req_owner_ops.ended). */
enum req_end {
	REQ_RELAYED,	/* php-fpm's END_REQUEST went to the front */
	REQ_ANSWERED,	/* the daemon answered it */
	REQ_CUT,	/* php-fpm's answer broke off: what came was relayed,
			   the front must be closed to say so */
};

/* How a request reaches its front connection (set by the front). */
struct req_owner_ops {
	/* Bytes for the front were added to x_out: write them. */
	void	(*output)(void *owner, struct req *);
	/*
	 * The request is over; x_out holds its last bytes.  kept: without
	 * the pool, the php-fpm connection to hold for the next request
	 * (NULL: none).  The owner frees r.
	 */
	void	(*ended)(void *owner, struct req *, enum req_end,
		    struct upc *kept);
	/* The request can take input again: read the front. */
	void	(*more)(void *owner, struct req *);
	/* The connection must close (a timeout); reason for the log. */
	void	(*close)(void *owner, struct req *, const char *reason);
};

/* What a front protocol does with answers (picked once per front). */
struct req_proto {
	/* php-fpm's records go to the front as they are (FastCGI). */
	int	rp_raw;
	/* Not raw: one content item of php-fpm's answer. */
	void	(*rp_content)(struct req *, const struct fcgi_item *);
	/* The daemon's own answer, a whole CGI response, onto x_out. */
	void	(*rp_reply)(struct req *, const char *, size_t);
};

/* What the requests of one front connection share (the front owns it). */
struct req_ctx {
	struct event_base		*x_base;
	const struct cfg_app		*x_app;
	struct up_pool			*x_pool;
	struct status_app		*x_stats;
	unsigned long			*x_untrusted;	/* the listener's */
	const size_t			*x_active;	/* its connections */
	unsigned long			 x_id;		/* connection id */
	const char			*x_peer;
	const struct pp_result		*x_pp;		/* NULL: none */
	/* PP2 client certificate as URL-encoded PEM, made once per
	   connection (SPEC §4.10); NULL: none. */
	const char			*x_ppcert;
	size_t				 x_ppcertlen;
	struct evbuffer			*x_out;		/* to the front */
	const struct req_owner_ops	*x_ops;
	void				*x_owner;
	int				 x_mux;		/* several at once */
	size_t				 x_params_used;	/* params bytes of
							   its requests now */
};

enum req_state {
	REQ_PARAMS,	/* the params are coming */
	REQ_WAIT,	/* params done: queued for a php-fpm connection */
	REQ_RELAY,	/* bound: request and answer relayed */
	REQ_PING,	/* the ping page waits for a connect */
	REQ_DONE,	/* ended: the owner frees it */
};

struct req {
	struct req_ctx		*r_ctx;
	const struct req_proto	*r_proto;
	enum req_state		 r_state;
	unsigned		 r_id;
	unsigned		 r_role;
	int			 r_slot;	/* in the front's decoder */
	int			 r_keep;	/* FCGI_KEEP_CONN (front) */
	int			 r_input_done;	/* all its input is in */
	int			 r_relayed;	/* answer bytes went out */
	int			 r_counted;	/* in sa_requests */
	int			 r_special;	/* a status or ping request */
	int			 r_paused;	/* front full: php-fpm
						   not read */
	size_t			 r_held;	/* bytes of php-fpm's record
						   not yet whole */
	size_t			 r_owed;	/* content of the record on
						   its way to php-fpm not yet
						   sent (a front's STDIN) */
	struct params		*r_params;	/* while collecting */
	struct fcgi_nv		 r_nv;
	size_t			 r_pbytes;	/* in x_params_used */
	struct upc		*r_upc;
	struct up_wait		 r_wait;	/* carry: bytes for php-fpm
						   before it is bound */
	struct event		*r_params_timer; /* params_timeout_ms */
	struct event		*r_body_timer;	/* idle_timeout_ms of body */
	struct up_ping		*r_ping;
	struct req		*r_next;	/* the free list */
};

/*
 * A request id (FastCGI; SCGI 1) of role in the decoder's slot, keep as
 * the front asked; kept: the php-fpm connection its front held (no
 * pool), now the request's.  NULL on ENOMEM (kept is still the caller's).
 */
struct req	*req_new(struct req_ctx *, const struct req_proto *,
		    unsigned id, int slot, unsigned role, int keep,
		    struct upc *kept);
/* Free r in any state: its upstream connection is given up. */
void		 req_free(struct req *);
/*
 * The front left (closed, gave up): php-fpm's connection closes, or with
 * the pool, once r's input is all sent, is drained back to the pool.
 */
void		 req_abort(struct req *);
/*
 * r carries a management record (id 0, no params) to php-fpm: its
 * connection now.  -1 when r ended (502 answered).
 */
int		 req_management(struct req *);
/* The params arena, for a decoder that fills it whole (SCGI). */
struct params	*req_params_arena(struct req *);
/* PARAMS content; -1 when r ended (431 answered). */
int		 req_params(struct req *, const uint8_t *, size_t);
/* The params are complete: policy, then php-fpm; -1 when r ended. */
int		 req_params_done(struct req *);
/* Bytes for php-fpm, already framed (a record, SCGI's body as STDIN). */
void		 req_input(struct req *, const void *, size_t);
void		 req_input_buffer(struct req *, struct evbuffer *, size_t);
/* All of r's input is in (the empty STDIN). */
void		 req_input_end(struct req *);
/* Should the front stop reading for r (php-fpm slower than the front)? */
int		 req_full(const struct req *);
/* Write what the front's read gave r to php-fpm, once. */
void		 req_flush(struct req *);
/* The front drained below WM_LOW: read php-fpm again. */
void		 req_resume(struct req *);
/* The daemon answers r (status and why for the log; why NULL: debug). */
void		 req_answer(struct req *, const char *status, const char *why);
/* ABORT_REQUEST before its params: an empty answer ends it (mux). */
void		 req_end_empty(struct req *);
/* One log line about r: "WHAT conn=N peer=P[ req=ID] DETAIL". */
void		 req_log(const struct req *, int level, const char *what,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
