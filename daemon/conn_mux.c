/*
 * A multiplexing FastCGI front (SPEC §5.4): with the pool, a web server
 * may send several requests on one connection at once (HAProxy "option
 * mpxs-conns").  The connection checks each record's place (proto/fcgi.c,
 * FCGI_SIDE_MUX) and hands it to a child conn, one per request, which
 * does what a connection does for one request (conn_fcgi.c, request.c,
 * its own pooled php-fpm connection).  The children's answers go onto
 * the socket by whole records, never one split by another's.
 *
 * The children never keep: the web server's FCGI_KEEP_CONN is the
 * connection's (a request without it closes the connection once every
 * request has ended), so a child ends with its END_REQUEST.
 */
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"
#include "daemon/server.h"

static int	mux_input(struct conn *);
static int	mux_item(struct conn *, const struct fcgi_item *);
static void	mux_pressure(struct conn *);
static struct conn *find_kid(const struct conn *, unsigned);
static void	pump(struct conn *);
static size_t	pump_round(struct conn *);
static void	mux_settle(struct conn *);
static void	kick_cb(evutil_socket_t, short, void *);
static int	mux_input_done(const struct conn *);
static int	mux_idle(const struct conn *);
static void	mux_reply(struct conn *, const char *, size_t);

const struct conn_proto	conn_proto_fcgi_mux = {
	.cp_name = "fastcgi",
	.cp_input = mux_input,
	.cp_raw = 1,
	.cp_reply = mux_reply,
	.cp_input_done = mux_input_done,
	.cp_idle = mux_idle,
	.cp_settle = mux_settle,
};

/*
 * The first BEGIN_REQUEST decides: without FCGI_KEEP_CONN the connection
 * carries that one request (nginx's default), so it stays on the plain
 * path, which costs less; with it, the web server may send more at once.
 */
int
mux_maybe(struct conn *c)
{
	uint8_t	h[FCGI_HEADER_LEN + 8];
	size_t	n = evbuffer_get_length(c->c_front.s_in);
	int	keeps;

	if (n > sizeof(h))
		n = sizeof(h);
	evbuffer_copyout(c->c_front.s_in, h, n);
	/* GET_VALUES first, or an error the plain path reports: 0. */
	if ((keeps = fcgi_begin_keeps(h, n)) < 0)
		return (-1);
	if (n >= 2 && h[1] == FCGI_BEGIN_REQUEST)
		c->c_muxable = 0;	/* decided */
	if (!keeps)
		return (0);
	c->c_kick = event_new(c->c_l->l_srv->s_base, -1, 0, kick_cb, c);
	if (c->c_kick == NULL) {
		conn_close(c, "out of memory");
		return (-1);
	}
	fcgi_dec_init_mux(&c->c_fdec, &c->c_mux);
	c->c_proto = &conn_proto_fcgi_mux;
	return (1);
}

void
mux_kick(struct conn *c)
{
	if (c->c_state != CONN_CLOSING && c->c_kick != NULL)
		event_active(c->c_kick, 0, 0);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	CONN_ENTER(c);
	mux_settle(c);
	CONN_LEAVE(c);
}

/*
 * Child k is freed.  A child that did not write its END_REQUEST leaves
 * its request unanswered (php-fpm closed mid-response, a timeout): the
 * web server learns it only from a closed connection.
 */
void
mux_kid_gone(struct conn *k)
{
	struct conn	*p = k->c_parent;

	p->c_nkids--;
	fcgi_mux_end(&p->c_mux, k->c_reqid);
	if (p->c_rcur == k)
		p->c_rcur = NULL;
	if (p->c_wcur == k) {
		p->c_wcur = NULL;
		if (p->c_wleft > 0)
			k->c_complete = 0;	/* a record cut short */
	}
	if (!k->c_complete && p->c_state < CONN_CLOSING) {
		/* May free p at once: p is not touched after it. */
		conn_close(p, "a multiplexed request ended without its "
		    "answer");
		return;
	}
	/* Inside the parent's callbacks, its settle comes anyway. */
	if (p->c_depth == 0)
		mux_kick(p);
}

static struct conn *
find_kid(const struct conn *c, unsigned id)
{
	struct conn	*k;

	for (k = c->c_kids; k != NULL; k = k->c_next)
		if (k->c_reqid == id)
			return (k);
	return (NULL);
}

/* What the web server sent, record by record; -1 when the conn stops. */
static int
mux_input(struct conn *c)
{
	struct conn	*k, *next;
	int		 r;

	c->c_decoding = 1;
	r = fcgi_decode(c, mux_item, mux_pressure);
	c->c_decoding = 0;
	/*
	 * What each child got from this read goes to php-fpm in one write
	 * (nginx sends BEGIN, PARAMS and an empty STDIN at once: one write
	 * per record cost a syscall and a php-fpm wake-up more per request).
	 */
	for (k = c->c_kids; k != NULL; k = next) {
		next = k->c_next;
		if (!k->c_upflush)
			continue;
		k->c_upflush = 0;
		if (c->c_state == CONN_CLOSING)
			continue;
		CONN_ENTER(k);
		conn_flush_up(k);
		CONN_LEAVE(k);
	}
	return (c->c_state == CONN_CLOSING ? -1 : r);
}

/* A child that cannot take more stops the connection. */
static void
mux_pressure(struct conn *c)
{
	struct conn	*k;

	for (k = c->c_kids; k != NULL; k = k->c_next)
		if (evbuffer_get_length(k->c_front.s_in) > WM_HIGH)
			side_read_on(&c->c_front, 0);
}

/*
 * One item: a record for a child is copied into its input (padding
 * dropped) and decoded there once whole.  -1 when the conn closed.
 */
static int
mux_item(struct conn *c, const struct fcgi_item *it)
{
	uint8_t		 h[FCGI_HEADER_LEN], b[8];
	unsigned	 type = it->i_rec.r_type;
	struct conn	*k;
	size_t		 n;

	if (type == FCGI_GET_VALUES) {
		if (it->i_kind == FCGI_ITEM_END) {
			mux_answer_values(c);
			return (conn_flush_front(c) < 0 ? -1 : 0);
		}
		return (0);
	}
	switch (it->i_kind) {
	case FCGI_ITEM_HEADER:
		if (type == FCGI_BEGIN_REQUEST) {
			if ((k = conn_kid_new(c, it->i_rec.r_id)) == NULL) {
				conn_close(c, "out of memory");
				return (-1);
			}
			c->c_requests++;
		} else {
			k = find_kid(c, it->i_rec.r_id);
		}
		c->c_rcur = k;
		c->c_roff = 0;
		if (k != NULL && k->c_state == CONN_ACTIVE) {
			fcgi_enc_header(h, type, it->i_rec.r_id,
			    it->i_rec.r_clen, 0);
			evbuffer_add(k->c_front.s_in, h, sizeof(h));
		}
		return (0);
	case FCGI_ITEM_CONTENT:
		k = c->c_rcur;
		n = it->i_len;
		if (k == NULL || k->c_state != CONN_ACTIVE) {
			c->c_roff += n;
			return (0);	/* answered already: dropped */
		}
		if (type == FCGI_BEGIN_REQUEST && c->c_roff + n <= 8) {
			/* The flags byte (offset 2) is the connection's. */
			memcpy(b, it->i_data, n);
			if (c->c_roff <= 2 && 2 < c->c_roff + n) {
				if (!(b[2 - c->c_roff] & FCGI_KEEP_CONN))
					c->c_closeafter = 1;
				b[2 - c->c_roff] &= ~FCGI_KEEP_CONN;
			}
			evbuffer_add(k->c_front.s_in, b, n);
		} else {
			evbuffer_add(k->c_front.s_in, it->i_data, n);
		}
		c->c_roff += n;
		return (0);
	case FCGI_ITEM_END:
		break;
	}
	k = c->c_rcur;
	c->c_rcur = NULL;
	if (k == NULL || k->c_state != CONN_ACTIVE)
		return (0);
	/* A body still coming keeps the child's idle timer young. */
	if (k->c_timer_idle && evtimer_pending(k->c_timer, NULL))
		conn_arm_timer(k, k->c_app->a_idle_timeout_ms, 1);
	if (!k->c_front.s_reading)
		return (0);
	CONN_ENTER(k);
	conn_feed(k);
	CONN_LEAVE(k);
	return (c->c_state == CONN_CLOSING ? -1 : 0);
}

/*
 * FCGI_GET_VALUES: the pool's capacity, and multiplexing (SPEC §5.4);
 * php-fpm's answer would describe one php-fpm, not the pool.
 */
void
mux_answer_values(struct conn *c)
{
	static const char *const names[] = { "FCGI_MAX_CONNS",
	    "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
	char		 n[24];
	size_t		 cap = up_pool_capacity(c->c_pool), len, k = 0, i;
	uint8_t		 buf[160];

	for (i = 0; i < 3; i++) {
		len = (size_t)snprintf(n, sizeof(n), "%zu", i < 2 ? cap : 1);
		buf[FCGI_HEADER_LEN + k++] = (uint8_t)strlen(names[i]);
		buf[FCGI_HEADER_LEN + k++] = (uint8_t)len;
		memcpy(buf + FCGI_HEADER_LEN + k, names[i], strlen(names[i]));
		k += strlen(names[i]);
		memcpy(buf + FCGI_HEADER_LEN + k, n, len);
		k += len;
	}
	fcgi_enc_header(buf, FCGI_GET_VALUES_RESULT, 0, (unsigned)k, 0);
	evbuffer_add(c->c_front.s_out, buf, FCGI_HEADER_LEN + k);
}

/*
 * The children's answers onto the connection, by whole records: a record
 * started is finished before another child's begins.  Each child moves
 * what it has in turn, until the socket's buffer is full (WM_HIGH).
 */
static void
pump(struct conn *c)
{
	size_t	moved, wrote;
	int	round;

	/*
	 * Until nothing moves: what the socket took at once frees room for
	 * the children (no write event will come for it), and a child
	 * resumed reads php-fpm into its buffer.
	 */
	for (round = 0; round < 16; round++) {
		moved = pump_round(c);
		wrote = evbuffer_get_length(c->c_front.s_out);
		if (c->c_state == CONN_CLOSING || side_flush(&c->c_front) < 0 ||
		    evbuffer_get_length(c->c_front.s_out) > 0)
			return;	/* the write event comes back to it */
		if (moved == 0 && wrote == 0)
			return;
	}
	/* Still going after 16 rounds: on, after the others' events. */
	mux_kick(c);
}

/* Bytes moved onto the connection, or a child resumed (1). */
static size_t
pump_round(struct conn *c)
{
	struct conn	*k, *next;
	uint8_t		 h[FCGI_HEADER_LEN];
	size_t		 have, n, moved = 0;

	for (k = c->c_kids; k != NULL &&
	    evbuffer_get_length(c->c_front.s_out) <= WM_HIGH; ) {
		if (c->c_wcur != NULL && c->c_wcur != k) {
			k = c->c_wcur;	/* finish its record first */
			continue;
		}
		have = evbuffer_get_length(k->c_front.s_out);
		if (c->c_wcur == NULL) {
			if (have < FCGI_HEADER_LEN) {
				k = k->c_next;
				continue;
			}
			evbuffer_copyout(k->c_front.s_out, h, sizeof(h));
			c->c_wcur = k;
			c->c_wleft = FCGI_HEADER_LEN +
			    (size_t)((h[4] << 8) | h[5]) + h[6];
		}
		n = have < c->c_wleft ? have : c->c_wleft;
		evbuffer_remove_buffer(k->c_front.s_out, c->c_front.s_out, n);
		moved += n;
		if ((c->c_wleft -= n) > 0)
			break;	/* the rest of its record is still to come */
		c->c_wcur = NULL;
		if (n == have)
			k = k->c_next;
	}
	/* Children whose answer is out end; paused ones read php-fpm on. */
	for (k = c->c_kids; k != NULL; k = next) {
		next = k->c_next;
		if (!(k->c_state >= CONN_ANSWERED &&
		    evbuffer_get_length(k->c_front.s_out) == 0) &&
		    !(k->c_upc != NULL && !k->c_upc->u_side.s_reading &&
		    conn_front_pending(k) <= WM_LOW))
			continue;
		moved += k->c_state < CONN_ANSWERED;
		CONN_ENTER(k);
		conn_flush_front(k);
		CONN_LEAVE(k);
	}
	return (moved);
}

/*
 * After every callback on the connection or a child: answers out, ended
 * children gone, reading resumed when the children can take more.
 */
static void
mux_settle(struct conn *c)
{
	struct conn	*k;
	int		 full = 0;

	if (c->c_state == CONN_CLOSING)
		return;
	/*
	 * pump() writes; a second write here could empty the socket's
	 * buffer with no write event left to bring pump() back.
	 */
	pump(c);
	if (c->c_state == CONN_CLOSING)
		return;
	if (c->c_state >= CONN_ANSWERED) {
		if (c->c_state == CONN_ANSWERED)
			conn_flush_front(c);	/* closes once written */
		return;
	}
	if (c->c_nkids == 0) {
		if (c->c_closeafter) {
			/* A request without FCGI_KEEP_CONN: the last one. */
			c->c_state = CONN_ANSWERED;
			side_read_on(&c->c_front, 0);
			conn_flush_front(c);
			return;
		}
		if (!c->c_timer_idle || !evtimer_pending(c->c_timer, NULL))
			conn_arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	} else if (c->c_nkids > 0 && evtimer_pending(c->c_timer, NULL)) {
		evtimer_del(c->c_timer);	/* each child has its own */
	}
	if (c->c_front.s_reading || c->c_state != CONN_ACTIVE)
		return;
	for (k = c->c_kids; k != NULL; k = k->c_next)
		if (evbuffer_get_length(k->c_front.s_in) > WM_LOW)
			full = 1;
	if (full || (c->c_held && (c->c_mux.m_live == FCGI_MUX_MAX ||
	    c->c_mux.m_params != 0)))
		return;
	side_read_on(&c->c_front, 1);
	if ((evbuffer_get_length(c->c_front.s_in) > 0 || c->c_held) &&
	    mux_input(c) == 0) {
		pump(c);
		/* Children that ended just now: settle once more. */
		if (c->c_nkids == 0 || c->c_held)
			mux_kick(c);
	}
}

/* Every child ended and the decoder is between records. */
static int
mux_input_done(const struct conn *c)
{
	return (c->c_nkids == 0 && c->c_fdec.d_hlen == 0);
}

static int
mux_idle(const struct conn *c)
{
	return (c->c_nkids == 0 && c->c_fdec.d_hlen == 0 && !c->c_held);
}

/*
 * The connection itself never answers a request (its children do); an
 * answer here has no request id to go with: the connection just closes.
 */
static void
mux_reply(struct conn *c, const char *msg, size_t len)
{
	(void)c;
	(void)msg;
	(void)len;
}
