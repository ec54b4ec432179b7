/*
 * Listening sockets by kind (relayd's relay_socket_listen): unix (mode,
 * owner, group), TCP v4/v6, or taken from systemd; accept with
 * allow_from, max_connections and the EMFILE back-off (STYLE S12).
 *
 * A listener reaches its server only through the hooks it was given
 * (struct listener_hooks, SPEC §7); its connections reach it through the
 * conn_setup hook it gives them.
 */
#ifndef FCN_DAEMON_LISTENER_H
#define FCN_DAEMON_LISTENER_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config/config.h"

struct conn;
struct gen;
struct up_pool;
struct status_app;

/* What the server gives every listener. */
struct listener_hooks {
	/* A connection of l closed (after the listener's own work). */
	void	(*lh_conn_closed)(void *srv);
	/* accept() ran out of descriptors: pause every listener a while. */
	void	(*lh_emfile)(void *srv);
};

/* What a listener shares with the server and its siblings. */
struct listener_env {
	struct event_base		*le_base;
	struct conn			*le_conns;	/* every connection */
	size_t				 le_nconns;
	int				 le_quitting;
	const struct listener_hooks	*le_hooks;
	void				*le_srv;
	struct listener			*le_listeners;
	/* SPEC §6.2: the workers, and which one this process is (-1: the
	   master, or the only process). */
	size_t				 le_workers;
	long				 le_worker;
};

struct listener {
	struct listener_env	*l_env;
	struct evconnlistener	*l_lev;
	struct gen		*l_gen;
	const struct cfg_app	*l_app;
	struct up_pool		*l_pool;	/* new connections use it */
	struct status_app	*l_stats;	/* its app's counters */
	char			*l_key;		/* canonical listen address */
	char			*l_unlink;	/* unix path we created */
	size_t			 l_nconns;
	unsigned long		 l_untrusted;	/* requests whose untrusted peer
						   sent forwarded headers */
	int			 l_paused;	/* at max_connections */
	int			 l_draining;	/* removed by a reload */
	int			 l_systemd;	/* fd passed by systemd: never
						   closed, systemd owns it */
	int			*l_fds;		/* TCP with workers: one
						   SO_REUSEPORT socket each */
	int			 l_xfd;		/* shared socket in a worker:
						   EPOLLEXCLUSIVE set, or -1 */
	struct event		*l_xev;		/* its readiness */
	struct listener		*l_next;
};

/* The listener of env bound to the canonical address key, or NULL. */
struct listener	*listener_find(struct listener_env *, const char *key);
/*
 * Bind (or take from systemd) app a's listen address for generation g
 * and start accepting; 0, or -1 logged.
 */
int		 listener_open(struct listener_env *, struct gen *,
		    const struct cfg_app *);
/* Stop accepting: close (and unlink) what we bound; systemd's stay open. */
void		 listener_close(struct listener *);
/* listener_close and free, with its pool and generation reference. */
void		 listener_free(struct listener *);
/* A reload keeps l's socket for app a of generation g (new pool). */
void		 listener_update(struct listener *, struct gen *,
		    const struct cfg_app *);
/* Accept on l, or stop for now (max_connections, a drain, EMFILE). */
void		 listener_enable(struct listener *, int on);
/*
 * SPEC §6.2, in worker k of the env's le_workers after the fork: its own
 * SO_REUSEPORT socket of each TCP listener (the others closed), the
 * shared unix and systemd sockets with exclusive wake-ups, the counters
 * of its slot; nothing unlinked at its exit.  0, or -1 logged.
 */
int		 listener_worker(struct listener_env *, size_t k);
/* Accept on every listener again, unless paused or draining. */
void		 listener_resume_all(struct listener_env *);
/* Stop accepting on every listener for now (EMFILE back-off). */
void		 listener_pause_all(struct listener_env *);

#endif
