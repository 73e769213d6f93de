/*
 * import.c - spool files into the warehouse (see import.h).
 */
#include "import.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "spool.h"
#include "vg_error.h"
#include "vg_msg.h"

/* Reads a one-integer PRAGMA; -1 on error. */
static long long import__pragma(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Opens and checks the spool; VG_OK with *db open read-only. */
static int import__open(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path, sqlite3_errmsg(*db));
        return VG_EIO;
    }
    long long app = import__pragma(*db, "PRAGMA application_id");
    long long ver = import__pragma(*db, "PRAGMA user_version");
    if (app < 0) {
        snprintf(err, errlen, "%s: not a SQLite database", path);
        return VG_ESCHEMA;
    }
    if (app != VG_SPOOL_APPID) {
        snprintf(err, errlen, "%s: not a vigil spool (application_id 0x%llx, want 0x%x)", path, app,
                 VG_SPOOL_APPID);
        return VG_ESCHEMA;
    }
    if (ver < 1 || ver > VG_SPOOL_SCHEMA) {
        snprintf(err, errlen, "%s: spool schema version %lld is not supported (want 1..%d)", path,
                 ver, VG_SPOOL_SCHEMA);
        return VG_ESCHEMA;
    }
    return VG_OK;
}

/* Finds the device id named by the first decodable payload of the spool. */
static int import__infer_device(sqlite3 *db, char *dev)
{
    static _Thread_local vg_block blocks[VG_BATCH_MAX_CHANNEL];
    static _Thread_local vg_shutdown sd;
    sqlite3_stmt *s = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT kind, payload FROM record ORDER BY id LIMIT 1000", -1, &s,
                           NULL) != SQLITE_OK)
        return VG_EIO;
    while (!found && sqlite3_step(s) == SQLITE_ROW) {
        int kind = sqlite3_column_int(s, 0);
        const uint8_t *p = sqlite3_column_blob(s, 1);
        size_t n = (size_t)sqlite3_column_bytes(s, 1);
        vg_samples sm = {.block = blocks, .block_cap = VG_BATCH_MAX_CHANNEL};
        vg_alert al;
        vg_model_ack ak;
        if (kind == VG_ARCH_SAMPLES && vg_samples_decode(p, n, &sm) == VG_OK)
            found = snprintf(dev, VG_DEVICE_MAX + 1, "%s", sm.device) > 0;
        else if (kind == VG_ARCH_ALERT && vg_alert_decode(p, n, &al) == VG_OK)
            found = snprintf(dev, VG_DEVICE_MAX + 1, "%s", al.device) > 0;
        else if (kind == VG_ARCH_TRIP && vg_shutdown_decode(p, n, &sd) == VG_OK)
            found = snprintf(dev, VG_DEVICE_MAX + 1, "%s", sd.device) > 0;
        else if (kind == VG_ARCH_MODEL && vg_model_ack_decode(p, n, &ak) == VG_OK)
            found = snprintf(dev, VG_DEVICE_MAX + 1, "%s", ak.device) > 0;
    }
    sqlite3_finalize(s);
    return found ? VG_OK : VG_EMISSING;
}

/* Copies every record through the ingest path, VB_IMPORT_TX per commit. */
static int import__records(vb_ingest *g, vb_wh *w, sqlite3 *db, const char *dev, char *err,
                           size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT kind, seq, model_version, rx_us, payload FROM record"
                           " ORDER BY kind, seq",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read records: %s", sqlite3_errmsg(db));
        return VG_EIO;
    }
    int rc = vb_wh_begin(w), step;
    uint32_t in_tx = 0;
    while (rc == VG_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        vg_archive_item it = {
            .kind = (uint8_t)sqlite3_column_int(s, 0),
            .seq = (uint64_t)sqlite3_column_int64(s, 1),
            .model_version = (uint64_t)sqlite3_column_int64(s, 2),
            .rx_us = sqlite3_column_int64(s, 3),
            .payload = sqlite3_column_blob(s, 4),
            .len = (size_t)sqlite3_column_bytes(s, 4),
        };
        rc = vb_ingest_record(g, dev, &it, NULL);
        if (rc == VG_OK && ++in_tx == VB_IMPORT_TX) {
            if ((rc = vb_ingest_flush_rejects(g)) == VG_OK && (rc = vb_wh_commit(w)) == VG_OK)
                rc = vb_wh_begin(w);
            in_tx = 0;
        }
    }
    if (rc == VG_OK && step != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read records: %s", sqlite3_errmsg(db));
        rc = VG_EIO;
    } else if (rc == VG_OK && (rc = vb_ingest_flush_rejects(g)) == VG_OK) {
        rc = vb_wh_commit(w);
    }
    if (rc != VG_OK && !err[0])
        snprintf(err, errlen, "%s", vb_wh_errmsg(w));
    if (rc != VG_OK)
        vb_wh_rollback(w);
    sqlite3_finalize(s);
    return rc;
}

/* See import.h. */
int vb_import_spool(vb_ingest *g, vb_wh *w, const char *path, const char *device, char *err,
                    size_t errlen)
{
    sqlite3 *db = NULL;
    char dev[VG_DEVICE_MAX + 1];
    err[0] = '\0';
    int rc = import__open(path, &db, err, errlen);
    if (rc == VG_OK && device) {
        snprintf(dev, sizeof dev, "%s", device);
    } else if (rc == VG_OK && import__infer_device(db, dev) != VG_OK) {
        snprintf(err, errlen, "%s: no record names its device; give --device", path);
        rc = VG_EMISSING;
    }
    if (rc == VG_OK) {
        char e2[VB_WH_ERRMAX + 64] = "";
        rc = import__records(g, w, db, dev, e2, sizeof e2);
        if (rc != VG_OK)
            snprintf(err, errlen, "%s: %s", path, e2);
    }
    sqlite3_close(db);
    return rc;
}
