/*
 * spool.h - vigild's durable spool: everything the agent saw or did, kept in
 * one SQLite file per device until the uplink has forwarded it upstream.
 *
 * What is stored: raw sample batches exactly as received, alerts, trips and
 * model changes (enum vg_archive_kind), each with its per-device per-kind
 * sequence number, the version of the model that scored it, and the time the
 * agent received or produced it.  One spool belongs to one device (the file
 * lives in that device's --data-dir), so no record carries a device id.
 *
 * Durability contract.  A record is *acknowledged* once a commit that
 * contains it has returned VG_OK (vg_spool_commit, vg_spool_flush_due, the
 * automatic commit every `commit_every` records, or the immediate commit of an
 * alert, trip or model record).  Only then may the agent acknowledge the
 * input it came from (vigild: the committed mark of agent/writer.h, as
 * Paho's PUBACK comes before the callback).  The file is SQLite in WAL
 * mode with synchronous=NORMAL: an acknowledged record survives SIGKILL
 * of the agent at any instant; a power
 * loss may roll back the last few acknowledged transactions (those not yet
 * checkpointed or synced) but never corrupts the file.  `sync_full` trades a
 * disk sync per commit for surviving power loss too.  Acknowledged records
 * are never lost except by the quota eviction of vg_spool_enforce_quota,
 * which counts and reports every record it removes.
 *
 * Uplink (store-and-forward, at-least-once): vg_spool_next_batch hands out
 * unsent committed records, trips, alerts and model records first, then
 * samples oldest first; they are "in flight" in memory only.  On PUBACK the
 * uplink marks them sent (vg_spool_mark_sent, durable at once, or
 * vg_spool_mark_sent_deferred, durable with the next commit); on
 * disconnect it calls vg_spool_requeue_inflight.  After a restart every
 * unsent record is handed out again, so the batch side dedups by
 * (device, kind, seq).
 *
 * Costs (n records in the file): append O(log n) inside an open transaction;
 * commit one WAL append (plus a sync with sync_full); next_batch O(k log n)
 * for k records; mark_sent O(k log n) plus a commit; stats O(1) (running
 * tallies kept by triggers); enforce_quota O(1) when under quota, else
 * O(e log n) for e evicted records plus a checkpoint.  See docs/SPOOL.md.
 *
 * Not thread-safe: one thread at a time (vigild: under its spool writer's
 * spool lock).
 * Errors: VG_* codes (vg_error.h).  SQLITE_FULL -> VG_ENOSPC, out of memory
 * -> VG_ENOMEM, a file that is not a (supported) vigil spool -> VG_ESCHEMA;
 * any other SQLite failure (I/O error, corruption, file locked by another
 * process) -> VG_EINVAL until vg_error.h grows an I/O code.
 * vg_spool_errmsg() always names the cause.
 */
#ifndef VG_SPOOL_H
#define VG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "vg_msg.h"

#define VG_SPOOL_SCHEMA  1          /* PRAGMA user_version written and accepted */
#define VG_SPOOL_APPID   0x5647534c /* PRAGMA application_id: "VGSL" */
#define VG_SPOOL_NKIND   4          /* kinds: enum vg_archive_kind */
#define VG_SPOOL_ERR_MAX 256        /* size of the handle's error message */

typedef struct vg_spool vg_spool;

/* A record handed out by vg_spool_next_batch: the wire's archive item, so
 * the uplink can point a vg_archive straight at the array.  `payload` points
 * into a buffer owned by the spool, valid until the next next_batch or
 * close. */
typedef vg_archive_item vg_spool_item;

typedef struct vg_spool_opts {
    uint64_t quota_bytes;    /* soft quota on the database, bytes; 0 = none */
    uint32_t commit_every;   /* auto-commit after this many pending; 0 = 256 */
    uint32_t commit_ms;      /* vg_spool_flush_due commits after; 0 = 1000 */
    uint64_t hard_max_bytes; /* hard ceiling (PRAGMA max_page_count): writes
                                past it fail with VG_ENOSPC as on a full disk;
                                0 = none */
    int sync_full;           /* 1: synchronous=FULL, each commit is synced */
} vg_spool_opts;

/* Records removed by one vg_spool_enforce_quota call. */
typedef struct vg_spool_evicted {
    uint64_t sent_records; /* already forwarded: no data lost */
    uint64_t sent_bytes;   /* their payload bytes */
    uint64_t lost_samples; /* unsent sample batches: data lost, report it */
    uint64_t lost_bytes;   /* their payload bytes */
} vg_spool_evicted;

typedef struct vg_spool_kind_stats {
    uint64_t records;      /* stored records of this kind */
    uint64_t bytes;        /* their payload bytes */
    uint64_t unsent;       /* of which not yet marked sent */
    uint64_t unsent_bytes; /* their payload bytes */
} vg_spool_kind_stats;

typedef struct vg_spool_stats {
    vg_spool_kind_stats kind[VG_SPOOL_NKIND]; /* indexed by vg_archive_kind */
    uint64_t backlog;                         /* unsent records, all kinds */
    uint64_t backlog_bytes;                   /* their payload bytes */
    int64_t oldest_unsent_rx;                 /* rx_us of the oldest unsent; INT64_MAX if none */
    uint64_t pending;                         /* appended but not yet committed */
    uint64_t inflight;                        /* handed out, not yet marked sent / requeued */
    uint64_t db_bytes;                        /* pages in use * page size (what the quota sees) */
    vg_spool_evicted evicted;                 /* cumulative over the file's life */
} vg_spool_stats;

/* Process-wide SQLite setting for a long-running spool owner, to call once
 * before the first vg_spool_open (later it is refused by SQLite and this
 * returns VG_EINVAL, changing nothing): no up-front page-cache block
 * (SQLite's default allocates and links 20 pages, ~87 kB, per connection
 * on its first read); pages are allocated one by one as they are needed,
 * up to the same cache_size.  Memory only, no change of behaviour. */
int vg_spool_lean_memory(void);

/* Opens the spool at `path`, creating it (mode 0644 via umask) when it does
 * not exist or is empty.  `o` may be NULL (defaults).  Refuses a SQLite file
 * that is not a vigil spool, or whose schema is newer than VG_SPOOL_SCHEMA,
 * with VG_ESCHEMA.  On failure writes a one-line reason to err (if errlen)
 * and leaves *out NULL.  On success the caller owns *out (vg_spool_close). */
int vg_spool_open(const char *path, const vg_spool_opts *o, vg_spool **out, char *err,
                  size_t errlen);

/* Appends one record (payload copied; `payload` may be NULL when len is 0).
 * Samples join the open write transaction (begun lazily) and are committed
 * by vg_spool_commit / vg_spool_flush_due or automatically when commit_every
 * are pending; alerts, trips and model records commit at once, taking any
 * pending samples with them.  Returns VG_OK; VG_EDUP when (kind, seq) is
 * already stored (nothing stored, nothing lost); VG_EINVAL for a bad kind or
 * seq > INT64_MAX; VG_ETOOBIG over 1 GB.  Any other failure rolls back every
 * pending record (none of them is acknowledged) and returns the status. */
int vg_spool_append(vg_spool *s, int kind, uint64_t seq, uint64_t model_version, int64_t rx_us,
                    const void *payload, size_t len);

/* Commits the pending records (no-op when none).  VG_OK means they are all
 * acknowledged.  On failure they are rolled back and the status returned; a
 * failure of an earlier append that rolled back pending records is reported
 * here once more (after committing whatever was appended since), so "commit
 * returned VG_OK" always means "everything since the last good commit is
 * stored". */
int vg_spool_commit(vg_spool *s);

/* Commits when records are pending and commit_ms have passed since the
 * first of them was appended (its rx_us: `now_us` must use the same clock).
 * Returns VG_OK when nothing was due, else vg_spool_commit's status. */
int vg_spool_flush_due(vg_spool *s, int64_t now_us);

/* Fills items[0..*n) with up to max_items unsent, committed, not in-flight
 * records whose payloads total at most max_bytes (the first record is
 * returned even if larger, so no record can block the queue): trips, then
 * alerts, then model records, then samples, each kind by seq.  They become
 * in flight (memory only).  Payloads live in the spool's buffer until the
 * next call or close.  *n = 0 when nothing is to send. */
int vg_spool_next_batch(vg_spool *s, size_t max_items, size_t max_bytes, vg_spool_item *items,
                        size_t *n);

/* Marks the records (by kind and seq; other fields ignored) sent, durably:
 * commits pending appends first, then the marks in one transaction.  Records
 * evicted meanwhile or already marked are skipped.  Call on PUBACK. */
int vg_spool_mark_sent(vg_spool *s, const vg_spool_item *items, size_t n);

/* Marks the records sent inside the open write transaction (begun when
 * none is), without committing: the next commit (vg_spool_commit, an
 * automatic one, or the group commit of vigild's spool writer) makes them
 * durable together with the appends.  Until then a crash forgets the marks
 * and the records are forwarded again after the restart, which the batch
 * side's dedup by (device, kind, seq) absorbs.  On failure everything
 * pending is rolled back as for a failed append. */
int vg_spool_mark_sent_deferred(vg_spool *s, const vg_spool_item *items, size_t n);

/* Forgets what is in flight: the next vg_spool_next_batch starts again from
 * the oldest unsent record of each kind.  Call on disconnect. */
void vg_spool_requeue_inflight(vg_spool *s);

/* When the database exceeds quota_bytes, evicts in this order until it
 * fits: (1) sent samples, oldest first; (2) other sent records, oldest
 * first; (3) unsent samples, oldest first (data loss, counted).  Unsent
 * alerts, trips and model records are never evicted.  Commits pending
 * records first and the eviction in one transaction, then returns the freed
 * pages to the file system.  `ev` (may be NULL) receives what this call
 * removed.  Returns VG_OK when under quota (or no quota), VG_ENOSPC when only
 * unsent alerts / trips / model records are left and still over quota. */
int vg_spool_enforce_quota(vg_spool *s, vg_spool_evicted *ev);

/* Fills *st.  Counts include pending (uncommitted) records. */
int vg_spool_get_stats(vg_spool *s, vg_spool_stats *st);

/* Highest seq stored for `kind` (committed or pending) in *seq, or -1 when
 * the spool holds none of that kind.  O(log n) (the UNIQUE(kind, seq)
 * index).  The daemon restores its sequence counters from it at start. */
int vg_spool_last_seq(vg_spool *s, int kind, int64_t *seq);

/* Called by vg_spool_scan for each record with its payload (valid during
 * the call only). */
typedef void (*vg_spool_scan_fn)(void *user, const void *payload, size_t len);

/* Calls fn for every stored record of `kind` (committed or pending), in
 * seq order.  O(n log n) for n records of the kind (the UNIQUE(kind, seq)
 * index); the daemon reads its alerts once at start.  VG_OK, VG_EINVAL
 * for a bad kind, or an SQLite failure (message in vg_spool_errmsg). */
int vg_spool_scan(vg_spool *s, int kind, vg_spool_scan_fn fn, void *user);

/* The holes among the stored sample seqs at or above `from`: ranges
 * [lo[i], hi[i]] of seqs missing between two stored ones, highest first,
 * at most max of them, *n filled.  O(k) for the k sample records at or
 * above `from` (one index scan).  vigild restores its skipped-seq gaps
 * from it at start (agent/writer.h). */
int vg_spool_sample_holes(vg_spool *s, uint64_t from, uint64_t *lo, uint64_t *hi, size_t max,
                          size_t *n);

/* The last error's message ("" if none); owned by the handle. */
const char *vg_spool_errmsg(const vg_spool *s);

/* Commits pending records, finalizes statements, closes the file and frees
 * the handle (always, even on failure).  Returns the final commit's status.
 * NULL is a no-op returning VG_OK. */
int vg_spool_close(vg_spool *s);

#endif
