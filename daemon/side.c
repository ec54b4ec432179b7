/* Socket I/O for both sides of the relay: see side.h. */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/side.h"

int
side_init(struct event_base *base, struct side *s, int fd,
    event_callback_fn rcb, event_callback_fn wcb, void *arg)
{
	s->s_fd = fd;
	s->s_rev = event_new(base, fd, EV_READ | EV_PERSIST, rcb, arg);
	s->s_wev = event_new(base, fd, EV_WRITE | EV_PERSIST, wcb, arg);
	if (s->s_in == NULL)
		s->s_in = evbuffer_new();
	if (s->s_out == NULL)
		s->s_out = evbuffer_new();
	s->s_reading = s->s_writing = s->s_quiet = s->s_armed = 0;
	if (s->s_rev == NULL || s->s_wev == NULL || s->s_in == NULL ||
	    s->s_out == NULL)
		return (-1);
	side_read_on(s, 1);
	return (0);
}

void
side_close(struct side *s)
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
	s->s_reading = s->s_writing = s->s_quiet = s->s_armed = 0;
}

void
side_free(struct side *s)
{
	side_close(s);
	if (s->s_in != NULL)
		evbuffer_free(s->s_in);
	if (s->s_out != NULL)
		evbuffer_free(s->s_out);
	s->s_in = s->s_out = NULL;
}

/* The read event added exactly when reading is wanted and not quiet. */
static void
side_arm(struct side *s)
{
	int	want = s->s_reading && !s->s_quiet;

	if (s->s_fd < 0 || want == s->s_armed)
		return;
	if (want)
		event_add(s->s_rev, NULL);
	else
		event_del(s->s_rev);
	s->s_armed = want;
}

void
side_read_on(struct side *s, int on)
{
	if (s->s_fd >= 0)
		s->s_reading = on;
	side_arm(s);
}

void
side_quiet(struct side *s, int on)
{
	s->s_quiet = on;
	side_arm(s);
}

int
side_fill(struct side *s)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	if (evbuffer_reserve_space(s->s_in, SIDE_READ_MAX, &v, 1) < 1)
		return (-1);
	if (v.iov_len > SIDE_READ_MAX)
		v.iov_len = SIDE_READ_MAX;
	n = read(s->s_fd, v.iov_base, v.iov_len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR ? -2 : -1);
	v.iov_len = (size_t)n;
	evbuffer_commit_space(s->s_in, &v, 1);
	return ((int)n);
}

int
side_fill_first(struct side *s)
{
	uint8_t	buf[SIDE_FIRST_MAX];
	ssize_t	n;

	if ((n = read(s->s_fd, buf, sizeof(buf))) < 0)
		return (errno == EAGAIN || errno == EINTR ? -2 : -1);
	if (n > 0 && evbuffer_add(s->s_in, buf, (size_t)n) < 0)
		return (-1);
	return ((int)n);
}

int
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

int
side_sockaddr(const struct cfg_addr *ca, struct sockaddr_storage *ss)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ca->ca_kind == CFG_ADDR_UNIX) {
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
		    ca->ca_path);
		return (sizeof(*sun));
	}
	if (ca->ca_ip.a_family == ADDR_V4) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ca->ca_ip.a_bytes, 4);
		s4->sin_port = htons((uint16_t)ca->ca_port);
		return (sizeof(*s4));
	}
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, ca->ca_ip.a_bytes, 16);
	s6->sin6_port = htons((uint16_t)ca->ca_port);
	return (sizeof(*s6));
}

void
side_timer(struct event *ev, long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}
