/*
 * replay.h - vigil-replay's engine: the agent's detection pipeline over a
 * CSV file, with no broker (see DESIGN.md for the formats).
 *
 * Streaming: one line in memory at a time (plus, with --train-rows N, the
 * first N rows, which are buffered to fit the model and then scored), so a
 * file of any length replays in bounded memory.  Per row: parse, push every
 * present cell into its channel (a missing cell is a tick for the stale
 * watchdog), and print `timestamp,anomaly_score,alert,trip`, where the score
 * is the largest channel score, alert is 1 while any channel's alert is
 * raised, and trip is 1 once any channel has tripped (trips latch; replay
 * has no operator to reset them).
 *
 * Multivariate part (vg_mvar.h): with --train-rows N and at least two
 * numeric columns, the first N rows also fit the T^2/Q detector over the
 * first VG_MVAR_MAX columns (constant ones left out); a --model with a
 * multivariate part runs it too.  Its columns are looked up by name; a
 * missing cell holds the last value.  How it joins the row's output is
 * opts.mvar:
 *   VG_REPLAY_MVAR_JOINT (default): the channels it covers are watched by
 *     it; their own statistical detectors still run but only their safety
 *     and sensor-health verdicts (hard limit, stale, stuck, trip) join the
 *     row; channels it does not
 *     cover join as without it.  So one fault is one alert, not one per
 *     channel flickering beside the multivariate one;
 *   VG_REPLAY_MVAR_MAX: the larger of every channel's and its score, alert
 *     when any alerts;
 *   VG_REPLAY_MVAR_OFF: ignored (the univariate baseline);
 *   VG_REPLAY_MVAR_ONLY: score and alert from it alone (trips still come
 *     from the channels' envelopes).
 * Without a multivariate part (one numeric column, too few training rows,
 * a model without one) every mode prints the univariate output.
 */
#ifndef VG_REPLAY_H
#define VG_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "vg_conf.h"
#include "vg_model.h"

/* How the multivariate detector joins the output (see above). */
enum vg_replay_mvar {
    VG_REPLAY_MVAR_JOINT = 0,
    VG_REPLAY_MVAR_MAX,
    VG_REPLAY_MVAR_OFF,
    VG_REPLAY_MVAR_ONLY
};

typedef struct vg_replay_opts {
    const char *path;       /* CSV file ("-" = stdin) */
    const vg_conf *conf;    /* detection config (required) */
    const vg_model *model;  /* model to run with, or NULL */
    uint64_t train_rows;    /* fit a model on the first N rows (0 = no) */
    const char *save_model; /* write the fitted model (CBOR) here, or NULL */
    int mvar;               /* enum vg_replay_mvar */
    FILE *out;              /* CSV output */
    FILE *err;              /* diagnostics */
} vg_replay_opts;

typedef struct vg_replay_stats {
    uint64_t rows;            /* data rows read */
    uint64_t samples;         /* cells scored */
    uint64_t missing;         /* empty / NaN cells */
    uint64_t alert_rows;      /* rows with alert = 1 */
    uint64_t alerts_raised;   /* alert raise edges over all channels */
    uint64_t trips;           /* channels that tripped */
    int64_t first_trip_us;    /* time of the first trip, INT64_MIN if none */
    uint32_t channels;        /* channel columns */
    uint32_t mvar_channels;   /* channels in the multivariate detector, 0 = off */
    uint32_t mvar_k;          /* its retained components */
    uint64_t mvar_alert_rows; /* rows in which the multivariate detector alerted */
} vg_replay_stats;

/* Runs the replay.  Returns VG_OK, or a VG_* code after writing one line
 * naming the file, line and column to o->err. */
int vg_replay_run(const vg_replay_opts *o, vg_replay_stats *st);

#endif
