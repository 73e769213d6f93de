/*
 * spool_open.c - the spool's file: schema version 1, checks before a byte
 * is written, connection pragmas, prepared statements, open and close (see
 * spool.h for the contract, spool.c for the design).
 *
 * Costs: open is O(1) apart from SQLite's WAL recovery of a file left by a
 * crash (O(WAL size)) and, for a fresh file, one transaction creating the
 * schema; close commits pending records (one WAL append).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "spool_int.h"
#include "vg_error.h"

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

/* Prepares the transaction statements (the others wait for their first
 * use, spool_int.h) and reads the file's fixed facts. */
static int spool__prepare(vg_spool *s)
{
    sqlite3_stmt *st;
    for (int i = 0; i < ST_LAZY; i++) {
        int rc = spool__stmt(s, (enum spool_stmt)i, &st);
        if (rc != VG_OK)
            return rc;
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
    spool__rescan(s);
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
