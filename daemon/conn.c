/*
 * Front connection state machine: FastCGI in from the web server, the
 * policy on each request's params, FastCGI out to php-fpm through a
 * connection lent by the upstream pool (upstream.c), the response relayed
 * back byte for byte (SPEC §5.1, §5.4).  Socket I/O is side.c's.
 *
 * Closing is deferred (STYLE S9): conn_close() marks the conn, and the
 * outermost callback that entered it frees it on its way out, so no
 * function ever runs on a freed conn.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/side.h"
#include "daemon/upstream.h"
#include "proto/fcgi.h"
#include "proto/normalize.h"
#include "proto/proxyproto.h"
#include "proto/scgi.h"

/*
 * Per direction, at most WM_HIGH bytes wait to be written before we stop
 * reading the other side; reading resumes below WM_LOW.  With the params
 * arena (freed once the params are sent) a connection stays well under
 * SPEC §5.4's 256 KiB.
 */
#define WM_HIGH		(64 * 1024)
#define WM_LOW		(16 * 1024)
#define TRAIL_DEBUG	8192
#define TRAIL_QUIET	1024
#define PP_TIMEOUT_MS	5000	/* SPEC §5.3 */
#define ST_431		"431 Request Header Fields Too Large"
#define ST_502		"502 Bad Gateway"
#define ST_503		"503 Service Unavailable"
#define SCGI_STDIN_MAX	32768	/* body bytes per STDIN record */
/*
 * Lingering close (nginx's lingering_close): after our last byte, a front
 * that may still be writing (Apache sends its empty STDIN after php-fpm
 * already answered) is read and discarded for at most this long and this
 * much, so its late write neither fails nor resets our answer.
 */
#define LINGER_MS	2000
#define LINGER_BYTES	(64 * 1024)

struct conn {
	struct conn		*c_next;	/* server's list */
	struct conn		**c_prevp;
	struct listener		*c_l;
	const struct cfg_app	*c_app;
	struct gen		*c_gen;
	struct side		 c_front;
	struct up_pool		*c_pool;
	struct upc		*c_upc;		/* lent for the request */
	struct up_wait		 c_wait;	/* our place in its queue */
	unsigned long		 c_id;
	char			 c_peer[64];
	struct fcgi_dec		 c_fdec;	/* what the web server sends */
	struct fcgi_nv		 c_nv;
	struct params		*c_params;	/* only while reading params */
	struct event		*c_timer;	/* params or idle timeout */
	int			 c_timer_idle;	/* c_timer is the idle one */
	int			 c_depth;	/* callbacks running on it */
	int			 c_closing;	/* free when c_depth drops */
	int			 c_relayed;	/* response bytes went out */
	unsigned		 c_reqid;
	unsigned		 c_role;
	int			 c_keep;	/* FCGI_KEEP_CONN */
	int			 c_scgi;	/* the front speaks SCGI */
	struct scgi_dec		 c_sdec;
	uint8_t			*c_sbuf;	/* SCGI header, while reading it */
	uint64_t		 c_body_left;	/* SCGI body bytes to come */
	int			 c_scgi_state;	/* header, body, done */
	int			 c_pp_wait;	/* PROXY header still to come */
	struct pp_dec		 c_ppdec;
	int			 c_pp_have;	/* an address was announced */
	struct pp_result	 c_pp;
	int			 c_answered;	/* close once the front is flushed */
	int			 c_held;	/* a second BEGIN_REQUEST waits */
	int			 c_lingering;	/* answered, write side shut */
	size_t			 c_linger_bytes;
	unsigned long		 c_requests;
};

static unsigned long	conn_ids;

/* Every callback that may close the conn brackets its work in these. */
#define CONN_ENTER(c)	((c)->c_depth++)
#define CONN_LEAVE(c) do {						\
	if (--(c)->c_depth == 0 && (c)->c_closing)			\
		conn_free(c);						\
} while (0)

static void	conn_close(struct conn *, const char *);
static void	conn_free(struct conn *);
static void	front_rcb(evutil_socket_t, short, void *);
static void	front_wcb(evutil_socket_t, short, void *);
static int	front_process(struct conn *);
static int	up_process(struct conn *);
static int	need_upstream(struct conn *);
static void	up_done(struct conn *);
static int	flush_up(struct conn *);
static int	flush_front(struct conn *);
static int	item(struct conn *, const struct fcgi_item *);
static int	params_done(struct conn *);
static int	send_request(struct conn *);
static int	pp_process(struct conn *);
static int	scgi_front(struct conn *);
static void	log_stderr(struct conn *, const uint8_t *, size_t);
static void	up_let_go(struct conn *);
static int	answer(struct conn *, const char *, const char *);
static void	answer_values(struct conn *);
static struct params *arena_get(size_t);
static void	arena_put(struct params *);
static void	log_trail(struct conn *, const struct norm_trail *);
static const char *untrusted_count(const struct conn *);
static int	rate_ok(void);
static void	timer_cb(evutil_socket_t, short, void *);
static void	arm_timer(struct conn *, long, int);
static int	front_input_done(const struct conn *);
static void	linger_start(struct conn *);
static void	linger_read(struct conn *);

/*
 * One timer per conn for the front: params_timeout_ms from the start of a
 * request (a one-shot, so a client trickling a byte a minute cannot hold
 * the connection, SPEC §3.2), or idle_timeout_ms of silence.
 */
static void
arm_timer(struct conn *c, long ms, int idle)
{
	struct timeval	tv;

	if (ms <= 0) {
		evtimer_del(c->c_timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	c->c_timer_idle = idle;
	evtimer_add(c->c_timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	CONN_ENTER(c);
	if (c->c_lingering)
		conn_close(c, NULL);
	else
		conn_close(c, c->c_timer_idle ? "idle timeout" : c->c_pp_wait ?
		    "no PROXY protocol header within 5 s" : "params timeout");
	CONN_LEAVE(c);
}

void
conn_accept(struct listener *l, evutil_socket_t fd, const struct sockaddr *sa,
    int salen)
{
	struct conn	*c;
	char		 a[ADDR_STRLEN];

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error(l->l_app->a_name, "accept: out of memory");
		evutil_closesocket(fd);
		return;
	}
	c->c_l = l;
	c->c_app = l->l_app;
	c->c_gen = l->l_gen;
	srv_gen_ref(c->c_gen);
	c->c_id = ++conn_ids;
	c->c_front.s_fd = -1;
	c->c_pool = l->l_pool;
	up_pool_ref(c->c_pool);
	c->c_wait.w_conn = c;
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct
	    sockaddr_in)) {
		const struct sockaddr_in *s4 = (const void *)sa;

		evutil_inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(c->c_peer, sizeof(c->c_peer), "%s:%u", a,
		    ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(c->c_peer, sizeof(c->c_peer), "[%s]:%u", a,
		    ntohs(s6->sin6_port));
	} else {
		snprintf(c->c_peer, sizeof(c->c_peer), "unix");
	}
	l->l_nconns++;
	l->l_srv->s_nconns++;
	if ((c->c_next = l->l_srv->s_conns) != NULL)
		c->c_next->c_prevp = &c->c_next;
	c->c_prevp = &l->l_srv->s_conns;
	l->l_srv->s_conns = c;
	fcgi_dec_init(&c->c_fdec, FCGI_SIDE_WEBSERVER);
	c->c_timer = evtimer_new(l->l_srv->s_base, timer_cb, c);
	c->c_wait.w_carry = evbuffer_new();
	if (side_init(l->l_srv->s_base, &c->c_front, fd, front_rcb, front_wcb,
	    c) < 0 || c->c_timer == NULL || c->c_wait.w_carry == NULL) {
		if (c->c_front.s_fd < 0)
			close(fd);
		conn_close(c, "out of memory");
		return;
	}
	c->c_scgi = c->c_app->a_proto == CFG_PROTO_SCGI;
	c->c_pp_wait = c->c_app->a_proxy_protocol;
	arm_timer(c, c->c_pp_wait ? PP_TIMEOUT_MS : c->c_app->a_params_timeout_ms,
	    0);
	log_debug(c->c_app->a_name, "accept conn=%lu peer=%s", c->c_id,
	    c->c_peer);
}

/*
 * Close the conn: logged now, freed now when no callback runs on it,
 * else when the outermost one leaves (CONN_LEAVE).
 */
static void
conn_close(struct conn *c, const char *reason)
{
	if (c->c_closing)
		return;
	c->c_closing = 1;
	if (reason != NULL)
		log_info(c->c_app->a_name, "close conn=%lu peer=%s "
		    "requests=%lu reason=\"%s\"", c->c_id, c->c_peer,
		    c->c_requests, reason);
	else
		log_debug(c->c_app->a_name, "close conn=%lu peer=%s "
		    "requests=%lu", c->c_id, c->c_peer, c->c_requests);
	if (c->c_depth == 0)
		conn_free(c);
}

/* SPEC §5.5: a front gone mid-request closes its upstream at once. */
static void
conn_free(struct conn *c)
{
	struct listener	*l = c->c_l;

	side_free(&c->c_front);
	up_let_go(c);
	up_cancel(c->c_pool, &c->c_wait);
	up_pool_unref(c->c_pool);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	arena_put(c->c_params);
	free(c->c_sbuf);
	srv_gen_unref(c->c_gen);
	if ((*c->c_prevp = c->c_next) != NULL)
		c->c_next->c_prevp = c->c_prevp;
	free(c);
	srv_conn_closed(l);
}

void
conn_close_all(struct server *s)
{
	while (s->s_conns != NULL)
		conn_close(s->s_conns, "shutting down");
}

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
arena_get(size_t cap)
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
arena_put(struct params *p)
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
untrusted_count(const struct conn *c)
{
	static char	buf[48];

	snprintf(buf, sizeof(buf), " untrusted_total=%lu",
	    c->c_l->l_untrusted);
	return (buf);
}

static void
log_trail(struct conn *c, const struct norm_trail *t)
{
	const char	*p, *nl;
	int		 warn = (t->t_flags & ~NORM_W_UNTRUSTED) != 0;

	if (t->t_len == 0 || (log_level_cur < LOG_LVL_DEBUG && !rate_ok()))
		return;
	for (p = t->t_buf; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		/* Untrusted peers sending headers: info; bad values: warn. */
		log_msg(strncmp(p, "warn: ", 6) == 0 ? (warn ? LOG_LVL_WARN :
		    LOG_LVL_INFO) : LOG_LVL_DEBUG, c->c_app->a_name,
		    "conn=%lu peer=%s policy: %.*s%s", c->c_id, c->c_peer,
		    (int)(nl - p), p, strncmp(p, "warn: untrusted", 15) == 0 ?
		    untrusted_count(c) : "");
	}
}

/*
 * The daemon answers by itself (400, 403, 431, 502): STDOUT, END_REQUEST,
 * then close once written.  Returns -1 (the caller stops processing);
 * the conn may already be closed then.
 */
static int
answer(struct conn *c, const char *status, const char *why)
{
	uint8_t	buf[512];
	char	msg[256];
	size_t	n;
	int	len;

	/* SPEC §5.5: a full queue says when to come back. */
	len = snprintf(msg, sizeof(msg), "Status: %s\r\n%sContent-Type: "
	    "text/plain\r\n\r\n%s\n", status, strncmp(status, "503", 3) ==
	    0 ? "Retry-After: 1\r\n" : "", status);
	if (c->c_scgi) {
		/* SCGI answers are the CGI response itself (SPEC §5.4). */
		memcpy(buf, msg, (size_t)len);
		n = (size_t)len;
	} else {
		n = fcgi_enc_response(c->c_reqid ? c->c_reqid : 1, msg,
		    (size_t)len, buf, sizeof(buf));
	}
	log_info(c->c_app->a_name, "answer conn=%lu peer=%s status=\"%s\" "
	    "reason=\"%s\"", c->c_id, c->c_peer, status, why);
	up_let_go(c);
	up_cancel(c->c_pool, &c->c_wait);
	c->c_answered = 1;
	side_read_on(&c->c_front, 0);
	evtimer_del(c->c_timer);
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	evbuffer_add(c->c_front.s_out, buf, n);
	flush_front(c);
	return (-1);
}

/*
 * FCGI_GET_VALUES with the pool: php-fpm's answer would describe one
 * php-fpm, not the pool in front of it (SPEC §5.4).
 */
static void
answer_values(struct conn *c)
{
	char		 n[24];
	size_t		 cap = up_pool_capacity(c->c_pool), len, k = 0;
	uint8_t		 buf[160];
	const char	*names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
			    "FCGI_MPXS_CONNS" };
	size_t		 i;

	for (i = 0; i < 3; i++) {
		/* One request per front connection at a time, for now. */
		len = (size_t)snprintf(n, sizeof(n), "%zu", i < 2 ? cap : 0);
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

/* Write to the front; close when an answered conn is fully flushed. */
static int
flush_front(struct conn *c)
{
	if (side_flush(&c->c_front) < 0) {
		conn_close(c, "front write error");
		return (-1);
	}
	if (c->c_answered && evbuffer_get_length(c->c_front.s_out) == 0) {
		if (front_input_done(c))
			conn_close(c, NULL);
		else
			linger_start(c);
		return (-1);
	}
	/* Backpressure: resume php-fpm once nginx has caught up. */
	if (c->c_upc != NULL && !c->c_upc->u_side.s_reading &&
	    evbuffer_get_length(c->c_front.s_out) <= WM_LOW) {
		side_read_on(&c->c_upc->u_side, 1);
		if (evbuffer_get_length(c->c_upc->u_side.s_in) > 0)
			return (up_process(c));
	}
	return (0);
}

/* Write to php-fpm; resume the front below the low watermark. */
static int
flush_up(struct conn *c)
{
	if (c->c_upc == NULL)
		return (0);
	if (up_flush(c->c_upc) < 0)
		return (-1);	/* retried or failed: we were told */
	if (c->c_closing || c->c_upc == NULL)
		return (-1);
	if (!c->c_front.s_reading && !c->c_answered && !c->c_held &&
	    !c->c_wait.w_queued &&
	    evbuffer_get_length(c->c_upc->u_side.s_out) <= WM_LOW) {
		side_read_on(&c->c_front, 1);
		if (evbuffer_get_length(c->c_front.s_in) > 0)
			return (front_process(c));
	}
	return (0);
}

static void
front_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	int		 n;

	(void)fd;
	(void)ev;
	CONN_ENTER(c);
	if (c->c_lingering) {
		linger_read(c);
		CONN_LEAVE(c);
		return;
	}
	if ((n = side_fill(&c->c_front)) == -2) {
		CONN_LEAVE(c);
		return;
	}
	if (n <= 0) {
		if (n == 0 && c->c_fdec.d_phase == FCGI_PHASE_IDLE &&
		    c->c_fdec.d_hlen == 0 && evbuffer_get_length(
		    c->c_front.s_in) == 0)
			conn_close(c, NULL);	/* a clean close */
		else
			/* SPEC §5.4: only closing stops php-fpm's work. */
			conn_close(c, n == 0 ? "front closed mid-request" :
			    "front connection error");
		CONN_LEAVE(c);
		return;
	}
	if (c->c_timer_idle && evtimer_pending(c->c_timer, NULL))
		arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	front_process(c);
	CONN_LEAVE(c);
}

static void
front_wcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	CONN_ENTER(c);
	flush_front(c);
	CONN_LEAVE(c);
}

/* Decode what the front sent; -1 when the conn was closed or answered. */
static int
front_process(struct conn *c)
{
	struct evbuffer_iovec	 v;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off, used;
	char			 why[160];
	uint8_t			 none = 0;
	int			 r;

	if (c->c_pp_wait && pp_process(c) < 0)
		return (-1);
	if (c->c_pp_wait)
		return (0);
	if (c->c_scgi)
		return (scgi_front(c));
	while (!c->c_answered && c->c_front.s_reading) {
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
				 * The web server multiplexes; php-fpm could
				 * not either.  Its input waits in the socket
				 * (back-pressure) until END_REQUEST.
				 */
				c->c_held = 1;
				side_read_on(&c->c_front, 0);
				break;
			}
			if (st != FCGI_DEC_OK) {
				snprintf(why, sizeof(why), "%s (type %s, "
				    "version %u)", fcgi_strerror(st),
				    fcgi_type_name(c->c_fdec.d_rec.r_type),
				    c->c_fdec.d_rec.r_version);
				conn_close(c, why);
				return (-1);
			}
			if ((r = item(c, &it)) < 0)
				return (-1);
			if (r > 0)
				break;	/* queued: the rest waits */
		}
		evbuffer_drain(c->c_front.s_in, off);
		/* Backpressure: php-fpm reads slower than nginx sends. */
		if (c->c_upc != NULL &&
		    evbuffer_get_length(c->c_upc->u_side.s_out) > WM_HIGH)
			side_read_on(&c->c_front, 0);
	}
	return (flush_up(c));
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
			answer_values(c);
			return (flush_front(c));
		}
		return (0);
	}
	switch (it->i_kind) {
	case FCGI_ITEM_HEADER:
		if (type == FCGI_BEGIN_REQUEST || type == FCGI_PARAMS)
			return (0);
		if (type == FCGI_ABORT_REQUEST &&
		    c->c_fdec.d_phase == FCGI_PHASE_PARAMS) {
			/* php-fpm never saw this request: nothing to relay. */
			conn_close(c, "request aborted before its params");
			return (-1);
		}
		if (c->c_upc == NULL && need_upstream(c) != 0)
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
			return (answer(c, ST_431,
			    "params over max_params_bytes"));
		return (0);
	case FCGI_ITEM_END:
		break;
	}
	if (type == FCGI_BEGIN_REQUEST) {
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
		    (c->c_params = arena_get(cap)) == NULL) {
			conn_close(c, "out of memory");
			return (-1);
		}
		params_reset(c->c_params);
		fcgi_nv_init(&c->c_nv, (size_t)c->c_app->a_max_params_bytes);
		arm_timer(c, c->c_app->a_params_timeout_ms, 0);
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
	return (send_request(c));
}

/*
 * The request's params are complete (FastCGI or SCGI): add the PROXY
 * protocol address, run the policy, send BEGIN_REQUEST and the params.
 */
static int
send_request(struct conn *c)
{
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			 trail[TRAIL_DEBUG], a[ADDR_STRLEN], pb[8];
	struct evbuffer_iovec	 iov;
	uint8_t			 begin[16];
	size_t			 need;
	int			 n;

	c->c_requests++;
	if (c->c_pp_have) {
		/*
		 * SPEC §5.3: usable in client_headers like any param; the v2
		 * TLVs in proto_headers and host_headers, where the policy
		 * checks them as it checks the headers they stand for.
		 */
		const struct pp_result *pp = &c->c_pp;

		if (pp->r_tlv_refused)
			log_info(c->c_app->a_name, "conn=%lu peer=%s PROXY v2 "
			    "AUTHORITY or UNIQUE_ID TLV not printable or too "
			    "long: left out", c->c_id, c->c_peer);
		n = snprintf(pb, sizeof(pb), "%d", pp->r_src_port);
		if (params_set(c->c_params, PARAMS_STR("PROXY_PROTOCOL_ADDR"), a,
		    addr_format(&pp->r_src, a)) != PARAMS_OK ||
		    params_set(c->c_params, PARAMS_STR("PROXY_PROTOCOL_PORT"),
		    pb, (size_t)n) != PARAMS_OK ||
		    (pp->r_ssl != -1 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_PROTO"), pp->r_ssl ? "https" :
		    "http", pp->r_ssl ? 5 : 4) != PARAMS_OK) ||
		    (pp->r_authority_len > 0 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_AUTHORITY"), pp->r_authority,
		    pp->r_authority_len) != PARAMS_OK) ||
		    (pp->r_unique_id_len > 0 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_UNIQUE_ID"), pp->r_unique_id,
		    pp->r_unique_id_len) != PARAMS_OK))
			return (answer(c, ST_431,
			    "params too large"));
	}
	norm_trail_init(&t, trail, log_level_cur >= LOG_LVL_DEBUG ?
	    TRAIL_DEBUG : TRAIL_QUIET, log_level_cur >= LOG_LVL_DEBUG);
	v = norm_run(&c->c_app->a_policy, c->c_params, &t);
	/* SPEC §4.2: counted, the first sign of a mis-wired balancer. */
	if (t.t_flags & NORM_W_UNTRUSTED)
		c->c_l->l_untrusted++;
	log_trail(c, &t);
	switch (v) {
	case NORM_OK:
		break;
	case NORM_BAD_REQUEST:
		return (answer(c, "400 Bad Request", "bad param name or value"));
	case NORM_FORBIDDEN:
		return (answer(c, "403 Forbidden", "param in reject_params"));
	case NORM_FULL:
		return (answer(c, ST_431,
		    "params too large after rewrite"));
	}
	if (fcgi_enc_params(c->c_params, c->c_reqid, NULL, 0, &need) !=
	    FCGI_DEC_OK)
		return (answer(c, ST_431,
		    "one param larger than a FastCGI record"));
	/*
	 * SPEC §5.4: with the pool every request keeps its upstream
	 * connection; the web server's flag decides only about its own.
	 */
	fcgi_enc_begin(c->c_reqid, c->c_role, c->c_keep ||
	    up_pool_keepalive(c->c_pool) ? FCGI_KEEP_CONN : 0, begin);
	/* Encoded once into the carry; binding moves it without a copy. */
	evbuffer_add(c->c_wait.w_carry, begin, sizeof(begin));
	if (evbuffer_reserve_space(c->c_wait.w_carry, (ev_ssize_t)need, &iov,
	    1) != 1 || iov.iov_len < need) {
		conn_close(c, "out of memory");
		return (-1);
	}
	fcgi_enc_params(c->c_params, c->c_reqid, iov.iov_base, need, &need);
	iov.iov_len = need;
	evbuffer_commit_space(c->c_wait.w_carry, &iov, 1);
	arena_put(c->c_params);
	c->c_params = NULL;
	c->c_relayed = 0;
	c->c_wait.w_retried_connect = c->c_wait.w_retried_reuse = 0;
	/* The body may stall no longer than the idle timeout. */
	arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	return (need_upstream(c));
}

/*
 * The request needs its upstream connection: the one this front holds
 * (no pool, kept), or one from the pool.  0 bound, 1 queued (stop
 * reading the front: back-pressure), -1 answered.
 */
static int
need_upstream(struct conn *c)
{
	struct upc	*u;

	if (c->c_upc != NULL) {
		up_request_start(c->c_upc);
		up_add_buffer(c->c_upc, c->c_wait.w_carry,
		    evbuffer_get_length(c->c_wait.w_carry));
		return (0);
	}
	switch (up_acquire(c->c_pool, &c->c_wait, &u)) {
	case UP_BOUND:
		c->c_upc = u;
		return (0);
	case UP_QUEUED:
		side_read_on(&c->c_front, 0);
		return (1);
	case UP_FAILED:
		break;
	}
	return (answer(c, ST_502, "upstream unreachable"));
}

/* Give the upstream connection back, mid-request: it is closed. */
static void
up_let_go(struct conn *c)
{
	if (c->c_upc != NULL) {
		up_drop(c->c_upc);
		c->c_upc = NULL;
	}
}

/* END_REQUEST came: the connection goes back, or stays with us. */
static void
up_done(struct conn *c)
{
	struct upc	*u = c->c_upc;

	if (up_pool_capacity(c->c_pool) > 0) {
		c->c_upc = NULL;
		up_release(u);
	} else if (c->c_keep && !c->c_scgi) {
		/* No pool: php-fpm keeps it because the web server does. */
		up_request_done(u);
	} else {
		c->c_upc = NULL;
		up_drop(u);
	}
}

void
conn_up_ready(struct conn *c, struct upc *u)
{
	CONN_ENTER(c);
	c->c_upc = u;
	if (!c->c_answered && !c->c_held && !c->c_lingering)
		side_read_on(&c->c_front, 1);
	if (flush_up(c) == 0 && evbuffer_get_length(c->c_front.s_in) > 0 &&
	    c->c_front.s_reading)
		front_process(c);
	CONN_LEAVE(c);
}

void
conn_up_unbound(struct conn *c)
{
	c->c_upc = NULL;
	side_read_on(&c->c_front, 0);
	/* Between requests (no pool, php-fpm closed): read on. */
	if (c->c_fdec.d_phase == FCGI_PHASE_IDLE && !c->c_scgi &&
	    !c->c_answered && !c->c_held && !c->c_lingering)
		side_read_on(&c->c_front, 1);
}

void
conn_up_input(struct conn *c, struct upc *u)
{
	(void)u;
	CONN_ENTER(c);
	up_process(c);
	CONN_LEAVE(c);
}

void
conn_up_drained(struct conn *c, struct upc *u)
{
	(void)u;
	CONN_ENTER(c);
	flush_up(c);
	CONN_LEAVE(c);
}

/*
 * The upstream side failed.  With a status and nothing relayed yet, the
 * daemon answers it; otherwise what came is relayed, then the front is
 * closed (SPEC §5.5).
 */
void
conn_up_failed(struct conn *c, const char *status, const char *why)
{
	CONN_ENTER(c);
	if (status != NULL && !c->c_relayed) {
		answer(c, status, why);
	} else {
		log_info(c->c_app->a_name, "conn=%lu peer=%s %s", c->c_id,
		    c->c_peer, why);
		up_let_go(c);
		up_cancel(c->c_pool, &c->c_wait);
		c->c_answered = 1;	/* relay what came, then close */
		side_read_on(&c->c_front, 0);
		flush_front(c);
	}
	CONN_LEAVE(c);
}

/*
 * php-fpm's answer: relayed unchanged to a FastCGI front, decoded for an
 * SCGI one; END_REQUEST ends the request.  -1 when the conn was closed.
 */
static int
up_process(struct conn *c)
{
	struct evbuffer_iovec	 v;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off, used;
	int			 ended = 0;
	struct upc		*u = c->c_upc;

	while (!ended && u != NULL && u->u_side.s_reading &&
	    evbuffer_peek(u->u_side.s_in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		for (off = 0;;) {
			st = fcgi_dec_next(&u->u_dec, (uint8_t *)v.iov_base +
			    off, v.iov_len - off, &used, &it);
			off += used;
			if (st == FCGI_DEC_MORE)
				break;
			if (st != FCGI_DEC_OK) {
				log_warn(c->c_app->a_name, "conn=%lu upstream "
				    "sent bad FastCGI: %s", c->c_id,
				    fcgi_strerror(st));
				conn_close(c, "bad FastCGI from upstream");
				return (-1);
			}
			/*
			 * SCGI (SPEC §5.2): STDOUT content goes to the web
			 * server raw, STDERR to our log.
			 */
			if (c->c_scgi && it.i_kind == FCGI_ITEM_CONTENT &&
			    it.i_rec.r_type == FCGI_STDOUT)
				evbuffer_add(c->c_front.s_out, it.i_data,
				    it.i_len);
			else if (c->c_scgi && it.i_kind == FCGI_ITEM_CONTENT &&
			    it.i_rec.r_type == FCGI_STDERR)
				log_stderr(c, it.i_data, it.i_len);
			if (it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_END_REQUEST) {
				ended = 1;
				break;
			}
		}
		if (c->c_scgi)
			evbuffer_drain(u->u_side.s_in, off);
		else	/* FastCGI: byte for byte, without a copy */
			evbuffer_remove_buffer(u->u_side.s_in,
			    c->c_front.s_out, off);
		c->c_relayed = 1;
		/* Backpressure: nginx reads slower than php-fpm writes. */
		if (evbuffer_get_length(c->c_front.s_out) > WM_HIGH)
			side_read_on(&u->u_side, 0);
	}
	if (ended) {
		fcgi_dec_init(&u->u_dec, FCGI_SIDE_APP);
		up_done(c);
		if (!c->c_keep || c->c_scgi) {
			/* The web server did not ask to keep its side. */
			c->c_answered = 1;
			side_read_on(&c->c_front, 0);
		} else {
			fcgi_dec_request_done(&c->c_fdec);
			arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
		}
	}
	if (flush_front(c) < 0)
		return (-1);
	if (ended && c->c_keep && (evbuffer_get_length(c->c_front.s_in) > 0 ||
	    c->c_held)) {
		/* nginx may have sent the next request already. */
		side_read_on(&c->c_front, 1);
		return (front_process(c));
	}
	return (0);
}

/*
 * Has the front sent everything it will send?  Then closing cannot reset
 * anything it still writes, and no lingering is needed (nginx's case).
 */
static int
front_input_done(const struct conn *c)
{
	if (evbuffer_get_length(c->c_front.s_in) > 0 || c->c_held ||
	    c->c_pp_wait)
		return (0);
	if (c->c_scgi)
		return (c->c_scgi_state == 2);
	return (c->c_fdec.d_phase == FCGI_PHASE_DONE && c->c_fdec.d_hlen == 0);
}

/*
 * Our answer is out: send FIN, then read and discard what the front
 * still sends, bounded by LINGER_MS and LINGER_BYTES, before closing.
 */
static void
linger_start(struct conn *c)
{
	c->c_lingering = 1;
	c->c_held = 0;
	if (shutdown(c->c_front.s_fd, SHUT_WR) < 0) {
		conn_close(c, NULL);
		return;
	}
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	side_read_on(&c->c_front, 1);
	arm_timer(c, LINGER_MS, 0);
}

static void
linger_read(struct conn *c)
{
	int	n = side_fill(&c->c_front);

	if (n == -2)
		return;
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	if (n <= 0 || (c->c_linger_bytes += (size_t)n) >= LINGER_BYTES)
		conn_close(c, NULL);
}

/* PROXY protocol header first (SPEC §5.3); -1 when the conn was closed. */
static int
pp_process(struct conn *c)
{
	struct evbuffer_iovec	v;
	enum pp_status		st;
	size_t			used;
	char			why[128];

	while (c->c_pp_wait && evbuffer_peek(c->c_front.s_in, -1, NULL, &v,
	    1) > 0 && v.iov_len > 0) {
		st = pp_dec_feed(&c->c_ppdec, v.iov_base, v.iov_len, &used,
		    &c->c_pp);
		evbuffer_drain(c->c_front.s_in, used);
		if (st == PP_MORE)
			continue;
		if (st != PP_OK) {
			snprintf(why, sizeof(why), "PROXY protocol: %s",
			    pp_strerror(st));
			conn_close(c, why);
			return (-1);
		}
		c->c_pp_wait = 0;
		c->c_pp_have = !c->c_pp.r_local;
		if (c->c_pp_have) {
			char a[ADDR_STRLEN];

			addr_format(&c->c_pp.r_src, a);
			snprintf(c->c_peer, sizeof(c->c_peer), "%s:%d(proxy)",
			    a, c->c_pp.r_src_port);
		}
		arm_timer(c, c->c_app->a_params_timeout_ms, 0);
	}
	return (0);
}

/*
 * SCGI front (SPEC §5.2): the netstring header, then CONTENT_LENGTH body
 * bytes, relayed as STDIN records.  -1 when the conn was closed/answered.
 */
static int
scgi_front(struct conn *c)
{
	enum scgi_status	 st;
	struct evbuffer_iovec	 v;
	size_t			 used, n, cap;
	uint8_t			 h[FCGI_HEADER_LEN];

	if (c->c_scgi_state == 0) {
		if (c->c_sbuf == NULL) {
			cap = (size_t)c->c_app->a_max_params_bytes;
			c->c_sbuf = malloc(cap);
			c->c_params = arena_get(cap * 3 / 2 + 16384);
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
			return (answer(c, ST_431,
			    scgi_strerror(st)));
		if (st != SCGI_OK) {
			conn_close(c, scgi_strerror(st));
			return (-1);
		}
		c->c_scgi_state = 1;
		c->c_reqid = 1;
		c->c_role = FCGI_RESPONDER;
		c->c_keep = 0;
		fcgi_dec_init(&c->c_fdec, FCGI_SIDE_WEBSERVER);
		c->c_fdec.d_phase = FCGI_PHASE_BODY;
		if (send_request(c) != 0)
			return (-1);	/* answered, or queued: */
	}
	/* The body, as STDIN records; then the empty STDIN. */
	while (c->c_scgi_state == 1 && c->c_front.s_reading &&
	    (c->c_body_left == 0 || evbuffer_get_length(c->c_front.s_in) > 0)) {
		n = evbuffer_get_length(c->c_front.s_in);
		if (n > c->c_body_left)
			n = (size_t)c->c_body_left;
		if (n > SCGI_STDIN_MAX)
			n = SCGI_STDIN_MAX;
		fcgi_enc_header(h, FCGI_STDIN, 1, (unsigned)n, 0);
		up_add(c->c_upc, h, sizeof(h));
		if (n == 0) {
			c->c_scgi_state = 2;
			c->c_fdec.d_phase = FCGI_PHASE_DONE;
			evtimer_del(c->c_timer);
			break;
		}
		up_add_buffer(c->c_upc, c->c_front.s_in, n);
		c->c_body_left -= n;
		if (evbuffer_get_length(c->c_upc->u_side.s_out) > WM_HIGH)
			side_read_on(&c->c_front, 0);
	}
	if (c->c_scgi_state == 2) {
		/* Nothing may follow the body on an SCGI connection. */
		evbuffer_drain(c->c_front.s_in,
		    evbuffer_get_length(c->c_front.s_in));
	}
	return (flush_up(c));
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
	log_warn(c->c_app->a_name, "conn=%lu php stderr: %s%s", c->c_id, line,
	    len > n ? "..." : "");
}

