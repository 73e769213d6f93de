/*
 * test_mvar.c - the multivariate T^2 / Q detector: the fit recovers a known
 * covariance structure, a correlation break that univariate limits miss is
 * detected (by Q), a shift along the correlation is T^2's, the fit is
 * bit-for-bit deterministic, missing cells are held, constant channels are
 * left out, and the limits meet the false-alarm target on fresh rows.
 * Re-learning and covariance adaptation are in test_mvar_adapt.c; the
 * simulated machine in fx_mvar.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fx_mvar.h"
#include "test_util.h"
#include "vg_error.h"
#include "vg_mvar.h"

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
    return 0;
}
