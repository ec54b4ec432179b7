/*
 * A scripted php-fpm for fuzz_conn: FastCGI on a unix socket, served by
 * the daemon's own event loop.  Like php-fpm it takes one request at a
 * time per connection, honours FCGI_KEEP_CONN and ignores ABORT_REQUEST;
 * how it answers each request is a byte of the fuzz input (fuzz_conn.h).
 *
 * It also checks what the daemon sends php-fpm, which php-fpm itself
 * would reject or misread: a second BEGIN_REQUEST before the first one's
 * END_REQUEST (php-fpm cannot multiplex), records of another request id,
 * STDIN before the empty PARAMS, malformed records.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fastcgi.h>

#include "tests/fuzz/fuzz_conn.h"

#define PARAMS_MAX	(1024 * 1024)	/* the daemon sends ~20 KiB at most */
#define DELAY_BUDGET_MS	30		/* per input: bounds the run */
#define PIECES		8
#define STDOUT_REC	32768
#define SLOW_PAUSES	16		/* FPM_F_SLOW_READ: then full speed */

struct fpm {
	struct bufferevent	*f_bev;
	struct event		*f_timer;	/* delay, pieces */
	struct event		*f_rtimer;	/* FPM_F_SLOW_READ */
	int			 f_pauses;	/* ... done: at most SLOW_PAUSES */
	struct evbuffer		*f_ans;		/* answer bytes not yet written */
	size_t			 f_piece;	/* FPM_PIECES: bytes per write */
	uint8_t			 f_hdr[FCGI_HEADER_LEN];
	size_t			 f_hlen;
	unsigned		 f_type;
	unsigned		 f_id;
	size_t			 f_left;	/* content of this record */
	size_t			 f_pad;
	uint8_t			 f_body[8];	/* BEGIN_REQUEST's body */
	size_t			 f_blen;
	int			 f_active;	/* BEGIN seen, END not written */
	int			 f_began;	/* f_rid is valid */
	unsigned		 f_rid;		/* the request (or the last) */
	int			 f_keep;
	int			 f_params_done;
	int			 f_stdin_done;
	int			 f_answered;
	uint8_t			*f_params;
	size_t			 f_plen;
	uint8_t			 f_beh;
	char			 f_tag[16];
	int			 f_close_after;	/* once the output is out */
	struct fpm		*f_next;
	struct fpm		**f_prevp;
};

static struct {
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct fpm		*list;
	size_t			 nopen;
	uint8_t			 defbeh;
	uint8_t			 flags;
	int			 refuse;	/* accepts still to refuse */
	int			 budget;	/* delay ms left */
	unsigned		 begins;
	unsigned		 answers;
} F;

static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	read_cb(struct bufferevent *, void *);
static void	write_cb(struct bufferevent *, void *);
static void	event_cb(struct bufferevent *, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	rtimer_cb(evutil_socket_t, short, void *);
static void	fpm_free(struct fpm *);
static int	feed(struct fpm *, struct evbuffer *);
static int	header(struct fpm *);
static int	content(struct fpm *, struct evbuffer *, size_t);
static int	record_end(struct fpm *);
static int	params_end(struct fpm *);
static void	fz_param(struct fpm *);
static void	record(struct evbuffer *, unsigned, unsigned, const void *,
		    size_t, int);
static void	answer(struct fpm *);
static void	values(struct fpm *);
static void	send_some(struct fpm *);
static void	close_after(struct fpm *);
static void	maybe_close(struct fpm *);

int
fpm_start(struct event_base *base, const char *path)
{
	struct sockaddr_un	sun;

	F.base = base;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	F.lev = evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof(sun));
	return (F.lev == NULL ? -1 : 0);
}

void
fpm_input(uint8_t defbeh, uint8_t flags)
{
	F.defbeh = defbeh;
	F.flags = flags;
	F.refuse = flags & FPM_F_REFUSE_MASK;
	F.budget = DELAY_BUDGET_MS;
	F.begins = F.answers = 0;
}

size_t
fpm_open(void)
{
	return (F.nopen);
}

void
fpm_counts(unsigned *begins, unsigned *answers)
{
	*begins = F.begins;
	*answers = F.answers;
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fpm	*f;
	int		 sz = 4096;

	(void)lev;
	(void)sa;
	(void)salen;
	(void)arg;
	/* php-fpm stopping: the connection was in its backlog. */
	if (F.refuse > 0) {
		F.refuse--;
		close(fd);
		return;
	}
	if (F.flags & FPM_F_SMALL_BUF) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->f_bev = bufferevent_socket_new(F.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (f->f_timer = evtimer_new(F.base, timer_cb, f)) == NULL ||
	    (f->f_rtimer = evtimer_new(F.base, rtimer_cb, f)) == NULL ||
	    (f->f_ans = evbuffer_new()) == NULL)
		fz_fail("fpm: out of memory");
	bufferevent_setcb(f->f_bev, read_cb, write_cb, event_cb, f);
	bufferevent_enable(f->f_bev, EV_READ | EV_WRITE);
	if ((f->f_next = F.list) != NULL)
		f->f_next->f_prevp = &f->f_next;
	f->f_prevp = &F.list;
	F.list = f;
	F.nopen++;
}

static void
fpm_free(struct fpm *f)
{
	if ((*f->f_prevp = f->f_next) != NULL)
		f->f_next->f_prevp = f->f_prevp;
	bufferevent_free(f->f_bev);
	event_free(f->f_timer);
	event_free(f->f_rtimer);
	evbuffer_free(f->f_ans);
	free(f->f_params);
	free(f);
	F.nopen--;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct fpm	*f = arg;

	if (feed(f, bufferevent_get_input(bev)) < 0) {
		fpm_free(f);
		return;
	}
	if ((F.flags & FPM_F_SLOW_READ) && !f->f_close_after &&
	    f->f_pauses++ < SLOW_PAUSES) {
		bufferevent_disable(bev, EV_READ);
		event_add(f->f_rtimer, &(struct timeval){ 0, 1000 });
	}
	maybe_close(f);
}

/* FPM_F_SLOW_READ: read again. */
static void
rtimer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fpm	*f = arg;

	(void)fd;
	(void)ev;
	if (!f->f_close_after)
		bufferevent_enable(f->f_bev, EV_READ);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	maybe_close(arg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fpm_free(arg);
}

/* Records from the daemon.  -1: close the connection (f is not freed). */
static int
feed(struct fpm *f, struct evbuffer *in)
{
	size_t	n, len;

	while ((len = evbuffer_get_length(in)) > 0 && !f->f_close_after) {
		if (f->f_hlen < FCGI_HEADER_LEN) {
			n = FCGI_HEADER_LEN - f->f_hlen;
			n = n < len ? n : len;
			evbuffer_remove(in, f->f_hdr + f->f_hlen, n);
			if ((f->f_hlen += n) == FCGI_HEADER_LEN &&
			    header(f) < 0)
				return (-1);
		} else if (f->f_left > 0) {
			n = f->f_left < len ? f->f_left : len;
			if (content(f, in, n) < 0)
				return (-1);
		} else {
			n = f->f_pad < len ? f->f_pad : len;
			evbuffer_drain(in, n);
			f->f_pad -= n;
		}
		if (f->f_hlen == FCGI_HEADER_LEN && f->f_left == 0 &&
		    f->f_pad == 0) {
			f->f_hlen = 0;
			if (record_end(f) < 0)
				return (-1);
		}
	}
	return (0);
}

/* A record header from the daemon: what php-fpm would accept. */
static int
header(struct fpm *f)
{
	const uint8_t	*h = f->f_hdr;

	f->f_type = h[1];
	f->f_id = (unsigned)(h[2] << 8 | h[3]);
	f->f_left = (size_t)(h[4] << 8 | h[5]);
	f->f_pad = h[6];
	if (h[0] != FCGI_VERSION_1)
		fz_fail("the daemon sent php-fpm a record of version %u", h[0]);
	switch (f->f_type) {
	case FCGI_BEGIN_REQUEST:
		if (f->f_left != 8 || f->f_id == 0)
			fz_fail("the daemon sent php-fpm a BEGIN_REQUEST of %zu "
			    "bytes for id %u", f->f_left, f->f_id);
		if (f->f_active)
			fz_fail("the daemon sent php-fpm a BEGIN_REQUEST (id %u) "
			    "while request %u was in flight on that connection "
			    "(php-fpm cannot multiplex)", f->f_id, f->f_rid);
		f->f_blen = 0;
		return (0);
	case FCGI_GET_VALUES:
		if (f->f_id != 0 || f->f_active)
			fz_fail("the daemon sent php-fpm GET_VALUES on id %u, "
			    "active %d", f->f_id, f->f_active);
		return (0);
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
	case FCGI_ABORT_REQUEST:
		break;
	default:
		fz_fail("the daemon sent php-fpm a record of type %u",
		    f->f_type);
	}
	/* Late records of the request just answered are php-fpm's to skip. */
	if (!f->f_began || f->f_id != f->f_rid)
		fz_fail("the daemon sent php-fpm %s for id %u on a connection "
		    "serving id %u", f->f_type == FCGI_PARAMS ? "PARAMS" :
		    "a request record", f->f_id, f->f_began ? f->f_rid : 0);
	if (f->f_active && f->f_type == FCGI_PARAMS && f->f_params_done)
		fz_fail("the daemon sent php-fpm PARAMS after the empty PARAMS "
		    "(id %u)", f->f_id);
	if (f->f_active && f->f_type == FCGI_STDIN && !f->f_params_done)
		fz_fail("the daemon sent php-fpm STDIN before the empty PARAMS "
		    "(id %u)", f->f_id);
	return (0);
}

static int
content(struct fpm *f, struct evbuffer *in, size_t n)
{
	uint8_t	*np;
	size_t	 k;

	if (f->f_type == FCGI_BEGIN_REQUEST) {
		k = n < 8 - f->f_blen ? n : 8 - f->f_blen;
		evbuffer_remove(in, f->f_body + f->f_blen, k);
		f->f_blen += k;
	} else if (f->f_type == FCGI_PARAMS && f->f_active) {
		if (f->f_plen + n > PARAMS_MAX)
			fz_fail("the daemon sent php-fpm over %d bytes of params",
			    PARAMS_MAX);
		if ((np = realloc(f->f_params, f->f_plen + n)) == NULL)
			fz_fail("fpm: out of memory");
		f->f_params = np;
		evbuffer_remove(in, f->f_params + f->f_plen, n);
		f->f_plen += n;
	} else {
		evbuffer_drain(in, n);
	}
	f->f_left -= n;
	return (0);
}

/* A whole record.  -1: close now. */
static int
record_end(struct fpm *f)
{
	switch (f->f_type) {
	case FCGI_BEGIN_REQUEST:
		F.begins++;
		f->f_active = f->f_began = 1;
		f->f_rid = f->f_id;
		f->f_keep = (f->f_body[2] & FCGI_KEEP_CONN) != 0;
		f->f_params_done = f->f_stdin_done = f->f_answered = 0;
		f->f_plen = 0;
		f->f_beh = F.defbeh;
		snprintf(f->f_tag, sizeof(f->f_tag), "-");
		return (0);
	case FCGI_PARAMS:
		if (f->f_active && f->f_left == 0 &&
		    f->f_hdr[4] == 0 && f->f_hdr[5] == 0)
			return (params_end(f));
		return (0);
	case FCGI_STDIN:
		if (f->f_hdr[4] != 0 || f->f_hdr[5] != 0 || !f->f_active)
			return (0);
		f->f_stdin_done = 1;
		if (!f->f_answered)
			answer(f);
		return (0);
	case FCGI_GET_VALUES:
		values(f);
		return (0);
	default:
		return (0);	/* DATA, and ABORT_REQUEST as php-fpm does */
	}
}

static int
params_end(struct fpm *f)
{
	f->f_params_done = 1;
	fz_param(f);
	switch (f->f_beh & 7) {
	case FPM_REFUSE:
		return (-1);
	case FPM_EARLY:
		answer(f);
		return (0);
	default:
		return (0);
	}
}

/* FZ=HH.TAG among the params: this request's answer and its tag. */
static void
fz_param(struct fpm *f)
{
	const uint8_t	*p = f->f_params, *end;
	size_t		 nl = 0, vl, i;
	char		 v[32];
	unsigned	 beh;

	if (p == NULL)
		return;
	end = p + f->f_plen;
	while (end - p >= 2) {
		for (i = 0; i < 2; i++) {
			if (end - p < 1)
				return;
			if (*p & 0x80) {
				if (end - p < 4)
					return;
				vl = (size_t)(p[0] & 0x7f) << 24 |
				    (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
				p += 4;
			} else
				vl = *p++;
			if (i == 0)
				nl = vl;
		}
		if ((size_t)(end - p) < nl + vl)
			return;
		if (nl == 2 && memcmp(p, "FZ", 2) == 0 && vl < sizeof(v)) {
			memcpy(v, p + 2, vl);
			v[vl] = '\0';
			if (sscanf(v, "%2x.%15s", &beh, f->f_tag) >= 1)
				f->f_beh = (uint8_t)beh;
		}
		p += nl + vl;
	}
}

/* One record (any length: split at STDOUT_REC), padded when asked. */
static void
record(struct evbuffer *b, unsigned type, unsigned id, const void *c,
    size_t len, int pad)
{
	static const uint8_t	zero[8];
	const uint8_t		*p = c;
	uint8_t			 h[FCGI_HEADER_LEN];
	size_t			 n, pl;

	do {
		n = len < STDOUT_REC ? len : STDOUT_REC;
		pl = pad && n % 8 ? 8 - n % 8 : 0;
		h[0] = FCGI_VERSION_1;
		h[1] = (uint8_t)type;
		h[2] = (uint8_t)(id >> 8);
		h[3] = (uint8_t)id;
		h[4] = (uint8_t)(n >> 8);
		h[5] = (uint8_t)n;
		h[6] = (uint8_t)pl;
		h[7] = 0;
		evbuffer_add(b, h, sizeof(h));
		evbuffer_add(b, p, n);
		evbuffer_add(b, zero, pl);
		if (n == 0)
			break;
		p += n;
		len -= n;
	} while (len > 0);
}

/*
 * The answer: STDOUT whose first line names the request (its tag and the
 * id php-fpm saw, checked by fuzz_conn.c), the empty STDOUT, END_REQUEST;
 * written as the mode says.
 */
static void
answer(struct fpm *f)
{
	static const size_t	 sizes[4] = { 16, 700, 9000, 100000 };
	static char		 body[100000 + 256];
	static const uint8_t	 end[8] = { 0, 0, 0, 0, FCGI_REQUEST_COMPLETE };
	int			 pad = (f->f_beh & 0x80) != 0, n, d;
	size_t			 len;

	f->f_answered = 1;
	F.answers++;
	n = snprintf(body, 256, "Status: 200 OK\r\nX-Fz: tag=%s rid=%u\r\n"
	    "Content-Type: text/plain\r\n\r\n", f->f_tag, f->f_rid);
	len = (size_t)n + sizes[(f->f_beh >> 3) & 3];
	memset(body + n, 'a' + f->f_rid % 26, len - (size_t)n);
	if (f->f_beh & 0x20)
		record(f->f_ans, FCGI_STDERR, f->f_rid, "fuzz: to stderr\n", 16,
		    pad);
	record(f->f_ans, FCGI_STDOUT, f->f_rid, body, len, pad);
	record(f->f_ans, FCGI_STDOUT, f->f_rid, NULL, 0, 0);
	record(f->f_ans, FCGI_END_REQUEST, f->f_rid, end, sizeof(end), 0);
	switch (f->f_beh & 7) {
	case FPM_DELAY:
		d = 1 + 2 * ((f->f_beh >> 3) & 7);
		d = d < F.budget ? d : F.budget;
		F.budget -= d;
		event_add(f->f_timer, &(struct timeval){ 0, d * 1000 });
		return;
	case FPM_PIECES:
		f->f_piece = evbuffer_get_length(f->f_ans) / PIECES + 1;
		send_some(f);
		return;
	case FPM_CUT:
		evbuffer_remove_buffer(f->f_ans, bufferevent_get_output(f->f_bev),
		    evbuffer_get_length(f->f_ans) / 2);
		close_after(f);
		return;
	case FPM_GARBAGE:
		/* A good record, then a version-2 header: the daemon closes. */
		evbuffer_drain(f->f_ans, evbuffer_get_length(f->f_ans));
		record(f->f_ans, FCGI_STDOUT, f->f_rid, body, 16, 0);
		evbuffer_add(f->f_ans, "\2\6\0\1\0\0\0\0", 8);
		bufferevent_write_buffer(f->f_bev, f->f_ans);
		return;
	default:
		send_some(f);
		return;
	}
}

/* GET_VALUES_RESULT as php-fpm 8.2 answers (no FCGI_MAX_CONNS there). */
static void
values(struct fpm *f)
{
	static const char	v[] = "\x0f\x01" "FCGI_MPXS_CONNS" "0"
	    "\x0d\x01" "FCGI_MAX_REQS" "1";
	struct evbuffer		*b = bufferevent_get_output(f->f_bev);

	record(b, FCGI_GET_VALUES_RESULT, 0, v, sizeof(v) - 1, 0);
	if (F.flags & FPM_F_VALUES_CLOSE)
		close_after(f);
}

/* Write the answer, or its next piece; the END ends the request. */
static void
send_some(struct fpm *f)
{
	size_t	n = evbuffer_get_length(f->f_ans);

	if (f->f_piece > 0 && n > f->f_piece)
		n = f->f_piece;
	evbuffer_remove_buffer(f->f_ans, bufferevent_get_output(f->f_bev), n);
	if (evbuffer_get_length(f->f_ans) > 0) {
		event_add(f->f_timer, &(struct timeval){ 0, 0 });
		return;
	}
	f->f_piece = 0;
	f->f_active = 0;
	if (!f->f_keep || (f->f_beh & 0x40))
		close_after(f);
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	send_some(arg);
	maybe_close(arg);
}

/* Close once what is written went out (maybe_close, on the way out). */
static void
close_after(struct fpm *f)
{
	f->f_close_after = 1;
	evbuffer_drain(f->f_ans, evbuffer_get_length(f->f_ans));
	evtimer_del(f->f_timer);
	evtimer_del(f->f_rtimer);
	bufferevent_disable(f->f_bev, EV_READ);
}

/* Every entry point ends here: f may be freed. */
static void
maybe_close(struct fpm *f)
{
	if (f->f_close_after &&
	    evbuffer_get_length(bufferevent_get_output(f->f_bev)) == 0)
		fpm_free(f);
}
