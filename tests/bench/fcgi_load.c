/*
 * fcgi_load: the bench's FastCGI load generator for the null rows (SPEC
 * §8, the workers row), in the place of wrk + nginx: it sends what nginx
 * sends for the other rows' wrk request, from C connections at once, for
 * SECS seconds, and prints a wrk-like summary (the lines tests/bench/run
 * reads).
 *
 *	fcgi_load [-k] [-c CONNS] [-d SECS] ADDR
 *
 * ADDR is unix:/path (or /path) or HOST:PORT ([v6]:PORT).  Without -k each
 * request has its own connection, as nginx's default; with -k a connection
 * carries request after request with FCGI_KEEP_CONN (nginx's
 * fastcgi_keep_conn on + upstream keepalive).  One request in flight per
 * connection, as nginx.  One thread, one epoll loop: it costs about what
 * the null upstream costs, a fraction of what a hop in between costs.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fastcgi.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_fcgi.h"

#define FL_REQ_CAP	2048
#define FL_IN_CAP	16384
#define FL_CONNS_MAX	4096
#define FL_EVENTS	256
#define FL_HIST_US	100000		/* latencies to 100 ms by the µs */

struct fl_conn {
	int		 fc_fd;
	int		 fc_connecting;
	size_t		 fc_sent;	/* bytes of the request written */
	size_t		 fc_inlen;
	size_t		 fc_skip;	/* content+padding still to drop */
	int		 fc_first;	/* the next STDOUT starts the answer */
	uint64_t	 fc_t0;		/* when the request started, ns */
	uint8_t		 fc_in[FL_IN_CAP];
};

struct fl {
	int		 f_ep;
	int		 f_keep;
	struct sockaddr_storage f_addr;
	socklen_t	 f_addrlen;
	uint8_t		 f_req[FL_REQ_CAP];
	size_t		 f_reqlen;
	uint64_t	 f_done, f_non2xx, f_bytes;
	uint64_t	 f_econnect, f_eread, f_ewrite;
	uint64_t	*f_hist;	/* FL_HIST_US + 1 buckets, last: more */
	struct fl_conn	*f_conns;
	int		 f_nconns;
	int		 f_failed;	/* connections to start again */
};

static void	usage(void) __attribute__((noreturn));
static void	die(const char *) __attribute__((noreturn));
static uint64_t	now_ns(void);
static int	fl_addr(struct fl *, const char *);
static void	fl_build(struct fl *);
static void	fl_start(struct fl *, struct fl_conn *);
static void	fl_event(struct fl *, struct fl_conn *, uint32_t);
static int	fl_send(struct fl *, struct fl_conn *);
static int	fl_recv(struct fl *, struct fl_conn *);
static int	fl_parse(struct fl *, struct fl_conn *);
static void	fl_done(struct fl *, struct fl_conn *);
static void	fl_fail(struct fl *, struct fl_conn *, uint64_t *);
static void	fl_run(struct fl *, double);
static void	fl_report(struct fl *, double);
static void	fl_latency(char *, size_t, double);

static void
usage(void)
{
	fprintf(stderr, "usage: fcgi_load [-k] [-c CONNS] [-d SECS] "
	    "unix:/path|/path|host:port\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "fcgi_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

int
main(int argc, char *argv[])
{
	struct fl	*f;
	double		 secs = 5;
	int		 ch, i;
	char		*e;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		die("calloc");
	f->f_nconns = 16;
	while ((ch = getopt(argc, argv, "c:d:k")) != -1) {
		switch (ch) {
		case 'c':
			f->f_nconns = (int)strtol(optarg, &e, 10);
			if (*e != '\0' || f->f_nconns < 1 ||
			    f->f_nconns > FL_CONNS_MAX)
				usage();
			break;
		case 'd':
			secs = strtod(optarg, &e);
			if (*e == 's')
				e++;
			if (*e != '\0' || !(secs > 0 && secs <= 3600))
				usage();
			break;
		case 'k':
			f->f_keep = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || fl_addr(f, argv[optind]) == -1)
		usage();
	fl_build(f);
	f->f_hist = calloc(FL_HIST_US + 1, sizeof(*f->f_hist));
	f->f_conns = calloc((size_t)f->f_nconns, sizeof(*f->f_conns));
	if (f->f_hist == NULL || f->f_conns == NULL)
		die("calloc");
	if ((f->f_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	fl_run(f, secs);
	for (i = 0; i < f->f_nconns; i++)
		if (f->f_conns[i].fc_fd != -1)
			close(f->f_conns[i].fc_fd);
	close(f->f_ep);
	free(f->f_conns);
	free(f->f_hist);
	free(f);
	return (0);
}

/* Every connection busy for secs seconds, then the summary. */
static void
fl_run(struct fl *f, double secs)
{
	struct epoll_event	 evs[FL_EVENTS];
	uint64_t		 t0 = now_ns(), end;
	int			 i, n;

	end = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < f->f_nconns; i++)
		fl_start(f, &f->f_conns[i]);
	while (now_ns() < end) {
		n = epoll_wait(f->f_ep, evs, FL_EVENTS, 100);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++)
			fl_event(f, evs[i].data.ptr, evs[i].events);
		/* Here, not in fl_fail: a refused connect would recurse. */
		for (i = 0; f->f_failed && i < f->f_nconns; i++)
			if (f->f_conns[i].fc_fd == -1) {
				f->f_failed--;
				fl_start(f, &f->f_conns[i]);
			}
	}
	fl_report(f, (double)(now_ns() - t0) / 1e9);
}

static int
fl_addr(struct fl *f, const char *addr)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&f->f_addr;

	if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/') {
		addr += addr[0] == '/' ? 0 : 5;
		if (strlen(addr) >= sizeof(sun->sun_path))
			return (-1);
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, addr);
		f->f_addrlen = sizeof(*sun);
		return (0);
	}
	return (bench_tcp_addr(addr, &f->f_addr, &f->f_addrlen));
}

/*
 * The request, encoded once: what nginx 1.22 sends for the other rows'
 * wrk request (GET /hello.php, only a Host header) with Debian's
 * fastcgi_params, SCRIPT_FILENAME and the rows' X-Forwarded-For, so that
 * the daemon's policy does the same work as in the nginx rows.  Request
 * id 1 on every connection, as nginx.
 */
static void
fl_build(struct fl *f)
{
	static const char *const params[][2] = {
		{ "QUERY_STRING", "" }, { "REQUEST_METHOD", "GET" },
		{ "CONTENT_TYPE", "" }, { "CONTENT_LENGTH", "" },
		{ "SCRIPT_NAME", "/hello.php" },
		{ "REQUEST_URI", "/hello.php" },
		{ "DOCUMENT_URI", "/hello.php" },
		{ "DOCUMENT_ROOT", "/tmp/fcn-bench/www" },
		{ "SERVER_PROTOCOL", "HTTP/1.1" }, { "REQUEST_SCHEME", "http" },
		{ "GATEWAY_INTERFACE", "CGI/1.1" },
		{ "SERVER_SOFTWARE", "nginx/1.22.1" },
		{ "REMOTE_ADDR", "127.0.0.1" }, { "REMOTE_PORT", "41234" },
		{ "REMOTE_USER", "" }, { "SERVER_ADDR", "127.0.0.1" },
		{ "SERVER_PORT", "24680" }, { "SERVER_NAME", "" },
		{ "REDIRECT_STATUS", "200" },
		{ "HTTP_HOST", "127.0.0.1:24680" },
		{ "SCRIPT_FILENAME", "/tmp/fcn-bench/www/hello.php" },
		{ "HTTP_X_FORWARDED_FOR", "203.0.113.9, 10.0.0.2" },
	};
	uint8_t		*p = f->f_req;
	size_t		 i, len = 0;

	bench_header(p, FCGI_BEGIN_REQUEST, 1, 8, 0);
	memset(p + FCGI_HEADER_LEN, 0, 8);
	p[FCGI_HEADER_LEN + 1] = FCGI_RESPONDER;
	p[FCGI_HEADER_LEN + 2] = f->f_keep ? FCGI_KEEP_CONN : 0;
	p += 2 * FCGI_HEADER_LEN;
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		len += bench_pair(p + FCGI_HEADER_LEN + len, params[i][0],
		    params[i][1]);
	bench_header(p, FCGI_PARAMS, 1, len, (8 - len % 8) % 8);
	p += FCGI_HEADER_LEN + len;
	memset(p, 0, (8 - len % 8) % 8);
	p += (8 - len % 8) % 8;
	bench_header(p, FCGI_PARAMS, 1, 0, 0);
	bench_header(p + FCGI_HEADER_LEN, FCGI_STDIN, 1, 0, 0);
	p += 2 * FCGI_HEADER_LEN;
	f->f_reqlen = (size_t)(p - f->f_req);
}

/*
 * A new connection and its request: connect() on a unix socket completes
 * at once or fails (EAGAIN: the listen backlog is full), on TCP it may be
 * in progress; either way the request goes out on EPOLLOUT.
 */
static void
fl_start(struct fl *f, struct fl_conn *c)
{
	struct epoll_event	 ev = { .events = EPOLLOUT, .data.ptr = c };
	int			 on = 1;

	c->fc_fd = socket(f->f_addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fc_fd == -1)
		die("socket");
	if (f->f_addr.ss_family != AF_UNIX)
		(void)setsockopt(c->fc_fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	c->fc_connecting = 1;
	c->fc_sent = c->fc_inlen = c->fc_skip = 0;
	c->fc_first = 1;
	c->fc_t0 = now_ns();
	if (connect(c->fc_fd, (struct sockaddr *)&f->f_addr,
	    f->f_addrlen) == -1 && errno != EINPROGRESS) {
		fl_fail(f, c, &f->f_econnect);
		return;
	}
	if (epoll_ctl(f->f_ep, EPOLL_CTL_ADD, c->fc_fd, &ev) == -1)
		die("epoll_ctl");
}

static void
fl_event(struct fl *f, struct fl_conn *c, uint32_t events)
{
	int	 err = 0;
	socklen_t len = sizeof(err);

	if (c->fc_connecting) {
		if (getsockopt(c->fc_fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1 || err != 0) {
			fl_fail(f, c, &f->f_econnect);
			return;
		}
		c->fc_connecting = 0;
	}
	if ((events & EPOLLOUT) && fl_send(f, c) == -1)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !(events & EPOLLOUT))
		(void)fl_recv(f, c);
}

/* Write what is left of the request; once it is out, wait for the answer. */
static int
fl_send(struct fl *f, struct fl_conn *c)
{
	struct epoll_event	 ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t			 n;

	n = send(c->fc_fd, f->f_req + c->fc_sent, f->f_reqlen - c->fc_sent,
	    MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n == -1) {
		fl_fail(f, c, &f->f_ewrite);
		return (-1);
	}
	c->fc_sent += (size_t)n;
	if (c->fc_sent == f->f_reqlen &&
	    epoll_ctl(f->f_ep, EPOLL_CTL_MOD, c->fc_fd, &ev) == -1)
		die("epoll_ctl");
	return (0);
}

static int
fl_recv(struct fl *f, struct fl_conn *c)
{
	ssize_t	 n;
	int	 r;

	n = recv(c->fc_fd, c->fc_in + c->fc_inlen,
	    sizeof(c->fc_in) - c->fc_inlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n <= 0) {		/* EOF before END_REQUEST */
		fl_fail(f, c, &f->f_eread);
		return (-1);
	}
	c->fc_inlen += (size_t)n;
	f->f_bytes += (uint64_t)n;
	if ((r = fl_parse(f, c)) == -1)
		fl_fail(f, c, &f->f_eread);
	else if (r == 1)
		fl_done(f, c);
	return (r == -1 ? -1 : 0);
}

/*
 * Returns 1 at END_REQUEST, 0 for more, -1 on bad framing.  The status is
 * read from the start of the first STDOUT record ("Status: " absent means
 * 200, CGI/1.1 §6.3.3).
 */
static int
fl_parse(struct fl *f, struct fl_conn *c)
{
	size_t		 off = 0, clen, n;
	const uint8_t	*p;
	int		 r = 0;

	while (r == 0 && off < c->fc_inlen) {
		if (c->fc_skip != 0) {
			n = c->fc_inlen - off;
			n = c->fc_skip < n ? c->fc_skip : n;
			c->fc_skip -= n;
			off += n;
			continue;
		}
		p = c->fc_in + off;
		if (c->fc_inlen - off < FCGI_HEADER_LEN)
			break;
		if (p[0] != FCGI_VERSION_1)
			return (-1);
		clen = ((size_t)p[4] << 8) | p[5];
		if (p[1] == FCGI_STDOUT && c->fc_first && clen != 0) {
			if (clen >= 12 &&
			    c->fc_inlen - off - FCGI_HEADER_LEN < 12)
				break;	/* wait for the status line */
			c->fc_first = 0;
			if (clen >= 12 && memcmp(p + 8, "Status: ", 8) == 0 &&
			    p[16] != '2')
				f->f_non2xx++;
		}
		/* END_REQUEST is taken whole: what follows it is moot. */
		if (p[1] == FCGI_END_REQUEST) {
			if (c->fc_inlen - off - FCGI_HEADER_LEN < clen + p[6])
				break;
			r = 1;
		}
		c->fc_skip = clen + p[6];
		off += FCGI_HEADER_LEN;
	}
	memmove(c->fc_in, c->fc_in + off, c->fc_inlen - off);
	c->fc_inlen -= off;
	return (r);
}

/* One answer in: count it, then the next request (and connection). */
static void
fl_done(struct fl *f, struct fl_conn *c)
{
	struct epoll_event	 ev = { .events = EPOLLOUT, .data.ptr = c };
	uint64_t		 us = (now_ns() - c->fc_t0) / 1000;

	f->f_done++;
	f->f_hist[us < FL_HIST_US ? us : FL_HIST_US]++;
	if (!f->f_keep) {
		close(c->fc_fd);
		fl_start(f, c);
		return;
	}
	/* nginx never pipelines: whatever followed END_REQUEST is moot. */
	c->fc_sent = c->fc_inlen = c->fc_skip = 0;
	c->fc_first = 1;
	c->fc_t0 = now_ns();
	if (epoll_ctl(f->f_ep, EPOLL_CTL_MOD, c->fc_fd, &ev) == -1)
		die("epoll_ctl");
}

/*
 * A failed request is counted under its error; the main loop starts its
 * connection again after this round of events.
 */
static void
fl_fail(struct fl *f, struct fl_conn *c, uint64_t *counter)
{
	(*counter)++;
	close(c->fc_fd);
	c->fc_fd = -1;
	f->f_failed++;
	if (*counter > 100000) {
		fl_report(f, 0);
		fprintf(stderr, "fcgi_load: giving up: too many errors\n");
		exit(1);
	}
}

/* The lines tests/bench/run reads, in wrk's words. */
static void
fl_report(struct fl *f, double secs)
{
	static const double	 pct[] = { 50, 75, 90, 99 };
	uint64_t		 seen = 0;
	size_t			 i, us = 0;
	char			 buf[32];

	printf("Running %.0fs test (fcgi_load, %d connections, %s)\n", secs,
	    f->f_nconns, f->f_keep ? "keep" : "close");
	printf("  Latency Distribution\n");
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		while (us <= FL_HIST_US &&
		    (double)(seen + f->f_hist[us]) < pct[i] / 100 *
		    (double)f->f_done)
			seen += f->f_hist[us++];
		fl_latency(buf, sizeof(buf), (double)us);
		printf("  %5.0f%% %9s\n", pct[i], buf);
	}
	printf("  %llu requests in %.2fs, %.2fMB read\n",
	    (unsigned long long)f->f_done, secs, (double)f->f_bytes / 1048576);
	if (f->f_econnect + f->f_eread + f->f_ewrite != 0)
		printf("  Socket errors: connect %llu, read %llu, write %llu, "
		    "timeout 0\n", (unsigned long long)f->f_econnect,
		    (unsigned long long)f->f_eread,
		    (unsigned long long)f->f_ewrite);
	if (f->f_non2xx != 0)
		printf("  Non-2xx or 3xx responses: %llu\n",
		    (unsigned long long)f->f_non2xx);
	printf("Requests/sec: %.2f\n", secs > 0 ? (double)f->f_done / secs : 0);
	fflush(stdout);
}

/* As wrk prints a latency: "850.00us", "1.23ms" (the bucket's upper end). */
static void
fl_latency(char *buf, size_t size, double us)
{
	if (us >= FL_HIST_US)
		snprintf(buf, size, ">%.0fms", FL_HIST_US / 1000.0);
	else if (us < 1000)
		snprintf(buf, size, "%.2fus", us + 1);
	else
		snprintf(buf, size, "%.2fms", (us + 1) / 1000);
}
