/*
 * retrain.h - `vigil-batch retrain`: fit a candidate model per device from
 * the warehouse, backtest it, and write bundles.
 *
 * Per device (in name order, only those of --shard) and channel (in name
 * order):
 *   1. the channel's samples in the training range [from, to), minus the
 *      device's labelled incidents and the periods around its trips;
 *   2. vg_fit_channel (the core's retraining code) with a per-sample false
 *      alarm rate derived from the target alarms per device-week;
 *   3. vg_fit_shrink toward the fleet prior of the same channel, with
 *      weight n / (n + prior_n0);
 *   4. clamp to the channel's safety envelope from the config file (model
 *      limits inside it, stale deadline no longer);
 * then the multivariate part (vg_mvar.h) over the device's first
 * VG_MVAR_MAX channels by name: their series aligned by timestamp (a
 * channel without a sample at a row's time is held by the fit), the most
 * recent 50000 rows of the range, rows at excluded times left out, fitted
 * with the core's defaults but a false-alarm rate of at most the device's
 * alarms_per_week as a per-row rate (rows over the range's weeks); none
 * when fewer than two channels vary or too few rows remain.  It only
 * raises alerts, so the safety envelope is untouched; the backtest runs
 * the per-channel detectors only.
 * then a backtest (backtest.h) of the current and the candidate model, and
 * one of: a bundle to publish, a held-back candidate (guardrail), or
 * "unchanged" (the candidate equals the current model).
 *
 * Fleet prior of a channel: the field-wise median over every device (all
 * shards) of a fit on that device's first prior_rows training samples, so
 * every shard computes the same prior at a bounded cost.
 *
 * Determinism: devices, channels and samples are read in a fixed order, the
 * fit and shrink are deterministic, version = highest published version of
 * the device + 1, created_us = the training range's end (never the wall
 * clock), Ed25519 signatures are deterministic: the same warehouse and
 * options give byte-identical files, and shards 0..N-1 of N together write
 * exactly the bundles of one unsharded run.
 *
 * Output in DIR: <dev>.bundle (signed with --sign-key) or <dev>.model
 * (unsigned CBOR model, signed later by publish); held-back candidates in
 * DIR/held/; <dev>.meta (key value lines for publish); manifest.json
 * (manifest-I-of-N.json for a shard).
 *
 * Cost: O(samples in range) reads, fits and engine pushes (x2 models) per
 * device; memory: one device's series in the range.
 */
#ifndef VB_RETRAIN_H
#define VB_RETRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "backtest.h"
#include "shard.h"
#include "vg_bundle.h"
#include "vg_conf.h"
#include "warehouse.h"

typedef struct vb_retrain_opts {
    const char *out_dir;     /* output directory (created) */
    const uint8_t *sign_key; /* VG_SK_BYTES secret key, or NULL: unsigned */
    vb_shard shard;          /* devices to handle */
    int64_t from_us, to_us;  /* training range; 0 = automatic */
    double days;             /* automatic range: this many days up to the
                                newest sample in the warehouse (28) */
    int64_t trip_margin_us;  /* excluded around each trip (3600 s) */
    int64_t label_grace_us;  /* label widening for backtest detection (300 s) */
    double alarms_per_week;  /* target false alarms per device-week (1) */
    double prior_n0;         /* shrinkage strength, samples (5000) */
    uint32_t prior_rows;     /* samples per device for the fleet prior (4096) */
    const vg_conf *conf;     /* envelopes and detector config (borrowed) */
    vb_guard guard;          /* backtest guardrails */
} vb_retrain_opts;

typedef struct vb_retrain_stats {
    uint32_t devices;   /* devices of this shard considered */
    uint32_t publish;   /* bundles written to publish */
    uint32_t held;      /* candidates held back */
    uint32_t unchanged; /* candidate equal to the current model */
    uint32_t skipped;   /* no usable data in range */
    uint64_t samples;   /* training samples used */
    int64_t from_us;    /* effective training range */
    int64_t to_us;
} vb_retrain_stats;

/* Fills *o with the defaults above (out_dir, conf to be set). */
void vb_retrain_opts_init(vb_retrain_opts *o);

/* Runs retraining over warehouse `w` (read only).  On failure returns a VG
 * code with a message in err. */
int vb_retrain_run(vb_wh *w, const vb_retrain_opts *o, vb_retrain_stats *st, char *err,
                   size_t errlen);

#endif
