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
};

int	srv_main(struct cfg *, const char *path, int level);

#endif
