/*
 * test_mvar.c - the multivariate T^2 / Q detector: the fit recovers a known
 * covariance structure, a correlation break that univariate limits miss is
 * detected (by Q), a shift along the correlation is T^2's, the fit is
 * bit-for-bit deterministic, missing cells are held, constant channels are
 * left out, and the limits meet the false-alarm target on fresh rows.
 * Re-learning: a persistent new regime alarms, then is re-learnt and the
 * alert clears; a break shorter than the horizon stays alarmed throughout;
 * the re-fit is deterministic.  Covariance adaptation: a stream whose
 * correlations keep turning stays quiet (and alarms without it), a sudden
 * decoupling after long adaptation alarms within 10 rows and is not
 * learnt, the adapted model is bit-for-bit deterministic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_util.h"
#include "vg_error.h"
#include "vg_mvar.h"

#define NT 20000

static double xs[NT * 4], scratch[2 * NT];
static const char *const names4[] = {"flow", "pressure", "current", "temp"};

/* Row i of a 4-channel machine: two latent drivers, rho(flow, pressure)
 * and rho(flow, current) high, temp independent. */
static void machine_row(uint64_t *rng, double *row)
{
    double load = vg_test_normal(rng), e = vg_test_normal(rng);
    row[0] = 10 + 2 * load + 0.2 * vg_test_normal(rng);
    row[1] = 5 + 1 * load + 0.1 * vg_test_normal(rng);
    row[2] = 20 + 3 * load + 0.3 * vg_test_normal(rng);
    row[3] = 40 + 0.5 * e;
}

static void machine(uint64_t seed, size_t n)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++)
        machine_row(&rng, &xs[i * 4]);
}

static void fit_default(vg_mvar_model *m, size_t n)
{
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, n, scratch, &o, m), VG_OK);
}

static void test_recovers_covariance(void)
{
    /* Two channels with correlation 0.8: eigenvalues 1.8 and 0.2 of the
     * correlation matrix, first loading (1, 1) / sqrt 2. */
    uint64_t rng = 11;
    for (size_t i = 0; i < NT; i++) {
        double a = vg_test_normal(&rng), b = vg_test_normal(&rng);
        xs[2 * i] = 3 + 2 * a;
        xs[2 * i + 1] = -1 + 0.5 * (0.8 * a + 0.6 * b);
    }
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.var_explained = 0.85;
    vg_mvar_model m;
    const char *const nm[] = {"a", "b"};
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(nm, 2, xs, NT, scratch, &o, &m), VG_OK);
    CU_ASSERT_EQUAL(m.p, 2);
    CU_ASSERT_EQUAL(m.k, 1);
    CU_ASSERT_STRING_EQUAL(m.name[1], "b");
    CU_ASSERT_TRUE(fabs(m.loc[0] - 3) < 0.05 && fabs(m.loc[1] + 1) < 0.02);
    CU_ASSERT_TRUE(fabs(m.scale[0] - 2) < 0.05 && fabs(m.scale[1] - 0.5) < 0.015);
    CU_ASSERT_TRUE(fabs(m.eig[0] - 1.8) < 0.02);
    CU_ASSERT_TRUE(fabs(m.load[0] - 0.70710678118654752) < 1e-3 &&
                   fabs(m.load[1] - 0.70710678118654752) < 1e-3);
    /* Q's training mean is the discarded eigenvalue. */
    CU_ASSERT_TRUE(fabs(m.q_mean - 0.2) < 0.02);
    CU_ASSERT_TRUE(fabs(m.t2_mean - 1.0) < 0.05);
}

static void test_four_channels(void)
{
    machine(1, NT);
    vg_mvar_model m;
    fit_default(&m, NT);
    CU_ASSERT_EQUAL(m.p, 4);
    /* one load component (~2.97 of 4) + temp (1.0) reach 90% */
    CU_ASSERT_EQUAL(m.k, 2);
    CU_ASSERT_TRUE(m.eig[0] > 2.9 && m.eig[0] < 3.05);
    CU_ASSERT_TRUE(fabs(m.eig[1] - 1) < 0.05);
    CU_ASSERT_TRUE(m.t2_lim > m.t2_mean && m.q_lim > m.q_mean);
    CU_ASSERT_EQUAL(vg_mvar_check(&m), VG_OK);
}

/* Scores `rows` rows of process `row_fn` with the fitted *m, returns the
 * fraction of rows scored >= 0.5 and the last output in *last. */
static double alert_rate(const vg_mvar_model *m, uint64_t seed, size_t rows, vg_mvar_out *last)
{
    vg_mvar s;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&s, m, 0.5, 0.45), VG_OK);
    uint64_t rng = seed;
    size_t hits = 0;
    for (size_t i = 0; i < rows; i++) {
        double row[4];
        machine_row(&rng, row);
        vg_mvar_row(&s, row, last);
        hits += last->score >= 0.5;
    }
    return (double)hits / (double)rows;
}

static void test_correlation_break_is_q(void)
{
    machine(2, NT);
    vg_mvar_model m;
    fit_default(&m, NT);
    vg_mvar s;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&s, &m, 0.5, 0.45), VG_OK);
    vg_mvar_out out = {0};
    /* Flow at +1 sd of its range while pressure and current sit at -1 sd:
     * each within +-1.1 marginal sd (a univariate 3-sigma limit is silent),
     * but the correlation is broken. */
    double row[4] = {10 + 2.02, 5 - 1.0, 20 - 3.0, 40};
    for (int i = 0; i < 20; i++)
        vg_mvar_row(&s, row, &out);
    for (int j = 0; j < 3; j++)
        CU_ASSERT_TRUE(fabs(row[j] - m.loc[j]) / m.scale[j] < 1.1);
    CU_ASSERT_EQUAL(out.alert, 1);
    CU_ASSERT_EQUAL(out.which, 1);
    CU_ASSERT_TRUE(out.q_s > 5 * m.q_lim);
    CU_ASSERT_TRUE(out.t2_s < m.t2_lim);
}

static void test_shift_along_correlation_is_t2(void)
{
    machine(3, NT);
    vg_mvar_model m;
    fit_default(&m, NT);
    vg_mvar s;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&s, &m, 0.5, 0.45), VG_OK);
    vg_mvar_out out = {0};
    /* All three load channels at +8 sd, consistently: the model explains it
     * (Q small) but it is far out along the principal component. */
    double row[4] = {10 + 8 * 2.01, 5 + 8 * 1.005, 20 + 8 * 3.015, 40};
    for (int i = 0; i < 20; i++)
        vg_mvar_row(&s, row, &out);
    CU_ASSERT_EQUAL(out.alert, 1);
    CU_ASSERT_EQUAL(out.which, 0);
    CU_ASSERT_TRUE(out.q_s < m.q_lim);
    /* back to normal: the alert clears */
    uint64_t rng = 99;
    for (int i = 0; i < 100; i++) {
        machine_row(&rng, row);
        vg_mvar_row(&s, row, &out);
    }
    CU_ASSERT_EQUAL(out.alert, 0);
}

static void test_deterministic(void)
{
    static vg_mvar_model a, b;
    machine(4, NT);
    fit_default(&a, NT);
    memset(scratch, 0x5a, sizeof scratch); /* scratch contents do not matter */
    fit_default(&b, NT);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
    machine(5, NT);
    fit_default(&b, NT);
    CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof a), 0);
}

static void test_missing_cells(void)
{
    machine(6, NT);
    vg_mvar_model full, holed;
    fit_default(&full, NT);
    /* the first rows of one channel absent, then 5% of cells NaN */
    uint64_t rng = 7;
    for (size_t i = 0; i < 10; i++)
        xs[i * 4 + 2] = NAN;
    for (size_t i = 0; i < NT * 4; i++)
        if (vg_test_uniform(&rng) < 0.05)
            xs[i] = NAN;
    fit_default(&holed, NT);
    CU_ASSERT_EQUAL(holed.p, 4);
    CU_ASSERT_TRUE(holed.k >= full.k && holed.k <= full.k + 1);
    for (uint32_t j = 0; j < 4; j++)
        CU_ASSERT_TRUE(vg_test_close(holed.loc[j], full.loc[j], 0.01));
    /* rows are independent here, so a held cell is uncorrelated with its
     * row: the correlations shrink by about the missing fraction */
    CU_ASSERT_TRUE(holed.eig[0] < full.eig[0] && vg_test_close(holed.eig[0], full.eig[0], 0.1));
    /* online: a NaN cell holds the channel's last value (no drift
     * adaptation here, so the means stay put between the two rows) */
    full.drift = 0;
    vg_mvar s;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&s, &full, 0.5, 0.45), VG_OK);
    vg_mvar_out o1, o2;
    double row[4] = {12, 6, 23, 40.2}, gap[4] = {NAN, NAN, 23, NAN};
    vg_mvar_row(&s, row, &o1);
    vg_mvar_row(&s, gap, &o2);
    CU_ASSERT_TRUE(isfinite(o2.score));
    CU_ASSERT_DOUBLE_EQUAL(o2.t2, o1.t2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(o2.q, o1.q, 1e-12);
    /* a channel never seen stays at its mean */
    vg_mvar_init(&s, &full, 0.5, 0.45);
    double none[4] = {NAN, NAN, NAN, NAN};
    vg_mvar_row(&s, none, &o1);
    CU_ASSERT_DOUBLE_EQUAL(o1.t2, 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(o1.q, 0, 1e-12);
}

static void test_constant_channel_left_out(void)
{
    machine(8, NT);
    for (size_t i = 0; i < NT; i++)
        xs[i * 4 + 1] = 230; /* constant over training */
    vg_mvar_model m;
    fit_default(&m, NT);
    CU_ASSERT_EQUAL(m.p, 3);
    CU_ASSERT_STRING_EQUAL(m.name[0], "flow");
    CU_ASSERT_STRING_EQUAL(m.name[1], "current");
    int idx[4];
    vg_mvar_map(&m, names4, 4, idx);
    CU_ASSERT_TRUE(idx[0] == 0 && idx[1] == 2 && idx[2] == 3);
    /* too few rows, too few channels, too many channels */
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    CU_ASSERT_EQUAL(vg_mvar_fit(names4, 4, xs, 10, scratch, &o, &m), VG_EINVAL);
    CU_ASSERT_EQUAL(m.p, 0);
    CU_ASSERT_EQUAL(vg_mvar_fit(names4, 1, xs, NT, scratch, &o, &m), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_mvar_fit(names4, VG_MVAR_MAX + 1, xs, NT, scratch, &o, &m), VG_EINVAL);
}

static void test_limits_on_fresh_rows(void)
{
    machine(9, NT);
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.margin = 1; /* raw statistics, no margin: the limit is the quantile */
    o.margin_rows = 0;
    o.lambda = 1;
    o.far = 1e-3;
    vg_mvar_model m;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &m), VG_OK);
    vg_mvar_out last;
    double rate = alert_rate(&m, 10, 200000, &last);
    /* both statistics' limits at 1e-3: together 1e-3..2e-3 expected */
    CU_ASSERT_TRUE(rate > 0.4e-3 && rate < 3e-3);
    /* the defaults (EWMA, margin 6) stay well under the target */
    fit_default(&m, NT);
    rate = alert_rate(&m, 10, 200000, &last);
    CU_ASSERT_TRUE(rate < 1e-3);
}

static void test_holdout_limits(void)
{
    /* On a stationary process the hold-out limits (fitted on the first
     * half, calibrated on the second) agree with the in-sample ones. */
    machine(15, NT);
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    vg_mvar_model in, ho, ho2;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &in), VG_OK);
    o.holdout = 0.5;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &ho), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &ho2), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&ho, &ho2, sizeof ho), 0);
    CU_ASSERT_EQUAL(memcmp(ho.load, in.load, sizeof in.load), 0); /* same subspace */
    CU_ASSERT_TRUE(vg_test_close(ho.t2_lim, in.t2_lim, 0.25));
    CU_ASSERT_TRUE(vg_test_close(ho.q_lim, in.q_lim, 0.25));
    /* a level step in the second half inflates the hold-out limits only */
    for (size_t i = NT / 2; i < NT; i++)
        xs[i * 4 + 3] += 1.0; /* temp +2 sd */
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &ho), VG_OK);
    CU_ASSERT_TRUE(ho.t2_lim > 2 * in.t2_lim);
    o.holdout = 1;
    CU_ASSERT_EQUAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &ho), VG_EINVAL);
}

static void test_margin_scales_with_rows(void)
{
    /* 6 at 400 rows, 6 * (1/4)^0.75 = 2.12 at 1600, the floor 1.5 at 20000 */
    machine(17, NT);
    vg_mvar_model a, b, c, raw;
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, 400, scratch, &o, &a), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, 1600, scratch, &o, &b), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &c), VG_OK);
    o.margin = 1;
    o.margin_rows = 0;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &raw), VG_OK);
    CU_ASSERT_DOUBLE_EQUAL(c.t2_lim / raw.t2_lim, 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(c.q_lim / raw.q_lim, 1.5, 1e-9);
    /* against the unscaled margin 6: x1 at 400 rows, x(1/4)^0.75 at 1600 */
    vg_mvar_model a6, b6;
    o.margin = 6;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, 400, scratch, &o, &a6), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, 1600, scratch, &o, &b6), VG_OK);
    CU_ASSERT_DOUBLE_EQUAL(a.t2_lim / a6.t2_lim, 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(b.t2_lim / b6.t2_lim, pow(0.25, 0.75), 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(b.q_lim / b6.q_lim, pow(0.25, 0.75), 1e-9);
}

static void test_check_rejects(void)
{
    machine(12, NT);
    vg_mvar_model m, bad;
    fit_default(&m, NT);
    bad = m;
    bad.scale[1] = 0;
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    bad = m;
    bad.k = 0;
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    bad = m;
    bad.eig[0] = NAN;
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    bad = m;
    strcpy(bad.name[1], "flow");
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    bad = m;
    bad.lambda = 1.5;
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    bad = m;
    bad.drift = 1;
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_EINVAL);
    vg_mvar s;
    CU_ASSERT_EQUAL(vg_mvar_init(&s, &m, 0.5, 0.6), VG_EINVAL);
    memset(&bad, 0, sizeof bad);
    CU_ASSERT_EQUAL(vg_mvar_check(&bad), VG_OK); /* p == 0: none */
}

static void test_drift_follows_slow_mean_change(void)
{
    machine(13, NT);
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.drift = 0.01;
    vg_mvar_model m;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &m), VG_OK);
    vg_mvar s, frozen;
    vg_mvar_model m0 = m;
    m0.drift = 0;
    vg_mvar_init(&s, &m, 0.5, 0.45);
    vg_mvar_init(&frozen, &m0, 0.5, 0.45);
    uint64_t rng = 14;
    size_t a = 0, b = 0;
    /* temp creeps up by 8 sd over 20000 rows (independent channel) */
    for (size_t i = 0; i < 20000; i++) {
        double row[4];
        vg_mvar_out o1, o2;
        machine_row(&rng, row);
        row[3] += 4.0 * (double)i / 20000.0;
        vg_mvar_row(&s, row, &o1);
        vg_mvar_row(&frozen, row, &o2);
        a += o1.alert;
        b += o2.alert;
    }
    CU_ASSERT_TRUE(b > 1000);
    CU_ASSERT_TRUE(a * 50 < b); /* measured: 105 against 14621 */
}

/* Collects vg_mvar_batch rows. */
typedef struct rows_seen {
    int n;
    int64_t t[64];
    double t2[64], q[64];
} rows_seen;

static void on_row(void *user, int64_t t, const vg_mvar_out *o)
{
    rows_seen *r = user;
    if (r->n < 64) {
        r->t[r->n] = t;
        r->t2[r->n] = o->t2;
        r->q[r->n] = o->q;
    }
    r->n++;
}

static void test_drift_never_learns_a_break(void)
{
    /* Adaptation is confined to the principal subspace: a correlation
     * break held for 5000 rows (95% learnt by a plain mean adaptation at
     * the gated-off rate) still alerts at the end. */
    machine(18, NT);
    vg_mvar_model m;
    fit_default(&m, NT);
    CU_ASSERT_TRUE(m.drift > 0);
    vg_mvar s;
    vg_mvar_init(&s, &m, 0.5, 0.45);
    CU_ASSERT_EQUAL(vg_mvar_set_relearn(&s, 0), VG_OK); /* drift alone */
    vg_mvar_out out = {0};
    double row[4] = {10 + 2.02, 5 - 1.0, 20 - 3.0, 40};
    for (int i = 0; i < 5000; i++)
        vg_mvar_row(&s, row, &out);
    CU_ASSERT_EQUAL(out.alert, 1);
    CU_ASSERT_EQUAL(out.which, 1);
}

static void test_training_spikes_left_out(void)
{
    /* 1% of the training rows carry a +50 sd spike on flow: with rows
     * beyond 6 robust sds left out the fit is the clean one's; without,
     * the flow scale and the T^2 limit are inflated. */
    static vg_mvar_model clean, clipped, raw; /* clipped: rows left out */
    machine(19, NT);
    fit_default(&clean, NT);
    uint64_t rng = 20;
    for (size_t i = 0; i < NT; i++)
        if (vg_test_uniform(&rng) < 0.01)
            xs[i * 4] += 50 * 2.01;
    fit_default(&clipped, NT);
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.clip = 0;
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &raw), VG_OK);
    CU_ASSERT_TRUE(vg_test_close(clipped.scale[0], clean.scale[0], 0.01));
    CU_ASSERT_TRUE(raw.scale[0] > 2 * clean.scale[0]);
    CU_ASSERT_TRUE(vg_test_close(clipped.eig[0], clean.eig[0], 0.01));
    /* measured: clean / clipped / raw t2_lim 7.27 / 7.23 / 37.9 */
    CU_ASSERT_TRUE(vg_test_close(clipped.t2_lim, clean.t2_lim, 0.05));
    CU_ASSERT_TRUE(vg_test_close(clipped.q_lim, clean.q_lim, 0.05));
    CU_ASSERT_TRUE(raw.t2_lim > 3 * clean.t2_lim);
    /* 5% of rows at another level are a regime, not spikes: kept */
    machine(19, NT);
    for (size_t i = 0; i < NT; i++)
        if (vg_test_uniform(&rng) < 0.05)
            xs[i * 4] += 50 * 2.01;
    fit_default(&clipped, NT);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, NT, scratch, &o, &raw), VG_OK);
    CU_ASSERT_DOUBLE_EQUAL(clipped.scale[0], raw.scale[0], 1e-12);
}

static void test_batch_rows(void)
{
    /* A samples batch as vigild receives it: channels in any order, an
     * unrelated channel, one channel missing a sample: rows by time, the
     * same verdicts as scoring the rows directly with hold-last. */
    machine(16, NT);
    vg_mvar_model m;
    fit_default(&m, NT);
    m.drift = 0;
    enum { R = 10 };
    static int64_t t[R];
    static double col[5][R];
    const char *cn[5] = {"temp", "current", "other", "pressure", "flow"};
    const int src[5] = {3, 2, -1, 1, 0}; /* column of names4 */
    for (int i = 0; i < R; i++) {
        t[i] = 1700000000000000 + i * 1000000;
        for (int c = 0; c < 5; c++)
            col[c][i] = src[c] >= 0 ? xs[i * 4 + src[c]] : 7;
    }
    static int64_t tp[R - 1];
    static double vp[R - 1];
    for (int i = 0, k = 0; i < R; i++)
        if (i != 4) { /* pressure has no sample at row 4 */
            tp[k] = t[i];
            vp[k++] = col[3][i];
        }
    vg_column cols[5];
    for (int c = 0; c < 5; c++)
        cols[c] = (vg_column){cn[c], R, t, col[c]};
    cols[3] = (vg_column){"pressure", R - 1, tp, vp};
    static uint8_t buf[8192];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode("d", 1, t[0], cols, 5, buf, sizeof buf, &len), VG_OK);
    vg_block blocks[8];
    vg_samples smp = {.block = blocks, .block_cap = 8};
    CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, len, &smp), VG_OK);
    vg_mvar a, b;
    vg_mvar_init(&a, &m, 0.5, 0.45);
    vg_mvar_init(&b, &m, 0.5, 0.45);
    rows_seen seen = {0};
    CU_ASSERT_EQUAL(vg_mvar_batch(&a, &smp, on_row, &seen), R);
    CU_ASSERT_EQUAL_FATAL(seen.n, R);
    for (int i = 0; i < R; i++) {
        double row[4];
        memcpy(row, &xs[i * 4], sizeof row);
        if (i == 4)
            row[1] = NAN; /* held */
        vg_mvar_out o;
        vg_mvar_row(&b, row, &o);
        CU_ASSERT_EQUAL(seen.t[i], t[i]);
        /* values travel as float32 or float64 on the wire: compare loosely */
        CU_ASSERT_TRUE(vg_test_close(seen.t2[i], o.t2, 1e-5));
        CU_ASSERT_TRUE(vg_test_close(seen.q[i], o.q, 1e-5));
    }
    /* a batch without the model's channels gives no rows */
    cols[0] = (vg_column){"other", R, t, col[2]};
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode("d", 2, t[0], cols, 1, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, len, &smp), VG_OK);
    CU_ASSERT_EQUAL(vg_mvar_batch(&a, &smp, NULL, NULL), 0);
}

/* Row of the machine in a new regime: pressure now falls with load (the
 * correlation flipped), the rest as before. */
static void regime_row(uint64_t *rng, double *row)
{
    machine_row(rng, row);
    row[1] = 10 - row[1];
}

/* Scores `rows` rows of the new regime from row 0, then `back` rows of the
 * old one; records every row's verdict in outs (when not NULL). */
static void run_regime(vg_mvar *s, uint64_t seed, size_t rows, size_t back, vg_mvar_out *outs)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < rows + back; i++) {
        double row[4];
        vg_mvar_out o;
        if (i < rows)
            regime_row(&rng, row);
        else
            machine_row(&rng, row);
        vg_mvar_row(s, row, &o);
        if (outs)
            outs[i] = o;
    }
}

static vg_mvar rs1, rs2; /* 72 KiB each: static */
static vg_mvar_out routs1[4000], routs2[4000];

static void test_regime_relearnt(void)
{
    machine(31, 4000);
    vg_mvar_model m;
    fit_default(&m, 4000);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&rs1, &m, 0.5, 0.45), VG_OK);
    CU_ASSERT_EQUAL(rs1.relearn, VG_MVAR_RELEARN);
    run_regime(&rs1, 32, 4000, 0, routs1);
    /* alarmed within 20 rows, and every row after until the re-fit */
    size_t first = 0, at = 0;
    while (first < 4000 && !routs1[first].alert)
        first++;
    CU_ASSERT_TRUE(first < 20);
    while (at < 4000 && !routs1[at].relearnt)
        at++;
    CU_ASSERT_TRUE_FATAL(at < 4000);
    /* at least H rows of alarm, at most 2 H */
    CU_ASSERT_TRUE(at >= first + VG_MVAR_RELEARN - 1 && at < first + 2 * VG_MVAR_RELEARN);
    for (size_t i = first; i < at; i++)
        CU_ASSERT_EQUAL_FATAL(routs1[i].alert, 1);
    CU_ASSERT_EQUAL(routs1[at].alert, 0);
    CU_ASSERT_EQUAL(routs1[at].alert_edge, 2);
    /* the new regime is learnt: the rest of the run is (almost) quiet */
    size_t hot = 0;
    for (size_t i = at + 1; i < 4000; i++)
        hot += routs1[i].alert;
    CU_ASSERT_TRUE(hot < 40);
    CU_ASSERT_EQUAL(rs1.relearns, 1);
    CU_ASSERT_EQUAL(rs1.relearn_fails, 0);
    CU_ASSERT_EQUAL(vg_mvar_check(&rs1.m), VG_OK);
    CU_ASSERT_TRUE(rs1.m.load[1 * rs1.m.k] * rs1.m.load[0] < 0); /* flipped */
}

static void test_short_break_stays_alarmed(void)
{
    machine(33, 4000);
    vg_mvar_model m;
    fit_default(&m, 4000);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&rs1, &m, 0.5, 0.45), VG_OK);
    size_t len = VG_MVAR_RELEARN - 10;
    run_regime(&rs1, 34, len, 2000, routs1);
    size_t first = 0;
    while (first < len && !routs1[first].alert)
        first++;
    CU_ASSERT_TRUE(first < 20);
    for (size_t i = first; i < len; i++) {
        CU_ASSERT_EQUAL_FATAL(routs1[i].alert, 1);
        CU_ASSERT_EQUAL_FATAL(routs1[i].relearnt, 0);
    }
    CU_ASSERT_EQUAL(rs1.relearns, 0);
    /* back to the learnt regime: the alert clears within a few rows */
    size_t hot = 0;
    for (size_t i = len + 20; i < len + 2000; i++)
        hot += routs1[i].alert;
    CU_ASSERT_TRUE(hot < 20);
}

static void test_relearn_deterministic(void)
{
    machine(35, 4000);
    vg_mvar_model m;
    fit_default(&m, 4000);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&rs1, &m, 0.5, 0.45), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(&rs2, &m, 0.5, 0.45), VG_OK);
    /* 700 rows: the ring wraps before the re-fit reads it */
    CU_ASSERT_EQUAL(vg_mvar_set_relearn(&rs1, VG_MVAR_RING), VG_OK);
    CU_ASSERT_EQUAL(vg_mvar_set_relearn(&rs2, VG_MVAR_RING), VG_OK);
    run_regime(&rs1, 36, 3000, 1000, routs1);
    run_regime(&rs2, 36, 3000, 1000, routs2);
    CU_ASSERT_TRUE(rs1.relearns >= 1);
    CU_ASSERT_EQUAL(rs1.relearns, rs2.relearns);
    CU_ASSERT_EQUAL(memcmp(&rs1.m, &rs2.m, sizeof rs1.m), 0);
    int same = 1;
    for (size_t i = 0; i < 4000; i++)
        same &= memcmp(&routs1[i].score, &routs2[i].score, sizeof(double)) == 0 &&
                routs1[i].alert == routs2[i].alert;
    CU_ASSERT_TRUE(same);
    CU_ASSERT_EQUAL(vg_mvar_set_relearn(&rs1, VG_MVAR_RING + 1), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_mvar_set_relearn(&rs1, 5), VG_EINVAL);
}

/* Row i of a machine whose correlations drift (vigil-gen-csv --channels
 * 4): channel 0 a slow cycle (period 3600 rows), channels 1-3 sines of
 * periods 2 pi (50 + j) rows, so their relative phase (their correlation)
 * keeps turning, a radian every 1400-2700 rows; noise sd 0.5 and 1.  From
 * row dec on (dec >= 0) channel 2 is wired the wrong way round: its
 * sign flips, its range and spread stay the same. */
static void drifting_row(uint64_t *rng, size_t i, long dec, double *row)
{
    double r = (double)i;
    row[0] = 60 + 3 * sin(6.283185307179586 * r / 3600) + 0.5 * vg_test_normal(rng);
    for (int j = 1; j < 4; j++)
        row[j] = 10 * sin(r / (50.0 + j)) + vg_test_normal(rng);
    if (dec >= 0 && (long)i >= dec)
        row[2] = -row[2];
}

/* Fits the drifting machine (seed) on its first 4000 rows, then scores
 * rows 0..n with *s from the start, as vigil-replay --train-rows does
 * (adaptation rate `adapt`, re-learning off so that the adaptation alone
 * is seen; channel 2 decoupled from row dec on); outs[i] (when not NULL)
 * gets row i's verdict.  Returns the rows in alert. */
static size_t run_drifting(vg_mvar *s, uint64_t seed, double adapt, size_t n, long dec,
                           vg_mvar_out *outs)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++)
        drifting_row(&rng, i, dec, &xs[i * 4]);
    vg_mvar_model m;
    fit_default(&m, 4000);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_init(s, &m, 0.5, 0.45), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_set_adapt(s, adapt), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_set_relearn(s, 0), VG_OK);
    size_t hot = 0;
    for (size_t i = 0; i < n; i++) {
        vg_mvar_out o;
        vg_mvar_row(s, &xs[i * 4], &o);
        hot += o.alert;
        if (outs)
            outs[i] = o;
    }
    return hot;
}

static vg_mvar_out douts[NT], douts2[NT];

static void test_drifting_correlation_quiet(void)
{
    /* 20000 rows (fitted on the first 4000), the correlations turning all
     * the while: the adapted detector stays quiet; the frozen one
     * (adaptation off, re-learning off in both) alarms on a quarter of them
     * (the defect of issue 7). */
    size_t frozen = run_drifting(&rs1, 41, 0, 20000, -1, NULL);
    size_t adapted = run_drifting(&rs2, 41, VG_MVAR_ADAPT, 20000, -1, douts);
    /* measured: 5249 rows frozen, 0 adapted, 312 re-decompositions */
    CU_ASSERT_TRUE(frozen > 4000);
    CU_ASSERT_TRUE(adapted < 20);
    CU_ASSERT_TRUE(rs2.decomps > 200);
    /* the adapted model stays a valid one: orthonormal loadings, each
     * eigenvalue within [floor, the fitted one] */
    const vg_mvar_model *m = &rs2.m;
    CU_ASSERT_EQUAL(vg_mvar_check(m), VG_OK);
    for (uint32_t c = 0; c < m->k; c++) {
        CU_ASSERT_TRUE(m->eig[c] <= rs2.eig0[c] && m->eig[c] >= rs2.eig_floor);
        for (uint32_t d = 0; d < m->k; d++) {
            double dot = 0;
            for (uint32_t j = 0; j < m->p; j++)
                dot += m->load[j * m->k + c] * m->load[j * m->k + d];
            CU_ASSERT_DOUBLE_EQUAL(dot, c == d, 1e-9);
        }
    }
}

static void test_sudden_decoupling_alarms(void)
{
    /* After 12000 rows of drift followed by the adaptation, channel 2
     * decouples from the others (its range unchanged, so no univariate
     * limit sees it) for 900 rows: alarmed within 10 rows, and alarmed as
     * much in the last third of those rows as in the first (the rows in
     * alert are not folded, so the break is not learnt). */
    const size_t at = 12000, len = 900;
    size_t hot = run_drifting(&rs1, 43, VG_MVAR_ADAPT, at + len, (long)at, douts);
    size_t first = at, third[3] = {0};
    while (first < at + len && !douts[first].alert)
        first++;
    CU_ASSERT_TRUE(first < at + 10);
    for (size_t i = at; i < at + len; i++)
        third[(i - at) / (len / 3)] += douts[i].alert;
    /* measured: alarmed after 7 rows; 49, 50, 214 rows in alert by thirds */
    CU_ASSERT_TRUE(third[0] > 30);
    CU_ASSERT_TRUE(third[2] * 10 >= third[0] * 8);
    CU_ASSERT_EQUAL(hot, third[0] + third[1] + third[2]); /* quiet before */
}

static void test_adaptation_deterministic(void)
{
    /* Two objects fed the same rows: bit-identical models (loadings,
     * eigenvalues, means) and scores after hundreds of re-decompositions;
     * a different rate gives a different model. */
    run_drifting(&rs1, 45, VG_MVAR_ADAPT, 8000, -1, douts2);
    run_drifting(&rs2, 45, VG_MVAR_ADAPT, 8000, -1, douts);
    CU_ASSERT_TRUE(rs1.decomps > 50);
    CU_ASSERT_EQUAL(rs1.decomps, rs2.decomps);
    CU_ASSERT_EQUAL(memcmp(&rs1.m, &rs2.m, sizeof rs1.m), 0);
    CU_ASSERT_EQUAL(memcmp(rs1.cov, rs2.cov, sizeof rs1.cov), 0);
    int same = 1;
    for (size_t i = 0; i < 8000; i++)
        same &= memcmp(&douts2[i].score, &douts[i].score, sizeof(double)) == 0;
    CU_ASSERT_TRUE(same);
    run_drifting(&rs2, 45, VG_MVAR_ADAPT / 2, 8000, -1, NULL);
    CU_ASSERT_NOT_EQUAL(memcmp(rs1.m.load, rs2.m.load, sizeof rs1.m.load), 0);
    CU_ASSERT_EQUAL(vg_mvar_set_adapt(&rs2, -0.1), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_mvar_set_adapt(&rs2, 0.5), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_mvar_set_adapt(&rs2, 0), VG_OK);
}

int init_mvar_tests(void)
{
    CU_pSuite s = CU_add_suite("mvar", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "recovers a known covariance", test_recovers_covariance);
    CU_add_test(s, "four correlated channels", test_four_channels);
    CU_add_test(s, "correlation break: Q alerts, univariate silent", test_correlation_break_is_q);
    CU_add_test(s, "shift along the correlation: T^2", test_shift_along_correlation_is_t2);
    CU_add_test(s, "fit is deterministic", test_deterministic);
    CU_add_test(s, "missing cells are held", test_missing_cells);
    CU_add_test(s, "constant channel left out, bad input", test_constant_channel_left_out);
    CU_add_test(s, "limits meet the target on fresh rows", test_limits_on_fresh_rows);
    CU_add_test(s, "hold-out calibrated limits", test_holdout_limits);
    CU_add_test(s, "margin scales with the training rows", test_margin_scales_with_rows);
    CU_add_test(s, "model check rejects bad models", test_check_rejects);
    CU_add_test(s, "drift adaptation follows a slow mean change",
                test_drift_follows_slow_mean_change);
    CU_add_test(s, "drift adaptation never learns a correlation break",
                test_drift_never_learns_a_break);
    CU_add_test(s, "spikes in the training rows are left out", test_training_spikes_left_out);
    CU_add_test(s, "samples batch scored as rows", test_batch_rows);
    CU_add_test(s, "a persistent new regime is re-learnt", test_regime_relearnt);
    CU_add_test(s, "a break shorter than the horizon stays alarmed",
                test_short_break_stays_alarmed);
    CU_add_test(s, "re-learning is deterministic", test_relearn_deterministic);
    CU_add_test(s, "drifting correlations: adapted, quiet", test_drifting_correlation_quiet);
    CU_add_test(s, "sudden decoupling alarms, is not learnt", test_sudden_decoupling_alarms);
    CU_add_test(s, "covariance adaptation is deterministic", test_adaptation_deterministic);
    return 0;
}
