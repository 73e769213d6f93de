/*
 * run.c - the synthetic fleet: N devices, one MQTT session each, driven by
 * one simulation thread.
 *
 * Loop: for tick k (simulated time start + k / rate), wait until the wall
 * clock reaches start_wall + (k / rate) / speed (no wait with --speed 0 or
 * --max-rate), then tick every device in index order and publish each batch
 * that is full.  Publication order, and so the --dump file, is therefore a
 * pure function of the configuration and the commands received.  When a
 * device's in-flight window is full the loop blocks (backpressure); in paced
 * mode it then runs late and catches up once acknowledgements flow again.
 * At the end: publish partial batches, wait up to --drain seconds for every
 * PUBACK, disconnect, write the truth file, print the summary.
 *
 * Cost per tick: O(devices * channels) plus one encode and one Paho call per
 * published batch.  Memory: per device its batch, mailbox and inflight
 * window (--inflight slots of one encoded batch each), all allocated at
 * start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "device.h"
#include "dump.h"
#include "mqtt.h"
#include "outbox.h"
#include "simtime.h"
#include "summary.h"
#include "vg_error.h"
#include "vg_msg.h"

#define RUN_CLOSE_TIMEOUT_MS 2000

/* Everything one fleet run owns. */
typedef struct run_fleet {
    const sim_config *cfg;  /* configuration (borrowed) */
    sim_timing tm;          /* tick grid */
    uint32_t n;             /* devices */
    sim_device *dev;        /* [n] */
    sim_conn **conn;        /* [n], NULL in a dry run */
    sim_outbox *box;        /* [n], NULL in a dry run */
    uint64_t *dry_samples;  /* [n] samples "published" in a dry run */
    sim_sync sync;          /* shared lock */
    bool sync_ok;           /* sync initialised */
    FILE *dump;             /* --dump file or NULL */
    FILE *log;              /* stderr, or NULL with --quiet */
    uint8_t *buf;           /* encode buffer for dry runs */
    size_t buf_cap;         /* its size = slot size */
    int64_t wall0;          /* CLOCK_MONOTONIC at tick 0 */
    int64_t wall_published; /* ... at the last publication */
    double lag_max_s;       /* worst lateness of a tick */
    uint64_t ticks;         /* ticks run */
} run_fleet;

/* True when topic[0..tl) ends with the literal suffix. */
#define RUN_ENDS(topic, tl, suffix)                                                                \
    ((tl) >= sizeof(suffix) - 1 &&                                                                 \
     memcmp((topic) + (tl) - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0)

/* vigild's committed mark for device d (--device-ack). */
static void run__on_ack(sim_device *d, const void *payload, size_t len)
{
    vg_samples_ack a;
    if (d->box && vg_samples_ack_decode(payload, len, &a) == VG_OK &&
        strcmp(a.device, d->name) == 0)
        sim_outbox_covered(d->box, a.seq);
}

/* MQTT message handler of device d: queue shutdown/reset commands, take
 * vigild's samples acks. */
static void run__on_command(void *ctx, const char *topic, size_t tl, const void *payload,
                            size_t len)
{
    sim_device *d = ctx;
    if (RUN_ENDS(topic, tl, "/cmd/shutdown"))
        sim_mailbox_post(&d->mailbox, SIM_CMD_SHUTDOWN, payload, len);
    else if (RUN_ENDS(topic, tl, "/cmd/reset"))
        sim_mailbox_post(&d->mailbox, SIM_CMD_RESET, payload, len);
    else if (RUN_ENDS(topic, tl, "/samples/ack"))
        run__on_ack(d, payload, len);
}

/* Builds the name of device i into buf. */
static void run__device_name(const sim_config *cfg, uint32_t i, char *buf, size_t cap)
{
    if (cfg->device && cfg->devices == 1)
        snprintf(buf, cap, "%s", cfg->device);
    else
        snprintf(buf, cap, "%s-%u", cfg->prefix, i);
}

/* Creates the devices. */
static int run__devices(run_fleet *r)
{
    const sim_config *cfg = r->cfg;
    r->dev = calloc(r->n, sizeof *r->dev);
    if (!r->dev)
        return VG_ENOMEM;
    for (uint32_t i = 0; i < r->n; i++) {
        char name[VG_DEVICE_MAX + 8];
        run__device_name(cfg, i, name, sizeof name);
        int kind = sim_scenario_kind_for(&cfg->scenario, i);
        int rc = sim_device_init(&r->dev[i], name, i, cfg->seed, kind, cfg->scenario.channel,
                                 &r->tm, cfg->batch, cfg->restart_temp_c);
        if (rc != VG_OK) {
            fprintf(stderr, "vigil-sim: device \"%s\": %s\n", name, vg_strerror(rc));
            return rc;
        }
    }
    return VG_OK;
}

/* Opens device i's connection and outbox. */
static int run__connect_one(run_fleet *r, uint32_t i)
{
    const sim_config *cfg = r->cfg;
    sim_device *d = &r->dev[i];
    char id[VG_DEVICE_MAX + 16], sd[SIM_TOPIC_MAX], rs[SIM_TOPIC_MAX], tp[SIM_TOPIC_MAX],
        ak[SIM_TOPIC_MAX];
    snprintf(id, sizeof id, "vigil-sim-%s", d->name);
    snprintf(sd, sizeof sd, "%s/%s/cmd/shutdown", cfg->root, d->name);
    snprintf(rs, sizeof rs, "%s/%s/cmd/reset", cfg->root, d->name);
    snprintf(tp, sizeof tp, "%s/%s/samples", cfg->root, d->name);
    snprintf(ak, sizeof ak, "%s/%s/samples/ack", cfg->root, d->name);
    sim_conn_opts o = {.uri = cfg->broker,
                       .client_id = id,
                       .max_inflight = cfg->inflight,
                       .subs = {sd, rs, ak},
                       .nsub = cfg->device_ack ? 3 : 2,
                       .on_msg = run__on_command,
                       .msg_ctx = d,
                       .sync = &r->sync,
                       .auth = cfg->auth,
                       .default_user = d->name};
    /* the outbox exists before the connection can deliver an ack to it */
    int rc = sim_outbox_init(&r->box[i], NULL, &r->sync, tp, cfg->inflight, r->buf_cap);
    if (rc == VG_OK) {
        d->box = &r->box[i];
        rc = sim_conn_open(&r->conn[i], &o);
    }
    if (rc == VG_OK) {
        r->box[i].conn = r->conn[i];
        if (cfg->device_ack)
            sim_outbox_device_ack(&r->box[i], (int64_t)(cfg->ack_timeout_s * 1e6));
    }
    return rc;
}

/* Opens every connection and waits until all are subscribed. */
static int run__connect(run_fleet *r)
{
    r->conn = calloc(r->n, sizeof *r->conn);
    r->box = calloc(r->n, sizeof *r->box);
    if (!r->conn || !r->box)
        return VG_ENOMEM;
    for (uint32_t i = 0; i < r->n; i++) {
        int rc = run__connect_one(r, i);
        if (rc != VG_OK)
            return rc;
    }
    int64_t deadline = sim_mono_us() + (int64_t)(r->cfg->connect_s * 1e6);
    for (uint32_t i = 0; i < r->n; i++) {
        if (sim_conn_wait_ready(r->conn[i], deadline) != VG_OK) {
            fprintf(stderr, "vigil-sim: %s: cannot connect and subscribe to %s within %g s\n",
                    r->dev[i].name, r->cfg->broker, r->cfg->connect_s);
            return VG_EMISSING;
        }
    }
    return VG_OK;
}

/* Dry run: encodes device i's batch into r->buf and dumps it. */
static int run__dry_publish(run_fleet *r, uint32_t i)
{
    sim_device *d = &r->dev[i];
    size_t len = 0;
    int rc = sim_batch_encode(&d->batch, d->name, d->seq, r->buf, r->buf_cap, &len);
    if (rc == VG_OK && r->dump) {
        char topic[SIM_TOPIC_MAX];
        snprintf(topic, sizeof topic, "%s/%s/samples", r->cfg->root, d->name);
        rc = sim_dump_write(r->dump, topic, r->buf, len);
    }
    if (rc == VG_OK)
        r->dry_samples[i] += sim_batch_samples(&d->batch);
    return rc;
}

/* Publishes device i's current batch (if it holds samples) and resets it. */
static int run__flush(run_fleet *r, uint32_t i)
{
    sim_device *d = &r->dev[i];
    int rc = VG_EMISSING;
    if (sim_batch_samples(&d->batch) > 0) {
        if (r->box)
            rc =
                sim_outbox_publish(&r->box[i], &d->batch, d->name, d->seq, r->dump, &sim_stop_flag);
        else
            rc = run__dry_publish(r, i);
        if (rc == VG_OK)
            d->seq++;
        else
            fprintf(stderr, "vigil-sim: %s: cannot publish batch %llu: %s\n", d->name,
                    (unsigned long long)d->seq, vg_strerror(rc));
    }
    sim_batch_reset(&d->batch);
    r->wall_published = sim_mono_us();
    return rc == VG_EMISSING ? VG_OK : rc;
}

/* Waits for tick k's wall-clock instant (paced mode) and records lateness. */
static void run__pace(run_fleet *r, int64_t t_us)
{
    double speed = r->cfg->max_rate || r->cfg->dry_run ? 0.0 : r->cfg->speed;
    if (speed <= 0)
        return;
    int64_t due = r->wall0 + (int64_t)((double)(t_us - r->tm.start_us) / speed);
    int64_t now = sim_mono_us();
    if (now < due)
        sim_sleep_until(due, &sim_stop_flag);
    else if ((double)(now - due) / 1e6 > r->lag_max_s)
        r->lag_max_s = (double)(now - due) / 1e6;
}

/* Runs every tick (or until a signal); returns VG_OK or an error. */
static int run__loop(run_fleet *r)
{
    r->wall0 = sim_mono_us();
    r->wall_published = r->wall0;
    for (uint64_t k = 0; k < r->tm.nticks && !sim_stop_flag; k++) {
        int64_t t = sim_tick_time(&r->tm, k);
        run__pace(r, t);
        bool last = k + 1 == r->tm.nticks;
        for (uint32_t i = 0; i < r->n; i++) {
            if (r->box)
                sim_outbox_retry(&r->box[i]);
            if (sim_device_tick(&r->dev[i], t, r->log) || last) {
                int rc = run__flush(r, i);
                if (rc != VG_OK)
                    return rc;
            }
        }
        r->ticks = k + 1;
    }
    for (uint32_t i = 0; i < r->n && r->ticks < r->tm.nticks; i++)
        run__flush(r, i);
    return VG_OK;
}

/* Waits up to --drain seconds for every outstanding PUBACK. */
static void run__drain(run_fleet *r)
{
    if (!r->box)
        return;
    int64_t deadline = sim_mono_us() + (int64_t)(r->cfg->drain_s * 1e6);
    for (;;) {
        uint32_t pending = 0;
        for (uint32_t i = 0; i < r->n; i++) {
            sim_outbox_retry(&r->box[i]);
            pending += sim_outbox_pending(&r->box[i]);
        }
        int64_t now = sim_mono_us();
        if (pending == 0 || now >= deadline || sim_stop_flag >= 2)
            return;
        pthread_mutex_lock(&r->sync.lock);
        sim_sync_wait(&r->sync, now + 100000 < deadline ? now + 100000 : deadline);
        pthread_mutex_unlock(&r->sync.lock);
    }
}

/* Writes the --truth file. */
static int run__truth(run_fleet *r)
{
    if (!r->cfg->truth)
        return VG_OK;
    FILE *f = fopen(r->cfg->truth, "w");
    if (!f) {
        perror(r->cfg->truth);
        return VG_EINVAL;
    }
    int rc = sim_truth_header(f);
    for (uint32_t i = 0; i < r->n && rc == VG_OK; i++)
        rc = sim_truth_write(f, r->dev[i].name, &r->dev[i].plan);
    if (fclose(f) != 0)
        rc = VG_EINVAL;
    return rc;
}

/* Snapshots device i's counters. */
static void run__counts(run_fleet *r, uint32_t i, sim_counts *c)
{
    memset(c, 0, sizeof *c);
    if (!r->box) {
        c->batches_pub = r->dev[i].seq;
        c->samples_pub = r->dry_samples[i];
        return;
    }
    pthread_mutex_lock(&r->sync.lock);
    sim_outbox *b = &r->box[i];
    c->batches_pub = b->batches_pub;
    c->batches_ack = b->batches_ack;
    c->samples_pub = b->samples_pub;
    c->samples_ack = b->samples_ack;
    c->resends = b->resends;
    pthread_mutex_unlock(&r->sync.lock);
    c->connects = sim_conn_connects(r->conn[i]);
    c->renewals = sim_conn_renewals(r->conn[i]);
}

/* Prints the summary; returns 1 when everything published was acked. */
static int run__report(run_fleet *r, int64_t wall_end)
{
    const sim_config *cfg = r->cfg;
    sim_counts *c = calloc(r->n, sizeof *c);
    const char **names = calloc(r->n, sizeof *names);
    if (!c || !names) {
        free(c);
        free(names);
        return 0;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        run__counts(r, i, &c[i]);
        names[i] = r->dev[i].name;
    }
    sim_report rep = {.mode = "fleet",
                      .scenario = cfg->scenario_text,
                      .seed = cfg->seed,
                      .rate_hz = cfg->rate_hz,
                      .batch = cfg->batch,
                      .sim_start_us = r->tm.start_us,
                      .sim_end_us = sim_tick_time(&r->tm, r->ticks),
                      .wall_s = (double)(wall_end - r->wall0) / 1e6,
                      .publish_s = (double)(r->wall_published - r->wall0) / 1e6,
                      .lag_max_s = r->lag_max_s,
                      .interrupted = r->ticks < r->tm.nticks,
                      .dry_run = cfg->dry_run};
    int ok = sim_report_counts(stdout, &rep, names, c, r->n);
    sim_report_faults(stdout, &rep, r->dev, r->n);
    sim_report_result(stdout, &rep, c, r->n);
    fflush(stdout);
    free(c);
    free(names);
    return ok;
}

/* Closes connections, then frees everything the run owns. */
static void run__teardown(run_fleet *r)
{
    for (uint32_t i = 0; r->conn && i < r->n; i++)
        sim_conn_close(r->conn[i], RUN_CLOSE_TIMEOUT_MS);
    for (uint32_t i = 0; r->box && i < r->n; i++)
        sim_outbox_free(&r->box[i]);
    for (uint32_t i = 0; r->dev && i < r->n; i++)
        sim_device_free(&r->dev[i]);
    if (r->dump)
        fclose(r->dump);
    if (r->sync_ok)
        sim_sync_destroy(&r->sync);
    free(r->conn);
    free(r->box);
    free(r->dev);
    free(r->dry_samples);
    free(r->buf);
}

/* Allocates and opens what the run needs before the first tick. */
static int run__setup(run_fleet *r)
{
    const sim_config *cfg = r->cfg;
    r->buf_cap = sim_batch_max_bytes(SIM_NCHAN, cfg->batch);
    r->buf = malloc(r->buf_cap);
    r->dry_samples = calloc(r->n, sizeof *r->dry_samples);
    if (!r->buf || !r->dry_samples || sim_sync_init(&r->sync) != VG_OK)
        return VG_ENOMEM;
    r->sync_ok = true;
    int rc = run__devices(r);
    if (rc == VG_OK && cfg->dump) {
        r->dump = fopen(cfg->dump, "wb");
        rc = r->dump ? sim_dump_begin(r->dump) : VG_EINVAL;
        if (!r->dump)
            perror(cfg->dump);
    }
    if (rc == VG_OK && !cfg->dry_run)
        rc = run__connect(r);
    return rc;
}

/* See config.h. */
int sim_run_fleet(const sim_config *cfg)
{
    run_fleet r = {.cfg = cfg, .n = cfg->devices, .log = cfg->quiet ? NULL : stderr};
    r.tm.start_us = cfg->start_us;
    r.tm.rate_hz = cfg->rate_hz;
    r.tm.nticks = (uint64_t)(cfg->duration_s * cfg->rate_hz + 1e-9);
    int rc = run__setup(&r);
    int ok = 0;
    if (rc == VG_OK)
        rc = run__loop(&r);
    if (rc == VG_OK) {
        run__drain(&r);
        int64_t wall_end = sim_mono_us();
        for (uint32_t i = 0; i < r.n; i++)
            sim_plan_finish(&r.dev[i].plan, sim_tick_time(&r.tm, r.ticks));
        if (run__truth(&r) != VG_OK)
            rc = VG_EINVAL;
        ok = run__report(&r, wall_end);
    }
    run__teardown(&r);
    if (rc != VG_OK)
        return 1;
    return ok ? 0 : 3;
}
