/*
 * outbox.c - bounded QoS 1 publishing with resend; see outbox.h.
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "simtime.h"
#include "vg_error.h"

#define OUTBOX_WAIT_US 100000 /* re-check period while blocked */

/* Completion of a publication (Paho thread). */
static void outbox__done(sim_pub *pub, int ok)
{
    sim_slot *s = (sim_slot *)pub;
    sim_outbox *b = s->box;
    pthread_mutex_lock(&b->sync->lock);
    if (ok) {
        b->batches_ack++;
        b->samples_ack += s->nsamples;
        s->state = SIM_SLOT_FREE;
        b->busy--;
    } else {
        b->failures++;
        s->state = SIM_SLOT_RETRY;
        b->nretry++;
    }
    pthread_cond_broadcast(&b->sync->cond);
    pthread_mutex_unlock(&b->sync->lock);
}

/* See outbox.h. */
int sim_outbox_init(sim_outbox *b, sim_conn *conn, sim_sync *sync, const char *topic,
                    uint32_t nslot, size_t slot_cap)
{
    memset(b, 0, sizeof *b);
    if (strlen(topic) >= SIM_TOPIC_MAX || nslot == 0 || slot_cap == 0)
        return VG_EINVAL;
    strcpy(b->topic, topic);
    b->conn = conn;
    b->sync = sync;
    b->slot_cap = slot_cap;
    b->slot = calloc(nslot, sizeof *b->slot);
    if (!b->slot)
        return VG_ENOMEM;
    b->nslot = nslot;
    for (uint32_t i = 0; i < nslot; i++) {
        b->slot[i].pub.done = outbox__done;
        b->slot[i].box = b;
        b->slot[i].payload = malloc(slot_cap);
        if (!b->slot[i].payload)
            return VG_ENOMEM;
    }
    return VG_OK;
}

/* See outbox.h. */
void sim_outbox_free(sim_outbox *b)
{
    for (uint32_t i = 0; b->slot && i < b->nslot; i++)
        free(b->slot[i].payload);
    free(b->slot);
    b->slot = NULL;
    b->nslot = 0;
}

/* Hands slot s (state INFLIGHT, lock not held) to Paho; on refusal puts it
 * back to RETRY. */
static void outbox__transmit(sim_outbox *b, sim_slot *s)
{
    int rc = sim_conn_publish(b->conn, b->topic, s->payload, s->len, b->retained, &s->pub);
    if (rc == VG_OK)
        return;
    pthread_mutex_lock(&b->sync->lock);
    b->failures++;
    s->state = SIM_SLOT_RETRY;
    b->nretry++;
    pthread_mutex_unlock(&b->sync->lock);
}

/* See outbox.h. */
void sim_outbox_send(sim_outbox *b, sim_slot *s)
{
    pthread_mutex_lock(&b->sync->lock);
    s->state = SIM_SLOT_INFLIGHT;
    b->batches_pub++;
    b->samples_pub += s->nsamples;
    pthread_mutex_unlock(&b->sync->lock);
    outbox__transmit(b, s);
}

/* See outbox.h. */
void sim_outbox_release(sim_outbox *b, sim_slot *s)
{
    pthread_mutex_lock(&b->sync->lock);
    s->state = SIM_SLOT_FREE;
    b->busy--;
    pthread_cond_broadcast(&b->sync->cond);
    pthread_mutex_unlock(&b->sync->lock);
}

/* Takes one RETRY slot (marking it INFLIGHT), or NULL. */
static sim_slot *outbox__take_retry(sim_outbox *b)
{
    sim_slot *found = NULL;
    pthread_mutex_lock(&b->sync->lock);
    for (uint32_t i = 0; b->nretry > 0 && i < b->nslot; i++) {
        if (b->slot[i].state == SIM_SLOT_RETRY) {
            found = &b->slot[i];
            found->state = SIM_SLOT_INFLIGHT;
            b->nretry--;
            b->resends++;
            break;
        }
    }
    pthread_mutex_unlock(&b->sync->lock);
    return found;
}

/* See outbox.h.  Each failed slot is resent at most once per call. */
void sim_outbox_retry(sim_outbox *b)
{
    uint32_t budget = b->nslot;
    sim_slot *s;
    while (budget-- > 0 && (s = outbox__take_retry(b)) != NULL)
        outbox__transmit(b, s);
}

/* Finds a FREE slot and marks it FILLING; lock held.  NULL when none. */
static sim_slot *outbox__take_free(sim_outbox *b)
{
    if (b->busy == b->nslot)
        return NULL;
    for (uint32_t i = 0; i < b->nslot; i++) {
        if (b->slot[i].state == SIM_SLOT_FREE) {
            b->slot[i].state = SIM_SLOT_FILLING;
            b->busy++;
            return &b->slot[i];
        }
    }
    return NULL;
}

/* See outbox.h. */
sim_slot *sim_outbox_acquire(sim_outbox *b, const volatile sig_atomic_t *stop)
{
    for (;;) {
        pthread_mutex_lock(&b->sync->lock);
        sim_slot *s = outbox__take_free(b);
        if (!s && !(stop && *stop))
            sim_sync_wait(b->sync, sim_mono_us() + OUTBOX_WAIT_US);
        if (!s)
            s = outbox__take_free(b);
        pthread_mutex_unlock(&b->sync->lock);
        if (s)
            return s;
        if (stop && *stop)
            return NULL;
        sim_outbox_retry(b);
    }
}

/* See outbox.h. */
uint32_t sim_outbox_pending(sim_outbox *b)
{
    pthread_mutex_lock(&b->sync->lock);
    uint32_t n = b->busy;
    pthread_mutex_unlock(&b->sync->lock);
    return n;
}

/* See outbox.h. */
int sim_outbox_publish(sim_outbox *b, const sim_batch *batch, const char *device, uint64_t seq,
                       FILE *dump, const volatile sig_atomic_t *stop)
{
    uint32_t ns = sim_batch_samples(batch);
    if (ns == 0)
        return VG_EMISSING;
    sim_slot *s = sim_outbox_acquire(b, stop);
    if (!s)
        return VG_OK;
    int rc = sim_batch_encode(batch, device, seq, s->payload, b->slot_cap, &s->len);
    if (rc == VG_OK && dump)
        rc = sim_dump_write(dump, b->topic, s->payload, s->len);
    if (rc != VG_OK) {
        sim_outbox_release(b, s);
        return rc;
    }
    s->seq = seq;
    s->nsamples = ns;
    sim_outbox_send(b, s);
    return VG_OK;
}
