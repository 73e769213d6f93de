/*
 * fuzz_samples.c - libFuzzer target for vg_samples_decode(): no crash, every
 * sample of every block readable (vg_block_time() must not overflow: UBSan
 * watches), and an accepted batch, turned back into columns of absolute
 * times and values, re-encodes with the same t0, decodes to the same
 * device, sequence, t0, channel names, times and values (values bit for
 * bit after widening float32 to double), and re-encodes to the same bytes
 * (abort() otherwise).  Offsets may change width (sint64 -> sint32 when
 * they fit) and values float32 -> float64: the comparison is by value.
 */
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Columns rebuilt from a decoded batch; arrays owned here. */
typedef struct cols {
    vg_column col[VG_BATCH_MAX_CHANNEL];
    char name[VG_BATCH_MAX_CHANNEL][VG_CHANNEL_MAX + 1];
    int64_t *t;
    double *v;
} cols;

static void cols_from(cols *c, const vg_samples *s, size_t total)
{
    c->t = malloc((total + 1) * sizeof *c->t);
    c->v = malloc((total + 1) * sizeof *c->v);
    if (!c->t || !c->v)
        abort();
    size_t at = 0;
    for (uint32_t b = 0; b < s->nblock; b++) {
        const vg_block *blk = &s->block[b];
        memcpy(c->name[b], blk->name, blk->name_len);
        c->name[b][blk->name_len] = '\0';
        for (uint32_t i = 0; i < blk->n; i++) {
            c->t[at + i] = vg_block_time(blk, s->t0_us, i);
            c->v[at + i] = vg_block_value(blk, i);
        }
        c->col[b] = (vg_column){.name = c->name[b], .n = blk->n, .t_us = c->t + at, .v = c->v + at};
        at += blk->n;
    }
}

static int batch_equal(const vg_samples *a, const vg_samples *b)
{
    if (strcmp(a->device, b->device) != 0 || a->seq != b->seq || a->t0_us != b->t0_us ||
        a->nblock != b->nblock)
        return 0;
    for (uint32_t k = 0; k < a->nblock; k++) {
        const vg_block *x = &a->block[k], *y = &b->block[k];
        if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) != 0 ||
            x->n != y->n)
            return 0;
        for (uint32_t i = 0; i < x->n; i++) {
            double vx = vg_block_value(x, i), vy = vg_block_value(y, i);
            if (vg_block_time(x, a->t0_us, i) != vg_block_time(y, b->t0_us, i) ||
                memcmp(&vx, &vy, sizeof vx) != 0)
                return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_block ba[VG_BATCH_MAX_CHANNEL], bb[VG_BATCH_MAX_CHANNEL];
    static cols c; /* single-threaded fuzzer */
    vg_samples a = {.block = ba, .block_cap = VG_BATCH_MAX_CHANNEL};
    vg_samples b = {.block = bb, .block_cap = VG_BATCH_MAX_CHANNEL};
    if (vg_samples_decode(data, size, &a) != VG_OK)
        return 0;
    if (size > VG_MSG_MAX_BYTES / 2)
        return 0; /* float32 -> float64 could push the re-encoding past the limit */
    size_t total = 0;
    for (uint32_t k = 0; k < a.nblock; k++)
        total += a.block[k].n;
    cols_from(&c, &a, total);
    size_t cap = 2 * size + 1024, len = 0, len2 = 0;
    uint8_t *buf = malloc(cap), *again = malloc(cap);
    if (!buf || !again)
        abort();
    if (vg_samples_encode(a.device, a.seq, a.t0_us, c.col, a.nblock, buf, cap, &len) != VG_OK)
        abort();
    if (vg_samples_decode(buf, len, &b) != VG_OK || !batch_equal(&a, &b))
        abort();
    free(c.t);
    free(c.v);
    cols_from(&c, &b, total); /* from the re-decoded batch this time */
    if (vg_samples_encode(b.device, b.seq, b.t0_us, c.col, b.nblock, again, cap, &len2) != VG_OK ||
        len2 != len || memcmp(buf, again, len) != 0)
        abort();
    free(buf);
    free(again);
    free(c.t);
    free(c.v);
    return 0;
}
