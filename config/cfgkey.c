/*
 * The key-table engine: see cfgkey.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgkey.h"

static char	*xstrdup(const char *);
static int	skipped(const char *const *, const char *);
static int	set_key(struct cfg_loader *, const struct cfgkey *, void *,
		    const config_setting_t *);

static char *
xstrdup(const char *s)
{
	return (s ? strdup(s) : NULL);
}

void
cfgkey_default(const struct cfgkey *k, void *base)
{
	char			*p = (char *)base + k->k_off;
	struct cfg_strlist	*sl;
	size_t			 n;

	switch (k->k_type) {
	case CFGKEY_STR:
	case CFGKEY_ENUM:
		*(char **)(void *)p = xstrdup(k->k_def);
		break;
	case CFGKEY_BOOL:
		*(int *)(void *)p = (int)k->k_idef;
		break;
	case CFGKEY_INT:
		*(long *)(void *)p = k->k_idef;
		break;
	case CFGKEY_LIST:
	case CFGKEY_STRS:
		sl = (struct cfg_strlist *)(void *)p;
		for (n = 0; k->k_ldef != NULL && k->k_ldef[n] != NULL; n++)
			;
		sl->sl_v = calloc(n + 1, sizeof(char *));
		sl->sl_n = 0;
		for (n = 0; sl->sl_v != NULL && k->k_ldef != NULL &&
		    k->k_ldef[n] != NULL; n++)
			sl->sl_v[sl->sl_n++] = strdup(k->k_ldef[n]);
		break;
	case CFGKEY_CUSTOM:
		k->k_ops->o_default(p);
		break;
	}
}

/* "a, b, c": an enum's values for an error message, cut to fit. */
static const char *
enum_list(const char *const *v, char *buf, size_t cap)
{
	size_t	n = 0;
	int	w;

	buf[0] = '\0';
	for (; *v != NULL && n < cap; v++) {
		w = snprintf(buf + n, cap - n, "%s%s", n > 0 ? ", " : "", *v);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return (buf);
}

/* Store setting s as key k; 0, or -1 with the error recorded. */
static int
set_key(struct cfg_loader *L, const struct cfgkey *k, void *base,
    const config_setting_t *s)
{
	char			*p = (char *)base + k->k_off;
	const char		*file, *str;
	char			 buf[256];
	struct cfg_strlist	*sl;
	config_setting_t	*el;
	long long		 v;
	int			 line, type = config_setting_type(s), i, n;
	size_t			 j;

	file = cfgfile_where(L, s, &line);
	switch (k->k_type) {
	case CFGKEY_CUSTOM:
		return (k->k_ops->o_set(L, p, s, k));
	case CFGKEY_STR:
	case CFGKEY_ENUM:
		if (type != CONFIG_TYPE_STRING)
			goto wrong;
		str = config_setting_get_string(s);
		if (k->k_type == CFGKEY_ENUM) {
			for (j = 0; k->k_enum[j] != NULL; j++)
				if (strcmp(k->k_enum[j], str) == 0)
					break;
			if (k->k_enum[j] == NULL) {
				cfgfile_msg(L, 0, file, line, "%s: \"%s\" is "
				    "not one of %s", k->k_name, str,
				    enum_list(k->k_enum, buf, sizeof(buf)));
				return (-1);
			}
		}
		*(char **)(void *)p = xstrdup(str);
		return (0);
	case CFGKEY_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto wrong;
		*(int *)(void *)p = config_setting_get_bool(s);
		return (0);
	case CFGKEY_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			goto wrong;
		v = config_setting_get_int64(s);
		if (v < k->k_min || v > k->k_max) {
			cfgfile_msg(L, 0, file, line, "%s: %lld is out of "
			    "range %ld-%ld", k->k_name, v, k->k_min, k->k_max);
			return (-1);
		}
		*(long *)(void *)p = (long)v;
		return (0);
	case CFGKEY_STRS:
		if (type == CONFIG_TYPE_STRING) {
			sl = (struct cfg_strlist *)(void *)p;
			if ((sl->sl_v = calloc(2, sizeof(char *))) != NULL)
				sl->sl_v[0] = strdup(config_setting_get_string(s));
			sl->sl_n = sl->sl_v != NULL;
			return (0);
		}
		/* FALLTHROUGH */
	case CFGKEY_LIST:
		if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
			goto wrong;
		n = config_setting_length(s);
		sl = (struct cfg_strlist *)(void *)p;
		sl->sl_v = calloc((size_t)n + 1, sizeof(char *));
		sl->sl_n = 0;
		for (i = 0; i < n && sl->sl_v != NULL; i++) {
			el = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(el) != CONFIG_TYPE_STRING) {
				file = cfgfile_where(L, el, &line);
				cfgfile_msg(L, 0, file, line, "%s: element %d "
				    "is not a string", k->k_name, i + 1);
				return (-1);
			}
			sl->sl_v[sl->sl_n++] =
			    strdup(config_setting_get_string(el));
		}
		return (0);
	}
wrong:
	cfgfile_msg(L, 0, file, line, "%s: expected %s", k->k_name,
	    k->k_type == CFGKEY_BOOL ? "true or false" :
	    k->k_type == CFGKEY_INT ? "an integer" :
	    k->k_type == CFGKEY_LIST ? "a list of strings" :
	    k->k_type == CFGKEY_STRS ? "a string or a list of strings" :
	    "a string");
	return (-1);
}

/* 1 if name is in the NULL-terminated list skip. */
static int
skipped(const char *const *skip, const char *name)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (strcmp(*skip, name) == 0)
			return (1);
	return (0);
}

int
cfgkey_load_group(struct cfg_loader *L, const struct cfgkey *tab, size_t n,
    void *base, const config_setting_t *g, const char *const *skip, int *lines)
{
	config_setting_t	*s;
	const char		*name, *file;
	int			 i, len = config_setting_length(g), bad = 0;
	int			 line;
	size_t			 k;

	for (k = 0; k < n; k++)
		lines[k] = 0;
	for (i = 0; i < len; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(s);
		if (name == NULL)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(tab[k].k_name, name) == 0)
				break;
		if (k == n) {
			if (skipped(skip, name))
				continue;
			file = cfgfile_where(L, s, &line);
			cfgfile_msg(L, 0, file, line, "unknown key \"%s\"",
			    name);
			bad++;
			continue;
		}
		lines[k] = (int)config_setting_source_line(s);
		if (set_key(L, &tab[k], base, s) != 0) {
			/* Keep validating the rest against the default. */
			cfgkey_free(&tab[k], 1, base);
			cfgkey_default(&tab[k], base);
			bad++;
			lines[k] = -1;
		}
	}
	for (k = 0; k < n; k++) {
		if (lines[k] != 0)
			continue;
		if (tab[k].k_required) {
			file = cfgfile_where(L, g, &line);
			cfgfile_msg(L, 0, file, line, "missing \"%s\"",
			    tab[k].k_name);
			bad++;
		}
		cfgkey_default(&tab[k], base);
	}
	return (bad);
}

void
cfgkey_free(const struct cfgkey *tab, size_t n, void *base)
{
	struct cfg_strlist	*sl;
	size_t			 k, i;
	char			*p;

	for (k = 0; k < n; k++) {
		p = (char *)base + tab[k].k_off;
		if (tab[k].k_type == CFGKEY_STR ||
		    tab[k].k_type == CFGKEY_ENUM) {
			free(*(char **)(void *)p);
		} else if (tab[k].k_type == CFGKEY_LIST ||
		    tab[k].k_type == CFGKEY_STRS) {
			sl = (struct cfg_strlist *)(void *)p;
			for (i = 0; i < sl->sl_n; i++)
				free(sl->sl_v[i]);
			free(sl->sl_v);
		} else if (tab[k].k_type == CFGKEY_CUSTOM) {
			tab[k].k_ops->o_free(p);
		}
	}
}

void
cfgkey_dump_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void
cfgkey_dump(const struct cfgkey *tab, size_t n, const void *base, FILE *f,
    const char *ind)
{
	const struct cfg_strlist *sl;
	const char		*p;
	size_t			 k, i;

	for (k = 0; k < n; k++) {
		p = (const char *)base + tab[k].k_off;
		switch (tab[k].k_type) {
		case CFGKEY_STR:
		case CFGKEY_ENUM:
			if (*(char *const *)(const void *)p == NULL) {
				fprintf(f, "%s# %s not set\n", ind,
				    tab[k].k_name);
				continue;
			}
			fprintf(f, "%s%s = ", ind, tab[k].k_name);
			cfgkey_dump_str(f, *(char *const *)(const void *)p);
			break;
		case CFGKEY_BOOL:
			fprintf(f, "%s%s = %s", ind, tab[k].k_name,
			    *(const int *)(const void *)p ? "true" : "false");
			break;
		case CFGKEY_INT:
			fprintf(f, "%s%s = %ld", ind, tab[k].k_name,
			    *(const long *)(const void *)p);
			break;
		case CFGKEY_LIST:
		case CFGKEY_STRS:
			sl = (const struct cfg_strlist *)(const void *)p;
			fprintf(f, "%s%s = [", ind, tab[k].k_name);
			for (i = 0; i < sl->sl_n; i++) {
				fputs(i ? ", " : " ", f);
				cfgkey_dump_str(f, sl->sl_v[i]);
			}
			fputs(sl->sl_n ? " ]" : "]", f);
			break;
		case CFGKEY_CUSTOM:
			fprintf(f, "%s%s = ", ind, tab[k].k_name);
			tab[k].k_ops->o_dump(p, f);
			break;
		}
		fputs(";\n", f);
	}
}
