/*
 * The status page (SPEC §6.1) in php-fpm 8.2's three shapes: "key: value"
 * lines, JSON, and the Prometheus text exposition (?openmetrics).
 *
 * Every figure is one row of figs[] below and all three renderers walk
 * that table, so a figure cannot be shown in one format and missing from
 * another (the STYLE S10 rule for config keys, applied to output).
 *
 * ?openmetrics is served as Prometheus text format 0.0.4 (what promtool
 * and every Prometheus version parse): counters are named with their
 * "_total" suffix on the TYPE line, and durations are in seconds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "daemon/status.h"
#include "proto/ranges.h"

#define CT_TEXT		"text/plain; charset=utf-8"
#define CT_JSON		"application/json"
#define CT_PROM		"text/plain; version=0.0.4; charset=utf-8"
#define PREFIX		"fcgi_normalizer_"
#define KEYWIDTH	23	/* "requests front closed:" and a space */

enum fig_how {
	FIG_APP,	/* an unsigned long of struct status_app */
	FIG_LIVE_UL,	/* an unsigned long of struct status_live */
	FIG_LIVE_SZ,	/* a size_t of struct status_live */
	FIG_START,	/* sa_start, a unix time */
	FIG_SINCE,	/* seconds since sa_start */
};

enum fig_type {
	FIG_COUNTER,
	FIG_GAUGE,
};

struct fig {
	const char	*f_key;		/* text line and JSON key */
	const char	*f_metric;	/* after PREFIX; NULL: not a metric */
	const char	*f_label;	/* extra label of the sample, or NULL */
	enum fig_type	 f_type;
	enum fig_how	 f_how;
	size_t		 f_off;
	int		 f_ms;		/* milliseconds: seconds as a metric */
	const char	*f_help;
};

#define APP(m)		FIG_APP, offsetof(struct status_app, m)
#define LUL(m)		FIG_LIVE_UL, offsetof(struct status_live, m)
#define LSZ(m)		FIG_LIVE_SZ, offsetof(struct status_live, m)

/*
 * The figures of SPEC §6.1 in page order.  Rows sharing a metric name
 * must follow each other: the exposition format wants a family in one
 * piece, under one HELP and TYPE.
 */
static const struct fig figs[] = {
	{ "start time", "start_time_seconds", NULL, FIG_GAUGE,
	    FIG_START, 0, 0, "Start time of the process, a unix timestamp." },
	{ "start since", NULL, NULL, FIG_GAUGE, FIG_SINCE, 0, 0, NULL },
	{ "reloads", "reloads_total", NULL, FIG_COUNTER, APP(sa_reloads), 0,
	    "Reloads the app was kept across." },
	{ "accepted conn", "accepted_connections_total", NULL, FIG_COUNTER,
	    APP(sa_accepted), 0, "Front connections accepted." },
	{ "active conn", "active_connections", NULL, FIG_GAUGE,
	    LSZ(sl_active), 0, "Front connections open now." },
	{ "requests", "requests_total", NULL, FIG_COUNTER, APP(sa_requests),
	    0, "Requests, not counting status and ping requests." },
	{ "requests relayed", "request_outcomes_total", "outcome=\"relayed\"",
	    FIG_COUNTER, APP(sa_relayed), 0,
	    "Requests by outcome: relayed (php-fpm answered), the status "
	    "code the daemon answered, or front_closed (the web server left "
	    "first)." },
	{ "requests 400", "request_outcomes_total", "outcome=\"400\"",
	    FIG_COUNTER, APP(sa_400), 0, NULL },
	{ "requests 403", "request_outcomes_total", "outcome=\"403\"",
	    FIG_COUNTER, APP(sa_403), 0, NULL },
	{ "requests 431", "request_outcomes_total", "outcome=\"431\"",
	    FIG_COUNTER, APP(sa_431), 0, NULL },
	{ "requests 502", "request_outcomes_total", "outcome=\"502\"",
	    FIG_COUNTER, APP(sa_502), 0, NULL },
	{ "requests 503", "request_outcomes_total", "outcome=\"503\"",
	    FIG_COUNTER, APP(sa_503), 0, NULL },
	{ "requests front closed", "request_outcomes_total",
	    "outcome=\"front_closed\"", FIG_COUNTER, APP(sa_front_closed), 0,
	    NULL },
	{ "trusted requests", "trusted_requests_total", NULL, FIG_COUNTER,
	    APP(sa_trusted), 0, "Requests from a trusted proxy." },
	{ "rewritten addr", "rewritten_total", "what=\"addr\"",
	    FIG_COUNTER, APP(sa_rw_addr), 0,
	    "Requests whose client address, scheme, host or path prefix was "
	    "rewritten from forwarded params." },
	{ "rewritten scheme", "rewritten_total", "what=\"scheme\"",
	    FIG_COUNTER, APP(sa_rw_scheme), 0, NULL },
	{ "rewritten host", "rewritten_total", "what=\"host\"",
	    FIG_COUNTER, APP(sa_rw_host), 0, NULL },
	{ "rewritten prefix", "rewritten_total", "what=\"prefix\"",
	    FIG_COUNTER, APP(sa_rw_prefix), 0, NULL },
	{ "spoofing attempts", "spoofing_attempts_total", NULL, FIG_COUNTER,
	    APP(sa_spoofing), 0,
	    "Requests from an untrusted peer carrying forwarded params." },
	{ "invalid forwarded", "invalid_forwarded_values_total", NULL,
	    FIG_COUNTER, APP(sa_invalid), 0,
	    "Forwarded values ignored as invalid." },
	{ "conflicts", "conflicts_total", NULL, FIG_COUNTER,
	    APP(sa_conflicts), 0,
	    "Requests whose forwarded headers disagreed (SPEC 4.3b)." },
	{ "short chains", "short_chains_total", NULL, FIG_COUNTER,
	    APP(sa_short), 0,
	    "Requests whose client list had fewer entries than trusted_hops "
	    "(SPEC 4.3c)." },
	{ "queue len", "queue_length", NULL, FIG_GAUGE, LSZ(sl_queue_len), 0,
	    "Requests waiting for an upstream connection now." },
	{ "max queue len", "queue_length_max", NULL, FIG_GAUGE,
	    LSZ(sl_queue_max), 0, "Longest queue since the start." },
	{ "queue waits", "queue_waits_total", NULL, FIG_COUNTER,
	    LUL(sl_queue_waits), 0, "Requests that waited in the queue." },
	{ "queue wait ms", "queue_wait_seconds_total", NULL, FIG_COUNTER,
	    LUL(sl_queue_wait_ms), 1, "Time requests spent in the queue." },
	{ "upstream busy", "upstream_busy_connections", NULL, FIG_GAUGE,
	    LSZ(sl_busy), 0, "Upstream connections serving a request now." },
	{ "upstream idle", "upstream_idle_connections", NULL, FIG_GAUGE,
	    LSZ(sl_idle), 0, "Upstream connections kept idle now." },
	{ "upstream max", "upstream_max_connections", NULL, FIG_GAUGE,
	    LSZ(sl_max), 0,
	    "upstream_max_conns of one upstream server; 0: no pool." },
	{ "connects", "upstream_connects_total", NULL, FIG_COUNTER,
	    LUL(sl_connects), 0, "Connections opened to php-fpm." },
	{ "connect failures", "upstream_connect_failures_total", NULL,
	    FIG_COUNTER, LUL(sl_connect_fails), 0,
	    "Connections to php-fpm that failed." },
	{ "retries", "upstream_retries_total", NULL, FIG_COUNTER,
	    LUL(sl_retries), 0,
	    "Requests sent again after a kept connection failed." },
	{ "status requests", "status_requests_total", NULL, FIG_COUNTER,
	    APP(sa_status_requests), 0,
	    "Status and ping requests, 403s included." },
	{ "status 403", "status_forbidden_total", NULL, FIG_COUNTER,
	    APP(sa_status_403), 0,
	    "Status and ping requests refused by status_allow." },
};

static unsigned long long fig_value(const struct fig *,
		    const struct status_app *, const struct status_live *,
		    time_t);
static void	render_text(struct evbuffer *, const struct status_app *,
		    const struct status_live *, int, time_t);
static void	render_json(struct evbuffer *, const struct status_app *,
		    const struct status_live *, int, time_t);
static void	render_prom(struct evbuffer *, const struct status_app *,
		    const struct status_live *, int, time_t);
static void	text_upstreams(struct evbuffer *, const struct status_live *);
static void	text_ranges(struct evbuffer *, const struct status_live *,
		    time_t);
static void	json_ranges(struct evbuffer *, const struct status_live *,
		    time_t);
static void	prom_ranges(struct evbuffer *, const char *,
		    const struct status_live *);
static long long fetched_ago(const struct cfg_ranges *, time_t);
static void	text_peers(struct evbuffer *, const struct peertab *,
		    time_t);
static void	json_figs(struct evbuffer *, const struct status_app *,
		    const struct status_live *, time_t);
static void	json_workers(struct evbuffer *, const struct status_live *,
		    time_t);
static void	json_upstreams(struct evbuffer *, const struct status_live *);
static void	json_peers(struct evbuffer *, const struct peertab *,
		    time_t);
static void	prom_upstreams(struct evbuffer *, const char *,
		    const struct status_live *);
static void	prom_peers(struct evbuffer *, const char *,
		    const struct peertab *);
static void	prom_family(struct evbuffer *, const char *, const char *,
		    enum fig_type);
static void	add_text(struct evbuffer *, const char *);
static void	add_json(struct evbuffer *, const char *);
static void	add_label(struct evbuffer *, const char *);
static void	add_seconds(struct evbuffer *, unsigned long long);
static unsigned long long ago(uint64_t then, time_t now);

void
status_query(const char *qs, size_t len, enum status_format *fmt, int *full)
{
	const char	*p, *end = qs + len, *amp, *eq;
	size_t		 n;
	int		 json = 0, om = 0;

	*full = 0;
	/*
	 * As php-fpm reads $_GET: keys joined by '&', any value ignored
	 * ("openmetrics=" is what Prometheus' params: sends), and json
	 * wins over openmetrics whatever the order.
	 */
	for (p = qs; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		n = (size_t)(eq - p);
		if (n == 4 && memcmp(p, "json", 4) == 0)
			json = 1;
		else if (n == 11 && memcmp(p, "openmetrics", 11) == 0)
			om = 1;
		else if (n == 4 && memcmp(p, "full", 4) == 0)
			*full = 1;
	}
	*fmt = json ? STATUS_JSON : om ? STATUS_OPENMETRICS : STATUS_TEXT;
}

const char *
status_render(struct evbuffer *out, const struct status_app *sa,
    const struct status_live *sl, enum status_format fmt, int full,
    time_t now)
{
	switch (fmt) {
	case STATUS_JSON:
		render_json(out, sa, sl, full, now);
		return (CT_JSON);
	case STATUS_OPENMETRICS:
		render_prom(out, sa, sl, full, now);
		return (CT_PROM);
	case STATUS_TEXT:
	default:
		render_text(out, sa, sl, full, now);
		return (CT_TEXT);
	}
}

void
status_add(struct status_app *sum, struct status_live *suml,
    const struct status_app *sa, const struct status_live *sl)
{
	const struct fig	*f;
	const char		*src;
	char			*dst;
	size_t			 i;

	for (i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		f = &figs[i];
		if (f->f_how == FIG_APP) {
			src = (const char *)sa + f->f_off;
			dst = (char *)sum + f->f_off;
			*(unsigned long *)(void *)dst +=
			    *(const unsigned long *)(const void *)src;
		} else if (f->f_how == FIG_LIVE_UL) {
			src = (const char *)sl + f->f_off;
			dst = (char *)suml + f->f_off;
			*(unsigned long *)(void *)dst +=
			    *(const unsigned long *)(const void *)src;
		} else if (f->f_how == FIG_LIVE_SZ) {
			src = (const char *)sl + f->f_off;
			dst = (char *)suml + f->f_off;
			*(size_t *)(void *)dst +=
			    *(const size_t *)(const void *)src;
		}
	}
	if (sa->sa_start > 0 && (sum->sa_start == 0 ||
	    sa->sa_start < sum->sa_start))
		sum->sa_start = sa->sa_start;
	peertab_merge(&sum->sa_peers, &sa->sa_peers);
}

void
status_add_upstreams(struct status_upstream *sumu,
    const struct status_upstream *su, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		sumu[i].su_busy += su[i].su_busy;
		sumu[i].su_idle += su[i].su_idle;
		sumu[i].su_connects += su[i].su_connects;
		sumu[i].su_connect_fails += su[i].su_connect_fails;
	}
}

static unsigned long long
fig_value(const struct fig *f, const struct status_app *sa,
    const struct status_live *sl, time_t now)
{
	const char	*base;

	switch (f->f_how) {
	case FIG_APP:
		base = (const char *)sa + f->f_off;
		return (*(const unsigned long *)(const void *)base);
	case FIG_LIVE_UL:
		base = (const char *)sl + f->f_off;
		return (*(const unsigned long *)(const void *)base);
	case FIG_LIVE_SZ:
		base = (const char *)sl + f->f_off;
		return (*(const size_t *)(const void *)base);
	case FIG_START:
		return (sa->sa_start > 0 ? (unsigned long long)sa->sa_start :
		    0);
	case FIG_SINCE:
		return (ago(sa->sa_start > 0 ? (uint64_t)sa->sa_start : 0,
		    now));
	}
	return (0);
}

/* php-fpm's default page: "key:" padded, then the value. */
static void
render_text(struct evbuffer *out, const struct status_app *sa,
    const struct status_live *sl, int full, time_t now)
{
	const struct fig	*f;
	struct tm		 tm;
	char			 key[40], when[40];
	size_t			 i;
	time_t			 start = sa->sa_start;

	evbuffer_add_printf(out, "%-*s", KEYWIDTH, "app:");
	add_text(out, sa->sa_name);
	evbuffer_add(out, "\n", 1);
	for (i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		f = &figs[i];
		snprintf(key, sizeof(key), "%s:", f->f_key);
		if (f->f_how == FIG_START && gmtime_r(&start, &tm) != NULL &&
		    strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000",
		    &tm) > 0)
			evbuffer_add_printf(out, "%-*s%s\n", KEYWIDTH, key,
			    when);
		else
			evbuffer_add_printf(out, "%-*s%llu\n", KEYWIDTH, key,
			    fig_value(f, sa, sl, now));
	}
	text_ranges(out, sl, now);
	if (!full)
		return;
	text_upstreams(out, sl);
	text_peers(out, &sa->sa_peers, now);
}

/* Seconds since a ranges file was fetched; -1 when it does not say. */
static long long
fetched_ago(const struct cfg_ranges *cr, time_t now)
{
	if (cr->cr_fetched < 0)
		return (-1);
	return ((long long)now - (long long)cr->cr_fetched);
}

/* SPEC §3.4: every view shows the range files, stale ones stand out. */
static void
text_ranges(struct evbuffer *out, const struct status_live *sl, time_t now)
{
	const struct cfg_ranges	*cr;
	char			 when[RANGES_TIMELEN];
	size_t			 i;

	for (i = 0; i < sl->sl_nranges; i++) {
		cr = &sl->sl_ranges[i];
		evbuffer_add_printf(out, "\n************************\n"
		    "%-*s", KEYWIDTH, "ranges file:");
		add_text(out, cr->cr_path);
		evbuffer_add_printf(out, "\n%-*s", KEYWIDTH, "provider:");
		add_text(out, cr->cr_provider);
		evbuffer_add_printf(out, "\n%-*s%s\n%-*s%lld\n%-*s%ld\n",
		    KEYWIDTH, "fetched:", ranges_time_format(cr->cr_fetched,
		    when), KEYWIDTH, "age seconds:", fetched_ago(cr, now),
		    KEYWIDTH, "entries:", cr->cr_entries);
	}
}

static void
text_upstreams(struct evbuffer *out, const struct status_live *sl)
{
	const struct status_upstream	*u;
	size_t				 i;

	for (i = 0; i < sl->sl_nup; i++) {
		u = &sl->sl_up[i];
		evbuffer_add_printf(out, "\n************************\n"
		    "%-*s", KEYWIDTH, "upstream:");
		add_text(out, u->su_addr);
		evbuffer_add_printf(out, "\n%-*s%s\n%-*s%zu\n%-*s%zu\n"
		    "%-*s%lu\n%-*s%lu\n",
		    KEYWIDTH, "state:", u->su_up ? "up" : "down",
		    KEYWIDTH, "busy:", u->su_busy,
		    KEYWIDTH, "idle:", u->su_idle,
		    KEYWIDTH, "connects:", u->su_connects,
		    KEYWIDTH, "connect failures:", u->su_connect_fails);
	}
}

static void
text_peers(struct evbuffer *out, const struct peertab *pt, time_t now)
{
	const struct peertab_row	*rows[PEERTAB_ROWS], *r;
	char				 net[CIDR_STRLEN];
	size_t				 i, n;

	n = peertab_sorted(pt, rows, PEERTAB_ROWS);
	for (i = 0; i < n; i++) {
		r = rows[i];
		cidr_format(&r->pr_net, net);
		evbuffer_add_printf(out, "\n************************\n"
		    "%-*s%s\n%-*s%llu\n%-*s%llu\n%-*s%s%s\n%-*s%llu s ago\n",
		    KEYWIDTH, "untrusted peer:", net,
		    KEYWIDTH, "requests:", (unsigned long long)r->pr_count,
		    KEYWIDTH, "without forwarded:",
		    (unsigned long long)r->pr_clean,
		    KEYWIDTH, "headers:", r->pr_names,
		    r->pr_names_lost ? ",..." : "",
		    KEYWIDTH, "last seen:", ago(r->pr_last, now));
		if (peertab_hint(r))
			evbuffer_add_printf(out, "%-*slooks like a load "
			    "balancer: add %s to trusted_proxies\n", KEYWIDTH,
			    "hint:", net);
	}
}

/* As php-fpm's ?json: one object, keys as the text page's. */
static void
render_json(struct evbuffer *out, const struct status_app *sa,
    const struct status_live *sl, int full, time_t now)
{
	evbuffer_add_printf(out, "{\"app\":");
	add_json(out, sa->sa_name);
	json_figs(out, sa, sl, now);
	json_ranges(out, sl, now);
	if (full) {
		json_upstreams(out, sl);
		json_peers(out, &sa->sa_peers, now);
		json_workers(out, sl, now);
	}
	evbuffer_add_printf(out, "}\n");
}

/* ,"key":value for every figure. */
static void
json_figs(struct evbuffer *out, const struct status_app *sa,
    const struct status_live *sl, time_t now)
{
	const struct fig	*f;
	size_t			 i;

	for (i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		f = &figs[i];
		evbuffer_add_printf(out, ",\"%s\":%llu", f->f_key,
		    fig_value(f, sa, sl, now));
	}
}

/* SPEC §6.2: each worker's figures under the same names, as php-fpm's
   ?full lists its children. */
static void
json_workers(struct evbuffer *out, const struct status_live *sl, time_t now)
{
	const struct status_worker	*w;
	size_t				 i;

	if (sl->sl_nworkers == 0)
		return;
	evbuffer_add_printf(out, ",\"workers\":[");
	for (i = 0; i < sl->sl_nworkers; i++) {
		w = &sl->sl_workers[i];
		evbuffer_add_printf(out, "%s{\"pid\":%ld", i > 0 ? "," : "",
		    w->sw_pid);
		json_figs(out, w->sw_app, w->sw_live, now);
		evbuffer_add_printf(out, "}");
	}
	evbuffer_add_printf(out, "]");
}

static void
json_ranges(struct evbuffer *out, const struct status_live *sl, time_t now)
{
	const struct cfg_ranges	*cr;
	size_t			 i;

	evbuffer_add_printf(out, ",\"ranges files\":[");
	for (i = 0; i < sl->sl_nranges; i++) {
		cr = &sl->sl_ranges[i];
		evbuffer_add_printf(out, "%s{\"file\":", i > 0 ? "," : "");
		add_json(out, cr->cr_path);
		evbuffer_add_printf(out, ",\"provider\":");
		add_json(out, cr->cr_provider);
		evbuffer_add_printf(out, ",\"fetched\":%lld,\"age seconds\":"
		    "%lld,\"entries\":%ld}", (long long)cr->cr_fetched,
		    fetched_ago(cr, now), cr->cr_entries);
	}
	evbuffer_add_printf(out, "]");
}

static void
json_upstreams(struct evbuffer *out, const struct status_live *sl)
{
	const struct status_upstream	*u;
	size_t				 i;

	evbuffer_add_printf(out, ",\"upstreams\":[");
	for (i = 0; i < sl->sl_nup; i++) {
		u = &sl->sl_up[i];
		evbuffer_add_printf(out, "%s{\"address\":", i > 0 ? "," : "");
		add_json(out, u->su_addr);
		evbuffer_add_printf(out, ",\"state\":\"%s\",\"busy\":%zu,"
		    "\"idle\":%zu,\"connects\":%lu,\"connect failures\":%lu}",
		    u->su_up ? "up" : "down", u->su_busy, u->su_idle,
		    u->su_connects, u->su_connect_fails);
	}
	evbuffer_add_printf(out, "]");
}

static void
json_peers(struct evbuffer *out, const struct peertab *pt, time_t now)
{
	const struct peertab_row	*rows[PEERTAB_ROWS], *r;
	char				 net[CIDR_STRLEN];
	size_t				 i, n;

	evbuffer_add_printf(out, ",\"untrusted peers\":[");
	n = peertab_sorted(pt, rows, PEERTAB_ROWS);
	for (i = 0; i < n; i++) {
		r = rows[i];
		cidr_format(&r->pr_net, net);
		/* Row names are [A-Za-z0-9_.-] only: no escaping needed. */
		evbuffer_add_printf(out, "%s{\"net\":\"%s\",\"requests\":%llu,"
		    "\"without forwarded\":%llu,\"headers\":\"%s%s\","
		    "\"last seen\":%llu,\"last seen ago\":%llu,",
		    i > 0 ? "," : "", net, (unsigned long long)r->pr_count,
		    (unsigned long long)r->pr_clean, r->pr_names,
		    r->pr_names_lost ? ",..." : "",
		    (unsigned long long)r->pr_last, ago(r->pr_last, now));
		if (peertab_hint(r))
			evbuffer_add_printf(out, "\"hint\":\"looks like a load "
			    "balancer: add %s to trusted_proxies\"}", net);
		else
			evbuffer_add_printf(out, "\"hint\":null}");
	}
	evbuffer_add_printf(out, "]");
}

/* Prometheus text exposition 0.0.4, label app="NAME" on every sample. */
static void
render_prom(struct evbuffer *out, const struct status_app *sa,
    const struct status_live *sl, int full, time_t now)
{
	const struct fig	*f, *prev = NULL;
	unsigned long long	 v;
	size_t			 i;

	for (i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		f = &figs[i];
		if (f->f_metric == NULL)
			continue;
		if (prev == NULL || strcmp(prev->f_metric, f->f_metric) != 0)
			prom_family(out, f->f_metric, f->f_help, f->f_type);
		prev = f;
		evbuffer_add_printf(out, PREFIX "%s{app=\"", f->f_metric);
		add_label(out, sa->sa_name);
		evbuffer_add_printf(out, "\"%s%s} ", f->f_label ? "," : "",
		    f->f_label ? f->f_label : "");
		v = fig_value(f, sa, sl, now);
		if (f->f_ms)
			add_seconds(out, v);
		else
			evbuffer_add_printf(out, "%llu", v);
		evbuffer_add(out, "\n", 1);
	}
	prom_ranges(out, sa->sa_name, sl);
	if (!full)
		return;
	prom_upstreams(out, sa->sa_name, sl);
	prom_peers(out, sa->sa_name, &sa->sa_peers);
}

static void
prom_family(struct evbuffer *out, const char *metric, const char *help,
    enum fig_type type)
{
	evbuffer_add_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
	    "%s %s\n", metric, help, metric,
	    type == FIG_COUNTER ? "counter" : "gauge");
}

/*
 * One family at a time, a sample per upstream in it: the exposition
 * format does not allow a family to be split by another.
 */
static void
prom_upstreams(struct evbuffer *out, const char *app,
    const struct status_live *sl)
{
	static const struct {
		const char	*metric;
		const char	*help;
		enum fig_type	 type;
	} fams[] = {
		{ "upstream_up", "1 if the upstream server is up, 0 while it "
		    "is skipped after a failed connect.", FIG_GAUGE },
		{ "upstream_server_busy_connections",
		    "Connections to this server serving a request now.",
		    FIG_GAUGE },
		{ "upstream_server_idle_connections",
		    "Connections to this server kept idle now.", FIG_GAUGE },
		{ "upstream_server_connects_total",
		    "Connections opened to this server.", FIG_COUNTER },
		{ "upstream_server_connect_failures_total",
		    "Connections to this server that failed.", FIG_COUNTER },
	};
	const struct status_upstream	*u;
	unsigned long long		 v;
	size_t				 f, i;

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		prom_family(out, fams[f].metric, fams[f].help, fams[f].type);
		for (i = 0; i < sl->sl_nup; i++) {
			u = &sl->sl_up[i];
			switch (f) {
			case 0:
				v = u->su_up != 0;
				break;
			case 1:
				v = u->su_busy;
				break;
			case 2:
				v = u->su_idle;
				break;
			case 3:
				v = u->su_connects;
				break;
			default:
				v = u->su_connect_fails;
				break;
			}
			evbuffer_add_printf(out, PREFIX "%s{app=\"",
			    fams[f].metric);
			add_label(out, app);
			evbuffer_add_printf(out, "\",upstream=\"");
			add_label(out, u->su_addr);
			evbuffer_add_printf(out, "\"} %llu\n", v);
		}
	}
}

/*
 * Two families, a sample per ranges file; none without files.  The age
 * is time() - fetched in PromQL, so it is not a third.
 */
static void
prom_ranges(struct evbuffer *out, const char *app,
    const struct status_live *sl)
{
	const struct cfg_ranges	*cr;
	size_t			 f, i;

	for (f = 0; f < 2 && sl->sl_nranges > 0; f++) {
		prom_family(out, f == 0 ? "ranges_fetched_timestamp_seconds" :
		    "ranges_entries", f == 0 ? "When this provider range "
		    "file was fetched, a unix timestamp (-1: unknown)." :
		    "Entries in this provider range file.", FIG_GAUGE);
		for (i = 0; i < sl->sl_nranges; i++) {
			cr = &sl->sl_ranges[i];
			evbuffer_add_printf(out, PREFIX "%s{app=\"", f == 0 ?
			    "ranges_fetched_timestamp_seconds" :
			    "ranges_entries");
			add_label(out, app);
			evbuffer_add_printf(out, "\",file=\"");
			add_label(out, cr->cr_path);
			evbuffer_add_printf(out, "\",provider=\"");
			add_label(out, cr->cr_provider);
			evbuffer_add_printf(out, "\"} %lld\n", f == 0 ?
			    (long long)cr->cr_fetched :
			    (long long)cr->cr_entries);
		}
	}
}

static void
prom_peers(struct evbuffer *out, const char *app, const struct peertab *pt)
{
	static const struct {
		const char	*metric;
		const char	*help;
		enum fig_type	 type;
	} fams[] = {
		{ "untrusted_peer_requests_total", "Requests with forwarded "
		    "params from this untrusted network.", FIG_COUNTER },
		{ "untrusted_peer_clean_requests_total", "Requests without "
		    "forwarded params from this untrusted network.",
		    FIG_COUNTER },
		{ "untrusted_peer_last_seen_timestamp_seconds", "When this "
		    "network last sent forwarded params, a unix timestamp.",
		    FIG_GAUGE },
		{ "untrusted_peer_info", "The forwarded params this untrusted "
		    "network sent; load_balancer=\"yes\" when it looks like a "
		    "load balancer to add to trusted_proxies.", FIG_GAUGE },
	};
	const struct peertab_row	*rows[PEERTAB_ROWS], *r;
	char				 net[CIDR_STRLEN];
	unsigned long long		 v;
	size_t				 f, i, n;

	n = peertab_sorted(pt, rows, PEERTAB_ROWS);
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		prom_family(out, fams[f].metric, fams[f].help, fams[f].type);
		for (i = 0; i < n; i++) {
			r = rows[i];
			cidr_format(&r->pr_net, net);
			evbuffer_add_printf(out, PREFIX "%s{app=\"",
			    fams[f].metric);
			add_label(out, app);
			evbuffer_add_printf(out, "\",net=\"%s\"", net);
			switch (f) {
			case 0:
				v = r->pr_count;
				break;
			case 1:
				v = r->pr_clean;
				break;
			case 2:
				v = r->pr_last;
				break;
			default:
				v = 1;
				evbuffer_add_printf(out, ",headers=\"%s%s\","
				    "load_balancer=\"%s\"", r->pr_names,
				    r->pr_names_lost ? ",..." : "",
				    peertab_hint(r) ? "yes" : "no");
				break;
			}
			evbuffer_add_printf(out, "} %llu\n", v);
		}
	}
}

/* A line of the text page: control bytes would start a line of their own. */
static void
add_text(struct evbuffer *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		evbuffer_add(out, (unsigned char)*s < 0x20 || *s == 0x7f ?
		    "?" : s, 1);
}

/*
 * A JSON string.  Bytes of 0x80 and up are written as \u00XX: the result
 * is valid JSON whatever the bytes were (a config path need not be UTF-8).
 */
static void
add_json(struct evbuffer *out, const char *s)
{
	unsigned char	ch;

	evbuffer_add(out, "\"", 1);
	for (; s != NULL && *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			evbuffer_add_printf(out, "\\u%04x", ch);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

/*
 * A label value: the exposition format escapes backslash, quote and
 * newline; other control bytes and non-ASCII become '?', so the value is
 * valid UTF-8 whatever the config held.
 */
static void
add_label(struct evbuffer *out, const char *s)
{
	unsigned char	ch;

	for (; s != NULL && *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (ch < 0x20 || ch >= 0x7f)
			evbuffer_add(out, "?", 1);
		else
			evbuffer_add(out, s, 1);
	}
}

/* Milliseconds as seconds, exact to the millisecond. */
static void
add_seconds(struct evbuffer *out, unsigned long long ms)
{
	evbuffer_add_printf(out, "%llu.%03llu", ms / 1000, ms % 1000);
}

/* Seconds from then to now; 0 if the clock went back. */
static unsigned long long
ago(uint64_t then, time_t now)
{
	if (now <= 0 || (uint64_t)now < then)
		return (0);
	return ((uint64_t)now - then);
}
