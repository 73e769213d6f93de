/*
 * vg_fit.h - the retraining core: fit one channel's model from history.
 *
 * vigil-batch (per device and channel, from the warehouse) and
 * vigil-replay --train-rows (from the first rows of a CSV) both call
 * vg_fit_channel(); the device runs what it produces through vg_detect.
 *
 * Fit, given training samples (NaN/Inf skipped):
 *   loc, scale   median and 1.4826*MAD; a MAD of 0 (quantised or constant
 *                signals) falls back to the 10-90% spread, then the
 *                standard deviation, then a floor of 1e-6*max(1,|loc|);
 *   z_thr        the (1-far) quantile of |x - loc| / scale, times margin,
 *                at least z_floor;
 *   ewma_l       the same quantile of the EWMA's normalised excursion;
 *   cusum_h      the same quantile of the two-sided CUSUM statistic;
 *   rate_max     the same quantile of |dx/dt|, times margin;
 *   stuck_n      twice the longest run of unchanged values, at least
 *                stuck_min.
 * Quantiles are exact (selection on a copy), the arithmetic has a fixed
 * order, so the same input gives bit-identical output.  Cost: O(n)
 * expected time; memory: the caller's scratch of n doubles, no allocation.
 */
#ifndef VG_FIT_H
#define VG_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "vg_model.h"

typedef struct vg_fit_opts {
    double far;         /* target false-alarm rate per sample (1e-4) */
    double margin;      /* multiplier on fitted quantile thresholds (1.25) */
    double z_floor;     /* lowest robust z threshold (4) */
    double ewma_lambda; /* EWMA smoothing factor to fit for (0.1) */
    double ewma_floor;  /* lowest EWMA width in sigmas (3) */
    double cusum_k;     /* CUSUM allowance in sigmas (0.5) */
    double cusum_floor; /* lowest CUSUM decision interval (5) */
    double stuck_min;   /* lowest stuck run (10 samples) */
    uint32_t min_rows;  /* fewer finite samples than this: VG_EINVAL (16) */
} vg_fit_opts;

/* Fills *o with the defaults above. */
void vg_fit_opts_init(vg_fit_opts *o);

/* Fits channel `name` from samples (t_us[i], x[i]), i < n, in time order
 * (t_us may be NULL: then rate_max is left unset).  scratch must hold n
 * doubles.  Limits (lo/hi) and stale_s are left unset: they belong to the
 * envelope.  VG_EINVAL when fewer than o->min_rows finite samples. */
int vg_fit_channel(const char *name, const int64_t *t_us, const double *x, size_t n,
                   double *scratch, const vg_fit_opts *o, vg_chan_model *out);

/* Shrinks a device's fitted channel toward a fleet prior for the same
 * channel: each statistic becomes w*dev + (1-w)*prior with
 * w = n / (n + n0).  Fields unset in either are left as in *dev. */
void vg_fit_shrink(vg_chan_model *dev, const vg_chan_model *prior, double n, double n0);

#endif
