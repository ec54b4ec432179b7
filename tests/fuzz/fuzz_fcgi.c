/*
 * libFuzzer target: the FastCGI request decoder and name-value decoder,
 * driven as the daemon drives them.  Half of the inputs (by the first
 * byte) are fed one byte at a time (STYLE S18); some go through the
 * multiplexing side, whose table must stay consistent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/fcgi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct params	*p;
	struct fcgi_dec		 d;
	struct fcgi_mux		 m;
	struct fcgi_nv		 nv;
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 off = 0, used, step, need;
	int			 bytewise, mux, i, live;

	if (size < 2)
		return (0);
	if (p == NULL)
		p = params_new(8192 * 2);
	params_reset(p);
	bytewise = data[0] & 1;
	data++;
	size--;
	mux = (data[0] & 4) != 0;
	if (mux)
		fcgi_dec_init_mux(&d, &m);
	else
		fcgi_dec_init(&d, (data[0] & 2) ? FCGI_SIDE_APP :
		    FCGI_SIDE_WEBSERVER);
	fcgi_nv_init(&nv, 8192);
	while (off < size) {
		step = bytewise ? 1 : size - off;
		for (;;) {
			st = fcgi_dec_next(&d, data + off, step, &used, &it);
			off += used;
			step -= used;
			if (mux) {
				for (i = live = 0; i < FCGI_MUX_MAX; i++)
					live += m.m_id[i] != 0;
				if ((size_t)live != m.m_live ||
				    m.m_live > FCGI_MUX_MAX)
					abort();
			}
			if (st == FCGI_DEC_HOLD && mux) {
				/* A request ends: the held one goes on. */
				for (i = 0; i < FCGI_MUX_MAX; i++)
					if (m.m_id[i] != 0)
						break;
				fcgi_mux_end(&m, i < FCGI_MUX_MAX ? m.m_id[i] :
				    m.m_params);
				if (m.m_params != 0)
					fcgi_mux_end(&m, m.m_params);
				continue;
			}
			if (st != FCGI_DEC_OK)
				break;
			if (mux && it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_STDIN &&
			    it.i_rec.r_clen == 0)
				fcgi_mux_end(&m, it.i_rec.r_id);
			if (mux)
				continue;
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
				/* Re-encode what we decoded, as the daemon does. */
				if (fcgi_enc_params(p, d.d_id, NULL, 0, &need) ==
				    FCGI_DEC_OK) {
					uint8_t *o = malloc(need);

					fcgi_enc_params(p, d.d_id, o, need, &need);
					free(o);
				}
			}
			if (it.i_kind == FCGI_ITEM_END &&
			    it.i_rec.r_type == FCGI_STDIN &&
			    it.i_rec.r_clen == 0)
				fcgi_dec_request_done(&d);
		}
		if (st != FCGI_DEC_MORE)
			return (0);
	}
	return (0);
}
