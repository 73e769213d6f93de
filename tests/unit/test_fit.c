/*
 * test_fit.c - the retraining core: fitted statistics are right, the
 * thresholds meet the false-alarm target on fresh data from the same
 * process, fitting is bit-for-bit deterministic, and degenerate inputs
 * (constant, quantised, NaN-laden, too short) are handled.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_util.h"
#include "vg_detect.h"
#include "vg_error.h"
#include "vg_fit.h"

#define N 20000

static double xs[N], scratch[N];
static int64_t ts[N];

static void gaussian(uint64_t seed, double mu, double sigma)
{
    uint64_t rng = seed;
    for (int i = 0; i < N; i++) {
        ts[i] = 1700000000000000 + (int64_t)i * 100000;
        xs[i] = mu + sigma * vg_test_normal(&rng);
    }
}

static void test_gaussian_statistics(void)
{
    vg_fit_opts o;
    vg_fit_opts_init(&o);
    vg_chan_model m;
    gaussian(1, 50, 2);
    CU_ASSERT_EQUAL_FATAL(vg_fit_channel("temp", ts, xs, N, scratch, &o, &m), VG_OK);
    CU_ASSERT_STRING_EQUAL(m.name, "temp");
    CU_ASSERT_TRUE(fabs(m.loc - 50) < 0.05);
    CU_ASSERT_TRUE(fabs(m.scale - 2) < 0.06);
    /* (1 - 1e-4) two-sided quantile of N(0,1) is 3.89; with margin 1.25
     * and the floor of 4 the threshold lands near 4.9. */
    CU_ASSERT_TRUE(m.z_thr > 4.4 && m.z_thr < 5.6);
    CU_ASSERT_TRUE(m.ewma_l >= 3);
    CU_ASSERT_TRUE(m.cusum_h >= 5);
    CU_ASSERT_TRUE(m.rate_max > 0 && isfinite(m.rate_max));
    CU_ASSERT_EQUAL(m.stuck_n, 10); /* continuous noise never repeats */
    CU_ASSERT_TRUE(isnan(m.lo) && isnan(m.hi) && isnan(m.stale_s));
}

static void test_false_alarms_on_fresh_data(void)
{
    vg_fit_opts o;
    vg_fit_opts_init(&o);
    vg_chan_model m;
    gaussian(2, 0, 1);
    CU_ASSERT_EQUAL_FATAL(vg_fit_channel("x", ts, xs, N, scratch, &o, &m), VG_OK);
    gaussian(3, 0, 1); /* fresh data, same process */
    vg_defaults d;
    vg_defaults_init(&d);
    vg_envelope e = {.lo = -INFINITY, .hi = INFINITY, .debounce_n = 1, .debounce_m = 1};
    vg_params p;
    vg_params_compile(&p, &d, &e, &m, 1);
    static uint8_t mem[256 * 24] __attribute__((aligned(8)));
    vg_window w;
    vg_window_init(&w, 256, 0, 0, mem, sizeof mem);
    vg_detect s;
    vg_detect_init(&s);
    int alerts = 0;
    for (int i = 0; i < N; i++) {
        vg_verdict v;
        vg_window_push(&w, ts[i], xs[i]);
        vg_detect_sample(&s, &p, &w, scratch, ts[i], xs[i], &v);
        alerts += v.alert_edge == 1;
    }
    CU_ASSERT_TRUE(alerts <= 4); /* target 1e-4 per sample = 2 expected */
    /* ...and a real fault on top is caught. */
    vg_verdict v;
    vg_window_push(&w, ts[N - 1] + 1, 9.0);
    vg_detect_sample(&s, &p, &w, scratch, ts[N - 1] + 1, 9.0, &v);
    CU_ASSERT_EQUAL(v.alert, 1);
}

static void test_deterministic(void)
{
    vg_fit_opts o;
    vg_fit_opts_init(&o);
    vg_chan_model a, b;
    gaussian(4, 10, 3);
    CU_ASSERT_EQUAL(vg_fit_channel("x", ts, xs, N, scratch, &o, &a), VG_OK);
    memset(scratch, 0x5a, sizeof scratch); /* scratch content must not matter */
    CU_ASSERT_EQUAL(vg_fit_channel("x", ts, xs, N, scratch, &o, &b), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
}

static void test_degenerate_inputs(void)
{
    vg_fit_opts o;
    vg_fit_opts_init(&o);
    vg_chan_model m;
    for (int i = 0; i < 100; i++) {
        ts[i] = i * 1000000;
        xs[i] = 42;
    }
    CU_ASSERT_EQUAL(vg_fit_channel("c", ts, xs, 100, scratch, &o, &m), VG_OK);
    CU_ASSERT_EQUAL(m.loc, 42);
    CU_ASSERT_TRUE(m.scale > 0);     /* floored, never zero */
    CU_ASSERT_EQUAL(m.stuck_n, 198); /* 2 x the 99-long flat run */
    /* Quantised: mostly 5, sometimes 4 or 6: MAD 0, spread not. */
    for (int i = 0; i < 100; i++)
        xs[i] = 5 + (i % 10 == 0) - (i % 10 == 5);
    CU_ASSERT_EQUAL(vg_fit_channel("q", ts, xs, 100, scratch, &o, &m), VG_OK);
    CU_ASSERT_TRUE(m.scale > 0.1 && m.scale < 1.0);
    /* NaN and Inf are skipped, not fitted. */
    for (int i = 0; i < 100; i++)
        xs[i] = i % 3 ? (double)(i % 7) : (i % 2 ? NAN : INFINITY);
    CU_ASSERT_EQUAL(vg_fit_channel("n", ts, xs, 100, scratch, &o, &m), VG_OK);
    CU_ASSERT_TRUE(isfinite(m.loc) && isfinite(m.scale) && isfinite(m.z_thr));
    CU_ASSERT_EQUAL(vg_fit_channel("s", ts, xs, 10, scratch, &o, &m), VG_EINVAL);
}

static void test_shrink(void)
{
    vg_chan_model dev, prior;
    vg_chan_model_clear(&dev, "x");
    vg_chan_model_clear(&prior, "x");
    dev.loc = 10;
    prior.loc = 20;
    dev.scale = 1;
    prior.z_thr = 5; /* unset on the device: left unset */
    vg_fit_shrink(&dev, &prior, 100, 300);
    CU_ASSERT_TRUE(vg_test_close(dev.loc, 17.5, 1e-12));
    CU_ASSERT_EQUAL(dev.scale, 1);
    CU_ASSERT_TRUE(isnan(dev.z_thr));
}

int init_fit_tests(void)
{
    CU_pSuite s = CU_add_suite("fit", NULL, NULL);
    if (!s || !CU_add_test(s, "gaussian statistics", test_gaussian_statistics) ||
        !CU_add_test(s, "false alarms on fresh data", test_false_alarms_on_fresh_data) ||
        !CU_add_test(s, "deterministic", test_deterministic) ||
        !CU_add_test(s, "degenerate inputs", test_degenerate_inputs) ||
        !CU_add_test(s, "shrink toward prior", test_shrink))
        return CU_get_error();
    return 0;
}
