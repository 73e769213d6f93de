/*
 * writer_gap.c - the spool writer's sequence bookkeeping: the committed
 * mark and the gaps of skipped sample seqs (see writer.h, "Device-level
 * acknowledgement" and "Gaps"; the state is in writer_int.h).
 *
 * Gaps are a small array of inclusive seq ranges, each with the time it
 * was opened or last refilled; every call runs under the writer's queue
 * lock.  Costs: O(VGD_WRITER_GAPS) per call; restoring the gaps at start
 * is one index scan of the last WRITER_HOLE_SPAN sample seqs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "writer_int.h"

#define WRITER_HOLE_SPAN 100000 /* seqs searched for holes at start */

/* Contract in writer_int.h. */
int64_t writer__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Contract in writer_int.h. */
int writer__push(struct wseqs *s, uint64_t v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *n = realloc(s->v, cap * sizeof *n);
        if (!n)
            return VG_ENOMEM;
        s->v = n;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    return VG_OK;
}

/* ---- gaps (queue lock held) -------------------------------------------- */

/* Index of the gap holding seq, or -1. */
int writer__gap_find(const vgd_writer *w, uint64_t seq)
{
    for (uint32_t i = 0; i < w->ngap; i++)
        if (seq >= w->gap[i].lo && seq <= w->gap[i].hi)
            return (int)i;
    return -1;
}

static void writer__gap_drop(vgd_writer *w, uint32_t i)
{
    w->gap[i] = w->gap[--w->ngap];
}

/* Opens gap [lo, hi], merged into a gap it touches or overlaps (the seqs
 * of a failed group are contiguous); when full, gives up the lowest gap
 * (counted).  A merged gap's clock restarts. */
void writer__gap_open(vgd_writer *w, uint64_t lo, uint64_t hi)
{
    for (uint32_t i = 0; i < w->ngap; i++) {
        struct wgap *g = &w->gap[i];
        if (lo <= g->hi + 1 && hi + 1 >= g->lo) {
            g->lo = lo < g->lo ? lo : g->lo;
            g->hi = hi > g->hi ? hi : g->hi;
            g->since = writer__mono();
            return;
        }
    }
    if (w->ngap == VGD_WRITER_GAPS) {
        uint32_t low = 0;
        for (uint32_t i = 1; i < w->ngap; i++)
            if (w->gap[i].lo < w->gap[low].lo)
                low = i;
        writer__gap_drop(w, low);
        w->st.gaps_dropped++;
    }
    w->gap[w->ngap++] = (struct wgap){lo, hi, writer__mono()};
}

/* Removes seq from its gap (splitting it when inside). */
void writer__gap_close(vgd_writer *w, uint64_t seq)
{
    int i = writer__gap_find(w, seq);
    if (i < 0)
        return;
    struct wgap *g = &w->gap[i];
    if (g->lo == g->hi)
        writer__gap_drop(w, (uint32_t)i);
    else if (seq == g->lo)
        g->lo++;
    else if (seq == g->hi)
        g->hi--;
    else {
        struct wgap right = {seq + 1, g->hi, g->since};
        g->hi = seq - 1;
        if (w->ngap < VGD_WRITER_GAPS)
            w->gap[w->ngap++] = right;
        else
            w->st.gaps_dropped++;
    }
}

/* Drops the gaps older than gap_ms. */
void writer__gap_expire(vgd_writer *w, int64_t now)
{
    for (uint32_t i = 0; i < w->ngap;) {
        if (now - w->gap[i].since >= (int64_t)w->o.gap_ms * 1000) {
            writer__gap_drop(w, i);
            w->st.gaps_dropped++;
        } else {
            i++;
        }
    }
}

/* The mark: committed_hi, held below the lowest gap. */
int64_t writer__mark(const vgd_writer *w)
{
    int64_t m = w->committed_hi;
    for (uint32_t i = 0; i < w->ngap; i++)
        if ((int64_t)w->gap[i].lo - 1 < m)
            m = (int64_t)w->gap[i].lo - 1;
    return m;
}

/* Re-opens, with a fresh gap_ms, the gaps a previous run left among the
 * stored sample seqs (the batches it lost before their commit, while newer
 * ones were committed): a restart must not forget them, or the mark would
 * cover batches that are in no spool.  Looks at the last
 * WRITER_HOLE_SPAN seqs only (older holes are from quota eviction). */
int writer__restore_gaps(vgd_writer *w)
{
    uint64_t lo[VGD_WRITER_GAPS], hi[VGD_WRITER_GAPS];
    size_t n = 0;
    uint64_t from = w->last > WRITER_HOLE_SPAN ? (uint64_t)(w->last - WRITER_HOLE_SPAN) : 0;
    int rc =
        w->last < 0 ? VG_OK : vg_spool_sample_holes(w->spool, from, lo, hi, VGD_WRITER_GAPS, &n);
    for (size_t i = n; i-- > 0;)
        writer__gap_open(w, lo[i], hi[i]);
    return rc;
}

/* A sample batch seq is accepted: open the gap it skipped (queue lock).
 * A batch filling a gap keeps that gap alive (its clock restarts: the
 * device is still re-sending); the gap closes when the batch is
 * committed. */
void writer__accept(vgd_writer *w, uint64_t seq)
{
    if ((int64_t)seq <= w->last) {
        int i = writer__gap_find(w, seq);
        if (i >= 0)
            w->gap[i].since = writer__mono();
        return;
    }
    if ((int64_t)seq > w->last + 1)
        writer__gap_open(w, (uint64_t)(w->last + 1), seq - 1);
    w->last = (int64_t)seq;
}
