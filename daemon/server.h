/*
 * The server: event loop, signals, reload and stop (SPEC §6); the top of
 * daemon/ under main.  It holds the current config generation (gen.h).
 */
#ifndef FCN_DAEMON_SERVER_H
#define FCN_DAEMON_SERVER_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config/config.h"
#include "daemon/listener.h"

struct server {
	struct listener_env	 s_env;		/* base, listeners, conns */
	struct gen		*s_gen;
	const char		*s_path;	/* -c, NULL for the default */
	int			 s_level;	/* -l, or -1 */
	unsigned long		 s_reloads;	/* SIGHUPs handled */
	struct event		*s_sig[5];
	struct event		*s_quit_timer;
	struct event		*s_emfile_timer;
	struct event		*s_pub_timer;	/* a worker's gauges */
	int			 s_worker;	/* a worker of a master */
};

int	srv_main(struct cfg *, const char *path, int level);

/*
 * SPEC §6.2, for the master above: srv_init() is srv_main() up to the
 * loop for n workers (listeners bound, pools shared out, counters in
 * shared slots, privileges dropped; no signal handled: the master's).
 * In a child after fork(), srv_worker() runs the loop as worker k (of
 * the generation the config is) and exits.  srv_reload() is a SIGHUP's
 * work without the loop (0 ok); srv_quit() closes and unlinks every
 * listener; srv_end() frees all.
 */
void	srv_init(struct server *, struct cfg *, const char *path, int level,
	    size_t n);
void	srv_worker(struct server *, size_t k) __attribute__((__noreturn__));
int	srv_reload(struct server *);
/* A SIGHUP the master could not act on: told as a failed reload. */
void	srv_reload_refused(struct server *);
void	srv_quit(struct server *);
void	srv_end(struct server *);

#endif
