/*
 * Configuration: load the main file, inline apps and apps_dir files with
 * libconfig, validate every key (SPEC §3), and build one immutable policy
 * per app.  Errors are collected as FILE:LINE: message and the config is
 * rejected whole (STYLE S10); nothing global is touched while loading.
 */
#ifndef FCN_CONFIG_CONFIG_H
#define FCN_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/cidr.h"
#include "proto/normalize.h"

#define CFG_DEFAULT_FILE	"/etc/fcgi-normalizer/fcgi-normalizer.conf"

struct cfg_msg {
	char	*m_text;	/* "FILE:LINE: message" */
	int	 m_warn;	/* 1: legal but unsafe; 0: error */
};

struct cfg_errors {
	struct cfg_msg	*e_v;
	size_t		 e_n;
	size_t		 e_cap;
	size_t		 e_errors;	/* entries with m_warn 0 */
};

enum cfg_addr_kind {
	CFG_ADDR_TCP,
	CFG_ADDR_UNIX,
	CFG_ADDR_SYSTEMD,
};

struct cfg_addr {
	enum cfg_addr_kind	 ca_kind;
	struct addr		 ca_ip;		/* TCP */
	int			 ca_port;	/* TCP */
	char			*ca_path;	/* unix path or systemd name */
	char			*ca_text;	/* canonical, for logs and dups */
};

struct cfg_strlist {
	char	**sl_v;
	size_t	  sl_n;
};

/*
 * One client_headers entry: a plain header name, or a group whose header
 * is believed only from the addresses of from/from_file (SPEC §4.3a).
 */
struct cfg_client {
	char			*cc_header;
	struct cfg_strlist	 cc_from;
	char			*cc_from_file;
	int			 cc_group;	/* written as { ... } */
	const char		*cc_file;	/* where it was written */
	int			 cc_line;
	struct cidr_set		*cc_set;	/* from + from_file, compiled */
};

struct cfg_clients {
	struct cfg_client	*cl_v;
	size_t			 cl_n;
};

enum cfg_protocol {
	CFG_PROTO_FASTCGI,
	CFG_PROTO_SCGI,
};

/* SPEC §5.4: how a request picks one of several upstreams. */
enum cfg_balance {
	CFG_BALANCE_LEAST_CONN,	/* fewest busy connections, ties in order */
	CFG_BALANCE_FIRST,	/* the first that is up; the rest are backups */
};

/* One app; const after cfg_load() returns. */
/*
 * A CIDR file written by fcgi-normalizer-ranges (SPEC §3.4): its
 * provenance lines, for -t's age warning and the status page.
 */
struct cfg_ranges {
	const char		*cr_path;	/* as opened; owned by the cfg */
	char			 cr_provider[32];
	int64_t			 cr_fetched;	/* Unix seconds; -1 unknown */
	long			 cr_entries;	/* -1 unknown */
};

/* SPEC §3.4: -t warns about a ranges file fetched longer ago than this. */
#define CFG_RANGES_STALE_DAYS	30

struct cfg_app {
	const char		*a_file;	/* where it was defined */
	int			 a_line;
	char			*a_name;
	char			*a_listen;
	struct cfg_addr		 a_listen_addr;
	char			*a_listen_mode;
	unsigned		 a_mode;	/* parsed listen_mode */
	char			*a_listen_owner;
	char			*a_listen_group;
	struct cfg_strlist	 a_allow_from;
	struct cidr_set		*a_allow;
	char			*a_protocol;
	enum cfg_protocol	 a_proto;
	int			 a_proxy_protocol;
	struct cfg_strlist	 a_upstream;
	struct cfg_addr		*a_upstreams;	/* parsed, a_nupstreams */
	size_t			 a_nupstreams;
	char			*a_upstream_balance;
	enum cfg_balance	 a_balance;
	long			 a_upstream_max_conns;	/* 0: no pool */
	int			 a_upstream_keepalive;
	long			 a_upstream_idle_timeout_ms;
	long			 a_queue_timeout_ms;
	long			 a_upstream_down_ms;
	char			*a_status_path;		/* "": off */
	char			*a_ping_path;
	struct cfg_strlist	 a_status_allow;
	struct cidr_set		*a_status_set;
	struct cfg_strlist	 a_trusted_proxies;
	char			*a_trusted_proxies_file;
	struct cfg_clients	 a_client_headers;
	char			*a_client_pick;
	long			 a_trusted_hops;	/* 0: not set */
	char			*a_client_cert_from;
	struct cfg_strlist	 a_proto_headers;
	struct cfg_strlist	 a_port_headers;
	struct cfg_strlist	 a_host_headers;
	char			*a_uri_header;
	int			 a_assume_secure;
	int			 a_strip_untrusted;
	struct cfg_strlist	 a_drop_params;
	struct cfg_strlist	 a_reject_params;
	struct cfg_strlist	 a_forwarded_params;
	char			*a_forwarded_after;
	long			 a_max_params_bytes;
	long			 a_connect_timeout_ms;
	long			 a_params_timeout_ms;
	long			 a_idle_timeout_ms;
	long			 a_max_connections;
	/* Compiled. */
	struct cidr_set		*a_trusted;
	int			 a_trust_unix;	/* "unix:" in trusted_proxies */
	size_t			 a_ntrusted;	/* blocks, file included */
	struct cfg_ranges	*a_ranges;	/* ranges files named, once each */
	size_t			 a_nranges;
	struct norm_policy	 a_policy;
	struct norm_name	*a_names;	/* storage behind a_policy */
	const struct cidr_set	**a_from;	/* behind np_client_from */
};

enum cfg_log_level {
	CFG_LOG_ERROR,
	CFG_LOG_WARN,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG,
};

struct cfg {
	char			*c_file;	/* "(built-in)" for §3.3 */
	int			 c_builtin;
	char			*c_log_level;
	enum cfg_log_level	 c_level;
	char			*c_log;
	char			*c_user;
	char			*c_group;
	char			*c_apps_dir;
	long			 c_workers;	/* 0: "auto" (cfg_workers) */
	struct cfg_app		*c_apps;
	size_t			 c_napps;
	char			**c_files;	/* every file read, for errors */
	size_t			 c_nfiles;
};

/*
 * Load path, or the built-in default config (§3.3) when path is NULL.
 * Returns a new config, or NULL with every error in errs.  Warnings are
 * added to errs on success too.
 */
struct cfg	*cfg_load(const char *path, struct cfg_errors *errs);
void		 cfg_free(struct cfg *);
/* Print the effective config (-T) in libconfig syntax. */
void		 cfg_dump(const struct cfg *, FILE *);
/* The app called name, or NULL. */
const struct cfg_app *cfg_app_find(const struct cfg *, const char *name);
/* SPEC §6.2: the event-loop processes to run, "auto" resolved. */
#define CFG_WORKERS_MAX	256
long		 cfg_workers(const struct cfg *);
/* Parse a log level name; -1 when unknown. */
int		 cfg_log_level_parse(const char *);

void		 cfg_errors_init(struct cfg_errors *);
void		 cfg_errors_free(struct cfg_errors *);
/* Print errors (and "warn: " lines) one per line to f. */
void		 cfg_errors_print(const struct cfg_errors *, FILE *f);

#endif
