/*
 * fcgi-normalizer command line (SPEC §2): -c -t -T -e -l -V -h.
 * Everything else lives in server.c; this file only decides what to run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "proto/normalize.h"
#include "proto/params.h"

#ifndef FCN_VERSION
#define FCN_VERSION	"0.1.0"
#endif

#define EXPLAIN_TRAIL	65536

#include "daemon/log.h"
#include "daemon/server.h"

static void	usage(FILE *);
static int	explain(const struct cfg *, const char *);
static struct cfg *load(const char **, int);

static void
usage(FILE *f)
{
	fputs("usage: fcgi-normalizer [-c FILE] [-t | -T] [-e APP] "
	    "[-l LEVEL] [-h] [-V]\n"
	    "  -c FILE      main config (default " CFG_DEFAULT_FILE ")\n"
	    "  -t           test the config and exit\n"
	    "  -T           test, then print the effective config\n"
	    "  -e, --explain APP\n"
	    "               run APP's policy on NAME=VALUE lines from stdin\n"
	    "  -l LEVEL     log level: error, warn, info, debug\n"
	    "  -V           print the version\n"
	    "  -h           this help\n", f);
}

/*
 * Load the config; errors go to stderr as FILE:LINE: message (with a
 * journal priority under systemd).  *pathp becomes the file actually
 * read, NULL for the built-in config: a reload must read that same file.
 */
static struct cfg *
load(const char **pathp, int quiet)
{
	struct cfg_errors	 errs;
	struct cfg		*c;
	size_t			 i;
	int			 lvl;

	if (*pathp == NULL && access(CFG_DEFAULT_FILE, F_OK) == 0)
		*pathp = CFG_DEFAULT_FILE;
	else if (*pathp == NULL && !quiet)
		fprintf(stderr, "%sinfo: %s not found: using the built-in "
		    "default config\n", log_stderr_prefix(LOG_LVL_INFO),
		    CFG_DEFAULT_FILE);
	cfg_errors_init(&errs);
	c = cfg_load(*pathp, &errs);
	for (i = 0; i < errs.e_n; i++) {
		lvl = errs.e_v[i].m_warn ? LOG_LVL_WARN : LOG_LVL_ERROR;
		fprintf(stderr, "%s%s%s\n", log_stderr_prefix(lvl),
		    errs.e_v[i].m_warn ? "warn: " : "", errs.e_v[i].m_text);
	}
	cfg_errors_free(&errs);
	return (c);
}

/*
 * --explain: params from stdin (NAME=VALUE per line), the rewritten params
 * to stdout in the same form, the decision trail to stderr (SPEC §2).
 */
static int
explain(const struct cfg *c, const char *name)
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*path = NULL, *app = NULL, *level = NULL;
	struct cfg	*c;
	int		 ch, test = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:tTe:l:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = test ? test : 1;
			break;
		case 'T':
			test = 2;
			break;
		case 'e':
			app = optarg;
			break;
		case 'l':
			if (cfg_log_level_parse(optarg) < 0) {
				fprintf(stderr, "fcgi-normalizer: -l %s: "
				    "expected error, warn, info or debug\n",
				    optarg);
				return (1);
			}
			level = optarg;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'V':
			printf("fcgi-normalizer %s\n", FCN_VERSION);
			return (0);
		default:
			usage(stderr);
			return (1);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (1);
	}
	if ((c = load(&path, test != 0 || app != NULL)) == NULL)
		return (1);
	if (level != NULL)
		c->c_level = (enum cfg_log_level)cfg_log_level_parse(level);
	if (test) {
		printf("configuration OK\n");
		if (test == 2)
			cfg_dump(c, stdout);
		cfg_free(c);
		return (0);
	}
	if (app != NULL) {
		rc = explain(c, app);
		cfg_free(c);
		return (rc);
	}
	return (srv_main(c, path, level ? cfg_log_level_parse(level) : -1));
}
