#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/scgi.h"
#include "tests/unit/util.h"

/* Decode in the pieces cuts[] gives; render status, params, length. */
static const char *
run(const void *in, size_t len, size_t step, size_t limit)
{
	static char		 out[8192];
	static uint8_t		 hdr[4096];
	struct scgi_dec		 d;
	struct params		*p = params_new(16384);
	enum scgi_status	 st = SCGI_MORE;
	size_t			 off = 0, n, used;
	uint64_t		 cl = 0;
	const uint8_t		*piece;

	scgi_dec_init(&d, hdr, sizeof(hdr), limit);
	while (off < len) {
		n = step && step < len - off ? step : len - off;
		piece = guarded_copy((const uint8_t *)in + off, n);
		st = scgi_dec_feed(&d, piece, n, &used);
		off += used;
		if (st != SCGI_MORE)
			break;
	}
	if (st == SCGI_OK)
		st = scgi_parse(&d, p, &cl);
	snprintf(out, sizeof(out), "%s|%llu|%zu|%s", scgi_strerror(st),
	    (unsigned long long)cl, off, st == SCGI_OK ? params_to_text(p) :
	    "");
	params_free(p);
	return (out);
}

struct scgi_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;
};

#define S(x)	x, sizeof(x) - 1
static const struct scgi_case cases[] = {
	{ "nginx-like header then body",
	  S("65:CONTENT_LENGTH\0" "4\0SCGI\0" "1\0REQUEST_METHOD\0POST\0"
	  "REMOTE_ADDR\0" "10.0.0.1\0,body"),
	  "ok|4|69|CONTENT_LENGTH=4\nREQUEST_METHOD=POST\n"
	  "REMOTE_ADDR=10.0.0.1\n" },
	{ "empty value", S("27:CONTENT_LENGTH\0" "0\0SCGI\0" "1\0X\0\0,"),
	  "ok|0|31|CONTENT_LENGTH=0\nX=\n" },
	{ "length not digits", S("7a:xxxxxxx,"), "bad netstring length|0|1|" },
	{ "no digits", S(":x,"), "bad netstring length|0|0|" },
	{ "leading zero", S("07:abcdefg,"), "bad netstring length|0|1|" },
	{ "over the limit", S("5000:"),
	  "SCGI header larger than max_params_bytes|0|4|" },
	{ "ten digits", S("00000000000:"), "bad netstring length|0|1|" },
	{ "no comma", S("3:abc;"), "netstring not closed by ','|0|5|" },
	{ "unterminated pair",
	  S("23:CONTENT_LENGTH\0" "0\0SCGI\0" "1,"),
	  "malformed SCGI header pairs|0|27|" },
	{ "empty name", S("27:CONTENT_LENGTH\0" "0\0SCGI\0" "1\0\0x\0,"),
	  "malformed SCGI header pairs|0|31|" },
	{ "CONTENT_LENGTH not first",
	  S("27:SCGI\0" "1\0CONTENT_LENGTH\0" "0\0X\0\0,"),
	  "first SCGI header is not a valid CONTENT_LENGTH|0|31|" },
	{ "CONTENT_LENGTH not a number",
	  S("25:CONTENT_LENGTH\0-1\0SCGI\0" "1\0,"),
	  "first SCGI header is not a valid CONTENT_LENGTH|0|29|" },
	{ "SCGI missing", S("20:CONTENT_LENGTH\0" "0\0X\0\0,"),
	  "SCGI=1 missing|0|24|" },
	{ "SCGI=2", S("24:CONTENT_LENGTH\0" "0\0SCGI\0" "2\0,"),
	  "SCGI=1 missing|0|28|" },
	{ "empty netstring", S("0:,"),
	  "first SCGI header is not a valid CONTENT_LENGTH|0|3|" },
	{ NULL, NULL, 0, NULL },
};

static void
test_scgi_table_any_split(void)
{
	const struct scgi_case	*k;
	char			 whole[8192];
	size_t			 step;
	int			 bad = 0;

	for (k = cases; k->name != NULL; k++) {
		snprintf(whole, sizeof(whole), "%s", run(k->in, k->len, 0,
		    2048));
		if (strcmp(whole, k->want) != 0) {
			fprintf(stderr, "\nscgi case %s: %s\n", k->name, whole);
			bad++;
		}
		/* The status must not depend on how the bytes arrive. */
		for (step = 1; step < k->len; step++)
			if (strcmp(run(k->in, k->len, step, 2048), whole) != 0) {
				fprintf(stderr, "\nscgi case %s step %zu: %s\n",
				    k->name, step, run(k->in, k->len, step,
				    2048));
				bad++;
				break;
			}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_scgi_truncation_and_limit(void)
{
	static const char in[] = "24:CONTENT_LENGTH\0" "0\0SCGI\0" "1\0,";
	size_t	i;

	for (i = 0; i < sizeof(in) - 1; i++)
		CU_ASSERT(strncmp(run(in, i, 0, 2048), "need more input", 15)
		    == 0);
	/* Exactly at the limit passes; one byte over is refused early. */
	CU_ASSERT(strncmp(run(in, sizeof(in) - 1, 0, 24), "ok", 2) == 0);
	CU_ASSERT(strncmp(run(in, sizeof(in) - 1, 0, 23), "SCGI header "
	    "larger", 18) == 0);
}

void
suite_scgi(void)
{
	CU_pSuite	s = CU_add_suite("scgi", NULL, NULL);

	ADD_TEST(s, "scgi: every status, at any split, on guard pages",
	    test_scgi_table_any_split);
	ADD_TEST(s, "scgi: truncation points and the size limit",
	    test_scgi_truncation_and_limit);
}
