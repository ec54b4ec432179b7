/*
 * Ordered, bounded params arena.  See params.h for the layout.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/params.h"

static struct param	*entry(const struct params *, size_t);

static struct param *
entry(const struct params *p, size_t i)
{
	/* Entries are stored downward from the top of the arena. */
	return ((struct param *)(void *)(p->p_buf + p->p_cap) - (i + 1));
}

void
params_init(struct params *p, void *buf, size_t cap)
{
	/* Keep the entry area aligned whatever cap the caller chose. */
	p->p_buf = buf;
	p->p_cap = cap - cap % _Alignof(struct param);
	params_reset(p);
}

void
params_reset(struct params *p)
{
	p->p_used = 0;
	p->p_count = 0;
	p->p_live = 0;
}

struct params *
params_new(size_t cap)
{
	struct params	*p;

	if ((p = malloc(sizeof(*p) + cap)) == NULL)
		return (NULL);
	params_init(p, p + 1, cap);
	return (p);
}

void
params_free(struct params *p)
{
	free(p);
}

size_t
params_room(const struct params *p)
{
	size_t	top = p->p_cap - (p->p_count * sizeof(struct param));

	return (top - p->p_used);
}

const struct param *
params_at(const struct params *p, size_t i)
{
	const struct param	*e;

	if (i >= p->p_count)
		return (NULL);
	e = entry(p, i);
	return ((e->p_flags & PARAM_REMOVED) ? NULL : e);
}

enum params_status
params_reserve(struct params *p, size_t nlen, size_t vlen, uint8_t **namep,
    uint8_t **valuep)
{
	struct param	*e;
	size_t		 room = params_room(p);

	if (room < sizeof(*e) || room - sizeof(*e) < nlen ||
	    room - sizeof(*e) - nlen < vlen) {
		*namep = *valuep = NULL;
		return (PARAMS_ERR_FULL);
	}
	e = entry(p, p->p_count);
	e->p_noff = (uint32_t)p->p_used;
	e->p_nlen = (uint32_t)nlen;
	e->p_voff = (uint32_t)(p->p_used + nlen);
	e->p_vlen = (uint32_t)vlen;
	e->p_flags = 0;
	*namep = p->p_buf + e->p_noff;
	*valuep = p->p_buf + e->p_voff;
	p->p_used += nlen + vlen;
	p->p_count++;
	p->p_live++;
	return (PARAMS_OK);
}

enum params_status
params_append(struct params *p, const void *name, size_t nlen,
    const void *value, size_t vlen)
{
	uint8_t	*n, *v;

	if (params_reserve(p, nlen, vlen, &n, &v) != PARAMS_OK)
		return (PARAMS_ERR_FULL);
	if (nlen)
		memcpy(n, name, nlen);
	if (vlen)
		memcpy(v, value, vlen);
	return (PARAMS_OK);
}

long
params_find_next(const struct params *p, long from, const char *name,
    size_t nlen)
{
	const struct param	*e;
	size_t			 i;

	for (i = (size_t)(from + 1); i < p->p_count; i++) {
		e = entry(p, i);
		if (e->p_flags & PARAM_REMOVED || e->p_nlen != nlen)
			continue;
		if (memcmp(p->p_buf + e->p_noff, name, nlen) == 0)
			return ((long)i);
	}
	return (-1);
}

long
params_find(const struct params *p, const char *name, size_t nlen)
{
	return (params_find_next(p, -1, name, nlen));
}

enum params_status
params_set_at(struct params *p, size_t i, const void *value, size_t vlen)
{
	struct param	*e = entry(p, i);

	/* A value that fits where the old one was is rewritten in place. */
	if (vlen <= e->p_vlen) {
		memmove(p->p_buf + e->p_voff, value, vlen);
		e->p_vlen = (uint32_t)vlen;
		return (PARAMS_OK);
	}
	if (params_room(p) < vlen)
		return (PARAMS_ERR_FULL);
	memcpy(p->p_buf + p->p_used, value, vlen);
	e->p_voff = (uint32_t)p->p_used;
	e->p_vlen = (uint32_t)vlen;
	p->p_used += vlen;
	return (PARAMS_OK);
}

enum params_status
params_set(struct params *p, const char *name, size_t nlen, const void *value,
    size_t vlen)
{
	long	i, j;

	if ((i = params_find(p, name, nlen)) == -1)
		return (params_append(p, name, nlen, value, vlen));
	if (params_set_at(p, (size_t)i, value, vlen) != PARAMS_OK)
		return (PARAMS_ERR_FULL);
	for (j = i; (j = params_find_next(p, j, name, nlen)) != -1;)
		params_remove_at(p, (size_t)j);
	return (PARAMS_OK);
}

enum params_status
params_prepend_at(struct params *p, size_t i, const void *pre, size_t plen)
{
	struct param	*e = entry(p, i);
	uint8_t		*dst = p->p_buf + p->p_used;

	if (params_room(p) < plen || params_room(p) - plen < e->p_vlen)
		return (PARAMS_ERR_FULL);
	memcpy(dst, pre, plen);
	memcpy(dst + plen, p->p_buf + e->p_voff, e->p_vlen);
	e->p_voff = (uint32_t)p->p_used;
	e->p_vlen += (uint32_t)plen;
	p->p_used += e->p_vlen;
	return (PARAMS_OK);
}

void
params_remove_at(struct params *p, size_t i)
{
	struct param	*e = entry(p, i);

	if (!(e->p_flags & PARAM_REMOVED)) {
		e->p_flags |= PARAM_REMOVED;
		p->p_live--;
	}
}

size_t
params_remove(struct params *p, const char *name, size_t nlen)
{
	long	i = -1;
	size_t	n = 0;

	while ((i = params_find_next(p, i, name, nlen)) != -1) {
		params_remove_at(p, (size_t)i);
		n++;
	}
	return (n);
}

long
params_join(struct params *p, const char *name, size_t nlen, const char *sep,
    size_t seplen)
{
	struct param	*first, *e;
	long		 i, j, n = 1;
	size_t		 total;
	uint8_t		*dst;

	if ((i = params_find(p, name, nlen)) == -1)
		return (0);
	first = entry(p, (size_t)i);
	total = first->p_vlen;
	for (j = i; (j = params_find_next(p, j, name, nlen)) != -1; n++)
		total += seplen + entry(p, (size_t)j)->p_vlen;
	if (n == 1)
		return (1);
	if (params_room(p) < total)
		return (-1);
	dst = p->p_buf + p->p_used;
	memcpy(dst, p->p_buf + first->p_voff, first->p_vlen);
	dst += first->p_vlen;
	for (j = i; (j = params_find_next(p, j, name, nlen)) != -1;) {
		e = entry(p, (size_t)j);
		memcpy(dst, sep, seplen);
		memcpy(dst + seplen, p->p_buf + e->p_voff, e->p_vlen);
		dst += seplen + e->p_vlen;
		params_remove_at(p, (size_t)j);
	}
	first->p_voff = (uint32_t)p->p_used;
	first->p_vlen = (uint32_t)total;
	p->p_used += total;
	return (n);
}

int
params_idempotent(const struct params *p)
{
	static const char *const	 m[] = { "GET", "HEAD", "OPTIONS",
	    "TRACE", "PUT", "DELETE" };
	const struct param		*e;
	long				 i, last = -1;
	size_t				 k;

	for (i = params_find(p, PARAMS_STR("REQUEST_METHOD")); i >= 0;
	    i = params_find_next(p, i, PARAMS_STR("REQUEST_METHOD")))
		last = i;
	if (last < 0 || (e = params_at(p, (size_t)last)) == NULL)
		return (0);
	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++)
		if (e->p_vlen == strlen(m[k]) &&
		    memcmp(params_value(p, e), m[k], e->p_vlen) == 0)
			return (1);
	return (0);
}
