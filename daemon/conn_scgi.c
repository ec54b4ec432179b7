/*
 * The SCGI front (SPEC §5.2): the netstring header, then CONTENT_LENGTH
 * body bytes; translated to FastCGI for php-fpm, whose answer is decoded:
 * STDOUT to the web server raw, STDERR to our log.  One request per
 * connection, made when the connection opens.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"

#define SCGI_STDIN_MAX	32768	/* body bytes per STDIN record */

enum { SC_HEADER, SC_BODY, SC_DONE };

static int	scgi_start(struct conn *, const char **);
static int	scgi_input(struct conn *, const char **);
static int	header(struct conn *, struct req *, const char **);
static void	body(struct conn *, struct req *);
static void	scgi_ended(struct conn *, struct req *, enum req_end);
static int	scgi_input_done(const struct conn *);
static int	scgi_idle(const struct conn *);
static void	scgi_content(struct req *, const struct fcgi_item *);
static void	log_stderr(struct req *, const uint8_t *, size_t);
static void	scgi_reply(struct req *, const char *, size_t);

static const struct req_proto	scgi_req_proto = {
	.rp_raw = 0,
	.rp_content = scgi_content,
	.rp_reply = scgi_reply,
};

const struct conn_proto	conn_proto_scgi = {
	.cp_name = "scgi",
	.cp_req = &scgi_req_proto,
	.cp_start = scgi_start,
	.cp_input = scgi_input,
	.cp_ended = scgi_ended,
	.cp_input_done = scgi_input_done,
	.cp_idle = scgi_idle,
};

/* The one request, its params timer running from now. */
static int
scgi_start(struct conn *c, const char **why)
{
	size_t	cap = (size_t)c->c_app->a_max_params_bytes;

	c->c_reqs[0] = req_new(&c->c_ctx, &scgi_req_proto, 1, 0,
	    FCGI_RESPONDER, 0, NULL);
	c->c_sbuf = malloc(cap);
	if (c->c_reqs[0] == NULL || c->c_sbuf == NULL) {
		*why = "out of memory";
		return (-1);
	}
	c->c_nreqs = 1;
	c->c_requests = 1;
	c->c_sphase = SC_HEADER;
	scgi_dec_init(&c->c_sdec, c->c_sbuf, cap, cap);
	return (0);
}

/* -1: close with *why. */
static int
scgi_input(struct conn *c, const char **why)
{
	struct req	*r = c->c_reqs[0];
	int		 rc;

	if (r == NULL)
		return (0);
	if (c->c_sphase == SC_HEADER && (rc = header(c, r, why)) != 0)
		return (rc < 0 ? -1 : 0);
	if (c->c_sphase == SC_BODY && c->c_reqs[0] != NULL)
		body(c, c->c_reqs[0]);
	if (c->c_sphase == SC_DONE) {
		/* Nothing may follow the body on an SCGI connection. */
		evbuffer_drain(c->c_front.s_in,
		    evbuffer_get_length(c->c_front.s_in));
	}
	return (0);
}

/*
 * The netstring header: once whole, parsed into the request's params and
 * handed on.  0 done, 1 more needed or the request ended, -1 *why.
 */
static int
header(struct conn *c, struct req *r, const char **why)
{
	enum scgi_status	st = SCGI_MORE;
	struct evbuffer_iovec	v;
	size_t			used;

	while (st == SCGI_MORE && evbuffer_peek(c->c_front.s_in, -1, NULL, &v,
	    1) > 0 && v.iov_len > 0) {
		st = scgi_dec_feed(&c->c_sdec, v.iov_base, v.iov_len, &used);
		evbuffer_drain(c->c_front.s_in, used);
	}
	if (st == SCGI_MORE)
		return (1);
	if (st == SCGI_OK)
		st = scgi_parse(&c->c_sdec, req_params_arena(r),
		    &c->c_body_left);
	free(c->c_sbuf);
	c->c_sbuf = NULL;
	if (st == SCGI_ERR_TOOBIG || st == SCGI_ERR_FULL) {
		req_answer(r, "431 Request Header Fields Too Large",
		    scgi_strerror(st));
		return (1);
	}
	if (st != SCGI_OK) {
		*why = scgi_strerror(st);
		return (-1);
	}
	c->c_sphase = SC_BODY;
	return (req_params_done(r) < 0 ? 1 : 0);
}

/* The body, as STDIN records; then the empty STDIN. */
static void
body(struct conn *c, struct req *r)
{
	uint8_t	h[FCGI_HEADER_LEN];
	size_t	n;

	while (c->c_sphase == SC_BODY && !req_full(r) && (c->c_body_left ==
	    0 || evbuffer_get_length(c->c_front.s_in) > 0)) {
		n = evbuffer_get_length(c->c_front.s_in);
		if (n > c->c_body_left)
			n = (size_t)c->c_body_left;
		if (n > SCGI_STDIN_MAX)
			n = SCGI_STDIN_MAX;
		fcgi_enc_header(h, FCGI_STDIN, 1, (unsigned)n, 0);
		req_input(r, h, sizeof(h));
		if (n == 0) {
			c->c_sphase = SC_DONE;
			req_input_end(r);
			break;
		}
		req_input_buffer(r, c->c_front.s_in, n);
		c->c_body_left -= n;
	}
}

static void
scgi_ended(struct conn *c, struct req *r, enum req_end how)
{
	(void)r;
	(void)how;
	if (c->c_sphase != SC_DONE)
		c->c_cut = 1;
}

static int
scgi_input_done(const struct conn *c)
{
	return (c->c_sphase == SC_DONE);
}

/* Nothing of the header has come yet. */
static int
scgi_idle(const struct conn *c)
{
	return (c->c_sphase == SC_HEADER && c->c_sdec.d_state == 0 &&
	    c->c_sdec.d_digits == 0);
}

/* php-fpm's STDERR over SCGI has nowhere to go but our log. */
static void
log_stderr(struct req *r, const uint8_t *p, size_t len)
{
	char	line[513];
	size_t	i, n = len < 512 ? len : 512;

	for (i = 0; i < n; i++)
		line[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	line[n] = '\0';
	req_log(r, LOG_LVL_WARN, "php stderr", "%s%s", line,
	    len > n ? "..." : "");
}

static void
scgi_content(struct req *r, const struct fcgi_item *it)
{
	if (it->i_rec.r_type == FCGI_STDOUT)
		evbuffer_add(r->r_ctx->x_out, it->i_data, it->i_len);
	else if (it->i_rec.r_type == FCGI_STDERR)
		log_stderr(r, it->i_data, it->i_len);
}

/* SCGI answers are the CGI response itself. */
static void
scgi_reply(struct req *r, const char *msg, size_t len)
{
	evbuffer_add(r->r_ctx->x_out, msg, len);
}
