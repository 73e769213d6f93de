/*
 * test_mvar_adapt.c - the multivariate detector over time.  Re-learning:
 * a persistent new regime alarms, then is re-learnt and the alert clears;
 * a break shorter than the horizon stays alarmed throughout; the re-fit is
 * deterministic.  Covariance adaptation: a stream whose correlations keep
 * turning stays quiet (and alarms without it), a sudden decoupling after
 * long adaptation alarms within 10 rows and is not learnt, the adapted
 * model is bit-for-bit deterministic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fx_mvar.h"
#include "test_util.h"
#include "vg_error.h"
#include "vg_mvar.h"

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

int init_mvar_adapt_tests(void)
{
    CU_pSuite s = CU_add_suite("mvar_adapt", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "a persistent new regime is re-learnt", test_regime_relearnt);
    CU_add_test(s, "a break shorter than the horizon stays alarmed",
                test_short_break_stays_alarmed);
    CU_add_test(s, "re-learning is deterministic", test_relearn_deterministic);
    CU_add_test(s, "drifting correlations: adapted, quiet", test_drifting_correlation_quiet);
    CU_add_test(s, "sudden decoupling alarms, is not learnt", test_sudden_decoupling_alarms);
    CU_add_test(s, "covariance adaptation is deterministic", test_adaptation_deterministic);
    return 0;
}
