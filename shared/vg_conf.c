/*
 * vg_conf.c - the configuration tables and their one generic converter
 * (see vg_conf.h).  Adding a setting = adding a row.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "vg_conf.h"
#include "vg_error.h"

#define ECFG(f) offsetof(vg_engine_config, f)
#define CCFG(f) offsetof(vg_chan_config, f)

const vg_conf_key vg_conf_detect_keys[] = {
    {"window", VG_CT_U32, ECFG(window), "256", "samples kept per channel window"},
    {"window_s", VG_CT_DOUBLE, ECFG(window_s), "0", "time span of windows in seconds (0: none)"},
    {"max_channels", VG_CT_U32, ECFG(max_channels), "64", "channel slots, fixed at start"},
    {"allow_unknown", VG_CT_BOOL, ECFG(allow_unknown), "true",
     "admit channels not listed in the config on first sight"},
    {"minmax", VG_CT_BOOL, ECFG(minmax), "false",
     "track window min/max incrementally (else O(window) on query)"},
    {"z_thr", VG_CT_DOUBLE, ECFG(defaults.z_thr), "6", "robust z-score threshold"},
    {"ewma_lambda", VG_CT_DOUBLE, ECFG(defaults.ewma_lambda), "0.1", "EWMA smoothing factor"},
    {"ewma_l", VG_CT_DOUBLE, ECFG(defaults.ewma_l), "5", "EWMA control limit in sigmas"},
    {"cusum_k", VG_CT_DOUBLE, ECFG(defaults.cusum_k), "0.5", "CUSUM allowance in sigmas"},
    {"cusum_h", VG_CT_DOUBLE, ECFG(defaults.cusum_h), "12", "CUSUM decision interval in sigmas"},
    {"rate_max", VG_CT_DOUBLE, ECFG(defaults.rate_max), "inf", "largest normal |dx/dt| per s"},
    {"stuck_eps", VG_CT_DOUBLE, ECFG(defaults.stuck_eps), "0", "change that counts as none"},
    {"stuck_n", VG_CT_DOUBLE, ECFG(defaults.stuck_n), "0", "unchanged run that is stuck (0 off)"},
    {"alert_on", VG_CT_DOUBLE, ECFG(defaults.alert_on), "0.5", "score that raises an alert"},
    {"alert_off", VG_CT_DOUBLE, ECFG(defaults.alert_off), "0.45", "score that clears it"},
    {"warmup", VG_CT_U32, ECFG(defaults.warmup), "32", "samples before statistics score"},
    {"ref_every", VG_CT_U32, ECFG(defaults.ref_every), "128",
     "samples between median/MAD refreshes"},
    {NULL, 0, 0, NULL, NULL},
};

const vg_conf_key vg_conf_channel_keys[] = {
    {"lo", VG_CT_DOUBLE, CCFG(env.lo), "-inf", "hard low limit (envelope)"},
    {"hi", VG_CT_DOUBLE, CCFG(env.hi), "inf", "hard high limit (envelope)"},
    {"hysteresis", VG_CT_DOUBLE, CCFG(env.hysteresis), "0", "clear this far inside a limit"},
    {"debounce_n", VG_CT_U8, CCFG(env.debounce_n), "1", "violations needed in the last m"},
    {"debounce_m", VG_CT_U8, CCFG(env.debounce_m), "1", "debounce window in samples (1..64)"},
    {"trip", VG_CT_BOOL, CCFG(env.trip), "false", "a confirmed limit violation trips"},
    {"stale_s", VG_CT_SECONDS, CCFG(env.stale_us), "0", "stale-data deadline in s (0: off)"},
    {"trip_on_stale", VG_CT_BOOL, CCFG(env.trip_on_stale), "false", "a stale channel trips"},
    {"window", VG_CT_U32, CCFG(window), "0", "samples in this channel's window (0: [detect])"},
    {"window_s", VG_CT_DOUBLE, CCFG(window_s), "0", "time span of its window (0: [detect])"},
    {"z_thr", VG_CT_DOUBLE, CCFG(local.z_thr), "nan", "robust z threshold for this channel"},
    {"ewma_l", VG_CT_DOUBLE, CCFG(local.ewma_l), "nan", "EWMA width for this channel"},
    {"cusum_h", VG_CT_DOUBLE, CCFG(local.cusum_h), "nan", "CUSUM interval for this channel"},
    {"rate_max", VG_CT_DOUBLE, CCFG(local.rate_max), "nan", "largest normal |dx/dt| per s"},
    {"stuck_eps", VG_CT_DOUBLE, CCFG(local.stuck_eps), "nan", "change that counts as none"},
    {"stuck_n", VG_CT_DOUBLE, CCFG(local.stuck_n), "nan", "unchanged run that is stuck"},
    {NULL, 0, 0, NULL, NULL},
};

void vg_conf_init(vg_conf *c)
{
    /* chan[] is not zeroed: conf__channel() clears each entry as it is
     * listed and nothing reads past engine.nchan (61 KiB left untouched) */
    memset(c, 0, offsetof(vg_conf, chan));
    vg_engine_config_init(&c->engine);
    c->engine.chan = c->chan;
}

const vg_conf_key *vg_conf_find(const vg_conf_key *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static int conf__double(const char *v, double *out)
{
    if (strcasecmp(v, "inf") == 0 || strcasecmp(v, "+inf") == 0) {
        *out = INFINITY;
        return VG_OK;
    }
    if (strcasecmp(v, "-inf") == 0) {
        *out = -INFINITY;
        return VG_OK;
    }
    if (strcasecmp(v, "nan") == 0) {
        *out = NAN;
        return VG_OK;
    }
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return VG_ESYNTAX;
    *out = d;
    return VG_OK;
}

static int conf__uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (*v == '-' || *v == '\0')
        return VG_ESYNTAX;
    unsigned long u = strtoul(v, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return VG_ESYNTAX;
    if (u > max)
        return VG_EINVAL;
    *out = u;
    return VG_OK;
}

static int conf__bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return VG_OK;
        }
    }
    return VG_ESYNTAX;
}

int vg_conf_convert(const vg_conf_key *k, void *base, const char *value)
{
    char *field = (char *)base + k->offset;
    double d;
    unsigned long u;
    bool b;
    int rc;
    switch (k->type) {
    case VG_CT_DOUBLE:
        if ((rc = conf__double(value, &d)) == VG_OK)
            memcpy(field, &d, sizeof d);
        return rc;
    case VG_CT_U32:
    case VG_CT_U8:
        if ((rc = conf__uint(value, k->type == VG_CT_U8 ? 255ul : 0xfffffffful, &u)) != VG_OK)
            return rc;
        if (k->type == VG_CT_U8)
            *(uint8_t *)field = (uint8_t)u;
        else
            *(uint32_t *)(void *)field = (uint32_t)u;
        return VG_OK;
    case VG_CT_BOOL:
        if ((rc = conf__bool(value, &b)) == VG_OK)
            *(bool *)field = b;
        return rc;
    case VG_CT_SECONDS:
        if ((rc = conf__double(value, &d)) != VG_OK)
            return rc;
        if (!(d >= 0 && d < 1e9))
            return VG_EINVAL;
        *(int64_t *)(void *)field = (int64_t)llround(d * 1e6);
        return VG_OK;
    }
    return VG_EINVAL;
}

/* The listed channel `name`, created with defaults on first mention. */
static int conf__channel(vg_conf *c, const char *name, vg_chan_config **out)
{
    for (uint32_t i = 0; i < c->engine.nchan; i++) {
        if (strcmp(c->chan[i].name, name) == 0) {
            *out = &c->chan[i];
            return VG_OK;
        }
    }
    if (!vg_valid_channel(name, strlen(name)))
        return VG_EINVAL;
    if (c->engine.nchan >= VG_CONF_MAX_CHANNEL)
        return VG_ENOSPC;
    vg_chan_config *ch = &c->chan[c->engine.nchan++];
    memset(ch, 0, sizeof(*ch));
    strcpy(ch->name, name);
    ch->env = c->engine.default_env;
    vg_chan_model_clear(&ch->local, name);
    *out = ch;
    return VG_OK;
}

int vg_conf_set(vg_conf *c, const char *section, const char *key, const char *value)
{
    if (strcmp(section, "detect") == 0) {
        const vg_conf_key *k = vg_conf_find(vg_conf_detect_keys, key);
        return k ? vg_conf_convert(k, &c->engine, value) : VG_EMISSING;
    }
    if (strncmp(section, "channel.", 8) != 0)
        return VG_ECHANNEL;
    const vg_conf_key *k = vg_conf_find(vg_conf_channel_keys, key);
    if (!k)
        return VG_EMISSING;
    if (strcmp(section + 8, "*") == 0) {
        /* Listed channels copy this envelope when first mentioned, so a
         * [channel.*] after them would silently not apply: refuse it. */
        if (c->engine.nchan)
            return VG_EORDER;
        /* Only envelope keys make sense for unlisted channels. */
        if (k->offset >= CCFG(window))
            return VG_EMISSING;
        vg_chan_config tmp = {.env = c->engine.default_env};
        int rc = vg_conf_convert(k, &tmp, value);
        if (rc == VG_OK)
            c->engine.default_env = tmp.env;
        return rc;
    }
    vg_chan_config *ch;
    int rc = conf__channel(c, section + 8, &ch);
    return rc == VG_OK ? vg_conf_convert(k, ch, value) : rc;
}

static int conf__check_env(const vg_envelope *e)
{
    /* The hysteresis band must leave values at which a violation clears. */
    bool band_ok =
        e->hysteresis >= 0 && (isinf(e->lo) || isinf(e->hi) || 2 * e->hysteresis <= e->hi - e->lo);
    return e->lo <= e->hi && band_ok && e->debounce_m >= 1 && e->debounce_m <= 64 &&
           e->debounce_n >= 1 && e->debounce_n <= e->debounce_m;
}

static bool conf__in(double v, double lo, double hi)
{
    return v >= lo && v <= hi; /* false for NaN */
}

/* Name of the first [detect] detector default out of its range, or NULL. */
static const char *conf__check_defaults(const vg_engine_config *e)
{
    const vg_defaults *d = &e->defaults;
    if (!conf__in(e->window_s, 0, 1e9))
        return "detect.window_s";
    if (!conf__in(d->z_thr, 1e-3, 1e9))
        return "detect.z_thr";
    if (!conf__in(d->ewma_l, 1e-3, 1e9))
        return "detect.ewma_l";
    if (!conf__in(d->cusum_h, 1e-3, 1e9) || !conf__in(d->cusum_k, 0, 1e9))
        return "detect.cusum_h/cusum_k";
    if (!(d->rate_max > 0))
        return "detect.rate_max";
    if (!conf__in(d->stuck_eps, 0, INFINITY) || !conf__in(d->stuck_n, 0, 1e9))
        return "detect.stuck_eps/stuck_n";
    if (!(d->alert_off >= 0 && d->alert_off <= d->alert_on) || !conf__in(d->alert_on, 1e-9, 1))
        return "detect.alert_on/alert_off";
    if (!conf__in(d->ewma_lambda, 1e-6, 1))
        return "detect.ewma_lambda";
    return NULL;
}

/* True when the channel's local detector values are in range (NaN = unset). */
static bool conf__check_local(const vg_chan_config *c)
{
    const vg_chan_model *m = &c->local;
    return (isnan(m->z_thr) || conf__in(m->z_thr, 1e-3, 1e9)) &&
           (isnan(m->ewma_l) || conf__in(m->ewma_l, 1e-3, 1e9)) &&
           (isnan(m->cusum_h) || conf__in(m->cusum_h, 1e-3, 1e9)) &&
           (isnan(m->rate_max) || m->rate_max > 0) && (isnan(m->stuck_eps) || m->stuck_eps >= 0) &&
           (isnan(m->stuck_n) || conf__in(m->stuck_n, 0, 1e9)) && conf__in(c->window_s, 0, 1e9);
}

int vg_conf_validate(const vg_conf *c, const char **what)
{
    const vg_engine_config *e = &c->engine;
    *what = NULL;
    if (e->window < 2 || e->window > (1u << 24))
        *what = "detect.window";
    else if (e->max_channels < 1 || e->max_channels > 65536 || e->nchan > e->max_channels)
        *what = "detect.max_channels";
    else if ((*what = conf__check_defaults(e)) != NULL)
        ;
    else if (!conf__check_env(&e->default_env))
        *what = "channel.*";
    for (uint32_t i = 0; !*what && i < e->nchan; i++)
        if (!conf__check_env(&c->chan[i].env) || c->chan[i].window > (1u << 24) ||
            !conf__check_local(&c->chan[i]))
            *what = c->chan[i].name;
    return *what ? VG_EINVAL : VG_OK;
}
