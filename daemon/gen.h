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

#include <sys/types.h>

#include "config/config.h"
#include "daemon/status.h"

/*
 * SPEC §6.2, workers > 1: the counters live in a shared mapping the
 * master makes before the first fork, one slot per worker process (slot
 * 0 is the master's: reloads).  A worker writes only its own slot, with
 * plain stores and no lock; a status page reads every slot.  A slot
 * outlives its process: a worker that replaces a dead one, or one of a
 * new generation, takes a free slot and adds to what is there, so the
 * sum over all slots never goes back.
 */
#define GEN_APPS_MAX	256	/* apps with counters, per slot, at most */
#define GEN_UP_MAX	16	/* upstream rows shared per app */

/* What one worker shows of one app: counters, and gauges it publishes. */
struct gen_share {
	struct status_app	gs_app;
	struct status_live	gs_live;	/* its pointers unused */
	struct status_upstream	gs_up[GEN_UP_MAX];
};

struct gen_slot {
	pid_t			gl_pid;
	int			gl_alive;	/* set by the worker, cleared
						   by the master at its end */
	unsigned		gl_gen;		/* its generation */
	size_t			gl_conns;	/* front connections now */
	size_t			gl_napps;	/* room in gl_apps */
	struct gen_share	gl_apps[];
};

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
/*
 * The master, before any app's counters: n slots shared, each with room
 * for apps apps (at most GEN_APPS_MAX).  0, or -1 with errno.
 */
int		 gen_stats_share(size_t n, size_t apps);
/* The number of slots (0 when not shared), and slot k. */
size_t		 gen_nslots(void);
struct gen_slot	*gen_slot_at(size_t k);
/* In a worker: its slot k, from now on gen_app_stats' home. */
struct gen_slot	*gen_slot_use(size_t k);
/* This process's slot in a worker, else NULL. */
struct gen_slot	*gen_slot_mine(void);
/* Slot sl's share of app name, or NULL. */
struct gen_share *gen_share_find(struct gen_slot *sl, const char *name);
/* A worker publishes its gauges of an app (the pointers stay home). */
void		 gen_share_put(struct gen_share *, const struct status_live *,
		    const struct status_upstream *);
/* The share holding sa, when sa lives in a shared slot; else NULL. */
struct gen_share *gen_share_of(struct status_app *sa);

#endif
