/*
 * test_model.c - identifiers, detector names, and the envelope rule.
 */
#include <math.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_error.h"
#include "vg_model.h"

static void test_identifiers(void)
{
    CU_ASSERT_TRUE(vg_valid_device("sim-0", 5));
    CU_ASSERT_TRUE(vg_valid_device("A_b-9", 5));
    CU_ASSERT_FALSE(vg_valid_device("a.b", 3)); /* dots only in channels */
    CU_ASSERT_FALSE(vg_valid_device("a/b", 3)); /* would break topics */
    CU_ASSERT_FALSE(vg_valid_device("a+", 2));
    CU_ASSERT_FALSE(vg_valid_device("", 0));
    char long_id[66];
    memset(long_id, 'a', sizeof long_id);
    CU_ASSERT_TRUE(vg_valid_device(long_id, 64));
    CU_ASSERT_FALSE(vg_valid_device(long_id, 65));
    CU_ASSERT_TRUE(vg_valid_channel("motor.temp", 10));
    CU_ASSERT_FALSE(vg_valid_channel(long_id, 33));
}

static void test_detector_names(void)
{
    for (int d = 1; d < VG_DET_COUNT; d++) {
        const char *n = vg_detector_name(d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        CU_ASSERT_EQUAL(vg_detector_from_name(n, strlen(n)), d);
    }
    CU_ASSERT_PTR_NULL(vg_detector_name(VG_DET_COUNT));
    CU_ASSERT_EQUAL(vg_detector_from_name("limitx", 6), VG_DET_NONE);
    CU_ASSERT_EQUAL(vg_detector_from_name("limitx", 5), VG_DET_LIMIT);
    CU_ASSERT_STRING_EQUAL(vg_strerror(VG_EENVELOPE), "model would loosen the safety envelope");
    CU_ASSERT_STRING_EQUAL(vg_errname(VG_ESIG), "signature");
    CU_ASSERT_STRING_EQUAL(vg_strerror(-3), "unknown error");
}

static void test_envelope_rule(void)
{
    vg_envelope e = {.lo = 0, .hi = 100, .debounce_n = 1, .debounce_m = 1, .stale_us = 5000000};
    vg_chan_model m;
    vg_chan_model_clear(&m, "t");
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_OK); /* sets nothing */
    m.lo = 10;
    m.hi = 90;
    m.stale_s = 2;
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_OK);
    const double bad_hi[] = {100.001, INFINITY, -INFINITY, -1};
    for (size_t i = 0; i < 4; i++) {
        m.hi = bad_hi[i];
        CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
    }
    m.hi = 5; /* below lo = 10 */
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
    m.hi = 90;
    m.stale_s = 6; /* longer than the configured 5 s */
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
    m.stale_s = 0; /* switching the watchdog off */
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
    m.stale_s = NAN;
    m.lo = -0.5;
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
}

int init_model_tests(void)
{
    CU_pSuite s = CU_add_suite("model", NULL, NULL);
    if (!s || !CU_add_test(s, "identifiers", test_identifiers) ||
        !CU_add_test(s, "detector names and errors", test_detector_names) ||
        !CU_add_test(s, "envelope rule", test_envelope_rule))
        return CU_get_error();
    return 0;
}
