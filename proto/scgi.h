/*
 * SCGI request header (SPEC §5.2): a netstring "LEN:" ... "," holding
 * NUL-separated name/value pairs, CONTENT_LENGTH first, SCGI=1 present.
 * The decoder copies the netstring body into a caller buffer as bytes
 * arrive (any split), then scgi_parse() turns it into params.
 */
#ifndef FCN_PROTO_SCGI_H
#define FCN_PROTO_SCGI_H

#include <stddef.h>
#include <stdint.h>

#include "proto/params.h"

enum scgi_status {
	SCGI_OK,		/* the whole netstring is in */
	SCGI_MORE,		/* all input consumed, need more */
	SCGI_ERR_LENGTH,	/* netstring length not digits or no ':' */
	SCGI_ERR_TOOBIG,	/* header larger than the limit: 431 */
	SCGI_ERR_COMMA,		/* netstring not closed by ',' */
	SCGI_ERR_PAIRS,		/* pairs not NUL-terminated, empty name */
	SCGI_ERR_CONTENT_LENGTH, /* first pair not a valid CONTENT_LENGTH */
	SCGI_ERR_NO_SCGI,	/* SCGI=1 missing */
	SCGI_ERR_FULL,		/* params arena full: 431 */
};

/* Zero-filled is the initial state; set d_buf/d_cap/d_limit first. */
struct scgi_dec {
	int		 d_state;
	size_t		 d_len;		/* announced netstring length */
	size_t		 d_have;	/* body bytes copied */
	int		 d_digits;
	uint8_t		*d_buf;		/* caller's, d_cap bytes */
	size_t		 d_cap;
	size_t		 d_limit;	/* max header bytes (max_params_bytes) */
};

void		 scgi_dec_init(struct scgi_dec *, uint8_t *buf, size_t cap,
		    size_t limit);
/*
 * Consume up to len bytes; *used says how many.  SCGI_OK when the closing
 * ',' was read (the body follows in the input, not consumed), SCGI_MORE
 * when everything was consumed, or an error.
 */
enum scgi_status scgi_dec_feed(struct scgi_dec *, const uint8_t *buf,
		    size_t len, size_t *used);
/*
 * Parse the header the decoder collected into p (SCGI itself left out)
 * and *content_length.  Returns SCGI_OK or an error.
 */
enum scgi_status scgi_parse(const struct scgi_dec *, struct params *p,
		    uint64_t *content_length);
const char	*scgi_strerror(enum scgi_status);

#endif
