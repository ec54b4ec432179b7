/*
 * Configuration loading (SPEC §3): the main file, inline apps and
 * apps_dir files.  The pieces live in their own files: cfgfile (files,
 * @include, errors), cfgkey (the key-table engine), cfgapp (app keys,
 * their checks, the policy build).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfgapp.h"
#include "config/cfgfile.h"
#include "config/cfgkey.h"
#include "config/config.h"

static const char *const e_level[] = {
	"error", "warn", "info", "debug", NULL
};
static const char *const skip_apps[] = { "apps", NULL };

static int	workers_set(struct cfg_loader *, void *,
		    const config_setting_t *, const struct cfgkey *);
static void	workers_default(void *);
static void	workers_free(void *);
static void	workers_dump(const void *, FILE *);

/* SPEC §6.2: workers = N or "auto" (0 here: the online CPUs). */
static const struct cfgkey_ops workers_ops = {
	workers_set, workers_default, workers_free, workers_dump,
};

#define S(n, f, d, req, c)	CFGKEY_S(struct cfg, n, f, d, req, c)
#define E(n, f, d, v, c)	CFGKEY_E(struct cfg, n, f, d, v, c)
static const struct cfgkey main_keys[] = {
	E("log_level", c_log_level, "info", e_level, NULL),
	S("log", c_log, "stderr", 0, NULL),
	S("user", c_user, NULL, 0, NULL),
	S("group", c_group, NULL, 0, NULL),
	S("apps_dir", c_apps_dir, NULL, 0, NULL),
	CFGKEY_C(struct cfg, "workers", c_workers, &workers_ops, NULL),
};
#define NMAIN	(sizeof(main_keys) / sizeof(main_keys[0]))

static const char builtin_text[] =
    "apps = ( {\n"
    "  name = \"default\";\n"
    "  listen = \"127.0.0.1:9001\";\n"
    "  upstream = \"unix:/run/php/php-fpm.sock\";\n"
    "  trusted_proxies = [ \"127.0.0.0/8\", \"::1\" ];\n"
    "} );\n";

static int	conf_filter(const struct dirent *);
static void	load_apps_dir(struct cfg_loader *, const config_setting_t *);
static void	load_main(struct cfg_loader *, config_t *);
static void	check_unique(struct cfg_loader *);

static int
conf_filter(const struct dirent *d)
{
	size_t	n = strlen(d->d_name);

	return (n > 5 && d->d_name[0] != '.' &&
	    strcmp(d->d_name + n - 5, ".conf") == 0);
}

/* apps_dir: every *.conf, in name order, holds one app = { ... }; */
static void
load_apps_dir(struct cfg_loader *L, const config_setting_t *s)
{
	struct dirent		**ents = NULL;
	config_t		  cf;
	config_setting_t	 *root, *el, *app;
	char			 *dir, *path;
	const char		 *file;
	int			  n, i, j, line;

	file = cfgfile_where(L, s, &line);
	dir = cfgfile_path(L->L_dir, L->L_cfg->c_apps_dir);
	if (dir == NULL || (n = scandir(dir, &ents, conf_filter,
	    alphasort)) < 0) {
		cfgfile_msg(L, 0, file, line, "apps_dir \"%s\": %s",
		    L->L_cfg->c_apps_dir, strerror(errno));
		free(dir);
		return;
	}
	for (i = 0; i < n; i++) {
		path = cfgfile_path(dir, ents[i]->d_name);
		free(ents[i]);
		if (path == NULL)
			continue;
		config_init(&cf);
		if (cfgfile_read(L, &cf, path) == 0) {
			root = config_root_setting(&cf);
			app = NULL;
			for (j = 0; j < config_setting_length(root); j++) {
				el = config_setting_get_elem(root,
				    (unsigned)j);
				if (strcmp(config_setting_name(el), "app") == 0)
					app = el;
				else {
					file = cfgfile_where(L, el, &line);
					cfgfile_msg(L, 0, file, line, "unknown "
					    "key \"%s\" (a file in apps_dir "
					    "holds one app = { ... };)",
					    config_setting_name(el));
				}
			}
			if (app == NULL)
				cfgfile_msg(L, 0, cfgfile_keep(L->L_cfg,
				    path), 1,
				    "no app = { ... }; in this file");
			else
				cfgapp_load(L, app);
		}
		config_destroy(&cf);
		free(path);
	}
	free(ents);
	free(dir);
}

static void
load_main(struct cfg_loader *L, config_t *cf)
{
	config_setting_t	*root = config_root_setting(cf), *apps;
	int			 lines[NMAIN], i, line;
	const char		*file;

	cfgkey_load_group(L, main_keys, NMAIN, L->L_cfg, root, skip_apps,
	    lines);
	L->L_cfg->c_level = (enum cfg_log_level)cfg_log_level_parse(
	    L->L_cfg->c_log_level ? L->L_cfg->c_log_level : "info");
	if (L->L_cfg->c_log != NULL && strcmp(L->L_cfg->c_log, "stderr") &&
	    strcmp(L->L_cfg->c_log, "syslog") && L->L_cfg->c_log[0] != '/')
		cfgfile_msg(L, 0, L->L_cfg->c_file, lines[1] > 0 ? lines[1] :
		    1, "log: \"%s\": expected stderr, syslog or an absolute "
		    "path", L->L_cfg->c_log);
	if ((apps = config_setting_get_member(root, "apps")) != NULL) {
		file = cfgfile_where(L, apps, &line);
		if (!config_setting_is_list(apps) &&
		    !config_setting_is_array(apps))
			cfgfile_msg(L, 0, file, line, "apps: expected a list "
			    "( { ... }, { ... } )");
		else
			for (i = 0; i < config_setting_length(apps); i++)
				cfgapp_load(L, config_setting_get_elem(apps,
				    (unsigned)i));
	}
	if (L->L_cfg->c_apps_dir != NULL)
		load_apps_dir(L, config_setting_get_member(root, "apps_dir"));
}

static int
workers_set(struct cfg_loader *L, void *p, const config_setting_t *s,
    const struct cfgkey *k)
{
	long		*w = p;
	const char	*file;
	int		 line;

	file = cfgfile_where(L, s, &line);
	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "auto") == 0) {
		*w = 0;
		return (0);
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT ||
	    config_setting_get_int(s) < 1 ||
	    config_setting_get_int(s) > CFG_WORKERS_MAX) {
		cfgfile_msg(L, 0, file, line, "%s: expected a number of "
		    "processes from 1 to %d, or \"auto\" (one per online "
		    "CPU)", k->k_name, CFG_WORKERS_MAX);
		return (-1);
	}
	*w = config_setting_get_int(s);
	return (0);
}

static void
workers_default(void *p)
{
	*(long *)p = 1;
}

static void
workers_free(void *p)
{
	(void)p;
}

static void
workers_dump(const void *p, FILE *f)
{
	if (*(const long *)p == 0)
		fputs("\"auto\"", f);
	else
		fprintf(f, "%ld", *(const long *)p);
}

long
cfg_workers(const struct cfg *c)
{
	long	n;

	if (c->c_workers > 0)
		return (c->c_workers);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n < 1 ? 1 : n > CFG_WORKERS_MAX ? CFG_WORKERS_MAX : n);
}

/* Names and listen addresses must be unique across all apps. */
static void
check_unique(struct cfg_loader *L)
{
	struct cfg	*c = L->L_cfg;
	size_t		 i, j;

	for (i = 0; i < c->c_napps; i++)
		for (j = 0; j < i; j++) {
			const struct cfg_app *a = &c->c_apps[i],
			    *b = &c->c_apps[j];

			if (a->a_name && b->a_name &&
			    strcmp(a->a_name, b->a_name) == 0)
				cfgfile_msg(L, 0, a->a_file, a->a_line,
				    "duplicate app name \"%s\" (first at "
				    "%s:%d)", a->a_name, b->a_file, b->a_line);
			if (a->a_listen_addr.ca_text &&
			    b->a_listen_addr.ca_text &&
			    strcmp(a->a_listen_addr.ca_text,
			    b->a_listen_addr.ca_text) == 0)
				cfgfile_msg(L, 0, a->a_file, a->a_line,
				    "duplicate listen \"%s\" (app \"%s\" at "
				    "%s:%d)", a->a_listen, b->a_name,
				    b->a_file, b->a_line);
		}
}

struct cfg *
cfg_load(const char *path, struct cfg_errors *errs)
{
	struct cfg_loader	 L;
	struct cfg	*c;
	config_t	 cf;
	char		*dir = NULL, *slash;
	int		 ok;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->c_builtin = path == NULL;
	c->c_file = strdup(path ? path : CFGFILE_BUILTIN);
	if (path != NULL && (dir = strdup(path)) != NULL) {
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		else
			strcpy(dir, ".");
	}
	L.L_cfg = c;
	L.L_errs = errs;
	L.L_dir = dir;
	config_init(&cf);
	if (path == NULL) {
		ok = config_read_string(&cf, builtin_text) == CONFIG_TRUE;
	} else {
		ok = cfgfile_read(&L, &cf, path) == 0;
	}
	if (ok) {
		load_main(&L, &cf);
		check_unique(&L);
		if (c->c_napps == 0 && errs->e_errors == 0)
			cfgfile_msg(&L, 0, c->c_file, 1, "no app defined "
			    "(use apps = ( { ... } ); or apps_dir)");
	}
	config_destroy(&cf);
	free(dir);
	if (errs->e_errors > 0) {
		cfg_free(c);
		return (NULL);
	}
	return (c);
}

void
cfg_free(struct cfg *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->c_napps; i++)
		cfgapp_free(&c->c_apps[i]);
	free(c->c_apps);
	cfgkey_free(main_keys, NMAIN, c);
	for (i = 0; i < c->c_nfiles; i++)
		free(c->c_files[i]);
	free(c->c_files);
	free(c->c_file);
	free(c);
}

const struct cfg_app *
cfg_app_find(const struct cfg *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->c_napps; i++)
		if (strcmp(c->c_apps[i].a_name, name) == 0)
			return (&c->c_apps[i]);
	return (NULL);
}

int
cfg_log_level_parse(const char *s)
{
	int	i;

	for (i = 0; e_level[i] != NULL; i++)
		if (strcmp(e_level[i], s) == 0)
			return (i);
	return (-1);
}

void
cfg_dump(const struct cfg *c, FILE *f)
{
	size_t	i;

	fprintf(f, "# effective configuration from %s\n", c->c_file);
	cfgkey_dump(main_keys, NMAIN, c, f, "");
	fputs("apps = (\n", f);
	for (i = 0; i < c->c_napps; i++) {
		cfgapp_dump(&c->c_apps[i], f);
		fprintf(f, "%s\n", i + 1 < c->c_napps ? "," : "");
	}
	fputs(");\n", f);
}
