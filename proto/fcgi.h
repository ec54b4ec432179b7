/*
 * FastCGI 1.0 records: an incremental decoder for both directions, the
 * name-value pair decoder, and the encoders the daemon needs.  Constants
 * and record layouts are libfcgi's (fastcgi.h); we only add the state
 * machines.  Every decoder survives any split of its input (STYLE S4)
 * and reports malformed input as a status, never by crashing (S7).
 */
#ifndef FCN_PROTO_FCGI_H
#define FCN_PROTO_FCGI_H

#include <stddef.h>
#include <stdint.h>

#include <fastcgi.h>

#include "proto/params.h"

/*
 * php-fpm drops a record whose content plus padding exceeds 65535, so
 * the encoder keeps content to 65528 and pads to 8 (SPEC §5.1).
 */
#define FCGI_ENC_MAX_CONTENT	65528

enum fcgi_status {
	FCGI_DEC_OK,		/* one item decoded into *out */
	FCGI_DEC_MORE,		/* all input consumed, need more bytes */
	FCGI_DEC_HOLD,		/* a BEGIN_REQUEST waits: the connection is
				   full and every request in flight has all
				   its input; call again after
				   fcgi_dec_end() */
	FCGI_DEC_ERR_VERSION,	/* version byte != 1 */
	FCGI_DEC_ERR_TYPE,	/* unknown type, or wrong direction */
	FCGI_DEC_ERR_ID,	/* a record for a request that never began */
	FCGI_DEC_ERR_SEQUENCE,	/* record not allowed in this phase */
	FCGI_DEC_ERR_BEGIN,	/* BEGIN_REQUEST body not 8 bytes */
	FCGI_DEC_ERR_PAIR,	/* name-value pair cut by the end of PARAMS */
	FCGI_DEC_ERR_TOOBIG,	/* params over the limit: answer 431 */
	FCGI_DEC_ERR_SPACE,	/* encoder: output buffer too small */
	FCGI_DEC_ERR_FULL,	/* a BEGIN_REQUEST beyond the connection's
				   capacity while a request in flight still
				   sends its input: waiting could stall */
};

/* Which side the decoder reads. */
enum fcgi_side {
	FCGI_SIDE_WEBSERVER,	/* requests: BEGIN, PARAMS, STDIN, ... by
				   request id, up to d_cap at once */
	FCGI_SIDE_APP,		/* responses: STDOUT, STDERR, END_REQUEST */
};

/*
 * A web server's requests in flight on one connection: at most
 * FCGI_REQS_MAX (SPEC §5.4: min(16, the pool's capacity); 1 without the
 * pool).  Each has a slot; every record is checked against its request's
 * phase and reported with the slot, so the daemon routes it without a
 * second decode.  The last FCGI_RECENT ended ids are remembered: what
 * still comes for them (the rest of a request the daemon answered early,
 * a late empty STDIN) is consumed without an item.
 */
#define FCGI_REQS_MAX		16
#define FCGI_RECENT		16

enum fcgi_phase {
	FCGI_PHASE_BEGIN,	/* BEGIN_REQUEST body being read */
	FCGI_PHASE_PARAMS,	/* between BEGIN and the empty PARAMS */
	FCGI_PHASE_BODY,	/* STDIN / DATA */
	FCGI_PHASE_DONE,	/* empty STDIN seen: all input is in */
};

struct fcgi_slot {
	uint16_t	s_id;		/* 0: free */
	uint8_t		s_phase;	/* enum fcgi_phase */
};

struct fcgi_rec {
	uint8_t		r_version;
	uint8_t		r_type;
	uint16_t	r_id;
	uint16_t	r_clen;
	uint8_t		r_plen;
};

enum fcgi_item_kind {
	FCGI_ITEM_HEADER,	/* a record header: i_rec */
	FCGI_ITEM_CONTENT,	/* i_len content bytes at i_data (in input) */
	FCGI_ITEM_END,		/* record finished, padding consumed */
};

struct fcgi_item {
	enum fcgi_item_kind	i_kind;
	struct fcgi_rec		i_rec;
	int			i_slot;	/* web server side: the request's
					   slot; -1 for management records */
	const uint8_t		*i_data;
	size_t			i_len;
};

/* Record decoder.  Initialise with fcgi_dec_init(). */
struct fcgi_dec {
	enum fcgi_side	d_side;
	int		d_state;	/* header, content or padding */
	uint8_t		d_hdr[FCGI_HEADER_LEN];
	size_t		d_hlen;
	struct fcgi_rec	d_rec;
	uint32_t	d_left;		/* content bytes left in this record */
	uint32_t	d_padleft;
	/* Request tracking, FCGI_SIDE_WEBSERVER only. */
	size_t		d_cap;		/* requests in flight at most */
	size_t		d_live;
	struct fcgi_slot d_slot[FCGI_REQS_MAX];
	uint16_t	d_recent[FCGI_RECENT];
	uint8_t		d_recent_cut[FCGI_RECENT];	/* ended before
							   its input */
	size_t		d_rnext;
	int		d_cur;		/* slot of this record, -1: none */
	uint8_t		d_begin[8];	/* FCGI_BeginRequestBody */
	size_t		d_blen;
	uint16_t	d_role;		/* valid once BEGIN_REQUEST ended */
	uint8_t		d_flags;	/* FCGI_KEEP_CONN */
	int		d_skip;		/* this record is consumed silently */
};

/* A decoder for side; a web server side takes one request at a time. */
void		fcgi_dec_init(struct fcgi_dec *, enum fcgi_side);
/* Web server side: up to cap requests at once (1..FCGI_REQS_MAX). */
void		fcgi_dec_set_cap(struct fcgi_dec *, size_t cap);
/*
 * The request in slot ended: the slot frees.  What still comes for its
 * id is consumed silently (see FCGI_RECENT): every record when cut (the
 * daemon answered before its input was in), else only an empty STDIN or
 * DATA (php-fpm answered before the web server's last record).
 */
void		fcgi_dec_end(struct fcgi_dec *, int slot, int cut);
/* Between records: no part of a record is pending (1), or 0. */
int		fcgi_dec_between(const struct fcgi_dec *);
/* The phase of the request in slot (enum fcgi_phase). */
int		fcgi_dec_phase(const struct fcgi_dec *, int slot);
/*
 * Decode from buf.  Returns FCGI_DEC_OK with one item (*used bytes
 * consumed), FCGI_DEC_MORE when all of buf was consumed without a whole
 * item, FCGI_DEC_HOLD when the next record is a BEGIN_REQUEST that must
 * wait for a request to end (the header is kept; stop feeding, call
 * again after fcgi_dec_end(), len may be 0 then), or an error (the
 * connection must be closed).  CONTENT items point into buf.  A
 * BEGIN_REQUEST's role and flags are in d_role/d_flags when its END
 * item is returned.
 */
enum fcgi_status fcgi_dec_next(struct fcgi_dec *, const uint8_t *buf,
		    size_t len, size_t *used, struct fcgi_item *out);
const char	*fcgi_strerror(enum fcgi_status);
const char	*fcgi_type_name(unsigned);

/*
 * Name-value pair decoder for the PARAMS stream; pairs may span records.
 * Bytes go straight into a params arena.  limit bounds the encoded bytes.
 */
struct fcgi_nv {
	int		n_state;
	uint8_t		n_lenbuf[4];
	size_t		n_lenhave;
	uint32_t	n_nlen;
	uint32_t	n_vlen;
	uint8_t		*n_dst;		/* where the next pair byte goes */
	size_t		n_left;		/* pair bytes still to come */
	size_t		n_total;	/* encoded bytes seen */
	size_t		n_limit;
};

void		fcgi_nv_init(struct fcgi_nv *, size_t limit);
/*
 * Consume all len bytes into p.  FCGI_DEC_MORE means "fine, go on";
 * FCGI_DEC_ERR_TOOBIG when the limit or the arena is exceeded.
 */
enum fcgi_status fcgi_nv_feed(struct fcgi_nv *, struct params *p,
		    const uint8_t *buf, size_t len);
/* End of the PARAMS stream: OK, or ERR_PAIR when a pair was cut short. */
enum fcgi_status fcgi_nv_finish(const struct fcgi_nv *);

/* An 8-byte record header. */
void		fcgi_enc_header(uint8_t *out, unsigned type, unsigned id,
		    unsigned clen, unsigned plen);
/*
 * Encode p as PARAMS records for request id, whole pairs per record, each
 * record <= FCGI_ENC_MAX_CONTENT and padded to 8, then the empty PARAMS.
 * *need is always set to the bytes required; out may be NULL to ask.
 * Returns OK, ERR_SPACE (cap < *need) or ERR_TOOBIG (one pair is larger
 * than a record can hold: answer 431).
 */
enum fcgi_status fcgi_enc_params(const struct params *, unsigned id,
		    uint8_t *out, size_t cap, size_t *need);
/*
 * A whole response from the daemon itself: STDOUT with msg (<= 65535
 * bytes), the empty STDOUT, END_REQUEST.  Returns bytes written, or 0 if
 * cap is too small.
 */
size_t		fcgi_enc_response(unsigned id, const char *msg, size_t len,
		    uint8_t *out, size_t cap);
/* BEGIN_REQUEST for role and flags: 16 bytes. */
size_t		fcgi_enc_begin(unsigned id, unsigned role, unsigned flags,
		    uint8_t *out);

#endif
