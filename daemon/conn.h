/*
 * One front connection: the web server's side, protocol-blind (I/O,
 * back-pressure, timers, the PROXY header, lingering close) holding a
 * set of requests (daemon/request.h) that its front protocol
 * (conn_fcgi.c or conn_scgi.c, picked once at accept) decodes and feeds.
 *
 * Ownership (STYLE S9): struct conn owns its socket, its requests, the
 * php-fpm connection it holds between requests (no pool), and its
 * references to the config generation and pool.  conn_close() marks it;
 * the outermost callback running on it frees it on its way out, so no
 * function ever runs on a freed conn.
 */
#ifndef FCN_DAEMON_CONN_H
#define FCN_DAEMON_CONN_H

#include <stddef.h>

#include <event2/util.h>

struct conn;
struct gen;
struct cfg_app;
struct up_pool;
struct status_app;
struct sockaddr;

/* What a listener gives each connection it accepts. */
struct conn_setup {
	struct event_base	*cs_base;
	struct gen		*cs_gen;
	const struct cfg_app	*cs_app;
	struct up_pool		*cs_pool;
	struct status_app	*cs_stats;
	unsigned long		*cs_untrusted;	/* requests whose untrusted
						   peer sent forwarded
						   headers */
	const size_t		*cs_active;	/* the listener's connections */
	struct conn		**cs_list;	/* every open connection */
	/* Called once the connection is freed (the listener's hook). */
	void			(*cs_closed)(void *arg);
	void			*cs_arg;
};

/* Take over an accepted socket fd. */
void	conn_accept(const struct conn_setup *, evutil_socket_t fd,
	    const struct sockaddr *sa, int salen);
/* Close every connection of the list now (fast stop). */
void	conn_close_all(struct conn **list);

#endif
