/*
 * The server: event loop, listeners, signals, reload (SPEC §6).
 *
 * A config generation is refcounted: the server holds the current one,
 * every listener and every connection holds the one it was created with,
 * so connections in flight finish with their old policy after a reload.
 */
#ifndef FCN_DAEMON_SERVER_H
#define FCN_DAEMON_SERVER_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config/config.h"

struct gen {
	struct cfg	*g_cfg;
	int		 g_refs;
};

struct listener {
	struct server		*l_srv;
	struct evconnlistener	*l_lev;
	struct gen		*l_gen;
	const struct cfg_app	*l_app;
	struct up_pool		*l_pool;	/* new connections use it */
	char			*l_key;		/* canonical listen address */
	char			*l_unlink;	/* unix path we created */
	size_t			 l_nconns;
	unsigned long		 l_untrusted;	/* requests whose untrusted peer
						   sent forwarded headers */
	int			 l_paused;	/* at max_connections */
	int			 l_draining;	/* removed by a reload */
	int			 l_systemd;	/* fd passed by systemd: never
						   closed, systemd owns it */
	struct listener		*l_next;
};

struct conn;
struct up_pool;

struct server {
	struct event_base	*s_base;
	struct conn		*s_conns;	/* every open connection */
	struct gen		*s_gen;
	const char		*s_path;	/* -c, NULL for the default */
	int			 s_level;	/* -l, or -1 */
	struct listener		*s_listeners;
	size_t			 s_nconns;
	int			 s_quitting;
	unsigned long		 s_reloads;	/* SIGHUPs handled */
	struct event		*s_sig[5];
	struct event		*s_quit_timer;
	struct event		*s_emfile_timer;
};

struct sockaddr_storage;

int	srv_main(struct cfg *, const char *path, int level);
/* Fill ss from a unix: or TCP address; returns the sockaddr length. */
int	srv_sockaddr(const struct cfg_addr *, struct sockaddr_storage *ss);
void	srv_gen_ref(struct gen *);
void	srv_gen_unref(struct gen *);
/* A connection of l closed: resume accepting, free drained listeners. */
void	srv_conn_closed(struct listener *);

#endif
