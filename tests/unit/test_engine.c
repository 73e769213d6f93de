/*
 * test_engine.c - channels by name, rejection accounting, model
 * application (all or nothing, never loosening), and trip reset.
 */
#include <math.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_engine.h"
#include "vg_error.h"

static vg_chan_config temp_cfg(void)
{
    vg_chan_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.name, "temp");
    vg_envelope_init(&c.env);
    c.env.hi = 95;
    c.env.debounce_n = 2;
    c.env.debounce_m = 3;
    c.env.trip = true;
    vg_chan_model_clear(&c.local, "temp");
    return c;
}

static void test_lookup_and_admission(void)
{
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    ec.max_channels = 3;
    ec.allow_unknown = false;
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    vg_channel *c = NULL;
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "temp", 4, &c), VG_OK);
    CU_ASSERT_STRING_EQUAL(c->name, "temp");
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "tempX", 4, &c), VG_OK); /* length-bounded */
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_ECHANNEL);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "bad name", 8, &c), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_engine_count(e), 1);
    vg_engine_destroy(e);

    ec.allow_unknown = true;
    e = vg_engine_create(&ec, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_OK);
    CU_ASSERT_EQUAL(c->cfg, -1);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "pressure", 8, &c), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "flow", 4, &c), VG_ENOSPC);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_OK); /* still found */
    CU_ASSERT_EQUAL(vg_engine_count(e), 3);
    vg_engine_destroy(e);

    ec.window_s = 1e13; /* would overflow the microsecond span */
    CU_ASSERT_PTR_NULL(vg_engine_create(&ec, &rc));
    CU_ASSERT_EQUAL(rc, VG_EINVAL);
    ec.window_s = 0;
    ec.window = 1u << 24; /* 16 M samples x 65536 channels: refused, not wrapped */
    ec.max_channels = 65536;
    vg_engine *huge = vg_engine_create(&ec, &rc);
    CU_ASSERT_TRUE(huge == NULL || sizeof(size_t) > 4);
    vg_engine_destroy(huge);
    ec.window = 256;
    ec.max_channels = 3;
    vg_chan_config two[2] = {cc, cc};
    ec.chan = two;
    ec.nchan = 2;
    CU_ASSERT_PTR_NULL(vg_engine_create(&ec, &rc));
    CU_ASSERT_EQUAL(rc, VG_EEXIST);
}

static void test_bad_samples_change_nothing(void)
{
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_verdict v;
    CU_ASSERT_EQUAL_FATAL(vg_engine_lookup(e, "x", 1, &c), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 100, 1.0, &v), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 200, NAN, &v), VG_ENAN);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 200, INFINITY, &v), VG_ENAN);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 50, 2.0, &v), VG_EORDER);
    CU_ASSERT_EQUAL(c->accepted, 1);
    CU_ASSERT_EQUAL(c->rejected_nan, 2);
    CU_ASSERT_EQUAL(c->rejected_order, 1);
    CU_ASSERT_EQUAL(vg_window_count(&c->win), 1);
    CU_ASSERT_EQUAL(c->det.last_t, 100);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 100, 3.0, &v), VG_OK); /* equal time is fine */
    vg_engine_destroy(e);
}

static void test_model_apply_all_or_nothing(void)
{
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_engine_lookup(e, "temp", 4, &c);
    static vg_model m;
    memset(&m, 0, sizeof m);
    m.version = 5;
    m.nchan = 2;
    vg_chan_model_clear(&m.chan[0], "vib");
    m.chan[0].z_thr = 3;
    vg_chan_model_clear(&m.chan[1], "temp");
    m.chan[1].hi = 120; /* loosens 95 */
    const char *bad = NULL;
    CU_ASSERT_EQUAL(vg_engine_check_model(e, &m, &bad), VG_EENVELOPE);
    CU_ASSERT_STRING_EQUAL(bad, "temp");
    CU_ASSERT_EQUAL(vg_engine_apply_model(e, &m), VG_EENVELOPE);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 0);
    CU_ASSERT_EQUAL(c->par.hi, 95);

    m.chan[1].hi = 80; /* tightens */
    CU_ASSERT_EQUAL(vg_engine_apply_model(e, &m), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 5);
    CU_ASSERT_EQUAL(vg_engine_model(e)->version, 5);
    CU_ASSERT_EQUAL(c->par.hi, 80);
    CU_ASSERT_EQUAL(c->par.model_version, 5);
    vg_channel *vib;
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &vib), VG_OK); /* admitted later */
    CU_ASSERT_EQUAL(vib->par.z_thr, 3);

    vg_verdict v;
    vg_engine_push(e, c, 1, 85, &v);
    vg_engine_push(e, c, 2, 85, &v);
    CU_ASSERT_EQUAL(v.trip, 1); /* 2 of 3 over the tightened 80 */
    CU_ASSERT_EQUAL(vg_engine_reset_trips(e), VG_EACTIVE);
    for (int i = 3; i < 6; i++)
        vg_engine_push(e, c, i, 20, &v);
    CU_ASSERT_EQUAL(vg_engine_reset_trips(e), VG_OK);
    CU_ASSERT_EQUAL(c->det.trip, 0);

    CU_ASSERT_EQUAL(vg_engine_apply_model(e, NULL), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 0);
    CU_ASSERT_PTR_NULL(vg_engine_model(e));
    CU_ASSERT_EQUAL(c->par.hi, 95);
    CU_ASSERT_EQUAL(vib->par.z_thr, 6);
    vg_engine_destroy(e);
}

static void test_trip_without_model_or_network(void)
{
    /* The envelope alone trips: no model ever applied. */
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    int rc, trips = 0;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_engine_lookup(e, "temp", 4, &c);
    vg_verdict v;
    for (int i = 0; i < 100; i++) {
        vg_engine_push(e, c, i * 1000, 60 + i * 0.5, &v);
        trips += v.trip_edge;
    }
    CU_ASSERT_EQUAL(trips, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_LIMIT);
    vg_engine_destroy(e);
}

int init_engine_tests(void)
{
    CU_pSuite s = CU_add_suite("engine", NULL, NULL);
    if (!s || !CU_add_test(s, "lookup and admission", test_lookup_and_admission) ||
        !CU_add_test(s, "bad samples change nothing", test_bad_samples_change_nothing) ||
        !CU_add_test(s, "model all or nothing", test_model_apply_all_or_nothing) ||
        !CU_add_test(s, "trip with no model", test_trip_without_model_or_network))
        return CU_get_error();
    return 0;
}
