/*
 * test_spool.c - the agent's durable spool on real SQLite files under /tmp:
 * byte-exact round trips, batched commits seen from a second connection,
 * duplicates, uplink order, in-flight and requeue, durability across
 * close/reopen and across a SIGKILLed writer, quota eviction order, the
 * full-disk path, and refusal of files that are not ours.
 *
 * Every file is /tmp/vg-spool-<pid>-<n>.db (plus -wal / -shm), removed by the
 * test that made it.  A second, plain SQLite connection checks what is
 * really on disk.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sqlite3.h>

#include "spool.h"
#include "vg_error.h"
#include "vg_msg.h"

#define SAMPLE VG_ARCH_SAMPLES
#define ALERT  VG_ARCH_ALERT
#define TRIP   VG_ARCH_TRIP
#define MODEL  VG_ARCH_MODEL

/* Makes a fresh unique path in `buf` (size 64) and removes leftovers. */
static const char *fresh_path(char *buf)
{
    static int counter; /* test-local: unique names within this process */
    snprintf(buf, 64, "/tmp/vg-spool-%d-%d.db", (int)getpid(), ++counter);
    char side[80];
    unlink(buf);
    snprintf(side, sizeof side, "%s-wal", buf);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", buf);
    unlink(side);
    return buf;
}

/* Removes a spool file and its WAL companions. */
static void remove_spool(const char *path)
{
    char side[80];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* Runs a one-value query on a separate plain connection; -1 on error. */
static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Runs SQL on a separate plain connection; returns the SQLite code. */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* 1 when PRAGMA integrity_check says "ok". */
static int integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* 1 when the record (kind, seq) is stored. */
static int has(const char *path, int kind, int seq)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM record WHERE kind = %d AND seq = %d", kind,
             seq);
    return raw_int(path, sql) == 1;
}

static vg_spool *open_ok(const char *path, const vg_spool_opts *o)
{
    vg_spool *s = NULL;
    char err[256] = "";
    int rc = vg_spool_open(path, o, &s, err, sizeof err);
    if (rc != VG_OK)
        fprintf(stderr, "\n  vg_spool_open(%s): %s\n", path, err);
    return s;
}

/* A payload of `len` bytes derived from (seq, i), zero bytes included. */
static void fill(uint8_t *p, size_t len, uint64_t seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((seq * 131 + i * 7) % 251);
}

/* Appends samples first..last with `len`-byte payloads. */
static int add_samples(vg_spool *s, int first, int last, size_t len)
{
    static uint8_t buf[1 << 14];
    for (int q = first; q <= last; q++) {
        fill(buf, len, (uint64_t)q);
        int rc = vg_spool_append(s, SAMPLE, (uint64_t)q, 7, 1000000 + q, buf, len);
        if (rc != VG_OK)
            return rc;
    }
    return VG_OK;
}

static void test_roundtrip_byte_exact(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const uint8_t bin[] = {0x00, 0xff, 0x00, 0x9f, 0x01, 0x00};
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, 10, 41, 5000, bin, sizeof bin), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, 11, 42, 6000, NULL, 0), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    /* the file is what docs/SPOOL.md says it is */
    CU_ASSERT_EQUAL(raw_int(path, "PRAGMA application_id"), VG_SPOOL_APPID);
    CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), VG_SPOOL_SCHEMA);
    CU_ASSERT_EQUAL(raw_int(path, "PRAGMA auto_vacuum"), 2); /* incremental */
    CU_ASSERT_EQUAL(raw_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    vg_spool_item it[4];
    size_t n = 0;
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 4, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(it[0].kind, SAMPLE);
    CU_ASSERT_EQUAL(it[0].seq, 10);
    CU_ASSERT_EQUAL(it[0].model_version, 41);
    CU_ASSERT_EQUAL(it[0].rx_us, 5000);
    CU_ASSERT_EQUAL_FATAL(it[0].len, sizeof bin);
    CU_ASSERT_EQUAL(memcmp(it[0].payload, bin, sizeof bin), 0);
    CU_ASSERT_EQUAL(it[1].seq, 11);
    CU_ASSERT_EQUAL(it[1].len, 0);
    CU_ASSERT_EQUAL(it[1].model_version, 42);
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].records, 2);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].bytes, sizeof bin);
    CU_ASSERT_EQUAL(st.backlog, 2);
    CU_ASSERT_EQUAL(st.oldest_unsent_rx, 5000);
    CU_ASSERT_EQUAL(st.inflight, 2);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

static void test_batched_commit(void)
{
    char path[64];
    fresh_path(path);
    vg_spool_opts o = {.commit_every = 4, .commit_ms = 10};
    vg_spool *s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const char *count = "SELECT count(*) FROM record";
    CU_ASSERT_EQUAL(add_samples(s, 1, 3, 16), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, count), 0); /* invisible until committed */
    vg_spool_item it[8];
    size_t n = 9;
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(n, 0); /* the uplink never sees uncommitted records */
    CU_ASSERT_EQUAL(add_samples(s, 4, 4, 16), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, count), 4); /* commit_every reached */
    CU_ASSERT_EQUAL(add_samples(s, 5, 5, 16), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_flush_due(s, 1000005 + 9999), VG_OK); /* not yet due */
    CU_ASSERT_EQUAL(raw_int(path, count), 4);
    CU_ASSERT_EQUAL(vg_spool_flush_due(s, 1000005 + 10000), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, count), 5);
    CU_ASSERT_EQUAL(add_samples(s, 6, 6, 16), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 1, 7, 2000000, "a", 1), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, count), 7); /* an alert commits at once, samples too */
    CU_ASSERT_EQUAL(add_samples(s, 7, 7, 16), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK); /* close commits */
    CU_ASSERT_EQUAL(raw_int(path, count), 8);
    remove_spool(path);
}

static void test_duplicate_ignored(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, 5, 1, 10, "first", 5), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, 5, 1, 11, "second", 6), VG_EDUP);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 5, 1, 12, "alert", 5), VG_OK); /* other kind */
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, 5, 1, 13, "third", 5), VG_EDUP); /* after reopen */
    CU_ASSERT_EQUAL(vg_spool_append(s, 9, 6, 1, 13, "x", 1), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_spool_append(s, SAMPLE, UINT64_MAX, 1, 13, "x", 1), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM record"), 2);
    CU_ASSERT_EQUAL(raw_int(path, "SELECT rx_us FROM record WHERE kind = 0 AND seq = 5"), 10);
    remove_spool(path);
}

static void test_priority_order(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(add_samples(s, 1, 3, 100), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, MODEL, 1, 8, 50, "m", 1), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 2, 7, 40, "a2", 2), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 1, 7, 30, "a1", 2), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, TRIP, 1, 7, 60, "t", 1), VG_OK);
    CU_ASSERT_EQUAL(add_samples(s, 4, 4, 100), VG_OK); /* pending: not handed out */
    static const int want_kind[] = {TRIP, ALERT, ALERT, MODEL, SAMPLE, SAMPLE, SAMPLE};
    static const int want_seq[] = {1, 1, 2, 1, 1, 2, 3};
    vg_spool_item it[16];
    size_t n = 0;
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 16, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 7);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(it[i].kind, want_kind[i]);
        CU_ASSERT_EQUAL(it[i].seq, (uint64_t)want_seq[i]);
    }
    CU_ASSERT_EQUAL(memcmp(it[1].payload, "a1", 2), 0);
    /* the byte budget: 250 bytes hold two 100-byte samples, not three */
    vg_spool_requeue_inflight(s);
    CU_ASSERT_EQUAL(vg_spool_mark_sent(s, it, 4), VG_OK); /* also commits sample 4 */
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 16, 250, it, &n), VG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(it[0].seq, 1);
    CU_ASSERT_EQUAL(it[1].seq, 2);
    /* a record larger than the budget still goes out, alone */
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 16, 10, it, &n), VG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(it[0].seq, 3);
    uint8_t want[100];
    fill(want, sizeof want, 3);
    CU_ASSERT_EQUAL(memcmp(it[0].payload, want, sizeof want), 0);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

/* Hands out a batch and returns the seqs as a number like 123 (1, 2, 3). */
static long batch_digits(vg_spool *s, size_t max, vg_spool_item *it, size_t *n)
{
    long d = 0;
    if (vg_spool_next_batch(s, max, 1 << 20, it, n) != VG_OK)
        return -1;
    for (size_t i = 0; i < *n; i++)
        d = d * 10 + (long)it[i].seq;
    return d;
}

static void test_inflight_and_requeue(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(add_samples(s, 1, 6, 8), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    vg_spool_item a[2], b[2], c[8];
    size_t na, nb, nc;
    CU_ASSERT_EQUAL(batch_digits(s, 2, a, &na), 12);
    CU_ASSERT_EQUAL(batch_digits(s, 2, b, &nb), 34); /* 1, 2 are in flight */
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.inflight, 4);
    CU_ASSERT_EQUAL(vg_spool_mark_sent(s, a, na), VG_OK); /* PUBACK for 1, 2 */
    vg_spool_requeue_inflight(s);                         /* disconnect: 3, 4 lost */
    CU_ASSERT_EQUAL(batch_digits(s, 8, c, &nc), 3456);
    /* a late sample below the cursor is handed out too */
    CU_ASSERT_EQUAL(add_samples(s, 0, 0, 8), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    CU_ASSERT_EQUAL(batch_digits(s, 8, c, &nc), 3456); /* 0 then the re-sent rest */
    CU_ASSERT_EQUAL(nc, 5);
    CU_ASSERT_EQUAL(c[0].seq, 0);
    CU_ASSERT_EQUAL(batch_digits(s, 8, c, &nc), 0);
    CU_ASSERT_EQUAL(nc, 0);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

static void test_mark_sent_survives_reopen(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(add_samples(s, 1, 5, 8), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 1, 7, 1, "a", 1), VG_OK);
    vg_spool_item it[3];
    size_t n;
    CU_ASSERT_EQUAL(batch_digits(s, 3, it, &n), 112); /* alert 1, samples 1, 2 */
    CU_ASSERT_EQUAL(vg_spool_mark_sent(s, it, n), VG_OK);
    CU_ASSERT_EQUAL(batch_digits(s, 1, it, &n), 3); /* in flight at the "crash" */
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    vg_spool_item all[8];
    CU_ASSERT_EQUAL(batch_digits(s, 8, all, &n), 345); /* 3 again: at least once */
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].records, 5);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].unsent, 3);
    CU_ASSERT_EQUAL(st.kind[ALERT].unsent, 0);
    CU_ASSERT_EQUAL(st.backlog, 3);
    CU_ASSERT_EQUAL(st.backlog_bytes, 24);
    CU_ASSERT_EQUAL(st.oldest_unsent_rx, 1000003);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

/* Marks are applied per run of consecutive seqs: a stored record whose seq
 * lies between two marked ones but was not among the items (a late
 * arrival into a gap, handed out later) stays unsent; kinds never mix. */
static void test_mark_runs_only_the_items(void)
{
    char path[64];
    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(add_samples(s, 1, 9, 8), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 5, 7, 1, "a", 1), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    /* samples 1-3 and 6-8 (a run each, 4 and 5 skipped), alert 5, then a
     * sample 9 below an out-of-range seq (skipped, as before) */
    vg_spool_item it[9] = {{.kind = SAMPLE, .seq = 1},
                           {.kind = SAMPLE, .seq = 2},
                           {.kind = SAMPLE, .seq = 3},
                           {.kind = SAMPLE, .seq = 6},
                           {.kind = SAMPLE, .seq = 7},
                           {.kind = SAMPLE, .seq = 8},
                           {.kind = ALERT, .seq = 5},
                           {.kind = SAMPLE, .seq = 9},
                           {.kind = SAMPLE, .seq = (uint64_t)INT64_MAX + 1}};
    CU_ASSERT_EQUAL(vg_spool_mark_sent(s, it, 9), VG_OK);
    CU_ASSERT_EQUAL(
        raw_int(path, "SELECT count(*) FROM record WHERE kind = 0 AND sent = 0 AND seq IN (4, 5)"),
        2);
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].unsent, 2);
    CU_ASSERT_EQUAL(st.kind[ALERT].unsent, 0);
    CU_ASSERT_EQUAL(has(path, SAMPLE, 4) && has(path, SAMPLE, 5), 1);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

/* A kind whose scan found nothing is skipped until something may be there
 * again: an uncommitted row does not count as nothing, a later append of
 * the kind and a requeue bring it back. */
static void test_next_batch_rescans(void)
{
    char path[64];
    fresh_path(path);
    vg_spool_opts o = {.commit_every = 1000};
    vg_spool *s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    vg_spool_item it[8];
    size_t n = 9;
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(n, 0); /* every kind found empty */
    CU_ASSERT_EQUAL(add_samples(s, 1, 1, 8), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(n, 0); /* pending: not handed out */
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_TRUE(n == 1 && it[0].kind == SAMPLE && it[0].seq == 1);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 1, 7, 1, "a", 1), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_TRUE(n == 1 && it[0].kind == ALERT && it[0].seq == 1);
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(n, 0); /* both in flight */
    vg_spool_requeue_inflight(s);
    CU_ASSERT_EQUAL(vg_spool_next_batch(s, 8, 1 << 20, it, &n), VG_OK);
    CU_ASSERT_EQUAL(n, 2); /* both again, alert first */
    CU_ASSERT_TRUE(n == 2 && it[0].kind == ALERT && it[1].kind == SAMPLE);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    remove_spool(path);
}

/* Child: appends+commits `committed` samples, then `extra` more that stay
 * pending, then dies by `how` (0: _exit, 1: SIGKILL).  Never returns. */
static void crash_child(const char *path, int committed, int extra, int how)
{
    vg_spool_opts o = {.commit_every = 100000};
    vg_spool *s = NULL;
    char err[256];
    if (vg_spool_open(path, &o, &s, err, sizeof err) != VG_OK ||
        add_samples(s, 1, committed, 200) != VG_OK || vg_spool_commit(s) != VG_OK ||
        add_samples(s, committed + 1, committed + extra, 200) != VG_OK)
        _exit(3);
    if (how)
        kill(getpid(), SIGKILL);
    _exit(0);
}

static void crash_and_check(int how)
{
    char path[64];
    fresh_path(path);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        crash_child(path, 300, 120, how);
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    int died_as_told = how ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
                           : WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CU_ASSERT_TRUE(died_as_told);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.kind[SAMPLE].records, 300);
    CU_ASSERT_EQUAL(st.backlog, 300);
    CU_ASSERT_TRUE(has(path, SAMPLE, 300));
    CU_ASSERT_FALSE(has(path, SAMPLE, 301));
    CU_ASSERT_EQUAL(add_samples(s, 301, 302, 200), VG_OK); /* writable again */
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    CU_ASSERT_TRUE(integrity_ok(path));
    remove_spool(path);
}

static void test_crash_exit_uncommitted(void)
{
    crash_and_check(0);
}

static void test_crash_sigkill_uncommitted(void)
{
    crash_and_check(1);
}

/* SIGKILL at an arbitrary instant of a busy writer: whatever the child
 * reported committed is there, and only whole batches are. */
static void test_crash_sigkill_anywhere(void)
{
    for (int round = 0; round < 3; round++) {
        char path[64];
        fresh_path(path);
        int fd[2];
        CU_ASSERT_FATAL(pipe(fd) == 0);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            close(fd[0]);
            vg_spool_opts o = {.commit_every = 7};
            vg_spool *s = NULL;
            char err[256];
            if (vg_spool_open(path, &o, &s, err, sizeof err) != VG_OK)
                _exit(3);
            for (int q = 1;; q += 7) {
                if (add_samples(s, q, q + 6, 300 + 97 * (q % 13)) != VG_OK)
                    _exit(4);
                int done = q + 6; /* commit_every made this batch durable */
                if (write(fd[1], &done, sizeof done) != sizeof done)
                    _exit(5);
            }
        }
        close(fd[1]);
        int done = 0, got = 0;
        for (int i = 0; i < 20 + 15 * round && read(fd[0], &got, sizeof got) == sizeof got; i++)
            done = got;
        struct timespec pause = {0, 700000L * round};
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        while (read(fd[0], &got, sizeof got) == sizeof got)
            done = got; /* reported before the kill landed */
        close(fd[0]);
        CU_ASSERT_TRUE(WIFSIGNALED(status));
        CU_ASSERT_TRUE(integrity_ok(path));
        long long n = raw_int(path, "SELECT count(*) FROM record");
        CU_ASSERT_TRUE(n >= done);
        CU_ASSERT_EQUAL(n % 7, 0);
        CU_ASSERT_EQUAL(raw_int(path, "SELECT max(seq) FROM record"), n);
        vg_spool *s = open_ok(path, NULL);
        CU_ASSERT_PTR_NOT_NULL(s);
        vg_spool_stats st;
        if (s && vg_spool_get_stats(s, &st) == VG_OK)
            CU_ASSERT_EQUAL(st.kind[SAMPLE].records, (uint64_t)n); /* tallies exact */
        vg_spool_close(s);
        remove_spool(path);
    }
}

/* Builds the eviction fixture: samples 1..40 of 1000 bytes (1..10 sent),
 * alerts 1..3 (1 sent), trip 1 and model 1 unsent; returns the db size. */
static uint64_t build_fixture(const char *path)
{
    vg_spool *s = open_ok(path, NULL);
    if (!s)
        return 0;
    add_samples(s, 1, 40, 1000);
    for (int a = 1; a <= 3; a++)
        vg_spool_append(s, ALERT, (uint64_t)a, 7, 2000000 + a, "alert", 5);
    vg_spool_append(s, TRIP, 1, 7, 3000000, "trip", 4);
    vg_spool_append(s, MODEL, 1, 8, 4000000, "model", 5);
    vg_spool_item it[16];
    size_t n;
    vg_spool_next_batch(s, 1, 1 << 20, it, &n); /* trip 1: leave it unsent */
    vg_spool_next_batch(s, 1, 1 << 20, it, &n); /* alert 1 */
    vg_spool_mark_sent(s, it, n);
    vg_spool_requeue_inflight(s);
    for (int q = 1; q <= 10; q++) {
        vg_spool_item one = {.kind = SAMPLE, .seq = (uint64_t)q};
        vg_spool_mark_sent(s, &one, 1);
    }
    vg_spool_stats st;
    vg_spool_get_stats(s, &st);
    vg_spool_close(s);
    return st.db_bytes;
}

static long long count_where(const char *path, const char *cond)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM record WHERE %s", cond);
    return raw_int(path, sql);
}

static void test_quota_eviction_order(void)
{
    char path[64];
    fresh_path(path);
    uint64_t size = build_fixture(path);
    CU_ASSERT_FATAL(size > 40000);
    CU_ASSERT_EQUAL(count_where(path, "kind = 0 AND sent = 1"), 10);
    CU_ASSERT_EQUAL(count_where(path, "kind = 1 AND sent = 1"), 1);

    /* (1) a little over: only the oldest sent samples go */
    vg_spool_opts o = {.quota_bytes = size - 3000};
    vg_spool *s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    vg_spool_evicted ev;
    CU_ASSERT_EQUAL(vg_spool_enforce_quota(s, &ev), VG_OK);
    CU_ASSERT_TRUE(ev.sent_records >= 3 && ev.sent_records < 10);
    CU_ASSERT_EQUAL(ev.lost_samples, 0);
    CU_ASSERT_FALSE(has(path, SAMPLE, 1));
    CU_ASSERT_TRUE(has(path, SAMPLE, 10));
    CU_ASSERT_EQUAL(count_where(path, "kind = 0 AND sent = 1 AND seq < 10"),
                    (long long)(9 - ev.sent_records));
    CU_ASSERT_EQUAL(count_where(path, "sent = 0"), 30 + 4);
    CU_ASSERT_EQUAL(count_where(path, "kind > 0"), 5);
    vg_spool_stats st;
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_TRUE(st.db_bytes <= o.quota_bytes);
    uint64_t first = ev.sent_records;
    vg_spool_close(s);

    /* (2) ~20 KB over: every sent record, then the oldest unsent samples */
    o.quota_bytes = size - 20000;
    s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vg_spool_enforce_quota(s, &ev), VG_OK);
    CU_ASSERT_EQUAL(ev.sent_records, 10 - first + 1); /* the rest + alert 1 */
    CU_ASSERT_TRUE(ev.lost_samples >= 1 && ev.lost_samples < 20);
    CU_ASSERT_EQUAL(ev.lost_bytes, ev.lost_samples * 1000);
    CU_ASSERT_EQUAL(count_where(path, "sent = 1"), 0);
    CU_ASSERT_FALSE(has(path, SAMPLE, 11));
    CU_ASSERT_TRUE(has(path, SAMPLE, 40));
    CU_ASSERT_EQUAL(count_where(path, "kind = 0"), (long long)(30 - ev.lost_samples));
    CU_ASSERT_EQUAL(raw_int(path, "SELECT min(seq) FROM record WHERE kind = 0"),
                    (long long)(11 + ev.lost_samples));
    CU_ASSERT_EQUAL(count_where(path, "kind > 0"), 4); /* alerts 2, 3, trip, model */
    uint64_t lost = ev.lost_samples;
    vg_spool_close(s);

    /* (3) far over: every sample goes, unsent alerts/trip/model stay */
    struct stat before, after;
    CU_ASSERT_EQUAL(stat(path, &before), 0);
    o.quota_bytes = 4096;
    s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vg_spool_enforce_quota(s, &ev), VG_ENOSPC);
    CU_ASSERT_PTR_NOT_NULL(strstr(vg_spool_errmsg(s), "only unsent alerts"));
    CU_ASSERT_EQUAL(ev.sent_records, 0);
    CU_ASSERT_EQUAL(ev.lost_samples, 30 - lost);
    CU_ASSERT_EQUAL(count_where(path, "kind = 0"), 0);
    CU_ASSERT_TRUE(has(path, ALERT, 2) && has(path, ALERT, 3));
    CU_ASSERT_TRUE(has(path, TRIP, 1) && has(path, MODEL, 1));
    CU_ASSERT_EQUAL(vg_spool_get_stats(s, &st), VG_OK);
    CU_ASSERT_EQUAL(st.evicted.sent_records, 11); /* cumulative, persisted */
    CU_ASSERT_EQUAL(st.evicted.lost_samples, 30);
    CU_ASSERT_EQUAL(st.evicted.lost_bytes, 30000);
    CU_ASSERT_EQUAL(st.backlog, 4);
    vg_spool_close(s);
    CU_ASSERT_EQUAL(stat(path, &after), 0);
    CU_ASSERT_TRUE(after.st_size <= before.st_size - 4 * 4096); /* the file really shrank */
    CU_ASSERT_TRUE(integrity_ok(path));
    remove_spool(path);
}

static void test_enospc_only_alerts(void)
{
    char path[64];
    fresh_path(path);
    vg_spool_opts o = {.quota_bytes = 8192};
    vg_spool *s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static uint8_t big[3000];
    for (int a = 1; a <= 20; a++)
        CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, (uint64_t)a, 1, a, big, sizeof big), VG_OK);
    vg_spool_evicted ev;
    CU_ASSERT_EQUAL(vg_spool_enforce_quota(s, &ev), VG_ENOSPC);
    CU_ASSERT_EQUAL(ev.sent_records + ev.lost_samples, 0);
    vg_spool_close(s);
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM record"), 20);
    remove_spool(path);
}

static void test_full_disk(void)
{
    char path[64];
    fresh_path(path);
    vg_spool_opts o = {.commit_every = 5, .hard_max_bytes = 96 * 1024};
    vg_spool *s = open_ok(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int acked = 0, rc = VG_OK, q = 1;
    for (; q < 2000 && rc == VG_OK; q++) {
        rc = add_samples(s, q, q, 2000);
        if (rc == VG_OK && q % 5 == 0)
            acked = q; /* commit_every: durable now */
    }
    CU_ASSERT_EQUAL(rc, VG_ENOSPC);
    CU_ASSERT_PTR_NOT_NULL(strstr(vg_spool_errmsg(s), "full"));
    CU_ASSERT_TRUE(acked > 0);
    /* the failed batch is reported, never silently dropped */
    int again = vg_spool_commit(s);
    CU_ASSERT_TRUE(again == VG_OK || again == VG_ENOSPC);
    if (again != VG_OK)
        CU_ASSERT_PTR_NOT_NULL(strstr(vg_spool_errmsg(s), "rolled back"));
    CU_ASSERT_EQUAL(vg_spool_commit(s), VG_OK);
    vg_spool_close(s);
    CU_ASSERT_TRUE(integrity_ok(path));
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM record"), acked);
    CU_ASSERT_EQUAL(raw_int(path, "SELECT max(seq) FROM record"), acked);
    s = open_ok(path, NULL); /* disk "freed": appends work again */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(add_samples(s, acked + 1, acked + 1, 2000), VG_OK);
    CU_ASSERT_EQUAL(vg_spool_close(s), VG_OK);
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM record"), acked + 1);
    remove_spool(path);
}

/* Opens `path` expecting VG_ESCHEMA with `want` in the message. */
static void expect_refused(const char *path, const char *want)
{
    vg_spool *s = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(vg_spool_open(path, NULL, &s, err, sizeof err), VG_ESCHEMA);
    CU_ASSERT_PTR_NULL(s);
    if (!strstr(err, want))
        fprintf(stderr, "\n  expected '%s' in '%s'\n", want, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_refuses_foreign_files(void)
{
    char path[64];
    fresh_path(path);
    CU_ASSERT_EQUAL(raw_exec(path, "CREATE TABLE foo(x); INSERT INTO foo VALUES (42)"), SQLITE_OK);
    expect_refused(path, "not a vigil spool");
    CU_ASSERT_EQUAL(raw_int(path, "SELECT x FROM foo"), 42); /* untouched */
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    remove_spool(path);

    fresh_path(path);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 200; i++)
        fputs("this is a text file, not a database\n", f);
    fclose(f);
    expect_refused(path, "not a SQLite database");
    remove_spool(path);

    fresh_path(path);
    vg_spool *s = open_ok(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vg_spool_append(s, ALERT, 1, 1, 1, "a", 1), VG_OK);
    vg_spool_close(s);
    CU_ASSERT_EQUAL(raw_exec(path, "PRAGMA user_version = 2"), SQLITE_OK);
    expect_refused(path, "spool schema version 2 is newer");
    CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM record"), 1);
    remove_spool(path);
}

int init_spool_tests(void)
{
    CU_pSuite s = CU_add_suite("spool", NULL, NULL);
    if (!s || !CU_add_test(s, "round trip byte exact", test_roundtrip_byte_exact) ||
        !CU_add_test(s, "batched commit", test_batched_commit) ||
        !CU_add_test(s, "duplicate ignored", test_duplicate_ignored) ||
        !CU_add_test(s, "priority order", test_priority_order) ||
        !CU_add_test(s, "in flight and requeue", test_inflight_and_requeue) ||
        !CU_add_test(s, "mark sent survives reopen", test_mark_sent_survives_reopen) ||
        !CU_add_test(s, "mark runs only the items", test_mark_runs_only_the_items) ||
        !CU_add_test(s, "next_batch rescans", test_next_batch_rescans) ||
        !CU_add_test(s, "crash: exit with pending", test_crash_exit_uncommitted) ||
        !CU_add_test(s, "crash: SIGKILL with pending", test_crash_sigkill_uncommitted) ||
        !CU_add_test(s, "crash: SIGKILL anywhere", test_crash_sigkill_anywhere) ||
        !CU_add_test(s, "quota eviction order", test_quota_eviction_order) ||
        !CU_add_test(s, "ENOSPC when only alerts", test_enospc_only_alerts) ||
        !CU_add_test(s, "full disk", test_full_disk) ||
        !CU_add_test(s, "refuses foreign files", test_refuses_foreign_files))
        return CU_get_error();
    return 0;
}
