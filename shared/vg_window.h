/*
 * vg_window.h - per-channel sliding window over a preallocated ring buffer.
 *
 * A window keeps the most recent samples of one channel, bounded both by
 * count (span_n <= capacity, a power of two) and optionally by time (only
 * samples newer than t_newest - span_us).  It maintains, incrementally:
 *
 *   mean / variance   on demand, O(n) (two passes, no cancellation): the
 *                     only caller refreshes a robust reference every so
 *                     many samples and does O(n) median work then anyway,
 *                     so sliding sums would cost every push (about 5 ns,
 *                     plus periodic exact resyncs) for nothing;
 *   min / max         monotonic deques of ring positions, amortised O(1)
 *                     per push when tracking is on (the default); with
 *                     vg_window_track_minmax(w, false) pushes skip the
 *                     deques (they cost ~18 ns a sample on noisy data, in
 *                     branch mispredictions) and min/max are answered by an
 *                     O(n) scan instead;
 *   median / MAD      exact, on demand, O(n) expected (quickselect into a
 *                     caller scratch array) - callers refresh them every so
 *                     many samples rather than per sample.
 *
 * Memory: 24 bytes per slot of capacity (value, timestamp, two deque
 * entries), given by the caller (vg_window_bytes()) and never reallocated;
 * the struct itself is under 100 bytes.  NaN and infinities are not samples:
 * vg_window_push() refuses them with VG_ENAN and leaves the window unchanged.
 */
#ifndef VG_WINDOW_H
#define VG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* Scales a MAD to a standard deviation for Gaussian data: 1 / Phi^-1(3/4). */
#define VG_MAD_TO_SIGMA 1.482602218505602

typedef struct vg_window {
    double *v;                 /* values, ring of cap slots */
    int64_t *t;                /* timestamps (epoch us), ring of cap slots */
    uint32_t *dq_min;          /* ring positions with increasing values (front = min) */
    uint32_t *dq_max;          /* ring positions with decreasing values (front = max) */
    uint32_t cap;              /* slots, a power of two */
    uint32_t mask;             /* cap - 1 */
    uint32_t span_n;           /* keep at most this many samples (1..cap) */
    int64_t span_us;           /* keep samples with t > newest - span_us; 0 = no limit */
    uint32_t head;             /* position of the next push (positions wrap mod 2^32) */
    uint32_t tail;             /* position of the oldest kept sample */
    uint32_t mn_head, mn_tail; /* dq_min occupies positions [mn_tail, mn_head) */
    uint32_t mx_head, mx_tail; /* dq_max occupies positions [mx_tail, mx_head) */
    uint8_t minmax;            /* 1: maintain the min/max deques */
} vg_window;

/* Bytes of buffer a window of capacity `cap` needs (0 if cap is not a power
 * of two in [2, 2^24]). */
size_t vg_window_bytes(uint32_t cap);

/* Initialises *w over `mem` (vg_window_bytes(cap) bytes, 8-byte aligned,
 * owned by the caller and kept alive as long as *w).  span_n = 0 means cap.
 * VG_EINVAL on a bad capacity, span or buffer. */
int vg_window_init(vg_window *w, uint32_t cap, uint32_t span_n, int64_t span_us, void *mem,
                   size_t mem_len);

/* Turns incremental min/max tracking on or off (see above); switching it
 * on rebuilds the deques from the kept samples, O(n). */
void vg_window_track_minmax(vg_window *w, int on);

/* Empties the window (keeps its buffer and spans). */
void vg_window_clear(vg_window *w);

/* Adds sample (t_us, x), first evicting what falls out of the spans.
 * VG_ENAN for a non-finite x, VG_EORDER when t_us is older than the newest
 * kept sample; the window is unchanged on error. */
int vg_window_push(vg_window *w, int64_t t_us, double x);

/* Drops samples older than now_us - span_us (time windows only). */
void vg_window_expire(vg_window *w, int64_t now_us);

static inline uint32_t vg_window_count(const vg_window *w)
{
    return w->head - w->tail;
}

/* i-th kept value, 0 = oldest; i must be < vg_window_count(w). */
static inline double vg_window_at(const vg_window *w, uint32_t i)
{
    return w->v[(w->tail + i) & w->mask];
}

/* Timestamp of the newest kept sample; INT64_MIN when empty. */
int64_t vg_window_newest_time(const vg_window *w);

/* Aggregates of the kept samples; NaN when the window is empty (variance
 * needs two samples).  Variance is the sample variance (n - 1). */
double vg_window_mean(const vg_window *w);
double vg_window_var(const vg_window *w);
double vg_window_min(const vg_window *w);
double vg_window_max(const vg_window *w);

/* Exact median and median absolute deviation (unscaled) of the kept
 * samples, using scratch[0..count).  For an even count the median is the
 * mean of the two middle values.  VG_EINVAL when empty.  O(n) expected. */
int vg_window_median_mad(const vg_window *w, double *scratch, double *median, double *mad);

/* Exact q-quantile (0 <= q <= 1, lower interpolation-free "nearest rank":
 * the ceil(q*n)-th smallest, at least the 1st) using scratch[0..count). */
int vg_window_quantile(const vg_window *w, double *scratch, double q, double *out);

/* Selects the k-th smallest (0-based) of a[0..n) in place, O(n) expected;
 * deterministic; requires n >= 1, k < n and no NaN in a.  Afterwards
 * a[0..k) <= a[k] <= a[k+1..n).  Exposed for the retraining core. */
double vg_select(double *a, size_t n, size_t k);

#endif
