/*
 * outbox.c - bounded QoS 1 publishing with resend; see outbox.h.
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "simtime.h"
#include "vg_error.h"

#define OUTBOX_WAIT_US     100000 /* re-check period while blocked */
#define OUTBOX_ACK_SCAN_US 10000  /* device-ack timeout scan period */

/* Slot s is acknowledged: count it and free it (lock held). */
static void outbox__acked(sim_outbox *b, sim_slot *s)
{
    b->batches_ack++;
    b->samples_ack += s->nsamples;
    s->state = SIM_SLOT_FREE;
    b->busy--;
}

/* Completion of a publication (Paho thread). */
static void outbox__done(sim_pub *pub, int ok)
{
    sim_slot *s = (sim_slot *)pub;
    sim_outbox *b = s->box;
    pthread_mutex_lock(&b->sync->lock);
    if (ok && b->device_ack && (b->mark < 0 || s->seq > (uint64_t)b->mark)) {
        s->state = SIM_SLOT_PUBACKED;
        s->puback_us = sim_mono_us();
    } else if (ok) {
        outbox__acked(b, s);
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
    b->mark = -1;
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

/* Device-ack mode: turns PUBACKed slots not covered for ack_timeout while
 * the mark has not moved for ack_timeout either (all of them after a
 * reconnect) back into RETRY slots; the order is irrelevant (vigild
 * accepts a lost batch in any order, see agent/writer.h). */
static void outbox__ack_timeouts(sim_outbox *b)
{
    int64_t now = sim_mono_us();
    if (now - b->ack_scan_us < OUTBOX_ACK_SCAN_US)
        return; /* called every tick: scan the slots 100 times a second at most */
    b->ack_scan_us = now;
    uint64_t connects = sim_conn_connects(b->conn);
    pthread_mutex_lock(&b->sync->lock);
    bool reconnected = connects != b->connects;
    /* a mark that moved within the timeout means vigild is alive and
     * working through its queue in order: nothing to re-send yet */
    bool stalled = now - b->mark_us >= b->ack_timeout_us;
    b->connects = connects;
    for (uint32_t i = 0; i < b->nslot; i++) {
        sim_slot *s = &b->slot[i];
        if (s->state == SIM_SLOT_PUBACKED &&
            (reconnected || (stalled && now - s->puback_us >= b->ack_timeout_us))) {
            s->state = SIM_SLOT_RETRY;
            b->nretry++;
            b->ack_resends++;
        }
    }
    pthread_mutex_unlock(&b->sync->lock);
}

/* The connection's Paho client was replaced (sim_conn_renew): a slot still
 * INFLIGHT was handed to the destroyed client and gets no completion any
 * more (Paho normally failed them all already): back to RETRY. */
static void outbox__orphans(sim_outbox *b)
{
    pthread_mutex_lock(&b->sync->lock);
    for (uint32_t i = 0; i < b->nslot; i++) {
        if (b->slot[i].state == SIM_SLOT_INFLIGHT) {
            b->slot[i].state = SIM_SLOT_RETRY;
            b->nretry++;
            b->failures++;
        }
    }
    pthread_mutex_unlock(&b->sync->lock);
}

/* See outbox.h.  Each failed slot is resent at most once per call. */
void sim_outbox_retry(sim_outbox *b)
{
    uint32_t budget = b->nslot;
    sim_slot *s;
    if (b->conn && sim_conn_renew(b->conn))
        outbox__orphans(b);
    if (b->device_ack)
        outbox__ack_timeouts(b);
    while (budget-- > 0 && (s = outbox__take_retry(b)) != NULL)
        outbox__transmit(b, s);
}

/* See outbox.h. */
void sim_outbox_device_ack(sim_outbox *b, int64_t timeout_us)
{
    b->device_ack = true;
    b->ack_timeout_us = timeout_us;
    b->connects = sim_conn_connects(b->conn);
}

/* See outbox.h. */
void sim_outbox_covered(sim_outbox *b, uint64_t mark)
{
    pthread_mutex_lock(&b->sync->lock);
    if (b->mark < 0 || mark > (uint64_t)b->mark) {
        b->mark = (int64_t)mark;
        b->mark_us = sim_mono_us();
    }
    for (uint32_t i = 0; i < b->nslot; i++) {
        sim_slot *s = &b->slot[i];
        if (s->state == SIM_SLOT_RETRY && b->device_ack && s->seq <= mark) {
            b->nretry--; /* not with Paho: free it instead of re-sending */
            outbox__acked(b, s);
        } else if (s->state == SIM_SLOT_PUBACKED && s->seq <= mark) {
            outbox__acked(b, s);
        }
    }
    pthread_cond_broadcast(&b->sync->cond);
    pthread_mutex_unlock(&b->sync->lock);
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
