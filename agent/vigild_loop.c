/*
 * vigild_loop.c - the daemon's main loop and its periodic work: the stale
 * watchdog tick, trip actions, the status heartbeat, the metrics file,
 * settling trips, SIGHUP reloads, then, without the daemon lock, the
 * queued sends, the committed mark, the uplink pump, the quota and the
 * spool statistics (see vigild.h for the threads and locks).  One pass
 * costs a few microseconds when there is nothing to do.  The loop sleeps
 * MAIN_WAKE_US while it has work in hand and otherwise until its next
 * deadline (main__next_wake): an idle daemon wakes every tick_ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vigild.h"

int64_t main__clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wakes the main loop (any thread, any lock held: wake_lock is a leaf). */
void main__wake(struct daemon *d)
{
    pthread_mutex_lock(&d->wake_lock);
    d->woken = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->wake_lock);
}

/* Sleeps until woken or the monotonic time until_us (main thread, no
 * lock). */
static void main__sleep(struct daemon *d, int64_t until_us)
{
    struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = until_us % 1000000 * 1000};
    pthread_mutex_lock(&d->wake_lock);
    while (!d->woken && !main__sig_stop)
        if (pthread_cond_timedwait(&d->wake, &d->wake_lock, &ts) == ETIMEDOUT)
            break;
    d->woken = 0;
    pthread_mutex_unlock(&d->wake_lock);
}

static int64_t main__min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The main loop's next deadline under the daemon lock (tick, status,
 * metrics file), at most MAIN_IDLE_US after mono (lock held: a reset
 * handler moves next_status). */
static int64_t main__deadline(const struct daemon *d, int64_t mono)
{
    int64_t t = main__min(mono + MAIN_IDLE_US, main__min(d->next_tick, d->next_status));
    return d->conf->metrics_file[0] ? main__min(t, d->next_metrics) : t;
}

/* When the main loop must run again at the latest (main thread, no lock):
 * MAIN_WAKE_US after mono while it has work in hand (`busy`: it sent or
 * pumped something, a committed mark is not yet published, or the link is
 * down and retrying), else its `deadline` or the quota's or the spool
 * statistics' (main thread only), whichever comes first.  Everything
 * else wakes it: a message, a commit, a PUBACK of an archive chunk, a trip
 * (main__wake).  An idle daemon thus wakes every tick_ms (100 ms by
 * default) instead of every 10 ms. */
static int64_t main__next_wake(const struct daemon *d, int busy, int64_t deadline, int64_t mono)
{
    if (busy || !vgd_link_connected(d->link) || atomic_load(&d->ack_mark) != d->ack_published)
        return mono + MAIN_WAKE_US;
    return main__min(deadline, main__min(d->next_quota, d->next_spool_st));
}

/* ---- periodic work (main thread, under the lock) ----------------------- */

/* Reads the spool's statistics into d->spool_st (main thread, WITHOUT
 * the daemon lock: the spool lock may be held by the writer for a commit,
 * and the receive thread must not wait behind us meanwhile); then stores
 * them under the daemon lock for main__gauges. */
void main__spool_stats(struct daemon *d)
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
void main__gauges(struct daemon *d, int64_t now)
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
    d->met.client_renewals = d->link ? vgd_link_renewals(d->link) : 0;
    d->met.latched = vgd_pipeline_latched(d->pipe);
}

/* Encodes the status (online or not) into d->status; returns its length
 * or 0 when it does not fit. */
size_t main__status(struct daemon *d, int online, int64_t now)
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

void main__publish_status(struct daemon *d, int online, int64_t now)
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

void main__quota(struct daemon *d)
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
    int64_t mono = main__clock(CLOCK_MONOTONIC), now = main__clock(CLOCK_REALTIME);
    if (main__sig_hup) {
        main__sig_hup = 0;
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

void main__loop(struct daemon *d)
{
    struct outmsg *out = NULL;
    size_t cap = 0;
    while (!main__sig_stop) {
        pthread_mutex_lock(&d->lock);
        main__step(d);
        int64_t deadline = main__deadline(d, main__clock(CLOCK_MONOTONIC));
        int sync = vgd_pipeline_take_sync(d->pipe); /* made durable after its shutdown */
        /* swap the queue out, send it, pump and (re)connect unlocked */
        struct outmsg *q = d->out;
        size_t n = d->nout, qcap = d->out_cap;
        d->out = out;
        d->out_cap = cap;
        d->nout = 0;
        pthread_mutex_unlock(&d->lock);
        main__flush(d, q, n);
        if (sync)
            vgd_pipeline_sync(d->pipe);
        main__publish_ack(d);
        int pumped = main__pump(d);
        main__spool_work(d);
        int64_t mono = main__clock(CLOCK_MONOTONIC);
        vgd_link_poll(d->link, mono, &d->lock);
        out = q;
        cap = qcap;
        main__sleep(d, main__next_wake(d, n > 0 || pumped > 0, deadline, mono));
    }
    free(out);
}
