/*
 * vg_adapt.c - adaptive baseline, two surprise components and their
 * self-calibration (see vg_adapt.h for the design).
 *
 * Warm-up: the first sample sets the level; the residual sigma is the mean
 * |residual| of the warm-up samples; the calibrators start from the values
 * of a Gaussian channel (|z|: mean 0.8, variance 0.36; ln EWMA z^2: mean
 * -0.1, variance 0.25) and learn the channel's own from then on.
 */
#include <math.h>
#include <string.h>

#include "vg_adapt.h"

#define ADAPT_ABS_TO_SIGMA 1.2533141373155003 /* sqrt(pi / 2) */
#define ADAPT_SHIFT_Z      5.0
#define ADAPT_CLIP_Z       4.0
#define ADAPT_MAX_RATIO    4.0
#define ADAPT_SEASON_US    (2 * 86400000000LL) /* history before the seasonal component scores */
#define ADAPT_LEVEL_N      2   /* samples beyond threshold that move the slow level */
#define ADAPT_LEVEL_AGE    512 /* scored samples before the level component is */
#define ADAPT_REFRESH      8   /* samples between 1/sd refreshes (power of 2) */

void vg_adapt_params_init(vg_adapt_params *p)
{
    p->alpha = 0.3;
    p->beta = 0.02;
    p->a_scale = 0.01;
    p->a_var = 0.1;
    p->a_cal = 0.002;
    p->a_fast = 0.03;
    p->a_slow = 0.005;
    p->a_prof = 0.1;
    p->a_season = 0.05;
    p->z_cal = 4.0;
    p->warmup = 64;
    p->shift_n = 3;
}

void vg_adapt_init(vg_adapt *a)
{
    memset(a, 0, sizeof(*a));
}

/* Two doubles: a GCC/clang generic vector, which the compilers lower to one
 * SSE2 register on x86-64 and one NEON register on aarch64 (no
 * target-specific intrinsics; 16 bytes is the widest both have natively,
 * and four-lane vectors were split through the stack).  Lane-wise IEEE
 * add/mul/compare give the same bits as the scalar code they replace. */
typedef double adapt__v2 __attribute__((vector_size(16)));
typedef int64_t adapt__m2 __attribute__((vector_size(16)));  /* lane masks */
typedef uint64_t adapt__u2 __attribute__((vector_size(16))); /* lane bits */

#define ADAPT_V2(c) ((adapt__v2){(c), (c)})

static inline adapt__v2 adapt__load2(const double *p)
{
    adapt__v2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void adapt__store2(double *p, adapt__v2 v)
{
    memcpy(p, &v, sizeof v);
}

static inline int adapt__any2(adapt__m2 m)
{
    return (m[0] | m[1]) != 0;
}

/* Natural log of finite x > 0 in each lane, to about 6e-4 absolute: the
 * exponent from the bits (made a double exactly by the 2^52 trick, no
 * int64 conversion, which SSE2 lacks), ln of the mantissa m in [1, 2) by a
 * cubic in u = m - 1.5 (Chebyshev interpolant) evaluated in Estrin's form,
 * so its latency is three multiply-adds deep, not six.  Increasing on
 * [1, 2); at a power of two it steps back by 2.4e-4.  The components only
 * need a monotone, compressive transform that the calibrators then
 * standardise (their spread is 0.05-0.5): a degree-5 polynomial (1e-5)
 * scored the same on bench/nab, and libm's log1p()/log() were 29% of the
 * detector's time. */
static inline adapt__v2 adapt__ln2(adapt__v2 x)
{
    adapt__u2 b = (adapt__u2)x;
    adapt__u2 eb = ((b >> 52) & 0x7ff) | 0x4330000000000000ull; /* 2^52 + biased exponent */
    adapt__v2 e = (adapt__v2)eb - ADAPT_V2(0x1p52 + 1023.0);
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    adapt__v2 u = (adapt__v2)b - ADAPT_V2(1.5);
    adapt__v2 lo = ADAPT_V2(0.40588174478422007) + ADAPT_V2(0.6664432355937691) * u;
    adapt__v2 hi = ADAPT_V2(-0.23542995309679604) + ADAPT_V2(0.1058437718781013) * u;
    return (e * ADAPT_V2(0.6931471805599453) + lo) + (u * u) * hi;
}

/* Calibrator k, one lane at a time: the rare path of adapt__calibrate2
 * (a deviation beyond 6 sd is clipped before it is learnt). */
static double adapt__calibrate1(vg_adapt *a, const vg_adapt_params *p, int k, double s)
{
    double v = a->v[k], d = s - a->m[k], d2 = d * d;
    double c = d * a->isd[k];
    double dc = d, dc2 = d2;
    if (d2 > 36.0 * v) {
        dc = d > 0 ? 6.0 * sqrt(v) : -6.0 * sqrt(v);
        dc2 = 36.0 * v;
    }
    a->m[k] += p->a_cal * dc;
    v += p->a_cal * (dc2 - v);
    a->v[k] = v < 1e-4 ? 1e-4 : v;
    if (a->tick == 0 || d2 > 16.0 * v)
        a->isd[k] = 1.0 / sqrt(a->v[k]);
    return c;
}

/* Standardised deviations of components k, k + 1 (values s) from their
 * calibrators, then learns s (clipped at 6 sd).  The clip compares
 * squares, so the sample-to-sample dependency through m and v is a few
 * multiply-adds.  1/sd is refreshed every ADAPT_REFRESH samples (v moves
 * by about a_cal per sample) and at once after a deviation beyond 4 sd,
 * which is what moves v fast.  (Refreshing on every sample measured
 * slightly worse on bench/nab: 53.4 vs 54.6 on the tuning part; refreshing
 * every 16 samples with no early refresh, worse.) */
static inline __attribute__((always_inline)) adapt__v2
adapt__calibrate2(vg_adapt *a, const vg_adapt_params *p, int k, adapt__v2 s)
{
    adapt__v2 v = adapt__load2(a->v + k), m = adapt__load2(a->m + k);
    adapt__v2 d = s - m, d2 = d * d;
    if (adapt__any2(d2 > ADAPT_V2(36.0) * v)) /* rare */
        return (adapt__v2){adapt__calibrate1(a, p, k, s[0]), adapt__calibrate1(a, p, k + 1, s[1])};
    adapt__v2 c = d * adapt__load2(a->isd + k), cal = ADAPT_V2(p->a_cal);
    adapt__store2(a->m + k, m + cal * d);
    v += cal * (d2 - v);
    adapt__m2 low = v < ADAPT_V2(1e-4);
    adapt__v2 vc = (adapt__v2)(((adapt__m2)v & ~low) | ((adapt__m2)ADAPT_V2(1e-4) & low));
    adapt__store2(a->v + k, vc);
    adapt__m2 fresh = d2 > ADAPT_V2(16.0) * v;
    if (a->tick == 0 || adapt__any2(fresh)) {
        for (int j = 0; j < 2; j++)
            if (a->tick == 0 || fresh[j])
                a->isd[k + j] = 1.0 / sqrt(vc[j]);
    }
    return c;
}

/* Warm-up step: learn level, trend and sigma without scoring. */
static void adapt__warm(vg_adapt *a, const vg_adapt_params *p, double x)
{
    if (a->n == 0) {
        a->lvl = a->fast = a->slow = x;
        a->n = 1;
        return;
    }
    a->fast += p->a_fast * (x - a->fast);
    a->slow += p->a_slow * (x - a->slow);
    double r = x - (a->lvl + a->trd);
    a->sigma += (fabs(r) * ADAPT_ABS_TO_SIGMA - a->sigma) / (double)a->n;
    double l0 = a->lvl;
    a->lvl = a->lvl + a->trd + p->alpha * r;
    a->trd += p->beta * (a->lvl - l0 - a->trd);
    if (++a->n == p->warmup) {
        double floor = 1e-9 * (fabs(a->lvl) > 1 ? fabs(a->lvl) : 1);
        a->sigma = a->sigma > floor ? a->sigma : floor;
        a->isig = 1.0 / a->sigma;
        a->vs = 1.0;
        a->m[0] = 0.5, a->v[0] = 0.1;
        a->m[1] = -0.1, a->v[1] = 0.25;
        a->m[2] = 0.2, a->v[2] = 0.02;
        a->m[3] = 0.5, a->v[3] = 0.25;
        a->vss = 1.0;
        for (int k = 0; k < ADAPT_NCOMP; k++)
            a->isd[k] = 1.0 / sqrt(a->v[k]);
    }
}

/* Baseline update with residual r (clipped unless restarting). */
static void adapt__learn(vg_adapt *a, const vg_adapt_params *p, double x, double r)
{
    double lim = ADAPT_CLIP_Z * a->sigma, ar = fabs(r);
    a->over = ar > ADAPT_SHIFT_Z * a->sigma ? a->over + 1 : 0;
    if (a->over >= p->shift_n) { /* change point: the new level is normal */
        a->lvl = x;
        a->trd = 0;
        a->over = 0;
        return;
    }
    double rc = r > lim ? lim : r < -lim ? -lim : r;
    double l0 = a->lvl;
    a->lvl = a->lvl + a->trd + p->alpha * rc;
    a->trd += p->beta * (a->lvl - l0 - a->trd);
    a->sigma += p->a_scale * ((ar < lim ? ar : lim) * ADAPT_ABS_TO_SIGMA - a->sigma);
    double floor = 1e-9 * (fabs(a->lvl) > 1 ? fabs(a->lvl) : 1);
    if (a->sigma < floor)
        a->sigma = floor;
    a->isig = 1.0 / a->sigma; /* for the next sample: off its critical path */
}

/* The slow level has been left for good (the level component beyond its
 * threshold for ADAPT_LEVEL_N samples): it jumps to the fast one, so the
 * alarm is a pulse at the change. */
static void adapt__level_move(vg_adapt *a, const vg_adapt_params *p, double c2)
{
    a->lover = c2 >= p->z_cal ? a->lover + 1 : 0;
    if (a->lover < ADAPT_LEVEL_N)
        return;
    a->slow = a->fast;
    a->lover = 0;
}

/* The seasonal component: a daily profile of x - slow in ADAPT_NBUCKET
 * time-of-day buckets (from the timestamp), learnt per visit; its residual
 * e = x - slow - profile is squared into a short EWMA, whose ln is
 * calibrated.  A cycle that halves its period or vanishes leaves residuals
 * of the cycle's size where the profile expected the old shape.  Scored
 * only after two days of history (ADAPT_SEASON_US; the profile is learnt
 * fast, at gain 0.3, until then), and after it has fired the profile is
 * learnt anew the same way: the alarm is a pulse, the new pattern normal.
 * This part learns and returns the value to calibrate; adapt__season_score
 * turns the calibrated value into the component. */
static double adapt__season(vg_adapt *a, const vg_adapt_params *p, int64_t t_us, double xc)
{
    int64_t age = t_us - a->t0;
    unsigned b =
        (unsigned)(int64_t)((double)t_us * (ADAPT_NBUCKET / 86400e6)) & (ADAPT_NBUCKET - 1);
    double dev = xc - a->slow, e = dev - a->prof[b];
    double g = age < ADAPT_SEASON_US ? 0.3 : p->a_prof;
    a->prof[b] += (float)(g * e);
    double ez = e * a->isig, ez2 = ez * ez;
    a->vss += p->a_season * ((ez2 < 64.0 ? ez2 : 64.0) - a->vss);
    return a->vss + 1e-4;
}

/* The seasonal component's calibrated value c, or 0 while its history is
 * short; restarts the profile's learning when it fires. */
static double adapt__season_score(vg_adapt *a, const vg_adapt_params *p, int64_t t_us, double c)
{
    if (t_us - a->t0 < ADAPT_SEASON_US)
        return 0;
    if (c >= p->z_cal) /* said once; the new daily pattern is learnt anew */
        a->t0 = t_us;
    return c;
}

double vg_adapt_step(vg_adapt *a, const vg_adapt_params *p, int64_t t_us, double x)
{
    if (a->n < p->warmup) {
        if (a->n == 0)
            a->t0 = t_us;
        adapt__warm(a, p, x);
        return 0.0;
    }
    double r = x - (a->lvl + a->trd);
    double z = r * a->isig, z2 = z * z;
    a->vs += p->a_var * ((z2 < 16.0 ? z2 : 16.0) - a->vs);
    /* the level EWMAs see x clipped like the baseline's residual, so one
     * spike does not look like a level change */
    double lim = ADAPT_CLIP_Z * a->sigma, pred = x - r;
    double xc = r > lim ? pred + lim : r < -lim ? pred - lim : x;
    a->fast += p->a_fast * (xc - a->fast);
    a->slow += p->a_slow * (xc - a->slow);
    adapt__v2 s01 = {1.0 + fabs(z), a->vs + 1e-4};
    adapt__v2 s23 = {1.0 + fabs(a->fast - a->slow) * a->isig, adapt__season(a, p, t_us, xc)};
    adapt__v2 c01 = adapt__calibrate2(a, p, 0, adapt__ln2(s01));
    adapt__v2 c23 = adapt__calibrate2(a, p, 2, adapt__ln2(s23));
    double c0 = c01[0], c1 = fabs(c01[1]), c2 = c23[0];
    double c2p = a->c2_prev; /* a level change lasts: two samples in a row */
    a->c2_prev = c2;
    c2 = c2 < c2p ? c2 : c2p;
    if (a->age < ADAPT_LEVEL_AGE) { /* its calibrator is still learning */
        a->age++;
        c2 = 0;
    }
    double c3 = adapt__season_score(a, p, t_us, c23[1]);
    a->tick = (uint8_t)((a->tick + 1) & (ADAPT_REFRESH - 1));
    adapt__learn(a, p, x, r);
    adapt__level_move(a, p, c2);
    a->which = c1 > c0;
    double c = c1 > c0 ? c1 : c0;
    if (c2 > c) {
        c = c2;
        a->which = 2;
    }
    if (c3 > c) {
        c = c3;
        a->which = 3;
    }
    double ratio = c / p->z_cal;
    return ratio < 0 ? 0 : ratio > ADAPT_MAX_RATIO ? ADAPT_MAX_RATIO : ratio;
}
