/*
 * vigild_main.c - the edge daemon's entry point: command line and config,
 * signals, start (data dir, spool, writer, models, pipeline, uplink, MQTT
 * link) and orderly stop.  The threads, locks and memory choices are
 * described in vigild.h; the handlers in vigild_io.c, the main loop in
 * vigild_loop.c.
 *
 * Signals: SIGTERM/SIGINT stop (spool committed, status "offline"
 * published, MQTT disconnected, running actions waited for up to their
 * timeout), SIGHUP reloads the config file.  Exit status: 0 clean stop,
 * 1 runtime error at start (spool, data dir, key, MQTT client), 2 bad
 * usage or configuration.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vg_error.h"
#include "vigild.h"

volatile sig_atomic_t main__sig_stop;
volatile sig_atomic_t main__sig_hup;

static void main__on_signal(int sig)
{
    if (sig == SIGHUP)
        main__sig_hup = 1;
    else
        main__sig_stop = 1;
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
                          .gather_us = c->gather_us,
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
    if (d->pipe && vgd_pipeline_take_sync(d->pipe))
        vgd_pipeline_sync(d->pipe); /* a trip of the last pass (no Paho thread left) */
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
