/*
 * Front connection state machine: FastCGI in from the web server, the
 * policy on each request's params, FastCGI out to php-fpm, the response
 * relayed back byte for byte (SPEC §5.1, §5.4).
 *
 * I/O is done the way nginx and HAProxy do it rather than through
 * bufferevents: each socket is watched for reading only, and written to
 * at once when there is something to send; EPOLLOUT is armed only after a
 * short write.  On a small request that is half the syscalls of a
 * bufferevent, which always waits for writability before writing.
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
#define READ_MAX	(64 * 1024)	/* per read(2) */
#define TRAIL_DEBUG	8192
#define TRAIL_QUIET	1024
#define PP_TIMEOUT_MS	5000	/* SPEC §5.3 */
#define ST_431		"431 Request Header Fields Too Large"
#define ST_502		"502 Bad Gateway"
#define SCGI_STDIN_MAX	32768	/* body bytes per STDIN record */

/* One socket with its buffers and its two events. */
struct side {
	int		 s_fd;
	struct event	*s_rev;		/* EV_READ|EV_PERSIST */
	struct event	*s_wev;		/* EV_WRITE|EV_PERSIST, after EAGAIN */
	struct evbuffer	*s_in;
	struct evbuffer	*s_out;
	int		 s_reading;	/* s_rev added */
	int		 s_writing;	/* s_wev added */
};

struct conn {
	struct conn		*c_next;	/* server's list */
	struct conn		**c_prevp;
	struct listener		*c_l;
	const struct cfg_app	*c_app;
	struct gen		*c_gen;
	struct side		 c_front;
	struct side		 c_up;		/* s_fd -1: not connected */
	unsigned long		 c_id;
	char			 c_peer[64];
	struct fcgi_dec		 c_fdec;	/* what the web server sends */
	struct fcgi_dec		 c_udec;	/* what php-fpm answers */
	struct fcgi_nv		 c_nv;
	struct params		*c_params;	/* only while reading params */
	struct event		*c_timer;	/* params or idle timeout */
	struct event		*c_ctimer;	/* upstream connect timeout */
	int			 c_timer_idle;	/* c_timer is the idle one */
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
	int			 c_connecting;	/* TCP connect in progress */
	int			 c_answered;	/* close once the front is flushed */
	unsigned long		 c_requests;
};

static unsigned long	conn_ids;

static int	side_init(struct conn *, struct side *, int,
		    event_callback_fn, event_callback_fn);
static void	side_free(struct side *);
static void	side_read_on(struct side *, int);
static int	side_fill(struct side *);
static int	side_flush(struct side *);
static void	conn_close(struct conn *, const char *);
static void	front_rcb(evutil_socket_t, short, void *);
static void	front_wcb(evutil_socket_t, short, void *);
static void	up_rcb(evutil_socket_t, short, void *);
static void	up_wcb(evutil_socket_t, short, void *);
static int	front_process(struct conn *);
static int	up_process(struct conn *);
static int	flush_up(struct conn *);
static int	flush_front(struct conn *);
static int	item(struct conn *, const struct fcgi_item *);
static int	params_done(struct conn *);
static int	send_request(struct conn *);
static int	pp_process(struct conn *);
static int	scgi_front(struct conn *);
static void	log_stderr(struct conn *, const uint8_t *, size_t);
static int	up_open(struct conn *);
static void	up_close(struct conn *);
static int	answer(struct conn *, const char *, const char *);
static void	log_trail(struct conn *, const struct norm_trail *);
static const char *untrusted_count(const struct conn *);
static int	rate_ok(void);
static void	timer_cb(evutil_socket_t, short, void *);
static void	ctimer_cb(evutil_socket_t, short, void *);
static void	arm_timer(struct conn *, long, int);

static int
side_init(struct conn *c, struct side *s, int fd, event_callback_fn rcb,
    event_callback_fn wcb)
{
	struct event_base	*base = c->c_l->l_srv->s_base;

	s->s_fd = fd;
	s->s_rev = event_new(base, fd, EV_READ | EV_PERSIST, rcb, c);
	s->s_wev = event_new(base, fd, EV_WRITE | EV_PERSIST, wcb, c);
	if (s->s_in == NULL)
		s->s_in = evbuffer_new();
	if (s->s_out == NULL)
		s->s_out = evbuffer_new();
	s->s_reading = s->s_writing = 0;
	if (s->s_rev == NULL || s->s_wev == NULL || s->s_in == NULL ||
	    s->s_out == NULL)
		return (-1);
	side_read_on(s, 1);
	return (0);
}

/* Close the socket and drop what it had buffered; the side is reusable. */
static void
side_free(struct side *s)
{
	if (s->s_rev != NULL)
		event_free(s->s_rev);
	if (s->s_wev != NULL)
		event_free(s->s_wev);
	s->s_rev = s->s_wev = NULL;
	if (s->s_fd >= 0)
		close(s->s_fd);
	s->s_fd = -1;
	if (s->s_in != NULL)
		evbuffer_drain(s->s_in, evbuffer_get_length(s->s_in));
	if (s->s_out != NULL)
		evbuffer_drain(s->s_out, evbuffer_get_length(s->s_out));
	s->s_reading = s->s_writing = 0;
}

static void
side_read_on(struct side *s, int on)
{
	if (s->s_fd < 0 || on == s->s_reading)
		return;
	if (on)
		event_add(s->s_rev, NULL);
	else
		event_del(s->s_rev);
	s->s_reading = on;
}

/* One read(2) into s_in: bytes read, 0 on EOF, -1 on error (EAGAIN: -2). */
static int
side_fill(struct side *s)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	if (evbuffer_reserve_space(s->s_in, READ_MAX, &v, 1) < 1)
		return (-1);
	if (v.iov_len > READ_MAX)
		v.iov_len = READ_MAX;
	n = read(s->s_fd, v.iov_base, v.iov_len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR ? -2 : -1);
	v.iov_len = (size_t)n;
	evbuffer_commit_space(s->s_in, &v, 1);
	return ((int)n);
}

/* Write what s_out holds; arm EPOLLOUT on a short write.  -1 on error. */
static int
side_flush(struct side *s)
{
	int	n;

	while (evbuffer_get_length(s->s_out) > 0) {
		n = evbuffer_write(s->s_out, s->s_fd);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return (-1);
	}
	if (evbuffer_get_length(s->s_out) > 0 && !s->s_writing) {
		event_add(s->s_wev, NULL);
		s->s_writing = 1;
	} else if (evbuffer_get_length(s->s_out) == 0 && s->s_writing) {
		event_del(s->s_wev);
		s->s_writing = 0;
	}
	return (0);
}

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
	conn_close(c, c->c_timer_idle ? "idle timeout" : c->c_pp_wait ?
	    "no PROXY protocol header within 5 s" : "params timeout");
}

static void
ctimer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	log_warn(c->c_app->a_name, "upstream %s: connect timeout",
	    c->c_app->a_upstream_addr.ca_text);
	answer(c, ST_502, "upstream connect timeout");
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
	c->c_front.s_fd = c->c_up.s_fd = -1;
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
	c->c_ctimer = evtimer_new(l->l_srv->s_base, ctimer_cb, c);
	/* Both sides' buffers exist for the conn's life: no NULL checks. */
	c->c_up.s_in = evbuffer_new();
	c->c_up.s_out = evbuffer_new();
	if (side_init(c, &c->c_front, fd, front_rcb, front_wcb) < 0 ||
	    c->c_timer == NULL || c->c_ctimer == NULL ||
	    c->c_up.s_in == NULL || c->c_up.s_out == NULL) {
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
	side_free(&c->c_front);
	side_free(&c->c_up);
	if (c->c_front.s_in != NULL)
		evbuffer_free(c->c_front.s_in);
	if (c->c_front.s_out != NULL)
		evbuffer_free(c->c_front.s_out);
	if (c->c_up.s_in != NULL)
		evbuffer_free(c->c_up.s_in);
	if (c->c_up.s_out != NULL)
		evbuffer_free(c->c_up.s_out);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	if (c->c_ctimer != NULL)
		event_free(c->c_ctimer);
	params_free(c->c_params);
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

	len = snprintf(msg, sizeof(msg), "Status: %s\r\nContent-Type: "
	    "text/plain\r\n\r\n%s\n", status, status);
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
	up_close(c);
	c->c_answered = 1;
	side_read_on(&c->c_front, 0);
	evtimer_del(c->c_timer);
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	evbuffer_add(c->c_front.s_out, buf, n);
	flush_front(c);
	return (-1);
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
		conn_close(c, NULL);
		return (-1);
	}
	/* Backpressure: resume php-fpm once nginx has caught up. */
	if (c->c_up.s_fd >= 0 && !c->c_up.s_reading &&
	    evbuffer_get_length(c->c_front.s_out) <= WM_LOW) {
		side_read_on(&c->c_up, 1);
		if (evbuffer_get_length(c->c_up.s_in) > 0)
			return (up_process(c));
	}
	return (0);
}

static int
flush_up(struct conn *c)
{
	if (c->c_up.s_fd < 0 || c->c_connecting)
		return (0);
	if (side_flush(&c->c_up) < 0) {
		/* We only write with a request in flight: it is lost. */
		log_info(c->c_app->a_name, "conn=%lu upstream write: %s",
		    c->c_id, strerror(errno));
		conn_close(c, "upstream write error");
		return (-1);
	}
	if (!c->c_front.s_reading && !c->c_answered &&
	    evbuffer_get_length(c->c_up.s_out) <= WM_LOW) {
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
	if ((n = side_fill(&c->c_front)) == -2)
		return;
	if (n <= 0) {
		if (n == 0 && c->c_fdec.d_phase == FCGI_PHASE_IDLE &&
		    c->c_fdec.d_hlen == 0 && evbuffer_get_length(
		    c->c_front.s_in) == 0)
			conn_close(c, NULL);	/* a clean close */
		else
			/* SPEC §5.4: only closing stops php-fpm's work. */
			conn_close(c, n == 0 ? "front closed mid-request" :
			    "front connection error");
		return;
	}
	if (c->c_timer_idle && evtimer_pending(c->c_timer, NULL))
		arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	front_process(c);
}

static void
front_wcb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	flush_front(arg);
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

	if (c->c_pp_wait && pp_process(c) < 0)
		return (-1);
	if (c->c_pp_wait)
		return (0);
	if (c->c_scgi)
		return (scgi_front(c));
	while (!c->c_answered && c->c_front.s_reading &&
	    evbuffer_peek(c->c_front.s_in, -1, NULL, &v, 1) > 0 &&
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
				return (-1);
			}
			if (item(c, &it) < 0)
				return (-1);
		}
		evbuffer_drain(c->c_front.s_in, off);
		/* Backpressure: php-fpm reads slower than nginx sends. */
		if (evbuffer_get_length(c->c_up.s_out) > WM_HIGH)
			side_read_on(&c->c_front, 0);
	}
	return (flush_up(c));
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
		if (c->c_up.s_fd < 0 && up_open(c) < 0)
			return (-1);
		/* Relayed records lose their padding: it carries nothing. */
		fcgi_enc_header(h, type, it->i_rec.r_id, it->i_rec.r_clen, 0);
		evbuffer_add(c->c_up.s_out, h, sizeof(h));
		return (0);
	case FCGI_ITEM_CONTENT:
		if (type != FCGI_PARAMS) {
			evbuffer_add(c->c_up.s_out, it->i_data, it->i_len);
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
		    (c->c_params = params_new(cap)) == NULL) {
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
	if (c->c_up.s_fd < 0 && up_open(c) < 0)
		return (-1);
	fcgi_enc_begin(c->c_reqid, c->c_role, c->c_keep ?
	    FCGI_KEEP_CONN : 0, begin);
	evbuffer_add(c->c_up.s_out, begin, sizeof(begin));
	/* Encode straight into the upstream buffer: no extra copy. */
	if (evbuffer_reserve_space(c->c_up.s_out, (ev_ssize_t)need, &iov,
	    1) != 1 || iov.iov_len < need) {
		conn_close(c, "out of memory");
		return (-1);
	}
	fcgi_enc_params(c->c_params, c->c_reqid, iov.iov_base, need, &need);
	iov.iov_len = need;
	evbuffer_commit_space(c->c_up.s_out, &iov, 1);
	params_free(c->c_params);
	c->c_params = NULL;
	/* The body may stall no longer than the idle timeout. */
	arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	return (0);
}

static int
up_open(struct conn *c)
{
	const struct cfg_addr	*ua = &c->c_app->a_upstream_addr;
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	int			 len, fd;

	len = srv_sockaddr(ua, &ss);
	fcgi_dec_init(&c->c_udec, FCGI_SIDE_APP);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	c->c_connecting = 0;
	/*
	 * A unix socket connects at once or not at all (EAGAIN: php-fpm's
	 * backlog is full, a 502 as nginx gives); TCP may be in progress.
	 */
	if (fd < 0 || (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) <
	    0 && !(errno == EINPROGRESS && ua->ca_kind == CFG_ADDR_TCP))) {
		log_warn(c->c_app->a_name, "upstream %s: %s", ua->ca_text,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return (answer(c, ST_502, "upstream unreachable"));
	}
	if (side_init(c, &c->c_up, fd, up_rcb, up_wcb) < 0) {
		if (c->c_up.s_fd < 0)
			close(fd);
		return (answer(c, ST_502, "out of memory"));
	}
	if (errno == EINPROGRESS && ua->ca_kind == CFG_ADDR_TCP) {
		c->c_connecting = 1;
		event_add(c->c_up.s_wev, NULL);
		c->c_up.s_writing = 1;
		tv.tv_sec = c->c_app->a_connect_timeout_ms / 1000;
		tv.tv_usec = (c->c_app->a_connect_timeout_ms % 1000) * 1000;
		evtimer_add(c->c_ctimer, &tv);
	}
	return (0);
}

static void
up_close(struct conn *c)
{
	side_free(&c->c_up);
	evtimer_del(c->c_ctimer);
	c->c_connecting = 0;
}

static void
up_wcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)ev;
	if (c->c_connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			log_warn(c->c_app->a_name, "upstream %s: %s",
			    c->c_app->a_upstream_addr.ca_text, strerror(err));
			answer(c, ST_502, "upstream unreachable");
			return;
		}
		c->c_connecting = 0;
		evtimer_del(c->c_ctimer);
	}
	flush_up(c);
}

static void
up_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	int		 n;

	(void)fd;
	(void)ev;
	if ((n = side_fill(&c->c_up)) == -2)
		return;
	if (n > 0) {
		up_process(c);
		return;
	}
	/* php-fpm closed.  Between requests that is normal. */
	up_close(c);
	if (!c->c_scgi && c->c_fdec.d_phase == FCGI_PHASE_IDLE &&
	    !c->c_answered)
		return;
	log_info(c->c_app->a_name, "conn=%lu upstream closed mid-request",
	    c->c_id);
	c->c_answered = 1;	/* relay what came, then close */
	side_read_on(&c->c_front, 0);
	flush_front(c);
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

	while (!ended && c->c_up.s_reading &&
	    evbuffer_peek(c->c_up.s_in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
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
			evbuffer_drain(c->c_up.s_in, off);
		else	/* FastCGI: byte for byte, without a copy */
			evbuffer_remove_buffer(c->c_up.s_in, c->c_front.s_out,
			    off);
		/* Backpressure: nginx reads slower than php-fpm writes. */
		if (evbuffer_get_length(c->c_front.s_out) > WM_HIGH)
			side_read_on(&c->c_up, 0);
	}
	if (ended) {
		if (!c->c_keep || c->c_scgi) {
			/* Without KEEP_CONN the app side closes. */
			c->c_answered = 1;
			side_read_on(&c->c_front, 0);
			up_close(c);
		} else {
			fcgi_dec_request_done(&c->c_fdec);
			arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
		}
	}
	if (flush_front(c) < 0)
		return (-1);
	if (ended && c->c_keep && evbuffer_get_length(c->c_front.s_in) > 0) {
		/* nginx may have sent the next request already. */
		side_read_on(&c->c_front, 1);
		return (front_process(c));
	}
	return (0);
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
			c->c_params = params_new(cap * 3 / 2 + 16384);
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
		if (send_request(c) < 0)
			return (-1);
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
		evbuffer_add(c->c_up.s_out, h, sizeof(h));
		if (n == 0) {
			c->c_scgi_state = 2;
			c->c_fdec.d_phase = FCGI_PHASE_DONE;
			evtimer_del(c->c_timer);
			break;
		}
		evbuffer_remove_buffer(c->c_front.s_in, c->c_up.s_out, n);
		c->c_body_left -= n;
		if (evbuffer_get_length(c->c_up.s_out) > WM_HIGH)
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

