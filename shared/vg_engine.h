/*
 * vg_engine.h - the detection pipeline of one device: channels by name,
 * each a window + detector state + compiled parameters.
 *
 * This is what vigild runs per sample and what vigil-replay and the batch
 * backtest run over history: one implementation for the edge and the cloud.
 *
 * Memory: everything is allocated once by vg_engine_create() - max_channels
 * channel slots, each with its window buffer, plus one scratch array - and
 * nothing afterwards.  Per channel that is vg_window_bytes(capacity) plus
 * sizeof(vg_channel) (under 1 KiB).  Channels listed in the config exist
 * from the start; others are admitted on first sight when allow_unknown is
 * set, up to max_channels, and refused with VG_ECHANNEL otherwise.
 *
 * Cost: lookup is O(1) expected (open-addressing hash of the name), push is
 * O(1) amortised (vg_detect_sample), a block push O(1) a sample with the
 * per-call work once a block, applying a model is O(channels).
 * Not thread-safe: one engine belongs to one thread.
 */
#ifndef VG_ENGINE_H
#define VG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_detect.h"
#include "vg_model.h"
#include "vg_window.h"

/* Local configuration of one channel. */
typedef struct vg_chan_config {
    char name[VG_CHANNEL_MAX + 1]; /* channel name */
    vg_envelope env;               /* hard engineering envelope */
    uint32_t window;               /* samples in its window; 0 = engine default */
    double window_s;               /* time span of its window; 0 = engine default */
    vg_chan_model local;           /* local detector settings; NaN = default */
} vg_chan_config;

/* Configuration of an engine (copied by vg_engine_create). */
typedef struct vg_engine_config {
    vg_defaults defaults;       /* detector defaults */
    vg_envelope default_env;    /* envelope of channels not listed */
    uint32_t window;            /* default samples per window (256) */
    double window_s;            /* default time span in seconds, 0 = none */
    uint32_t max_channels;      /* channel slots (64) */
    bool allow_unknown;         /* admit unlisted channels on first sight */
    bool minmax;                /* track window min/max incrementally (off) */
    uint32_t nchan;             /* entries in chan[] */
    const vg_chan_config *chan; /* listed channels */
} vg_engine_config;

/* One channel: read-only to callers except through the engine API. */
typedef struct vg_channel {
    char name[VG_CHANNEL_MAX + 1]; /* NUL-terminated name */
    uint32_t index;                /* position in the engine, 0-based */
    int cfg;                       /* index into config chan[], -1 = default */
    vg_window win;                 /* recent samples and aggregates */
    vg_detect det;                 /* detector state */
    vg_params par;                 /* compiled parameters */
    uint64_t accepted;             /* samples scored */
    uint64_t rejected_nan;         /* NaN / Inf samples refused */
    uint64_t rejected_order;       /* out-of-order samples refused */
} vg_channel;

typedef struct vg_engine vg_engine;

/* Fills *cfg with defaults: no listed channels, unbounded default
 * envelope, window 256, 64 channel slots, unknown channels admitted. */
void vg_engine_config_init(vg_engine_config *cfg);

/* Sets *env to "no limits, no stale watchdog, 1-of-1 debounce, no trip". */
void vg_envelope_init(vg_envelope *env);

/* Creates an engine; NULL with *rc set (VG_EINVAL, VG_ENOMEM) on failure.
 * The engine owns all its memory; free it with vg_engine_destroy(). */
vg_engine *vg_engine_create(const vg_engine_config *cfg, int *rc);
void vg_engine_destroy(vg_engine *e);

/* Finds (or admits) channel name[0..len).  VG_EINVAL for an invalid name,
 * VG_ECHANNEL when unknown and not admitted, VG_ENOSPC when full. */
int vg_engine_lookup(vg_engine *e, const char *name, size_t len, vg_channel **out);

/* Number of channels and the i-th one (0-based, i < count). */
uint32_t vg_engine_count(const vg_engine *e);
vg_channel *vg_engine_channel(vg_engine *e, uint32_t i);

/* Scores one sample of channel c.  VG_ENAN / VG_EORDER leave all state
 * unchanged (the sample is counted as rejected); VG_OK fills *v. */
int vg_engine_push(vg_engine *e, vg_channel *c, int64_t t_us, double x, vg_verdict *v);

/* Called by vg_engine_push_block() for sample i of its block: rc VG_ENAN or
 * VG_EORDER with v NULL for a refused sample, VG_OK with its verdict *v
 * (valid during the call only) for an accepted sample whose verdict has an
 * alert or trip edge.  It runs before sample i + 1 is scored, with c's
 * state as n single pushes would have left it after sample i; it must not
 * push into the engine. */
typedef void vg_engine_event_fn(void *user, vg_channel *c, uint32_t i, int rc, const vg_verdict *v);

/* Scores samples (t_us[i], x[i]), i < n, of channel c in order: the same
 * verdicts and the same state, bit for bit, as n calls of vg_engine_push()
 * (refused samples change nothing but their counter).  Only the events -
 * refusals and edges - reach the caller, through fn(user, ...) (NULL: none
 * reported).  Returns the samples accepted.  The per-call work (lookups,
 * arguments, the verdict's stores) is done once per block: O(n), ~10%
 * faster per sample than single pushes (docs/BENCHMARKS.md). */
uint32_t vg_engine_push_block(vg_engine *e, vg_channel *c, const int64_t *t_us, const double *x,
                              uint32_t n, vg_engine_event_fn *fn, void *user);

/* Runs the time-driven detectors of channel c at now_us. */
void vg_engine_tick(vg_engine *e, vg_channel *c, int64_t now_us, vg_verdict *v);

/* VG_OK when every channel model in *m only tightens the local envelope of
 * its channel (vg_model_check_envelope); VG_EENVELOPE naming the first bad
 * channel in *bad (may be NULL) otherwise. */
int vg_engine_check_model(const vg_engine *e, const vg_model *m, const char **bad);

/* Checks *m, then recompiles every channel's parameters from it, all or
 * nothing; NULL returns to the no-model defaults.  Detector state is kept
 * except the robust reference, which moves to the model's. */
int vg_engine_apply_model(vg_engine *e, const vg_model *m);

/* Version of the model in use, 0 when none. */
uint64_t vg_engine_model_version(const vg_engine *e);

/* The model in use (owned by the engine, valid until the next apply), or
 * NULL when none; e.g. for its multivariate part (vg_mvar.h). */
const vg_model *vg_engine_model(const vg_engine *e);

/* Tries to clear every latched trip: VG_OK when none is left latched,
 * VG_EACTIVE when a cause is still present (those stay latched). */
int vg_engine_reset_trips(vg_engine *e);

#endif
