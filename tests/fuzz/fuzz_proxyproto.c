/* libFuzzer target: PROXY protocol v1/v2 decoder; odd first byte feeds
 * one byte at a time. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		ssl[16 * 1024];
	struct pp_dec		d = { 0 };
	struct pp_result	r;
	enum pp_status		st = PP_MORE;
	size_t			off = 1, used, step;

	if (size == 0)
		return (0);
	/* Bit 1: gather the SSL TLV for its certificate (SPEC §4.10). */
	if (data[0] & 2)
		pp_dec_ssl_buffer(&d, ssl, (data[0] & 4) ? 64 : sizeof(ssl));
	while (off < size && st == PP_MORE) {
		step = (data[0] & 1) ? 1 : size - off;
		st = pp_dec_feed(&d, data + off, step, &used, &r);
		off += used;
	}
	/* SPEC §5.3: kept TLV values are bounded and safe as params. */
	if (st == PP_OK) {
		size_t i;

		if (r.r_authority_len > PP_AUTHORITY_MAX ||
		    r.r_unique_id_len > PP_UNIQUE_ID_MAX ||
		    r.r_ssl < -1 || r.r_ssl > 1 ||
		    r.r_ssl_cn_len > PP_SSL_CN_MAX)
			abort();
		/* A certificate lies wholly inside the buffer given. */
		if (r.r_ssl_cert != NULL && (!(data[0] & 2) ||
		    r.r_ssl_cert < ssl || r.r_ssl_cert_len > d.d_sslcap ||
		    (size_t)(r.r_ssl_cert - ssl) > d.d_sslcap -
		    r.r_ssl_cert_len))
			abort();
		for (i = 0; i < r.r_authority_len; i++)
			if (r.r_authority[i] <= 0x20 || r.r_authority[i] >= 0x7f)
				abort();
	}
	return (0);
}
