/*
 * Ordered, bounded list of FastCGI params (name, value) in one arena.
 *
 * The arena is a single caller-sized buffer: name/value bytes grow up
 * from the bottom, entry records grow down from the top.  Nothing ever
 * reallocates; running out of room is PARAMS_ERR_FULL, which the daemon
 * answers with 431 (SPEC §5.4).  Removal only marks an entry, so the
 * order of the remaining params is always the order they arrived in.
 */
#ifndef FCN_PROTO_PARAMS_H
#define FCN_PROTO_PARAMS_H

#include <stddef.h>
#include <stdint.h>

enum params_status {
	PARAMS_OK,
	PARAMS_ERR_FULL,	/* arena exhausted */
};

struct param {
	uint32_t	p_noff;		/* name offset in the arena */
	uint32_t	p_nlen;
	uint32_t	p_voff;		/* value offset in the arena */
	uint32_t	p_vlen;
	uint32_t	p_flags;
#define PARAM_REMOVED	0x1
};

struct params {
	uint8_t		*p_buf;		/* arena, owned by whoever called init */
	size_t		 p_cap;
	size_t		 p_used;	/* bytes of name/value data */
	size_t		 p_count;	/* entries, removed ones included */
	size_t		 p_live;	/* entries not removed */
};

/* Bind an arena of cap bytes (cap < 4 GiB).  Zero params. */
void		 params_init(struct params *, void *buf, size_t cap);
/* Forget every param; the arena is reused. */
void		 params_reset(struct params *);
/* Allocate a params set with its own arena; NULL on ENOMEM. */
struct params	*params_new(size_t cap);
void		 params_free(struct params *);

/* Entry i (0 <= i < p_count); NULL when removed. */
const struct param *params_at(const struct params *, size_t i);
static inline const uint8_t *
params_name(const struct params *p, const struct param *e)
{
	return (p->p_buf + e->p_noff);
}
static inline const uint8_t *
params_value(const struct params *p, const struct param *e)
{
	return (p->p_buf + e->p_voff);
}

/* Append a copy of name and value at the end. */
enum params_status params_append(struct params *, const void *name,
		    size_t nlen, const void *value, size_t vlen);
/*
 * Reserve an entry for a pair whose bytes arrive later (a pair that spans
 * FastCGI records).  *namep and *valuep point where the caller writes
 * nlen and vlen bytes; the entry is live at once.
 */
enum params_status params_reserve(struct params *, size_t nlen, size_t vlen,
		    uint8_t **namep, uint8_t **valuep);

/* Index of the first live param called name, or -1. */
long		 params_find(const struct params *, const char *name,
		    size_t nlen);
/* Index of the next live param called name after index from, or -1. */
long		 params_find_next(const struct params *, long from,
		    const char *name, size_t nlen);
/*
 * Give name the value: the first live occurrence is changed in place and
 * every later one removed (php-fpm keeps the last occurrence, SPEC §4.8);
 * absent names are appended.
 */
enum params_status params_set(struct params *, const char *name,
		    size_t nlen, const void *value, size_t vlen);
/* Change the value of entry i in place. */
enum params_status params_set_at(struct params *, size_t i, const void *value,
		    size_t vlen);
/* Put plen bytes in front of the value of entry i. */
enum params_status params_prepend_at(struct params *, size_t i,
		    const void *pre, size_t plen);
/* Remove entry i. */
void		 params_remove_at(struct params *, size_t i);
/* Remove every live param called name; returns how many were removed. */
size_t		 params_remove(struct params *, const char *name, size_t nlen);
/*
 * Join every live occurrence of name into the first, in order, separated
 * by sep; the later ones are removed (SPEC §4.3, repeated header lines).
 * Returns the number of occurrences (0: absent), or -1 when the arena is
 * full (nothing changed then).
 */
long		 params_join(struct params *, const char *name, size_t nlen,
		    const char *sep, size_t seplen);
/* Bytes of free room left in the arena. */
size_t		 params_room(const struct params *);
/*
 * 1 when REQUEST_METHOD (its last occurrence, the one php-fpm reads) is
 * one RFC 9110 calls idempotent (GET HEAD OPTIONS TRACE PUT DELETE):
 * running it twice does what running it once does.  0 otherwise,
 * absent included.
 */
int		 params_idempotent(const struct params *);

/* Convenience: NUL-terminated name. */
#define PARAMS_STR(s)	(s), (sizeof(s) - 1)

#endif
