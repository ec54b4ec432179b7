/*
 * null_fcgi: the bench's "null upstream" (SPEC §8, the workers row).  A
 * FastCGI responder that answers every request the moment its input ends,
 * so that whatever sits in front of it is the bottleneck, not PHP.
 *
 *	null_fcgi [-n MAXCONNS] ADDR...
 *
 * ADDR is unix:/path (or /path) or HOST:PORT ([v6]:PORT).  One thread, one
 * level-triggered epoll loop, non-blocking sockets, fixed buffers per
 * connection.  SIGTERM or SIGINT closes everything, removes the unix
 * sockets and prints the counters on stderr.
 *
 * Per request: the empty STDIN record (end of input) of the request in
 * flight is answered with one STDOUT record, the empty STDOUT and
 * END_REQUEST; without FCGI_KEEP_CONN the connection is closed after it
 * (FastCGI 1.0 §3.5).  Requests on a kept connection are sequential: a
 * BEGIN_REQUEST while another is in flight gets FCGI_CANT_MPX_CONN, as
 * FCGI_MPXS_CONNS=0 announces.  FCGI_GET_VALUES is answered.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fastcgi.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_fcgi.h"

/*
 * Input waits here only while a record is incomplete: PARAMS, STDIN and
 * DATA content is dropped as it arrives, so only BEGIN_REQUEST and
 * GET_VALUES records are kept whole, and those must fit.
 */
#define NF_IN_CAP	16384
#define NF_OUT_CAP	4096
/* The largest answer to one record (GET_VALUES_RESULT is ~80 bytes). */
#define NF_ANSWER_MAX	256
#define NF_LISTEN_MAX	8
#define NF_EVENTS	256
#define NF_ACCEPT_BURST	64

#define NF_BODY		"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n"

enum nf_kind {
	NF_LISTENER,
	NF_CONN,
	NF_SIGNAL
};

/* Every epoll data pointer points at one of these first members. */
struct nf_listener {
	enum nf_kind	 l_kind;
	int		 l_fd;
	int		 l_paused;	/* left the epoll set: limit, EMFILE */
	const char	*l_path;	/* unix socket to remove at exit */
};

struct nf_conn {
	enum nf_kind	 nc_kind;
	int		 nc_fd;
	struct nf_conn	*nc_prev, *nc_next;
	unsigned	 nc_id;		/* request in flight, 0: none */
	int		 nc_keep;	/* its FCGI_KEEP_CONN */
	int		 nc_closing;	/* close once nc_out is written */
	int		 nc_eof;	/* the peer sent FIN */
	int		 nc_wantout;	/* waiting for EPOLLOUT, not reading */
	size_t		 nc_skip;	/* content+padding still to drop */
	size_t		 nc_inlen;
	size_t		 nc_outoff, nc_outlen;
	uint8_t		 nc_in[NF_IN_CAP];
	uint8_t		 nc_out[NF_OUT_CAP];
};

struct nf {
	int			 n_ep;
	enum nf_kind		 n_sigkind;	/* epoll tag of the signalfd */
	int			 n_sigfd;
	struct nf_listener	 n_lis[NF_LISTEN_MAX];
	int			 n_nlis;
	struct nf_conn		*n_conns;
	long			 n_nconns, n_maxconns;
	unsigned long long	 n_requests, n_accepted;
	uint8_t			 n_answer[128];	/* STDOUT, STDOUT, END */
	size_t			 n_answerlen;
};

static void	usage(void) __attribute__((noreturn));
static void	die(const char *) __attribute__((noreturn));
static int	nf_listen(struct nf *, const char *);
static int	nf_listen_unix(const char *);
static int	nf_listen_tcp(const char *);
static void	nf_setup(struct nf *);
static void	nf_loop(struct nf *);
static void	nf_accept(struct nf *, struct nf_listener *);
static void	nf_pause(struct nf *, struct nf_listener *, int);
static void	nf_conn_event(struct nf *, struct nf_conn *, uint32_t);
static int	nf_conn_read(struct nf_conn *);
static int	nf_conn_interest(struct nf *, struct nf_conn *, int);
static void	nf_conn_close(struct nf *, struct nf_conn *);
static int	nf_parse(struct nf *, struct nf_conn *);
static int	nf_record(struct nf *, struct nf_conn *, const uint8_t *,
		    size_t *);
static int	nf_begin(struct nf_conn *, unsigned, const uint8_t *, size_t);
static void	nf_get_values(struct nf *, struct nf_conn *, const uint8_t *,
		    size_t);
static int	nf_pair_len(const uint8_t *, size_t, size_t *, size_t *);
static void	nf_answer(struct nf *, struct nf_conn *, unsigned);
static void	nf_end(struct nf_conn *, unsigned, int);
static int	nf_flush(struct nf_conn *);
static void	nf_cleanup(struct nf *);

static void
usage(void)
{
	fprintf(stderr, "usage: null_fcgi [-n MAXCONNS] "
	    "unix:/path|/path|host:port ...\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "null_fcgi: %s: %s\n", what, strerror(errno));
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct nf	*s;
	int		 ch, i;
	char		*end;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		die("calloc");
	s->n_maxconns = 1024;
	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			s->n_maxconns = strtol(optarg, &end, 10);
			if (*end != '\0' || s->n_maxconns < 1 ||
			    s->n_maxconns > 1000000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind == argc || argc - optind > NF_LISTEN_MAX)
		usage();
	nf_setup(s);
	for (i = optind; i < argc; i++)
		if (nf_listen(s, argv[i]) == -1)
			die(argv[i]);
	nf_loop(s);
	fprintf(stderr, "null_fcgi: %llu requests on %llu connections\n",
	    s->n_requests, s->n_accepted);
	nf_cleanup(s);
	free(s);
	return (0);
}

/*
 * Signals arrive through a signalfd in the loop, so the clean exit (free
 * every connection, remove the sockets) runs as ordinary code.  SIGPIPE
 * never comes: every send() says MSG_NOSIGNAL.
 */
static void
nf_setup(struct nf *s)
{
	struct epoll_event	 ev = { .events = EPOLLIN };
	sigset_t		 set;
	uint8_t			*p = s->n_answer;

	if ((s->n_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		die("sigprocmask");
	if ((s->n_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		die("signalfd");
	s->n_sigkind = NF_SIGNAL;
	ev.data.ptr = &s->n_sigkind;
	if (epoll_ctl(s->n_ep, EPOLL_CTL_ADD, s->n_sigfd, &ev) == -1)
		die("epoll_ctl");

	/*
	 * The answer is the same bytes for every request but for the ids
	 * (bytes 2-3 of each header, patched in nf_answer): built once.
	 * Content is padded to a multiple of 8 (FastCGI 1.0 §3.3 advice).
	 */
	_Static_assert(sizeof(NF_BODY) - 1 + 7 + 4 * FCGI_HEADER_LEN <=
	    sizeof(s->n_answer), "n_answer holds the answer");
	_Static_assert(sizeof(NF_BODY) - 1 + 7 + 4 * FCGI_HEADER_LEN <=
	    NF_ANSWER_MAX, "NF_ANSWER_MAX bounds the answer");
	p += bench_header(p, FCGI_STDOUT, 0, sizeof(NF_BODY) - 1,
	    (8 - (sizeof(NF_BODY) - 1) % 8) % 8);
	memcpy(p, NF_BODY, sizeof(NF_BODY) - 1);
	p += sizeof(NF_BODY) - 1;
	memset(p, 0, (8 - (sizeof(NF_BODY) - 1) % 8) % 8);
	p += (8 - (sizeof(NF_BODY) - 1) % 8) % 8;
	p += bench_header(p, FCGI_STDOUT, 0, 0, 0);
	p += bench_header(p, FCGI_END_REQUEST, 0, 8, 0);
	memset(p, 0, 8);	/* appStatus 0, FCGI_REQUEST_COMPLETE */
	p += 8;
	s->n_answerlen = (size_t)(p - s->n_answer);
}

static int
nf_listen(struct nf *s, const char *addr)
{
	struct nf_listener	*l = &s->n_lis[s->n_nlis];
	struct epoll_event	 ev = { .events = EPOLLIN };
	int			 fd;

	if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/') {
		l->l_path = addr[0] == '/' ? addr : addr + 5;
		fd = nf_listen_unix(l->l_path);
	} else
		fd = nf_listen_tcp(addr);
	if (fd == -1)
		return (-1);
	l->l_kind = NF_LISTENER;
	l->l_fd = fd;
	ev.data.ptr = l;
	if (epoll_ctl(s->n_ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		return (-1);
	s->n_nlis++;
	return (0);
}

static int
nf_listen_unix(const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	int			 fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	/* A socket left by an earlier run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, 4096) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
nf_listen_tcp(const char *addr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, on = 1;

	if (bench_tcp_addr(addr, &ss, &sslen) == -1) {
		errno = EINVAL;
		return (-1);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd != -1 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, 4096) == -1)) {
		close(fd);
		fd = -1;
	}
	return (fd);
}

static void
nf_loop(struct nf *s)
{
	struct epoll_event	 evs[NF_EVENTS];
	enum nf_kind		*k;
	int			 i, n;

	for (;;) {
		n = epoll_wait(s->n_ep, evs, NF_EVENTS, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			k = evs[i].data.ptr;
			if (*k == NF_SIGNAL)
				return;
			if (*k == NF_LISTENER)
				nf_accept(s, evs[i].data.ptr);
			else
				nf_conn_event(s, evs[i].data.ptr,
				    evs[i].events);
		}
	}
}

/*
 * At the connection limit, or out of descriptors, the listener leaves the
 * epoll set until a connection closes: a level-triggered listener that
 * cannot accept would wake the loop forever.
 */
static void
nf_accept(struct nf *s, struct nf_listener *l)
{
	struct epoll_event	 ev = { .events = EPOLLIN };
	struct nf_conn		*c;
	int			 fd, i, on = 1;

	for (i = 0; i < NF_ACCEPT_BURST; i++) {
		if (s->n_nconns >= s->n_maxconns) {
			nf_pause(s, l, 1);
			return;
		}
		fd = accept4(l->l_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				nf_pause(s, l, 1);
			return;		/* EAGAIN, ECONNABORTED, ... */
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			nf_pause(s, l, 1);
			return;
		}
		/* Fails harmlessly (ENOTSUP) on a unix socket. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		c->nc_kind = NF_CONN;
		c->nc_fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(s->n_ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
			return;
		}
		if ((c->nc_next = s->n_conns) != NULL)
			c->nc_next->nc_prev = c;
		s->n_conns = c;
		s->n_nconns++;
		s->n_accepted++;
	}
}

static void
nf_pause(struct nf *s, struct nf_listener *l, int pause)
{
	struct epoll_event	 ev = { .events = EPOLLIN, .data.ptr = l };

	if (l->l_paused == pause)
		return;
	if (epoll_ctl(s->n_ep, pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, l->l_fd,
	    &ev) == -1)
		die("epoll_ctl listener");
	l->l_paused = pause;
}

/*
 * Read once (level-triggered epoll calls again while bytes remain), then
 * answer and write until the input is used up.  While an answer waits for
 * EPOLLOUT the connection is not read: the output buffer bounds what a
 * peer that sends without reading can make us hold.
 */
static void
nf_conn_event(struct nf *s, struct nf_conn *c, uint32_t events)
{
	int	 r;

	if (!c->nc_wantout && !c->nc_eof &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		if (nf_conn_read(c) == -1) {
			nf_conn_close(s, c);
			return;
		}
	}
	for (;;) {
		if ((r = nf_parse(s, c)) == -1 || nf_flush(c) == -1) {
			nf_conn_close(s, c);
			return;
		}
		if (c->nc_outlen != 0) {
			if (nf_conn_interest(s, c, 1) == -1)
				nf_conn_close(s, c);
			return;
		}
		if (c->nc_closing || c->nc_eof) {
			nf_conn_close(s, c);
			return;
		}
		if (r == 0)
			break;
	}
	if (nf_conn_interest(s, c, 0) == -1)
		nf_conn_close(s, c);
}

static int
nf_conn_read(struct nf_conn *c)
{
	ssize_t	 n;

	if (c->nc_inlen == sizeof(c->nc_in))
		return (0);	/* nf_parse makes room first */
	n = recv(c->nc_fd, c->nc_in + c->nc_inlen,
	    sizeof(c->nc_in) - c->nc_inlen, 0);
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR ? 0 : -1);
	if (n == 0)
		c->nc_eof = 1;
	c->nc_inlen += (size_t)n;
	return (0);
}

static int
nf_conn_interest(struct nf *s, struct nf_conn *c, int wantout)
{
	struct epoll_event	 ev = { .data.ptr = c };

	if (c->nc_wantout == wantout)
		return (0);
	ev.events = wantout ? EPOLLOUT : EPOLLIN;
	c->nc_wantout = wantout;
	return (epoll_ctl(s->n_ep, EPOLL_CTL_MOD, c->nc_fd, &ev));
}

/* The one place a connection ends; close() also leaves the epoll set. */
static void
nf_conn_close(struct nf *s, struct nf_conn *c)
{
	int	 i;

	close(c->nc_fd);
	if (c->nc_prev != NULL)
		c->nc_prev->nc_next = c->nc_next;
	else
		s->n_conns = c->nc_next;
	if (c->nc_next != NULL)
		c->nc_next->nc_prev = c->nc_prev;
	free(c);
	s->n_nconns--;
	for (i = 0; i < s->n_nlis; i++)
		nf_pause(s, &s->n_lis[i], 0);
}

/*
 * Take whole records from the input buffer.  Returns 0 when the input is
 * used up (or holds only part of a record), 1 when the output buffer has
 * no room for another answer (flush, then call again), -1 on a protocol
 * error: the connection is closed, nothing is answered.
 */
static int
nf_parse(struct nf *s, struct nf_conn *c)
{
	size_t	 off = 0, n, left;
	int	 r = 0;

	while (off < c->nc_inlen && !c->nc_closing) {
		left = c->nc_inlen - off;
		if (c->nc_skip != 0) {
			n = c->nc_skip < left ? c->nc_skip : left;
			c->nc_skip -= n;
			off += n;
			continue;
		}
		if (sizeof(c->nc_out) - c->nc_outlen < NF_ANSWER_MAX) {
			r = 1;
			break;
		}
		n = left;
		if ((r = nf_record(s, c, c->nc_in + off, &n)) != 0)
			break;
		if (n == 0)
			break;		/* an incomplete record */
		off += n;
	}
	/* Input after the last answer of a closing connection is moot. */
	if (c->nc_closing)
		off = c->nc_inlen;
	memmove(c->nc_in, c->nc_in + off, c->nc_inlen - off);
	c->nc_inlen -= off;
	return (r);
}

/*
 * One record at p, *len bytes available.  Sets *len to the bytes taken (0:
 * the record is incomplete; PARAMS, STDIN and DATA content is left to
 * nc_skip instead of being waited for).  Returns 0, or -1 on bad framing.
 */
static int
nf_record(struct nf *s, struct nf_conn *c, const uint8_t *p, size_t *len)
{
	unsigned	 type, id;
	size_t		 clen, plen;

	if (*len < FCGI_HEADER_LEN) {
		*len = 0;
		return (0);
	}
	if (p[0] != FCGI_VERSION_1)
		return (-1);
	type = p[1];
	id = ((unsigned)p[2] << 8) | p[3];
	clen = ((size_t)p[4] << 8) | p[5];
	plen = p[6];
	if (type == FCGI_BEGIN_REQUEST || type == FCGI_GET_VALUES) {
		/* Kept whole, so it must fit (S7: refuse, never grow). */
		if (clen + plen > sizeof(c->nc_in) - FCGI_HEADER_LEN)
			return (-1);
		if (*len - FCGI_HEADER_LEN < clen + plen) {
			*len = 0;
			return (0);
		}
		*len = FCGI_HEADER_LEN + clen + plen;
	} else {
		*len = FCGI_HEADER_LEN;
		c->nc_skip = clen + plen;
	}
	p += FCGI_HEADER_LEN;
	switch (type) {
	case FCGI_BEGIN_REQUEST:
		return (nf_begin(c, id, p, clen));
	case FCGI_GET_VALUES:
		if (id == FCGI_NULL_REQUEST_ID)
			nf_get_values(s, c, p, clen);
		return (0);
	case FCGI_STDIN:
		if (clen == 0 && id != 0 && id == c->nc_id)
			nf_answer(s, c, id);
		return (0);
	case FCGI_ABORT_REQUEST:
		if (id != 0 && id == c->nc_id)
			nf_end(c, id, FCGI_REQUEST_COMPLETE);
		return (0);
	case FCGI_PARAMS:
	case FCGI_DATA:
		return (0);	/* dropped as they come */
	}
	if (id == FCGI_NULL_REQUEST_ID) {	/* FastCGI 1.0 §4.2 */
		c->nc_outlen += bench_header(c->nc_out + c->nc_outlen,
		    FCGI_UNKNOWN_TYPE, 0, 8, 0);
		memset(c->nc_out + c->nc_outlen, 0, 8);
		c->nc_out[c->nc_outlen] = (uint8_t)type;
		c->nc_outlen += 8;
	}
	return (0);	/* a response type from a client: ignored */
}

static int
nf_begin(struct nf_conn *c, unsigned id, const uint8_t *p, size_t clen)
{
	unsigned	 role;

	if (id == FCGI_NULL_REQUEST_ID || clen < 8 || id == c->nc_id)
		return (-1);
	role = ((unsigned)p[0] << 8) | p[1];
	if (c->nc_id != 0) {
		/* Refused at once; its later records match no request. */
		nf_end(c, id, FCGI_CANT_MPX_CONN);
		return (0);
	}
	c->nc_keep = (p[2] & FCGI_KEEP_CONN) != 0;
	if (role != FCGI_RESPONDER) {
		c->nc_id = id;
		nf_end(c, id, FCGI_UNKNOWN_ROLE);
		return (0);
	}
	c->nc_id = id;
	return (0);
}

/*
 * FastCGI 1.0 §4.1: the names asked for, each with an empty value; answer
 * the three known ones, each at most once (so the answer is bounded by
 * NF_ANSWER_MAX whatever the question), and skip the rest.  A malformed
 * pair ends the scan: what was understood so far is answered.
 */
static void
nf_get_values(struct nf *s, struct nf_conn *c, const uint8_t *p, size_t len)
{
	const char	*names[] = { FCGI_MAX_CONNS, FCGI_MAX_REQS,
			    FCGI_MPXS_CONNS };
	char		 max[24];
	uint8_t		*out = c->nc_out + c->nc_outlen, *q;
	size_t		 off = 0, nl, vl, i;
	unsigned	 seen = 0;

	snprintf(max, sizeof(max), "%ld", s->n_maxconns);
	q = out + FCGI_HEADER_LEN;
	while (off < len) {
		if (nf_pair_len(p, len, &off, &nl) == -1 ||
		    nf_pair_len(p, len, &off, &vl) == -1 ||
		    nl > len - off || vl > len - off - nl)
			break;
		for (i = 0; i < 3; i++)
			if (!(seen & (1u << i)) && nl == strlen(names[i]) &&
			    memcmp(p + off, names[i], nl) == 0) {
				seen |= 1u << i;
				q += bench_pair(q, names[i],
				    i == 2 ? "0" : max);
			}
		off += nl + vl;
	}
	bench_header(out, FCGI_GET_VALUES_RESULT, 0,
	    (size_t)(q - out) - FCGI_HEADER_LEN, 0);
	c->nc_outlen += (size_t)(q - out);
}

/* A 1- or 4-byte name-value length at *off (S3: length checked first). */
static int
nf_pair_len(const uint8_t *p, size_t len, size_t *off, size_t *n)
{
	if (*off < len && p[*off] < 0x80) {
		*n = p[(*off)++];
		return (0);
	}
	if (len - *off < 4)
		return (-1);
	*n = ((size_t)(p[*off] & 0x7f) << 24) | ((size_t)p[*off + 1] << 16) |
	    ((size_t)p[*off + 2] << 8) | p[*off + 3];
	*off += 4;
	return (0);
}

/* The request's answer; without FCGI_KEEP_CONN the connection ends here. */
static void
nf_answer(struct nf *s, struct nf_conn *c, unsigned id)
{
	uint8_t	*p = c->nc_out + c->nc_outlen;
	size_t	 off;

	memcpy(p, s->n_answer, s->n_answerlen);
	for (off = 0; off < s->n_answerlen; ) {
		p[off + 2] = (uint8_t)(id >> 8);
		p[off + 3] = (uint8_t)id;
		off += FCGI_HEADER_LEN + (((size_t)p[off + 4] << 8) |
		    p[off + 5]) + p[off + 6];
	}
	c->nc_outlen += s->n_answerlen;
	c->nc_id = 0;
	c->nc_closing = !c->nc_keep;
	s->n_requests++;
}

/* END_REQUEST alone: refused or aborted requests. */
static void
nf_end(struct nf_conn *c, unsigned id, int status)
{
	uint8_t	*p = c->nc_out + c->nc_outlen;

	p += bench_header(p, FCGI_END_REQUEST, id, 8, 0);
	memset(p, 0, 8);
	p[4] = (uint8_t)status;
	c->nc_outlen += FCGI_HEADER_LEN + 8;
	if (id == c->nc_id) {
		c->nc_id = 0;
		c->nc_closing = !c->nc_keep;
	}
}

/* Returns 0 (nc_outlen is 0 once all went out) or -1: the peer is gone. */
static int
nf_flush(struct nf_conn *c)
{
	ssize_t	 n;

	while (c->nc_outoff < c->nc_outlen) {
		n = send(c->nc_fd, c->nc_out + c->nc_outoff,
		    c->nc_outlen - c->nc_outoff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (errno == EAGAIN ? 0 : -1);
		c->nc_outoff += (size_t)n;
	}
	c->nc_outoff = c->nc_outlen = 0;
	return (0);
}

static void
nf_cleanup(struct nf *s)
{
	int	 i;

	while (s->n_conns != NULL)
		nf_conn_close(s, s->n_conns);
	for (i = 0; i < s->n_nlis; i++) {
		close(s->n_lis[i].l_fd);
		if (s->n_lis[i].l_path != NULL)
			unlink(s->n_lis[i].l_path);
	}
	close(s->n_sigfd);
	close(s->n_ep);
}
