/*
 * The front connection's insides, shared by conn.c (protocol-blind: I/O,
 * back-pressure, timers, PROXY header, answers, close), its protocols
 * (conn_fcgi.c, conn_scgi.c: picked once, at accept) and request.c (the
 * policy hand-off).  Nothing outside those files includes this.
 *
 * Ownership (STYLE S9): struct conn owns its front socket, its params
 * arena, its place in the upstream queue, the upstream connection lent to
 * its request, and its references to the listener, config generation and
 * pool.  conn_close() only marks it; the outermost callback running on it
 * frees it on its way out (CONN_ENTER/CONN_LEAVE), so no function ever
 * runs on a freed conn, and -1 means "stop", never "memory is gone".
 */
#ifndef FCN_DAEMON_CONN_INT_H
#define FCN_DAEMON_CONN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config/config.h"
#include "daemon/side.h"
#include "daemon/upstream.h"
#include "proto/fcgi.h"
#include "proto/params.h"
#include "proto/proxyproto.h"
#include "proto/scgi.h"

/*
 * Per direction, at most WM_HIGH bytes wait to be written before we stop
 * reading the other side; reading resumes below WM_LOW.  With the params
 * arena (given back once the params are sent) a connection stays well
 * under SPEC §5.5's 256 KiB.
 */
#define WM_HIGH		(64 * 1024)
#define WM_LOW		(16 * 1024)
#define ST_400		"400 Bad Request"
#define ST_403		"403 Forbidden"
#define ST_431		"431 Request Header Fields Too Large"
#define ST_502		"502 Bad Gateway"
#define ST_503		"503 Service Unavailable"

/*
 * Where the front connection is.  One state instead of a set of flags
 * (HAProxy's enum fcgi_conn_st); the request's own progress (params,
 * body) is the protocol decoder's.
 */
enum conn_state {
	CONN_PREAMBLE,	/* PROXY protocol header still to come (§5.3) */
	CONN_ACTIVE,	/* reading requests, relaying answers */
	CONN_ANSWERED,	/* last bytes going out; then close or linger */
	CONN_LINGER,	/* write side shut, draining what the front sends */
	CONN_CLOSING,	/* conn_close() called: freed when callbacks leave */
};

struct conn;
struct fcgi_item;
struct status_app;

/* A front protocol: picked once, at accept (relayd's one read callback). */
struct conn_proto {
	const char	*cp_name;
	/* Decode what the front sent; -1 when the conn stops. */
	int		(*cp_input)(struct conn *);
	/* php-fpm's records go to the front byte for byte. */
	int		 cp_raw;
	/* Not raw: one content item of php-fpm's answer. */
	void		(*cp_content)(struct conn *, const struct fcgi_item *);
	/* Our own answer (a whole CGI response) onto the front's buffer. */
	void		(*cp_reply)(struct conn *, const char *, size_t);
	/* Has the front sent all it will send?  (No lingering needed.) */
	int		(*cp_input_done)(const struct conn *);
	/* Between requests: a close is clean, a php-fpm close is normal. */
	int		(*cp_idle)(const struct conn *);
	/* After each callback on the conn (NULL: nothing to do). */
	void		(*cp_settle)(struct conn *);
};

extern const struct conn_proto	conn_proto_fcgi;
extern const struct conn_proto	conn_proto_fcgi_mux;
extern const struct conn_proto	conn_proto_scgi;

/*
 * A FastCGI front with the pool multiplexes (SPEC §5.4, conn_mux.c): the
 * connection demultiplexes records by request id into one child conn per
 * request (c_parent set, a virtual front side, its own FastCGI decoder
 * and timer) that does everything a connection does for one request; the
 * parent writes the children's answers onto the socket by whole records.
 */
struct conn {
	struct conn		*c_next;	/* server's list, or the
						   parent's children */
	struct conn		**c_prevp;
	struct listener		*c_l;
	const struct cfg_app	*c_app;
	struct gen		*c_gen;
	const struct conn_proto	*c_proto;
	enum conn_state		 c_state;
	struct side		 c_front;
	struct up_pool		*c_pool;
	struct status_app	*c_stats;	/* the app's counters (§6.1) */
	int			 c_special;	/* a status or ping request */
	int			 c_counted;	/* the request is in sa_requests */
	struct upc		*c_upc;		/* lent for the request */
	struct up_wait		 c_wait;	/* our place in its queue */
	unsigned long		 c_id;
	char			 c_peer[64];
	struct fcgi_dec		 c_fdec;	/* what the web server sends */
	struct fcgi_nv		 c_nv;
	struct params		*c_params;	/* only while reading params */
	struct event		*c_timer;	/* one timer, see conn_arm_timer */
	int			 c_timer_idle;	/* c_timer is the idle one */
	int			 c_watching;	/* ... the end of the quiet */
	int			 c_depth;	/* callbacks running on it */
	int			 c_relayed;	/* response bytes went out */
	unsigned		 c_reqid;
	unsigned		 c_role;
	int			 c_keep;	/* FCGI_KEEP_CONN */
	int			 c_held;	/* a second BEGIN_REQUEST waits */
	struct scgi_dec		 c_sdec;
	uint8_t			*c_sbuf;	/* SCGI header, while reading it */
	uint64_t		 c_body_left;	/* SCGI body bytes to come */
	struct pp_dec		 c_ppdec;
	int			 c_pp_have;	/* an address was announced */
	struct pp_result	 c_pp;
	size_t			 c_linger_bytes;
	unsigned long		 c_requests;
	/* A request of a multiplexed connection. */
	struct conn		*c_parent;	/* NULL once it is gone */
	int			 c_kid;
	int			 c_complete;	/* its END_REQUEST is written */
	int			 c_upflush;	/* php-fpm's bytes wait for the
						   parent's read to be decoded */
	/* A multiplexed connection. */
	int			 c_muxable;	/* may become one */
	int			 c_decoding;	/* in mux_input: children
						   write to php-fpm after it */
	struct fcgi_mux		 c_mux;
	struct conn		*c_kids;
	size_t			 c_nkids;
	struct event		*c_kick;	/* a child changed: settle */
	struct conn		*c_rcur;	/* the record being read goes
						   to it (NULL: dropped) */
	size_t			 c_roff;	/* its content offset */
	struct conn		*c_wcur;	/* its record is half written */
	size_t			 c_wleft;
	int			 c_closeafter;	/* a request without
						   FCGI_KEEP_CONN came */
};

/*
 * Every callback that may close the conn brackets its work in these; a
 * child's activity outside its parent's callbacks wakes the parent.
 */
#define CONN_ENTER(c)	((c)->c_depth++)
#define CONN_LEAVE(c)	conn_leave(c)

/* conn.c */
/*
 * One log line about c: "WHAT conn=N peer=P DETAIL" (nginx adds the
 * client to every line it logs).  Nothing is formatted below the level.
 */
void	conn_log(const struct conn *, int level, const char *what,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* " req=N" for a request of a multiplexed connection, else "". */
const char *conn_req_tag(const struct conn *);
void	conn_close(struct conn *, const char *reason);
void	conn_free(struct conn *);
void	conn_leave(struct conn *);
/* Decode what the front sent (PROXY header, then the protocol's). */
int	conn_feed(struct conn *);
/* A child conn for request id of multiplexed connection p; NULL: ENOMEM. */
struct conn *conn_kid_new(struct conn *p, unsigned id);
/* Bytes waiting to go to the front (a child: its parent's too). */
size_t	conn_front_pending(const struct conn *);

/* conn_fcgi.c */
/*
 * Decode the front's FastCGI records into fn, one item at a time; after
 * each chunk, pressure() may stop reading.  -1 when the conn stopped.
 */
int	fcgi_decode(struct conn *, int (*fn)(struct conn *,
	    const struct fcgi_item *), void (*pressure)(struct conn *));

/* conn_mux.c */
/* Child k is going away: its slot frees, the parent settles. */
void	mux_kid_gone(struct conn *k);
void	mux_kick(struct conn *);
/*
 * A FastCGI front with the pool, before its first request: 1 when it
 * just became a multiplexed connection (its input is the mux's now), 0
 * when it stays one request at a time, -1 when the first record is not
 * complete yet or the conn closed.
 */
int	mux_maybe(struct conn *);
/* FCGI_GET_VALUES with the pool: the daemon's answer (SPEC §5.4). */
void	mux_answer_values(struct conn *);
void	conn_arm_timer(struct conn *, long ms, int idle);
/* The daemon answers (400, 403, 431, 502, 503), then closes.  -1. */
int	conn_answer(struct conn *, const char *status, const char *why);
/*
 * The daemon answers with a whole CGI response (headers and body), then
 * closes; status and why are for the log (why NULL: debug only).  -1.
 */
int	conn_respond(struct conn *, const char *cgi, size_t len,
	    const char *status, const char *why);
int	conn_flush_front(struct conn *);
int	conn_flush_up(struct conn *);
/* php-fpm's END_REQUEST came: give back or keep its connection. */
void	conn_up_done(struct conn *);
/* Mid-request: the upstream connection is closed. */
void	conn_up_let_go(struct conn *);
/* Response bytes waiting in the upstream connection: relay them. */
int	conn_up_process(struct conn *);

/* request.c */
/* Params complete: PROXY params, policy, BEGIN and params upstream.
   0 sent, 1 queued (stop reading), -1 answered or closed. */
int	req_send(struct conn *);
/* The request needs its upstream connection: 0, 1 queued, -1. */
int	req_upstream(struct conn *);
struct params *req_arena_get(size_t cap);
void	req_arena_put(struct params *);

#endif
