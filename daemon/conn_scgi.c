/*
 * The SCGI front (SPEC §5.2): the netstring header, then CONTENT_LENGTH
 * body bytes; translated to FastCGI for php-fpm, whose answer is decoded:
 * STDOUT to the web server raw, STDERR to our log.  One request per
 * connection.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"

#define SCGI_STDIN_MAX	32768	/* body bytes per STDIN record */

static int	scgi_input(struct conn *);
static void	scgi_content(struct conn *, const struct fcgi_item *);
static void	log_stderr(struct conn *, const uint8_t *, size_t);
static void	scgi_reply(struct conn *, const char *, size_t);
static int	scgi_input_done(const struct conn *);
static int	scgi_idle(const struct conn *);

const struct conn_proto	conn_proto_scgi = {
	.cp_name = "scgi",
	.cp_input = scgi_input,
	.cp_raw = 0,
	.cp_content = scgi_content,
	.cp_reply = scgi_reply,
	.cp_input_done = scgi_input_done,
	.cp_idle = scgi_idle,
};

/*
 * SCGI front (SPEC §5.2): the netstring header, then CONTENT_LENGTH body
 * bytes, relayed as STDIN records.  -1 when the conn was closed/answered.
 */
static int
scgi_input(struct conn *c)
{
	enum scgi_status	 st;
	struct evbuffer_iovec	 v;
	size_t			 used, n, cap;
	uint8_t			 h[FCGI_HEADER_LEN];

	if (c->c_fdec.d_phase == FCGI_PHASE_IDLE) {
		if (c->c_sbuf == NULL) {
			cap = (size_t)c->c_app->a_max_params_bytes;
			c->c_sbuf = malloc(cap);
			c->c_params = req_arena_get(cap * 3 / 2 + 16384);
			if (c->c_sbuf == NULL || c->c_params == NULL) {
				conn_close(c, "out of memory");
				return (-1);
			}
			scgi_dec_init(&c->c_sdec, c->c_sbuf, cap, cap);
		}
		st = SCGI_MORE;
		while (st == SCGI_MORE && evbuffer_peek(c->c_front.s_in, -1,
		    NULL, &v, 1) > 0 && v.iov_len > 0) {
			st = scgi_dec_feed(&c->c_sdec, v.iov_base, v.iov_len,
			    &used);
			evbuffer_drain(c->c_front.s_in, used);
		}
		if (st == SCGI_MORE)
			return (0);
		if (st == SCGI_OK)
			st = scgi_parse(&c->c_sdec, c->c_params,
			    &c->c_body_left);
		free(c->c_sbuf);
		c->c_sbuf = NULL;
		if (st == SCGI_ERR_TOOBIG || st == SCGI_ERR_FULL)
			return (conn_answer(c, ST_431,
			    scgi_strerror(st)));
		if (st != SCGI_OK) {
			conn_close(c, scgi_strerror(st));
			return (-1);
		}
		c->c_reqid = 1;
		c->c_role = FCGI_RESPONDER;
		c->c_keep = 0;
		fcgi_dec_init(&c->c_fdec, FCGI_SIDE_WEBSERVER);
		c->c_fdec.d_phase = FCGI_PHASE_BODY;
		if (req_send(c) != 0)
			return (-1);	/* answered, or queued: */
	}
	/* The body, as STDIN records; then the empty STDIN. */
	while (c->c_fdec.d_phase == FCGI_PHASE_BODY && c->c_front.s_reading &&
	    (c->c_body_left == 0 || evbuffer_get_length(c->c_front.s_in) > 0)) {
		n = evbuffer_get_length(c->c_front.s_in);
		if (n > c->c_body_left)
			n = (size_t)c->c_body_left;
		if (n > SCGI_STDIN_MAX)
			n = SCGI_STDIN_MAX;
		fcgi_enc_header(h, FCGI_STDIN, 1, (unsigned)n, 0);
		up_add(c->c_upc, h, sizeof(h));
		if (n == 0) {
			c->c_fdec.d_phase = FCGI_PHASE_DONE;
			evtimer_del(c->c_timer);
			break;
		}
		up_add_buffer(c->c_upc, c->c_front.s_in, n);
		c->c_body_left -= n;
		if (evbuffer_get_length(c->c_upc->u_side.s_out) > WM_HIGH)
			side_read_on(&c->c_front, 0);
	}
	if (c->c_fdec.d_phase == FCGI_PHASE_DONE) {
		/* Nothing may follow the body on an SCGI connection. */
		evbuffer_drain(c->c_front.s_in,
		    evbuffer_get_length(c->c_front.s_in));
	}
	return (conn_flush_up(c));
}

/* php-fpm's STDERR over SCGI has nowhere to go but our log. */
static void
log_stderr(struct conn *c, const uint8_t *p, size_t len)
{
	char	line[513];
	size_t	i, n = len < 512 ? len : 512;

	for (i = 0; i < n; i++)
		line[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	line[n] = '\0';
	conn_log(c, LOG_LVL_WARN, "php stderr", "%s%s", line,
	    len > n ? "..." : "");
}

static void
scgi_content(struct conn *c, const struct fcgi_item *it)
{
	if (it->i_rec.r_type == FCGI_STDOUT)
		evbuffer_add(c->c_front.s_out, it->i_data, it->i_len);
	else if (it->i_rec.r_type == FCGI_STDERR)
		log_stderr(c, it->i_data, it->i_len);
}

/* SCGI answers are the CGI response itself. */
static void
scgi_reply(struct conn *c, const char *msg, size_t len)
{
	evbuffer_add(c->c_front.s_out, msg, len);
}

static int
scgi_input_done(const struct conn *c)
{
	return (c->c_fdec.d_phase == FCGI_PHASE_DONE);
}

/* Nothing of the header has come yet. */
static int
scgi_idle(const struct conn *c)
{
	return (c->c_fdec.d_phase == FCGI_PHASE_IDLE && c->c_sbuf == NULL);
}
