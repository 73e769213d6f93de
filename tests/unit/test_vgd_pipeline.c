/*
 * test_vgd_pipeline.c - vigild's pipeline on a real spool under /tmp with
 * a recording sink: sequence rules (duplicate, out of order), bad CBOR and
 * oversized payloads, NaN, unknown channels counted by reason; a trip runs
 * the local action (a sysfs write to a temp file), writes the latch,
 * spools the trip and publishes the retained shutdown; resets are refused
 * while the cause is present and clear the latch after; counters and the
 * latch are restored by a new pipeline on the same data dir.
 *
 * The multivariate part (pipe__mvar): bundles signed with a real Ed25519
 * key whose vg_model carries a vg_mvar_fit model of three correlated
 * channels are applied through vgd_pipeline_model; correlated batches stay
 * quiet, a decoupled channel raises one alert of channel "mvar" (decoded
 * from what was published) that clears later, a new model version restarts
 * the detector (its alert state with it), a model without a multivariate
 * part stops it, and a real out-of-memory (RLIMIT_AS with the heap used
 * up) skips it until memory is back.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "pipeline.h"
#include "vg_conf.h"
#include "vg_error.h"
#include "vg_hex.h"
#include "vg_mvar.h"

struct rec {
    int n;           /* publishes */
    char last[32];   /* last suffix */
    size_t last_len; /* last payload length */
    int last_retain; /* last retain flag */
    int shutdowns;   /* non-empty cmd/shutdown */
    int clears;      /* empty retained cmd/shutdown */
    int mv_raised;   /* decoded alerts of channel "mvar", raised */
    int mv_cleared;  /* ... and cleared */
    int mv_bad;      /* "mvar" alerts with another detector or device */
    vg_alert mv;     /* the last "mvar" alert */
    char edges[128]; /* every alert edge in order: "chan+ " raised, "chan- " cleared */
};

/* Decodes an alert payload; counts the ones of channel "mvar". */
static void rec_alert(struct rec *r, const void *buf, size_t len)
{
    vg_alert a;
    if (vg_alert_decode(buf, len, &a) != VG_OK)
        return;
    size_t used = strlen(r->edges);
    snprintf(r->edges + used, sizeof r->edges - used, "%s%c ", a.channel, a.raised ? '+' : '-');
    if (strcmp(a.channel, "mvar") != 0)
        return;
    r->mv = a;
    r->mv_raised += a.raised;
    r->mv_cleared += !a.raised;
    r->mv_bad += a.detector != VG_DET_MVAR || strcmp(a.device, "dev-1") != 0;
}

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
    if (strcmp(suffix, "alerts") == 0)
        rec_alert(r, buf, len);
    return VG_OK;
}

struct fixture {
    char dir[64];
    char gpio[96];
    char key[96]; /* trust key file, "" = none (every bundle refused) */
    vg_conf conf;
    vg_spool *spool;
    vgd_writer *w;
    vgd_model_mgr mm;
    vgd_action act;
    vgd_metrics met;
    struct rec rec;
    vgd_pipeline *p;
    uint64_t mv_seq; /* last seq fed by mv_feed */
    uint32_t mv_row; /* next row index of mv_row */
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
    CU_ASSERT_EQUAL_FATAL(vgd_model_init(&f->mm, "dev-1", f->dir, f->key, err, sizeof err), VG_OK);
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

/* An alert the previous run left raised is cleared after a restart: just
 * before the channel's next edge, or on the first connect; once. */
static void test_stale_alerts_cleared(void)
{
    struct fixture *f = fx_new();
    fx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.load", "hi", "5"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.flow", "hi", "5"), VG_OK);
    fx_open(f);
    double high[1] = {7}, ok[1] = {1};
    CU_ASSERT_EQUAL(feed(f, 1, "load", high, 1), VG_OK);
    CU_ASSERT_EQUAL(feed(f, 2, "flow", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ flow+ ");
    fx_close(f); /* both raised at the "restart" */
    memset(&f->rec, 0, sizeof f->rec);
    fx_open(f);
    CU_ASSERT_EQUAL(feed(f, 3, "load", ok, 1), VG_OK); /* a fresh detector: no edge */
    CU_ASSERT_EQUAL(feed(f, 4, "load", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ "); /* the old one first */
    vgd_pipeline_on_connect(f->p);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ flow- ");
    vgd_pipeline_on_connect(f->p); /* once */
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ flow- ");
    CU_ASSERT_EQUAL(f->met.alerts_cleared, 2);
    fx_close(f); /* only load is left raised now */
    memset(&f->rec, 0, sizeof f->rec);
    fx_open(f);
    vgd_pipeline_on_connect(f->p);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- ");
    fx_free(f);
}

/* A SIGHUP with new detection settings replaces the engine: the alerts its
 * detectors held are cleared at once, and raised again by the new ones. */
static void test_reconfigure_clears_alerts(void)
{
    struct fixture *f = fx_new();
    fx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.load", "hi", "5"), VG_OK);
    fx_open(f);
    double high[1] = {7};
    CU_ASSERT_EQUAL(feed(f, 1, "load", high, 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reconfigure(f->p, &f->conf.engine), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- ");
    CU_ASSERT_EQUAL(feed(f, 2, "load", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- load+ ");
    vgd_pipeline_on_connect(f->p); /* nothing stale left */
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- load+ ");
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

/* ---- the multivariate part ---- */

#define MV_P     3   /* channels a, b, c */
#define MV_TRAIN 600 /* training rows */
#define MV_ROWS  20  /* rows per batch */
#define MV_T0    1700000000000000

static uint8_t mv_pk[VG_PK_BYTES], mv_sk[VG_SK_BYTES];

/* Row i: three channels following one latent sine (period 50 rows) around
 * their means, b = 2 a and c = -a, plus deterministic noise of +-0.1;
 * decoupled, c follows +a instead (same range, so no univariate detector
 * sees it: only the correlation breaks). */
static void mv_row(uint32_t i, int decoupled, double *x)
{
    static const double mean[MV_P] = {10, 20, 30}, gain[MV_P] = {1, 2, -1};
    double l = 3 * sin(6.283185307179586 * i / 50.0);
    for (uint32_t j = 0; j < MV_P; j++) {
        uint32_t h = (i * 2654435761u) ^ (j * 40503u + 1);
        h ^= h >> 15;
        h *= 2246822519u;
        h ^= h >> 13;
        double noise = ((double)(h & 0xffff) / 65535.0 - 0.5) * 0.2;
        double g = j == 2 && decoupled ? -gain[j] : gain[j];
        x[j] = mean[j] + g * l + noise;
    }
}

/* Fits the multivariate part from rows 0..MV_TRAIN (default options). */
static void mv_fit(vg_mvar_model *out)
{
    static const char *const names[MV_P] = {"a", "b", "c"};
    static double x[MV_TRAIN * MV_P], scratch[2 * MV_TRAIN];
    vg_mvar_opts o;
    for (uint32_t i = 0; i < MV_TRAIN; i++)
        mv_row(i, 0, x + i * MV_P);
    vg_mvar_opts_init(&o);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names, MV_P, x, MV_TRAIN, scratch, &o, out), VG_OK);
    CU_ASSERT_EQUAL(out->p, MV_P);
}

/* Signs a dev-1 bundle of version ver (with the fitted multivariate part
 * when mv) with mv_sk and offers it through vgd_pipeline_model. */
static int mv_apply(struct fixture *f, uint64_t ver, int mv)
{
    static vg_model m;
    static uint8_t b[VG_BUNDLE_MAX_BYTES];
    size_t len = 0;
    memset(&m, 0, sizeof m);
    snprintf(m.device, sizeof m.device, "dev-1");
    m.version = ver;
    m.created_us = 1;
    if (mv)
        mv_fit(&m.mvar);
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, mv_sk, b, sizeof b, &len), VG_OK);
    return vgd_pipeline_model(f->p, b, len, MV_T0);
}

/* A fixture trusting mv_pk, with channels a, b and c configured. */
static struct fixture *mv_fx(void)
{
    static const char *const chan[MV_P] = {"channel.a", "channel.b", "channel.c"};
    char hex[2 * VG_PK_BYTES + 1];
    struct fixture *f = fx_new();
    fx_close(f);
    snprintf(f->key, sizeof f->key, "%s/pk", f->dir);
    vg_hex_encode(mv_pk, VG_PK_BYTES, hex);
    FILE *k = fopen(f->key, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    fputs(hex, k);
    fclose(k);
    for (uint32_t j = 0; j < MV_P; j++)
        CU_ASSERT_EQUAL(vg_conf_set(&f->conf, chan[j], "hi", "1000"), VG_OK);
    fx_open(f);
    return f;
}

/* Feeds nb batches of MV_ROWS rows of a, b and c (one block each). */
static void mv_feed(struct fixture *f, int decoupled, int nb)
{
    for (int b = 0; b < nb; b++) {
        int64_t t[MV_ROWS];
        double v[MV_P][MV_ROWS], x[MV_P];
        uint8_t buf[4096];
        size_t len;
        uint64_t seq = ++f->mv_seq;
        for (uint32_t i = 0; i < MV_ROWS; i++) {
            mv_row(MV_TRAIN + f->mv_row++, decoupled, x);
            t[i] = MV_T0 + (int64_t)seq * 1000000 + i * 1000;
            for (uint32_t j = 0; j < MV_P; j++)
                v[j][i] = x[j];
        }
        vg_column col[MV_P] = {
            {"a", MV_ROWS, t, v[0]}, {"b", MV_ROWS, t, v[1]}, {"c", MV_ROWS, t, v[2]}};
        CU_ASSERT_EQUAL_FATAL(
            vg_samples_encode("dev-1", seq, t[0], col, MV_P, buf, sizeof buf, &len), VG_OK);
        CU_ASSERT_EQUAL(vgd_pipeline_samples(f->p, buf, len, MV_T0 + (int64_t)seq * 1000000),
                        VG_OK);
    }
}

/* Checks the last "mvar" alert published: raised or cleared, its model. */
static void mv_check_last(const struct fixture *f, int raised, uint64_t ver)
{
    const vg_alert *a = &f->rec.mv;
    CU_ASSERT_STRING_EQUAL(a->channel, "mvar");
    CU_ASSERT_STRING_EQUAL(a->device, "dev-1");
    CU_ASSERT_EQUAL(a->detector, VG_DET_MVAR);
    CU_ASSERT_EQUAL(a->raised, raised);
    CU_ASSERT_EQUAL(a->model_version, ver);
    CU_ASSERT_TRUE(a->seq >= 1 && a->seq <= f->mv_seq); /* a batch fed */
    CU_ASSERT_EQUAL(f->rec.mv_bad, 0);
    if (raised)
        CU_ASSERT_TRUE(a->score >= 0.5);
}

/* Applied through vgd_pipeline_model: correlated batches stay quiet, a
 * decoupled channel raises one "mvar" alert, correlated rows clear it. */
static void test_mvar_alert_clears(void)
{
    struct fixture *f = mv_fx();
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 1, 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_model_version(f->p), 1);
    mv_feed(f, 0, 15); /* 300 rows, 6 periods */
    CU_ASSERT_EQUAL(f->rec.mv_raised + f->rec.mv_cleared, 0);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1); /* within the first decoupled batch */
    mv_check_last(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv.seq, f->mv_seq);
    int64_t first = MV_T0 + (int64_t)f->mv_seq * 1000000;
    CU_ASSERT_TRUE(f->rec.mv.t_us >= first && f->rec.mv.t_us < first + MV_ROWS * 1000);
    mv_feed(f, 1, 4); /* stays raised: one edge only */
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 0);
    mv_feed(f, 0, 5);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 1); /* EWMA back under the limit */
    mv_check_last(f, 0, 1);
    mv_feed(f, 0, 10);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 1);
    CU_ASSERT_EQUAL(f->met.alerts_raised, (uint64_t)f->rec.mv_raised); /* no univariate alert */
    CU_ASSERT_EQUAL(f->met.rejected[VG_ECHANNEL], 0);
    /* both edges spooled */
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_ALERT].records, 2);
    fx_free(f);
}

/* A new model version restarts the detector: the alert it held is cleared
 * (score 0) before the new one scores, so a decoupled batch right after
 * the change clears and raises again; a model without a multivariate part
 * stops it (its alert cleared too, nothing raised after); one with a part
 * again restarts it.  A restart also follows a pipeline restart with the
 * model restored from the data dir. */
static void test_mvar_model_change(void)
{
    struct fixture *f = mv_fx();
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 1, 1), VG_OK);
    mv_feed(f, 0, 5);
    mv_feed(f, 1, 2);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1);
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 2, 1), VG_OK);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 0); /* nothing before the next batch */
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 1); /* the restart's clear... */
    CU_ASSERT_EQUAL(f->rec.mv_raised, 2);  /* ...then the new state's raise */
    mv_check_last(f, 1, 2);
    /* the restarted state is quiet on correlated rows after its clear */
    mv_feed(f, 0, 10);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 2);
    mv_check_last(f, 0, 2);
    mv_feed(f, 1, 2);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 3);
    /* no multivariate part: the alert is cleared, then nothing */
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 3, 0), VG_OK);
    mv_feed(f, 1, 5);
    CU_ASSERT_EQUAL(f->rec.mv_cleared, 3);
    CU_ASSERT_EQUAL(f->rec.mv.score, 0);
    mv_check_last(f, 0, 3);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 3);
    /* a part again (the allocation kept): scored from the first batch */
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 4, 1), VG_OK);
    mv_feed(f, 0, 5);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 3);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 4);
    mv_check_last(f, 1, 4);
    /* a restart restores model 4 and runs its part from a new state */
    fx_close(f);
    memset(&f->rec, 0, sizeof f->rec);
    fx_open(f);
    CU_ASSERT_EQUAL(vgd_pipeline_model_version(f->p), 4);
    mv_feed(f, 0, 5);
    CU_ASSERT_EQUAL(f->rec.mv_raised + f->rec.mv_cleared, 0);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1);
    mv_check_last(f, 1, 4);
    fx_free(f);
}

/* Sets RLIMIT_AS to the address space in use now plus `slack` bytes, so
 * the heap cannot grow; *old receives the limit to restore.  0 on success. */
static int mv_limit_as(size_t slack, struct rlimit *old)
{
    char line[256];
    unsigned long kb = 0;
    FILE *s = fopen("/proc/self/status", "r");
    if (!s)
        return -1;
    while (fgets(line, sizeof line, s))
        if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
            break;
    fclose(s);
    if (!kb || getrlimit(RLIMIT_AS, old) != 0)
        return -1;
    struct rlimit lim = {(rlim_t)kb * 1024 + slack, old->rlim_max};
    return setrlimit(RLIMIT_AS, &lim);
}

/* A real out-of-memory: with the address space capped and the heap used
 * up (64 KiB blocks until malloc fails), the first batch under a model
 * with a multivariate part cannot allocate the detector's ~80 KiB: it is
 * not run (no alert, the samples still scored and spooled); once memory is
 * back it is allocated and raises. */
static void test_mvar_out_of_memory(void)
{
    struct fixture *f = mv_fx();
    CU_ASSERT_EQUAL_FATAL(mv_apply(f, 1, 1), VG_OK);
    struct rlimit old;
    void *hoard = NULL, *blk;
    size_t held = 0;
    if (mv_limit_as(1 << 20, &old) != 0) {
        CU_FAIL("cannot cap the address space");
        fx_free(f);
        return;
    }
    while (held < (256u << 20) && (blk = malloc(65536)) != NULL) {
        *(void **)blk = hoard; /* a list through the blocks */
        hoard = blk;
        held += 65536;
    }
    int exhausted = held < (256u << 20);
    uint64_t in = f->met.samples_in;
    if (exhausted)
        mv_feed(f, 1, 3);
    CU_ASSERT_EQUAL(setrlimit(RLIMIT_AS, &old), 0);
    while (hoard) {
        blk = hoard;
        hoard = *(void **)blk;
        free(blk);
    }
    if (!exhausted) { /* 256 MiB more allocated under the cap: no out-of-memory here */
        CU_FAIL("the heap grew past RLIMIT_AS");
        fx_free(f);
        return;
    }
    CU_ASSERT_EQUAL(f->rec.mv_raised, 0); /* not run */
    CU_ASSERT_EQUAL(f->met.samples_in, in + 3 * MV_ROWS * MV_P);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1); /* allocated now */
    mv_check_last(f, 1, 1);
    fx_free(f);
}

/* The out-of-memory test needs glibc's heap under RLIMIT_AS.  It is not
 * registered under AddressSanitizer, whose allocator does not run out
 * under the cap (measured: 256 MiB more allocated), nor under valgrind,
 * whose own shadow memory competes for the same slack (it stopped with
 * "Valgrind's memory management: out of memory" in one of two runs), nor
 * where the cap is not enforced (qemu-user). */
#if defined(__SANITIZE_ADDRESS__)
#define MV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MV_ASAN 1
#endif
#endif
#ifndef MV_ASAN
#define MV_ASAN 0
#endif

/* True when the cap of mv_limit_as is enforced: a 64 MiB mapping under
 * it fails (qemu-user accepts setrlimit(RLIMIT_AS) without applying it). */
static int mv_cap_enforced(void)
{
    struct rlimit old;
    if (mv_limit_as(1 << 20, &old) != 0)
        return 0;
    void *m = mmap(NULL, 64u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    setrlimit(RLIMIT_AS, &old);
    if (m == MAP_FAILED)
        return 1;
    munmap(m, 64u << 20);
    return 0;
}

/* True when the out-of-memory test can run here (see above). */
static int mv_oom_runs(void)
{
    const char *pre = getenv("LD_PRELOAD");
    const char *why = MV_ASAN                                   ? "under AddressSanitizer"
                      : pre && strstr(pre, "vgpreload") != NULL ? "under valgrind"
                      : !mv_cap_enforced()                      ? "here: RLIMIT_AS is not enforced"
                                                                : NULL;
    if (why)
        fprintf(stderr, "vgd_pipeline: the out-of-memory test is not run %s\n", why);
    return why == NULL;
}

int init_vgd_pipeline_tests(void)
{
    if (vg_crypto_init() != VG_OK || vg_keygen(mv_pk, mv_sk) != VG_OK)
        return -1;
    CU_pSuite s = CU_add_suite("vgd_pipeline", NULL, NULL);
    if (!s || !CU_add_test(s, "sequence rules", test_sequence_rules) ||
        !CU_add_test(s, "bad input counted", test_bad_input_counted) ||
        !CU_add_test(s, "trip, latch, reset, restore", test_trip_latch_reset_restore) ||
        !CU_add_test(s, "two trips before one sync", test_two_trips_one_sync) ||
        !CU_add_test(s, "reset before the sync", test_reset_before_sync) ||
        !CU_add_test(s, "trip recorded from the latch", test_trip_recorded_from_latch) ||
        !CU_add_test(s, "stale alerts cleared after a restart", test_stale_alerts_cleared) ||
        !CU_add_test(s, "reconfigure clears the alerts", test_reconfigure_clears_alerts) ||
        !CU_add_test(s, "mvar alert raised and cleared", test_mvar_alert_clears) ||
        !CU_add_test(s, "mvar restarted by a model change", test_mvar_model_change) ||
        (mv_oom_runs() && !CU_add_test(s, "mvar out of memory", test_mvar_out_of_memory)))
        return CU_get_error();
    return 0;
}
