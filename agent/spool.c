/*
 * spool.c - vigild's durable spool on SQLite (see spool.h, docs/SPOOL.md).
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
 * Memory: the handle, ~20 prepared statements, and the next_batch payload
 * buffer (grows to the largest batch handed out).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "spool.h"
#include "vg_error.h"

#define SPOOL_DEF_COMMIT_EVERY 256
#define SPOOL_DEF_COMMIT_MS    1000
#define SPOOL_BUSY_MS          5000      /* wait for another connection's lock */
#define SPOOL_WAL_LIMIT        (4 << 20) /* journal_size_limit, bytes */
/* Page cache: 512 KiB (negative: KiB) instead of SQLite's 2 MiB; the hot
 * pages are the right edges of two b-trees and the tally. */
#define SPOOL_CACHE_KIB    (-512)
#define SPOOL_ROW_OVERHEAD 48            /* per-row b-tree cost, eviction estimate */
#define SPOOL_NO_HI        ((int64_t)-1) /* cursor: nothing handed out */

/* Prepared statements, kept for the life of the handle. */
enum spool_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT,
    ST_NEXT,
    ST_MARK,
    ST_TALLY,
    ST_OLDEST,
    ST_EVICTED,
    ST_EVICTED_ADD,
    ST_PAGES,
    ST_FREE,
    ST_SEL_SENT_SAMPLES, /* eviction categories: select, then delete */
    ST_DEL_SENT_SAMPLES,
    ST_SEL_SENT_OTHER,
    ST_DEL_SENT_OTHER,
    ST_SEL_UNSENT_SAMPLES,
    ST_DEL_UNSENT_SAMPLES,
    ST_COUNT
};

static const char *const spool_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO record(kind, seq, model_version, rx_us, sent, len, payload)"
                  " VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT(kind, seq) DO NOTHING",
    [ST_NEXT] = "SELECT id, seq, model_version, rx_us, payload FROM record"
                " WHERE sent = 0 AND kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [ST_MARK] = "UPDATE record SET sent = 1 WHERE kind = ?1 AND seq = ?2 AND sent = 0",
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

/* Schema version 1, created in one transaction on an empty file. */
static const char spool_schema[] =
    "CREATE TABLE record ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
    " seq INTEGER NOT NULL CHECK (seq >= 0),"
    " model_version INTEGER NOT NULL,"
    " rx_us INTEGER NOT NULL,"
    " sent INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)),"
    " len INTEGER NOT NULL,"
    " payload BLOB NOT NULL,"
    " UNIQUE (kind, seq));"
    "CREATE INDEX record_unsent ON record(kind, seq) WHERE sent = 0;"
    "CREATE TABLE tally ("
    " kind INTEGER NOT NULL, sent INTEGER NOT NULL,"
    " n INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (kind, sent)) WITHOUT ROWID;"
    "INSERT INTO tally(kind, sent) VALUES (0,0),(0,1),(1,0),(1,1),(2,0),(2,1),(3,0),(3,1);"
    "CREATE TABLE evicted ("
    " sent_n INTEGER NOT NULL, sent_bytes INTEGER NOT NULL,"
    " lost_n INTEGER NOT NULL, lost_bytes INTEGER NOT NULL);"
    "INSERT INTO evicted VALUES (0, 0, 0, 0);"
    "CREATE TRIGGER record_ins AFTER INSERT ON record BEGIN"
    " UPDATE tally SET n = n + 1, bytes = bytes + NEW.len"
    "  WHERE kind = NEW.kind AND sent = NEW.sent; END;"
    "CREATE TRIGGER record_del AFTER DELETE ON record BEGIN"
    " UPDATE tally SET n = n - 1, bytes = bytes - OLD.len"
    "  WHERE kind = OLD.kind AND sent = OLD.sent; END;"
    "CREATE TRIGGER record_upd AFTER UPDATE OF sent ON record WHEN OLD.sent <> NEW.sent BEGIN"
    " UPDATE tally SET n = n - 1, bytes = bytes - OLD.len"
    "  WHERE kind = OLD.kind AND sent = OLD.sent;"
    " UPDATE tally SET n = n + 1, bytes = bytes + NEW.len"
    "  WHERE kind = NEW.kind AND sent = NEW.sent; END;";

struct vg_spool {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];      /* prepared statements, enum spool_stmt */
    vg_spool_opts o;                 /* options with defaults filled in */
    int64_t page_size;               /* bytes per page, fixed for the file */
    int in_txn;                      /* a write transaction is open */
    uint64_t pending;                /* records appended since the last commit */
    int64_t pending_since;           /* rx_us of the first of them */
    int64_t committed_id;            /* highest record id known committed */
    int64_t last_id;                 /* highest record id inserted (maybe pending) */
    int lost_rc;                     /* status of a rolled-back batch, for commit */
    char lost_err[VG_SPOOL_ERR_MAX]; /* and its message */
    int64_t hi[VG_SPOOL_NKIND];      /* per kind: highest seq in flight */
    uint64_t inflight;               /* records handed out and not yet marked */
    uint8_t *buf;                    /* next_batch payloads */
    size_t buf_cap;                  /* its capacity */
    char err[VG_SPOOL_ERR_MAX];      /* last error message */
};

/* Records a formatted message in s->err; returns rc. */
static int spool__fail(vg_spool *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int spool__fail(vg_spool *s, int rc, const char *fmt, ...)
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
static int spool__sqlfail(vg_spool *s, int sqlrc, const char *what)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlrc);
    if ((sqlrc & 0xff) == SQLITE_FULL)
        return spool__fail(s, VG_ENOSPC, "%s: disk or database full (%s)", what, msg);
    return spool__fail(s, spool__map(sqlrc), "%s: %s", what, msg);
}

/* Runs SQL text with no result rows wanted. */
static int spool__exec(vg_spool *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? VG_OK : spool__sqlfail(s, rc, what);
}

/* Steps a statement that returns no rows, then resets it. */
static int spool__run(vg_spool *s, enum spool_stmt i, const char *what)
{
    int rc = sqlite3_step(s->st[i]);
    sqlite3_reset(s->st[i]);
    return rc == SQLITE_DONE ? VG_OK : spool__sqlfail(s, rc, what);
}

/* Runs a one-row, one-column query (not kept prepared) into *v. */
static int spool__query_int(vg_spool *s, const char *sql, int64_t *v)
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
static int spool__stmt_int(vg_spool *s, enum spool_stmt i, int64_t *v)
{
    int rc = sqlite3_step(s->st[i]);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s->st[i], 0);
    sqlite3_reset(s->st[i]);
    return rc == SQLITE_ROW ? VG_OK : spool__sqlfail(s, rc, spool_sql[i]);
}

/* Bytes the database occupies once free pages are returned. */
static int spool__used(vg_spool *s, uint64_t *used)
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
static int spool__begin(vg_spool *s)
{
    if (s->in_txn)
        return VG_OK;
    int rc = spool__run(s, ST_BEGIN, "begin");
    s->in_txn = rc == VG_OK;
    return rc;
}

/* Rolls back the open transaction and every pending record; remembers rc
 * for the next vg_spool_commit when pending records were lost. */
static void spool__abort(vg_spool *s, int rc)
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
}

/* Commits the open transaction; on failure rolls it back. */
static int spool__commit_txn(vg_spool *s)
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

/* ---- open / close ------------------------------------------------------ */

/* Decides whether the file is a fresh database (*fresh = 1), our current
 * schema (*fresh = 0), or something to refuse (VG_ESCHEMA). */
static int spool__check_file(vg_spool *s, const char *path, int *fresh)
{
    int64_t app = 0, ver = 0, nobj = 0;
    int rc = spool__query_int(s, "PRAGMA application_id", &app);
    if (rc == VG_OK)
        rc = spool__query_int(s, "PRAGMA user_version", &ver);
    if (rc == VG_OK)
        rc = spool__query_int(s, "SELECT count(*) FROM sqlite_master", &nobj);
    if (rc == VG_ESCHEMA)
        return spool__fail(s, rc, "%s: not a SQLite database, refusing to touch it", path);
    if (rc != VG_OK)
        return rc;
    *fresh = app == 0 && ver == 0 && nobj == 0;
    if (*fresh)
        return VG_OK;
    if (app != VG_SPOOL_APPID)
        return spool__fail(s, VG_ESCHEMA,
                           "%s: not a vigil spool (application_id 0x%08llx, %lld schema "
                           "objects); refusing to touch it",
                           path, (unsigned long long)(uint32_t)app, (long long)nobj);
    if (ver > VG_SPOOL_SCHEMA)
        return spool__fail(s, VG_ESCHEMA,
                           "%s: spool schema version %lld is newer than this vigild supports "
                           "(%d); refusing to touch it",
                           path, (long long)ver, VG_SPOOL_SCHEMA);
    if (ver != VG_SPOOL_SCHEMA)
        return spool__fail(s, VG_ESCHEMA, "%s: unsupported spool schema version %lld", path,
                           (long long)ver);
    return VG_OK;
}

/* Sets the connection's pragmas; WAL must really be in effect. */
static int spool__configure(vg_spool *s, int fresh)
{
    char sql[128];
    int rc = fresh ? spool__exec(s, "PRAGMA auto_vacuum = INCREMENTAL", "auto_vacuum") : VG_OK;
    sqlite3_stmt *st = NULL;
    if (rc == VG_OK &&
        sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            rc = spool__sqlfail(s, step, "journal_mode");
        else if (!sqlite3_column_text(st, 0) ||
                 strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
            rc = spool__fail(s, VG_EIO, "cannot switch the spool to WAL mode");
    } else if (rc == VG_OK) {
        rc = spool__sqlfail(s, sqlite3_errcode(s->db), "journal_mode");
    }
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = %s; PRAGMA journal_size_limit = %d; PRAGMA cache_size = %d",
             s->o.sync_full ? "FULL" : "NORMAL", SPOOL_WAL_LIMIT, SPOOL_CACHE_KIB);
    return rc == VG_OK ? spool__exec(s, sql, "pragmas") : rc;
}

/* Creates schema version 1 in one transaction. */
static int spool__create(vg_spool *s)
{
    char tail[96];
    snprintf(tail, sizeof tail, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             VG_SPOOL_APPID, VG_SPOOL_SCHEMA);
    int rc = spool__exec(s, "BEGIN IMMEDIATE", "create schema");
    if (rc == VG_OK)
        rc = spool__exec(s, spool_schema, "create schema");
    if (rc == VG_OK)
        rc = spool__exec(s, tail, "create schema");
    if (rc == VG_OK)
        return spool__exec(s, "COMMIT", "create schema");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Prepares every statement and reads the file's fixed facts. */
static int spool__prepare(vg_spool *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(s->db, spool_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK)
            return spool__sqlfail(s, rc, spool_sql[i]);
    }
    int rc = spool__query_int(s, "PRAGMA page_size", &s->page_size);
    if (rc == VG_OK)
        rc = spool__query_int(s, "SELECT coalesce(max(id), 0) FROM record", &s->committed_id);
    s->last_id = s->committed_id;
    if (rc == VG_OK && s->o.hard_max_bytes) {
        char sql[64];
        uint64_t pages = (s->o.hard_max_bytes + (uint64_t)s->page_size - 1) / s->page_size;
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %llu", (unsigned long long)pages);
        rc = spool__exec(s, sql, "max_page_count");
    }
    return rc;
}

/* Fills s->o from `o` and the defaults. */
static void spool__options(vg_spool *s, const vg_spool_opts *o)
{
    if (o)
        s->o = *o;
    if (!s->o.commit_every)
        s->o.commit_every = SPOOL_DEF_COMMIT_EVERY;
    if (!s->o.commit_ms)
        s->o.commit_ms = SPOOL_DEF_COMMIT_MS;
    for (int k = 0; k < VG_SPOOL_NKIND; k++)
        s->hi[k] = SPOOL_NO_HI;
}

/* Finalizes statements and closes the connection; frees the handle. */
static void spool__free(vg_spool *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->buf);
    free(s);
}

/* Contract in spool.h (global SQLite configuration, before any open). */
int vg_spool_lean_memory(void)
{
    return sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0) == SQLITE_OK ? VG_OK : VG_EINVAL;
}

int vg_spool_open(const char *path, const vg_spool_opts *o, vg_spool **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    vg_spool *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(1))) {
        free(s);
        if (errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return VG_ENOMEM;
    }
    s->buf_cap = 1;
    spool__options(s, o);
    int fresh = 0,
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        rc = spool__sqlfail(s, rc, path);
    else
        rc = sqlite3_busy_timeout(s->db, SPOOL_BUSY_MS) == SQLITE_OK ? VG_OK : VG_EIO;
    if (rc == VG_OK)
        rc = spool__check_file(s, path, &fresh);
    if (rc == VG_OK)
        rc = spool__configure(s, fresh);
    if (rc == VG_OK && fresh)
        rc = spool__create(s);
    if (rc == VG_OK)
        rc = spool__prepare(s);
    if (rc != VG_OK) {
        if (errlen)
            snprintf(err, errlen, "%s", s->err);
        spool__free(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

int vg_spool_close(vg_spool *s)
{
    if (!s)
        return VG_OK;
    int rc = vg_spool_commit(s);
    spool__free(s);
    return rc;
}

const char *vg_spool_errmsg(const vg_spool *s)
{
    return s->err;
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
    int rc = spool__begin(s);
    if (rc != VG_OK)
        return rc;
    sqlite3_stmt *st = s->st[ST_INSERT];
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
    if (kind != VG_ARCH_SAMPLES || s->pending >= s->o.commit_every)
        return vg_spool_commit(s);
    return VG_OK;
}

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

/* Adds the unsent records of one kind above its cursor to the batch. */
static int spool__take_kind(vg_spool *s, int kind, struct spool_batch *b)
{
    sqlite3_stmt *st = s->st[ST_NEXT];
    int rc = VG_OK, step;
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, s->hi[kind]);
    sqlite3_bind_int64(st, 3, (int64_t)(b->max_items - b->n));
    while ((step = sqlite3_step(st)) == SQLITE_ROW && spool__take_row(s, kind, b, &rc))
        ;
    sqlite3_reset(st);
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

/* Marks each item sent inside the open transaction. */
static int spool__mark(vg_spool *s, const vg_spool_item *items, size_t n)
{
    sqlite3_stmt *st = s->st[ST_MARK];
    for (size_t i = 0; i < n; i++) {
        if (items[i].seq > INT64_MAX)
            continue;
        sqlite3_bind_int(st, 1, items[i].kind);
        sqlite3_bind_int64(st, 2, (int64_t)items[i].seq);
        int rc = spool__run(s, ST_MARK, "mark_sent");
        if (rc != VG_OK)
            return rc;
        if (s->inflight)
            s->inflight--;
    }
    return VG_OK;
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
}

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
    sqlite3_stmt *sel = s->st[c->sel];
    uint64_t n = 0, bytes = 0, est = 0;
    int64_t key = 0;
    int step = SQLITE_DONE;
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
    sqlite3_bind_int64(s->st[c->del], 1, key);
    int rc = spool__run(s, c->del, "evict");
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
    sqlite3_stmt *st = s->st[ST_EVICTED_ADD];
    sqlite3_bind_int64(st, 1, (int64_t)ev->sent_records);
    sqlite3_bind_int64(st, 2, (int64_t)ev->sent_bytes);
    sqlite3_bind_int64(st, 3, (int64_t)ev->lost_samples);
    sqlite3_bind_int64(st, 4, (int64_t)ev->lost_bytes);
    int rc = spool__run(s, ST_EVICTED_ADD, "evict");
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
    sqlite3_stmt *q = s->st[ST_TALLY];
    int step;
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
    sqlite3_stmt *q = s->st[ST_OLDEST];
    *oldest = INT64_MAX;
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
    sqlite3_stmt *q = s->st[ST_EVICTED];
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
