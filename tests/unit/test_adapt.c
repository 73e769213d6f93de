/*
 * test_adapt.c - the adaptive, calibrated detector (vg_adapt) on its own:
 * quiet on noise, the level component catches a small lasting shift that a
 * single-sample test cannot and then goes quiet (a pulse), its cheap
 * logarithm keeps the calibrated scale of the libm one, and the cached
 * daily-profile bucket is always the one computed from the time afresh.
 */
#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include <CUnit/CUnit.h>

#include "test_util.h"
#include "vg_adapt.h"
#include "vg_adapt.inc" /* adapt__bucket, adapt__bucket_of */

static int64_t t_now; /* time of the next sample: one a minute */

/* One sample at t_now, then the clock advances a minute. */
static double step(vg_adapt *a, const vg_adapt_params *p, double x)
{
    double r = vg_adapt_step(a, p, t_now, x);
    t_now += 60000000;
    return r;
}

/* Runs n samples mu + sd * N(0,1); returns how many scored >= 1. */
static int run_noise(vg_adapt *a, const vg_adapt_params *p, uint64_t *rng, int n, double mu,
                     double sd)
{
    int over = 0;
    for (int i = 0; i < n; i++)
        over += step(a, p, mu + sd * vg_test_normal(rng)) >= 1.0;
    return over;
}

static void test_quiet_on_noise(void)
{
    vg_adapt_params p;
    vg_adapt_params_init(&p);
    vg_adapt a;
    vg_adapt_init(&a);
    uint64_t rng = 21;
    run_noise(&a, &p, &rng, 2000, 50, 2);
    /* ratio 1 is a z_cal = 4 calibrated deviation: a few per 10^4 at most */
    CU_ASSERT_TRUE(run_noise(&a, &p, &rng, 20000, 50, 2) <= 20);
}

static void test_level_shift_pulse(void)
{
    /* 2.5 sigma, lasting: no single sample is surprising, the level
     * component (fast vs slow EWMA, reported as which = 2) is. */
    vg_adapt_params p;
    vg_adapt_params_init(&p);
    vg_adapt a;
    vg_adapt_init(&a);
    uint64_t rng = 22;
    run_noise(&a, &p, &rng, 3000, 10, 1);
    int first = -1, last = -1, which = -1;
    for (int i = 0; i < 600; i++) {
        double r = step(&a, &p, 12.5 + vg_test_normal(&rng));
        if (r >= 1.0 && first < 0)
            first = i, which = a.which;
        if (r >= 1.0)
            last = i;
    }
    CU_ASSERT_TRUE(first >= 0 && first < 80);
    CU_ASSERT_EQUAL(which, 2);
    /* the slow level moved to the new one: the alarm does not linger */
    CU_ASSERT_TRUE(last - first < 60);
    CU_ASSERT_TRUE(fabs(a.slow - 12.5) < 1.0);
}

static void test_cheap_log_calibration(void)
{
    /* The calibrators of a Gaussian channel settle where the exact
     * transforms put them: with libm, ln(1 + |z|) of N(0, 1.05^2) residuals
     * (Holt's are a little wider than the noise) has mean 0.554 and
     * variance 0.107; the level component has a small positive mean.  The
     * polynomial log must not bias them. */
    vg_adapt_params p;
    vg_adapt_params_init(&p);
    vg_adapt a;
    vg_adapt_init(&a);
    uint64_t rng = 23;
    run_noise(&a, &p, &rng, 30000, 0, 1);
    CU_ASSERT_TRUE(a.m[0] > 0.50 && a.m[0] < 0.60);
    CU_ASSERT_TRUE(a.v[0] > 0.07 && a.v[0] < 0.15);
    CU_ASSERT_TRUE(a.m[2] > 0.0 && a.m[2] < 0.2);
}

static void test_seasonal_period_change(void)
{
    /* Five-minute samples of a daily cycle 5 sigma high: quiet once the
     * daily profile is learnt; when the cycle runs twice as fast at the
     * same level and spread, the seasonal component (which = 3) fires
     * within hours, once, and the new pattern is then learnt. */
    vg_adapt_params p;
    vg_adapt_params_init(&p);
    vg_adapt a;
    vg_adapt_init(&a);
    uint64_t rng = 24;
    int64_t t = 0;
    int quiet_over = 0;
    for (int i = 0; i < 288 * 8; i++, t += 300000000) {
        double x = 50 + 5 * sin(2 * M_PI * i / 288.0) + vg_test_normal(&rng);
        double r = vg_adapt_step(&a, &p, t, x);
        quiet_over += i >= 288 * 3 && r >= 1.0;
    }
    CU_ASSERT_TRUE(quiet_over <= 3);
    int first = -1, which = -1, season_hits = 0;
    for (int i = 0; i < 288 * 2; i++, t += 300000000) {
        double x = 50 + 5 * sin(2 * M_PI * i / 144.0) + vg_test_normal(&rng);
        double r = vg_adapt_step(&a, &p, t, x);
        if (r >= 1.0 && first < 0)
            first = i, which = a.which;
        season_hits += r >= 1.0 && a.which == 3;
    }
    CU_ASSERT_TRUE(first >= 0 && first < 72); /* within six hours */
    CU_ASSERT_EQUAL(which, 3);
    CU_ASSERT_TRUE(season_hits >= 1 && season_hits <= 3);
}

/* Times around bucket boundaries (45 min = 2.7e9 us), at today's epoch,
 * near 0 and negative, in rising order, in random order and going back:
 * the cached bucket always equals the one computed from the time. */
static void test_bucket_cache(void)
{
    static const int64_t base[] = {0, 1800000000000000LL, -86400000000LL, 1795000000000000LL};
    vg_adapt a;
    vg_adapt_init(&a);
    uint64_t rng = 5;
    int bad = 0, n = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        int64_t t0 = base[i] - base[i] % 2700000000LL;
        for (int k = -3; k <= 3; k++)
            for (int64_t d = -70; d <= 70; d++) {
                int64_t t = t0 + k * 2700000000LL + d;
                bad += adapt__bucket(&a, t) != ((uint64_t)adapt__bucket_of(t) & 31);
                n++;
            }
        for (int j = 0; j < 20000; j++) { /* random times within a few days */
            int64_t t = t0 + (int64_t)(vg_test_rand(&rng) % 400000000000ULL) - 200000000000LL;
            bad += adapt__bucket(&a, t) != ((uint64_t)adapt__bucket_of(t) & 31);
            n++;
        }
        for (int64_t t = t0 + 86400000000LL; t > t0 - 86400000000LL; t -= 299999999) {
            bad += adapt__bucket(&a, t) != ((uint64_t)adapt__bucket_of(t) & 31);
            n++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(n > 80000);
}

int init_adapt_tests(void)
{
    CU_pSuite s = CU_add_suite("adapt", NULL, NULL);
    if (!s || !CU_add_test(s, "quiet on noise", test_quiet_on_noise) ||
        !CU_add_test(s, "level shift is a pulse", test_level_shift_pulse) ||
        !CU_add_test(s, "cheap log keeps calibration", test_cheap_log_calibration) ||
        !CU_add_test(s, "seasonal: period change", test_seasonal_period_change) ||
        !CU_add_test(s, "cached profile bucket is exact", test_bucket_cache))
        return CU_get_error();
    return 0;
}
