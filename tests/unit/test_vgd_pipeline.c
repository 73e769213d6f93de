/*
 * test_vgd_pipeline.c - vigild's pipeline on a real spool under /tmp with
 * a recording sink: sequence rules (duplicate, out of order), bad CBOR and
 * oversized payloads, NaN, unknown channels counted by reason; a trip runs
 * the local action (a sysfs write to a temp file), writes the latch,
 * spools the trip and publishes the retained shutdown; resets are refused
 * while the cause is present and clear the latch after; counters and the
 * latch are restored by a new pipeline on the same data dir.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "pipeline.h"
#include "vg_conf.h"
#include "vg_error.h"

struct rec {
    int n;           /* publishes */
    char last[32];   /* last suffix */
    size_t last_len; /* last payload length */
    int last_retain; /* last retain flag */
    int shutdowns;   /* non-empty cmd/shutdown */
    int clears;      /* empty retained cmd/shutdown */
};

static int rec_publish(void *user, const char *suffix, const void *buf, size_t len, int retain)
{
    struct rec *r = user;
    r->n++;
    snprintf(r->last, sizeof r->last, "%s", suffix);
    r->last_len = len;
    r->last_retain = retain;
    if (strcmp(suffix, "cmd/shutdown") == 0) {
        r->shutdowns += len > 0;
        r->clears += len == 0 && retain;
    }
    return VG_OK;
}

struct fixture {
    char dir[64];
    char gpio[96];
    vg_conf conf;
    vg_spool *spool;
    vgd_writer *w;
    vgd_model_mgr mm;
    vgd_action act;
    vgd_metrics met;
    struct rec rec;
    vgd_pipeline *p;
};

static void fx_open(struct fixture *f)
{
    char path[128], err[256];
    int rc;
    snprintf(path, sizeof path, "%s/spool.db", f->dir);
    vg_spool_opts so = {.commit_every = UINT32_MAX};
    CU_ASSERT_EQUAL_FATAL(vg_spool_open(path, &so, &f->spool, err, sizeof err), VG_OK);
    vgd_writer_opts wo = {0};
    f->w = vgd_writer_create(f->spool, &wo, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->w);
    CU_ASSERT_EQUAL_FATAL(vgd_model_init(&f->mm, "dev-1", f->dir, "", err, sizeof err), VG_OK);
    vgd_action_init(&f->act, "", 1000, f->gpio, "0");
    vgd_pipeline_deps d = {"dev-1", f->dir,  &f->conf.engine,       f->spool, f->w, &f->mm,
                           &f->act, &f->met, {&f->rec, rec_publish}};
    f->p = vgd_pipeline_create(&d, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->p);
}

static void fx_close(struct fixture *f)
{
    vgd_pipeline_destroy(f->p);
    vgd_model_free(&f->mm);
    CU_ASSERT_EQUAL(vgd_writer_destroy(f->w), VG_OK);
    vg_spool_close(f->spool);
}

static struct fixture *fx_new(void)
{
    static int counter;
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/vgd-pipe-%d-%d", (int)getpid(), ++counter);
    CU_ASSERT_EQUAL_FATAL(mkdir(f->dir, 0755), 0);
    snprintf(f->gpio, sizeof f->gpio, "%s/gpio", f->dir);
    FILE *g = fopen(f->gpio, "w");
    fputs("1", g);
    fclose(g);
    vg_conf_init(&f->conf);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "detect", "allow_unknown", "false"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.temp", "hi", "95"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.temp", "trip", "true"), VG_OK);
    fx_open(f);
    return f;
}

static void fx_free(struct fixture *f)
{
    char cmd[160];
    fx_close(f);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    free(f);
}

/* Encodes and feeds one single-channel batch; returns the status. */
static int feed(struct fixture *f, uint64_t seq, const char *chan, const double *v, uint32_t n)
{
    int64_t t[16];
    uint8_t buf[1024];
    size_t len;
    for (uint32_t i = 0; i < n; i++)
        t[i] = 1700000000000000 + (int64_t)seq * 1000000 + i * 1000;
    vg_column col = {chan, n, t, v};
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode("dev-1", seq, t[0], &col, 1, buf, sizeof buf, &len),
                          VG_OK);
    return vgd_pipeline_samples(f->p, buf, len, 1700000000000000 + (int64_t)seq * 1000000);
}

/* Trip records in the spool, after the writer's commit. */
static uint64_t trip_records(struct fixture *f)
{
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    return st.kind[VG_ARCH_TRIP].records;
}

/* Decodes the latch file into *sd; VG_EMISSING when there is none. */
static int read_latch(const struct fixture *f, vg_shutdown *sd)
{
    char path[128];
    uint8_t buf[512];
    snprintf(path, sizeof path, "%s/latched", f->dir);
    FILE *l = fopen(path, "rb");
    if (!l)
        return VG_EMISSING;
    size_t n = fread(buf, 1, sizeof buf, l);
    fclose(l);
    return vg_shutdown_decode(buf, n, sd);
}

static void test_sequence_rules(void)
{
    struct fixture *f = fx_new();
    double v[3] = {20, 21, 22};
    CU_ASSERT_EQUAL(feed(f, 0, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 5, "temp", v, 3), VG_OK); /* skips 1..4: a gap */
    CU_ASSERT_EQUAL(feed(f, 5, "temp", v, 3), VG_EDUP);
    CU_ASSERT_EQUAL(feed(f, 3, "temp", v, 3), VG_OK); /* a re-send filling the gap */
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 3, "temp", v, 3), VG_EORDER); /* committed: the gap closed there */
    CU_ASSERT_EQUAL(feed(f, 6, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(f->met.rejected[VG_EDUP], 1);
    /* the late batch is stored whole, but its samples are older than the
     * channel's newest: the engine refuses them (3 samples + 1 batch) */
    CU_ASSERT_EQUAL(f->met.rejected[VG_EORDER], 1 + 3);
    CU_ASSERT_EQUAL(f->met.batches_in, 4);
    CU_ASSERT_EQUAL(f->met.samples_in, 9);
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_stats ws;
    vgd_writer_stats_get(f->w, &ws);
    CU_ASSERT_EQUAL(ws.mark, 0); /* held below the gaps 1..2 and 4 */
    /* a restart restores the gaps from the holes in the spool */
    fx_close(f);
    fx_open(f);
    vgd_writer_stats_get(f->w, &ws);
    CU_ASSERT_EQUAL(ws.mark, 0);
    CU_ASSERT_EQUAL(feed(f, 4, "temp", v, 3), VG_OK); /* still accepted after the restart */
    CU_ASSERT_EQUAL(feed(f, 6, "temp", v, 3), VG_EDUP);
    CU_ASSERT_EQUAL(feed(f, 1, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 2, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_stats_get(f->w, &ws);
    CU_ASSERT_EQUAL(ws.mark, 6); /* every gap filled: the mark covers all */
    fx_free(f);
}

static void test_bad_input_counted(void)
{
    struct fixture *f = fx_new();
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    CU_ASSERT_EQUAL(vgd_pipeline_samples(f->p, junk, sizeof junk, 1), VG_EDECODE);
    static uint8_t big[VG_MSG_MAX_BYTES + 1];
    CU_ASSERT_EQUAL(vgd_pipeline_samples(f->p, big, sizeof big, 1), VG_ETOOBIG);
    double nanv[3] = {NAN, INFINITY, 20};
    CU_ASSERT_EQUAL(feed(f, 1, "temp", nanv, 3), VG_OK); /* batch ok, two samples refused */
    CU_ASSERT_EQUAL(f->met.rejected[VG_ENAN], 2);
    CU_ASSERT_EQUAL(f->met.samples_in, 1);
    double v[1] = {1};
    CU_ASSERT_EQUAL(feed(f, 2, "nosuch", v, 1), VG_OK);
    CU_ASSERT_EQUAL(f->met.rejected[VG_ECHANNEL], 1);
    CU_ASSERT_EQUAL(f->met.rejected[VG_EDECODE], 1);
    CU_ASSERT_EQUAL(f->met.rejected[VG_ETOOBIG], 1);
    CU_ASSERT_EQUAL(f->rec.n, 0); /* nothing published for bad input */
    fx_free(f);
}

static void test_trip_latch_reset_restore(void)
{
    struct fixture *f = fx_new();
    double hot[1] = {99}, cool[1] = {50};
    uint8_t buf[256];
    size_t len;
    CU_ASSERT_EQUAL(feed(f, 1, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(f->met.trips, 1);
    CU_ASSERT_EQUAL(f->rec.shutdowns, 1);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    /* latched before it was published; the waits are the caller's */
    char latch[128];
    snprintf(latch, sizeof latch, "%s/latched", f->dir);
    CU_ASSERT_EQUAL(access(latch, F_OK), 0);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 1);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 0); /* taken */
    CU_ASSERT_EQUAL(vgd_pipeline_sync(f->p), VG_OK);
    char gv[8] = {0};
    FILE *g = fopen(f->gpio, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_PTR_NOT_NULL(fgets(gv, sizeof gv, g));
    fclose(g);
    CU_ASSERT_STRING_EQUAL(gv, "0"); /* the local action wrote the GPIO value */
    vg_reset r = {.device = "dev-1", .operator_id = "op"};
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reset(f->p, buf, len, 2), VG_EACTIVE);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    /* a restart keeps the latch and the trip counter */
    fx_close(f);
    memset(&f->rec, 0, sizeof f->rec);
    fx_open(f);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(feed(f, 1, "temp", cool, 1), VG_EDUP); /* seq restored from the spool */
    CU_ASSERT_EQUAL(feed(f, 2, "temp", cool, 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reset(f->p, buf, len, 3), VG_OK);
    CU_ASSERT_FALSE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(f->rec.clears, 1);
    CU_ASSERT_EQUAL(feed(f, 3, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(f->met.trips, 2); /* the metrics struct outlived the restart */
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_TRIP].records, 2); /* trip ids 1 and 2 in the spool */
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_SAMPLES].records, 3);
    fx_free(f);
}

/* Two trips before the caller syncs (one batch, two channels): both
 * records reach the spool, the latch file holds the last trip, and one
 * sync makes both durable. */
static void test_two_trips_one_sync(void)
{
    struct fixture *f = fx_new();
    fx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.press", "hi", "5"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.press", "trip", "true"), VG_OK);
    fx_open(f);
    double hot[1] = {99}, high[1] = {7};
    CU_ASSERT_EQUAL(feed(f, 1, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 2, "press", high, 1), VG_OK);
    CU_ASSERT_EQUAL(f->rec.shutdowns, 2);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 1);
    CU_ASSERT_EQUAL(vgd_pipeline_sync(f->p), VG_OK);
    CU_ASSERT_EQUAL(trip_records(f), 2);
    vg_shutdown sd;
    CU_ASSERT_EQUAL_FATAL(read_latch(f, &sd), VG_OK);
    CU_ASSERT_EQUAL(sd.trip_id, 2);
    CU_ASSERT_STRING_EQUAL(sd.channel, "press");
    fx_free(f);
}

/* A reset handled before the caller synced the trip: the latch file is
 * removed (and the sync then does not fail on it), the record committed
 * and the retained shutdown cleared once. */
static void test_reset_before_sync(void)
{
    struct fixture *f = fx_new();
    double hot[1] = {99}, cool[1] = {50};
    uint8_t buf[256];
    size_t len;
    CU_ASSERT_EQUAL(feed(f, 1, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 2, "temp", cool, 1), VG_OK);
    vg_reset r = {.device = "dev-1", .operator_id = "op"};
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reset(f->p, buf, len, 3), VG_OK);
    vg_shutdown sd;
    CU_ASSERT_EQUAL(read_latch(f, &sd), VG_EMISSING);
    CU_ASSERT_EQUAL(f->rec.clears, 1);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 1);
    CU_ASSERT_EQUAL(vgd_pipeline_sync(f->p), VG_OK);
    CU_ASSERT_EQUAL(trip_records(f), 1);
    fx_free(f);
}

/* A SIGKILL between the shutdown's publish and the trip record's commit
 * leaves the latch file without the record: the next start records it
 * from the latch file. */
static void test_trip_recorded_from_latch(void)
{
    struct fixture *f = fx_new();
    fx_close(f);
    vg_shutdown sd = {.device = "dev-1", .channel = "temp", .trip_id = 1, .t_us = 1700000000000000};
    snprintf(sd.reason, sizeof sd.reason, "limit: outside [-inf, 95]");
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_encode(&sd, buf, sizeof buf, &len), VG_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/latched", f->dir);
    FILE *l = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(fwrite(buf, 1, len, l), len);
    fclose(l);
    fx_open(f);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(trip_records(f), 1);
    /* a second start finds it in the spool: not recorded twice */
    fx_close(f);
    fx_open(f);
    CU_ASSERT_EQUAL(trip_records(f), 1);
    fx_free(f);
}

int init_vgd_pipeline_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_pipeline", NULL, NULL);
    if (!s || !CU_add_test(s, "sequence rules", test_sequence_rules) ||
        !CU_add_test(s, "bad input counted", test_bad_input_counted) ||
        !CU_add_test(s, "trip, latch, reset, restore", test_trip_latch_reset_restore) ||
        !CU_add_test(s, "two trips before one sync", test_two_trips_one_sync) ||
        !CU_add_test(s, "reset before the sync", test_reset_before_sync) ||
        !CU_add_test(s, "trip recorded from the latch", test_trip_recorded_from_latch))
        return CU_get_error();
    return 0;
}
