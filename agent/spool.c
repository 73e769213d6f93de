/*
 * spool.c - vigild's durable spool on SQLite (see spool.h, docs/SPOOL.md):
 * the statement table, error mapping, transactions, append and commit.
 * The other parts: spool_open.c (schema, open / close), spool_uplink.c
 * (next_batch, sent marks), spool_quota.c (eviction, statistics);
 * spool_int.h holds what they share.
 *
 * One table holds every record:
 *
 *   record(id INTEGER PRIMARY KEY AUTOINCREMENT, kind, seq, model_version,
 *          rx_us, sent, len, payload BLOB, UNIQUE(kind, seq))
 *
 * plus a partial index of the unsent records by (kind, seq), which is the
 * uplink's queue, a `tally` table of record counts and payload bytes per
 * (kind, sent) kept exact by triggers (so statistics cost O(1) and roll back
 * with the transaction that changed them), and a one-row `evicted` table of
 * cumulative eviction counters, updated in the eviction's own transaction.
 * The file carries PRAGMA application_id VG_SPOOL_APPID and user_version
 * VG_SPOOL_SCHEMA; anything else is refused before a byte is written.
 *
 * Writes go through one lazily begun BEGIN IMMEDIATE transaction that is
 * committed every commit_every records, after commit_ms, on demand, or at
 * once for an alert, trip or model record.  WAL + synchronous=NORMAL makes a
 * commit one append to the WAL file with no sync, so commits are cheap and
 * the database survives a crash at any instant (SQLite's WAL recovery); see
 * spool.h for what a power loss may cost.  Any failed write rolls the whole
 * pending batch back, so the only states are "committed" and "never was".
 *
 * In-flight records are tracked in memory only: per kind, the highest seq
 * handed out since the last requeue (`hi`).  The next batch continues above
 * it.  A record appended late with a seq at or below `hi` lowers it again
 * (some in-flight records may then be handed out twice, which at-least-once
 * delivery allows).  Uncommitted rows (id above the last committed id, which
 * AUTOINCREMENT keeps monotonic) stop the scan of their kind, so the cursor
 * never passes a record that has not been handed out.
 * A kind whose last scan found no row above its cursor is not scanned
 * again until an append of that kind, a requeue or a rollback (`maybe`):
 * the usual pump reads the samples only.
 *
 * Quota: the database size is measured as (page_count - freelist_count) *
 * page_size, which reads two header fields: O(1) and exactly what the file
 * will shrink to.  The file uses auto_vacuum=INCREMENTAL; after an eviction
 * `PRAGMA incremental_vacuum` moves the freed pages to the end and a
 * TRUNCATE checkpoint gives them back to the file system.
 *
 * Every statement's plan is an index search (record_unsent for the queue,
 * the (kind, seq) unique index otherwise); the "+id" in the eviction of sent
 * alerts / trips / model records keeps SQLite off a full rowid scan.
 *
 * Memory: the handle, up to ~20 prepared statements (the transaction ones
 * at open, the others on first use, see spool_int.h), and the next_batch
 * payload buffer (grows to the largest batch handed out).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "spool_int.h"
#include "vg_error.h"

const char *const spool_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO record(kind, seq, model_version, rx_us, sent, len, payload)"
                  " VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT(kind, seq) DO NOTHING",
    [ST_NEXT] = "SELECT id, seq, model_version, rx_us, payload FROM record"
                " WHERE sent = 0 AND kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_MARK] = "UPDATE record SET sent = 1 WHERE kind = ?1 AND seq BETWEEN ?2 AND ?3 AND sent = 0",
    [ST_TALLY] = "SELECT kind, sent, n, bytes FROM tally",
    [ST_OLDEST] = "SELECT rx_us FROM record WHERE sent = 0 AND kind = ?1 ORDER BY seq LIMIT 1",
    [ST_EVICTED] = "SELECT sent_n, sent_bytes, lost_n, lost_bytes FROM evicted",
    [ST_EVICTED_ADD] = "UPDATE evicted SET sent_n = sent_n + ?1, sent_bytes = sent_bytes + ?2,"
                       " lost_n = lost_n + ?3, lost_bytes = lost_bytes + ?4",
    [ST_PAGES] = "PRAGMA page_count",
    [ST_FREE] = "PRAGMA freelist_count",
    [ST_SEL_SENT_SAMPLES] = "SELECT seq, len FROM record WHERE kind = 0 AND sent = 1 ORDER BY seq",
    [ST_DEL_SENT_SAMPLES] = "DELETE FROM record WHERE kind = 0 AND sent = 1 AND seq <= ?1",
    [ST_SEL_SENT_OTHER] = "SELECT id, len FROM record WHERE kind > 0 AND sent = 1 ORDER BY +id",
    [ST_DEL_SENT_OTHER] = "DELETE FROM record WHERE kind > 0 AND sent = 1 AND +id <= ?1",
    [ST_SEL_UNSENT_SAMPLES] =
        "SELECT seq, len FROM record WHERE kind = 0 AND sent = 0 ORDER BY seq",
    [ST_DEL_UNSENT_SAMPLES] = "DELETE FROM record WHERE kind = 0 AND sent = 0 AND seq <= ?1",
};

/* Contract in spool_int.h. */
int spool__fail(vg_spool *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Maps a SQLite result code to a VG_* status (see spool.h). */
static int spool__map(int sqlrc)
{
    switch (sqlrc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return VG_OK;
    case SQLITE_FULL:
        return VG_ENOSPC;
    case SQLITE_NOMEM:
        return VG_ENOMEM;
    case SQLITE_TOOBIG:
        return VG_ETOOBIG;
    case SQLITE_NOTADB:
        return VG_ESCHEMA;
    default:
        return VG_EIO;
    }
}

/* Fails with SQLite's own message for `sqlrc` while doing `what`. */
int spool__sqlfail(vg_spool *s, int sqlrc, const char *what)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlrc);
    if ((sqlrc & 0xff) == SQLITE_FULL)
        return spool__fail(s, VG_ENOSPC, "%s: disk or database full (%s)", what, msg);
    return spool__fail(s, spool__map(sqlrc), "%s: %s", what, msg);
}

/* Runs SQL text with no result rows wanted. */
int spool__exec(vg_spool *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? VG_OK : spool__sqlfail(s, rc, what);
}

/* Contract in spool_int.h. */
int spool__stmt(vg_spool *s, enum spool_stmt i, sqlite3_stmt **st)
{
    if (!s->st[i]) {
        int rc =
            sqlite3_prepare_v3(s->db, spool_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s->st[i]);
            s->st[i] = NULL;
            *st = NULL;
            return spool__sqlfail(s, rc, spool_sql[i]);
        }
    }
    *st = s->st[i];
    return VG_OK;
}

/* Steps a statement that returns no rows, then resets it. */
int spool__run(vg_spool *s, enum spool_stmt i, const char *what)
{
    sqlite3_stmt *st;
    int rc = spool__stmt(s, i, &st);
    if (rc != VG_OK)
        return rc;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? VG_OK : spool__sqlfail(s, rc, what);
}

/* Runs a one-row, one-column query (not kept prepared) into *v. */
int spool__query_int(vg_spool *s, const char *sql, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? VG_OK : spool__sqlfail(s, rc, sql);
}

/* Runs a prepared one-column query (a PRAGMA) into *v. */
int spool__stmt_int(vg_spool *s, enum spool_stmt i, int64_t *v)
{
    sqlite3_stmt *st;
    int rc = spool__stmt(s, i, &st);
    if (rc != VG_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? VG_OK : spool__sqlfail(s, rc, spool_sql[i]);
}

/* Bytes the database occupies once free pages are returned. */
int spool__used(vg_spool *s, uint64_t *used)
{
    int64_t pages = 0, free_pages = 0;
    int rc = spool__stmt_int(s, ST_PAGES, &pages);
    if (rc == VG_OK)
        rc = spool__stmt_int(s, ST_FREE, &free_pages);
    *used = (uint64_t)(pages - free_pages) * (uint64_t)s->page_size;
    return rc;
}

/* ---- transactions ------------------------------------------------------ */

/* Opens the write transaction unless one is open. */
int spool__begin(vg_spool *s)
{
    if (s->in_txn)
        return VG_OK;
    int rc = spool__run(s, ST_BEGIN, "begin");
    s->in_txn = rc == VG_OK;
    return rc;
}

/* Rolls back the open transaction and every pending record; remembers rc
 * for the next vg_spool_commit when pending records were lost. */
void spool__abort(vg_spool *s, int rc)
{
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
    if (s->pending && rc != VG_OK) {
        s->lost_rc = rc;
        snprintf(s->lost_err, sizeof s->lost_err, "%s", s->err);
    }
    s->in_txn = 0;
    s->pending = 0;
    s->last_id = s->committed_id;
    spool__rescan(s);
}

/* Commits the open transaction; on failure rolls it back. */
int spool__commit_txn(vg_spool *s)
{
    if (!s->in_txn)
        return VG_OK;
    int rc = spool__run(s, ST_COMMIT, "commit");
    if (rc != VG_OK) {
        uint64_t n = s->pending;
        char why[sizeof s->err];
        snprintf(why, sizeof why, "%s", s->err); /* SQLite's reason, e.g. disk full */
        s->pending = 0;                          /* reported right here, not again */
        spool__abort(s, rc);
        if (n)
            spool__fail(s, rc, "commit of %llu records failed, rolled back: %s",
                        (unsigned long long)n, why);
        return rc;
    }
    s->in_txn = 0;
    s->pending = 0;
    s->committed_id = s->last_id;
    return VG_OK;
}

int vg_spool_commit(vg_spool *s)
{
    int rc = spool__commit_txn(s);
    if (rc == VG_OK && s->lost_rc) {
        rc = s->lost_rc;
        s->lost_rc = VG_OK;
        return spool__fail(s, rc, "pending records were rolled back by an earlier failure (%s)",
                           s->lost_err);
    }
    return rc;
}

int vg_spool_flush_due(vg_spool *s, int64_t now_us)
{
    if (!s->pending && !s->lost_rc)
        return VG_OK;
    if (!s->lost_rc && now_us - s->pending_since < (int64_t)s->o.commit_ms * 1000)
        return VG_OK;
    return vg_spool_commit(s);
}

/* ---- append ------------------------------------------------------------ */

int vg_spool_append(vg_spool *s, int kind, uint64_t seq, uint64_t model_version, int64_t rx_us,
                    const void *payload, size_t len)
{
    if (kind < 0 || kind >= VG_SPOOL_NKIND || seq > INT64_MAX || (len && !payload))
        return spool__fail(s, VG_EINVAL, "append: bad kind %d or seq %llu", kind,
                           (unsigned long long)seq);
    if (len > (size_t)sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1) || len > INT_MAX)
        return spool__fail(s, VG_ETOOBIG, "append: payload of %zu bytes", len);
    sqlite3_stmt *st;
    int rc = spool__begin(s);
    if (rc == VG_OK)
        rc = spool__stmt(s, ST_INSERT, &st);
    if (rc != VG_OK)
        return rc;
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_int64(st, 3, (int64_t)model_version);
    sqlite3_bind_int64(st, 4, rx_us);
    sqlite3_bind_int64(st, 5, (int64_t)len);
    sqlite3_bind_blob(st, 6, len ? payload : "", (int)len, SQLITE_STATIC);
    rc = spool__run(s, ST_INSERT, "append");
    sqlite3_clear_bindings(st);
    if (rc != VG_OK) {
        spool__abort(s, rc);
        return rc;
    }
    if (sqlite3_changes(s->db) == 0)
        return spool__fail(s, VG_EDUP, "append: kind %d seq %llu already stored", kind,
                           (unsigned long long)seq);
    s->last_id = sqlite3_last_insert_rowid(s->db);
    if (s->pending++ == 0)
        s->pending_since = rx_us;
    if (s->hi[kind] != SPOOL_NO_HI && (int64_t)seq <= s->hi[kind])
        s->hi[kind] = (int64_t)seq - 1; /* late arrival below the cursor */
    s->maybe[kind] = 1;
    if (kind != VG_ARCH_SAMPLES || s->pending >= s->o.commit_every)
        return vg_spool_commit(s);
    return VG_OK;
}
