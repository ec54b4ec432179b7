/*
 * The FastCGI front (SPEC §5.1): records from the web server decoded as
 * they come, the params collected for the policy, STDIN/DATA/ABORT and
 * management records relayed, php-fpm's records relayed back as they are.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"

static int	fcgi_input(struct conn *);
static int	item(struct conn *, const struct fcgi_item *);
static int	params_done(struct conn *);
static int	aborted(struct conn *);
static void	up_pressure(struct conn *);
static void	fcgi_reply(struct conn *, const char *, size_t);
static int	fcgi_input_done(const struct conn *);
static int	fcgi_idle(const struct conn *);

const struct conn_proto	conn_proto_fcgi = {
	.cp_name = "fastcgi",
	.cp_input = fcgi_input,
	.cp_raw = 1,
	.cp_reply = fcgi_reply,
	.cp_input_done = fcgi_input_done,
	.cp_idle = fcgi_idle,
};

/* Decode what the web server sent; -1 when the conn stops. */
static int
fcgi_input(struct conn *c)
{
	int	r;

	if (c->c_muxable && c->c_fdec.d_hlen == 0 &&
	    c->c_fdec.d_phase == FCGI_PHASE_IDLE) {
		if ((r = mux_maybe(c)) != 0)
			return (r > 0 ? c->c_proto->cp_input(c) :
			    c->c_state == CONN_CLOSING ? -1 : 0);
	}
	if (fcgi_decode(c, item, up_pressure) < 0)
		return (-1);
	return (conn_flush_up(c));
}

/*
 * Decode what the front sent, record by record, handing each item to
 * fn (0 go on, 1 stop: the request waits in the queue, -1 closed);
 * pressure() after each chunk may stop reading.  A held BEGIN_REQUEST
 * (FCGI_DEC_HOLD) stops reading until the conn calls again with c_held.
 * -1 when the conn was closed or answered.
 */
int
fcgi_decode(struct conn *c, int (*fn)(struct conn *,
    const struct fcgi_item *), void (*pressure)(struct conn *))
{
	struct evbuffer_iovec	 v;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off, used;
	char			 why[160];
	uint8_t			 none = 0;
	int			 r;

	while (c->c_state < CONN_ANSWERED && c->c_front.s_reading) {
		if (evbuffer_peek(c->c_front.s_in, -1, NULL, &v, 1) < 1) {
			v.iov_base = &none;
			v.iov_len = 0;
		}
		/* A held BEGIN_REQUEST is decoded even with no new byte. */
		if (v.iov_len == 0 && !c->c_held)
			break;
		c->c_held = 0;
		for (off = 0;;) {
			st = fcgi_dec_next(&c->c_fdec, (uint8_t *)v.iov_base +
			    off, v.iov_len - off, &used, &it);
			off += used;
			if (st == FCGI_DEC_MORE)
				break;
			if (st == FCGI_DEC_HOLD) {
				/*
				 * The next request waits in the socket
				 * (back-pressure) until one ends.
				 */
				c->c_held = 1;
				side_read_on(&c->c_front, 0);
				break;
			}
			if (st != FCGI_DEC_OK) {
				snprintf(why, sizeof(why), "%s (type %s, id %u, "
				    "version %u)", fcgi_strerror(st),
				    fcgi_type_name(c->c_fdec.d_rec.r_type),
				    c->c_fdec.d_rec.r_id,
				    c->c_fdec.d_rec.r_version);
				conn_close(c, why);
				return (-1);
			}
			if ((r = fn(c, &it)) < 0)
				return (-1);
			if (r > 0)
				break;	/* queued: the rest waits */
		}
		evbuffer_drain(c->c_front.s_in, off);
		pressure(c);
	}
	return (0);
}

/* Backpressure: php-fpm reads slower than the web server sends. */
static void
up_pressure(struct conn *c)
{
	if (c->c_upc != NULL &&
	    evbuffer_get_length(c->c_upc->u_side.s_out) > WM_HIGH)
		side_read_on(&c->c_front, 0);
}

/*
 * One decoded item: 0 go on, 1 stop decoding (the request waits in the
 * queue), -1 when the conn was closed or answered.
 */
static int
item(struct conn *c, const struct fcgi_item *it)
{
	uint8_t		 h[FCGI_HEADER_LEN];
	unsigned	 type = it->i_rec.r_type;
	size_t		 cap;

	/* With the pool, management records are ours to answer (§5.4). */
	if (type == FCGI_GET_VALUES && up_pool_capacity(c->c_pool) > 0) {
		if (it->i_kind == FCGI_ITEM_END) {
			mux_answer_values(c);
			return (conn_flush_front(c));
		}
		return (0);
	}
	switch (it->i_kind) {
	case FCGI_ITEM_HEADER:
		if (type == FCGI_BEGIN_REQUEST || type == FCGI_PARAMS)
			return (0);
		if (type == FCGI_ABORT_REQUEST &&
		    c->c_fdec.d_phase == FCGI_PHASE_PARAMS)
			return (aborted(c));
		if (c->c_upc == NULL && req_upstream(c) != 0)
			return (-1);
		/* Relayed records lose their padding: it carries nothing. */
		fcgi_enc_header(h, type, it->i_rec.r_id, it->i_rec.r_clen, 0);
		up_add(c->c_upc, h, sizeof(h));
		return (0);
	case FCGI_ITEM_CONTENT:
		if (type != FCGI_PARAMS) {
			up_add(c->c_upc, it->i_data, it->i_len);
			return (0);
		}
		if (fcgi_nv_feed(&c->c_nv, c->c_params, it->i_data,
		    it->i_len) != FCGI_DEC_MORE)
			return (conn_answer(c, ST_431,
			    "params over max_params_bytes"));
		return (0);
	case FCGI_ITEM_END:
		break;
	}
	if (type == FCGI_BEGIN_REQUEST) {
		c->c_counted = 0;
		c->c_special = 0;
		c->c_reqid = c->c_fdec.d_id;
		c->c_role = c->c_fdec.d_role;
		c->c_keep = (c->c_fdec.d_flags & FCGI_KEEP_CONN) != 0;
		/*
		 * The request's bytes plus room for what the policy writes
		 * (joined headers, REALIP_*, prefixes).  Freed once the params
		 * are sent, so an idle kept-alive connection holds no arena.
		 */
		cap = (size_t)c->c_app->a_max_params_bytes * 3 / 2 + 16384;
		if (c->c_params == NULL &&
		    (c->c_params = req_arena_get(cap)) == NULL) {
			conn_close(c, "out of memory");
			return (-1);
		}
		params_reset(c->c_params);
		fcgi_nv_init(&c->c_nv, (size_t)c->c_app->a_max_params_bytes);
		conn_arm_timer(c, c->c_app->a_params_timeout_ms, 0);
	} else if (type == FCGI_PARAMS && it->i_rec.r_clen == 0) {
		return (params_done(c));
	} else if (type == FCGI_STDIN && it->i_rec.r_clen == 0) {
		/* The whole request is in; php-fpm may take its time. */
		evtimer_del(c->c_timer);
		c->c_timer_idle = 0;
	}
	return (0);
}

/* The empty PARAMS record: run the policy and send the request on. */
static int
params_done(struct conn *c)
{
	if (fcgi_nv_finish(&c->c_nv) != FCGI_DEC_OK) {
		conn_close(c, fcgi_strerror(FCGI_DEC_ERR_PAIR));
		return (-1);
	}
	return (req_send(c));
}

/*
 * ABORT_REQUEST before the params were complete: php-fpm never saw the
 * request.  Alone on its connection, the connection closes; one of a
 * multiplexed connection's ends with its END_REQUEST (the others go on).
 */
static int
aborted(struct conn *c)
{
	uint8_t	 r[2 * FCGI_HEADER_LEN];

	if (!c->c_kid) {
		conn_close(c, "request aborted before its params");
		return (-1);
	}
	conn_log(c, LOG_LVL_DEBUG, "abort", "before its params");
	memset(r, 0, sizeof(r));
	fcgi_enc_header(r, FCGI_END_REQUEST, c->c_reqid, 8, 0);
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	evbuffer_add(c->c_front.s_out, r, sizeof(r));
	c->c_complete = 1;
	c->c_state = CONN_ANSWERED;
	side_read_on(&c->c_front, 0);
	conn_flush_front(c);
	return (-1);
}

/*
 * STDOUT records with the CGI response, the empty STDOUT, END_REQUEST;
 * records of at most FCGI_ENC_MAX_CONTENT, as php-fpm sends them.
 */
static void
fcgi_reply(struct conn *c, const char *msg, size_t len)
{
	uint8_t		 h[FCGI_HEADER_LEN], tail[7 + 2 * FCGI_HEADER_LEN + 8];
	unsigned	 id = c->c_reqid ? c->c_reqid : 1;
	size_t		 n;

	while (len > FCGI_ENC_MAX_CONTENT) {
		n = FCGI_ENC_MAX_CONTENT;	/* a multiple of 8: no pad */
		fcgi_enc_header(h, FCGI_STDOUT, id, (unsigned)n, 0);
		evbuffer_add(c->c_front.s_out, h, sizeof(h));
		evbuffer_add(c->c_front.s_out, msg, n);
		msg += n;
		len -= n;
	}
	/* The last piece (at most 65528 bytes) closes the response. */
	n = len % 8 ? 8 - len % 8 : 0;
	fcgi_enc_header(h, FCGI_STDOUT, id, (unsigned)len, (unsigned)n);
	evbuffer_add(c->c_front.s_out, h, sizeof(h));
	evbuffer_add(c->c_front.s_out, msg, len);
	/* Padding, the empty STDOUT, END_REQUEST (REQUEST_COMPLETE, 0). */
	memset(tail, 0, sizeof(tail));
	fcgi_enc_header(tail + n, FCGI_STDOUT, id, 0, 0);
	fcgi_enc_header(tail + n + FCGI_HEADER_LEN, FCGI_END_REQUEST, id, 8, 0);
	evbuffer_add(c->c_front.s_out, tail, n + 2 * FCGI_HEADER_LEN + 8);
}

/* The empty STDIN came and nothing more is buffered or held. */
static int
fcgi_input_done(const struct conn *c)
{
	return (c->c_fdec.d_phase == FCGI_PHASE_DONE && c->c_fdec.d_hlen == 0);
}

static int
fcgi_idle(const struct conn *c)
{
	return (c->c_fdec.d_phase == FCGI_PHASE_IDLE && c->c_fdec.d_hlen == 0);
}
