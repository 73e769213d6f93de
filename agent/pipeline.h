/*
 * pipeline.h - what vigild does with each message, independent of MQTT:
 *
 *   samples:  size check -> vg_samples_decode -> device check -> sequence
 *             check -> per channel block: lookup (unknown channels refused
 *             when the config does not admit them) -> per sample
 *             vg_engine_push (NaN/Inf and time going backwards refused) ->
 *             alert edges -> trip edges -> raw batch appended to the spool,
 *             tagged with the model version that scored it;
 *   tick:     the stale-data watchdog of every channel (wall clock);
 *   model:    model_mgr (verify, apply between samples, persist) -> ack;
 *   reset:    clears the latch only when no cause is active.
 *
 * A trip runs, in this order and without waiting on anything remote: the
 * local action (trip.h), the latch file (written and renamed: survives a
 * crash of vigild), the publication of the retained shutdown through the
 * sink and the trip record queued for the spool writer; then, on the
 * caller's side and without its lock, vgd_pipeline_sync: the record's
 * commit waited for and the latch file's fsync (file and directory:
 * survives power loss).  The sink's publish only queues (Paho writes from
 * its own thread, after our handler returns, and buffers while
 * disconnected), so the latch file is in place before any subscriber can
 * see the shutdown; a broker that is down delays nothing.
 *
 * Sequence rule (vgd_writer_seq_check): batch seq must be greater than the
 * last accepted one (restored from the spool at start), or lie in a gap of
 * seqs the device skipped (re-sends of batches lost before their commit,
 * see writer.h).  Otherwise seq == last is a duplicate (VG_EDUP, e.g. a
 * QoS 1 redelivery), seq < last is out of order (VG_EORDER).
 * Rejections are counted in metrics->rejected by vg_errname reason: whole
 * batches for size/decode/schema/device/dup/order, channel blocks for
 * unknown channels (VG_ECHANNEL), single samples for nan and for times
 * going backwards within a channel (VG_EORDER).  Rejected batches are not
 * spooled; each reason is logged once per burst.
 *
 * Costs: a batch is O(bytes) decoding plus the engine's O(1) per sample,
 * plus one copy of the raw batch into the spool writer's queue.  An alert
 * or trip adds an encode, a queued record and a publish.
 * Memory: the engine (sized from the config), a block array of
 * VG_BATCH_MAX_CHANNEL entries (8 KiB) and an 8 KiB encode buffer.
 * Not thread-safe: the daemon calls it under its one lock.
 */
#ifndef VGD_PIPELINE_H
#define VGD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "metrics.h"
#include "model_mgr.h"
#include "spool.h"
#include "trip.h"
#include "vg_engine.h"
#include "writer.h"
#include "vg_msg.h"

/* Where the pipeline's messages go: the MQTT link in the daemon. */
typedef struct vgd_sink {
    void *user; /* passed back */
    /* Publishes buf[0..len) at QoS 1 on ROOT/DEV/<suffix> ("alerts",
     * "cmd/shutdown", "model/ack"); len 0 with retain clears a retained
     * message.  Must not block; returns a VG_* status (only logged). */
    int (*publish)(void *user, const char *suffix, const void *buf, size_t len, int retain);
} vgd_sink;

typedef struct vgd_pipeline vgd_pipeline;

/* What the pipeline needs; every pointer is borrowed and must outlive it. */
typedef struct vgd_pipeline_deps {
    const char *device;             /* our device id */
    const char *data_dir;           /* for the latch file */
    const vg_engine_config *engine; /* copied by vg_engine_create */
    vg_spool *spool;                /* durable spool (read at create, under the writer's lock) */
    vgd_writer *writer;             /* spool writer: every record goes through it */
    vgd_model_mgr *models;          /* bundle verification and persistence */
    vgd_action *action;             /* local trip action */
    vgd_metrics *metrics;           /* counters it updates */
    vgd_sink sink;                  /* outgoing messages */
} vgd_pipeline_deps;

/* Creates the pipeline: the engine, the last good model restored, the
 * sequence counters and the latch restored from the spool and data dir.
 * NULL with *rc set (VG_ENOMEM, VG_EINVAL, spool errors) on failure. */
vgd_pipeline *vgd_pipeline_create(const vgd_pipeline_deps *d, int *rc);

/* Frees the pipeline (not the borrowed deps). */
void vgd_pipeline_destroy(vgd_pipeline *p);

/* Handles one samples payload received at wall time now_us; returns VG_OK
 * when the batch was accepted (scored and queued for the spool), else the
 * reason it was refused.  A failure to queue (VG_ENOMEM) does not refuse
 * the batch (it has been scored and acted upon): it is counted in
 * metrics->spool_errors and returned. */
int vgd_pipeline_samples(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us);

/* Runs the stale watchdog of every channel at wall time now_us. */
void vgd_pipeline_tick(vgd_pipeline *p, int64_t now_us);

/* Handles a model bundle; returns vgd_model_offer's status.  The ack is
 * published and spooled (except for VG_EEXIST: the running bundle again). */
int vgd_pipeline_model(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us);

/* Handles a reset command: VG_OK when the latch is now clear (the retained
 * shutdown is cleared), VG_EACTIVE when a cause is still present, VG_EINVAL
 * for a reset naming another trip, decode errors for a bad payload. */
int vgd_pipeline_reset(vgd_pipeline *p, const uint8_t *buf, size_t len, int64_t now_us);

/* 1 when a trip since the last vgd_pipeline_take_sync awaits
 * vgd_pipeline_sync; take_sync also clears the flag.  Call under the lock
 * that serialises the pipeline. */
int vgd_pipeline_sync_due(const vgd_pipeline *p);
int vgd_pipeline_take_sync(vgd_pipeline *p);

/* Makes the trips so far durable: waits for the spool writer's commit of
 * their records and fsyncs the latch file and the data dir.  Touches only
 * the thread-safe writer and constant paths, so the daemon calls it
 * WITHOUT its lock (the receive thread keeps scoring; a reset may remove
 * the latch file meanwhile, which is not an error).  Costs 1-3 ms on ext4
 * (a commit and two fsyncs).  VG_OK, or the first failure (logged). */
int vgd_pipeline_sync(const vgd_pipeline *p);

/* Re-publishes the retained shutdown while latched (call on connect). */
void vgd_pipeline_on_connect(vgd_pipeline *p);

/* Swaps in a new engine configuration (SIGHUP): a new engine is built,
 * the running model re-applied to it if it still fits the new envelope.
 * Detector state starts afresh; the latch is kept.  On failure the old
 * engine keeps running and the status is returned. */
int vgd_pipeline_reconfigure(vgd_pipeline *p, const vg_engine_config *cfg);

/* State for status messages and metrics. */
int vgd_pipeline_latched(const vgd_pipeline *p);
uint64_t vgd_pipeline_model_version(const vgd_pipeline *p);
vg_engine *vgd_pipeline_engine(vgd_pipeline *p);

#endif
