/*
 * The front connection, protocol-blind (SPEC §5): accept, socket I/O and
 * back-pressure, timers, the PROXY protocol header, the daemon's own
 * answers, lingering close and close; and the other end of upstream.c's
 * callbacks.  What the bytes mean is the protocol's (conn_fcgi.c,
 * conn_scgi.c), what happens to a request's params is request.c's.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn.h"
#include "daemon/conn_int.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/status.h"

#define PP_TIMEOUT_MS	5000	/* SPEC §5.3 */
/*
 * Lingering close (nginx's lingering_close): after our last byte, a front
 * that may still be writing (Apache sends its empty STDIN after php-fpm
 * already answered) is read and discarded for at most this long and this
 * much, so its late write neither fails nor resets our answer.
 */
#define LINGER_MS	2000
#define LINGER_BYTES	(64 * 1024)
/*
 * A front without keep-alive that sent its whole request has nothing more
 * to say until our answer: its socket is not watched (side_quiet) unless
 * php-fpm takes longer than this, when it is watched again so that a web
 * server giving up is noticed (SPEC §5.5: its php-fpm connection closed).
 * A fast request then costs no epoll_ctl at all: the read event added at
 * accept and removed in the same loop pass never reaches the kernel.  The
 * price: a web server that gives up within WATCH_MS is noticed only when
 * the answer is written (php-fpm has done the work by then anyway; it
 * stops a script only when its output fails).
 */
#define WATCH_MS	10

static unsigned long	conn_ids;

/*
 * Freed children of multiplexed connections, kept with their buffers and
 * timer for the next request: a child per request would otherwise cost
 * a 2 KiB calloc, three evbuffers and an event.  One thread, one base.
 */
#define KID_CACHE	64
static struct conn	*kid_cache[KID_CACHE];
static size_t		 kid_ncache;

static struct conn *kid_get(void);
static int	kid_put(struct conn *);

static void	answered(struct conn *);
static void	last_bytes(struct conn *);
static void	front_rcb(evutil_socket_t, short, void *);
static void	front_wcb(evutil_socket_t, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static int	pp_process(struct conn *);
static int	front_input_done(const struct conn *);
static void	quiet_maybe(struct conn *);
static int	watch_end(struct conn *);
static void	linger_start(struct conn *);
static void	linger_read(struct conn *);

void
conn_log(const struct conn *c, int level, const char *what, const char *fmt,
    ...)
{
	char	detail[640];
	va_list	ap;

	if (level > log_level_cur)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_msg(level, c->c_app->a_name, "%s conn=%lu peer=%s%s%s%s", what,
	    c->c_id, c->c_peer, conn_req_tag(c), detail[0] ? " " : "", detail);
}

/* " req=N" for a request of a multiplexed connection, else "". */
const char *
conn_req_tag(const struct conn *c)
{
	static char	buf[16];

	if (!c->c_kid)
		return ("");
	snprintf(buf, sizeof(buf), " req=%u", c->c_reqid);
	return (buf);
}

/* Our last bytes are going out (unless the conn is already closing). */
static void
answered(struct conn *c)
{
	if (c->c_state < CONN_ANSWERED)
		c->c_state = CONN_ANSWERED;
}

/*
 * The request ends here, not at php-fpm's END_REQUEST: its upstream
 * connection is closed (or it leaves the queue) and the front is read no
 * more; what is buffered for the front still goes out.
 */
static void
last_bytes(struct conn *c)
{
	conn_up_let_go(c);
	up_cancel(c->c_pool, &c->c_wait);
	answered(c);
	side_read_on(&c->c_front, 0);
}

/* A quiet front (quiet_maybe) is watched again; 1 if it was quiet. */
static int
watch_end(struct conn *c)
{
	if (!c->c_watching)
		return (0);
	c->c_watching = 0;
	side_quiet(&c->c_front, 0);
	return (1);
}

/*
 * One timer per conn for the front: params_timeout_ms from the start of a
 * request (a one-shot, so a client trickling a byte a minute cannot hold
 * the connection, SPEC §3.2), or idle_timeout_ms of silence.
 */
void
conn_arm_timer(struct conn *c, long ms, int idle)
{
	struct timeval	tv;

	watch_end(c);	/* another use of the timer */
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
	/* The end of a quiet only means: read the front again. */
	if (!watch_end(c)) {
		if (c->c_state == CONN_LINGER)
			conn_close(c, NULL);
		else
			conn_close(c, c->c_timer_idle ? "idle timeout" :
			    c->c_state == CONN_PREAMBLE ? "no PROXY protocol "
			    "header within 5 s" : "params timeout");
	}
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
	c->c_stats = l->l_stats;
	c->c_stats->sa_accepted++;
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
	/*
	 * A protocol is chosen once (STYLE S21); a FastCGI front with the
	 * pool multiplexes (SPEC §5.4).
	 */
	if (c->c_app->a_proto == CFG_PROTO_SCGI)
		c->c_proto = &conn_proto_scgi;
	else
		c->c_proto = &conn_proto_fcgi;
	/* Decided at the first BEGIN_REQUEST (mux_maybe()). */
	c->c_muxable = c->c_proto == &conn_proto_fcgi &&
	    up_pool_capacity(c->c_pool) > 0;
	c->c_state = c->c_app->a_proxy_protocol ? CONN_PREAMBLE :
	    CONN_ACTIVE;
	conn_arm_timer(c, c->c_state == CONN_PREAMBLE ? PP_TIMEOUT_MS :
	    c->c_app->a_params_timeout_ms, 0);
	conn_log(c, LOG_LVL_DEBUG, "accept", "proto=%s", c->c_proto->cp_name);
	/*
	 * A web server sends its request right after connecting: read it
	 * now rather than after a loop pass (one epoll_wait less, and with
	 * the quiet front no epoll_ctl at all).  EAGAIN: the event reads.
	 */
	front_rcb(fd, 0, c);
}

/*
 * A callback on c ends: free it if it closed.  A child busy outside its
 * parent's callbacks (php-fpm answered, a timer) wakes the parent, which
 * writes its answer and reads on; inside them the parent settles anyway.
 */
void
conn_leave(struct conn *c)
{
	if (--c->c_depth > 0)
		return;
	if (c->c_state == CONN_CLOSING)
		conn_free(c);
	else if (c->c_parent != NULL && c->c_parent->c_depth == 0)
		mux_kick(c->c_parent);
}

struct conn *
conn_kid_new(struct conn *p, unsigned id)
{
	struct conn	*k;

	if ((k = kid_get()) == NULL)
		return (NULL);
	k->c_parent = p;
	k->c_kid = 1;
	k->c_upflush = 0;
	k->c_reqid = id;
	k->c_l = p->c_l;
	k->c_app = p->c_app;
	k->c_gen = p->c_gen;
	srv_gen_ref(k->c_gen);
	k->c_id = p->c_id;
	k->c_pool = p->c_pool;
	up_pool_ref(k->c_pool);
	k->c_stats = p->c_stats;
	k->c_wait.w_conn = k;
	k->c_proto = &conn_proto_fcgi;
	k->c_state = CONN_ACTIVE;
	if ((k->c_pp_have = p->c_pp_have) != 0)
		k->c_pp = p->c_pp;
	memcpy(k->c_peer, p->c_peer, sizeof(k->c_peer));	/* + req= */
	fcgi_dec_init(&k->c_fdec, FCGI_SIDE_WEBSERVER);
	if ((k->c_next = p->c_kids) != NULL)
		k->c_next->c_prevp = &k->c_next;
	k->c_prevp = &p->c_kids;
	p->c_kids = k;
	p->c_nkids++;
	if (k->c_timer == NULL)
		k->c_timer = evtimer_new(p->c_l->l_srv->s_base, timer_cb, k);
	if (k->c_wait.w_carry == NULL)
		k->c_wait.w_carry = evbuffer_new();
	if (side_init_virtual(&k->c_front) < 0 || k->c_timer == NULL ||
	    k->c_wait.w_carry == NULL) {
		k->c_complete = 1;	/* the parent is closed by its caller */
		conn_close(k, "out of memory");
		return (NULL);
	}
	conn_arm_timer(k, k->c_app->a_params_timeout_ms, 0);
	return (k);
}

size_t
conn_front_pending(const struct conn *c)
{
	size_t	n = evbuffer_get_length(c->c_front.s_out);

	if (c->c_parent != NULL)
		n += evbuffer_get_length(c->c_parent->c_front.s_out);
	return (n);
}

/*
 * Close the conn: logged now, freed now when no callback runs on it,
 * else when the outermost one leaves (CONN_LEAVE).
 */
void
conn_close(struct conn *c, const char *reason)
{
	if (c->c_state == CONN_CLOSING)
		return;
	c->c_state = CONN_CLOSING;
	if (reason != NULL)
		conn_log(c, LOG_LVL_INFO, "close", "requests=%lu reason=\"%s\"",
		    c->c_requests, reason);
	else
		conn_log(c, LOG_LVL_DEBUG, "close", "requests=%lu",
		    c->c_requests);
	if (c->c_depth == 0)
		conn_free(c);
}

/*
 * SPEC §5.5: a front gone mid-request closes its upstream at once (once
 * seen: a quiet front is read again after WATCH_MS).
 */
void
conn_free(struct conn *c)
{
	struct listener	*l = c->c_l;
	struct conn	*k;

	/* Children first: the parent's buffers are theirs to write to. */
	while ((k = c->c_kids) != NULL) {
		if ((c->c_kids = k->c_next) != NULL)
			c->c_kids->c_prevp = &c->c_kids;
		k->c_next = NULL;
		k->c_prevp = &k->c_next;
		k->c_parent = NULL;
		conn_close(k, NULL);
	}
	if (c->c_kick != NULL)
		event_free(c->c_kick);
	if (c->c_parent != NULL)
		mux_kid_gone(c);
	conn_up_let_go(c);
	if (c->c_kid) {
		/* A child's carry buffer stays with it (kid_put). */
		struct evbuffer *w = c->c_wait.w_carry;

		c->c_wait.w_carry = NULL;
		up_cancel(c->c_pool, &c->c_wait);
		c->c_wait.w_carry = w;
	} else {
		up_cancel(c->c_pool, &c->c_wait);
	}
	up_pool_unref(c->c_pool);
	req_arena_put(c->c_params);
	free(c->c_sbuf);
	srv_gen_unref(c->c_gen);
	if ((*c->c_prevp = c->c_next) != NULL)
		c->c_next->c_prevp = c->c_prevp;
	if (c->c_kid) {
		/* Never counted as a connection. */
		if (kid_put(c))
			return;
		if (c->c_wait.w_carry != NULL)
			evbuffer_free(c->c_wait.w_carry);
		side_free(&c->c_front);
		if (c->c_timer != NULL)
			event_free(c->c_timer);
		free(c);
		return;
	}
	side_free(&c->c_front);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	free(c);
	srv_conn_closed(l);
}

static struct conn *
kid_get(void)
{
	struct conn	*k;
	struct side	 f;
	struct event	*t;
	struct evbuffer	*w;

	if (kid_ncache == 0)
		return (calloc(1, sizeof(struct conn)));
	k = kid_cache[--kid_ncache];
	f = k->c_front;
	t = k->c_timer;
	w = k->c_wait.w_carry;
	memset(k, 0, sizeof(*k));
	k->c_front = f;
	k->c_front.s_reading = 1;
	k->c_timer = t;
	k->c_wait.w_carry = w;
	return (k);
}

/* A child that ended: kept for the next one if there is room (1). */
static int
kid_put(struct conn *k)
{
	if (kid_ncache == KID_CACHE || k->c_timer == NULL ||
	    k->c_wait.w_carry == NULL || k->c_front.s_in == NULL ||
	    k->c_front.s_out == NULL)
		return (0);
	evtimer_del(k->c_timer);
	evbuffer_drain(k->c_front.s_in, evbuffer_get_length(k->c_front.s_in));
	evbuffer_drain(k->c_front.s_out,
	    evbuffer_get_length(k->c_front.s_out));
	evbuffer_drain(k->c_wait.w_carry,
	    evbuffer_get_length(k->c_wait.w_carry));
	kid_cache[kid_ncache++] = k;
	return (1);
}

void
conn_close_all(struct server *s)
{
	while (s->s_conns != NULL)
		conn_close(s->s_conns, "shutting down");
}

/* SPEC §6.1: requests by outcome; status and ping ones apart. */
static void
count_answer(struct conn *c, const char *status)
{
	struct status_app	*st = c->c_stats;

	if (c->c_special) {
		if (strncmp(status, "403", 3) == 0)
			st->sa_status_403++;
		return;
	}
	/* Refused before its params were complete (431): still a request. */
	if (!c->c_counted) {
		c->c_counted = 1;
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

/*
 * The daemon answers by itself (400, 403, 431, 502, 503) in the front's
 * protocol, then closes once written.  Returns -1: the caller stops.
 */
int
conn_answer(struct conn *c, const char *status, const char *why)
{
	char	msg[256];
	int	len;

	/* SPEC §5.5: a full queue says when to come back. */
	len = snprintf(msg, sizeof(msg), "Status: %s\r\n%sContent-Type: "
	    "text/plain\r\n\r\n%s\n", status, strncmp(status, "503", 3) ==
	    0 ? "Retry-After: 1\r\n" : "", status);
	return (conn_respond(c, msg, (size_t)len, status, why));
}

int
conn_respond(struct conn *c, const char *cgi, size_t len, const char *status,
    const char *why)
{
	count_answer(c, status);
	if (why != NULL)
		conn_log(c, LOG_LVL_INFO, "answer", "status=\"%s\" "
		    "reason=\"%s\"", status, why);
	else
		conn_log(c, LOG_LVL_DEBUG, "answer", "status=\"%s\"", status);
	last_bytes(c);
	evtimer_del(c->c_timer);
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	c->c_proto->cp_reply(c, cgi, len);
	c->c_complete = 1;
	conn_flush_front(c);
	return (-1);
}

/* Write to the front; close when an answered conn is fully flushed. */
int
conn_flush_front(struct conn *c)
{
	if (c->c_state == CONN_CLOSING)
		return (-1);
	/* A child's bytes are written by its parent (conn_mux.c). */
	if (side_flush(&c->c_front) < 0) {
		conn_close(c, "front write error");
		return (-1);
	}
	if (c->c_state >= CONN_ANSWERED &&
	    evbuffer_get_length(c->c_front.s_out) == 0) {
		if (front_input_done(c) || c->c_kid)
			conn_close(c, NULL);
		else
			linger_start(c);
		return (-1);
	}
	/* Backpressure: resume php-fpm once nginx has caught up. */
	if (c->c_upc != NULL && !c->c_upc->u_side.s_reading &&
	    conn_front_pending(c) <= WM_LOW) {
		side_read_on(&c->c_upc->u_side, 1);
		if (evbuffer_get_length(c->c_upc->u_side.s_in) > 0)
			return (conn_up_process(c));
	}
	return (0);
}

/* Write to php-fpm; resume the front below the low watermark. */
int
conn_flush_up(struct conn *c)
{
	if (c->c_upc == NULL)
		return (0);
	if (c->c_parent != NULL && c->c_parent->c_decoding) {
		/*
		 * The rest of the request may be in the same read: one
		 * write to php-fpm for all of it (conn_mux.c).
		 */
		c->c_upflush = 1;
		return (0);
	}
	if (up_flush(c->c_upc) < 0)
		return (-1);	/* retried or failed: we were told */
	if (c->c_state == CONN_CLOSING || c->c_upc == NULL)
		return (-1);
	if (!c->c_front.s_reading && c->c_state < CONN_ANSWERED && !c->c_held &&
	    !c->c_wait.w_queued &&
	    evbuffer_get_length(c->c_upc->u_side.s_out) <= WM_LOW) {
		side_read_on(&c->c_front, 1);
		if (evbuffer_get_length(c->c_front.s_in) > 0)
			return (conn_feed(c));
	}
	return (0);
}

static void
front_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	int		 n;

	(void)fd;
	CONN_ENTER(c);
	if (c->c_state == CONN_LINGER) {
		linger_read(c);
		CONN_LEAVE(c);
		return;
	}
	/* ev 0: conn_accept's read, before any event. */
	n = ev == 0 ? side_fill_first(&c->c_front) : side_fill(&c->c_front);
	if (n == -2) {
		CONN_LEAVE(c);
		return;
	}
	if (n <= 0) {
		if (n == 0 && c->c_proto->cp_idle(c) && evbuffer_get_length(
		    c->c_front.s_in) == 0)
			conn_close(c, NULL);	/* a clean close */
		else {
			/* SPEC §5.4: only closing stops php-fpm's work. */
			c->c_stats->sa_front_closed++;
			conn_close(c, n == 0 ? "front closed mid-request" :
			    "front connection error");
		}
		CONN_LEAVE(c);
		return;
	}
	if (c->c_timer_idle && evtimer_pending(c->c_timer, NULL))
		conn_arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	conn_feed(c);
	if (c->c_proto->cp_settle != NULL)
		c->c_proto->cp_settle(c);
	CONN_LEAVE(c);
}

static void
front_wcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	CONN_ENTER(c);
	if (conn_flush_front(c) == 0 && c->c_proto->cp_settle != NULL)
		c->c_proto->cp_settle(c);
	CONN_LEAVE(c);
}

/* Decode what the front sent; -1 when the conn was closed or answered. */
int
conn_feed(struct conn *c)
{
	if (c->c_state == CONN_PREAMBLE && pp_process(c) < 0)
		return (-1);
	if (c->c_state == CONN_PREAMBLE)
		return (0);
	if (c->c_proto->cp_input(c) < 0)
		return (-1);
	quiet_maybe(c);
	return (0);
}

/*
 * One request per connection and all of it read: nothing more comes
 * before our answer (see WATCH_MS).  Keep-alive and multiplexed fronts
 * are always watched: their next request may come at any time.
 */
static void
quiet_maybe(struct conn *c)
{
	if (c->c_kid || c->c_keep || c->c_state != CONN_ACTIVE ||
	    c->c_front.s_quiet || c->c_proto == &conn_proto_fcgi_mux ||
	    !front_input_done(c))
		return;
	conn_arm_timer(c, WATCH_MS, 0);
	side_quiet(&c->c_front, 1);
	c->c_watching = 1;
}

/* Give the upstream connection back, mid-request: it is closed. */
void
conn_up_let_go(struct conn *c)
{
	if (c->c_upc != NULL) {
		up_drop(c->c_upc);
		c->c_upc = NULL;
	}
}

/* END_REQUEST came: the connection goes back, or stays with us. */
void
conn_up_done(struct conn *c)
{
	struct upc	*u = c->c_upc;

	if (up_pool_capacity(c->c_pool) > 0) {
		c->c_upc = NULL;
		up_release(u);
	} else if (c->c_keep) {
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
	if (c->c_state == CONN_ACTIVE && !c->c_held)
		side_read_on(&c->c_front, 1);
	/*
	 * The rest of a queued request (its empty STDIN, say) is decoded
	 * first: the protocol then writes it with the params, once.
	 */
	if (evbuffer_get_length(c->c_front.s_in) > 0 && c->c_front.s_reading)
		conn_feed(c);
	else
		conn_flush_up(c);
	CONN_LEAVE(c);
}

void
conn_up_unbound(struct conn *c)
{
	c->c_upc = NULL;
	side_read_on(&c->c_front, 0);
	/* Between requests (no pool, php-fpm closed): read on. */
	if (c->c_proto->cp_idle(c) && c->c_state == CONN_ACTIVE &&
	    !c->c_held)
		side_read_on(&c->c_front, 1);
}

void
conn_up_input(struct conn *c, struct upc *u)
{
	(void)u;
	CONN_ENTER(c);
	conn_up_process(c);
	CONN_LEAVE(c);
}

void
conn_up_drained(struct conn *c, struct upc *u)
{
	(void)u;
	CONN_ENTER(c);
	conn_flush_up(c);
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
		conn_answer(c, status, why);
	} else {
		conn_log(c, LOG_LVL_INFO, why, "%s", "");
		last_bytes(c);	/* relay what came, then close */
		conn_flush_front(c);
	}
	CONN_LEAVE(c);
}

/*
 * php-fpm's answer: relayed unchanged to a FastCGI front, decoded for an
 * SCGI one (cp_content); END_REQUEST ends the request.  -1 when the
 * conn was closed.
 */
int
conn_up_process(struct conn *c)
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
				conn_log(c, LOG_LVL_WARN, "upstream sent bad "
				    "FastCGI", "error=\"%s\"",
				    fcgi_strerror(st));
				conn_close(c, "bad FastCGI from upstream");
				return (-1);
			}
			if (!c->c_proto->cp_raw &&
			    it.i_kind == FCGI_ITEM_CONTENT)
				c->c_proto->cp_content(c, &it);
			if (it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_END_REQUEST) {
				ended = 1;
				break;
			}
		}
		if (!c->c_proto->cp_raw)
			evbuffer_drain(u->u_side.s_in, off);
		else	/* byte for byte, without a copy */
			evbuffer_remove_buffer(u->u_side.s_in,
			    c->c_front.s_out, off);
		c->c_relayed = 1;
		/* Backpressure: nginx reads slower than php-fpm writes. */
		if (conn_front_pending(c) > WM_HIGH)
			side_read_on(&u->u_side, 0);
	}
	if (ended) {
		c->c_complete = 1;
		c->c_stats->sa_relayed++;
		fcgi_dec_init(&u->u_dec, FCGI_SIDE_APP);
		conn_up_done(c);
		if (!c->c_keep) {
			/* The web server did not ask to keep its side. */
			answered(c);
			side_read_on(&c->c_front, 0);
		} else {
			fcgi_dec_request_done(&c->c_fdec);
			conn_arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
		}
	}
	if (conn_flush_front(c) < 0)
		return (-1);
	if (ended && c->c_keep && (evbuffer_get_length(c->c_front.s_in) > 0 ||
	    c->c_held)) {
		/* nginx may have sent the next request already. */
		side_read_on(&c->c_front, 1);
		return (conn_feed(c));
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
	    c->c_state == CONN_PREAMBLE)
		return (0);
	return (c->c_proto->cp_input_done(c));
}

/*
 * Our answer is out: send FIN, then read and discard what the front
 * still sends, bounded by LINGER_MS and LINGER_BYTES, before closing.
 */
static void
linger_start(struct conn *c)
{
	c->c_state = CONN_LINGER;
	c->c_held = 0;
	if (shutdown(c->c_front.s_fd, SHUT_WR) < 0) {
		conn_close(c, NULL);
		return;
	}
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	side_quiet(&c->c_front, 0);
	side_read_on(&c->c_front, 1);
	conn_arm_timer(c, LINGER_MS, 0);
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

	while (c->c_state == CONN_PREAMBLE && evbuffer_peek(c->c_front.s_in,
	    -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
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
		c->c_state = CONN_ACTIVE;
		c->c_pp_have = !c->c_pp.r_local;
		if (c->c_pp_have) {
			char a[ADDR_STRLEN];

			addr_format(&c->c_pp.r_src, a);
			snprintf(c->c_peer, sizeof(c->c_peer), "%s:%d(proxy)",
			    a, c->c_pp.r_src_port);
		}
		conn_arm_timer(c, c->c_app->a_params_timeout_ms, 0);
	}
	return (0);
}
