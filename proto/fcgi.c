/*
 * FastCGI record and name-value pair codec.
 *
 * Multi-byte fields are read with explicit shifts (STYLE S3): never cast
 * the wire to FCGI_Header.  Every length is checked before it is used,
 * by subtraction so the check itself cannot overflow.
 */
#include <string.h>

#include "proto/fcgi.h"

enum { ST_HDR, ST_CONTENT, ST_PAD, ST_END };
enum { NV_NLEN, NV_VLEN, NV_DATA };

static inline uint16_t	get_be16(const uint8_t *);
static inline uint32_t	get_be31(const uint8_t *);
static enum fcgi_status	check_type_id(const struct fcgi_rec *);
static enum fcgi_status	check_webserver(struct fcgi_dec *);
static enum fcgi_status	check_app(const struct fcgi_dec *);
static enum fcgi_status	check_begin(struct fcgi_dec *, int);
static enum fcgi_status	check_gone(struct fcgi_dec *);
static int		slot_of(const struct fcgi_dec *, unsigned);
static int		recent_of(const struct fcgi_dec *, unsigned);
static void		end_record(struct fcgi_dec *);
static size_t		pair_size(const struct param *);
static uint8_t		*put_len(uint8_t *, uint32_t);

static inline uint16_t
get_be16(const uint8_t *p)
{
	return ((uint16_t)((p[0] << 8) | p[1]));
}

/* A 4-byte FastCGI length: the top bit only marks the long form. */
static inline uint32_t
get_be31(const uint8_t *p)
{
	return (((uint32_t)(p[0] & 0x7f) << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3]);
}

void
fcgi_dec_init(struct fcgi_dec *d, enum fcgi_side side)
{
	memset(d, 0, sizeof(*d));
	d->d_side = side;
	d->d_state = ST_HDR;
	d->d_cap = 1;
	d->d_cur = -1;
}

void
fcgi_dec_set_cap(struct fcgi_dec *d, size_t cap)
{
	d->d_cap = cap < 1 ? 1 : cap > FCGI_REQS_MAX ? FCGI_REQS_MAX : cap;
}

static int
slot_of(const struct fcgi_dec *d, unsigned id)
{
	int	i;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (d->d_slot[i].s_id == id)
			return (i);
	return (-1);
}

static int
recent_of(const struct fcgi_dec *d, unsigned id)
{
	size_t	i;

	for (i = 0; i < FCGI_RECENT; i++)
		if (d->d_recent[i] == id)
			return ((int)i);
	return (-1);
}

void
fcgi_dec_end(struct fcgi_dec *d, int slot, int cut)
{
	struct fcgi_slot	*s;

	if (slot < 0 || slot >= FCGI_REQS_MAX || d->d_slot[slot].s_id == 0)
		return;
	s = &d->d_slot[slot];
	d->d_recent[d->d_rnext] = s->s_id;
	d->d_recent_cut[d->d_rnext] = cut && s->s_phase != FCGI_PHASE_DONE;
	d->d_rnext = (d->d_rnext + 1) % FCGI_RECENT;
	s->s_id = 0;
	s->s_phase = 0;
	d->d_live--;
	if (d->d_cur == slot)
		d->d_cur = -1;
}

int
fcgi_dec_between(const struct fcgi_dec *d)
{
	return (d->d_state == ST_HDR && d->d_hlen == 0);
}

int
fcgi_dec_phase(const struct fcgi_dec *d, int slot)
{
	return (slot < 0 || slot >= FCGI_REQS_MAX ? FCGI_PHASE_BEGIN :
	    d->d_slot[slot].s_phase);
}

const char *
fcgi_strerror(enum fcgi_status st)
{
	switch (st) {
	case FCGI_DEC_OK:
		return ("ok");
	case FCGI_DEC_MORE:
		return ("need more input");
	case FCGI_DEC_HOLD:
		return ("next request held until one ends");
	case FCGI_DEC_ERR_VERSION:
		return ("unsupported FastCGI version");
	case FCGI_DEC_ERR_TYPE:
		return ("unknown or misdirected record type");
	case FCGI_DEC_ERR_ID:
		return ("wrong request id");
	case FCGI_DEC_ERR_SEQUENCE:
		return ("record out of sequence");
	case FCGI_DEC_ERR_BEGIN:
		return ("BEGIN_REQUEST body is not 8 bytes");
	case FCGI_DEC_ERR_PAIR:
		return ("name-value pair cut short by the end of PARAMS");
	case FCGI_DEC_ERR_TOOBIG:
		return ("params larger than max_params_bytes");
	case FCGI_DEC_ERR_SPACE:
		return ("output buffer too small");
	case FCGI_DEC_ERR_FULL:
		return ("BEGIN_REQUEST beyond FCGI_MAX_REQS while a request "
		    "in flight still sends its input");
	}
	return ("unknown status");
}

const char *
fcgi_type_name(unsigned type)
{
	static const char *const names[] = {
		"0", "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST",
		"PARAMS", "STDIN", "STDOUT", "STDERR", "DATA", "GET_VALUES",
		"GET_VALUES_RESULT", "UNKNOWN_TYPE",
	};

	return (type <= FCGI_MAXTYPE ? names[type] : "unknown");
}

/*
 * SPEC §5.1, for both web-server sides: the types a web server sends,
 * management records on id 0 and requests on any other.
 */
static enum fcgi_status
check_type_id(const struct fcgi_rec *r)
{
	switch (r->r_type) {
	case FCGI_GET_VALUES:
		return (r->r_id == FCGI_NULL_REQUEST_ID ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_ID);
	case FCGI_BEGIN_REQUEST:
		return (r->r_id == FCGI_NULL_REQUEST_ID ? FCGI_DEC_ERR_ID :
		    FCGI_DEC_OK);
	case FCGI_ABORT_REQUEST:
	case FCGI_PARAMS:
	case FCGI_STDIN:
	case FCGI_DATA:
		return (FCGI_DEC_OK);
	default:
		return (FCGI_DEC_ERR_TYPE);
	}
}

/*
 * A BEGIN_REQUEST (SPEC §5.1, §5.4).  A full connection makes it wait
 * only while every request in flight has all its input: then each of
 * them ends without another byte from the web server, and waiting cannot
 * stall.  Otherwise the records that would end one may sit behind it in
 * the socket, so the connection is refused instead (FCGI_MAX_REQS says
 * how many it takes).  Holding also serves a client that pipelines on a
 * connection without multiplexing (HAProxy "option mpxs-conns" ignores
 * FCGI_MPXS_CONNS=0): it gets what php-fpm gives it.
 */
static enum fcgi_status
check_begin(struct fcgi_dec *d, int s)
{
	size_t	i, done = 0;

	if (s >= 0)
		return (d->d_slot[s].s_phase == FCGI_PHASE_DONE ?
		    FCGI_DEC_HOLD : FCGI_DEC_ERR_SEQUENCE);
	if (d->d_live >= d->d_cap) {
		for (i = 0; i < FCGI_REQS_MAX; i++)
			done += d->d_slot[i].s_id != 0 &&
			    d->d_slot[i].s_phase == FCGI_PHASE_DONE;
		return (done == d->d_live ? FCGI_DEC_HOLD : FCGI_DEC_ERR_FULL);
	}
	if (d->d_rec.r_clen != 8)
		return (FCGI_DEC_ERR_BEGIN);
	s = slot_of(d, 0);
	d->d_slot[s].s_id = d->d_rec.r_id;
	d->d_slot[s].s_phase = FCGI_PHASE_BEGIN;
	d->d_live++;
	d->d_cur = s;
	d->d_blen = 0;
	if ((s = recent_of(d, d->d_rec.r_id)) >= 0)
		d->d_recent[s] = 0;
	return (FCGI_DEC_OK);
}

/*
 * A record for an id not in flight.  php-fpm may answer before the web
 * server's empty STDIN: Apache mod_proxy_fcgi sends it late, even on a
 * kept connection; php-fpm skips it, and so do we.  The rest of a request
 * the daemon answered before its input was in is skipped whole.
 */
static enum fcgi_status
check_gone(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;
	int			 i;

	if ((i = recent_of(d, r->r_id)) >= 0) {
		if (d->d_recent_cut[i] || (r->r_clen == 0 &&
		    (r->r_type == FCGI_STDIN || r->r_type == FCGI_DATA))) {
			d->d_skip = 1;
			return (FCGI_DEC_OK);
		}
		return (FCGI_DEC_ERR_SEQUENCE);
	}
	/* One request at a time and none begun: out of sequence. */
	return (d->d_cap == 1 && d->d_live == 0 ? FCGI_DEC_ERR_SEQUENCE :
	    FCGI_DEC_ERR_ID);
}

/* SPEC §5.1: what a web server may send, and when, per request. */
static enum fcgi_status
check_webserver(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;
	enum fcgi_status	 st;
	int			 s, ph;

	d->d_cur = -1;
	if ((st = check_type_id(r)) != FCGI_DEC_OK ||
	    r->r_type == FCGI_GET_VALUES)
		return (st);
	s = slot_of(d, r->r_id);
	if (r->r_type == FCGI_BEGIN_REQUEST)
		return (check_begin(d, s));
	if (s < 0)
		return (check_gone(d));
	ph = d->d_slot[s].s_phase;
	switch (r->r_type) {
	case FCGI_PARAMS:
		st = ph == FCGI_PHASE_PARAMS ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE;
		break;
	case FCGI_STDIN:
		st = ph == FCGI_PHASE_BODY ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE;
		break;
	case FCGI_DATA:
		st = ph >= FCGI_PHASE_BODY ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE;
		break;
	default:
		st = FCGI_DEC_OK;	/* ABORT_REQUEST, in any phase */
		break;
	}
	if (st == FCGI_DEC_OK)
		d->d_cur = s;
	return (st);
}

static enum fcgi_status
check_app(const struct fcgi_dec *d)
{
	switch (d->d_rec.r_type) {
	case FCGI_STDOUT:
	case FCGI_STDERR:
	case FCGI_END_REQUEST:
	case FCGI_GET_VALUES_RESULT:
	case FCGI_UNKNOWN_TYPE:
		return (FCGI_DEC_OK);
	default:
		return (FCGI_DEC_ERR_TYPE);
	}
}

/* Phase changes happen when a record is complete. */
static void
end_record(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;
	struct fcgi_slot	*s;

	d->d_state = ST_HDR;
	d->d_hlen = 0;
	if (d->d_side != FCGI_SIDE_WEBSERVER || d->d_cur < 0)
		return;
	s = &d->d_slot[d->d_cur];
	if (r->r_type == FCGI_BEGIN_REQUEST) {
		d->d_role = get_be16(d->d_begin);
		d->d_flags = d->d_begin[2];
		s->s_phase = FCGI_PHASE_PARAMS;
	} else if (r->r_type == FCGI_PARAMS && r->r_clen == 0) {
		s->s_phase = FCGI_PHASE_BODY;
	} else if (r->r_type == FCGI_STDIN && r->r_clen == 0) {
		s->s_phase = FCGI_PHASE_DONE;
	}
}

enum fcgi_status
fcgi_dec_next(struct fcgi_dec *d, const uint8_t *buf, size_t len,
    size_t *used, struct fcgi_item *out)
{
	enum fcgi_status	st;
	size_t			off = 0, n;

	memset(out, 0, sizeof(*out));
	out->i_slot = -1;
	for (;;) {
		switch (d->d_state) {
		case ST_HDR:
			/* A held header (FCGI_DEC_HOLD) is whole already. */
			n = FCGI_HEADER_LEN - d->d_hlen;
			if (n > len - off)
				n = len - off;
			if (n > 0)
				memcpy(d->d_hdr + d->d_hlen, buf + off, n);
			d->d_hlen += n;
			off += n;
			if (d->d_hlen < FCGI_HEADER_LEN) {
				*used = off;
				return (FCGI_DEC_MORE);
			}
			d->d_rec.r_version = d->d_hdr[0];
			d->d_rec.r_type = d->d_hdr[1];
			d->d_rec.r_id = get_be16(d->d_hdr + 2);
			d->d_rec.r_clen = get_be16(d->d_hdr + 4);
			d->d_rec.r_plen = d->d_hdr[6];
			*used = off;
			if (d->d_rec.r_version != FCGI_VERSION_1)
				return (FCGI_DEC_ERR_VERSION);
			st = d->d_side == FCGI_SIDE_WEBSERVER ?
			    check_webserver(d) : check_app(d);
			if (st != FCGI_DEC_OK)
				return (st);
			d->d_left = d->d_rec.r_clen;
			d->d_padleft = d->d_rec.r_plen;
			d->d_state = ST_CONTENT;
			if (d->d_skip)
				continue;
			out->i_kind = FCGI_ITEM_HEADER;
			out->i_rec = d->d_rec;
			out->i_slot = d->d_cur;
			return (FCGI_DEC_OK);
		case ST_CONTENT:
			if (d->d_left == 0) {
				d->d_state = ST_PAD;
				continue;
			}
			if (off == len) {
				*used = off;
				return (FCGI_DEC_MORE);
			}
			n = d->d_left < len - off ? d->d_left : len - off;
			d->d_left -= (uint32_t)n;
			if (d->d_skip) {
				off += n;
				continue;
			}
			if (d->d_rec.r_type == FCGI_BEGIN_REQUEST &&
			    d->d_side == FCGI_SIDE_WEBSERVER) {
				/* Kept whole: clen is exactly 8 here. */
				memcpy(d->d_begin + d->d_blen, buf + off, n);
				d->d_blen += n;
				off += n;
				continue;
			}
			out->i_kind = FCGI_ITEM_CONTENT;
			out->i_rec = d->d_rec;
			out->i_slot = d->d_cur;
			out->i_data = buf + off;
			out->i_len = n;
			*used = off + n;
			return (FCGI_DEC_OK);
		case ST_PAD:
			n = d->d_padleft < len - off ? d->d_padleft : len - off;
			d->d_padleft -= (uint32_t)n;
			off += n;
			if (d->d_padleft > 0) {
				*used = off;
				return (FCGI_DEC_MORE);
			}
			d->d_state = ST_END;
			continue;
		case ST_END:
			if (d->d_skip) {
				d->d_skip = 0;
				d->d_state = ST_HDR;
				d->d_hlen = 0;
				continue;
			}
			out->i_kind = FCGI_ITEM_END;
			out->i_rec = d->d_rec;
			out->i_slot = d->d_cur;
			end_record(d);
			*used = off;
			return (FCGI_DEC_OK);
		}
	}
}

void
fcgi_nv_init(struct fcgi_nv *n, size_t limit)
{
	memset(n, 0, sizeof(*n));
	n->n_state = NV_NLEN;
	n->n_limit = limit;
}

enum fcgi_status
fcgi_nv_feed(struct fcgi_nv *n, struct params *p, const uint8_t *buf,
    size_t len)
{
	size_t		off = 0, k;
	uint32_t	v;
	uint8_t		*vp;

	if (len > n->n_limit - n->n_total)
		return (FCGI_DEC_ERR_TOOBIG);
	n->n_total += len;
	while (off < len) {
		if (n->n_state == NV_DATA) {
			k = n->n_left < len - off ? n->n_left : len - off;
			memcpy(n->n_dst, buf + off, k);
			n->n_dst += k;
			n->n_left -= k;
			off += k;
			if (n->n_left == 0)
				n->n_state = NV_NLEN;
			continue;
		}
		n->n_lenbuf[n->n_lenhave++] = buf[off++];
		if (n->n_lenhave == 1 && !(n->n_lenbuf[0] & 0x80))
			v = n->n_lenbuf[0];
		else if (n->n_lenhave == 4)
			v = get_be31(n->n_lenbuf);
		else
			continue;
		n->n_lenhave = 0;
		if (n->n_state == NV_NLEN) {
			n->n_nlen = v;
			n->n_state = NV_VLEN;
			continue;
		}
		n->n_vlen = v;
		/* A pair that cannot fit in what is left of the limit. */
		if ((size_t)n->n_nlen + n->n_vlen > n->n_limit - n->n_total +
		    (len - off))
			return (FCGI_DEC_ERR_TOOBIG);
		if (params_reserve(p, n->n_nlen, n->n_vlen, &n->n_dst,
		    &vp) != PARAMS_OK)
			return (FCGI_DEC_ERR_TOOBIG);
		/* Name and value are contiguous in a reserved pair. */
		n->n_left = (size_t)n->n_nlen + n->n_vlen;
		n->n_state = n->n_left ? NV_DATA : NV_NLEN;
	}
	return (FCGI_DEC_MORE);
}

enum fcgi_status
fcgi_nv_finish(const struct fcgi_nv *n)
{
	return (n->n_state == NV_NLEN && n->n_lenhave == 0 ? FCGI_DEC_OK :
	    FCGI_DEC_ERR_PAIR);
}

void
fcgi_enc_header(uint8_t *out, unsigned type, unsigned id, unsigned clen,
    unsigned plen)
{
	out[0] = FCGI_VERSION_1;
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[4] = (uint8_t)(clen >> 8);
	out[5] = (uint8_t)clen;
	out[6] = (uint8_t)plen;
	out[7] = 0;
}

size_t
fcgi_enc_begin(unsigned id, unsigned role, unsigned flags, uint8_t *out)
{
	fcgi_enc_header(out, FCGI_BEGIN_REQUEST, id, 8, 0);
	memset(out + 8, 0, 8);
	out[8] = (uint8_t)(role >> 8);
	out[9] = (uint8_t)role;
	out[10] = (uint8_t)flags;
	return (16);
}

static size_t
pair_size(const struct param *e)
{
	return ((e->p_nlen < 128 ? 1 : 4) + (e->p_vlen < 128 ? 1 : 4) +
	    (size_t)e->p_nlen + e->p_vlen);
}

static uint8_t *
put_len(uint8_t *o, uint32_t v)
{
	if (v < 128) {
		*o++ = (uint8_t)v;
		return (o);
	}
	*o++ = (uint8_t)((v >> 24) | 0x80);
	*o++ = (uint8_t)(v >> 16);
	*o++ = (uint8_t)(v >> 8);
	*o++ = (uint8_t)v;
	return (o);
}

enum fcgi_status
fcgi_enc_params(const struct params *p, unsigned id, uint8_t *out, size_t cap,
    size_t *need)
{
	const struct param	*e;
	size_t			 i, sz, total = 0, rec = 0, hdr = 0, pad;
	uint8_t			*o = NULL;

	/* Pass one sizes it; pass two (when out fits) writes it. */
	for (i = 0; i < p->p_count; i++) {
		if ((e = params_at(p, i)) == NULL)
			continue;
		if ((sz = pair_size(e)) > FCGI_ENC_MAX_CONTENT) {
			*need = 0;
			return (FCGI_DEC_ERR_TOOBIG);
		}
		if (rec == 0 || rec + sz > FCGI_ENC_MAX_CONTENT) {
			if (rec)
				total += (8 - rec % 8) % 8;
			total += FCGI_HEADER_LEN;
			rec = 0;
		}
		rec += sz;
		total += sz;
	}
	if (rec)
		total += (8 - rec % 8) % 8;
	total += FCGI_HEADER_LEN;
	*need = total;
	if (out == NULL || cap < total)
		return (out == NULL ? FCGI_DEC_OK : FCGI_DEC_ERR_SPACE);

	o = out;
	rec = 0;
	for (i = 0; i < p->p_count; i++) {
		if ((e = params_at(p, i)) == NULL)
			continue;
		sz = pair_size(e);
		if (rec == 0 || rec + sz > FCGI_ENC_MAX_CONTENT) {
			if (rec) {
				pad = (8 - rec % 8) % 8;
				fcgi_enc_header(out + hdr, FCGI_PARAMS, id,
				    (unsigned)rec, (unsigned)pad);
				memset(o, 0, pad);
				o += pad;
			}
			hdr = (size_t)(o - out);
			o += FCGI_HEADER_LEN;
			rec = 0;
		}
		o = put_len(o, e->p_nlen);
		o = put_len(o, e->p_vlen);
		memcpy(o, params_name(p, e), e->p_nlen);
		o += e->p_nlen;
		memcpy(o, params_value(p, e), e->p_vlen);
		o += e->p_vlen;
		rec += sz;
	}
	if (rec) {
		pad = (8 - rec % 8) % 8;
		fcgi_enc_header(out + hdr, FCGI_PARAMS, id, (unsigned)rec,
		    (unsigned)pad);
		memset(o, 0, pad);
		o += pad;
	}
	fcgi_enc_header(o, FCGI_PARAMS, id, 0, 0);
	return (FCGI_DEC_OK);
}

size_t
fcgi_enc_response(unsigned id, const char *msg, size_t len, uint8_t *out,
    size_t cap)
{
	size_t	pad = (8 - len % 8) % 8;
	size_t	total = FCGI_HEADER_LEN + len + pad + 2 * FCGI_HEADER_LEN + 8;
	uint8_t	*o = out;

	if (len > FCGI_MAX_LENGTH || cap < total)
		return (0);
	fcgi_enc_header(o, FCGI_STDOUT, id, (unsigned)len, (unsigned)pad);
	memcpy(o + 8, msg, len);
	memset(o + 8 + len, 0, pad);
	o += 8 + len + pad;
	fcgi_enc_header(o, FCGI_STDOUT, id, 0, 0);
	o += 8;
	fcgi_enc_header(o, FCGI_END_REQUEST, id, 8, 0);
	memset(o + 8, 0, 8);	/* appStatus 0, FCGI_REQUEST_COMPLETE */
	return (total);
}
