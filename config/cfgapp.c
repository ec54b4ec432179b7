/*
 * App keys, their checks and the policy build: see cfgapp.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgapp.h"
#include "config/cfgkey.h"

#define UNUSED	__attribute__((unused))	/* checks share one signature */

static const char *const l_client[] = { "HTTP_X_FORWARDED_FOR", NULL };
static const char *const l_proto[] = { "HTTP_X_FORWARDED_PROTO", NULL };
static const char *const l_port[] = { "HTTP_X_FORWARDED_PORT", NULL };
static const char *const l_host[] = { "HTTP_X_FORWARDED_HOST", NULL };
static const char *const l_drop[] = { "HTTP_PROXY", NULL };
static const char *const l_none[] = { NULL };
static const char *const l_loopback[] = { "127.0.0.0/8", "::1", NULL };
static const char *const e_proto[] = { "fastcgi", "scgi", NULL };
static const char *const e_balance[] = { "least_conn", "first", NULL };
static const char *const e_pick[] = {
	"rightmost_untrusted", "leftmost_untrusted", NULL
};

static cfgkey_check v_name, v_addr, v_mode, v_allow, v_trusted, v_pick, v_names;
static cfgkey_check v_upstreams, v_balance, v_path, v_status_allow;

#define S(n, f, d, req, c)	CFGKEY_S(struct cfg_app, n, f, d, req, c)
#define B(n, f, d)		CFGKEY_B(struct cfg_app, n, f, d)
#define I(n, f, d, lo, hi)	CFGKEY_I(struct cfg_app, n, f, d, lo, hi)
#define L(n, f, d, c)		CFGKEY_L(struct cfg_app, n, f, d, c)
#define E(n, f, d, v, c)	CFGKEY_E(struct cfg_app, n, f, d, v, c)
#define SL(n, f, req, c)	CFGKEY_SL(struct cfg_app, n, f, req, c)

static const struct cfgkey app_keys[] = {
	S("name", a_name, NULL, 1, v_name),
	S("listen", a_listen, NULL, 1, v_addr),
	S("listen_mode", a_listen_mode, "0660", 0, v_mode),
	S("listen_owner", a_listen_owner, NULL, 0, NULL),
	S("listen_group", a_listen_group, NULL, 0, NULL),
	L("allow_from", a_allow_from, l_loopback, v_allow),
	E("protocol", a_protocol, "fastcgi", e_proto, NULL),
	B("proxy_protocol", a_proxy_protocol, 0),
	SL("upstream", a_upstream, 1, v_upstreams),
	E("upstream_balance", a_upstream_balance, "least_conn", e_balance,
	    v_balance),
	I("upstream_max_conns", a_upstream_max_conns, 0, 0, 100000),
	B("upstream_keepalive", a_upstream_keepalive, 1),
	I("upstream_idle_timeout_ms", a_upstream_idle_timeout_ms, 2000, 1,
	    86400000),
	I("queue_timeout_ms", a_queue_timeout_ms, 10000, 1, 86400000),
	I("upstream_down_ms", a_upstream_down_ms, 5000, 1, 86400000),
	S("status_path", a_status_path, "", 0, v_path),
	S("ping_path", a_ping_path, "", 0, v_path),
	L("status_allow", a_status_allow, l_loopback, v_status_allow),
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

static int	cidr_push(struct cidr **, size_t *, size_t *,
		    const struct cidr *);
static int	parse_addr(const char *, int, struct cfg_addr *,
		    const char **);
static void	check_app(struct cfg_loader *, struct cfg_app *,
		    const config_setting_t *, const int *);
static int	cidr_list(struct cfg_loader *, const struct cfg_strlist *,
		    const config_setting_t *, struct cidr **, size_t *,
		    size_t *, const char *);
static void	read_trusted_file(struct cfg_loader *, struct cfg_app *,
		    const config_setting_t *, struct cidr **, size_t *,
		    size_t *);
static void	build_policy(struct cfg_loader *, struct cfg_app *);
static void	check_names(struct cfg_loader *, const struct cfg_strlist *,
		    const config_setting_t *, const char *);
static const config_setting_t *member(const config_setting_t *,
		    const char *);
static struct cidr_set *compile_set(struct cfg_loader *, struct cfg_app *,
		    struct cidr *, size_t);
static int	names_into(struct norm_name *, const struct cfg_strlist *,
		    struct norm_names *);

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
cidr_list(struct cfg_loader *L, const struct cfg_strlist *sl,
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
			file = s ? cfgfile_where(L, config_setting_get_elem(s,
			    (unsigned)i), &line) : L->L_cfg->c_file;
			if (st == CIDR_ERR_HOSTBITS)
				cfgfile_msg(L, 0, file, line, "%s: \"%s\": %s "
				    "(did you mean %s?)", key, sl->sl_v[i],
				    cidr_strerror(st), (cidr_format(&c, b), b));
			else
				cfgfile_msg(L, 0, file, line, "%s: \"%s\": %s",
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
read_trusted_file(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g, struct cidr **v, size_t *n, size_t *cap)
{
	struct cidr		 c;
	char			 line[512], *p, *e, *path;
	const char		*file, *kf;
	FILE			*f;
	int			 lineno = 0, gl, r;

	path = cfgfile_path(L->L_dir, a->a_trusted_proxies_file);
	file = cfgfile_where(L, config_setting_get_member(g,
	    "trusted_proxies_file"), &gl);
	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		cfgfile_msg(L, 0, file, gl, "trusted_proxies_file \"%s\": %s",
		    a->a_trusted_proxies_file, strerror(errno));
		free(path);
		return;
	}
	kf = cfgfile_keep(L->L_cfg, path);
	while ((r = cfgfile_line(f, line, sizeof(line))) != 0) {
		lineno++;
		if (r < 0) {
			cfgfile_msg(L, 0, kf, lineno, "line longer than %zu "
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
			cfgfile_msg(L, 0, kf, lineno, "\"%s\": not an IP "
			    "address or CIDR", p);
		else if (cidr_push(v, n, cap, &c) < 0)
			cfgfile_msg(L, 0, kf, lineno, "out of memory");
	}
	fclose(f);
	free(path);
}

/* Header names nginx can send are upper case with '_' (warn otherwise). */
static void
check_names(struct cfg_loader *L, const struct cfg_strlist *sl,
    const config_setting_t *s, const char *key)
{
	const char	*file, *p;
	int		 line = 0;
	size_t		 i;

	for (i = 0; i < sl->sl_n; i++) {
		p = sl->sl_v[i];
		file = s ? cfgfile_where(L, config_setting_get_elem(s,
		    (unsigned)i), &line) : L->L_cfg->c_file;
		if (*p == '\0' || strpbrk(p, "= \t\r\n") != NULL) {
			cfgfile_msg(L, 0, file, line, "%s: \"%s\" is not a "
			    "param name", key, p);
			continue;
		}
		for (; *p != '\0'; p++)
			if ((*p >= 'a' && *p <= 'z') || *p == '-')
				break;
		if (*p != '\0')
			cfgfile_msg(L, 1, file, line, "%s: \"%s\" has lower "
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
v_name(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line UNUSED)
{
	const char	*p = a->a_name;

	if (p != NULL && (strlen(p) < 1 || strlen(p) > 64 || strspn(p,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != strlen(p)))
		cfgfile_msg(L, 0, a->a_file, line, "name \"%s\": use 1-64 of "
		    "[A-Za-z0-9_.-]", p);
}

static void
v_addr(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k, int line)
{
	const char	*why;

	if (a->a_listen != NULL && parse_addr(a->a_listen, 1,
	    &a->a_listen_addr, &why) != 0)
		cfgfile_msg(L, 0, a->a_file, line, "%s \"%s\": %s",
		    k->k_name, a->a_listen, why);
}

/* SPEC §5.4: one upstream or a pool of them, each listed once. */
static void
v_upstreams(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line)
{
	const char	*why;
	size_t		 i, j;

	if (a->a_upstream.sl_n == 0) {
		/* A missing upstream was reported as missing already. */
		if (line != a->a_line)
			cfgfile_msg(L, 0, a->a_file, line, "upstream: at "
			    "least one address");
		return;
	}
	a->a_upstreams = calloc(a->a_upstream.sl_n, sizeof(*a->a_upstreams));
	if (a->a_upstreams == NULL) {
		cfgfile_msg(L, 0, a->a_file, line, "out of memory");
		return;
	}
	for (i = 0; i < a->a_upstream.sl_n; i++) {
		if (parse_addr(a->a_upstream.sl_v[i], 0, &a->a_upstreams[i],
		    &why) != 0) {
			cfgfile_msg(L, 0, a->a_file, line, "upstream \"%s\": "
			    "%s", a->a_upstream.sl_v[i], why);
			continue;
		}
		for (j = 0; j < i; j++)
			if (a->a_upstreams[j].ca_text != NULL && strcmp(
			    a->a_upstreams[j].ca_text,
			    a->a_upstreams[i].ca_text) == 0)
				cfgfile_msg(L, 0, a->a_file, line, "upstream "
				    "\"%s\" listed twice",
				    a->a_upstreams[i].ca_text);
	}
	a->a_nupstreams = a->a_upstream.sl_n;
}

static void
v_balance(struct cfg_loader *L UNUSED, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line UNUSED)
{
	a->a_balance = strcmp(a->a_upstream_balance, "first") == 0 ?
	    CFG_BALANCE_FIRST : CFG_BALANCE_LEAST_CONN;
}

/* status_path, ping_path: a SCRIPT_NAME, so an absolute path or off. */
static void
v_path(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k, int line)
{
	const char	*p = *(char **)(void *)((char *)a + k->k_off);

	if (p[0] != '\0' && (p[0] != '/' || strpbrk(p, "?# \t") != NULL))
		cfgfile_msg(L, 0, a->a_file, line, "%s \"%s\": must start "
		    "with / (a SCRIPT_NAME, without query)", k->k_name, p);
}

static void
v_mode(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line UNUSED)
{
	unsigned long	 mode;
	char		*end;

	mode = strtoul(a->a_listen_mode, &end, 8);
	if (a->a_listen_mode[0] == '\0' || *end != '\0' || mode > 07777)
		cfgfile_msg(L, 0, a->a_file, line, "listen_mode \"%s\": "
		    "expected an octal mode like \"0660\"", a->a_listen_mode);
	a->a_mode = (unsigned)mode;
}

/* Compile a CIDR list (plus extra blocks) into a set; NULL on ENOMEM. */
static struct cidr_set *
compile_set(struct cfg_loader *L, struct cfg_app *a, struct cidr *v, size_t n)
{
	struct cidr_set	*set;

	if ((set = cidr_set_new(v, n)) == NULL)
		cfgfile_msg(L, 0, a->a_file, a->a_line, "out of memory");
	free(v);
	return (set);
}

static void
v_allow(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k UNUSED, int line UNUSED)
{
	struct cidr	*v = NULL;
	size_t		 n = 0, cap = 0;

	cidr_list(L, &a->a_allow_from, member(g, "allow_from"), &v, &n,
	    &cap, "allow_from");
	a->a_allow = compile_set(L, a, v, n);
}

/* SPEC §6.1: judged on the rewritten REMOTE_ADDR. */
static void
v_status_allow(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g, const struct cfgkey *k UNUSED, int line UNUSED)
{
	struct cidr	*v = NULL;
	size_t		 n = 0, cap = 0;

	cidr_list(L, &a->a_status_allow, member(g, "status_allow"), &v, &n,
	    &cap, "status_allow");
	a->a_status_set = compile_set(L, a, v, n);
}

static void
v_trusted(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k UNUSED, int line UNUSED)
{
	struct cidr	*v = NULL;
	size_t		 n = 0, cap = 0, i;

	cidr_list(L, &a->a_trusted_proxies, member(g, "trusted_proxies"),
	    &v, &n, &cap, "trusted_proxies");
	if (a->a_trusted_proxies_file != NULL)
		read_trusted_file(L, a, g, &v, &n, &cap);
	for (i = 0; i < n; i++)
		if (v[i].c_plen == 0)
			cfgfile_msg(L, 1, a->a_file, line, "trusted_proxies: "
			    "%s trusts every address: anyone can set the "
			    "client address", v[i].c_addr.a_family == ADDR_V4 ?
			    "0.0.0.0/0" : "::/0");
	if ((a->a_trusted = compile_set(L, a, v, n)) != NULL)
		a->a_ntrusted = cidr_set_count(a->a_trusted);
}

static void
v_pick(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line UNUSED)
{
	if (strcmp(a->a_client_pick, "leftmost_untrusted") == 0)
		cfgfile_msg(L, 1, a->a_file, line, "client_pick = "
		    "\"leftmost_untrusted\" lets any client choose its address "
		    "(spoofable)");
}

static void
v_names(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k UNUSED, int line UNUSED)
{
	check_names(L, (const struct cfg_strlist *)(const void *)
	    ((const char *)a + k->k_off), member(g, k->k_name),
	    k->k_name);
}

/* Every key's semantic check, in table order (STYLE S10). */
static void
check_app(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
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
		cfgfile_msg(L, 1, a->a_file, a->a_line, "listen_owner and "
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
build_policy(struct cfg_loader *L, struct cfg_app *a)
{
	struct norm_policy	*np = &a->a_policy;
	struct norm_name	*v;
	size_t			 n;

	n = a->a_client_headers.sl_n + a->a_proto_headers.sl_n +
	    a->a_port_headers.sl_n + a->a_host_headers.sl_n +
	    a->a_drop_params.sl_n + a->a_reject_params.sl_n;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		cfgfile_msg(L, 0, a->a_file, a->a_line, "out of memory");
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

void
cfgapp_load(struct cfg_loader *L, const config_setting_t *g)
{
	struct cfg	*c = L->L_cfg;
	struct cfg_app	*a, *v;
	int		 lines[NKEYS], line;
	const char	*file;

	file = cfgfile_where(L, g, &line);
	if (!config_setting_is_group(g)) {
		cfgfile_msg(L, 0, file, line, "an app must be a group "
		    "{ name = ...; listen = ...; upstream = ...; }");
		return;
	}
	if ((v = realloc(c->c_apps, (c->c_napps + 1) * sizeof(*v))) == NULL) {
		cfgfile_msg(L, 0, file, line, "out of memory");
		return;
	}
	c->c_apps = v;
	a = &c->c_apps[c->c_napps++];
	memset(a, 0, sizeof(*a));
	a->a_file = file;
	a->a_line = line;
	/* Validate even after errors: every mistake is reported at once. */
	cfgkey_load_group(L, app_keys, NKEYS, a, g, NULL, lines);
	check_app(L, a, g, lines);
	build_policy(L, a);
}

void
cfgapp_free(struct cfg_app *a)
{
	cfgkey_free(app_keys, NKEYS, a);
	free(a->a_listen_addr.ca_path);
	free(a->a_listen_addr.ca_text);
	for (size_t i = 0; a->a_upstreams != NULL &&
	    i < a->a_upstream.sl_n; i++) {
		free(a->a_upstreams[i].ca_path);
		free(a->a_upstreams[i].ca_text);
	}
	free(a->a_upstreams);
	cidr_set_free(a->a_status_set);
	cidr_set_free(a->a_allow);
	cidr_set_free(a->a_trusted);
	free(a->a_names);
}

void
cfgapp_dump(const struct cfg_app *a, FILE *f)
{
	fprintf(f, "  # %s:%d, %zu trusted blocks\n", a->a_file, a->a_line,
	    a->a_ntrusted);
	fputs("  {\n", f);
	cfgkey_dump(app_keys, NKEYS, a, f, "    ");
	fputs("  }", f);
}
