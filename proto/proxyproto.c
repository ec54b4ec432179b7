/*
 * PROXY protocol decoder.  v1: "PROXY TCP4|TCP6|UNKNOWN src dst sport
 * dport\r\n", at most 107 bytes.  v2: 12-byte signature, version/command,
 * family/protocol, 16-bit length, addresses, then TLVs: type, 16-bit
 * length, value.
 */
#include <string.h>

#include "proto/proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum pp_status	parse_v1(const struct pp_dec *, struct pp_result *);
static enum pp_status	parse_v2(const struct pp_dec *, struct pp_result *);
static enum pp_status	v2_fixed(struct pp_dec *);
static size_t		v2_tlv(struct pp_dec *, const uint8_t *, size_t,
			    enum pp_status *);
static void		tlv_keep(struct pp_dec *, const uint8_t *, size_t);
static void		ssl_keep(struct pp_result *, const uint8_t *, size_t, int);
static enum pp_status	v2_feed(struct pp_dec *, const uint8_t *, size_t,
			    size_t *);
static int		printable(const uint8_t *, size_t);
static int		v1_field(const char **, const char *, const char **,
			    size_t *);

const char *
pp_strerror(enum pp_status st)
{
	switch (st) {
	case PP_OK:
		return ("ok");
	case PP_MORE:
		return ("need more input");
	case PP_ERR_SIGNATURE:
		return ("no PROXY protocol header");
	case PP_ERR_V1:
		return ("malformed PROXY v1 header");
	case PP_ERR_V1_TOOLONG:
		return ("PROXY v1 header longer than 107 bytes");
	case PP_ERR_VERSION:
		return ("PROXY v2 version not 2");
	case PP_ERR_COMMAND:
		return ("PROXY v2 command not LOCAL or PROXY");
	case PP_ERR_FAMILY:
		return ("PROXY v2 address family not supported");
	case PP_ERR_LENGTH:
		return ("PROXY v2 length too short");
	case PP_ERR_TLV:
		return ("PROXY v2 TLV runs past the header");
	}
	return ("unknown status");
}

/* Next space-separated field of a v1 line. */
static int
v1_field(const char **pp, const char *e, const char **f, size_t *flen)
{
	const char	*p = *pp;

	if (p >= e || *p != ' ')
		return (-1);
	*f = ++p;
	while (p < e && *p != ' ')
		p++;
	*flen = (size_t)(p - *f);
	*pp = p;
	return (*flen > 0 ? 0 : -1);
}

static enum pp_status
parse_v1(const struct pp_dec *d, struct pp_result *r)
{
	const char	*p = (const char *)d->d_buf + 5;
	const char	*e = (const char *)d->d_buf + d->d_have - 2;
	const char	*f[5];
	size_t		 fl[5];
	int		 i, v6;

	if (e - p >= 8 && memcmp(p, " UNKNOWN", 8) == 0) {
		r->r_local = 1;		/* the rest of the line is ignored */
		return (PP_OK);
	}
	if (e - p < 5 || (memcmp(p, " TCP4", 5) && memcmp(p, " TCP6", 5)))
		return (PP_ERR_V1);
	v6 = p[4] == '6';
	p += 5;
	for (i = 0; i < 4; i++)
		if (v1_field(&p, e, &f[i], &fl[i]) < 0)
			return (PP_ERR_V1);
	if (p != e)
		return (PP_ERR_V1);
	if (addr_parse(f[0], fl[0], &r->r_src) < 0 ||
	    addr_parse(f[1], fl[1], &r->r_dst) < 0 ||
	    (r->r_src_port = addr_parse_port(f[2], fl[2])) < 0 ||
	    (r->r_dst_port = addr_parse_port(f[3], fl[3])) < 0)
		return (PP_ERR_V1);
	/* TCP4 must carry IPv4, TCP6 IPv6 (a mapped v4 folds to IPv4). */
	if (!v6 && (r->r_src.a_family != ADDR_V4 ||
	    memchr(f[0], ':', fl[0]) != NULL))
		return (PP_ERR_V1);
	if (v6 && memchr(f[0], ':', fl[0]) == NULL)
		return (PP_ERR_V1);
	(void)f[4];
	(void)fl[4];
	return (PP_OK);
}

static enum pp_status
parse_v2(const struct pp_dec *d, struct pp_result *r)
{
	const uint8_t	*b = d->d_buf;

	/* TLVs first: r may be d's own copy, never overlapping fields. */
	r->r_ssl = d->d_r.r_ssl;
	r->r_ssl_client = d->d_r.r_ssl_client;
	r->r_ssl_verify = d->d_r.r_ssl_verify;
	memcpy(r->r_ssl_cn, d->d_r.r_ssl_cn, d->d_r.r_ssl_cn_len);
	r->r_ssl_cn_len = d->d_r.r_ssl_cn_len;
	r->r_ssl_cert = d->d_r.r_ssl_cert;
	r->r_ssl_cert_len = d->d_r.r_ssl_cert_len;
	memcpy(r->r_authority, d->d_r.r_authority, d->d_r.r_authority_len);
	r->r_authority_len = d->d_r.r_authority_len;
	memcpy(r->r_unique_id, d->d_r.r_unique_id, d->d_r.r_unique_id_len);
	r->r_unique_id_len = d->d_r.r_unique_id_len;
	r->r_tlv_refused = d->d_r.r_tlv_refused;
	if (d->d_skip) {
		r->r_local = 1;		/* LOCAL or UNSPEC: no address */
		return (PP_OK);
	}
	if (d->d_alen == 12) {
		addr_set(&r->r_src, ADDR_V4, b + 16);
		addr_set(&r->r_dst, ADDR_V4, b + 20);
		r->r_src_port = (b[24] << 8) | b[25];
		r->r_dst_port = (b[26] << 8) | b[27];
	} else {
		addr_set(&r->r_src, ADDR_V6, b + 16);
		addr_set(&r->r_dst, ADDR_V6, b + 32);
		r->r_src_port = (b[48] << 8) | b[49];
		r->r_dst_port = (b[50] << 8) | b[51];
	}
	return (PP_OK);
}

/*
 * The 16-byte fixed part is complete: check version and command, and
 * size the address block by family, before any TLV byte is read.
 */
static enum pp_status
v2_fixed(struct pp_dec *d)
{
	const uint8_t	*b = d->d_buf;
	size_t		 len;

	if ((b[12] >> 4) != 2)
		return (PP_ERR_VERSION);
	if ((b[12] & 0x0f) > 1)
		return (PP_ERR_COMMAND);
	len = (size_t)((b[14] << 8) | b[15]);
	d->d_total = PP_V2_HDR + len;
	d->d_r.r_ssl = -1;
	if ((b[12] & 0x0f) == 0x0 || b[13] == 0x00) {
		d->d_skip = 1;	/* LOCAL (health check) or UNSPEC */
		return (PP_MORE);
	}
	switch (b[13]) {
	case 0x11:	/* TCP over IPv4 */
	case 0x12:	/* UDP over IPv4 */
		d->d_alen = 12;
		break;
	case 0x21:	/* TCP over IPv6 */
	case 0x22:
		d->d_alen = 36;
		break;
	default:
		return (PP_ERR_FAMILY);
	}
	if (len < d->d_alen)
		return (PP_ERR_LENGTH);
	return (PP_MORE);
}

/* 1 if every byte is printable ASCII without space (safe as a param). */
static int
printable(const uint8_t *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return (0);
	return (len > 0);
}

/*
 * PP2_TYPE_SSL (proxy-protocol.txt §2.2.5): client bits, verify (big
 * endian), then sub-TLVs, of which the client's CN is kept (SPEC §4.10),
 * and its certificate when certs (the caller gave a buffer for it: the
 * value is then there whole).  v holds the first len bytes of the value;
 * len >= 5 was checked.
 */
static void
ssl_keep(struct pp_result *r, const uint8_t *v, size_t len, int certs)
{
	size_t	off, sl;

	r->r_ssl = (v[0] & PP2_CLIENT_SSL) != 0;
	r->r_ssl_client = v[0];
	r->r_ssl_verify = ((uint32_t)v[1] << 24) | ((uint32_t)v[2] << 16) |
	    ((uint32_t)v[3] << 8) | v[4];
	for (off = 5; len - off >= 3; off += 3 + sl) {
		sl = (size_t)((v[off + 1] << 8) | v[off + 2]);
		if (sl > len - off - 3)
			break;		/* past what was kept */
		if (v[off] == PP2_SUBTYPE_SSL_CLIENT_CERT && sl > 0 && certs) {
			r->r_ssl_cert = v + off + 3;
			r->r_ssl_cert_len = sl;
		}
		if (v[off] != PP2_SUBTYPE_SSL_CN)
			continue;
		if (sl <= sizeof(r->r_ssl_cn) && printable(v + off + 3, sl)) {
			memcpy(r->r_ssl_cn, v + off + 3, sl);
			r->r_ssl_cn_len = sl;
		} else
			r->r_tlv_refused = 1;
	}
}

void
pp_dec_ssl_buffer(struct pp_dec *d, uint8_t *buf, size_t cap)
{
	d->d_ssl = buf;
	d->d_sslcap = buf != NULL ? cap : 0;
}

/* A TLV value the policy can use, complete in v (SPEC §5.3). */
static void
tlv_keep(struct pp_dec *d, const uint8_t *v, size_t len)
{
	struct pp_result	*r = &d->d_r;
	size_t			 cap;

	switch (d->d_ttype) {
	case PP2_TYPE_SSL:
		cap = d->d_ssl != NULL ? d->d_sslcap : PP_AUTHORITY_MAX;
		ssl_keep(r, v, len < cap ? len : cap, d->d_ssl != NULL);
		break;
	case PP2_TYPE_AUTHORITY:
		if (len <= sizeof(r->r_authority) && printable(v, len)) {
			memcpy(r->r_authority, v, len);
			r->r_authority_len = len;
		} else
			r->r_tlv_refused = 1;
		break;
	case PP2_TYPE_UNIQUE_ID:
		if (len <= sizeof(r->r_unique_id) && printable(v, len)) {
			memcpy(r->r_unique_id, v, len);
			r->r_unique_id_len = len;
		} else
			r->r_tlv_refused = 1;
		break;
	}
}

/*
 * TLV bytes: at most len of buf, never past the header end.  Returns how
 * many were used; *st is PP_MORE, or PP_ERR_TLV when a TLV's length runs
 * past the header.  A value to keep is gathered in d_buf behind the
 * addresses (sized for it in proxyproto.h).
 */
static size_t
v2_tlv(struct pp_dec *d, const uint8_t *buf, size_t len, enum pp_status *st)
{
	size_t	n, room = d->d_total - d->d_pos, keep;
	uint8_t	*val = d->d_buf + PP_V2_HDR + 36;

	*st = PP_MORE;
	if (!d->d_invalue) {
		d->d_th[d->d_tn++] = buf[0];
		if (d->d_tn < 3)
			return (1);
		d->d_ttype = d->d_th[0];
		d->d_tlen = (size_t)((d->d_th[1] << 8) | d->d_th[2]);
		d->d_tn = 0;
		d->d_invalue = 1;
		/* proxy-protocol.txt: a TLV never crosses the header end. */
		if (d->d_tlen > room - 1 ||
		    (d->d_ttype == PP2_TYPE_SSL && d->d_tlen < 5)) {
			*st = PP_ERR_TLV;
			return (1);
		}
		if (d->d_tlen == 0)
			d->d_invalue = 0;
		return (1);
	}
	n = d->d_tlen - d->d_tn;
	if (n > len)
		n = len;
	if (d->d_ttype == PP2_TYPE_SSL && d->d_ssl != NULL)
		val = d->d_ssl;
	keep = d->d_ttype == PP2_TYPE_SSL ? (d->d_ssl != NULL ? d->d_sslcap :
	    PP_AUTHORITY_MAX) : d->d_ttype ==
	    PP2_TYPE_AUTHORITY ? PP_AUTHORITY_MAX : d->d_ttype ==
	    PP2_TYPE_UNIQUE_ID ? PP_UNIQUE_ID_MAX : 0;
	if (d->d_tn < keep)
		memcpy(val + d->d_tn, buf, n < keep - d->d_tn ? n :
		    keep - d->d_tn);
	d->d_tn += n;
	if (d->d_tn == d->d_tlen) {
		if (keep > 0)
			tlv_keep(d, val, d->d_tlen);
		d->d_tn = 0;
		d->d_invalue = 0;
	}
	return (n);
}

/*
 * v2 bytes from buf + *off: the fixed part, the addresses, then TLV by
 * TLV.  Advances *off; PP_MORE unless the header is malformed.
 */
static enum pp_status
v2_feed(struct pp_dec *d, const uint8_t *buf, size_t len, size_t *off)
{
	enum pp_status	st = PP_MORE;
	size_t		n;

	if (d->d_have < PP_V2_HDR) {
		d->d_buf[d->d_have++] = buf[(*off)++];
		d->d_pos = d->d_have;
		if (d->d_have == PP_V2_HDR)
			st = v2_fixed(d);
	} else if (d->d_skip) {
		n = d->d_total - d->d_pos;
		n = len - *off < n ? len - *off : n;
		*off += n;
		d->d_pos += n;
	} else if (d->d_have < PP_V2_HDR + d->d_alen) {
		n = PP_V2_HDR + d->d_alen - d->d_have;
		n = len - *off < n ? len - *off : n;
		memcpy(d->d_buf + d->d_have, buf + *off, n);
		d->d_have += n;
		d->d_pos += n;
		*off += n;
	} else {
		n = v2_tlv(d, buf + *off, len - *off, &st);
		*off += n;
		d->d_pos += n;
	}
	return (st);
}

enum pp_status
pp_dec_feed(struct pp_dec *d, const uint8_t *buf, size_t len, size_t *used,
    struct pp_result *r)
{
	enum pp_status	st;
	size_t		off = 0;

	memset(r, 0, sizeof(*r));
	r->r_src_port = r->r_dst_port = -1;
	r->r_ssl = -1;
	*used = 0;
	while (off < len) {
		if (d->d_version == 0) {
			d->d_buf[d->d_have++] = buf[off++];
			/* Decide as soon as the bytes so far rule one out. */
			if (memcmp(d->d_buf, "PROXY ", d->d_have < 6 ?
			    d->d_have : 6) == 0) {
				if (d->d_have == 6)
					d->d_version = 1;
			} else if (memcmp(d->d_buf, v2sig, d->d_have < 12 ?
			    d->d_have : 12) == 0) {
				if (d->d_have == 12)
					d->d_version = 2;
			} else {
				*used = off;
				return (PP_ERR_SIGNATURE);
			}
			continue;
		}
		if (d->d_version == 1) {
			d->d_buf[d->d_have++] = buf[off++];
			if (d->d_have >= 2 && d->d_buf[d->d_have - 2] == '\r' &&
			    d->d_buf[d->d_have - 1] == '\n') {
				*used = off;
				return (parse_v1(d, r));
			}
			if (d->d_have >= PP_V1_MAX) {
				*used = off;
				return (PP_ERR_V1_TOOLONG);
			}
			continue;
		}
		if ((st = v2_feed(d, buf, len, &off)) != PP_MORE) {
			*used = off;
			return (st);
		}
		if (d->d_have >= PP_V2_HDR && d->d_pos == d->d_total)
			break;
	}
	*used = off;
	if (d->d_version != 2 || d->d_have < PP_V2_HDR ||
	    d->d_pos != d->d_total)
		return (PP_MORE);
	/* The header ended inside a TLV header (a value end is checked). */
	if (!d->d_skip && (d->d_tn > 0 || d->d_invalue))
		return (PP_ERR_TLV);
	return (parse_v2(d, r));
}
