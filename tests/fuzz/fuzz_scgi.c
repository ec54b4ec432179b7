/* libFuzzer target: SCGI netstring decoder and header parser; odd first
 * byte feeds one byte at a time (STYLE S18). */
#include <stdint.h>

#include "proto/scgi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 hdr[4096];
	static struct params	*p;
	struct scgi_dec		 d;
	enum scgi_status	 st = SCGI_MORE;
	size_t			 off = 1, used, step;
	uint64_t		 cl;

	if (size == 0)
		return (0);
	if (p == NULL)
		p = params_new(16384);
	params_reset(p);
	scgi_dec_init(&d, hdr, sizeof(hdr), 4096);
	while (off < size && st == SCGI_MORE) {
		step = (data[0] & 1) ? 1 : size - off;
		st = scgi_dec_feed(&d, data + off, step, &used);
		off += used;
	}
	if (st == SCGI_OK)
		scgi_parse(&d, p, &cl);
	return (0);
}
