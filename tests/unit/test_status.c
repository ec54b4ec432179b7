/*
 * daemon/status: the status page in its three formats (SPEC §6.1),
 * rendered from filled structs.  The JSON is checked by PHP's own
 * json_decode() and the exposition text by promtool, Prometheus' own
 * parser and linter: a real reader, not our idea of the format.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/status.h"
#include "tests/unit/util.h"

#define START	1796169600	/* 02/Dec/2026:00:00:00 +0000 */
#define NOW	(START + 3600)
#define XFF	"HTTP_X_FORWARDED_FOR"

static struct status_app	g_app;
static struct status_live	g_live;
static struct status_upstream	g_up[2];
static struct cfg_ranges	g_ranges[2];

/* Every figure with a value of its own, so a swapped field shows. */
static void
fill(void)
{
	static const char	lb[] = XFF ",HTTP_X_FORWARDED_PROTO";
	static const char	forger[] = XFF ",HTTP_X_FORWARDED_HOST";
	struct addr		a;
	int			i;

	memset(&g_app, 0, sizeof(g_app));
	memset(&g_live, 0, sizeof(g_live));
	strcpy(g_app.sa_name, "www");
	g_app.sa_start = START;
	g_app.sa_reloads = 2;
	g_app.sa_accepted = 1003;
	g_app.sa_requests = 1004;
	g_app.sa_relayed = 1005;
	g_app.sa_400 = 1006;
	g_app.sa_403 = 1007;
	g_app.sa_431 = 1008;
	g_app.sa_502 = 1009;
	g_app.sa_503 = 1010;
	g_app.sa_front_closed = 1011;
	g_app.sa_trusted = 1012;
	g_app.sa_rw_addr = 1013;
	g_app.sa_rw_scheme = 1014;
	g_app.sa_rw_host = 1015;
	g_app.sa_rw_prefix = 1016;
	g_app.sa_spoofing = 1017;
	g_app.sa_invalid = 1018;
	g_app.sa_conflicts = 1019;
	g_app.sa_short = 1040;
	g_app.sa_status_requests = 1020;
	g_app.sa_status_403 = 1021;
	g_live.sl_active = 31;
	g_live.sl_queue_len = 32;
	g_live.sl_queue_max = 33;
	g_live.sl_queue_waits = 34;
	g_live.sl_queue_wait_ms = 12345;
	g_live.sl_busy = 36;
	g_live.sl_idle = 37;
	g_live.sl_max = 38;
	g_live.sl_connects = 39;
	g_live.sl_connect_fails = 40;
	g_live.sl_retries = 41;
	g_up[0] = (struct status_upstream){ "unix:/run/php/php8.2-fpm.sock", 1,
	    20, 17, 25, 0 };
	g_up[1] = (struct status_upstream){ "10.0.0.7:9000", 0, 0, 0, 3, 3 };
	g_live.sl_up = g_up;
	g_live.sl_nup = 2;
	/* SPEC §3.4: a fresh list, one that lost its fetch line. */
	g_ranges[0] = (struct cfg_ranges){
	    "/var/lib/fcgi-normalizer/ranges/cloudflare.txt", "cloudflare",
	    NOW - 3600, 22 };
	g_ranges[1] = (struct cfg_ranges){ "/etc/x \"q\".txt", "fastly", -1,
	    -1 };
	g_live.sl_ranges = g_ranges;
	g_live.sl_nranges = 2;
	/* A load balancer someone forgot, a forger, a one-off. */
	addr_parse("10.0.0.5", 8, &a);
	for (i = 0; i < 12; i++)
		peertab_note(&g_app.sa_peers, &a, lb, strlen(lb),
		    NOW - 100 + (uint64_t)i);
	addr_parse("203.0.113.9", 11, &a);
	for (i = 0; i < 3; i++)
		peertab_note(&g_app.sa_peers, &a, forger, strlen(forger),
		    NOW - 50);
	peertab_note_clean(&g_app.sa_peers, &a, NOW - 40);
	peertab_note_clean(&g_app.sa_peers, &a, NOW - 30);
	addr_parse("2001:db8::5", 11, &a);
	peertab_note(&g_app.sa_peers, &a, "HTTP_FORWARDED", 14, NOW - 5);
}

/* The page as a C string (valid until the next call) and its type. */
static const char *
render(enum status_format fmt, int full, const char **ct)
{
	static char		 page[65536];
	struct evbuffer		*b;
	const char		*type;
	size_t			 n;

	if ((b = evbuffer_new()) == NULL)
		abort();
	type = status_render(b, &g_app, &g_live, fmt, full, NOW);
	n = evbuffer_get_length(b);
	CU_ASSERT_FATAL(n < sizeof(page));
	evbuffer_remove(b, page, n);
	page[n] = '\0';
	evbuffer_free(b);
	if (ct != NULL)
		*ct = type;
	return (page);
}

/* Write text to DIR/name (kept there: the README samples come from it). */
static const char *
save(const char *name, const char *text)
{
	static char	path[256];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir(), name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return (path);
}

/*
 * Save text as DIR/name and run "pre PATH post" through the shell; its
 * output goes to out.  Returns the exit code, or -1 when it did not exit.
 */
static int
run_on(const char *name, const char *text, const char *pre,
    const char *post, char *out, size_t outcap)
{
	char	line[1024];
	FILE	*f;
	size_t	n;
	int	st;

	snprintf(line, sizeof(line), "%s%s%s", pre, save(name, text), post);
	if ((f = popen(line, "r")) == NULL)
		abort();
	n = fread(out, 1, outcap - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* promtool reads stdin; quiet and 0 means parsed and lint-clean. */
static int
promtool(const char *name, const char *text, char *out, size_t outcap)
{
	int	rc;

	rc = run_on(name, text, "promtool check metrics <", " 2>&1", out,
	    outcap);
	if (rc == 127)
		fprintf(stderr, "\nstatus: promtool not found: run `make deps` "
		    "(Debian package prometheus)\n");
	return (rc);
}

/* PHP decodes the file strictly and prints "APP KEYS UPSTREAMS PEERS". */
#define PHP_JSON	"php -r '$j = json_decode(file_get_contents(" \
	"$argv[1]), true, 64, JSON_THROW_ON_ERROR); echo $j[\"app\"], " \
	"\" \", count($j), \" \", count($j[\"upstreams\"] ?? []), \" \", " \
	"count($j[\"untrusted peers\"] ?? []);' ", " 2>&1"

struct query_case {
	const char		*qs;
	enum status_format	 fmt;
	int			 full;
};

static const struct query_case query_cases[] = {
	{ "", STATUS_TEXT, 0 },
	{ "json", STATUS_JSON, 0 },
	{ "openmetrics", STATUS_OPENMETRICS, 0 },
	{ "full", STATUS_TEXT, 1 },
	{ "json&full", STATUS_JSON, 1 },
	{ "full&openmetrics", STATUS_OPENMETRICS, 1 },
	{ "openmetrics&json", STATUS_JSON, 0 },
	{ "&&full&", STATUS_TEXT, 1 },
	{ "html&full", STATUS_TEXT, 1 },
	{ "xml", STATUS_TEXT, 0 },
	{ "jsonp", STATUS_TEXT, 0 },
	{ "fulll", STATUS_TEXT, 0 },
	{ "JSON", STATUS_TEXT, 0 },
	{ "json=1", STATUS_JSON, 0 },
	{ "openmetrics=", STATUS_OPENMETRICS, 0 },
	{ "openmetrics=&full=yes", STATUS_OPENMETRICS, 1 },
	{ "json&openmetrics", STATUS_JSON, 0 },
	{ "=json", STATUS_TEXT, 0 },
	{ "full=", STATUS_TEXT, 1 },
	{ "js", STATUS_TEXT, 0 },
	{ "jso", STATUS_TEXT, 0 },
	{ "openmetric", STATUS_TEXT, 0 },
};

static void
test_status_query(void)
{
	enum status_format	fmt;
	size_t			i;
	int			full;

	for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		const struct query_case *c = &query_cases[i];
		const char *g = (const char *)guarded_copy(c->qs,
		    strlen(c->qs));

		status_query(g, strlen(c->qs), &fmt, &full);
		CU_ASSERT_EQUAL(fmt, c->fmt);
		CU_ASSERT_EQUAL(full, c->full);
		if (fmt != c->fmt || full != c->full)
			fprintf(stderr, "\nstatus query \"%s\": got %d %d\n",
			    c->qs, fmt, full);
	}
}

/*
 * Every figure of SPEC §6.1 with its text key, its JSON key (the same)
 * and its exposition sample, each with the value fill() gave it.
 */
struct figure {
	const char	*key;
	const char	*value;
	const char	*sample;	/* NULL: not a metric */
};

static const struct figure figures[] = {
	{ "start time", NULL, "start_time_seconds{app=\"www\"} 1796169600" },
	{ "start since", "3600", NULL },
	{ "reloads", "2", "reloads_total{app=\"www\"} 2" },
	{ "accepted conn", "1003",
	    "accepted_connections_total{app=\"www\"} 1003" },
	{ "active conn", "31", "active_connections{app=\"www\"} 31" },
	{ "requests", "1004", "requests_total{app=\"www\"} 1004" },
	{ "requests relayed", "1005",
	    "request_outcomes_total{app=\"www\",outcome=\"relayed\"} 1005" },
	{ "requests 400", "1006",
	    "request_outcomes_total{app=\"www\",outcome=\"400\"} 1006" },
	{ "requests 403", "1007",
	    "request_outcomes_total{app=\"www\",outcome=\"403\"} 1007" },
	{ "requests 431", "1008",
	    "request_outcomes_total{app=\"www\",outcome=\"431\"} 1008" },
	{ "requests 502", "1009",
	    "request_outcomes_total{app=\"www\",outcome=\"502\"} 1009" },
	{ "requests 503", "1010",
	    "request_outcomes_total{app=\"www\",outcome=\"503\"} 1010" },
	{ "requests front closed", "1011", "request_outcomes_total"
	    "{app=\"www\",outcome=\"front_closed\"} 1011" },
	{ "trusted requests", "1012",
	    "trusted_requests_total{app=\"www\"} 1012" },
	{ "rewritten addr", "1013",
	    "rewritten_total{app=\"www\",what=\"addr\"} 1013" },
	{ "rewritten scheme", "1014",
	    "rewritten_total{app=\"www\",what=\"scheme\"} 1014" },
	{ "rewritten host", "1015",
	    "rewritten_total{app=\"www\",what=\"host\"} 1015" },
	{ "rewritten prefix", "1016",
	    "rewritten_total{app=\"www\",what=\"prefix\"} 1016" },
	{ "spoofing attempts", "1017",
	    "spoofing_attempts_total{app=\"www\"} 1017" },
	{ "invalid forwarded", "1018",
	    "invalid_forwarded_values_total{app=\"www\"} 1018" },
	{ "conflicts", "1019", "conflicts_total{app=\"www\"} 1019" },
	{ "short chains", "1040", "short_chains_total{app=\"www\"} 1040" },
	{ "queue len", "32", "queue_length{app=\"www\"} 32" },
	{ "max queue len", "33", "queue_length_max{app=\"www\"} 33" },
	{ "queue waits", "34", "queue_waits_total{app=\"www\"} 34" },
	{ "queue wait ms", "12345",
	    "queue_wait_seconds_total{app=\"www\"} 12.345" },
	{ "upstream busy", "36", "upstream_busy_connections{app=\"www\"} 36" },
	{ "upstream idle", "37", "upstream_idle_connections{app=\"www\"} 37" },
	{ "upstream max", "38", "upstream_max_connections{app=\"www\"} 38" },
	{ "connects", "39", "upstream_connects_total{app=\"www\"} 39" },
	{ "connect failures", "40",
	    "upstream_connect_failures_total{app=\"www\"} 40" },
	{ "retries", "41", "upstream_retries_total{app=\"www\"} 41" },
	{ "status requests", "1020",
	    "status_requests_total{app=\"www\"} 1020" },
	{ "status 403", "1021", "status_forbidden_total{app=\"www\"} 1021" },
};

/* 1 if page holds want as a whole line. */
static int
has_line(const char *page, const char *want)
{
	const char	*p = page;
	size_t		 n = strlen(want);

	while ((p = strstr(p, want)) != NULL) {
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return (1);
		p += n;
	}
	return (0);
}

static void
expect_line(const char *page, const char *want)
{
	CU_ASSERT_TRUE(has_line(page, want));
	if (!has_line(page, want))
		fprintf(stderr, "\nstatus: no line \"%s\"\n", want);
}

static void
expect_in(const char *page, const char *want)
{
	CU_ASSERT_PTR_NOT_NULL(strstr(page, want));
	if (strstr(page, want) == NULL)
		fprintf(stderr, "\nstatus: no \"%s\"\n", want);
}

static void
test_status_every_figure(void)
{
	const char	*page;
	char		 want[256];
	size_t		 i;

	fill();
	page = render(STATUS_TEXT, 0, NULL);
	expect_line(page, "app:                   www");
	expect_line(page, "start time:            02/Dec/2026:00:00:00 +0000");
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		if (figures[i].value == NULL)
			continue;
		snprintf(want, sizeof(want), "%s:", figures[i].key);
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "%*s%s", (int)(23 - strlen(want)), "", figures[i].value);
		expect_line(page, want);
	}
	page = render(STATUS_JSON, 0, NULL);
	expect_in(page, "\"start time\":1796169600,");
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		if (figures[i].value == NULL)
			continue;
		snprintf(want, sizeof(want), "\"%s\":%s,", figures[i].key,
		    figures[i].value);
		expect_in(page, want);
	}
	page = render(STATUS_OPENMETRICS, 0, NULL);
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		if (figures[i].sample == NULL)
			continue;
		snprintf(want, sizeof(want), "fcgi_normalizer_%s",
		    figures[i].sample);
		expect_line(page, want);
	}
}

static void
test_status_content_types(void)
{
	const char	*ct;

	fill();
	render(STATUS_TEXT, 0, &ct);
	CU_ASSERT_STRING_EQUAL(ct, "text/plain; charset=utf-8");
	render(STATUS_JSON, 1, &ct);
	CU_ASSERT_STRING_EQUAL(ct, "application/json");
	render(STATUS_OPENMETRICS, 0, &ct);
	CU_ASSERT_STRING_EQUAL(ct, "text/plain; version=0.0.4; charset=utf-8");
}

/* The upstream and untrusted-peer blocks of ?full, in all formats. */
static void
test_status_full(void)
{
	const char	*page;

	fill();
	page = render(STATUS_TEXT, 0, NULL);
	CU_ASSERT_PTR_NULL(strstr(page, "upstream:"));
	CU_ASSERT_PTR_NULL(strstr(page, "untrusted peer:"));
	page = render(STATUS_TEXT, 1, NULL);
	save("status-sample-full.txt", page);
	expect_line(page, "upstream:              "
	    "unix:/run/php/php8.2-fpm.sock");
	expect_line(page, "state:                 down");
	expect_line(page, "connect failures:      3");
	/* Most recent first: the one-off, the forger, the balancer. */
	expect_in(page, "untrusted peer:        2001:db8::/64\n"
	    "requests:              1\n"
	    "without forwarded:     0\n"
	    "headers:               HTTP_FORWARDED\n"
	    "last seen:             5 s ago\n\n");
	expect_in(page, "untrusted peer:        203.0.113.0/24\n"
	    "requests:              3\n"
	    "without forwarded:     2\n"
	    "headers:               " XFF ",HTTP_X_FORWARDED_HOST\n"
	    "last seen:             50 s ago\n\n");
	expect_in(page, "untrusted peer:        10.0.0.0/24\n"
	    "requests:              12\n"
	    "without forwarded:     0\n"
	    "headers:               " XFF ",HTTP_X_FORWARDED_PROTO\n"
	    "last seen:             89 s ago\n"
	    "hint:                  looks like a load balancer: add "
	    "10.0.0.0/24 to trusted_proxies\n");
	CU_ASSERT_TRUE(strstr(page, "2001:db8::/64") <
	    strstr(page, "203.0.113.0/24"));

	page = render(STATUS_JSON, 1, NULL);
	expect_in(page, "\"upstreams\":[{\"address\":\"unix:/run/php/"
	    "php8.2-fpm.sock\",\"state\":\"up\",\"busy\":20,\"idle\":17,"
	    "\"connects\":25,\"connect failures\":0},");
	expect_in(page, "{\"net\":\"10.0.0.0/24\",\"requests\":12,"
	    "\"without forwarded\":0,\"headers\":\"" XFF
	    ",HTTP_X_FORWARDED_PROTO\",\"last seen\":1796173111,"
	    "\"last seen ago\":89,\"hint\":\"looks like a load balancer: "
	    "add 10.0.0.0/24 to trusted_proxies\"}");
	expect_in(page, "\"net\":\"203.0.113.0/24\"");
	expect_in(page, "\"hint\":null}");

	page = render(STATUS_OPENMETRICS, 1, NULL);
	expect_line(page, "fcgi_normalizer_upstream_up{app=\"www\","
	    "upstream=\"10.0.0.7:9000\"} 0");
	expect_line(page, "fcgi_normalizer_upstream_server_busy_connections"
	    "{app=\"www\",upstream=\"unix:/run/php/php8.2-fpm.sock\"} 20");
	expect_line(page, "fcgi_normalizer_upstream_server_connect_failures_"
	    "total{app=\"www\",upstream=\"10.0.0.7:9000\"} 3");
	expect_line(page, "fcgi_normalizer_untrusted_peer_requests_total"
	    "{app=\"www\",net=\"10.0.0.0/24\"} 12");
	expect_line(page, "fcgi_normalizer_untrusted_peer_clean_requests_"
	    "total{app=\"www\",net=\"203.0.113.0/24\"} 2");
	expect_line(page, "fcgi_normalizer_untrusted_peer_last_seen_"
	    "timestamp_seconds{app=\"www\",net=\"2001:db8::/64\"} 1796173195");
	expect_line(page, "fcgi_normalizer_untrusted_peer_info{app=\"www\","
	    "net=\"10.0.0.0/24\",headers=\"" XFF ",HTTP_X_FORWARDED_PROTO\","
	    "load_balancer=\"yes\"} 1");
	expect_in(page, "net=\"203.0.113.0/24\",headers=\"" XFF
	    ",HTTP_X_FORWARDED_HOST\",load_balancer=\"no\"} 1");
}

/* PHP's json_decode() accepts every variant, hostile strings included. */
static void
test_status_json_valid(void)
{
	char	out[1024];
	int	rc;

	fill();
	rc = run_on("status-sample.json", render(STATUS_JSON, 0, NULL),
	    PHP_JSON, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "www 36 0 0");
	rc = run_on("status-sample-full.json", render(STATUS_JSON, 1, NULL),
	    PHP_JSON, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "www 38 2 3");
	if (rc != 0)
		fprintf(stderr, "\nstatus json: %s\n", out);

	/* Empty tables, and bytes JSON must escape. */
	memset(&g_app.sa_peers, 0, sizeof(g_app.sa_peers));
	g_up[0].su_addr = "unix:/run/\"q\"\\b\n\t\x01\x7f\xc3\xa9.sock";
	strcpy(g_app.sa_name, "w\"w\\");
	rc = run_on("status-hostile.json", render(STATUS_JSON, 1, NULL),
	    PHP_JSON, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "w\"w\\ 38 2 0");
	if (rc != 0)
		fprintf(stderr, "\nstatus json: %s\n", out);
	g_live.sl_nup = 0;
	rc = run_on("status-empty.json", render(STATUS_JSON, 1, NULL),
	    PHP_JSON, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "w\"w\\ 38 0 0");
}

/*
 * promtool check metrics parses the page as Prometheus does and lints it
 * (counters end in _total, base units, HELP present): quiet and exit 0.
 */
static void
test_status_promtool(void)
{
	static const struct {
		const char	*file;
		int		 full;
	} v[] = {
		{ "status-sample.prom", 0 },
		{ "status-sample-full.prom", 1 },
	};
	char	out[4096];
	size_t	i;
	int	rc;

	fill();
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		rc = promtool(v[i].file, render(STATUS_OPENMETRICS, v[i].full,
		    NULL), out, sizeof(out));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_STRING_EQUAL(out, "");
		if (rc != 0 || out[0] != '\0')
			fprintf(stderr, "\nstatus %s: promtool %d: %s\n",
			    v[i].file, rc, out);
	}
	/* Label values that need escaping; empty families. */
	memset(&g_app.sa_peers, 0, sizeof(g_app.sa_peers));
	g_up[0].su_addr = "unix:/run/\"q\"\\b\n\t\x01\xc3\xa9.sock";
	strcpy(g_app.sa_name, "a\"pp");
	rc = promtool("status-hostile.prom", render(STATUS_OPENMETRICS, 1,
	    NULL), out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	expect_in(render(STATUS_OPENMETRICS, 1, NULL),
	    "{app=\"a\\\"pp\",upstream=\"unix:/run/\\\"q\\\"\\\\b\\n??"
	    "??.sock\"} 1\n");
	g_live.sl_nup = 0;
	rc = promtool("status-empty.prom", render(STATUS_OPENMETRICS, 1,
	    NULL), out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

/*
 * The validator is alive: promtool refuses what we must never write (a
 * millisecond unit, a broken label, a value that is not a number).
 * Without this, a promtool that accepts anything would pass the above.
 * It does not refuse a family split by another (its parser merges them):
 * test_status_metric_names checks that one.
 */
static void
test_status_promtool_refuses(void)
{
	char	out[4096];

	CU_ASSERT_NOT_EQUAL(promtool("bad1.prom", "# HELP x_wait_ms w\n"
	    "# TYPE x_wait_ms counter\nx_wait_ms 1\n", out, sizeof(out)), 0);
	CU_ASSERT_NOT_EQUAL(promtool("bad2.prom", "# HELP x_total w\n"
	    "# TYPE x_total counter\nx_total{app=\"a} 1\n", out,
	    sizeof(out)), 0);
	CU_ASSERT_NOT_EQUAL(promtool("bad3.prom", "# HELP x_total w\n"
	    "# TYPE x_total counter\nx_total 1.2.3\n", out, sizeof(out)), 0);
	CU_ASSERT_NOT_EQUAL(promtool("bad4.prom", "# HELP x w\n"
	    "# TYPE x counter\nx 1\n", out, sizeof(out)), 0);
}

/*
 * Our own name rules, on top of promtool's: every family is
 * fcgi_normalizer_*, has HELP and TYPE before its samples, counters end
 * in _total, nothing is in milliseconds, every sample has app="www".
 */
static void
test_status_metric_names(void)
{
	char		 page[65536], fam[128] = "";
	char		*line, *save, *sp;
	size_t		 n;
	int		 bad = 0, samples = 0, families = 0;

	fill();
	snprintf(page, sizeof(page), "%s", render(STATUS_OPENMETRICS, 1,
	    NULL));
	for (line = strtok_r(page, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "_ms") != NULL ||
		    strstr(line, "millisecond") != NULL)
			bad++;
		if (strncmp(line, "# HELP ", 7) == 0) {
			bad += strncmp(line + 7, "fcgi_normalizer_", 16) != 0;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if ((sp = strchr(line + 7, ' ')) == NULL) {
				bad++;
				continue;
			}
			n = (size_t)(sp - (line + 7));
			snprintf(fam, sizeof(fam), "%.*s", (int)n, line + 7);
			families++;
			if (strcmp(sp + 1, "counter") == 0 &&
			    (n < 6 || strcmp(fam + n - 6, "_total") != 0))
				bad++;
			continue;
		}
		samples++;
		n = strlen(fam);
		if (n == 0 || strncmp(line, fam, n) != 0 || line[n] != '{' ||
		    strncmp(line + n, "{app=\"www\"", 10) != 0)
			bad++;
		if (bad > 0 && n > 0)
			fprintf(stderr, "\nstatus metric line: %s\n", line);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(families, 35);
	CU_ASSERT_EQUAL(samples, 33 + 5 * 2 + 4 * 3 + 2 * 2);
}

/* SPEC §3.4: each ranges file's provider, fetch time, age and entries. */
static void
test_status_ranges(void)
{
	const char	*page;

	fill();
	page = render(STATUS_TEXT, 0, NULL);
	expect_line(page, "ranges file:           "
	    "/var/lib/fcgi-normalizer/ranges/cloudflare.txt");
	expect_line(page, "provider:              cloudflare");
	expect_line(page, "fetched:               2026-12-02T00:00:00Z");
	expect_line(page, "age seconds:           3600");
	expect_line(page, "entries:               22");
	expect_line(page, "fetched:               ?");
	expect_line(page, "age seconds:           -1");
	page = render(STATUS_JSON, 0, NULL);
	expect_in(page, ",\"ranges files\":[{\"file\":\"/var/lib/"
	    "fcgi-normalizer/ranges/cloudflare.txt\",\"provider\":"
	    "\"cloudflare\",\"fetched\":1796169600,\"age seconds\":3600,"
	    "\"entries\":22},{\"file\":\"/etc/x \\\"q\\\".txt\","
	    "\"provider\":\"fastly\",\"fetched\":-1,\"age seconds\":-1,"
	    "\"entries\":-1}]");
	page = render(STATUS_OPENMETRICS, 0, NULL);
	expect_line(page, "fcgi_normalizer_ranges_fetched_timestamp_seconds"
	    "{app=\"www\",file=\"/var/lib/fcgi-normalizer/ranges/"
	    "cloudflare.txt\",provider=\"cloudflare\"} 1796169600");
	expect_line(page, "fcgi_normalizer_ranges_entries{app=\"www\","
	    "file=\"/etc/x \\\"q\\\".txt\",provider=\"fastly\"} -1");
	g_live.sl_nranges = 0;
	page = render(STATUS_OPENMETRICS, 1, NULL);
	CU_ASSERT_PTR_NULL(strstr(page, "ranges_"));
	page = render(STATUS_JSON, 0, NULL);
	expect_in(page, ",\"ranges files\":[]}");
}

void
suite_status(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("status", NULL, NULL)) == NULL)
		abort();
	ADD_TEST(s, "status: QUERY_STRING words as php-fpm reads them",
	    test_status_query);
	ADD_TEST(s, "status: every figure of SPEC 6.1 in all three formats",
	    test_status_every_figure);
	ADD_TEST(s, "status: content types", test_status_content_types);
	ADD_TEST(s, "status: full adds upstreams and untrusted peers",
	    test_status_full);
	ADD_TEST(s, "status: PHP json_decode accepts the JSON",
	    test_status_json_valid);
	ADD_TEST(s, "status: promtool check metrics accepts the exposition",
	    test_status_promtool);
	ADD_TEST(s, "status: promtool is a live validator",
	    test_status_promtool_refuses);
	ADD_TEST(s, "status: metric names and labels follow the rules",
	    test_status_metric_names);
	ADD_TEST(s, "status: provider range files in every view",
	    test_status_ranges);
}
