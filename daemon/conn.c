/*
 * Front connection state machine: FastCGI in from the web server, the
 * policy on each request's params, FastCGI out to php-fpm, the response
 * relayed back byte for byte (SPEC §5.1, §5.4).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "proto/fcgi.h"
#include "proto/normalize.h"

/*
 * Per direction, at most HIGH bytes wait in an output buffer before we stop
 * reading the other side; reading resumes below LOW.  With the params
 * arena this keeps a connection well under SPEC §5.4's 256 KiB.
 */
#define WM_HIGH		(64 * 1024)
#define WM_LOW		(16 * 1024)
#define MAX_IO		(64 * 1024)	/* per read(2) or write(2) */
#define TRAIL_DEBUG	8192
#define TRAIL_QUIET	1024

struct conn {
	struct conn		*c_next;	/* server's list */
	struct conn		**c_prevp;
	struct listener		*c_l;
	const struct cfg_app	*c_app;
	struct gen		*c_gen;
	struct bufferevent	*c_front;
	struct bufferevent	*c_up;
	unsigned long		 c_id;
	char			 c_peer[64];
	struct fcgi_dec		 c_fdec;	/* what the web server sends */
	struct fcgi_dec		 c_udec;	/* what php-fpm answers */
	struct fcgi_nv		 c_nv;
	struct params		*c_params;	/* only while reading params */
	struct event		*c_timer;	/* params_timeout_ms */
	unsigned		 c_reqid;
	int			 c_keep;	/* FCGI_KEEP_CONN */
	int			 c_up_ready;	/* connected */
	int			 c_answered;	/* we answered; close after flush */
	int			 c_front_paused;
	int			 c_up_paused;
	unsigned long		 c_requests;
};

static unsigned long	conn_ids;

static void	conn_close(struct conn *, const char *);
static void	front_read(struct bufferevent *, void *);
static void	front_write(struct bufferevent *, void *);
static void	front_event(struct bufferevent *, short, void *);
static void	up_read(struct bufferevent *, void *);
static void	up_write(struct bufferevent *, void *);
static void	up_event(struct bufferevent *, short, void *);
static int	item(struct conn *, const struct fcgi_item *);
static int	params_done(struct conn *);
static int	up_open(struct conn *);
static int	answer(struct conn *, const char *, const char *);
static void	set_front_timeout(struct conn *, long);
static void	log_trail(struct conn *, const struct norm_trail *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	arm_params_timer(struct conn *);
static int	rate_ok(void);

static void
set_front_timeout(struct conn *c, long ms)
{
	struct timeval	tv;

	if (ms <= 0) {
		bufferevent_set_timeouts(c->c_front, NULL, NULL);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	bufferevent_set_timeouts(c->c_front, &tv, NULL);
}

/*
 * SPEC §3.2: all params within params_timeout_ms of the request's start.
 * A one-shot timer, not a read timeout: a client trickling one byte a
 * minute must not hold the connection forever.
 */
static void
arm_params_timer(struct conn *c)
{
	struct timeval	tv;

	tv.tv_sec = c->c_app->a_params_timeout_ms / 1000;
	tv.tv_usec = (c->c_app->a_params_timeout_ms % 1000) * 1000;
	evtimer_add(c->c_timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	conn_close(c, "params timeout");
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
	c->c_front = bufferevent_socket_new(l->l_srv->s_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->c_front == NULL) {
		evutil_closesocket(fd);
		conn_close(c, "out of memory");
		return;
	}
	bufferevent_setcb(c->c_front, front_read, front_write, front_event, c);
	bufferevent_setwatermark(c->c_front, EV_WRITE, WM_LOW, 0);
	bufferevent_set_max_single_read(c->c_front, MAX_IO);
	bufferevent_set_max_single_write(c->c_front, MAX_IO);
	if ((c->c_timer = evtimer_new(l->l_srv->s_base, timer_cb, c)) ==
	    NULL) {
		conn_close(c, "out of memory");
		return;
	}
	arm_params_timer(c);
	bufferevent_enable(c->c_front, EV_READ | EV_WRITE);
	log_debug(c->c_app->a_name, "accept conn=%lu peer=%s", c->c_id,
	    c->c_peer);
}

static void
conn_close(struct conn *c, const char *reason)
{
	struct listener	*l = c->c_l;

	if (reason != NULL)
		log_info(c->c_app->a_name, "close conn=%lu peer=%s "
		    "requests=%lu reason=\"%s\"", c->c_id, c->c_peer,
		    c->c_requests, reason);
	else
		log_debug(c->c_app->a_name, "close conn=%lu peer=%s "
		    "requests=%lu", c->c_id, c->c_peer, c->c_requests);
	if (c->c_front != NULL)
		bufferevent_free(c->c_front);
	if (c->c_up != NULL)
		bufferevent_free(c->c_up);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	params_free(c->c_params);
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

static void
log_trail(struct conn *c, const struct norm_trail *t)
{
	const char	*p, *nl;

	if (t->t_len == 0)
		return;
	if (log_level_cur >= LOG_LVL_DEBUG || ((t->t_flags & ~NORM_W_UNTRUSTED) &&
	    rate_ok()) || ((t->t_flags & NORM_W_UNTRUSTED) && rate_ok())) {
		for (p = t->t_buf; *p; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL)
				break;
			log_msg(strncmp(p, "warn: ", 6) == 0 ?
			    ((t->t_flags & ~NORM_W_UNTRUSTED) ? LOG_LVL_WARN :
			    LOG_LVL_INFO) : LOG_LVL_DEBUG, c->c_app->a_name,
			    "conn=%lu peer=%s policy: %.*s", c->c_id, c->c_peer,
			    (int)(nl - p), p);
		}
	}
}

/*
 * The daemon answers by itself (400, 403, 431, 502): STDOUT, END_REQUEST,
 * then close once written.  Returns -1: the caller stops processing.
 */
static int
answer(struct conn *c, const char *status, const char *why)
{
	uint8_t	buf[512];
	char	msg[256];
	size_t	n;
	int	len;

	len = snprintf(msg, sizeof(msg), "Status: %s\r\nContent-Type: "
	    "text/plain\r\n\r\n%s\n", status, status);
	n = fcgi_enc_response(c->c_reqid ? c->c_reqid : 1, msg, (size_t)len,
	    buf, sizeof(buf));
	log_info(c->c_app->a_name, "answer conn=%lu peer=%s status=\"%s\" "
	    "reason=\"%s\"", c->c_id, c->c_peer, status, why);
	if (c->c_up != NULL) {
		bufferevent_free(c->c_up);
		c->c_up = NULL;
	}
	c->c_answered = 1;
	bufferevent_disable(c->c_front, EV_READ);
	set_front_timeout(c, 0);
	evbuffer_drain(bufferevent_get_input(c->c_front), (size_t)-1);
	bufferevent_write(c->c_front, buf, n);
	return (-1);
}

static void
front_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off, used;
	char			 why[160];

	while (!c->c_answered && evbuffer_peek(in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		for (off = 0;;) {
			st = fcgi_dec_next(&c->c_fdec, (uint8_t *)v.iov_base +
			    off, v.iov_len - off, &used, &it);
			off += used;
			if (st == FCGI_DEC_MORE)
				break;
			if (st != FCGI_DEC_OK) {
				snprintf(why, sizeof(why), "%s (type %s, "
				    "version %u)", fcgi_strerror(st),
				    fcgi_type_name(c->c_fdec.d_rec.r_type),
				    c->c_fdec.d_rec.r_version);
				conn_close(c, why);
				return;
			}
			if (item(c, &it) < 0) {
				if (c->c_answered)
					return;
				return;		/* closed */
			}
		}
		evbuffer_drain(in, off);
	}
}

/* One decoded item; -1 when the conn was closed or answered. */
static int
item(struct conn *c, const struct fcgi_item *it)
{
	uint8_t		 h[FCGI_HEADER_LEN];
	unsigned	 type = it->i_rec.r_type;
	size_t		 cap;

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
		if (c->c_up == NULL && up_open(c) < 0)
			return (-1);
		fcgi_enc_header(h, type, it->i_rec.r_id, it->i_rec.r_clen, 0);
		bufferevent_write(c->c_up, h, sizeof(h));
		return (0);
	case FCGI_ITEM_CONTENT:
		if (type == FCGI_PARAMS) {
			if (fcgi_nv_feed(&c->c_nv, c->c_params, it->i_data,
			    it->i_len) != FCGI_DEC_MORE)
				return (answer(c, "431 Request Header Fields "
				    "Too Large", "params over max_params_bytes"));
			return (0);
		}
		bufferevent_write(c->c_up, it->i_data, it->i_len);
		if (evbuffer_get_length(bufferevent_get_output(c->c_up)) >
		    WM_HIGH && !c->c_front_paused) {
			/* Backpressure: php-fpm reads slower than nginx sends. */
			c->c_front_paused = 1;
			bufferevent_disable(c->c_front, EV_READ);
		}
		return (0);
	case FCGI_ITEM_END:
		break;
	}
	if (type == FCGI_BEGIN_REQUEST) {
		c->c_reqid = c->c_fdec.d_id;
		c->c_keep = (c->c_fdec.d_flags & FCGI_KEEP_CONN) != 0;
		/*
		 * The request's bytes plus room for what the policy writes
		 * (joined headers, REALIP_*, prefixes).  Freed once the params
		 * are sent, so an idle kept-alive connection holds no arena.
		 */
		cap = (size_t)c->c_app->a_max_params_bytes * 3 / 2 + 16384;
		if (c->c_params == NULL &&
		    (c->c_params = params_new(cap)) == NULL) {
			conn_close(c, "out of memory");
			return (-1);
		}
		params_reset(c->c_params);
		fcgi_nv_init(&c->c_nv, (size_t)c->c_app->a_max_params_bytes);
		set_front_timeout(c, 0);
		arm_params_timer(c);
	} else if (type == FCGI_PARAMS && it->i_rec.r_clen == 0) {
		return (params_done(c));
	} else if (type == FCGI_STDIN && it->i_rec.r_clen == 0) {
		/* The whole request is in; php-fpm may take its time. */
		set_front_timeout(c, 0);
	}
	return (0);
}

/* The empty PARAMS record: run the policy and send the request on. */
static int
params_done(struct conn *c)
{
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			 trail[TRAIL_DEBUG];
	struct evbuffer_iovec	 iov;
	uint8_t			 begin[16];
	size_t			 need;

	if (fcgi_nv_finish(&c->c_nv) != FCGI_DEC_OK) {
		conn_close(c, fcgi_strerror(FCGI_DEC_ERR_PAIR));
		return (-1);
	}
	c->c_requests++;
	norm_trail_init(&t, trail, log_level_cur >= LOG_LVL_DEBUG ?
	    TRAIL_DEBUG : TRAIL_QUIET, log_level_cur >= LOG_LVL_DEBUG);
	v = norm_run(&c->c_app->a_policy, c->c_params, &t);
	log_trail(c, &t);
	switch (v) {
	case NORM_OK:
		break;
	case NORM_BAD_REQUEST:
		return (answer(c, "400 Bad Request", "bad param name or value"));
	case NORM_FORBIDDEN:
		return (answer(c, "403 Forbidden", "param in reject_params"));
	case NORM_FULL:
		return (answer(c, "431 Request Header Fields Too Large",
		    "params too large after rewrite"));
	}
	if (fcgi_enc_params(c->c_params, c->c_reqid, NULL, 0, &need) !=
	    FCGI_DEC_OK)
		return (answer(c, "431 Request Header Fields Too Large",
		    "one param larger than a FastCGI record"));
	if (c->c_up == NULL && up_open(c) < 0)
		return (-1);
	fcgi_enc_begin(c->c_reqid, c->c_fdec.d_role, c->c_keep ?
	    FCGI_KEEP_CONN : 0, begin);
	bufferevent_write(c->c_up, begin, sizeof(begin));
	/* Encode straight into the upstream buffer: no extra copy. */
	if (evbuffer_reserve_space(bufferevent_get_output(c->c_up),
	    (ev_ssize_t)need, &iov, 1) != 1 || iov.iov_len < need) {
		conn_close(c, "out of memory");
		return (-1);
	}
	fcgi_enc_params(c->c_params, c->c_reqid, iov.iov_base, need, &need);
	iov.iov_len = need;
	evbuffer_commit_space(bufferevent_get_output(c->c_up), &iov, 1);
	evtimer_del(c->c_timer);
	params_free(c->c_params);
	c->c_params = NULL;
	/* The body may stall no longer than the idle timeout. */
	set_front_timeout(c, c->c_app->a_idle_timeout_ms);
	return (0);
}

static int
up_open(struct conn *c)
{
	const struct cfg_addr	*ua = &c->c_app->a_upstream_addr;
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	int			 len, fd = -1;

	len = srv_sockaddr(ua, &ss);
	fcgi_dec_init(&c->c_udec, FCGI_SIDE_APP);
	c->c_up_ready = 0;
	/*
	 * A unix socket connects at once or not at all (EAGAIN: php-fpm's
	 * backlog is full, a 502 as nginx gives), so connect it ourselves and
	 * skip the writable-wait and getsockopt of a deferred connect.
	 */
	if (ua->ca_kind == CFG_ADDR_UNIX) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss,
		    (socklen_t)len) < 0) {
			log_warn(c->c_app->a_name, "upstream %s: %s",
			    ua->ca_text, strerror(errno));
			if (fd >= 0)
				close(fd);
			return (answer(c, "502 Bad Gateway",
			    "upstream unreachable"));
		}
		c->c_up_ready = 1;
	}
	c->c_up = bufferevent_socket_new(c->c_l->l_srv->s_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->c_up == NULL) {
		if (fd >= 0)
			close(fd);
		return (answer(c, "502 Bad Gateway", "out of memory"));
	}
	bufferevent_setcb(c->c_up, up_read, up_write, up_event, c);
	bufferevent_setwatermark(c->c_up, EV_WRITE, WM_LOW, 0);
	bufferevent_set_max_single_read(c->c_up, MAX_IO);
	bufferevent_set_max_single_write(c->c_up, MAX_IO);
	bufferevent_enable(c->c_up, EV_READ | EV_WRITE);
	if (c->c_up_ready)
		return (0);
	tv.tv_sec = c->c_app->a_connect_timeout_ms / 1000;
	tv.tv_usec = (c->c_app->a_connect_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->c_up, NULL, &tv);
	if (bufferevent_socket_connect(c->c_up, (struct sockaddr *)&ss,
	    len) < 0) {
		log_warn(c->c_app->a_name, "upstream %s: %s", ua->ca_text,
		    strerror(errno));
		return (answer(c, "502 Bad Gateway", "upstream unreachable"));
	}
	return (0);
}

static void
up_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->c_up_ready = 1;
		bufferevent_set_timeouts(c->c_up, NULL, NULL);
		return;
	}
	if (!c->c_up_ready) {
		log_warn(c->c_app->a_name, "upstream %s: %s",
		    c->c_app->a_upstream_addr.ca_text,
		    (what & BEV_EVENT_TIMEOUT) ? "connect timeout" :
		    evutil_socket_error_to_string(err));
		answer(c, "502 Bad Gateway", "upstream unreachable");
		return;
	}
	/* php-fpm closed.  Between requests that is normal. */
	bufferevent_free(c->c_up);
	c->c_up = NULL;
	if (c->c_fdec.d_phase == FCGI_PHASE_IDLE && !c->c_answered)
		return;
	log_info(c->c_app->a_name, "conn=%lu upstream closed mid-request",
	    c->c_id);
	c->c_answered = 1;	/* flush what came, then close */
	bufferevent_disable(c->c_front, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->c_front)) == 0)
		conn_close(c, "upstream closed early");
}

/* Relay php-fpm's bytes unchanged; watch the records for END_REQUEST. */
static void
up_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(c->c_front);
	struct evbuffer_iovec	 v;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off, used;
	int			 ended;

	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		ended = 0;
		for (off = 0;;) {
			st = fcgi_dec_next(&c->c_udec, (uint8_t *)v.iov_base +
			    off, v.iov_len - off, &used, &it);
			off += used;
			if (st == FCGI_DEC_MORE)
				break;
			if (st != FCGI_DEC_OK) {
				log_warn(c->c_app->a_name, "conn=%lu upstream "
				    "sent bad FastCGI: %s", c->c_id,
				    fcgi_strerror(st));
				conn_close(c, "bad FastCGI from upstream");
				return;
			}
			if (it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_END_REQUEST) {
				ended = 1;
				break;
			}
		}
		evbuffer_remove_buffer(in, out, off);
		if (ended) {
			if (!c->c_keep) {
				/* Without KEEP_CONN the app side closes. */
				c->c_answered = 1;
				bufferevent_disable(c->c_front, EV_READ);
				bufferevent_free(c->c_up);
				c->c_up = NULL;
				return;
			}
			fcgi_dec_request_done(&c->c_fdec);
			set_front_timeout(c, c->c_app->a_idle_timeout_ms);
			if (c->c_front_paused) {
				c->c_front_paused = 0;
				bufferevent_enable(c->c_front, EV_READ);
			}
			front_read(c->c_front, c);
			return;
		}
	}
	if (evbuffer_get_length(out) > WM_HIGH && c->c_up != NULL) {
		/* Backpressure: nginx reads slower than php-fpm writes. */
		c->c_up_paused = 1;
		bufferevent_disable(c->c_up, EV_READ);
	}
}

static void
up_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (c->c_front_paused && !c->c_answered) {
		c->c_front_paused = 0;
		bufferevent_enable(c->c_front, EV_READ);
		front_read(c->c_front, c);
	}
}

static void
front_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    c->c_answered) {
		conn_close(c, NULL);
		return;
	}
	if (c->c_up_paused && c->c_up != NULL) {
		c->c_up_paused = 0;
		bufferevent_enable(c->c_up, EV_READ);
		up_read(c->c_up, c);
	}
}

static void
front_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, "idle timeout");
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->c_fdec.d_phase == FCGI_PHASE_IDLE &&
	    c->c_fdec.d_hlen == 0) {
		conn_close(c, NULL);	/* a clean close between requests */
		return;
	}
	/* SPEC §5.4: the front went away; only closing stops php-fpm. */
	conn_close(c, (what & BEV_EVENT_EOF) ? "front closed mid-request" :
	    "front connection error");
}
