/*
 * What outlives a connection but not the process: config generations and
 * the per-app counters (SPEC §6.1).
 *
 * A generation is refcounted: the server holds the current one, every
 * listener, pool and connection the one it was made with, so connections
 * in flight finish with their old policy after a reload (SPEC §6).  The
 * counters of an app are kept by name for the process's life, so an app
 * kept across a reload keeps them.  A leaf: it calls nothing in daemon/
 * but the log.
 */
#ifndef FCN_DAEMON_GEN_H
#define FCN_DAEMON_GEN_H

#include "config/config.h"

struct status_app;

struct gen {
	struct cfg	*g_cfg;
	int		 g_refs;
};

/* A generation holding cfg, one reference (the caller's); NULL: ENOMEM. */
struct gen	*gen_new(struct cfg *);
void		 gen_ref(struct gen *);
/* The last reference frees the generation and its config. */
void		 gen_unref(struct gen *);
/* The counters of app name, created at first use; NULL on ENOMEM. */
struct status_app *gen_app_stats(const char *name);
/* At exit: every app's counters freed. */
void		 gen_stats_free(void);

#endif
