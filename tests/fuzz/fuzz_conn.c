/*
 * libFuzzer target: one whole front connection of the real daemon/ code
 * (conn, conn_fcgi, conn_scgi, request, upstream, side, log...) on a real
 * event base, over a socketpair, with a scripted php-fpm (fpm_script.c)
 * on a unix socket served by the same loop.
 *
 * Setup, once: five apps from a config file read by cfg_load() as the
 * daemon reads its own (fcgi: no pool; pool: upstream_max_conns 3, so
 * requests multiplex; scgi; proxy: PROXY protocol, a pool of 2; pool2: a
 * dead upstream before the live one, 2 each, so that requests queue once
 * the dead one is marked down, and status and ping pages), all with
 * timeouts of 15-30 ms so that a stall shows as a timeout within the run.
 * Those milliseconds are read on vclock.c's clock, which moves on at once
 * whenever the loop would sleep: an input costs its CPU time only.
 * The daemon logs to a file the harness reads after every loop pass.
 *
 * An input:
 *   byte 0   app (bits 0-2, modulo 5); bit 3 every write of up to 256
 *            bytes goes one byte at a time, a loop pass after each; bit 4
 *            4 KiB socket buffers on the front; bit 5 the first op is
 *            written before the daemon takes the socket (conn_accept's
 *            first read); bit 6 the script starts with a batch (below)
 *   byte 1   the scripted php-fpm's default answer (fuzz_conn.h)
 *   byte 2   its switches (FPM_F_*)
 *   then     for the proxy app, a PROXY header (see proxy_header), and
 *            ops, each a byte and its arguments (see run_op): records
 *            generated from a few bytes (BEGIN_REQUEST, PARAMS pairs, the
 *            empty PARAMS, STDIN, DATA, ABORT_REQUEST, GET_VALUES, a whole
 *            request), raw bytes, a split of the next write at any byte,
 *            a pair cut across PARAMS records of other requests, a
 *            half-close, a close, a pause in reading, the loop run a while,
 *            a reload (the app's pool replaced by a new one, of the same
 *            config or of a second one whose pools work otherwise, as
 *            listener_update() does on SIGHUP), a request on a second
 *            connection to the app, or its close (load on the pool: the
 *            main connection's requests queue), a batch (the records of
 *            the ops between two batch ops go out in one write, as a
 *            multiplexing web server writes them); for the scgi app,
 *            netstring headers and body bytes.
 * The daemon gets its end of the socketpair by conn_accept(), as
 * listener.c hands it an accepted socket, with a pool of its own per
 * input (up_pool_new, as a listener does).  A loop pass follows every op.
 *
 * Invariants (abort() with a report on violation):
 *   - The daemon writes well-formed FastCGI: records for an id only while
 *     it is in flight (after its BEGIN_REQUEST, up to its END_REQUEST),
 *     one END_REQUEST per BEGIN_REQUEST, never more GET_VALUES_RESULTs
 *     than GET_VALUES; an answer from php-fpm goes to the request it
 *     belongs to (the scripted php-fpm names it in its first line), and
 *     none of the second connection's goes to the main one or back.
 *   - php-fpm gets what it can read: one request at a time per
 *     connection, records of that request only (fpm_script.c).
 *   - No stall: within SETTLE_MS of the end of the script every request
 *     the client began has ended or the connection was ended by the
 *     daemon; a connection closed by "params timeout" or "idle timeout"
 *     at least MARGIN_MS after the client had sent everything its open
 *     requests needed is a stall rescued by a timer (issue J's class).
 *   - A request that began (BEGIN_REQUEST sent, params complete) gets its
 *     END_REQUEST, or the daemon ended the connection with a log line
 *     about it (unless the web server's own protocol let it drop the
 *     request: after a request without FCGI_KEEP_CONN, or after the
 *     daemon's own answer on a connection of one request at a time).
 *   - After the client closes: the connection is freed (the app's
 *     connection count back to 0), the pool (and each a reload retired)
 *     holds no connection, busy, idle or queued, php-fpm sees every
 *     connection closed, no socket is left open; ASan checks the memory
 *     (leaks at exit).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <fastcgi.h>

#include "config/config.h"
#include "daemon/conn.h"
#include "daemon/gen.h"
#include "daemon/log.h"
#include "daemon/status.h"
#include "daemon/upstream.h"
#include "tests/fuzz/fuzz_conn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define LOOP_BUDGET_MS	60	/* "run the loop a while" ops, per input */
#define SETTLE_MS	180	/* after the script: everything ends */
#define STARVED_MS	1000	/* ... or within this more, when starved */
#define TEARDOWN_MS	100	/* after the client's close: all freed */
#define MARGIN_MS	10	/* a timeout this long after the last byte */
#define BIG_MAX		(512 * 1024)	/* large STDIN or body, per input */
#define MAXIDS		32
#define HEAD_MAX	64
#define STASH_MAX	8192
#define TRACE_MAX	4096
#define LOGRING		6144
#define TIMEOUTS	"params_timeout_ms = 30; idle_timeout_ms = 30; " \
			"connect_timeout_ms = 20; queue_timeout_ms = 15; " \
			"upstream_idle_timeout_ms = 20; upstream_down_ms = 15; " \
			"max_params_bytes = 2048;"

enum { APP_FCGI, APP_POOL, APP_SCGI, APP_PROXY, APP_POOL2, NAPPS };
enum { P_CONF, P_LOG, P_FPM, P_DEAD, P_CONF2, NPATH };
#define MAXRELOADS	4	/* per input */
#define MAXBG		4	/* background connections per input */
#define BG_TAG		100000	/* their requests' tags: no id's */

static const char *const app_names[NAPPS] = {
	"fcgi", "pool", "scgi", "proxy", "pool2"
};

/* What lives for the whole process. */
static struct {
	char			 dir[64];
	char			 path[NPATH][128];	/* see setup() */
	struct event_base	*base;
	struct cfg		*cfg, *cfg2;	/* cfg2: what a reload reads */
	struct gen		*gen, *gen2;
	const struct cfg_app	*app[NAPPS], *app2[NAPPS];
	struct status_app	*stats[NAPPS];
	unsigned long		 untrusted;
	int			 logfd;
	int			 nfd;		/* sockets after setup */
	unsigned long		 conns;		/* conn_accept()s: the id */
	struct event		*tick;
	struct evbuffer		*pend;		/* client bytes not yet sent */
	struct evbuffer		*op;		/* the op being built */
	struct evbuffer		*pb;		/* pairs being built */
	struct evbuffer		*bgout;		/* a background connection's
						   answers not yet checked */
	struct evbuffer		*bgop;		/* its request being built */
} S;

/* One request id, as the client sent it and the daemon answered it. */
struct rq {
	unsigned	id;
	unsigned	begins;		/* BEGIN_REQUESTs sent */
	unsigned	ends;		/* END_REQUESTs received */
	int		keep;
	int		pd;		/* the empty PARAMS sent */
	int		sd;		/* the empty STDIN sent */
	int		exempt;		/* the daemon may drop it silently */
	char		head[HEAD_MAX];	/* first STDOUT bytes of its answer */
	size_t		hlen;
	uint8_t		stash[STASH_MAX];	/* a pair's tail, for later */
	size_t		slen;
};

/* One input. */
static struct {
	const uint8_t	*p;
	size_t		 n, off;
	int		 app, scgi, proxy, pooled;
	const struct cfg_app *a;
	struct up_pool	*pool;
	struct up_pool	*old[MAXRELOADS];	/* pools a reload retired */
	size_t		 nold;
	const struct cfg_app *acur;	/* the app a listener has now */
	struct gen	*gcur;
	/* A second web-server connection to the app: load on the pool. */
	int		 bg_fd;
	struct event	*bg_rev;
	size_t		 bg_active;
	struct conn	*bg_list;
	unsigned	 bg_opened, bg_sent;
	int		 cfd, dfd;
	struct event	*rev, *wev;
	size_t		 active;	/* the app's connection count */
	struct conn	*list;
	unsigned long	 id;		/* the daemon's conn id */
	int		 accepted, closed, eof, wdead, shut, cclosed, paused;
	int		 bytewise, split, batch;
	uint8_t		 split_at;
	double		 t_close, t_last_write, loop_left;
	size_t		 big_left;
	size_t		 queued, written, skip;	/* skip: the PROXY header */
	int		 pp_raw;	/* no PROXY header made: unknown */
	/* The log. */
	int		 have_reason, logged;
	char		 reason[64];
	char		 partial[1024];
	size_t		 plen;
	char		 ring[LOGRING];
	size_t		 rlen;
	/* The client's stream (model) and the daemon's answer (output). */
	struct rq	 rq[MAXIDS];
	size_t		 nrq;
	int		 unsure, broken, began, mux, after_nokeep, dropped;
	int		 idfull;
	unsigned	 values_sent, values_recv;
	uint8_t		 m_hdr[FCGI_HEADER_LEN], m_body[8];
	size_t		 m_hlen, m_left, m_pad, m_blen;
	uint8_t		 o_hdr[FCGI_HEADER_LEN];
	size_t		 o_hlen, o_left, o_pad;
	size_t		 nout;
	/* SCGI. */
	int		 s_valid, s_unsure;
	size_t		 s_hdr_end, s_need;
	char		 s_head[HEAD_MAX];
	size_t		 s_hlen;
	char		 trace[TRACE_MAX];
	size_t		 tlen;
	int64_t		 skew0;		/* vclock_skew_ms() at its start */
} T;

static void	setup(void);
static void	write_config(const char *, int);
static struct cfg *read_config(const char *, struct gen **,
		    const struct cfg_app **);
static int	count_fds(void);
static void	list_fds(void);
static void	trace(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	log_drain(void);
static void	log_line(const char *);
static void	hook_closed(void *);
static void	check_close(void);
static void	hand_over(int, size_t *, struct conn **, void (*)(void *),
		    unsigned long *);
static void	accept_now(void);
static void	client_rcb(evutil_socket_t, short, void *);
static void	client_wcb(evutil_socket_t, short, void *);
static void	client_read(void);
static void	client_close(void);
static void	flush_pend(void);
static void	sent(const uint8_t *, size_t);
static void	cw(const void *, size_t);
static void	emit(void);
static void	batch_end(void);
static int	op_kind(uint8_t);
static void	pass(void);
static void	tick_cb(evutil_socket_t, short, void *);
static void	run_until(int (*)(void), double);
static int	never(void);
static int	settled(void);
static int	conn_gone(void);
static int	pool_empty(void);
static struct rq *rq_get(unsigned, int);
static int	rq_open(const struct rq *);
static void	model_feed(const uint8_t *, size_t);
static void	model_header(void);
static void	model_record(void);
static void	out_feed(const uint8_t *, size_t);
static void	out_header(void);
static void	out_record(void);
static void	check_answer(struct rq *);
static void	check_tag(const char *, size_t, unsigned, const char *);
static void	drop_rest(void);
static uint8_t	arg(void);
static unsigned	pick_id(uint8_t);
static void	rec(struct evbuffer *, unsigned, unsigned, const void *, size_t,
		    unsigned);
static void	pair(struct evbuffer *, const char *, size_t, const char *,
		    size_t);
static void	pairs_for(unsigned, uint8_t, unsigned);
static void	proxy_header(void);
static size_t	pp_v2(unsigned, uint8_t, uint8_t, uint8_t);
static size_t	pp_v2_tlvs(unsigned, uint8_t, uint8_t, uint8_t, uint8_t *);
static void	run_op(void);
static void	op_transport(unsigned);
static void	run_scgi_op(void);
static void	op_raw(void);
static void	op_begin(void);
static void	op_param(void);
static void	op_simple(unsigned);
static void	op_stdin(unsigned);
static void	op_values(void);
static void	op_request(void);
static void	op_big(void);
static void	op_bad(void);
static void	op_ptail(void);
static void	op_shut(void);
static void	op_loop(void);
static void	op_pause(void);
static void	op_scgi_header(void);
static void	op_scgi_body(int);
static void	scgi_pair(const char *, const char *);
static void	cleanup(void);
static void	check_settled(void);
static void	teardown(void);
static void	report(void);
static void	input_begin(const uint8_t *, size_t);

double
fz_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6);
}

void
fz_fail(const char *fmt, ...)
{
	va_list	ap;

	log_drain();		/* the lines of the loop pass under way */
	fprintf(stderr, "\n==fuzz_conn== INVARIANT: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n==fuzz_conn== app=%s conn=%lu bytes sent %zu, "
	    "received %zu; closed %d eof %d; model unsure %d broken %d mux %d\n"
	    "==fuzz_conn== ops:%s\n==fuzz_conn== the daemon's log (last "
	    "lines):\n%.*s\n", T.a != NULL ? app_names[T.app] : "-", T.id,
	    T.written, T.nout, T.closed, T.eof, T.unsure, T.broken, T.mux,
	    T.trace, (int)T.rlen, T.ring);
	cleanup();		/* abort() skips atexit */
	abort();
}

/* The ops of this input, for the report. */
static void
trace(const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (T.tlen >= TRACE_MAX - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(T.trace + T.tlen, TRACE_MAX - T.tlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		T.tlen += (size_t)n < TRACE_MAX - T.tlen ? (size_t)n :
		    TRACE_MAX - T.tlen - 1;
}

/* What the descriptors are, for a report. */
static void
list_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[300], l[256];
	ssize_t		 n;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		if (e->d_name[0] != '.' && (n = readlink(p, l, sizeof(l) - 1)) > 0)
			fprintf(stderr, "==fuzz_conn== fd %s: %.*s\n", e->d_name,
			    (int)n, l);
	}
	closedir(d);
}

/*
 * Sockets open now.  Only sockets: the sanitizers' symbolizer keeps pipes
 * of its own, opened the first time a report is printed.
 */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[300], l[64];
	ssize_t		 k;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		if ((k = readlink(p, l, sizeof(l) - 1)) > 7 &&
		    memcmp(l, "socket:", 7) == 0)
			n++;
	}
	closedir(d);
	return (n);
}

/*
 * The config as the daemon reads one (SPEC §3): a file and cfg_load().
 * v 1 is what a reload reads: the same apps with their pools changed
 * (on where it was off and off where it was on, kept connections off,
 * a smaller bound): a pool that works as before takes the old one's
 * queue and requests (upstream.c, current()), the others do not.
 */
static void
write_config(const char *path, int v)
{
	static const char *const pools[2][NAPPS] = {
		{ "", "upstream_max_conns = 3;", "", "upstream_max_conns = 2;",
		  "upstream_max_conns = 2;" },
		{ "upstream_max_conns = 2;", "upstream_max_conns = 1;",
		  "upstream_max_conns = 1;", "upstream_max_conns = 2; "
		  "upstream_keepalive = false;", "" }
	};
	const char *const *pl = pools[v];
	FILE		*f;
	const char	*d = S.dir, *fpm = S.path[P_FPM];

	if ((f = fopen(path, "w")) == NULL)
		fz_fail("setup: %s: %s", path, strerror(errno));
	fprintf(f, "log_level = \"info\";\napps = (\n"
	    "{ name = \"fcgi\"; listen = \"unix:%s/fcgi.sock\"; upstream = "
	    "\"unix:%s\"; %s trusted_proxies = [ \"127.0.0.1\" ]; %s },\n"
	    "{ name = \"pool\"; listen = \"unix:%s/pool.sock\"; upstream = "
	    "\"unix:%s\"; %s trusted_proxies = [ \"127.0.0.1\" ]; %s },\n"
	    "{ name = \"scgi\"; listen = \"unix:%s/scgi.sock\"; protocol = "
	    "\"scgi\"; upstream = \"unix:%s\"; %s %s },\n"
	    "{ name = \"proxy\"; listen = \"unix:%s/proxy.sock\"; "
	    "proxy_protocol = true; upstream = \"unix:%s\"; %s "
	    "trusted_proxies = [ \"127.0.0.1\", "
	    "\"unix:\" ]; client_headers = [ \"PROXY_PROTOCOL_ADDR\" ]; "
	    "proto_headers = [ \"PROXY_PROTOCOL_PROTO\" ]; host_headers = "
	    "[ \"PROXY_PROTOCOL_AUTHORITY\" ]; client_cert_from = "
	    "\"proxy_protocol\"; %s },\n"
	    "{ name = \"pool2\"; listen = \"unix:%s/pool2.sock\"; upstream = "
	    "[ \"unix:%s\", \"unix:%s\" ]; %s "
	    "status_path = \"/status\"; ping_path = \"/ping\"; "
	    "reject_params = [ \"HTTP_X_REJECT\" ]; trusted_proxies = "
	    "[ \"127.0.0.1\" ]; %s }\n);\n",
	    d, fpm, pl[0], TIMEOUTS, d, fpm, pl[1], TIMEOUTS, d, fpm, pl[2],
	    TIMEOUTS, d, fpm, pl[3], TIMEOUTS, d, S.path[P_DEAD], fpm, pl[4],
	    TIMEOUTS);
	fclose(f);
}

/* A config file, its generation and its apps. */
static struct cfg *
read_config(const char *path, struct gen **g, const struct cfg_app **app)
{
	struct cfg_errors	 errs;
	struct cfg		*cfg;
	size_t			 i;

	cfg_errors_init(&errs);
	cfg = cfg_load(path, &errs);
	for (i = 0; i < errs.e_n; i++)
		fprintf(stderr, "fuzz_conn: config: %s\n", errs.e_v[i].m_text);
	cfg_errors_free(&errs);
	if (cfg == NULL)
		fz_fail("setup: the config %s was refused", path);
	if ((*g = gen_new(cfg)) == NULL)
		fz_fail("setup: out of memory");
	for (i = 0; i < NAPPS; i++)
		if ((app[i] = cfg_app_find(cfg, app_names[i])) == NULL)
			fz_fail("setup: app %s", app_names[i]);
	return (cfg);
}

static void
cleanup(void)
{
	size_t	i;

	for (i = 0; i < NPATH; i++)
		unlink(S.path[i]);
	rmdir(S.dir);
}

static void
setup(void)
{
	static const char	*const names[NPATH] = { "fuzz.conf", "log",
	    "fpm.sock", "dead.sock", "reload.conf" };
	struct event_config	*ecfg;
	size_t			 i;

	snprintf(S.dir, sizeof(S.dir), "/tmp/fuzz_conn.XXXXXX");
	if (mkdtemp(S.dir) == NULL)
		fz_fail("setup: mkdtemp: %s", strerror(errno));
	for (i = 0; i < NPATH; i++)
		snprintf(S.path[i], sizeof(S.path[i]), "%s/%s", S.dir,
		    names[i]);
	atexit(cleanup);
	write_config(S.path[P_CONF], 0);
	write_config(S.path[P_CONF2], 1);
	S.cfg = read_config(S.path[P_CONF], &S.gen, S.app);
	S.cfg2 = read_config(S.path[P_CONF2], &S.gen2, S.app2);
	/* The log goes to a file the harness reads after every loop pass. */
	if (log_init(S.path[P_LOG], LOG_LVL_INFO) < 0 ||
	    (S.logfd = open(S.path[P_LOG], O_RDONLY | O_CLOEXEC)) < 0)
		fz_fail("setup: log %s: %s", S.path[P_LOG], strerror(errno));
	signal(SIGPIPE, SIG_IGN);	/* as srv_main() */
	/* As server.c's loop_init(): the changelist folds epoll_ctls. */
	if ((ecfg = event_config_new()) == NULL ||
	    event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) ||
	    (S.base = event_base_new_with_config(ecfg)) == NULL)
		fz_fail("setup: event_base_new failed");
	event_config_free(ecfg);
	for (i = 0; i < NAPPS; i++)
		if ((S.stats[i] = gen_app_stats(app_names[i])) == NULL)
			fz_fail("setup: app %s", app_names[i]);
	if (fpm_start(S.base, S.path[P_FPM]) < 0)
		fz_fail("setup: php-fpm on %s: %s", S.path[P_FPM],
		    strerror(errno));
	S.tick = evtimer_new(S.base, tick_cb, NULL);
	S.pend = evbuffer_new();
	S.op = evbuffer_new();
	S.pb = evbuffer_new();
	S.bgout = evbuffer_new();
	S.bgop = evbuffer_new();
	if (S.tick == NULL || S.pend == NULL || S.op == NULL || S.pb == NULL ||
	    S.bgout == NULL || S.bgop == NULL)
		fz_fail("setup: out of memory");
	S.nfd = count_fds();
}

/* The daemon's new log lines (the file is truncated per input). */
static void
log_drain(void)
{
	char	buf[8192], *nl, *s;
	ssize_t	n;
	size_t	k;

	while ((n = read(S.logfd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (s = buf; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
			*nl = '\0';
			k = sizeof(T.partial) - 1 - T.plen;
			k = strlen(s) < k ? strlen(s) : k;
			memcpy(T.partial + T.plen, s, k);
			T.partial[T.plen + k] = '\0';
			log_line(T.partial);
			T.plen = 0;
		}
		k = strlen(s);
		k = k < sizeof(T.partial) - 1 - T.plen ? k :
		    sizeof(T.partial) - 1 - T.plen;
		memcpy(T.partial + T.plen, s, k);
		T.plen += k;
	}
}

/* One line: kept for the report; what it says about our connection. */
static void
log_line(const char *l)
{
	char		 tag[48];
	const char	*r, *e;
	size_t		 n = strlen(l) + 1;

	if (n > LOGRING / 2)
		n = LOGRING / 2;
	if (T.rlen + n > LOGRING) {
		memmove(T.ring, T.ring + T.rlen / 2, T.rlen - T.rlen / 2);
		T.rlen -= T.rlen / 2;
	}
	memcpy(T.ring + T.rlen, l, n - 1);
	T.ring[T.rlen + n - 1] = '\n';
	T.rlen += n;
	snprintf(tag, sizeof(tag), " conn=%lu peer=", T.id);
	if (strstr(l, tag) == NULL)
		return;
	/* php-fpm's answer broke off: the request ends with this line. */
	if (strstr(l, " upstream ") != NULL)
		T.logged = 1;
	snprintf(tag, sizeof(tag), " close conn=%lu peer=", T.id);
	if (strstr(l, tag) == NULL || (r = strstr(l, "reason=\"")) == NULL)
		return;
	r += 8;
	if ((e = strchr(r, '"')) == NULL)
		e = r + strlen(r);
	snprintf(T.reason, sizeof(T.reason), "%.*s", (int)(e - r), r);
	T.have_reason = T.logged = 1;
}

/* The connection's cs_closed hook: conn_free() is done with it. */
static void
hook_closed(void *arg)
{
	(void)arg;
	if (T.active == 0)
		fz_fail("a connection closed twice");
	T.active--;
	T.closed = 1;
	T.t_close = fz_now();
	log_drain();
	client_read();		/* what the daemon wrote before closing */
	check_close();
}

/*
 * Issue J's class: a timer closed a connection whose client had sent,
 * MARGIN_MS or more before, everything its open requests needed.  The
 * daemon sat on input it had (or could read) until the timeout.
 */
static void
check_close(void)
{
	size_t		 i, n = 0;
	struct rq	*r;
	int		 idle;

	if (!T.have_reason || T.cclosed || T.shut || T.paused ||
	    (T.proxy && (T.pp_raw || T.written < T.skip)))
		return;
	if (strcmp(T.reason, "params timeout") == 0)
		idle = 0;
	else if (strcmp(T.reason, "idle timeout") == 0)
		idle = 1;
	else
		return;
	if (evbuffer_get_length(S.pend) > 0 ||
	    T.t_close - T.t_last_write < MARGIN_MS)
		return;
	if (T.scgi) {
		if (T.s_unsure || !T.s_valid || T.written < T.s_hdr_end ||
		    (idle && T.written - T.s_hdr_end < T.s_need))
			return;
		fz_fail("stall: the SCGI connection was closed by \"%s\" %.1f "
		    "ms after the client had sent its whole %s", T.reason,
		    T.t_close - T.t_last_write, idle ? "request" : "header");
	}
	if (T.unsure || T.broken)
		return;
	for (i = 0; i < T.nrq; i++) {
		r = &T.rq[i];
		if (!rq_open(r))
			continue;
		if (r->exempt || !r->pd || (idle && !r->sd))
			return;
		n++;
	}
	if (n > 0)
		fz_fail("stall: the connection was closed by \"%s\" %.1f ms "
		    "after the client had sent everything its %zu open "
		    "requests needed", T.reason, T.t_close - T.t_last_write, n);
}

/*
 * Hand the daemon fd, as listener.c's accept_cb does, with what
 * listener_update() left after a reload: its app and pool.  *id: the
 * daemon's conn id for it (its log lines'), the count of these.
 */
static void
hand_over(int fd, size_t *active, struct conn **list, void (*closed)(void *),
    unsigned long *id)
{
	struct sockaddr_un	sun;
	struct conn_setup	cs;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	cs = (struct conn_setup){ .cs_base = S.base, .cs_gen = T.gcur,
	    .cs_app = T.acur, .cs_pool = T.pool, .cs_stats = S.stats[T.app],
	    .cs_untrusted = &S.untrusted, .cs_active = active,
	    .cs_list = list, .cs_closed = closed, .cs_arg = NULL };
	(*active)++;
	++S.conns;
	if (id != NULL)
		*id = S.conns;
	conn_accept(&cs, fd, (struct sockaddr *)&sun,
	    (int)sizeof(sa_family_t));
}

static void
accept_now(void)
{
	T.accepted = 1;
	T.pooled = T.acur->a_upstream_max_conns > 0;
	hand_over(T.dfd, &T.active, &T.list, hook_closed, &T.id);
}

static void
client_rcb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	client_read();
}

static void
client_wcb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	flush_pend();
}

/* Everything the daemon wrote so far, parsed as it comes. */
static void
client_read(void)
{
	uint8_t	buf[65536];
	ssize_t	n;

	while (T.cfd >= 0 && !T.eof) {
		if ((n = read(T.cfd, buf, sizeof(buf))) > 0) {
			T.nout += (size_t)n;
			out_feed(buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		T.eof = 1;	/* EOF or reset: the daemon ended it */
		event_del(T.rev);
	}
}

static void
client_close(void)
{
	if (T.cfd < 0)
		return;
	event_free(T.rev);
	event_free(T.wev);
	T.rev = T.wev = NULL;
	close(T.cfd);
	T.cfd = -1;
	T.cclosed = T.wdead = 1;
	evbuffer_drain(S.pend, evbuffer_get_length(S.pend));
}

/* Send what is pending, as far as the socket takes it. */
static void
flush_pend(void)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	while (!T.wdead && evbuffer_peek(S.pend, -1, NULL, &v, 1) > 0) {
		if ((n = write(T.cfd, v.iov_base, v.iov_len)) > 0) {
			sent(v.iov_base, (size_t)n);
			evbuffer_drain(S.pend, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			event_add(T.wev, NULL);
			return;
		}
		T.wdead = 1;	/* EPIPE, reset: the daemon is gone */
		evbuffer_drain(S.pend, evbuffer_get_length(S.pend));
	}
	if (T.wev != NULL)
		event_del(T.wev);
}

/* n bytes reached the daemon's socket: the model follows them. */
static void
sent(const uint8_t *p, size_t n)
{
	size_t	k;

	T.t_last_write = fz_now();
	if (T.written < T.skip) {
		k = T.skip - T.written < n ? T.skip - T.written : n;
		T.written += k;
		p += k;
		n -= k;
	}
	T.written += n;
	if (!T.scgi && n > 0)
		model_feed(p, n);
}

static void
cw(const void *p, size_t n)
{
	if (T.wdead || n == 0)
		return;
	evbuffer_add(S.pend, p, n);
	T.queued += n;
	flush_pend();
}

/*
 * Write the op: whole, in two at the split point, or a byte at a time,
 * with a loop pass between the pieces and after.
 */
static void
emit(void)
{
	size_t	 n = evbuffer_get_length(S.op), cut, i;
	uint8_t	*b;

	if (T.batch)
		return;		/* the batch goes in one write */
	b = evbuffer_pullup(S.op, -1);
	if (n == 0) {
		pass();
		return;
	}
	if (T.bytewise && n <= 256) {
		for (i = 0; i < n; i++) {
			cw(b + i, 1);
			pass();
		}
	} else if (T.split && n > 1) {
		cut = 1 + T.split_at % (n - 1);
		cw(b, cut);
		pass();
		cw(b + cut, n - cut);
	} else {
		cw(b, n);
	}
	T.split = 0;
	evbuffer_drain(S.op, n);
	pass();
}

/* Records made while batching go out now, in one write. */
static void
batch_end(void)
{
	if (T.batch) {
		T.batch = 0;
		trace(" ]");
		emit();
	}
}

/*
 * An op's kind (the byte modulo 18).  Ops that are not records (split,
 * half-close, close, loop, pause) end a batch first.
 */
static int
op_kind(uint8_t o)
{
	int	k = o % 18;

	if ((k >= 7 && k <= 11) || (k == 17 && T.batch))
		batch_end();
	else if (k == 17) {
		T.batch = 1;
		trace(" [");
	}
	return (k);
}

static void
pass(void)
{
	event_base_loop(S.base, EVLOOP_NONBLOCK);
	log_drain();
	flush_pend();
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
}

/* Run the loop until done() or the deadline (ms on fz_now's clock). */
static void
run_until(int (*done)(void), double deadline)
{
	struct timeval	tv;
	double		left;

	while (!done() && (left = deadline - fz_now()) > 0) {
		if (left > 50)
			left = 50;
		tv.tv_sec = 0;
		tv.tv_usec = (long)(left * 1000) + 1;
		evtimer_add(S.tick, &tv);
		event_base_loop(S.base, EVLOOP_ONCE);
		log_drain();
		flush_pend();
	}
	evtimer_del(S.tick);
}

static int
never(void)
{
	return (0);
}

/* Nothing more will happen without the client: ended, or all answered. */
static int
settled(void)
{
	size_t	i;

	if (T.closed || T.eof)
		return (1);
	if (!T.wdead && evbuffer_get_length(S.pend) > 0)
		return (0);
	if (T.scgi)
		return (0);	/* an SCGI connection always ends */
	if (T.proxy && (T.pp_raw || T.written < T.skip))
		return (1);	/* the daemon waits 5 s for the header */
	for (i = 0; i < T.nrq; i++)
		if (rq_open(&T.rq[i]))
			return (0);
	return (T.values_recv >= T.values_sent || T.broken);
}

static int
conn_gone(void)
{
	return (T.active == 0 && T.list == NULL && T.bg_active == 0 &&
	    T.bg_list == NULL);
}

static int
one_empty(struct up_pool *p)
{
	struct status_live	sl;
	struct status_upstream	su[4];

	memset(&sl, 0, sizeof(sl));
	up_status(p, &sl, su, 4);
	return (sl.sl_busy == 0 && sl.sl_idle == 0 && sl.sl_queue_len == 0);
}

/* The input's pool, and those a reload retired, empty; php-fpm too. */
static int
pool_empty(void)
{
	size_t	i;

	for (i = 0; i < T.nold; i++)
		if (!one_empty(T.old[i]))
			return (0);
	return (one_empty(T.pool) && fpm_open() == 0);
}

/*
 * The pools empty and every socket of the input closed.  A pool a reload
 * retired reports its successor's counts (upstream.c, current()), so one
 * of its own php-fpm connections, closed by php-fpm, may be counted
 * empty while it still waits for its EOF to be read.
 */
static int
drained(void)
{
	return (pool_empty() && count_fds() == S.nfd);
}

static struct rq *
rq_get(unsigned id, int create)
{
	size_t	i;

	for (i = 0; i < T.nrq; i++)
		if (T.rq[i].id == id)
			return (&T.rq[i]);
	if (!create)
		return (NULL);
	if (T.nrq == MAXIDS) {
		T.idfull = T.unsure = 1;
		return (NULL);
	}
	memset(&T.rq[T.nrq], 0, sizeof(T.rq[0]));
	T.rq[T.nrq].id = id;
	return (&T.rq[T.nrq++]);
}

static int
rq_open(const struct rq *r)
{
	return (r->begins > r->ends);
}

/* The client's stream, record by record, as the daemon will decode it. */
static void
model_feed(const uint8_t *p, size_t n)
{
	size_t	k;

	while (n > 0 && !T.broken) {
		if (T.m_hlen < FCGI_HEADER_LEN) {
			k = FCGI_HEADER_LEN - T.m_hlen < n ?
			    FCGI_HEADER_LEN - T.m_hlen : n;
			memcpy(T.m_hdr + T.m_hlen, p, k);
			if ((T.m_hlen += k) == FCGI_HEADER_LEN)
				model_header();
		} else if (T.m_left > 0) {
			k = T.m_left < n ? T.m_left : n;
			if (T.m_blen + k <= sizeof(T.m_body)) {
				memcpy(T.m_body + T.m_blen, p, k);
				T.m_blen += k;
			}
			T.m_left -= k;
		} else {
			k = T.m_pad < n ? T.m_pad : n;
			T.m_pad -= k;
		}
		p += k;
		n -= k;
		if (T.m_hlen == FCGI_HEADER_LEN && !T.broken &&
		    T.m_left == 0 && T.m_pad == 0) {
			model_record();
			T.m_hlen = 0;
		}
	}
}

/* What makes the daemon close at once ends the model (broken). */
static void
model_header(void)
{
	const uint8_t	*h = T.m_hdr;
	unsigned	 id = (unsigned)(h[2] << 8 | h[3]);

	T.m_left = (size_t)(h[4] << 8 | h[5]);
	T.m_pad = h[6];
	T.m_blen = 0;
	if (h[0] != FCGI_VERSION_1)
		T.broken = 1;
	switch (h[1]) {
	case FCGI_BEGIN_REQUEST:
		if (T.m_left != 8 || id == 0)
			T.broken = 1;
		break;
	case FCGI_GET_VALUES:
		if (id != 0)
			T.broken = 1;
		break;
	case FCGI_ABORT_REQUEST:
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
		break;
	default:
		T.broken = 1;
	}
}

static void
model_record(void)
{
	unsigned	 type = T.m_hdr[1], id = (unsigned)(T.m_hdr[2] << 8 |
			    T.m_hdr[3]);
	int		 empty = T.m_hdr[4] == 0 && T.m_hdr[5] == 0;
	struct rq	*r;

	if (type == FCGI_GET_VALUES) {
		T.values_sent++;
		return;
	}
	if ((r = rq_get(id, 1)) == NULL)
		return;
	switch (type) {
	case FCGI_BEGIN_REQUEST:
		if (rq_open(r))
			T.unsure = 1;	/* held, or refused */
		r->begins++;
		r->keep = (T.m_body[2] & FCGI_KEEP_CONN) != 0;
		r->pd = r->sd = 0;
		r->hlen = 0;
		r->exempt = T.after_nokeep || T.dropped;
		if (!T.began) {
			T.began = 1;
			T.mux = T.pooled && r->keep;
		}
		if (!r->keep)
			T.after_nokeep = 1;
		break;
	case FCGI_PARAMS:
		if (!rq_open(r) || r->pd)
			T.unsure = 1;
		else if (empty)
			r->pd = 1;
		break;
	case FCGI_STDIN:
		if (!rq_open(r) || !r->pd || r->sd)
			T.unsure = 1;
		else if (empty)
			r->sd = 1;
		break;
	default:
		if (!rq_open(r))
			T.unsure = 1;
		break;
	}
}

/* The daemon's bytes to the web server, record by record. */
static void
out_feed(const uint8_t *p, size_t n)
{
	size_t		 k;
	struct rq	*r;

	if (T.scgi) {
		k = sizeof(T.s_head) - T.s_hlen < n ? sizeof(T.s_head) -
		    T.s_hlen : n;
		memcpy(T.s_head + T.s_hlen, p, k);
		T.s_hlen += k;
		return;
	}
	while (n > 0) {
		if (T.o_hlen < FCGI_HEADER_LEN) {
			k = FCGI_HEADER_LEN - T.o_hlen < n ?
			    FCGI_HEADER_LEN - T.o_hlen : n;
			memcpy(T.o_hdr + T.o_hlen, p, k);
			if ((T.o_hlen += k) == FCGI_HEADER_LEN)
				out_header();
		} else if (T.o_left > 0) {
			k = T.o_left < n ? T.o_left : n;
			r = rq_get((unsigned)(T.o_hdr[2] << 8 | T.o_hdr[3]), 0);
			if (r != NULL && T.o_hdr[1] == FCGI_STDOUT &&
			    r->hlen < HEAD_MAX) {
				memcpy(r->head + r->hlen, p, k < HEAD_MAX -
				    r->hlen ? k : HEAD_MAX - r->hlen);
				r->hlen += k < HEAD_MAX - r->hlen ? k :
				    HEAD_MAX - r->hlen;
			}
			T.o_left -= k;
		} else {
			k = T.o_pad < n ? T.o_pad : n;
			T.o_pad -= k;
		}
		p += k;
		n -= k;
		if (T.o_hlen == FCGI_HEADER_LEN && T.o_left == 0 &&
		    T.o_pad == 0) {
			out_record();
			T.o_hlen = 0;
		}
	}
}

static void
out_header(void)
{
	const uint8_t	*h = T.o_hdr;
	unsigned	 type = h[1], id = (unsigned)(h[2] << 8 | h[3]);
	struct rq	*r;

	T.o_left = (size_t)(h[4] << 8 | h[5]);
	T.o_pad = h[6];
	if (h[0] != FCGI_VERSION_1)
		fz_fail("the daemon wrote the web server a record of version "
		    "%u (type %u, id %u)", h[0], type, id);
	switch (type) {
	case FCGI_STDOUT:
	case FCGI_STDERR:
	case FCGI_END_REQUEST:
		r = rq_get(id, 0);
		if (id == 0 || (r == NULL && !T.idfull) ||
		    (r != NULL && !rq_open(r)))
			fz_fail("the daemon wrote %s for id %u, which is not in "
			    "flight (BEGIN_REQUESTs %u, END_REQUESTs %u)",
			    type == FCGI_STDOUT ? "STDOUT" : type ==
			    FCGI_STDERR ? "STDERR" : "END_REQUEST", id,
			    r ? r->begins : 0, r ? r->ends : 0);
		if (type == FCGI_END_REQUEST && T.o_left != 8)
			fz_fail("END_REQUEST of %zu bytes", T.o_left);
		break;
	case FCGI_GET_VALUES_RESULT:
	case FCGI_UNKNOWN_TYPE:
		if (id != 0)
			fz_fail("management record type %u on id %u", type, id);
		break;
	default:
		fz_fail("the daemon wrote the web server a record of type %u "
		    "(id %u)", type, id);
	}
}

static void
out_record(void)
{
	unsigned	 type = T.o_hdr[1], id = (unsigned)(T.o_hdr[2] << 8 |
			    T.o_hdr[3]);
	struct rq	*r;

	if (type == FCGI_GET_VALUES_RESULT && ++T.values_recv > T.values_sent)
		fz_fail("%u GET_VALUES_RESULTs for %u GET_VALUES",
		    T.values_recv, T.values_sent);
	if (type != FCGI_END_REQUEST || (r = rq_get(id, 0)) == NULL)
		return;
	r->ends++;
	check_answer(r);
	r->hlen = 0;
}

/*
 * php-fpm's answer names the request (its FZ tag) and the id it saw:
 * both must be this request's.  Any other answer is the daemon's own,
 * which ends a connection of one request at a time (conn.c req_ended).
 */
static void
check_answer(struct rq *r)
{
	static const char	pfx[] = "Status: 200 OK\r\nX-Fz: tag=";
	char			what[16];

	snprintf(what, sizeof(what), "request %u", r->id);
	if (r->hlen >= sizeof(pfx) - 1 && memcmp(r->head, pfx,
	    sizeof(pfx) - 1) == 0)
		check_tag(r->head, r->hlen, r->id, what);
	else if (!T.mux)
		drop_rest();
}

static void
check_tag(const char *h, size_t len, unsigned id, const char *what)
{
	char		 line[HEAD_MAX + 1], tag[16];
	unsigned	 rid;

	memcpy(line, h, len);
	line[len] = '\0';
	if (sscanf(line, "Status: 200 OK\r\nX-Fz: tag=%15s rid=%u", tag,
	    &rid) != 2)
		return;
	if (strcmp(tag, "-") != 0 && (unsigned)atoi(tag) != id)
		fz_fail("%s got the answer of the request tagged %s", what, tag);
	if (rid != id)
		fz_fail("%s got an answer php-fpm made for id %u", what, rid);
}

static void
drop_rest(void)
{
	size_t	i;

	T.dropped = 1;
	for (i = 0; i < T.nrq; i++)
		if (rq_open(&T.rq[i]))
			T.rq[i].exempt = 1;
}

static uint8_t
arg(void)
{
	return (T.off < T.n ? T.p[T.off++] : 0);
}

/* Mostly the few ids a connection of 2-4 requests runs out of. */
static unsigned
pick_id(uint8_t a)
{
	static const unsigned	ids[16] = { 1, 2, 3, 1, 2, 3, 4, 5, 1, 2, 6,
	    17, 1, 0, 255, 65535 };

	return (ids[a & 15]);
}

/* One record (content <= 65535). */
static void
rec(struct evbuffer *b, unsigned type, unsigned id, const void *c,
    size_t len, unsigned pad)
{
	static const uint8_t	zero[256];
	uint8_t			h[FCGI_HEADER_LEN];

	h[0] = FCGI_VERSION_1;
	h[1] = (uint8_t)type;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	h[6] = (uint8_t)pad;
	h[7] = 0;
	evbuffer_add(b, h, sizeof(h));
	evbuffer_add(b, c, len);
	evbuffer_add(b, zero, pad);
}

/* A name-value pair, 1- or 4-byte lengths as each needs. */
static void
pair(struct evbuffer *b, const char *n, size_t nl, const char *v, size_t vl)
{
	uint8_t	l[4];
	size_t	i, x;

	for (i = 0; i < 2; i++) {
		x = i == 0 ? nl : vl;
		if (x < 128) {
			l[0] = (uint8_t)x;
			evbuffer_add(b, l, 1);
		} else {
			l[0] = (uint8_t)(0x80 | x >> 24);
			l[1] = (uint8_t)(x >> 16);
			l[2] = (uint8_t)(x >> 8);
			l[3] = (uint8_t)x;
			evbuffer_add(b, l, 4);
		}
	}
	evbuffer_add(b, n, nl);
	evbuffer_add(b, v, vl);
}

#define P(b, n, v)	pair((b), (n), strlen(n), (v), strlen(v))

/* Pair (or two) number sel of the table, with its argument c, into S.pb. */
static void
pairs_for(unsigned sel, uint8_t c, unsigned id)
{
	static const char *const qs[4] = { "", "json", "openmetrics",
	    "json&full" };
	static char		 big[4096];
	char			 v[64];

	switch (sel & 15) {
	case 0:
		snprintf(v, sizeof(v), "/id%u", id);
		P(S.pb, "SCRIPT_NAME", v);
		break;
	case 1:
		P(S.pb, "REQUEST_METHOD", c & 1 ? "POST" : "GET");
		break;
	case 2:
		snprintf(v, sizeof(v), "%02x.%u", c, id);
		P(S.pb, "FZ", v);
		break;
	case 3:
		P(S.pb, "REMOTE_ADDR", c & 1 ? "10.1.2.3" : "127.0.0.1");
		break;
	case 4:
		snprintf(v, sizeof(v), "203.0.113.%u, 198.51.100.7", c);
		P(S.pb, "HTTP_X_FORWARDED_FOR", v);
		break;
	case 5:
		P(S.pb, "SCRIPT_NAME", "/status");
		P(S.pb, "QUERY_STRING", qs[c & 3]);
		break;
	case 6:
		P(S.pb, "SCRIPT_NAME", "/ping");
		break;
	case 7:
		memset(big, 'v', sizeof(big));
		pair(S.pb, "HTTP_X_BIG", 10, big, (size_t)c * 16);
		break;
	case 8:
		memset(big, 'N', 130);
		pair(S.pb, big, 130, "v", 1);
		break;
	case 9:
		P(S.pb, "HTTP_PROXY", "http://evil/");
		break;
	case 10:
		P(S.pb, "HTTP_X_BAD", "a\rb");
		break;
	case 11:
		P(S.pb, "HTTP_X_REJECT", "1");
		break;
	case 12:
		P(S.pb, "HTTP_X_FORWARDED_PROTO", c & 1 ? "https" : "ftp");
		P(S.pb, "HTTP_X_FORWARDED_HOST", "example.com");
		break;
	case 13:
		snprintf(v, sizeof(v), "%u", c);
		P(S.pb, "CONTENT_LENGTH", v);
		break;
	case 14:
		pair(S.pb, "", 0, "empty-name", 10);
		break;
	default:
		snprintf(v, sizeof(v), "for=192.0.2.%u;proto=https", c);
		P(S.pb, "HTTP_FORWARDED", v);
		break;
	}
}

/*
 * The proxy app's first bytes: a PROXY header made from a few bytes
 * (valid by construction, so that the model knows where FastCGI starts),
 * or none (kind 7: the ops' bytes are what the daemon gets first).
 */
static void
proxy_header(void)
{
	uint8_t	k = arg(), a = arg(), b = arg(), c = arg();
	int	n = 0;

	switch (k & 7) {
	case 0:
		n = evbuffer_add_printf(S.op, "PROXY TCP4 192.0.2.%u 198.51.100.1 "
		    "%u 443\r\n", a, 1024 + b);
		break;
	case 1:
		n = evbuffer_add_printf(S.op, "PROXY TCP6 2001:db8::%x "
		    "2001:db8::1 %u 443\r\n", a, 1024 + b);
		break;
	case 2:
		n = evbuffer_add_printf(S.op, "PROXY UNKNOWN\r\n");
		break;
	case 7:
		T.pp_raw = T.broken = 1;
		trace(" pp(none)");
		return;
	default:
		n = (int)pp_v2(k & 7, a, b, c);
		break;
	}
	T.skip = (size_t)n;
	trace(" pp(%u,%d)", k & 7, n);
	if (k & 8) {
		T.split = 1;
		T.split_at = c;
	}
	emit();
}

/*
 * A PROXY v2 header onto S.op: TCP4 (3), TCP6 with AUTHORITY and
 * UNIQUE_ID TLVs (4), TCP4 with an SSL TLV (5), LOCAL (6).  Its length.
 */
static size_t
pp_v2(unsigned kind, uint8_t a, uint8_t b, uint8_t c)
{
	static const uint8_t	sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	uint8_t			v[16 + 36 + 300];
	size_t			n;

	memcpy(v, sig, 12);
	v[12] = kind == 6 ? 0x20 : 0x21;	/* LOCAL, PROXY */
	v[13] = kind == 6 ? 0x00 : kind == 4 ? 0x21 : 0x11;
	n = v[13] == 0x21 ? 36 : v[13] == 0x11 ? 12 : 0;
	memset(v + 16, 0, n);
	if (n > 0) {
		v[16] = n == 36 ? 0x20 : 192;	/* 2001:db8::/32, 192.0.2/24 */
		v[17] = n == 36 ? 0x01 : 0;
		v[18] = n == 36 ? 0x0d : 2;
		v[16 + n / 2 - 1] = a;		/* the source's last byte */
	}
	n += pp_v2_tlvs(kind, a, b, c, v + 16 + n);
	v[14] = (uint8_t)(n >> 8);
	v[15] = (uint8_t)n;
	evbuffer_add(S.op, v, 16 + n);
	return (16 + n);
}

/* The TLVs of pp_v2's kinds 4 and 5 into tl (300 bytes); their length. */
static size_t
pp_v2_tlvs(unsigned kind, uint8_t a, uint8_t b, uint8_t c, uint8_t *tl)
{
	size_t	tn = 0, i, cl;

	if (kind == 4) {
		/* AUTHORITY (printable or not) and UNIQUE_ID. */
		cl = a % 32;
		tl[tn++] = 0x02;
		tl[tn++] = 0;
		tl[tn++] = (uint8_t)cl;
		for (i = 0; i < cl; i++)
			tl[tn++] = (b & 1) ? arg() : 'a' + (arg() % 26);
		tl[tn++] = 0x05;
		tl[tn++] = 0;
		tl[tn++] = (uint8_t)(b % 16);
		for (i = 0; i < (size_t)b % 16; i++)
			tl[tn++] = '0' + i;
	} else if (kind == 5) {
		/* SSL: client bits, verify, a CN and a "certificate". */
		cl = c % 32;
		tl[tn++] = 0x20;
		tl[tn++] = 0;
		tl[tn++] = (uint8_t)(5 + 9 + 3 + cl);
		tl[tn++] = a & 7;
		memset(tl + tn, 0, 3);
		tn += 3;
		tl[tn++] = b & 1;
		memcpy(tl + tn, "\x22\x00\x06" "fz.cn", 8);
		tl[tn + 8] = '0' + (b % 10);
		tn += 9;
		tl[tn++] = 0x28;
		tl[tn++] = 0;
		tl[tn++] = (uint8_t)cl;
		for (i = 0; i < cl; i++)
			tl[tn++] = arg();
	}
	return (tn);
}

/* Ops 7-11, the same for every app: split, half-close, close, loop, pause. */
static void
op_transport(unsigned k)
{
	switch (k) {
	case 7:
		T.split = 1;
		T.split_at = arg();
		trace(" split(%u)", T.split_at);
		break;
	case 8:
		op_shut();
		break;
	case 9:
		trace(" close");
		client_close();
		break;
	case 10:
		op_loop();
		break;
	default:
		op_pause();
		break;
	}
}

/*
 * The next op: a byte (modulo 18) and its arguments.  0 raw bytes, 1
 * BEGIN_REQUEST, 2 PARAMS pairs, 3 empty PARAMS, 4 STDIN, 5 ABORT_REQUEST,
 * 6 GET_VALUES, 7 split the next write, 8 half-close, 9 close, 10 run the
 * loop (or, by its argument, a reload or the second connection's op), 11
 * pause or resume reading, 12 a whole request, 13 DATA, 14 large STDIN,
 * 15 a record to refuse, 16 a cut pair's tail, 17 batch begin/end.
 * Ids come from pick_id(); the arguments of each op are in its function.
 */
static void
run_op(void)
{
	unsigned	k;

	if (T.scgi) {
		run_scgi_op();
		return;
	}
	switch ((k = op_kind(arg()))) {
	case 0:
		op_raw();
		break;
	case 1:
		op_begin();
		break;
	case 2:
		op_param();
		break;
	case 3:
		op_simple(FCGI_PARAMS);
		break;
	case 4:
		op_stdin(FCGI_STDIN);
		break;
	case 5:
		op_simple(FCGI_ABORT_REQUEST);
		break;
	case 6:
		op_values();
		break;
	case 7:
	case 8:
	case 9:
	case 10:
	case 11:
		op_transport(k);
		break;
	case 12:
		op_request();
		break;
	case 13:
		op_stdin(FCGI_DATA);
		break;
	case 14:
		op_big();
		break;
	case 15:
		op_bad();
		break;
	case 16:
		op_ptail();
		break;
	default:
		break;		/* 17: a batch begins or ends (op_kind) */
	}
}

/*
 * The scgi app's ops: 0 raw bytes, 1 and 12 a netstring header, 14 a
 * large body, 17 batch, 7-11 as run_op's, any other body bytes.
 */
static void
run_scgi_op(void)
{
	unsigned	k;

	switch ((k = op_kind(arg()))) {
	case 0:
		op_raw();
		break;
	case 1:
	case 12:
		op_scgi_header();
		break;
	case 7:
	case 8:
	case 9:
	case 10:
	case 11:
		op_transport(k);
		break;
	case 14:
		op_scgi_body(1);
		break;
	case 17:
		break;
	default:
		op_scgi_body(0);
		break;
	}
}

/* 1-32 bytes of the input as they are. */
static void
op_raw(void)
{
	size_t	n = 1 + arg() % 32;

	n = T.n - T.off < n ? T.n - T.off : n;
	evbuffer_add(S.op, T.p + T.off, n);
	T.off += n;
	T.s_unsure = 1;
	trace(" raw(%zu)", n);
	emit();
}

static void
op_begin(void)
{
	uint8_t		a = arg(), b = arg(), body[8] = { 0 };
	unsigned	id = pick_id(a), role;
	int		keep = (a & 0x30) != 0x30;

	role = (b & 7) < 5 ? FCGI_RESPONDER : (b & 7) == 5 ? FCGI_AUTHORIZER :
	    (b & 7) == 6 ? FCGI_FILTER : 0x1234;
	body[0] = (uint8_t)(role >> 8);
	body[1] = (uint8_t)role;
	body[2] = (uint8_t)(keep | (b & 0x40 ? 0x80 : 0));
	rec(S.op, FCGI_BEGIN_REQUEST, id, body, 8, b >> 7 ? 3 : 0);
	trace(" begin(%u%s)", id, keep ? ",keep" : "");
	emit();
}

/*
 * Pairs of the table: in one record, cut across two, or cut with the
 * tail kept for a later op_ptail (other requests' records between: the
 * sequence of issue J), or padded.
 */
static void
op_param(void)
{
	uint8_t		 a = arg(), b = arg(), c = arg(), d = arg();
	unsigned	 id = pick_id(a), form = (a >> 4) & 3;
	struct rq	*r;
	uint8_t		*p;
	size_t		 n, cut;

	pairs_for(b, c, id);
	n = evbuffer_get_length(S.pb);
	p = evbuffer_pullup(S.pb, -1);
	cut = n > 1 ? 1 + d % (n - 1) : n;
	if (form == 1) {
		rec(S.op, FCGI_PARAMS, id, p, cut, 0);
		rec(S.op, FCGI_PARAMS, id, p + cut, n - cut, 0);
	} else if (form == 2 && (r = rq_get(id, 1)) != NULL &&
	    n - cut <= STASH_MAX - r->slen) {
		rec(S.op, FCGI_PARAMS, id, p, cut, 0);
		memcpy(r->stash + r->slen, p + cut, n - cut);
		r->slen += n - cut;
	} else {
		rec(S.op, FCGI_PARAMS, id, p, n, form == 3 ? d & 7 : 0);
	}
	evbuffer_drain(S.pb, n);
	trace(" param(%u,%u,%u)", id, b & 15, form);
	emit();
}

/* The tail of a pair cut by op_param, now. */
static void
op_ptail(void)
{
	unsigned	 id = pick_id(arg());
	struct rq	*r = rq_get(id, 0);

	if (r != NULL && r->slen > 0) {
		rec(S.op, FCGI_PARAMS, id, r->stash, r->slen, 0);
		r->slen = 0;
	}
	trace(" ptail(%u)", id);
	emit();
}

/* An empty PARAMS, or an ABORT_REQUEST. */
static void
op_simple(unsigned type)
{
	unsigned	id = pick_id(arg());

	rec(S.op, type, id, NULL, 0, 0);
	trace(" %s(%u)", type == FCGI_PARAMS ? "pend" : "abort", id);
	emit();
}

/* STDIN or DATA: 0-47 bytes, empty ends the stream. */
static void
op_stdin(unsigned type)
{
	static const uint8_t	x[64] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	uint8_t			a = arg(), b = arg();
	unsigned		id = pick_id(a);
	size_t			n = b % 48;

	rec(S.op, type, id, x, n, b & 0x40 ? (8 - n % 8) % 8 : 0);
	trace(" %s(%u,%zu)", type == FCGI_STDIN ? "stdin" : "data", id, n);
	emit();
}

static void
op_values(void)
{
	uint8_t	a = arg();

	switch (a & 3) {
	case 0:
		P(S.pb, "FCGI_MAX_CONNS", "");
		P(S.pb, "FCGI_MAX_REQS", "");
		P(S.pb, "FCGI_MPXS_CONNS", "");
		break;
	case 1:
		break;
	case 2:
		P(S.pb, "FCGI_MPXS_CONNS", "");
		break;
	default:
		P(S.pb, "FOO", "");
		break;
	}
	rec(S.op, FCGI_GET_VALUES, 0, evbuffer_pullup(S.pb, -1),
	    evbuffer_get_length(S.pb), 0);
	evbuffer_drain(S.pb, evbuffer_get_length(S.pb));
	trace(" values(%u)", a & 3);
	emit();
}

/*
 * A whole request's records onto out: BEGIN, params (FZ: php-fpm's
 * answer and the request's tag), the empty PARAMS, a body of (c >> 3) * 8
 * bytes when c & 7 is 7, the empty STDIN; c & 7 of 5 asks for the status
 * page (c >> 3: its query), 6 the ping page.
 */
static void
request_records(struct evbuffer *out, unsigned id, int keep, uint8_t c,
    const char *fz)
{
	static const uint8_t	 x[256];
	uint8_t			 body[8] = { 0, FCGI_RESPONDER };
	size_t			 blen = (c & 7) == 7 ? (size_t)(c >> 3) * 8 : 0;

	body[2] = (uint8_t)keep;
	rec(out, FCGI_BEGIN_REQUEST, id, body, 8, 0);
	if ((c & 7) == 5)
		pairs_for(5, c >> 3, id);
	else if ((c & 7) == 6)
		pairs_for(6, 0, id);
	else
		pairs_for(0, 0, id);
	P(S.pb, "REQUEST_METHOD", blen ? "POST" : "GET");
	P(S.pb, "REMOTE_ADDR", "127.0.0.1");
	P(S.pb, "SCRIPT_FILENAME", "/srv/www/index.php");
	P(S.pb, "FZ", fz);
	rec(out, FCGI_PARAMS, id, evbuffer_pullup(S.pb, -1),
	    evbuffer_get_length(S.pb), 0);
	evbuffer_drain(S.pb, evbuffer_get_length(S.pb));
	rec(out, FCGI_PARAMS, id, NULL, 0, 0);
	if (blen > 0)
		rec(out, FCGI_STDIN, id, x, blen, 0);
	rec(out, FCGI_STDIN, id, NULL, 0, 0);
}

/* A whole request in one write (request_records). */
static void
op_request(void)
{
	uint8_t		a = arg(), b = arg(), c = arg();
	unsigned	id = pick_id(a);
	int		keep = (a & 0x30) != 0x30;
	char		v[32];

	snprintf(v, sizeof(v), "%02x.%u", b, id);
	request_records(S.op, id, keep, c, v);
	trace(" req(%u%s,%02x,%u)", id, keep ? ",keep" : "", b, c);
	emit();
}

/* 16-128 KiB of STDIN in 32 KiB records: back-pressure on the way up. */
static void
op_big(void)
{
	static const uint8_t	y[32768];
	uint8_t			a = arg(), b = arg();
	unsigned		id = pick_id(a);
	size_t			n = (size_t)(1 + b % 8) * 16384, k;

	n = n < T.big_left ? n : T.big_left;
	T.big_left -= n;
	for (k = 0; k < n; k += sizeof(y))
		rec(S.op, FCGI_STDIN, id, y, n - k < sizeof(y) ? n - k :
		    sizeof(y), 0);
	trace(" big(%u,%zu)", id, n);
	emit();
}

/* Records the daemon must refuse (or skip): each a closing error. */
static void
op_bad(void)
{
	static const uint8_t	x[8] = "abcdefgh";
	uint8_t			a = arg(), b = arg(), h[FCGI_HEADER_LEN] = {
	    FCGI_VERSION_1, FCGI_STDIN, 0, 1 };

	switch (a % 6) {
	case 0:
		h[0] = b & 1 ? 0 : 2;
		evbuffer_add(S.op, h, sizeof(h));
		break;
	case 1:
		h[1] = b & 1 ? 0 : (uint8_t)(12 + b % 100);
		evbuffer_add(S.op, h, sizeof(h));
		break;
	case 2:
		h[1] = b & 1 ? FCGI_STDOUT : FCGI_END_REQUEST;
		evbuffer_add(S.op, h, sizeof(h));
		break;
	case 3:
		rec(S.op, FCGI_BEGIN_REQUEST, 1, x, 7, 0);
		break;
	case 4:
		h[1] = FCGI_PARAMS;
		h[3] = (uint8_t)pick_id(b);
		h[4] = h[5] = 0xff;
		evbuffer_add(S.op, h, sizeof(h));
		evbuffer_add(S.op, x, 4);
		break;
	default:
		rec(S.op, FCGI_STDIN, 9, x, 3, 0);
		break;
	}
	trace(" bad(%u)", a % 6);
	emit();
}

/* Half-close: the web server gives up (or is done sending). */
static void
op_shut(void)
{
	trace(" shutwr");
	flush_pend();
	if (T.cfd >= 0)
		shutdown(T.cfd, SHUT_WR);
	T.shut = T.wdead = 1;
	evbuffer_drain(S.pend, evbuffer_get_length(S.pend));
	pass();
}

/*
 * A reload, as listener_update() does one: a new pool from the same app
 * (or from the changed config), which inherits the old one's queue; the
 * old one retired.  The connection keeps the old pool, as one accepted
 * before a reload does; the harness keeps a reference to check that it
 * empties too.
 */
static void
reload(int changed)
{
	struct up_pool	*np;

	if (T.nold == MAXRELOADS)
		return;
	trace(" reload%s", changed ? "(changed)" : "");
	T.acur = changed ? S.app2[T.app] : T.a;
	T.gcur = changed ? S.gen2 : S.gen;
	if ((np = up_pool_new(S.base, T.gcur, T.acur)) == NULL)
		fz_fail("reload: out of memory");
	up_pool_inherit(np, T.pool);
	up_pool_ref(T.pool);
	up_pool_retire(T.pool);
	T.old[T.nold++] = T.pool;
	T.pool = np;
}

static void
bg_closed(void *arg)
{
	(void)arg;
	if (T.bg_active == 0)
		fz_fail("a background connection closed twice");
	T.bg_active--;
}

static void
bg_close(void)
{
	if (T.bg_fd < 0)
		return;
	event_free(T.bg_rev);
	T.bg_rev = NULL;
	close(T.bg_fd);
	T.bg_fd = -1;
}

/*
 * What the daemon wrote a background connection: php-fpm's answers
 * there must be to its own requests (tags from BG_TAG), never the main
 * connection's.
 */
static void
bg_read(void)
{
	char			 buf[16384], tag[24];
	struct evbuffer_ptr	 p;
	ssize_t			 n;
	size_t			 k;

	while (T.bg_fd >= 0) {
		if ((n = read(T.bg_fd, buf, sizeof(buf))) > 0)
			evbuffer_add(S.bgout, buf, (size_t)n);
		else if (n < 0 && errno == EAGAIN)
			break;
		else
			bg_close();	/* the daemon closed it */
	}
	/* Each "X-Fz: tag=T " once whole; the marker waits for its end. */
	while ((p = evbuffer_search(S.bgout, "X-Fz: tag=", 10,
	    NULL)).pos >= 0) {
		evbuffer_drain(S.bgout, (size_t)p.pos);
		n = evbuffer_copyout(S.bgout, buf, 10 + sizeof(tag) - 1);
		if (memchr(buf + 10, ' ', (size_t)n - 10) == NULL) {
			if (n == (ssize_t)(10 + sizeof(tag) - 1))
				fz_fail("background: a tag without its end");
			return;		/* the rest comes later */
		}
		evbuffer_drain(S.bgout, 10);
		buf[n] = '\0';
		sscanf(buf + 10, "%23s", tag);
		if (strcmp(tag, "-") != 0 && atoi(tag) < BG_TAG)
			fz_fail("the background connection got the answer of "
			    "the main connection's request tagged %s", tag);
	}
	if ((k = evbuffer_get_length(S.bgout)) > 9)	/* a marker's head */
		evbuffer_drain(S.bgout, k - 9);
}

static void
bg_rcb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	bg_read();
}

/* A second connection, as the listener would accept it now. */
static void
bg_open(void)
{
	static const char	pp[] = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 80\r\n";
	int			sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) < 0)
		fz_fail("background: %s", strerror(errno));
	if ((T.bg_rev = event_new(S.base, sv[0], EV_READ | EV_PERSIST, bg_rcb,
	    NULL)) == NULL)
		fz_fail("background: out of memory");
	event_add(T.bg_rev, NULL);
	T.bg_fd = sv[0];
	T.bg_opened++;
	evbuffer_drain(S.bgout, evbuffer_get_length(S.bgout));
	if (T.proxy && write(T.bg_fd, pp, sizeof(pp) - 1) != sizeof(pp) - 1)
		fz_fail("background: write: %s", strerror(errno));
	hand_over(sv[1], &T.bg_active, &T.bg_list, bg_closed, NULL);
}

/*
 * The background connection (opened first if need be) sends a whole
 * request, ids 1-3 in turn, that php-fpm answers after 1-15 ms with
 * 16 bytes to 100 KB (from a): it holds a pooled php-fpm connection
 * meanwhile, so the main connection's requests queue.  FastCGI apps.
 */
static void
bg_request(uint8_t a)
{
	unsigned	id;
	char		v[32];
	size_t		len;

	if (T.scgi || (T.bg_fd < 0 && T.bg_opened == MAXBG))
		return;
	if (T.bg_fd < 0)
		bg_open();
	id = 1 + T.bg_sent % 3;
	trace(" bg(%u,%u)", id, a & 7);
	snprintf(v, sizeof(v), "%02x.%u", FPM_DELAY | (a & 7) << 3,
	    BG_TAG + T.bg_sent++);
	request_records(S.bgop, id, 1, 0, v);
	len = evbuffer_get_length(S.bgop);
	if (write(T.bg_fd, evbuffer_pullup(S.bgop, -1), len) != (ssize_t)len)
		bg_close();	/* closed by the daemon, or full: let it go */
	evbuffer_drain(S.bgop, len);
}

/*
 * Run the loop 0-30 ms, within LOOP_BUDGET_MS per input.  By the
 * argument's high bits, first: 0xa a reload, 0xb a reload to the changed
 * config; or, with a loop pass only, 0xc a request on the background
 * connection, 0xd its close.
 */
static void
op_loop(void)
{
	uint8_t	a = arg();
	double	ms = (a % 16) * 2;

	switch (a >> 4) {
	case 0xa:
	case 0xb:
		reload(a >> 4 == 0xb);
		break;
	case 0xc:
		bg_request(a);
		pass();
		return;
	case 0xd:
		if (T.bg_fd >= 0)
			trace(" bgclose");
		bg_close();
		pass();
		return;
	}

	ms = ms < T.loop_left ? ms : T.loop_left;
	T.loop_left -= ms;
	trace(" loop(%.0f)", ms);
	run_until(never, fz_now() + ms);
	pass();
}

/* The web server stops (or starts again) reading our answers. */
static void
op_pause(void)
{
	T.paused = !T.paused;
	trace(" %s", T.paused ? "pause" : "resume");
	if (T.cfd >= 0 && !T.eof) {
		if (T.paused)
			event_del(T.rev);
		else
			event_add(T.rev, NULL);
	}
	pass();
}

static void
scgi_pair(const char *n, const char *v)
{
	evbuffer_add(S.pb, n, strlen(n) + 1);
	evbuffer_add(S.pb, v, strlen(v) + 1);
}

/*
 * An SCGI netstring header: good (0-4, the model follows it), or without
 * SCGI=1 (5), CONTENT_LENGTH not first (6), a length one too long (7).
 */
static void
op_scgi_header(void)
{
	static char	big[4096];
	uint8_t		a = arg(), b = arg(), c = arg(), d = arg();
	unsigned	var = a & 7;
	size_t		len = b & 0x80 ? (size_t)c * 64 : c % 64, n;
	size_t		at = T.queued + evbuffer_get_length(S.op);
	char		v[48];

	if (var == 6)
		scgi_pair("REQUEST_METHOD", "POST");
	snprintf(v, sizeof(v), "%zu", len);
	scgi_pair("CONTENT_LENGTH", v);
	if (var != 5)
		scgi_pair("SCGI", "1");
	if (var != 6)
		scgi_pair("REQUEST_METHOD", len ? "POST" : "GET");
	scgi_pair("SCRIPT_NAME", "/scgi");
	scgi_pair("REMOTE_ADDR", "127.0.0.1");
	snprintf(v, sizeof(v), "%02x.1", d);
	scgi_pair("FZ", v);
	if (((b >> 4) & 3) == 1)
		scgi_pair("HTTP_X_FORWARDED_FOR", "203.0.113.9");
	else if (((b >> 4) & 3) == 2) {
		memset(big, 'v', (size_t)c * 16);
		big[(size_t)c * 16] = '\0';
		scgi_pair("HTTP_X_BIG", big);
	} else if (((b >> 4) & 3) == 3)
		scgi_pair("HTTP_X_BAD", "a\rb");
	n = evbuffer_get_length(S.pb);
	evbuffer_add_printf(S.op, "%zu:", n + (var == 7));
	evbuffer_add_buffer(S.op, S.pb);
	evbuffer_add(S.op, ",", 1);
	/* The model follows a good header that comes first (a batch too). */
	if (var < 5 && at == 0) {
		T.s_valid = 1;
		T.s_hdr_end = evbuffer_get_length(S.op);
		T.s_need = len;
	} else {
		T.s_unsure = 1;
	}
	trace(" scgi(%u,%zu)", var, len);
	emit();
}

/* Body bytes: 1-64, or 16-64 KiB. */
static void
op_scgi_body(int big)
{
	static const uint8_t	z[65536];
	uint8_t			a = arg();
	size_t			n = big ? (size_t)(1 + a % 4) * 16384 :
				    1 + (size_t)a % 64;

	if (big) {
		n = n < T.big_left ? n : T.big_left;
		T.big_left -= n;
	}
	if (!T.s_valid)
		T.s_unsure = 1;
	evbuffer_add(S.op, z, n);
	trace(" body(%zu)", n);
	emit();
}

/*
 * After SETTLE_MS: an open connection with a request not ended is a
 * stall; a request ended without its END_REQUEST must have a log line.
 */
static void
check_settled(void)
{
	struct rq	*r;
	size_t		 i;
	int		 open = !(T.closed || T.eof);

	if (T.scgi) {
		if (open)
			fz_fail("stall: the SCGI connection was neither answered "
			    "nor closed within %d ms of the script's end "
			    "(%zu bytes unsent)", SETTLE_MS,
			    evbuffer_get_length(S.pend));
		check_tag(T.s_head, T.s_hlen, 1, "the SCGI request");
		return;
	}
	if (T.proxy && (T.pp_raw || T.written < T.skip))
		return;
	for (i = 0; i < T.nrq; i++) {
		r = &T.rq[i];
		if (!rq_open(r))
			continue;
		if (open)
			fz_fail("stall: request %u (params %s, STDIN %s) neither "
			    "ended nor had its connection closed within %d ms "
			    "of the script's end (%zu bytes unsent)", r->id,
			    r->pd ? "complete" : "incomplete", r->sd ?
			    "complete" : "incomplete", SETTLE_MS,
			    evbuffer_get_length(S.pend));
		if (!r->exempt && r->pd && !T.logged)
			fz_fail("request %u got no END_REQUEST, and the daemon "
			    "ended its connection without a log line", r->id);
	}
	if (open && !T.broken && T.values_recv < T.values_sent)
		fz_fail("stall: %u of %u GET_VALUES unanswered within %d ms",
		    T.values_sent - T.values_recv, T.values_sent, SETTLE_MS);
}

/*
 * The client closes; the connection must be freed, then (the pool
 * retired, as a reload does) every php-fpm connection closed.
 */
static void
teardown(void)
{
	struct status_live	sl;
	struct status_upstream	su[4];
	int			n;

	client_close();
	bg_close();
	run_until(conn_gone, fz_now() + TEARDOWN_MS);
	if (!conn_gone())	/* starved? (see STARVED_MS) */
		run_until(conn_gone, fz_now() + STARVED_MS);
	if (!conn_gone())
		fz_fail("the connection was not freed within %d ms of the "
		    "client's close (count %zu, background %zu)", TEARDOWN_MS,
		    T.active, T.bg_active);
	up_pool_ref(T.pool);
	up_pool_retire(T.pool);
	run_until(drained, fz_now() + TEARDOWN_MS);
	if (!drained())
		run_until(drained, fz_now() + STARVED_MS);
	if (!pool_empty()) {
		memset(&sl, 0, sizeof(sl));
		up_status(T.pool, &sl, su, 4);
		fz_fail("php-fpm connections left %d ms after the front "
		    "closed: busy %zu, idle %zu, queued %zu; php-fpm sees %zu",
		    TEARDOWN_MS, sl.sl_busy, sl.sl_idle, sl.sl_queue_len,
		    fpm_open());
	}
	up_pool_unref(T.pool);
	T.pool = NULL;
	while (T.nold > 0)
		up_pool_unref(T.old[--T.nold]);
	if ((n = count_fds()) != S.nfd) {
		list_fds();
		fz_fail("%d sockets open after the input, %d before", n,
		    S.nfd);
	}
}

/* FUZZ_CONN_VERBOSE: what an input did (to check seeds and finds). */
static void
report(void)
{
	unsigned	begins, answers;
	size_t		i;

	fpm_counts(&begins, &answers);
	fprintf(stderr, "fuzz_conn: app=%s%s\n  sent %zu, received %zu; "
	    "closed %d (%s) eof %d; unsure %d broken %d mux %d dropped %d; "
	    "php-fpm saw %u BEGIN_REQUESTs, answered %u; GET_VALUES %u/%u\n",
	    app_names[T.app], T.trace, T.written, T.nout, T.closed,
	    T.have_reason ? T.reason : "-", T.eof, T.unsure, T.broken, T.mux,
	    T.dropped, begins, answers, T.values_recv, T.values_sent);
	fprintf(stderr, "  the clock moved on %lld ms (vclock.c)\n",
	    (long long)(vclock_skew_ms() - T.skew0));
	for (i = 0; i < T.nrq; i++)
		fprintf(stderr, "  id %u: begun %u ended %u%s%s%s\n",
		    T.rq[i].id, T.rq[i].begins, T.rq[i].ends, T.rq[i].pd ?
		    " params" : "", T.rq[i].sd ? " stdin" : "", T.rq[i].exempt ?
		    " exempt" : "");
	fprintf(stderr, "%.*s", (int)T.rlen, T.ring);
}

/* A new input: its app, a fresh pool, the socketpair, the log emptied. */
static void
input_begin(const uint8_t *data, size_t size)
{
	int	sv[2], sz = 4096, i;

	memset(&T, 0, sizeof(T));
	T.skew0 = vclock_skew_ms();
	T.p = data;
	T.n = size;
	T.off = 3;
	T.app = (data[0] & 7) % NAPPS;
	T.a = S.app[T.app];
	T.scgi = T.app == APP_SCGI;
	T.proxy = T.app == APP_PROXY;
	T.pooled = T.a->a_upstream_max_conns > 0;
	T.acur = T.a;
	T.gcur = S.gen;
	T.bg_fd = -1;
	T.bytewise = (data[0] & 0x08) != 0;
	T.loop_left = LOOP_BUDGET_MS;
	T.big_left = BIG_MAX;
	fpm_input(data[1], data[2]);
	if (truncate(S.path[P_LOG], 0) < 0 || lseek(S.logfd, 0, SEEK_SET) < 0)
		fz_fail("log: %s", strerror(errno));
	if ((T.pool = up_pool_new(S.base, S.gen, T.a)) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) < 0)
		fz_fail("input: %s", strerror(errno));
	for (i = 0; i < 2 && (data[0] & 0x10); i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	T.cfd = sv[0];
	T.dfd = sv[1];
	T.rev = event_new(S.base, T.cfd, EV_READ | EV_PERSIST, client_rcb, NULL);
	T.wev = event_new(S.base, T.cfd, EV_WRITE | EV_PERSIST, client_wcb,
	    NULL);
	if (T.rev == NULL || T.wev == NULL)
		fz_fail("input: out of memory");
	event_add(T.rev, NULL);
	trace(" {%02x %02x %02x}", data[0], data[1], data[2]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (S.base == NULL)
		setup();
	if (size < 3)
		return (0);
	input_begin(data, size);
	if (!(data[0] & 0x20))
		accept_now();
	if (T.proxy)
		proxy_header();
	if (data[0] & 0x40) {
		T.batch = 1;
		trace(" [");
	}
	while (T.off < T.n && !T.cclosed) {
		run_op();
		if (!T.accepted)
			accept_now();
	}
	batch_end();
	if (!T.accepted)
		accept_now();
	if (!T.cclosed) {
		/* The script is over: read everything, let it all end. */
		if (T.paused && !T.eof)
			event_add(T.rev, NULL);
		T.paused = 0;
		run_until(settled, fz_now() + SETTLE_MS);
		/*
		 * A loaded machine (ASan, two cores, fuzzers side by side)
		 * can starve the loop, and real time runs on while it waits
		 * (all of it with FUZZ_CONN_REALTIME=1): one more second
		 * before a stall is called.  The daemon's timers here are
		 * 15-30 ms, so a stall that ends by a timeout ends long
		 * before.
		 */
		if (!settled())
			run_until(settled, fz_now() + STARVED_MS);
		client_read();
		check_settled();
	}
	teardown();
	if (getenv("FUZZ_CONN_VERBOSE") != NULL)
		report();
	return (0);
}
