/*
 * vigild_io.c - the daemon's message edges: the Paho handlers (Paho's
 * receive thread: each takes the daemon lock and hands the message to the
 * pipeline), the outgoing queue of the main thread (which never calls Paho
 * while holding the lock, see vigild.h), the uplink's archive sends and the
 * spool writer's callbacks (the committed mark, published by the main
 * loop).  Cost: a handler is the pipeline's cost plus one lock; a queued
 * message is one malloc and copy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vigild.h"

/* ---- Paho handlers (Paho's thread) ------------------------------------- */

void main__on_message(void *user, int which, const void *buf, size_t len)
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
    /* A batch wakes it once committed (writer); a trip at once, to make it
     * durable (vgd_pipeline_sync) while Paho sends the shutdown. */
    if (which != VGD_IN_SAMPLES || vgd_pipeline_sync_due(d->pipe))
        main__wake(d);
    pthread_mutex_unlock(&d->lock);
}

void main__on_connected(void *user)
{
    struct daemon *d = user;
    pthread_mutex_lock(&d->lock);
    d->just_connected = 1;
    d->met.connects++;
    main__wake(d);
    pthread_mutex_unlock(&d->lock);
}

void main__on_lost(void *user)
{
    struct daemon *d = user;
    pthread_mutex_lock(&d->lock);
    vgd_uplink_disconnected(d->up);
    pthread_mutex_unlock(&d->lock);
}

void main__on_chunk(void *user, vgd_chunk *c, int ok)
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
void main__flush(struct daemon *d, struct outmsg *out, size_t n)
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
int main__publish(void *user, const char *suffix, const void *buf, size_t len, int retain)
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
int main__send_chunk(void *user, const void *buf, size_t len, vgd_chunk *c)
{
    struct daemon *d = user;
    return main__enqueue(&d->chunk_q, &d->nchunk, &d->chunk_cap, "archive", buf, len, 0, c);
}

/* Forwards spooled records (main thread, WITHOUT the daemon lock: the
 * receive thread keeps scoring while the uplink reads the spool). */
int main__pump(struct daemon *d)
{
    if (!vgd_link_connected(d->link))
        return 0;
    d->nchunk = 0;
    int sent = vgd_uplink_pump(d->up, main__clock(CLOCK_MONOTONIC));
    main__flush(d, d->chunk_q, d->nchunk);
    d->nchunk = 0;
    return sent;
}

/* ---- spool writer callbacks (writer thread, no lock held) -------------- */

/* Encodes the samples ack for `mark` into buf; returns its length, 0 when
 * it does not fit. */
size_t main__ack(const struct daemon *d, uint64_t mark, uint8_t *buf, size_t cap)
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
void main__on_committed(void *user, uint64_t mark)
{
    struct daemon *d = user;
    atomic_store(&d->ack_mark, (int64_t)mark);
    main__wake(d);
}

/* A group failed: logged here, counted by main__gauges (no daemon lock:
 * see main__on_committed). */
void main__on_spool_failed(void *user, int rc, const char *msg, uint64_t lost)
{
    struct daemon *d = user; /* spool_burst: this (writer) thread only */
    vgd_log_burst(&d->spool_burst, main__clock(CLOCK_MONOTONIC), 10000000, VGD_ERR,
                  "spool: %s (%" PRIu64 " records rolled back; sample batches among them "
                  "are not acknowledged and will be accepted again)",
                  msg[0] ? msg : vg_strerror(rc), lost);
}

/* Publishes the committed mark when it moved (main thread, no lock). */
void main__publish_ack(struct daemon *d)
{
    int64_t mark = atomic_load(&d->ack_mark);
    if (mark < 0 || mark == d->ack_published || !vgd_link_connected(d->link))
        return;
    size_t len = main__ack(d, (uint64_t)mark, d->ack_buf, sizeof d->ack_buf);
    if (len && vgd_link_publish(d->link, "samples/ack", d->ack_buf, len, 0) == VG_OK)
        d->ack_published = mark;
}
