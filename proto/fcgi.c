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
static enum fcgi_status	check_mux(struct fcgi_dec *);
static int		mux_slot(const struct fcgi_mux *, unsigned);
static int		mux_recent(const struct fcgi_mux *, unsigned);
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
	d->d_phase = FCGI_PHASE_IDLE;
}

void
fcgi_dec_init_mux(struct fcgi_dec *d, struct fcgi_mux *m)
{
	fcgi_dec_init(d, FCGI_SIDE_MUX);
	memset(m, 0, sizeof(*m));
	d->d_mux = m;
}

static int
mux_slot(const struct fcgi_mux *m, unsigned id)
{
	int	i;

	for (i = 0; i < FCGI_MUX_MAX; i++)
		if (m->m_id[i] == id)
			return (i);
	return (-1);
}

static int
mux_recent(const struct fcgi_mux *m, unsigned id)
{
	size_t	i;

	for (i = 0; i < FCGI_MUX_RECENT; i++)
		if (m->m_recent[i] == id)
			return ((int)i);
	return (-1);
}

int
fcgi_begin_keeps(const uint8_t *buf, size_t len)
{
	if (len >= 2 && buf[1] != FCGI_BEGIN_REQUEST)
		return (0);
	if (len < FCGI_HEADER_LEN + 3)
		return (-1);
	return ((buf[FCGI_HEADER_LEN + 2] & FCGI_KEEP_CONN) != 0);
}

int
fcgi_mux_live(const struct fcgi_mux *m, unsigned id)
{
	return (id != 0 && mux_slot(m, id) >= 0);
}

void
fcgi_mux_end(struct fcgi_mux *m, unsigned id)
{
	int	i;

	if (id == 0 || (i = mux_slot(m, id)) < 0)
		return;
	m->m_id[i] = 0;
	m->m_live--;
	if (m->m_params == id)
		m->m_params = 0;
	m->m_recent[m->m_rnext] = (uint16_t)id;
	m->m_rnext = (m->m_rnext + 1) % FCGI_MUX_RECENT;
}

void
fcgi_dec_request_done(struct fcgi_dec *d)
{
	d->d_phase = FCGI_PHASE_IDLE;
	d->d_done_id = d->d_id;
	d->d_id = 0;
	d->d_blen = 0;
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
		return ("next request held until this one ends");
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

/* SPEC §5.1: what a web server may send, and when. */
static enum fcgi_status
check_webserver(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;
	enum fcgi_status	 st;

	if ((st = check_type_id(r)) != FCGI_DEC_OK ||
	    r->r_type == FCGI_GET_VALUES)
		return (st);
	if (r->r_type == FCGI_BEGIN_REQUEST) {
		/*
		 * A client that multiplexes although we cannot (HAProxy
		 * "option mpxs-conns" ignores FCGI_MPXS_CONNS=0) gets what
		 * php-fpm gives it: the next request is read once this one
		 * ended.  Only when this one's input is complete, so holding
		 * can never starve it of its own STDIN.
		 */
		if (d->d_phase == FCGI_PHASE_DONE)
			return (FCGI_DEC_HOLD);
		if (d->d_phase != FCGI_PHASE_IDLE)
			return (FCGI_DEC_ERR_SEQUENCE);
		if (r->r_clen != 8)
			return (FCGI_DEC_ERR_BEGIN);
		d->d_id = r->r_id;
		d->d_done_id = 0;
		d->d_blen = 0;
		return (FCGI_DEC_OK);
	}
	/*
	 * php-fpm may answer before the web server's empty STDIN: Apache
	 * mod_proxy_fcgi sends it late, even on a kept connection.  php-fpm
	 * skips it; so do we, and nothing else out of sequence.
	 */
	if (d->d_phase == FCGI_PHASE_IDLE && d->d_done_id != 0 &&
	    r->r_id == d->d_done_id && r->r_clen == 0 &&
	    (r->r_type == FCGI_STDIN || r->r_type == FCGI_DATA)) {
		d->d_skip = 1;
		return (FCGI_DEC_OK);
	}
	if (d->d_phase == FCGI_PHASE_IDLE)
		return (FCGI_DEC_ERR_SEQUENCE);
	if (r->r_id != d->d_id)
		return (FCGI_DEC_ERR_ID);
	switch (r->r_type) {
	case FCGI_PARAMS:
		return (d->d_phase == FCGI_PHASE_PARAMS ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE);
	case FCGI_STDIN:
		return (d->d_phase == FCGI_PHASE_BODY ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE);
	case FCGI_DATA:
		return (d->d_phase >= FCGI_PHASE_BODY ? FCGI_DEC_OK :
		    FCGI_DEC_ERR_SEQUENCE);
	default:
		return (FCGI_DEC_OK);	/* ABORT_REQUEST, in any phase */
	}
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

/*
 * SPEC §5.4, a multiplexing web server: which request a record belongs
 * to.  The sequence within a request is its own decoder's to check.
 */
static enum fcgi_status
check_mux(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;
	struct fcgi_mux		*m = d->d_mux;
	enum fcgi_status	 st;
	int			 i;

	if ((st = check_type_id(r)) != FCGI_DEC_OK ||
	    r->r_type == FCGI_GET_VALUES)
		return (st);
	if (r->r_type == FCGI_BEGIN_REQUEST) {
		if (mux_slot(m, r->r_id) >= 0)
			return (FCGI_DEC_ERR_SEQUENCE);
		if (r->r_clen != 8)
			return (FCGI_DEC_ERR_BEGIN);
		if (m->m_live == FCGI_MUX_MAX || m->m_params != 0)
			return (FCGI_DEC_HOLD);
		i = mux_slot(m, 0);
		m->m_id[i] = r->r_id;
		m->m_live++;
		m->m_params = r->r_id;
		if ((i = mux_recent(m, r->r_id)) >= 0)
			m->m_recent[i] = 0;
		return (FCGI_DEC_OK);
	}
	if (r->r_id != FCGI_NULL_REQUEST_ID && mux_slot(m, r->r_id) >= 0) {
		if (r->r_type == FCGI_PARAMS && r->r_clen == 0 &&
		    m->m_params == r->r_id)
			m->m_params = 0;
		return (FCGI_DEC_OK);
	}
	if (r->r_id != FCGI_NULL_REQUEST_ID && mux_recent(m, r->r_id) >= 0) {
		d->d_skip = 1;
		return (FCGI_DEC_OK);
	}
	return (FCGI_DEC_ERR_ID);
}

/* Phase changes happen when a record is complete. */
static void
end_record(struct fcgi_dec *d)
{
	const struct fcgi_rec	*r = &d->d_rec;

	d->d_state = ST_HDR;
	d->d_hlen = 0;
	if (d->d_side != FCGI_SIDE_WEBSERVER)
		return;
	if (r->r_type == FCGI_BEGIN_REQUEST) {
		d->d_role = get_be16(d->d_begin);
		d->d_flags = d->d_begin[2];
		d->d_phase = FCGI_PHASE_PARAMS;
	} else if (r->r_type == FCGI_PARAMS && r->r_clen == 0) {
		d->d_phase = FCGI_PHASE_BODY;
	} else if (r->r_type == FCGI_STDIN && r->r_clen == 0) {
		d->d_phase = FCGI_PHASE_DONE;
	}
}

enum fcgi_status
fcgi_dec_next(struct fcgi_dec *d, const uint8_t *buf, size_t len,
    size_t *used, struct fcgi_item *out)
{
	enum fcgi_status	st;
	size_t			off = 0, n;

	memset(out, 0, sizeof(*out));
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
			    check_webserver(d) : d->d_side == FCGI_SIDE_MUX ?
			    check_mux(d) : check_app(d);
			if (st != FCGI_DEC_OK)
				return (st);
			d->d_left = d->d_rec.r_clen;
			d->d_padleft = d->d_rec.r_plen;
			d->d_state = ST_CONTENT;
			if (d->d_skip)
				continue;
			out->i_kind = FCGI_ITEM_HEADER;
			out->i_rec = d->d_rec;
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
