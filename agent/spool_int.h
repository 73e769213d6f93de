/*
 * spool_int.h - internal to the spool (agent/spool*.c): the handle, the
 * table of prepared statements and the helpers every part shares.
 *
 * The spool is split by concept: spool.c (statement table, errors,
 * transactions, append, commit), spool_open.c (schema, file checks,
 * pragmas, open / close), spool_uplink.c (next_batch, sent marks, requeue)
 * and spool_quota.c (eviction, statistics, sequence queries).  Nothing here
 * is part of the spool's interface (spool.h); callers outside these files
 * must not include it.
 *
 * Costs: every helper is O(1) apart from the SQLite statement it runs.
 */
#ifndef VG_SPOOL_INT_H
#define VG_SPOOL_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "spool.h"

#define SPOOL_DEF_COMMIT_EVERY 256
#define SPOOL_DEF_COMMIT_MS    1000
#define SPOOL_BUSY_MS          5000      /* wait for another connection's lock */
#define SPOOL_WAL_LIMIT        (4 << 20) /* journal_size_limit, bytes */
/* Page cache: 512 KiB (negative: KiB) instead of SQLite's 2 MiB; the hot
 * pages are the right edges of two b-trees and the tally. */
#define SPOOL_CACHE_KIB    (-512)
#define SPOOL_ROW_OVERHEAD 48            /* per-row b-tree cost, eviction estimate */
#define SPOOL_NO_HI        ((int64_t)-1) /* cursor: nothing handed out */

/* Prepared statements, kept for the life of the handle.  The transaction
 * statements (before ST_LAZY) are prepared at open, so a rollback never
 * needs SQLite to compile anything; the others on their first use
 * (spool__stmt): an idle vigild never compiles the eviction and most
 * statistics statements, ~2-4 KiB of SQLite heap each. */
enum spool_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT,
    ST_LAZY = ST_INSERT, /* first statement prepared on first use */
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

/* SQL text of each prepared statement (spool.c), indexed by spool_stmt. */
extern const char *const spool_sql[ST_COUNT];

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
    uint8_t maybe[VG_SPOOL_NKIND];   /* per kind: unsent records may lie above hi */
    uint64_t inflight;               /* records handed out and not yet marked */
    uint8_t *buf;                    /* next_batch payloads */
    size_t buf_cap;                  /* its capacity */
    char err[VG_SPOOL_ERR_MAX];      /* last error message */
};

/* Records a formatted message in s->err; returns rc. */
int spool__fail(vg_spool *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fails with SQLite's own message for `sqlrc` while doing `what`
 * (SQLITE_FULL -> VG_ENOSPC, see spool.h); returns the VG_* status. */
int spool__sqlfail(vg_spool *s, int sqlrc, const char *what);

/* Runs SQL text with no result rows wanted. */
int spool__exec(vg_spool *s, const char *sql, const char *what);

/* Points *st at s->st[i], preparing it first if this is its first use
 * (SQLITE_PREPARE_PERSISTENT).  VG_OK, or the failure with SQLite's reason
 * in s->err (*st NULL). */
int spool__stmt(vg_spool *s, enum spool_stmt i, sqlite3_stmt **st);

/* Steps a prepared statement that returns no rows, then resets it. */
int spool__run(vg_spool *s, enum spool_stmt i, const char *what);

/* Runs a one-row, one-column query (not kept prepared) into *v. */
int spool__query_int(vg_spool *s, const char *sql, int64_t *v);

/* Runs a prepared one-column query (a PRAGMA) into *v. */
int spool__stmt_int(vg_spool *s, enum spool_stmt i, int64_t *v);

/* Bytes the database occupies once free pages are returned (O(1)). */
int spool__used(vg_spool *s, uint64_t *used);

/* Opens the write transaction unless one is open. */
int spool__begin(vg_spool *s);

/* Rolls back the open transaction and every pending record; remembers rc
 * for the next vg_spool_commit when pending records were lost. */
void spool__abort(vg_spool *s, int rc);

/* Commits the open transaction; on failure rolls it back. */
int spool__commit_txn(vg_spool *s);

/* Every kind may have unsent records above its cursor again (open,
 * requeue, rollback): the next next_batch scans them all. */
void spool__rescan(vg_spool *s);

#endif
