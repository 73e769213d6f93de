/*
 * vg_model.c - small helpers over vg_model / vg_envelope: names of
 * detectors, identifier validation, and the one rule that keeps a model from
 * loosening the safety envelope.  All O(length of the input).
 */
#include <math.h>
#include <string.h>

#include "vg_error.h"
#include "vg_model.h"

static const char *const vg_detector_names[VG_DET_COUNT] = {
    [VG_DET_NONE] = "none",   [VG_DET_LIMIT] = "limit", [VG_DET_RATE] = "rate",
    [VG_DET_STUCK] = "stuck", [VG_DET_STALE] = "stale", [VG_DET_ZSCORE] = "robust_z",
    [VG_DET_EWMA] = "ewma",   [VG_DET_CUSUM] = "cusum", [VG_DET_MVAR] = "mvar",
};

const char *vg_detector_name(int det)
{
    if (det < 0 || det >= VG_DET_COUNT)
        return NULL;
    return vg_detector_names[det];
}

int vg_detector_from_name(const char *name, unsigned long len)
{
    for (int d = 1; d < VG_DET_COUNT; d++) {
        const char *n = vg_detector_names[d];
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return d;
    }
    return VG_DET_NONE;
}

void vg_chan_model_clear(vg_chan_model *m, const char *name)
{
    memset(m, 0, sizeof(*m));
    if (name) {
        size_t n = strlen(name);
        if (n > VG_CHANNEL_MAX)
            n = VG_CHANNEL_MAX;
        memcpy(m->name, name, n);
    }
    m->lo = m->hi = m->loc = m->scale = m->z_thr = NAN;
    m->ewma_lambda = m->ewma_l = m->cusum_k = m->cusum_h = NAN;
    m->rate_max = m->stuck_eps = m->stuck_n = m->stale_s = NAN;
}

const vg_chan_model *vg_model_find(const vg_model *model, const char *name, unsigned long len)
{
    if (!model || len > VG_CHANNEL_MAX)
        return NULL;
    for (uint32_t i = 0; i < model->nchan && i < VG_MODEL_MAX_CHANNEL; i++) {
        const vg_chan_model *c = &model->chan[i];
        if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
            return c;
    }
    return NULL;
}

int vg_model_check_envelope(const vg_chan_model *m, const vg_envelope *env)
{
    /* A set limit must be a real number inside [env->lo, env->hi]. */
    if (!isnan(m->lo) && (isinf(m->lo) || m->lo < env->lo || m->lo > env->hi))
        return VG_EENVELOPE;
    if (!isnan(m->hi) && (isinf(m->hi) || m->hi > env->hi || m->hi < env->lo))
        return VG_EENVELOPE;
    if (!isnan(m->lo) && !isnan(m->hi) && m->lo > m->hi)
        return VG_EENVELOPE;
    /* A stale deadline must be positive and may only get shorter than a
     * configured one.  Where none is configured the model's deadline only
     * raises alerts: the fail-safe trip needs the envelope's own deadline
     * (vg_params_compile), so a model can neither disarm nor invent one. */
    if (!isnan(m->stale_s)) {
        if (!(m->stale_s > 0) || isinf(m->stale_s))
            return VG_EENVELOPE;
        if (env->stale_us > 0 && m->stale_s * 1e6 > (double)env->stale_us)
            return VG_EENVELOPE;
    }
    return VG_OK;
}

static bool vg_valid_ident(const char *s, unsigned long len, unsigned long max, bool dot)
{
    if (!s || len == 0 || len > max)
        return false;
    for (unsigned long i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (dot && c == '.');
        if (!ok)
            return false;
    }
    return true;
}

bool vg_valid_device(const char *s, unsigned long len)
{
    return vg_valid_ident(s, len, VG_DEVICE_MAX, false);
}

bool vg_valid_channel(const char *s, unsigned long len)
{
    return vg_valid_ident(s, len, VG_CHANNEL_MAX, true);
}
