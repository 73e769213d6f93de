/*
 * spool_uplink.c - the uplink's side of the spool: next_batch hands out
 * unsent committed records (trips, alerts, model records, then samples,
 * each by seq) and keeps them "in flight" in memory; mark_sent /
 * mark_sent_deferred record their PUBACK; requeue forgets what is in
 * flight (see spool.h for the contract, spool.c for the design).
 *
 * Costs: next_batch O(k log n) for k records (one partial-index range scan
 * per kind, payloads copied into the handle's buffer); a sent mark O(log n)
 * per record; requeue O(1).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "spool_int.h"
#include "vg_error.h"

/* ---- uplink ------------------------------------------------------------ */

/* Makes the payload buffer hold at least `need` bytes. */
static int spool__reserve(vg_spool *s, size_t need)
{
    if (need <= s->buf_cap)
        return VG_OK;
    size_t cap = s->buf_cap * 2 > need ? s->buf_cap * 2 : need;
    uint8_t *p = realloc(s->buf, cap);
    if (!p)
        return spool__fail(s, VG_ENOMEM, "next_batch: out of memory for %zu bytes", cap);
    s->buf = p;
    s->buf_cap = cap;
    return VG_OK;
}

/* Cursor of one next_batch call. */
struct spool_batch {
    vg_spool_item *items; /* caller's array */
    size_t max_items;     /* its capacity */
    size_t max_bytes;     /* payload budget */
    size_t n;             /* items filled */
    size_t used;          /* payload bytes copied into s->buf */
    int full;             /* the byte budget stopped the batch */
};

/* Copies the current row of ST_NEXT into the batch, unless it does not fit
 * (b->full) or is not committed yet (returns 0 to stop this kind). */
static int spool__take_row(vg_spool *s, int kind, struct spool_batch *b, int *rc)
{
    sqlite3_stmt *st = s->st[ST_NEXT];
    if (sqlite3_column_int64(st, 0) > s->committed_id)
        return 0;
    const void *blob = sqlite3_column_blob(st, 4);
    size_t len = (size_t)sqlite3_column_bytes(st, 4);
    if (b->n > 0 && b->used + len > b->max_bytes) {
        b->full = 1;
        return 0;
    }
    if ((*rc = spool__reserve(s, b->used + len)) != VG_OK)
        return 0;
    if (len)
        memcpy(s->buf + b->used, blob, len);
    vg_spool_item *it = &b->items[b->n++];
    it->kind = (uint8_t)kind;
    it->seq = (uint64_t)sqlite3_column_int64(st, 1);
    it->model_version = (uint64_t)sqlite3_column_int64(st, 2);
    it->rx_us = sqlite3_column_int64(st, 3);
    it->payload = NULL; /* set once the buffer stops moving */
    it->len = len;
    b->used += len;
    s->hi[kind] = (int64_t)it->seq;
    s->inflight++;
    return 1;
}

/* Contract in spool_int.h. */
void spool__rescan(vg_spool *s)
{
    memset(s->maybe, 1, sizeof s->maybe);
}

/* Adds the unsent records of one kind above its cursor to the batch.  A
 * kind whose last scan found no row at all above its cursor is skipped
 * until an append of that kind (or a requeue or rollback) says there may
 * be one: the uplink's usual pump reads only the samples. */
static int spool__take_kind(vg_spool *s, int kind, struct spool_batch *b)
{
    if (!s->maybe[kind])
        return VG_OK;
    sqlite3_stmt *st;
    int step, rows = 0, rc = spool__stmt(s, ST_NEXT, &st);
    if (rc != VG_OK)
        return rc;
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, s->hi[kind]);
    sqlite3_bind_int64(st, 3, (int64_t)(b->max_items - b->n));
    while ((step = sqlite3_step(st)) == SQLITE_ROW && ++rows && spool__take_row(s, kind, b, &rc))
        ;
    sqlite3_reset(st);
    if (step == SQLITE_DONE && rows == 0)
        s->maybe[kind] = 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return spool__sqlfail(s, step, "next_batch");
    return rc;
}

int vg_spool_next_batch(vg_spool *s, size_t max_items, size_t max_bytes, vg_spool_item *items,
                        size_t *n)
{
    static const int order[VG_SPOOL_NKIND] = {VG_ARCH_TRIP, VG_ARCH_ALERT, VG_ARCH_MODEL,
                                              VG_ARCH_SAMPLES};
    struct spool_batch b = {.items = items, .max_items = max_items, .max_bytes = max_bytes};
    int rc = VG_OK;
    *n = 0;
    for (int i = 0; i < VG_SPOOL_NKIND && rc == VG_OK && !b.full && b.n < max_items; i++)
        rc = spool__take_kind(s, order[i], &b);
    size_t off = 0;
    for (size_t i = 0; i < b.n; i++) {
        items[i].payload = s->buf + off;
        off += items[i].len;
    }
    *n = b.n;
    return rc;
}

/* Length of the run of items from i on with one kind and consecutive
 * seqs: no stored record can lie between them and not be among them. */
static size_t spool__run_len(const vg_spool_item *items, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && items[j].kind == items[i].kind && items[j].seq == items[j - 1].seq + 1 &&
           items[j].seq <= INT64_MAX)
        j++;
    return j - i;
}

/* Marks each item sent inside the open transaction: one UPDATE per run of
 * consecutive seqs (an archive chunk is usually one run). */
static int spool__mark(vg_spool *s, const vg_spool_item *items, size_t n)
{
    sqlite3_stmt *st;
    int rc = spool__stmt(s, ST_MARK, &st);
    for (size_t i = 0; i < n && rc == VG_OK;) {
        if (items[i].seq > INT64_MAX) {
            i++;
            continue;
        }
        size_t run = spool__run_len(items, i, n);
        sqlite3_bind_int(st, 1, items[i].kind);
        sqlite3_bind_int64(st, 2, (int64_t)items[i].seq);
        sqlite3_bind_int64(st, 3, (int64_t)items[i + run - 1].seq);
        rc = spool__run(s, ST_MARK, "mark_sent");
        if (rc != VG_OK)
            return rc;
        s->inflight -= run < s->inflight ? run : s->inflight;
        i += run;
    }
    return rc;
}

int vg_spool_mark_sent(vg_spool *s, const vg_spool_item *items, size_t n)
{
    int rc = vg_spool_commit(s);
    if (rc != VG_OK || n == 0)
        return rc;
    rc = spool__begin(s);
    if (rc == VG_OK)
        rc = spool__mark(s, items, n);
    if (rc == VG_OK)
        return spool__commit_txn(s);
    spool__abort(s, rc); /* no pending records: only the marks are undone */
    return rc;
}

int vg_spool_mark_sent_deferred(vg_spool *s, const vg_spool_item *items, size_t n)
{
    if (n == 0)
        return VG_OK;
    int rc = spool__begin(s);
    if (rc == VG_OK)
        rc = spool__mark(s, items, n);
    if (rc != VG_OK)
        spool__abort(s, rc); /* pending appends go too: reported by the next commit */
    return rc;
}

void vg_spool_requeue_inflight(vg_spool *s)
{
    for (int k = 0; k < VG_SPOOL_NKIND; k++)
        s->hi[k] = SPOOL_NO_HI;
    s->inflight = 0;
    spool__rescan(s);
}
