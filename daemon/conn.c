/*
 * The front connection, protocol-blind (SPEC §5): accept, socket I/O and
 * back-pressure, its timers, the PROXY protocol header, lingering close
 * and close; the owner of a set of requests, which reach it only through
 * conn_req_ops.  What the bytes mean is the protocol's (conn_fcgi.c,
 * conn_scgi.c), what happens to a request is request.c's.
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
#include <openssl/evp.h>

#include "daemon/conn_int.h"
#include "daemon/gen.h"
#include "daemon/log.h"
#include "daemon/status.h"

#define PP_TIMEOUT_MS	5000	/* SPEC §5.3 */
#define PP_SSL_MAX	(16 * 1024)	/* an SSL TLV with a client
					   certificate (SPEC §4.10) */
/*
 * Lingering close (nginx's lingering_close): after our last byte, a front
 * that may still be writing (Apache sends its empty STDIN after php-fpm
 * already answered) is read and discarded for at most this long and this
 * much, so its late write neither fails nor resets our answer.
 */
#define LINGER_MS	2000
#define LINGER_BYTES	(64 * 1024)
/*
 * CONN_QUIET: a front without keep-alive that sent its whole request has
 * nothing more to say until our answer, so its socket is not watched: a
 * fast request then costs no epoll_ctl at all (the read event added at
 * accept and removed in the same loop pass never reach the kernel).  If
 * php-fpm takes longer than WATCH_MS the socket is watched again, so a
 * web server giving up (a close or a half-close: its EOF) is seen within
 * WATCH_MS and php-fpm's connection closed (SPEC §5.5).  The price of
 * the economy is that window; e2e 73 counts the syscalls it saves.
 */
#define WATCH_MS	10

static unsigned long	conn_ids;

static void	conn_put(struct conn *);
static void	conn_log(const struct conn *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static void	peer_format(struct conn *, const struct sockaddr *, int);
static void	conn_close(struct conn *, const char *);
static void	conn_free(struct conn *);
static void	enter(struct conn *);
static void	leave(struct conn *);
static void	front_rcb(evutil_socket_t, short, void *);
static void	front_wcb(evutil_socket_t, short, void *);
static void	front_eof(struct conn *, int);
static void	input(struct conn *);
static int	pp_process(struct conn *);
static int	start(struct conn *);
static void	settle(struct conn *);
static void	settle_once(struct conn *);
static int	flush_front(struct conn *);
static void	resume_requests(struct conn *);
static void	reading(struct conn *);
static int	input_wanted(const struct conn *);
static void	idle_timer(struct conn *);
static void	quiet_maybe(struct conn *);
static void	quiet_end(struct conn *);
static void	linger_start(struct conn *);
static void	linger_read(struct conn *);
static struct event *timer(struct conn *, struct event **,
		    event_callback_fn);
static void	pp_timer_cb(evutil_socket_t, short, void *);
static void	pp_keep_cert(struct conn *);
static void	pp_begin(struct conn *);
static void	idle_timer_cb(evutil_socket_t, short, void *);
static void	watch_timer_cb(evutil_socket_t, short, void *);
static void	linger_timer_cb(evutil_socket_t, short, void *);
static void	req_settle(void *, struct req *);
static void	req_ended(void *, struct req *, enum req_end, struct upc *);
static void	drop_requests(struct conn *, unsigned);
static void	req_close(void *, struct req *, const char *);
static void	kept_unbound(void *);
static void	kept_noop(void *, struct upc *);
static void	kept_failed(void *, const char *, const char *);

/* How a request reaches its connection (SPEC §7). */
static const struct req_owner_ops	conn_req_ops = {
	.output = req_settle,
	.ended = req_ended,
	.more = req_settle,
	.close = req_close,
};

/* How the pool reaches a connection holding php-fpm's (no pool). */
static const struct up_client_ops	conn_kept_ops = {
	.ready = kept_noop,
	.input = kept_noop,
	.drained = kept_noop,
	.unbound = kept_unbound,
	.failed = kept_failed,
};

/*
 * One log line about c: "WHAT conn=N peer=P DETAIL" (nginx adds the
 * client to every line it logs).  Nothing is formatted below the level.
 */
static void
conn_log(const struct conn *c, int level, const char *what, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vconn(level, c->c_app->a_name, what, c->c_id, c->c_peer,
	    c->c_closereq, fmt, ap);
	va_end(ap);
}

/*
 * Free c's socket side, buffers and timers, then c.  (Freed connections
 * are not cached: kept with their buffers they pinned heap pages between
 * the large ones of uploads, and the heap grew by a third.)
 */
static void
conn_put(struct conn *c)
{
	struct event	*t[] = { c->c_pp_timer, c->c_idle_timer,
	    c->c_watch_timer, c->c_linger_timer };
	size_t		 i;

	side_free(&c->c_front);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] != NULL)
			event_free(t[i]);
	free(c);
}

static void
peer_format(struct conn *c, const struct sockaddr *sa, int salen)
{
	char	a[ADDR_STRLEN];

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
}

void
conn_accept(const struct conn_setup *cs, evutil_socket_t fd,
    const struct sockaddr *sa, int salen)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error(cs->cs_app->a_name, "accept: out of memory");
		evutil_closesocket(fd);
		cs->cs_closed(cs->cs_arg);
		return;
	}
	c->c_setup = *cs;
	c->c_app = cs->cs_app;
	gen_ref(cs->cs_gen);
	up_pool_ref(cs->cs_pool);
	c->c_id = ++conn_ids;
	c->c_front.s_fd = -1;
	cs->cs_stats->sa_accepted++;
	peer_format(c, sa, salen);
	if ((c->c_next = *cs->cs_list) != NULL)
		c->c_next->c_prevp = &c->c_next;
	c->c_prevp = cs->cs_list;
	*cs->cs_list = c;
	/* A protocol is chosen once (STYLE S21). */
	c->c_proto = c->c_app->a_proto == CFG_PROTO_SCGI ? &conn_proto_scgi :
	    &conn_proto_fcgi;
	c->c_ctx = (struct req_ctx){ .x_base = cs->cs_base, .x_app = c->c_app,
	    .x_pool = cs->cs_pool, .x_stats = cs->cs_stats,
	    .x_untrusted = cs->cs_untrusted, .x_active = cs->cs_active,
	    .x_id = c->c_id, .x_peer = c->c_peer, .x_ops = &conn_req_ops,
	    .x_owner = c };
	if (side_init(cs->cs_base, &c->c_front, fd, front_rcb, front_wcb,
	    c) < 0) {
		if (c->c_front.s_fd < 0)
			close(fd);
		conn_close(c, "out of memory");
		return;
	}
	c->c_ctx.x_out = c->c_front.s_out;
	conn_log(c, LOG_LVL_DEBUG, "accept", "proto=%s", c->c_proto->cp_name);
	enter(c);
	if (c->c_app->a_proxy_protocol)
		pp_begin(c);
	else
		start(c);
	/*
	 * A web server sends its request right after connecting: read it
	 * now rather than after a loop pass (one epoll_wait less, and with
	 * the quiet front no epoll_ctl at all).  EAGAIN: the event reads.
	 */
	if (c->c_state < CONN_FLUSH)
		front_rcb(fd, 0, c);
	leave(c);
}

/*
 * SPEC §5.3: a PROXY header comes first, within PP_TIMEOUT_MS.  Its
 * decoder (and, for a client certificate in the SSL TLV, SPEC §4.10, a
 * buffer for that TLV) lives only until the header is read.
 */
static void
pp_begin(struct conn *c)
{
	c->c_state = CONN_PREAMBLE;
	c->c_ppdec = calloc(1, sizeof(*c->c_ppdec));
	c->c_pp = calloc(1, sizeof(*c->c_pp));
	if (c->c_ppdec != NULL && c->c_app->a_policy.np_cert ==
	    NORM_CERT_PROXY && (c->c_ppssl = malloc(PP_SSL_MAX)) != NULL)
		pp_dec_ssl_buffer(c->c_ppdec, c->c_ppssl, PP_SSL_MAX);
	if (c->c_ppdec == NULL || c->c_pp == NULL)
		conn_close(c, "out of memory");
	else if (timer(c, &c->c_pp_timer, pp_timer_cb) != NULL)
		side_timer(c->c_pp_timer, PP_TIMEOUT_MS);
}

/* The connection is open for requests.  -1 when it closed. */
static int
start(struct conn *c)
{
	const char	*why = NULL;

	c->c_state = CONN_OPEN;
	if (c->c_proto->cp_start(c, &why) < 0) {
		conn_close(c, why);
		return (-1);
	}
	idle_timer(c);
	return (0);
}

static void
enter(struct conn *c)
{
	c->c_depth++;
}

/* A callback on c ends: free it if it closed. */
static void
leave(struct conn *c)
{
	if (--c->c_depth == 0 && c->c_state == CONN_CLOSING)
		conn_free(c);
}

/*
 * Close the conn: logged now, freed now when no callback runs on it,
 * else when the outermost one leaves.
 */
static void
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
 * SPEC §5.5: a front gone mid-request has its requests aborted (php-fpm's
 * connection closed, or drained back into the pool).
 */
static void
conn_free(struct conn *c)
{
	struct conn_setup	cs = c->c_setup;
	size_t			i;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (c->c_reqs[i] != NULL) {
			req_abort(c->c_reqs[i]);
			c->c_reqs[i] = NULL;
		}
	if (c->c_mgmt != NULL)
		req_free(c->c_mgmt);
	if (c->c_kept != NULL)
		up_drop(c->c_kept);
	free(c->c_sbuf);
	free(c->c_ppdec);
	free(c->c_pp);
	free(c->c_ppssl);
	if ((*c->c_prevp = c->c_next) != NULL)
		c->c_next->c_prevp = c->c_prevp;
	up_pool_unref(cs.cs_pool);
	gen_unref(cs.cs_gen);
	conn_put(c);
	cs.cs_closed(cs.cs_arg);
}

void
conn_close_all(struct conn **list)
{
	while (*list != NULL)
		conn_close(*list, "shutting down");
}

/* A timer of c, created at its first use (most connections need few). */
static struct event *
timer(struct conn *c, struct event **ev, event_callback_fn cb)
{
	if (*ev == NULL)
		*ev = evtimer_new(c->c_setup.cs_base, cb, c);
	if (*ev == NULL)
		conn_close(c, "out of memory");
	return (*ev);
}

static void
pp_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	conn_close(c, "no PROXY protocol header within 5 s");
}

/* No request in flight for too long (SPEC §3.2). */
static void
idle_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	conn_close(c, c->c_requests == 0 ? "params timeout" : "idle timeout");
}

/* The quiet ends: the socket is watched again (see WATCH_MS). */
static void
watch_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	enter(c);
	if (c->c_state == CONN_QUIET)
		quiet_end(c);
	leave(c);
}

static void
linger_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	conn_close(arg, NULL);
}

static void
front_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	int		 n;

	(void)fd;
	enter(c);
	if (c->c_state == CONN_LINGER) {
		linger_read(c);
		leave(c);
		return;
	}
	/* ev 0: conn_accept's read, before any event. */
	n = ev == 0 ? side_fill_first(&c->c_front) : side_fill(&c->c_front);
	if (n <= 0 && n != -2)
		front_eof(c, n);
	else if (n > 0)
		input(c);
	leave(c);
}

/*
 * The web server closed (or half-closed) its side, or its socket failed.
 * Between requests that is a clean close; with a request in flight it
 * gave up, as nginx and HAProxy take a client's FIN (SPEC §5.5: only
 * closing stops php-fpm's work).
 */
static void
front_eof(struct conn *c, int n)
{
	if (n == 0 && c->c_nreqs == 0 && c->c_mgmt == NULL &&
	    c->c_proto->cp_idle(c) && evbuffer_get_length(c->c_front.s_in) ==
	    0) {
		/*
		 * A clean close only once our output is out: the last
		 * answer (its END_REQUEST) may still wait for a web server
		 * that half-closed before reading it (fuzz_conn's find).
		 */
		if (evbuffer_get_length(c->c_front.s_out) > 0) {
			side_read_on(&c->c_front, 0);
			if (c->c_state == CONN_QUIET)
				quiet_end(c);
			c->c_state = CONN_FLUSH;
			settle(c);
			return;
		}
		conn_close(c, NULL);
		return;
	}
	c->c_setup.cs_stats->sa_front_closed++;
	conn_close(c, n == 0 ? "front closed mid-request" :
	    "front connection error");
}

static void
front_wcb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	enter(c);
	settle(c);
	leave(c);
}

/* Decode what the front sent (the PROXY header, then the protocol's). */
static void
input(struct conn *c)
{
	const char	*why = NULL;
	int		 rc;
	size_t		 i;

	if (c->c_state == CONN_PREAMBLE && (pp_process(c) < 0 ||
	    c->c_state == CONN_PREAMBLE))
		return;
	c->c_decoding = 1;
	rc = c->c_proto->cp_input(c, &why);
	c->c_decoding = 0;
	if (c->c_state == CONN_CLOSING)
		return;
	if (rc < 0) {
		conn_close(c, why);
		return;
	}
	/* What this read gave each request goes to php-fpm in one write. */
	for (i = 0; i < FCGI_REQS_MAX && c->c_state < CONN_CLOSING; i++)
		if (c->c_reqs[i] != NULL)
			req_flush(c->c_reqs[i]);
	if (c->c_mgmt != NULL && c->c_state < CONN_CLOSING)
		req_flush(c->c_mgmt);
	settle(c);
}

/*
 * After anything happened on c: its answers written, paused requests
 * resumed, its reading and timers set from its state.  Not re-entered:
 * a nested call makes the outer one go round once more.
 */
static void
settle(struct conn *c)
{
	if (c->c_settling) {
		c->c_again = 1;
		return;
	}
	c->c_settling = 1;
	do {
		c->c_again = 0;
		settle_once(c);
	} while (c->c_again && c->c_state < CONN_CLOSING);
	c->c_settling = 0;
}

static void
settle_once(struct conn *c)
{
	if (flush_front(c) < 0 || c->c_state >= CONN_FLUSH)
		return;
	resume_requests(c);
	if (c->c_state >= CONN_FLUSH)
		return;
	if (c->c_nreqs == 0 && c->c_mgmt == NULL && c->c_closeafter) {
		/* The last request of a connection the web server ends. */
		side_read_on(&c->c_front, 0);
		c->c_state = CONN_FLUSH;
		c->c_again = 1;
		return;
	}
	idle_timer(c);
	reading(c);
	quiet_maybe(c);
}

/*
 * Write to the front; once the last bytes of a flushing connection are
 * out, close it, or linger when the front may still be writing.  -1 when
 * the connection closed or lingers.
 */
static int
flush_front(struct conn *c)
{
	if (c->c_state >= CONN_LINGER)
		return (-1);
	if (side_flush(&c->c_front) < 0) {
		conn_close(c, "front write error");
		return (-1);
	}
	if (c->c_state != CONN_FLUSH ||
	    evbuffer_get_length(c->c_front.s_out) > 0)
		return (0);
	if (c->c_state == CONN_FLUSH && c->c_proto->cp_input_done(c) &&
	    !c->c_cut && evbuffer_get_length(c->c_front.s_in) == 0)
		conn_close(c, NULL);
	else
		linger_start(c);
	return (-1);
}

/* Requests that stopped reading php-fpm (the front was full) go on. */
static void
resume_requests(struct conn *c)
{
	size_t	i;

	if (evbuffer_get_length(c->c_front.s_out) > WM_LOW)
		return;
	for (i = 0; i < FCGI_REQS_MAX && c->c_state < CONN_FLUSH; i++)
		if (c->c_reqs[i] != NULL && c->c_reqs[i]->r_paused)
			req_resume(c->c_reqs[i]);
}

/*
 * Read the front when it may send something a request can take: not
 * while a BEGIN_REQUEST is held or a request's php-fpm is slower than
 * the web server (back-pressure).  What is buffered already is decoded.
 */
static void
reading(struct conn *c)
{
	int	want = input_wanted(c);

	if (c->c_state == CONN_QUIET && !want)
		quiet_end(c);
	side_read_on(&c->c_front, want);
	if (want && !c->c_decoding && (c->c_kick ||
	    evbuffer_get_length(c->c_front.s_in) > 0))
		input(c);
}

static int
input_wanted(const struct conn *c)
{
	return (!c->c_held && !(c->c_mgmt != NULL &&
	    c->c_mgmt->r_input_done) && !conn_reqs_full(c));
}

/* Armed exactly while no request is in flight. */
static void
idle_timer(struct conn *c)
{
	if (c->c_nreqs > 0 || c->c_mgmt != NULL) {
		if (c->c_idle_timer != NULL)
			evtimer_del(c->c_idle_timer);
		return;
	}
	if (timer(c, &c->c_idle_timer, idle_timer_cb) == NULL ||
	    evtimer_pending(c->c_idle_timer, NULL))
		return;
	side_timer(c->c_idle_timer, c->c_requests == 0 ?
	    c->c_app->a_params_timeout_ms : c->c_app->a_idle_timeout_ms);
}

/*
 * One request on a connection the web server does not keep, all of it
 * read: nothing more comes before our answer (see WATCH_MS).  Kept and
 * multiplexed connections are always watched: their next request may
 * come at any time.
 */
static void
quiet_maybe(struct conn *c)
{
	struct req	*r = c->c_reqs[0];

	if (c->c_state != CONN_OPEN || c->c_nreqs != 1 || r == NULL ||
	    r->r_keep || c->c_ctx.x_mux || !r->r_input_done ||
	    r->r_state == REQ_DONE || !c->c_proto->cp_input_done(c) ||
	    evbuffer_get_length(c->c_front.s_in) > 0)
		return;
	if (timer(c, &c->c_watch_timer, watch_timer_cb) == NULL)
		return;
	c->c_state = CONN_QUIET;
	side_quiet(&c->c_front, 1);
	side_timer(c->c_watch_timer, WATCH_MS);
}

static void
quiet_end(struct conn *c)
{
	c->c_state = CONN_OPEN;
	evtimer_del(c->c_watch_timer);
	side_quiet(&c->c_front, 0);
}

/* Our answer is out: FIN, then read and drop what the front still sends. */
static void
linger_start(struct conn *c)
{
	if (timer(c, &c->c_linger_timer, linger_timer_cb) == NULL)
		return;
	c->c_state = CONN_LINGER;
	if (shutdown(c->c_front.s_fd, SHUT_WR) < 0) {
		conn_close(c, NULL);
		return;
	}
	evbuffer_drain(c->c_front.s_in, evbuffer_get_length(c->c_front.s_in));
	side_quiet(&c->c_front, 0);
	side_read_on(&c->c_front, 1);
	side_timer(c->c_linger_timer, LINGER_MS);
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
	char			why[128], a[ADDR_STRLEN];

	while (c->c_state == CONN_PREAMBLE && evbuffer_peek(c->c_front.s_in,
	    -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		st = pp_dec_feed(c->c_ppdec, v.iov_base, v.iov_len, &used,
		    c->c_pp);
		evbuffer_drain(c->c_front.s_in, used);
		if (st == PP_MORE)
			continue;
		if (st != PP_OK) {
			snprintf(why, sizeof(why), "PROXY protocol: %s",
			    pp_strerror(st));
			conn_close(c, why);
			return (-1);
		}
		evtimer_del(c->c_pp_timer);
		free(c->c_ppdec);
		c->c_ppdec = NULL;
		pp_keep_cert(c);
		if (!c->c_pp->r_local) {
			c->c_ctx.x_pp = c->c_pp;
			addr_format(&c->c_pp->r_src, a);
			snprintf(c->c_peer, sizeof(c->c_peer), "%s:%d(proxy)",
			    a, c->c_pp->r_src_port);
		}
		return (start(c));
	}
	return (0);
}

/*
 * The SSL TLV was gathered whole for its client certificate: keep the
 * certificate alone, once, in the form the requests pass it to the
 * policy (PROXY_PROTOCOL_SSL_CERT): URL-encoded PEM, as the other
 * sources carry one (a param value holds no NUL, CR or LF).
 */
static void
pp_keep_cert(struct conn *c)
{
	static const char	 head[] = "-----BEGIN%20CERTIFICATE-----%0A";
	static const char	 tail[] = "-----END%20CERTIFICATE-----%0A";
	size_t			 n = c->c_pp->r_ssl_cert_len, b64, len, i, k;
	char			*pem = NULL, *b = NULL;

	if (c->c_ppssl == NULL)
		return;
	b64 = 4 * ((n + 2) / 3);
	if (c->c_pp->r_ssl_cert != NULL && (b = malloc(b64 + 1)) != NULL &&
	    (pem = malloc(sizeof(head) + b64 + (b64 / 64 + 1) * 3 +
	    sizeof(tail))) != NULL) {
		EVP_EncodeBlock((unsigned char *)b, c->c_pp->r_ssl_cert,
		    (int)n);
		memcpy(pem, head, sizeof(head) - 1);
		len = sizeof(head) - 1;
		for (i = 0; i < b64; i += k) {
			k = b64 - i < 64 ? b64 - i : 64;
			memcpy(pem + len, b + i, k);
			memcpy(pem + len + k, "%0A", 3);
			len += k + 3;
		}
		memcpy(pem + len, tail, sizeof(tail) - 1);
		c->c_ctx.x_ppcert = pem;
		c->c_ctx.x_ppcertlen = len + sizeof(tail) - 1;
	}
	free(b);
	free(c->c_ppssl);
	c->c_ppssl = pem;	/* freed with the connection */
	c->c_pp->r_ssl_cert = NULL;
	c->c_pp->r_ssl_cert_len = 0;
}

/* A request wrote to the front, or can take input again: settle. */
static void
req_settle(void *owner, struct req *r)
{
	struct conn	*c = owner;

	(void)r;
	enter(c);
	settle(c);
	leave(c);
}

/*
 * Request r is over.  What its end means for the connection: a daemon's
 * answer alone on its connection closes it (SPEC §5.5), as does a broken
 * answer; a web server that did not keep its connection gets it closed
 * once its requests are done.
 */
static void
req_ended(void *owner, struct req *r, enum req_end how, struct upc *kept)
{
	struct conn	*c = owner;
	int		 keep = r->r_keep, mux = c->c_ctx.x_mux;
	int		 mgmt = r == c->c_mgmt;
	unsigned	 r_id = r->r_id;

	enter(c);
	c->c_proto->cp_ended(c, r, how);
	if (mgmt)
		c->c_mgmt = NULL;
	else if (r->r_slot >= 0 && c->c_reqs[r->r_slot] == r) {
		c->c_reqs[r->r_slot] = NULL;
		c->c_nreqs--;
	}
	req_free(r);
	if (kept != NULL && c->c_kept == NULL &&
	    c->c_state < CONN_FLUSH) {
		c->c_kept = kept;
		up_hold(kept, &conn_kept_ops, c);
	} else if (kept != NULL) {
		up_drop(kept);
	}
	/* A GET_VALUES answered, even as unknown, leaves the rest be. */
	if (c->c_state < CONN_FLUSH && (how == REQ_CUT || (!mgmt &&
	    ((how == REQ_ANSWERED && !mux) || (!keep && !mux))))) {
		if (how == REQ_CUT)	/* the others go with it */
			drop_requests(c, r_id);
		side_read_on(&c->c_front, 0);
		if (c->c_state == CONN_QUIET)
			quiet_end(c);
		c->c_state = CONN_FLUSH;
	} else if (!keep) {
		c->c_closeafter = 1;
	}
	c->c_kick = 1;
	settle(c);
	leave(c);
}

/*
 * A broken answer closes the connection (SPEC §5.5: only a close tells
 * the web server) under what else is in flight on it: the requests of a
 * multiplexing web server, a GET_VALUES.  Each is ended now, with its log
 * line, not left to its timers while the connection flushes and lingers
 * (fuzz_conn's find).
 */
static void
drop_requests(struct conn *c, unsigned cut)
{
	struct req	*r;
	size_t		 i;

	for (i = 0; i <= FCGI_REQS_MAX; i++) {
		r = i < FCGI_REQS_MAX ? c->c_reqs[i] : c->c_mgmt;
		if (r == NULL)
			continue;
		req_log(r, LOG_LVL_INFO, "abort", "reason=\"php-fpm's answer "
		    "to %s%u broke off: the connection closes\"", cut > 0 ?
		    "req=" : "a management record, id ", cut);
		c->c_proto->cp_ended(c, r, REQ_CUT);
		if (i == FCGI_REQS_MAX) {
			c->c_mgmt = NULL;
			req_free(r);
			continue;
		}
		c->c_reqs[i] = NULL;
		c->c_nreqs--;
		req_abort(r);
	}
}

static void
req_close(void *owner, struct req *r, const char *reason)
{
	struct conn	*c = owner;

	enter(c);
	/* The log line names the request that closed it. */
	if (c->c_ctx.x_mux)
		c->c_closereq = r->r_id;
	conn_close(c, reason);
	leave(c);
}

/* php-fpm closed the connection held between requests: nothing lost. */
static void
kept_unbound(void *owner)
{
	struct conn	*c = owner;

	c->c_kept = NULL;
}

static void
kept_noop(void *owner, struct upc *u)
{
	(void)owner;
	(void)u;
}

static void
kept_failed(void *owner, const char *status, const char *why)
{
	struct conn	*c = owner;

	(void)status;
	(void)why;
	if (c->c_kept != NULL) {
		up_drop(c->c_kept);
		c->c_kept = NULL;
	}
}
