/*
 * A request's params are complete (FastCGI or SCGI): the PROXY protocol
 * params, the policy (proto/normalize), the daemon's answer when the
 * policy refuses, and the hand-off to the upstream pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/conn_int.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/status.h"
#include "proto/cidr.h"
#include "proto/normalize.h"

#define TRAIL_DEBUG	8192
#define TRAIL_QUIET	1024

static int	rate_ok(void);
static const char *untrusted_count(const struct conn *);
static void	log_trail(struct conn *, const struct norm_trail *);
static void	count(struct conn *, const struct norm_trail *);
static int	special(struct conn *);
static int	page(struct conn *, int);

/*
 * Params arenas (max_params_bytes and room for the rewrite: ~200 KiB by
 * default) are kept for reuse instead of freed: a malloc/free of that
 * size per request sits at glibc's mmap and trim thresholds and costs
 * brk/mmap syscalls on the request path.  The daemon has one thread.
 */
#define ARENA_CACHE	16
static struct params	*arena_cache[ARENA_CACHE];
static size_t		 arena_ncache;

struct params *
req_arena_get(size_t cap)
{
	struct params	*p;

	while (arena_ncache > 0) {
		p = arena_cache[--arena_ncache];
		if (p->p_cap == cap) {
			params_reset(p);
			return (p);
		}
		params_free(p);
	}
	return (params_new(cap));
}

void
req_arena_put(struct params *p)
{
	if (p == NULL)
		return;
	if (arena_ncache < ARENA_CACHE)
		arena_cache[arena_ncache++] = p;
	else
		params_free(p);
}

/* At most 10 warnings a second for peer-caused trouble (STYLE S8). */
static int
rate_ok(void)
{
	static time_t	sec;
	static int	n;
	time_t		now = time(NULL);

	if (now != sec) {
		sec = now;
		n = 0;
	}
	return (++n <= 10);
}

static const char *
untrusted_count(const struct conn *c)
{
	static char	buf[48];

	snprintf(buf, sizeof(buf), " untrusted_total=%lu",
	    c->c_l->l_untrusted);
	return (buf);
}

static void
log_trail(struct conn *c, const struct norm_trail *t)
{
	const char	*p, *nl;
	int		 warn = (t->t_flags & ~NORM_W_UNTRUSTED) != 0;

	if (t->t_len == 0 || (log_level_cur < LOG_LVL_DEBUG && !rate_ok()))
		return;
	for (p = t->t_buf; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		/* Untrusted peers sending headers: info; bad values: warn. */
		log_msg(strncmp(p, "warn: ", 6) == 0 ? (warn ? LOG_LVL_WARN :
		    LOG_LVL_INFO) : LOG_LVL_DEBUG, c->c_app->a_name,
		    "conn=%lu peer=%s%s policy: %.*s%s", c->c_id, c->c_peer,
		    conn_req_tag(c),
		    (int)(nl - p), p, strncmp(p, "warn: untrusted", 15) == 0 ?
		    untrusted_count(c) : "");
	}
}

/*
 * The request's params are complete (FastCGI or SCGI): add the PROXY
 * protocol address, run the policy, send BEGIN_REQUEST and the params.
 */
int
req_send(struct conn *c)
{
	struct norm_trail	 t;
	enum norm_verdict	 v;
	char			 trail[TRAIL_DEBUG], a[ADDR_STRLEN], pb[8];
	struct evbuffer_iovec	 iov;
	uint8_t			 begin[16];
	size_t			 need;
	int			 n;

	c->c_requests++;
	if (c->c_pp_have) {
		/*
		 * SPEC §5.3: usable in client_headers like any param; the v2
		 * TLVs in proto_headers and host_headers, where the policy
		 * checks them as it checks the headers they stand for.
		 */
		const struct pp_result *pp = &c->c_pp;

		if (pp->r_tlv_refused)
			log_info(c->c_app->a_name, "conn=%lu peer=%s PROXY v2 "
			    "AUTHORITY or UNIQUE_ID TLV not printable or too "
			    "long: left out", c->c_id, c->c_peer);
		n = snprintf(pb, sizeof(pb), "%d", pp->r_src_port);
		if (params_set(c->c_params, PARAMS_STR("PROXY_PROTOCOL_ADDR"),
		    a, addr_format(&pp->r_src, a)) != PARAMS_OK ||
		    params_set(c->c_params, PARAMS_STR("PROXY_PROTOCOL_PORT"),
		    pb, (size_t)n) != PARAMS_OK ||
		    (pp->r_ssl != -1 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_PROTO"), pp->r_ssl ? "https" :
		    "http", pp->r_ssl ? 5 : 4) != PARAMS_OK) ||
		    (pp->r_authority_len > 0 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_AUTHORITY"), pp->r_authority,
		    pp->r_authority_len) != PARAMS_OK) ||
		    (pp->r_unique_id_len > 0 && params_set(c->c_params,
		    PARAMS_STR("PROXY_PROTOCOL_UNIQUE_ID"), pp->r_unique_id,
		    pp->r_unique_id_len) != PARAMS_OK))
			return (conn_answer(c, ST_431,
			    "params too large"));
	}
	norm_trail_init(&t, trail, log_level_cur >= LOG_LVL_DEBUG ?
	    TRAIL_DEBUG : TRAIL_QUIET, log_level_cur >= LOG_LVL_DEBUG);
	v = norm_run(&c->c_app->a_policy, c->c_params, &t);
	/* SPEC §4.2: counted, the first sign of a mis-wired balancer. */
	if (t.t_flags & NORM_W_UNTRUSTED)
		c->c_l->l_untrusted++;
	log_trail(c, &t);
	c->c_special = 0;
	if (v == NORM_OK && (n = special(c)) != 0)
		return (page(c, n));
	count(c, &t);
	switch (v) {
	case NORM_OK:
		break;
	case NORM_BAD_REQUEST:
		return (conn_answer(c, ST_400, "bad param name or value"));
	case NORM_FORBIDDEN:
		return (conn_answer(c, ST_403, "param in reject_params"));
	case NORM_FULL:
		return (conn_answer(c, ST_431,
		    "params too large after rewrite"));
	}
	if (fcgi_enc_params(c->c_params, c->c_reqid, NULL, 0, &need) !=
	    FCGI_DEC_OK)
		return (conn_answer(c, ST_431,
		    "one param larger than a FastCGI record"));
	/*
	 * SPEC §5.4: with the pool every request keeps its upstream
	 * connection; the web server's flag decides only about its own.
	 */
	fcgi_enc_begin(c->c_reqid, c->c_role, c->c_keep ||
	    up_pool_keepalive(c->c_pool) ? FCGI_KEEP_CONN : 0, begin);
	/* Encoded once into the carry; binding moves it without a copy. */
	evbuffer_add(c->c_wait.w_carry, begin, sizeof(begin));
	if (evbuffer_reserve_space(c->c_wait.w_carry, (ev_ssize_t)need, &iov,
	    1) != 1 || iov.iov_len < need) {
		conn_close(c, "out of memory");
		return (-1);
	}
	fcgi_enc_params(c->c_params, c->c_reqid, iov.iov_base, need, &need);
	iov.iov_len = need;
	evbuffer_commit_space(c->c_wait.w_carry, &iov, 1);
	req_arena_put(c->c_params);
	c->c_params = NULL;
	c->c_relayed = 0;
	c->c_wait.w_retried_connect = c->c_wait.w_retried_reuse = 0;
	/* The body may stall no longer than the idle timeout. */
	conn_arm_timer(c, c->c_app->a_idle_timeout_ms, 1);
	return (req_upstream(c));
}

/* SPEC §6.1: what the policy did, per app, and who forges headers. */
static void
count(struct conn *c, const struct norm_trail *t)
{
	struct status_app	*st = c->c_stats;

	if (!c->c_counted) {
		c->c_counted = 1;
		st->sa_requests++;
	}
	if (t->t_done & NORM_R_TRUSTED)
		st->sa_trusted++;
	if (t->t_done & NORM_R_ADDR)
		st->sa_rw_addr++;
	if (t->t_done & NORM_R_SCHEME)
		st->sa_rw_scheme++;
	if (t->t_done & NORM_R_HOST)
		st->sa_rw_host++;
	if (t->t_done & NORM_R_PREFIX)
		st->sa_rw_prefix++;
	if (t->t_flags & NORM_W_UNTRUSTED)
		st->sa_spoofing++;
	if (t->t_flags & (NORM_W_CLIENT | NORM_W_SCHEME | NORM_W_PORT |
	    NORM_W_HOST | NORM_W_PREFIX))
		st->sa_invalid++;
	if (t->t_flags & NORM_W_CONFLICT)
		st->sa_conflicts++;
	if ((t->t_done & (NORM_R_TRUSTED | NORM_R_PEER)) != NORM_R_PEER)
		return;
	/* An untrusted peer: the "full" view's table (time() is vDSO). */
	if (t->t_nlen > 0)
		peertab_note(&st->sa_peers, &t->t_peer, t->t_names, t->t_nlen,
		    (uint64_t)time(NULL));
	else
		peertab_note_clean(&st->sa_peers, &t->t_peer,
		    (uint64_t)time(NULL));
}

/* Is SCRIPT_NAME the app's status_path (1) or ping_path (2)?  0: no. */
static int
special(struct conn *c)
{
	const struct cfg_app	*a = c->c_app;
	const struct param	*e;
	const char		*v;
	long			 k;

	if (a->a_status_path[0] == '\0' && a->a_ping_path[0] == '\0')
		return (0);
	if ((k = params_find(c->c_params, "SCRIPT_NAME", 11)) < 0 ||
	    (e = params_at(c->c_params, (size_t)k)) == NULL)
		return (0);
	v = (const char *)params_value(c->c_params, e);
	if (a->a_status_path[0] != '\0' && e->p_vlen ==
	    strlen(a->a_status_path) && memcmp(v, a->a_status_path,
	    e->p_vlen) == 0)
		return (1);
	if (a->a_ping_path[0] != '\0' && e->p_vlen == strlen(a->a_ping_path) &&
	    memcmp(v, a->a_ping_path, e->p_vlen) == 0)
		return (2);
	return (0);
}

/*
 * SPEC §6.1: the status (which 1) or ping (2) page, answered here and
 * never by php-fpm, to status_allow clients only (judged on the
 * rewritten REMOTE_ADDR).  Returns -1 (answered).
 */
static int
page(struct conn *c, int which)
{
	struct status_upstream	 su[16];
	struct status_live	 sl;
	struct evbuffer		*body;
	const struct param	*e;
	struct addr		 ra;
	enum status_format	 fmt;
	const char		*ctype, *why, *qs = "";
	char			 head[160];
	size_t			 qlen = 0, blen;
	long			 k;
	int			 full, hl, rc;

	c->c_special = 1;
	c->c_stats->sa_status_requests++;
	if ((k = params_find(c->c_params, "REMOTE_ADDR", 11)) < 0 ||
	    (e = params_at(c->c_params, (size_t)k)) == NULL ||
	    addr_parse((const char *)params_value(c->c_params, e),
	    e->p_vlen, &ra) != 0 || cidr_set_match(c->c_app->a_status_set,
	    &ra) == NULL)
		return (conn_answer(c, ST_403, "client not in status_allow"));
	if (which == 2) {
		if (up_ping(c->c_pool, &why)) {
			static const char pong[] = "Status: 200 OK\r\n"
			    "Content-Type: text/plain\r\nCache-Control: "
			    "no-store\r\n\r\npong\n";

			return (conn_respond(c, pong, sizeof(pong) - 1,
			    "200 OK", NULL));
		}
		hl = snprintf(head, sizeof(head), "Status: 503 Service "
		    "Unavailable\r\nContent-Type: text/plain\r\n\r\n"
		    "no upstream accepts a connection: %s\n", why);
		return (conn_respond(c, head, (size_t)hl, ST_503,
		    "ping: no upstream accepts a connection"));
	}
	if ((k = params_find(c->c_params, "QUERY_STRING", 12)) >= 0 &&
	    (e = params_at(c->c_params, (size_t)k)) != NULL) {
		qs = (const char *)params_value(c->c_params, e);
		qlen = e->p_vlen;
	}
	status_query(qs, qlen, &fmt, &full);
	memset(&sl, 0, sizeof(sl));
	up_status(c->c_pool, &sl, su, sizeof(su) / sizeof(su[0]));
	sl.sl_active = c->c_l->l_nconns;
	if ((body = evbuffer_new()) == NULL) {
		conn_close(c, "out of memory");
		return (-1);
	}
	ctype = status_render(body, c->c_stats, &sl, fmt, full, time(NULL));
	hl = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: "
	    "%s\r\nCache-Control: no-store\r\n\r\n", ctype);
	evbuffer_prepend(body, head, (size_t)hl);
	blen = evbuffer_get_length(body);
	rc = conn_respond(c, (const char *)evbuffer_pullup(body, -1), blen,
	    "200 OK", NULL);
	evbuffer_free(body);
	return (rc);
}

/*
 * The request needs its upstream connection: the one this front holds
 * (no pool, kept), or one from the pool.  0 bound, 1 queued (stop
 * reading the front: back-pressure), -1 answered.
 */
int
req_upstream(struct conn *c)
{
	struct upc	*u;

	if (c->c_upc != NULL) {
		up_request_start(c->c_upc);
		up_add_buffer(c->c_upc, c->c_wait.w_carry,
		    evbuffer_get_length(c->c_wait.w_carry));
		return (0);
	}
	switch (up_acquire(c->c_pool, &c->c_wait, &u)) {
	case UP_BOUND:
		c->c_upc = u;
		return (0);
	case UP_QUEUED:
		side_read_on(&c->c_front, 0);
		return (1);
	case UP_FAILED:
		break;
	}
	return (conn_answer(c, ST_502, "upstream unreachable"));
}
