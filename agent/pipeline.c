/*
 * pipeline.c - samples, ticks, models and resets through the engine, the
 * trip path and the spool (see pipeline.h).
 *
 * The trip path, inside the message handler: the local action, the latch
 * file written to a temp file and renamed over DATA_DIR/latched (in the
 * page cache: survives SIGKILL of vigild; 0.1-0.5 ms on ext4), the
 * shutdown queued to Paho (which writes it from its own thread once our
 * handler has returned) and the trip record queued to the spool writer
 * ahead of the batch that tripped (so no acknowledged batch is committed
 * without its trip).  The waits come after, on the daemon's main thread
 * and without its lock (vgd_pipeline_sync): the record's commit and the
 * fsyncs of the latch file and the data dir (survives power loss; 1-3 ms
 * on the benchmark's ext4).  None of them delays the shutdown
 * (docs/OPERATIONS.md "The trip path").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "pipeline.h"
#include "vg_error.h"
#include "vg_mvar.h"

#define PIPE_OUT_MAX  8192      /* encode buffer for alerts/shutdowns/acks */
#define PIPE_BURST_US 10000000  /* one log line per reason per 10 s */
#define PIPE_LATCH    "latched" /* latch file in the data dir */
#define PIPE_MVAR     "mvar"    /* channel name of the multivariate alerts */

struct vgd_pipeline {
    vgd_pipeline_deps d;                  /* borrowed dependencies */
    vg_engine *eng;                       /* owned */
    vg_block block[VG_BATCH_MAX_CHANNEL]; /* decode target */
    char latch_path[4096];                /* DATA_DIR/latched */
    uint64_t cur_seq;                     /* seq of the batch being scored */
    uint64_t next_seq[VG_SPOOL_NKIND];    /* next spool seq of alert/trip/model */
    int latched;                          /* a trip is latched */
    vg_shutdown latch;                    /* the latched trip's shutdown */
    int unsynced;                         /* a trip awaits vgd_pipeline_sync */
    vgd_burst burst[VG_ESTATUS_MAX];      /* log suppression per reason */
    vgd_burst spool_burst;                /* log suppression of spool errors */
    uint8_t out[PIPE_OUT_MAX];            /* encode buffer */
    vg_mvar *mv;                          /* the model's multivariate part: allocated
                                           * with the first model that has one (~100 kB
                                           * a device without one does not pay), owned */
    uint64_t mv_version;                  /* model it runs from, 0 = none */
    int64_t mv_now;                       /* now_us of the batch it scores */
    struct pipe_open *open;               /* alerts raised now, one per channel, owned */
    size_t nopen, open_cap;               /* entries used / allocated */
};

/* An alert raised and not cleared yet.  `stale`: raised by a detector
 * that is gone (the previous run, or the engine a SIGHUP replaced), so no
 * detector will clear it: the pipeline does (pipe__open_emit). */
struct pipe_open {
    vg_alert a; /* the raising edge */
    int stale;  /* its detector is gone */
};

/* Microseconds of clock `id` (CLOCK_MONOTONIC: action deadlines;
 * CLOCK_REALTIME: edges the pipeline makes itself). */
static int64_t pipe__clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Counts and logs (once per burst) a refusal; returns rc. */
static int pipe__reject(vgd_pipeline *p, int rc, uint64_t n, int64_t now_us, const char *what)
{
    p->d.metrics->rejected[rc] += n;
    vgd_log_burst(&p->burst[rc], now_us, PIPE_BURST_US, VGD_WARN, "rejected %s: %s", what,
                  vg_strerror(rc));
    return rc;
}

/* Queues one record for the spool writer (which commits it with its
 * group); a failure to queue (out of memory) is counted and logged, never
 * fatal.  Commit failures are the writer's to report. */
static int pipe__spool(vgd_pipeline *p, int kind, uint64_t seq, const void *buf, size_t len,
                       int64_t now_us)
{
    int rc = vgd_writer_append(p->d.writer, kind, seq, vg_engine_model_version(p->eng), now_us, buf,
                               len);
    if (rc != VG_OK) {
        p->d.metrics->spool_errors++;
        vgd_log_burst(&p->spool_burst, now_us, PIPE_BURST_US, VGD_ERR, "spool: cannot queue: %s",
                      vg_strerror(rc));
    }
    return rc;
}

static void pipe__publish(vgd_pipeline *p, const char *suffix, const void *buf, size_t len,
                          int retain)
{
    int rc = p->d.sink.publish(p->d.sink.user, suffix, buf, len, retain);
    if (rc != VG_OK)
        vgd_log(VGD_WARN, "publish on %s failed: %s (kept in the spool)", suffix, vg_strerror(rc));
}

/* Encodes, spools and publishes alert *a. */
static void pipe__alert_out(vgd_pipeline *p, const vg_alert *a, int64_t now_us)
{
    size_t len;
    if (vg_alert_encode(a, p->out, sizeof p->out, &len) != VG_OK)
        return;
    pipe__spool(p, VG_ARCH_ALERT, p->next_seq[VG_ARCH_ALERT]++, p->out, len, now_us);
    pipe__publish(p, "alerts", p->out, len, 0);
}

static void pipe__open_track(vgd_pipeline *p, const vg_alert *a, int64_t now_us);
static void pipe__open_drop(vgd_pipeline *p, int mvar, int64_t now_us);

/* An alert edge on channel c: a stale alert of the channel cleared first
 * (pipe__open_track), then encoded, spooled and published. */
static void pipe__alert(vgd_pipeline *p, const vg_channel *c, const vg_verdict *v, int64_t t_us,
                        double x, int64_t now_us)
{
    vg_alert a = {0};
    snprintf(a.device, sizeof a.device, "%s", p->d.device);
    snprintf(a.channel, sizeof a.channel, "%s", c->name);
    a.raised = v->alert_edge == 1;
    a.detector = a.raised ? v->det : c->det.alert_det;
    a.t_us = t_us;
    a.value = isfinite(x) ? x : 0.0;
    a.score = v->score;
    a.model_version = vg_engine_model_version(p->eng);
    a.seq = p->cur_seq;
    pipe__open_track(p, &a, now_us);
    if (a.raised)
        p->d.metrics->alerts_raised++;
    else
        p->d.metrics->alerts_cleared++;
    vgd_log(VGD_INFO, "alert %s on %s: %s score %.3f value %g", a.raised ? "raised" : "cleared",
            c->name, vg_detector_name(a.detector), a.score, a.value);
    pipe__alert_out(p, &a, now_us);
}

/* Fills the shutdown for a trip of channel c decided at t_us. */
static void pipe__shutdown(vgd_pipeline *p, const vg_channel *c, const vg_verdict *v, int64_t t_us,
                           vg_shutdown *sd)
{
    memset(sd, 0, sizeof(*sd));
    snprintf(sd->device, sizeof sd->device, "%s", p->d.device);
    snprintf(sd->channel, sizeof sd->channel, "%s", c->name);
    sd->detector = v->trip_det;
    sd->trip_id = p->next_seq[VG_ARCH_TRIP]++;
    sd->t_us = t_us;
    sd->model_version = vg_engine_model_version(p->eng);
    if (v->trip_det == VG_DET_STALE)
        snprintf(sd->reason, sizeof sd->reason, "stale: no sample for %.3f s",
                 (double)c->par.stale_us * 1e-6);
    else
        snprintf(sd->reason, sizeof sd->reason, "%s: outside [%g, %g]",
                 vg_detector_name(v->trip_det), c->par.lo, c->par.hi);
    uint32_t n = vg_window_count(&c->win), k = c->par.deb_m;
    if (k > VG_SHUTDOWN_MAX_SAMPLES)
        k = VG_SHUTDOWN_MAX_SAMPLES;
    if (k > n || v->trip_det == VG_DET_STALE)
        k = v->trip_det == VG_DET_STALE ? 0 : n;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t pos = (c->win.tail + n - k + i) & c->win.mask;
        sd->samples[i].t_us = c->win.t[pos];
        sd->samples[i].value = c->win.v[pos];
    }
    sd->nsamples = k;
}

/* Writes the latch atomically without syncing: DATA_DIR/latched.tmp,
 * then rename.  VG_OK or VG_EIO. */
static int pipe__latch_write(const vgd_pipeline *p, const void *buf, size_t len)
{
    char tmp[sizeof p->latch_path + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->latch_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return VG_EIO;
    ssize_t w;
    do
        w = write(fd, buf, len);
    while (w < 0 && errno == EINTR);
    int rc = w == (ssize_t)len ? VG_OK : VG_EIO;
    if (close(fd) != 0 || (rc == VG_OK && rename(tmp, p->latch_path) != 0))
        rc = VG_EIO;
    if (rc != VG_OK)
        unlink(tmp);
    return rc;
}

/* fsyncs `path` opened with `flags`; VG_OK, VG_EMISSING (no such file)
 * or VG_EIO. */
static int pipe__fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VG_EMISSING : VG_EIO;
    int rc = fsync(fd) == 0 ? VG_OK : VG_EIO;
    close(fd);
    return rc;
}

/* Makes the renamed latch durable: the file, then the data dir.  A latch
 * file a reset removed meanwhile is not an error (the dir is still synced:
 * the removal becomes durable too).  Touches only constant fields, so it
 * runs without the daemon lock. */
static int pipe__latch_sync(const vgd_pipeline *p)
{
    int rc = pipe__fsync_path(p->latch_path, O_RDONLY);
    if (rc != VG_OK && rc != VG_EMISSING)
        return rc;
    return pipe__fsync_path(p->d.data_dir, O_RDONLY | O_DIRECTORY);
}

/* A trip edge, inside the message handler (or the main loop's tick): the
 * local action, the latch file (written and renamed, no fsync: 0.1-0.5 ms
 * on ext4), the retained shutdown's publish and the trip record queued to
 * the spool writer ahead of the batch that tripped, and nothing that waits
 * on a disk.  Paho holds its client lock while our handler runs and its
 * send thread needs it to write the shutdown, so the waits (the record's
 * commit, the fsyncs) are left to vgd_pipeline_sync, which the main thread
 * runs without the daemon lock right after.  A subscriber therefore never
 * sees a shutdown whose latch file is not in place. */
static void pipe__trip(vgd_pipeline *p, const vg_channel *c, const vg_verdict *v, int64_t t_us,
                       int64_t now_us)
{
    vg_shutdown *sd = &p->latch;
    pipe__shutdown(p, c, v, t_us, sd);
    p->latched = 1;
    p->unsynced = 1;
    p->d.metrics->trips++;
    int arc = vgd_action_run(p->d.action, sd, pipe__clock_us(CLOCK_MONOTONIC));
    p->d.metrics->actions_run++;
    if (arc != VG_OK)
        p->d.metrics->actions_failed++;
    size_t len;
    int erc = vg_shutdown_encode(sd, p->out, sizeof p->out, &len);
    if (erc == VG_OK) {
        if (pipe__latch_write(p, p->out, len) != VG_OK)
            vgd_log(VGD_ERR, "cannot write the latch file %s", p->latch_path);
        pipe__publish(p, "cmd/shutdown", p->out, len, 1);
        pipe__spool(p, VG_ARCH_TRIP, sd->trip_id, p->out, len, now_us);
    }
    vgd_log(VGD_ERR, "TRIP %" PRIu64 " on %s: %s (local action: %s%s%s)", sd->trip_id, c->name,
            sd->reason, arc == VG_OK ? "started" : vg_strerror(arc),
            erc == VG_OK ? "" : "; not published: ", erc == VG_OK ? "" : vg_strerror(erc));
}

int vgd_pipeline_sync_due(const vgd_pipeline *p)
{
    return p->unsynced;
}

int vgd_pipeline_take_sync(vgd_pipeline *p)
{
    int due = p->unsynced;
    p->unsynced = 0;
    return due;
}

int vgd_pipeline_sync(const vgd_pipeline *p)
{
    int rc = vgd_writer_flush(p->d.writer);
    if (rc != VG_OK)
        vgd_log(VGD_ERR, "trip: the spool commit failed: %s (the latch file holds it)",
                vg_strerror(rc));
    int lrc = pipe__latch_sync(p);
    if (lrc != VG_OK)
        vgd_log(VGD_ERR, "cannot fsync the latch file %s", p->latch_path);
    return rc != VG_OK ? rc : lrc;
}

/* Acts on one verdict of channel c. */
static void pipe__verdict(vgd_pipeline *p, const vg_channel *c, const vg_verdict *v, int64_t t_us,
                          double x, int64_t now_us)
{
    if (v->trip_edge)
        pipe__trip(p, c, v, t_us, now_us);
    if (v->alert_edge)
        pipe__alert(p, c, v, t_us, x, now_us);
}

/* Samples of a block decoded per vg_engine_push_block call (4 KiB of stack). */
#define PIPE_CHUNK 256

/* What pipe__event needs to act on an event of one decoded chunk. */
struct pipe_chunk {
    vgd_pipeline *p;
    int64_t now_us;
    int64_t t[PIPE_CHUNK]; /* the chunk's times ... */
    double x[PIPE_CHUNK];  /* ... and values */
};

/* vg_engine_push_block's report of sample i: a refusal or an edge. */
static void pipe__event(void *user, vg_channel *c, uint32_t i, int rc, const vg_verdict *v)
{
    struct pipe_chunk *k = user;
    if (rc != VG_OK)
        pipe__reject(k->p, rc, 1, k->now_us, "sample");
    else
        pipe__verdict(k->p, c, v, k->t[i], k->x[i], k->now_us);
}

/* Scores every sample of block b, decoded PIPE_CHUNK at a time, one
 * vg_engine_push_block call each; returns the samples accepted. */
static uint64_t pipe__block(vgd_pipeline *p, const vg_samples *s, const vg_block *b, int64_t now_us)
{
    vg_channel *c;
    int rc = vg_engine_lookup(p->eng, b->name, b->name_len, &c);
    if (rc != VG_OK) {
        pipe__reject(p, rc == VG_EINVAL ? VG_ECHANNEL : rc, 1, now_us, "channel block");
        return 0;
    }
    struct pipe_chunk k;
    k.p = p;
    k.now_us = now_us;
    uint64_t ok = 0;
    for (uint32_t base = 0; base < b->n; base += PIPE_CHUNK) {
        uint32_t n = b->n - base < PIPE_CHUNK ? b->n - base : PIPE_CHUNK;
        for (uint32_t i = 0; i < n; i++) {
            k.t[i] = vg_block_time(b, s->t0_us, base + i);
            k.x[i] = vg_block_value(b, base + i);
        }
        ok += vg_engine_push_block(p->eng, c, k.t, k.x, n, pipe__event, &k);
    }
    return ok;
}

/* An alert edge of the multivariate detector (vg_mvar.h): published as an
 * alert of channel "mvar", detector "mvar". */
static void pipe__mvar_row(void *user, int64_t t_us, const vg_mvar_out *o)
{
    static const vg_channel mv_chan = {.name = PIPE_MVAR, .det = {.alert_det = VG_DET_MVAR}};
    vgd_pipeline *p = user;
    vg_verdict v = {.score = o->score, .det = VG_DET_MVAR, .alert = o->alert};
    v.alert_edge = o->alert_edge;
    if (o->alert_edge)
        pipe__alert(p, &mv_chan, &v, t_us, NAN, p->mv_now);
}

/* Scores batch s with the running model's multivariate part, if it has
 * one; restarted whenever the model changes (an alert it held cleared
 * first).  O(rows x p k). */
static void pipe__mvar(vgd_pipeline *p, const vg_samples *s, int64_t now_us)
{
    const vg_model *m = vg_engine_model(p->eng);
    uint64_t ver = m && m->mvar.p ? m->version : 0;
    if (ver && !p->mv && !(p->mv = malloc(sizeof(*p->mv)))) {
        vgd_log_burst(&p->burst[VG_ENOMEM], now_us, PIPE_BURST_US, VGD_ERR,
                      "multivariate detector not run: %s", vg_strerror(VG_ENOMEM));
        ver = 0;
    }
    p->mv_now = now_us;
    if (ver != p->mv_version) {
        if (p->mv_version) /* a running detector: the alert it held, cleared first */
            pipe__open_drop(p, 1, now_us);
        p->mv_version = ver && vg_mvar_init(p->mv, &m->mvar, 0.5, 0.45) == VG_OK ? ver : 0;
    }
    if (p->mv_version)
        vg_mvar_batch(p->mv, s, pipe__mvar_row, p);
}

int vgd_pipeline_samples(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us)
{
    if (len > VG_MSG_MAX_BYTES)
        return pipe__reject(p, VG_ETOOBIG, 1, now_us, "samples batch");
    vg_samples s = {.block = p->block, .block_cap = VG_BATCH_MAX_CHANNEL};
    int rc = vg_samples_decode(buf, len, &s);
    if (rc != VG_OK)
        return pipe__reject(p, rc, 1, now_us, "samples batch");
    if (strcmp(s.device, p->d.device) != 0)
        return pipe__reject(p, VG_EDEVICE, 1, now_us, "samples batch");
    rc = vgd_writer_seq_check(p->d.writer, s.seq);
    if (rc != VG_OK)
        return pipe__reject(p, rc, 1, now_us, "samples batch");
    p->cur_seq = s.seq;
    uint64_t ok = 0;
    for (uint32_t b = 0; b < s.nblock; b++)
        ok += pipe__block(p, &s, &s.block[b], now_us);
    pipe__mvar(p, &s, now_us);
    p->d.metrics->batches_in++;
    p->d.metrics->samples_in += ok;
    return pipe__spool(p, VG_ARCH_SAMPLES, s.seq, buf, len, now_us);
}

void vgd_pipeline_tick(vgd_pipeline *p, int64_t now_us)
{
    uint32_t n = vg_engine_count(p->eng);
    for (uint32_t i = 0; i < n; i++) {
        vg_channel *c = vg_engine_channel(p->eng, i);
        vg_verdict v;
        vg_engine_tick(p->eng, c, now_us, &v);
        if (v.alert_edge || v.trip_edge)
            pipe__verdict(p, c, &v, now_us, NAN, now_us);
    }
}

int vgd_pipeline_model(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us)
{
    vg_model_ack ack;
    int rc = vgd_model_offer(p->d.models, p->eng, buf, len, now_us, &ack);
    if (rc == VG_EEXIST)
        return rc;
    if (rc == VG_OK || ack.applied) {
        p->d.metrics->models_applied++;
        vgd_log(VGD_INFO, "model %" PRIu64 " applied%s", ack.version,
                rc == VG_OK ? "" : " (but not persisted)");
    } else {
        p->d.metrics->models_rejected[rc]++;
        vgd_log(VGD_WARN, "model %" PRIu64 " rejected: %s; still running %" PRIu64, ack.version,
                vg_strerror(rc), ack.running_version);
    }
    size_t olen;
    if (vg_model_ack_encode(&ack, p->out, sizeof p->out, &olen) == VG_OK) {
        pipe__spool(p, VG_ARCH_MODEL, p->next_seq[VG_ARCH_MODEL]++, p->out, olen, now_us);
        pipe__publish(p, "model/ack", p->out, olen, 0);
    }
    return rc;
}

int vgd_pipeline_reset(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us)
{
    vg_reset r;
    int rc = vg_reset_decode(buf, len, &r);
    if (rc == VG_OK && strcmp(r.device, p->d.device) != 0)
        rc = VG_EDEVICE;
    if (rc == VG_OK && r.trip_id != 0 && p->latched && r.trip_id != p->latch.trip_id)
        rc = VG_EINVAL;
    if (rc == VG_OK)
        rc = vg_engine_reset_trips(p->eng);
    if (rc != VG_OK) {
        p->d.metrics->resets_refused++;
        p->d.metrics->reset_refused_reason = (uint64_t)rc;
        vgd_log(VGD_WARN, "reset refused: %s", vg_strerror(rc));
        return rc;
    }
    p->d.metrics->resets_ok++;
    if (p->latched) {
        vgd_log(VGD_INFO, "trip %" PRIu64 " reset by '%s'", p->latch.trip_id, r.operator_id);
        p->latched = 0;
        if (vgd_file_remove(p->latch_path) != VG_OK)
            vgd_log(VGD_ERR, "cannot remove the latch file %s", p->latch_path);
        pipe__publish(p, "cmd/shutdown", NULL, 0, 1);
    }
    (void)now_us;
    return VG_OK;
}

/* ---- alerts raised now ----------------------------------------------------
 * Alerts are edges: a detector that is replaced would leave its raised
 * alert raised upstream for good (and a fresh raise would follow a raise).
 * That happens at a restart (detectors start afresh) and at a SIGHUP that
 * changes the detection settings (a new engine; the multivariate detector
 * keeps running).  So the pipeline keeps the alerts raised now, one per
 * channel (p->open): at start from the spool's alert records (the last
 * edge of each channel), then from every edge.  An alert whose detector is
 * gone is cleared by the pipeline, score 0, with the current model
 * version: after a restart just before the channel's next edge or on the
 * first connect, after a SIGHUP at once.  If the cause is still there the
 * new detector raises it again.  Costs O(c) per edge for c channels
 * raised, O(a c) at start for a alert records. */

/* Index of channel's entry in p->open, or -1. */
static long pipe__open_find(const vgd_pipeline *p, const char *channel)
{
    for (size_t i = 0; i < p->nopen; i++)
        if (strcmp(p->open[i].a.channel, channel) == 0)
            return (long)i;
    return -1;
}

/* Records a raising edge (replacing the channel's entry) or forgets the
 * channel's entry on a clearing edge.  Best effort: out of memory, the
 * alert is not tracked. */
static void pipe__open_set(vgd_pipeline *p, const vg_alert *a, int stale)
{
    long i = pipe__open_find(p, a->channel);
    if (!a->raised) {
        if (i >= 0)
            p->open[i] = p->open[--p->nopen];
        return;
    }
    if (i < 0 && p->nopen == p->open_cap) {
        size_t cap = p->open_cap ? 2 * p->open_cap : 8;
        struct pipe_open *n = realloc(p->open, cap * sizeof(*n));
        if (!n)
            return;
        p->open = n;
        p->open_cap = cap;
    }
    p->open[i >= 0 ? (size_t)i : p->nopen++] = (struct pipe_open){*a, stale};
}

/* vg_spool_scan callback: the previous run's edges, oldest first. */
static void pipe__open_row(void *user, const void *buf, size_t len)
{
    vg_alert a;
    if (vg_alert_decode(buf, len, &a) == VG_OK)
        pipe__open_set(user, &a, 1);
}

/* Reads the alerts the previous run left raised (best effort: a failure
 * is logged and leaves none). */
static void pipe__open_load(vgd_pipeline *p)
{
    vgd_writer_lock_spool(p->d.writer);
    int rc = vg_spool_scan(p->d.spool, VG_ARCH_ALERT, pipe__open_row, p);
    vgd_writer_unlock_spool(p->d.writer);
    if (rc != VG_OK)
        vgd_log(VGD_WARN, "alerts of the previous run not read: %s", vg_strerror(rc));
    if (p->nopen)
        vgd_log(VGD_INFO, "%zu alert(s) raised before the restart will be cleared", p->nopen);
}

/* Clears stale entry i of p->open: spooled and published, then removed. */
static void pipe__open_emit(vgd_pipeline *p, size_t i, int64_t now_us)
{
    vg_alert a = p->open[i].a;
    p->open[i] = p->open[--p->nopen];
    a.raised = 0;
    a.score = 0;
    a.t_us = now_us;
    a.model_version = vg_engine_model_version(p->eng);
    p->d.metrics->alerts_cleared++;
    vgd_log(VGD_INFO, "alert cleared on %s: its detector was restarted", a.channel);
    pipe__alert_out(p, &a, now_us);
}

/* The detectors of one kind are replaced (mvar: the multivariate one;
 * else the univariate ones): the alerts they held are cleared now. */
static void pipe__open_drop(vgd_pipeline *p, int mvar, int64_t now_us)
{
    for (size_t i = p->nopen; i-- > 0;)
        if ((strcmp(p->open[i].a.channel, PIPE_MVAR) == 0) == mvar)
            pipe__open_emit(p, i, now_us);
}

/* Clears every stale entry. */
static void pipe__open_emit_stale(vgd_pipeline *p, int64_t now_us)
{
    for (size_t i = p->nopen; i-- > 0;)
        if (p->open[i].stale)
            pipe__open_emit(p, i, now_us);
}

/* Before edge *a is published: a stale alert of its channel is cleared
 * first; then the edge is tracked. */
static void pipe__open_track(vgd_pipeline *p, const vg_alert *a, int64_t now_us)
{
    long i = p->nopen ? pipe__open_find(p, a->channel) : -1;
    if (i >= 0 && p->open[i].stale)
        pipe__open_emit(p, (size_t)i, now_us);
    pipe__open_set(p, a, 0);
}

void vgd_pipeline_on_connect(vgd_pipeline *p)
{
    size_t len;
    if (p->latched && vg_shutdown_encode(&p->latch, p->out, sizeof p->out, &len) == VG_OK)
        pipe__publish(p, "cmd/shutdown", p->out, len, 1);
    pipe__open_emit_stale(p, pipe__clock_us(CLOCK_REALTIME));
}

/* The latch file (its len bytes in p->out) holds a trip the spool does
 * not have: vigild was killed between the shutdown's publish and the trip
 * record's commit.  Records it now from the latch file, which holds the
 * same encoded shutdown, so no trip that went out is missing upstream. */
static void pipe__record_latch(vgd_pipeline *p, size_t len)
{
    if (p->latch.trip_id < p->next_seq[VG_ARCH_TRIP])
        return; /* already in the spool */
    vgd_log(VGD_WARN, "trip %" PRIu64 " was not in the spool: recorded from the latch file",
            p->latch.trip_id);
    pipe__spool(p, VG_ARCH_TRIP, p->latch.trip_id, p->out, len, p->latch.t_us);
    p->next_seq[VG_ARCH_TRIP] = p->latch.trip_id + 1;
}

/* Restores the alert / trip / model counters from the spool (the sample
 * seq is the writer's) and the latch from its file. */
static int pipe__restore(vgd_pipeline *p)
{
    int64_t last;
    for (int k = 0; k < VG_SPOOL_NKIND; k++) {
        vgd_writer_lock_spool(p->d.writer);
        int rc = vg_spool_last_seq(p->d.spool, k, &last);
        vgd_writer_unlock_spool(p->d.writer);
        if (rc != VG_OK)
            return rc;
        p->next_seq[k] = (uint64_t)(last + 1);
    }
    if (p->next_seq[VG_ARCH_TRIP] == 0)
        p->next_seq[VG_ARCH_TRIP] = 1; /* trip ids start at 1 */
    pipe__open_load(p);
    size_t len;
    if (vgd_file_read(p->latch_path, p->out, sizeof p->out, &len) == VG_OK &&
        vg_shutdown_decode(p->out, len, &p->latch) == VG_OK) {
        p->latched = 1;
        vgd_log(VGD_WARN, "trip %" PRIu64 " (%s) is latched from before the restart",
                p->latch.trip_id, p->latch.reason);
        pipe__record_latch(p, len);
    }
    return VG_OK;
}

vgd_pipeline *vgd_pipeline_create(const vgd_pipeline_deps *d, int *rc)
{
    vgd_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        *rc = VG_ENOMEM;
        return NULL;
    }
    p->d = *d;
    p->eng = vg_engine_create(d->engine, rc);
    if (p->eng && snprintf(p->latch_path, sizeof p->latch_path, "%s/%s", d->data_dir, PIPE_LATCH) >=
                      (int)sizeof p->latch_path)
        *rc = VG_EINVAL;
    else if (p->eng)
        *rc = pipe__restore(p);
    if (!p->eng || *rc != VG_OK) {
        vgd_pipeline_destroy(p);
        return NULL;
    }
    int mrc = vgd_model_restore(d->models, p->eng);
    if (mrc == VG_OK)
        vgd_log(VGD_INFO, "restored model %" PRIu64, vg_engine_model_version(p->eng));
    else if (mrc != VG_EMISSING)
        vgd_log(VGD_WARN, "last good model not restored: %s", vg_strerror(mrc));
    return p;
}

void vgd_pipeline_destroy(vgd_pipeline *p)
{
    if (!p)
        return;
    free(p->mv);
    free(p->open);
    vg_engine_destroy(p->eng);
    free(p);
}

int vgd_pipeline_reconfigure(vgd_pipeline *p, const vg_engine_config *cfg)
{
    int rc;
    vg_engine *e = vg_engine_create(cfg, &rc);
    if (!e)
        return rc;
    rc = vgd_model_reapply(p->d.models, e);
    if (rc != VG_OK && rc != VG_EMISSING)
        vgd_log(VGD_WARN, "running model does not fit the new config (%s): running without",
                vg_strerror(rc));
    vg_engine_destroy(p->eng);
    p->eng = e;
    pipe__open_drop(p, 0, pipe__clock_us(CLOCK_REALTIME)); /* the univariate detectors are new */
    return VG_OK;
}

int vgd_pipeline_latched(const vgd_pipeline *p)
{
    return p->latched;
}

uint64_t vgd_pipeline_model_version(const vgd_pipeline *p)
{
    return vg_engine_model_version(p->eng);
}

vg_engine *vgd_pipeline_engine(vgd_pipeline *p)
{
    return p->eng;
}
