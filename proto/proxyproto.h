/*
 * PROXY protocol v1 (text) and v2 (binary) header decoder (SPEC §5.3,
 * haproxy's proxy-protocol.txt).  Byte-at-a-time safe.  v2 TLVs are
 * checked one by one as they stream past (a TLV header cut short or a
 * value running past the header is an error); the three the policy can
 * use (SSL, AUTHORITY, UNIQUE_ID) are kept, the rest skipped, so the
 * state stays a fixed size whatever the header length.
 */
#ifndef FCN_PROTO_PROXYPROTO_H
#define FCN_PROTO_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

#define PP_V1_MAX	107	/* including CRLF */
#define PP_V2_HDR	16
#define PP_AUTHORITY_MAX 255	/* an SNI host name fits */
#define PP_UNIQUE_ID_MAX 128	/* the spec's limit for PP2_TYPE_UNIQUE_ID */

/* v2 TLV types (proxy-protocol.txt §2.2). */
#define PP2_TYPE_ALPN		0x01
#define PP2_TYPE_AUTHORITY	0x02
#define PP2_TYPE_UNIQUE_ID	0x05
#define PP2_TYPE_SSL		0x20
#define PP2_CLIENT_SSL		0x01	/* first byte of the SSL value */
#define PP2_CLIENT_CERT_CONN	0x02
#define PP2_CLIENT_CERT_SESS	0x04
#define PP2_SUBTYPE_SSL_CN	0x22
#define PP2_SUBTYPE_SSL_CLIENT_CERT 0x28	/* the client's certificate, DER */
#define PP_SSL_CN_MAX		128	/* a certificate's CN is <= 64 */

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
	PP_ERR_TLV,		/* v2 TLV cut short or past the header end */
};

struct pp_result {
	int		r_local;	/* LOCAL / UNKNOWN: no address */
	struct addr	r_src;
	int		r_src_port;
	struct addr	r_dst;
	int		r_dst_port;
	/* v2 TLVs (SPEC §5.3); absent ones have length 0 / r_ssl -1. */
	int		r_ssl;		/* -1 none, 0 plain, 1 client TLS */
	/*
	 * SPEC §4.10: the SSL TLV's client bits and verify result, and its
	 * PP2_SUBTYPE_SSL_CN when one came within the first
	 * PP_AUTHORITY_MAX bytes of the value (HAProxy sends it second).
	 */
	unsigned	r_ssl_client;
	uint32_t	r_ssl_verify;
	uint8_t		r_ssl_cn[PP_SSL_CN_MAX];
	size_t		r_ssl_cn_len;
	/* PP2_SUBTYPE_SSL_CLIENT_CERT, in the buffer pp_dec_ssl_buffer()
	   gave; NULL without one, or when the value did not fit. */
	const uint8_t	*r_ssl_cert;
	size_t		r_ssl_cert_len;
	uint8_t		r_authority[PP_AUTHORITY_MAX];
	size_t		r_authority_len;
	uint8_t		r_unique_id[PP_UNIQUE_ID_MAX];
	size_t		r_unique_id_len;
	int		r_tlv_refused;	/* a kept TLV's value was not printable
					   or too long: left out */
};

/* Zero-filled is the initial state. */
struct pp_dec {
	uint8_t		d_buf[16 + 36 + PP_AUTHORITY_MAX + 1]; /* fixed part,
					   addresses, a kept TLV value */
	size_t		d_have;		/* bytes in d_buf */
	int		d_version;	/* 0 unknown yet, 1 or 2 */
	size_t		d_total;	/* v2: 16 + length */
	size_t		d_pos;		/* v2: bytes of the header consumed */
	size_t		d_alen;		/* v2: address block length */
	int		d_skip;		/* v2: LOCAL/UNSPEC, TLVs not read */
	/* The TLV being read: its 3-byte header, then its value. */
	uint8_t		d_th[3];
	size_t		d_tn;		/* header bytes, or value bytes seen */
	int		d_invalue;
	unsigned	d_ttype;
	size_t		d_tlen;
	struct pp_result d_r;		/* TLV values as they arrive */
	uint8_t		*d_ssl;		/* pp_dec_ssl_buffer(), or NULL */
	size_t		d_sslcap;
};

/*
 * Gather the whole SSL TLV value, up to cap bytes, in buf instead of its
 * first PP_AUTHORITY_MAX bytes, so that a client certificate sub-TLV can
 * be kept (SPEC §4.10): r_ssl_cert then points into buf, which must live
 * as long as the result is used.
 */
void		pp_dec_ssl_buffer(struct pp_dec *, uint8_t *buf, size_t cap);

/*
 * Consume bytes of the header; *used says how many (never past its end).
 * PP_OK fills *r; PP_MORE asks for more bytes; any other status is a
 * malformed header (close the connection).
 */
enum pp_status	pp_dec_feed(struct pp_dec *, const uint8_t *buf, size_t len,
		    size_t *used, struct pp_result *r);
const char	*pp_strerror(enum pp_status);

#endif
