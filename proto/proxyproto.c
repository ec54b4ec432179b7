/*
 * PROXY protocol decoder.  v1: "PROXY TCP4|TCP6|UNKNOWN src dst sport
 * dport\r\n", at most 107 bytes.  v2: 12-byte signature, version/command,
 * family/protocol, 16-bit length, addresses, then TLVs we skip.
 */
#include <string.h>

#include "proto/proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum pp_status	parse_v1(const struct pp_dec *, struct pp_result *);
static enum pp_status	parse_v2(const struct pp_dec *, struct pp_result *);
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
	size_t		 alen = d->d_total - PP_V2_HDR;
	unsigned	 cmd = b[12] & 0x0f, fam = b[13];

	if (cmd == 0x0) {
		r->r_local = 1;		/* LOCAL: health check, no address */
		return (PP_OK);
	}
	switch (fam) {
	case 0x11:	/* TCP over IPv4 */
	case 0x12:	/* UDP over IPv4 */
		if (alen < 12)
			return (PP_ERR_LENGTH);
		addr_set(&r->r_src, ADDR_V4, b + 16);
		addr_set(&r->r_dst, ADDR_V4, b + 20);
		r->r_src_port = (b[24] << 8) | b[25];
		r->r_dst_port = (b[26] << 8) | b[27];
		return (PP_OK);
	case 0x21:	/* TCP over IPv6 */
	case 0x22:
		if (alen < 36)
			return (PP_ERR_LENGTH);
		addr_set(&r->r_src, ADDR_V6, b + 16);
		addr_set(&r->r_dst, ADDR_V6, b + 32);
		r->r_src_port = (b[48] << 8) | b[49];
		r->r_dst_port = (b[50] << 8) | b[51];
		return (PP_OK);
	case 0x00:	/* UNSPEC with PROXY: treat as unknown */
		r->r_local = 1;
		return (PP_OK);
	default:
		return (PP_ERR_FAMILY);
	}
}

enum pp_status
pp_dec_feed(struct pp_dec *d, const uint8_t *buf, size_t len, size_t *used,
    struct pp_result *r)
{
	size_t	off = 0, want, n;

	memset(r, 0, sizeof(*r));
	r->r_src_port = r->r_dst_port = -1;
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
		/* v2: keep the fixed part and the addresses, skip the TLVs. */
		if (d->d_have < PP_V2_HDR) {
			d->d_buf[d->d_have++] = buf[off++];
			if (d->d_have == PP_V2_HDR) {
				if ((d->d_buf[12] >> 4) != 2) {
					*used = off;
					return (PP_ERR_VERSION);
				}
				if ((d->d_buf[12] & 0x0f) > 1) {
					*used = off;
					return (PP_ERR_COMMAND);
				}
				d->d_total = PP_V2_HDR + (size_t)((d->d_buf[14]
				    << 8) | d->d_buf[15]);
			}
			continue;
		}
		want = d->d_total - d->d_have - d->d_skipped;
		n = len - off < want ? len - off : want;
		if (d->d_have < sizeof(d->d_buf)) {
			if (n > sizeof(d->d_buf) - d->d_have)
				n = sizeof(d->d_buf) - d->d_have;
			memcpy(d->d_buf + d->d_have, buf + off, n);
			d->d_have += n;
		} else {
			d->d_skipped += n;
		}
		off += n;
		if (d->d_have + d->d_skipped == d->d_total)
			break;
	}
	*used = off;
	if (d->d_version == 2 && d->d_have >= PP_V2_HDR &&
	    d->d_have + d->d_skipped == d->d_total)
		return (parse_v2(d, r));
	return (PP_MORE);
}
