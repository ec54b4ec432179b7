#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fcgi.h"
#include "tests/unit/util.h"

/* A byte string builder for fixtures. */
struct bytes {
	uint8_t	b[300000];
	size_t	n;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	if (n > 0)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
rec(struct bytes *b, unsigned ver, unsigned type, unsigned id,
    const void *c, size_t clen, unsigned plen)
{
	uint8_t	h[8];

	fcgi_enc_header(h, type, id, (unsigned)clen, plen);
	h[0] = (uint8_t)ver;
	put(b, h, 8);
	put(b, c, clen);
	memset(b->b + b->n, 0, plen);
	b->n += plen;
}

static void
begin(struct bytes *b, unsigned id, unsigned flags)
{
	uint8_t	body[8] = { 0, FCGI_RESPONDER, (uint8_t)flags, 0, 0, 0, 0, 0 };

	rec(b, 1, FCGI_BEGIN_REQUEST, id, body, 8, 0);
}

/* One name-value pair with the given length forms. */
static size_t
pair(uint8_t *o, const char *n, size_t nl, const char *v, size_t vl,
    int longform)
{
	size_t	k = 0;

	if (nl < 128 && !longform) {
		o[k++] = (uint8_t)nl;
	} else {
		o[k++] = (uint8_t)(0x80 | nl >> 24);
		o[k++] = (uint8_t)(nl >> 16);
		o[k++] = (uint8_t)(nl >> 8);
		o[k++] = (uint8_t)nl;
	}
	if (vl < 128 && !longform) {
		o[k++] = (uint8_t)vl;
	} else {
		o[k++] = (uint8_t)(0x80 | vl >> 24);
		o[k++] = (uint8_t)(vl >> 16);
		o[k++] = (uint8_t)(vl >> 8);
		o[k++] = (uint8_t)vl;
	}
	memcpy(o + k, n, nl);
	memcpy(o + k + nl, v, vl);
	return (k + nl + vl);
}

/*
 * Decode buf fed in the pieces that cuts[] gives, and render everything
 * that happened as text: the transcript must not depend on the split.
 */
static const char *
transcript(const uint8_t *buf, size_t len, const size_t *cuts, size_t ncuts,
    size_t limit)
{
	static char		 log[400000];
	struct fcgi_dec		 d;
	struct fcgi_nv		 nv;
	struct fcgi_item	 it;
	struct params		*p = params_new(limit * 2 + 4096);
	enum fcgi_status	 st = FCGI_DEC_MORE;
	size_t			 o = 0, start = 0, end, used, i;
	const uint8_t		*piece;
	char			 content[70000];
	size_t			 clen = 0;

	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_nv_init(&nv, limit);
	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : len;
		piece = guarded_copy(buf + start, end - start);
		used = 0;
		/* Until MORE: an END item may come with no byte left. */
		for (;;) {
			st = fcgi_dec_next(&d, piece, end - start, &used, &it);
			piece += used;
			start += used;
			if (st == FCGI_DEC_MORE)
				break;
			if (st != FCGI_DEC_OK)
				goto out;
			switch (it.i_kind) {
			case FCGI_ITEM_HEADER:
				o += (size_t)snprintf(log + o, sizeof(log) - o,
				    "H%s/%u/%u;", fcgi_type_name(it.i_rec.r_type),
				    it.i_rec.r_id, it.i_rec.r_clen);
				clen = 0;
				break;
			case FCGI_ITEM_CONTENT:
				if (it.i_rec.r_type == FCGI_PARAMS) {
					st = fcgi_nv_feed(&nv, p, it.i_data,
					    it.i_len);
					if (st != FCGI_DEC_MORE)
						goto out;
				} else {
					memcpy(content + clen, it.i_data,
					    it.i_len);
					clen += it.i_len;
				}
				break;
			case FCGI_ITEM_END:
				if (it.i_rec.r_type == FCGI_PARAMS &&
				    it.i_rec.r_clen == 0) {
					if ((st = fcgi_nv_finish(&nv)) !=
					    FCGI_DEC_OK)
						goto out;
					o += (size_t)snprintf(log + o,
					    sizeof(log) - o, "P[%s]",
					    params_to_text(p));
				}
				if (it.i_rec.r_type == FCGI_BEGIN_REQUEST)
					o += (size_t)snprintf(log + o,
					    sizeof(log) - o, "role%u,flags%u;",
					    d.d_role, d.d_flags);
				log[o++] = 'E';
				for (size_t z = 0; z < clen; z++)
					o += (size_t)snprintf(log + o,
					    sizeof(log) - o, content[z] >= 0x20 ?
					    "%c" : "\\%o", content[z]);
				log[o++] = ';';
				clen = 0;
				break;
			}
			st = FCGI_DEC_MORE;
		}
		start = end;
	}
out:
	snprintf(log + o, sizeof(log) - o, "=%s", fcgi_strerror(st));
	params_free(p);
	return (log);
}

/*
 * STYLE S4: every fixture whole, at every 2-way split, and byte by byte.
 * Returns the (identical) transcript.
 */
static const char *
feed_split(const uint8_t *buf, size_t len, size_t limit)
{
	static char	 whole[400000];
	size_t		*cuts = malloc(len * sizeof(size_t));
	size_t		 i, bad = 0;

	snprintf(whole, sizeof(whole), "%s", transcript(buf, len, NULL, 0,
	    limit));
	for (i = 1; i < len; i++)
		if (strcmp(transcript(buf, len, &i, 1, limit), whole) != 0)
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	if (len > 1)
		CU_ASSERT_STRING_EQUAL(transcript(buf, len, cuts, len - 1,
		    limit), whole);
	free(cuts);
	return (whole);
}

static struct bytes B;

static void
test_fcgi_request_any_split(void)
{
	uint8_t		 pp[512];
	size_t		 n, k;
	char		 v200[201];

	memset(v200, 'x', 200);
	v200[200] = '\0';
	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	n = pair(pp, "REMOTE_ADDR", 11, "10.0.0.1", 8, 0);
	k = pair(pp + n, "LONG", 4, v200, 200, 0);
	/* The LONG pair spans two PARAMS records, padded differently. */
	rec(&B, 1, FCGI_PARAMS, 1, pp, n + 10, 3);
	rec(&B, 1, FCGI_PARAMS, 1, pp + n + 10, k - 10, 0);
	n = pair(pp, "E", 1, "", 0, 1);		/* 4-byte forms of 1 and 0 */
	rec(&B, 1, FCGI_PARAMS, 1, pp, n, 7);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, "body", 4, 4);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	if (getenv("FCN_DEBUG"))
		fprintf(stderr, "[%s]\n", feed_split(B.b, B.n, 4096));
	CU_ASSERT_STRING_EQUAL(feed_split(B.b, B.n, 4096),
	    "HBEGIN_REQUEST/1/8;role1,flags1;E;HPARAMS/1/31;E;"
	    "HPARAMS/1/199;E;HPARAMS/1/9;E;HPARAMS/1/0;"
	    "P[REMOTE_ADDR=10.0.0.1\nLONG=" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nE=\n]E;"
	    "HSTDIN/1/4;Ebody;HSTDIN/1/0;E;=need more input");
}

static void
test_fcgi_management_and_abort_relay(void)
{
	uint8_t	pp[64];
	size_t	n = pair(pp, "FCGI_MPXS_CONNS", 15, "", 0, 0);

	B.n = 0;
	rec(&B, 1, FCGI_GET_VALUES, 0, pp, n, 0);
	begin(&B, 7, 0);
	rec(&B, 1, FCGI_ABORT_REQUEST, 7, NULL, 0, 0);
	CU_ASSERT_STRING_EQUAL(feed_split(B.b, B.n, 4096),
	    "HGET_VALUES/0/17;E\\17\\0FCGI_MPXS_CONNS;"
	    "HBEGIN_REQUEST/7/8;role1,flags0;E;HABORT_REQUEST/7/0;E;"
	    "=need more input");
}

struct err_case {
	const char		*name;
	void			(*build)(struct bytes *);
	enum fcgi_status	 want;
};

static void b_version(struct bytes *b) { rec(b, 2, FCGI_BEGIN_REQUEST, 1,
    "\0\1\0\0\0\0\0\0", 8, 0); }
static void b_version0(struct bytes *b) { rec(b, 0, FCGI_STDIN, 1, NULL, 0,
    0); }
static void b_type_stdout(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_STDOUT, 1, NULL, 0, 0); }
static void b_type_99(struct bytes *b) { rec(b, 1, 99, 1, NULL, 0, 0); }
static void b_type_0(struct bytes *b) { rec(b, 1, 0, 1, NULL, 0, 0); }
static void b_id(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 2, NULL, 0, 0); }
static void b_id0_begin(struct bytes *b) { begin(b, 0, 0); }
static void b_getvalues_id(struct bytes *b) { rec(b, 1, FCGI_GET_VALUES, 3,
    NULL, 0, 0); }
static void b_params_first(struct bytes *b) { rec(b, 1, FCGI_PARAMS, 1,
    NULL, 0, 0); }
static void b_stdin_early(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_STDIN, 1, "x", 1, 0); }
static void b_two_begins(struct bytes *b) { begin(b, 1, 0); begin(b, 1, 0); }
static void b_begin_after_stdin(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0);
    rec(b, 1, FCGI_STDIN, 1, NULL, 0, 0); begin(b, 2, 0); }
static void b_begin_in_body(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0);
    rec(b, 1, FCGI_STDIN, 1, "x", 1, 0); begin(b, 2, 0); }
static void b_stdin_after_end(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0);
    rec(b, 1, FCGI_STDIN, 1, NULL, 0, 0);
    rec(b, 1, FCGI_STDIN, 1, "x", 1, 0); }
static void b_params_after_end(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0); }
static void b_begin_len(struct bytes *b) { rec(b, 1, FCGI_BEGIN_REQUEST, 1,
    "\0\1\0\0\0\0\0\0\0", 9, 0); }
static void b_begin_short(struct bytes *b) { rec(b, 1, FCGI_BEGIN_REQUEST,
    1, "\0\1\0\0", 4, 0); }
/* A pair that announces more bytes than the PARAMS stream holds. */
static void b_lying_pair(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, "\x05\x10" "ABCDE" "xyz", 10, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0); }
static void b_cut_length(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, "\x81\x00", 2, 0);
    rec(b, 1, FCGI_PARAMS, 1, NULL, 0, 0); }
static void b_huge_pair(struct bytes *b) { begin(b, 1, 0);
    rec(b, 1, FCGI_PARAMS, 1, "\xff\xff\xff\xff\x01", 5, 0); }
static void b_over_limit(struct bytes *b) { static uint8_t big[5000];
    begin(b, 1, 0); memset(big, 'A', sizeof(big));
    rec(b, 1, FCGI_PARAMS, 1, big, sizeof(big), 0); }

static const struct err_case err_cases[] = {
	{ "version 2", b_version, FCGI_DEC_ERR_VERSION },
	{ "version 0", b_version0, FCGI_DEC_ERR_VERSION },
	{ "STDOUT from the web server", b_type_stdout, FCGI_DEC_ERR_TYPE },
	{ "type 99", b_type_99, FCGI_DEC_ERR_TYPE },
	{ "type 0", b_type_0, FCGI_DEC_ERR_TYPE },
	{ "request id changes", b_id, FCGI_DEC_ERR_ID },
	{ "BEGIN_REQUEST id 0", b_id0_begin, FCGI_DEC_ERR_ID },
	{ "GET_VALUES with an id", b_getvalues_id, FCGI_DEC_ERR_ID },
	{ "PARAMS before BEGIN", b_params_first, FCGI_DEC_ERR_SEQUENCE },
	{ "STDIN before the empty PARAMS", b_stdin_early,
	    FCGI_DEC_ERR_SEQUENCE },
	{ "second BEGIN in flight", b_two_begins, FCGI_DEC_ERR_SEQUENCE },
	{ "BEGIN before END_REQUEST is held", b_begin_after_stdin,
	    FCGI_DEC_HOLD },
	{ "another BEGIN on a full connection while the body is coming",
	    b_begin_in_body, FCGI_DEC_ERR_FULL },
	{ "STDIN after the empty STDIN", b_stdin_after_end,
	    FCGI_DEC_ERR_SEQUENCE },
	{ "PARAMS after the empty PARAMS", b_params_after_end,
	    FCGI_DEC_ERR_SEQUENCE },
	{ "BEGIN body of 9", b_begin_len, FCGI_DEC_ERR_BEGIN },
	{ "BEGIN body of 4", b_begin_short, FCGI_DEC_ERR_BEGIN },
	{ "lying pair length", b_lying_pair, FCGI_DEC_ERR_PAIR },
	{ "length cut by the end of PARAMS", b_cut_length, FCGI_DEC_ERR_PAIR },
	{ "pair length 0x7fffffff", b_huge_pair, FCGI_DEC_ERR_TOOBIG },
	{ "params over the limit", b_over_limit, FCGI_DEC_ERR_TOOBIG },
};

static void
test_fcgi_every_error_status(void)
{
	char		 want[128];
	const char	*got;
	size_t		 i;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		B.n = 0;
		err_cases[i].build(&B);
		snprintf(want, sizeof(want), "=%s",
		    fcgi_strerror(err_cases[i].want));
		got = feed_split(B.b, B.n, 4096);
		CU_ASSERT(strlen(got) >= strlen(want) &&
		    strcmp(got + strlen(got) - strlen(want), want) == 0);
		if (!(strlen(got) >= strlen(want) &&
		    strcmp(got + strlen(got) - strlen(want), want) == 0))
			fprintf(stderr, "\nfcgi case %s: %s\n",
			    err_cases[i].name, got);
	}
}

/* Every prefix of a valid stream is "need more", never an error. */
static void
test_fcgi_truncation_points(void)
{
	uint8_t		pp[64];
	size_t		n = pair(pp, "A", 1, "B", 1, 0), i;
	const char	*t;

	B.n = 0;
	begin(&B, 1, 0);
	rec(&B, 1, FCGI_PARAMS, 1, pp, n, 4);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	for (i = 0; i <= B.n; i++) {
		t = transcript(B.b, i, NULL, 0, 4096);
		CU_ASSERT(strstr(t, "=need more input") != NULL);
	}
}

static void
test_fcgi_length_boundaries(void)
{
	static const size_t lens[] = { 0, 1, 127, 128, 255, 256, 65535,
	    65536, 70000 };
	static char	 val[70001], want[80000];
	uint8_t		*pp = malloc(80000);
	size_t		 i, n, k;

	memset(val, 'v', sizeof(val) - 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		B.n = 0;
		begin(&B, 1, 0);
		n = pair(pp, "N", 1, val, lens[i], 0);
		/* Spread the pair over as many records as it needs. */
		for (k = 0; k < n; k += 65535)
			rec(&B, 1, FCGI_PARAMS, 1, pp + k,
			    n - k > 65535 ? 65535 : n - k, 0);
		rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
		/* 1-byte form below 128, 4-byte from 128 on. */
		CU_ASSERT_EQUAL(n, 1 + (lens[i] < 128 ? 1 : 4) + 1 + lens[i]);
		snprintf(want, sizeof(want), "P[N=%.*s\n]", (int)lens[i], val);
		CU_ASSERT(strstr(transcript(B.b, B.n, NULL, 0, 131072), want)
		    != NULL);
	}
	/* The same value in the 4-byte form below 128 is legal too. */
	B.n = 0;
	begin(&B, 1, 0);
	n = pair(pp, "N", 1, val, 127, 1);
	rec(&B, 1, FCGI_PARAMS, 1, pp, n, 0);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	CU_ASSERT(strstr(transcript(B.b, B.n, NULL, 0, 4096),
	    "=need more input") != NULL);
	free(pp);
}

/* Decode what fcgi_enc_params wrote; checks php-fpm's record rules. */
static void
check_encoded(const uint8_t *o, size_t len, const struct params *want,
    unsigned id)
{
	struct fcgi_dec		 d;
	struct fcgi_nv		 nv;
	struct fcgi_item	 it;
	struct params		*p = params_new(1 << 20);
	size_t			 used, off = 0, recs = 0;
	enum fcgi_status	 st;
	char			*w;

	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	/* Request id in flight, its params coming. */
	d.d_slot[0].s_id = (uint16_t)id;
	d.d_slot[0].s_phase = FCGI_PHASE_PARAMS;
	d.d_live = 1;
	fcgi_nv_init(&nv, 1 << 20);
	for (;;) {
		st = fcgi_dec_next(&d, o + off, len - off, &used, &it);
		off += used;
		if (st != FCGI_DEC_OK)
			break;
		if (it.i_kind == FCGI_ITEM_HEADER) {
			recs++;
			CU_ASSERT(it.i_rec.r_clen <= FCGI_ENC_MAX_CONTENT);
			CU_ASSERT((it.i_rec.r_clen + it.i_rec.r_plen) % 8 == 0);
			/* Each record holds whole pairs: it starts fresh. */
			CU_ASSERT(fcgi_nv_finish(&nv) == FCGI_DEC_OK);
		} else if (it.i_kind == FCGI_ITEM_CONTENT) {
			fcgi_nv_feed(&nv, p, it.i_data, it.i_len);
		}
	}
	CU_ASSERT_EQUAL(off, len);
	CU_ASSERT_EQUAL(fcgi_dec_phase(&d, 0), FCGI_PHASE_BODY);
	w = strdup(params_to_text(want));
	CU_ASSERT_STRING_EQUAL(params_to_text(p), w);
	free(w);
	params_free(p);
	(void)recs;
}

static void
test_fcgi_encoder_packs_whole_pairs(void)
{
	struct params	*p = params_new(1 << 20);
	static char	 big[65600];
	uint8_t		*o;
	size_t		 need, need2, i;

	params_from_text(p, "A=1\nB=2\n");
	params_remove(p, PARAMS_STR("A"));
	memset(big, 'x', sizeof(big));
	/* Pairs of 40,000 bytes: one per record, never split. */
	for (i = 0; i < 3; i++)
		params_append(p, "BIG", 3, big, 40000);
	/* Exactly a full record: 1 + 4 + 3 + 65520 = 65528. */
	params_append(p, "MAX", 3, big, 65520);
	CU_ASSERT_EQUAL(fcgi_enc_params(p, 1, NULL, 0, &need), FCGI_DEC_OK);
	o = malloc(need);
	CU_ASSERT_EQUAL(fcgi_enc_params(p, 1, o, need - 1, &need2),
	    FCGI_DEC_ERR_SPACE);
	CU_ASSERT_EQUAL(fcgi_enc_params(p, 1, o, need, &need2), FCGI_DEC_OK);
	CU_ASSERT_EQUAL(need, need2);
	check_encoded(o, need, p, 1);
	free(o);
	/* One byte more than a record can hold: 431, not a split pair. */
	params_append(p, "MAX", 3, big, 65521);
	CU_ASSERT_EQUAL(fcgi_enc_params(p, 1, NULL, 0, &need),
	    FCGI_DEC_ERR_TOOBIG);
	params_free(p);
}

static void
test_fcgi_encoder_many_small_pairs(void)
{
	struct params	*p = params_new(1 << 20);
	uint8_t		*o;
	size_t		 need, i;
	char		 name[16];

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "P%zu", i);
		params_append(p, name, strlen(name), "value-value-value", 17);
	}
	fcgi_enc_params(p, 9, NULL, 0, &need);
	o = malloc(need);
	CU_ASSERT_EQUAL(fcgi_enc_params(p, 9, o, need, &need), FCGI_DEC_OK);
	CU_ASSERT_EQUAL(o[2] << 8 | o[3], 9);
	check_encoded(o, need, p, 9);
	free(o);
	params_free(p);
}

static void
test_fcgi_response_decodes_as_app(void)
{
	uint8_t			 o[256];
	struct fcgi_dec		 d;
	struct fcgi_item	 it;
	size_t			 n, used, off = 0;
	char			 types[64] = "";
	const char		*m = "Status: 502 Bad Gateway\r\n\r\nx\n";

	n = fcgi_enc_response(3, m, strlen(m), o, sizeof(o));
	CU_ASSERT(n > 0 && n % 8 == 0);
	CU_ASSERT_EQUAL(fcgi_enc_response(3, m, strlen(m), o, 20), 0);
	fcgi_dec_init(&d, FCGI_SIDE_APP);
	while (off < n && fcgi_dec_next(&d, o + off, n - off, &used, &it) ==
	    FCGI_DEC_OK) {
		off += used;
		if (it.i_kind == FCGI_ITEM_HEADER)
			strcat(types, fcgi_type_name(it.i_rec.r_type)),
			strcat(types, ",");
	}
	CU_ASSERT_STRING_EQUAL(types, "STDOUT,STDOUT,END_REQUEST,");
	/* The app side refuses request records. */
	fcgi_dec_init(&d, FCGI_SIDE_APP);
	n = fcgi_enc_begin(1, FCGI_RESPONDER, 0, o);
	CU_ASSERT_EQUAL(fcgi_dec_next(&d, o, n, &used, &it),
	    FCGI_DEC_ERR_TYPE);
}

static void
test_fcgi_keep_conn_second_request(void)
{
	struct fcgi_dec		 d;
	struct fcgi_item	 it;
	size_t			 used, off = 0;
	enum fcgi_status	 st;
	int			 ends = 0;

	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	begin(&B, 1, FCGI_KEEP_CONN);
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	while ((st = fcgi_dec_next(&d, B.b + off, B.n - off, &used, &it)) ==
	    FCGI_DEC_OK) {
		off += used;
		if (it.i_kind == FCGI_ITEM_END &&
		    it.i_rec.r_type == FCGI_STDIN) {
			ends++;
			/* The daemon relayed END_REQUEST. */
			fcgi_dec_end(&d, it.i_slot, 0);
		}
	}
	CU_ASSERT_EQUAL(st, FCGI_DEC_MORE);
	CU_ASSERT_EQUAL(ends, 1);
	CU_ASSERT_EQUAL(d.d_live, 1);
	CU_ASSERT_EQUAL(fcgi_dec_phase(&d, 0), FCGI_PHASE_PARAMS);
	CU_ASSERT_EQUAL(d.d_flags, FCGI_KEEP_CONN);
}

/*
 * Decode what follows an ended request: d is a decoder on which a request
 * was answered while its body was still open (Apache's late empty STDIN).
 * Renders items as in transcript(); ends with "=status".
 */
static const char *
after_done(const struct fcgi_dec *start, const uint8_t *buf, size_t len,
    size_t cut)
{
	static char		 log[1024];
	struct fcgi_dec		 d = *start;
	struct fcgi_item	 it;
	enum fcgi_status	 st = FCGI_DEC_MORE;
	size_t			 o = 0, off = 0, end, used;

	log[0] = '\0';
	for (end = cut; off < len || st == FCGI_DEC_OK; end = len) {
		const uint8_t *piece = guarded_copy(buf + off, end - off);

		for (;;) {
			st = fcgi_dec_next(&d, piece, end - off, &used, &it);
			piece += used;
			off += used;
			if (st != FCGI_DEC_OK)
				break;
			if (it.i_kind == FCGI_ITEM_HEADER)
				o += (size_t)snprintf(log + o, sizeof(log) - o,
				    "H%s/%u/%u;", fcgi_type_name(
				    it.i_rec.r_type), it.i_rec.r_id,
				    it.i_rec.r_clen);
		}
		if (st != FCGI_DEC_MORE || end == len)
			break;
	}
	snprintf(log + o, sizeof(log) - o, "=%s", fcgi_strerror(st));
	return (log);
}

/* A decoder whose request 1 was answered before its empty STDIN. */
static void
answered_early(struct fcgi_dec *d)
{
	struct fcgi_item	it;
	size_t			used, off = 0;

	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, "x", 1, 0);
	fcgi_dec_init(d, FCGI_SIDE_WEBSERVER);
	while (fcgi_dec_next(d, B.b + off, B.n - off, &used, &it) ==
	    FCGI_DEC_OK)
		off += used;
	CU_ASSERT_EQUAL(fcgi_dec_phase(d, 0), FCGI_PHASE_BODY);
	fcgi_dec_end(d, 0, 0);	/* php-fpm's END_REQUEST relayed */
}

static void
test_fcgi_late_empty_stdin_skipped(void)
{
	struct fcgi_dec	d;
	size_t		cut;
	const char	*got, *want;

	/* Skipped, with padding, then the next request (Apache reuses 1). */
	answered_early(&d);
	B.n = 0;
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 5);
	rec(&B, 1, FCGI_DATA, 1, NULL, 0, 0);
	begin(&B, 1, 0);
	want = "HBEGIN_REQUEST/1/8;=need more input";
	for (cut = 0; cut <= B.n; cut++) {
		got = after_done(&d, B.b, B.n, cut);
		CU_ASSERT_STRING_EQUAL(got, want);
	}
	/* Only that: once the next request began, it is out of sequence. */
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	CU_ASSERT_STRING_EQUAL(after_done(&d, B.b, B.n, 0),
	    "HBEGIN_REQUEST/1/8;=record out of sequence");
	/* A late STDIN with content, or of another request: an error. */
	B.n = 0;
	rec(&B, 1, FCGI_STDIN, 1, "y", 1, 0);
	CU_ASSERT_STRING_EQUAL(after_done(&d, B.b, B.n, 0),
	    "=record out of sequence");
	B.n = 0;
	rec(&B, 1, FCGI_STDIN, 2, NULL, 0, 0);
	CU_ASSERT_STRING_EQUAL(after_done(&d, B.b, B.n, 0),
	    "=record out of sequence");
	B.n = 0;
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	CU_ASSERT_STRING_EQUAL(after_done(&d, B.b, B.n, 0),
	    "=record out of sequence");
}

/* HAProxy "option mpxs-conns": the second request waits for the first. */
static void
test_fcgi_second_begin_held(void)
{
	struct fcgi_dec		 d;
	struct fcgi_item	 it;
	size_t			 used, off = 0, cut;
	enum fcgi_status	 st;

	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	cut = B.n;
	begin(&B, 2, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 2, NULL, 0, 0);
	for (size_t split = cut; split <= cut + 8; split++) {
		fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
		off = 0;
		while ((st = fcgi_dec_next(&d, B.b + off, split - off, &used,
		    &it)) == FCGI_DEC_OK)
			off += used;
		off += used;
		if (split < cut + 8) {
			CU_ASSERT_EQUAL(st, FCGI_DEC_MORE);
			st = fcgi_dec_next(&d, B.b + off, cut + 8 - off,
			    &used, &it);
			off += used;
		}
		CU_ASSERT_EQUAL(st, FCGI_DEC_HOLD);
		CU_ASSERT_EQUAL(off, cut + 8);
		/* Still held, with or without input. */
		CU_ASSERT_EQUAL(fcgi_dec_next(&d, B.b + off, 0, &used, &it),
		    FCGI_DEC_HOLD);
		CU_ASSERT_EQUAL(fcgi_dec_next(&d, B.b + off, B.n - off,
		    &used, &it), FCGI_DEC_HOLD);
		CU_ASSERT_EQUAL(used, 0);
		fcgi_dec_end(&d, 0, 0);
		st = fcgi_dec_next(&d, B.b + off, 0, &used, &it);
		CU_ASSERT_EQUAL(st, FCGI_DEC_OK);
		CU_ASSERT_EQUAL(it.i_kind, FCGI_ITEM_HEADER);
		CU_ASSERT_EQUAL(it.i_rec.r_type, FCGI_BEGIN_REQUEST);
		CU_ASSERT_EQUAL(it.i_rec.r_id, 2);
		while ((st = fcgi_dec_next(&d, B.b + off, B.n - off, &used,
		    &it)) == FCGI_DEC_OK)
			off += used;
		CU_ASSERT_EQUAL(st, FCGI_DEC_MORE);
		CU_ASSERT_EQUAL(d.d_slot[0].s_id, 2);
		CU_ASSERT_EQUAL(fcgi_dec_phase(&d, 0), FCGI_PHASE_BODY);
	}
}

/*
 * Decode B from off until the decoder stops; records (END items) and
 * CONTENT bytes are counted per id, and every item's slot must hold its
 * record's id.
 */
static enum fcgi_status
mux_run(struct fcgi_dec *d, size_t *off, size_t step, unsigned *recs,
    size_t *bytes)
{
	struct fcgi_item	 it;
	enum fcgi_status	 st;
	size_t			 used, n;

	for (;;) {
		n = B.n - *off < step ? B.n - *off : step;
		st = fcgi_dec_next(d, B.b + *off, n, &used, &it);
		*off += used;
		if (st == FCGI_DEC_MORE && *off < B.n)
			continue;
		if (st != FCGI_DEC_OK)
			return (st);
		if (it.i_rec.r_id == 0) {
			CU_ASSERT_EQUAL(it.i_slot, -1);
		} else if (it.i_slot >= 0) {
			CU_ASSERT_EQUAL(d->d_slot[it.i_slot].s_id,
			    it.i_rec.r_id);
		}
		if (it.i_kind == FCGI_ITEM_END)
			recs[it.i_rec.r_id]++;
		else if (it.i_kind == FCGI_ITEM_CONTENT)
			bytes[it.i_rec.r_id] += it.i_len;
	}
}

/* The slot of id, -1 when it is not in flight. */
static int
slot_of(const struct fcgi_dec *d, unsigned id)
{
	int	i;

	for (i = 0; i < FCGI_REQS_MAX; i++)
		if (d->d_slot[i].s_id == id)
			return (i);
	return (-1);
}

/*
 * SPEC §5.4, issue 20: the interleaving that stalled the old core, three
 * requests on a connection of three, one pair split across id 1's two
 * PARAMS records; routed by slot at every split, nothing held.
 */
static void
test_fcgi_interleaved_three(void)
{
	struct fcgi_dec		 d;
	size_t			 off, bytes[8], step;
	unsigned		 recs[8];
	enum fcgi_status	 st;

	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	begin(&B, 2, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, "\001\003ab", 4, 4);	/* cut pair */
	rec(&B, 1, FCGI_PARAMS, 2, "\001\001xy", 4, 4);
	begin(&B, 3, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, "cd", 2, 6);
	rec(&B, 1, FCGI_PARAMS, 3, "\001\001zz", 4, 0);
	rec(&B, 1, FCGI_PARAMS, 2, NULL, 0, 0);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 2, NULL, 0, 0);
	rec(&B, 1, FCGI_PARAMS, 3, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 3, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	for (step = 1; step <= B.n; step += step < 20 ? 1 : 7) {
		fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
		fcgi_dec_set_cap(&d, 3);
		memset(recs, 0, sizeof(recs));
		memset(bytes, 0, sizeof(bytes));
		off = 0;
		st = mux_run(&d, &off, step, recs, bytes);
		CU_ASSERT_EQUAL(st, FCGI_DEC_MORE);
		CU_ASSERT_EQUAL(off, B.n);
		CU_ASSERT_EQUAL(recs[1], 5);
		CU_ASSERT_EQUAL(recs[2], 4);
		CU_ASSERT_EQUAL(recs[3], 4);
		CU_ASSERT_EQUAL(bytes[1], 6);
		CU_ASSERT_EQUAL(d.d_live, 3);
		CU_ASSERT_EQUAL(fcgi_dec_phase(&d, slot_of(&d, 1)),
		    FCGI_PHASE_DONE);
		CU_ASSERT_EQUAL(fcgi_dec_phase(&d, slot_of(&d, 3)),
		    FCGI_PHASE_DONE);
	}
}

/* SPEC §5.4: records of several requests interleaved on one connection. */
static void
test_fcgi_mux_routes_by_id(void)
{
	struct fcgi_dec		 d;
	size_t			 off, bytes[8], step;
	unsigned		 recs[8];
	enum fcgi_status	 st;

	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_PARAMS, 1, "\001\001ab", 4, 4);
	rec(&B, 1, FCGI_PARAMS, 1, NULL, 0, 0);
	begin(&B, 2, FCGI_KEEP_CONN);
	rec(&B, 1, FCGI_STDIN, 1, "body", 4, 0);	/* 1's body after 2 began */
	rec(&B, 1, FCGI_PARAMS, 2, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 2, NULL, 0, 0);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	rec(&B, 1, FCGI_GET_VALUES, 0, NULL, 0, 0);
	for (step = 1; step <= B.n; step += step < 20 ? 1 : 13) {
		fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
		fcgi_dec_set_cap(&d, 16);
		memset(recs, 0, sizeof(recs));
		memset(bytes, 0, sizeof(bytes));
		off = 0;
		st = mux_run(&d, &off, step, recs, bytes);
		CU_ASSERT_EQUAL(st, FCGI_DEC_MORE);
		CU_ASSERT_EQUAL(off, B.n);
		CU_ASSERT_EQUAL(recs[1], 5);
		CU_ASSERT_EQUAL(recs[2], 3);
		CU_ASSERT_EQUAL(recs[0], 1);
		/* A BEGIN body is the decoder's (d_role, d_flags). */
		CU_ASSERT_EQUAL(bytes[1], 4 + 4);
		CU_ASSERT_EQUAL(bytes[2], 0);
		CU_ASSERT(slot_of(&d, 1) >= 0 && slot_of(&d, 2) >= 0);
		CU_ASSERT_EQUAL(d.d_live, 2);
	}
}

/*
 * A full connection: the next BEGIN waits only while every request in
 * flight has all its input, else it is refused (never a silent stall);
 * what comes for an ended id is skipped; a record for an id never begun,
 * or a second BEGIN for a live one, is an error.
 */
static void
test_fcgi_mux_holds_and_skips(void)
{
	struct fcgi_dec		 d;
	size_t			 off = 0, bytes[FCGI_REQS_MAX + 2];
	unsigned		 recs[FCGI_REQS_MAX + 2], id;

	/* Two on a connection of one while the first sends params. */
	B.n = 0;
	begin(&B, 1, FCGI_KEEP_CONN);
	begin(&B, 2, FCGI_KEEP_CONN);
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	memset(recs, 0, sizeof(recs));
	memset(bytes, 0, sizeof(bytes));
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes),
	    FCGI_DEC_ERR_FULL);
	/* Two at once on a connection of two: no hold. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 2);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes), FCGI_DEC_MORE);
	CU_ASSERT_EQUAL(d.d_live, 2);
	/* Request 1 answered early (cut): the rest of 1 is skipped. */
	fcgi_dec_end(&d, slot_of(&d, 1), 1);
	B.n = 0;
	rec(&B, 1, FCGI_PARAMS, 1, "\001\001ab", 4, 4);
	rec(&B, 1, FCGI_STDIN, 1, NULL, 0, 0);
	off = 0;
	memset(recs, 0, sizeof(recs));
	memset(bytes, 0, sizeof(bytes));
	CU_ASSERT_EQUAL(mux_run(&d, &off, 3, recs, bytes), FCGI_DEC_MORE);
	CU_ASSERT_EQUAL(off, B.n);
	CU_ASSERT_EQUAL(recs[1] + bytes[1], 0);
	/* FCGI_REQS_MAX in flight, all input in: the next is held. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 100);	/* clamped to FCGI_REQS_MAX */
	B.n = 0;
	for (id = 1; id <= FCGI_REQS_MAX + 1; id++) {
		begin(&B, id, FCGI_KEEP_CONN);
		rec(&B, 1, FCGI_PARAMS, id, NULL, 0, 0);
		rec(&B, 1, FCGI_STDIN, id, NULL, 0, 0);
	}
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes), FCGI_DEC_HOLD);
	CU_ASSERT_EQUAL(d.d_live, FCGI_REQS_MAX);
	fcgi_dec_end(&d, slot_of(&d, 5), 0);
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes), FCGI_DEC_MORE);
	CU_ASSERT(slot_of(&d, FCGI_REQS_MAX + 1) >= 0);
	CU_ASSERT(slot_of(&d, 5) < 0);
	/* ... but refused while one of them still sends its body. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, FCGI_REQS_MAX);
	B.n = 0;
	for (id = 1; id <= FCGI_REQS_MAX + 1; id++) {
		begin(&B, id, FCGI_KEEP_CONN);
		rec(&B, 1, FCGI_PARAMS, id, NULL, 0, 0);
		if (id != 7)
			rec(&B, 1, FCGI_STDIN, id, NULL, 0, 0);
	}
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes),
	    FCGI_DEC_ERR_FULL);
	/* A live id begun again; an id never begun; request id 0. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 4);
	B.n = 0;
	begin(&B, 3, FCGI_KEEP_CONN);
	begin(&B, 3, FCGI_KEEP_CONN);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes),
	    FCGI_DEC_ERR_SEQUENCE);
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 4);
	B.n = 0;
	rec(&B, 1, FCGI_STDIN, 9, NULL, 0, 0);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes), FCGI_DEC_ERR_ID);
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	B.n = 0;
	begin(&B, 0, 0);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes), FCGI_DEC_ERR_ID);
	/* A BEGIN_REQUEST body of 7 bytes takes no slot. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	fcgi_dec_set_cap(&d, 4);
	B.n = 0;
	rec(&B, 1, FCGI_BEGIN_REQUEST, 4, "1234567", 7, 1);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes),
	    FCGI_DEC_ERR_BEGIN);
	CU_ASSERT_EQUAL(d.d_live, 0);
	/* Response types are not the web server's. */
	fcgi_dec_init(&d, FCGI_SIDE_WEBSERVER);
	B.n = 0;
	rec(&B, 1, FCGI_STDOUT, 1, NULL, 0, 0);
	off = 0;
	CU_ASSERT_EQUAL(mux_run(&d, &off, B.n, recs, bytes),
	    FCGI_DEC_ERR_TYPE);
}

void
suite_fcgi(void)
{
	CU_pSuite	s = CU_add_suite("fcgi", NULL, NULL);

	ADD_TEST(s, "fcgi: a request decodes the same at any split",
	    test_fcgi_request_any_split);
	ADD_TEST(s, "fcgi: three interleaved requests, a pair cut across records",
	    test_fcgi_interleaved_three);
	ADD_TEST(s, "fcgi: mux routes interleaved requests by id",
	    test_fcgi_mux_routes_by_id);
	ADD_TEST(s, "fcgi: full: held only when all input is in; skips; refuses",
	    test_fcgi_mux_holds_and_skips);
	ADD_TEST(s, "fcgi: GET_VALUES and ABORT_REQUEST are relayed",
	    test_fcgi_management_and_abort_relay);
	ADD_TEST(s, "fcgi: one malformed stream per error status",
	    test_fcgi_every_error_status);
	ADD_TEST(s, "fcgi: every truncation point needs more, no error",
	    test_fcgi_truncation_points);
	ADD_TEST(s, "fcgi: lengths at 0/127/128/65535/65536 and 4-byte form",
	    test_fcgi_length_boundaries);
	ADD_TEST(s, "fcgi: encoder packs whole pairs, <= 65528, pad to 8",
	    test_fcgi_encoder_packs_whole_pairs);
	ADD_TEST(s, "fcgi: encoder with 5,000 small pairs",
	    test_fcgi_encoder_many_small_pairs);
	ADD_TEST(s, "fcgi: daemon responses decode on the app side",
	    test_fcgi_response_decodes_as_app);
	ADD_TEST(s, "fcgi: FCGI_KEEP_CONN allows the next BEGIN after END",
	    test_fcgi_keep_conn_second_request);
	ADD_TEST(s, "fcgi: a late empty STDIN of the ended request is skipped",
	    test_fcgi_late_empty_stdin_skipped);
	ADD_TEST(s, "fcgi: a second BEGIN waits until the first request ends",
	    test_fcgi_second_begin_held);
}
