/* Config generations and per-app counters: see gen.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/gen.h"
#include "daemon/status.h"

/* The per-app counters, a list that only grows (apps are few). */
struct gen_stats {
	struct status_app	 gs_app;
	struct gen_stats	*gs_next;
};

/* One event loop per process: the registry is the process's. */
static struct gen_stats	*stats_head;

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

struct status_app *
gen_app_stats(const char *name)
{
	struct gen_stats	*n;

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
