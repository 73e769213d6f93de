/*
 * test_vgd_pipeline_mvar.c - the pipeline's multivariate part (pipe__mvar)
 * on the fixture of fx_pipeline.h: bundles signed with a real Ed25519 key
 * whose vg_model carries a vg_mvar_fit model of three correlated channels
 * are applied through vgd_pipeline_model; correlated batches stay quiet, a
 * decoupled channel raises one alert of channel "mvar" (decoded from what
 * was published) that clears later, a new model version restarts the
 * detector (its alert state with it), a model without a multivariate part
 * stops it, and a real out-of-memory (RLIMIT_AS with the heap used up)
 * skips it until memory is back.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fx_pipeline.h"
#include "vg_error.h"
#include "vg_hex.h"
#include "vg_mvar.h"

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
    struct fixture *f = pfx_new();
    pfx_close(f);
    snprintf(f->key, sizeof f->key, "%s/pk", f->dir);
    vg_hex_encode(mv_pk, VG_PK_BYTES, hex);
    FILE *k = fopen(f->key, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    fputs(hex, k);
    fclose(k);
    for (uint32_t j = 0; j < MV_P; j++)
        CU_ASSERT_EQUAL(vg_conf_set(&f->conf, chan[j], "hi", "1000"), VG_OK);
    pfx_open(f);
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
    pfx_free(f);
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
    pfx_close(f);
    memset(&f->rec, 0, sizeof f->rec);
    pfx_open(f);
    CU_ASSERT_EQUAL(vgd_pipeline_model_version(f->p), 4);
    mv_feed(f, 0, 5);
    CU_ASSERT_EQUAL(f->rec.mv_raised + f->rec.mv_cleared, 0);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1);
    mv_check_last(f, 1, 4);
    pfx_free(f);
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
        pfx_free(f);
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
        pfx_free(f);
        return;
    }
    CU_ASSERT_EQUAL(f->rec.mv_raised, 0); /* not run */
    CU_ASSERT_EQUAL(f->met.samples_in, in + 3 * MV_ROWS * MV_P);
    mv_feed(f, 1, 1);
    CU_ASSERT_EQUAL(f->rec.mv_raised, 1); /* allocated now */
    mv_check_last(f, 1, 1);
    pfx_free(f);
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
        fprintf(stderr, "vgd_pipeline_mvar: the out-of-memory test is not run %s\n", why);
    return why == NULL;
}

int init_vgd_pipeline_mvar_tests(void)
{
    if (vg_crypto_init() != VG_OK || vg_keygen(mv_pk, mv_sk) != VG_OK)
        return -1;
    CU_pSuite s = CU_add_suite("vgd_pipeline_mvar", NULL, NULL);
    if (!s || !CU_add_test(s, "mvar alert raised and cleared", test_mvar_alert_clears) ||
        !CU_add_test(s, "mvar restarted by a model change", test_mvar_model_change) ||
        (mv_oom_runs() && !CU_add_test(s, "mvar out of memory", test_mvar_out_of_memory)))
        return CU_get_error();
    return 0;
}
