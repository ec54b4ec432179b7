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
#include "config/cfgcidr.h"
#include "config/cfgkey.h"

#define UNUSED	__attribute__((unused))	/* checks share one signature */

static const char *const l_proto[] = { "HTTP_X_FORWARDED_PROTO", NULL };
static const char *const l_port[] = { "HTTP_X_FORWARDED_PORT", NULL };
static const char *const l_host[] = { "HTTP_X_FORWARDED_HOST", NULL };
static const char *const l_drop[] = { "HTTP_PROXY", NULL };
static const char *const l_none[] = { NULL };
static const char *const l_loopback[] = { "127.0.0.0/8", "::1", NULL };
/* SPEC §4.9: params that carry forwarded information. */
static const char *const l_fwd[] = {
	"HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST",
	"HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PORT",
	"HTTP_X_FORWARDED_PREFIX", "HTTP_X_FORWARDED_URI",
	"HTTP_X_FORWARDED_SERVER", "HTTP_X_FORWARDED_SSL",
	"HTTP_X_FORWARDED_SCHEME", "HTTP_FRONT_END_HTTPS", "HTTP_X_URL_SCHEME",
	"HTTP_X_REAL_IP", "HTTP_CLIENT_IP", "HTTP_X_CLIENT_IP",
	"HTTP_X_CLUSTER_CLIENT_IP", "HTTP_TRUE_CLIENT_IP",
	"HTTP_CF_CONNECTING_IP", "HTTP_CF_CONNECTING_IPV6", "HTTP_CF_VISITOR",
	"HTTP_FASTLY_CLIENT_IP", "HTTP_X_ORIGINAL_URL", "HTTP_X_REWRITE_URL",
	"PROXY_PROTOCOL_ADDR", "PROXY_PROTOCOL_PORT", "PROXY_PROTOCOL_PROTO",
	"PROXY_PROTOCOL_AUTHORITY",
	/* SPEC §4.10: also stripped by prefix on every request. */
	"HTTP_X_FORWARDED_CLIENT_CERT", "HTTP_SSL_CLIENT_VERIFY",
	"HTTP_SSL_CLIENT_SUBJECT_DN", "HTTP_SSL_CLIENT_ISSUER_DN",
	"HTTP_SSL_CLIENT_CERT", "HTTP_X_SSL_CLIENT_VERIFY",
	"HTTP_X_SSL_CLIENT_CERT", "HTTP_X_CLIENT_CERT",
	"HTTP_X_AMZN_MTLS_CLIENTCERT", "HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT",
	"HTTP_X_AMZN_MTLS_CLIENTCERT_ISSUER",
	"HTTP_X_AMZN_MTLS_CLIENTCERT_SERIAL_NUMBER",
	"HTTP_X_AMZN_MTLS_CLIENTCERT_VALIDITY",
	"HTTP_X_AMZN_MTLS_CLIENTCERT_LEAF", NULL
};
static const char *const e_after[] = { "strip", "keep", NULL };
static const char *const e_cert[] = {
	"none", "xfcc", "nginx", "alb", "proxy_protocol", NULL
};
/* SPEC §4: what the policy writes; never a forwarded param. */
static const char *const written[] = {
	"REMOTE_ADDR", "REMOTE_PORT", "REALIP_REMOTE_ADDR", "REALIP_REMOTE_PORT",
	"HTTPS", "REQUEST_SCHEME", "SERVER_PORT", "SERVER_NAME", "HTTP_HOST",
	"SCRIPT_NAME", "REQUEST_URI", "DOCUMENT_URI", "PHP_SELF",
};
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
static const char *const e_proto[] = { "fastcgi", "scgi", NULL };
static const char *const e_balance[] = { "least_conn", "first", NULL };
static const char *const e_pick[] = {
	"rightmost_untrusted", "leftmost_untrusted", "hops", NULL
};

static cfgkey_check v_cert;
static cfgkey_check v_name, v_addr, v_mode, v_allow, v_trusted, v_pick,
		    v_names, v_clients, v_fwd;
static cfgkey_check v_upstreams, v_balance, v_path, v_status_allow;
static int	clients_set(struct cfg_loader *, void *,
		    const config_setting_t *, const struct cfgkey *);
static void	clients_default(void *);
static void	clients_free(void *);
static void	clients_dump(const void *, FILE *);
static const struct cfgkey_ops clients_ops;

#define S(n, f, d, req, c)	CFGKEY_S(struct cfg_app, n, f, d, req, c)
#define B(n, f, d)		CFGKEY_B(struct cfg_app, n, f, d)
#define I(n, f, d, lo, hi)	CFGKEY_I(struct cfg_app, n, f, d, lo, hi)
#define L(n, f, d, c)		CFGKEY_L(struct cfg_app, n, f, d, c)
#define E(n, f, d, v, c)	CFGKEY_E(struct cfg_app, n, f, d, v, c)
#define SL(n, f, req, c)	CFGKEY_SL(struct cfg_app, n, f, req, c)
#define C(n, f, ops, c)		CFGKEY_C(struct cfg_app, n, f, ops, c)

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
	C("client_headers", a_client_headers, &clients_ops, v_clients),
	/* Before client_pick: v_pick judges the pair. */
	I("trusted_hops", a_trusted_hops, 0, 1, 16),
	E("client_pick", a_client_pick, "rightmost_untrusted", e_pick, v_pick),
	E("client_cert_from", a_client_cert_from, "none", e_cert, v_cert),
	L("proto_headers", a_proto_headers, l_proto, v_names),
	L("port_headers", a_port_headers, l_port, v_names),
	L("host_headers", a_host_headers, l_host, v_names),
	S("uri_header", a_uri_header, "", 0, NULL),
	B("assume_secure_protocol", a_assume_secure, 0),
	B("strip_untrusted", a_strip_untrusted, 1),
	/* After every header key: v_fwd adds their names. */
	L("forwarded_params", a_forwarded_params, l_fwd, v_fwd),
	E("forwarded_after", a_forwarded_after, "strip", e_after, NULL),
	L("drop_params", a_drop_params, l_drop, v_names),
	L("reject_params", a_reject_params, l_none, v_names),
	I("max_params_bytes", a_max_params_bytes, 131072, 1024, 16777216),
	I("connect_timeout_ms", a_connect_timeout_ms, 5000, 1, 86400000),
	I("params_timeout_ms", a_params_timeout_ms, 60000, 1, 86400000),
	I("idle_timeout_ms", a_idle_timeout_ms, 600000, 1, 86400000),
	I("max_connections", a_max_connections, 4096, 1, 1000000),
};
#define NKEYS	(sizeof(app_keys) / sizeof(app_keys[0]))

static int	parse_addr(const char *, int, struct cfg_addr *,
		    const char **);
static void	check_app(struct cfg_loader *, struct cfg_app *,
		    const config_setting_t *, const int *);
static void	build_policy(struct cfg_loader *, struct cfg_app *);
static void	check_name(struct cfg_loader *, const char *, const char *,
		    int, const char *);
static void	check_names(struct cfg_loader *, const struct cfg_strlist *,
		    const config_setting_t *, const char *);
static const config_setting_t *member(const config_setting_t *,
		    const char *);
static int	names_into(struct norm_name *, const struct cfg_strlist *,
		    struct norm_names *);
static int	strlist_add(struct cfg_strlist *, const char *);
static int	clients_set(struct cfg_loader *, void *,
		    const config_setting_t *, const struct cfgkey *);
static int	client_group(struct cfg_loader *, struct cfg_client *,
		    const config_setting_t *);
static int	client_from_list(struct cfg_loader *, struct cfg_client *,
		    const config_setting_t *);
static void	clients_default(void *);
static void	clients_free(void *);
static void	clients_dump(const void *, FILE *);
static void	client_from(struct cfg_loader *, struct cfg_app *,
		    struct cfg_client *, const config_setting_t *);

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

/* Header names nginx can send are upper case with '_' (warn otherwise). */
static void
check_name(struct cfg_loader *L, const char *name, const char *file,
    int line, const char *key)
{
	const char	*p;

	if (*name == '\0' || strpbrk(name, "= \t\r\n") != NULL) {
		cfgfile_msg(L, 0, file, line, "%s: \"%s\" is not a param "
		    "name", key, name);
		return;
	}
	for (p = name; *p != '\0'; p++)
		if ((*p >= 'a' && *p <= 'z') || *p == '-')
			break;
	if (*p != '\0')
		cfgfile_msg(L, 1, file, line, "%s: \"%s\" has lower case or "
		    "'-': nginx sends headers as HTTP_X_NAME", key, name);
}

static void
check_names(struct cfg_loader *L, const struct cfg_strlist *sl,
    const config_setting_t *s, const char *key)
{
	const char	*file = L->L_cfg->c_file;
	int		 line = 0;
	size_t		 i;

	for (i = 0; i < sl->sl_n; i++) {
		if (s != NULL)
			file = cfgfile_where(L, config_setting_get_elem(s,
			    (unsigned)i), &line);
		check_name(L, sl->sl_v[i], file, line, key);
	}
}

/* Add name to sl unless it is there; -1 on ENOMEM. */
static int
strlist_add(struct cfg_strlist *sl, const char *name)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < sl->sl_n; i++)
		if (strcmp(sl->sl_v[i], name) == 0)
			return (0);
	if ((v = realloc(sl->sl_v, (sl->sl_n + 2) * sizeof(*v))) == NULL)
		return (-1);
	sl->sl_v = v;
	if ((v[sl->sl_n] = strdup(name)) == NULL)
		return (-1);
	v[++sl->sl_n] = NULL;
	return (0);
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

static void
v_allow(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k UNUSED, int line UNUSED)
{
	struct cfgcidr_vec	v = { NULL, 0, 0 };

	cfgcidr_list(L, &a->a_allow_from, member(g, "allow_from"),
	    "allow_from", &v, NULL);
	a->a_allow = cfgcidr_compile(L, a->a_file, a->a_line, &v);
}

/* trusted_proxies and trusted_proxies_file: "unix:" allowed in both. */
static void
v_trusted(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k UNUSED, int line)
{
	struct cfgcidr_vec	 v = { NULL, 0, 0 };
	const char		*file;
	int			 fl;
	size_t			 i;

	cfgcidr_list(L, &a->a_trusted_proxies, member(g, "trusted_proxies"),
	    "trusted_proxies", &v, &a->a_trust_unix);
	if (a->a_trusted_proxies_file != NULL) {
		file = cfgfile_where(L, member(g, "trusted_proxies_file"), &fl);
		cfgcidr_file(L, a->a_trusted_proxies_file,
		    "trusted_proxies_file", file, fl, &v, &a->a_trust_unix, a);
	}
	for (i = 0; i < v.cv_n; i++)
		if (v.cv_v[i].c_plen == 0)
			cfgfile_msg(L, 1, a->a_file, line, "trusted_proxies: "
			    "%s trusts every address: anyone can set the "
			    "client address", v.cv_v[i].c_addr.a_family ==
			    ADDR_V4 ? "0.0.0.0/0" : "::/0");
	if ((a->a_trusted = cfgcidr_compile(L, a->a_file, a->a_line, &v)) !=
	    NULL)
		a->a_ntrusted = cidr_set_count(a->a_trusted);
}

/*
 * client_headers: a list of names and { header; from; from_file; }
 * groups (SPEC §3.2).  libconfig arrays [ ] hold only scalars, so a list
 * with a group is written ( "HTTP_X_FORWARDED_FOR", { ... } ).
 */
static int
clients_set(struct cfg_loader *L, void *p, const config_setting_t *s,
    const struct cfgkey *k)
{
	struct cfg_clients	*cl = p;
	struct cfg_client	*e;
	config_setting_t	*el;
	const char		*file;
	int			 n, i, line;

	memset(cl, 0, sizeof(*cl));
	file = cfgfile_where(L, s, &line);
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		cfgfile_msg(L, 0, file, line, "%s: expected a list of param "
		    "names and { header = ...; from = [ ... ]; } groups",
		    k->k_name);
		return (-1);
	}
	n = config_setting_length(s);
	if ((cl->cl_v = calloc((size_t)n + 1, sizeof(*cl->cl_v))) == NULL) {
		cfgfile_msg(L, 0, file, line, "out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		e = &cl->cl_v[cl->cl_n++];
		e->cc_file = cfgfile_where(L, el, &e->cc_line);
		if (config_setting_type(el) == CONFIG_TYPE_STRING) {
			e->cc_header = strdup(config_setting_get_string(el));
		} else if (config_setting_is_group(el)) {
			e->cc_group = 1;
			client_group(L, e, el);
		} else {
			cfgfile_msg(L, 0, e->cc_file, e->cc_line, "%s: element "
			    "%d is neither a param name nor a group",
			    k->k_name, i + 1);
		}
	}
	/*
	 * Element errors are recorded (the config is rejected) but the key
	 * is kept, so v_clients still checks every group's from and
	 * from_file: every mistake is reported at once (STYLE S10).
	 */
	return (0);
}

/* One { header = ...; from = [ ... ]; from_file = ...; } entry. */
static int
client_group(struct cfg_loader *L, struct cfg_client *e,
    const config_setting_t *g)
{
	config_setting_t	*m;
	const char		*name, *file;
	int			 i, line, bad = 0;

	for (i = 0; i < config_setting_length(g); i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(m);
		file = cfgfile_where(L, m, &line);
		if (strcmp(name, "header") == 0 &&
		    config_setting_type(m) == CONFIG_TYPE_STRING) {
			e->cc_header = strdup(config_setting_get_string(m));
		} else if (strcmp(name, "from_file") == 0 &&
		    config_setting_type(m) == CONFIG_TYPE_STRING) {
			e->cc_from_file = strdup(config_setting_get_string(m));
		} else if (strcmp(name, "from") == 0 &&
		    (config_setting_is_list(m) || config_setting_is_array(m))) {
			bad += client_from_list(L, e, m);
		} else {
			cfgfile_msg(L, 0, file, line, "client_headers: \"%s\" "
			    "in a group: expected header = \"NAME\", from = "
			    "[ CIDRs ] or from_file = \"path\"", name);
			bad++;
		}
	}
	if (e->cc_header == NULL) {
		cfgfile_msg(L, 0, e->cc_file, e->cc_line, "client_headers: a "
		    "group needs header = \"HTTP_...\"");
		bad++;
	}
	if (e->cc_from.sl_n == 0 && e->cc_from_file == NULL) {
		cfgfile_msg(L, 0, e->cc_file, e->cc_line, "client_headers: "
		    "group %s needs from or from_file (the addresses it is "
		    "believed from)", e->cc_header ? e->cc_header : "");
		bad++;
	}
	return (bad);
}

/* A group's from = [ ... ]: strings, checked as CIDRs later. */
static int
client_from_list(struct cfg_loader *L, struct cfg_client *e,
    const config_setting_t *m)
{
	config_setting_t	*el;
	const char		*file;
	int			 j, line, bad = 0;

	e->cc_from.sl_v = calloc((size_t)config_setting_length(m) + 1,
	    sizeof(char *));
	for (j = 0; e->cc_from.sl_v != NULL &&
	    (el = config_setting_get_elem(m, (unsigned)j)) != NULL; j++) {
		if (config_setting_type(el) == CONFIG_TYPE_STRING) {
			e->cc_from.sl_v[e->cc_from.sl_n++] =
			    strdup(config_setting_get_string(el));
			continue;
		}
		file = cfgfile_where(L, el, &line);
		cfgfile_msg(L, 0, file, line, "client_headers: from: element "
		    "%d is not a string", j + 1);
		bad++;
	}
	return (bad);
}

/* SPEC §6.1: judged on the rewritten REMOTE_ADDR. */
static void
v_status_allow(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g, const struct cfgkey *k UNUSED, int line UNUSED)
{
	struct cfgcidr_vec	v = { NULL, 0, 0 };

	cfgcidr_list(L, &a->a_status_allow, member(g, "status_allow"),
	    "status_allow", &v, NULL);
	a->a_status_set = cfgcidr_compile(L, a->a_file, a->a_line, &v);
}

static void
clients_default(void *p)
{
	struct cfg_clients	*cl = p;

	/* SPEC §3.2: ["HTTP_X_FORWARDED_FOR"]. */
	cl->cl_n = 0;
	if ((cl->cl_v = calloc(2, sizeof(*cl->cl_v))) == NULL)
		return;
	if ((cl->cl_v[0].cc_header = strdup("HTTP_X_FORWARDED_FOR")) != NULL)
		cl->cl_n = 1;
}

static void
clients_free(void *p)
{
	struct cfg_clients	*cl = p;
	struct cfg_client	*e;
	size_t			 i, j;

	for (i = 0; i < cl->cl_n; i++) {
		e = &cl->cl_v[i];
		free(e->cc_header);
		for (j = 0; j < e->cc_from.sl_n; j++)
			free(e->cc_from.sl_v[j]);
		free(e->cc_from.sl_v);
		free(e->cc_from_file);
		cidr_set_free(e->cc_set);
	}
	free(cl->cl_v);
	memset(cl, 0, sizeof(*cl));
}

static void
clients_dump(const void *p, FILE *f)
{
	const struct cfg_clients *cl = p;
	const struct cfg_client	*e;
	size_t			 i, j;
	int			 groups = 0;

	for (i = 0; i < cl->cl_n; i++)
		groups |= cl->cl_v[i].cc_group;
	fputs(groups ? "(" : "[", f);
	for (i = 0; i < cl->cl_n; i++) {
		e = &cl->cl_v[i];
		fputs(i ? ", " : " ", f);
		if (!e->cc_group) {
			cfgkey_dump_str(f, e->cc_header ? e->cc_header : "");
			continue;
		}
		fputs("{ header = ", f);
		cfgkey_dump_str(f, e->cc_header ? e->cc_header : "");
		fputs("; from = [", f);
		for (j = 0; j < e->cc_from.sl_n; j++) {
			fputs(j ? ", " : " ", f);
			cfgkey_dump_str(f, e->cc_from.sl_v[j]);
		}
		fputs(e->cc_from.sl_n ? " ];" : "];", f);
		if (e->cc_from_file != NULL) {
			fputs(" from_file = ", f);
			cfgkey_dump_str(f, e->cc_from_file);
			fputc(';', f);
		}
		fputs(" }", f);
	}
	fputs(cl->cl_n ? (groups ? " )" : " ]") : (groups ? ")" : "]"), f);
}

static const struct cfgkey_ops clients_ops = {
	clients_set, clients_default, clients_free, clients_dump,
};

/* Compile a group's from and from_file into its set (SPEC §4.3a). */
static void
client_from(struct cfg_loader *L, struct cfg_app *a, struct cfg_client *e,
    const config_setting_t *el)
{
	struct cfgcidr_vec	 v = { NULL, 0, 0 };
	const config_setting_t	*m;
	const char		*file;
	int			 line;

	cfgcidr_list(L, &e->cc_from, el ? member(el, "from") : NULL,
	    "client_headers: from", &v, NULL);
	if (e->cc_from_file != NULL) {
		m = el ? member(el, "from_file") : NULL;
		file = m ? cfgfile_where(L, m, &line) : e->cc_file;
		if (m == NULL)
			line = e->cc_line;
		cfgcidr_file(L, e->cc_from_file, "client_headers: from_file",
		    file, line, &v, NULL, a);
	}
	e->cc_set = cfgcidr_compile(L, e->cc_file, e->cc_line, &v);
}

static void
v_clients(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k, int line UNUSED)
{
	const config_setting_t	*s = member(g, k->k_name), *el;
	struct cfg_client	*e;
	size_t			 i;

	for (i = 0; i < a->a_client_headers.cl_n; i++) {
		e = &a->a_client_headers.cl_v[i];
		el = s ? config_setting_get_elem(s, (unsigned)i) : NULL;
		if (e->cc_header != NULL)
			check_name(L, e->cc_header, e->cc_file, e->cc_line,
			    k->k_name);
		if (e->cc_group)
			client_from(L, a, e, el);
	}
}

/*
 * forwarded_params: the built-in list or the configured one, with every
 * configured header name added (SPEC §4.9), so -T shows what is
 * stripped.  The header keys come earlier in the table.
 */
static void
v_fwd(struct cfg_loader *L, struct cfg_app *a, const config_setting_t *g,
    const struct cfgkey *k, int line)
{
	const struct cfg_strlist *lists[] = {
		&a->a_proto_headers, &a->a_port_headers, &a->a_host_headers,
	};
	struct cfg_strlist	*fw = &a->a_forwarded_params;
	size_t			 i, j;
	int			 bad = 0;

	check_names(L, fw, member(g, k->k_name), k->k_name);
	for (i = 0; i < a->a_client_headers.cl_n; i++)
		if (a->a_client_headers.cl_v[i].cc_header != NULL)
			bad |= strlist_add(fw,
			    a->a_client_headers.cl_v[i].cc_header);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (j = 0; j < lists[i]->sl_n; j++)
			bad |= strlist_add(fw, lists[i]->sl_v[j]);
	if (a->a_uri_header[0] != '\0')
		bad |= strlist_add(fw, a->a_uri_header);
	if (bad)
		cfgfile_msg(L, 0, a->a_file, line, "out of memory");
	for (i = 0; i < fw->sl_n; i++)
		for (j = 0; j < nitems(written); j++)
			if (strcmp(fw->sl_v[i], written[j]) == 0)
				cfgfile_msg(L, 0, a->a_file, line, "%s: \"%s\" "
				    "is a param the policy writes: stripping it "
				    "(forwarded_params and every header key) would "
				    "undo the rewrite", k->k_name, written[j]);
}

/* SPEC §3.2, §4.3c: hops and trusted_hops come together or not at all. */
static void
v_pick(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g, const struct cfgkey *k UNUSED,
    int line)
{
	const config_setting_t	*h = member(g, "trusted_hops");
	int			 hops = strcmp(a->a_client_pick, "hops") == 0;

	if (strcmp(a->a_client_pick, "leftmost_untrusted") == 0)
		cfgfile_msg(L, 1, a->a_file, line, "client_pick = "
		    "\"leftmost_untrusted\" lets any client choose its address "
		    "(spoofable)");
	if (hops && h == NULL)
		cfgfile_msg(L, 0, a->a_file, line, "client_pick = \"hops\" "
		    "needs trusted_hops: how many proxies append to the client "
		    "list (AWS ALB 1, Google Cloud LB 2)");
	if (!hops && h != NULL)
		cfgfile_msg(L, 0, a->a_file, config_setting_source_line(h),
		    "trusted_hops is used only with client_pick = \"hops\" "
		    "(client_pick is \"%s\")", a->a_client_pick);
}

/* SPEC §4.10: PP2_TYPE_SSL arrives only on a PROXY listener of ours. */
static void
v_cert(struct cfg_loader *L, struct cfg_app *a,
    const config_setting_t *g UNUSED, const struct cfgkey *k UNUSED,
    int line)
{
	if (strcmp(a->a_client_cert_from, "proxy_protocol") == 0 &&
	    !a->a_proxy_protocol)
		cfgfile_msg(L, 0, a->a_file, line, "client_cert_from = "
		    "\"proxy_protocol\" needs proxy_protocol = true (the "
		    "PROXY v2 header on this app's listener carries it)");
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
	const struct cfg_clients *cl = &a->a_client_headers;
	struct norm_name	*v;
	size_t			 n, i;

	n = cl->cl_n + a->a_proto_headers.sl_n + a->a_port_headers.sl_n +
	    a->a_host_headers.sl_n + a->a_drop_params.sl_n +
	    a->a_reject_params.sl_n + a->a_forwarded_params.sl_n;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL ||
	    (a->a_from = calloc(cl->cl_n + 1, sizeof(*a->a_from))) == NULL) {
		free(v);
		cfgfile_msg(L, 0, a->a_file, a->a_line, "out of memory");
		return;
	}
	a->a_names = v;
	for (i = 0; i < cl->cl_n; i++) {
		v[i].n_str = cl->cl_v[i].cc_header ? cl->cl_v[i].cc_header :
		    "";
		v[i].n_len = strlen(v[i].n_str);
		a->a_from[i] = cl->cl_v[i].cc_set;
	}
	np->np_client.nn_v = v;
	np->np_client.nn_n = cl->cl_n;
	np->np_client_from = a->a_from;
	v += cl->cl_n;
	v += names_into(v, &a->a_proto_headers, &np->np_proto);
	v += names_into(v, &a->a_port_headers, &np->np_port);
	v += names_into(v, &a->a_host_headers, &np->np_host);
	v += names_into(v, &a->a_drop_params, &np->np_drop);
	v += names_into(v, &a->a_reject_params, &np->np_reject);
	n = (size_t)names_into(v, &a->a_forwarded_params, &np->np_fwd);
	norm_fwd_index(np, v, n);
	np->np_uri.n_str = a->a_uri_header;
	np->np_uri.n_len = strlen(a->a_uri_header);
	np->np_trusted = a->a_trusted;
	np->np_trust_unix = a->a_trust_unix;
	if (strcmp(a->a_client_pick, "leftmost_untrusted") == 0)
		np->np_pick = NORM_PICK_LEFTMOST;
	else if (strcmp(a->a_client_pick, "hops") == 0)
		np->np_pick = NORM_PICK_HOPS;
	else
		np->np_pick = NORM_PICK_RIGHTMOST;
	np->np_hops = (size_t)a->a_trusted_hops;
	for (i = 0; e_cert[i] != NULL; i++)
		if (strcmp(a->a_client_cert_from, e_cert[i]) == 0)
			np->np_cert = (enum norm_cert)i;
	np->np_assume_secure = a->a_assume_secure;
	np->np_strip = a->a_strip_untrusted;
	np->np_keep = strcmp(a->a_forwarded_after, "keep") == 0;
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
	free(a->a_from);
	free(a->a_ranges);
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
