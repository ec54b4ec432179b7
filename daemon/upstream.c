/*
 * The php-fpm side: connections, pool, queue, servers, retry.  See
 * upstream.h for the model and SPEC §5.4 for the rules.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/status.h"
#include "daemon/upstream.h"

/*
 * Request bytes kept for a retry on a reused connection.  A typical
 * request (BEGIN, params, empty STDIN) is a few KiB; a larger body is
 * never replayed, so such a request is not retried.
 */
#define REPLAY_MAX	(64 * 1024)
#define WARN_EVERY_MS	60000

struct up_pool {
	struct event_base	*p_base;
	struct gen		*p_gen;
	const struct cfg_app	*p_app;
	struct up_server	*p_srv;
	struct bal_server	*p_bal;		/* p_srv[i].us_bal */
	size_t			 p_nsrv;
	size_t			 p_max;		/* per server; 0: no pool */
	int			 p_keep;	/* FCGI_KEEP_CONN upstream */
	struct up_wait		*p_qhead;
	struct up_wait		**p_qtail;
	size_t			 p_qlen;
	struct event		*p_dispatch;
	int			 p_refs;
	int			 p_retired;
	uint64_t		 p_warned;	/* last pool-size warning */
	struct up_stats		 p_st;
};

enum retry_kind { RETRY_CONNECT, RETRY_REUSE };

static uint64_t	now_ms(void);
static struct up_server *choose(struct up_pool *);
static struct upc *conn_new(struct up_pool *, struct up_server *, int *);
static enum up_got take(struct up_pool *, struct up_wait *, struct upc **);
static void	bind_to(struct upc *, struct up_wait *);
static void	destroy(struct upc *);
static void	idle_unlink(struct upc *);
static void	connect_failed(struct upc *, int);
static void	retry(struct upc *, enum retry_kind, const char *);
static void	replay_on(struct upc *);
static void	replay_off(struct upc *);
static int	replay_room(struct upc *, size_t);
static void	enqueue(struct up_pool *, struct up_wait *);
static void	dequeue(struct up_pool *, struct up_wait *);
static void	dispatch_cb(evutil_socket_t, short, void *);
static void	qtimeout_cb(evutil_socket_t, short, void *);
static void	up_rcb(evutil_socket_t, short, void *);
static void	up_wcb(evutil_socket_t, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	slow_cb(evutil_socket_t, short, void *);
static void	set_timer(struct event *, long);

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
set_timer(struct event *ev, long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

struct up_pool *
up_pool_new(struct event_base *base, struct gen *g, const struct cfg_app *a)
{
	struct up_pool	*p;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->p_srv = calloc(a->a_nupstreams, sizeof(*p->p_srv));
	p->p_bal = calloc(a->a_nupstreams, sizeof(*p->p_bal));
	p->p_dispatch = event_new(base, -1, 0, dispatch_cb, p);
	if (p->p_srv == NULL || p->p_bal == NULL || p->p_dispatch == NULL) {
		free(p->p_srv);
		free(p->p_bal);
		if (p->p_dispatch != NULL)
			event_free(p->p_dispatch);
		free(p);
		return (NULL);
	}
	p->p_base = base;
	p->p_gen = g;
	srv_gen_ref(g);
	p->p_app = a;
	p->p_nsrv = a->a_nupstreams;
	p->p_max = (size_t)a->a_upstream_max_conns;
	/* SPEC §3.2: kept connections only with a bounded pool. */
	p->p_keep = p->p_max > 0 && a->a_upstream_keepalive;
	p->p_qtail = &p->p_qhead;
	p->p_refs = 1;
	for (i = 0; i < p->p_nsrv; i++) {
		p->p_srv[i].us_text = a->a_upstreams[i].ca_text;
		p->p_srv[i].us_bal = &p->p_bal[i];
		p->p_srv[i].us_sslen = srv_sockaddr(&a->a_upstreams[i],
		    &p->p_srv[i].us_ss);
		p->p_srv[i].us_tcp = a->a_upstreams[i].ca_kind == CFG_ADDR_TCP;
	}
	return (p);
}

void
up_pool_ref(struct up_pool *p)
{
	p->p_refs++;
}

void
up_pool_unref(struct up_pool *p)
{
	if (--p->p_refs > 0)
		return;
	event_free(p->p_dispatch);
	free(p->p_srv);
	free(p->p_bal);
	srv_gen_unref(p->p_gen);
	free(p);
}

void
up_pool_retire(struct up_pool *p)
{
	size_t	i;

	/* The owner's reference keeps p alive through the loop. */
	p->p_retired = 1;
	for (i = 0; i < p->p_nsrv; i++)
		while (p->p_srv[i].us_idle != NULL)
			destroy(p->p_srv[i].us_idle);
	up_pool_unref(p);
}

size_t
up_pool_capacity(const struct up_pool *p)
{
	return (p->p_max * p->p_nsrv);
}

int
up_pool_keepalive(const struct up_pool *p)
{
	return (p->p_keep);
}

void
up_pool_inherit(struct up_pool *p, const struct up_pool *old)
{
	size_t	i, j;

	p->p_st = old->p_st;
	for (i = 0; i < p->p_nsrv; i++)
		for (j = 0; j < old->p_nsrv; j++)
			if (strcmp(p->p_srv[i].us_text,
			    old->p_srv[j].us_text) == 0) {
				p->p_srv[i].us_connects =
				    old->p_srv[j].us_connects;
				p->p_srv[i].us_fails = old->p_srv[j].us_fails;
			}
}

void
up_status(const struct up_pool *p, struct status_live *sl,
    struct status_upstream *su, size_t cap)
{
	uint64_t	now = now_ms();
	size_t		i;

	sl->sl_queue_len = p->p_qlen;
	sl->sl_queue_max = p->p_st.st_queue_max;
	sl->sl_queue_waits = p->p_st.st_queued;
	sl->sl_queue_wait_ms = p->p_st.st_queue_ms;
	sl->sl_max = p->p_max * p->p_nsrv;
	sl->sl_connects = p->p_st.st_connects;
	sl->sl_connect_fails = p->p_st.st_connect_fails;
	sl->sl_retries = p->p_st.st_retries;
	sl->sl_busy = sl->sl_idle = 0;
	for (i = 0; i < p->p_nsrv; i++) {
		sl->sl_busy += p->p_bal[i].b_busy;
		sl->sl_idle += p->p_bal[i].b_idle;
		if (i >= cap)
			continue;
		su[i].su_addr = p->p_srv[i].us_text;
		su[i].su_up = p->p_bal[i].b_down_until <= now;
		su[i].su_busy = p->p_bal[i].b_busy;
		su[i].su_idle = p->p_bal[i].b_idle;
		su[i].su_connects = p->p_srv[i].us_connects;
		su[i].su_connect_fails = p->p_srv[i].us_fails;
	}
	sl->sl_up = su;
	sl->sl_nup = p->p_nsrv < cap ? p->p_nsrv : cap;
}

int
up_ping(const struct up_pool *p, const char **why)
{
	const struct up_server	*s;
	struct pollfd		 pfd;
	socklen_t		 len;
	size_t			 i;
	int			 fd, err = 0, ok = 0;

	for (i = 0; i < p->p_nsrv; i++)
		if (p->p_bal[i].b_idle > 0)
			return (1);
	for (i = 0; i < p->p_nsrv && !ok; i++) {
		s = &p->p_srv[i];
		fd = socket(s->us_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&s->us_ss,
		    (socklen_t)s->us_sslen) == 0) {
			ok = 1;
		} else if (errno == EINPROGRESS && s->us_tcp) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			len = sizeof(err);
			err = ETIMEDOUT;
			if (poll(&pfd, 1, 100) == 1 && getsockopt(fd,
			    SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				ok = 1;
		} else {
			err = errno;
		}
		close(fd);
	}
	*why = ok ? "" : strerror(err);
	return (ok);
}

/* SPEC §5.4, the rule itself in proto/balance.c. */
static struct up_server *
choose(struct up_pool *p)
{
	int	i;

	i = bal_choose(p->p_bal, p->p_nsrv, p->p_max,
	    p->p_app->a_balance == CFG_BALANCE_FIRST ? BAL_FIRST :
	    BAL_LEAST_CONN, now_ms());
	return (i < 0 ? NULL : &p->p_srv[i]);
}

/* Open a connection to s.  NULL with *err set when connect failed. */
static struct upc *
conn_new(struct up_pool *p, struct up_server *s, int *err)
{
	struct upc	*u;
	int		 fd, rc;

	*err = 0;
	s->us_connects++;
	p->p_st.st_connects++;
	fd = socket(s->us_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		return (NULL);
	}
	rc = connect(fd, (struct sockaddr *)&s->us_ss, (socklen_t)s->us_sslen);
	/*
	 * A unix socket connects at once or not at all (EAGAIN: php-fpm's
	 * backlog is full); TCP may be in progress.
	 */
	if (rc < 0 && !(errno == EINPROGRESS && s->us_tcp)) {
		*err = errno;
		close(fd);
		return (NULL);
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		*err = ENOMEM;
		close(fd);
		return (NULL);
	}
	u->u_pool = p;
	u->u_srv = s;
	u->u_side.s_fd = -1;
	fcgi_dec_init(&u->u_dec, FCGI_SIDE_APP);
	u->u_timer = evtimer_new(p->p_base, timer_cb, u);
	u->u_slow = evtimer_new(p->p_base, slow_cb, u);
	u->u_replay = evbuffer_new();
	if (u->u_timer == NULL || u->u_slow == NULL || u->u_replay == NULL ||
	    side_init(p->p_base, &u->u_side, fd, up_rcb, up_wcb, u) < 0) {
		if (u->u_side.s_fd < 0)
			close(fd);
		side_free(&u->u_side);
		if (u->u_timer != NULL)
			event_free(u->u_timer);
		if (u->u_slow != NULL)
			event_free(u->u_slow);
		if (u->u_replay != NULL)
			evbuffer_free(u->u_replay);
		free(u);
		*err = ENOMEM;
		return (NULL);
	}
	up_pool_ref(p);
	s->us_bal->b_busy++;
	if (rc < 0) {
		u->u_connecting = 1;
		event_add(u->u_side.s_wev, NULL);
		u->u_side.s_writing = 1;
		set_timer(u->u_timer, p->p_app->a_connect_timeout_ms);
	}
	return (u);
}

/*
 * A connection for w: an idle one (LIFO) or a new one (UP_BOUND, *out;
 * not yet bound), none free (UP_QUEUED: w is not queued yet), or connect
 * failed twice (UP_FAILED).  A server whose connect fails is marked down
 * and the request tried once more, on another if there is one (§5.4).
 */
static enum up_got
take(struct up_pool *p, struct up_wait *w, struct upc **out)
{
	struct up_server	*s;
	struct upc		*u;
	int			 err;

	for (;;) {
		if ((s = choose(p)) == NULL)
			return (UP_QUEUED);
		/*
		 * After a kept connection was found closed, the retry goes
		 * on a fresh one (its idle siblings may be as dead).
		 */
		while (w->w_retried_reuse && s->us_idle != NULL)
			destroy(s->us_idle);
		if ((u = s->us_idle) != NULL) {
			idle_unlink(u);
			s->us_bal->b_busy++;
			*out = u;
			return (UP_BOUND);
		}
		if ((u = conn_new(p, s, &err)) != NULL) {
			*out = u;
			return (UP_BOUND);
		}
		s->us_fails++;
		p->p_st.st_connect_fails++;
		log_warn(p->p_app->a_name, "upstream %s: %s", s->us_text,
		    strerror(err));
		/* A full backlog is load, not a dead server. */
		if (err != EAGAIN)
			s->us_bal->b_down_until = now_ms() +
			    (uint64_t)p->p_app->a_upstream_down_ms;
		if (w->w_retried_connect)
			return (UP_FAILED);
		w->w_retried_connect = 1;
		p->p_st.st_retries++;
	}
}

static void
bind_to(struct upc *u, struct up_wait *w)
{
	u->u_conn = w->w_conn;
	u->u_wait = w;
	u->u_active = 1;
	u->u_answered = 0;
	replay_on(u);
	if (!u->u_reused && u->u_pool->p_keep) {
		/* SPEC §5.4: the pool may be larger than pm.max_children. */
		set_timer(u->u_slow,
		    u->u_pool->p_app->a_upstream_idle_timeout_ms);
	}
	if (w->w_carry != NULL && evbuffer_get_length(w->w_carry) > 0)
		up_add_buffer(u, w->w_carry, evbuffer_get_length(w->w_carry));
}

enum up_got
up_acquire(struct up_pool *p, struct up_wait *w, struct upc **out)
{
	struct upc	*u = NULL;
	enum up_got	 got;

	*out = NULL;
	w->w_since = now_ms();
	if ((got = take(p, w, &u)) == UP_FAILED)
		return (UP_FAILED);
	if (got == UP_QUEUED) {
		enqueue(p, w);
		return (w->w_queued ? UP_QUEUED : UP_FAILED);
	}
	bind_to(u, w);
	*out = u;
	return (UP_BOUND);
}

static void
enqueue(struct up_pool *p, struct up_wait *w)
{
	if (w->w_timer == NULL &&
	    (w->w_timer = evtimer_new(p->p_base, qtimeout_cb, w)) == NULL) {
		log_error(p->p_app->a_name, "queue: out of memory");
		return;
	}
	w->w_next = NULL;
	w->w_pool = p;
	*p->p_qtail = w;
	p->p_qtail = &w->w_next;
	w->w_queued = 1;
	if (++p->p_qlen > p->p_st.st_queue_max)
		p->p_st.st_queue_max = p->p_qlen;
	p->p_st.st_queued++;
	set_timer(w->w_timer, p->p_app->a_queue_timeout_ms);
}

static void
dequeue(struct up_pool *p, struct up_wait *w)
{
	struct up_wait	**pp;

	for (pp = &p->p_qhead; *pp != NULL; pp = &(*pp)->w_next)
		if (*pp == w) {
			if ((*pp = w->w_next) == NULL)
				p->p_qtail = pp;
			break;
		}
	p->p_qlen--;
	w->w_queued = 0;
	evtimer_del(w->w_timer);
	p->p_st.st_queue_ms += (unsigned long)(now_ms() - w->w_since);
}

void
up_cancel(struct up_pool *p, struct up_wait *w)
{
	if (w->w_queued)
		dequeue(p, w);
	if (w->w_timer != NULL)
		event_free(w->w_timer);
	w->w_timer = NULL;
	if (w->w_carry != NULL)
		evbuffer_free(w->w_carry);
	w->w_carry = NULL;
}

/* A slot may have freed: serve the queue in order. */
static void
dispatch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct up_pool	*p = arg;
	struct up_wait	*w;
	struct upc	*u = NULL;

	(void)fd;
	(void)ev;
	up_pool_ref(p);
	while ((w = p->p_qhead) != NULL && choose(p) != NULL) {
		dequeue(p, w);
		if (take(p, w, &u) != UP_BOUND) {
			conn_up_failed(w->w_conn, "502 Bad Gateway",
			    "upstream unreachable");
			continue;
		}
		bind_to(u, w);
		conn_up_ready(w->w_conn, u);
	}
	up_pool_unref(p);
}

static void
qtimeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct up_wait	*w = arg;
	struct up_pool	*p = w->w_pool;

	(void)fd;
	(void)ev;
	dequeue(p, w);
	p->p_st.st_queue_timeouts++;
	log_warn(p->p_app->a_name, "queue timeout after %ld ms: %zu waiting, "
	    "every upstream connection busy", p->p_app->a_queue_timeout_ms,
	    p->p_qlen);
	conn_up_failed(w->w_conn, "503 Service Unavailable",
	    "queue timeout: every upstream connection busy");
}

void
up_request_start(struct upc *u)
{
	u->u_active = 1;
	u->u_answered = 0;
	u->u_reused = 1;
	replay_on(u);
}

void
up_request_done(struct upc *u)
{
	u->u_active = 0;
	replay_off(u);
	evtimer_del(u->u_slow);
}

void
up_release(struct upc *u)
{
	struct up_pool	*p = u->u_pool;
	struct up_server *s = u->u_srv;

	up_request_done(u);
	u->u_conn = NULL;
	if (!p->p_keep || p->p_retired || u->u_connecting ||
	    evbuffer_get_length(u->u_side.s_in) > 0 ||
	    evbuffer_get_length(u->u_side.s_out) > 0) {
		destroy(u);
		return;
	}
	u->u_reused = 1;
	u->u_wait = NULL;
	s->us_bal->b_busy--;
	u->u_idle = 1;
	u->u_next = s->us_idle;
	s->us_idle = u;
	s->us_bal->b_idle++;
	/* Reading stays on: php-fpm closing an idle one is noticed. */
	side_read_on(&u->u_side, 1);
	set_timer(u->u_timer, p->p_app->a_upstream_idle_timeout_ms);
	if (p->p_qhead != NULL)
		event_active(p->p_dispatch, 0, 0);
}

void
up_drop(struct upc *u)
{
	u->u_conn = NULL;
	destroy(u);
}

static void
idle_unlink(struct upc *u)
{
	struct upc	**pp;

	for (pp = &u->u_srv->us_idle; *pp != NULL; pp = &(*pp)->u_next)
		if (*pp == u) {
			*pp = u->u_next;
			u->u_srv->us_bal->b_idle--;
			break;
		}
	u->u_next = NULL;
	u->u_idle = 0;
	evtimer_del(u->u_timer);
}

/* Close u; its slot frees for the queue. */
static void
destroy(struct upc *u)
{
	struct up_pool	*p = u->u_pool;

	if (u->u_idle)
		idle_unlink(u);
	else
		u->u_srv->us_bal->b_busy--;
	side_free(&u->u_side);
	event_free(u->u_timer);
	event_free(u->u_slow);
	evbuffer_free(u->u_replay);
	free(u);
	if (p->p_qhead != NULL)
		event_active(p->p_dispatch, 0, 0);
	up_pool_unref(p);
}

/* The replay buffer lives as long as u: kept, never reallocated. */
static void
replay_on(struct upc *u)
{
	evbuffer_drain(u->u_replay, evbuffer_get_length(u->u_replay));
	u->u_replaying = 1;
}

static void
replay_off(struct upc *u)
{
	evbuffer_drain(u->u_replay, evbuffer_get_length(u->u_replay));
	u->u_replaying = 0;
}

/* Can n more bytes be kept for a retry?  Past REPLAY_MAX, never again. */
static int
replay_room(struct upc *u, size_t n)
{
	if (!u->u_replaying)
		return (0);
	if (evbuffer_get_length(u->u_replay) + n <= REPLAY_MAX)
		return (1);
	replay_off(u);
	return (0);
}

void
up_add(struct upc *u, const void *d, size_t n)
{
	evbuffer_add(u->u_side.s_out, d, n);
	if (replay_room(u, n))
		evbuffer_add(u->u_replay, d, n);
}

void
up_add_buffer(struct upc *u, struct evbuffer *src, size_t n)
{
	struct evbuffer_iovec	 v[16];
	int			 i, nv;
	size_t			 k, left = n;

	if (replay_room(u, n)) {
		/* n <= REPLAY_MAX: a few chains at most; more, no retry. */
		nv = evbuffer_peek(src, (ev_ssize_t)n, NULL, v, 16);
		for (i = 0; i < nv && i < 16 && left > 0; i++) {
			k = v[i].iov_len < left ? v[i].iov_len : left;
			evbuffer_add(u->u_replay, v[i].iov_base, k);
			left -= k;
		}
		if (left > 0)
			replay_off(u);
	}
	evbuffer_remove_buffer(src, u->u_side.s_out, n);
}

int
up_flush(struct upc *u)
{
	size_t	before = evbuffer_get_length(u->u_side.s_out);
	int	rc;

	if (u->u_connecting)
		return (0);
	rc = side_flush(&u->u_side);
	if (evbuffer_get_length(u->u_side.s_out) < before)
		u->u_written = 1;
	if (rc == 0)
		return (0);
	/* SPEC §5.4: a reused connection found closed is retried once. */
	if (u->u_active && u->u_reused && !u->u_answered) {
		retry(u, RETRY_REUSE, strerror(errno));
		return (-1);
	}
	/*
	 * A fresh connection that took not one byte was closed before
	 * php-fpm read it (php-fpm stopping): nothing reached php-fpm.
	 */
	if (u->u_active && !u->u_written && !u->u_answered) {
		u->u_srv->us_bal->b_down_until = now_ms() +
		    (uint64_t)u->u_pool->p_app->a_upstream_down_ms;
		retry(u, RETRY_CONNECT, "connection closed before accept");
		return (-1);
	}
	log_info(u->u_pool->p_app->a_name, "upstream %s write: %s",
	    u->u_srv->us_text, strerror(errno));
	conn_up_failed(u->u_conn, "502 Bad Gateway", "upstream write error");
	return (-1);
}

static void
connect_failed(struct upc *u, int err)
{
	struct up_pool	*p = u->u_pool;

	u->u_srv->us_fails++;
	p->p_st.st_connect_fails++;
	log_warn(p->p_app->a_name, "upstream %s: %s", u->u_srv->us_text,
	    err == ETIMEDOUT ? "connect timeout" : strerror(err));
	u->u_srv->us_bal->b_down_until = now_ms() +
	    (uint64_t)p->p_app->a_upstream_down_ms;
	retry(u, RETRY_CONNECT, "upstream unreachable");
}

/*
 * Nothing of the request reached php-fpm (connect failed), or a reused
 * connection was found closed before any answer: try once more on
 * another connection, carrying the request's bytes (SPEC §5.4).
 */
static void
retry(struct upc *u, enum retry_kind kind, const char *why)
{
	struct up_pool	*p = u->u_pool;
	struct conn	*c = u->u_conn;
	struct up_wait	*w = NULL;
	struct evbuffer	*bytes;
	struct upc	*nu;
	int		*flag;
	enum up_got	 got;

	w = u->u_wait;
	flag = kind == RETRY_CONNECT ? &w->w_retried_connect :
	    &w->w_retried_reuse;
	/* Everything added for the request, or (never connected) unsent. */
	bytes = u->u_replaying ? u->u_replay : kind == RETRY_CONNECT ?
	    u->u_side.s_out : NULL;
	if (*flag || bytes == NULL || (w->w_carry == NULL &&
	    (w->w_carry = evbuffer_new()) == NULL)) {
		/* The conn gives u back as it answers. */
		conn_up_failed(c, "502 Bad Gateway", why);
		return;
	}
	*flag = 1;
	p->p_st.st_retries++;
	log_info(p->p_app->a_name, "upstream %s: %s, retrying the request",
	    u->u_srv->us_text, why);
	evbuffer_add_buffer(w->w_carry, bytes);
	up_pool_ref(p);
	up_drop(u);
	conn_up_unbound(c);
	got = up_acquire(p, w, &nu);
	up_pool_unref(p);
	if (got == UP_BOUND)
		conn_up_ready(c, nu);
	else if (got == UP_FAILED)
		conn_up_failed(c, "502 Bad Gateway", "upstream unreachable");
}

static void
up_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc	*u = arg;
	struct conn	*c = u->u_conn;
	int		 n;

	(void)fd;
	(void)ev;
	if ((n = side_fill(&u->u_side)) == -2)
		return;
	if (c == NULL) {
		/* Idle: php-fpm closed it (pm.max_requests, restart). */
		destroy(u);
		return;
	}
	if (n > 0) {
		if (!u->u_answered) {
			u->u_answered = 1;
			replay_off(u);
			evtimer_del(u->u_slow);
		}
		conn_up_input(c, u);
		return;
	}
	if (u->u_active && u->u_reused && !u->u_answered) {
		retry(u, RETRY_REUSE, n == 0 ? "reused connection closed" :
		    "reused connection reset");
		return;
	}
	/*
	 * A fresh connection reset before any answer was never accepted:
	 * php-fpm closed its listening socket with it in the backlog
	 * (stop, restart).  Nothing reached php-fpm; like a refused connect.
	 */
	if (u->u_active && !u->u_answered && n < 0 && errno == ECONNRESET) {
		u->u_srv->us_bal->b_down_until = now_ms() +
		    (uint64_t)u->u_pool->p_app->a_upstream_down_ms;
		retry(u, RETRY_CONNECT, "connection reset before accept");
		return;
	}
	if (!u->u_active) {
		/* Kept by its front between requests (no pool): gone. */
		up_drop(u);
		conn_up_unbound(c);
		return;
	}
	conn_up_failed(c, NULL, "upstream closed mid-request");
}

static void
up_wcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc	*u = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)ev;
	if (u->u_connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			connect_failed(u, err);
			return;
		}
		u->u_connecting = 0;
		evtimer_del(u->u_timer);
	}
	if (up_flush(u) < 0)
		return;
	if (u->u_conn != NULL)
		conn_up_drained(u->u_conn, u);
}

/* Connect timeout while connecting, idle timeout while idle. */
static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc	*u = arg;

	(void)fd;
	(void)ev;
	if (u->u_connecting) {
		connect_failed(u, ETIMEDOUT);
		return;
	}
	if (u->u_conn == NULL)
		destroy(u);
}

/*
 * A request on a fresh connection got no byte for upstream_idle_timeout_ms
 * while kept connections sit idle: php-fpm has no free worker for it,
 * because our idle connections pin them (SPEC §5.4).
 */
static void
slow_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc	*u = arg;
	struct up_pool	*p = u->u_pool;
	size_t		 i, idle = 0;
	uint64_t	 now = now_ms();

	(void)fd;
	(void)ev;
	for (i = 0; i < p->p_nsrv; i++)
		idle += p->p_srv[i].us_bal->b_idle;
	if (idle == 0 ||
	    (p->p_warned != 0 && now - p->p_warned < WARN_EVERY_MS))
		return;
	p->p_warned = now;
	log_warn(p->p_app->a_name, "upstream %s: a request waited %ld ms on a "
	    "new connection while %zu kept connections sat idle: "
	    "upstream_max_conns (%zu) is larger than php-fpm's "
	    "pm.max_children", u->u_srv->us_text,
	    p->p_app->a_upstream_idle_timeout_ms, idle, p->p_max);
}
