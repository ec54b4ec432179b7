/*
 * fcgi-normalizer-ranges: refresh the CDN and load balancer range lists
 * that apps name in trusted_proxies_file or a group's from_file (SPEC §3.4).
 *
 *	fcgi-normalizer-ranges update [PROVIDER...] [--dir DIR]
 *	    [--url PROVIDER=URL]... [--no-reload] [--force]
 *	    [--timeout SECONDS] [--reload-cmd CMD]
 *
 * A separate program, not a room of the daemon: it is the only part that
 * talks to the Internet, so libcurl and json-c stay out of the process
 * that holds the listeners (libcrypto is in both: the daemon parses
 * client certificates with it, SPEC §4.10).  The rules a list must pass live in
 * proto/ranges.c; this file fetches, parses the providers' formats,
 * installs atomically and reloads.  A refused list never touches the
 * installed file: the daemon keeps trusting what it trusted.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "proto/ranges.h"

#define RNG_BODY_MAX	(4 * 1024 * 1024)	/* larger is not a list */
#define RNG_FILE_MAX	(16 * 1024 * 1024)	/* an installed file */
#define RNG_SOURCES	2	/* cloudflare: ips-v4 and ips-v6 */
#define RNG_REDIRS	3
#define RNG_TIMEOUT	30	/* SPEC §3.4: "HTTP 2xx within 30 s" */
#define RNG_DIR		"/var/lib/fcgi-normalizer/ranges"
#define RNG_RELOAD	\
	"systemctl try-reload-or-restart fcgi-normalizer.service"
#define RNG_AWS_URL	"https://ip-ranges.amazonaws.com/ip-ranges.json"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum rng_format {
	RNG_TEXT,	/* one CIDR per line (Cloudflare) */
	RNG_AWS,	/* ip-ranges.json, the prefixes of one service */
	RNG_FASTLY,	/* public-ip-list: addresses, ipv6_addresses */
	RNG_FIXED,	/* no download: ranges documented in prose */
};

struct rng_provider {
	const char	*p_name;
	enum rng_format	 p_format;
	const char	*p_service;		/* RNG_AWS */
	const char	*p_urls[RNG_SOURCES];	/* NULL-padded */
	const char	*p_fixed;		/* RNG_FIXED: the body */
};

/*
 * Google publishes its load balancers' source ranges only in its
 * documentation; the page is the source line, the list is fixed here.
 */
static const struct rng_provider providers[] = {
	{ "cloudflare", RNG_TEXT, NULL, { "https://www.cloudflare.com/ips-v4",
	    "https://www.cloudflare.com/ips-v6" }, NULL },
	{ "cloudfront", RNG_AWS, "CLOUDFRONT", { RNG_AWS_URL, NULL }, NULL },
	{ "cloudfront-origin-facing", RNG_AWS, "CLOUDFRONT_ORIGIN_FACING",
	    { RNG_AWS_URL, NULL }, NULL },
	{ "fastly", RNG_FASTLY, NULL,
	    { "https://api.fastly.com/public-ip-list", NULL }, NULL },
	{ "google-lb", RNG_FIXED, NULL, { "https://cloud.google.com/"
	    "load-balancing/docs/health-check-concepts", NULL },
	    "35.191.0.0/16\n130.211.0.0/22\n" },
};

#define RNG_NPROV	nitems(providers)

struct rng_opts {
	const char	*o_dir;
	const char	*o_reload;
	long		 o_timeout;
	int		 o_force;
	int		 o_noreload;
	int		 o_want[RNG_NPROV];
	const char	*o_urls[RNG_NPROV][RNG_SOURCES];
	size_t		 o_nurls[RNG_NPROV];
};

struct rng_body {
	char		*b_data;	/* NUL-terminated for json-c */
	size_t		 b_len;
	size_t		 b_cap;
	size_t		 b_max;		/* more is refused (b_toobig) */
	int		 b_toobig;
};

/* One provider's update, from the installed file to the new one. */
struct rng_job {
	const struct rng_provider *j_prov;
	const struct rng_opts	*j_opts;
	const char	*j_urls[RNG_SOURCES];
	size_t		 j_nurls;
	struct rng_body	 j_body[RNG_SOURCES];
	char		 j_path[PATH_MAX];
	char		 j_why[1024];	/* why it was refused */
	const char	*j_verb;	/* "refused", or "failed" (our I/O) */
	int		 j_installed;	/* j_path existed */
	struct ranges_meta j_meta;	/* of the installed file */
	struct ranges_list j_old;
	struct ranges_list j_new;
	int64_t		 j_fetched;
};

enum rng_outcome {
	RNG_REFUSED,
	RNG_UNCHANGED,
	RNG_CHANGED,
};

static void	usage(FILE *);
static int	parse_args(int, char *[], struct rng_opts *);
static int	parse_opt(int, char *, struct rng_opts *);
static int	add_url(struct rng_opts *, const char *);
static size_t	find_provider(const char *, size_t);
static int	pick_installed(struct rng_opts *);
static enum rng_outcome update(const struct rng_opts *, size_t);
static void	job_init(struct rng_job *, const struct rng_opts *, size_t);
static void	job_free(struct rng_job *);
static void	why(struct rng_job *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	load_installed(struct rng_job *);
static int	read_file(const char *, struct rng_body *);
static int	body_append(struct rng_body *, const void *, size_t);
static int	fetch_all(struct rng_job *);
static size_t	body_write(char *, size_t, size_t, void *);
static int	fetch(struct rng_job *, const char *, struct rng_body *);
static int	fetch_verdict(struct rng_job *, const char *, CURLcode,
		    long, const struct rng_body *, const char *);
static int	parse_all(struct rng_job *);
static int	add_entry(struct rng_job *, const char *, const char *,
		    size_t, const char *, json_object *);
static void	describe(struct rng_job *, const char *, const char *,
		    const struct ranges_fault *);
static const char *quote(const char *, size_t, char *, size_t);
static json_object *json_parse(struct rng_job *, const char *,
		    const struct rng_body *);
static int	json_array(struct rng_job *, const char *, json_object *,
		    const char *, json_object **);
static int	parse_aws(struct rng_job *, const char *, json_object *,
		    const char *, const char *);
static int	parse_fastly(struct rng_job *, const char *, json_object *,
		    const char *);
static int	finish(struct rng_job *);
static int	digest(struct rng_job *, uint8_t *);
static int	install(struct rng_job *);
static int	write_temp(char *, const char *, size_t);
static int	write_all(int, const char *, size_t);
static int	sync_dir(const char *);
static void	report(const struct rng_job *, enum rng_outcome);
static int	run_reload(const char *);

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: fcgi-normalizer-ranges update [PROVIDER...] "
	    "[--dir DIR] [--url PROVIDER=URL]...\n"
	    "           [--no-reload] [--force] [--timeout SECONDS] "
	    "[--reload-cmd CMD]\n"
	    "providers:");
	for (i = 0; i < RNG_NPROV; i++)
		fprintf(fp, " %s", providers[i].p_name);
	fprintf(fp, "\ndefaults: --dir %s --timeout %d\n"
	    "          --reload-cmd '%s'\n", RNG_DIR, RNG_TIMEOUT, RNG_RELOAD);
}

/* Returns 0, 1 after -h (exit 0), or 2 on a usage error. */
static int
parse_args(int argc, char *argv[], struct rng_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "no-reload", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "reload-cmd", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t	p;
	int	ch, rc;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		if ((rc = parse_opt(ch, optarg, o)) != 0)
			return (rc);
	if (optind >= argc || strcmp(argv[optind], "update") != 0) {
		fprintf(stderr, "fcgi-normalizer-ranges: the command is "
		    "\"update\"\n");
		return (2);
	}
	while (++optind < argc) {
		if ((p = find_provider(argv[optind], SIZE_MAX)) == RNG_NPROV) {
			fprintf(stderr, "fcgi-normalizer-ranges: unknown "
			    "provider \"%s\"\n", argv[optind]);
			return (2);
		}
		o->o_want[p] = 1;
	}
	return (0);
}

/* One option of parse_args(), same returns. */
static int
parse_opt(int ch, char *arg, struct rng_opts *o)
{
	char	*end;

	switch (ch) {
	case 'd':
		/* "DIR/" names the files of "DIR": tidy messages. */
		for (end = arg + strlen(arg); end > arg + 1 && end[-1] == '/';)
			*--end = '\0';
		o->o_dir = arg;
		return (0);
	case 'u':
		return (add_url(o, arg) == 0 ? 0 : 2);
	case 'n':
		o->o_noreload = 1;
		return (0);
	case 'f':
		o->o_force = 1;
		return (0);
	case 't':
		errno = 0;
		o->o_timeout = strtol(arg, &end, 10);
		if (errno || *end != '\0' || end == arg ||
		    o->o_timeout < 1 || o->o_timeout > 3600) {
			fprintf(stderr, "fcgi-normalizer-ranges: --timeout: "
			    "1 to 3600 seconds\n");
			return (2);
		}
		return (0);
	case 'r':
		o->o_reload = arg;
		return (0);
	case 'h':
		usage(stdout);
		return (1);
	}
	return (2);	/* getopt_long said what it did not like */
}

/* --url PROVIDER=URL: the first replaces the first source, and so on. */
static int
add_url(struct rng_opts *o, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	size_t		 p, max;

	if (eq == NULL || eq[1] == '\0' ||
	    (p = find_provider(arg, (size_t)(eq - arg))) == RNG_NPROV) {
		fprintf(stderr, "fcgi-normalizer-ranges: --url \"%s\": want "
		    "PROVIDER=URL with a known provider\n", arg);
		return (-1);
	}
	for (max = 0; max < RNG_SOURCES; max++)
		if (providers[p].p_urls[max] == NULL)
			break;
	if (providers[p].p_format == RNG_FIXED || o->o_nurls[p] == max) {
		fprintf(stderr, "fcgi-normalizer-ranges: --url: %s takes %s\n",
		    providers[p].p_name, providers[p].p_format == RNG_FIXED ?
		    "no URL (its list is fixed)" : max == 1 ?
		    "at most one URL" : "at most two URLs");
		return (-1);
	}
	o->o_urls[p][o->o_nurls[p]++] = eq + 1;
	return (0);
}

/* The index of the provider named by len bytes of s (SIZE_MAX: all of
 * it), or RNG_NPROV. */
static size_t
find_provider(const char *s, size_t len)
{
	size_t	i;

	if (len == SIZE_MAX)
		len = strlen(s);
	for (i = 0; i < RNG_NPROV; i++)
		if (strlen(providers[i].p_name) == len &&
		    memcmp(providers[i].p_name, s, len) == 0)
			return (i);
	return (RNG_NPROV);
}

/*
 * No provider named: those whose file is already installed.  The package
 * seeds all five, so an operator who deleted one opted out of it.
 */
static int
pick_installed(struct rng_opts *o)
{
	char	path[PATH_MAX];
	size_t	i, n = 0;

	for (i = 0; i < RNG_NPROV; i++)
		if (o->o_want[i])
			return (0);
	for (i = 0; i < RNG_NPROV; i++) {
		snprintf(path, sizeof(path), "%s/%s.txt", o->o_dir,
		    providers[i].p_name);
		if (access(path, F_OK) == 0) {
			o->o_want[i] = 1;
			n++;
		}
	}
	if (n > 0)
		return (0);
	fprintf(stderr, "fcgi-normalizer-ranges: no provider file in %s; "
	    "name the providers to fetch (", o->o_dir);
	for (i = 0; i < RNG_NPROV; i++)
		fprintf(stderr, "%s%s", i ? " " : "", providers[i].p_name);
	fprintf(stderr, ")\n");
	return (-1);
}

static void
job_init(struct rng_job *j, const struct rng_opts *o, size_t p)
{
	size_t	i;

	memset(j, 0, sizeof(*j));
	j->j_prov = &providers[p];
	j->j_opts = o;
	j->j_verb = "refused";
	j->j_meta.rm_fetched = -1;
	/* A --url of a provider replaces its defaults, all of them: a
	 * test (or a mirror) may serve one body only. */
	for (i = 0; i < RNG_SOURCES; i++) {
		if (o->o_nurls[p] > 0)
			j->j_urls[i] = i < o->o_nurls[p] ?
			    o->o_urls[p][i] : NULL;
		else
			j->j_urls[i] = providers[p].p_urls[i];
		if (j->j_urls[i] != NULL)
			j->j_nurls++;
	}
}

static void
job_free(struct rng_job *j)
{
	size_t	i;

	for (i = 0; i < RNG_SOURCES; i++)
		free(j->j_body[i].b_data);
	ranges_list_free(&j->j_old);
	ranges_list_free(&j->j_new);
}

static void
why(struct rng_job *j, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(j->j_why, sizeof(j->j_why), fmt, ap);
	va_end(ap);
}

/*
 * Each step fills j_why and returns -1 on refusal; the installed file is
 * only ever replaced by install(), the last step.
 */
static enum rng_outcome
update(const struct rng_opts *o, size_t p)
{
	struct rng_job		j;
	enum rng_outcome	r = RNG_REFUSED;

	job_init(&j, o, p);
	if (snprintf(j.j_path, sizeof(j.j_path), "%s/%s.txt", o->o_dir,
	    j.j_prov->p_name) >= (int)sizeof(j.j_path)) {
		j.j_verb = "failed";
		why(&j, "the path is too long");
	} else if (load_installed(&j) == 0 && fetch_all(&j) == 0 &&
	    parse_all(&j) == 0 && finish(&j) == 0 && install(&j) == 0) {
		/* The same blocks in the same order: the file was rewritten
		 * for its fetch time, but the daemon has nothing to learn. */
		r = j.j_installed && j.j_old.rl_bad == 0 &&
		    ranges_list_equal(&j.j_old, &j.j_new) ?
		    RNG_UNCHANGED : RNG_CHANGED;
	}
	report(&j, r);
	job_free(&j);
	return (r);
}

/* The installed list is what a new one is compared with (shrink rule,
 * "nothing changed"); a missing file is a first install. */
static int
load_installed(struct rng_job *j)
{
	struct rng_body		b = { NULL, 0, 0, RNG_FILE_MAX, 0 };
	struct ranges_fault	f;
	int			rc = 0;

	if (read_file(j->j_path, &b) != 0) {
		if (errno == ENOENT)
			return (0);
		j->j_installed = 1;	/* there, but unreadable: it stays */
		j->j_verb = "failed";
		why(j, "cannot read %s: %s", j->j_path, strerror(errno));
		return (-1);
	}
	j->j_installed = 1;
	ranges_meta_parse(b.b_data, b.b_len, &j->j_meta);
	if (ranges_text_parse(&j->j_old, b.b_data, b.b_len,
	    RANGES_TEXT_COMMENTS | RANGES_TEXT_LAX, &f) != RANGES_OK) {
		why(j, "%s", ranges_strerror(f.rf_status));
		rc = -1;
	}
	/* Duplicates dropped, as in a new list; an empty file is fine. */
	if (rc == 0 && ranges_list_finish(&j->j_old, 0, 1, &f) ==
	    RANGES_ERR_NOMEM) {
		why(j, "%s", ranges_strerror(f.rf_status));
		rc = -1;
	}
	free(b.b_data);
	return (rc);
}

static int
read_file(const char *path, struct rng_body *b)
{
	char	buf[65536];
	ssize_t	n;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || body_append(b, buf, (size_t)n) != 0) {
			saved = n == -1 ? errno : b->b_toobig ? EFBIG : ENOMEM;
			close(fd);
			errno = saved;
			return (-1);
		}
	}
	close(fd);
	return (0);
}

static int
fetch_all(struct rng_job *j)
{
	const char	*fixed = j->j_prov->p_fixed;
	size_t		 i;

	for (i = 0; i < RNG_SOURCES; i++)
		j->j_body[i].b_max = RNG_BODY_MAX;
	j->j_fetched = (int64_t)time(NULL);
	if (fixed != NULL) {
		if (body_append(&j->j_body[0], fixed, strlen(fixed)) == 0)
			return (0);
		why(j, "out of memory");
		return (-1);
	}
	for (i = 0; i < j->j_nurls; i++)
		if (fetch(j, j->j_urls[i], &j->j_body[i]) != 0)
			return (-1);
	/* The time the last body arrived: what the file vouches for. */
	j->j_fetched = (int64_t)time(NULL);
	return (0);
}

/* Append, bounded by b_max, and keep a NUL after the bytes (json-c wants
 * to see the end of input).  0, or -1 (b_toobig, or out of memory). */
static int
body_append(struct rng_body *b, const void *p, size_t len)
{
	size_t	 cap;
	char	*d;

	if (len > b->b_max - b->b_len) {
		b->b_toobig = 1;
		return (-1);
	}
	if (b->b_len + len + 1 > b->b_cap) {
		for (cap = b->b_cap ? b->b_cap : 16384;
		    cap < b->b_len + len + 1;)
			cap *= 2;
		if ((d = realloc(b->b_data, cap)) == NULL)
			return (-1);
		b->b_data = d;
		b->b_cap = cap;
	}
	memcpy(b->b_data + b->b_len, p, len);
	b->b_len += len;
	b->b_data[b->b_len] = '\0';
	return (0);
}

/* libcurl's write callback: a short count makes it stop the transfer. */
static size_t
body_write(char *p, size_t size, size_t n, void *arg)
{
	return (body_append(arg, p, size * n) == 0 ? size * n : 0);
}

static int
fetch(struct rng_job *j, const char *url, struct rng_body *b)
{
	char		 err[CURL_ERROR_SIZE] = "";
	CURL		*c;
	CURLcode	 rc;
	long		 status = 0;

	if ((c = curl_easy_init()) == NULL) {
		why(j, "%s: cannot start libcurl", url);
		return (-1);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fcgi-normalizer-ranges/1");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Never from https down to http on a redirect: the list is what
	 * the daemon will trust, TLS is all that vouches for it. */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
	    strncmp(url, "https:", 6) == 0 ? "https" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)RNG_REDIRS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, j->j_opts->o_timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)RNG_BODY_MAX);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return (fetch_verdict(j, url, rc, status, b, err));
}

static int
fetch_verdict(struct rng_job *j, const char *url, CURLcode rc, long status,
    const struct rng_body *b, const char *err)
{
	/* MAXFILESIZE stops an announced length; a chunked answer is
	 * stopped by body_append()'s own bound. */
	if (rc == CURLE_FILESIZE_EXCEEDED || b->b_toobig)
		why(j, "%s answered more than %d MiB", url,
		    RNG_BODY_MAX / (1024 * 1024));
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		why(j, "%s did not answer completely within %ld s", url,
		    j->j_opts->o_timeout);
	else if (rc == CURLE_TOO_MANY_REDIRECTS)
		why(j, "%s redirected more than %d times", url, RNG_REDIRS);
	else if (rc != CURLE_OK)
		why(j, "%s: %s", url, err[0] ? err : curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		why(j, "%s answered HTTP %ld", url, status);
	else if (b->b_len == 0)
		why(j, "%s answered an empty body", url);
	else
		return (0);
	return (-1);
}

/* Every body in the provider's format, entries appended in source order. */
static int
parse_all(struct rng_job *j)
{
	struct ranges_fault	 f;
	json_object		*root;
	const char		*url;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < j->j_nurls && rc == 0; i++) {
		url = j->j_urls[i];
		if (j->j_prov->p_format == RNG_TEXT ||
		    j->j_prov->p_format == RNG_FIXED) {
			if (ranges_text_parse(&j->j_new, j->j_body[i].b_data,
			    j->j_body[i].b_len, 0, &f) != RANGES_OK) {
				describe(j, url, NULL, &f);
				rc = -1;
			}
			continue;
		}
		if ((root = json_parse(j, url, &j->j_body[i])) == NULL)
			return (-1);
		if (j->j_prov->p_format == RNG_AWS)
			rc = parse_aws(j, url, root, "prefixes", "ip_prefix") ||
			    parse_aws(j, url, root, "ipv6_prefixes",
			    "ipv6_prefix") ? -1 : 0;
		else
			rc = parse_fastly(j, url, root, "addresses") ||
			    parse_fastly(j, url, root, "ipv6_addresses") ?
			    -1 : 0;
		json_object_put(root);
	}
	return (rc);
}

/* The JSON string v, found at list[i] (".field" when not NULL). */
static int
add_entry(struct rng_job *j, const char *url, const char *list, size_t i,
    const char *field, json_object *v)
{
	struct ranges_fault	f;
	char			where[96];

	if (ranges_list_add(&j->j_new, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &f) == RANGES_OK)
		return (0);
	snprintf(where, sizeof(where), "%s[%zu]%s%s", list, i,
	    field != NULL ? "." : "", field != NULL ? field : "");
	describe(j, url, where, &f);
	return (-1);
}

/* The refusal of one entry, as an operator reads it; where names it
 * ("prefixes[3].ip_prefix"), or NULL for the line of a text body. */
static void
describe(struct rng_job *j, const char *url, const char *where,
    const struct ranges_fault *f)
{
	char	q[160], line[32];

	if (f->rf_status == RANGES_ERR_NOMEM) {
		why(j, "%s", ranges_strerror(f->rf_status));
		return;
	}
	if (where == NULL) {
		snprintf(line, sizeof(line), "line %zu", f->rf_line);
		where = line;
	}
	quote(f->rf_entry, f->rf_entrylen, q, sizeof(q));
	switch (f->rf_status) {
	case RANGES_ERR_CIDR:
		why(j, "%s: %s %s is not a valid CIDR: %s", url, where, q,
		    cidr_strerror(f->rf_cidr));
		break;
	case RANGES_ERR_RESERVED:
		why(j, "%s: %s %s overlaps the %s range %s", url, where, q,
		    f->rf_kind, f->rf_range);
		break;
	default:
		why(j, "%s: %s %s is %s", url, where, q,
		    ranges_strerror(f->rf_status));
		break;
	}
}

/* s in double quotes, bytes outside printable ASCII as \xNN, cut at 48
 * bytes: the entry may be a line of an HTML page. */
static const char *
quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t	i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < len && i < 48 && o + 8 < size; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			buf[o++] = s[i];
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x",
			    (unsigned char)s[i]);
	}
	if (i < len)
		o += (size_t)snprintf(buf + o, size - o, "...");
	snprintf(buf + o, size - o, "\"");
	return (buf);
}

/*
 * The whole body must be one JSON object, strictly (json-c's default
 * accepts single quotes and trailing garbage); anything else is refused,
 * never read as far as it goes.
 */
static json_object *
json_parse(struct rng_job *j, const char *url, const struct rng_body *b)
{
	struct json_tokener	*tok;
	json_object		*root;
	enum json_tokener_error	 err;
	size_t			 end;

	if (memchr(b->b_data, '\0', b->b_len) != NULL) {
		why(j, "%s: not JSON (a NUL byte)", url);
		return (NULL);
	}
	if ((tok = json_tokener_new()) == NULL) {
		why(j, "out of memory");
		return (NULL);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	/* The NUL after the body tells json-c the input ends there. */
	root = json_tokener_parse_ex(tok, b->b_data, (int)b->b_len + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || err != json_tokener_success) {
		why(j, "%s: not JSON: %s at byte %zu", url,
		    err == json_tokener_success ? "no value" :
		    json_tokener_error_desc(err), end);
	} else if (!json_object_is_type(root, json_type_object)) {
		why(j, "%s: the JSON is not an object", url);
	} else
		return (root);
	json_object_put(root);
	return (NULL);
}

/* root's member name, which must be an array. */
static int
json_array(struct rng_job *j, const char *url, json_object *root,
    const char *name, json_object **arr)
{
	if (json_object_object_get_ex(root, name, arr) &&
	    json_object_is_type(*arr, json_type_array))
		return (0);
	why(j, "%s: the JSON has no \"%s\" array", url, name);
	return (-1);
}

/*
 * AWS ip-ranges.json: prefixes[] of {ip_prefix, region, service, ...}
 * and ipv6_prefixes[] of {ipv6_prefix, ...}.  Every element is checked,
 * not only our service's: a document that is wrong anywhere is not the
 * document AWS publishes.
 */
static int
parse_aws(struct rng_job *j, const char *url, json_object *root,
    const char *list, const char *field)
{
	const char	*want = j->j_prov->p_service;
	json_object	*arr, *e, *v, *svc;
	size_t		 i, n;

	if (json_array(j, url, root, list, &arr) != 0)
		return (-1);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, field, &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    !json_object_object_get_ex(e, "service", &svc) ||
		    !json_object_is_type(svc, json_type_string)) {
			why(j, "%s: %s[%zu] is not an object with the strings "
			    "\"%s\" and \"service\"", url, list, i, field);
			return (-1);
		}
		/* By length too: "CLOUDFRONT\u0000X" is another service. */
		if ((size_t)json_object_get_string_len(svc) != strlen(want) ||
		    strcmp(json_object_get_string(svc), want) != 0)
			continue;
		if (add_entry(j, url, list, i, field, v) != 0)
			return (-1);
	}
	return (0);
}

/* Fastly public-ip-list: {"addresses": [...], "ipv6_addresses": [...]}. */
static int
parse_fastly(struct rng_job *j, const char *url, json_object *root,
    const char *list)
{
	json_object	*arr, *v;
	size_t		 i, n;

	if (json_array(j, url, root, list, &arr) != 0)
		return (-1);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string)) {
			why(j, "%s: %s[%zu] is not a string", url, list, i);
			return (-1);
		}
		if (add_entry(j, url, list, i, NULL, v) != 0)
			return (-1);
	}
	return (0);
}

/* The rules on the whole list (SPEC §3.4): not empty, not shrunk. */
static int
finish(struct rng_job *j)
{
	struct ranges_fault	f;
	size_t			had;

	/* Unparsable lines of a hand-edited file still count as entries
	 * it had: shrinking it is a decision --force makes. */
	had = j->j_installed ? j->j_old.rl_n + j->j_old.rl_bad : 0;
	switch (ranges_list_finish(&j->j_new, had, j->j_opts->o_force, &f)) {
	case RANGES_OK:
		return (0);
	case RANGES_ERR_EMPTY:
		why(j, "the list is empty (%zu entr%s offered)",
		    j->j_new.rl_seen, j->j_new.rl_seen == 1 ? "y" : "ies");
		break;
	case RANGES_ERR_SHRUNK:
		why(j, "the list has %zu entries, fewer than half of the %zu "
		    "installed (--force installs it)", f.rf_have, f.rf_had);
		break;
	default:
		why(j, "%s", ranges_strerror(f.rf_status));
		break;
	}
	return (-1);
}

/* SHA-256 of the bodies in source order: which answers the file holds. */
static int
digest(struct rng_job *j, uint8_t *md)
{
	EVP_MD_CTX	*ctx;
	unsigned	 n = 0;
	size_t		 i;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < j->j_nurls && ok; i++)
		ok = EVP_DigestUpdate(ctx, j->j_body[i].b_data,
		    j->j_body[i].b_len);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &n) && n == 32;
	EVP_MD_CTX_free(ctx);
	return (ok ? 0 : -1);
}

/*
 * Write DIR/.PROVIDER.txt.XXXXXX, fsync, rename over DIR/PROVIDER.txt,
 * fsync DIR: a reader (the daemon on reload) sees the old file or the new
 * one, never half of one, and a crash cannot leave an empty file behind.
 */
static int
install(struct rng_job *j)
{
	struct ranges_header	 h;
	char			 tmp[PATH_MAX], src[RNG_SOURCES * 1024 + 2];
	char			*text;
	size_t			 len, i;
	int			 rc;

	src[0] = '\0';
	for (i = 0; i < j->j_nurls; i++)
		snprintf(src + strlen(src), sizeof(src) - strlen(src), "%s%s",
		    i ? " " : "", j->j_urls[i]);
	h.rh_provider = j->j_prov->p_name;
	h.rh_source = src;
	h.rh_fetched = j->j_fetched;
	j->j_verb = "failed";
	if (digest(j, h.rh_sha256) != 0) {
		why(j, "SHA-256 failed");
		return (-1);
	}
	len = ranges_render(&h, &j->j_new, NULL, 0);
	if ((text = malloc(len + 1)) == NULL) {
		why(j, "out of memory");
		return (-1);
	}
	ranges_render(&h, &j->j_new, text, len + 1);
	snprintf(tmp, sizeof(tmp), "%s/.%s.txt.XXXXXX", j->j_opts->o_dir,
	    j->j_prov->p_name);
	rc = write_temp(tmp, text, len);
	free(text);
	if (rc == -1) {
		why(j, "cannot write a new file in %s: %s", j->j_opts->o_dir,
		    strerror(errno));
		return (-1);
	}
	if (rename(tmp, j->j_path) == -1 || sync_dir(j->j_opts->o_dir) == -1) {
		why(j, "cannot install %s: %s", j->j_path, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* A new file from the template path (rewritten in place), mode 0644 as a
 * config file, on disk before it is renamed; removed on failure. */
static int
write_temp(char *path, const char *text, size_t len)
{
	int	fd, saved;

	if ((fd = mkstemp(path)) == -1)
		return (-1);
	if (fchmod(fd, 0644) == -1 || write_all(fd, text, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return (-1);
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(path);
		errno = saved;
		return (-1);
	}
	return (0);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The rename is durable only once the directory is on disk. */
static int
sync_dir(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* One line per provider: stdout when the list is in place, else stderr. */
static void
report(const struct rng_job *j, enum rng_outcome r)
{
	char	t[RANGES_TIMELEN], was[32] = "none";

	switch (r) {
	case RNG_CHANGED:
		if (j->j_installed)
			snprintf(was, sizeof(was), "%zu", j->j_old.rl_n);
		printf("%s: installed %zu entries (was %s) in %s\n",
		    j->j_prov->p_name, j->j_new.rl_n, was, j->j_path);
		break;
	case RNG_UNCHANGED:
		printf("%s: unchanged (%zu entries)\n", j->j_prov->p_name,
		    j->j_new.rl_n);
		break;
	case RNG_REFUSED:
		if (!j->j_installed)
			fprintf(stderr, "%s: %s: %s; nothing installed at %s\n",
			    j->j_prov->p_name, j->j_verb, j->j_why, j->j_path);
		else
			fprintf(stderr, "%s: %s: %s; %s kept (fetched %s)\n",
			    j->j_prov->p_name, j->j_verb, j->j_why, j->j_path,
			    j->j_meta.rm_fetched == -1 ? "unknown" :
			    ranges_time_format(j->j_meta.rm_fetched, t));
		break;
	}
	fflush(stdout);
}

/* CMD with /bin/sh -c, as systemd's Exec lines and cron do. */
static int
run_reload(const char *cmd)
{
	pid_t	pid;
	int	st;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "reload: fork: %s\n", strerror(errno));
		return (-1);
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "reload: waitpid: %s\n",
			    strerror(errno));
			return (-1);
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("reload: %s: done\n", cmd);
		return (0);
	}
	if (WIFEXITED(st))
		fprintf(stderr, "reload: %s: failed (exit status %d)\n", cmd,
		    WEXITSTATUS(st));
	else
		fprintf(stderr, "reload: %s: failed (signal %d)\n", cmd,
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return (-1);
}

/*
 * Exit 0 when every provider asked was installed or unchanged, 1 when one
 * was refused or the reload failed (the others are processed all the
 * same: one provider's outage must not freeze the rest), 2 on a usage
 * error.
 */
int
main(int argc, char *argv[])
{
	struct rng_opts	o;
	size_t		i;
	int		rc, changed = 0, refused = 0;

	memset(&o, 0, sizeof(o));
	o.o_dir = RNG_DIR;
	o.o_reload = RNG_RELOAD;
	o.o_timeout = RNG_TIMEOUT;
	if ((rc = parse_args(argc, argv, &o)) != 0) {
		if (rc == 2)
			usage(stderr);
		return (rc == 1 ? 0 : 2);
	}
	if (pick_installed(&o) != 0)
		return (1);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "fcgi-normalizer-ranges: libcurl init "
		    "failed\n");
		return (1);
	}
	for (i = 0; i < RNG_NPROV; i++) {
		if (!o.o_want[i])
			continue;
		switch (update(&o, i)) {
		case RNG_REFUSED:
			refused = 1;
			break;
		case RNG_CHANGED:
			changed = 1;
			break;
		case RNG_UNCHANGED:
			break;
		}
	}
	curl_global_cleanup();
	if (changed && !o.o_noreload && run_reload(o.o_reload) != 0)
		refused = 1;
	return (refused ? 1 : 0);
}
