#include <sys/mman.h>

#include <ftw.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/util.h"

static void	*g_map;
static size_t	 g_maplen;
static char	 g_dir[64];

void
guarded_release(void)
{
	if (g_map != NULL)
		munmap(g_map, g_maplen);
	g_map = NULL;
}

const uint8_t *
guarded_copy(const void *src, size_t len)
{
	size_t	 pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t	 data = (len + pg - 1) / pg * pg;
	uint8_t	*m;

	guarded_release();
	g_maplen = data + pg;
	m = mmap(NULL, g_maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		abort();
	mprotect(m + data, pg, PROT_NONE);
	g_map = m;
	memcpy(m + data - len, src, len);
	return (m + data - len);
}

void
params_from_text(struct params *p, const char *t)
{
	const char	*nl, *eq;

	for (; *t; t = nl + 1) {
		nl = strchr(t, '\n');
		if (nl == NULL)
			nl = t + strlen(t);
		eq = memchr(t, '=', (size_t)(nl - t));
		if (eq == NULL)
			abort();
		if (params_append(p, t, (size_t)(eq - t), eq + 1,
		    (size_t)(nl - eq - 1)) != PARAMS_OK)
			abort();
		if (*nl == '\0')
			break;
	}
}

const char *
params_to_text(const struct params *p)
{
	static char		 buf[1 << 20];
	const struct param	*e;
	size_t			 i, o = 0;

	for (i = 0; i < p->p_count; i++) {
		if ((e = params_at(p, i)) == NULL)
			continue;
		if (o + e->p_nlen + e->p_vlen + 3 > sizeof(buf))
			break;
		memcpy(buf + o, params_name(p, e), e->p_nlen);
		o += e->p_nlen;
		buf[o++] = '=';
		memcpy(buf + o, params_value(p, e), e->p_vlen);
		o += e->p_vlen;
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	return (buf);
}

const char *
tmp_dir(void)
{
	if (g_dir[0] == '\0') {
		strcpy(g_dir, "/tmp/fcn-unit-XXXXXX");
		if (mkdtemp(g_dir) == NULL)
			abort();
	}
	return (g_dir);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return (remove(path));
}

/* The run passed: its files go (a failed run keeps them to look at). */
void
tmp_dir_remove(void)
{
	if (g_dir[0] != '\0')
		nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	g_dir[0] = '\0';
}

/* Replace every occurrence of from in s (in place, s grows <= 64 KiB). */
static void
replace_all(char *s, size_t cap, const char *from, const char *to)
{
	char	*p = s, tmp[65536];
	size_t	 fl = strlen(from), tl = strlen(to);

	while ((p = strstr(p, from)) != NULL) {
		if (strlen(s) - fl + tl >= cap)
			return;
		snprintf(tmp, sizeof(tmp), "%s", p + fl);
		memcpy(p, to, tl);
		strcpy(p + tl, tmp);
		p += tl;
	}
}

struct cfg *
cfg_from_text(const char *text, const char **msgs)
{
	static char		 out[65536];
	struct cfg_errors	 errs;
	struct cfg		*c;
	char			 path[128];
	FILE			*f;
	size_t			 i, o = 0;

	snprintf(path, sizeof(path), "%s/main.conf", tmp_dir());
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	cfg_errors_init(&errs);
	c = cfg_load(path, &errs);
	out[0] = '\0';
	for (i = 0; i < errs.e_n && o < sizeof(out) - 1; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s\n",
		    errs.e_v[i].m_warn ? "warn: " : "", errs.e_v[i].m_text);
	cfg_errors_free(&errs);
	replace_all(out, sizeof(out), path, "FILE");
	replace_all(out, sizeof(out), tmp_dir(), "DIR");
	if (msgs != NULL)
		*msgs = out;
	return (c);
}

struct cfg *
cfg_app_text(const char *body)
{
	size_t		 cap = strlen(body) + 512;
	char		*text = malloc(cap);
	const char	*msgs;
	struct cfg	*c;

	snprintf(text, cap, "apps = ( {\n name = \"t\";\n"
	    " listen = \"127.0.0.1:9001\";\n upstream = \"127.0.0.1:9000\";\n"
	    "%s\n} );\n", body);
	c = cfg_from_text(text, &msgs);
	free(text);
	if (c == NULL) {
		fprintf(stderr, "test config rejected:\n%s", msgs);
		abort();
	}
	return (c);
}
