/*
 * writer.h - vigild's spool writer: a thread that owns every write to the
 * spool and commits in groups, plus the device-level acknowledgement mark.
 *
 * Why.  Paho's one receive thread used to decode, score, append and commit
 * every batch (and mark archive chunks sent in a second transaction per
 * PUBACK).  Now the receive thread only decodes, scores and hands the raw
 * batch to vgd_writer_append (a copy into a bounded queue); the writer
 * thread takes everything queued, appends it, applies the deferred
 * "sent" marks of acknowledged archive chunks, and commits once for the
 * whole group (at most `max_group` records per transaction).  A group of
 * sample batches gathers for up to `gather_us` (default 2 ms) unless
 * `gather_min` records are queued; alerts, trips, model records and
 * vgd_writer_flush do not wait.  Under load a group holds many batches (one
 * WAL append of their pages instead of one per 2-3 batches); when idle a
 * group is one batch, committed within gather_us of its arrival.
 *
 * Device-level acknowledgement.  Paho PUBACKs an incoming message before
 * our callback runs (eclipse-paho/paho.mqtt.c#522), so the PUBACK says
 * nothing about the spool.  The writer therefore maintains the *committed
 * mark* M: every sample batch with seq <= M that this vigild accepted is
 * committed in the spool (survives SIGKILL; power loss as docs/SPOOL.md).
 * After each commit that moves M, `committed(user, M)` is called (writer
 * thread, no lock held) and vigild publishes M on ROOT/DEV/samples/ack; a
 * device keeps every batch until M covers it and re-sends the others.
 *
 * Gaps.  Batches below the highest accepted seq are normally refused
 * (duplicate / out of order).  But a device re-sends batches that vigild
 * PUBACKed and then lost (crash before the commit) *after* newer ones may
 * have arrived.  So when a batch skips seqs (seq > last + 1) the skipped
 * range is remembered as a gap (at most VGD_WRITER_GAPS ranges, each for at
 * most gap_ms); a batch whose seq lies in a gap is accepted, and M stays
 * below the lowest gap, so the device keeps (and re-sends) those batches.
 * A restart re-opens the gaps from the holes among the stored seqs
 * (vg_spool_sample_holes), so a kill cannot make them forgotten and the
 * mark jump over them.  A gap is closed when the batch is committed; an
 * expired or overflowing
 * gap is dropped and counted (gaps_dropped): the device's batches in it
 * are then refused as out of order and M moves past them.  A failed
 * commit turns the seqs it lost into gaps (merged into ranges), so their
 * re-sends are accepted; a batch re-sent into a gap restarts the gap's
 * clock, so a long outage (a full disk) does not expire gaps the device is
 * still filling.  A failed group may also roll back the deferred sent-marks
 * it carried: the spool's in-flight cursor is then rewound, so those
 * records are forwarded again.
 *
 * Locking.  Two mutexes: the queue lock (appends, marks, seq tracking;
 * held for O(1) or a short copy) and the spool lock (held by the writer
 * during a group, and by other threads around their own spool calls via
 * vgd_writer_lock_spool: the uplink's next_batch, stats, quota).  The
 * writer never holds the queue lock while working on the spool.
 *
 * Costs: append = one malloc + memcpy of the payload under the queue lock
 * (blocks while the queue holds more than queue_bytes: backpressure to
 * Paho, the broker and the device); a group = one INSERT per record, one
 * UPDATE per mark and one commit.  Memory: the queued payloads (bounded by
 * queue_bytes) and VGD_WRITER_GAPS gap entries.
 */
#ifndef VGD_WRITER_H
#define VGD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

#define VGD_WRITER_GAPS 64 /* remembered gap ranges */

typedef struct vgd_writer vgd_writer;

typedef struct vgd_writer_opts {
    uint32_t max_group;  /* records per transaction; 0 = 256 */
    size_t queue_bytes;  /* queued payload bytes before append blocks; 0 = 8 MiB */
    uint32_t gap_ms;     /* how long a gap waits for its batches; 0 = 30000 */
    uint32_t gather_us;  /* how long a group waits for more samples; 0 = 2000 */
    uint32_t gather_min; /* queued records that end that wait at once; 0 = 32 */
    void *user;          /* passed to the callbacks */
    /* The committed mark moved to `mark` (writer thread, no lock held;
     * must not call back into the writer except vgd_writer_stats). */
    void (*committed)(void *user, uint64_t mark);
    /* A group failed (writer thread, no lock held): `msg` is the spool's
     * message; records lost: `lost` (sample batches among them become
     * gaps).  May be NULL. */
    void (*failed)(void *user, int rc, const char *msg, uint64_t lost);
} vgd_writer_opts;

/* Counters for metrics and status. */
typedef struct vgd_writer_stats {
    uint64_t groups;       /* transactions committed */
    uint64_t records;      /* records committed */
    uint64_t marks;        /* deferred sent-marks committed */
    uint64_t errors;       /* failed groups */
    uint64_t gaps_dropped; /* gap ranges given up (expired or overflow) */
    uint64_t queued;       /* records waiting now */
    uint64_t queued_bytes; /* their payload bytes */
    int64_t mark;          /* committed mark, -1 none */
} vgd_writer_stats;

/* Creates the writer over `spool` (borrowed; from now on every thread
 * uses it under vgd_writer_lock_spool only) and starts its thread.  The
 * highest stored sample seq becomes the accepted seq and the mark.  NULL
 * with *rc set (VG_ENOMEM, spool errors) on failure. */
vgd_writer *vgd_writer_create(vg_spool *spool, const vgd_writer_opts *o, int *rc);

/* Commits everything queued, stops and joins the thread, frees the
 * writer (not the spool).  Returns the last group's status (VG_OK when
 * that group committed, whatever failed before).  NULL: VG_OK. */
int vgd_writer_destroy(vgd_writer *w);

/* Sequence rule for an incoming sample batch, before it is scored:
 * VG_OK (above everything accepted, or inside a gap), VG_EDUP (equal to
 * the last accepted), VG_EORDER (below it and in no gap), VG_EINVAL
 * (seq > INT64_MAX).  Does not change anything. */
int vgd_writer_seq_check(vgd_writer *w, uint64_t seq);

/* Queues one record (payload copied) for the next group.  For a sample
 * batch this also makes `seq` accepted (opening a gap when seqs were
 * skipped).  Blocks while the queue is full.  VG_OK, VG_ENOMEM, VG_EINVAL
 * (bad kind or seq). */
int vgd_writer_append(vgd_writer *w, int kind, uint64_t seq, uint64_t model_version, int64_t rx_us,
                      const void *payload, size_t len);

/* Queues "sent" marks (kind and seq of each item) to be committed with the
 * next group (vg_spool_mark_sent_deferred).  VG_OK or VG_ENOMEM. */
int vgd_writer_mark_sent(vgd_writer *w, const vg_spool_item *items, size_t n);

/* Waits until everything queued before the call is committed (or failed)
 * and the callbacks of those groups have returned.  Returns VG_OK, or the
 * status of a failed group meanwhile. */
int vgd_writer_flush(vgd_writer *w);

/* Exclusive use of the spool from another thread; pair with unlock. */
void vgd_writer_lock_spool(vgd_writer *w);
void vgd_writer_unlock_spool(vgd_writer *w);

/* Fills *st (queue lock). */
void vgd_writer_stats_get(vgd_writer *w, vgd_writer_stats *st);

#endif
