/*
 * fx_pipeline.c - the vgd_pipeline tests' fixture (see fx_pipeline.h).
 * Costs: pfx_new makes a directory and opens a SQLite spool; pfx_free
 * removes it (rm -rf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fx_pipeline.h"
#include "vg_error.h"

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

void pfx_open(struct fixture *f)
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

void pfx_close(struct fixture *f)
{
    vgd_pipeline_destroy(f->p);
    vgd_model_free(&f->mm);
    CU_ASSERT_EQUAL(vgd_writer_destroy(f->w), VG_OK);
    vg_spool_close(f->spool);
}

struct fixture *pfx_new(void)
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
    pfx_open(f);
    return f;
}

void pfx_free(struct fixture *f)
{
    char cmd[160];
    pfx_close(f);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    free(f);
}

/* Encodes and feeds one single-channel batch; returns the status. */
int pfx_feed(struct fixture *f, uint64_t seq, const char *chan, const double *v, uint32_t n)
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
uint64_t pfx_trip_records(struct fixture *f)
{
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vgd_writer_flush(f->w), VG_OK);
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    return st.kind[VG_ARCH_TRIP].records;
}

/* Decodes the latch file into *sd; VG_EMISSING when there is none. */
int pfx_read_latch(const struct fixture *f, vg_shutdown *sd)
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
