/*
 * Provider range lists (SPEC §3.4): the pure part of fcgi-normalizer-ranges
 * and of the config's reading of a ranges file's provenance.
 *
 * A ranges file is what `fcgi-normalizer-ranges update` installs, e.g.
 *
 *	# provider: cloudflare
 *	# source: <the URLs fetched, in order, separated by one space>
 *	# fetched: 2026-12-07T12:00:00Z
 *	# entries: 22
 *	# sha256: <64 hex digits: SHA-256 of the fetched bodies in source order>
 *	173.245.48.0/20
 *	...
 *
 * The daemon reads it as any trusted_proxies_file ('#' lines are comments).
 * Nothing here does I/O or reads the clock; the list is the only thing
 * that allocates.
 */
#ifndef FCN_PROTO_RANGES_H
#define FCN_PROTO_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cidr.h"

#define RANGES_TIMELEN	21	/* "2026-12-07T12:00:00Z" and its NUL */

/*
 * The provenance lines at the top of a ranges file.  rm_fetched: Unix
 * seconds (UTC) of "# fetched:", -1 when absent or invalid; rm_entries:
 * "# entries:".
 */
struct ranges_meta {
	char		rm_provider[32];	/* "" when absent */
	int64_t		rm_fetched;		/* -1: absent or invalid */
	long		rm_entries;		/* -1 when absent */
};

/*
 * Reads the provenance lines at the top of a ranges file (the leading run
 * of '#' lines); returns 1 when a "# provider:" line was found, else 0.
 * Never fails otherwise.  The first line of each key counts; a provider
 * name is cut to 31 bytes; an "# entries:" that is not a plain decimal
 * number is -1, as absent.
 */
int	ranges_meta_parse(const char *text, size_t len,
	    struct ranges_meta *out);

/*
 * "YYYY-MM-DDTHH:MM:SSZ" (exactly, UTC) to Unix seconds; -1 when it is
 * not one or not a real date.  Years 1970-9999 only.
 */
int64_t	ranges_time_parse(const char *s, size_t len);
/*
 * Unix seconds to "YYYY-MM-DDTHH:MM:SSZ" in buf of RANGES_TIMELEN; "?" for
 * a time outside 1970-9999.  Returns buf.
 */
char	*ranges_time_format(int64_t t, char *buf);

enum ranges_status {
	RANGES_OK,
	RANGES_ERR_CIDR,	/* not a valid CIDR (rf_cidr says why) */
	RANGES_ERR_ALL,		/* 0.0.0.0/0 or ::/0: would trust everyone */
	RANGES_ERR_MAPPED,	/* IPv4-mapped IPv6 (::ffff:0:0/96) */
	RANGES_ERR_RESERVED,	/* overlaps rf_range (rf_kind) */
	RANGES_ERR_EMPTY,	/* no entry at all */
	RANGES_ERR_SHRUNK,	/* rf_have < half of rf_had */
	RANGES_ERR_NOMEM,
};

/* Why a list was refused: set on every path of the calls below. */
struct ranges_fault {
	enum ranges_status rf_status;
	size_t		rf_index;	/* 1-based entry of the list */
	size_t		rf_line;	/* 1-based line of a text body, or 0 */
	const char	*rf_entry;	/* the entry, in the caller's input */
	size_t		rf_entrylen;
	enum cidr_status rf_cidr;	/* with RANGES_ERR_CIDR */
	const char	*rf_range;	/* with _RESERVED: "10.0.0.0/8"... */
	const char	*rf_kind;	/* with _RESERVED: "private"... */
	size_t		rf_have;	/* with _SHRUNK: new count */
	size_t		rf_had;		/* with _SHRUNK: installed count */
};

/*
 * A list of blocks in the provider's order.  Zero-filled is an empty list;
 * ranges_list_free() releases it (and leaves it empty).
 */
struct ranges_list {
	struct cidr	*rl_v;
	size_t		 rl_n;
	size_t		 rl_cap;
	size_t		 rl_seen;	/* entries offered, refused ones too */
	size_t		 rl_bad;	/* lines skipped by RANGES_TEXT_LAX */
};

/*
 * Flags of ranges_text_parse().  COMMENTS: '#' starts a comment, as the
 * daemon reads the file (an installed file; a provider's body has none).
 * LAX: a line that is not a CIDR is counted in rl_bad and skipped, and no
 * other rule applies (an installed, maybe hand-edited, file).
 */
#define RANGES_TEXT_COMMENTS	0x01
#define RANGES_TEXT_LAX		0x02

/*
 * Check one entry against SPEC §3.4: a CIDR (cidr_parse: host bits set is
 * invalid), not 0.0.0.0/0 or ::/0, not IPv4-mapped, not overlapping a
 * private, shared, loopback, link-local or unspecified range.  On
 * RANGES_OK *c holds the block; f is filled either way (rf_index 0).
 */
enum ranges_status ranges_entry_check(const char *s, size_t len,
		    struct cidr *c, struct ranges_fault *f);
/*
 * ranges_entry_check() the next entry and append it.  The fault names the
 * entry by its rank among all offered (rf_index).  RANGES_ERR_NOMEM when
 * the list cannot grow.
 */
enum ranges_status ranges_list_add(struct ranges_list *, const char *s,
		    size_t len, struct ranges_fault *f);
/*
 * Parse a text body: one CIDR per line, surrounding blanks and CR ignored,
 * blank lines skipped; flags RANGES_TEXT_*.  Every entry goes through
 * ranges_list_add() (unless LAX); the first refusal stops the parse.
 */
enum ranges_status ranges_text_parse(struct ranges_list *, const char *text,
		    size_t len, int flags, struct ranges_fault *f);
/*
 * The rules on the whole list, after every entry was added: duplicates
 * dropped (the first kept, order otherwise unchanged), then refused when
 * empty, or when it shrank (ranges_shrunk) against had entries installed
 * (0: none) and force is 0.
 */
enum ranges_status ranges_list_finish(struct ranges_list *, size_t had,
		    int force, struct ranges_fault *f);
/* The shrink rule: 1 when have is fewer than half of had. */
int		 ranges_shrunk(size_t have, size_t had);
/* 1 when both hold the same blocks in the same order. */
int		 ranges_list_equal(const struct ranges_list *,
		    const struct ranges_list *);
void		 ranges_list_free(struct ranges_list *);
const char	*ranges_strerror(enum ranges_status);

/* What ranges_render() writes above the list. */
struct ranges_header {
	const char	*rh_provider;
	const char	*rh_source;	/* the URLs, separated by one space */
	int64_t		 rh_fetched;	/* Unix seconds, UTC */
	uint8_t		 rh_sha256[32];	/* of the fetched bodies, in order */
};

/*
 * Render the file: the five header lines, then one block per line in
 * canonical form (cidr_format).  Control bytes in the header strings
 * become '?', so a value can never start a line of its own.  Writes at
 * most size bytes (NUL-terminated when size > 0) and returns the length
 * the whole text needs, as snprintf does.
 */
size_t		 ranges_render(const struct ranges_header *,
		    const struct ranges_list *, char *buf, size_t size);

#endif
