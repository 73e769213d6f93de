/*
 * test_vgd_writer.c - vigild's spool writer on a real spool under /tmp:
 * group commits and the committed mark (reported through the callback),
 * deferred sent-marks, a failed group (a full spool) turning its sample
 * seqs into gaps that the mark stays below and that are accepted late,
 * gap expiry moving the mark on, and a group gathering samples for
 * gather_us unless enough are queued, an alert / trip / model record, a
 * flush or the stop makes it due at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "spool.h"
#include "vg_error.h"
#include "writer.h"

/* What the callbacks saw (they run on the writer thread). */
struct seen {
    pthread_mutex_t lock;
    int commits;   /* committed() calls */
    int64_t mark;  /* last mark, -1 none */
    int failures;  /* failed() calls */
    uint64_t lost; /* records lost in them */
};

static void seen_committed(void *user, uint64_t mark)
{
    struct seen *s = user;
    pthread_mutex_lock(&s->lock);
    s->commits++;
    s->mark = (int64_t)mark;
    pthread_mutex_unlock(&s->lock);
}

static void seen_failed(void *user, int rc, const char *msg, uint64_t lost)
{
    struct seen *s = user;
    (void)rc;
    (void)msg;
    pthread_mutex_lock(&s->lock);
    s->failures++;
    s->lost += lost;
    pthread_mutex_unlock(&s->lock);
}

static int64_t seen_mark(struct seen *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t m = s->mark;
    pthread_mutex_unlock(&s->lock);
    return m;
}

struct wfx {
    char path[96];
    vg_spool *spool;
    vgd_writer *w;
    struct seen seen;
};

/* Opens a fresh spool (hard ceiling hard_max and quota, 0 none) and a
 * writer with the options of `wo` (its user and callbacks are set here). */
static void wfx_open_with(struct wfx *f, uint64_t hard_max, uint64_t quota, vgd_writer_opts wo)
{
    static int counter;
    char err[256];
    int rc;
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->seen.lock, NULL);
    f->seen.mark = -1;
    snprintf(f->path, sizeof f->path, "/tmp/vgd-writer-%d-%d.db", (int)getpid(), ++counter);
    unlink(f->path);
    vg_spool_opts so = {
        .commit_every = UINT32_MAX, .hard_max_bytes = hard_max, .quota_bytes = quota};
    CU_ASSERT_EQUAL_FATAL(vg_spool_open(f->path, &so, &f->spool, err, sizeof err), VG_OK);
    wo.user = &f->seen;
    wo.committed = seen_committed;
    wo.failed = seen_failed;
    f->w = vgd_writer_create(f->spool, &wo, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->w);
}

/* wfx_open_with a writer whose gaps last gap_ms (0: the default). */
static void wfx_open(struct wfx *f, uint64_t hard_max, uint64_t quota, uint32_t gap_ms)
{
    wfx_open_with(f, hard_max, quota, (vgd_writer_opts){.gap_ms = gap_ms});
}

static void wfx_close(struct wfx *f)
{
    vgd_writer_destroy(f->w);
    vg_spool_close(f->spool);
    char p[128];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    pthread_mutex_destroy(&f->seen.lock);
}

static vg_spool_stats wfx_stats(struct wfx *f)
{
    vg_spool_stats st;
    vgd_writer_lock_spool(f->w);
    CU_ASSERT_EQUAL(vg_spool_get_stats(f->spool, &st), VG_OK);
    vgd_writer_unlock_spool(f->w);
    return st;
}

static void test_group_commit_and_mark(void)
{
    struct wfx f;
    wfx_open(&f, 0, 0, 0);
    uint8_t payload[512];
    memset(payload, 0xab, sizeof payload);
    for (uint64_t seq = 0; seq < 300; seq++) {
        CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, seq), VG_OK);
        CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, seq, 0, 1, payload, sizeof payload),
                        VG_OK);
    }
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_ALERT, 0, 0, 1, payload, 10), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), 299);
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, 299), VG_EDUP);
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, 10), VG_EORDER);
    vgd_writer_stats ws;
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.records, 301);
    CU_ASSERT_EQUAL(ws.mark, 299);
    CU_ASSERT_TRUE(ws.groups >= 2); /* at most 256 records per group */
    CU_ASSERT_TRUE(ws.groups <= 301);
    vg_spool_stats st = wfx_stats(&f);
    CU_ASSERT_EQUAL(st.kind[VG_ARCH_SAMPLES].records, 300);
    CU_ASSERT_EQUAL(st.pending, 0);
    /* deferred sent-marks: committed with the next group */
    vg_spool_item items[64];
    size_t n = 0;
    vgd_writer_lock_spool(f.w);
    CU_ASSERT_EQUAL(vg_spool_next_batch(f.spool, 64, 1 << 20, items, &n), VG_OK);
    vgd_writer_unlock_spool(f.w);
    CU_ASSERT_EQUAL(n, 64);
    CU_ASSERT_EQUAL(vgd_writer_mark_sent(f.w, items, n), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    st = wfx_stats(&f);
    CU_ASSERT_EQUAL(st.backlog, 301 - 64);
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.marks, 64);
    wfx_close(&f);
}

static void test_failed_group_becomes_gap(void)
{
    struct wfx f;
    wfx_open(&f, 256 * 1024, 128 * 1024, 0); /* full after ~40 batches */
    static uint8_t big[6000];
    memset(big, 0x5a, sizeof big);
    uint64_t seq = 0;
    for (; seq < 200; seq++) {
        CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, seq, 0, 1, big, sizeof big), VG_OK);
        if (vgd_writer_flush(f.w) != VG_OK)
            break;
    }
    CU_ASSERT_FATAL(seq < 200); /* the spool filled up */
    pthread_mutex_lock(&f.seen.lock);
    CU_ASSERT_EQUAL(f.seen.failures, 1);
    CU_ASSERT_EQUAL(f.seen.lost, 1);
    pthread_mutex_unlock(&f.seen.lock);
    /* the lost batch is not covered, and its re-send is accepted */
    CU_ASSERT_EQUAL(seen_mark(&f.seen), (int64_t)seq - 1);
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, seq), VG_OK);
    /* a newer batch that fits moves nothing past the gap */
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, seq + 1, 0, 1, "x", 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), (int64_t)seq - 1);
    /* room again: the oldest batches forwarded and evicted by the quota */
    vgd_writer_lock_spool(f.w);
    static vg_spool_item it[64];
    size_t n;
    CU_ASSERT_EQUAL(vg_spool_next_batch(f.spool, 64, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_mark_sent(f.spool, it, n), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_enforce_quota(f.spool, NULL), VG_OK);
    vgd_writer_unlock_spool(f.w);
    /* the device re-sends the lost batch: accepted, the gap closes */
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, seq, 0, 1, big, sizeof big), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), (int64_t)seq + 1);
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, seq), VG_EORDER);
    wfx_close(&f);
}

static void test_gap_expires(void)
{
    struct wfx f;
    wfx_open(&f, 0, 0, 300);
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 0, 0, 1, "a", 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 5, 0, 1, "b", 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), 0); /* held below the gap 1..4 */
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, 3), VG_OK);
    struct timespec ts = {1, 200000000}; /* > gap_ms + the writer's 0.5 s idle check */
    nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), 5);
    CU_ASSERT_EQUAL(vgd_writer_seq_check(f.w, 3), VG_EORDER);
    vgd_writer_stats ws;
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.gaps_dropped, 1);
    wfx_close(&f);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls for the mark to reach `want`; the milliseconds it took, or -1
 * after `limit_ms`. */
static int64_t wait_mark(struct seen *s, int64_t want, int limit_ms)
{
    int64_t t0 = now_ms();
    while (seen_mark(s) < want) {
        if (now_ms() - t0 > limit_ms)
            return -1;
        sleep_ms(2);
    }
    return now_ms() - t0;
}

/* Gathering: with gather_us = 400 ms and gather_min = 4, one sample batch
 * waits about 400 ms for company, while 4 queued batches, an alert or a
 * flush are committed at once. */
static void test_group_gathers(void)
{
    struct wfx f;
    wfx_open_with(&f, 0, 0, (vgd_writer_opts){.gather_us = 400000, .gather_min = 4});
    int64_t t0 = now_ms();
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 0, 0, 1, "a", 1), VG_OK);
    sleep_ms(100);
    vgd_writer_stats ws;
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.groups, 0); /* still gathering */
    CU_ASSERT_EQUAL(seen_mark(&f.seen), -1);
    CU_ASSERT_TRUE(wait_mark(&f.seen, 0, 2000) >= 0);
    CU_ASSERT_TRUE(now_ms() - t0 >= 390); /* committed when the wait ended */
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.groups, 1);
    /* gather_min batches: due at once, one group */
    for (uint64_t seq = 1; seq <= 4; seq++)
        CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, seq, 0, 1, "b", 1), VG_OK);
    int64_t took = wait_mark(&f.seen, 4, 2000);
    CU_ASSERT_TRUE(took >= 0 && took < 300);
    vgd_writer_stats_get(f.w, &ws);
    CU_ASSERT_EQUAL(ws.groups, 2);
    /* an alert makes the group due at once, with the sample before it */
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 5, 0, 1, "c", 1), VG_OK);
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_ALERT, 0, 0, 1, "d", 1), VG_OK);
    took = wait_mark(&f.seen, 5, 2000);
    CU_ASSERT_TRUE(took >= 0 && took < 300);
    /* a flush does not wait for the gathering */
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 6, 0, 1, "e", 1), VG_OK);
    t0 = now_ms();
    CU_ASSERT_EQUAL(vgd_writer_flush(f.w), VG_OK);
    CU_ASSERT_TRUE(now_ms() - t0 < 300);
    CU_ASSERT_EQUAL(seen_mark(&f.seen), 6);
    /* nor does the stop: destroy commits what is queued */
    CU_ASSERT_EQUAL(vgd_writer_append(f.w, VG_ARCH_SAMPLES, 7, 0, 1, "f", 1), VG_OK);
    t0 = now_ms();
    CU_ASSERT_EQUAL(vgd_writer_destroy(f.w), VG_OK);
    CU_ASSERT_TRUE(now_ms() - t0 < 300);
    f.w = NULL;
    int64_t last = -1;
    CU_ASSERT_EQUAL(vg_spool_last_seq(f.spool, VG_ARCH_SAMPLES, &last), VG_OK);
    CU_ASSERT_EQUAL(last, 7);
    wfx_close(&f);
}

int init_vgd_writer_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_writer", NULL, NULL);
    if (!s || !CU_add_test(s, "group commit and mark", test_group_commit_and_mark) ||
        !CU_add_test(s, "failed group becomes a gap", test_failed_group_becomes_gap) ||
        !CU_add_test(s, "gap expires", test_gap_expires) ||
        !CU_add_test(s, "group gathers", test_group_gathers))
        return CU_get_error();
    return 0;
}
