/*
 * warehouse.c - the warehouse's schema, prepared statements and idempotent
 * inserts (see warehouse.h for the design and costs).
 *
 * Every statement is one row of a table below, prepared once at open; a
 * function binds, steps and resets its row.  Device and channel ids are
 * cached in small arrays searched linearly (fleets of thousands of devices
 * at most a few hundred channels; a lookup is a memcmp scan, far below one
 * B-tree insert).
 */
#include "warehouse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"

static const char *const wh_schema =
    "CREATE TABLE IF NOT EXISTS devices(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS channels(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS batches(device INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, model_version INTEGER NOT NULL, rx_us INTEGER NOT NULL,"
    " PRIMARY KEY(device, kind, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS samples(device INTEGER NOT NULL, channel INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, model_version INTEGER NOT NULL, t_first INTEGER NOT NULL,"
    " t_last INTEGER NOT NULL, n INTEGER NOT NULL, t BLOB NOT NULL, v BLOB NOT NULL,"
    " PRIMARY KEY(device, channel, seq));"
    "CREATE INDEX IF NOT EXISTS samples_time ON samples(device, channel, t_first);"
    "CREATE TABLE IF NOT EXISTS alerts(device INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " channel TEXT NOT NULL, raised INTEGER NOT NULL, detector INTEGER NOT NULL,"
    " t_us INTEGER NOT NULL, value REAL, score REAL, model_version INTEGER NOT NULL,"
    " sample_seq INTEGER NOT NULL, PRIMARY KEY(device, channel, t_us, raised));"
    "CREATE INDEX IF NOT EXISTS alerts_time ON alerts(device, t_us);"
    "CREATE TABLE IF NOT EXISTS trips(device INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " channel TEXT NOT NULL, reason TEXT NOT NULL, detector INTEGER NOT NULL,"
    " trip_id INTEGER NOT NULL, t_us INTEGER NOT NULL, model_version INTEGER NOT NULL,"
    " PRIMARY KEY(device, trip_id));"
    "CREATE INDEX IF NOT EXISTS trips_time ON trips(device, t_us);"
    "CREATE TABLE IF NOT EXISTS labels(device TEXT NOT NULL, channel TEXT,"
    " from_us INTEGER NOT NULL, to_us INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '',"
    " UNIQUE(device, channel, from_us, to_us));"
    "CREATE TABLE IF NOT EXISTS models(device TEXT NOT NULL, version INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL, train_from_us INTEGER NOT NULL,"
    " train_to_us INTEGER NOT NULL, model BLOB NOT NULL, bundle BLOB NOT NULL,"
    " reason TEXT NOT NULL, cur_alerts INTEGER, cand_alerts INTEGER, cur_trips INTEGER,"
    " cand_trips INTEGER, labels INTEGER, cur_detected INTEGER, cand_detected INTEGER,"
    " cur_false INTEGER, cand_false INTEGER, PRIMARY KEY(device, version));"
    "CREATE TABLE IF NOT EXISTS candidates(device TEXT NOT NULL, version INTEGER NOT NULL,"
    " created_us INTEGER NOT NULL, train_from_us INTEGER NOT NULL,"
    " train_to_us INTEGER NOT NULL, model BLOB NOT NULL, reason TEXT NOT NULL,"
    " cur_alerts INTEGER, cand_alerts INTEGER, cur_trips INTEGER, cand_trips INTEGER,"
    " labels INTEGER, cur_detected INTEGER, cand_detected INTEGER, cur_false INTEGER,"
    " cand_false INTEGER, PRIMARY KEY(device, version));"
    "CREATE TABLE IF NOT EXISTS acks(device INTEGER NOT NULL, version INTEGER NOT NULL,"
    " applied INTEGER NOT NULL, reason TEXT NOT NULL, running_version INTEGER NOT NULL,"
    " t_us INTEGER NOT NULL, PRIMARY KEY(device, version, t_us, applied));"
    "CREATE TABLE IF NOT EXISTS rejects(reason TEXT PRIMARY KEY, n INTEGER NOT NULL);";

/* Prepared statements, by role. */
enum {
    S_DEV_GET,
    S_DEV_ADD,
    S_CHAN_GET,
    S_CHAN_ADD,
    S_CLAIM,
    S_BLOCK,
    S_ALERT,
    S_TRIP,
    S_ACK,
    S_REJECT,
    S_LABEL,
    S_MODEL,
    S_CAND,
    S_CURRENT,
    S_COUNT
};

static const char *const wh_sql[S_COUNT] = {
    [S_DEV_GET] = "SELECT id FROM devices WHERE name = ?1",
    [S_DEV_ADD] = "INSERT INTO devices(name) VALUES (?1)",
    [S_CHAN_GET] = "SELECT id FROM channels WHERE name = ?1",
    [S_CHAN_ADD] = "INSERT INTO channels(name) VALUES (?1)",
    [S_CLAIM] = "INSERT OR IGNORE INTO batches VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_BLOCK] = "INSERT OR IGNORE INTO samples VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_ALERT] = "INSERT OR IGNORE INTO alerts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_TRIP] = "INSERT OR IGNORE INTO trips VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_ACK] = "INSERT OR IGNORE INTO acks VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_REJECT] = "INSERT INTO rejects VALUES (?1, ?2) ON CONFLICT(reason) DO UPDATE"
                 " SET n = n + excluded.n",
    [S_LABEL] = "INSERT OR IGNORE INTO labels VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_MODEL] = "INSERT OR IGNORE INTO models VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_CAND] = "INSERT OR REPLACE INTO candidates VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
               " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [S_CURRENT] = "SELECT version, model FROM models WHERE device = ?1"
                  " ORDER BY version DESC LIMIT 1",
};

/* One cached name -> id mapping. */
typedef struct wh_name {
    char name[VG_DEVICE_MAX + 1]; /* device or channel name */
    int64_t id;                   /* its row id */
} wh_name;

typedef struct wh_cache {
    wh_name *e; /* entries (owned) */
    size_t n;   /* used */
    size_t cap; /* allocated */
} wh_cache;

struct vb_wh {
    sqlite3 *db;               /* the connection (owned) */
    sqlite3_stmt *st[S_COUNT]; /* prepared statements (owned) */
    int in_tx;                 /* 1 inside vb_wh_begin .. commit/rollback */
    wh_cache dev, chan;        /* id caches */
    char err[VB_WH_ERRMAX];    /* last error message */
};

/* Records a message about SQLite's state and returns the VG code for it. */
static int wh__fail(vb_wh *w, const char *what)
{
    int x = sqlite3_extended_errcode(w->db) & 0xff;
    if (x == SQLITE_BUSY || x == SQLITE_LOCKED)
        snprintf(w->err, sizeof w->err,
                 "%s: warehouse locked by another writer (waited for the busy timeout)", what);
    else
        snprintf(w->err, sizeof w->err, "%s: %s", what, sqlite3_errmsg(w->db));
    if (x == SQLITE_FULL)
        return VG_ENOSPC;
    if (x == SQLITE_NOMEM)
        return VG_ENOMEM;
    return VG_EIO;
}

/* Steps a write statement to completion and resets it. */
static int wh__run(vb_wh *w, int s, const char *what)
{
    int rc = sqlite3_step(w->st[s]);
    int out = rc == SQLITE_DONE ? VG_OK : wh__fail(w, what);
    sqlite3_reset(w->st[s]);
    sqlite3_clear_bindings(w->st[s]);
    return out;
}

/* Runs one-shot SQL; VG_OK or VG_EIO with the message. */
static int wh__exec(vb_wh *w, const char *sql, const char *what)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return wh__fail(w, what);
    return VG_OK;
}

/* Checks application_id / user_version; creates the schema when empty. */
static int wh__schema(vb_wh *w, int readonly)
{
    int64_t app = vb_wh_scalar(w, "PRAGMA application_id");
    int64_t ver = vb_wh_scalar(w, "PRAGMA user_version");
    int64_t tables = vb_wh_scalar(w, "SELECT count(*) FROM sqlite_master");
    if (app < 0 || ver < 0 || tables < 0)
        return wh__fail(w, "cannot read the file (not a SQLite database?)");
    if (tables > 0 && app != VB_WH_APPID) {
        snprintf(w->err, sizeof w->err, "not a vigil-batch warehouse (application_id %lld)",
                 (long long)app);
        return VG_ESCHEMA;
    }
    if (tables > 0 && ver > VB_WH_SCHEMA) {
        snprintf(w->err, sizeof w->err, "warehouse schema %lld is newer than this build (%d)",
                 (long long)ver, VB_WH_SCHEMA);
        return VG_ESCHEMA;
    }
    if (readonly) {
        if (tables == 0) {
            snprintf(w->err, sizeof w->err, "empty file: no warehouse here");
            return VG_ESCHEMA;
        }
        return VG_OK;
    }
    int rc = wh__exec(w, "PRAGMA journal_mode=WAL", "cannot enable WAL");
    if (rc == VG_OK)
        rc = wh__exec(w, "BEGIN IMMEDIATE", "cannot lock the warehouse");
    if (rc != VG_OK)
        return rc;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;", VB_WH_APPID,
             VB_WH_SCHEMA);
    if ((rc = wh__exec(w, wh_schema, "cannot create the schema")) != VG_OK ||
        (rc = wh__exec(w, sql, "cannot stamp the schema")) != VG_OK ||
        (rc = wh__exec(w, "COMMIT", "cannot commit the schema")) != VG_OK) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return VG_OK;
}

/* Prepares every statement of wh_sql. */
static int wh__prepare(vb_wh *w)
{
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(w->db, wh_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i], NULL) !=
            SQLITE_OK)
            return wh__fail(w, "cannot prepare statements");
    return VG_OK;
}

/* See warehouse.h. */
int vb_wh_open(const char *path, const vb_wh_opts *o, vb_wh **out, char *err, size_t errlen)
{
    *out = NULL;
    vb_wh *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return VG_ENOMEM;
    }
    int ro = o && o->readonly;
    int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = VG_OK;
    if (sqlite3_open_v2(path, &w->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = wh__fail(w, "cannot open");
    if (rc == VG_OK) {
        sqlite3_busy_timeout(w->db, o && o->busy_timeout_ms ? o->busy_timeout_ms : 5000);
        rc = wh__schema(w, ro);
    }
    if (rc == VG_OK && !ro)
        rc = wh__exec(w, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
                      "cannot set pragmas");
    if (rc == VG_OK)
        rc = wh__prepare(w);
    if (rc != VG_OK) {
        snprintf(err, errlen, "%s: %s", path, w->err);
        vb_wh_close(w);
        return rc;
    }
    *out = w;
    return VG_OK;
}

/* See warehouse.h. */
void vb_wh_close(vb_wh *w)
{
    if (!w)
        return;
    if (w->in_tx)
        vb_wh_rollback(w);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(w->st[i]);
    sqlite3_close(w->db);
    free(w->dev.e);
    free(w->chan.e);
    free(w);
}

const char *vb_wh_errmsg(const vb_wh *w)
{
    return w ? w->err : "";
}

sqlite3 *vb_wh_db(vb_wh *w)
{
    return w->db;
}

/* See warehouse.h. */
int vb_wh_begin(vb_wh *w)
{
    int rc = wh__exec(w, "BEGIN IMMEDIATE", "cannot start a write transaction");
    w->in_tx = rc == VG_OK;
    return rc;
}

int vb_wh_commit(vb_wh *w)
{
    int rc = wh__exec(w, "COMMIT", "cannot commit");
    if (rc != VG_OK)
        vb_wh_rollback(w);
    w->in_tx = 0;
    return rc;
}

void vb_wh_rollback(vb_wh *w)
{
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    w->in_tx = 0;
    /* ids created in the rolled-back transaction are gone: forget them all */
    w->dev.n = 0;
    w->chan.n = 0;
}

/* Cached lookup of name[0..len) in c; 1 and *id when found. */
static int wh__cache_get(const wh_cache *c, const char *name, size_t len, int64_t *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->e[i].name, name, len) == 0 && c->e[i].name[len] == '\0') {
            *id = c->e[i].id;
            return 1;
        }
    return 0;
}

/* Adds a mapping to the cache (best effort: a full, unallocatable cache is
 * only slower). */
static void wh__cache_put(wh_cache *c, const char *name, size_t len, int64_t id)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        wh_name *e = realloc(c->e, cap * sizeof *e);
        if (!e)
            return;
        c->e = e;
        c->cap = cap;
    }
    memcpy(c->e[c->n].name, name, len);
    c->e[c->n].name[len] = '\0';
    c->e[c->n++].id = id;
}

/* Looks name up by statement `get`, inserting with `add` when `create`. */
static int wh__name_id(vb_wh *w, wh_cache *c, int get, int add, const char *name, size_t len,
                       int create, int64_t *id)
{
    if (len > VG_DEVICE_MAX)
        return VG_EINVAL;
    if (wh__cache_get(c, name, len, id))
        return VG_OK;
    sqlite3_bind_text(w->st[get], 1, name, (int)len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(w->st[get]);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(w->st[get], 0);
    sqlite3_reset(w->st[get]);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return wh__fail(w, "cannot look up a name");
    if (rc == SQLITE_DONE) {
        if (!create)
            return VG_EMISSING;
        sqlite3_bind_text(w->st[add], 1, name, (int)len, SQLITE_TRANSIENT);
        if ((rc = wh__run(w, add, "cannot add a name")) != VG_OK)
            return rc;
        *id = sqlite3_last_insert_rowid(w->db);
    }
    wh__cache_put(c, name, len, *id);
    return VG_OK;
}

int vb_wh_device_id(vb_wh *w, const char *name, int64_t *id)
{
    return wh__name_id(w, &w->dev, S_DEV_GET, S_DEV_ADD, name, strlen(name), 1, id);
}

int vb_wh_channel_id(vb_wh *w, const char *name, size_t len, int64_t *id)
{
    return wh__name_id(w, &w->chan, S_CHAN_GET, S_CHAN_ADD, name, len, 1, id);
}

int vb_wh_find_device(vb_wh *w, const char *name, int64_t *id)
{
    return wh__name_id(w, &w->dev, S_DEV_GET, S_DEV_ADD, name, strlen(name), 0, id);
}

/* See warehouse.h. */
int vb_wh_claim(vb_wh *w, int64_t dev, int kind, uint64_t seq, uint64_t model_version,
                int64_t rx_us, int *fresh)
{
    sqlite3_stmt *s = w->st[S_CLAIM];
    sqlite3_bind_int64(s, 1, dev);
    sqlite3_bind_int(s, 2, kind);
    sqlite3_bind_int64(s, 3, (int64_t)seq);
    sqlite3_bind_int64(s, 4, (int64_t)model_version);
    sqlite3_bind_int64(s, 5, rx_us);
    int rc = wh__run(w, S_CLAIM, "cannot record a batch");
    *fresh = rc == VG_OK && sqlite3_changes(w->db) > 0;
    return rc;
}

void vb_le_put_i64(uint8_t *p, int64_t x)
{
    uint64_t u = (uint64_t)x;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

void vb_le_put_f64(uint8_t *p, double x)
{
    int64_t u;
    memcpy(&u, &x, 8);
    vb_le_put_i64(p, u);
}

int64_t vb_le_get_i64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

double vb_le_get_f64(const uint8_t *p)
{
    int64_t u = vb_le_get_i64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* See warehouse.h.  The host arrays are bound as the blobs directly: the
 * on-disk format is little-endian, as the hosts we build for are (x86-64,
 * aarch64; CMake refuses big-endian targets). */
int vb_wh_put_block(vb_wh *w, int64_t dev, int64_t chan, uint64_t seq, uint64_t model_version,
                    uint32_t n, const int64_t *t, const double *v)
{
    if (n == 0)
        return VG_OK;
    sqlite3_stmt *s = w->st[S_BLOCK];
    sqlite3_bind_int64(s, 1, dev);
    sqlite3_bind_int64(s, 2, chan);
    sqlite3_bind_int64(s, 3, (int64_t)seq);
    sqlite3_bind_int64(s, 4, (int64_t)model_version);
    int64_t lo = t[0], hi = t[0];
    for (uint32_t i = 1; i < n; i++) {
        lo = t[i] < lo ? t[i] : lo;
        hi = t[i] > hi ? t[i] : hi;
    }
    sqlite3_bind_int64(s, 5, lo);
    sqlite3_bind_int64(s, 6, hi);
    sqlite3_bind_int64(s, 7, n);
    sqlite3_bind_blob64(s, 8, t, (sqlite3_uint64)n * 8, SQLITE_STATIC);
    sqlite3_bind_blob64(s, 9, v, (sqlite3_uint64)n * 8, SQLITE_STATIC);
    return wh__run(w, S_BLOCK, "cannot store samples");
}

int vb_wh_put_alert(vb_wh *w, int64_t dev, int64_t seq, const vg_alert *a)
{
    sqlite3_stmt *s = w->st[S_ALERT];
    sqlite3_bind_int64(s, 1, dev);
    sqlite3_bind_int64(s, 2, seq);
    sqlite3_bind_text(s, 3, a->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, a->raised);
    sqlite3_bind_int(s, 5, a->detector);
    sqlite3_bind_int64(s, 6, a->t_us);
    sqlite3_bind_double(s, 7, a->value);
    sqlite3_bind_double(s, 8, a->score);
    sqlite3_bind_int64(s, 9, (int64_t)a->model_version);
    sqlite3_bind_int64(s, 10, (int64_t)a->seq);
    return wh__run(w, S_ALERT, "cannot store an alert");
}

int vb_wh_put_trip(vb_wh *w, int64_t dev, int64_t seq, const vg_shutdown *t)
{
    sqlite3_stmt *s = w->st[S_TRIP];
    sqlite3_bind_int64(s, 1, dev);
    sqlite3_bind_int64(s, 2, seq);
    sqlite3_bind_text(s, 3, t->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, t->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, t->detector);
    sqlite3_bind_int64(s, 6, (int64_t)t->trip_id);
    sqlite3_bind_int64(s, 7, t->t_us);
    sqlite3_bind_int64(s, 8, (int64_t)t->model_version);
    return wh__run(w, S_TRIP, "cannot store a trip");
}

int vb_wh_put_ack(vb_wh *w, int64_t dev, const vg_model_ack *a)
{
    sqlite3_stmt *s = w->st[S_ACK];
    sqlite3_bind_int64(s, 1, dev);
    sqlite3_bind_int64(s, 2, (int64_t)a->version);
    sqlite3_bind_int(s, 3, a->applied);
    sqlite3_bind_text(s, 4, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (int64_t)a->running_version);
    sqlite3_bind_int64(s, 6, a->t_us);
    return wh__run(w, S_ACK, "cannot store a model ack");
}

int vb_wh_count_reject(vb_wh *w, const char *reason, uint64_t n)
{
    sqlite3_bind_text(w->st[S_REJECT], 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->st[S_REJECT], 2, (int64_t)n);
    return wh__run(w, S_REJECT, "cannot count a reject");
}

int vb_wh_put_label(vb_wh *w, const char *device, const char *channel, int64_t from_us,
                    int64_t to_us, const char *note)
{
    sqlite3_stmt *s = w->st[S_LABEL];
    sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
    if (channel)
        sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, from_us);
    sqlite3_bind_int64(s, 4, to_us);
    sqlite3_bind_text(s, 5, note ? note : "", -1, SQLITE_STATIC);
    return wh__run(w, S_LABEL, "cannot store a label");
}

/* Binds the registry columns shared by models and candidates from `col`. */
static void wh__bind_figures(sqlite3_stmt *s, int col, const vb_reg_row *r)
{
    for (int i = 0; i < 9; i++)
        sqlite3_bind_int64(s, col + i, r->figures[i]);
}

/* See warehouse.h. */
int vb_wh_put_model(vb_wh *w, const vb_reg_row *r)
{
    int held = strcmp(r->status, "held") == 0;
    int k = held ? S_CAND : S_MODEL;
    sqlite3_stmt *s = w->st[k];
    sqlite3_bind_text(s, 1, r->device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)r->version);
    sqlite3_bind_int64(s, 3, r->created_us);
    sqlite3_bind_int64(s, 4, r->train_from_us);
    sqlite3_bind_int64(s, 5, r->train_to_us);
    sqlite3_bind_blob64(s, 6, r->model, r->model_len, SQLITE_STATIC);
    if (held) {
        sqlite3_bind_text(s, 7, r->reason, -1, SQLITE_STATIC);
        wh__bind_figures(s, 8, r);
    } else {
        sqlite3_bind_blob64(s, 7, r->bundle, r->bundle_len, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, r->reason, -1, SQLITE_STATIC);
        wh__bind_figures(s, 9, r);
    }
    return wh__run(w, k, "cannot record the model in the registry");
}

/* See warehouse.h. */
int vb_wh_current_model(vb_wh *w, const char *device, uint64_t *version, vg_model *m)
{
    sqlite3_stmt *s = w->st[S_CURRENT];
    sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), out = VG_OK;
    *version = 0;
    if (m)
        m->version = 0;
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(s, 0);
        if (m)
            out = vg_model_decode(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1), m);
    } else if (rc != SQLITE_DONE) {
        out = wh__fail(w, "cannot read the model registry");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return out;
}

/* See warehouse.h. */
int64_t vb_wh_scalar(vb_wh *w, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(w->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}
