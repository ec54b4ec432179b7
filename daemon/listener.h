/* Listening sockets and accept: see listener.c. */
#ifndef FCN_DAEMON_LISTENER_H
#define FCN_DAEMON_LISTENER_H

#include <event2/util.h>

#include "config/config.h"

struct gen;
struct listener;
struct server;

/* The listener of s bound to the canonical address key, or NULL. */
struct listener	*listener_find(struct server *, const char *key);
/*
 * Bind (or take from systemd) app a's listen address for generation g
 * and start accepting; 0, or -1 logged.
 */
int		 listener_open(struct server *, struct gen *,
		    const struct cfg_app *);
/* Stop accepting: close (and unlink) what we bound; systemd's stay open. */
void		 listener_close(struct listener *);
/* listener_close and free, with its pool and generation reference. */
void		 listener_free(struct listener *);
/* The EMFILE back-off timer: accept again. */
void		 listener_resume_cb(evutil_socket_t, short, void *);

#endif
