/* proto/balance: which php-fpm server takes the next request (§5.4). */
#include <string.h>

#include "proto/balance.h"
#include "tests/unit/util.h"

struct bal_case {
	const char		*name;
	enum bal_policy		 pol;
	size_t			 max;
	uint64_t		 now;
	size_t			 n;
	struct bal_server	 s[4];
	int			 want;
};

#define UP	0
static const struct bal_case bal_cases[] = {
	{ "least_conn: fewest busy", BAL_LEAST_CONN, 4, 100, 3,
	    { { 2, 0, UP }, { 1, 0, UP }, { 3, 0, UP } }, 1 },
	{ "least_conn: ties in list order", BAL_LEAST_CONN, 4, 100, 3,
	    { { 1, 0, UP }, { 1, 0, UP }, { 1, 0, UP } }, 0 },
	{ "least_conn: a full server is skipped", BAL_LEAST_CONN, 2, 100, 2,
	    { { 0, 2, UP }, { 1, 0, UP } }, 0 },
	{ "least_conn: idle connections count as free slots", BAL_LEAST_CONN,
	    2, 100, 2, { { 1, 1, UP }, { 2, 0, UP } }, 0 },
	{ "least_conn: every slot busy: queue", BAL_LEAST_CONN, 2, 100, 2,
	    { { 2, 0, UP }, { 2, 0, UP } }, -1 },
	{ "least_conn: a down server is skipped", BAL_LEAST_CONN, 4, 100, 2,
	    { { 0, 0, 200 }, { 3, 0, UP } }, 1 },
	{ "least_conn: down until exactly now is up again", BAL_LEAST_CONN,
	    4, 200, 2, { { 0, 0, 200 }, { 3, 0, UP } }, 0 },
	{ "least_conn: up servers full, the down one is not used",
	    BAL_LEAST_CONN, 2, 100, 2, { { 0, 0, 500 }, { 2, 0, UP } }, -1 },
	{ "least_conn: all down: tried anyway, least busy", BAL_LEAST_CONN, 4,
	    100, 2, { { 2, 0, 500 }, { 1, 0, 900 } }, 1 },
	{ "least_conn: all down and full: queue", BAL_LEAST_CONN, 1, 100, 2,
	    { { 1, 0, 500 }, { 1, 0, 900 } }, -1 },
	{ "no limit (no pool): always a server", BAL_LEAST_CONN, 0, 100, 1,
	    { { 5000, 0, UP } }, 0 },
	{ "first: the first up server", BAL_FIRST, 4, 100, 3,
	    { { 3, 0, UP }, { 0, 0, UP }, { 0, 0, UP } }, 0 },
	{ "first: full first server is waited for", BAL_FIRST, 4, 100, 2,
	    { { 4, 0, UP }, { 0, 0, UP } }, -1 },
	{ "first: the backup serves while the first is down", BAL_FIRST, 4,
	    100, 3, { { 0, 0, 300 }, { 2, 0, UP }, { 0, 0, UP } }, 1 },
	{ "first: the first is back after its down time", BAL_FIRST, 4, 300,
	    2, { { 0, 0, 300 }, { 2, 0, UP } }, 0 },
	{ "first: all down: tried anyway", BAL_FIRST, 4, 100, 2,
	    { { 1, 0, 300 }, { 0, 0, 300 } }, 1 },
	{ "one server, down: tried anyway", BAL_FIRST, 4, 100, 1,
	    { { 0, 0, 300 } }, 0 },
};

static void
test_balance_table(void)
{
	size_t	i;
	int	got;

	for (i = 0; i < sizeof(bal_cases) / sizeof(bal_cases[0]); i++) {
		const struct bal_case *c = &bal_cases[i];

		got = bal_choose(c->s, c->n, c->max, c->pol, c->now);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			fprintf(stderr, "\nbalance case \"%s\": got %d, want %d\n",
			    c->name, got, c->want);
	}
}

/*
 * A simulated pool of 3 servers x 2 slots under least_conn: requests
 * arrive, none ends; the first 6 spread evenly (each server gets 2), the
 * 7th queues.  Then server 1 goes down and frees its slots: new
 * requests go to the others only until it is back (injected clock).
 */
static void
test_balance_spread_and_recovery(void)
{
	struct bal_server	s[3];
	int			got[3] = { 0, 0, 0 }, i, k;

	memset(s, 0, sizeof(s));
	for (k = 0; k < 6; k++) {
		i = bal_choose(s, 3, 2, BAL_LEAST_CONN, 1000);
		CU_ASSERT_FATAL(i >= 0);
		s[i].b_busy++;
		got[i]++;
	}
	CU_ASSERT(got[0] == 2 && got[1] == 2 && got[2] == 2);
	CU_ASSERT_EQUAL(bal_choose(s, 3, 2, BAL_LEAST_CONN, 1000), -1);
	/* Server 1 failed a connect: down for 5 s, its slots empty. */
	s[1].b_busy = 0;
	s[1].b_down_until = 6000;
	s[0].b_busy = 1;
	CU_ASSERT_EQUAL(bal_choose(s, 3, 2, BAL_LEAST_CONN, 5999), 0);
	CU_ASSERT_EQUAL(bal_choose(s, 3, 2, BAL_LEAST_CONN, 6000), 1);
}

void
suite_balance(void)
{
	CU_pSuite	s = CU_add_suite("balance", NULL, NULL);

	ADD_TEST(s, "balance: least_conn and first, slots, down servers",
	    test_balance_table);
	ADD_TEST(s, "balance: even spread, queue when full, down and back",
	    test_balance_spread_and_recovery);
}
