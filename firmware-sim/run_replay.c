/*
 * run_replay.c - --replay: publish a vigil-replay CSV file as one device.
 *
 * Every row becomes one row of a batch (its present cells, at the row's
 * recorded timestamp); a batch is published when it holds --batch rows and
 * at the end.  Pacing: a row is published no earlier than
 * start_wall + (row time - first row time) / --speed; --speed 0 (or
 * --max-rate) publishes as fast as the broker acknowledges, bounded by the
 * in-flight window.  Every row is published once; QoS 1 and the outbox's
 * resend make it arrive at least once.
 *
 * The device also subscribes to its cmd/shutdown and cmd/reset: recorded
 * data cannot be stopped, so commands are decoded, logged and counted as
 * trips seen.
 *
 * Cost: O(row length) per row, one encode and one Paho call per batch.
 * Memory: one line buffer, one batch and the in-flight window.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator.h"
#include "config.h"
#include "dump.h"
#include "mqtt.h"
#include "outbox.h"
#include "replay.h"
#include "simtime.h"
#include "summary.h"
#include "vg_error.h"
#include "vg_msg.h"

/* Everything one replay owns. */
typedef struct run_replay {
    const sim_config *cfg;  /* configuration (borrowed) */
    FILE *in;               /* the CSV file */
    sim_csv csv;            /* its reader */
    sim_batch batch;        /* the batch being filled */
    double *v;              /* one row's values, [nchan] */
    bool *present;          /* one row's presence, [nchan] */
    sim_sync sync;          /* shared lock */
    bool sync_ok;           /* sync initialised */
    sim_conn *conn;         /* the device's session */
    sim_outbox box;         /* its outbox */
    sim_mailbox mailbox;    /* commands received */
    bool mailbox_ok;        /* mailbox initialised */
    FILE *dump;             /* --dump file or NULL */
    uint64_t seq;           /* next batch sequence number */
    uint64_t rows;          /* rows read */
    uint64_t missing;       /* empty/NaN cells */
    uint64_t trips;         /* shutdown commands seen */
    uint64_t resets;        /* reset commands seen */
    int64_t first_t;        /* first row's timestamp */
    int64_t last_t;         /* latest row timestamp seen */
    int64_t wall0;          /* CLOCK_MONOTONIC at the first row */
    int64_t wall_published; /* ... at the last publication */
    double lag_max_s;       /* worst lateness */
} run_replay;

/* MQTT message handler: queue commands. */
static void replay__on_command(void *ctx, const char *topic, size_t tl, const void *payload,
                               size_t len)
{
    run_replay *r = ctx;
    static const char rs[] = "/cmd/reset";
    bool reset =
        tl >= sizeof rs - 1 && memcmp(topic + tl - (sizeof rs - 1), rs, sizeof rs - 1) == 0;
    sim_mailbox_post(&r->mailbox, reset ? SIM_CMD_RESET : SIM_CMD_SHUTDOWN, payload, len);
}

/* Logs and counts the commands received so far. */
static void replay__commands(run_replay *r)
{
    sim_cmd cmd;
    char ts[SIM_TIME_TEXT_MAX];
    while (sim_mailbox_take(&r->mailbox, &cmd)) {
        vg_shutdown s;
        if (cmd.kind == SIM_CMD_RESET) {
            r->resets++;
            continue;
        }
        if (cmd.len == 0 || vg_shutdown_decode(cmd.payload, cmd.len, &s) != VG_OK)
            continue;
        r->trips++;
        if (!r->cfg->quiet)
            fprintf(stderr,
                    "vigil-sim: %s: shutdown (trip %" PRIu64 ", channel %s: %s) seen at "
                    "recorded time %s\n",
                    r->cfg->device, s.trip_id, s.channel, s.reason, sim_time_format(r->last_t, ts));
    }
}

/* Connects the device's session and sets up its outbox. */
static int replay__connect(run_replay *r)
{
    const sim_config *cfg = r->cfg;
    char id[VG_DEVICE_MAX + 16], sd[SIM_TOPIC_MAX], rs[SIM_TOPIC_MAX], tp[SIM_TOPIC_MAX];
    snprintf(id, sizeof id, "vigil-sim-%s", cfg->device);
    snprintf(sd, sizeof sd, "%s/%s/cmd/shutdown", cfg->root, cfg->device);
    snprintf(rs, sizeof rs, "%s/%s/cmd/reset", cfg->root, cfg->device);
    snprintf(tp, sizeof tp, "%s/%s/samples", cfg->root, cfg->device);
    sim_conn_opts o = {.uri = cfg->broker,
                       .client_id = id,
                       .max_inflight = cfg->inflight,
                       .subs = {sd, rs},
                       .nsub = 2,
                       .on_msg = replay__on_command,
                       .msg_ctx = r,
                       .sync = &r->sync,
                       .auth = cfg->auth,
                       .default_user = cfg->device};
    int rc = sim_conn_open(&r->conn, &o);
    if (rc == VG_OK)
        rc = sim_outbox_init(&r->box, r->conn, &r->sync, tp, cfg->inflight,
                             sim_batch_max_bytes(r->csv.nchan, cfg->batch));
    if (rc == VG_OK &&
        sim_conn_wait_ready(r->conn, sim_mono_us() + (int64_t)(cfg->connect_s * 1e6)) != VG_OK) {
        fprintf(stderr, "vigil-sim: cannot connect and subscribe to %s within %g s\n", cfg->broker,
                cfg->connect_s);
        rc = VG_EMISSING;
    }
    return rc;
}

/* Opens the file, reads the header, allocates, connects. */
static int replay__setup(run_replay *r)
{
    const sim_config *cfg = r->cfg;
    r->in = fopen(cfg->replay, "r");
    if (!r->in) {
        perror(cfg->replay);
        return VG_EINVAL;
    }
    int rc = sim_csv_open(&r->csv, r->in);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-sim: %s: %s\n", cfg->replay, r->csv.err);
        return rc;
    }
    rc = sim_batch_init(&r->batch, r->csv.nchan, (const char *const *)r->csv.names, cfg->batch);
    r->v = calloc(r->csv.nchan, sizeof *r->v);
    r->present = calloc(r->csv.nchan, sizeof *r->present);
    if (rc != VG_OK || !r->v || !r->present)
        return rc != VG_OK ? rc : VG_ENOMEM;
    if (sim_sync_init(&r->sync) != VG_OK || sim_mailbox_init(&r->mailbox) != VG_OK)
        return VG_ENOMEM;
    r->sync_ok = r->mailbox_ok = true;
    if (cfg->dump) {
        r->dump = fopen(cfg->dump, "wb");
        if (!r->dump || sim_dump_begin(r->dump) != VG_OK) {
            perror(cfg->dump);
            return VG_EINVAL;
        }
    }
    return replay__connect(r);
}

/* Publishes the current batch (if any) and empties it. */
static int replay__flush(run_replay *r)
{
    int rc =
        sim_outbox_publish(&r->box, &r->batch, r->cfg->device, r->seq, r->dump, &sim_stop_flag);
    if (rc == VG_OK)
        r->seq++;
    else if (rc != VG_EMISSING)
        fprintf(stderr, "vigil-sim: cannot publish batch %" PRIu64 ": %s\n", r->seq,
                vg_strerror(rc));
    sim_batch_reset(&r->batch);
    r->wall_published = sim_mono_us();
    return rc == VG_EMISSING ? VG_OK : rc;
}

/* Waits until row time t is due (paced replay). */
static void replay__pace(run_replay *r, int64_t t)
{
    double speed = r->cfg->max_rate ? 0.0 : r->cfg->speed;
    if (speed <= 0 || t <= r->last_t)
        return;
    int64_t due = r->wall0 + (int64_t)((double)(t - r->first_t) / speed);
    int64_t now = sim_mono_us();
    if (now < due)
        sim_sleep_until(due, &sim_stop_flag);
    else if ((double)(now - due) / 1e6 > r->lag_max_s)
        r->lag_max_s = (double)(now - due) / 1e6;
}

/* Adds one parsed row at time t to the batch; publishes when full. */
static int replay__row(run_replay *r, int64_t t)
{
    if (r->rows == 0) {
        r->first_t = r->last_t = t;
        r->wall0 = sim_mono_us();
    }
    replay__pace(r, t);
    if (t > r->last_t)
        r->last_t = t;
    r->rows++;
    for (uint32_t c = 0; c < r->csv.nchan; c++) {
        if (r->present[c])
            sim_batch_add(&r->batch, c, t, r->v[c]);
        else
            r->missing++;
    }
    replay__commands(r);
    sim_outbox_retry(&r->box);
    if (sim_batch_end_row(&r->batch))
        return replay__flush(r);
    return VG_OK;
}

/* Reads and publishes every row. */
static int replay__loop(run_replay *r)
{
    r->wall0 = sim_mono_us();
    for (;;) {
        if (sim_stop_flag)
            return replay__flush(r);
        int64_t t;
        bool eof;
        int rc = sim_csv_next(&r->csv, &t, r->v, r->present, &eof);
        if (rc != VG_OK) {
            fprintf(stderr, "vigil-sim: %s: %s\n", r->cfg->replay, r->csv.err);
            replay__flush(r);
            return rc;
        }
        if (eof)
            return replay__flush(r);
        rc = replay__row(r, t);
        if (rc != VG_OK)
            return rc;
    }
}

/* Waits up to --drain seconds for the outstanding PUBACKs. */
static void replay__drain(run_replay *r)
{
    int64_t deadline = sim_mono_us() + (int64_t)(r->cfg->drain_s * 1e6);
    for (;;) {
        sim_outbox_retry(&r->box);
        int64_t now = sim_mono_us();
        if (sim_outbox_pending(&r->box) == 0 || now >= deadline || sim_stop_flag >= 2)
            break;
        pthread_mutex_lock(&r->sync.lock);
        sim_sync_wait(&r->sync, now + 100000 < deadline ? now + 100000 : deadline);
        pthread_mutex_unlock(&r->sync.lock);
    }
    replay__commands(r);
}

/* Prints the summary; returns 1 when everything was acknowledged. */
static int replay__report(run_replay *r, int64_t wall_end, bool interrupted)
{
    sim_counts c = {0};
    pthread_mutex_lock(&r->sync.lock);
    c.batches_pub = r->box.batches_pub;
    c.batches_ack = r->box.batches_ack;
    c.samples_pub = r->box.samples_pub;
    c.samples_ack = r->box.samples_ack;
    c.resends = r->box.resends;
    pthread_mutex_unlock(&r->sync.lock);
    c.connects = sim_conn_connects(r->conn);
    c.renewals = sim_conn_renewals(r->conn);
    sim_report rep = {.mode = "replay",
                      .scenario = r->cfg->replay,
                      .batch = r->cfg->batch,
                      .sim_start_us = r->first_t,
                      .sim_end_us = r->last_t,
                      .wall_s = (double)(wall_end - r->wall0) / 1e6,
                      .publish_s = (double)(r->wall_published - r->wall0) / 1e6,
                      .lag_max_s = r->lag_max_s,
                      .interrupted = interrupted};
    const char *names[1] = {r->cfg->device};
    int ok = sim_report_counts(stdout, &rep, names, &c, 1);
    printf("rows: read=%" PRIu64 " channels=%u missing_cells=%" PRIu64 "\n", r->rows, r->csv.nchan,
           r->missing);
    printf("trips: seen=%" PRIu64 " resets_seen=%" PRIu64 "\n", r->trips, r->resets);
    sim_report_result(stdout, &rep, &c, 1);
    fflush(stdout);
    return ok;
}

/* Frees everything. */
static void replay__teardown(run_replay *r)
{
    sim_conn_close(r->conn, 2000);
    sim_outbox_free(&r->box);
    sim_batch_free(&r->batch);
    sim_csv_close(&r->csv);
    if (r->in)
        fclose(r->in);
    if (r->dump)
        fclose(r->dump);
    if (r->mailbox_ok)
        sim_mailbox_destroy(&r->mailbox);
    if (r->sync_ok)
        sim_sync_destroy(&r->sync);
    free(r->v);
    free(r->present);
}

/* See config.h. */
int sim_run_replay(const sim_config *cfg)
{
    run_replay r = {.cfg = cfg};
    int rc = replay__setup(&r);
    int ok = 0;
    if (rc == VG_OK) {
        rc = replay__loop(&r);
        replay__drain(&r);
        ok = replay__report(&r, sim_mono_us(), sim_stop_flag != 0);
    }
    replay__teardown(&r);
    if (rc != VG_OK)
        return 1;
    return ok ? 0 : 3;
}
