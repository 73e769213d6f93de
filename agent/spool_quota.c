/*
 * spool_quota.c - quota eviction, statistics and the reads the daemon
 * makes at start (see spool.h for the contract and the eviction order,
 * spool.c for the design).
 *
 * Costs: enforce_quota O(1) when under quota, else O(e log n) for e
 * evicted records plus an incremental vacuum and a TRUNCATE checkpoint;
 * get_stats O(1) (trigger-kept tallies, one index probe per kind);
 * last_seq O(log n); scan O(n log n) for the n records of a kind;
 * sample_holes O(k) for the k sample records at or above `from`.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "spool_int.h"
#include "vg_error.h"

/* ---- quota ------------------------------------------------------------- */

/* One eviction category: the oldest-first select and the matching delete
 * of every row up to a key, and whether its records are lost data. */
struct spool_evict_cat {
    enum spool_stmt sel, del;
    int lost;
};

static const struct spool_evict_cat spool_evict_order[] = {
    {ST_SEL_SENT_SAMPLES, ST_DEL_SENT_SAMPLES, 0},
    {ST_SEL_SENT_OTHER, ST_DEL_SENT_OTHER, 0},
    {ST_SEL_UNSENT_SAMPLES, ST_DEL_UNSENT_SAMPLES, 1},
};

/* Deletes the oldest rows of category `c` whose estimated size covers
 * `excess` bytes; adds them to *ev.  *gone = rows deleted (0: none left). */
static int spool__evict_step(vg_spool *s, const struct spool_evict_cat *c, uint64_t excess,
                             vg_spool_evicted *ev, uint64_t *gone)
{
    sqlite3_stmt *sel, *del;
    uint64_t n = 0, bytes = 0, est = 0;
    int64_t key = 0;
    int step = SQLITE_DONE, rc = spool__stmt(s, c->sel, &sel);
    if (rc == VG_OK)
        rc = spool__stmt(s, c->del, &del);
    if (rc != VG_OK)
        return rc;
    while (est < excess && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        key = sqlite3_column_int64(sel, 0);
        uint64_t len = (uint64_t)sqlite3_column_int64(sel, 1);
        n++;
        bytes += len;
        est += len + SPOOL_ROW_OVERHEAD;
    }
    sqlite3_reset(sel);
    if (est < excess && step != SQLITE_DONE)
        return spool__sqlfail(s, step, "evict");
    *gone = n;
    if (n == 0)
        return VG_OK;
    sqlite3_bind_int64(del, 1, key);
    rc = spool__run(s, c->del, "evict");
    if (rc != VG_OK)
        return rc;
    if (c->lost) {
        ev->lost_samples += n;
        ev->lost_bytes += bytes;
    } else {
        ev->sent_records += n;
        ev->sent_bytes += bytes;
    }
    return VG_OK;
}

/* Evicts category by category until *used fits the quota. */
static int spool__evict(vg_spool *s, vg_spool_evicted *ev, uint64_t *used)
{
    size_t ncat = sizeof spool_evict_order / sizeof spool_evict_order[0];
    for (size_t c = 0; c<ncat && * used> s->o.quota_bytes; c++) {
        uint64_t gone = 1;
        while (gone && *used > s->o.quota_bytes) {
            int rc =
                spool__evict_step(s, &spool_evict_order[c], *used - s->o.quota_bytes, ev, &gone);
            if (rc == VG_OK)
                rc = spool__used(s, used);
            if (rc != VG_OK)
                return rc;
        }
    }
    sqlite3_stmt *st;
    int rc = spool__stmt(s, ST_EVICTED_ADD, &st);
    if (rc != VG_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (int64_t)ev->sent_records);
    sqlite3_bind_int64(st, 2, (int64_t)ev->sent_bytes);
    sqlite3_bind_int64(st, 3, (int64_t)ev->lost_samples);
    sqlite3_bind_int64(st, 4, (int64_t)ev->lost_bytes);
    rc = spool__run(s, ST_EVICTED_ADD, "evict");
    return rc == VG_OK ? spool__exec(s, "PRAGMA incremental_vacuum", "incremental_vacuum") : rc;
}

int vg_spool_enforce_quota(vg_spool *s, vg_spool_evicted *ev)
{
    vg_spool_evicted local;
    ev = ev ? ev : &local;
    memset(ev, 0, sizeof *ev);
    uint64_t used = 0;
    int rc = s->o.quota_bytes ? vg_spool_commit(s) : VG_OK;
    if (rc == VG_OK && s->o.quota_bytes)
        rc = spool__used(s, &used);
    if (rc != VG_OK || used <= s->o.quota_bytes)
        return rc;
    rc = spool__begin(s);
    if (rc == VG_OK)
        rc = spool__evict(s, ev, &used);
    if (rc == VG_OK)
        rc = spool__commit_txn(s);
    if (rc != VG_OK) {
        spool__abort(s, rc);
        memset(ev, 0, sizeof *ev);
        return rc;
    }
    /* Give the freed pages back now; a busy reader only delays it. */
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (used > s->o.quota_bytes)
        return spool__fail(s, VG_ENOSPC,
                           "over quota (%llu > %llu bytes) with only unsent alerts, trips and "
                           "model records left; they are kept",
                           (unsigned long long)used, (unsigned long long)s->o.quota_bytes);
    return VG_OK;
}

/* ---- statistics -------------------------------------------------------- */

/* Reads the per-(kind, sent) tallies into st. */
static int spool__tally(vg_spool *s, vg_spool_stats *st)
{
    sqlite3_stmt *q;
    int step, rc = spool__stmt(s, ST_TALLY, &q);
    if (rc != VG_OK)
        return rc;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int kind = sqlite3_column_int(q, 0), sent = sqlite3_column_int(q, 1);
        uint64_t n = (uint64_t)sqlite3_column_int64(q, 2);
        uint64_t bytes = (uint64_t)sqlite3_column_int64(q, 3);
        if (kind < 0 || kind >= VG_SPOOL_NKIND)
            continue;
        st->kind[kind].records += n;
        st->kind[kind].bytes += bytes;
        if (!sent) {
            st->kind[kind].unsent += n;
            st->kind[kind].unsent_bytes += bytes;
            st->backlog += n;
            st->backlog_bytes += bytes;
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_DONE ? VG_OK : spool__sqlfail(s, step, "stats");
}

/* Oldest rx_us among the unsent records: the first unsent of each kind. */
static int spool__oldest(vg_spool *s, int64_t *oldest)
{
    sqlite3_stmt *q;
    *oldest = INT64_MAX;
    int rc = spool__stmt(s, ST_OLDEST, &q);
    if (rc != VG_OK)
        return rc;
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        sqlite3_bind_int(q, 1, k);
        int step = sqlite3_step(q);
        if (step == SQLITE_ROW && sqlite3_column_int64(q, 0) < *oldest)
            *oldest = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return spool__sqlfail(s, step, "stats");
    }
    return VG_OK;
}

/* Reads the cumulative eviction counters. */
static int spool__evicted_total(vg_spool *s, vg_spool_evicted *ev)
{
    sqlite3_stmt *q;
    int rc = spool__stmt(s, ST_EVICTED, &q);
    if (rc != VG_OK)
        return rc;
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        ev->sent_records = (uint64_t)sqlite3_column_int64(q, 0);
        ev->sent_bytes = (uint64_t)sqlite3_column_int64(q, 1);
        ev->lost_samples = (uint64_t)sqlite3_column_int64(q, 2);
        ev->lost_bytes = (uint64_t)sqlite3_column_int64(q, 3);
    }
    sqlite3_reset(q);
    return step == SQLITE_ROW ? VG_OK : spool__sqlfail(s, step, "stats");
}

int vg_spool_get_stats(vg_spool *s, vg_spool_stats *st)
{
    memset(st, 0, sizeof *st);
    st->pending = s->pending;
    st->inflight = s->inflight;
    int rc = spool__tally(s, st);
    if (rc == VG_OK)
        rc = spool__oldest(s, &st->oldest_unsent_rx);
    if (rc == VG_OK)
        rc = spool__evicted_total(s, &st->evicted);
    if (rc == VG_OK)
        rc = spool__used(s, &st->db_bytes);
    return rc;
}

int vg_spool_sample_holes(vg_spool *s, uint64_t from, uint64_t *lo, uint64_t *hi, size_t max,
                          size_t *n)
{
    static const char sql[] =
        "SELECT seq + 1, next - 1 FROM (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next"
        " FROM record WHERE kind = 0 AND seq >= ?1) WHERE next > seq + 1 ORDER BY seq DESC LIMIT "
        "?2";
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (from > INT64_MAX)
        return VG_EINVAL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), step = SQLITE_DONE;
    if (rc != SQLITE_OK)
        return spool__sqlfail(s, rc, "holes");
    sqlite3_bind_int64(st, 1, (int64_t)from);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        lo[*n] = (uint64_t)sqlite3_column_int64(st, 0);
        hi[*n] = (uint64_t)sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? VG_OK : spool__sqlfail(s, step, "holes");
}

int vg_spool_last_seq(vg_spool *s, int kind, int64_t *seq)
{
    if (kind < 0 || kind >= VG_SPOOL_NKIND)
        return VG_EINVAL;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(seq), -1) FROM record WHERE kind = %d", kind);
    return spool__query_int(s, sql, seq);
}

/* Contract in spool.h. */
int vg_spool_scan(vg_spool *s, int kind, vg_spool_scan_fn fn, void *user)
{
    if (kind < 0 || kind >= VG_SPOOL_NKIND)
        return VG_EINVAL;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT payload FROM record WHERE kind = ?1 ORDER BY seq",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return spool__sqlfail(s, rc, "scan");
    sqlite3_bind_int(st, 1, kind);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(user, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    int out = rc == SQLITE_DONE ? VG_OK : spool__sqlfail(s, rc, "scan");
    sqlite3_finalize(st);
    return out;
}
