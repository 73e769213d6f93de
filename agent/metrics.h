/*
 * metrics.h - vigild's counters, gauges and processing-latency histogram,
 * rendered in the Prometheus text exposition format (version 0.0.4) for a
 * node_exporter textfile collector, and carried in part in the status
 * message.
 *
 * The struct is plain data owned by the daemon and updated under the
 * daemon's one lock; nothing here locks.  Costs: an update is an increment;
 * vgd_metrics_observe is O(buckets) = O(12); rendering is O(reasons) into a
 * caller buffer; vgd_metrics_write_file writes a temp file and renames it
 * over the target (readers never see a partial file).
 */
#ifndef VGD_METRICS_H
#define VGD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "vg_error.h"
#include "vg_msg.h"

#define VGD_HIST_BUCKETS 12 /* latency buckets, plus +Inf */

typedef struct vgd_metrics {
    uint64_t batches_in;                      /* sample batches accepted */
    uint64_t samples_in;                      /* samples scored */
    uint64_t rejected[VG_ESTATUS_MAX];        /* batches/samples refused, by reason */
    uint64_t alerts_raised;                   /* alert edges up */
    uint64_t alerts_cleared;                  /* alert edges down */
    uint64_t trips;                           /* trip decisions */
    uint64_t resets_ok;                       /* resets that cleared the latch */
    uint64_t resets_refused;                  /* resets refused (cause active, bad) */
    uint64_t reset_refused_reason;            /* VG_* code of the last refusal, 0 none */
    uint64_t actions_run;                     /* local actions started */
    uint64_t actions_failed;                  /* failed to start or exited non-zero */
    uint64_t actions_killed;                  /* killed at their timeout */
    uint64_t models_applied;                  /* bundles applied */
    uint64_t models_rejected[VG_ESTATUS_MAX]; /* bundles refused, by reason */
    uint64_t spool_errors;                    /* spool appends/commits that failed */
    uint64_t spool_commits;                   /* spool writer groups committed */
    uint64_t spool_gaps_dropped;              /* skipped-seq gaps given up (writer.h) */
    uint64_t uplink_chunks;                   /* archive chunks PUBACKed */
    uint64_t uplink_records;                  /* records in them */
    uint64_t uplink_bytes;                    /* chunk bytes PUBACKed */
    uint64_t connects;                        /* successful broker connections */
    uint64_t client_renewals;                 /* wedged MQTT clients replaced */
    uint64_t hist[VGD_HIST_BUCKETS + 1];      /* per-batch processing latency */
    double hist_sum_s;                        /* sum of observed latencies, s */
    /* gauges, refreshed by the daemon before rendering */
    uint64_t spool_bytes;   /* database bytes (what the quota sees) */
    uint64_t backlog;       /* unsent records */
    uint64_t backlog_bytes; /* their payload bytes */
    uint64_t evicted_lost;  /* unsent samples batches evicted by quota */
    int64_t acked_seq;      /* committed mark published on samples/ack, -1 none */
    uint64_t spool_queue;   /* records queued for the spool writer */
    double uplink_lag_s;    /* age of the oldest unsent record, s */
    uint64_t model_version; /* model running, 0 = none */
    int connected;          /* 1 while connected to the broker */
    int latched;            /* 1 while a trip is latched */
} vgd_metrics;

/* Upper bounds of the latency buckets, in microseconds. */
extern const uint32_t vgd_hist_bounds_us[VGD_HIST_BUCKETS];

/* Records one processing latency. */
void vgd_metrics_observe(vgd_metrics *m, int64_t us);

/* Renders *m into buf[0..cap) as Prometheus text; *len gets the length.
 * VG_ENOSPC when cap is too small (8 KiB always suffices). */
int vgd_metrics_render(const vgd_metrics *m, const char *device, char *buf, size_t cap,
                       size_t *len);

/* Writes the rendering atomically to `path` (path.tmp + rename).  VG_EIO
 * on failure (errno kept). */
int vgd_metrics_write_file(const vgd_metrics *m, const char *device, const char *path);

/* Fills st->counter[] with the status subset (samples_in, rejected,
 * alerts, trips, backlog, spool_bytes, ...); sets st->ncounter. */
void vgd_metrics_to_status(const vgd_metrics *m, vg_status *st);

#endif
