/*
 * vg_detect.c - per-channel detectors and decisions (see vg_detect.h).
 *
 * The per-sample path, vg_detect_sample(), is branch-light arithmetic on a
 * ~500-byte state (328 of them the adaptive detector's) plus one look at
 * the window when the warm-up reference is due for a refresh.  Thresholds
 * are turned into reciprocals once, at compile time of the parameters, and
 * the rate detector's 1e6/dt is cached per sampling interval, so the hot
 * path divides only for the score (and inside vg_adapt, off its dependency
 * chain).
 */
#include <math.h>
#include <string.h>

#include "vg_detect.h"
#include "vg_error.h"

#define DETECT_RETIRE_N  2    /* samples in a row beyond a fitted reference retire it */
#define DETECT_RATE_HITS 2.0  /* rate-limit hits ... */
#define DETECT_RATE_SPAN 64.0 /* ... within about this many samples double it */

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

/* Hard limit with N-of-M debounce and hysteresis; returns its ratio. */
static double detect__limit(vg_detect *s, const vg_params *p, double x)
{
    uint64_t viol = (x > p->hi) | (x < p->lo);
    /* Running count of violations in the last m samples: add the new bit,
     * drop the one that leaves the window (no popcount on the hot path). */
    s->viol += (uint32_t)viol - (uint32_t)((s->hist >> (p->deb_m - 1)) & 1);
    s->hist = (s->hist << 1) | viol;
    uint32_t cnt = s->viol;
    if (!s->limit_on && cnt >= p->deb_n)
        s->limit_on = 1;
    else if (s->limit_on && cnt < p->deb_n && x <= p->hi - p->hyst && x >= p->lo + p->hyst)
        s->limit_on = 0;
    return s->limit_on ? 2.0 : 0.0;
}

/* A fitted rate limit exceeded DETECT_RATE_HITS times within about
 * DETECT_RATE_SPAN samples no longer describes the channel (its noise grew):
 * the limit doubles, so a lasting change is reported once, not on every
 * other sample.  Returns the ratio r. */
static double detect__rate_fatigue(vg_detect *s, double r)
{
    s->rate_hits += (r >= 1.0) - s->rate_hits * (1.0 / DETECT_RATE_SPAN);
    if (s->rate_hits >= DETECT_RATE_HITS) {
        s->rate_gain *= 0.5;
        s->rate_hits = 0;
    }
    return r;
}

/* Rate of change and flat-line run; returns the larger ratio in *r_rate,
 * *r_stuck. */
static void detect__motion(vg_detect *s, const vg_params *p, int64_t t_us, double x, double *r_rate,
                           double *r_stuck)
{
    *r_rate = 0;
    *r_stuck = 0;
    if (s->last_t == INT64_MIN)
        return;
    double dx = fabs(x - s->last_x);
    int64_t dt = t_us - s->last_t;
    if (dt > 0 && p->inv_rate > 0) {
        if (dt != s->rate_dt) { /* regular sampling: divide once per interval */
            s->rate_dt = dt;
            s->rate_k = 1e6 / (double)dt;
        }
        *r_rate = detect__rate_fatigue(s, dx * s->rate_k * p->inv_rate * s->rate_gain);
    }
    s->flat_run = dx <= p->stuck_eps ? s->flat_run + 1 : 0;
    *r_stuck = (double)s->flat_run * p->inv_stuck;
}

/* Refreshes the adaptive robust reference from the window when due. */
static void detect__reference(vg_detect *s, const vg_params *p, const vg_window *w, double *scratch)
{
    if (p->fixed_ref) {
        if (!s->ref_ok) { /* a new model: a new reference, in service */
            s->fx_off = 0;
            s->fx_run = 0;
            s->ref_loc = p->loc;
            s->ref_scale = p->scale;
            s->ref_inv = 1.0 / p->scale;
            s->ref_ok = 1;
        }
        return;
    }
    uint32_t n = vg_window_count(w);
    if (p->adapt && s->ad.n >= p->ap.warmup) {
        s->ref_ok = 0; /* the warm adaptive detector replaces the window z */
        return;
    }
    if (n < p->warmup || !scratch)
        return;
    if (s->ref_ok && ++s->since_ref < p->ref_every)
        return;
    double med, mad;
    if (vg_window_median_mad(w, scratch, &med, &mad) != VG_OK)
        return;
    double scale = mad * VG_MAD_TO_SIGMA;
    double var = vg_window_var(w);
    if (!(scale > 0) && var > 0)
        scale = sqrt(var); /* quantised signals: MAD 0, spread not 0 */
    double floor = 1e-6 * (fabs(med) > 1 ? fabs(med) : 1);
    s->ref_loc = med;
    s->ref_scale = scale > floor ? scale : floor;
    s->ref_inv = 1.0 / s->ref_scale;
    s->since_ref = 0;
    s->ref_ok = 1;
}

/* A fitted reference exceeded DETECT_RETIRE_N samples in a row has been
 * left for good (a level shift, a finished drift, a seasonal or wandering
 * channel the training rows did not show): it has said so once and is
 * retired until the next model, so the alarm is a pulse at the change
 * rather than a flag on every later sample.  (Moving it to the new level
 * instead and letting it fire again measured worse on bench/nab: on a
 * seasonal or trending channel it fired again and again.) */
static void detect__retire(vg_detect *s, const vg_params *p, const double r[3])
{
    if (!p->adapt) /* then it is the only statistical baseline: keep it */
        return;
    int over = r[0] >= 1.0 || r[1] >= 1.0 || r[2] >= 1.0;
    s->fx_run = over ? s->fx_run + 1 : 0;
    s->fx_off = s->fx_run >= DETECT_RETIRE_N;
}

/* Robust z against the reference, and - only when the reference is a
 * model's fitted baseline - EWMA and CUSUM, which measure drift away from
 * that baseline.  (Against the window's own rolling median they would chase
 * every slow wave of the signal and call it drift.)  Returns the ratios. */
static void detect__stats(vg_detect *s, const vg_params *p, double x, double r[3])
{
    double z = (x - s->ref_loc) * s->ref_inv;
    r[0] = fabs(z) * p->inv_z;
    r[1] = r[2] = 0;
    if (!p->fixed_ref)
        return;
    s->ewma = s->ewma_init ? s->ewma + p->ewma_lambda * (x - s->ewma) : x;
    s->ewma_init = 1;
    r[1] = fabs(s->ewma - s->ref_loc) * s->ref_inv * p->inv_ewma;
    double cap = 2.0 * p->cusum_h;
    double cp = s->cpos + z - p->cusum_k, cn = s->cneg - z - p->cusum_k;
    s->cpos = cp < 0 ? 0 : cp > cap ? cap : cp;
    s->cneg = cn < 0 ? 0 : cn > cap ? cap : cn;
    r[2] = (s->cpos > s->cneg ? s->cpos : s->cneg) * p->inv_h;
    detect__retire(s, p, r);
}

/* With the adaptive detector alongside (which answers single surprises),
 * a fitted reference speaks only of lasting departures: each ratio counts
 * as the smaller of this sample's and the previous one's. */
static void detect__persist(vg_detect *s, const vg_params *p, double r[3])
{
    if (!p->adapt)
        return;
    for (int k = 0; k < 3; k++) {
        double now = r[k];
        r[k] = now < s->fx_prev[k] ? now : s->fx_prev[k];
        s->fx_prev[k] = now;
    }
}

/* Turns the largest ratio into score, alert and trip decisions. */
static void detect__decide(vg_detect *s, const vg_params *p, double rmax, int det, vg_verdict *out)
{
    /* R^2 / (1 + R^2), saturating at 1 where R^2 would overflow. */
    double score = rmax > 1e8 ? 1.0 : rmax * rmax / (1.0 + rmax * rmax);
    out->score = score;
    out->det = (uint8_t)(rmax > 0 ? det : VG_DET_NONE);
    out->alert_edge = 0;
    if (!s->alert && score >= p->alert_on) {
        s->alert = 1;
        s->alert_det = out->det;
        out->alert_edge = 1;
    } else if (s->alert && score < p->alert_off) {
        s->alert = 0;
        out->alert_edge = 2;
    }
    out->trip_edge = 0;
    if (!s->trip && ((s->limit_on && p->trip_limit) || (s->stale && p->trip_stale))) {
        s->trip = 1;
        s->trip_det = s->limit_on && p->trip_limit ? VG_DET_LIMIT : VG_DET_STALE;
        out->trip_edge = 1;
    }
    out->alert = s->alert;
    out->trip = s->trip;
    out->trip_det = s->trip_det;
}

/* Keeps the largest detector ratio and which detector produced it. */
struct detect__max {
    double r; /* largest ratio so far */
    int det;  /* its detector */
};

static void detect__consider(struct detect__max *m, double r, int det)
{
    if (r > m->r) {
        m->r = r;
        m->det = det;
    }
}

/* Detector reported for each adaptive component (vg_adapt.which). */
static const uint8_t detect__adapt_det[ADAPT_NCOMP] = {VG_DET_ZSCORE, VG_DET_CUSUM, VG_DET_EWMA,
                                                       VG_DET_CUSUM};

void vg_detect_sample(vg_detect *s, const vg_params *p, const vg_window *w, double *scratch,
                      int64_t t_us, double x, vg_verdict *out)
{
    struct detect__max m = {0, VG_DET_NONE};
    /* A gap longer than the deadline means we were blind: same as stale. */
    s->stale = p->stale_us && s->last_t != INT64_MIN && t_us - s->last_t > p->stale_us;
    if (s->stale)
        detect__consider(&m, 1.5, VG_DET_STALE);
    detect__consider(&m, detect__limit(s, p, x), VG_DET_LIMIT);
    double r_rate, r_stuck;
    detect__motion(s, p, t_us, x, &r_rate, &r_stuck);
    detect__consider(&m, r_rate, VG_DET_RATE);
    detect__consider(&m, r_stuck, VG_DET_STUCK);
    detect__reference(s, p, w, scratch);
    if (s->ref_ok && !s->fx_off) {
        double r[3];
        detect__stats(s, p, x, r);
        detect__persist(s, p, r);
        detect__consider(&m, r[0], VG_DET_ZSCORE);
        detect__consider(&m, r[1], VG_DET_EWMA);
        detect__consider(&m, r[2], VG_DET_CUSUM);
    }
    if (p->adapt) {
        double ra = vg_adapt_step(&s->ad, &p->ap, t_us, x);
        detect__consider(&m, ra, detect__adapt_det[s->ad.which]);
    }
    s->last_t = t_us;
    s->last_x = x;
    s->n++;
    detect__decide(s, p, m.r, m.det, out);
    s->stale = 0; /* a sample arrived: the channel is live again */
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
