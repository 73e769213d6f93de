/*
 * test_conf.c - the declarative config tables: their documented defaults
 * equal the code's defaults, every type converts and refuses bad text, and
 * sections land in the right struct.
 */
#include <math.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_conf.h"
#include "vg_error.h"

static void test_table_defaults_match_code(void)
{
    /* Applying every row's default text to a zeroed struct must give the
     * same fields as vg_conf_init(): the table cannot document a default
     * the code does not have. */
    vg_conf ref, got;
    vg_conf_init(&ref);
    memset(&got, 0, sizeof got);
    for (const vg_conf_key *k = vg_conf_detect_keys; k->name; k++) {
        CU_ASSERT_EQUAL_FATAL(vg_conf_convert(k, &got.engine, k->dflt), VG_OK);
        CU_ASSERT_EQUAL(memcmp((char *)&got.engine + k->offset, (char *)&ref.engine + k->offset,
                               k->type == VG_CT_U8 || k->type == VG_CT_BOOL ? 1
                               : k->type == VG_CT_U32                       ? 4
                                                                            : 8),
                        0);
    }
    CU_ASSERT_EQUAL(vg_conf_set(&ref, "channel.temp", "hi", "95"), VG_OK);
    vg_chan_config want = ref.chan[0], row;
    want.env.hi = INFINITY;
    memset(&row, 0, sizeof row);
    for (const vg_conf_key *k = vg_conf_channel_keys; k->name; k++) {
        CU_ASSERT_EQUAL_FATAL(vg_conf_convert(k, &row, k->dflt), VG_OK);
        const char *a = (const char *)&row + k->offset, *b = (const char *)&want + k->offset;
        if (k->type == VG_CT_DOUBLE) {
            double x, y;
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            CU_ASSERT_TRUE(x == y || (isnan(x) && isnan(y)));
        } else {
            size_t n = k->type == VG_CT_U8 || k->type == VG_CT_BOOL ? 1
                       : k->type == VG_CT_U32                       ? 4
                                                                    : 8;
            CU_ASSERT_EQUAL(memcmp(a, b, n), 0);
        }
    }
}

static void test_set_sections(void)
{
    static vg_conf c;
    vg_conf_init(&c);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "window", "1024"), VG_OK);
    CU_ASSERT_EQUAL(c.engine.window, 1024);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "allow_unknown", "no"), VG_OK);
    CU_ASSERT_FALSE(c.engine.allow_unknown);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.*", "stale_s", "2.5"), VG_OK);
    CU_ASSERT_EQUAL(c.engine.default_env.stale_us, 2500000);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.*", "window", "8"), VG_EMISSING);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "hi", "95"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "debounce_n", "3"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "debounce_m", "5"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "trip", "true"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "z_thr", "7"), VG_OK);
    CU_ASSERT_EQUAL(c.engine.nchan, 1);
    CU_ASSERT_EQUAL(c.chan[0].env.hi, 95);
    CU_ASSERT_EQUAL(c.chan[0].env.stale_us, 2500000); /* inherited from [channel.*] */
    CU_ASSERT_TRUE(c.chan[0].env.trip);
    CU_ASSERT_EQUAL(c.chan[0].local.z_thr, 7);
    const char *what;
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "debounce_n", "6"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_EINVAL);
    CU_ASSERT_STRING_EQUAL(what, "temp");
}

static void test_bad_values(void)
{
    static vg_conf c;
    vg_conf_init(&c);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "window", "-1"), VG_ESYNTAX);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "window", "12x"), VG_ESYNTAX);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "window", "99999999999"), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "z_thr", "six"), VG_ESYNTAX);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "allow_unknown", "maybe"), VG_ESYNTAX);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "detect", "nope", "1"), VG_EMISSING);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "mqtt", "host", "x"), VG_ECHANNEL);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.bad name", "hi", "1"), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.t", "debounce_n", "300"), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.t", "stale_s", "-1"), VG_EINVAL);
    CU_ASSERT_EQUAL(c.engine.window, 256); /* failures changed nothing */
    c.engine.defaults.alert_off = 0.9;
    const char *what;
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_EINVAL);
}

static void test_review_regressions(void)
{
    static vg_conf c;
    const char *what;
    vg_conf_init(&c);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.temp", "hi", "95"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&c, "channel.*", "hi", "100"), VG_EORDER); /* too late */
    const char *bad[][2] = {{"z_thr", "0"},      {"z_thr", "-6"},   {"stuck_n", "-5"},
                            {"stuck_n", "1e20"}, {"rate_max", "0"}, {"window_s", "1e13"},
                            {"window_s", "inf"}, {"cusum_h", "0"},  {"alert_off", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vg_conf_init(&c);
        CU_ASSERT_EQUAL_FATAL(vg_conf_set(&c, "detect", bad[i][0], bad[i][1]), VG_OK);
        CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(what);
    }
    vg_conf_init(&c);
    vg_conf_set(&c, "channel.t", "lo", "0");
    vg_conf_set(&c, "channel.t", "hi", "10");
    vg_conf_set(&c, "channel.t", "hysteresis", "6"); /* 2 x 6 > 10: never clears */
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_EINVAL);
    vg_conf_set(&c, "channel.t", "hysteresis", "5");
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_OK);
    vg_conf_set(&c, "channel.t", "window_s", "1e13");
    CU_ASSERT_EQUAL(vg_conf_validate(&c, &what), VG_EINVAL);
}

int init_conf_tests(void)
{
    CU_pSuite s = CU_add_suite("conf", NULL, NULL);
    if (!s || !CU_add_test(s, "table defaults match code", test_table_defaults_match_code) ||
        !CU_add_test(s, "sections", test_set_sections) ||
        !CU_add_test(s, "bad values", test_bad_values) ||
        !CU_add_test(s, "review regressions", test_review_regressions))
        return CU_get_error();
    return 0;
}
