/*
 * fcgi-normalizer command line (SPEC §2): -c -t -T -e -l -V -h.
 * Everything else lives in server.c; this file only decides what to run.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#ifndef FCN_VERSION
#define FCN_VERSION	"0.1.0"
#endif

#include "daemon/explain.h"
#include "daemon/master.h"
#include "daemon/log.h"
#include "daemon/server.h"

static void	usage(FILE *);
static struct cfg *load(const char **, int);
struct opts;
static int	parse(int, char *[], struct opts *);

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

/* What the command line asked for. */
struct opts {
	const char	*o_path;
	const char	*o_app;
	const char	*o_level;
	int		 o_test;	/* 1: -t, 2: -T */
};

/* Parse argv into o: -1 go on, else the exit status (-h, -V, errors). */
static int
parse(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "c:tTe:l:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->o_path = optarg;
			break;
		case 't':
			o->o_test = o->o_test ? o->o_test : 1;
			break;
		case 'T':
			o->o_test = 2;
			break;
		case 'e':
			o->o_app = optarg;
			break;
		case 'l':
			if (cfg_log_level_parse(optarg) < 0) {
				fprintf(stderr, "fcgi-normalizer: -l %s: "
				    "expected error, warn, info or debug\n",
				    optarg);
				return (1);
			}
			o->o_level = optarg;
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
	return (-1);
}

int
main(int argc, char *argv[])
{
	struct opts	 o = { NULL, NULL, NULL, 0 };
	struct cfg	*c;
	int		 rc;

	if ((rc = parse(argc, argv, &o)) >= 0)
		return (rc);
	if ((c = load(&o.o_path, o.o_test != 0 || o.o_app != NULL)) == NULL)
		return (1);
	if (o.o_level != NULL)
		c->c_level = (enum cfg_log_level)cfg_log_level_parse(o.o_level);
	if (o.o_test) {
		printf("configuration OK\n");
		if (o.o_test == 2)
			cfg_dump(c, stdout);
		cfg_free(c);
		return (0);
	}
	if (o.o_app != NULL) {
		rc = explain_run(c, o.o_app);
		cfg_free(c);
		return (rc);
	}
	/*
	 * No memory-management syscall on the request path: what a request
	 * frees (64 KiB read buffers, a replay copy, relayed chains) stays
	 * in the heap for the next one instead of being trimmed by brk and
	 * faulted in again (perf showed 18% of a 1 MiB upload run in brk's
	 * TLB flush).  Memory stays bounded by the per-connection limits.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TOP_PAD, 1024 * 1024);
	if (cfg_workers(c) > 1)
		return (master_main(c, o.o_path, o.o_level ?
		    cfg_log_level_parse(o.o_level) : -1,
		    (size_t)cfg_workers(c)));
	return (srv_main(c, o.o_path, o.o_level ?
	    cfg_log_level_parse(o.o_level) : -1));
}
