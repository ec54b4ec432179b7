/*
 * libconfig loading, validation and policy building (SPEC §3).
 *
 * Every app key lives in one table: the loader, default filling, -T
 * printing and cfg_free all walk it, so a key cannot exist in one and be
 * missing from another (STYLE S10).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define MAX_INCLUDE_DEPTH	10	/* libconfig's own limit */
#define UNUSED	__attribute__((unused))	/* checks share one signature */
#define BUILTIN_NAME		"(built-in)"

enum ktype { K_STR, K_BOOL, K_INT, K_LIST, K_ENUM };

struct loader;

struct key {
	const char		*k_name;
	enum ktype		 k_type;
	size_t			 k_off;
	const char		*k_def;		/* K_STR/K_ENUM; NULL: none */
	const char *const	*k_ldef;	/* K_LIST, NULL-terminated */
	long			 k_idef;	/* K_INT, K_BOOL */
	long			 k_min;
	long			 k_max;
	const char *const	*k_enum;	/* K_ENUM values */
	int			 k_required;
	/* Semantic check of an app key once loaded; line is its line. */
	void			(*k_check)(struct loader *, struct cfg_app *,
				    const config_setting_t *,
				    const struct key *, int);
};

static const char *const l_client[] = { "HTTP_X_FORWARDED_FOR", NULL };
static const char *const l_proto[] = { "HTTP_X_FORWARDED_PROTO", NULL };
static const char *const l_port[] = { "HTTP_X_FORWARDED_PORT", NULL };
static const char *const l_host[] = { "HTTP_X_FORWARDED_HOST", NULL };
static const char *const l_drop[] = { "HTTP_PROXY", NULL };
static const char *const l_none[] = { NULL };
static const char *const l_loopback[] = { "127.0.0.0/8", "::1", NULL };
static const char *const e_proto[] = { "fastcgi", "scgi", NULL };
static const char *const e_pick[] = {
	"rightmost_untrusted", "leftmost_untrusted", NULL
};
static const char *const e_level[] = {
	"error", "warn", "info", "debug", NULL
};

struct key;
typedef void check_fn(struct loader *, struct cfg_app *,
    const config_setting_t *, const struct key *, int);
static check_fn	v_name, v_addr, v_mode, v_allow, v_trusted, v_pick, v_names;

#define O(f)	offsetof(struct cfg_app, f)
#define S(n, f, d, req, c) { n, K_STR, O(f), d, NULL, 0, 0, 0, NULL, req, c }
#define B(n, f, d)	{ n, K_BOOL, O(f), NULL, NULL, d, 0, 1, NULL, 0, NULL }
#define I(n, f, d, lo, hi) \
	{ n, K_INT, O(f), NULL, NULL, d, lo, hi, NULL, 0, NULL }
#define L(n, f, d, c)	{ n, K_LIST, O(f), NULL, d, 0, 0, 0, NULL, 0, c }
#define E(n, f, d, v, c) { n, K_ENUM, O(f), d, NULL, 0, 0, 0, v, 0, c }

static const struct key app_keys[] = {
	S("name", a_name, NULL, 1, v_name),
	S("listen", a_listen, NULL, 1, v_addr),
	S("listen_mode", a_listen_mode, "0660", 0, v_mode),
	S("listen_owner", a_listen_owner, NULL, 0, NULL),
	S("listen_group", a_listen_group, NULL, 0, NULL),
	L("allow_from", a_allow_from, l_loopback, v_allow),
	E("protocol", a_protocol, "fastcgi", e_proto, NULL),
	B("proxy_protocol", a_proxy_protocol, 0),
	S("upstream", a_upstream, NULL, 1, v_addr),
	/* trusted_proxies_file is read by v_trusted, after the list. */
	L("trusted_proxies", a_trusted_proxies, l_none, v_trusted),
	S("trusted_proxies_file", a_trusted_proxies_file, NULL, 0, NULL),
	L("client_headers", a_client_headers, l_client, v_names),
	E("client_pick", a_client_pick, "rightmost_untrusted", e_pick, v_pick),
	L("proto_headers", a_proto_headers, l_proto, v_names),
	L("port_headers", a_port_headers, l_port, v_names),
	L("host_headers", a_host_headers, l_host, v_names),
	S("uri_header", a_uri_header, "", 0, NULL),
	B("assume_secure_protocol", a_assume_secure, 0),
	B("strip_untrusted", a_strip_untrusted, 1),
	L("drop_params", a_drop_params, l_drop, v_names),
	L("reject_params", a_reject_params, l_none, v_names),
	I("max_params_bytes", a_max_params_bytes, 131072, 1024, 16777216),
	I("connect_timeout_ms", a_connect_timeout_ms, 5000, 1, 86400000),
	I("params_timeout_ms", a_params_timeout_ms, 60000, 1, 86400000),
	I("idle_timeout_ms", a_idle_timeout_ms, 600000, 1, 86400000),
	I("max_connections", a_max_connections, 4096, 1, 1000000),
};
#define NKEYS	(sizeof(app_keys) / sizeof(app_keys[0]))

#undef O
#define O(f)	offsetof(struct cfg, f)
static const struct key main_keys[] = {
	E("log_level", c_log_level, "info", e_level, NULL),
	S("log", c_log, "stderr", 0, NULL),
	S("user", c_user, NULL, 0, NULL),
	S("group", c_group, NULL, 0, NULL),
	S("apps_dir", c_apps_dir, NULL, 0, NULL),
};
#define NMAIN	(sizeof(main_keys) / sizeof(main_keys[0]))

static const char builtin_text[] =
    "apps = ( {\n"
    "  name = \"default\";\n"
    "  listen = \"127.0.0.1:9001\";\n"
    "  upstream = \"unix:/run/php/php-fpm.sock\";\n"
    "  trusted_proxies = [ \"127.0.0.0/8\", \"::1\" ];\n"
    "} );\n";

/* What one load needs to know; lives on cfg_load()'s stack. */
struct loader {
	struct cfg		*L_cfg;
	struct cfg_errors	*L_errs;
	const char		*L_dir;		/* directory of the main file */
};

static void	msg(struct cfg_errors *, int, const char *, int, const char *,
		    ...) __attribute__((format(printf, 5, 6)));
static const char *keep_file(struct cfg *, const char *);
static const char *where(struct loader *, const config_setting_t *, int *);
static char	*xstrdup(const char *);
static char	*path_join(const char *, const char *);
static int	check_includes(struct loader *, const char *, const char *,
		    int);
static int	read_file(struct loader *, config_t *, const char *);
static int	set_key(struct loader *, const struct key *, void *,
		    const config_setting_t *);
static void	set_default(const struct key *, void *);
static int	load_group(struct loader *, const struct key *, size_t,
		    void *, const config_setting_t *, const char *, int *);
static void	load_app(struct loader *, const config_setting_t *);
static void	load_apps_dir(struct loader *, const config_setting_t *);
static void	load_main(struct loader *, config_t *);
static int	parse_addr(const char *, int, struct cfg_addr *,
		    const char **);
static void	check_app(struct loader *, struct cfg_app *,
		    const config_setting_t *, const int *);
static int	cidr_list(struct loader *, const struct cfg_strlist *,
		    const config_setting_t *, struct cidr **, size_t *,
		    size_t *, const char *);
static void	read_trusted_file(struct loader *, struct cfg_app *,
		    const config_setting_t *, struct cidr **, size_t *,
		    size_t *);
static void	build_policy(struct loader *, struct cfg_app *);
static void	check_names(struct loader *, const struct cfg_strlist *,
		    const config_setting_t *, const char *);
static void	free_keys(const struct key *, size_t, void *);
static void	dump_keys(const struct key *, size_t, const void *, FILE *,
		    const char *);
static void	dump_str(FILE *, const char *);

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

static void
msg(struct cfg_errors *e, int warn, const char *file, int line,
    const char *fmt, ...)
{
	struct cfg_msg	*v;
	char		 text[1024];
	int		 n;
	va_list		 ap;

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
	if (!warn)
		e->e_errors++;
}

static char *
xstrdup(const char *s)
{
	return (s ? strdup(s) : NULL);
}

/* Keep a file name for as long as the config lives (apps point at it). */
static const char *
keep_file(struct cfg *c, const char *f)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < c->c_nfiles; i++)
		if (strcmp(c->c_files[i], f) == 0)
			return (c->c_files[i]);
	if ((v = realloc(c->c_files, (c->c_nfiles + 1) * sizeof(*v))) == NULL)
		return (BUILTIN_NAME);
	c->c_files = v;
	if ((v[c->c_nfiles] = strdup(f)) == NULL)
		return (BUILTIN_NAME);
	return (v[c->c_nfiles++]);
}

static const char *
where(struct loader *L, const config_setting_t *s, int *line)
{
	const char	*f = config_setting_source_file(s);

	*line = (int)config_setting_source_line(s);
	return (keep_file(L->L_cfg, f ? f : L->L_cfg->c_file));
}

static char *
path_join(const char *dir, const char *p)
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
static int
read_line(FILE *f, char *buf, size_t cap)
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

/* Append c to the growing array *v; -1 on ENOMEM. */
static int
cidr_push(struct cidr **v, size_t *n, size_t *cap, const struct cidr *c)
{
	struct cidr	*nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nv = realloc(*v, *cap * sizeof(*nv))) == NULL)
			return (-1);
		*v = nv;
	}
	(*v)[(*n)++] = *c;
	return (0);
}

/*
 * libconfig 1.5 exits the process on an @include of a directory, so we
 * check every include target ourselves before libconfig sees the file
 * (SPEC §3.1: no config content may end the process).
 */
static int
check_includes(struct loader *L, const char *file, const char *incdir,
    int depth)
{
	FILE		*f;
	char		 line[4096], *p, *q, *target;
	int		 lineno = 0, bad = 0, r;
	struct stat	 st;

	if ((f = fopen(file, "r")) == NULL)
		return (0);	/* libconfig reports it with the right line */
	while ((r = read_line(f, line, sizeof(line))) != 0) {
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
		if ((target = path_join(incdir, p + 1)) == NULL)
			break;
		if (depth >= MAX_INCLUDE_DEPTH) {
			msg(L->L_errs, 0, file, lineno, "@include nested "
			    "deeper than %d", MAX_INCLUDE_DEPTH);
			bad = 1;
		} else if (stat(target, &st) != 0) {
			msg(L->L_errs, 0, file, lineno, "@include \"%s\": %s",
			    target, strerror(errno));
			bad = 1;
		} else if (!S_ISREG(st.st_mode)) {
			msg(L->L_errs, 0, file, lineno, "@include \"%s\": not "
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
static int
read_file(struct loader *L, config_t *c, const char *path)
{
	struct stat	st;
	const char	*f;

	if (stat(path, &st) != 0) {
		msg(L->L_errs, 0, path, 0, "%s", strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		msg(L->L_errs, 0, path, 0, "not a regular file");
		return (-1);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		msg(L->L_errs, 1, path, 0, "is group or world writable");
	config_set_include_dir(c, L->L_dir);
	if (check_includes(L, path, L->L_dir, 0))
		return (-1);
	if (config_read_file(c, path) != CONFIG_TRUE) {
		f = config_error_file(c);
		msg(L->L_errs, 0, f ? f : path, config_error_line(c), "%s",
		    config_error_text(c));
		return (-1);
	}
	return (0);
}

static void
set_default(const struct key *k, void *base)
{
	char			*p = (char *)base + k->k_off;
	struct cfg_strlist	*sl;
	size_t			 n;

	switch (k->k_type) {
	case K_STR:
	case K_ENUM:
		*(char **)(void *)p = xstrdup(k->k_def);
		break;
	case K_BOOL:
		*(int *)(void *)p = (int)k->k_idef;
		break;
	case K_INT:
		*(long *)(void *)p = k->k_idef;
		break;
	case K_LIST:
		sl = (struct cfg_strlist *)(void *)p;
		for (n = 0; k->k_ldef[n] != NULL; n++)
			;
		sl->sl_v = calloc(n + 1, sizeof(char *));
		sl->sl_n = 0;
		for (n = 0; sl->sl_v != NULL && k->k_ldef[n] != NULL; n++)
			sl->sl_v[sl->sl_n++] = strdup(k->k_ldef[n]);
		break;
	}
}

/* Store setting s as key k; 0, or -1 with the error recorded. */
static int
set_key(struct loader *L, const struct key *k, void *base,
    const config_setting_t *s)
{
	char			*p = (char *)base + k->k_off;
	const char		*file, *str;
	struct cfg_strlist	*sl;
	config_setting_t	*el;
	long long		 v;
	int			 line, type = config_setting_type(s), i, n;
	size_t			 j;

	file = where(L, s, &line);
	switch (k->k_type) {
	case K_STR:
	case K_ENUM:
		if (type != CONFIG_TYPE_STRING)
			goto wrong;
		str = config_setting_get_string(s);
		if (k->k_type == K_ENUM) {
			for (j = 0; k->k_enum[j] != NULL; j++)
				if (strcmp(k->k_enum[j], str) == 0)
					break;
			if (k->k_enum[j] == NULL) {
				msg(L->L_errs, 0, file, line, "%s: \"%s\" is "
				    "not one of %s%s%s%s", k->k_name, str,
				    k->k_enum[0], k->k_enum[1] ? ", " : "",
				    k->k_enum[1] ? k->k_enum[1] : "",
				    k->k_enum[1] && k->k_enum[2] ? ", ..." : "");
				return (-1);
			}
		}
		*(char **)(void *)p = xstrdup(str);
		return (0);
	case K_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto wrong;
		*(int *)(void *)p = config_setting_get_bool(s);
		return (0);
	case K_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			goto wrong;
		v = config_setting_get_int64(s);
		if (v < k->k_min || v > k->k_max) {
			msg(L->L_errs, 0, file, line, "%s: %lld is out of "
			    "range %ld-%ld", k->k_name, v, k->k_min, k->k_max);
			return (-1);
		}
		*(long *)(void *)p = (long)v;
		return (0);
	case K_LIST:
		if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
			goto wrong;
		n = config_setting_length(s);
		sl = (struct cfg_strlist *)(void *)p;
		sl->sl_v = calloc((size_t)n + 1, sizeof(char *));
		sl->sl_n = 0;
		for (i = 0; i < n && sl->sl_v != NULL; i++) {
			el = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(el) != CONFIG_TYPE_STRING) {
				file = where(L, el, &line);
				msg(L->L_errs, 0, file, line, "%s: element %d "
				    "is not a string", k->k_name, i + 1);
				return (-1);
			}
			sl->sl_v[sl->sl_n++] =
			    strdup(config_setting_get_string(el));
		}
		return (0);
	}
wrong:
	msg(L->L_errs, 0, file, line, "%s: expected %s", k->k_name,
	    k->k_type == K_BOOL ? "true or false" : k->k_type == K_INT ?
	    "an integer" : k->k_type == K_LIST ? "a list of strings" :
	    "a string");
	return (-1);
}

/*
 * Load the members of group g whose keys are in tab into base.  Keys not
 * in tab are errors unless skip names them.  lines[i] gets the line of
 * key i (0 when absent).  Returns the number of errors.
 */
static int
load_group(struct loader *L, const struct key *tab, size_t n, void *base,
    const config_setting_t *g, const char *skip, int *lines)
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
			if (skip != NULL && strcmp(skip, name) == 0)
				continue;
			file = where(L, s, &line);
			msg(L->L_errs, 0, file, line, "unknown key \"%s\"",
			    name);
			bad++;
			continue;
		}
		lines[k] = (int)config_setting_source_line(s);
		if (set_key(L, &tab[k], base, s) != 0) {
			/* Keep validating the rest against the default. */
			free_keys(&tab[k], 1, base);
			set_default(&tab[k], base);
			bad++;
			lines[k] = -1;
		}
	}
	for (k = 0; k < n; k++) {
		if (lines[k] != 0)
			continue;
		if (tab[k].k_required) {
			file = where(L, g, &line);
			msg(L->L_errs, 0, file, line, "missing \"%s\"",
			    tab[k].k_name);
			bad++;
		}
		set_default(&tab[k], base);
	}
	return (bad);
}

/*
 * Parse "unix:/path", "systemd:NAME", "a.b.c.d:port" or "[v6]:port".
 * Host names are refused: no DNS lookup, ever.
 */
static int
parse_addr(const char *s, int listen, struct cfg_addr *a, const char **why)
{
	const char	*c;
	char		 buf[CIDR_STRLEN + 8];
	int		 port;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		a->ca_kind = CFG_ADDR_UNIX;
		if (s[5] != '/' || strlen(s + 5) >= 108) {
			*why = "unix socket path must be absolute and under "
			    "108 bytes";
			return (-1);
		}
		a->ca_path = strdup(s + 5);
		a->ca_text = strdup(s);
		return (0);
	}
	if (strncmp(s, "systemd:", 8) == 0) {
		if (!listen) {
			*why = "systemd: is only for listen";
			return (-1);
		}
		a->ca_kind = CFG_ADDR_SYSTEMD;
		if (s[8] == '\0' || strlen(s + 8) > 255) {
			*why = "systemd: needs a FileDescriptorName";
			return (-1);
		}
		a->ca_path = strdup(s + 8);
		a->ca_text = strdup(s);
		return (0);
	}
	a->ca_kind = CFG_ADDR_TCP;
	if ((c = strrchr(s, ':')) == NULL ||
	    addr_parse_hop(s, strlen(s), &a->ca_ip, &port) != 0 || port < 0) {
		*why = "expected unix:/path, IPv4:port or [IPv6]:port with a "
		    "port 1-65535 (IP literals only, no host names)";
		return (-1);
	}
	a->ca_port = port;
	addr_format(&a->ca_ip, buf);
	if (asprintf(&a->ca_text, a->ca_ip.a_family == ADDR_V6 ?
	    "[%s]:%d" : "%s:%d", buf, port) < 0)
		a->ca_text = NULL;
	return (0);
}

/* Parse a list of CIDRs into *v (grown); returns errors found. */
static int
cidr_list(struct loader *L, const struct cfg_strlist *sl,
    const config_setting_t *s, struct cidr **v, size_t *n, size_t *cap,
    const char *key)
{
	enum cidr_status	 st;
	struct cidr		 c;
	char			 b[CIDR_STRLEN];
	const char		*file;
	int			 line = 0, bad = 0;
	size_t			 i;

	for (i = 0; i < sl->sl_n; i++) {
		st = cidr_parse(sl->sl_v[i], strlen(sl->sl_v[i]), &c);
		if (st != CIDR_OK) {
			file = s ? where(L, config_setting_get_elem(s,
			    (unsigned)i), &line) : L->L_cfg->c_file;
			if (st == CIDR_ERR_HOSTBITS)
				msg(L->L_errs, 0, file, line, "%s: \"%s\": %s "
				    "(did you mean %s?)", key, sl->sl_v[i],
				    cidr_strerror(st), (cidr_format(&c, b), b));
			else
				msg(L->L_errs, 0, file, line, "%s: \"%s\": %s",
				    key, sl->sl_v[i], cidr_strerror(st));
			bad++;
			continue;
		}
		if (cidr_push(v, n, cap, &c) < 0)
			return (bad + 1);
	}
	return (bad);
}

/* trusted_proxies_file: one CIDR per line, '#' comments, blank lines. */
static void
read_trusted_file(struct loader *L, struct cfg_app *a,
    const config_setting_t *g, struct cidr **v, size_t *n, size_t *cap)
{
	struct cidr		 c;
	char			 line[512], *p, *e, *path;
	const char		*file, *kf;
	FILE			*f;
	int			 lineno = 0, gl, r;

	path = path_join(L->L_dir, a->a_trusted_proxies_file);
	file = where(L, config_setting_get_member(g, "trusted_proxies_file"),
	    &gl);
	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		msg(L->L_errs, 0, file, gl, "trusted_proxies_file \"%s\": %s",
		    a->a_trusted_proxies_file, strerror(errno));
		free(path);
		return;
	}
	kf = keep_file(L->L_cfg, path);
	while ((r = read_line(f, line, sizeof(line))) != 0) {
		lineno++;
		if (r < 0) {
			msg(L->L_errs, 0, kf, lineno, "line longer than %zu "
			    "bytes", sizeof(line) - 1);
			continue;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (*p == '\0')
			continue;
		if (cidr_parse(p, strlen(p), &c) != CIDR_OK)
			msg(L->L_errs, 0, kf, lineno, "\"%s\": not an IP "
			    "address or CIDR", p);
		else if (cidr_push(v, n, cap, &c) < 0)
			msg(L->L_errs, 0, kf, lineno, "out of memory");
	}
	fclose(f);
	free(path);
}

/* Header names nginx can send are upper case with '_' (warn otherwise). */
static void
check_names(struct loader *L, const struct cfg_strlist *sl,
    const config_setting_t *s, const char *key)
{
	const char	*file, *p;
	int		 line = 0;
	size_t		 i;

	for (i = 0; i < sl->sl_n; i++) {
		p = sl->sl_v[i];
		file = s ? where(L, config_setting_get_elem(s, (unsigned)i),
		    &line) : L->L_cfg->c_file;
		if (*p == '\0' || strpbrk(p, "= \t\r\n") != NULL) {
			msg(L->L_errs, 0, file, line, "%s: \"%s\" is not a "
			    "param name", key, p);
			continue;
		}
		for (; *p != '\0'; p++)
			if ((*p >= 'a' && *p <= 'z') || *p == '-')
				break;
		if (*p != '\0')
			msg(L->L_errs, 1, file, line, "%s: \"%s\" has lower "
			    "case or '-': nginx sends headers as HTTP_X_NAME",
			    key, sl->sl_v[i]);
	}
}

/* The member of group g called key, or NULL when it was not set. */
static const config_setting_t *
member(const config_setting_t *g, const char *key)
{
	return (config_setting_get_member(g, key));
}

static void
v_name(struct loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct key *k UNUSED,
    int line UNUSED)
{
	const char	*p = a->a_name;

	if (p != NULL && (strlen(p) < 1 || strlen(p) > 64 || strspn(p,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != strlen(p)))
		msg(L->L_errs, 0, a->a_file, line, "name \"%s\": use 1-64 of "
		    "[A-Za-z0-9_.-]", p);
}

/* listen and upstream: the same address syntax, two destinations. */
static void
v_addr(struct loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct key *k, int line)
{
	int		 listen = k->k_off == offsetof(struct cfg_app, a_listen);
	const char	*val = listen ? a->a_listen : a->a_upstream, *why;

	if (val != NULL && parse_addr(val, listen, listen ?
	    &a->a_listen_addr : &a->a_upstream_addr, &why) != 0)
		msg(L->L_errs, 0, a->a_file, line, "%s \"%s\": %s",
		    k->k_name, val, why);
}

static void
v_mode(struct loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct key *k UNUSED,
    int line UNUSED)
{
	unsigned long	 mode;
	char		*end;

	mode = strtoul(a->a_listen_mode, &end, 8);
	if (a->a_listen_mode[0] == '\0' || *end != '\0' || mode > 07777)
		msg(L->L_errs, 0, a->a_file, line, "listen_mode \"%s\": "
		    "expected an octal mode like \"0660\"", a->a_listen_mode);
	a->a_mode = (unsigned)mode;
}

/* Compile a CIDR list (plus extra blocks) into a set; NULL on ENOMEM. */
static struct cidr_set *
compile_set(struct loader *L, struct cfg_app *a, struct cidr *v, size_t n)
{
	struct cidr_set	*set;

	if ((set = cidr_set_new(v, n)) == NULL)
		msg(L->L_errs, 0, a->a_file, a->a_line, "out of memory");
	free(v);
	return (set);
}

static void
v_allow(struct loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct key *k UNUSED, int line UNUSED)
{
	struct cidr	*v = NULL;
	size_t		 n = 0, cap = 0;

	cidr_list(L, &a->a_allow_from, member(g, "allow_from"), &v, &n,
	    &cap, "allow_from");
	a->a_allow = compile_set(L, a, v, n);
}

static void
v_trusted(struct loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct key *k UNUSED, int line UNUSED)
{
	struct cidr	*v = NULL;
	size_t		 n = 0, cap = 0, i;

	cidr_list(L, &a->a_trusted_proxies, member(g, "trusted_proxies"),
	    &v, &n, &cap, "trusted_proxies");
	if (a->a_trusted_proxies_file != NULL)
		read_trusted_file(L, a, g, &v, &n, &cap);
	for (i = 0; i < n; i++)
		if (v[i].c_plen == 0)
			msg(L->L_errs, 1, a->a_file, line, "trusted_proxies: "
			    "%s trusts every address: anyone can set the "
			    "client address", v[i].c_addr.a_family == ADDR_V4 ?
			    "0.0.0.0/0" : "::/0");
	if ((a->a_trusted = compile_set(L, a, v, n)) != NULL)
		a->a_ntrusted = cidr_set_count(a->a_trusted);
}

static void
v_pick(struct loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct key *k UNUSED,
    int line UNUSED)
{
	if (strcmp(a->a_client_pick, "leftmost_untrusted") == 0)
		msg(L->L_errs, 1, a->a_file, line, "client_pick = "
		    "\"leftmost_untrusted\" lets any client choose its address "
		    "(spoofable)");
}

static void
v_names(struct loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct key *k UNUSED, int line UNUSED)
{
	check_names(L, (const struct cfg_strlist *)(const void *)
	    ((const char *)a + k->k_off), member(g, k->k_name),
	    k->k_name);
}

/* Every key's semantic check, in table order (STYLE S10). */
static void
check_app(struct loader *L, struct cfg_app *a, const config_setting_t *g,
    const int *lines)
{
	size_t	k;

	for (k = 0; k < NKEYS; k++) {
		if (lines[k] < 0 || app_keys[k].k_check == NULL)
			continue;	/* already reported, or nothing to do */
		app_keys[k].k_check(L, a, g, &app_keys[k], lines[k] > 0 ?
		    lines[k] : a->a_line);
	}
	a->a_proto = strcmp(a->a_protocol, "scgi") == 0 ? CFG_PROTO_SCGI :
	    CFG_PROTO_FASTCGI;
	if (a->a_listen_addr.ca_kind != CFG_ADDR_UNIX && (a->a_listen_owner ||
	    a->a_listen_group))
		msg(L->L_errs, 1, a->a_file, a->a_line, "listen_owner and "
		    "listen_group only apply to unix: listeners");
}

static int
names_into(struct norm_name *dst, const struct cfg_strlist *sl,
    struct norm_names *out)
{
	size_t	i;

	for (i = 0; i < sl->sl_n; i++) {
		dst[i].n_str = sl->sl_v[i];
		dst[i].n_len = strlen(sl->sl_v[i]);
	}
	out->nn_v = dst;
	out->nn_n = sl->sl_n;
	return ((int)sl->sl_n);
}

static void
build_policy(struct loader *L, struct cfg_app *a)
{
	struct norm_policy	*np = &a->a_policy;
	struct norm_name	*v;
	size_t			 n;

	n = a->a_client_headers.sl_n + a->a_proto_headers.sl_n +
	    a->a_port_headers.sl_n + a->a_host_headers.sl_n +
	    a->a_drop_params.sl_n + a->a_reject_params.sl_n;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		msg(L->L_errs, 0, a->a_file, a->a_line, "out of memory");
		return;
	}
	a->a_names = v;
	v += names_into(v, &a->a_client_headers, &np->np_client);
	v += names_into(v, &a->a_proto_headers, &np->np_proto);
	v += names_into(v, &a->a_port_headers, &np->np_port);
	v += names_into(v, &a->a_host_headers, &np->np_host);
	v += names_into(v, &a->a_drop_params, &np->np_drop);
	names_into(v, &a->a_reject_params, &np->np_reject);
	np->np_uri.n_str = a->a_uri_header;
	np->np_uri.n_len = strlen(a->a_uri_header);
	np->np_trusted = a->a_trusted;
	np->np_pick = strcmp(a->a_client_pick, "leftmost_untrusted") == 0 ?
	    NORM_PICK_LEFTMOST : NORM_PICK_RIGHTMOST;
	np->np_assume_secure = a->a_assume_secure;
	np->np_strip = a->a_strip_untrusted;
}

static void
load_app(struct loader *L, const config_setting_t *g)
{
	struct cfg	*c = L->L_cfg;
	struct cfg_app	*a, *v;
	int		 lines[NKEYS], line;
	const char	*file;

	file = where(L, g, &line);
	if (!config_setting_is_group(g)) {
		msg(L->L_errs, 0, file, line, "an app must be a group "
		    "{ name = ...; listen = ...; upstream = ...; }");
		return;
	}
	if ((v = realloc(c->c_apps, (c->c_napps + 1) * sizeof(*v))) == NULL) {
		msg(L->L_errs, 0, file, line, "out of memory");
		return;
	}
	c->c_apps = v;
	a = &c->c_apps[c->c_napps++];
	memset(a, 0, sizeof(*a));
	a->a_file = file;
	a->a_line = line;
	/* Validate even after errors: every mistake is reported at once. */
	load_group(L, app_keys, NKEYS, a, g, NULL, lines);
	check_app(L, a, g, lines);
	build_policy(L, a);
}

static int
conf_filter(const struct dirent *d)
{
	size_t	n = strlen(d->d_name);

	return (n > 5 && d->d_name[0] != '.' &&
	    strcmp(d->d_name + n - 5, ".conf") == 0);
}

/* apps_dir: every *.conf, in name order, holds one app = { ... }; */
static void
load_apps_dir(struct loader *L, const config_setting_t *s)
{
	struct dirent		**ents = NULL;
	config_t		  cf;
	config_setting_t	 *root, *el, *app;
	char			 *dir, *path;
	const char		 *file;
	int			  n, i, j, line;

	file = where(L, s, &line);
	dir = path_join(L->L_dir, L->L_cfg->c_apps_dir);
	if (dir == NULL || (n = scandir(dir, &ents, conf_filter,
	    alphasort)) < 0) {
		msg(L->L_errs, 0, file, line, "apps_dir \"%s\": %s",
		    L->L_cfg->c_apps_dir, strerror(errno));
		free(dir);
		return;
	}
	for (i = 0; i < n; i++) {
		path = path_join(dir, ents[i]->d_name);
		free(ents[i]);
		if (path == NULL)
			continue;
		config_init(&cf);
		if (read_file(L, &cf, path) == 0) {
			root = config_root_setting(&cf);
			app = NULL;
			for (j = 0; j < config_setting_length(root); j++) {
				el = config_setting_get_elem(root,
				    (unsigned)j);
				if (strcmp(config_setting_name(el), "app") == 0)
					app = el;
				else {
					file = where(L, el, &line);
					msg(L->L_errs, 0, file, line, "unknown "
					    "key \"%s\" (a file in apps_dir "
					    "holds one app = { ... };)",
					    config_setting_name(el));
				}
			}
			if (app == NULL)
				msg(L->L_errs, 0, keep_file(L->L_cfg, path), 1,
				    "no app = { ... }; in this file");
			else
				load_app(L, app);
		}
		config_destroy(&cf);
		free(path);
	}
	free(ents);
	free(dir);
}

static void
load_main(struct loader *L, config_t *cf)
{
	config_setting_t	*root = config_root_setting(cf), *apps;
	int			 lines[NMAIN], i, line;
	const char		*file;

	load_group(L, main_keys, NMAIN, L->L_cfg, root, "apps", lines);
	L->L_cfg->c_level = (enum cfg_log_level)cfg_log_level_parse(
	    L->L_cfg->c_log_level ? L->L_cfg->c_log_level : "info");
	if (L->L_cfg->c_log != NULL && strcmp(L->L_cfg->c_log, "stderr") &&
	    strcmp(L->L_cfg->c_log, "syslog") && L->L_cfg->c_log[0] != '/')
		msg(L->L_errs, 0, L->L_cfg->c_file, lines[1] > 0 ? lines[1] :
		    1, "log: \"%s\": expected stderr, syslog or an absolute "
		    "path", L->L_cfg->c_log);
	if ((apps = config_setting_get_member(root, "apps")) != NULL) {
		file = where(L, apps, &line);
		if (!config_setting_is_list(apps) &&
		    !config_setting_is_array(apps))
			msg(L->L_errs, 0, file, line, "apps: expected a list "
			    "( { ... }, { ... } )");
		else
			for (i = 0; i < config_setting_length(apps); i++)
				load_app(L, config_setting_get_elem(apps,
				    (unsigned)i));
	}
	if (L->L_cfg->c_apps_dir != NULL)
		load_apps_dir(L, config_setting_get_member(root, "apps_dir"));
}

/* Names and listen addresses must be unique across all apps. */
static void
check_unique(struct loader *L)
{
	struct cfg	*c = L->L_cfg;
	size_t		 i, j;

	for (i = 0; i < c->c_napps; i++)
		for (j = 0; j < i; j++) {
			const struct cfg_app *a = &c->c_apps[i],
			    *b = &c->c_apps[j];

			if (a->a_name && b->a_name &&
			    strcmp(a->a_name, b->a_name) == 0)
				msg(L->L_errs, 0, a->a_file, a->a_line,
				    "duplicate app name \"%s\" (first at "
				    "%s:%d)", a->a_name, b->a_file, b->a_line);
			if (a->a_listen_addr.ca_text &&
			    b->a_listen_addr.ca_text &&
			    strcmp(a->a_listen_addr.ca_text,
			    b->a_listen_addr.ca_text) == 0)
				msg(L->L_errs, 0, a->a_file, a->a_line,
				    "duplicate listen \"%s\" (app \"%s\" at "
				    "%s:%d)", a->a_listen, b->a_name,
				    b->a_file, b->a_line);
		}
}

struct cfg *
cfg_load(const char *path, struct cfg_errors *errs)
{
	struct loader	 L;
	struct cfg	*c;
	config_t	 cf;
	char		*dir = NULL, *slash;
	int		 ok;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->c_builtin = path == NULL;
	c->c_file = strdup(path ? path : BUILTIN_NAME);
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
		ok = read_file(&L, &cf, path) == 0;
	}
	if (ok) {
		load_main(&L, &cf);
		check_unique(&L);
		if (c->c_napps == 0 && errs->e_errors == 0)
			msg(errs, 0, c->c_file, 1, "no app defined (use apps = "
			    "( { ... } ); or apps_dir)");
	}
	config_destroy(&cf);
	free(dir);
	if (errs->e_errors > 0) {
		cfg_free(c);
		return (NULL);
	}
	return (c);
}

static void
free_keys(const struct key *tab, size_t n, void *base)
{
	struct cfg_strlist	*sl;
	size_t			 k, i;
	char			*p;

	for (k = 0; k < n; k++) {
		p = (char *)base + tab[k].k_off;
		if (tab[k].k_type == K_STR || tab[k].k_type == K_ENUM) {
			free(*(char **)(void *)p);
		} else if (tab[k].k_type == K_LIST) {
			sl = (struct cfg_strlist *)(void *)p;
			for (i = 0; i < sl->sl_n; i++)
				free(sl->sl_v[i]);
			free(sl->sl_v);
		}
	}
}

void
cfg_free(struct cfg *c)
{
	size_t		 i;
	struct cfg_app	*a;

	if (c == NULL)
		return;
	for (i = 0; i < c->c_napps; i++) {
		a = &c->c_apps[i];
		free_keys(app_keys, NKEYS, a);
		free(a->a_listen_addr.ca_path);
		free(a->a_listen_addr.ca_text);
		free(a->a_upstream_addr.ca_path);
		free(a->a_upstream_addr.ca_text);
		cidr_set_free(a->a_allow);
		cidr_set_free(a->a_trusted);
		free(a->a_names);
	}
	free(c->c_apps);
	free_keys(main_keys, NMAIN, c);
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

static void
dump_str(FILE *f, const char *s)
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

static void
dump_keys(const struct key *tab, size_t n, const void *base, FILE *f,
    const char *ind)
{
	const struct cfg_strlist *sl;
	const char		*p;
	size_t			 k, i;

	for (k = 0; k < n; k++) {
		p = (const char *)base + tab[k].k_off;
		switch (tab[k].k_type) {
		case K_STR:
		case K_ENUM:
			if (*(char *const *)(const void *)p == NULL) {
				fprintf(f, "%s# %s not set\n", ind,
				    tab[k].k_name);
				continue;
			}
			fprintf(f, "%s%s = ", ind, tab[k].k_name);
			dump_str(f, *(char *const *)(const void *)p);
			break;
		case K_BOOL:
			fprintf(f, "%s%s = %s", ind, tab[k].k_name,
			    *(const int *)(const void *)p ? "true" : "false");
			break;
		case K_INT:
			fprintf(f, "%s%s = %ld", ind, tab[k].k_name,
			    *(const long *)(const void *)p);
			break;
		case K_LIST:
			sl = (const struct cfg_strlist *)(const void *)p;
			fprintf(f, "%s%s = [", ind, tab[k].k_name);
			for (i = 0; i < sl->sl_n; i++) {
				fputs(i ? ", " : " ", f);
				dump_str(f, sl->sl_v[i]);
			}
			fputs(sl->sl_n ? " ]" : "]", f);
			break;
		}
		fputs(";\n", f);
	}
}

void
cfg_dump(const struct cfg *c, FILE *f)
{
	size_t	i;

	fprintf(f, "# effective configuration from %s\n", c->c_file);
	dump_keys(main_keys, NMAIN, c, f, "");
	fputs("apps = (\n", f);
	for (i = 0; i < c->c_napps; i++) {
		fprintf(f, "  # %s:%d, %zu trusted blocks\n",
		    c->c_apps[i].a_file, c->c_apps[i].a_line,
		    c->c_apps[i].a_ntrusted);
		fputs("  {\n", f);
		dump_keys(app_keys, NKEYS, &c->c_apps[i], f, "    ");
		fprintf(f, "  }%s\n", i + 1 < c->c_napps ? "," : "");
	}
	fputs(");\n", f);
}
