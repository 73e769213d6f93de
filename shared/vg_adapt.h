/*
 * vg_adapt.h - the adaptive, calibrated statistical detector of a channel.
 *
 * Where the robust z-score, EWMA and CUSUM of vg_detect measure distance
 * from a fixed (fitted or window) reference, this detector follows the
 * signal and asks how surprising each sample is *for this channel*:
 *
 *   baseline   Holt's double exponential smoothing (level + trend) predicts
 *              the next value; it follows level shifts, trends and smooth
 *              daily or weekly cycles.  The residual r = x - prediction is
 *              scaled by an exponentially weighted mean |r| (a robust
 *              sigma); updates use r clipped to +-4 sigma, so one spike
 *              does not drag the baseline.  After `shift_n` consecutive
 *              residuals beyond 5 sigma the baseline restarts at the new
 *              value (a change point: the new regime becomes normal).
 *   components  (1) ln(1 + |z|), z = r / sigma: spikes, steps, dropouts;
 *              (2) ln of a short EWMA of z^2 (clipped at 16): variance
 *              changes up or down, stuck and quantised-to-flat sensors, and
 *              period changes (a faster cycle leaves larger residuals);
 *              (3) ln(1 + |fast - slow| / sigma), fast and slow EWMAs of x
 *              (rates a_fast 0.03, a_slow 0.005; x clipped like the
 *              residual): a lasting level shift or drift of a few sigma
 *              that Holt absorbs before any single sample is surprising.
 *              It counts when two samples in a row are over (a level change
 *              lasts), only after 512 scored samples (its calibrator needs
 *              them), and after two samples over its threshold the slow
 *              EWMA jumps to the fast one: the alarm is a pulse at the
 *              change, then the new level is normal;
 *              (4) ln of a short EWMA (rate 0.05) of the squared seasonal
 *              residual in sigmas: a daily profile of x - slow in 32
 *              time-of-day buckets of 45 minutes (from the timestamp; gain
 *              0.1 per sample in the bucket, 0.3 while learning) predicts
 *              the day's shape, so a cycle that runs faster or vanishes at
 *              the same level and spread is seen (the bucket is cached
 *              with the span of times it holds for, so the per-sample path
 *              does no int64/double conversion).  (Tuned for samples
 *              minutes apart; at several per second a bucket's profile
 *              follows its last few samples and the component is one more
 *              short-term variance test.)  Scored after two days of
 *              history; after it fires the profile is learnt anew the same
 *              way (a pulse, then the new pattern is normal).  Its
 *              calibrator is fed the EWMA as it stood before this sample
 *              (one sample late: the component follows a pattern over
 *              hours), so scoring does not wait for this sample's chain
 *              of slow level, profile, residual and EWMA: ~8 cycles a
 *              sample, bench/nab within +-0.6 of feeding it at once.
 *   calibration  each component's value s is standardised against its own
 *              long-run distribution (EWMA mean m and variance v of s,
 *              updated with s clipped to m + 6 sd): c = (s - m) / sd.  The
 *              output ratio is max(c) / z_cal, capped at 4, so 1 means "as
 *              rare as a z_cal-sigma event of this channel's own history" on
 *              every channel: one threshold serves the fleet.  Under a
 *              Gaussian reading of c, ratio 1 is a one-sided tail
 *              probability Q(z_cal).
 *
 * Cost: O(1) per sample - about 250 instructions (callgrind, bench_core,
 * x86-64 with AVX2; the daily profile about 30 of them); no libm log (a cubic polynomial ln,
 * vg_adapt.inc), the four calibrators as two SSE2/NEON pairs, one division
 * (1/sigma) and a 1/sqrt per calibrator every 8 samples, none on the
 * sample-to-sample dependency chain; state 344 bytes per channel (128 of
 * them the daily profile), no allocation.  The step itself is in
 * vg_adapt.inc, so vg_detect.c and vg_engine.c inline it.
 */
#ifndef VG_ADAPT_H
#define VG_ADAPT_H

#include <stdint.h>

#define ADAPT_NCOMP   4  /* components: |z|, variance, level, season */
#define ADAPT_NBUCKET 32 /* daily profile buckets of 45 min (power of 2) */

/* Parameters (fleet-wide defaults; see vg_adapt_params_init). */
typedef struct vg_adapt_params {
    double alpha;     /* Holt level smoothing (0.3) */
    double beta;      /* Holt trend smoothing (0.02) */
    double a_scale;   /* rate of the residual-sigma EWMA (0.01) */
    double a_var;     /* rate of the short EWMA of z^2 (0.1) */
    double a_cal;     /* rate of the calibration EWMAs (0.002) */
    double a_fast;    /* rate of the fast level EWMA (0.03) */
    double a_slow;    /* rate of the slow level EWMA (0.005) */
    double a_prof;    /* daily profile learning rate per bucket visit (0.1) */
    double a_season;  /* rate of the seasonal residual EWMA (0.05) */
    double z_cal;     /* calibrated deviation at which the ratio is 1 */
    uint32_t warmup;  /* samples before anything is scored (64) */
    uint32_t shift_n; /* consecutive > 5 sigma residuals that restart (3) */
} vg_adapt_params;

/* Fills *p with the defaults. */
void vg_adapt_params_init(vg_adapt_params *p);

/* Running state of one channel (zeroed = no sample seen). */
typedef struct vg_adapt {
    double lvl, trd;                       /* Holt level and trend */
    double sigma;                          /* robust residual scale (> 0 once warm) */
    double isig;                           /* 1 / sigma */
    double vs;                             /* short EWMA of clipped z^2 */
    double fast, slow;                     /* fast and slow EWMAs of x (level component) */
    double vss;                            /* short EWMA of the squared seasonal residual */
    int64_t t0;                            /* start of the daily profile's (re)learning */
    float prof[ADAPT_NBUCKET];             /* daily profile of x - slow */
    double c2_prev;                        /* previous calibrated level deviation */
    double m[ADAPT_NCOMP], v[ADAPT_NCOMP]; /* calibration mean and variance */
    uint32_t n;                            /* samples seen */
    uint32_t over;                         /* consecutive residuals beyond 5 sigma */
    uint32_t lover;                        /* consecutive samples with the level component over */
    uint32_t age;                          /* scored samples, up to 512 (level component on) */
    double isd[ADAPT_NCOMP];               /* 1 / sqrt(v), refreshed lazily (vg_adapt.c) */
    uint8_t which;                         /* winning component: 0 |z|, 1 var, 2 level, 3 season */
    uint8_t tick;                          /* samples since the 1/sd refresh, mod 8 */
    uint8_t bucket;                        /* daily profile bucket of times [b_lo, b_hi) */
    int64_t b_lo, b_hi;                    /* where `bucket` is known to hold (vg_adapt.inc) */
} vg_adapt;

/* Resets *a to "no sample seen". */
void vg_adapt_init(vg_adapt *a);

/* Scores finite sample x and learns from it; returns the calibrated ratio
 * in [0, 4] (0 during warm-up), and sets a->which.  O(1). */
double vg_adapt_step(vg_adapt *a, const vg_adapt_params *p, int64_t t_us, double x);

#endif
