/*
 * scenario.c - fault plans and truth; see scenario.h for the timing rules.
 */
#include "scenario.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "simtime.h"
#include "vg_error.h"

static const char *const scenario__names[SIM_FAULT_KINDS] = {
    "normal", "overheat", "drift", "spike", "stuck", "dropout", "noisy",
};

/* Default channel of each fault kind. */
static const int scenario__default_channel[SIM_FAULT_KINDS] = {
    SIM_CH_TEMP, SIM_CH_TEMP, SIM_CH_TEMP, SIM_CH_TEMP, SIM_CH_PRESSURE, SIM_CH_DEVICE, SIM_CH_VIB,
};

/* Drift amplitude and spike height per channel (temp, vib, pressure, load). */
static const double scenario__drift[SIM_NCHAN] = {12.0, 2.0, 1.5, 0.3};
static const double scenario__spike[SIM_NCHAN] = {60.0, 20.0, 8.0, 1.0};

/* See scenario.h. */
const char *sim_fault_name(int kind)
{
    if (kind < 0 || kind >= SIM_FAULT_KINDS)
        return NULL;
    return scenario__names[kind];
}

/* See scenario.h. */
double sim_drift_amplitude(int c)
{
    return scenario__drift[c];
}

/* See scenario.h. */
double sim_spike_height(int c)
{
    return scenario__spike[c];
}

/* Fault kind named s[0..len), or -1. */
static int scenario__kind(const char *s, size_t len)
{
    for (int k = 0; k < SIM_FAULT_KINDS; k++) {
        if (strlen(scenario__names[k]) == len && memcmp(s, scenario__names[k], len) == 0)
            return k;
    }
    return -1;
}

/* Parses the ":CHANNEL" part of a spec for kind `kind` into *ch. */
static int scenario__channel(int kind, const char *name, int *ch, char *err, size_t errcap)
{
    if (strcmp(name, "*") == 0) {
        *ch = SIM_CH_DEVICE;
        if (kind != SIM_FAULT_DROPOUT) {
            snprintf(err, errcap, "only dropout can take the whole device (\"*\")");
            return VG_EINVAL;
        }
        return VG_OK;
    }
    *ch = sim_channel_from_name(name);
    if (*ch < 0) {
        snprintf(err, errcap, "unknown channel \"%s\" (temp, vib, pressure, load)", name);
        return VG_EINVAL;
    }
    if (kind == SIM_FAULT_OVERHEAT && *ch != SIM_CH_TEMP) {
        snprintf(err, errcap, "overheat is a temperature fault");
        return VG_EINVAL;
    }
    return VG_OK;
}

/* See scenario.h. */
int sim_scenario_parse(const char *spec, sim_scenario *out, char *err, size_t errcap)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    out->channel = SIM_CH_DEFAULT;
    if (len == 5 && memcmp(spec, "mixed", 5) == 0) {
        out->kind = SIM_SCENARIO_MIXED;
        if (colon) {
            snprintf(err, errcap, "mixed takes no channel");
            return VG_EINVAL;
        }
        return VG_OK;
    }
    out->kind = scenario__kind(spec, len);
    if (out->kind < 0) {
        snprintf(err, errcap, "unknown scenario \"%.*s\"", (int)len, spec);
        return VG_EINVAL;
    }
    if (!colon)
        return VG_OK;
    if (out->kind == SIM_FAULT_NONE) {
        snprintf(err, errcap, "normal takes no channel");
        return VG_EINVAL;
    }
    return scenario__channel(out->kind, colon + 1, &out->channel, err, errcap);
}

/* See scenario.h. */
int sim_scenario_kind_for(const sim_scenario *s, uint32_t index)
{
    if (s->kind == SIM_SCENARIO_MIXED)
        return (int)(index % SIM_FAULT_KINDS);
    return s->kind;
}

/* See scenario.h.  Rounded so that time never drifts from the tick grid. */
int64_t sim_tick_time(const sim_timing *tm, uint64_t k)
{
    return tm->start_us + (int64_t)llround((double)k * 1e6 / tm->rate_hz);
}

/* Appends a fault to *p (silently capped at SIM_PLAN_MAX). */
static void scenario__add(sim_plan *p, int kind, int channel, int64_t start, int64_t end)
{
    if (p->nfault >= SIM_PLAN_MAX)
        return;
    sim_fault *f = &p->fault[p->nfault++];
    f->kind = (uint8_t)kind;
    f->channel = (int8_t)channel;
    f->start_us = start;
    f->end_us = end;
    f->begun_us = SIM_T_NONE;
    f->ended_us = SIM_T_NONE;
}

/* Adds the single-sample spikes of the window [k0, k1). */
static void scenario__spikes(sim_plan *p, int channel, const sim_timing *tm, uint64_t k0,
                             uint64_t k1)
{
    uint64_t w = k1 - k0;
    uint64_t n = w / SIM_SPIKE_GAP;
    if (n > SIM_SPIKES_MAX)
        n = SIM_SPIKES_MAX;
    for (uint64_t j = 0; j < n; j++) {
        uint64_t k = k0 + (2 * j + 1) * w / (2 * n);
        scenario__add(p, SIM_FAULT_SPIKE, channel, sim_tick_time(tm, k), sim_tick_time(tm, k + 1));
    }
}

/* See scenario.h. */
void sim_plan_build(sim_plan *p, int kind, int channel, const sim_timing *tm)
{
    memset(p, 0, sizeof *p);
    if (kind <= SIM_FAULT_NONE || kind >= SIM_FAULT_KINDS)
        return;
    if (channel == SIM_CH_DEFAULT)
        channel = scenario__default_channel[kind];
    uint64_t k0 = (uint64_t)floor(SIM_FAULT_START_FRAC * (double)tm->nticks);
    uint64_t k1 = (uint64_t)floor(SIM_FAULT_END_FRAC * (double)tm->nticks);
    if (kind == SIM_FAULT_DRIFT)
        k1 = (uint64_t)floor(SIM_DRIFT_END_FRAC * (double)tm->nticks);
    if (k1 <= k0)
        return;
    if (kind == SIM_FAULT_SPIKE)
        scenario__spikes(p, channel, tm, k0, k1);
    else if (kind == SIM_FAULT_OVERHEAT)
        scenario__add(p, kind, channel, sim_tick_time(tm, k0), INT64_MAX);
    else
        scenario__add(p, kind, channel, sim_tick_time(tm, k0), sim_tick_time(tm, k1));
}

/* Applies open sensor fault f at t_us to *eff. */
static void scenario__apply(const sim_fault *f, int64_t t_us, sim_effects *eff)
{
    int c = f->channel;
    switch (f->kind) {
    case SIM_FAULT_OVERHEAT:
        eff->cooling_failed = true;
        break;
    case SIM_FAULT_DRIFT:
        eff->offset[c] +=
            scenario__drift[c] * (double)(t_us - f->start_us) / (double)(f->end_us - f->start_us);
        break;
    case SIM_FAULT_SPIKE:
        eff->offset[c] += scenario__spike[c];
        break;
    case SIM_FAULT_STUCK:
        eff->stuck[c] = true;
        break;
    case SIM_FAULT_DROPOUT:
        for (int k = 0; k < SIM_NCHAN; k++)
            eff->missing[k] = eff->missing[k] || c == SIM_CH_DEVICE || c == k;
        break;
    case SIM_FAULT_NOISY:
        eff->noise_mult[c] *= SIM_NOISY_MULT;
        break;
    default:
        break;
    }
}

/* Updates the begun/ended marks of f at t_us; true when f is open. */
static bool scenario__track(sim_fault *f, int64_t t_us, bool running)
{
    if (f->ended_us != SIM_T_NONE)
        return false;
    if (f->begun_us == SIM_T_NONE) {
        bool can = f->kind != SIM_FAULT_OVERHEAT || running;
        if (t_us < f->start_us || t_us >= f->end_us || !can)
            return false;
        f->begun_us = t_us;
    }
    if (t_us >= f->end_us) {
        f->ended_us = f->end_us;
        return false;
    }
    return true;
}

/* See scenario.h. */
void sim_plan_effects(sim_plan *p, int64_t t_us, bool running, sim_effects *eff)
{
    sim_effects_clear(eff);
    for (uint32_t i = 0; i < p->nfault; i++) {
        if (scenario__track(&p->fault[i], t_us, running))
            scenario__apply(&p->fault[i], t_us, eff);
    }
}

/* See scenario.h. */
void sim_plan_machine_stopped(sim_plan *p, int64_t t_us)
{
    for (uint32_t i = 0; i < p->nfault; i++) {
        sim_fault *f = &p->fault[i];
        if (f->kind == SIM_FAULT_OVERHEAT && f->begun_us != SIM_T_NONE && f->ended_us == SIM_T_NONE)
            f->ended_us = t_us;
    }
}

/* See scenario.h. */
void sim_plan_finish(sim_plan *p, int64_t end_us)
{
    for (uint32_t i = 0; i < p->nfault; i++) {
        sim_fault *f = &p->fault[i];
        if (f->begun_us != SIM_T_NONE && f->ended_us == SIM_T_NONE)
            f->ended_us = f->end_us < end_us ? f->end_us : end_us;
    }
}

/* See scenario.h. */
int sim_truth_header(FILE *f)
{
    if (fputs("device,channel,fault,start,end,start_us,end_us\n", f) == EOF)
        return VG_EINVAL;
    return VG_OK;
}

/* See scenario.h. */
int sim_truth_write(FILE *f, const char *device, const sim_plan *p)
{
    for (uint32_t i = 0; i < p->nfault; i++) {
        const sim_fault *x = &p->fault[i];
        if (x->begun_us == SIM_T_NONE || x->ended_us == SIM_T_NONE)
            continue;
        char a[SIM_TIME_TEXT_MAX], b[SIM_TIME_TEXT_MAX];
        const char *ch = x->channel == SIM_CH_DEVICE ? "*" : sim_channel_names[x->channel];
        if (fprintf(f, "%s,%s,%s,%s,%s,%" PRId64 ",%" PRId64 "\n", device, ch,
                    scenario__names[x->kind], sim_time_format(x->begun_us, a),
                    sim_time_format(x->ended_us, b), x->begun_us, x->ended_us) < 0)
            return VG_EINVAL;
    }
    return VG_OK;
}
