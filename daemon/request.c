/*
 * One request: params, policy, the daemon's answers, the hand-off to the
 * pool and php-fpm's answer to the front.  See request.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/gen.h"
#include "daemon/log.h"
#include "daemon/request.h"
#include "daemon/status.h"
#include "proto/cidr.h"
#include "proto/normalize.h"

#define TRAIL_DEBUG	8192
#define TRAIL_QUIET	1024
#define ST_400		"400 Bad Request"
#define ST_403		"403 Forbidden"
#define ST_431		"431 Request Header Fields Too Large"
#define ST_502		"502 Bad Gateway"
#define ST_503		"503 Service Unavailable"
/* Freed requests kept with their timers and carry buffer. */
#define REQ_CACHE	64

static struct req	*req_cache;
static size_t		 req_ncache;

static struct params *req_arena_get(size_t);
static void	req_arena_put(struct params *);
static int	rate_ok(void);
static struct req *req_get(struct event_base *);
static void	req_put(struct req *);
static void	params_timer_cb(evutil_socket_t, short, void *);
static void	body_timer_cb(evutil_socket_t, short, void *);
static int	add_proxy_params(struct req *);
static int	add_proxy_ssl(struct params *, const struct pp_result *);
static int	encode(struct req *);
static int	upstream(struct req *);
static void	give_up_upstream(struct req *);
static void	ended(struct req *, enum req_end, struct upc *);
static void	relay(struct req *);
static int	relay_chunk(struct req *, struct upc *, int *);
static void	relay_done(struct req *);
static void	rate_limited_trail(struct req *, const struct norm_trail *);
static const char *untrusted_count(const struct req *);
static void	count(struct req *, const struct norm_trail *);
static void	count_answer(struct req *, const char *);
static int	special(const struct req *);
static int	page(struct req *, int);
static int	page_status(struct req *);
static int	page_ping(struct req *);
static void	ping_done(void *, int, const char *);
static void	respond(struct req *, const char *, size_t, const char *,
		    const char *);
static void	up_ready(void *, struct upc *);
static void	up_input(void *, struct upc *);
static void	up_drained(void *, struct upc *);
static void	up_unbound(void *);
static void	up_failed(void *, const char *, const char *);

/* How the pool reaches a request (SPEC §7). */
static const struct up_client_ops	req_up_ops = {
	.ready = up_ready,
	.input = up_input,
	.drained = up_drained,
	.unbound = up_unbound,
	.failed = up_failed,
};

/*
 * Params arenas (max_params_bytes and room for the rewrite: ~200 KiB by
 * default) are kept for reuse instead of freed: a malloc/free of that
 * size per request sits at glibc's mmap and trim thresholds and costs
 * brk/mmap syscalls on the request path.  The daemon has one thread.
 */
#define ARENA_CACHE	16
static struct params	*arena_cache[ARENA_CACHE];
static size_t		 arena_ncache;

static struct params *
req_arena_get(size_t cap)
{
	struct params	*p;

	while (arena_ncache > 0) {
		p = arena_cache[--arena_ncache];
		if (p->p_cap == cap) {
			params_reset(p);
			return (p);
		}
		params_free(p);
	}
	return (params_new(cap));
}

static void
req_arena_put(struct params *p)
{
	if (p == NULL)
		return;
	if (arena_ncache < ARENA_CACHE)
		arena_cache[arena_ncache++] = p;
	else
		params_free(p);
}

/* At most 10 warnings a second for peer-caused trouble (STYLE S8). */
static int
rate_ok(void)
{
	static time_t	sec;
	static int	n;
	time_t		now = time(NULL);

	if (now != sec) {
		sec = now;
		n = 0;
	}
	return (++n <= 10);
}

static const char *
untrusted_count(const struct req *r)
{
	static char	buf[48];

	snprintf(buf, sizeof(buf), " untrusted_total=%lu",
	    *r->r_ctx->x_untrusted);
	return (buf);
}

/*
 * The trail's lines: untrusted peers sending headers at info, bad values
 * at warn (rate-limited: a peer's fault), the rest at debug.
 */
static void
rate_limited_trail(struct req *r, const struct norm_trail *t)
{
	const char	*p, *nl;
	int		 warn = (t->t_flags & ~NORM_W_UNTRUSTED) != 0;
	char		 tag[16] = "";

	if (t->t_len == 0 || (log_level_cur < LOG_LVL_DEBUG && !rate_ok()))
		return;
	if (r->r_ctx->x_mux)
		snprintf(tag, sizeof(tag), " req=%u", r->r_id);
	for (p = t->t_buf; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		log_msg(strncmp(p, "warn: ", 6) == 0 ? (warn ? LOG_LVL_WARN :
		    LOG_LVL_INFO) : LOG_LVL_DEBUG, r->r_ctx->x_app->a_name,
		    "conn=%lu peer=%s%s policy: %.*s%s", r->r_ctx->x_id,
		    r->r_ctx->x_peer, tag, (int)(nl - p), p,
		    strncmp(p, "warn: untrusted", 15) == 0 ?
		    untrusted_count(r) : "");
	}
}

/* SPEC §6.1: requests by outcome; status and ping ones apart. */
static void
count_answer(struct req *r, const char *status)
{
	struct status_app	*st = r->r_ctx->x_stats;

	if (r->r_special) {
		if (strncmp(status, "403", 3) == 0)
			st->sa_status_403++;
		return;
	}
	/* Refused before its params were complete (431): still a request. */
	if (!r->r_counted) {
		r->r_counted = 1;
		st->sa_requests++;
	}
	switch (atoi(status)) {
	case 400:
		st->sa_400++;
		break;
	case 403:
		st->sa_403++;
		break;
	case 431:
		st->sa_431++;
		break;
	case 502:
		st->sa_502++;
		break;
	case 503:
		st->sa_503++;
		break;
	}
}

void
req_log(const struct req *r, int level, const char *what, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vconn(level, r->r_ctx->x_app->a_name, what, r->r_ctx->x_id,
	    r->r_ctx->x_peer, r->r_ctx->x_mux ? r->r_id : 0, fmt, ap);
	va_end(ap);
}

static struct req *
req_get(struct event_base *base)
{
	struct req	*r;
	struct event	*pt, *bt, *qt;
	struct evbuffer	*carry;

	if ((r = req_cache) != NULL) {
		req_cache = r->r_next;
		req_ncache--;
		pt = r->r_params_timer;
		bt = r->r_body_timer;
		qt = r->r_wait.w_timer;
		carry = r->r_wait.w_carry;
		memset(r, 0, sizeof(*r));
		r->r_params_timer = pt;
		r->r_body_timer = bt;
		r->r_wait.w_timer = qt;
		r->r_wait.w_carry = carry;
		return (r);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->r_params_timer = evtimer_new(base, params_timer_cb, r);
	r->r_body_timer = evtimer_new(base, body_timer_cb, r);
	r->r_wait.w_carry = evbuffer_new();
	if (r->r_params_timer == NULL || r->r_body_timer == NULL ||
	    r->r_wait.w_carry == NULL) {
		req_put(r);
		return (NULL);
	}
	return (r);
}

/* A freed request: kept for the next one if it is whole and there is room. */
static void
req_put(struct req *r)
{
	if (req_ncache < REQ_CACHE && r->r_params_timer != NULL &&
	    r->r_body_timer != NULL && r->r_wait.w_carry != NULL) {
		evtimer_del(r->r_params_timer);
		evtimer_del(r->r_body_timer);
		evbuffer_drain(r->r_wait.w_carry,
		    evbuffer_get_length(r->r_wait.w_carry));
		r->r_next = req_cache;
		req_cache = r;
		req_ncache++;
		return;
	}
	if (r->r_params_timer != NULL)
		event_free(r->r_params_timer);
	if (r->r_body_timer != NULL)
		event_free(r->r_body_timer);
	up_wait_free(&r->r_wait);
	free(r);
}

struct req *
req_new(struct req_ctx *x, const struct req_proto *rp, unsigned id, int slot,
    unsigned role, int keep, struct upc *kept)
{
	struct req	*r;
	size_t		 cap;

	if ((r = req_get(x->x_base)) == NULL)
		return (NULL);
	/*
	 * The request's bytes plus room for what the policy writes (joined
	 * headers, REALIP_*, prefixes).  Given back once the params are
	 * sent, so an idle kept-alive connection holds no arena.
	 */
	cap = (size_t)x->x_app->a_max_params_bytes * 3 / 2 + 16384;
	if ((r->r_params = req_arena_get(cap)) == NULL) {
		req_put(r);
		return (NULL);
	}
	r->r_ctx = x;
	r->r_proto = rp;
	r->r_state = REQ_PARAMS;
	r->r_id = id;
	r->r_slot = slot;
	r->r_role = role;
	r->r_keep = keep;
	r->r_wait.w_owner = r;
	r->r_wait.w_ops = &req_up_ops;
	if ((r->r_upc = kept) != NULL)
		up_hold(kept, &req_up_ops, r);	/* told if php-fpm closes it */
	fcgi_nv_init(&r->r_nv, (size_t)x->x_app->a_max_params_bytes);
	side_timer(r->r_params_timer, x->x_app->a_params_timeout_ms);
	return (r);
}

void
req_free(struct req *r)
{
	up_ping_cancel(r->r_ping);
	r->r_ping = NULL;
	give_up_upstream(r);
	up_cancel(r->r_ctx->x_pool, &r->r_wait);
	r->r_ctx->x_params_used -= r->r_pbytes;
	req_arena_put(r->r_params);
	req_put(r);
}

/*
 * SPEC §5.4, §5.5: only closing stops php-fpm's work (it ignores
 * ABORT_REQUEST); with the pool a request whose input all went out has
 * its answer drained instead, and the connection goes back to the pool.
 */
void
req_abort(struct req *r)
{
	struct upc	*u = r->r_upc;

	if (u != NULL && r->r_state == REQ_RELAY && r->r_input_done &&
	    up_pool_capacity(r->r_ctx->x_pool) > 0 &&
	    evbuffer_get_length(u->u_side.s_out) == 0) {
		r->r_upc = NULL;
		if (r->r_held > 0)	/* decoded already: the rest follows */
			evbuffer_drain(u->u_side.s_in, r->r_held);
		up_abandon(u);
	}
	req_free(r);
}

/* Close the upstream connection mid-request, or leave the queue. */
static void
give_up_upstream(struct req *r)
{
	if (r->r_upc != NULL) {
		up_drop(r->r_upc);
		r->r_upc = NULL;
	}
}

static void
params_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct req	*r = arg;

	(void)fd;
	(void)ev;
	r->r_ctx->x_ops->close(r->r_ctx->x_owner, r, "params timeout");
}

/* The body may stall no longer than idle_timeout_ms (SPEC §3.2). */
static void
body_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct req	*r = arg;

	(void)fd;
	(void)ev;
	r->r_ctx->x_ops->close(r->r_ctx->x_owner, r, "idle timeout");
}

int
req_management(struct req *r)
{
	evtimer_del(r->r_params_timer);
	r->r_wait.w_idempotent = 1;	/* GET_VALUES asks, changes nothing */
	req_arena_put(r->r_params);
	r->r_params = NULL;
	return (upstream(r));
}

struct params *
req_params_arena(struct req *r)
{
	return (r->r_params);
}

/*
 * PARAMS content, under the connection's budget: with several requests
 * at once each still has max_params_bytes, and together they have twice
 * that (SPEC §5.5's memory bound); the one that overflows gets 431.
 */
int
req_params(struct req *r, const uint8_t *p, size_t len)
{
	struct req_ctx	*x = r->r_ctx;
	size_t		 budget = 2 * (size_t)x->x_app->a_max_params_bytes;

	if (len > budget - x->x_params_used ||
	    fcgi_nv_feed(&r->r_nv, r->r_params, p, len) != FCGI_DEC_MORE) {
		req_answer(r, ST_431, "params over max_params_bytes");
		return (-1);
	}
	x->x_params_used += len;
	r->r_pbytes += len;
	return (0);
}

void
req_end_empty(struct req *r)
{
	uint8_t	e[2 * FCGI_HEADER_LEN];

	req_log(r, LOG_LVL_DEBUG, "abort", "before its params");
	memset(e, 0, sizeof(e));
	fcgi_enc_header(e, FCGI_END_REQUEST, r->r_id, 8, 0);
	evbuffer_add(r->r_ctx->x_out, e, sizeof(e));
	ended(r, REQ_ANSWERED, NULL);
}

/* r is over: the owner writes its last bytes and frees it. */
static void
ended(struct req *r, enum req_end how, struct upc *kept)
{
	r->r_state = REQ_DONE;
	evtimer_del(r->r_params_timer);
	evtimer_del(r->r_body_timer);
	r->r_ctx->x_ops->ended(r->r_ctx->x_owner, r, how, kept);
}

/*
 * SPEC §5.3: the PROXY protocol address, usable in client_headers like
 * any param; the v2 TLVs in proto_headers and host_headers, where the
 * policy checks them as it checks the headers they stand for.  -1 when
 * they do not fit.
 */
static int
add_proxy_params(struct req *r)
{
	const struct pp_result	*pp = r->r_ctx->x_pp;
	struct params		*p = r->r_params;
	char			 a[ADDR_STRLEN], pb[8];
	int			 n;

	if (pp == NULL)
		return (0);
	if (pp->r_tlv_refused)
		req_log(r, LOG_LVL_INFO, "PROXY v2 AUTHORITY or UNIQUE_ID TLV "
		    "not printable or too long: left out", "%s", "");
	n = snprintf(pb, sizeof(pb), "%d", pp->r_src_port);
	if (params_set(p, PARAMS_STR("PROXY_PROTOCOL_ADDR"), a,
	    addr_format(&pp->r_src, a)) != PARAMS_OK ||
	    params_set(p, PARAMS_STR("PROXY_PROTOCOL_PORT"), pb, (size_t)n) !=
	    PARAMS_OK || (pp->r_ssl != -1 && params_set(p,
	    PARAMS_STR("PROXY_PROTOCOL_PROTO"), pp->r_ssl ? "https" : "http",
	    pp->r_ssl ? 5 : 4) != PARAMS_OK) || (pp->r_authority_len > 0 &&
	    params_set(p, PARAMS_STR("PROXY_PROTOCOL_AUTHORITY"),
	    pp->r_authority, pp->r_authority_len) != PARAMS_OK) ||
	    (pp->r_unique_id_len > 0 && params_set(p,
	    PARAMS_STR("PROXY_PROTOCOL_UNIQUE_ID"), pp->r_unique_id,
	    pp->r_unique_id_len) != PARAMS_OK))
		return (-1);
	if (add_proxy_ssl(p, pp) < 0 || (r->r_ctx->x_ppcert != NULL &&
	    params_set(p, PARAMS_STR("PROXY_PROTOCOL_SSL_CERT"),
	    r->r_ctx->x_ppcert, r->r_ctx->x_ppcertlen) != PARAMS_OK))
		return (-1);
	return (0);
}

/*
 * SPEC §4.10: the SSL TLV for client_cert_from = "proxy_protocol", as
 * PROXY_PROTOCOL_SSL_* params only this daemon writes (the policy strips
 * them from every request): whatever the web server sent under those
 * names is removed first.
 */
static int
add_proxy_ssl(struct params *p, const struct pp_result *pp)
{
	char	cb[12], vb[12];
	int	cn, vn;

	params_remove(p, PARAMS_STR("PROXY_PROTOCOL_SSL_CLIENT"));
	params_remove(p, PARAMS_STR("PROXY_PROTOCOL_SSL_VERIFY"));
	params_remove(p, PARAMS_STR("PROXY_PROTOCOL_SSL_CN"));
	params_remove(p, PARAMS_STR("PROXY_PROTOCOL_SSL_CERT"));
	if (pp->r_ssl == -1)
		return (0);
	cn = snprintf(cb, sizeof(cb), "%u", pp->r_ssl_client);
	vn = snprintf(vb, sizeof(vb), "%u", (unsigned)pp->r_ssl_verify);
	if (params_set(p, PARAMS_STR("PROXY_PROTOCOL_SSL_CLIENT"), cb,
	    (size_t)cn) != PARAMS_OK || params_set(p,
	    PARAMS_STR("PROXY_PROTOCOL_SSL_VERIFY"), vb, (size_t)vn) !=
	    PARAMS_OK || (pp->r_ssl_cn_len > 0 && params_set(p,
	    PARAMS_STR("PROXY_PROTOCOL_SSL_CN"), pp->r_ssl_cn,
	    pp->r_ssl_cn_len) != PARAMS_OK))
		return (-1);
	return (0);
}

/*
 * The params are complete (FastCGI or SCGI): the PROXY protocol params,
 * the policy, the daemon's answer when it refuses, else BEGIN_REQUEST
 * and the rewritten params to php-fpm.  -1 when r ended.
 */
int
req_params_done(struct req *r)
{
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			 trail[TRAIL_DEBUG];
	int			 n;

	evtimer_del(r->r_params_timer);
	if (fcgi_nv_finish(&r->r_nv) != FCGI_DEC_OK) {
		r->r_ctx->x_ops->close(r->r_ctx->x_owner, r,
		    fcgi_strerror(FCGI_DEC_ERR_PAIR));
		return (-1);
	}
	if (add_proxy_params(r) < 0) {
		req_answer(r, ST_431, "params too large");
		return (-1);
	}
	norm_trail_init(&t, trail, log_level_cur >= LOG_LVL_DEBUG ?
	    TRAIL_DEBUG : TRAIL_QUIET, log_level_cur >= LOG_LVL_DEBUG);
	v = norm_run(&r->r_ctx->x_app->a_policy, r->r_params, &t);
	/* SPEC §4.2: counted, the first sign of a mis-wired balancer. */
	if (t.t_flags & NORM_W_UNTRUSTED)
		(*r->r_ctx->x_untrusted)++;
	rate_limited_trail(r, &t);
	if (v == NORM_OK && (n = special(r)) != 0)
		return (page(r, n));
	count(r, &t);
	switch (v) {
	case NORM_OK:
		break;
	case NORM_BAD_REQUEST:
		req_answer(r, ST_400, "bad param name or value");
		return (-1);
	case NORM_FORBIDDEN:
		req_answer(r, ST_403, "param in reject_params");
		return (-1);
	case NORM_FULL:
		req_answer(r, ST_431, "params too large after rewrite");
		return (-1);
	}
	if (encode(r) < 0)
		return (-1);
	return (upstream(r));
}

/*
 * BEGIN_REQUEST and the params, encoded once into the carry (binding
 * moves it without a copy); the arena goes back.  -1 when r ended.
 */
static int
encode(struct req *r)
{
	struct evbuffer_iovec	 iov;
	struct evbuffer		*carry = r->r_wait.w_carry;
	uint8_t			 begin[16];
	size_t			 need;

	if (fcgi_enc_params(r->r_params, r->r_id, NULL, 0, &need) !=
	    FCGI_DEC_OK) {
		req_answer(r, ST_431, "one param larger than a FastCGI record");
		return (-1);
	}
	/*
	 * SPEC §5.4: with the pool every request keeps its upstream
	 * connection; the web server's flag decides only about its own.
	 */
	fcgi_enc_begin(r->r_id, r->r_role, r->r_keep ||
	    up_pool_keepalive(r->r_ctx->x_pool) ? FCGI_KEEP_CONN : 0, begin);
	/* Nothing of the body comes before the params (SPEC §5.1). */
	if (evbuffer_add(carry, begin, sizeof(begin)) < 0 ||
	    evbuffer_reserve_space(carry, (ev_ssize_t)need, &iov, 1) != 1 ||
	    iov.iov_len < need) {
		r->r_ctx->x_ops->close(r->r_ctx->x_owner, r, "out of memory");
		return (-1);
	}
	fcgi_enc_params(r->r_params, r->r_id, iov.iov_base, need, &need);
	iov.iov_len = need;
	evbuffer_commit_space(carry, &iov, 1);
	r->r_ctx->x_params_used -= r->r_pbytes;
	r->r_pbytes = 0;
	r->r_wait.w_idempotent = params_idempotent(r->r_params);
	req_arena_put(r->r_params);
	r->r_params = NULL;
	r->r_wait.w_retried_connect = r->r_wait.w_retried_reuse = 0;
	if (!r->r_input_done)
		side_timer(r->r_body_timer, r->r_ctx->x_app->a_idle_timeout_ms);
	return (0);
}

/*
 * The request needs its php-fpm connection: the one its front held (no
 * pool, kept), or one from the pool.  0 bound or queued, -1 ended.
 */
static int
upstream(struct req *r)
{
	struct upc	*u;

	if (r->r_upc != NULL) {
		up_request_start(r->r_upc, &r->r_wait);
		up_add_buffer(r->r_upc, r->r_wait.w_carry,
		    evbuffer_get_length(r->r_wait.w_carry));
		r->r_state = REQ_RELAY;
		return (0);
	}
	r->r_state = REQ_WAIT;
	switch (up_acquire(r->r_ctx->x_pool, &r->r_wait, &u)) {
	case UP_BOUND:
		r->r_upc = u;
		r->r_state = REQ_RELAY;
		return (0);
	case UP_QUEUED:
		return (0);
	case UP_FAILED:
		break;
	}
	req_answer(r, ST_502, "upstream unreachable");
	return (-1);
}

void
req_input(struct req *r, const void *p, size_t len)
{
	if (r->r_upc != NULL && r->r_state == REQ_RELAY)
		up_add(r->r_upc, p, len);
	else if (r->r_state != REQ_DONE)
		evbuffer_add(r->r_wait.w_carry, p, len);
	if (!r->r_input_done && r->r_state != REQ_PARAMS)
		side_timer(r->r_body_timer, r->r_ctx->x_app->a_idle_timeout_ms);
}

void
req_input_buffer(struct req *r, struct evbuffer *b, size_t len)
{
	if (r->r_upc != NULL && r->r_state == REQ_RELAY)
		up_add_buffer(r->r_upc, b, len);
	else
		evbuffer_remove_buffer(b, r->r_wait.w_carry, len);
	if (!r->r_input_done && r->r_state != REQ_PARAMS)
		side_timer(r->r_body_timer, r->r_ctx->x_app->a_idle_timeout_ms);
}

/* The whole request is in; php-fpm may take its time. */
void
req_input_end(struct req *r)
{
	r->r_input_done = 1;
	evtimer_del(r->r_body_timer);
}

int
req_full(const struct req *r)
{
	/*
	 * SPEC §5.4: a queued request's front is not read further (back-
	 * pressure, no buffering), unless it multiplexes: the records that
	 * end the requests holding the pool may come behind its own, so it
	 * buffers up to WM_HIGH instead.
	 */
	if (r->r_state == REQ_WAIT && !r->r_ctx->x_mux)
		return (1);
	if (r->r_upc != NULL && r->r_state == REQ_RELAY)
		return (evbuffer_get_length(r->r_upc->u_side.s_out) > WM_HIGH);
	return (evbuffer_get_length(r->r_wait.w_carry) > WM_HIGH);
}

/*
 * After the front's read is decoded: what it gave r goes to php-fpm in
 * one write (nginx sends BEGIN, PARAMS and the empty STDIN at once).
 */
void
req_flush(struct req *r)
{
	if (r->r_upc != NULL && r->r_state == REQ_RELAY &&
	    evbuffer_get_length(r->r_upc->u_side.s_out) > 0)
		up_flush(r->r_upc);	/* -1: r was told (up_failed) */
}

/*
 * php-fpm's answer to the front: raw to a FastCGI front, decoded for an
 * SCGI one (rp_content).  Only whole records move, so no record is ever
 * split by another request's or by a GET_VALUES_RESULT.
 */
static void
relay(struct req *r)
{
	struct upc	*u = r->r_upc;
	int		 end = 0;

	while (!end && !r->r_paused &&
	    evbuffer_get_length(u->u_side.s_in) > r->r_held)
		if (relay_chunk(r, u, &end) < 0)
			return;
	if (end)
		relay_done(r);
	else
		r->r_ctx->x_ops->output(r->r_ctx->x_owner, r);
}

static int
relay_chunk(struct req *r, struct upc *u, int *end)
{
	struct evbuffer_iovec	 v;
	struct evbuffer_ptr	 pos;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off = 0, used, last = 0, total;

	evbuffer_ptr_set(u->u_side.s_in, &pos, r->r_held, EVBUFFER_PTR_SET);
	if (evbuffer_peek(u->u_side.s_in, -1, &pos, &v, 1) < 1)
		return (0);
	while (!*end) {
		st = fcgi_dec_next(&u->u_dec, (uint8_t *)v.iov_base + off,
		    v.iov_len - off, &used, &it);
		off += used;
		if (st == FCGI_DEC_MORE)
			break;
		if (st != FCGI_DEC_OK) {
			req_log(r, LOG_LVL_WARN, "upstream sent bad FastCGI",
			    "error=\"%s\"", fcgi_strerror(st));
			r->r_ctx->x_ops->close(r->r_ctx->x_owner, r,
			    "bad FastCGI from upstream");
			return (-1);
		}
		if (!r->r_proto->rp_raw && it.i_kind == FCGI_ITEM_CONTENT)
			r->r_proto->rp_content(r, &it);
		if (it.i_kind == FCGI_ITEM_END) {
			last = r->r_held + off;
			/* A management record's answer is one record. */
			*end = it.i_rec.r_type == FCGI_END_REQUEST ||
			    (r->r_id == 0 && it.i_rec.r_id == 0);
		}
	}
	total = r->r_held + off;
	if (!r->r_proto->rp_raw) {
		evbuffer_drain(u->u_side.s_in, total);
		r->r_held = 0;
	} else {
		/*
		 * Whole records only, even alone on the connection: a
		 * GET_VALUES answer (SPEC 5.4) may join the output at any
		 * time and must not land inside a record.
		 */
		evbuffer_remove_buffer(u->u_side.s_in, r->r_ctx->x_out, last);
		r->r_held = total - last;
	}
	r->r_relayed = 1;
	/* Back-pressure: the web server reads slower than php-fpm writes. */
	if (evbuffer_get_length(r->r_ctx->x_out) > WM_HIGH) {
		r->r_paused = 1;
		side_read_on(&u->u_side, 0);
	}
	return (0);
}

/* END_REQUEST is on its way to the front: the connection goes back. */
static void
relay_done(struct req *r)
{
	struct upc	*u = r->r_upc;
	struct upc	*kept = NULL;

	r->r_upc = NULL;
	if (r->r_id != 0)
		r->r_ctx->x_stats->sa_relayed++;
	fcgi_dec_init(&u->u_dec, FCGI_SIDE_APP);
	/*
	 * php-fpm may answer before it has the whole request: a record we
	 * began to send it is then cut, and the connection cannot carry
	 * another request (fuzz_conn's find: the next one read as garbage).
	 */
	if (r->r_owed > 0)
		up_drop(u);
	else if (up_pool_capacity(r->r_ctx->x_pool) > 0)
		up_release(u);
	else if (r->r_keep)
		kept = u;	/* no pool: kept because the web server keeps */
	else
		up_drop(u);
	ended(r, REQ_RELAYED, kept);
}

void
req_resume(struct req *r)
{
	if (!r->r_paused || r->r_upc == NULL)
		return;
	r->r_paused = 0;
	side_read_on(&r->r_upc->u_side, 1);
	if (evbuffer_get_length(r->r_upc->u_side.s_in) > r->r_held)
		relay(r);
}

static void
up_ready(void *owner, struct upc *u)
{
	struct req	*r = owner;

	r->r_upc = u;
	r->r_state = REQ_RELAY;
	if (up_flush(u) < 0)
		return;		/* told through up_failed */
	r->r_ctx->x_ops->more(r->r_ctx->x_owner, r);
}

static void
up_input(void *owner, struct upc *u)
{
	(void)u;
	relay(owner);
}

static void
up_drained(void *owner, struct upc *u)
{
	struct req	*r = owner;

	if (evbuffer_get_length(u->u_side.s_out) <= WM_LOW)
		r->r_ctx->x_ops->more(r->r_ctx->x_owner, r);
}

/* A retry is under way: ready or failed follows. */
static void
up_unbound(void *owner)
{
	struct req	*r = owner;

	r->r_upc = NULL;
	r->r_held = 0;
	if (r->r_state == REQ_RELAY)
		r->r_state = REQ_WAIT;
}

/*
 * The upstream side failed.  With a status and nothing relayed yet, the
 * daemon answers it; otherwise what came is relayed, then the front is
 * closed (SPEC §5.5).
 */
static void
up_failed(void *owner, const char *status, const char *why)
{
	struct req	*r = owner;

	if (status != NULL && !r->r_relayed) {
		req_answer(r, status, why);
		return;
	}
	req_log(r, LOG_LVL_INFO, why, "%s", "");
	give_up_upstream(r);
	ended(r, REQ_CUT, NULL);
}

void
req_answer(struct req *r, const char *status, const char *why)
{
	char	msg[256];
	int	len;

	/* SPEC §5.5: a full queue says when to come back. */
	len = snprintf(msg, sizeof(msg), "Status: %s\r\n%sContent-Type: "
	    "text/plain\r\n\r\n%s\n", status, strncmp(status, "503", 3) ==
	    0 ? "Retry-After: 1\r\n" : "", status);
	respond(r, msg, (size_t)len, status, why);
}

/*
 * The daemon answers with a whole CGI response (headers and body);
 * status and why are for the log (why NULL: debug only).
 */
static void
respond(struct req *r, const char *cgi, size_t len, const char *status,
    const char *why)
{
	count_answer(r, status);
	if (why != NULL)
		req_log(r, LOG_LVL_INFO, "answer", "status=\"%s\" "
		    "reason=\"%s\"", status, why);
	else
		req_log(r, LOG_LVL_DEBUG, "answer", "status=\"%s\"", status);
	give_up_upstream(r);
	up_cancel(r->r_ctx->x_pool, &r->r_wait);
	r->r_proto->rp_reply(r, cgi, len);
	ended(r, REQ_ANSWERED, NULL);
}

/* SPEC §6.1: what the policy did, per app, and who forges headers. */
static void
count(struct req *r, const struct norm_trail *t)
{
	struct status_app	*st = r->r_ctx->x_stats;

	if (!r->r_counted) {
		r->r_counted = 1;
		st->sa_requests++;
	}
	if (t->t_done & NORM_R_TRUSTED)
		st->sa_trusted++;
	if (t->t_done & NORM_R_ADDR)
		st->sa_rw_addr++;
	if (t->t_done & NORM_R_SCHEME)
		st->sa_rw_scheme++;
	if (t->t_done & NORM_R_HOST)
		st->sa_rw_host++;
	if (t->t_done & NORM_R_PREFIX)
		st->sa_rw_prefix++;
	if (t->t_flags & NORM_W_UNTRUSTED)
		st->sa_spoofing++;
	if (t->t_flags & (NORM_W_CLIENT | NORM_W_SCHEME | NORM_W_PORT |
	    NORM_W_HOST | NORM_W_PREFIX))
		st->sa_invalid++;
	if (t->t_flags & NORM_W_CONFLICT)
		st->sa_conflicts++;
	if (t->t_flags & NORM_W_SHORT)
		st->sa_short++;
	if ((t->t_done & (NORM_R_TRUSTED | NORM_R_PEER)) != NORM_R_PEER)
		return;
	/* An untrusted peer: the "full" view's table (time() is vDSO). */
	if (t->t_nlen > 0)
		peertab_note(&st->sa_peers, &t->t_peer, t->t_names, t->t_nlen,
		    (uint64_t)time(NULL));
	else
		peertab_note_clean(&st->sa_peers, &t->t_peer,
		    (uint64_t)time(NULL));
}

/* Is SCRIPT_NAME the app's status_path (1) or ping_path (2)?  0: no. */
static int
special(const struct req *r)
{
	const struct cfg_app	*a = r->r_ctx->x_app;
	const struct param	*e;
	const char		*v;
	long			 k;

	if (a->a_status_path[0] == '\0' && a->a_ping_path[0] == '\0')
		return (0);
	if ((k = params_find(r->r_params, "SCRIPT_NAME", 11)) < 0 ||
	    (e = params_at(r->r_params, (size_t)k)) == NULL)
		return (0);
	v = (const char *)params_value(r->r_params, e);
	if (a->a_status_path[0] != '\0' && e->p_vlen ==
	    strlen(a->a_status_path) && memcmp(v, a->a_status_path,
	    e->p_vlen) == 0)
		return (1);
	if (a->a_ping_path[0] != '\0' && e->p_vlen == strlen(a->a_ping_path) &&
	    memcmp(v, a->a_ping_path, e->p_vlen) == 0)
		return (2);
	return (0);
}

/*
 * SPEC §6.1: the status (which 1) or ping (2) page, answered here and
 * never by php-fpm, to status_allow clients only (judged on the
 * rewritten REMOTE_ADDR).  -1 when answered, 0 when the ping waits.
 */
static int
page(struct req *r, int which)
{
	const struct param	*e;
	struct addr		 ra;
	long			 k;

	r->r_special = 1;
	r->r_ctx->x_stats->sa_status_requests++;
	if ((k = params_find(r->r_params, "REMOTE_ADDR", 11)) < 0 ||
	    (e = params_at(r->r_params, (size_t)k)) == NULL ||
	    addr_parse((const char *)params_value(r->r_params, e),
	    e->p_vlen, &ra) != 0 ||
	    cidr_set_match(r->r_ctx->x_app->a_status_set, &ra) == NULL) {
		req_answer(r, ST_403, "client not in status_allow");
		return (-1);
	}
	return (which == 2 ? page_ping(r) : page_status(r));
}

/* SPEC §6.1: pong when an upstream accepts a connection, never blocking. */
static int
page_ping(struct req *r)
{
	const char	*why;

	switch (up_ping(r->r_ctx->x_pool, ping_done, r, &r->r_ping, &why)) {
	case -1:
		r->r_state = REQ_PING;
		return (0);
	case 1:
		ping_done(r, 1, "");
		return (-1);
	default:
		ping_done(r, 0, why);
		return (-1);
	}
}

static void
ping_done(void *owner, int ok, const char *why)
{
	static const char	pong[] = "Status: 200 OK\r\nContent-Type: "
	    "text/plain\r\nCache-Control: no-store\r\n\r\npong\n";
	struct req		*r = owner;
	char			 head[200];
	int			 hl;

	r->r_ping = NULL;
	if (ok) {
		respond(r, pong, sizeof(pong) - 1, "200 OK", NULL);
		return;
	}
	hl = snprintf(head, sizeof(head), "Status: 503 Service "
	    "Unavailable\r\nContent-Type: text/plain\r\n\r\n"
	    "no upstream accepts a connection: %s\n", why);
	respond(r, head, (size_t)hl, ST_503,
	    "ping: no upstream accepts a connection");
}

/*
 * SPEC §6.2: with workers the page is the sum over every slot (the
 * gauges over the running workers only), this worker's figures fresh,
 * the others' as published (at most a second old).  *sum and *w are the
 * caller's to free.  0: one process, nothing to sum; -1: ENOMEM.
 */
static int
workers_sum(struct req *r, struct status_live *sl, struct status_upstream *su,
    struct status_app **sum, struct status_worker **w)
{
	static const struct status_live	 none;
	struct gen_share		*me = gen_share_of(r->r_ctx->x_stats);
	struct gen_share		*e;
	struct gen_slot			*slot;
	struct status_live		 tot;
	struct status_upstream		 totu[GEN_UP_MAX];
	size_t				 n, k, i, nw = 0;

	if (me == NULL)
		return (0);
	gen_share_put(me, sl, su);
	n = gen_nslots();
	*sum = calloc(1, sizeof(**sum));
	*w = calloc(n, sizeof(**w));
	if (*sum == NULL || *w == NULL)
		return (-1);
	memset(&tot, 0, sizeof(tot));
	memset(totu, 0, sizeof(totu));
	memcpy((*sum)->sa_name, me->gs_app.sa_name, sizeof((*sum)->sa_name));
	for (k = 0; k < n; k++) {
		slot = gen_slot_at(k);
		if ((e = gen_share_find(slot, me->gs_app.sa_name)) == NULL)
			continue;
		status_add(*sum, &tot, &e->gs_app, slot->gl_alive ?
		    &e->gs_live : &none);
		if (!slot->gl_alive)
			continue;
		status_add_upstreams(totu, e->gs_up, me->gs_live.sl_nup);
		(*w)[nw++] = (struct status_worker){ (long)slot->gl_pid,
		    &e->gs_app, &e->gs_live };
	}
	for (i = 0; i < me->gs_live.sl_nup; i++) {
		su[i].su_busy = totu[i].su_busy;
		su[i].su_idle = totu[i].su_idle;
		su[i].su_connects = totu[i].su_connects;
		su[i].su_connect_fails = totu[i].su_connect_fails;
	}
	tot.sl_up = su;
	tot.sl_nup = sl->sl_nup;
	tot.sl_ranges = sl->sl_ranges;
	tot.sl_nranges = sl->sl_nranges;
	tot.sl_workers = *w;
	tot.sl_nworkers = nw;
	*sl = tot;
	return (1);
}

static int
page_status(struct req *r)
{
	struct status_upstream	 su[GEN_UP_MAX];
	struct status_live	 sl;
	struct status_app	*sum = NULL;
	struct status_worker	*w = NULL;
	struct evbuffer		*body;
	const struct param	*e;
	enum status_format	 fmt;
	const char		*ctype, *qs = "";
	char			 head[160];
	size_t			 qlen = 0;
	long			 k;
	int			 full, hl;

	if ((k = params_find(r->r_params, "QUERY_STRING", 12)) >= 0 &&
	    (e = params_at(r->r_params, (size_t)k)) != NULL) {
		qs = (const char *)params_value(r->r_params, e);
		qlen = e->p_vlen;
	}
	status_query(qs, qlen, &fmt, &full);
	memset(&sl, 0, sizeof(sl));
	up_status(r->r_ctx->x_pool, &sl, su, sizeof(su) / sizeof(su[0]));
	sl.sl_active = *r->r_ctx->x_active;
	sl.sl_ranges = r->r_ctx->x_app->a_ranges;
	sl.sl_nranges = r->r_ctx->x_app->a_nranges;
	if (workers_sum(r, &sl, su, &sum, &w) < 0 ||
	    (body = evbuffer_new()) == NULL) {
		free(sum);
		free(w);
		r->r_ctx->x_ops->close(r->r_ctx->x_owner, r, "out of memory");
		return (-1);
	}
	ctype = status_render(body, sum ? sum : r->r_ctx->x_stats, &sl, fmt,
	    full, time(NULL));
	free(sum);
	free(w);
	hl = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: "
	    "%s\r\nCache-Control: no-store\r\n\r\n", ctype);
	evbuffer_prepend(body, head, (size_t)hl);
	respond(r, (const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), "200 OK", NULL);
	evbuffer_free(body);
	return (-1);
}
