/*
 * One front connection (web server side) and its upstream (php-fpm).
 *
 * Ownership (STYLE S9): struct conn owns both bufferevents, the params
 * arena and its reference to the listener and config generation.
 * conn_close() is the only function that releases them; it is called once,
 * from a libevent callback, never while a caller up the stack still uses
 * the conn (callbacks return right after calling it).
 */
#ifndef FCN_DAEMON_CONN_H
#define FCN_DAEMON_CONN_H

#include <event2/util.h>

struct listener;
struct server;
struct sockaddr;

/* Take over an accepted socket fd from listener l. */
void	conn_accept(struct listener *l, evutil_socket_t fd,
	    const struct sockaddr *sa, int salen);
/* Close every connection of s now (fast stop). */
void	conn_close_all(struct server *s);

#endif
