/*
 * The FastCGI front (SPEC §5.1, §5.4): each record from the web server
 * decoded once and routed by its request's slot; BEGIN_REQUEST makes a
 * request, PARAMS feed it, STDIN/DATA/ABORT go to its php-fpm connection;
 * management records answered (with the pool) or relayed (without).
 * php-fpm's records go back as they are (the request moves them).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"

static int	fcgi_start(struct conn *, const char **);
static int	fcgi_input(struct conn *, const char **);
static int	decode(struct conn *, const uint8_t *, size_t, size_t *,
		    const char **);
static int	item(struct conn *, const struct fcgi_item *, const char **);
static int	begin(struct conn *, const struct fcgi_item *, const char **);
static int	values(struct conn *, const struct fcgi_item *,
		    const char **);
static void	values_answer(struct conn *);
static void	fcgi_ended(struct conn *, struct req *, enum req_end);
static int	fcgi_input_done(const struct conn *);
static int	fcgi_idle(const struct conn *);
static int	mgmt_wait(const struct conn *);
static void	fcgi_reply(struct req *, const char *, size_t);

static const struct req_proto	fcgi_req_proto = {
	.rp_raw = 1,
	.rp_reply = fcgi_reply,
};

const struct conn_proto	conn_proto_fcgi = {
	.cp_name = "fastcgi",
	.cp_req = &fcgi_req_proto,
	.cp_start = fcgi_start,
	.cp_input = fcgi_input,
	.cp_ended = fcgi_ended,
	.cp_input_done = fcgi_input_done,
	.cp_idle = fcgi_idle,
};

static int
fcgi_start(struct conn *c, const char **why)
{
	(void)why;
	fcgi_dec_init(&c->c_fdec, FCGI_SIDE_WEBSERVER);
	return (0);
}

/*
 * Decode what the web server sent, record by record, until it is all
 * decoded, a BEGIN_REQUEST is held, the connection is answered, or a
 * request cannot take more (back-pressure).  -1: close with *why.
 */
static int
fcgi_input(struct conn *c, const char **why)
{
	struct evbuffer_iovec	v;
	size_t			off;
	int			rc, kick = c->c_kick;

	c->c_kick = 0;
	while (c->c_state < CONN_FLUSH && !c->c_held && !mgmt_wait(c)) {
		if (evbuffer_peek(c->c_front.s_in, -1, NULL, &v, 1) < 1 ||
		    v.iov_len == 0) {
			/* A held BEGIN_REQUEST is decoded with no new byte. */
			if (!kick)
				break;
			v.iov_base = NULL;
			v.iov_len = 0;
		}
		kick = 0;
		rc = decode(c, v.iov_base, v.iov_len, &off, why);
		if (c->c_state < CONN_CLOSING)
			evbuffer_drain(c->c_front.s_in, off);
		if (rc < 0)
			return (-1);
		if (conn_reqs_full(c))
			break;
	}
	return (0);
}

/* One contiguous piece of input; *off bytes of it used.  -1: *why. */
static int
decode(struct conn *c, const uint8_t *p, size_t len, size_t *off,
    const char **why)
{
	static char		 buf[160];
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 used;

	for (*off = 0; c->c_state < CONN_FLUSH && !mgmt_wait(c);) {
		/* p is NULL when only held items are asked for (len 0). */
		st = fcgi_dec_next(&c->c_fdec, p != NULL ? p + *off : p,
		    len - *off, &used, &it);
		*off += used;
		if (st == FCGI_DEC_MORE)
			return (0);
		if (st == FCGI_DEC_HOLD) {
			/* The next request waits in the socket until one
			   ends: each in flight needs no more input. */
			c->c_held = 1;
			return (0);
		}
		if (st != FCGI_DEC_OK) {
			snprintf(buf, sizeof(buf), "%s (type %s, id %u, "
			    "version %u)", fcgi_strerror(st),
			    fcgi_type_name(c->c_fdec.d_rec.r_type),
			    c->c_fdec.d_rec.r_id, c->c_fdec.d_rec.r_version);
			*why = buf;
			if (st == FCGI_DEC_ERR_FULL)
				log_warn(c->c_app->a_name, "conn=%lu peer=%s "
				    "the web server sent more requests at once "
				    "than FCGI_MAX_REQS (%zu)", c->c_id,
				    c->c_peer, c->c_fdec.d_cap);
			return (-1);
		}
		if (item(c, &it, why) < 0)
			return (-1);
	}
	return (0);
}

/* One decoded item for its request.  -1: close with *why. */
static int
item(struct conn *c, const struct fcgi_item *it, const char **why)
{
	uint8_t		 h[FCGI_HEADER_LEN];
	unsigned	 type = it->i_rec.r_type;
	struct req	*r;

	if (type == FCGI_GET_VALUES)
		return (values(c, it, why));
	if (it->i_kind == FCGI_ITEM_END && type == FCGI_BEGIN_REQUEST)
		return (begin(c, it, why));
	/* A request answered early: the rest of its record is dropped. */
	if (it->i_slot < 0 || (r = c->c_reqs[it->i_slot]) == NULL)
		return (0);
	switch (it->i_kind) {
	case FCGI_ITEM_HEADER:
		if (type == FCGI_PARAMS)
			return (0);
		if (type == FCGI_ABORT_REQUEST && r->r_state == REQ_PARAMS) {
			/* php-fpm never saw it: alone, the connection
			   closes; multiplexed, it ends on its own. */
			if (!c->c_ctx.x_mux) {
				*why = "request aborted before its params";
				return (-1);
			}
			req_end_empty(r);
			return (0);
		}
		/* Relayed records lose their padding: it carries nothing. */
		fcgi_enc_header(h, type, it->i_rec.r_id, it->i_rec.r_clen, 0);
		req_input(r, h, sizeof(h));
		r->r_owed = it->i_rec.r_clen;
		return (0);
	case FCGI_ITEM_CONTENT:
		if (type == FCGI_PARAMS)
			req_params(r, it->i_data, it->i_len);
		else {
			req_input(r, it->i_data, it->i_len);
			r->r_owed -= it->i_len < r->r_owed ? it->i_len :
			    r->r_owed;
		}
		return (0);
	case FCGI_ITEM_END:
		break;
	}
	if (type == FCGI_PARAMS && it->i_rec.r_clen == 0)
		req_params_done(r);
	else if (type == FCGI_STDIN && it->i_rec.r_clen == 0)
		req_input_end(r);
	return (0);
}

/*
 * A BEGIN_REQUEST: a new request in its slot.  The first one decides the
 * connection (SPEC §5.4): with the pool and FCGI_KEEP_CONN the web server
 * may send up to min(16, the pool's capacity) at once; without, one.
 */
static int
begin(struct conn *c, const struct fcgi_item *it, const char **why)
{
	size_t		 cap = up_pool_capacity(c->c_setup.cs_pool);
	int		 keep = (c->c_fdec.d_flags & FCGI_KEEP_CONN) != 0;
	struct req	*r;

	if (c->c_requests == 0 && keep && cap > 0) {
		fcgi_dec_set_cap(&c->c_fdec, cap);
		c->c_ctx.x_mux = 1;
	}
	r = req_new(&c->c_ctx, &fcgi_req_proto, it->i_rec.r_id, it->i_slot,
	    c->c_fdec.d_role, keep, c->c_kept);
	if (r == NULL) {
		*why = "out of memory";
		return (-1);
	}
	c->c_kept = NULL;
	c->c_reqs[it->i_slot] = r;
	c->c_nreqs++;
	c->c_requests++;
	return (0);
}

/*
 * FCGI_GET_VALUES: with the pool the daemon answers (SPEC §5.4: php-fpm's
 * answer would describe one php-fpm, not the pool); without it the record
 * goes to php-fpm on a request of its own (id 0) once it is whole, and
 * reading waits for the answer.
 */
static int
values(struct conn *c, const struct fcgi_item *it, const char **why)
{
	uint8_t		 h[FCGI_HEADER_LEN];
	struct req	*r;

	if (up_pool_capacity(c->c_setup.cs_pool) > 0) {
		if (it->i_kind == FCGI_ITEM_END)
			values_answer(c);
		return (0);
	}
	if (it->i_kind == FCGI_ITEM_HEADER) {
		r = req_new(&c->c_ctx, &fcgi_req_proto, 0, -1, 0, 1,
		    c->c_kept);
		if (r == NULL) {
			*why = "out of memory";
			return (-1);
		}
		c->c_kept = NULL;
		c->c_mgmt = r;
		fcgi_enc_header(h, FCGI_GET_VALUES, 0, it->i_rec.r_clen, 0);
		req_input(r, h, sizeof(h));
	} else if (it->i_kind == FCGI_ITEM_CONTENT && c->c_mgmt != NULL) {
		req_input(c->c_mgmt, it->i_data, it->i_len);
	} else if (c->c_mgmt != NULL) {
		/* Whole: php-fpm, or the answer that it failed, only now. */
		req_input_end(c->c_mgmt);
		(void)req_management(c->c_mgmt);	/* -1: answered */
	}
	return (0);
}

/* GET_VALUES_RESULT: the pool's capacity, and multiplexing. */
static void
values_answer(struct conn *c)
{
	static const char *const names[] = { "FCGI_MAX_CONNS",
	    "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
	size_t		 cap = up_pool_capacity(c->c_setup.cs_pool), len, k = 0;
	size_t		 i, v[3];
	char		 n[24];
	uint8_t		 buf[160];

	v[0] = cap;
	v[1] = cap < FCGI_REQS_MAX ? cap : FCGI_REQS_MAX;
	v[2] = 1;
	for (i = 0; i < 3; i++) {
		len = (size_t)snprintf(n, sizeof(n), "%zu", v[i]);
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

/* A request ended: its slot frees, a held BEGIN_REQUEST may go on. */
static void
fcgi_ended(struct conn *c, struct req *r, enum req_end how)
{
	int	cut;

	if (r->r_slot < 0)
		return;		/* a management record's answer came */
	cut = fcgi_dec_phase(&c->c_fdec, r->r_slot) != FCGI_PHASE_DONE;
	c->c_cut |= cut;
	fcgi_dec_end(&c->c_fdec, r->r_slot, cut && how != REQ_RELAYED);
	c->c_held = 0;	/* a held BEGIN_REQUEST may go on (c_kick) */
}

/* Every request's input is in and no record is half read. */
static int
fcgi_input_done(const struct conn *c)
{
	size_t	i;

	if (!fcgi_dec_between(&c->c_fdec))
		return (0);
	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (c->c_fdec.d_slot[i].s_id != 0 &&
		    c->c_fdec.d_slot[i].s_phase != FCGI_PHASE_DONE)
			return (0);
	return (1);
}

static int
fcgi_idle(const struct conn *c)
{
	return (c->c_fdec.d_live == 0 && fcgi_dec_between(&c->c_fdec));
}

/* A relayed management record is whole: wait for php-fpm's answer. */
static int
mgmt_wait(const struct conn *c)
{
	return (c->c_mgmt != NULL && c->c_mgmt->r_input_done);
}

/*
 * STDOUT records with the CGI response, the empty STDOUT, END_REQUEST;
 * records of at most FCGI_ENC_MAX_CONTENT, as php-fpm sends them.
 */
static void
fcgi_reply(struct req *r, const char *msg, size_t len)
{
	struct evbuffer	*out = r->r_ctx->x_out;
	uint8_t		 h[FCGI_HEADER_LEN], tail[7 + 2 * FCGI_HEADER_LEN + 8];
	unsigned	 id = r->r_id ? r->r_id : 1;
	size_t		 n;

	if (r->r_id == 0) {
		/*
		 * A GET_VALUES that php-fpm could not answer (no pool): an
		 * empty GET_VALUES_RESULT, the values unknown.  As STDOUT
		 * it would be a request the web server never began.
		 */
		fcgi_enc_header(h, FCGI_GET_VALUES_RESULT, 0, 0, 0);
		evbuffer_add(out, h, sizeof(h));
		return;
	}
	while (len > FCGI_ENC_MAX_CONTENT) {
		n = FCGI_ENC_MAX_CONTENT;	/* a multiple of 8: no pad */
		fcgi_enc_header(h, FCGI_STDOUT, id, (unsigned)n, 0);
		evbuffer_add(out, h, sizeof(h));
		evbuffer_add(out, msg, n);
		msg += n;
		len -= n;
	}
	/* The last piece (at most 65528 bytes) closes the response. */
	n = len % 8 ? 8 - len % 8 : 0;
	fcgi_enc_header(h, FCGI_STDOUT, id, (unsigned)len, (unsigned)n);
	evbuffer_add(out, h, sizeof(h));
	evbuffer_add(out, msg, len);
	/* Padding, the empty STDOUT, END_REQUEST (REQUEST_COMPLETE, 0). */
	memset(tail, 0, sizeof(tail));
	fcgi_enc_header(tail + n, FCGI_STDOUT, id, 0, 0);
	fcgi_enc_header(tail + n + FCGI_HEADER_LEN, FCGI_END_REQUEST, id, 8, 0);
	evbuffer_add(out, tail, n + 2 * FCGI_HEADER_LEN + 8);
}
