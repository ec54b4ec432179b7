/*
 * Unit test runner.  CU_basic_run_tests() reports success even when tests
 * fail or a suite's init fails, so the exit code is computed from the
 * failure counts (STYLE S16): CI can never go green on a red suite.
 */
#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "tests/unit/util.h"

int
main(void)
{
	unsigned	failures, suites_failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return (2);
	suite_params();
	suite_addr();
	suite_cidr();
	suite_fwd();
	suite_fcgi();
	suite_scgi();
	suite_proxyproto();
	suite_balance();
	suite_peertab();
	suite_status();
	suite_ranges();
	suite_cert();
	suite_normalize();
	suite_config();
	CU_basic_set_mode(CU_BRM_NORMAL);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return (2);
	}
	failures = CU_get_number_of_failures();
	suites_failed = CU_get_number_of_suites_failed();
	printf("\nunit: %u tests run, %u assertions failed, %u suites "
	    "failed\n", CU_get_number_of_tests_run(), failures, suites_failed);
	CU_cleanup_registry();
	guarded_release();
	if (failures == 0 && suites_failed == 0)
		tmp_dir_remove();
	return (failures == 0 && suites_failed == 0 ? 0 : 1);
}
