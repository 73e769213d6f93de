/*
 * spool.c - `vigilctl spool DIR|FILE`: inspect a vigild spool offline, and
 * `--export CSV --channel NAME [--from T] [--to T]` one channel's samples.
 *
 * Design: the spool (docs/SPOOL.md) is opened with plain SQLite strictly
 * read-only (SQLITE_OPEN_READONLY, so even a live agent's file is safe to
 * inspect; vg_spool_open would create or migrate), after checking the
 * application id.  Statistics come from GROUP BY over `record` (exact, not
 * the trigger-kept tally, so a damaged tally cannot mislead); the oldest
 * and newest sample batches, trips and alerts are decoded with the core's
 * codecs.  The export writes vigil-replay's CSV input format
 * (timestamp,CHANNEL), so an exported range can be replayed directly.
 * Cost: O(records) for the report (one index-ordered pass per kind listed);
 * the export decodes every sample batch once, O(samples).
 */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "payload.h"
#include "spool.h"
#include "vg_csv.h"
#include "vg_error.h"
#include "vg_msg.h"

#define SPOOL_LIST_MAX 20 /* trips / alerts listed in the report */

static const char *const kind_names[VG_SPOOL_NKIND] = {"samples", "alerts", "trips", "models"};

/* Per-kind figures from the record table. */
typedef struct spool_kind {
    uint64_t n, bytes, unsent, unsent_bytes; /* records and payload bytes */
    int64_t rx_min, rx_max;                  /* receive times, epoch us */
    uint64_t seq_min, seq_max;               /* sequence range */
} spool_kind;

/* The whole report. */
typedef struct spool_report {
    const char *path;              /* the database file */
    int64_t file_bytes, wal_bytes; /* on disk */
    int64_t page_bytes;            /* pages in use * page size */
    int schema;                    /* PRAGMA user_version */
    spool_kind k[VG_SPOOL_NKIND];  /* by vg_archive_kind */
    uint64_t ev[4];                /* evicted: sent_n, sent_bytes, lost_n, lost_bytes */
} spool_report;

/* Opens DIR/spool.db (or FILE) read-only and checks it is a vigil spool. */
static int spool__open(const char *arg, char *path, size_t cap, sqlite3 **db)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(path, cap, "%s/spool.db", arg);
    else
        snprintf(path, cap, "%s", arg);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vigilctl spool: no spool at %s\n", path);
        return CTL_EXIT_INPUT;
    }
    int64_t appid = 0;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(*db, "PRAGMA application_id", -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        appid = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_OK || appid != VG_SPOOL_APPID) {
        fprintf(stderr, "vigilctl spool: %s is not a vigil spool (%s)\n", path,
                rc != SQLITE_OK ? sqlite3_errmsg(*db) : "wrong application id");
        sqlite3_close(*db);
        *db = NULL;
        return CTL_EXIT_INPUT;
    }
    return CTL_EXIT_OK;
}

/* The single integer a query returns (0 when none). */
static int64_t spool__int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Fills the per-kind figures and the eviction counters. */
static int spool__gather(sqlite3 *db, spool_report *r)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT kind, COUNT(*), TOTAL(len), TOTAL(sent = 0),"
                      " TOTAL(CASE WHEN sent = 0 THEN len ELSE 0 END), MIN(rx_us), MAX(rx_us),"
                      " MIN(seq), MAX(seq) FROM record GROUP BY kind";
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return CTL_EXIT_INPUT;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int k = sqlite3_column_int(q, 0);
        if (k < 0 || k >= VG_SPOOL_NKIND)
            continue;
        r->k[k] = (spool_kind){(uint64_t)sqlite3_column_int64(q, 1),
                               (uint64_t)sqlite3_column_double(q, 2),
                               (uint64_t)sqlite3_column_double(q, 3),
                               (uint64_t)sqlite3_column_double(q, 4),
                               sqlite3_column_int64(q, 5),
                               sqlite3_column_int64(q, 6),
                               (uint64_t)sqlite3_column_int64(q, 7),
                               (uint64_t)sqlite3_column_int64(q, 8)};
    }
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(db, "SELECT sent_n, sent_bytes, lost_n, lost_bytes FROM evicted", -1, &q,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            for (int i = 0; i < 4; i++)
                r->ev[i] = (uint64_t)sqlite3_column_int64(q, i);
        sqlite3_finalize(q);
    }
    r->schema = (int)spool__int(db, "PRAGMA user_version");
    r->page_bytes = spool__int(db, "PRAGMA page_count") * spool__int(db, "PRAGMA page_size");
    return CTL_EXIT_OK;
}

/* Size of a file, 0 when absent. */
static int64_t spool__fsize(const char *path, const char *suffix)
{
    char p[1100];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Runs `sql` (one bound int parameter `arg`) and calls fn for each
 * (seq, rx_us, sent, payload, len) row. */
typedef void (*spool_row_fn)(void *user, uint64_t seq, int64_t rx_us, int sent, const uint8_t *p,
                             size_t len);
static void spool__rows(sqlite3 *db, const char *sql, int64_t arg, spool_row_fn fn, void *user)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(q, 1, arg);
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(user, (uint64_t)sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
           sqlite3_column_int(q, 2), sqlite3_column_blob(q, 3), (size_t)sqlite3_column_bytes(q, 3));
    sqlite3_finalize(q);
}

/* Output context of the record listings. */
typedef struct spool_out {
    int json;       /* JSON members into j, else human lines on stdout */
    ctl_json *j;    /* the open JSON array */
    ctl_payload *p; /* decode scratch */
    int kind;       /* CTL_K_* of the records listed */
} spool_out;

/* Lists one record (a trip, alert or sample batch), decoded. */
static void spool__list_row(void *user, uint64_t seq, int64_t rx_us, int sent, const uint8_t *b,
                            size_t len)
{
    spool_out *o = user;
    ctl_payload_decode(o->p, o->kind, b, len);
    if (o->json) {
        ctl_json_obj(o->j);
        ctl_json_key(o->j, "seq");
        ctl_json_uint(o->j, seq);
        ctl_json_key(o->j, "rx_us");
        ctl_json_int(o->j, rx_us);
        ctl_json_key(o->j, "sent");
        ctl_json_bool(o->j, sent != 0);
        ctl_json_key(o->j, "record");
        ctl_json_obj(o->j);
        ctl_payload_json(o->p, o->j);
        ctl_json_obj_end(o->j);
        ctl_json_obj_end(o->j);
        return;
    }
    char t[40];
    ctl_sb line;
    ctl_sb_init(&line);
    ctl_payload_human(o->p, &line);
    ctl_fmt_time(rx_us, t);
    printf("  #%-6" PRIu64 " %s %-7s %s\n", seq, t, sent ? "sent" : "UNSENT", ctl_sb_str(&line));
    ctl_sb_free(&line);
}

/* Lists the records of a kind: the first SPOOL_LIST_MAX by seq (samples:
 * only the oldest and newest batch). */
static void spool__list(sqlite3 *db, int kind, spool_out *o)
{
    static const int as_kind[] = {CTL_K_SAMPLES, CTL_K_ALERT, CTL_K_SHUTDOWN, CTL_K_MODEL_ACK};
    o->kind = as_kind[kind];
    const char *sql = "SELECT seq, rx_us, sent, payload FROM record WHERE kind = ?1 "
                      "ORDER BY seq DESC LIMIT "
                      "20";
    if (kind == VG_ARCH_SAMPLES) {
        spool__rows(db,
                    "SELECT seq, rx_us, sent, payload FROM record WHERE kind = ?1 "
                    "ORDER BY seq ASC LIMIT 1",
                    kind, spool__list_row, o);
        sql = "SELECT seq, rx_us, sent, payload FROM record WHERE kind = ?1 "
              "ORDER BY seq DESC LIMIT 1";
    }
    spool__rows(db, sql, kind, spool__list_row, o);
}

/* The human report. */
static void spool__human(sqlite3 *db, const spool_report *r, ctl_payload *p)
{
    char a[40], b[40];
    printf("spool      %s (schema %d)\nsize       %" PRId64 " bytes file + %" PRId64
           " bytes WAL; %" PRId64 " bytes in pages\n",
           r->path, r->schema, r->file_bytes, r->wal_bytes, r->page_bytes);
    uint64_t bl = 0, blb = 0;
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        bl += r->k[k].unsent;
        blb += r->k[k].unsent_bytes;
    }
    printf("backlog    %" PRIu64 " records, %" PRIu64 " bytes not yet acknowledged upstream\n", bl,
           blb);
    printf("evicted    %" PRIu64 " sent records; %" PRIu64 " UNSENT sample batches lost\n\n",
           r->ev[0], r->ev[2]);
    printf("%-8s %8s %12s %8s %12s  %-27s %s\n", "kind", "records", "bytes", "unsent",
           "unsent bytes", "oldest (received)", "newest (received)");
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        const spool_kind *s = &r->k[k];
        ctl_fmt_time(s->rx_min, a);
        ctl_fmt_time(s->rx_max, b);
        printf("%-8s %8" PRIu64 " %12" PRIu64 " %8" PRIu64 " %12" PRIu64 "  %-27s %s\n",
               kind_names[k], s->n, s->bytes, s->unsent, s->unsent_bytes, s->n ? a : "-",
               s->n ? b : "-");
    }
    spool_out o = {0, NULL, p, 0};
    static const int order[] = {VG_ARCH_SAMPLES, VG_ARCH_TRIP, VG_ARCH_ALERT, VG_ARCH_MODEL};
    static const char *const title[] = {"oldest and newest sample batch", "trips (newest first)",
                                        "alerts (newest 20)", "model changes (newest 20)"};
    for (int i = 0; i < 4; i++) {
        if (!r->k[order[i]].n)
            continue;
        printf("\n%s:\n", title[i]);
        spool__list(db, order[i], &o);
    }
}

/* One kind's figures as a JSON object member. */
static void spool__json_kind(ctl_json *j, const spool_kind *s, const char *name)
{
    ctl_json_key(j, name);
    ctl_json_obj(j);
    ctl_json_kuint(j, "records", s->n);
    ctl_json_kuint(j, "bytes", s->bytes);
    ctl_json_kuint(j, "unsent", s->unsent);
    ctl_json_kuint(j, "unsent_bytes", s->unsent_bytes);
    if (s->n) {
        ctl_json_kint(j, "oldest_rx_us", s->rx_min);
        ctl_json_kint(j, "newest_rx_us", s->rx_max);
        ctl_json_kuint(j, "seq_min", s->seq_min);
        ctl_json_kuint(j, "seq_max", s->seq_max);
    }
    ctl_json_obj_end(j);
}

/* The JSON report (one object). */
static void spool__json(sqlite3 *db, const spool_report *r, ctl_payload *p)
{
    ctl_sb out;
    ctl_json j;
    ctl_sb_init(&out);
    ctl_json_init(&j, &out);
    ctl_json_obj(&j);
    ctl_json_kstr(&j, "path", r->path);
    ctl_json_kint(&j, "schema", r->schema);
    ctl_json_kint(&j, "file_bytes", r->file_bytes + r->wal_bytes);
    uint64_t bl = 0, blb = 0;
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        bl += r->k[k].unsent;
        blb += r->k[k].unsent_bytes;
        spool__json_kind(&j, &r->k[k], kind_names[k]);
    }
    ctl_json_kuint(&j, "backlog", bl);
    ctl_json_kuint(&j, "backlog_bytes", blb);
    ctl_json_kuint(&j, "evicted_lost_samples", r->ev[2]);
    spool_out o = {1, &j, p, 0};
    static const char *const lists[] = {"batch_ends", "alert_list", "trip_list", "model_list"};
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        ctl_json_key(&j, lists[k]);
        ctl_json_arr(&j);
        spool__list(db, k, &o);
        ctl_json_arr_end(&j);
    }
    ctl_json_obj_end(&j);
    printf("%s\n", ctl_sb_str(&out));
    ctl_sb_free(&out);
}

/* State of a CSV export. */
typedef struct spool_export {
    FILE *f;                            /* destination */
    const char *chan;                   /* channel exported */
    int64_t from, to;                   /* [from, to) in epoch us */
    uint64_t rows;                      /* rows written */
    uint64_t bad;                       /* batches that did not decode */
    vg_block blk[VG_BATCH_MAX_CHANNEL]; /* decode scratch */
} spool_export;

/* Writes one value cell: shortest exact form, empty for NaN (missing). */
static void spool__cell(FILE *f, double v)
{
    char b[32];
    if (isnan(v)) {
        fputc('\n', f);
        return;
    }
    snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof b, "%.17g", v);
    fprintf(f, "%s\n", b);
}

/* Exports the matching samples of one batch. */
static void spool__export_row(void *user, uint64_t seq, int64_t rx_us, int sent, const uint8_t *b,
                              size_t len)
{
    spool_export *e = user;
    vg_samples s = {.block = e->blk, .block_cap = VG_BATCH_MAX_CHANNEL};
    (void)seq, (void)rx_us, (void)sent;
    if (vg_samples_decode(b, len, &s) != VG_OK) {
        e->bad++;
        return;
    }
    for (uint32_t k = 0; k < s.nblock; k++) {
        const vg_block *blk = &s.block[k];
        if (blk->name_len != strlen(e->chan) || memcmp(blk->name, e->chan, blk->name_len) != 0)
            continue;
        for (uint32_t i = 0; i < blk->n; i++) {
            int64_t t = vg_block_time(blk, s.t0_us, i);
            if (t < e->from || t >= e->to)
                continue;
            char ts[40];
            ctl_fmt_time(t, ts);
            ts[10] = ' ';
            ts[26] = '\0'; /* YYYY-MM-DD HH:MM:SS.ffffff: vigil-replay's input */
            fprintf(e->f, "%s,", ts);
            spool__cell(e->f, vg_block_value(blk, i));
            e->rows++;
        }
    }
}

/* Parses --from / --to (absent: open range). */
static int spool__time(const char *s, int64_t dflt, int64_t *t)
{
    *t = dflt;
    if (!s)
        return CTL_EXIT_OK;
    if (vg_csv_parse_time(s, strlen(s), t) != VG_OK) {
        fprintf(stderr,
                "vigilctl spool: bad time '%s' (epoch seconds or YYYY-MM-DD "
                "HH:MM:SS[.ffffff], UTC)\n",
                s);
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

/* --export: the channel's samples in [from, to) as CSV. */
static int spool__export(sqlite3 *db, const ctl_opts *o)
{
    static spool_export e;
    if (!o->channel) {
        fprintf(stderr, "vigilctl spool: --export needs --channel NAME\n");
        return CTL_EXIT_USAGE;
    }
    int rc = spool__time(o->from, INT64_MIN, &e.from);
    if (rc == CTL_EXIT_OK)
        rc = spool__time(o->to, INT64_MAX, &e.to);
    if (rc != CTL_EXIT_OK)
        return rc;
    e.f = strcmp(o->export_path, "-") == 0 ? stdout : fopen(o->export_path, "w");
    if (!e.f) {
        fprintf(stderr, "vigilctl spool: cannot write %s\n", o->export_path);
        return CTL_EXIT_FAIL;
    }
    e.chan = o->channel;
    fprintf(e.f, "timestamp,%s\n", o->channel);
    spool__rows(db, "SELECT seq, rx_us, sent, payload FROM record WHERE kind = ?1 ORDER BY seq",
                VG_ARCH_SAMPLES, spool__export_row, &e);
    int bad = ferror(e.f) || (e.f != stdout && fclose(e.f) != 0);
    fprintf(stderr, "vigilctl spool: exported %" PRIu64 " samples of %s%s\n", e.rows, o->channel,
            e.bad ? " (some batches did not decode)" : "");
    return bad ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

int ctl_cmd_spool(ctl_opts *o)
{
    char path[1024];
    sqlite3 *db = NULL;
    if ((o->channel || o->from || o->to) && !o->export_path) {
        fprintf(stderr, "vigilctl spool: --channel/--from/--to go with --export\n");
        return CTL_EXIT_USAGE;
    }
    int rc = spool__open(o->args[0], path, sizeof path, &db);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (o->export_path) {
        rc = spool__export(db, o);
        sqlite3_close(db);
        return rc;
    }
    static spool_report r;
    r.path = path;
    r.file_bytes = spool__fsize(path, "");
    r.wal_bytes = spool__fsize(path, "-wal");
    ctl_payload *p = ctl_payload_new();
    rc = p ? spool__gather(db, &r) : CTL_EXIT_FAIL;
    if (rc == CTL_EXIT_OK && o->json)
        spool__json(db, &r, p);
    else if (rc == CTL_EXIT_OK)
        spool__human(db, &r, p);
    if (rc == CTL_EXIT_INPUT)
        fprintf(stderr, "vigilctl spool: %s: %s\n", path, sqlite3_errmsg(db));
    ctl_payload_free(p);
    sqlite3_close(db);
    return rc;
}
