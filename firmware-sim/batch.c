/*
 * batch.c - columnar sample batches; see batch.h.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "vg_error.h"

/* See batch.h. */
int sim_batch_init(sim_batch *b, uint32_t nchan, const char *const *names, uint32_t cap)
{
    memset(b, 0, sizeof *b);
    if (nchan == 0 || cap == 0 || nchan > VG_BATCH_MAX_CHANNEL || cap > VG_BATCH_MAX_SAMPLES)
        return VG_EINVAL;
    b->nchan = nchan;
    b->names = names;
    b->cap = cap;
    b->n = calloc(nchan, sizeof *b->n);
    b->t = calloc((size_t)nchan * cap, sizeof *b->t);
    b->v = calloc((size_t)nchan * cap, sizeof *b->v);
    b->col = calloc(nchan, sizeof *b->col);
    if (!b->n || !b->t || !b->v || !b->col) {
        sim_batch_free(b);
        return VG_ENOMEM;
    }
    return VG_OK;
}

/* See batch.h. */
void sim_batch_free(sim_batch *b)
{
    free(b->n);
    free(b->t);
    free(b->v);
    free(b->col);
    memset(b, 0, sizeof *b);
}

/* See batch.h. */
int sim_batch_add(sim_batch *b, uint32_t ch, int64_t t_us, double v)
{
    if (ch >= b->nchan || b->n[ch] >= b->cap)
        return VG_ENOSPC;
    size_t i = (size_t)ch * b->cap + b->n[ch]++;
    b->t[i] = t_us;
    b->v[i] = v;
    return VG_OK;
}

/* See batch.h. */
int sim_batch_end_row(sim_batch *b)
{
    b->rows++;
    return b->rows >= b->cap;
}

/* See batch.h. */
uint32_t sim_batch_samples(const sim_batch *b)
{
    uint32_t s = 0;
    for (uint32_t c = 0; c < b->nchan; c++)
        s += b->n[c];
    return s;
}

/* See batch.h. */
int sim_batch_encode(const sim_batch *b, const char *device, uint64_t seq, uint8_t *buf, size_t cap,
                     size_t *len)
{
    uint32_t ncol = 0;
    int64_t t0 = INT64_MAX;
    for (uint32_t c = 0; c < b->nchan; c++) {
        if (b->n[c] == 0)
            continue;
        const int64_t *t = b->t + (size_t)c * b->cap;
        vg_column *col = &b->col[ncol++];
        col->name = b->names[c];
        col->n = b->n[c];
        col->t_us = t;
        col->v = b->v + (size_t)c * b->cap;
        if (t[0] < t0)
            t0 = t[0];
    }
    if (ncol == 0)
        return VG_EMISSING;
    return vg_samples_encode(device, seq, t0, b->col, ncol, buf, cap, len);
}

/* See batch.h. */
void sim_batch_reset(sim_batch *b)
{
    memset(b->n, 0, b->nchan * sizeof *b->n);
    b->rows = 0;
}

/* See batch.h.  Per channel: name (<= 2 + 32 bytes), map/array framing and
 * two tagged typed arrays (<= 16 framing bytes each) of cap elements of at
 * most 8 bytes; plus the envelope (schema, device, seq, t0). */
size_t sim_batch_max_bytes(uint32_t nchan, uint32_t cap)
{
    return 128 + VG_DEVICE_MAX + (size_t)nchan * (64 + VG_CHANNEL_MAX + 16 * (size_t)cap);
}
