/* Config generations and per-app counters: see gen.h. */
#include <sys/mman.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/gen.h"
#include "daemon/log.h"
#include "daemon/status.h"

/* The per-app counters, a list that only grows (apps are few). */
struct gen_stats {
	struct status_app	 gs_app;
	struct gen_stats	*gs_next;
};

/* One event loop per process: the registry is the process's. */
static struct gen_stats	*stats_head;
/* workers > 1: the shared slots, and this process's. */
static char		*slots;
static size_t		 nslots;
static size_t		 stride;	/* bytes of a slot */
static size_t		 myslot;

struct gen *
gen_new(struct cfg *cfg)
{
	struct gen	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (NULL);
	g->g_cfg = cfg;
	g->g_refs = 1;
	return (g);
}

void
gen_ref(struct gen *g)
{
	g->g_refs++;
}

void
gen_unref(struct gen *g)
{
	if (--g->g_refs == 0) {
		cfg_free(g->g_cfg);
		free(g);
	}
}

/* In the shared slot of this process: the app's, or a new one. */
static struct status_app *
slot_app(const char *name)
{
	struct gen_slot		*sl = gen_slot_at(myslot);
	struct gen_share	*a = sl->gl_apps;
	size_t			 i;

	for (i = 0; i < sl->gl_napps && a[i].gs_app.sa_name[0]; i++)
		if (strcmp(a[i].gs_app.sa_name, name) == 0)
			return (&a[i].gs_app);
	if (i == sl->gl_napps) {
		log_error(NULL, "counters of app \"%s\": the shared memory "
		    "was made for %zu apps at start; a restart makes more",
		    name, sl->gl_napps);
		return (NULL);
	}
	snprintf(a[i].gs_app.sa_name, sizeof(a[i].gs_app.sa_name), "%s",
	    name);
	a[i].gs_app.sa_start = time(NULL);
	return (&a[i].gs_app);
}

struct status_app *
gen_app_stats(const char *name)
{
	struct gen_stats	*n;

	if (slots != NULL)
		return (slot_app(name));
	for (n = stats_head; n != NULL; n = n->gs_next)
		if (strcmp(n->gs_app.sa_name, name) == 0)
			return (&n->gs_app);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (NULL);
	snprintf(n->gs_app.sa_name, sizeof(n->gs_app.sa_name), "%s", name);
	n->gs_app.sa_start = time(NULL);
	n->gs_next = stats_head;
	stats_head = n;
	return (&n->gs_app);
}

void
gen_stats_free(void)
{
	struct gen_stats	*n;

	while ((n = stats_head) != NULL) {
		stats_head = n->gs_next;
		free(n);
	}
}

int
gen_stats_share(size_t n, size_t apps)
{
	void	*m;
	size_t	 k;

	apps = apps > GEN_APPS_MAX ? GEN_APPS_MAX : apps;
	stride = sizeof(struct gen_slot) + apps * sizeof(struct gen_share);
	m = mmap(NULL, n * stride, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return (-1);
	slots = m;
	nslots = n;
	myslot = 0;
	for (k = 0; k < n; k++)
		gen_slot_at(k)->gl_napps = apps;
	return (0);
}

size_t
gen_nslots(void)
{
	return (nslots);
}

struct gen_slot *
gen_slot_at(size_t k)
{
	return ((struct gen_slot *)(void *)(slots + k * stride));
}

struct gen_slot *
gen_slot_use(size_t k)
{
	myslot = k;
	return (gen_slot_at(k));
}

struct gen_slot *
gen_slot_mine(void)
{
	return (slots != NULL && myslot > 0 ? gen_slot_at(myslot) : NULL);
}

struct gen_share *
gen_share_of(struct status_app *sa)
{
	char		*p = (char *)sa;

	if (slots == NULL || p < slots || p >= slots + nslots * stride)
		return (NULL);
	return ((struct gen_share *)(void *)(p -
	    offsetof(struct gen_share, gs_app)));
}

struct gen_share *
gen_share_find(struct gen_slot *sl, const char *name)
{
	size_t	i;

	for (i = 0; i < sl->gl_napps && sl->gl_apps[i].gs_app.sa_name[0]; i++)
		if (strcmp(sl->gl_apps[i].gs_app.sa_name, name) == 0)
			return (&sl->gl_apps[i]);
	return (NULL);
}

void
gen_share_put(struct gen_share *sh, const struct status_live *sl,
    const struct status_upstream *su)
{
	size_t	n = sl->sl_nup < GEN_UP_MAX ? sl->sl_nup : GEN_UP_MAX;

	sh->gs_live = *sl;
	sh->gs_live.sl_up = NULL;
	sh->gs_live.sl_ranges = NULL;
	sh->gs_live.sl_workers = NULL;
	sh->gs_live.sl_nup = n;
	memcpy(sh->gs_up, su, n * sizeof(*su));
}
