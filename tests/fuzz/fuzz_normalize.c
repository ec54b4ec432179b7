/*
 * libFuzzer target: the whole policy.  The first byte picks policy
 * switches (among them forwarded_after = keep, "unix:" trusted and a
 * CF-Connecting-IP group with its own from); the rest is NAME=VALUE
 * lines (NUL and CR allowed inside).
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
/* SPEC §4.3a: a group entry first, then plain ones. */
static const struct norm_name cf_client[] = {
	{ "HTTP_CF_CONNECTING_IP", 21 }, { "HTTP_FORWARDED", 14 },
	{ "HTTP_X_FORWARDED_FOR", 20 },
};
/* A few of SPEC §4.9's built-in forwarded_params and the headers. */
static const struct norm_name fwd[] = {
	{ "HTTP_FORWARDED", 14 }, { "HTTP_X_FORWARDED_FOR", 20 },
	{ "HTTP_X_FORWARDED_HOST", 21 }, { "HTTP_X_FORWARDED_PROTO", 22 },
	{ "HTTP_X_FORWARDED_PORT", 21 }, { "HTTP_X_FORWARDED_URI", 20 },
	{ "HTTP_X_REAL_IP", 14 }, { "HTTP_CLIENT_IP", 14 },
	{ "HTTP_CF_CONNECTING_IP", 21 }, { "PROXY_PROTOCOL_ADDR", 19 },
	{ "A", 1 },
	{ "A_NAME_OF_SIXTY_FOUR_BYTES_OR_MORE_TO_REACH_THE_LENGTH_FILTER_XX",
	  64 },
};
static const struct norm_name reject[] = { { "PHP_ADMIN_VALUE", 15 } };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cidr_set	*set, *cf;
	static const struct cidr_set *from[3];
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
		cidr_parse("173.245.48.0/20", 15, &c[0]);
		cidr_parse("10.1.0.0/16", 11, &c[1]);
		cf = cidr_set_new(c, 2);
		from[0] = cf;
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
	/* Every certificate source (§4.10), the sizes spread over them. */
	pol.np_cert = (enum norm_cert)(size / 7 % 5);
	/* One input in five counts hops (§4.3c), 1-16 of them. */
	if (size % 5 == 0) {
		pol.np_pick = NORM_PICK_HOPS;
		pol.np_hops = 1 + size / 5 % 16;
	}
	pol.np_assume_secure = (data[0] & 8) != 0;
	pol.np_strip = (data[0] & 16) == 0;
	pol.np_keep = (data[0] & 32) != 0;
	pol.np_trust_unix = (data[0] & 64) != 0;
	if (data[0] & 128) {
		pol.np_client.nn_v = cf_client;
		pol.np_client.nn_n = 3;
		pol.np_client_from = from;
	}
	pol.np_fwd.nn_v = fwd;
	pol.np_fwd.nn_n = sizeof(fwd) / sizeof(fwd[0]);
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
