/*
 * CIDR lists and files of the config: see cfgcidr.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgcidr.h"

static int	push(struct cfgcidr_vec *, const struct cidr *);
static int	add(struct cfg_loader *, const char *, int, const char *,
		    const char *, struct cfgcidr_vec *, int *);

/* Append c; -1 on ENOMEM. */
static int
push(struct cfgcidr_vec *v, const struct cidr *c)
{
	struct cidr	*nv;
	size_t		 cap;

	if (v->cv_n == v->cv_cap) {
		cap = v->cv_cap ? v->cv_cap * 2 : 16;
		if ((nv = realloc(v->cv_v, cap * sizeof(*nv))) == NULL)
			return (-1);
		v->cv_v = nv;
		v->cv_cap = cap;
	}
	v->cv_v[v->cv_n++] = *c;
	return (0);
}

/*
 * One entry of a list or a file, and the one message for a bad one
 * wherever it was written: a block with host bits names the network the
 * writer probably meant.  key is NULL for a file line.  0 or -1.
 */
static int
add(struct cfg_loader *L, const char *file, int line, const char *key,
    const char *text, struct cfgcidr_vec *v, int *unix_seen)
{
	enum cidr_status	 st;
	struct cidr		 c;
	char			 b[CIDR_STRLEN];

	if (unix_seen != NULL && strcmp(text, "unix:") == 0) {
		*unix_seen = 1;
		return (0);
	}
	st = cidr_parse(text, strlen(text), &c);
	if (st == CIDR_ERR_HOSTBITS) {
		cidr_format(&c, b);
		cfgfile_msg(L, 0, file, line, "%s%s\"%s\": %s (did you mean "
		    "%s?)", key ? key : "", key ? ": " : "", text,
		    cidr_strerror(st), b);
		return (-1);
	}
	if (st != CIDR_OK) {
		cfgfile_msg(L, 0, file, line, "%s%s\"%s\": %s", key ? key : "",
		    key ? ": " : "", text, cidr_strerror(st));
		return (-1);
	}
	if (push(v, &c) < 0) {
		cfgfile_msg(L, 0, file, line, "out of memory");
		return (-1);
	}
	return (0);
}

int
cfgcidr_list(struct cfg_loader *L, const struct cfg_strlist *sl,
    const config_setting_t *s, const char *key, struct cfgcidr_vec *v,
    int *unix_seen)
{
	const char	*file = L->L_cfg->c_file;
	int		 line = 0, bad = 0;
	size_t		 i;

	for (i = 0; i < sl->sl_n; i++) {
		if (s != NULL)
			file = cfgfile_where(L, config_setting_get_elem(s,
			    (unsigned)i), &line);
		if (add(L, file, line, key, sl->sl_v[i], v, unix_seen) < 0)
			bad++;
	}
	return (bad);
}

int
cfgcidr_file(struct cfg_loader *L, const char *path, const char *key,
    const char *file, int line, struct cfgcidr_vec *v, int *unix_seen)
{
	char		 buf[512], *p, *e, *full;
	const char	*kf;
	FILE		*f;
	int		 lineno = 0, r, bad = 0;

	full = cfgfile_path(L->L_dir, path);
	if (full == NULL || (f = fopen(full, "r")) == NULL) {
		cfgfile_msg(L, 0, file, line, "%s \"%s\": %s", key, path,
		    strerror(errno));
		free(full);
		return (1);
	}
	kf = cfgfile_keep(L->L_cfg, full);
	while ((r = cfgfile_line(f, buf, sizeof(buf))) != 0) {
		lineno++;
		if (r < 0) {
			cfgfile_msg(L, 0, kf, lineno, "line longer than %zu "
			    "bytes", sizeof(buf) - 1);
			bad++;
			continue;
		}
		if ((p = strchr(buf, '#')) != NULL)
			*p = '\0';
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (*p != '\0' && add(L, kf, lineno, NULL, p, v, unix_seen) < 0)
			bad++;
	}
	fclose(f);
	free(full);
	return (bad);
}

struct cidr_set *
cfgcidr_compile(struct cfg_loader *L, const char *file, int line,
    struct cfgcidr_vec *v)
{
	struct cidr_set	*set;

	if ((set = cidr_set_new(v->cv_v, v->cv_n)) == NULL)
		cfgfile_msg(L, 0, file, line, "out of memory");
	free(v->cv_v);
	memset(v, 0, sizeof(*v));
	return (set);
}
