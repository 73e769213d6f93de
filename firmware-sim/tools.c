/*
 * tools.c - vigil-sim's test tools, so that scripts need nothing but the
 * simulator and mosquitto:
 *
 *   --listen          subscribe (QoS 1, persistent session) to a samples
 *                     topic filter and print every sample as CSV
 *                     "device,seq,channel,t_us,value" (%.17g, exact), until
 *                     --expect samples, --idle seconds of silence after the
 *                     first message, --duration seconds, or a signal;
 *   --send-shutdown / --send-reset DEVICE
 *                     publish one CBOR command (vg_shutdown / vg_reset) at
 *                     QoS 1 (--retain for a latched shutdown) and wait for
 *                     its PUBACK;
 *   --clear-shutdown DEVICE
 *                     publish an empty retained message on cmd/shutdown;
 *   --decode FILE     print a --dump file in the --listen CSV format.
 *
 * Cost: O(payload) per message; one MQTT session for --listen/--send.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dump.h"
#include "mqtt.h"
#include "outbox.h"
#include "simtime.h"
#include "vg_error.h"
#include "vg_msg.h"

#define TOOLS_POLL_US 100000

/* State of --listen, shared with the Paho thread under sync.lock. */
typedef struct tools_listen {
    FILE *out;         /* CSV destination */
    vg_block *blocks;  /* decode storage, [VG_BATCH_MAX_CHANNEL] */
    sim_sync sync;     /* lock + condition */
    uint64_t messages; /* payloads received */
    uint64_t samples;  /* samples printed */
    uint64_t bad;      /* payloads that did not decode */
    int64_t last_rx;   /* CLOCK_MONOTONIC of the last message, 0 before */
} tools_listen;

/* Decodes one samples payload and prints its samples; returns the number
 * of samples printed, or -1 when it does not decode. */
static long tools__print_batch(FILE *out, const uint8_t *p, size_t len, vg_block *blocks)
{
    vg_samples s = {.block = blocks, .block_cap = VG_BATCH_MAX_CHANNEL};
    if (vg_samples_decode(p, len, &s) != VG_OK)
        return -1;
    long n = 0;
    for (uint32_t b = 0; b < s.nblock; b++) {
        const vg_block *bl = &s.block[b];
        for (uint32_t i = 0; i < bl->n; i++, n++)
            fprintf(out, "%s,%" PRIu64 ",%.*s,%" PRId64 ",%.17g\n", s.device, s.seq,
                    (int)bl->name_len, bl->name, vg_block_time(bl, s.t0_us, i),
                    vg_block_value(bl, i));
    }
    return n;
}

/* --listen message handler (Paho thread). */
static void tools__on_sample_msg(void *ctx, const char *topic, size_t tl, const void *payload,
                                 size_t len)
{
    tools_listen *l = ctx;
    pthread_mutex_lock(&l->sync.lock);
    long n = tools__print_batch(l->out, payload, len, l->blocks);
    l->messages++;
    if (n < 0)
        l->bad++;
    else
        l->samples += (uint64_t)n;
    fflush(l->out);
    l->last_rx = sim_mono_us();
    pthread_cond_broadcast(&l->sync.cond);
    pthread_mutex_unlock(&l->sync.lock);
}

/* True when --listen should stop now (lock held). */
static bool tools__listen_done(const sim_config *cfg, const tools_listen *l, int64_t end)
{
    int64_t now = sim_mono_us();
    if (sim_stop_flag || (end > 0 && now >= end))
        return true;
    if (cfg->expect > 0 && l->samples >= cfg->expect)
        return true;
    return cfg->idle_s > 0 && l->last_rx > 0 && now - l->last_rx >= (int64_t)(cfg->idle_s * 1e6);
}

/* Creates the --ready-file. */
static void tools__touch(const char *path)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f)
        fclose(f);
    else if (path)
        perror(path);
}

/* Waits until --listen is done. */
static void tools__listen_wait(const sim_config *cfg, tools_listen *l)
{
    int64_t end = cfg->duration_s > 0 ? sim_mono_us() + (int64_t)(cfg->duration_s * 1e6) : 0;
    pthread_mutex_lock(&l->sync.lock);
    while (!tools__listen_done(cfg, l, end))
        sim_sync_wait(&l->sync, sim_mono_us() + TOOLS_POLL_US);
    fflush(l->out);
    pthread_mutex_unlock(&l->sync.lock);
}

/* Opens the --listen session; VG_OK when subscribed. */
static int tools__listen_open(const sim_config *cfg, tools_listen *l, sim_conn **conn)
{
    char id[64], filter[SIM_TOPIC_MAX];
    snprintf(id, sizeof id, "vigil-sim-listen-%ld", (long)getpid());
    if (cfg->topic)
        snprintf(filter, sizeof filter, "%s", cfg->topic);
    else
        snprintf(filter, sizeof filter, "%s/+/samples", cfg->root);
    sim_conn_opts o = {.uri = cfg->broker,
                       .client_id = id,
                       .max_inflight = 64,
                       .subs = {filter},
                       .nsub = 1,
                       .on_msg = tools__on_sample_msg,
                       .msg_ctx = l,
                       .sync = &l->sync,
                       .auth = cfg->auth};
    int rc = sim_conn_open(conn, &o);
    if (rc == VG_OK)
        rc = sim_conn_wait_ready(*conn, sim_mono_us() + (int64_t)(cfg->connect_s * 1e6));
    if (rc != VG_OK)
        fprintf(stderr, "vigil-sim: --listen: cannot subscribe to %s at %s\n", filter, cfg->broker);
    return rc;
}

/* See config.h. */
int sim_tool_listen(const sim_config *cfg)
{
    tools_listen l = {.out = stdout};
    if (cfg->out && !(l.out = fopen(cfg->out, "w"))) {
        perror(cfg->out);
        return 1;
    }
    l.blocks = calloc(VG_BATCH_MAX_CHANNEL, sizeof *l.blocks);
    if (!l.blocks || sim_sync_init(&l.sync) != VG_OK)
        return 1;
    fprintf(l.out, "device,seq,channel,t_us,value\n");
    sim_conn *conn = NULL;
    int rc = tools__listen_open(cfg, &l, &conn);
    if (rc == VG_OK) {
        tools__touch(cfg->ready_file);
        tools__listen_wait(cfg, &l);
    }
    sim_conn_close(conn, 1000);
    fprintf(stderr,
            "vigil-sim: listened: messages=%" PRIu64 " samples=%" PRIu64 " bad=%" PRIu64 "\n",
            l.messages, l.samples, l.bad);
    if (l.out != stdout)
        fclose(l.out);
    sim_sync_destroy(&l.sync);
    free(l.blocks);
    return rc == VG_OK && l.bad == 0 ? 0 : 1;
}

/* Completion of the one command publication. */
typedef struct tools_sent {
    sim_pub pub; /* first member: completion hook */
    sim_sync *sync;
    int state; /* 0 pending, 1 acked, -1 failed */
} tools_sent;

/* Completion hook (Paho thread). */
static void tools__sent(sim_pub *pub, int ok)
{
    tools_sent *s = (tools_sent *)pub;
    pthread_mutex_lock(&s->sync->lock);
    s->state = ok ? 1 : -1;
    pthread_cond_broadcast(&s->sync->cond);
    pthread_mutex_unlock(&s->sync->lock);
}

/* Encodes the command the options ask for; *topic_suffix and *retain set. */
static int tools__encode(const sim_config *cfg, uint8_t *buf, size_t cap, size_t *len,
                         const char **suffix, bool *retain, const char **dev)
{
    *len = 0;
    *suffix = "cmd/shutdown";
    *retain = true;
    if (cfg->clear_shutdown) {
        *dev = cfg->clear_shutdown;
        return VG_OK;
    }
    if (cfg->send_reset) {
        vg_reset r = {.t_us = sim_epoch_us()};
        *dev = cfg->send_reset;
        *suffix = "cmd/reset";
        *retain = false;
        snprintf(r.device, sizeof r.device, "%s", *dev);
        snprintf(r.operator_id, sizeof r.operator_id, "vigil-sim");
        return vg_reset_encode(&r, buf, cap, len);
    }
    vg_shutdown s = {.detector = VG_DET_LIMIT, .trip_id = 1, .t_us = sim_epoch_us()};
    *dev = cfg->send_shutdown;
    *retain = cfg->retain;
    snprintf(s.device, sizeof s.device, "%s", *dev);
    snprintf(s.channel, sizeof s.channel, "%s", cfg->channel ? cfg->channel : "temp");
    snprintf(s.reason, sizeof s.reason, "vigil-sim --send-shutdown");
    return vg_shutdown_encode(&s, buf, cap, len);
}

/* Publishes payload[0..len) and waits for its PUBACK. */
static int tools__publish(const sim_config *cfg, const char *topic, const uint8_t *p, size_t len,
                          bool retain)
{
    sim_sync sync;
    if (sim_sync_init(&sync) != VG_OK)
        return VG_ENOMEM;
    char id[64];
    snprintf(id, sizeof id, "vigil-sim-cmd-%ld", (long)getpid());
    sim_conn_opts o = {.uri = cfg->broker,
                       .client_id = id,
                       .clean_session = true,
                       .max_inflight = 1,
                       .sync = &sync,
                       .auth = cfg->auth};
    sim_conn *conn = NULL;
    tools_sent sent = {.pub.done = tools__sent, .sync = &sync};
    int64_t deadline = sim_mono_us() + (int64_t)(cfg->connect_s * 1e6);
    int rc = sim_conn_open(&conn, &o);
    if (rc == VG_OK)
        rc = sim_conn_wait_ready(conn, deadline);
    if (rc == VG_OK)
        rc = sim_conn_publish(conn, topic, p, len, retain, &sent.pub);
    pthread_mutex_lock(&sync.lock);
    while (rc == VG_OK && sent.state == 0 && sim_mono_us() < deadline)
        sim_sync_wait(&sync, deadline);
    if (rc == VG_OK && sent.state != 1)
        rc = VG_EMISSING;
    pthread_mutex_unlock(&sync.lock);
    sim_conn_close(conn, 1000);
    sim_sync_destroy(&sync);
    return rc;
}

/* See config.h. */
int sim_tool_send(const sim_config *cfg)
{
    uint8_t buf[4096];
    size_t len;
    const char *suffix, *dev;
    bool retain;
    int rc = tools__encode(cfg, buf, sizeof buf, &len, &suffix, &retain, &dev);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-sim: cannot encode the command: %s\n", vg_strerror(rc));
        return 1;
    }
    char topic[SIM_TOPIC_MAX];
    snprintf(topic, sizeof topic, "%s/%s/%s", cfg->root, dev, suffix);
    rc = tools__publish(cfg, topic, buf, len, retain);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-sim: %s: not acknowledged by %s\n", topic, cfg->broker);
        return 1;
    }
    if (!cfg->quiet)
        fprintf(stderr, "vigil-sim: published %s (%zu bytes%s)\n", topic, len,
                retain ? ", retained" : "");
    return 0;
}

/* Prints every record of an opened dump file. */
static int tools__decode_records(FILE *f, uint8_t *buf, vg_block *blocks)
{
    char topic[SIM_DUMP_TOPIC_MAX];
    for (;;) {
        size_t len = 0;
        bool eof = false;
        int rc = sim_dump_read(f, topic, sizeof topic, buf, VG_MSG_MAX_BYTES, &len, &eof);
        if (rc != VG_OK || eof)
            return rc;
        if (tools__print_batch(stdout, buf, len, blocks) < 0)
            return VG_EDECODE;
    }
}

/* See config.h. */
int sim_tool_decode(const sim_config *cfg)
{
    FILE *f = fopen(cfg->decode, "rb");
    if (!f) {
        perror(cfg->decode);
        return 1;
    }
    uint8_t *buf = malloc(VG_MSG_MAX_BYTES);
    vg_block *blocks = calloc(VG_BATCH_MAX_CHANNEL, sizeof *blocks);
    int rc = buf && blocks ? sim_dump_open(f) : VG_ENOMEM;
    if (rc == VG_OK) {
        printf("device,seq,channel,t_us,value\n");
        rc = tools__decode_records(f, buf, blocks);
    }
    if (rc != VG_OK)
        fprintf(stderr, "vigil-sim: %s: %s\n", cfg->decode, vg_strerror(rc));
    fclose(f);
    free(buf);
    free(blocks);
    return rc == VG_OK ? 0 : 1;
}
