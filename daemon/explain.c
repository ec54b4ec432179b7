/*
 * -e APP, --explain APP (SPEC §2): the policy of one app as a dry run,
 * nothing listened on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/explain.h"
#include "proto/normalize.h"
#include "proto/params.h"

#define EXPLAIN_TRAIL	65536

/*
 * --explain: params from stdin (NAME=VALUE per line), the rewritten params
 * to stdout in the same form, the decision trail to stderr (SPEC §2).
 */
int
explain_run(const struct cfg *c, const char *name)
{
	const struct cfg_app	*a;
	const struct param	*e;
	struct params		*p;
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			*line = NULL, *eq, *trail;
	size_t			 cap = 0, i;
	ssize_t			 n;
	long			 lineno = 0;

	if ((a = cfg_app_find(c, name)) == NULL) {
		fprintf(stderr, "fcgi-normalizer: no app \"%s\" in %s\n", name,
		    c->c_file);
		return (1);
	}
	/* Room for the request and for everything the policy may add. */
	p = params_new((size_t)a->a_max_params_bytes * 2 + 65536);
	trail = malloc(EXPLAIN_TRAIL);
	if (p == NULL || trail == NULL) {
		perror("fcgi-normalizer");
		return (1);
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((eq = memchr(line, '=', (size_t)n)) == NULL) {
			fprintf(stderr, "stdin:%ld: no '=': line skipped\n",
			    lineno);
			continue;
		}
		if (params_append(p, line, (size_t)(eq - line), eq + 1,
		    (size_t)(n - (eq + 1 - line))) != PARAMS_OK) {
			fprintf(stderr, "stdin:%ld: params larger than "
			    "max_params_bytes\n", lineno);
			break;
		}
	}
	free(line);
	norm_trail_init(&t, trail, EXPLAIN_TRAIL, 1);
	v = norm_run(&a->a_policy, p, &t);
	if (v == NORM_OK) {
		for (i = 0; i < p->p_count; i++) {
			if ((e = params_at(p, i)) == NULL)
				continue;
			fwrite(params_name(p, e), 1, e->p_nlen, stdout);
			fputc('=', stdout);
			fwrite(params_value(p, e), 1, e->p_vlen, stdout);
			fputc('\n', stdout);
		}
	}
	fprintf(stderr, "app %s\n%sverdict: %s\n", a->a_name, trail,
	    norm_verdict_str(v));
	params_free(p);
	free(trail);
	return (0);
}

