/*
 * vg_detect.h - the per-channel detectors and the alert / trip decision.
 *
 * A channel's detectors run one after another on every accepted sample, in
 * O(1) (plus an O(window) refresh of the robust reference every
 * `ref_every` samples when no model supplies one):
 *
 *   limit     hard low/high limit with N-of-M debounce and hysteresis: the
 *             safety detector.  Confirmed violations trip when so configured.
 *   rate      |dx/dt| above rate_max.  A fitted or configured limit hit
 *             twice within about 64 samples doubles (the channel's noise
 *             grew: one report, not one on every other sample); the
 *             doubling lasts as long as the channel's state (a new model
 *             does not undo it).
 *   stuck     stuck_n consecutive changes no larger than stuck_eps.
 *   stale     no sample for stale_us (vg_detect_tick); fail-safe trip when
 *             so configured.
 *   robust_z  |x - loc| / scale above z_thr, with loc/scale the model's, or
 *             (only when the adaptive detector is off) the window's median
 *             and 1.4826*MAD.
 *   adapt     the adaptive, self-calibrated detector of vg_adapt.h (on by
 *             default, with or without a model): Holt baseline, |z|,
 *             variance-change, level-change and daily-pattern components,
 *             each standardised against the channel's own history;
 *             reported as VG_DET_ZSCORE (|z|), VG_DET_CUSUM (variance or
 *             daily pattern) or VG_DET_EWMA (level).  Its ratio is capped
 *             at 4 (score 0.94).  It needs the sample's timestamp.
 *   ewma      EWMA of x outside loc +- L*sigma*sqrt(lambda/(2-lambda)).
 *   cusum     two-sided CUSUM of (x - loc)/scale with allowance k, over h.
 *             EWMA and CUSUM measure drift from a *fitted* baseline, so they
 *             score only when a model (or local config) supplies loc and
 *             scale; against the window's rolling median they would chase
 *             every slow wave of the signal.
 *
 * A fitted reference (robust z, EWMA, CUSUM against the model's loc/scale)
 * runs beside the adaptive detector and speaks only of lasting departures:
 * each of its ratios counts as the smaller of two consecutive samples'.
 * Once it has been exceeded 2 samples in a row it has said its piece and
 * is retired until the next model: a fixed baseline on a seasonal,
 * trending or wandering channel would otherwise flag every later sample.
 *
 * Each detector yields a ratio r = statistic / threshold (1 = at threshold);
 * the anomaly score is R^2/(1+R^2) in [0, 1] for the largest ratio R, so 0.5 means
 * "one detector exactly at its threshold".  The alert is raised when the
 * score reaches alert_on and cleared below alert_off (hysteresis).  A trip
 * is latched until vg_detect_reset() is called with the cause gone.
 *
 * vg_params are compiled from defaults, the local envelope and an optional
 * model by vg_params_compile(); the envelope's limits can only be tightened.
 */
#ifndef VG_DETECT_H
#define VG_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "vg_adapt.h"
#include "vg_model.h"
#include "vg_window.h"

/* Detector defaults used where neither config nor model sets a value. */
typedef struct vg_defaults {
    double z_thr;       /* robust z threshold (default 6) */
    double ewma_lambda; /* default 0.1 */
    double ewma_l;      /* default 5 */
    double cusum_k;     /* default 0.5 */
    double cusum_h;     /* default 12 */
    double rate_max;    /* default +inf: off */
    double stuck_eps;   /* default 0 */
    double stuck_n;     /* default 0: off */
    double alert_on;    /* score that raises an alert (default 0.5) */
    double alert_off;   /* score under which it clears (default 0.45) */
    uint32_t warmup;    /* samples before statistical detectors score (32) */
    uint32_t ref_every; /* samples between robust-reference refreshes (128) */
    bool adapt;         /* run the adaptive calibrated detector (true) */
    vg_adapt_params ap; /* its parameters (vg_adapt_params_init) */
} vg_defaults;

/* Fills *d with the documented defaults. */
void vg_defaults_init(vg_defaults *d);

/* Effective parameters of one channel. */
typedef struct vg_params {
    double lo, hi;     /* effective hard limits (envelope ∩ model) */
    double hyst;       /* hysteresis band */
    uint64_t deb_mask; /* low debounce_m bits set */
    uint8_t deb_n;     /* violations needed in the last m samples */
    uint8_t deb_m;     /* debounce window in samples (1..64) */
    bool trip_limit;   /* confirmed limit violation trips */
    bool trip_stale;   /* stale channel trips */
    int64_t stale_us;  /* stale deadline, 0 = off */
    double rate_max;   /* units per second; +inf = off */
    double stuck_eps;  /* no-change tolerance */
    uint32_t stuck_n;  /* run length that is stuck; 0 = off */
    bool fixed_ref;    /* loc/scale come from the model */
    double loc, scale; /* reference when fixed_ref */
    double z_thr;
    double ewma_lambda, ewma_l;
    double cusum_k, cusum_h;
    double alert_on, alert_off;
    uint32_t warmup, ref_every;
    uint64_t model_version; /* model these came from; 0 = none */
    bool adapt;             /* adaptive detector on (replaces the window
                               robust z when no model supplies loc/scale) */
    vg_adapt_params ap;     /* its parameters */
    /* Precomputed reciprocals so the per-sample path only multiplies. */
    double inv_z;     /* 1 / z_thr */
    double inv_ewma;  /* 1 / (ewma_l * sqrt(lambda / (2 - lambda))) */
    double inv_h;     /* 1 / cusum_h */
    double inv_rate;  /* 1 / rate_max (0 when off) */
    double inv_stuck; /* 1 / stuck_n (0 when off) */
} vg_params;

/* Compiles effective parameters: defaults, then the model (if non-NULL),
 * then the envelope's limits intersected with the model's.  Model values
 * that are NaN or nonsensical (non-positive scale, ...) fall back to the
 * defaults.  Never loosens env. */
void vg_params_compile(vg_params *p, const vg_defaults *d, const vg_envelope *env,
                       const vg_chan_model *m, uint64_t model_version);

/* Running state of one channel's detectors (520 bytes, 344 of them vg_adapt). */
typedef struct vg_detect {
    uint64_t hist;      /* limit-violation bits of the last 64 samples */
    uint32_t viol;      /* set bits of hist within the debounce window */
    uint64_t n;         /* samples scored */
    int64_t last_t;     /* time of the last sample; INT64_MIN before any */
    int64_t armed_t;    /* first tick seen before any sample (stale base) */
    double last_x;      /* its value */
    double ref_loc;     /* reference location in use */
    double ref_scale;   /* reference scale in use (> 0) */
    double ref_inv;     /* 1 / ref_scale */
    double ewma;        /* EWMA statistic */
    double cpos, cneg;  /* CUSUM statistics, in sigmas */
    double rate_hits;   /* leaky count of rate-limit hits */
    double fx_prev[3];  /* previous fitted robust z / EWMA / CUSUM ratios */
    double rate_gain;   /* multiplier on the rate ratio (halves on fatigue) */
    double rate_k;      /* 1e6 / rate_dt (cached) */
    int64_t rate_dt;    /* interval rate_k was computed for; 0 = none */
    uint32_t flat_run;  /* consecutive unchanged samples */
    uint32_t since_ref; /* samples since the reference refresh */
    uint32_t fx_run;    /* consecutive samples beyond the fitted reference */
    uint8_t fx_off;     /* the fitted reference is retired (until a new model) */
    uint8_t limit_on;   /* confirmed limit violation (hysteresis state) */
    uint8_t stale;      /* the stale watchdog has fired, no sample since */
    uint8_t alert;      /* alert state */
    uint8_t alert_det;  /* detector that raised the alert */
    uint8_t trip;       /* latched trip */
    uint8_t trip_det;   /* detector that tripped */
    uint8_t ewma_init;  /* ewma holds a value */
    uint8_t ref_ok;     /* ref_loc/ref_scale are valid */
    vg_adapt ad;        /* adaptive calibrated detector (vg_adapt.h) */
} vg_detect;

/* Decision for one sample or tick. */
typedef struct vg_verdict {
    double score;       /* combined anomaly score in [0, 1] */
    uint8_t det;        /* detector with the largest ratio (VG_DET_*) */
    uint8_t alert;      /* alert state after this sample */
    uint8_t alert_edge; /* 1 raised, 2 cleared by this sample, else 0 */
    uint8_t trip;       /* latched trip state */
    uint8_t trip_edge;  /* 1 when this sample tripped */
    uint8_t trip_det;   /* detector of the latched trip */
} vg_verdict;

/* Resets *s to "no samples seen". */
void vg_detect_init(vg_detect *s);

/* The parameters of *s changed (a model applied or removed): the fitted
 * reference is taken afresh on the next sample.  Everything else - windows,
 * the adaptive detector, alert and trip state - carries on.  O(1). */
void vg_detect_new_params(vg_detect *s);

/* Scores sample (t_us, x), which the caller has just pushed into `w` (the
 * channel's window), and updates alert and trip state.  O(1) amortised. */
void vg_detect_sample(vg_detect *s, const vg_params *p, const vg_window *w, double *scratch,
                      int64_t t_us, double x, vg_verdict *out);

/* Evaluates the time-driven detectors (stale watchdog) at now_us. */
void vg_detect_tick(vg_detect *s, const vg_params *p, int64_t now_us, vg_verdict *out);

/* Clears a latched trip if its cause is gone: VG_OK, or VG_EACTIVE when the
 * limit is still violated or the channel is still stale. */
int vg_detect_reset(vg_detect *s);

#endif
