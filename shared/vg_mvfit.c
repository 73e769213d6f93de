/*
 * vg_mvfit.c - the multivariate detector's fitting half (see vg_mvar.h for
 * the method): outlier rows, moments, correlation matrix, cyclic Jacobi
 * eigendecomposition, component choice and limits calibrated on the
 * training rows.
 *
 * Cost: O(N p^2) plus two selections per column for the outlier bounds,
 * O(N p) for the moments, O(N p^2) for the correlation matrix,
 * O(p^3) per Jacobi sweep (at most 64 sweeps; about 6 in practice), O(N p k)
 * to score the training rows, O(N) expected for the empirical quantile.
 * Memory: the caller's 2 N doubles and fixed-size locals (about 6 KiB of
 * stack); nothing allocated, no I/O.  Every sum runs in a fixed order, so
 * the same input gives bit-identical output.
 */
#include <math.h>
#include <string.h>

#include "vg_error.h"
#include "vg_mvar.h"

#define MVF_SWEEPS     64   /* Jacobi sweeps at most */
#define MVF_CONST      1e-9 /* sd under this x max(1, |mean|): constant */
#define MVF_MARGIN_MIN 1.5  /* scaled margins stop here */
#define MVF_OUT_MAX    0.02 /* outlier rows: at most this fraction */

/* Training rows as seen through hold-last, over the selected channels. */
typedef struct mvf_data {
    const double *x;       /* n x p, row-major */
    size_t n, i0;          /* rows; first usable row */
    uint32_t p;            /* columns of x */
    const double *lo, *hi; /* outlier bounds per column, NULL = none */
} mvf_data;

void vg_mvar_opts_init(vg_mvar_opts *o)
{
    o->var_explained = 0.99;
    o->far = 1e-3;
    o->margin = 6;
    o->margin_rows = 400;
    o->lambda = 0.2;
    o->drift = 0.03;
    o->holdout = 0;
    o->clip = 6;
    o->min_rows = 32;
}

/* First row at which every column has had a finite value; n if never. */
static size_t mvf__first_usable(const double *x, size_t n, uint32_t p)
{
    size_t i0 = 0;
    for (uint32_t j = 0; j < p; j++) {
        size_t i = 0;
        while (i < n && !isfinite(x[i * p + j]))
            i++;
        i0 = i > i0 ? i : i0;
    }
    return i0;
}

/* Updates hold-last values `last` from row i of d; returns 1 when every
 * held value is inside the outlier bounds (the row is used), else 0. */
static int mvf__hold(const mvf_data *d, size_t i, double *last)
{
    int ok = 1;
    for (uint32_t j = 0; j < d->p; j++) {
        double v = d->x[i * d->p + j];
        if (isfinite(v))
            last[j] = v;
        if (d->lo && (last[j] < d->lo[j] || last[j] > d->hi[j]))
            ok = 0;
    }
    return ok;
}

/* Seeds hold-last values with the last finite value at or before i0. */
static void mvf__seed(const mvf_data *d, double *last)
{
    for (size_t i = 0; i <= d->i0 && i < d->n; i++)
        mvf__hold(d, i, last);
}

/* Rows of d that are used: usable and inside the outlier bounds. */
static size_t mvf__count(const mvf_data *d)
{
    double last[VG_MVAR_MAX];
    size_t m = 0;
    mvf__seed(d, last);
    for (size_t i = d->i0; i < d->n; i++)
        m += (size_t)mvf__hold(d, i, last);
    return m;
}

/* Per-column mean and standard deviation over the used rows. */
static void mvf__moments(const mvf_data *d, double *mean, double *sd)
{
    double last[VG_MVAR_MAX], s[VG_MVAR_MAX] = {0}, ss[VG_MVAR_MAX] = {0};
    size_t m = 0;
    mvf__seed(d, last);
    for (size_t i = d->i0; i < d->n; i++) {
        if (!mvf__hold(d, i, last))
            continue;
        m++;
        for (uint32_t j = 0; j < d->p; j++)
            s[j] += last[j];
    }
    for (uint32_t j = 0; j < d->p; j++)
        mean[j] = s[j] / (double)(m ? m : 1);
    mvf__seed(d, last);
    for (size_t i = d->i0; i < d->n; i++) {
        if (!mvf__hold(d, i, last))
            continue;
        for (uint32_t j = 0; j < d->p; j++)
            ss[j] += (last[j] - mean[j]) * (last[j] - mean[j]);
    }
    for (uint32_t j = 0; j < d->p; j++)
        sd[j] = sqrt(ss[j] / (double)(m > 1 ? m - 1 : 1));
}

/* Standardised selected columns of the current hold-last row. */
static void mvf__z(const vg_mvar_model *m, const uint32_t *sel, const double *last, double *z)
{
    for (uint32_t a = 0; a < m->p; a++)
        z[a] = (last[sel[a]] - m->loc[a]) / m->scale[a];
}

/* Correlation matrix (q x q, row-major) of the selected columns. */
static void mvf__corr(const mvf_data *d, const vg_mvar_model *m, const uint32_t *sel, double *c)
{
    double last[VG_MVAR_MAX], z[VG_MVAR_MAX];
    uint32_t q = m->p;
    memset(c, 0, sizeof(double) * q * q);
    size_t used = 0;
    mvf__seed(d, last);
    for (size_t i = d->i0; i < d->n; i++) {
        if (!mvf__hold(d, i, last))
            continue;
        used++;
        mvf__z(m, sel, last, z);
        for (uint32_t a = 0; a < q; a++)
            for (uint32_t b = a; b < q; b++)
                c[a * q + b] += z[a] * z[b];
    }
    double den = (double)(used > 1 ? used - 1 : 1);
    for (uint32_t a = 0; a < q; a++)
        for (uint32_t b = a; b < q; b++)
            c[b * q + a] = c[a * q + b] = c[a * q + b] / den;
}

/* One Jacobi rotation zeroing a[r][s] of the q x q matrix; v accumulates. */
static void mvf__rotate(double *a, double *v, uint32_t q, uint32_t r, uint32_t s)
{
    double theta = (a[s * q + s] - a[r * q + r]) / (2 * a[r * q + s]);
    double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
    double c = 1 / sqrt(t * t + 1), sn = t * c;
    for (uint32_t i = 0; i < q; i++) {
        double air = a[i * q + r], ais = a[i * q + s];
        a[i * q + r] = c * air - sn * ais;
        a[i * q + s] = sn * air + c * ais;
    }
    for (uint32_t i = 0; i < q; i++) {
        double ari = a[r * q + i], asi = a[s * q + i];
        a[r * q + i] = c * ari - sn * asi;
        a[s * q + i] = sn * ari + c * asi;
    }
    for (uint32_t i = 0; i < q; i++) {
        double vir = v[i * q + r], vis = v[i * q + s];
        v[i * q + r] = c * vir - sn * vis;
        v[i * q + s] = sn * vir + c * vis;
    }
}

/* Sum of squares of the off-diagonal entries. */
static double mvf__offdiag(const double *a, uint32_t q)
{
    double s = 0;
    for (uint32_t r = 0; r < q; r++)
        for (uint32_t c = 0; c < q; c++)
            s += r == c ? 0 : a[r * q + c] * a[r * q + c];
    return s;
}

/* Contract in vg_mvar.h; a and v are the caller's, updated in place. */
void vg_mvar_sweep(double *a, double *v, uint32_t q)
{
    for (uint32_t r = 0; r + 1 < q; r++)
        for (uint32_t s = r + 1; s < q; s++)
            if (a[r * q + s] != 0)
                mvf__rotate(a, v, q, r, s);
}

/* Contract in vg_mvar.h; a is destroyed (eigenvalues end on its diagonal),
 * v receives the eigenvectors as columns. */
void vg_mvar_jacobi(double *a, double *v, uint32_t q)
{
    for (uint32_t i = 0; i < q * q; i++)
        v[i] = i % (q + 1) == 0 ? 1 : 0;
    double tr = 0;
    for (uint32_t i = 0; i < q; i++)
        tr += fabs(a[i * q + i]);
    for (int sweep = 0; sweep < MVF_SWEEPS && mvf__offdiag(a, q) > 1e-30 * (tr * tr + 1e-300);
         sweep++)
        vg_mvar_sweep(a, v, q);
}

/* Order of the eigenvalues (diagonal of a), descending, ties by index. */
static void mvf__order(const double *a, uint32_t q, uint32_t *ord)
{
    for (uint32_t i = 0; i < q; i++)
        ord[i] = i;
    for (uint32_t i = 1; i < q; i++)
        for (uint32_t j = i; j > 0 && a[ord[j] * q + ord[j]] > a[ord[j - 1] * q + ord[j - 1]];
             j--) {
            uint32_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
}

/* Fills eig/load of m from the decomposition: k components, each
 * eigenvector's largest-magnitude entry made positive. */
static void mvf__components(vg_mvar_model *m, const double *a, const double *v, const uint32_t *ord,
                            uint32_t k)
{
    uint32_t q = m->p;
    m->k = k;
    for (uint32_t c = 0; c < k; c++) {
        uint32_t col = ord[c], big = 0;
        for (uint32_t j = 1; j < q; j++)
            if (fabs(v[j * q + col]) > fabs(v[big * q + col]))
                big = j;
        double sign = v[big * q + col] < 0 ? -1 : 1;
        for (uint32_t j = 0; j < q; j++)
            m->load[j * k + c] = sign * v[j * q + col];
        double e = a[col * q + col];
        m->eig[c] = e > 1e-9 * q ? e : 1e-9 * q;
    }
}

/* Fewest components whose eigenvalues reach `frac` of the trace, in
 * 1..q-1. */
static uint32_t mvf__choose_k(const double *a, const uint32_t *ord, uint32_t q, double frac)
{
    double tr = 0, cum = 0;
    for (uint32_t i = 0; i < q; i++)
        tr += a[i * q + i];
    uint32_t k = 0;
    while (k < q - 1 && cum < frac * tr) {
        cum += a[ord[k] * q + ord[k]];
        k++;
    }
    return k ? k : 1;
}

/* Inverse standard normal CDF (Acklam's rational approximation, relative
 * error under 1.2e-9), for p in (0, 1). */
static double mvf__probit(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p < 0.02425 || p > 1 - 0.02425) {
        double r = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        double x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
                   ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
        return p < 0.5 ? x : -x;
    }
    double r = (p - 0.5) * (p - 0.5);
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * (p - 0.5) /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* (1 - far) quantile of g chi^2_h matched to mean m and variance v
 * (Wilson-Hilferty for the chi^2 quantile). */
static double mvf__box_limit(double m, double v, double far)
{
    if (!(v > 0))
        return m;
    double g = v / (2 * m), h = 2 * m * m / v;
    double z = mvf__probit(1 - far), w = 2 / (9 * h);
    double c = 1 - w + z * sqrt(w);
    return g * h * c * c * c;
}

/* The k-th smallest (0-based) of v[0..n) (Wirth's selection; v is
 * permuted).  O(n) expected. */
static double mvf__select(double *v, size_t n, size_t kk)
{
    long l = 0, m = (long)n - 1, k = (long)kk;
    while (l < m) {
        double x = v[k];
        long i = l, j = m;
        do {
            while (v[i] < x)
                i++;
            while (x < v[j])
                j--;
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        } while (i <= j);
        if (j < k)
            l = i;
        if (k < i)
            m = j;
    }
    return v[k];
}

/* Outlier bounds of the training rows: each column's median +- clip
 * robust sds (1.4826 MAD) over the usable rows; unbounded where the MAD is
 * 0 (quantised or constant columns), where clip is 0, or where more than
 * MVF_OUT_MAX of the rows would fall outside (then they are a regime, not
 * spikes).  scratch: n doubles.  O(n p^2) (a hold-last pass per column)
 * plus two selections per column. */
static void mvf__bounds(const mvf_data *d, double clip, double *scratch, double *lo, double *hi)
{
    double last[VG_MVAR_MAX];
    size_t m = d->n - d->i0;
    for (uint32_t j = 0; j < d->p; j++) {
        lo[j] = -INFINITY;
        hi[j] = INFINITY;
        if (!(clip > 0))
            continue;
        mvf__seed(d, last);
        for (size_t i = d->i0; i < d->n; i++) {
            mvf__hold(d, i, last);
            scratch[i - d->i0] = last[j];
        }
        double med = mvf__select(scratch, m, m / 2);
        for (size_t i = 0; i < m; i++)
            scratch[i] = fabs(scratch[i] - med);
        double mad = mvf__select(scratch, m, m / 2), w = clip * 1.4826 * mad;
        size_t out = 0;
        for (size_t i = 0; i < m; i++)
            out += scratch[i] > w;
        if (mad > 0 && (double)out <= MVF_OUT_MAX * (double)m) {
            lo[j] = med - w;
            hi[j] = med + w;
        }
    }
}

/* EWMA (rate l, start at the series mean) of s[0..n) in place; returns
 * that mean. */
static double mvf__smooth(double *s, size_t n, double l)
{
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += s[i];
    mean /= (double)n;
    double e = mean;
    for (size_t i = 0; i < n; i++) {
        e += l * (s[i] - e);
        s[i] = e;
    }
    return mean;
}

/* The margin for limits calibrated on n rows: o->margin at margin_rows
 * rows, scaled by (margin_rows / n)^0.75 (sqrt only, so bit-identical on
 * every libm), never under MVF_MARGIN_MIN; o->margin when margin_rows is 0. */
static double mvf__margin(const vg_mvar_opts *o, size_t n)
{
    if (!o->margin_rows)
        return o->margin;
    double r = (double)o->margin_rows / (double)n, m = o->margin * sqrt(r) * sqrt(sqrt(r));
    return m > MVF_MARGIN_MIN ? m : MVF_MARGIN_MIN;
}

/* Limit for the smoothed statistic s[0..n) (permuted): margin times the
 * larger of the moment-matched chi^2 quantile and the empirical one. */
static double mvf__limit(double *s, size_t n, const vg_mvar_opts *o)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += s[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (s[i] - mean) * (s[i] - mean);
    var /= (double)(n > 1 ? n - 1 : 1);
    double box = mvf__box_limit(mean, var, o->far);
    double lvl = 1 - (o->far > 10.0 / (double)n ? o->far : 10.0 / (double)n);
    double emp = mvf__select(s, n, (size_t)(lvl * (double)(n - 1)));
    double lim = mvf__margin(o, n) * (box > emp ? box : emp);
    return lim > 1e-6 ? lim : 1e-6;
}

/* Scores the usable training rows with m and sets the EWMA starts and
 * limits; scratch holds 2 n doubles. */
static void mvf__calibrate(const mvf_data *d, vg_mvar_model *m, const uint32_t *sel,
                           double *scratch, const vg_mvar_opts *o)
{
    size_t nu = 0;
    double *t2 = scratch, *q = scratch + (d->n - d->i0);
    double last[VG_MVAR_MAX], z[VG_MVAR_MAX];
    mvf__seed(d, last);
    for (size_t i = d->i0; i < d->n; i++) {
        if (!mvf__hold(d, i, last))
            continue;
        mvf__z(m, sel, last, z);
        vg_mvar_stats(m, z, &t2[nu], &q[nu]);
        nu++;
    }
    m->t2_mean = mvf__smooth(t2, nu, m->lambda);
    m->q_mean = mvf__smooth(q, nu, m->lambda);
    m->t2_lim = mvf__limit(t2, nu, o);
    m->q_lim = mvf__limit(q, nu, o);
}

/* Keeps the non-constant columns: sel[] their indices; fills names,
 * loc, scale of m.  Returns how many. */
static uint32_t mvf__select_channels(const char *const *names, const double *mean, const double *sd,
                                     uint32_t p, vg_mvar_model *m, uint32_t *sel)
{
    uint32_t q = 0;
    for (uint32_t j = 0; j < p; j++) {
        if (!(sd[j] > MVF_CONST * fmax(1, fabs(mean[j]))) || !isfinite(sd[j]))
            continue;
        size_t len = strlen(names[j]);
        memcpy(m->name[q], names[j], len > VG_CHANNEL_MAX ? VG_CHANNEL_MAX : len);
        m->loc[q] = mean[j];
        m->scale[q] = sd[j];
        sel[q++] = j;
    }
    return q;
}

static int mvf__args_ok(const char *const *names, uint32_t p, const double *x, double *scratch,
                        const vg_mvar_opts *o)
{
    return names && x && scratch && o && p >= 2 && p <= VG_MVAR_MAX && o->far > 0 &&
           o->holdout >= 0 && o->holdout < 1 && o->clip >= 0 && o->far < 0.5 && o->margin > 0 &&
           o->lambda > 0 && o->lambda <= 1 && o->drift >= 0 && o->drift < 1 &&
           o->var_explained > 0 && o->var_explained <= 1;
}

/* Principal subspace of the selected channels over d's rows: loc, scale
 * (sd floored for a channel constant over these rows), eig, load; k
 * chosen by var_explained when k == 0. */
static void mvf__pca(const mvf_data *d, vg_mvar_model *m, const uint32_t *sel, uint32_t k,
                     const vg_mvar_opts *o)
{
    double mean[VG_MVAR_MAX], sd[VG_MVAR_MAX], c[VG_MVAR_MAX * VG_MVAR_MAX];
    double v[VG_MVAR_MAX * VG_MVAR_MAX];
    uint32_t ord[VG_MVAR_MAX], q = m->p;
    mvf__moments(d, mean, sd);
    for (uint32_t a = 0; a < q; a++) {
        double fl = MVF_CONST * fmax(1, fabs(mean[sel[a]]));
        m->loc[a] = mean[sel[a]];
        m->scale[a] = sd[sel[a]] > fl ? sd[sel[a]] : fl;
    }
    mvf__corr(d, m, sel, c);
    vg_mvar_jacobi(c, v, q);
    mvf__order(c, q, ord);
    mvf__components(m, c, v, ord, k ? k : mvf__choose_k(c, ord, q, o->var_explained));
}

/* Sets the limits of *m: with a hold-out, from the last `holdout` of the
 * rows scored by a model fitted (same channels and k) on the rows before
 * them; otherwise in-sample. */
static void mvf__limits(const mvf_data *d, vg_mvar_model *m, const uint32_t *sel, double *scratch,
                        const vg_mvar_opts *o)
{
    size_t nu = d->n - d->i0, nfit = (size_t)((double)nu * (1 - o->holdout));
    size_t min_rows = o->min_rows > 2 ? o->min_rows : 2;
    mvf_data first = *d, second = *d;
    first.n = d->i0 + nfit;
    second.i0 = d->i0 + nfit;
    if (!(o->holdout > 0) || nfit < min_rows || nu - nfit < min_rows ||
        mvf__count(&first) < min_rows || mvf__count(&second) < min_rows) {
        mvf__calibrate(d, m, sel, scratch, o);
        return;
    }
    static const vg_mvar_model zero;
    vg_mvar_model a = zero;
    a.p = m->p;
    a.lambda = m->lambda;
    mvf__pca(&first, &a, sel, m->k, o);
    mvf__calibrate(&second, &a, sel, scratch, o);
    m->t2_mean = a.t2_mean;
    m->q_mean = a.q_mean;
    m->t2_lim = a.t2_lim;
    m->q_lim = a.q_lim;
}

/* Contract in vg_mvar.h. */
int vg_mvar_fit(const char *const *names, uint32_t p, const double *x, size_t n, double *scratch,
                const vg_mvar_opts *o, vg_mvar_model *out)
{
    memset(out, 0, sizeof *out);
    if (!mvf__args_ok(names, p, x, scratch, o))
        return VG_EINVAL;
    mvf_data d = {.x = x, .n = n, .p = p, .i0 = mvf__first_usable(x, n, p)};
    size_t min_rows = o->min_rows > 2 ? o->min_rows : 2;
    if (d.i0 >= n || n - d.i0 < min_rows)
        return VG_EINVAL;
    double mean[VG_MVAR_MAX], sd[VG_MVAR_MAX], lo[VG_MVAR_MAX], hi[VG_MVAR_MAX];
    uint32_t sel[VG_MVAR_MAX];
    mvf__bounds(&d, o->clip, scratch, lo, hi);
    d.lo = lo;
    d.hi = hi;
    if (mvf__count(&d) < min_rows)
        return VG_EINVAL;
    mvf__moments(&d, mean, sd);
    uint32_t q = mvf__select_channels(names, mean, sd, p, out, sel);
    if (q < 2) {
        memset(out, 0, sizeof *out);
        return VG_EINVAL;
    }
    out->p = q;
    out->lambda = o->lambda;
    out->drift = o->drift;
    mvf__pca(&d, out, sel, 0, o);
    mvf__limits(&d, out, sel, scratch, o);
    if (vg_mvar_check(out) != VG_OK) {
        memset(out, 0, sizeof *out);
        return VG_EINVAL;
    }
    return VG_OK;
}
