/*
 * vg_model.h - what a model and a safety envelope are.
 *
 * Two sources parameterise a channel's detectors:
 *
 *   - the *envelope* (vg_envelope) comes from the device's local config and
 *     holds the hard engineering limits: it is the safety case and it never
 *     changes because of anything received over the network;
 *   - the *model* (vg_chan_model) comes from a signed bundle made by
 *     vigil-batch and holds fitted statistics and thresholds.  It may tighten
 *     the envelope's limits; it can never loosen them (vg_params_compile()
 *     takes the intersection, vg_model_check_envelope() rejects a bundle that
 *     tries).
 *
 * Every double field of vg_chan_model may be NaN, meaning "not set, use the
 * default"; the codec omits such fields on the wire.
 */
#ifndef VG_MODEL_H
#define VG_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define VG_SCHEMA_VERSION    1
#define VG_DEVICE_MAX        64  /* device id: [A-Za-z0-9_-]{1,64} */
#define VG_CHANNEL_MAX       32  /* channel name: [A-Za-z0-9_.-]{1,32} */
#define VG_MODEL_MAX_CHANNEL 64  /* channels per model bundle */
#define VG_REASON_MAX        127 /* free-text reasons on the wire */

/* Detector identifiers: stable, carried on the wire by name. */
enum vg_detector {
    VG_DET_NONE = 0,
    VG_DET_LIMIT,  /* hard limit with hysteresis and N-of-M debounce */
    VG_DET_RATE,   /* rate-of-change limit */
    VG_DET_STUCK,  /* stuck / flat-line sensor */
    VG_DET_STALE,  /* stale-data watchdog */
    VG_DET_ZSCORE, /* robust z-score (median / MAD) */
    VG_DET_EWMA,   /* EWMA control chart */
    VG_DET_CUSUM,  /* two-sided CUSUM */
    VG_DET_MVAR,   /* multivariate T^2 / Q over a device's channels */
    VG_DET_COUNT
};

/* "limit", "rate", ...; "none" for VG_DET_NONE, NULL when out of range. */
const char *vg_detector_name(int det);
/* Inverse of vg_detector_name over `len` bytes; VG_DET_NONE if unknown. */
int vg_detector_from_name(const char *name, unsigned long len);

/* The local hard envelope of one channel (from config, never from a model). */
typedef struct vg_envelope {
    double lo;          /* low hard limit; -INFINITY when none */
    double hi;          /* high hard limit; +INFINITY when none */
    double hysteresis;  /* a limit violation clears only this far inside */
    uint8_t debounce_n; /* violation when >= n of the last m samples exceed */
    uint8_t debounce_m; /* 1..64 */
    bool trip;          /* a confirmed limit violation trips the machine */
    bool trip_on_stale; /* a silent channel past stale_us trips (fail-safe) */
    int64_t stale_us;   /* stale-data deadline in microseconds; 0 = off */
} vg_envelope;

/* Fitted parameters of one channel, as carried in a model bundle. */
typedef struct vg_chan_model {
    char name[VG_CHANNEL_MAX + 1]; /* channel name, NUL-terminated */
    double lo;                     /* tightened low limit (>= envelope lo) */
    double hi;                     /* tightened high limit (<= envelope hi) */
    double loc;                    /* robust location (median of training data) */
    double scale;                  /* robust scale (1.4826 * MAD, floored) */
    double z_thr;                  /* robust z-score alert threshold */
    double ewma_lambda;            /* EWMA smoothing factor in (0, 1] */
    double ewma_l;                 /* EWMA control-limit width in sigmas */
    double cusum_k;                /* CUSUM allowance in sigmas */
    double cusum_h;                /* CUSUM decision interval in sigmas */
    double rate_max;               /* largest normal |dx/dt|, units per second */
    double stuck_eps;              /* changes at or below this count as "no change" */
    double stuck_n;                /* this many unchanged samples in a row is stuck */
    double stale_s;                /* tightened stale deadline, seconds */
} vg_chan_model;

#define VG_MVAR_MAX 16 /* channels in the multivariate part */

/* The optional multivariate part of a model (vg_mvar.h): PCA of the
 * standardised channels, fitted by vg_mvar_fit.  p == 0 means "none".
 * A row x (channels in name[] order) becomes z_j = (x_j - loc_j) / scale_j;
 * its scores t_c = sum_j z_j load[j * k + c]; T^2 = sum_c t_c^2 / eig[c]
 * and Q = |z|^2 - sum_c t_c^2.  The alert statistics are EWMAs (rate
 * lambda) of T^2 and Q, started at t2_mean / q_mean, against the limits
 * t2_lim / q_lim.  It only raises alerts: it can never trip. */
typedef struct vg_mvar_model {
    uint32_t p;                                 /* channels, 0..VG_MVAR_MAX; 0 = none */
    uint32_t k;                                 /* retained components, 1..p */
    char name[VG_MVAR_MAX][VG_CHANNEL_MAX + 1]; /* channel names, unique */
    double loc[VG_MVAR_MAX];                    /* per-channel mean */
    double scale[VG_MVAR_MAX];                  /* per-channel standard deviation, > 0 */
    double eig[VG_MVAR_MAX];                    /* retained eigenvalues, > 0, descending */
    double load[VG_MVAR_MAX * VG_MVAR_MAX];     /* loadings, p x k row-major */
    double lambda;                              /* EWMA rate of the statistics, (0, 1] */
    double t2_mean, q_mean;                     /* training means: the EWMAs' start */
    double t2_lim, q_lim;                       /* control limits of the EWMAs, > 0 */
    double drift;                               /* loc adaptation rate, [0, 1), 0 = off */
} vg_mvar_model;

/* A model bundle's payload: one device, one version, per-channel models. */
typedef struct vg_model {
    char device[VG_DEVICE_MAX + 1]; /* device the model was fitted for */
    uint64_t version;               /* strictly increasing per device */
    int64_t created_us;             /* when vigil-batch made it */
    int64_t train_from_us;          /* training range start (inclusive) */
    int64_t train_to_us;            /* training range end (exclusive) */
    uint32_t nchan;                 /* entries used in chan[] */
    vg_chan_model chan[VG_MODEL_MAX_CHANNEL];
    vg_mvar_model mvar; /* multivariate part; mvar.p == 0 when none */
} vg_model;

/* Sets every double field of *m to NaN ("unset") and copies `name`
 * (truncated to VG_CHANNEL_MAX). */
void vg_chan_model_clear(vg_chan_model *m, const char *name);

/* Returns the channel model named `name` (len bytes) in *model, or NULL. */
const vg_chan_model *vg_model_find(const vg_model *model, const char *name, unsigned long len);

/* VG_OK when `m` only tightens `env`: its limits lie inside the envelope,
 * and its stale deadline (if set) is not longer.  VG_EENVELOPE otherwise. */
int vg_model_check_envelope(const vg_chan_model *m, const vg_envelope *env);

/* True when s[0..len) is a valid device id / channel name. */
bool vg_valid_device(const char *s, unsigned long len);
bool vg_valid_channel(const char *s, unsigned long len);

#endif
