/*
 * vigild_main.c - the edge daemon: command line, signals and the main loop
 * around the pipeline, spool, uplink and MQTT link.
 *
 * Threads and locks.  Paho calls messageArrived, connected, lost and the
 * archive completions on its own thread, one at a time.  Every handler
 * and the main loop's pipeline step take `d.lock`, so the engine and the
 * pipeline are only ever used by one thread at a time; a model swap
 * therefore happens between two batches, never inside one.  A batch is
 * scored, acted upon and handed to the spool writer (agent/writer.h: its
 * own thread, group commits, the committed mark) before messageArrived
 * returns.  The spool and the uplink are guarded by the writer's spool
 * lock, which the main loop takes WITHOUT d.lock (uplink pump, quota,
 * statistics), so the receive thread never waits behind a group commit.
 * Lock order: d.lock, spool lock, writer queue lock; wake_lock is a leaf.
 * Neither the writer nor the main loop calls Paho while holding a lock a
 * Paho callback may wait for: Paho's receive thread can be inside one of
 * our handlers (waiting for d.lock, or for room in the writer's queue)
 * while holding Paho's own lock, so such a call would deadlock.  The
 * writer therefore only hands the committed mark to the main loop, which
 * publishes it on ROOT/DEV/samples/ack.
 *
 * The main loop wakes every few milliseconds (or when a handler or the
 * writer signals work) and, under d.lock: runs the stale watchdog every
 * tick_ms (wall clock: the trip path needs no broker, so a silent critical
 * sensor trips with the network down), reaps trip actions and enforces
 * their timeout, publishes the status heartbeat and writes the metrics
 * file; then, without d.lock: sends what it queued, publishes the
 * committed mark, pumps the uplink, enforces the quota every second and
 * refreshes the spool statistics every 50 ms.
 *
 * Memory: mallopt(M_ARENA_MAX, 1) at start keeps glibc from giving each of
 * Paho's threads its own malloc arena (64 MiB of address space and a few
 * hundred KiB resident each); vigild's threads are serialised by the one
 * lock anyway, so one arena costs no contention worth measuring.
 * vg_spool_lean_memory() before the spool opens: SQLite allocates cache
 * pages one by one instead of a 20-page block on the first read (~87 kB
 * of heap of which an idle spool uses a few pages).
 *
 * Signals: SIGTERM/SIGINT stop (spool committed, status "offline"
 * published, MQTT disconnected, running actions waited for up to their
 * timeout), SIGHUP reloads the config file.  Exit status: 0 clean stop,
 * 1 runtime error at start (spool, data dir, key, MQTT client), 2 bad
 * usage or configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent_conf.h"
#include "log.h"
#include "metrics.h"
#include "model_mgr.h"
#include "mqtt_link.h"
#include "pipeline.h"
#include "spool.h"
#include "trip.h"
#include "uplink.h"
#include "vg_error.h"
#include "writer.h"

#define MAIN_WAKE_US    10000   /* longest sleep of the main loop */
#define MAIN_QUOTA_US   1000000 /* quota enforcement period */
#define MAIN_STATS_US   50000   /* spool statistics refresh period */
#define MAIN_STATUS_MAX 8192    /* encoded status */

static volatile sig_atomic_t sig_stop; /* SIGTERM / SIGINT seen */
static volatile sig_atomic_t sig_hup;  /* SIGHUP seen */

/* A message the main thread queued under the lock, sent after unlocking:
 * the main thread never calls Paho while holding the lock, because Paho may
 * be inside one of our handlers waiting for it (lock-order deadlock).
 * Handlers, which run on Paho's thread, call Paho directly (allowed). */
struct outmsg {
    char suffix[16]; /* topic suffix */
    uint8_t *buf;    /* owned copy */
    size_t len;      /* its length */
    int retain;      /* retained publish */
    vgd_chunk *ctx;  /* archive chunk context, or NULL */
};

struct daemon {
    pthread_mutex_t lock;      /* guards everything below */
    pthread_t main_thread;     /* the thread that runs main__loop */
    struct outmsg *out;        /* queued by the main thread */
    size_t nout, out_cap;      /* entries used / allocated */
    struct outmsg *chunk_q;    /* archive chunks of one pump (main thread only, no lock) */
    size_t nchunk, chunk_cap;  /* entries used / allocated */
    pthread_mutex_t wake_lock; /* leaf lock of the main loop's wake-up */
    pthread_cond_t wake;       /* work for the main loop */
    int woken;                 /* a wake-up is pending (wake_lock) */
    vgd_conf *conf;            /* settings (reloadable parts updated in place) */
    int argc;                  /* for SIGHUP reloads */
    char **argv;
    vg_spool *spool;
    vgd_writer *writer; /* owns the spool's writes; its own locks */
    vgd_model_mgr models;
    vgd_action action;
    vgd_metrics met;
    vgd_pipeline *pipe;
    vgd_uplink *up;
    vgd_link *link;
    int just_connected;       /* connected callback seen, main loop to greet */
    _Atomic int64_t ack_mark; /* committed mark to publish, -1 none (writer -> main) */
    int64_t ack_published;    /* last mark published (main thread) */
    uint64_t writer_errors;   /* writer's failed groups already counted */
    vgd_burst spool_burst;    /* log suppression of spool failures (writer thread) */
    uint8_t ack_buf[256];     /* samples ack encode buffer (main thread) */
    int64_t next_tick;        /* monotonic deadlines, us */
    int64_t next_status;
    int status_latched; /* latched flag of the last status published */
    int64_t next_metrics;
    int64_t next_quota;              /* main thread only (main__spool_work) */
    int64_t next_spool_st;           /* main thread only (main__spool_work) */
    vg_spool_stats spool_st;         /* last spool statistics (daemon lock) */
    int spool_st_ok;                 /* spool_st is filled */
    uint8_t status[MAIN_STATUS_MAX]; /* status encode buffer */
};

static int64_t main__clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void main__on_signal(int sig)
{
    if (sig == SIGHUP)
        sig_hup = 1;
    else
        sig_stop = 1;
}

/* Wakes the main loop (any thread, any lock held: wake_lock is a leaf). */
static void main__wake(struct daemon *d)
{
    pthread_mutex_lock(&d->wake_lock);
    d->woken = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->wake_lock);
}

/* Sleeps until woken or MAIN_WAKE_US have passed (main thread, no lock). */
static void main__sleep(struct daemon *d)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += MAIN_WAKE_US * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&d->wake_lock);
    while (!d->woken && !sig_stop)
        if (pthread_cond_timedwait(&d->wake, &d->wake_lock, &ts) == ETIMEDOUT)
            break;
    d->woken = 0;
    pthread_mutex_unlock(&d->wake_lock);
}

/* ---- Paho handlers (Paho's thread) ------------------------------------- */

static void main__on_message(void *user, int which, const void *buf, size_t len)
{
    struct daemon *d = user;
    int64_t t0 = main__clock(CLOCK_MONOTONIC);
    pthread_mutex_lock(&d->lock);
    int64_t now = main__clock(CLOCK_REALTIME);
    if (which == VGD_IN_SAMPLES) {
        vgd_pipeline_samples(d->pipe, buf, len, now);
        vgd_metrics_observe(&d->met, main__clock(CLOCK_MONOTONIC) - t0);
    } else if (which == VGD_IN_MODEL) {
        if (len > 0) /* an empty retained message clears the topic */
            vgd_pipeline_model(d->pipe, buf, len, now);
    } else {
        /* Publish the outcome now: the cleared latch, or the refusal and its
         * reason (status counters resets_refused / reset_refused_reason),
         * so an operator's tool need not wait for the heartbeat. */
        vgd_pipeline_reset(d->pipe, buf, len, now);
        d->next_status = 0;
    }
    /* A batch wakes it once committed (writer); a trip at once, to settle
     * it (vgd_pipeline_settle) as soon as this handler has let Paho go. */
    if (which != VGD_IN_SAMPLES || vgd_pipeline_unsettled(d->pipe))
        main__wake(d);
    pthread_mutex_unlock(&d->lock);
}

static void main__on_connected(void *user)
{
    struct daemon *d = user;
    pthread_mutex_lock(&d->lock);
    d->just_connected = 1;
    d->met.connects++;
    main__wake(d);
    pthread_mutex_unlock(&d->lock);
}

static void main__on_lost(void *user)
{
    struct daemon *d = user;
    pthread_mutex_lock(&d->lock);
    vgd_uplink_disconnected(d->up);
    pthread_mutex_unlock(&d->lock);
}

static void main__on_chunk(void *user, vgd_chunk *c, int ok)
{
    struct daemon *d = user;
    pthread_mutex_lock(&d->lock);
    vgd_uplink_done(c, ok);
    main__wake(d);
    pthread_mutex_unlock(&d->lock);
}

/* Appends a message to the queue q (n used, cap allocated). */
static int main__enqueue(struct outmsg **q, size_t *n, size_t *cap, const char *suffix,
                         const void *buf, size_t len, int retain, vgd_chunk *ctx)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        struct outmsg *nq = realloc(*q, ncap * sizeof(*nq));
        if (!nq)
            return VG_ENOMEM;
        *q = nq;
        *cap = ncap;
    }
    struct outmsg *m = &(*q)[*n];
    if (!(m->buf = malloc(len ? len : 1)))
        return VG_ENOMEM;
    memcpy(m->buf, buf, len);
    snprintf(m->suffix, sizeof m->suffix, "%s", suffix);
    m->len = len;
    m->retain = retain;
    m->ctx = ctx;
    (*n)++;
    return VG_OK;
}

/* Queues a message for main__flush (main thread, lock held). */
static int main__queue(struct daemon *d, const char *suffix, const void *buf, size_t len,
                       int retain, vgd_chunk *ctx)
{
    return main__enqueue(&d->out, &d->nout, &d->out_cap, suffix, buf, len, retain, ctx);
}

/* Sends what the main thread queued; called WITHOUT the lock. */
static void main__flush(struct daemon *d, struct outmsg *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct outmsg *m = &out[i];
        if (!m->ctx) {
            vgd_link_publish(d->link, m->suffix, m->buf, m->len, m->retain);
        } else if (vgd_link_send_chunk(d->link, m->buf, m->len, m->ctx) != VG_OK) {
            pthread_mutex_lock(&d->lock);
            vgd_uplink_done(m->ctx, 0);
            pthread_mutex_unlock(&d->lock);
        }
        free(m->buf);
    }
}

/* Sinks for the pipeline and the uplink: direct on Paho's thread, queued
 * on the main thread. */
static int main__publish(void *user, const char *suffix, const void *buf, size_t len, int retain)
{
    struct daemon *d = user;
    if (!d->link)
        return VG_EINVAL;
    if (pthread_equal(pthread_self(), d->main_thread))
        return main__queue(d, suffix, buf, len, retain, NULL);
    return vgd_link_publish(d->link, suffix, buf, len, retain);
}

/* The uplink's send: only main__pump pumps (main thread, the uplink's
 * spool lock held), so chunks are queued and sent after the pump. */
static int main__send_chunk(void *user, const void *buf, size_t len, vgd_chunk *c)
{
    struct daemon *d = user;
    return main__enqueue(&d->chunk_q, &d->nchunk, &d->chunk_cap, "archive", buf, len, 0, c);
}

/* Forwards spooled records (main thread, WITHOUT the daemon lock: the
 * receive thread keeps scoring while the uplink reads the spool). */
static void main__pump(struct daemon *d)
{
    if (!vgd_link_connected(d->link))
        return;
    d->nchunk = 0;
    vgd_uplink_pump(d->up, main__clock(CLOCK_MONOTONIC));
    main__flush(d, d->chunk_q, d->nchunk);
    d->nchunk = 0;
}

/* ---- spool writer callbacks (writer thread, no lock held) -------------- */

/* Encodes the samples ack for `mark` into buf; returns its length, 0 when
 * it does not fit. */
static size_t main__ack(const struct daemon *d, uint64_t mark, uint8_t *buf, size_t cap)
{
    vg_samples_ack a = {.seq = mark, .t_us = main__clock(CLOCK_REALTIME)};
    snprintf(a.device, sizeof a.device, "%.*s", VG_DEVICE_MAX, d->conf->device);
    size_t len;
    return vg_samples_ack_encode(&a, buf, cap, &len) == VG_OK ? len : 0;
}

/* The committed mark moved: hand it to the main loop, which publishes it.
 * The writer must never call Paho: Paho's receive thread may be inside
 * main__on_message waiting for room in the writer's queue while holding
 * Paho's own lock (a deadlock until the keepalive timed out), and it must
 * never wait for the daemon lock for the same reason. */
static void main__on_committed(void *user, uint64_t mark)
{
    struct daemon *d = user;
    atomic_store(&d->ack_mark, (int64_t)mark);
    main__wake(d);
}

/* A group failed: logged here, counted by main__gauges (no daemon lock:
 * see main__on_committed). */
static void main__on_spool_failed(void *user, int rc, const char *msg, uint64_t lost)
{
    struct daemon *d = user; /* spool_burst: this (writer) thread only */
    vgd_log_burst(&d->spool_burst, main__clock(CLOCK_MONOTONIC), 10000000, VGD_ERR,
                  "spool: %s (%" PRIu64 " records rolled back; sample batches among them "
                  "are not acknowledged and will be accepted again)",
                  msg[0] ? msg : vg_strerror(rc), lost);
}

/* Publishes the committed mark when it moved (main thread, no lock). */
static void main__publish_ack(struct daemon *d)
{
    int64_t mark = atomic_load(&d->ack_mark);
    if (mark < 0 || mark == d->ack_published || !vgd_link_connected(d->link))
        return;
    size_t len = main__ack(d, (uint64_t)mark, d->ack_buf, sizeof d->ack_buf);
    if (len && vgd_link_publish(d->link, "samples/ack", d->ack_buf, len, 0) == VG_OK)
        d->ack_published = mark;
}

/* ---- periodic work (main thread, under the lock) ----------------------- */

/* Reads the spool's statistics into d->spool_st (main thread, WITHOUT
 * the daemon lock: the spool lock may be held by the writer for a commit,
 * and the receive thread must not wait behind us meanwhile); then stores
 * them under the daemon lock for main__gauges. */
static void main__spool_stats(struct daemon *d)
{
    vg_spool_stats st;
    if (d->writer)
        vgd_writer_lock_spool(d->writer);
    int rc = vg_spool_get_stats(d->spool, &st);
    if (d->writer)
        vgd_writer_unlock_spool(d->writer);
    pthread_mutex_lock(&d->lock);
    if (rc == VG_OK) {
        d->spool_st = st;
        d->spool_st_ok = 1;
    }
    pthread_mutex_unlock(&d->lock);
}

/* Refreshes the metrics' gauges from the last spool statistics, the
 * writer and the pipeline (daemon lock held; no spool lock taken). */
static void main__gauges(struct daemon *d, int64_t now)
{
    vgd_writer_stats ws;
    if (d->writer) { /* NULL only while stopping, after the writer's end */
        vgd_writer_stats_get(d->writer, &ws);
        d->met.spool_commits = ws.groups;
        d->met.spool_errors += ws.errors - d->writer_errors;
        d->writer_errors = ws.errors;
        d->met.spool_gaps_dropped = ws.gaps_dropped;
        d->met.spool_queue = ws.queued;
        d->met.acked_seq = ws.mark;
    }
    const vg_spool_stats *st = &d->spool_st;
    if (d->spool_st_ok) {
        d->met.spool_bytes = st->db_bytes;
        d->met.backlog = st->backlog;
        d->met.backlog_bytes = st->backlog_bytes;
        d->met.evicted_lost = st->evicted.lost_samples;
        d->met.uplink_lag_s =
            st->oldest_unsent_rx == INT64_MAX ? 0.0 : (double)(now - st->oldest_unsent_rx) * 1e-6;
        if (d->met.uplink_lag_s < 0)
            d->met.uplink_lag_s = 0;
    }
    d->met.model_version = vgd_pipeline_model_version(d->pipe);
    d->met.connected = d->link && vgd_link_connected(d->link);
    d->met.latched = vgd_pipeline_latched(d->pipe);
}

/* Encodes the status (online or not) into d->status; returns its length
 * or 0 when it does not fit. */
static size_t main__status(struct daemon *d, int online, int64_t now)
{
    static vg_status st; /* ~3 KiB; main thread (or before threads) only */
    memset(&st, 0, sizeof st);
    snprintf(st.device, sizeof st.device, "%.*s", VG_DEVICE_MAX, d->conf->device);
    st.online = (uint8_t)online;
    st.t_us = now;
    if (d->pipe) {
        main__gauges(d, now);
        st.latched = (uint8_t)vgd_pipeline_latched(d->pipe);
        st.model_version = vgd_pipeline_model_version(d->pipe);
        vgd_metrics_to_status(&d->met, &st);
    }
    size_t len;
    return vg_status_encode(&st, d->status, sizeof d->status, &len) == VG_OK ? len : 0;
}

static void main__publish_status(struct daemon *d, int online, int64_t now)
{
    d->status_latched = vgd_pipeline_latched(d->pipe);
    size_t len = main__status(d, online, now);
    if (len)
        main__publish(d, "status", d->status, len, 1);
}

static void main__actions(struct daemon *d, int64_t mono)
{
    vgd_action_result r = {0};
    vgd_action_poll(&d->action, mono, &r);
    d->met.actions_failed += r.failed;
    d->met.actions_killed += r.killed;
    if (r.failed || r.killed)
        vgd_log(VGD_ERR, "trip action: %u failed, %u killed at the %u ms timeout", r.failed,
                r.killed, d->conf->action_timeout_ms);
}

static void main__quota(struct daemon *d)
{
    vg_spool_evicted ev = {0};
    if (d->writer)
        vgd_writer_lock_spool(d->writer);
    int rc = vg_spool_enforce_quota(d->spool, &ev);
    if (d->writer)
        vgd_writer_unlock_spool(d->writer);
    if (ev.lost_samples)
        vgd_log(VGD_WARN,
                "spool quota: evicted %" PRIu64 " unsent sample batches (%" PRIu64
                " bytes) - data lost",
                ev.lost_samples, ev.lost_bytes);
    if (rc != VG_OK && rc != VG_ENOSPC)
        vgd_log(VGD_ERR, "spool quota: %s", vg_spool_errmsg(d->spool));
}

/* The main loop's spool work, WITHOUT the daemon lock (the spool lock
 * can be held by the writer for a whole group commit): the quota every
 * MAIN_QUOTA_US, the statistics for the gauges every MAIN_STATS_US. */
static void main__spool_work(struct daemon *d)
{
    int64_t mono = main__clock(CLOCK_MONOTONIC);
    if (mono >= d->next_quota) {
        d->next_quota = mono + MAIN_QUOTA_US;
        main__quota(d);
    }
    if (mono >= d->next_spool_st) {
        d->next_spool_st = mono + MAIN_STATS_US;
        main__spool_stats(d);
    }
}

/* Whether detection settings differ: the engine settings (but its chan
 * pointer, which points into each config) and the listed channels; slots
 * past nchan are unset (vg_conf_init). */
static int main__det_changed(const vg_conf *a, const vg_conf *b)
{
    const size_t at = offsetof(vg_engine_config, chan), after = at + sizeof a->engine.chan;
    return memcmp(&a->engine, &b->engine, at) != 0 ||
           memcmp((const char *)&a->engine + after, (const char *)&b->engine + after,
                  sizeof a->engine - after) != 0 ||
           memcmp(a->chan, b->chan, sizeof a->chan[0] * a->engine.nchan) != 0;
}

/* Applies the reloadable settings of a fresh config (SIGHUP). */
static void main__reload(struct daemon *d)
{
    vgd_conf *n = malloc(sizeof(*n));
    char err[512];
    int what, level;
    if (!n)
        return;
    if (vgd_conf_load(n, d->argc, d->argv, &what, err, sizeof err) != VG_OK) {
        vgd_log(VGD_ERR, "reload refused, keeping the running config: %s", err);
        free(n);
        return;
    }
    vgd_conf *c = d->conf;
    if (vgd_log_parse_level(n->log_level, &level) == VG_OK)
        vgd_log_set_level(level);
    memcpy(c->log_level, n->log_level, sizeof c->log_level);
    c->tick_ms = n->tick_ms;
    c->status_ms = n->status_ms;
    c->metrics_ms = n->metrics_ms;
    memcpy(c->command, n->command, sizeof c->command);
    memcpy(c->sysfs_path, n->sysfs_path, sizeof c->sysfs_path);
    memcpy(c->sysfs_value, n->sysfs_value, sizeof c->sysfs_value);
    c->action_timeout_ms = d->action.timeout_ms = n->action_timeout_ms;
    c->uplink_rate = n->uplink_rate;
    vgd_uplink_set_rate(d->up, n->uplink_rate);
    if (main__det_changed(&c->det, &n->det)) {
        n->det.engine.chan = n->det.chan;
        int rc = vgd_pipeline_reconfigure(d->pipe, &n->det.engine);
        if (rc == VG_OK) {
            c->det = n->det;
            c->det.engine.chan = c->det.chan;
        } else {
            vgd_log(VGD_ERR, "new detection config not applied: %s", vg_strerror(rc));
        }
    }
    vgd_log(VGD_INFO, "config reloaded (broker, device, data dir, [mqtt] and [spool] "
                      "except uplink_rate need a restart)");
    free(n);
}

/* One pass of the main loop (lock held). */
static void main__step(struct daemon *d)
{
    vgd_pipeline_settle(d->pipe); /* a trip Paho's thread left (pipeline.h) */
    int64_t mono = main__clock(CLOCK_MONOTONIC), now = main__clock(CLOCK_REALTIME);
    if (sig_hup) {
        sig_hup = 0;
        main__reload(d);
    }
    if (d->just_connected) {
        d->just_connected = 0;
        main__publish_status(d, 1, now);
        vgd_pipeline_on_connect(d->pipe);
        vgd_writer_stats ws;
        vgd_writer_stats_get(d->writer, &ws);
        size_t len =
            ws.mark >= 0 ? main__ack(d, (uint64_t)ws.mark, d->status, sizeof d->status) : 0;
        if (len) /* a device waiting since before our restart learns the mark */
            main__publish(d, "samples/ack", d->status, len, 0);
    }
    if (mono >= d->next_tick) {
        d->next_tick = mono + (int64_t)d->conf->tick_ms * 1000;
        vgd_pipeline_tick(d->pipe, now);
        vgd_pipeline_settle(d->pipe); /* a stale-data trip */
        main__actions(d, mono);
    }
    if (vgd_pipeline_latched(d->pipe) != d->status_latched)
        d->next_status = mono; /* a trip or reset shows in status at once */
    if (mono >= d->next_status && vgd_link_connected(d->link)) {
        d->next_status = mono + (int64_t)d->conf->status_ms * 1000;
        main__publish_status(d, 1, now);
    }
    if (d->conf->metrics_file[0] && mono >= d->next_metrics) {
        d->next_metrics = mono + (int64_t)d->conf->metrics_ms * 1000;
        main__gauges(d, now);
        if (vgd_metrics_write_file(&d->met, d->conf->device, d->conf->metrics_file) != VG_OK)
            vgd_log(VGD_WARN, "cannot write %s: %s", d->conf->metrics_file, strerror(errno));
    }
}

static void main__loop(struct daemon *d)
{
    struct outmsg *out = NULL;
    size_t cap = 0;
    while (!sig_stop) {
        pthread_mutex_lock(&d->lock);
        main__step(d);
        /* swap the queue out, send it, pump and (re)connect unlocked */
        struct outmsg *q = d->out;
        size_t n = d->nout, qcap = d->out_cap;
        d->out = out;
        d->out_cap = cap;
        d->nout = 0;
        pthread_mutex_unlock(&d->lock);
        main__flush(d, q, n);
        main__publish_ack(d);
        main__pump(d);
        main__spool_work(d);
        vgd_link_poll(d->link, main__clock(CLOCK_MONOTONIC));
        out = q;
        cap = qcap;
        main__sleep(d);
    }
    free(out);
}

/* ---- start and stop ---------------------------------------------------- */

static void main__signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static int main__sync_init(struct daemon *d)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&d->lock, NULL) || pthread_mutex_init(&d->wake_lock, NULL) ||
             pthread_cond_init(&d->wake, &ca);
    atomic_init(&d->ack_mark, -1);
    d->ack_published = -1;
    pthread_condattr_destroy(&ca);
    return rc ? VG_ENOMEM : VG_OK;
}

/* Opens the data dir, spool, models, pipeline and uplink. */
static int main__open(struct daemon *d)
{
    const vgd_conf *c = d->conf;
    char err[512], path[VGD_STR_MAX + 16];
    if (mkdir(c->data_dir, 0750) != 0 && errno != EEXIST) {
        vgd_log(VGD_ERR, "cannot create %s: %s", c->data_dir, strerror(errno));
        return VG_EIO;
    }
    /* the writer commits its groups itself: the spool never auto-commits
     * sample batches */
    vg_spool_opts so = {.quota_bytes = c->quota_bytes,
                        .commit_every = UINT32_MAX,
                        .commit_ms = c->commit_ms,
                        .sync_full = c->sync_full};
    snprintf(path, sizeof path, "%s/spool.db", c->data_dir);
    int rc = vg_spool_open(path, &so, &d->spool, err, sizeof err);
    if (rc != VG_OK) {
        vgd_log(VGD_ERR, "%s", err);
        return rc;
    }
    vgd_writer_opts wo = {.max_group = c->commit_every,
                          .user = d,
                          .committed = main__on_committed,
                          .failed = main__on_spool_failed};
    d->writer = vgd_writer_create(d->spool, &wo, &rc);
    if (!d->writer) {
        vgd_log(VGD_ERR, "cannot start the spool writer: %s", vg_strerror(rc));
        return rc;
    }
    rc = vgd_model_init(&d->models, c->device, c->data_dir, c->trust_key, err, sizeof err);
    if (rc != VG_OK) {
        vgd_log(VGD_ERR, "%s", err);
        return rc;
    }
    if (!c->trust_key[0])
        vgd_log(VGD_WARN, "no trust key: every model bundle will be rejected");
    vgd_action_init(&d->action, c->command, c->action_timeout_ms, c->sysfs_path, c->sysfs_value);
    vgd_pipeline_deps pd = {.device = c->device,
                            .data_dir = c->data_dir,
                            .engine = &c->det.engine,
                            .spool = d->spool,
                            .writer = d->writer,
                            .models = &d->models,
                            .action = &d->action,
                            .metrics = &d->met,
                            .sink = {d, main__publish}};
    d->pipe = vgd_pipeline_create(&pd, &rc);
    if (!d->pipe) {
        vgd_log(VGD_ERR, "cannot start the pipeline: %s (%s)", vg_strerror(rc),
                vg_spool_errmsg(d->spool));
        return rc;
    }
    vgd_uplink_opts uo = {.device = c->device,
                          .max_items = c->uplink_items,
                          .max_bytes = c->uplink_bytes,
                          .max_inflight = c->uplink_inflight,
                          .rate = c->uplink_rate,
                          .send = main__send_chunk,
                          .user = d};
    d->up = vgd_uplink_create(&uo, d->spool, d->writer, &d->met);
    return d->up ? VG_OK : VG_ENOMEM;
}

static int main__connect(struct daemon *d)
{
    char err[512];
    size_t will_len = main__status(d, 0, main__clock(CLOCK_REALTIME));
    vgd_link_handlers h = {d, main__on_message, main__on_connected, main__on_lost, main__on_chunk};
    int rc = vgd_link_create(d->conf, &h, d->status, will_len, &d->link, err, sizeof err);
    if (rc != VG_OK)
        vgd_log(VGD_ERR, "%s", err);
    return rc;
}

/* Orderly stop: offline status, disconnect, wait for actions, close. */
static void main__close(struct daemon *d)
{
    if (d->link) {
        pthread_mutex_lock(&d->lock);
        if (vgd_link_connected(d->link))
            main__publish_status(d, 0, main__clock(CLOCK_REALTIME));
        struct outmsg *q = d->out;
        size_t n = d->nout;
        d->out = NULL;
        d->nout = d->out_cap = 0;
        pthread_mutex_unlock(&d->lock);
        main__flush(d, q, n);
        free(q);
        vgd_link_destroy(d->link, 2000);
        d->link = NULL;
    }
    if (d->pipe) /* a trip of the last handler (no Paho thread is left) */
        vgd_pipeline_settle(d->pipe);
    if (vgd_writer_destroy(d->writer) != VG_OK)
        vgd_log(VGD_ERR, "spool: the last group commit failed");
    d->writer = NULL;
    vgd_action_result r = {0};
    while (vgd_action_poll(&d->action, main__clock(CLOCK_MONOTONIC), &r) > 0) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    if (d->spool)
        main__quota(d);
    if (d->conf->metrics_file[0] && d->pipe) {
        main__spool_stats(d);
        main__gauges(d, main__clock(CLOCK_REALTIME));
        vgd_metrics_write_file(&d->met, d->conf->device, d->conf->metrics_file);
    }
    vgd_uplink_destroy(d->up);
    free(d->chunk_q);
    vgd_pipeline_destroy(d->pipe);
    vgd_model_free(&d->models);
    if (d->spool && vg_spool_close(d->spool) != VG_OK)
        vgd_log(VGD_ERR, "spool: final commit failed");
}

int main(int argc, char **argv)
{
    static struct daemon d; /* zero-initialised, lives for the process */
    char err[512];
    int what, level;
    mallopt(M_ARENA_MAX, 1); /* one malloc arena (see the header) */
    vg_spool_lean_memory();  /* no up-front SQLite page-cache block (header) */
    d.conf = malloc(sizeof(*d.conf));
    d.main_thread = pthread_self();
    d.argc = argc;
    d.argv = argv;
    if (!d.conf)
        return 1;
    if (vgd_conf_load(d.conf, argc, argv, &what, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigild: %s\n", err);
        free(d.conf);
        return 2;
    }
    if (what != VGD_CLI_RUN) {
        if (what == VGD_CLI_HELP)
            vgd_conf_usage(stdout);
        else
            vgd_conf_print_keys(stdout);
        free(d.conf);
        return 0;
    }
    vgd_log_parse_level(d.conf->log_level, &level);
    vgd_log_init(d.conf->log_target, level, "vigild");
    main__signals();
    int rc = main__sync_init(&d);
    if (rc == VG_OK)
        rc = main__open(&d);
    if (rc == VG_OK)
        rc = main__connect(&d);
    if (rc == VG_OK) {
        vgd_log(VGD_INFO, "vigild %s for device %s, broker %s, data %s", VIGIL_VERSION,
                d.conf->device, d.conf->broker, d.conf->data_dir);
        main__loop(&d);
        vgd_log(VGD_INFO, "stopping");
    }
    main__close(&d);
    free(d.conf);
    return rc == VG_OK ? 0 : 1;
}
