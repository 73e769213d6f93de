/*
 * ingest_mqtt.c - `vigil-batch ingest`: the long-running archive sink.
 *
 * A persistent MQTT 5 session (clean start off, session expiry) with QoS 1
 * subscriptions to <root>/+/{archive, alerts, cmd/shutdown, model/ack}.
 * By default the subscriptions are plain (one worker per client id): the
 * broker keeps them in the session, saves them with its persistence and,
 * while the worker is away or the broker has just restarted, queues every
 * matching QoS 1 message for it.  So a batch the broker acknowledged to an
 * agent is either delivered to ingest or queued for it, across worker
 * restarts and clean broker restarts alike.  `--share GROUP` subscribes
 * through $share/GROUP/... instead, to spread the load over several
 * workers; mosquitto 2.0 does not save shared subscriptions in its
 * persistence file, so after a broker restart messages published before a
 * worker renews its subscription have no subscriber and are dropped
 * (measured; docs/BATCH.md "Broker restarts"): the spools close that gap.
 *
 * Each message is decoded and committed in its own warehouse transaction
 * on Paho's callback thread before the callback returns.  A locked
 * warehouse makes the callback return "not processed": Paho hands the
 * message out again 0.2 s later, so nothing is dropped.
 *
 * Cost per message: decoding O(bytes) plus one transaction (one WAL append,
 * no fsync).  Memory: the warehouse handle and the ingest arrays.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"
#include "mqtt.h"
#include "vg_error.h"

#define INGEST_ALLOW_MAX 65536 /* devices in a --devices file */

static volatile sig_atomic_t ingest_stop; /* set by SIGTERM / SIGINT */

static void ingest__on_signal(int sig)
{
    ingest_stop = sig;
}

/* State shared with Paho's callback thread. */
typedef struct ing_ctx {
    vb_wh *w;                 /* warehouse (owned by vb_cmd_ingest) */
    vb_ingest *g;             /* decoder (owned by vb_cmd_ingest) */
    const char *root;         /* topic root */
    atomic_llong last_ms;     /* monotonic ms of the last message */
    atomic_ullong locked;     /* times the warehouse was busy */
    uint64_t rejected_logged; /* rejects at the last log line */
} ing_ctx;

static long long ingest__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs a refused message; in a burst only the 1st, 2nd, 4th, 8th, ... */
static void ingest__log_reject(ing_ctx *c, const char *topic, size_t tl, int why)
{
    const vb_ingest_stats *st = vb_ingest_stats_get(c->g);
    uint64_t total = 0;
    for (int r = 0; r < VB_REJ_COUNT; r++)
        total += st->rejected[r];
    if (total & (total - 1))
        return;
    fprintf(stderr, "vigil-batch ingest: refused a message on %.*s: %s (%llu refused so far)\n",
            (int)tl, topic, vb_reject_name(why), (unsigned long long)total);
}

/* Paho callback: one message, one transaction.  1 = done, 0 = retry. */
static int ingest__on_msg(void *ctx, const char *topic, size_t tl, const void *p, size_t len)
{
    ing_ctx *c = ctx;
    int why = -1;
    atomic_store(&c->last_ms, ingest__now_ms());
    int rc = vb_wh_begin(c->w);
    if (rc == VG_OK)
        rc = vb_ingest_message(c->g, c->root, topic, tl, p, len, &why);
    if (rc == VG_OK)
        rc = vb_ingest_flush_rejects(c->g);
    if (rc == VG_OK)
        rc = vb_wh_commit(c->w);
    if (rc != VG_OK) {
        vb_wh_rollback(c->w);
        if (atomic_fetch_add(&c->locked, 1) % 50 == 0)
            fprintf(stderr, "vigil-batch ingest: %s; will retry\n", vb_wh_errmsg(c->w));
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
        return 0;
    }
    if (why >= 0)
        ingest__log_reject(c, topic, tl, why);
    return 1;
}

/* Reads the --devices allow-list: one id per line; '#' comments. */
static char **ingest__allow(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **v = calloc(INGEST_ALLOW_MAX + 1, sizeof *v);
    char line[256];
    size_t n = 0;
    while (v && n < INGEST_ALLOW_MAX && fgets(line, sizeof line, f)) {
        line[strcspn(line, " \t\r\n#")] = '\0';
        if (line[0])
            v[n++] = strdup(line);
    }
    fclose(f);
    return v;
}

/* Prints the session's counters. */
static void ingest__summary(const ing_ctx *c)
{
    const vb_ingest_stats *st = vb_ingest_stats_get(c->g);
    fprintf(stderr,
            "vigil-batch ingest: records new=%llu dup=%llu samples=%llu warehouse_busy=%llu",
            (unsigned long long)st->records_new, (unsigned long long)st->records_dup,
            (unsigned long long)st->samples, (unsigned long long)atomic_load(&c->locked));
    for (int r = 0; r < VB_REJ_COUNT; r++)
        fprintf(stderr, " rejected_%s=%llu", vb_reject_name(r),
                (unsigned long long)st->rejected[r]);
    fputc('\n', stderr);
}

/* Writes "<prefix><root>/+/<suffix>" filters into buf (prefix "" or
 * "$share/GROUP/"); f[i] point into buf.  Returns the filter count. */
static int ingest__filters(const vb_cli *cli, char buf[][256], char **f)
{
    static const char *const suffix[] = {"archive", "alerts", "cmd/shutdown", "model/ack"};
    char prefix[160] = "";
    if (cli->share)
        snprintf(prefix, sizeof prefix, "$share/%s/", cli->share);
    for (int i = 0; i < 4; i++) {
        snprintf(buf[i], 256, "%s%s/+/%s", prefix, cli->root, suffix[i]);
        f[i] = buf[i];
    }
    return 4;
}

/* Subscribes (plain or shared, see the header) and touches --ready-file. */
static int ingest__subscribe(vb_mqtt *m, const vb_cli *cli)
{
    char buf[4][256];
    char *f[4];
    int rc = vb_mqtt_subscribe(m, f, ingest__filters(cli, buf, f));
    if (rc == VG_OK && cli->ready_file) {
        FILE *r = fopen(cli->ready_file, "w");
        if (r)
            fclose(r);
    }
    return rc;
}

/* True without --share, or when it names a usable group: 1..100
 * characters, none of the topic separators or wildcards ('/', '+', '#'). */
static int ingest__share_ok(const char *g)
{
    if (!g)
        return 1; /* plain subscriptions */
    size_t n = strlen(g);
    return n > 0 && n <= 100 && strcspn(g, "/+#") == n;
}

/* Waits for a signal or --idle-exit seconds without messages. */
static void ingest__wait(ing_ctx *c, double idle_exit)
{
    while (!ingest_stop) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        if (idle_exit > 0 && ingest__now_ms() - atomic_load(&c->last_ms) > idle_exit * 1000)
            break;
    }
}

/* See cli.h. */
int vb_cmd_ingest(vb_cli *cli)
{
    char err[512];
    char **allow = NULL;
    if (!ingest__share_ok(cli->share)) {
        fprintf(stderr, "vigil-batch ingest: --share needs a group name without '/', '+', '#'\n");
        return VB_EXIT_USAGE;
    }
    if (cli->devices && !(allow = ingest__allow(cli->devices))) {
        fprintf(stderr, "vigil-batch ingest: cannot read --devices %s\n", cli->devices);
        return VB_EXIT_FAIL;
    }
    ing_ctx c = {.root = cli->root};
    atomic_init(&c.last_ms, ingest__now_ms());
    atomic_init(&c.locked, 0);
    int rc = vb_wh_open(cli->warehouse, NULL, &c.w, err, sizeof err);
    if (rc == VG_OK && !(c.g = vb_ingest_create(c.w, (const char *const *)allow)))
        rc = VG_ENOMEM;
    vb_mqtt *m = NULL;
    vb_mqtt_opts mo = {.uri = cli->broker,
                       .client_id = cli->client_id,
                       .session_expiry = cli->session_expiry,
                       .on_msg = ingest__on_msg,
                       .ctx = &c,
                       .auth = &cli->auth};
    int fail = VB_MQTT_FAIL_NONE, exit_rc = VB_EXIT_FAIL;
    if (rc == VG_OK && (rc = vb_mqtt_open(&mo, &m, &fail, err, sizeof err)) != VG_OK)
        exit_rc = vb_exit_for_mqtt(fail);
    else if (rc == VG_OK && (rc = ingest__subscribe(m, cli)) != VG_OK)
        snprintf(err, sizeof err,
                 "cannot subscribe on %s (refused: may user %s read %s/+/archive?)", cli->broker,
                 cli->auth.username ? cli->auth.username : "(anonymous)", cli->root);
    if (rc == VG_OK) {
        signal(SIGTERM, ingest__on_signal);
        signal(SIGINT, ingest__on_signal);
        fprintf(stderr, "vigil-batch ingest: subscribed as %s to %s%s%s%s/+/...\n", cli->client_id,
                cli->share ? "$share/" : "", cli->share ? cli->share : "", cli->share ? "/" : "",
                cli->root);
        ingest__wait(&c, cli->idle_exit);
    } else {
        fprintf(stderr, "vigil-batch ingest: %s\n", err);
    }
    vb_mqtt_close(m); /* stops the callback thread before the warehouse goes */
    if (c.g)
        ingest__summary(&c);
    vb_ingest_destroy(c.g);
    vb_wh_close(c.w);
    for (size_t i = 0; allow && allow[i]; i++)
        free(allow[i]);
    free(allow);
    return rc == VG_OK ? VB_EXIT_OK : exit_rc;
}
