/*
 * vg_detect.c - per-channel detectors and decisions (see vg_detect.h).
 *
 * The per-sample path, vg_detect_sample(), is branch-light arithmetic on a
 * ~520-byte state (344 of them the adaptive detector's) plus one look at
 * the window when the warm-up reference is due for a refresh.  Thresholds
 * are turned into reciprocals once, at compile time of the parameters, and
 * the rate detector's 1e6/dt is cached per sampling interval, so the hot
 * path divides only for the score (and inside vg_adapt, off its dependency
 * chain).  The per-sample path itself is in vg_detect.inc (static inline),
 * shared with vg_engine.c, whose vg_engine_push() inlines it; this file
 * compiles parameters, exports vg_detect_sample() and keeps the tick and
 * reset.
 */
#include <math.h>
#include <string.h>

#include "vg_detect.h"
#include "vg_detect.inc" /* the per-sample path */
#include "vg_error.h"

void vg_defaults_init(vg_defaults *d)
{
    d->z_thr = 6.0;
    d->ewma_lambda = 0.1;
    d->ewma_l = 5.0;
    d->cusum_k = 0.5;
    d->cusum_h = 12.0;
    d->rate_max = INFINITY;
    d->stuck_eps = 0.0;
    d->stuck_n = 0.0;
    d->alert_on = 0.5;
    d->alert_off = 0.45;
    d->warmup = 32;
    d->ref_every = 128;
    d->adapt = true;
    vg_adapt_params_init(&d->ap);
}

/* The model's value when it is set and `ok`, else the default. */
static double detect__pick(const vg_chan_model *m, size_t off, double dflt, double min, double max)
{
    if (!m)
        return dflt;
    double v;
    memcpy(&v, (const char *)m + off, sizeof v);
    return (v >= min && v <= max) ? v : dflt; /* false for NaN */
}

#define PICK(field, dflt, min, max) detect__pick(m, offsetof(vg_chan_model, field), dflt, min, max)

/* Limits and stale deadline: the envelope, tightened by the model. */
static void detect__compile_envelope(vg_params *p, const vg_envelope *env, const vg_chan_model *m)
{
    p->lo = env->lo;
    p->hi = env->hi;
    if (m && isfinite(m->lo) && m->lo > p->lo && m->lo <= env->hi)
        p->lo = m->lo;
    if (m && isfinite(m->hi) && m->hi < p->hi && m->hi >= env->lo)
        p->hi = m->hi;
    p->hyst = env->hysteresis > 0 ? env->hysteresis : 0;
    /* A band wider than half the allowed range would leave no value at
     * which a violation clears, and the trip could never be reset. */
    if (p->hi - p->lo < 2 * p->hyst)
        p->hyst = p->hi > p->lo ? (p->hi - p->lo) / 2 : 0;
    unsigned mm = env->debounce_m < 1 ? 1 : env->debounce_m > 64 ? 64 : env->debounce_m;
    unsigned nn = env->debounce_n < 1 ? 1 : env->debounce_n > mm ? mm : env->debounce_n;
    p->deb_mask = mm == 64 ? ~0ull : (1ull << mm) - 1;
    p->deb_n = (uint8_t)nn;
    p->deb_m = (uint8_t)mm;
    p->trip_limit = env->trip;
    p->stale_us = env->stale_us > 0 ? env->stale_us : 0;
    double ms = PICK(stale_s, NAN, 1e-6, 1e9);
    if (!isnan(ms) && (p->stale_us == 0 || ms * 1e6 < (double)p->stale_us))
        p->stale_us = (int64_t)(ms * 1e6);
    p->trip_stale = env->trip_on_stale && env->stale_us > 0;
}

void vg_params_compile(vg_params *p, const vg_defaults *d, const vg_envelope *env,
                       const vg_chan_model *m, uint64_t model_version)
{
    memset(p, 0, sizeof(*p));
    detect__compile_envelope(p, env, m);
    p->rate_max = PICK(rate_max, d->rate_max, 1e-12, INFINITY);
    p->stuck_eps = PICK(stuck_eps, d->stuck_eps, 0, INFINITY);
    p->stuck_n = (uint32_t)PICK(stuck_n, d->stuck_n, 0, 1e9);
    p->loc = PICK(loc, NAN, -INFINITY, INFINITY);
    p->scale = PICK(scale, NAN, 1e-12 * (fabs(p->loc) > 1 ? fabs(p->loc) : 1), 1e300);
    p->fixed_ref = isfinite(p->loc) && isfinite(p->scale);
    p->z_thr = PICK(z_thr, d->z_thr, 1e-3, 1e9);
    p->ewma_lambda = PICK(ewma_lambda, d->ewma_lambda, 1e-6, 1.0);
    p->ewma_l = PICK(ewma_l, d->ewma_l, 1e-3, 1e9);
    p->cusum_k = PICK(cusum_k, d->cusum_k, 0, 1e9);
    p->cusum_h = PICK(cusum_h, d->cusum_h, 1e-3, 1e9);
    p->alert_on = d->alert_on;
    p->alert_off = d->alert_off < d->alert_on ? d->alert_off : d->alert_on;
    p->warmup = d->warmup < 2 ? 2 : d->warmup;
    p->ref_every = d->ref_every < 1 ? 1 : d->ref_every;
    p->model_version = m ? model_version : 0;
    /* The adaptive detector runs with or without a model: a fitted
     * reference alone (robust z / EWMA / CUSUM against fixed loc/scale)
     * fired on every seasonal or trending series (bench/nab: alert column
     * -2600).  Beside it, the fitted reference only adds lasting departures
     * until it is first left for good (detect__persist, detect__retire). */
    p->adapt = d->adapt;
    p->ap = d->ap;
    p->inv_z = 1.0 / p->z_thr;
    p->inv_ewma = 1.0 / (p->ewma_l * sqrt(p->ewma_lambda / (2.0 - p->ewma_lambda)));
    p->inv_h = 1.0 / p->cusum_h;
    p->inv_rate = isinf(p->rate_max) ? 0.0 : 1.0 / p->rate_max;
    p->inv_stuck = p->stuck_n ? 1.0 / p->stuck_n : 0.0;
}

void vg_detect_init(vg_detect *s)
{
    memset(s, 0, sizeof(*s));
    s->last_t = INT64_MIN;
    s->armed_t = INT64_MIN;
    s->rate_gain = 1.0;
}

/* Contract in vg_detect.h. */
void vg_detect_new_params(vg_detect *s)
{
    s->ref_ok = 0;
    s->since_ref = 0;
}

void vg_detect_sample(vg_detect *s, const vg_params *p, const vg_window *w, double *scratch,
                      int64_t t_us, double x, vg_verdict *out)
{
    detect__sample(s, p, w, scratch, t_us, x, out);
}

void vg_detect_tick(vg_detect *s, const vg_params *p, int64_t now_us, vg_verdict *out)
{
    /* A channel that has never reported is timed from the first tick, so a
     * sensor dead from start-up still trips the fail-safe. */
    int64_t since = s->last_t != INT64_MIN ? s->last_t : s->armed_t;
    if (since == INT64_MIN)
        s->armed_t = since = now_us;
    if (p->stale_us && now_us - since > p->stale_us)
        s->stale = 1;
    if (!s->stale) {
        /* Nothing time-driven to report: the state stands as it is. */
        memset(out, 0, sizeof(*out));
        out->alert = s->alert;
        out->trip = s->trip;
        out->trip_det = s->trip_det;
        return;
    }
    detect__decide(s, p, s->limit_on ? 2.0 : 1.5, s->limit_on ? VG_DET_LIMIT : VG_DET_STALE, out);
}

int vg_detect_reset(vg_detect *s)
{
    if (!s->trip)
        return VG_OK;
    if (s->limit_on || s->stale)
        return VG_EACTIVE;
    s->trip = 0;
    s->trip_det = VG_DET_NONE;
    return VG_OK;
}
