/*
 * libFuzzer target: the FastCGI request decoder and name-value decoder,
 * driven as the daemon drives them.  Half of the inputs (by the first
 * byte) are fed one byte at a time (STYLE S18); the second byte picks the
 * side and the connection's capacity (1..16 requests at once), and the
 * request table must stay consistent whatever comes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/fcgi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The table's own count matches its slots, within the capacity. */
static void
check(const struct fcgi_dec *d)
{
	size_t	i, live = 0;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		live += d->d_slot[i].s_id != 0;
	if (live != d->d_live || d->d_live > d->d_cap)
		abort();
}

/* A request ends, as the daemon ends one: the first live slot. */
static void
end_one(struct fcgi_dec *d, int cut)
{
	int	i;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (d->d_slot[i].s_id != 0) {
			fcgi_dec_end(d, i, cut);
			return;
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct params	*p;
	struct fcgi_dec		 d;
	struct fcgi_nv		 nv;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off = 0, used, step, need;
	int			 bytewise;

	if (size < 2)
		return (0);
	if (p == NULL)
		p = params_new(8192 * 2);
	params_reset(p);
	bytewise = data[0] & 1;
	data++;
	size--;
	fcgi_dec_init(&d, (data[0] & 2) ? FCGI_SIDE_APP : FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 1 + (data[0] >> 4));
	fcgi_nv_init(&nv, 8192);
	while (off < size) {
		step = bytewise ? 1 : size - off;
		for (;;) {
			st = fcgi_dec_next(&d, data + off, step, &used, &it);
			off += used;
			step -= used;
			check(&d);
			if (st == FCGI_DEC_HOLD) {
				/* A request ends: the held one goes on. */
				end_one(&d, data[0] & 8);
				continue;
			}
			if (st != FCGI_DEC_OK)
				break;
			if (it.i_kind == FCGI_ITEM_CONTENT &&
			    it.i_rec.r_type == FCGI_PARAMS &&
			    fcgi_nv_feed(&nv, p, it.i_data, it.i_len) !=
			    FCGI_DEC_MORE)
				return (0);
			if (it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_PARAMS &&
			    it.i_rec.r_clen == 0) {
				if (fcgi_nv_finish(&nv) != FCGI_DEC_OK)
					return (0);
				fcgi_nv_init(&nv, 8192);
				/* Re-encode what we decoded, as the daemon does. */
				if (fcgi_enc_params(p, it.i_rec.r_id, NULL, 0,
				    &need) == FCGI_DEC_OK) {
					uint8_t *o = malloc(need);

					fcgi_enc_params(p, it.i_rec.r_id, o,
					    need, &need);
					free(o);
				}
				params_reset(p);
			}
			/* Some requests are answered early (cut). */
			if (it.i_kind == FCGI_ITEM_END && it.i_slot >= 0 &&
			    it.i_rec.r_type == FCGI_STDIN &&
			    it.i_rec.r_clen == 0)
				fcgi_dec_end(&d, it.i_slot, 0);
			else if (it.i_kind == FCGI_ITEM_END && it.i_slot >= 0 &&
			    it.i_rec.r_type == FCGI_DATA && (data[0] & 8))
				fcgi_dec_end(&d, it.i_slot, 1);
		}
		if (st != FCGI_DEC_MORE)
			return (0);
	}
	return (0);
}
