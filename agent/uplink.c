/*
 * uplink.c - spool -> archive chunks, PUBACK -> mark sent (see uplink.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "uplink.h"
#include "vg_error.h"

#define UPLINK_ITEM_OVERHEAD 64  /* CBOR bytes per archive item besides payload */
#define UPLINK_HDR_OVERHEAD  256 /* CBOR bytes of the chunk header */

struct vgd_uplink {
    vgd_uplink_opts o;    /* options (device borrowed) */
    vg_spool *spool;      /* borrowed, used under the writer's spool lock */
    vgd_writer *writer;   /* borrowed: the spool lock and the deferred marks */
    vgd_metrics *m;       /* borrowed */
    vg_spool_item *items; /* next_batch target, max_items entries */
    uint8_t *buf;         /* encode buffer */
    size_t cap;           /* its size */
    uint64_t chunk_seq;   /* chunks sent, for logs and the chunk header */
    uint64_t gen;         /* connection generation */
    uint32_t inflight;    /* chunks of this generation awaiting PUBACK */
    uint32_t nonsample;   /* alerts/trips/model records among them */
    double tokens;        /* token bucket, bytes */
    int64_t refill_us;    /* last refill time */
    vgd_chunk *chunks;    /* every outstanding context */
    vgd_burst burst;      /* log suppression */
};

vgd_uplink *vgd_uplink_create(const vgd_uplink_opts *o, vg_spool *spool, vgd_writer *writer,
                              vgd_metrics *m)
{
    vgd_uplink *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->o = *o;
    u->spool = spool;
    u->writer = writer;
    u->m = m;
    u->items = calloc(o->max_items, sizeof(*u->items));
    if (!u->items) {
        free(u);
        return NULL;
    }
    u->tokens = (double)o->rate;
    return u;
}

void vgd_uplink_destroy(vgd_uplink *u)
{
    if (!u)
        return;
    while (u->chunks) {
        vgd_chunk *c = u->chunks;
        u->chunks = c->next;
        free(c);
    }
    free(u->items);
    free(u->buf);
    free(u);
}

void vgd_uplink_set_rate(vgd_uplink *u, uint64_t rate)
{
    vgd_writer_lock_spool(u->writer);
    u->o.rate = rate;
    vgd_writer_unlock_spool(u->writer);
}

uint32_t vgd_uplink_inflight(vgd_uplink *u)
{
    vgd_writer_lock_spool(u->writer);
    uint32_t n = u->inflight;
    vgd_writer_unlock_spool(u->writer);
    return n;
}

/* Adds tokens for the time since the last refill, capped at one second's
 * worth (and at least one chunk). */
static void uplink__refill(vgd_uplink *u, int64_t now_us)
{
    if (!u->o.rate)
        return;
    double cap = (double)u->o.rate;
    if (cap < u->o.max_bytes)
        cap = u->o.max_bytes;
    if (u->refill_us)
        u->tokens += (double)(now_us - u->refill_us) * 1e-6 * (double)u->o.rate;
    if (u->tokens > cap)
        u->tokens = cap;
    u->refill_us = now_us;
}

/* Records allowed in the next chunk: all when the bucket has tokens, else
 * only the unsent alerts/trips/model records not yet in flight (0: wait). */
static size_t uplink__allowance(vgd_uplink *u)
{
    if (!u->o.rate || u->tokens > 0)
        return u->o.max_items;
    vg_spool_stats st;
    if (vg_spool_get_stats(u->spool, &st) != VG_OK)
        return 0;
    uint64_t urgent = st.kind[VG_ARCH_ALERT].unsent + st.kind[VG_ARCH_TRIP].unsent +
                      st.kind[VG_ARCH_MODEL].unsent;
    if (urgent <= u->nonsample)
        return 0;
    urgent -= u->nonsample;
    return urgent < u->o.max_items ? (size_t)urgent : u->o.max_items;
}

/* Encodes items[0..n) into u->buf; *len gets the size. */
static int uplink__encode(vgd_uplink *u, size_t n, size_t *len)
{
    size_t need = UPLINK_HDR_OVERHEAD;
    for (size_t i = 0; i < n; i++)
        need += u->items[i].len + UPLINK_ITEM_OVERHEAD;
    if (need > u->cap) {
        uint8_t *nb = realloc(u->buf, need);
        if (!nb)
            return VG_ENOMEM;
        u->buf = nb;
        u->cap = need;
    }
    vg_archive a = {.chunk_seq = u->chunk_seq, .nitem = (uint32_t)n, .item = u->items};
    snprintf(a.device, sizeof a.device, "%s", u->o.device);
    return vg_archive_encode(&a, u->buf, u->cap, len);
}

/* Builds the completion context of the chunk in u->items[0..n). */
static vgd_chunk *uplink__context(vgd_uplink *u, size_t n, size_t len)
{
    vgd_chunk *c = malloc(sizeof(*c) + n * sizeof(c->item[0]));
    if (!c)
        return NULL;
    c->u = u;
    c->gen = u->gen;
    c->bytes = len;
    c->n = (uint32_t)n;
    c->nonsample = 0;
    for (size_t i = 0; i < n; i++) {
        c->item[i] = u->items[i];
        c->item[i].payload = NULL;
        c->nonsample += u->items[i].kind != VG_ARCH_SAMPLES;
    }
    return c;
}

/* Sends one chunk; 1 sent, 0 nothing to send or not allowed, -1 error. */
static int uplink__one(vgd_uplink *u, int64_t now_us)
{
    size_t allow = uplink__allowance(u), n = 0, len = 0;
    if (!allow)
        return 0;
    int rc = vg_spool_next_batch(u->spool, allow, u->o.max_bytes, u->items, &n);
    if (rc != VG_OK || n == 0)
        return rc == VG_OK ? 0 : -1;
    vgd_chunk *c = NULL;
    rc = uplink__encode(u, n, &len);
    if (rc == VG_OK && !(c = uplink__context(u, n, len)))
        rc = VG_ENOMEM;
    if (rc == VG_OK)
        rc = u->o.send(u->o.user, u->buf, len, c);
    if (rc != VG_OK) {
        free(c);
        vg_spool_requeue_inflight(u->spool); /* spool lock held by the pump */
        vgd_log_burst(&u->burst, now_us, 10000000, VGD_WARN, "archive chunk not sent: %s",
                      vg_strerror(rc));
        return -1;
    }
    c->next = u->chunks;
    u->chunks = c;
    u->chunk_seq++;
    u->inflight++;
    u->nonsample += c->nonsample;
    if (u->o.rate)
        u->tokens -= (double)len;
    return 1;
}

int vgd_uplink_pump(vgd_uplink *u, int64_t now_us)
{
    int sent = 0;
    vgd_writer_lock_spool(u->writer);
    uplink__refill(u, now_us);
    while (u->inflight < u->o.max_inflight && uplink__one(u, now_us) == 1)
        sent++;
    vgd_writer_unlock_spool(u->writer);
    return sent;
}

/* Unlinks c from the outstanding list. */
static void uplink__unlink(vgd_uplink *u, vgd_chunk *c)
{
    for (vgd_chunk **pp = &u->chunks; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            return;
        }
    }
}

/* The connection was lost (spool lock held). */
static void uplink__disconnected(vgd_uplink *u)
{
    vg_spool_requeue_inflight(u->spool);
    u->gen++;
    u->inflight = 0;
    u->nonsample = 0;
}

void vgd_uplink_done(vgd_chunk *c, int ok)
{
    vgd_uplink *u = c->u;
    vgd_writer_lock_spool(u->writer);
    uplink__unlink(u, c);
    if (c->gen == u->gen) {
        u->inflight--;
        u->nonsample -= c->nonsample;
    }
    if (ok) {
        int rc = vgd_writer_mark_sent(u->writer, c->item, c->n);
        if (rc == VG_OK) {
            u->m->uplink_chunks++;
            u->m->uplink_records += c->n;
            u->m->uplink_bytes += c->bytes;
        } else {
            u->m->spool_errors++;
            vgd_log(VGD_ERR, "spool: marking sent: %s", vg_strerror(rc));
        }
    } else if (c->gen == u->gen) {
        uplink__disconnected(u);
    }
    vgd_writer_unlock_spool(u->writer);
    free(c);
}

void vgd_uplink_disconnected(vgd_uplink *u)
{
    vgd_writer_lock_spool(u->writer);
    uplink__disconnected(u);
    vgd_writer_unlock_spool(u->writer);
}
