/*
 * test_vgd_pipeline.c - vigild's pipeline on a real spool under /tmp with
 * a recording sink (fx_pipeline.h): sequence rules (duplicate, out of
 * order), bad CBOR and oversized payloads, NaN, unknown channels counted
 * by reason; a trip runs the local action (a sysfs write to a temp file),
 * writes the latch, spools the trip and publishes the retained shutdown;
 * resets are refused while the cause is present and clear the latch after;
 * counters and the latch are restored by a new pipeline on the same data
 * dir; alerts left raised are cleared after a restart or a reconfigure.
 * The multivariate part is in test_vgd_pipeline_mvar.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fx_pipeline.h"
#include "vg_error.h"

static void test_sequence_rules(void)
{
    struct fixture *f = pfx_new();
    double v[3] = {20, 21, 22};
    CU_ASSERT_EQUAL(pfx_feed(f, 0, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 5, "temp", v, 3), VG_OK); /* skips 1..4: a gap */
    CU_ASSERT_EQUAL(pfx_feed(f, 5, "temp", v, 3), VG_EDUP);
    CU_ASSERT_EQUAL(pfx_feed(f, 3, "temp", v, 3), VG_OK); /* a re-send filling the gap */
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 3, "temp", v, 3), VG_EORDER); /* committed: the gap closed there */
    CU_ASSERT_EQUAL(pfx_feed(f, 6, "temp", v, 3), VG_OK);
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
    pfx_close(f);
    pfx_open(f);
    vgd_writer_stats_get(f->w, &ws);
    CU_ASSERT_EQUAL(ws.mark, 0);
    CU_ASSERT_EQUAL(pfx_feed(f, 4, "temp", v, 3), VG_OK); /* still accepted after the restart */
    CU_ASSERT_EQUAL(pfx_feed(f, 6, "temp", v, 3), VG_EDUP);
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "temp", v, 3), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_stats_get(f->w, &ws);
    CU_ASSERT_EQUAL(ws.mark, 6); /* every gap filled: the mark covers all */
    pfx_free(f);
}

static void test_bad_input_counted(void)
{
    struct fixture *f = pfx_new();
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    CU_ASSERT_EQUAL(vgd_pipeline_samples(f->p, junk, sizeof junk, 1), VG_EDECODE);
    static uint8_t big[VG_MSG_MAX_BYTES + 1];
    CU_ASSERT_EQUAL(vgd_pipeline_samples(f->p, big, sizeof big, 1), VG_ETOOBIG);
    double nanv[3] = {NAN, INFINITY, 20};
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", nanv, 3), VG_OK); /* batch ok, two samples refused */
    CU_ASSERT_EQUAL(f->met.rejected[VG_ENAN], 2);
    CU_ASSERT_EQUAL(f->met.samples_in, 1);
    double v[1] = {1};
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "nosuch", v, 1), VG_OK);
    CU_ASSERT_EQUAL(f->met.rejected[VG_ECHANNEL], 1);
    CU_ASSERT_EQUAL(f->met.rejected[VG_EDECODE], 1);
    CU_ASSERT_EQUAL(f->met.rejected[VG_ETOOBIG], 1);
    CU_ASSERT_EQUAL(f->rec.n, 0); /* nothing published for bad input */
    pfx_free(f);
}

static void test_trip_latch_reset_restore(void)
{
    struct fixture *f = pfx_new();
    double hot[1] = {99}, cool[1] = {50};
    uint8_t buf[256];
    size_t len;
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", hot, 1), VG_OK);
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
    pfx_close(f);
    memset(&f->rec, 0, sizeof f->rec);
    pfx_open(f);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", cool, 1), VG_EDUP); /* seq restored from the spool */
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "temp", cool, 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reset(f->p, buf, len, 3), VG_OK);
    CU_ASSERT_FALSE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(f->rec.clears, 1);
    CU_ASSERT_EQUAL(pfx_feed(f, 3, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(f->met.trips, 2); /* the metrics struct outlived the restart */
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_TRIP].records, 2); /* trip ids 1 and 2 in the spool */
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_SAMPLES].records, 3);
    pfx_free(f);
}

/* Two trips before the caller syncs (one batch, two channels): both
 * records reach the spool, the latch file holds the last trip, and one
 * sync makes both durable. */
static void test_two_trips_one_sync(void)
{
    struct fixture *f = pfx_new();
    pfx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.press", "hi", "5"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.press", "trip", "true"), VG_OK);
    pfx_open(f);
    double hot[1] = {99}, high[1] = {7};
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "press", high, 1), VG_OK);
    CU_ASSERT_EQUAL(f->rec.shutdowns, 2);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 1);
    CU_ASSERT_EQUAL(vgd_pipeline_sync(f->p), VG_OK);
    CU_ASSERT_EQUAL(pfx_trip_records(f), 2);
    vg_shutdown sd;
    CU_ASSERT_EQUAL_FATAL(pfx_read_latch(f, &sd), VG_OK);
    CU_ASSERT_EQUAL(sd.trip_id, 2);
    CU_ASSERT_STRING_EQUAL(sd.channel, "press");
    pfx_free(f);
}

/* A reset handled before the caller synced the trip: the latch file is
 * removed (and the sync then does not fail on it), the record committed
 * and the retained shutdown cleared once. */
static void test_reset_before_sync(void)
{
    struct fixture *f = pfx_new();
    double hot[1] = {99}, cool[1] = {50};
    uint8_t buf[256];
    size_t len;
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "temp", hot, 1), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "temp", cool, 1), VG_OK);
    vg_reset r = {.device = "dev-1", .operator_id = "op"};
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reset(f->p, buf, len, 3), VG_OK);
    vg_shutdown sd;
    CU_ASSERT_EQUAL(pfx_read_latch(f, &sd), VG_EMISSING);
    CU_ASSERT_EQUAL(f->rec.clears, 1);
    CU_ASSERT_EQUAL(vgd_pipeline_take_sync(f->p), 1);
    CU_ASSERT_EQUAL(vgd_pipeline_sync(f->p), VG_OK);
    CU_ASSERT_EQUAL(pfx_trip_records(f), 1);
    pfx_free(f);
}

/* An alert the previous run left raised is cleared after a restart: just
 * before the channel's next edge, or on the first connect; once. */
static void test_stale_alerts_cleared(void)
{
    struct fixture *f = pfx_new();
    pfx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.load", "hi", "5"), VG_OK);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.flow", "hi", "5"), VG_OK);
    pfx_open(f);
    double high[1] = {7}, ok[1] = {1};
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "load", high, 1), VG_OK);
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "flow", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ flow+ ");
    pfx_close(f); /* both raised at the "restart" */
    memset(&f->rec, 0, sizeof f->rec);
    pfx_open(f);
    CU_ASSERT_EQUAL(pfx_feed(f, 3, "load", ok, 1), VG_OK); /* a fresh detector: no edge */
    CU_ASSERT_EQUAL(pfx_feed(f, 4, "load", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ "); /* the old one first */
    vgd_pipeline_on_connect(f->p);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ flow- ");
    vgd_pipeline_on_connect(f->p); /* once */
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- load+ flow- ");
    CU_ASSERT_EQUAL(f->met.alerts_cleared, 2);
    pfx_close(f); /* only load is left raised now */
    memset(&f->rec, 0, sizeof f->rec);
    pfx_open(f);
    vgd_pipeline_on_connect(f->p);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load- ");
    pfx_free(f);
}

/* A SIGHUP with new detection settings replaces the engine: the alerts its
 * detectors held are cleared at once, and raised again by the new ones. */
static void test_reconfigure_clears_alerts(void)
{
    struct fixture *f = pfx_new();
    pfx_close(f);
    CU_ASSERT_EQUAL(vg_conf_set(&f->conf, "channel.load", "hi", "5"), VG_OK);
    pfx_open(f);
    double high[1] = {7};
    CU_ASSERT_EQUAL(pfx_feed(f, 1, "load", high, 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_pipeline_reconfigure(f->p, &f->conf.engine), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- ");
    CU_ASSERT_EQUAL(pfx_feed(f, 2, "load", high, 1), VG_OK);
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- load+ ");
    vgd_pipeline_on_connect(f->p); /* nothing stale left */
    CU_ASSERT_STRING_EQUAL(f->rec.edges, "load+ load- load+ ");
    pfx_free(f);
}

/* A SIGKILL between the shutdown's publish and the trip record's commit
 * leaves the latch file without the record: the next start records it
 * from the latch file. */
static void test_trip_recorded_from_latch(void)
{
    struct fixture *f = pfx_new();
    pfx_close(f);
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
    pfx_open(f);
    CU_ASSERT_TRUE(vgd_pipeline_latched(f->p));
    CU_ASSERT_EQUAL(pfx_trip_records(f), 1);
    /* a second start finds it in the spool: not recorded twice */
    pfx_close(f);
    pfx_open(f);
    CU_ASSERT_EQUAL(pfx_trip_records(f), 1);
    pfx_free(f);
}

int init_vgd_pipeline_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_pipeline", NULL, NULL);
    if (!s || !CU_add_test(s, "sequence rules", test_sequence_rules) ||
        !CU_add_test(s, "bad input counted", test_bad_input_counted) ||
        !CU_add_test(s, "trip, latch, reset, restore", test_trip_latch_reset_restore) ||
        !CU_add_test(s, "two trips before one sync", test_two_trips_one_sync) ||
        !CU_add_test(s, "reset before the sync", test_reset_before_sync) ||
        !CU_add_test(s, "trip recorded from the latch", test_trip_recorded_from_latch) ||
        !CU_add_test(s, "stale alerts cleared after a restart", test_stale_alerts_cleared) ||
        !CU_add_test(s, "reconfigure clears the alerts", test_reconfigure_clears_alerts))
        return CU_get_error();
    return 0;
}
