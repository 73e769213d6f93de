/*
 * uplink.h - store-and-forward: drains the spool onto the archive topic.
 *
 * vgd_uplink_pump (called by the daemon's main loop while connected) takes
 * unsent records from the spool (vg_spool_next_batch: trips, alerts and
 * model records first, then samples oldest first), encodes each chunk as a
 * vg_archive and hands it to the `send` callback, which publishes it at
 * QoS 1 and later reports the outcome with vgd_uplink_done:
 *
 *   - success (the PUBACK): the chunk's records are marked sent: the marks
 *     are queued to the spool writer and committed with its next group
 *     (vgd_writer_mark_sent; until then the spool's in-memory in-flight
 *     cursor keeps them from going out again).  Nothing is marked sent
 *     before its PUBACK; a crash before the group commit forgets the marks
 *     and the records go out again after the restart (harmless: dedup);
 *   - failure, or vgd_uplink_disconnected: the spool's in-flight cursor is
 *     rewound (vg_spool_requeue_inflight) so every unsent record goes out
 *     again; at-least-once, the batch side dedups by (device, kind, seq).
 *     A generation counter keeps late completions of an older connection
 *     from corrupting the in-flight count (their PUBACKs still mark sent).
 *   - restart: the spool hands out every unsent record again.
 *
 * At most `max_inflight` chunks await their PUBACK.  Backfill is rate
 * limited by a token bucket of `rate` bytes/s (burst: one second, at least
 * one chunk); alerts, trips and model records bypass it, so they are never
 * stuck behind a throttled backlog.
 *
 * Costs: a chunk is one next_batch (O(k log n)), one encode O(bytes) and
 * one malloc for its completion context; a completion is O(k) (the marks
 * are copied to the writer; their UPDATEs ride on its next commit).
 * Threads: every function takes the writer's spool lock, which guards the
 * uplink's state as well as the spool, so the daemon pumps without its own
 * lock (the receive thread keeps scoring meanwhile) while completions
 * arrive on Paho's thread.  Lock order: daemon lock, spool lock, writer
 * queue lock.  `send` is called with the spool lock held: it must only
 * queue (the daemon sends after the pump returns).
 */
#ifndef VGD_UPLINK_H
#define VGD_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "spool.h"
#include "writer.h"

typedef struct vgd_uplink vgd_uplink;

/* Completion context of one published chunk (owned by the uplink). */
typedef struct vgd_chunk {
    vgd_uplink *u;          /* owner */
    void *link;             /* set by the sender, for its completion callback */
    struct vgd_chunk *next; /* owner's list of outstanding chunks */
    uint64_t gen;           /* connection generation it was sent in */
    size_t bytes;           /* encoded size */
    uint32_t n;             /* records */
    uint32_t nonsample;     /* of which alerts/trips/model records */
    vg_spool_item item[];   /* kind and seq of each record (no payload) */
} vgd_chunk;

typedef struct vgd_uplink_opts {
    const char *device;    /* our id, in every chunk */
    uint32_t max_items;    /* records per chunk */
    uint32_t max_bytes;    /* payload bytes per chunk */
    uint32_t max_inflight; /* chunks awaiting PUBACK */
    uint64_t rate;         /* backfill bytes/s, 0 = unlimited */
    /* Publishes chunk bytes on ROOT/DEV/archive, QoS 1, and arranges for
     * vgd_uplink_done(ctx, ok) on completion.  Returns VG_OK when queued
     * (the payload is copied), else a status (then done is not called). */
    int (*send)(void *user, const void *buf, size_t len, vgd_chunk *ctx);
    void *user; /* passed to send */
} vgd_uplink_opts;

/* Creates an uplink over `spool` (borrowed, used under `writer`'s spool
 * lock; the writer also commits the sent marks) counting into `m`
 * (borrowed). */
vgd_uplink *vgd_uplink_create(const vgd_uplink_opts *o, vg_spool *spool, vgd_writer *writer,
                              vgd_metrics *m);

/* Frees the uplink and every outstanding completion context (call after
 * the MQTT client is destroyed, so no completion can arrive). */
void vgd_uplink_destroy(vgd_uplink *u);

/* Changes the rate (SIGHUP). */
void vgd_uplink_set_rate(vgd_uplink *u, uint64_t rate);

/* Sends chunks while the window and the bucket allow (monotonic now_us).
 * Returns the number of chunks sent; failures are counted and logged. */
int vgd_uplink_pump(vgd_uplink *u, int64_t now_us);

/* Completion of chunk ctx (frees it). */
void vgd_uplink_done(vgd_chunk *ctx, int ok);

/* The connection was lost: rewind the spool's in-flight records. */
void vgd_uplink_disconnected(vgd_uplink *u);

/* Chunks awaiting PUBACK in the current connection. */
uint32_t vgd_uplink_inflight(vgd_uplink *u);

#endif
