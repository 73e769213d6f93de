/*
 * runner.c - the one CUnit runner for every unit test file.
 *
 *     vigil-unit            run every suite
 *     vigil-unit window     run only the suites of test_window.c
 *
 * Each test_<module>.c exports init_<module>_tests(), which adds its suites
 * to the registry and returns 0 (or a CUnit error).  Exits non-zero when any
 * assertion failed or a suite could not be set up.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "suites.h"

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    int found = 0;
    for (const struct vg_test_suite *s = vg_test_suites; s->name; s++) {
        if (argc > 1 && strcmp(argv[1], s->name) != 0)
            continue;
        found++;
        if (s->init() != 0) {
            fprintf(stderr, "vigil-unit: cannot set up suite %s\n", s->name);
            CU_cleanup_registry();
            return 2;
        }
    }
    if (!found) {
        fprintf(stderr, "vigil-unit: no suite named %s\n", argc > 1 ? argv[1] : "(any)");
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
