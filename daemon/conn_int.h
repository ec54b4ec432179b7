/*
 * The front connection's insides, shared by conn.c (protocol-blind) and
 * its protocols (conn_fcgi.c, conn_scgi.c: picked once, at accept).
 * Nothing else includes this.  A protocol never calls conn.c: it reports
 * through its return values and the fields below (SPEC §7).
 */
#ifndef FCN_DAEMON_CONN_INT_H
#define FCN_DAEMON_CONN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config/config.h"
#include "daemon/conn.h"
#include "daemon/request.h"
#include "daemon/side.h"
#include "proto/fcgi.h"
#include "proto/proxyproto.h"
#include "proto/scgi.h"

/*
 * Where the connection is: one state instead of a set of flags (HAProxy's
 * enum fcgi_conn_st).  Each request's own progress is its own.
 */
enum conn_state {
	CONN_PREAMBLE,	/* PROXY protocol header still to come (§5.3) */
	CONN_OPEN,	/* reading requests, relaying answers */
	CONN_QUIET,	/* one request, all of it read: the socket is not
			   watched until c_watch_timer (WATCH_MS) */
	CONN_FLUSH,	/* last bytes going out; then close or linger */
	CONN_LINGER,	/* write side shut, draining what the front sends */
	CONN_CLOSING,	/* conn_close() called: freed when callbacks leave */
};

struct conn;

/* A front protocol: picked once, at accept (relayd's one read callback). */
struct conn_proto {
	const char	*cp_name;
	const struct req_proto *cp_req;
	/* The connection is open (after the PROXY header); -1: *why. */
	int		(*cp_start)(struct conn *, const char **why);
	/* Decode what the front sent; -1: close with *why. */
	int		(*cp_input)(struct conn *, const char **why);
	/* Request r ends (how): its place frees (r is freed after). */
	void		(*cp_ended)(struct conn *, struct req *, enum req_end);
	/* Has the front sent everything of its requests (no linger)? */
	int		(*cp_input_done)(const struct conn *);
	/* Between requests: nothing of one has come. */
	int		(*cp_idle)(const struct conn *);
};

extern const struct conn_proto	conn_proto_fcgi;
extern const struct conn_proto	conn_proto_scgi;

struct conn {
	struct conn		*c_next;	/* the server's list */
	struct conn		**c_prevp;
	struct conn_setup	 c_setup;
	const struct cfg_app	*c_app;
	const struct conn_proto	*c_proto;
	enum conn_state		 c_state;
	struct side		 c_front;
	struct req_ctx		 c_ctx;		/* what its requests share */
	struct req		*c_reqs[FCGI_REQS_MAX];	/* by decoder slot */
	size_t			 c_nreqs;
	struct req		*c_mgmt;	/* a management record relayed
						   to php-fpm (no pool) */
	struct upc		*c_kept;	/* no pool: php-fpm's connection
						   between requests */
	unsigned long		 c_id;
	unsigned long		 c_requests;	/* begun */
	char			 c_peer[64];
	int			 c_depth;	/* callbacks running on it */
	unsigned		 c_closereq;	/* the request that closed it */
	int			 c_settling;
	int			 c_again;	/* settle once more */
	int			 c_decoding;	/* in cp_input */
	int			 c_kick;	/* decode even with no new byte
						   (a held BEGIN may go on) */
	int			 c_closeafter;	/* a request without
						   FCGI_KEEP_CONN: close once
						   every request ended */
	int			 c_cut;		/* a request ended before all
						   its input came */
	/* FastCGI (conn_fcgi.c). */
	struct fcgi_dec		 c_fdec;
	int			 c_held;	/* a BEGIN_REQUEST waits */
	/* SCGI (conn_scgi.c). */
	struct scgi_dec		 c_sdec;
	uint8_t			*c_sbuf;	/* the header, while reading */
	uint64_t		 c_body_left;
	int			 c_sphase;	/* 0 header, 1 body, 2 done */
	/*
	 * PROXY protocol (§5.3): 1.3 KB that a connection without it does
	 * not carry; the decoder is freed once the header is read, the
	 * result stays for the requests' params.
	 */
	struct pp_dec		*c_ppdec;
	struct pp_result	*c_pp;
	void			*c_ppssl;	/* the SSL TLV while the PROXY
						   header is read, then the
						   client certificate as
						   x_ppcert (SPEC §4.10) */
	/* One timer per purpose. */
	struct event		*c_pp_timer;	/* the PROXY header's 5 s */
	struct event		*c_idle_timer;	/* no request: params_timeout_ms
						   before the first,
						   idle_timeout_ms after */
	struct event		*c_watch_timer;	/* the end of CONN_QUIET */
	struct event		*c_linger_timer;
	size_t			 c_linger_bytes;
};

/*
 * Does a request of c take its input slower than it comes (back-pressure:
 * the front is not read further)?  conn.c's reading and the protocols'
 * decode loops ask the same question.
 */
static inline int
conn_reqs_full(const struct conn *c)
{
	size_t	i;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (c->c_reqs[i] != NULL && req_full(c->c_reqs[i]))
			return (1);
	return (0);
}

#endif
