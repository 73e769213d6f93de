/*
 * vg_fit.c - deterministic per-channel model fitting (see vg_fit.h).
 *
 * Each threshold is fitted the same way: run the detector's statistic over
 * the training series into scratch, take its exact (1 - far) quantile with
 * vg_select(), multiply by the margin and apply the floor.  Four passes of
 * O(n) each plus selections; no allocation.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "vg_error.h"
#include "vg_fit.h"
#include "vg_window.h"

#define VG_IQR80_TO_SIGMA 2.5631031310892007 /* q90 - q10 of N(0,1) */

void vg_fit_opts_init(vg_fit_opts *o)
{
    o->far = 1e-4;
    o->margin = 1.25;
    o->z_floor = 4.0;
    o->ewma_lambda = 0.1;
    o->ewma_floor = 3.0;
    o->cusum_k = 0.5;
    o->cusum_floor = 5.0;
    o->stuck_min = 10.0;
    o->min_rows = 16;
}

/* Exact q-quantile (nearest rank) of a[0..n), reordering a. */
static double fit__quantile(double *a, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    return vg_select(a, n, rank ? rank - 1 : 0);
}

/* Copies the finite values of x into a; returns how many. */
static size_t fit__finite(const double *x, size_t n, double *a)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            a[m++] = x[i];
    return m;
}

/* Robust location and scale of x (see the fallbacks in vg_fit.h). */
static void fit__loc_scale(const double *x, size_t n, double *a, double *loc, double *scale)
{
    size_t m = fit__finite(x, n, a);
    double med = fit__quantile(a, m, 0.5);
    if (m % 2 == 0) { /* mean of the two middle values, like the window */
        double lo = vg_select(a, m, m / 2 - 1);
        double hi = vg_select(a, m, m / 2);
        med = lo + (hi - lo) / 2;
    }
    for (size_t i = 0; i < m; i++)
        a[i] = fabs(a[i] - med);
    double s = fit__quantile(a, m, 0.5) * VG_MAD_TO_SIGMA;
    if (!(s > 0)) {
        m = fit__finite(x, n, a);
        double q90 = fit__quantile(a, m, 0.9), q10 = fit__quantile(a, m, 0.1);
        s = (q90 - q10) / VG_IQR80_TO_SIGMA;
    }
    if (!(s > 0)) {
        double sum = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(x[i]))
                sum += x[i];
        double mean = sum / (double)m;
        for (size_t i = 0; i < n; i++)
            if (isfinite(x[i]))
                ss += (x[i] - mean) * (x[i] - mean);
        s = m > 1 ? sqrt(ss / (double)(m - 1)) : 0;
    }
    double floor = 1e-6 * (fabs(med) > 1 ? fabs(med) : 1);
    *loc = med;
    *scale = s > floor ? s : floor;
}

/* Threshold from statistic values a[0..m): quantile * margin, floored. */
static double fit__threshold(double *a, size_t m, const vg_fit_opts *o, double floor)
{
    if (m == 0)
        return floor;
    double q = fit__quantile(a, m, 1.0 - o->far) * o->margin;
    return q > floor ? q : floor;
}

/* Fills a with the EWMA's excursion from loc in EWMA sigmas, one per
 * finite sample; returns how many. */
static size_t fit__ewma(const double *x, size_t n, double loc, double scale, const vg_fit_opts *o,
                        double *a)
{
    double lam = o->ewma_lambda, sig = scale * sqrt(lam / (2.0 - lam)), e = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        e = isnan(e) ? x[i] : e + lam * (x[i] - e);
        a[m++] = fabs(e - loc) / sig;
    }
    return m;
}

/* Fills a with the two-sided CUSUM statistic after each finite sample. */
static size_t fit__cusum(const double *x, size_t n, double loc, double scale, const vg_fit_opts *o,
                         double *a)
{
    double cp = 0, cn = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        double z = (x[i] - loc) / scale;
        cp = fmax(0.0, cp + z - o->cusum_k);
        cn = fmax(0.0, cn - z - o->cusum_k);
        a[m++] = fmax(cp, cn);
    }
    return m;
}

/* |dx/dt| in units per second between consecutive finite samples. */
static size_t fit__rates(const int64_t *t, const double *x, size_t n, double *a)
{
    size_t m = 0, prev = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        if (prev < n && t[i] > t[prev])
            a[m++] = fabs(x[i] - x[prev]) * 1e6 / (double)(t[i] - t[prev]);
        prev = i;
    }
    return m;
}

/* Longest run of consecutive finite samples that did not change. */
static double fit__longest_flat(const double *x, size_t n)
{
    size_t run = 0, best = 0, prev = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        run = (prev < n && x[i] == x[prev]) ? run + 1 : 0;
        best = run > best ? run : best;
        prev = i;
    }
    return (double)best;
}

int vg_fit_channel(const char *name, const int64_t *t_us, const double *x, size_t n,
                   double *scratch, const vg_fit_opts *o, vg_chan_model *out)
{
    vg_chan_model_clear(out, name);
    size_t m = fit__finite(x, n, scratch);
    if (m < o->min_rows || m < 2)
        return VG_EINVAL;
    double loc, scale;
    fit__loc_scale(x, n, scratch, &loc, &scale);
    out->loc = loc;
    out->scale = scale;
    for (size_t i = 0, k = 0; i < n; i++)
        if (isfinite(x[i]))
            scratch[k++] = fabs(x[i] - loc) / scale;
    out->z_thr = fit__threshold(scratch, m, o, o->z_floor);
    out->ewma_lambda = o->ewma_lambda;
    out->ewma_l =
        fit__threshold(scratch, fit__ewma(x, n, loc, scale, o, scratch), o, o->ewma_floor);
    out->cusum_k = o->cusum_k;
    out->cusum_h =
        fit__threshold(scratch, fit__cusum(x, n, loc, scale, o, scratch), o, o->cusum_floor);
    if (t_us) {
        size_t mr = fit__rates(t_us, x, n, scratch);
        if (mr > 0)
            out->rate_max = fit__threshold(scratch, mr, o, 1e-9) * 2.0;
    }
    out->stuck_eps = 0;
    double flat = 2.0 * fit__longest_flat(x, n);
    out->stuck_n = flat > o->stuck_min ? flat : o->stuck_min;
    return VG_OK;
}

void vg_fit_shrink(vg_chan_model *dev, const vg_chan_model *prior, double n, double n0)
{
    double denom = n + (n0 > 0 ? n0 : 0);
    double w = denom > 0 ? n / denom : 1.0;
    /* Statistics loc .. stuck_n; limits and stale_s are not blended. */
    for (size_t off = offsetof(vg_chan_model, loc); off < offsetof(vg_chan_model, stale_s);
         off += sizeof(double)) {
        double d, p;
        memcpy(&d, (const char *)dev + off, sizeof d);
        memcpy(&p, (const char *)prior + off, sizeof p);
        if (isfinite(d) && isfinite(p)) {
            d = w * d + (1.0 - w) * p;
            memcpy((char *)dev + off, &d, sizeof d);
        }
    }
}
