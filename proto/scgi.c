/*
 * SCGI netstring header decoder (SPEC §5.2; SCGI spec by N. Schemenauer).
 */
#include <string.h>

#include "proto/scgi.h"

enum { ST_LEN, ST_BODY, ST_COMMA, ST_DONE };

#define MAX_LEN_DIGITS	10

void
scgi_dec_init(struct scgi_dec *d, uint8_t *buf, size_t cap, size_t limit)
{
	memset(d, 0, sizeof(*d));
	d->d_buf = buf;
	d->d_cap = cap;
	d->d_limit = limit < cap ? limit : cap;
}

const char *
scgi_strerror(enum scgi_status st)
{
	switch (st) {
	case SCGI_OK:
		return ("ok");
	case SCGI_MORE:
		return ("need more input");
	case SCGI_ERR_LENGTH:
		return ("bad netstring length");
	case SCGI_ERR_TOOBIG:
		return ("SCGI header larger than max_params_bytes");
	case SCGI_ERR_COMMA:
		return ("netstring not closed by ','");
	case SCGI_ERR_PAIRS:
		return ("malformed SCGI header pairs");
	case SCGI_ERR_CONTENT_LENGTH:
		return ("first SCGI header is not a valid CONTENT_LENGTH");
	case SCGI_ERR_NO_SCGI:
		return ("SCGI=1 missing");
	case SCGI_ERR_FULL:
		return ("params larger than the arena");
	}
	return ("unknown status");
}

enum scgi_status
scgi_dec_feed(struct scgi_dec *d, const uint8_t *buf, size_t len,
    size_t *used)
{
	size_t	off = 0, n;

	*used = 0;
	while (off < len) {
		switch (d->d_state) {
		case ST_LEN:
			if (buf[off] == ':') {
				if (d->d_digits == 0)
					return (SCGI_ERR_LENGTH);
				d->d_state = ST_BODY;
				off++;
				break;
			}
			if (buf[off] < '0' || buf[off] > '9' ||
			    (d->d_digits == 1 && d->d_len == 0) ||
			    d->d_digits == MAX_LEN_DIGITS) {
				*used = off;
				return (SCGI_ERR_LENGTH);
			}
			d->d_len = d->d_len * 10 + (size_t)(buf[off] - '0');
			d->d_digits++;
			off++;
			/* Refuse early: do not wait for a huge header. */
			if (d->d_len > d->d_limit) {
				*used = off;
				return (SCGI_ERR_TOOBIG);
			}
			break;
		case ST_BODY:
			n = d->d_len - d->d_have;
			if (n > len - off)
				n = len - off;
			memcpy(d->d_buf + d->d_have, buf + off, n);
			d->d_have += n;
			off += n;
			if (d->d_have == d->d_len)
				d->d_state = ST_COMMA;
			break;
		case ST_COMMA:
			if (buf[off] != ',') {
				*used = off;
				return (SCGI_ERR_COMMA);
			}
			d->d_state = ST_DONE;
			*used = off + 1;
			return (SCGI_OK);
		case ST_DONE:
			*used = off;
			return (SCGI_OK);
		}
	}
	*used = off;
	if (d->d_state == ST_BODY && d->d_have == d->d_len)
		d->d_state = ST_COMMA;
	return (d->d_state == ST_DONE ? SCGI_OK : SCGI_MORE);
}

enum scgi_status
scgi_parse(const struct scgi_dec *d, struct params *p,
    uint64_t *content_length)
{
	const uint8_t	*s = d->d_buf, *e = d->d_buf + d->d_have;
	const uint8_t	*name, *val, *nul;
	size_t		 nlen, vlen, i;
	int		 first = 1, scgi = 0;

	*content_length = 0;
	while (s < e) {
		name = s;
		if ((nul = memchr(s, '\0', (size_t)(e - s))) == NULL)
			return (SCGI_ERR_PAIRS);
		nlen = (size_t)(nul - name);
		val = nul + 1;
		if (val >= e || (nul = memchr(val, '\0', (size_t)(e - val))) ==
		    NULL || nlen == 0)
			return (SCGI_ERR_PAIRS);
		vlen = (size_t)(nul - val);
		s = nul + 1;
		if (first) {
			/* SCGI spec: CONTENT_LENGTH first, always present. */
			if (nlen != 14 || memcmp(name, "CONTENT_LENGTH", 14) ||
			    vlen == 0 || vlen > 19)
				return (SCGI_ERR_CONTENT_LENGTH);
			for (i = 0; i < vlen; i++) {
				if (val[i] < '0' || val[i] > '9')
					return (SCGI_ERR_CONTENT_LENGTH);
				*content_length = *content_length * 10 +
				    (uint64_t)(val[i] - '0');
			}
			first = 0;
		}
		if (nlen == 4 && memcmp(name, "SCGI", 4) == 0) {
			if (vlen != 1 || val[0] != '1')
				return (SCGI_ERR_NO_SCGI);
			scgi = 1;
			continue;	/* not passed on (SPEC §5.2) */
		}
		if (params_append(p, name, nlen, val, vlen) != PARAMS_OK)
			return (SCGI_ERR_FULL);
	}
	if (first)
		return (SCGI_ERR_CONTENT_LENGTH);
	return (scgi ? SCGI_OK : SCGI_ERR_NO_SCGI);
}
