/*
 * The generic key-table engine (STYLE S10): one table per group of keys,
 * {name, type, default, range or enum, offset, semantic check}.  Loading,
 * default filling, -T printing and freeing all walk the same table, so a
 * key cannot exist in one and be missing from another.  Internal to
 * config/.
 */
#ifndef FCN_CONFIG_CFGKEY_H
#define FCN_CONFIG_CFGKEY_H

#include <stddef.h>
#include <stdio.h>

#include "config/cfgfile.h"

enum cfgkey_type {
	CFGKEY_STR,
	CFGKEY_BOOL,	/* int */
	CFGKEY_INT,	/* long, k_min..k_max */
	CFGKEY_LIST,	/* struct cfg_strlist of strings */
	CFGKEY_STRS,	/* the same, and one string is a list of one */
	CFGKEY_ENUM,	/* char *, one of k_enum */
	CFGKEY_CUSTOM,	/* k_ops does everything */
};

struct cfg_app;
struct cfgkey;

/* Semantic check of an app key once loaded; line is its line. */
typedef void cfgkey_check(struct cfg_loader *, struct cfg_app *,
    const config_setting_t *g, const struct cfgkey *, int line);

/* A key with its own syntax (e.g. a list of strings or groups). */
struct cfgkey_ops {
	/* Store setting s into p; 0, or -1 with the error recorded. */
	int	(*o_set)(struct cfg_loader *, void *p,
		    const config_setting_t *s, const struct cfgkey *);
	void	(*o_default)(void *p);
	void	(*o_free)(void *p);
	/* Print the value (after "name = ", without the ";"). */
	void	(*o_dump)(const void *p, FILE *f);
};

struct cfgkey {
	const char		*k_name;
	enum cfgkey_type	 k_type;
	size_t			 k_off;
	const char		*k_def;		/* STR/ENUM; NULL: none */
	const char *const	*k_ldef;	/* LIST, NULL-terminated */
	long			 k_idef;	/* INT, BOOL */
	long			 k_min;
	long			 k_max;
	const char *const	*k_enum;	/* ENUM values */
	int			 k_required;
	cfgkey_check		*k_check;
	const struct cfgkey_ops	*k_ops;		/* CUSTOM */
};

/* Table rows; st is the struct the offsets are in. */
#define CFGKEY_S(st, n, f, d, req, c)	{ .k_name = n,			\
	.k_type = CFGKEY_STR, .k_off = offsetof(st, f), .k_def = d,	\
	.k_required = req, .k_check = c }
#define CFGKEY_B(st, n, f, d)		{ .k_name = n,			\
	.k_type = CFGKEY_BOOL, .k_off = offsetof(st, f), .k_idef = d,	\
	.k_max = 1 }
#define CFGKEY_I(st, n, f, d, lo, hi)	{ .k_name = n,			\
	.k_type = CFGKEY_INT, .k_off = offsetof(st, f), .k_idef = d,	\
	.k_min = lo, .k_max = hi }
#define CFGKEY_L(st, n, f, d, c)	{ .k_name = n,			\
	.k_type = CFGKEY_LIST, .k_off = offsetof(st, f), .k_ldef = d,	\
	.k_check = c }
#define CFGKEY_SL(st, n, f, req, c)	{ .k_name = n,			\
	.k_type = CFGKEY_STRS, .k_off = offsetof(st, f),		\
	.k_required = req, .k_check = c }
#define CFGKEY_E(st, n, f, d, v, c)	{ .k_name = n,			\
	.k_type = CFGKEY_ENUM, .k_off = offsetof(st, f), .k_def = d,	\
	.k_enum = v, .k_check = c }
#define CFGKEY_C(st, n, f, ops, c)	{ .k_name = n,			\
	.k_type = CFGKEY_CUSTOM, .k_off = offsetof(st, f), .k_ops = ops, \
	.k_check = c }

/*
 * Load the members of group g whose keys are in tab into base.  Keys not
 * in tab are errors unless skip names them (NULL-terminated list).
 * lines[i] gets the line of key i (0 when absent and defaulted, -1 when
 * it was wrong and is defaulted).  Returns the number of errors.
 */
int	cfgkey_load_group(struct cfg_loader *, const struct cfgkey *tab,
	    size_t n, void *base, const config_setting_t *g,
	    const char *const *skip, int *lines);
/* Fill key k of base with its default. */
void	cfgkey_default(const struct cfgkey *k, void *base);
/* Free what the keys of tab hold in base. */
void	cfgkey_free(const struct cfgkey *tab, size_t n, void *base);
/* Print the keys of tab in base as libconfig settings, indented. */
void	cfgkey_dump(const struct cfgkey *tab, size_t n, const void *base,
	    FILE *f, const char *ind);
/* A libconfig string literal. */
void	cfgkey_dump_str(FILE *f, const char *s);

#endif
