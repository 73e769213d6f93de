/*
 * warehouse.h - vigil-batch's warehouse: one SQLite file (WAL) holding the
 * fleet's archived samples, alerts, trips, labels, model registry and acks.
 *
 * Design.  Samples are stored columnar: one `samples` row is one channel
 * block of one archived batch - (device, channel, seq, model_version,
 * t_first, t_last, n) plus two blobs holding the n timestamps (int64 epoch
 * microseconds) and n values (float64), little-endian.  A logical sample is
 * (device, channel, t_us, value, seq, model_version); storing it per block
 * keeps ingest at one B-tree insert per channel block instead of one per
 * sample, and lets retrain read a channel's history as a few large blobs.
 * Retrain queries use the index (device, channel, t_first).
 *
 * Idempotency.  Every archived record is first claimed in `batches`
 * (PRIMARY KEY device, kind, seq) with INSERT OR IGNORE in the same
 * transaction as its rows; a claim that inserts nothing means the record is
 * already stored, and its rows are skipped.  The row tables have their own
 * primary keys as a second guard, so a re-insert is a no-op either way.
 *
 * Concurrency.  One writer at a time (SQLite); readers run beside it (WAL).
 * A second writer waits busy_timeout (5 s by default) and then fails with
 * VG_EIO and "warehouse locked by another writer".
 *
 * Costs: claim and each insert O(log n) inside an open transaction; commit
 * one WAL append (synchronous=NORMAL: no fsync); id lookups O(1) after the
 * first (cached in memory for the handle's life).
 */
#ifndef VB_WAREHOUSE_H
#define VB_WAREHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "vg_model.h"
#include "vg_msg.h"

#define VB_WH_APPID  0x56474257 /* PRAGMA application_id: "VGBW" */
#define VB_WH_SCHEMA 1          /* PRAGMA user_version */
#define VB_WH_ERRMAX 256

typedef struct vb_wh vb_wh;

/* Options of vb_wh_open. */
typedef struct vb_wh_opts {
    int readonly;        /* 1: open read-only, never create */
    int busy_timeout_ms; /* wait for another writer this long; 0 = 5000 */
} vb_wh_opts;

/* Opens (creating when missing or empty) the warehouse at `path`.  `o` may
 * be NULL.  Refuses a SQLite file that is not a warehouse (VG_ESCHEMA) and
 * reports SQLite failures as VG_EIO; on failure writes a reason to err and
 * leaves *out NULL.  The caller owns *out (vb_wh_close). */
int vb_wh_open(const char *path, const vb_wh_opts *o, vb_wh **out, char *err, size_t errlen);

/* Finalizes statements and closes; rolls back an open transaction.  NULL ok. */
void vb_wh_close(vb_wh *w);

/* The last error's message ("" if none), owned by the handle. */
const char *vb_wh_errmsg(const vb_wh *w);

/* The SQLite handle, for read queries by other batch modules (borrowed). */
sqlite3 *vb_wh_db(vb_wh *w);

/* Transactions: begin takes the write lock (BEGIN IMMEDIATE), so a locked
 * warehouse is reported here and not half-way through a batch. */
int vb_wh_begin(vb_wh *w);
int vb_wh_commit(vb_wh *w);
void vb_wh_rollback(vb_wh *w);

/* Id of device / channel `name`, created when absent (inside the caller's
 * transaction).  Cached. */
int vb_wh_device_id(vb_wh *w, const char *name, int64_t *id);
int vb_wh_channel_id(vb_wh *w, const char *name, size_t len, int64_t *id);

/* Id of an existing device; VG_EMISSING when unknown.  No writes. */
int vb_wh_find_device(vb_wh *w, const char *name, int64_t *id);

/* Claims record (device, kind, seq): *fresh = 1 when it was not stored
 * yet (the caller then inserts its rows), 0 when it was. */
int vb_wh_claim(vb_wh *w, int64_t dev, int kind, uint64_t seq, uint64_t model_version,
                int64_t rx_us, int *fresh);

/* Stores one channel block (n samples, times t[] and values v[]). */
int vb_wh_put_block(vb_wh *w, int64_t dev, int64_t chan, uint64_t seq, uint64_t model_version,
                    uint32_t n, const int64_t *t, const double *v);

/* Stores an alert / trip (shutdown) / model ack.  `seq` is the archive
 * record's seq, or -1 for one received live (alerts, cmd/shutdown topics).
 * Their keys are natural - alert (device, channel, t_us, raised), trip
 * (device, trip_id), ack (device, version, t_us, applied) - so the live
 * copy and the archived copy of the same event are one row. */
int vb_wh_put_alert(vb_wh *w, int64_t dev, int64_t seq, const vg_alert *a);
int vb_wh_put_trip(vb_wh *w, int64_t dev, int64_t seq, const vg_shutdown *s);
int vb_wh_put_ack(vb_wh *w, int64_t dev, const vg_model_ack *a);

/* Adds `n` to the durable reject counter `reason` (kept in table rejects). */
int vb_wh_count_reject(vb_wh *w, const char *reason, uint64_t n);

/* Adds a label: an incident on `device` (channel NULL = every channel)
 * over [from_us, to_us). */
int vb_wh_put_label(vb_wh *w, const char *device, const char *channel, int64_t from_us,
                    int64_t to_us, const char *note);

/* Model registry row (published models and held-back candidates). */
typedef struct vb_reg_row {
    char device[VG_DEVICE_MAX + 1]; /* device */
    uint64_t version;               /* model version */
    const char *status;             /* "published" or "held" */
    const char *reason;             /* why held / what changed */
    int64_t created_us;             /* model's created_us */
    int64_t train_from_us;          /* training range [from, to) */
    int64_t train_to_us;
    const uint8_t *model; /* vg_model_encode bytes (borrowed) */
    size_t model_len;
    const uint8_t *bundle; /* signed bundle (borrowed; NULL for held) */
    size_t bundle_len;
    int64_t figures[9]; /* backtest: cur/cand alerts, cur/cand trips, labels,
                           cur/cand detected, cur/cand false alarms */
} vb_reg_row;

/* Records a published model (models table; idempotent for the same
 * device/version) or a held candidate (candidates table, replacing). */
int vb_wh_put_model(vb_wh *w, const vb_reg_row *r);

/* Highest published version of `device` (0 when none) and, when `m` is
 * not NULL and a model exists, that model decoded into *m (else m->version
 * = 0).  Read-only. */
int vb_wh_current_model(vb_wh *w, const char *device, uint64_t *version, vg_model *m);

/* Runs a statement that returns a single integer; -1 on error. */
int64_t vb_wh_scalar(vb_wh *w, const char *sql);

/* Little-endian blob helpers for the sample columns. */
void vb_le_put_i64(uint8_t *p, int64_t x);
void vb_le_put_f64(uint8_t *p, double x);
int64_t vb_le_get_i64(const uint8_t *p);
double vb_le_get_f64(const uint8_t *p);

#endif
