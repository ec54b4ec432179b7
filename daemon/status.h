/*
 * Status and ping pages (SPEC §6.1), as php-fpm's pm.status_path and
 * ping.path: per-app counters kept across reloads, rendered as plain
 * "key: value" lines, JSON, or OpenMetrics text.
 *
 * Counting is plain increments in the one event-loop thread: no lock, no
 * syscall.  Rendering happens only when a status request comes.
 */
#ifndef FCN_DAEMON_STATUS_H
#define FCN_DAEMON_STATUS_H

#include <stddef.h>
#include <time.h>

#include "config/config.h"
#include "proto/peertab.h"

struct evbuffer;

/* Counters of one app since the process started (kept across reloads). */
struct status_app {
	char		sa_name[72];
	time_t		sa_start;
	unsigned long	sa_reloads;		/* reloads the app survived */
	unsigned long	sa_accepted;		/* front connections */
	unsigned long	sa_requests;		/* excluding status/ping */
	/* Requests by outcome. */
	unsigned long	sa_relayed;		/* php-fpm's END_REQUEST relayed */
	unsigned long	sa_400;
	unsigned long	sa_403;
	unsigned long	sa_431;
	unsigned long	sa_502;
	unsigned long	sa_503;
	unsigned long	sa_front_closed;	/* front left before the end */
	/* The policy. */
	unsigned long	sa_trusted;
	unsigned long	sa_rw_addr;		/* REMOTE_ADDR rewritten */
	unsigned long	sa_rw_scheme;
	unsigned long	sa_rw_host;
	unsigned long	sa_rw_prefix;
	unsigned long	sa_spoofing;		/* untrusted + forwarded params */
	unsigned long	sa_invalid;		/* invalid forwarded values */
	unsigned long	sa_conflicts;		/* SPEC §4.3b */
	unsigned long	sa_short;		/* §4.3c: short chains */
	/* The status and ping pages themselves (counted apart). */
	unsigned long	sa_status_requests;
	unsigned long	sa_status_403;
	/*
	 * Untrusted peers that sent forwarded params (the "full" view),
	 * noted with wall-clock seconds: the clock of status_render()'s
	 * now, which shows "last seen" as seconds ago and as a timestamp.
	 */
	struct peertab	sa_peers;
};

/* One upstream as the pool sees it now. */
struct status_upstream {
	const char	*su_addr;
	int		 su_up;
	size_t		 su_busy;
	size_t		 su_idle;
	unsigned long	 su_connects;
	unsigned long	 su_connect_fails;
};

/* SPEC §6.2: one worker's own figures, the "workers" of ?json&full. */
struct status_worker {
	long				 sw_pid;
	const struct status_app		*sw_app;
	const struct status_live	*sw_live;
};

/* What is true now, filled in by the caller at render time. */
struct status_live {
	size_t				 sl_active;	/* front connections */
	size_t				 sl_queue_len;
	size_t				 sl_queue_max;
	unsigned long			 sl_queue_waits;
	unsigned long			 sl_queue_wait_ms;
	size_t				 sl_busy;	/* upstream connections */
	size_t				 sl_idle;
	size_t				 sl_max;	/* 0: no pool */
	unsigned long			 sl_connects;
	unsigned long			 sl_connect_fails;
	unsigned long			 sl_retries;
	const struct status_upstream	*sl_up;
	size_t				 sl_nup;
	/* SPEC §3.4: the provider range files the app's config named. */
	const struct cfg_ranges		*sl_ranges;
	size_t				 sl_nranges;
	/* workers > 1: each worker, for ?json&full. */
	const struct status_worker	*sl_workers;
	size_t				 sl_nworkers;
};

enum status_format {
	STATUS_TEXT,		/* php-fpm's default: "key: value" lines */
	STATUS_JSON,		/* ?json */
	STATUS_OPENMETRICS,	/* ?openmetrics */
};

/*
 * Read a status QUERY_STRING as php-fpm does: "json", "openmetrics",
 * "full", joined by '&' in any order; unknown words are ignored, and so
 * is a value after '=' ("openmetrics=" is what Prometheus sends).  json
 * wins over openmetrics, as in php-fpm.
 */
void		 status_query(const char *qs, size_t len,
		    enum status_format *, int *full);
/*
 * SPEC §6.2, the sum over workers: sa's counters and sl's figures added
 * to sum and suml (peers merged, the earliest start kept), and the n
 * upstream rows of su to sumu by position (the same config's order).
 */
void		 status_add(struct status_app *sum, struct status_live *suml,
		    const struct status_app *sa, const struct status_live *sl);
void		 status_add_upstreams(struct status_upstream *sumu,
		    const struct status_upstream *su, size_t n);
/*
 * Append the page to out; returns its Content-Type.  now is the
 * wall-clock time (start time and "last seen" are shown against it).
 */
const char	*status_render(struct evbuffer *out, const struct status_app *,
		    const struct status_live *, enum status_format, int full,
		    time_t now);

#endif
