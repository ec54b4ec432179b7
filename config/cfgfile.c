/*
 * Config files and errors: see cfgfile.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgfile.h"

#define MAX_INCLUDE_DEPTH	10	/* libconfig's own limit */

static int	check_includes(struct cfg_loader *, const char *,
		    const char *, int);

void
cfg_errors_init(struct cfg_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void
cfg_errors_free(struct cfg_errors *e)
{
	size_t	i;

	for (i = 0; i < e->e_n; i++)
		free(e->e_v[i].m_text);
	free(e->e_v);
	memset(e, 0, sizeof(*e));
}

void
cfg_errors_print(const struct cfg_errors *e, FILE *f)
{
	size_t	i;

	for (i = 0; i < e->e_n; i++)
		fprintf(f, "%s%s\n", e->e_v[i].m_warn ? "warn: " : "",
		    e->e_v[i].m_text);
}

void
cfgfile_msg(struct cfg_loader *L, int warn, const char *file, int line,
    const char *fmt, ...)
{
	struct cfg_errors	*e = L->L_errs;
	struct cfg_msg		*v;
	char			 text[1024];
	int			 n;
	va_list			 ap;

	/* Count first: a failed allocation below must not hide the error. */
	if (!warn)
		e->e_errors++;
	n = snprintf(text, sizeof(text), "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	if (e->e_n == e->e_cap) {
		size_t cap = e->e_cap ? e->e_cap * 2 : 8;

		if ((v = realloc(e->e_v, cap * sizeof(*v))) == NULL)
			return;
		e->e_v = v;
		e->e_cap = cap;
	}
	if ((e->e_v[e->e_n].m_text = strdup(text)) == NULL)
		return;
	e->e_v[e->e_n++].m_warn = warn;
}

/* Keep a file name for as long as the config lives (apps point at it). */
const char *
cfgfile_keep(struct cfg *c, const char *f)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < c->c_nfiles; i++)
		if (strcmp(c->c_files[i], f) == 0)
			return (c->c_files[i]);
	if ((v = realloc(c->c_files, (c->c_nfiles + 1) * sizeof(*v))) == NULL)
		return (CFGFILE_BUILTIN);
	c->c_files = v;
	if ((v[c->c_nfiles] = strdup(f)) == NULL)
		return (CFGFILE_BUILTIN);
	return (v[c->c_nfiles++]);
}

const char *
cfgfile_where(struct cfg_loader *L, const config_setting_t *s, int *line)
{
	const char	*f = config_setting_source_file(s);

	*line = (int)config_setting_source_line(s);
	return (cfgfile_keep(L->L_cfg, f ? f : L->L_cfg->c_file));
}

char *
cfgfile_path(const char *dir, const char *p)
{
	char	*r;

	if (p[0] == '/' || dir == NULL)
		return (strdup(p));
	if (asprintf(&r, "%s/%s", dir, p) < 0)
		return (NULL);
	return (r);
}

/*
 * One line of f into buf (newline stripped).  Returns 1, 0 at EOF, or -1
 * for a line longer than cap - 1 bytes: the rest of it is skipped, so the
 * caller's line count stays right and memory stays bounded.
 */
int
cfgfile_line(FILE *f, char *buf, size_t cap)
{
	size_t	len;
	int	ch, ret = 1;

	if (fgets(buf, (int)cap, f) == NULL)
		return (0);
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n') {
		buf[len - 1] = '\0';
		return (1);
	}
	if (len == cap - 1) {
		ret = -1;
		while ((ch = fgetc(f)) != EOF && ch != '\n')
			;
	}
	return (ret);
}

/*
 * libconfig 1.5 exits the process on an @include of a directory, so we
 * check every include target ourselves before libconfig sees the file
 * (SPEC §3.1: no config content may end the process).
 */
static int
check_includes(struct cfg_loader *L, const char *file, const char *incdir,
    int depth)
{
	FILE		*f;
	char		 line[4096], *p, *q, *target;
	int		 lineno = 0, bad = 0, r;
	struct stat	 st;

	if ((f = fopen(file, "r")) == NULL)
		return (0);	/* libconfig reports it with the right line */
	while ((r = cfgfile_line(f, line, sizeof(line))) != 0) {
		lineno++;
		if (r < 0)
			continue;	/* not an @include line libconfig reads */
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (strncmp(p, "@include", 8) != 0)
			continue;
		if ((p = strchr(p + 8, '"')) == NULL ||
		    (q = strchr(p + 1, '"')) == NULL)
			continue;	/* a syntax error: libconfig says so */
		*q = '\0';
		if ((target = cfgfile_path(incdir, p + 1)) == NULL)
			break;
		if (depth >= MAX_INCLUDE_DEPTH) {
			cfgfile_msg(L, 0, file, lineno, "@include nested "
			    "deeper than %d", MAX_INCLUDE_DEPTH);
			bad = 1;
		} else if (stat(target, &st) != 0) {
			cfgfile_msg(L, 0, file, lineno, "@include \"%s\": %s",
			    target, strerror(errno));
			bad = 1;
		} else if (!S_ISREG(st.st_mode)) {
			cfgfile_msg(L, 0, file, lineno, "@include \"%s\": not "
			    "a regular file", target);
			bad = 1;
		} else if (check_includes(L, target, incdir, depth + 1)) {
			bad = 1;
		}
		free(target);
	}
	fclose(f);
	return (bad);
}

/* Read path into c; 0, or -1 with the error recorded. */
int
cfgfile_read(struct cfg_loader *L, config_t *c, const char *path)
{
	struct stat	st;
	const char	*f;

	if (stat(path, &st) != 0) {
		cfgfile_msg(L, 0, path, 0, "%s", strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		cfgfile_msg(L, 0, path, 0, "not a regular file");
		return (-1);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		cfgfile_msg(L, 1, path, 0, "is group or world writable");
	config_set_include_dir(c, L->L_dir);
	if (check_includes(L, path, L->L_dir, 0))
		return (-1);
	if (config_read_file(c, path) != CONFIG_TRUE) {
		f = config_error_file(c);
		cfgfile_msg(L, 0, f ? f : path, config_error_line(c), "%s",
		    config_error_text(c));
		return (-1);
	}
	return (0);
}
