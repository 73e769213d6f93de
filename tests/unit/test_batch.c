/*
 * test_batch.c - vigil-batch's library on real SQLite files under /tmp:
 * warehouse idempotency and the locked-writer message, spool import (real
 * spool files made with agent/spool.h, re-import, corrupt records, wrong
 * schema), the shard hash, retrain determinism and shard equivalence,
 * signatures checked by the core's verifier, guardrail hold-back, and the
 * report's content.
 *
 * Files are /tmp/vg-batch-<pid>-<n>.* and directories of that name,
 * removed by the suite's cleanup.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sqlite3.h>

#include "backtest.h"
#include "import.h"
#include "ingest.h"
#include "outfile.h"
#include "publish.h"
#include "report.h"
#include "retrain.h"
#include "shard.h"
#include "spool.h"
#include "test_util.h"
#include "vg_bundle.h"
#include "vg_error.h"
#include "warehouse.h"

#define T0 1700000000000000LL /* first sample, epoch us */

/* A fresh path /tmp/vg-batch-<pid>-<n><suffix> in buf (size 96). */
static const char *tpath(char *buf, const char *suffix)
{
    static int counter; /* unique names within this process */
    snprintf(buf, 96, "/tmp/vg-batch-%d-%d%s", (int)getpid(), ++counter, suffix);
    return buf;
}

/* Removes a path recursively (test scratch only). */
static void rm_rf(const char *p)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-wal' '%s-shm'", p, p, p);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Encodes a samples batch of `nch` channels x n samples for `dev`, seq,
 * starting at sample index `start` (1 s apart), values mean + N(0, sd). */
static size_t make_batch(const char *dev, uint64_t seq, uint32_t nch, uint32_t n, int64_t start,
                         double sd, uint64_t *rng, uint8_t *buf, size_t cap)
{
    static const char *const names[] = {"temp", "vib", "pres"};
    static int64_t t[3][512];
    static double v[3][512];
    vg_column col[3];
    for (uint32_t c = 0; c < nch; c++) {
        for (uint32_t i = 0; i < n; i++) {
            t[c][i] = T0 + (start + i) * 1000000LL;
            v[c][i] = 20 + 10 * c + sd * vg_test_normal(rng);
        }
        col[c] = (vg_column){names[c], n, t[c], v[c]};
    }
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode(dev, seq, t[0][0], col, nch, buf, cap, &len), VG_OK);
    return len;
}

/* Fills warehouse `path` with `ndev` devices x `nb` batches of 3 x 256
 * samples through the ingest path (device i has noise sd 1 + i / 4). */
static void fill_warehouse(const char *path, int ndev, int nb)
{
    static uint8_t buf[64 * 1024];
    char err[256];
    vb_wh *w = NULL;
    CU_ASSERT_EQUAL_FATAL(vb_wh_open(path, NULL, &w, err, sizeof err), VG_OK);
    vb_ingest *g = vb_ingest_create(w, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    uint64_t rng = 42;
    CU_ASSERT_EQUAL(vb_wh_begin(w), VG_OK);
    for (int d = 0; d < ndev; d++) {
        char dev[16];
        snprintf(dev, sizeof dev, "dev-%02d", d);
        for (int b = 0; b < nb; b++) {
            size_t len = make_batch(dev, (uint64_t)b, 3, 256, (int64_t)b * 256, 1 + d / 4.0, &rng,
                                    buf, sizeof buf);
            vg_archive_item it = {
                .kind = VG_ARCH_SAMPLES, .seq = (uint64_t)b, .payload = buf, .len = len};
            CU_ASSERT_EQUAL(vb_ingest_record(g, dev, &it, NULL), VG_OK);
        }
    }
    CU_ASSERT_EQUAL(vb_wh_commit(w), VG_OK);
    vb_ingest_destroy(g);
    vb_wh_close(w);
}

/* Opens a warehouse, asserting success. */
static vb_wh *open_wh(const char *path, int readonly)
{
    char err[256];
    vb_wh *w = NULL;
    vb_wh_opts o = {.readonly = readonly, .busy_timeout_ms = 100};
    CU_ASSERT_EQUAL(vb_wh_open(path, &o, &w, err, sizeof err), VG_OK);
    return w;
}

static void test_warehouse_idempotent(void)
{
    char p[96];
    tpath(p, ".db");
    fill_warehouse(p, 2, 4);
    fill_warehouse(p, 2, 4); /* the same batches again: nothing new */
    vb_wh *w = open_wh(p, 0);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT count(*) FROM batches"), 8);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT count(*) FROM samples"), 24);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT sum(n) FROM samples"), 2 * 4 * 3 * 256);
    int64_t dev;
    int fresh = -1;
    CU_ASSERT_EQUAL(vb_wh_begin(w), VG_OK);
    CU_ASSERT_EQUAL(vb_wh_device_id(w, "dev-00", &dev), VG_OK);
    CU_ASSERT_EQUAL(vb_wh_claim(w, dev, VG_ARCH_SAMPLES, 3, 0, 0, &fresh), VG_OK);
    CU_ASSERT_EQUAL(fresh, 0);
    CU_ASSERT_EQUAL(vb_wh_claim(w, dev, VG_ARCH_SAMPLES, 99, 0, 0, &fresh), VG_OK);
    CU_ASSERT_EQUAL(fresh, 1);
    vb_wh_rollback(w);
    /* a second writer is refused with a clear message, nothing is lost */
    vb_wh *w2 = open_wh(p, 0);
    CU_ASSERT_EQUAL(vb_wh_begin(w), VG_OK);
    CU_ASSERT_EQUAL(vb_wh_begin(w2), VG_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(vb_wh_errmsg(w2), "locked by another writer"));
    CU_ASSERT_EQUAL(vb_wh_commit(w), VG_OK);
    CU_ASSERT_EQUAL(vb_wh_scalar(w2, "SELECT sum(n) FROM samples"), 2 * 4 * 3 * 256);
    vb_wh_close(w2);
    vb_wh_close(w);
    rm_rf(p);
}

static void test_warehouse_wrong_file(void)
{
    char p[96], err[256];
    vb_wh *w = NULL;
    tpath(p, ".db");
    sqlite3 *db;
    sqlite3_open(p, &db);
    sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    CU_ASSERT_EQUAL(vb_wh_open(p, NULL, &w, err, sizeof err), VG_ESCHEMA);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a vigil-batch warehouse"));
    rm_rf(p);
}

/* Writes a spool for `dev`: nb sample batches, one corrupt record, one
 * alert. */
static void make_spool(const char *path, const char *dev, int nb)
{
    static uint8_t buf[64 * 1024];
    char err[256];
    vg_spool *s = NULL;
    uint64_t rng = 7;
    CU_ASSERT_EQUAL_FATAL(vg_spool_open(path, NULL, &s, err, sizeof err), VG_OK);
    for (int b = 0; b < nb; b++) {
        size_t len =
            make_batch(dev, (uint64_t)b, 2, 100, (int64_t)b * 100, 1, &rng, buf, sizeof buf);
        CU_ASSERT_EQUAL(vg_spool_append(s, VG_ARCH_SAMPLES, (uint64_t)b, 1, T0, buf, len), VG_OK);
    }
    CU_ASSERT_EQUAL(vg_spool_append(s, VG_ARCH_SAMPLES, (uint64_t)nb, 1, T0, "junk", 4), VG_OK);
    vg_alert a = {.raised = 1, .detector = VG_DET_ZSCORE, .t_us = T0, .value = 5, .score = 0.8};
    snprintf(a.device, sizeof a.device, "%s", dev);
    snprintf(a.channel, sizeof a.channel, "temp");
    size_t len;
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, VG_ARCH_ALERT, 0, 1, T0, buf, len), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
}

static void test_import(void)
{
    char sp[96], p[96], err[512];
    tpath(sp, ".spool");
    tpath(p, ".db");
    make_spool(sp, "pump-7", 30);
    vb_wh *w = open_wh(p, 0);
    vb_ingest *g = vb_ingest_create(w, NULL);
    CU_ASSERT_EQUAL(vb_import_spool(g, w, sp, NULL, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(vb_ingest_stats_get(g)->records_new, 31);
    CU_ASSERT_EQUAL(vb_ingest_stats_get(g)->rejected[VB_REJ_DECODE], 1);
    CU_ASSERT_EQUAL(vb_import_spool(g, w, sp, NULL, err, sizeof err), VG_OK); /* again */
    CU_ASSERT_EQUAL(vb_ingest_stats_get(g)->records_new, 31);
    CU_ASSERT_EQUAL(vb_ingest_stats_get(g)->records_dup, 31);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT sum(n) FROM samples"), 30 * 2 * 100);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT count(*) FROM alerts"), 1);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT n FROM rejects WHERE reason = 'decode'"), 2);
    CU_ASSERT_EQUAL(vb_wh_scalar(w, "SELECT count(*) FROM devices WHERE name = 'pump-7'"), 1);
    /* the warehouse itself is not a spool: refused by name, nothing written */
    CU_ASSERT_EQUAL(vb_import_spool(g, w, p, NULL, err, sizeof err), VG_ESCHEMA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a vigil spool"));
    /* a spool claiming another device refuses every record as "device" */
    CU_ASSERT_EQUAL(vb_import_spool(g, w, sp, "other-1", err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(vb_ingest_stats_get(g)->rejected[VB_REJ_DEVICE], 31);
    vb_ingest_destroy(g);
    vb_wh_close(w);
    rm_rf(sp);
    rm_rf(p);
}

static void test_shard(void)
{
    CU_ASSERT_EQUAL(vb_shard_hash(""), 0xcbf29ce484222325ull);
    CU_ASSERT_EQUAL(vb_shard_hash("a"), 0xaf63dc4c8601ec8cull);
    vb_shard sh;
    CU_ASSERT_EQUAL(vb_shard_parse("2/5", &sh), VG_OK);
    CU_ASSERT_EQUAL(sh.i, 2);
    CU_ASSERT_EQUAL(sh.n, 5);
    CU_ASSERT_EQUAL(vb_shard_parse("5/5", &sh), VG_EINVAL);
    CU_ASSERT_EQUAL(vb_shard_parse("1/x", &sh), VG_ESYNTAX);
    for (int d = 0; d < 200; d++) {
        char dev[16];
        snprintf(dev, sizeof dev, "sim-%d", d);
        int owners = 0;
        for (uint32_t i = 0; i < 7; i++) {
            vb_shard s = {i, 7};
            owners += vb_shard_owns(&s, dev);
        }
        CU_ASSERT_EQUAL(owners, 1);
    }
}

/* Runs retrain over `wh` into `dir` with shard i/n, signing with sk. */
static int retrain(const char *wh, const char *dir, uint32_t i, uint32_t n, const uint8_t *sk,
                   vb_retrain_stats *st)
{
    static vg_conf conf;
    char err[512];
    vg_conf_init(&conf);
    vb_retrain_opts o;
    vb_retrain_opts_init(&o);
    o.out_dir = dir;
    o.sign_key = sk;
    o.shard = (vb_shard){i, n};
    o.conf = &conf;
    vb_wh *w = open_wh(wh, 1);
    int rc = vb_retrain_run(w, &o, st, err, sizeof err);
    vb_wh_close(w);
    return rc;
}

/* True when files dir1/name and dir2/name have the same bytes. */
static int same_file(const char *d1, const char *d2, const char *name)
{
    char a[256], b[256];
    uint8_t *x = NULL, *y = NULL;
    size_t lx = 0, ly = 0;
    snprintf(a, sizeof a, "%s/%s", d1, name);
    snprintf(b, sizeof b, "%s/%s", d2, name);
    int ok = vb_read_file(a, 1 << 20, &x, &lx) == VG_OK &&
             vb_read_file(b, 1 << 20, &y, &ly) == VG_OK && lx == ly && memcmp(x, y, lx) == 0;
    free(x);
    free(y);
    return ok;
}

static void test_retrain_determinism_and_shards(void)
{
    char p[96], d1[96], d2[96], ds[96];
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES];
    CU_ASSERT_EQUAL_FATAL(vg_keygen(pk, sk), VG_OK);
    tpath(p, ".db");
    tpath(d1, ".out");
    tpath(d2, ".out");
    tpath(ds, ".out");
    fill_warehouse(p, 6, 20);
    vb_retrain_stats st;
    CU_ASSERT_EQUAL(retrain(p, d1, 0, 1, sk, &st), VG_OK);
    CU_ASSERT_EQUAL(st.devices, 6);
    CU_ASSERT_EQUAL(st.publish + st.held, 6);
    CU_ASSERT_EQUAL(retrain(p, d2, 0, 1, sk, &st), VG_OK);
    uint32_t devs = 0;
    for (uint32_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(retrain(p, ds, i, 3, sk, &st), VG_OK);
        devs += st.devices;
    }
    CU_ASSERT_EQUAL(devs, 6);
    CU_ASSERT_TRUE(same_file(d1, d2, "manifest.json"));
    for (int d = 0; d < 6; d++) {
        char dev[16], name[32], path[200];
        snprintf(dev, sizeof dev, "dev-%02d", d);
        snprintf(path, sizeof path, "%s/%s.bundle", d1, dev);
        int held = access(path, F_OK) != 0;
        snprintf(name, sizeof name, "%s%s.bundle", held ? "held/" : "", dev);
        CU_ASSERT_TRUE(same_file(d1, d2, name));
        CU_ASSERT_TRUE(same_file(d1, ds, name));
        /* the core's verifier accepts it; one flipped byte is refused */
        uint8_t *b = NULL;
        size_t len = 0;
        static vg_model m;
        snprintf(path, sizeof path, "%s/%s", d1, name);
        CU_ASSERT_EQUAL_FATAL(vb_read_file(path, 1 << 20, &b, &len), VG_OK);
        CU_ASSERT_EQUAL(vg_bundle_open(b, len, pk, dev, 0, &m), VG_OK);
        CU_ASSERT_EQUAL(m.version, 1);
        CU_ASSERT_EQUAL(m.nchan, 3);
        CU_ASSERT_EQUAL(m.created_us, m.train_to_us);
        /* the multivariate part over the three aligned channels, by name */
        CU_ASSERT_EQUAL(m.mvar.p, 3);
        CU_ASSERT_STRING_EQUAL(m.mvar.name[0], "pres");
        CU_ASSERT_TRUE(fabs(m.mvar.loc[1] - 20) < 0.5); /* temp: mean 20 */
        b[len - 10] ^= 1;
        CU_ASSERT_EQUAL(vg_bundle_open(b, len, pk, NULL, 0, &m), VG_ESIG);
        free(b);
    }
    rm_rf(p);
    rm_rf(d1);
    rm_rf(d2);
    rm_rf(ds);
}

static void test_guardrail(void)
{
    static vg_conf conf;
    static vg_model cur, cand;
    vg_conf_init(&conf);
    vb_series s = {0};
    s.cap = s.n = 20000;
    s.t = malloc(s.n * sizeof *s.t);
    s.v = malloc(s.n * sizeof *s.v);
    uint64_t rng = 3;
    for (size_t i = 0; i < s.n; i++) {
        s.t[i] = T0 + (int64_t)i * 1000000;
        s.v[i] = vg_test_normal(&rng);
    }
    memset(&cur, 0, sizeof cur);
    snprintf(cur.device, sizeof cur.device, "g-1");
    cur.version = 1;
    cur.nchan = 1;
    vg_chan_model_clear(&cur.chan[0], "temp");
    cur.chan[0].loc = 0;
    cur.chan[0].scale = 1;
    cur.chan[0].z_thr = 6;
    cand = cur;
    cand.version = 2;
    /* far too tight: a change of under 1 sigma counts as "no change", two
     * in a row as stuck: alerts come and go all over.  (A too-tight
     * loc/scale no longer does: beside the adaptive detector a fitted
     * reference retires after its first lasting excursion.) */
    cand.chan[0].stuck_eps = 1.0;
    cand.chan[0].stuck_n = 2;
    vb_bt_channel ch = {"temp", &s};
    vb_intervals lab = {0};
    vb_guard g;
    vb_guard_init(&g);
    vb_bt_result r;
    CU_ASSERT_EQUAL(vb_backtest(&conf, &ch, 1, &cur, &cand, &lab, 0, &g, &r), VG_OK);
    CU_ASSERT_TRUE(r.cand.alerts > 10 * (r.cur.alerts + 1));
    CU_ASSERT_EQUAL(r.held, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "alert rate"));
    /* the same candidate against itself passes */
    CU_ASSERT_EQUAL(vb_backtest(&conf, &ch, 1, &cand, &cand, &lab, 0, &g, &r), VG_OK);
    CU_ASSERT_EQUAL(r.held, 0);
    CU_ASSERT_EQUAL(r.cand.alerts, r.cur.alerts);
    vb_series_free(&s);
}

static void test_report(void)
{
    char p[96], d[96], html[128], json[128];
    tpath(p, ".db");
    tpath(d, ".out");
    fill_warehouse(p, 2, 10);
    vb_retrain_stats st;
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES];
    CU_ASSERT_EQUAL_FATAL(vg_keygen(pk, sk), VG_OK);
    CU_ASSERT_EQUAL(retrain(p, d, 0, 1, sk, &st), VG_OK);
    vb_wh *w = open_wh(p, 0);
    vb_pub_list l;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(vb_pub_load(d, NULL, pk, w, &l, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(l.n, 2);
    for (size_t i = 0; i < l.n; i++)
        CU_ASSERT_EQUAL(vb_pub_record(w, &l.item[i]), VG_OK);
    vb_pub_free(&l);
    snprintf(html, sizeof html, "%s/r.html", d);
    snprintf(json, sizeof json, "%s/r.json", d);
    vb_report_opts o = {.html_path = html, .recent_hours = 1, .width = 300};
    CU_ASSERT_EQUAL(vb_report_write(w, &o, err, sizeof err), VG_OK);
    vb_wh_close(w);
    uint8_t *b = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vb_read_file(html, 1 << 24, &b, &len), VG_OK);
    b[len] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "<svg"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "dev-01 / vib"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "new threshold"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "Held-back candidates"));
    /* self-contained: no scripts, stylesheets, images or frames to fetch */
    CU_ASSERT_PTR_NULL(strstr((char *)b, "<script"));
    CU_ASSERT_PTR_NULL(strstr((char *)b, "<link"));
    CU_ASSERT_PTR_NULL(strstr((char *)b, "src="));
    free(b);
    CU_ASSERT_EQUAL_FATAL(vb_read_file(json, 1 << 24, &b, &len), VG_OK);
    b[len] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "\"device_count\": 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)b, "\"version\": 1"));
    free(b);
    rm_rf(p);
    rm_rf(d);
}

int init_batch_tests(void)
{
    CU_pSuite s = CU_add_suite("batch", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "warehouse idempotent, locked writer", test_warehouse_idempotent);
    CU_add_test(s, "warehouse refuses foreign files", test_warehouse_wrong_file);
    CU_add_test(s, "import spool, re-import, bad records", test_import);
    CU_add_test(s, "shard hash and partition", test_shard);
    CU_add_test(s, "retrain determinism, shards, signatures", test_retrain_determinism_and_shards);
    CU_add_test(s, "guardrail hold-back", test_guardrail);
    CU_add_test(s, "report content", test_report);
    return CU_get_error();
}
