/*
 * The php-fpm side: connections, pool, queue, servers, retry.  See
 * upstream.h for the model and SPEC §5.4 for the rules.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/gen.h"
#include "daemon/log.h"
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
	struct up_pool		*p_succ;	/* the app's pool after a reload */
	uint64_t		 p_warned;	/* last pool-size warning */
	struct up_stats		 p_st;
};

enum retry_kind { RETRY_CONNECT, RETRY_REUSE };

/* The process is stopping: nothing is drained any more (up_stop). */
static int	stopping;
/* SPEC §6.2: the processes sharing each pool's upstream_max_conns. */
static size_t	workers = 1;

static uint64_t	now_ms(void);
static struct up_server *choose(struct up_pool *);
static struct up_pool *current(struct up_pool *);
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
static void	up_rcb_end(struct upc *, int);
static int	unread(const struct upc *, uint64_t);
static void	up_wcb(evutil_socket_t, short, void *);
static void	ctimer_cb(evutil_socket_t, short, void *);
static void	itimer_cb(evutil_socket_t, short, void *);
static void	fresh_add(struct upc *);
static void	fresh_del(struct upc *);
static void	pool_size_check(struct up_server *, uint64_t since);
static int	drain(struct upc *);

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
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
	gen_ref(g);
	p->p_app = a;
	p->p_nsrv = a->a_nupstreams;
	/* SPEC §6.2: a worker's share, ceil(total / workers). */
	p->p_max = ((size_t)a->a_upstream_max_conns + workers - 1) / workers;
	/* SPEC §3.2: kept connections only with a bounded pool. */
	p->p_keep = p->p_max > 0 && a->a_upstream_keepalive;
	p->p_qtail = &p->p_qhead;
	p->p_refs = 1;
	for (i = 0; i < p->p_nsrv; i++) {
		p->p_srv[i].us_pool = p;
		p->p_srv[i].us_text = a->a_upstreams[i].ca_text;
		p->p_srv[i].us_bal = &p->p_bal[i];
		p->p_srv[i].us_sslen = side_sockaddr(&a->a_upstreams[i],
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
	if (p->p_succ != NULL)
		up_pool_unref(p->p_succ);
	event_free(p->p_dispatch);
	free(p->p_srv);
	free(p->p_bal);
	gen_unref(p->p_gen);
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

void
up_set_workers(size_t n)
{
	workers = n > 0 ? n : 1;
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

/*
 * The pool that serves p's requests now: after a reload, the app's new
 * pool, when it works the same way (pool on or off, kept or not).  Front
 * connections opened before the reload live on (nginx's keepalive); were
 * their requests to stay on the retired pool, the two pools together
 * would hold twice upstream_max_conns php-fpm connections, and the new
 * pool's kept ones, never idle under load, would starve the old pool's
 * in php-fpm's backlog (make soak saw the 503s).
 */
static struct up_pool *
current(struct up_pool *p)
{
	while (p->p_succ != NULL && p->p_succ->p_keep == p->p_keep &&
	    (p->p_succ->p_max > 0) == (p->p_max > 0))
		p = p->p_succ;
	return (p);
}

void
up_pool_inherit(struct up_pool *p, struct up_pool *old)
{
	struct up_wait	*w;
	size_t		 i, j;

	old->p_succ = p;
	up_pool_ref(p);
	/* The old pool's queue goes on in the new one, in order, on the
	   same timers: no request waits longer for a reload. */
	while (current(old) == p && (w = old->p_qhead) != NULL) {
		if ((old->p_qhead = w->w_next) == NULL)
			old->p_qtail = &old->p_qhead;
		old->p_qlen--;
		w->w_next = NULL;
		w->w_pool = p;
		*p->p_qtail = w;
		p->p_qtail = &w->w_next;
		p->p_qlen++;
	}
	if (p->p_qlen > 0)
		event_active(p->p_dispatch, EV_TIMEOUT, 0);
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
up_status(struct up_pool *p, struct status_live *sl,
    struct status_upstream *su, size_t cap)
{
	uint64_t	now = now_ms();
	size_t		i;

	p = current(p);
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

/*
 * A ping in progress: one non-blocking connect per TCP upstream that did
 * not answer at once.  The first that connects says yes; when all have
 * failed, or connect_timeout_ms passed, no.
 */
#define PING_MAX	16
struct up_ping {
	void		 (*pg_done)(void *, int, const char *);
	void		*pg_owner;
	struct event	*pg_ev[PING_MAX];
	struct event	*pg_timer;
	size_t		 pg_n;		/* connects under way */
	int		 pg_err;
};

static void	ping_cb(evutil_socket_t, short, void *);
static void	ping_end(struct up_ping *, int ok, const char *why);

int
up_ping(struct up_pool *p, void (*done)(void *, int, const char *),
    void *owner, struct up_ping **out, const char **why)
{
	const struct up_server	*s;
	struct up_ping		*pg;
	size_t			 i;
	int			 fd, err = ECONNREFUSED;

	*out = NULL;
	*why = "";
	p = current(p);
	for (i = 0; i < p->p_nsrv; i++)
		if (p->p_bal[i].b_idle > 0)
			return (1);
	if ((pg = calloc(1, sizeof(*pg))) == NULL ||
	    (pg->pg_timer = evtimer_new(p->p_base, ping_cb, pg)) == NULL) {
		free(pg);
		*why = strerror(ENOMEM);
		return (0);
	}
	pg->pg_done = done;
	pg->pg_owner = owner;
	for (i = 0; i < p->p_nsrv && pg->pg_n < PING_MAX; i++) {
		s = &p->p_srv[i];
		fd = socket(s->us_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (const struct sockaddr *)&s->us_ss,
		    (socklen_t)s->us_sslen) == 0) {
			close(fd);
			ping_end(pg, 0, NULL);	/* answered here, not by done */
			return (1);
		}
		if (fd < 0 || errno != EINPROGRESS) {
			err = errno;
			if (fd >= 0)
				close(fd);
			continue;
		}
		/* A TCP connect under way: its answer comes as an event. */
		pg->pg_ev[pg->pg_n] = event_new(p->p_base, fd, EV_WRITE,
		    ping_cb, pg);
		if (pg->pg_ev[pg->pg_n] == NULL) {
			close(fd);
			continue;
		}
		event_add(pg->pg_ev[pg->pg_n++], NULL);
	}
	if (pg->pg_n == 0) {
		ping_end(pg, 0, NULL);
		*why = strerror(err);
		return (0);
	}
	pg->pg_err = err;
	side_timer(pg->pg_timer, p->p_app->a_connect_timeout_ms);
	*out = pg;
	return (-1);
}

/* Free pg; tell its owner, unless why is NULL (cancelled, or answered
   by up_ping itself). */
static void
ping_end(struct up_ping *pg, int ok, const char *why)
{
	size_t	i;

	for (i = 0; i < pg->pg_n; i++) {
		if (pg->pg_ev[i] == NULL)
			continue;
		close(event_get_fd(pg->pg_ev[i]));
		event_free(pg->pg_ev[i]);
	}
	event_free(pg->pg_timer);
	if (why != NULL)
		pg->pg_done(pg->pg_owner, ok, why);
	free(pg);
}

void
up_ping_cancel(struct up_ping *pg)
{
	if (pg != NULL)
		ping_end(pg, 0, NULL);
}

static void
ping_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct up_ping	*pg = arg;
	socklen_t	 len = sizeof(int);
	size_t		 i, left = 0;
	int		 err = 0;

	if (ev & EV_TIMEOUT) {
		ping_end(pg, 0, "connect timeout");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		ping_end(pg, 1, "");
		return;
	}
	pg->pg_err = err;
	for (i = 0; i < pg->pg_n; i++) {
		if (pg->pg_ev[i] != NULL && event_get_fd(pg->pg_ev[i]) == fd) {
			close(fd);
			event_free(pg->pg_ev[i]);
			pg->pg_ev[i] = NULL;
		}
		left += pg->pg_ev[i] != NULL;
	}
	if (left == 0)
		ping_end(pg, 0, strerror(pg->pg_err));
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
	u->u_ctimer = evtimer_new(p->p_base, ctimer_cb, u);
	u->u_itimer = evtimer_new(p->p_base, itimer_cb, u);
	u->u_replay = evbuffer_new();
	if (u->u_ctimer == NULL || u->u_itimer == NULL || u->u_replay == NULL ||
	    side_init(p->p_base, &u->u_side, fd, up_rcb, up_wcb, u) < 0) {
		if (u->u_side.s_fd < 0)
			close(fd);
		side_free(&u->u_side);
		if (u->u_ctimer != NULL)
			event_free(u->u_ctimer);
		if (u->u_itimer != NULL)
			event_free(u->u_itimer);
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
		side_timer(u->u_ctimer, p->p_app->a_connect_timeout_ms);
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
	u->u_owner = w->w_owner;
	u->u_ops = w->w_ops;
	u->u_wait = w;
	u->u_active = 1;
	u->u_answered = 0;
	u->u_bound_ms = now_ms();
	replay_on(u);
	if (!u->u_reused && u->u_pool->p_keep)
		fresh_add(u);
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
	p = current(p);
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
	side_timer(w->w_timer, p->p_app->a_queue_timeout_ms);
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

/* p is the caller's pool; a queued w may wait in its successor's. */
void
up_cancel(struct up_pool *p, struct up_wait *w)
{
	(void)p;
	if (w->w_queued)
		dequeue(w->w_pool, w);
}

void
up_wait_free(struct up_wait *w)
{
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
	enum up_got	 got;

	(void)fd;
	(void)ev;
	up_pool_ref(p);
	while ((w = p->p_qhead) != NULL && choose(p) != NULL) {
		/* A connect failed and the rest are full: w keeps its place. */
		if ((got = take(p, w, &u)) == UP_QUEUED)
			break;
		dequeue(p, w);
		if (got != UP_BOUND) {
			w->w_ops->failed(w->w_owner, "502 Bad Gateway",
			    "upstream unreachable");
			continue;
		}
		bind_to(u, w);
		w->w_ops->ready(w->w_owner, u);
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
	w->w_ops->failed(w->w_owner, "503 Service Unavailable",
	    "queue timeout: every upstream connection busy");
}

void
up_request_start(struct upc *u, struct up_wait *w)
{
	u->u_owner = w->w_owner;
	u->u_ops = w->w_ops;
	u->u_wait = w;
	u->u_active = 1;
	u->u_answered = 0;
	u->u_reused = 1;
	u->u_bound_ms = now_ms();
	replay_on(u);
}

/* The request on u is over: nothing more to replay, not fresh. */
static void
request_done(struct upc *u)
{
	u->u_active = 0;
	u->u_wait = NULL;
	replay_off(u);
	fresh_del(u);
}

void
up_hold(struct upc *u, const struct up_client_ops *ops, void *owner)
{
	request_done(u);
	u->u_owner = owner;
	u->u_ops = ops;
	/*
	 * Its last request may have paused reading (the front was full when
	 * END_REQUEST came): read again, or php-fpm closing it goes unseen
	 * and the next request's answer is never read.
	 */
	side_read_on(&u->u_side, 1);
}

void
up_release(struct upc *u)
{
	struct up_pool	*p = u->u_pool;
	struct up_server *s = u->u_srv;

	request_done(u);
	u->u_owner = NULL;
	u->u_draining = 0;
	if (!p->p_keep || p->p_retired || u->u_connecting ||
	    evbuffer_get_length(u->u_side.s_in) > 0 ||
	    evbuffer_get_length(u->u_side.s_out) > 0) {
		destroy(u);
		return;
	}
	/* SPEC §5.4: did a request wait behind our idle connections? */
	if (u->u_reused && s->us_fresh != NULL)
		pool_size_check(s, u->u_bound_ms);
	u->u_reused = 1;
	s->us_bal->b_busy--;
	u->u_idle = 1;
	u->u_next = s->us_idle;
	s->us_idle = u;
	s->us_bal->b_idle++;
	/* Reading stays on: php-fpm closing an idle one is noticed. */
	side_read_on(&u->u_side, 1);
	side_timer(u->u_itimer, p->p_app->a_upstream_idle_timeout_ms);
	if (p->p_qhead != NULL)
		event_active(p->p_dispatch, 0, 0);
}

void
up_drop(struct upc *u)
{
	u->u_owner = NULL;
	destroy(u);
}

void
up_stop(void)
{
	stopping = 1;
}

void
up_abandon(struct upc *u)
{
	if (!u->u_pool->p_keep || u->u_connecting || stopping) {
		up_drop(u);
		return;
	}
	log_debug(u->u_pool->p_app->a_name, "upstream %s: request abandoned, "
	    "draining its answer", u->u_srv->us_text);
	u->u_owner = NULL;
	u->u_ops = NULL;
	u->u_wait = NULL;
	u->u_draining = 1;
	replay_off(u);
	fresh_del(u);
	side_read_on(&u->u_side, 1);
	/*
	 * Bounded: a script that never ends (long poll, a stream) would keep
	 * the slot and a worker for good.  Past upstream_idle_timeout_ms of
	 * draining the connection is closed instead (itimer_cb).
	 */
	side_timer(u->u_itimer, u->u_pool->p_app->a_upstream_idle_timeout_ms);
	/* What came already may hold the END_REQUEST. */
	if (evbuffer_get_length(u->u_side.s_in) > 0)
		drain(u);
}

/*
 * An abandoned connection: php-fpm's answer is dropped record by record;
 * at its END_REQUEST the connection goes idle.  -1 when u is gone.
 */
static int
drain(struct upc *u)
{
	struct evbuffer_iovec	v;
	struct fcgi_item	it;
	enum fcgi_status	st;
	size_t			used;

	for (;;) {
		/* A record's end may need a call with no byte left. */
		if (evbuffer_peek(u->u_side.s_in, -1, NULL, &v, 1) < 1)
			v.iov_len = 0;
		st = fcgi_dec_next(&u->u_dec, v.iov_base, v.iov_len, &used,
		    &it);
		evbuffer_drain(u->u_side.s_in, used);
		if (st == FCGI_DEC_MORE && v.iov_len == 0)
			return (0);
		if (st == FCGI_DEC_MORE)
			continue;
		if (st != FCGI_DEC_OK) {
			destroy(u);
			return (-1);
		}
		if (it.i_kind == FCGI_ITEM_END &&
		    it.i_rec.r_type == FCGI_END_REQUEST) {
			log_debug(u->u_pool->p_app->a_name, "upstream %s: "
			    "drained, back to the pool", u->u_srv->us_text);
			fcgi_dec_init(&u->u_dec, FCGI_SIDE_APP);
			up_release(u);
			return (-1);
		}
	}
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
	evtimer_del(u->u_itimer);
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
	fresh_del(u);
	side_free(&u->u_side);
	event_free(u->u_ctimer);
	event_free(u->u_itimer);
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
	u->u_ops->failed(u->u_owner, "502 Bad Gateway",
	    "upstream write error");
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
	struct up_pool			*p = u->u_pool;
	void				*owner = u->u_owner;
	const struct up_client_ops	*ops = u->u_ops;
	struct up_wait			*w = u->u_wait;
	struct evbuffer			*bytes;
	struct upc			*nu;
	int				*flag;
	enum up_got			 got;

	flag = kind == RETRY_CONNECT ? &w->w_retried_connect :
	    &w->w_retried_reuse;
	/* Everything added for the request, or (never connected) unsent. */
	bytes = u->u_replaying ? u->u_replay : kind == RETRY_CONNECT ?
	    u->u_side.s_out : NULL;
	if (*flag || bytes == NULL || (w->w_carry == NULL &&
	    (w->w_carry = evbuffer_new()) == NULL)) {
		/* The client gives u back as it answers. */
		ops->failed(owner, "502 Bad Gateway", why);
		return;
	}
	*flag = 1;
	p->p_st.st_retries++;
	log_info(p->p_app->a_name, "upstream %s: %s, retrying the request",
	    u->u_srv->us_text, why);
	evbuffer_add_buffer(w->w_carry, bytes);
	up_pool_ref(p);
	up_drop(u);
	ops->unbound(owner);
	got = up_acquire(p, w, &nu);
	up_pool_unref(p);
	if (got == UP_BOUND)
		ops->ready(owner, nu);
	else if (got == UP_FAILED)
		ops->failed(owner, "502 Bad Gateway", "upstream unreachable");
}

static void
up_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc	*u = arg;
	int		 n;

	(void)fd;
	(void)ev;
	if ((n = side_fill(&u->u_side)) == -2)
		return;
	if (u->u_draining) {
		if (n <= 0)
			destroy(u);
		else
			drain(u);
		return;
	}
	if (u->u_owner == NULL) {
		/* Idle: php-fpm closed it (pm.max_requests, restart). */
		destroy(u);
		return;
	}
	if (n > 0) {
		if (!u->u_answered) {
			u->u_answered = 1;
			replay_off(u);
			fresh_del(u);
		}
		u->u_ops->input(u->u_owner, u);
		return;
	}
	up_rcb_end(u, n);
}

/* EOF (n 0) or an error from php-fpm on a connection with a client. */
static void
up_rcb_end(struct upc *u, int n)
{
	void				*owner = u->u_owner;
	const struct up_client_ops	*ops = u->u_ops;

	if (u->u_active && u->u_reused && !u->u_answered) {
		retry(u, RETRY_REUSE, n == 0 ? "reused connection closed" :
		    "reused connection reset");
		return;
	}
	/*
	 * A fresh connection reset before any answer: php-fpm closed its
	 * listening socket with it in the backlog (stop, restart), and
	 * nothing reached php-fpm; or a worker read part of it and died
	 * (killed, crashed) and the script may have run.  The socket does
	 * not tell which: once bytes went out, only a request that may run
	 * twice and whose bytes are all kept (u_replaying) is retried; the
	 * others get a 502 (nginx does not retry a POST it sent either).
	 */
	if (u->u_active && !u->u_answered && n < 0 && errno == ECONNRESET) {
		u->u_srv->us_bal->b_down_until = now_ms() +
		    (uint64_t)u->u_pool->p_app->a_upstream_down_ms;
		if (!u->u_written || (u->u_wait->w_idempotent &&
		    u->u_replaying))
			retry(u, RETRY_CONNECT, "connection reset before "
			    "any answer");
		else
			ops->failed(owner, "502 Bad Gateway", u->u_replaying ?
			    "connection reset before any answer, not "
			    "retried: its method may not run twice" :
			    "connection reset before any answer, not "
			    "retried: its bytes are no longer kept");
		return;
	}
	if (!u->u_active) {
		/* Held by its front between requests (no pool): gone. */
		up_drop(u);
		ops->unbound(owner);
		return;
	}
	ops->failed(owner, NULL, "upstream closed mid-request");
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
		evtimer_del(u->u_ctimer);
	}
	if (up_flush(u) < 0)
		return;
	if (u->u_owner != NULL && u->u_active)
		u->u_ops->drained(u->u_owner, u);
}

static void
ctimer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	connect_failed(arg, ETIMEDOUT);
}

/*
 * A kept connection idle for upstream_idle_timeout_ms closes, and so does
 * one draining an abandoned request's answer for that long.
 */
static void
itimer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upc		*u = arg;
	struct up_server	*s = u->u_srv;

	(void)fd;
	(void)ev;
	if (u->u_draining)
		log_info(u->u_pool->p_app->a_name, "upstream %s: the answer of "
		    "an abandoned request still runs after %ld ms: connection "
		    "closed", s->us_text,
		    u->u_pool->p_app->a_upstream_idle_timeout_ms);
	destroy(u);
	if (s->us_fresh != NULL)
		pool_size_check(s, now_ms());
}

/* A new connection's request waits for its first answer byte. */
static void
fresh_add(struct upc *u)
{
	if (u->u_fprevp != NULL)
		return;
	if ((u->u_fnext = u->u_srv->us_fresh) != NULL)
		u->u_fnext->u_fprevp = &u->u_fnext;
	u->u_fprevp = &u->u_srv->us_fresh;
	u->u_srv->us_fresh = u;
}

static void
fresh_del(struct upc *u)
{
	if (u->u_fprevp == NULL)
		return;
	if ((*u->u_fprevp = u->u_fnext) != NULL)
		u->u_fnext->u_fprevp = u->u_fprevp;
	u->u_fprevp = NULL;
	u->u_fnext = NULL;
}

/*
 * Has php-fpm read nothing of what we wrote on u?  On a unix socket the
 * kernel knows (SIOCOUTQ: bytes the peer has not read): a request in
 * php-fpm's backlog, with no worker to accept it.  TCP acknowledges
 * bytes no worker read, so there the wait itself is the sign, once the
 * host has acknowledged every byte (SIOCOUTQ: bytes not yet acked); with
 * bytes unacknowledged the network is the trouble, not the pool's size
 * (make soak's blackholed host raised a false warning).  Either way only
 * a wait past upstream_idle_timeout_ms counts (SPEC §5.4): a php-fpm
 * forking a child for it takes a while too.
 */
static int
unread(const struct upc *u, uint64_t now)
{
	int	n = 0;

	if (now - u->u_bound_ms <
	    (uint64_t)u->u_pool->p_app->a_upstream_idle_timeout_ms ||
	    ioctl(u->u_side.s_fd, SIOCOUTQ, &n) != 0)
		return (0);
	return (u->u_srv->us_tcp ? n == 0 : n > 0);
}

/*
 * SPEC §5.4, misconfiguration made visible: a kept connection of s just
 * finished a request (bound at since) or closed idle, while a new one,
 * lent earlier, still has its request unread by php-fpm.  php-fpm served
 * the later request and left the earlier waiting: its workers are pinned
 * by our kept connections, so the pool is larger than pm.max_children.
 */
static void
pool_size_check(struct up_server *s, uint64_t since)
{
	struct up_pool	*p = s->us_pool;
	struct upc	*f;
	uint64_t	 now = now_ms();

	if (p->p_warned != 0 && now - p->p_warned < WARN_EVERY_MS)
		return;
	for (f = s->us_fresh; f != NULL; f = f->u_fnext)
		if (f->u_bound_ms <= since && unread(f, now))
			break;
	if (f == NULL)
		return;
	p->p_warned = now;
	log_warn(p->p_app->a_name, "upstream %s: a request on a new "
	    "connection waited %lu ms unread by php-fpm while it served our "
	    "kept connections: upstream_max_conns (%zu) is larger than "
	    "php-fpm's pm.max_children", s->us_text,
	    (unsigned long)(now - f->u_bound_ms), p->p_max * workers);
}
