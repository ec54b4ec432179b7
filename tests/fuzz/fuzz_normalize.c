/*
 * libFuzzer target: the whole policy.  The first byte picks policy
 * switches; the rest is NAME=VALUE lines (NUL and CR allowed inside).
 */
#include <stdint.h>
#include <string.h>

#include "proto/normalize.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct norm_name client[] = {
	{ "HTTP_FORWARDED", 14 }, { "HTTP_X_FORWARDED_FOR", 20 },
};
static const struct norm_name proto[] = {
	{ "HTTP_FORWARDED", 14 }, { "HTTP_X_FORWARDED_PROTO", 22 },
};
static const struct norm_name port[] = { { "HTTP_X_FORWARDED_PORT", 21 } };
static const struct norm_name host[] = {
	{ "HTTP_FORWARDED", 14 }, { "HTTP_X_FORWARDED_HOST", 21 },
};
static const struct norm_name drop[] = { { "HTTP_PROXY", 10 } };
static const struct norm_name reject[] = { { "PHP_ADMIN_VALUE", 15 } };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cidr_set	*set;
	static struct params	*p;
	static char		 trail[4096];
	struct norm_policy	 pol;
	struct norm_trail	 t;
	const uint8_t		*nl, *eq, *end;

	if (set == NULL) {
		struct cidr c[3];

		cidr_parse("10.0.0.0/8", 10, &c[0]);
		cidr_parse("127.0.0.1", 9, &c[1]);
		cidr_parse("2001:db8::/32", 13, &c[2]);
		set = cidr_set_new(c, 3);
		p = params_new(16384);
	}
	if (size == 0)
		return (0);
	memset(&pol, 0, sizeof(pol));
	pol.np_trusted = set;
	pol.np_client.nn_v = client + (data[0] & 1);
	pol.np_client.nn_n = 2 - (data[0] & 1);
	pol.np_proto.nn_v = proto;
	pol.np_proto.nn_n = 2;
	pol.np_port.nn_v = port;
	pol.np_port.nn_n = 1;
	pol.np_host.nn_v = host;
	pol.np_host.nn_n = 2;
	pol.np_drop.nn_v = drop;
	pol.np_drop.nn_n = 1;
	pol.np_reject.nn_v = reject;
	pol.np_reject.nn_n = 1;
	pol.np_uri.n_str = "HTTP_X_FORWARDED_URI";
	pol.np_uri.n_len = (data[0] & 2) ? 20 : 0;
	pol.np_pick = (data[0] & 4) ? NORM_PICK_LEFTMOST : NORM_PICK_RIGHTMOST;
	pol.np_assume_secure = (data[0] & 8) != 0;
	pol.np_strip = (data[0] & 16) == 0;
	params_reset(p);
	end = data + size;
	for (data++; data < end; data = nl + 1) {
		if ((nl = memchr(data, '\n', (size_t)(end - data))) == NULL)
			nl = end;
		if ((eq = memchr(data, '=', (size_t)(nl - data))) == NULL)
			eq = nl;
		if (params_append(p, data, (size_t)(eq - data), eq < nl ?
		    eq + 1 : nl, eq < nl ? (size_t)(nl - eq - 1) : 0) !=
		    PARAMS_OK)
			break;
	}
	norm_trail_init(&t, trail, (size % 3) ? sizeof(trail) : 64,
	    (size & 1));
	norm_run(&pol, p, &t);
	return (0);
}
