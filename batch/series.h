/*
 * series.h - one channel's samples over a time range, read from the
 * warehouse, plus the exclusion intervals (labelled incidents, trips) that
 * retraining leaves out.
 *
 * Blocks are read by the index (device, channel, t_first) in (t_first, seq)
 * order and concatenated; samples outside [from, to) are dropped.  Cost:
 * O(blocks overlapping the range) index steps plus a copy of their bytes.
 * Memory: two arrays of the series' length, owned by the vb_series.
 */
#ifndef VB_SERIES_H
#define VB_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "warehouse.h"

typedef struct vb_series {
    int64_t *t; /* times, epoch us (owned) */
    double *v;  /* values (owned) */
    size_t n;   /* samples */
    size_t cap; /* allocated */
} vb_series;

/* An interval [from, to) of one channel (name "" = every channel). */
typedef struct vb_interval {
    char channel[VG_CHANNEL_MAX + 1]; /* channel, or "" for all */
    int64_t from_us;                  /* start, inclusive */
    int64_t to_us;                    /* end, exclusive */
} vb_interval;

typedef struct vb_intervals {
    vb_interval *e; /* entries (owned) */
    size_t n;
    size_t cap;
} vb_intervals;

/* Appends channel `chan` of device `dev` in [from, to), at most `limit`
 * samples (0 = all), to *s (cleared first). */
int vb_series_load(vb_wh *w, int64_t dev, int64_t chan, int64_t from_us, int64_t to_us,
                   size_t limit, vb_series *s);
void vb_series_free(vb_series *s);

/* Loads the labelled incidents of `device` into *lab and its trips,
 * widened by `margin_us` on each side, into *trips (both cleared first). */
int vb_intervals_load(vb_wh *w, const char *device, int64_t margin_us, vb_intervals *lab,
                      vb_intervals *trips);
void vb_intervals_free(vb_intervals *iv);

/* True when t lies in an interval of *iv that covers channel `chan`. */
int vb_intervals_hit(const vb_intervals *iv, const char *chan, int64_t t);

/* Copies the samples of *s not in any interval of *a or *b covering
 * `chan` into *out (cleared first). */
int vb_series_exclude(const vb_series *s, const char *chan, const vb_intervals *a,
                      const vb_intervals *b, vb_series *out);

#endif
