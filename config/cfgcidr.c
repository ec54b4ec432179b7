/*
 * CIDR lists and files of the config: see cfgcidr.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfgcidr.h"
#include "proto/ranges.h"

static int	push(struct cfgcidr_vec *, const struct cidr *);
static int	add(struct cfg_loader *, const char *, int, const char *,
		    const char *, struct cfgcidr_vec *, int *);
static void	provenance(struct cfg_loader *, struct cfg_app *,
		    const char *, const char *, size_t, const char *,
		    const char *, int);

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
    const char *file, int line, struct cfgcidr_vec *v, int *unix_seen,
    struct cfg_app *a)
{
	char		 buf[512], head[1024], *p, *e, *full;
	const char	*kf;
	FILE		*f;
	int		 lineno = 0, hn = 0, r, bad = 0;
	size_t		 hlen = 0, n;

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
		/* The leading comment lines: provenance, if any. */
		if (r > 0 && buf[0] == '#' && lineno == hn + 1) {
			hn++;
			n = strlen(buf);
			if (n < sizeof(head) - hlen - 1) {
				memcpy(head + hlen, buf, n);
				hlen += n;
				head[hlen++] = '\n';
			}
		}
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
	if (a != NULL)
		provenance(L, a, kf, head, hlen, key, file, line);
	return (bad);
}

/*
 * SPEC §3.4: a file fcgi-normalizer-ranges wrote says who published it
 * and when it was fetched.  Note it once per app; warn when it is stale,
 * at the setting that names it (the file itself is not to be edited).
 */
static void
provenance(struct cfg_loader *L, struct cfg_app *a, const char *path,
    const char *head, size_t hlen, const char *key, const char *file,
    int line)
{
	struct ranges_meta	 m;
	struct cfg_ranges	*r;
	char			 when[RANGES_TIMELEN];
	int64_t			 age;
	size_t			 i;

	if (!ranges_meta_parse(head, hlen, &m))
		return;
	for (i = 0; i < a->a_nranges; i++)
		if (strcmp(a->a_ranges[i].cr_path, path) == 0)
			return;
	if ((r = reallocarray(a->a_ranges, a->a_nranges + 1,
	    sizeof(*r))) == NULL)
		return;	/* only the status row is lost */
	a->a_ranges = r;
	r = &r[a->a_nranges++];
	r->cr_path = path;
	memcpy(r->cr_provider, m.rm_provider, sizeof(r->cr_provider));
	r->cr_fetched = m.rm_fetched;
	r->cr_entries = m.rm_entries;
	age = (int64_t)time(NULL) - m.rm_fetched;
	if (m.rm_fetched < 0)
		cfgfile_msg(L, 1, file, line, "%s \"%s\": provider %s, no "
		    "valid \"# fetched:\" line", key, path, m.rm_provider);
	else if (age > CFG_RANGES_STALE_DAYS * 86400LL)
		cfgfile_msg(L, 1, file, line, "%s \"%s\": the %s list was "
		    "fetched %s, %lld days ago: run fcgi-normalizer-ranges "
		    "update (or enable fcgi-normalizer-ranges.timer)", key,
		    path, m.rm_provider, ranges_time_format(m.rm_fetched, when),
		    (long long)(age / 86400));
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
