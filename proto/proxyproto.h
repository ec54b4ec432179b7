/*
 * PROXY protocol v1 (text) and v2 (binary) header decoder (SPEC §5.3,
 * haproxy's proxy-protocol.txt).  Byte-at-a-time safe; TLVs are skipped
 * without being stored, so the state is a fixed 232 bytes.
 */
#ifndef FCN_PROTO_PROXYPROTO_H
#define FCN_PROTO_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

#define PP_V1_MAX	107	/* including CRLF */
#define PP_V2_HDR	16

enum pp_status {
	PP_OK,			/* header complete: see struct pp_result */
	PP_MORE,
	PP_ERR_SIGNATURE,	/* neither "PROXY " nor the v2 signature */
	PP_ERR_V1,		/* malformed v1 line */
	PP_ERR_V1_TOOLONG,	/* no CRLF within 107 bytes */
	PP_ERR_VERSION,		/* v2 version nibble != 2 */
	PP_ERR_COMMAND,		/* v2 command not LOCAL or PROXY */
	PP_ERR_FAMILY,		/* v2 family/protocol not supported */
	PP_ERR_LENGTH,		/* v2 length too short for the addresses */
};

struct pp_result {
	int		r_local;	/* LOCAL / UNKNOWN: no address */
	struct addr	r_src;
	int		r_src_port;
	struct addr	r_dst;
	int		r_dst_port;
};

/* Zero-filled is the initial state. */
struct pp_dec {
	uint8_t		d_buf[232];
	size_t		d_have;
	int		d_version;	/* 0 unknown yet, 1 or 2 */
	size_t		d_total;	/* v2: 16 + length */
	size_t		d_skipped;	/* v2: TLV bytes skipped */
};

/*
 * Consume bytes of the header; *used says how many (never past its end).
 * PP_OK fills *r.
 */
enum pp_status	pp_dec_feed(struct pp_dec *, const uint8_t *buf, size_t len,
		    size_t *used, struct pp_result *r);
const char	*pp_strerror(enum pp_status);

#endif
