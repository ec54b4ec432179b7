#include <string.h>

#include "tests/unit/util.h"

static struct params *
mk(const char *text, size_t cap)
{
	struct params	*p = params_new(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	params_from_text(p, text);
	return (p);
}

static void
test_params_order_kept(void)
{
	struct params	*p = mk("A=1\nB=2\nC=3\n", 4096);

	CU_ASSERT_EQUAL(params_remove(p, PARAMS_STR("B")), 1);
	CU_ASSERT_EQUAL(params_set(p, PARAMS_STR("A"), "xx", 2), PARAMS_OK);
	CU_ASSERT_EQUAL(params_set(p, PARAMS_STR("D"), "4", 1), PARAMS_OK);
	CU_ASSERT_STRING_EQUAL(params_to_text(p), "A=xx\nC=3\nD=4\n");
	CU_ASSERT_EQUAL(p->p_live, 3);
	params_free(p);
}

static void
test_params_set_removes_duplicates(void)
{
	struct params	*p = mk("HTTPS=off\nX=1\nHTTPS=on\nHTTPS=\n", 4096);

	CU_ASSERT_EQUAL(params_set(p, PARAMS_STR("HTTPS"), "on", 2),
	    PARAMS_OK);
	CU_ASSERT_STRING_EQUAL(params_to_text(p), "HTTPS=on\nX=1\n");
	params_free(p);
}

static void
test_params_join(void)
{
	struct params	*p = mk("XFF=a\nY=1\nXFF=b\nXFF=c\n", 4096);

	CU_ASSERT_EQUAL(params_join(p, PARAMS_STR("XFF"), ", ", 2), 3);
	CU_ASSERT_STRING_EQUAL(params_to_text(p), "XFF=a, b, c\nY=1\n");
	CU_ASSERT_EQUAL(params_join(p, PARAMS_STR("XFF"), ", ", 2), 1);
	CU_ASSERT_EQUAL(params_join(p, PARAMS_STR("NONE"), ", ", 2), 0);
	params_free(p);
}

static void
test_params_full_is_a_status(void)
{
	struct params	*p = params_new(64);
	char		 big[64];
	int		 i, n = 0;

	memset(big, 'v', sizeof(big));
	CU_ASSERT_EQUAL(params_append(p, "N", 1, big, sizeof(big)),
	    PARAMS_ERR_FULL);
	for (i = 0; i < 100; i++)
		if (params_append(p, "N", 1, "v", 1) == PARAMS_OK)
			n++;
	CU_ASSERT(n > 0 && n < 100);
	CU_ASSERT_EQUAL(params_set(p, PARAMS_STR("N"), big, 40),
	    PARAMS_ERR_FULL);
	params_free(p);
	p = params_new(128);
	params_append(p, "N", 1, big, 30);
	params_append(p, "N", 1, big, 30);
	CU_ASSERT_EQUAL(params_join(p, PARAMS_STR("N"), ", ", 2), -1);
	CU_ASSERT_EQUAL(p->p_live, 2);		/* unchanged */
	params_free(p);
}

static void
test_params_prepend_and_find(void)
{
	struct params	*p = mk("S=/index.php\nS=/x\n", 4096);

	CU_ASSERT_EQUAL(params_find(p, PARAMS_STR("S")), 0);
	CU_ASSERT_EQUAL(params_find_next(p, 0, PARAMS_STR("S")), 1);
	CU_ASSERT_EQUAL(params_prepend_at(p, 0, "/m", 2), PARAMS_OK);
	CU_ASSERT_STRING_EQUAL(params_to_text(p), "S=/m/index.php\nS=/x\n");
	params_reset(p);
	CU_ASSERT_EQUAL(p->p_count, 0);
	CU_ASSERT_EQUAL(params_find(p, PARAMS_STR("S")), -1);
	params_free(p);
}

/* Which requests may run twice (a retry after php-fpm may have read it). */
static void
test_params_idempotent(void)
{
	static const struct {
		const char	*text;
		int		 want;
	} c[] = {
		{ "REQUEST_METHOD=GET\n", 1 }, { "REQUEST_METHOD=HEAD\n", 1 },
		{ "REQUEST_METHOD=PUT\n", 1 },
		{ "REQUEST_METHOD=DELETE\n", 1 },
		{ "REQUEST_METHOD=OPTIONS\n", 1 },
		{ "REQUEST_METHOD=TRACE\n", 1 },
		{ "REQUEST_METHOD=POST\n", 0 }, { "REQUEST_METHOD=PATCH\n", 0 },
		{ "REQUEST_METHOD=LOCK\n", 0 }, { "REQUEST_METHOD=get\n", 0 },
		{ "REQUEST_METHOD=GETX\n", 0 }, { "REQUEST_METHOD=GE\n", 0 },
		{ "REQUEST_METHOD=\n", 0 }, { "SCRIPT_NAME=/x\n", 0 },
		{ "", 0 },
		/* php-fpm reads the last occurrence. */
		{ "REQUEST_METHOD=GET\nREQUEST_METHOD=POST\n", 0 },
		{ "REQUEST_METHOD=POST\nREQUEST_METHOD=GET\n", 1 },
	};
	struct params	*p;
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		p = mk(c[i].text, 4096);
		CU_ASSERT_EQUAL(params_idempotent(p), c[i].want);
		params_free(p);
	}
	p = mk("REQUEST_METHOD=POST\nREQUEST_METHOD=GET\n", 4096);
	params_remove_at(p, 1);		/* the removed one does not count */
	CU_ASSERT_EQUAL(params_idempotent(p), 0);
	params_free(p);
}

void
suite_params(void)
{
	CU_pSuite	s = CU_add_suite("params", NULL, NULL);

	ADD_TEST(s, "params: order kept through set/remove/append",
	    test_params_order_kept);
	ADD_TEST(s, "params: set leaves exactly one occurrence",
	    test_params_set_removes_duplicates);
	ADD_TEST(s, "params: join repeated names in order",
	    test_params_join);
	ADD_TEST(s, "params: a full arena is a status, never a realloc",
	    test_params_full_is_a_status);
	ADD_TEST(s, "params: prepend, find_next, reset",
	    test_params_prepend_and_find);
	ADD_TEST(s, "params: REQUEST_METHOD idempotent or not",
	    test_params_idempotent);
}
