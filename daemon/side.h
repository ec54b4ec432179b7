/*
 * One non-blocking socket with its two buffers and its two events, written
 * the way nginx and HAProxy write: at once when there is something to
 * send, with EPOLLOUT armed only after a short write.  On a small request
 * that is half the syscalls of a bufferevent, which always waits for
 * writability first.  Used for both the front and the upstream side.
 */
#ifndef FCN_DAEMON_SIDE_H
#define FCN_DAEMON_SIDE_H

#include <event2/event.h>

#include "config/config.h"

struct evbuffer;
struct sockaddr_storage;

#define SIDE_READ_MAX	(64 * 1024)	/* per read(2) */
#define SIDE_FIRST_MAX	(16 * 1024)	/* the first read(2) */

struct side {
	int		 s_fd;		/* -1: none */
	struct event	*s_rev;		/* EV_READ|EV_PERSIST */
	struct event	*s_wev;		/* EV_WRITE|EV_PERSIST, after EAGAIN */
	struct evbuffer	*s_in;
	struct evbuffer	*s_out;
	int		 s_reading;	/* reading wanted */
	int		 s_quiet;	/* ... but not watched for now */
	int		 s_armed;	/* s_rev added */
	int		 s_writing;	/* s_wev added */
};

/*
 * Take fd (reading on); the buffers are created once and kept.  -1 on
 * ENOMEM: fd is then still the caller's unless s_fd was set.
 */
int	side_init(struct event_base *, struct side *, int fd,
	    event_callback_fn rcb, event_callback_fn wcb, void *arg);
/* Close the socket and drop what it buffered; the buffers stay. */
void	side_close(struct side *);
/* side_close and free the buffers. */
void	side_free(struct side *);
void	side_read_on(struct side *, int on);
/*
 * Quiet: the peer has sent all it will send for now; its socket is not
 * watched (no epoll_ctl at all for a connection closed before the quiet
 * ends), though reading stays wanted.  Off: watched again if wanted.
 */
void	side_quiet(struct side *, int on);
/* One read(2) into s_in: bytes read, 0 on EOF, -1 on error, -2 EAGAIN. */
int	side_fill(struct side *);
/*
 * side_fill for a connection's first read, through a stack buffer of
 * SIDE_FIRST_MAX: one that has sent nothing yet (EAGAIN) keeps no
 * SIDE_READ_MAX buffer, and a small request gets a buffer its size.
 */
int	side_fill_first(struct side *);
/* Write what s_out holds; EPOLLOUT after a short write.  -1: error. */
int	side_flush(struct side *);
/* (Re)arm timer ev to fire in ms milliseconds. */
void	side_timer(struct event *ev, long ms);
/* Fill ss from a unix: or TCP address; returns the sockaddr length. */
int	side_sockaddr(const struct cfg_addr *, struct sockaddr_storage *ss);

#endif
