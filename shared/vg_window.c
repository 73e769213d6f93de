/*
 * vg_window.c - sliding window store (see vg_window.h for the contract).
 *
 * Layout of the caller's buffer: [values cap*8][times cap*8][dq_min cap*4]
 * [dq_max cap*4].  Positions are free-running uint32 counters; a position p
 * lives in slot p & mask, and differences of positions are counts, which
 * stay correct across the 2^32 wrap because they never exceed cap.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "vg_error.h"
#include "vg_window.h"
#include "vg_window.inc" /* the push path */

size_t vg_window_bytes(uint32_t cap)
{
    if (cap < 2 || cap > (1u << 24) || (cap & (cap - 1)) != 0)
        return 0;
    return (size_t)cap * (sizeof(double) + sizeof(int64_t) + 2 * sizeof(uint32_t));
}

int vg_window_init(vg_window *w, uint32_t cap, uint32_t span_n, int64_t span_us, void *mem,
                   size_t mem_len)
{
    size_t need = vg_window_bytes(cap);
    if (!w || !mem || need == 0 || mem_len < need || ((uintptr_t)mem & 7u) != 0 || span_us < 0 ||
        span_n > cap)
        return VG_EINVAL;
    memset(w, 0, sizeof(*w));
    unsigned char *p = mem;
    w->v = (double *)(void *)p;
    w->t = (int64_t *)(void *)(p + (size_t)cap * 8);
    w->dq_min = (uint32_t *)(void *)(p + (size_t)cap * 16);
    w->dq_max = (uint32_t *)(void *)(p + (size_t)cap * 20);
    w->cap = cap;
    w->mask = cap - 1;
    w->span_n = span_n ? span_n : cap;
    w->span_us = span_us;
    w->minmax = 1;
    return VG_OK;
}

void vg_window_clear(vg_window *w)
{
    w->head = w->tail = 0;
    w->mn_head = w->mn_tail = w->mx_head = w->mx_tail = 0;
}

int64_t vg_window_newest_time(const vg_window *w)
{
    if (w->head == w->tail)
        return INT64_MIN;
    return w->t[(w->head - 1) & w->mask];
}

void vg_window_expire(vg_window *w, int64_t now_us)
{
    window__expire(w, now_us);
}

int vg_window_push(vg_window *w, int64_t t_us, double x)
{
    return window__push(w, t_us, x);
}

double vg_window_mean(const vg_window *w)
{
    uint32_t n = vg_window_count(w);
    if (n == 0)
        return NAN;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += vg_window_at(w, i);
    return sum / n;
}

double vg_window_var(const vg_window *w)
{
    uint32_t n = vg_window_count(w);
    if (n < 2)
        return NAN;
    /* two passes: the deviations from the mean, not the difference of two
     * large sums, so no cancellation whatever the level */
    double mean = vg_window_mean(w), ss = 0, s1 = 0;
    for (uint32_t i = 0; i < n; i++) {
        double d = vg_window_at(w, i) - mean;
        s1 += d;
        ss += d * d;
    }
    double m2 = ss - s1 * s1 / n; /* corrected two-pass */
    return m2 > 0 ? m2 / (n - 1) : 0;
}

/* Extreme of the kept samples by scanning: sign 1 for max, -1 for min. */
static double window__scan(const vg_window *w, double sign)
{
    uint32_t n = vg_window_count(w);
    if (n == 0)
        return NAN;
    double best = vg_window_at(w, 0);
    for (uint32_t i = 1; i < n; i++) {
        double x = vg_window_at(w, i);
        if ((x - best) * sign > 0)
            best = x;
    }
    return best;
}

double vg_window_min(const vg_window *w)
{
    if (!w->minmax)
        return window__scan(w, -1.0);
    if (w->mn_head == w->mn_tail)
        return NAN;
    return w->v[w->dq_min[w->mn_tail & w->mask] & w->mask];
}

double vg_window_max(const vg_window *w)
{
    if (!w->minmax)
        return window__scan(w, 1.0);
    if (w->mx_head == w->mx_tail)
        return NAN;
    return w->v[w->dq_max[w->mx_tail & w->mask] & w->mask];
}

void vg_window_track_minmax(vg_window *w, int on)
{
    w->minmax = on ? 1 : 0;
    w->mn_head = w->mn_tail = w->mx_head = w->mx_tail = 0;
    if (!on)
        return;
    for (uint32_t pos = w->tail; pos != w->head; pos++)
        window__deques_push(w, pos, w->v[pos & w->mask]);
}

static void window__swap(double *a, size_t i, size_t j)
{
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Orders a[lo], a[mid], a[hi] and returns the median value (the pivot). */
static double window__pivot(double *a, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo])
        window__swap(a, mid, lo);
    if (a[hi] < a[lo])
        window__swap(a, hi, lo);
    if (a[hi] < a[mid])
        window__swap(a, hi, mid);
    return a[mid];
}

double vg_select(double *a, size_t n, size_t k)
{
    /* Wirth's selection with a median-of-three pivot value. */
    ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (l < r) {
        double x = window__pivot(a, (size_t)l, (size_t)r);
        ptrdiff_t i = l, j = r;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                window__swap(a, (size_t)i, (size_t)j);
                i++;
                j--;
            }
        } while (i <= j);
        if (j < kk)
            l = i;
        if (kk < i)
            r = j;
    }
    return a[kk];
}

/* Median of a[0..n) (n >= 1), reordering a. */
static double window__median(double *a, size_t n)
{
    double hi = vg_select(a, n, n / 2);
    if (n & 1)
        return hi;
    /* After selection a[0..n/2) <= hi; the lower middle is their max, or
     * equivalently the smallest of the upper part is hi itself. */
    double lo = a[0];
    for (size_t i = 1; i < n / 2; i++)
        if (a[i] > lo)
            lo = a[i];
    return lo + (hi - lo) / 2;
}

int vg_window_median_mad(const vg_window *w, double *scratch, double *median, double *mad)
{
    uint32_t n = vg_window_count(w);
    if (n == 0 || !scratch)
        return VG_EINVAL;
    for (uint32_t i = 0; i < n; i++)
        scratch[i] = vg_window_at(w, i);
    double med = window__median(scratch, n);
    for (uint32_t i = 0; i < n; i++)
        scratch[i] = fabs(vg_window_at(w, i) - med);
    *median = med;
    if (mad)
        *mad = window__median(scratch, n);
    return VG_OK;
}

int vg_window_quantile(const vg_window *w, double *scratch, double q, double *out)
{
    uint32_t n = vg_window_count(w);
    if (n == 0 || !scratch || !(q >= 0 && q <= 1))
        return VG_EINVAL;
    for (uint32_t i = 0; i < n; i++)
        scratch[i] = vg_window_at(w, i);
    size_t rank = (size_t)ceil(q * n);
    size_t k = rank ? rank - 1 : 0;
    *out = vg_select(scratch, n, k);
    return VG_OK;
}
