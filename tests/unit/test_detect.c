/*
 * test_detect.c - each detector, the score mapping, and the alert / trip
 * state machines, driven sample by sample with known inputs.
 */
#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include <CUnit/CUnit.h>

#include "test_util.h"
#include "vg_detect.h"
#include "vg_error.h"

/* A channel under test: window + state + parameters. */
struct chan {
    vg_window w;
    vg_detect d;
    vg_params p;
    double scratch[256];
    uint8_t mem[256 * 24] __attribute__((aligned(8)));
    int64_t t;
};

static void chan_init(struct chan *c, const vg_envelope *env, const vg_chan_model *m)
{
    vg_defaults d;
    vg_defaults_init(&d);
    vg_window_init(&c->w, 256, 0, 0, c->mem, sizeof c->mem);
    vg_detect_init(&c->d);
    vg_params_compile(&c->p, &d, env, m, m ? 7 : 0);
    c->t = 1000000;
}

/* Pushes x one second after the previous sample and scores it. */
static vg_verdict feed(struct chan *c, double x)
{
    vg_verdict v;
    c->t += 1000000;
    vg_window_push(&c->w, c->t, x);
    vg_detect_sample(&c->d, &c->p, &c->w, c->scratch, c->t, x, &v);
    return v;
}

static vg_envelope env_hi(double hi, uint8_t n, uint8_t m, double hyst)
{
    vg_envelope e = {.lo = -INFINITY,
                     .hi = hi,
                     .hysteresis = hyst,
                     .debounce_n = n,
                     .debounce_m = m,
                     .trip = true};
    return e;
}

static void test_limit_debounce(void)
{
    static struct chan c;
    vg_envelope e = env_hi(100, 3, 5, 0);
    chan_init(&c, &e, NULL);
    const double spikes[] = {50, 101, 50, 50, 101, 50, 50, 101, 50, 50};
    for (size_t i = 0; i < sizeof spikes / sizeof spikes[0]; i++)
        CU_ASSERT_EQUAL(feed(&c, spikes[i]).trip, 0); /* never 3 in any 5 */
    for (int i = 0; i < 5; i++)
        feed(&c, 50); /* history clean */
    CU_ASSERT_EQUAL(feed(&c, 101).trip_edge, 0);
    CU_ASSERT_EQUAL(feed(&c, 50).trip_edge, 0);
    CU_ASSERT_EQUAL(feed(&c, 101).trip_edge, 0); /* 2 in 5 */
    vg_verdict v = feed(&c, 101);                /* third in five */
    CU_ASSERT_EQUAL(v.trip_edge, 1);
    CU_ASSERT_EQUAL(v.trip, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_LIMIT);
    CU_ASSERT_EQUAL(v.alert, 1);
    CU_ASSERT_EQUAL(feed(&c, 101).trip_edge, 0); /* latched: no second edge */
}

static void test_limit_hysteresis_and_reset(void)
{
    static struct chan c;
    vg_envelope e = env_hi(100, 1, 1, 2);
    chan_init(&c, &e, NULL);
    feed(&c, 105);
    CU_ASSERT_EQUAL(c.d.limit_on, 1);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_EACTIVE);
    feed(&c, 99); /* inside the limit, not by the hysteresis band */
    CU_ASSERT_EQUAL(c.d.limit_on, 1);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_EACTIVE);
    feed(&c, 97.9);
    CU_ASSERT_EQUAL(c.d.limit_on, 0);
    CU_ASSERT_EQUAL(c.d.trip, 1); /* still latched until reset */
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_OK);
    CU_ASSERT_EQUAL(c.d.trip, 0);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_OK); /* nothing latched */
}

static void test_limit_without_trip_alerts_only(void)
{
    static struct chan c;
    vg_envelope e = env_hi(100, 1, 1, 0);
    e.trip = false;
    chan_init(&c, &e, NULL);
    vg_verdict v = feed(&c, 200);
    CU_ASSERT_EQUAL(v.trip, 0);
    CU_ASSERT_EQUAL(v.alert, 1);
    CU_ASSERT_EQUAL(v.det, VG_DET_LIMIT);
}

static void test_model_only_tightens(void)
{
    vg_defaults d;
    vg_defaults_init(&d);
    vg_envelope e = env_hi(100, 3, 5, 0);
    e.lo = 0;
    vg_chan_model m;
    vg_chan_model_clear(&m, "temp");
    m.hi = 150; /* loosening: ignored */
    m.lo = -50;
    vg_params p;
    vg_params_compile(&p, &d, &e, &m, 3);
    CU_ASSERT_EQUAL(p.hi, 100);
    CU_ASSERT_EQUAL(p.lo, 0);
    m.hi = 90; /* tightening: taken */
    m.lo = 10;
    vg_params_compile(&p, &d, &e, &m, 3);
    CU_ASSERT_EQUAL(p.hi, 90);
    CU_ASSERT_EQUAL(p.lo, 10);
    CU_ASSERT_EQUAL(p.deb_n, 3);
    CU_ASSERT_EQUAL(p.deb_mask, 0x1f);
    CU_ASSERT_EQUAL(p.model_version, 3);
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_OK);
    m.hi = 100.5;
    CU_ASSERT_EQUAL(vg_model_check_envelope(&m, &e), VG_EENVELOPE);
    /* Nonsense model values fall back to defaults rather than disarming. */
    vg_chan_model_clear(&m, "temp");
    m.z_thr = -1;
    m.ewma_lambda = 5;
    m.scale = 0;
    m.loc = 3;
    vg_params_compile(&p, &d, &e, &m, 3);
    CU_ASSERT_EQUAL(p.z_thr, d.z_thr);
    CU_ASSERT_EQUAL(p.ewma_lambda, d.ewma_lambda);
    CU_ASSERT_FALSE(p.fixed_ref);
}

static void test_rate_and_score_mapping(void)
{
    static struct chan c;
    vg_envelope e;
    memset(&e, 0, sizeof e);
    e.lo = -INFINITY;
    e.hi = INFINITY;
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.rate_max = 10;
    chan_init(&c, &e, &m);
    feed(&c, 0);
    vg_verdict v = feed(&c, 10); /* exactly at the limit: ratio 1 */
    CU_ASSERT_TRUE(vg_test_close(v.score, 0.5, 1e-12));
    CU_ASSERT_EQUAL(v.det, VG_DET_RATE);
    CU_ASSERT_EQUAL(v.alert, 1);
    CU_ASSERT_EQUAL(v.alert_edge, 1);
    v = feed(&c, 30); /* ratio 2 -> 0.8 */
    CU_ASSERT_TRUE(vg_test_close(v.score, 0.8, 1e-12));
    CU_ASSERT_EQUAL(v.alert_edge, 0); /* deduplicated */
    v = feed(&c, 31);                 /* ratio 0.1 -> clears below 0.3 */
    CU_ASSERT_EQUAL(v.alert, 0);
    CU_ASSERT_EQUAL(v.alert_edge, 2);
}

static void test_stuck(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.stuck_n = 5;
    m.stuck_eps = 0.01;
    chan_init(&c, &e, &m);
    feed(&c, 1.0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(feed(&c, 1.0 + 0.005 * (i % 2)).alert, 0);
    vg_verdict v = feed(&c, 1.0); /* fifth unchanged step */
    CU_ASSERT_EQUAL(v.alert, 1);
    CU_ASSERT_EQUAL(v.det, VG_DET_STUCK);
    feed(&c, 2.0);
    CU_ASSERT_EQUAL(c.d.flat_run, 0);
}

static void test_stale_failsafe(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    e.stale_us = 2000000;
    e.trip_on_stale = true;
    chan_init(&c, &e, NULL);
    feed(&c, 1.0);
    vg_verdict v;
    vg_detect_tick(&c.d, &c.p, c.t + 1500000, &v);
    CU_ASSERT_EQUAL(v.trip, 0);
    CU_ASSERT_EQUAL(v.score, 0);
    vg_detect_tick(&c.d, &c.p, c.t + 2500000, &v);
    CU_ASSERT_EQUAL(v.trip_edge, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_STALE);
    CU_ASSERT_EQUAL(v.det, VG_DET_STALE);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_EACTIVE); /* still silent */
    c.t += 2500000;
    feed(&c, 1.0); /* data again */
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_OK);
    /* A model may shorten the deadline but not disarm the fail-safe. */
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.stale_s = 0.5;
    vg_defaults d;
    vg_defaults_init(&d);
    vg_params p;
    vg_params_compile(&p, &d, &e, &m, 1);
    CU_ASSERT_EQUAL(p.stale_us, 500000);
    CU_ASSERT_TRUE(p.trip_stale);
    m.stale_s = 10;
    vg_params_compile(&p, &d, &e, &m, 1);
    CU_ASSERT_EQUAL(p.stale_us, 2000000);
}

static void test_gap_is_stale(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    e.stale_us = 3000000;
    e.trip_on_stale = true;
    chan_init(&c, &e, NULL);
    feed(&c, 1.0);
    c.t += 5000000; /* the next sample arrives 6 s later */
    vg_verdict v = feed(&c, 1.0);
    CU_ASSERT_EQUAL(v.trip_edge, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_STALE);
}

static void test_robust_z_spike_then_clear(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    chan_init(&c, &e, NULL);
    uint64_t rng = 11;
    int alerts = 0;
    for (int i = 0; i < 2000; i++)
        alerts += feed(&c, 20 + vg_test_normal(&rng)).alert_edge == 1;
    CU_ASSERT_EQUAL(alerts, 0); /* no false alarm on Gaussian noise */
    vg_verdict v = feed(&c, 20 + 30);
    CU_ASSERT_EQUAL(v.alert_edge, 1);
    CU_ASSERT_EQUAL(v.det, VG_DET_ZSCORE);
    /* The warm adaptive detector scores it against the channel's own
     * calibrated history: far past its threshold (ratio > 1.5). */
    CU_ASSERT_TRUE(v.score > 0.7);
    int cleared = 0;
    for (int i = 0; i < 50 && !cleared; i++)
        cleared = feed(&c, 20 + vg_test_normal(&rng)).alert_edge == 2;
    CU_ASSERT_TRUE(cleared);
}

static void test_cusum_catches_small_shift(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.loc = 0;
    m.scale = 1;
    m.ewma_l = 1e6; /* isolate the CUSUM */
    chan_init(&c, &e, &m);
    uint64_t rng = 5;
    for (int i = 0; i < 500; i++)
        CU_ASSERT_EQUAL_FATAL(feed(&c, vg_test_normal(&rng)).alert, 0);
    int first = -1;
    for (int i = 0; i < 200 && first < 0; i++) {
        vg_verdict v = feed(&c, 1.5 + 0.2 * vg_test_normal(&rng));
        if (v.alert_edge == 1) {
            first = i;
            CU_ASSERT_EQUAL(v.det, VG_DET_CUSUM);
        }
    }
    /* 1.5 sigma shift, k = 0.5: about 1 sigma a sample against h = 12. */
    CU_ASSERT_TRUE(first >= 5 && first <= 20);
}

static void test_ewma_alone(void)
{
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.loc = 0;
    m.scale = 1;
    m.cusum_h = 1e6;
    m.z_thr = 1e6;
    chan_init(&c, &e, &m);
    vg_verdict v = feed(&c, 0);
    int first = -1;
    for (int i = 0; i < 100 && first < 0; i++) {
        v = feed(&c, 2.0);
        if (v.alert_edge == 1)
            first = i;
    }
    /* EWMA(0.1) of a step to 2 is 2(1 - 0.9^k); it passes the default
     * limit 5 * sqrt(0.1 / 1.9) = 1.147 at k = 9 (i = 8); with the adaptive
     * detector alongside, a fitted ratio counts once two samples in a row
     * are over it: i = 9. */
    CU_ASSERT_EQUAL(first, 9);
    CU_ASSERT_EQUAL(v.det, VG_DET_EWMA);
}

/* What vg_engine_apply_model does to a channel's state on a new model. */
static void test_fitted_reference_retires_after_shift(void)
{
    /* A fitted reference left for good (a permanent level shift) alarms at
     * the change, then retires: the alert is a pulse, not a flag on every
     * later sample.  The adaptive detector runs alongside. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.loc = 0;
    m.scale = 1;
    chan_init(&c, &e, &m);
    CU_ASSERT_TRUE(c.p.adapt && c.p.fixed_ref);
    uint64_t rng = 9;
    for (int i = 0; i < 500; i++)
        feed(&c, vg_test_normal(&rng));
    int raised = -1, cleared = -1;
    for (int i = 0; i < 400; i++) {
        vg_verdict v = feed(&c, 8 + vg_test_normal(&rng));
        if (v.alert_edge == 1 && raised < 0)
            raised = i;
        if (v.alert_edge == 2 && raised >= 0 && cleared < 0)
            cleared = i;
    }
    CU_ASSERT_TRUE(raised >= 0 && raised <= 2);
    CU_ASSERT_TRUE(cleared > raised && cleared < 40);
    CU_ASSERT_EQUAL(c.d.fx_off, 1); /* retired: it has said its piece */
    /* a new model puts a reference back in service */
    vg_detect_new_params(&c.d);
    feed(&c, 8 + vg_test_normal(&rng));
    CU_ASSERT_EQUAL(c.d.fx_off, 0);
}

static void test_fitted_rate_fatigue(void)
{
    /* A fitted rate limit that the channel now exceeds over and over (its
     * noise grew) doubles instead of flagging every other sample. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.rate_max = 3; /* units per second; samples 1 s apart */
    chan_init(&c, &e, &m);
    uint64_t rng = 11;
    int hits_quiet, hits_late = 0;
    for (int i = 0; i < 1000; i++)
        feed(&c, vg_test_normal(&rng) * 0.3);
    hits_quiet = c.d.rate_gain == 1.0; /* quiet noise never tires it */
    for (int i = 0; i < 2000; i++)
        feed(&c, vg_test_normal(&rng) * 3.0);
    for (int i = 0; i < 500; i++) {
        double before = c.d.last_x, x = vg_test_normal(&rng) * 3.0;
        feed(&c, x);
        hits_late += fabs(x - before) / 3.0 * c.d.rate_gain >= 1.0;
    }
    CU_ASSERT_EQUAL(hits_quiet, 1);
    CU_ASSERT_TRUE(c.d.rate_gain <= 0.25);
    /* about 16% of the steps of sigma-3 noise exceed 3 / s unscaled */
    CU_ASSERT_TRUE(hits_late < 25);
}

static void test_silent_from_start_trips(void)
{
    /* A critical sensor that never sends anything is timed from the first
     * tick: the fail-safe must not wait for a first sample. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    e.stale_us = 1000000;
    e.trip_on_stale = true;
    chan_init(&c, &e, NULL);
    vg_verdict v;
    vg_detect_tick(&c.d, &c.p, 10000000, &v);
    CU_ASSERT_EQUAL(v.trip, 0);
    vg_detect_tick(&c.d, &c.p, 10900000, &v);
    CU_ASSERT_EQUAL(v.trip, 0);
    vg_detect_tick(&c.d, &c.p, 11100000, &v);
    CU_ASSERT_EQUAL(v.trip_edge, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_STALE);
}

static void test_narrow_band_trip_resettable(void)
{
    /* Envelope [0,100] with hysteresis 10, model narrows it to [45,55]:
     * the clearing band would be empty; the trip must still be resettable
     * once the value is back in the middle. */
    static struct chan c;
    vg_envelope e = env_hi(100, 1, 1, 10);
    e.lo = 0;
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.lo = 45;
    m.hi = 55;
    chan_init(&c, &e, &m);
    CU_ASSERT_EQUAL(feed(&c, 60).trip, 1);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_EACTIVE);
    feed(&c, 50);
    CU_ASSERT_EQUAL(c.d.limit_on, 0);
    CU_ASSERT_EQUAL(vg_detect_reset(&c.d), VG_OK);
}

static void test_hostile_model_cannot_nan_the_score(void)
{
    /* A model scale of 1e-200 would make ratios overflow; the score must
     * stay a number in [0,1] and still alert on a step. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    vg_chan_model m;
    vg_chan_model_clear(&m, "x");
    m.loc = 0;
    m.scale = 1e-200;
    m.rate_max = 1e-200;
    chan_init(&c, &e, &m);
    vg_verdict v = feed(&c, 0);
    for (int i = 0; i < 100; i++) /* past every detector's warm-up */
        v = feed(&c, 0);
    CU_ASSERT_TRUE(v.score >= 0 && v.score <= 1);
    v = feed(&c, 1.0);
    CU_ASSERT_FALSE(isnan(v.score));
    CU_ASSERT_TRUE(v.score >= 0.5 && v.score <= 1);
    CU_ASSERT_EQUAL(v.alert, 1);
}

static void test_adapt_seasonal_quiet_then_step(void)
{
    /* A daily cycle 5 sigma high: the adaptive baseline follows it without
     * alerts; a 10-sigma step alerts at once and, once the baseline has
     * restarted at the new level, clears. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    chan_init(&c, &e, NULL);
    uint64_t rng = 3;
    int alerts = 0;
    for (int i = 0; i < 3000; i++)
        alerts += feed(&c, 50 + 5 * sin(i * 2 * M_PI / 288) + vg_test_normal(&rng)).alert_edge == 1;
    CU_ASSERT_TRUE(alerts <= 1);
    vg_verdict v = feed(&c, 60 + 5 * sin(3000 * 2 * M_PI / 288) + vg_test_normal(&rng));
    CU_ASSERT_EQUAL(v.alert, 1);
    CU_ASSERT_EQUAL(v.det, VG_DET_ZSCORE);
    int cleared = 0;
    for (int i = 3001; i < 3100 && !cleared; i++)
        cleared = feed(&c, 60 + 5 * sin(i * 2 * M_PI / 288) + vg_test_normal(&rng)).alert == 0;
    CU_ASSERT_TRUE(cleared);
}

static void test_adapt_variance_change(void)
{
    /* Same level, noise x4: the variance component (reported as CUSUM)
     * alerts within a few dozen samples. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    chan_init(&c, &e, NULL);
    uint64_t rng = 9;
    for (int i = 0; i < 2000; i++)
        feed(&c, 10 + vg_test_normal(&rng));
    int first = -1, det = 0;
    for (int i = 0; i < 100 && first < 0; i++) {
        vg_verdict v = feed(&c, 10 + 4 * vg_test_normal(&rng));
        if (v.alert_edge == 1)
            first = i, det = v.det;
    }
    CU_ASSERT_TRUE(first >= 0 && first < 60);
    CU_ASSERT_TRUE(det == VG_DET_CUSUM || det == VG_DET_ZSCORE);
}

static void test_adapt_stuck_sensor(void)
{
    /* A noisy sensor that freezes: the variance component sees the spread
     * collapse and alerts without any stuck_n configured. */
    static struct chan c;
    vg_envelope e = env_hi(INFINITY, 1, 1, 0);
    chan_init(&c, &e, NULL);
    uint64_t rng = 21;
    for (int i = 0; i < 2000; i++)
        feed(&c, 10 + vg_test_normal(&rng));
    int first = -1;
    for (int i = 0; i < 100 && first < 0; i++)
        if (feed(&c, 10.5).alert_edge == 1)
            first = i;
    CU_ASSERT_TRUE(first >= 0 && first < 60);
}

int init_detect_tests(void)
{
    CU_pSuite s = CU_add_suite("detect", NULL, NULL);
    if (!s || !CU_add_test(s, "limit N-of-M debounce", test_limit_debounce) ||
        !CU_add_test(s, "limit hysteresis and reset", test_limit_hysteresis_and_reset) ||
        !CU_add_test(s, "limit without trip alerts", test_limit_without_trip_alerts_only) ||
        !CU_add_test(s, "model only tightens", test_model_only_tightens) ||
        !CU_add_test(s, "rate and score mapping", test_rate_and_score_mapping) ||
        !CU_add_test(s, "stuck sensor", test_stuck) ||
        !CU_add_test(s, "stale fail-safe", test_stale_failsafe) ||
        !CU_add_test(s, "gap counts as stale", test_gap_is_stale) ||
        !CU_add_test(s, "robust z spike", test_robust_z_spike_then_clear) ||
        !CU_add_test(s, "adaptive: seasonal quiet, step", test_adapt_seasonal_quiet_then_step) ||
        !CU_add_test(s, "adaptive: variance change", test_adapt_variance_change) ||
        !CU_add_test(s, "adaptive: stuck sensor", test_adapt_stuck_sensor) ||
        !CU_add_test(s, "cusum small shift", test_cusum_catches_small_shift) ||
        !CU_add_test(s, "ewma step", test_ewma_alone) ||
        !CU_add_test(s, "fitted reference retires after a shift",
                     test_fitted_reference_retires_after_shift) ||
        !CU_add_test(s, "fitted rate limit tires", test_fitted_rate_fatigue) ||
        !CU_add_test(s, "silent from start trips", test_silent_from_start_trips) ||
        !CU_add_test(s, "narrow band stays resettable", test_narrow_band_trip_resettable) ||
        !CU_add_test(s, "hostile model cannot NaN the score",
                     test_hostile_model_cannot_nan_the_score))
        return CU_get_error();
    return 0;
}
