/* libFuzzer target: PROXY protocol v1/v2 decoder; odd first byte feeds
 * one byte at a time. */
#include <stdint.h>

#include "proto/proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_dec		d = { 0 };
	struct pp_result	r;
	enum pp_status		st = PP_MORE;
	size_t			off = 1, used, step;

	if (size == 0)
		return (0);
	while (off < size && st == PP_MORE) {
		step = (data[0] & 1) ? 1 : size - off;
		st = pp_dec_feed(&d, data + off, step, &used, &r);
		off += used;
	}
	return (0);
}
