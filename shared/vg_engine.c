/*
 * vg_engine.c - channels by name around vg_window + vg_detect
 * (see vg_engine.h for the contract).
 *
 * One allocation holds the engine: the struct, the channel array, the hash
 * slots, the window buffers and a scratch array as large as the largest
 * window (used for median/MAD refreshes).  Window buffers are carved out in
 * channel order; slots not yet admitted keep the default window size.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg_detect.inc" /* vg_engine_push inlines the per-sample path */
#include "vg_engine.h"
#include "vg_window.inc" /* ... and the window push */
#include "vg_error.h"

/* x86-64: vg_engine_push() (the whole per-sample path, inlined into it) is
 * also compiled for AVX2 and picked at load time (ifunc).  The arithmetic
 * is the same - ISO C mode contracts nothing into FMA, so results are
 * bit-identical (bench/nab) - but the three-operand encoding drops the
 * register copies: 6-9% fewer instructions and cycles per sample
 * (vigil-bench-core --only, perf stat).  Elsewhere, and with clang (14
 * leaves the clones unresolved across translation units), one version. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__clang__) && !defined(VG_NO_CLONES)
#if __has_attribute(target_clones)
#define VG_ENGINE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef VG_ENGINE_CLONES
#define VG_ENGINE_CLONES
#endif

/* engine__compile() overlays a model on the local settings field by field. */
_Static_assert((sizeof(vg_chan_model) - offsetof(vg_chan_model, lo)) % sizeof(double) == 0,
               "vg_chan_model must end in doubles from lo on");

struct vg_engine {
    vg_engine_config cfg;     /* copy of the configuration (chan copied too) */
    vg_chan_config *chan_cfg; /* owned copy of cfg.chan */
    vg_channel *ch;           /* max_channels slots */
    uint32_t nch;             /* slots in use */
    uint32_t *slot;           /* hash: channel index + 1, 0 = empty */
    uint32_t slot_mask;       /* hash size - 1 */
    double *scratch;          /* largest window capacity doubles */
    unsigned char *pool;      /* window bytes not yet given to a channel */
    vg_model model;           /* model in use (valid when model_on) */
    bool model_on;
};

void vg_envelope_init(vg_envelope *env)
{
    memset(env, 0, sizeof(*env));
    env->lo = -INFINITY;
    env->hi = INFINITY;
    env->debounce_n = 1;
    env->debounce_m = 1;
}

void vg_engine_config_init(vg_engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    vg_defaults_init(&cfg->defaults);
    vg_envelope_init(&cfg->default_env);
    cfg->window = 256;
    cfg->max_channels = 64;
    cfg->allow_unknown = true;
}

static uint32_t engine__pow2(uint32_t n)
{
    uint32_t c = 2;
    while (c < n && c < (1u << 24))
        c <<= 1;
    return c;
}

static uint32_t engine__hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Window settings (capacity, count span, time span) for config index ci. */
static void engine__window_of(const vg_engine *e, int ci, uint32_t *cap, uint32_t *span,
                              int64_t *span_us)
{
    uint32_t n = e->cfg.window;
    double s = e->cfg.window_s;
    if (ci >= 0 && e->chan_cfg[ci].window)
        n = e->chan_cfg[ci].window;
    if (ci >= 0 && e->chan_cfg[ci].window_s > 0)
        s = e->chan_cfg[ci].window_s;
    *cap = engine__pow2(n);
    *span = n > *cap ? *cap : n;
    *span_us = s > 0 ? (int64_t)(s * 1e6) : 0;
}

static size_t engine__align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Bytes needed for the whole engine, and the largest window capacity. */
static size_t engine__size(const vg_engine_config *cfg, uint32_t hash_n, uint32_t *maxcap)
{
    size_t total = engine__align8(sizeof(vg_engine));
    total += engine__align8(sizeof(vg_chan_config) * cfg->nchan);
    total += engine__align8(sizeof(vg_channel) * cfg->max_channels);
    total += engine__align8(sizeof(uint32_t) * hash_n);
    uint32_t mc = engine__pow2(cfg->window);
    for (uint32_t i = 0; i < cfg->max_channels; i++) {
        uint32_t n = i < cfg->nchan && cfg->chan[i].window ? cfg->chan[i].window : cfg->window;
        uint32_t cap = engine__pow2(n);
        size_t wb = vg_window_bytes(cap);
        mc = cap > mc ? cap : mc;
        if (total > SIZE_MAX - wb)
            return 0; /* would not fit the address space (32-bit targets) */
        total += wb;
    }
    *maxcap = mc;
    return total > SIZE_MAX - sizeof(double) * mc ? 0 : total + sizeof(double) * mc;
}

static int engine__check_config(const vg_engine_config *cfg)
{
    if (!cfg || cfg->max_channels == 0 || cfg->max_channels > 65536 || cfg->window < 2 ||
        cfg->window > (1u << 24) || cfg->nchan > cfg->max_channels || (cfg->nchan && !cfg->chan) ||
        !(cfg->window_s >= 0 && cfg->window_s <= 1e9) ||
        !(cfg->default_env.lo <= cfg->default_env.hi))
        return VG_EINVAL;
    for (uint32_t i = 0; i < cfg->nchan; i++) {
        const vg_chan_config *c = &cfg->chan[i];
        if (!vg_valid_channel(c->name, strlen(c->name)) || c->window > (1u << 24) ||
            !(c->env.lo <= c->env.hi) || !(c->window_s >= 0 && c->window_s <= 1e9))
            return VG_EINVAL;
    }
    return VG_OK;
}

static int engine__find_slot(const vg_engine *e, const char *name, size_t len, uint32_t *slot)
{
    uint32_t h = engine__hash(name, len) & e->slot_mask;
    for (;;) {
        uint32_t v = e->slot[h];
        if (v == 0) {
            *slot = h;
            return 0;
        }
        const vg_channel *c = &e->ch[v - 1];
        if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0') {
            *slot = h;
            return (int)v;
        }
        h = (h + 1) & e->slot_mask;
    }
}

/* Compiles channel c's parameters: defaults <- local config <- model. */
static void engine__compile(vg_engine *e, vg_channel *c)
{
    const vg_envelope *env = c->cfg >= 0 ? &e->chan_cfg[c->cfg].env : &e->cfg.default_env;
    vg_chan_model merged;
    vg_chan_model_clear(&merged, c->name);
    if (c->cfg >= 0)
        merged = e->chan_cfg[c->cfg].local;
    const vg_chan_model *m =
        e->model_on ? vg_model_find(&e->model, c->name, strlen(c->name)) : NULL;
    if (m) {
        /* Overlay every set (non-NaN) model field, field by field. */
        for (size_t off = offsetof(vg_chan_model, lo); off < sizeof(vg_chan_model);
             off += sizeof(double)) {
            double v;
            memcpy(&v, (const char *)m + off, sizeof v);
            if (!isnan(v))
                memcpy((char *)&merged + off, &v, sizeof v);
        }
    }
    vg_params_compile(&c->par, &e->cfg.defaults, env, &merged, m ? e->model.version : 0);
    if (!m)
        c->par.model_version = 0;
    /* The debounce window may have changed: recount its violations. */
    c->det.viol = (uint32_t)__builtin_popcountll(c->det.hist & c->par.deb_mask);
}

/* Admits channel name[0..len) with config index ci. */
static int engine__admit(vg_engine *e, uint32_t hslot, const char *name, size_t len, int ci)
{
    vg_channel *c = &e->ch[e->nch];
    memset(c, 0, sizeof(*c));
    memcpy(c->name, name, len);
    c->index = e->nch;
    c->cfg = ci;
    uint32_t cap, span;
    int64_t span_us;
    engine__window_of(e, ci, &cap, &span, &span_us);
    int rc = vg_window_init(&c->win, cap, span, span_us, e->pool, vg_window_bytes(cap));
    if (rc != VG_OK)
        return rc;
    vg_window_track_minmax(&c->win, e->cfg.minmax);
    e->pool += vg_window_bytes(cap);
    vg_detect_init(&c->det);
    engine__compile(e, c);
    e->slot[hslot] = ++e->nch;
    return VG_OK;
}

/* Carves the fixed parts of block `mem` into e's arrays; returns the
 * cursor after them (where the window pool starts). */
static unsigned char *engine__layout(vg_engine *e, const vg_engine_config *cfg, uint32_t hash_n,
                                     unsigned char *mem)
{
    mem += engine__align8(sizeof(vg_engine));
    e->cfg = *cfg;
    e->chan_cfg = (vg_chan_config *)(void *)mem;
    if (cfg->nchan)
        memcpy(e->chan_cfg, cfg->chan, sizeof(vg_chan_config) * cfg->nchan);
    e->cfg.chan = e->chan_cfg;
    mem += engine__align8(sizeof(vg_chan_config) * cfg->nchan);
    e->ch = (vg_channel *)(void *)mem;
    mem += engine__align8(sizeof(vg_channel) * cfg->max_channels);
    e->slot = (uint32_t *)(void *)mem;
    e->slot_mask = hash_n - 1;
    return mem + engine__align8(sizeof(uint32_t) * hash_n);
}

vg_engine *vg_engine_create(const vg_engine_config *cfg, int *rc)
{
    int r = engine__check_config(cfg);
    if (r != VG_OK) {
        *rc = r;
        return NULL;
    }
    uint32_t hash_n = engine__pow2(cfg->max_channels * 2), maxcap;
    size_t total = engine__size(cfg, hash_n, &maxcap);
    unsigned char *mem = total ? calloc(1, total) : NULL;
    if (!mem) {
        *rc = VG_ENOMEM;
        return NULL;
    }
    vg_engine *e = (vg_engine *)(void *)mem;
    e->pool = engine__layout(e, cfg, hash_n, mem);
    e->scratch = (double *)(void *)(mem + total - sizeof(double) * maxcap);
    for (uint32_t i = 0; i < cfg->nchan; i++) {
        uint32_t hs;
        const char *nm = cfg->chan[i].name;
        if (engine__find_slot(e, nm, strlen(nm), &hs)) {
            free(e);
            *rc = VG_EEXIST; /* the same channel listed twice */
            return NULL;
        }
        if ((r = engine__admit(e, hs, nm, strlen(nm), (int)i)) != VG_OK) {
            free(e);
            *rc = r;
            return NULL;
        }
    }
    *rc = VG_OK;
    return e;
}

void vg_engine_destroy(vg_engine *e)
{
    free(e);
}

int vg_engine_lookup(vg_engine *e, const char *name, size_t len, vg_channel **out)
{
    if (!vg_valid_channel(name, len))
        return VG_EINVAL;
    uint32_t hs;
    int v = engine__find_slot(e, name, len, &hs);
    if (v) {
        *out = &e->ch[v - 1];
        return VG_OK;
    }
    if (!e->cfg.allow_unknown)
        return VG_ECHANNEL;
    if (e->nch >= e->cfg.max_channels)
        return VG_ENOSPC;
    int rc = engine__admit(e, hs, name, len, -1);
    if (rc != VG_OK)
        return rc;
    *out = &e->ch[e->nch - 1];
    return VG_OK;
}

uint32_t vg_engine_count(const vg_engine *e)
{
    return e->nch;
}

vg_channel *vg_engine_channel(vg_engine *e, uint32_t i)
{
    return i < e->nch ? &e->ch[i] : NULL;
}

VG_ENGINE_CLONES int vg_engine_push(vg_engine *e, vg_channel *c, int64_t t_us, double x,
                                    vg_verdict *v)
{
    if (!isfinite(x)) {
        c->rejected_nan++;
        return VG_ENAN;
    }
    /* Only this function pushes into the window, and every sample it
     * accepts is the detector's last_t: no older than the window's newest. */
    if (t_us < c->det.last_t) {
        c->rejected_order++;
        return VG_EORDER;
    }
    window__append(&c->win, t_us, x);
    detect__sample(&c->det, &c->par, &c->win, e->scratch, t_us, x, v);
    c->accepted++;
    return VG_OK;
}

/* Counts refused sample i of a block and reports it; out of line, so the
 * block loop does not carry its call. */
static __attribute__((noinline, cold)) void engine__refuse(vg_channel *c, uint32_t i, int rc,
                                                           vg_engine_event_fn *fn, void *user)
{
    if (rc == VG_ENAN)
        c->rejected_nan++;
    else
        c->rejected_order++;
    if (fn)
        fn(user, c, i, rc, NULL);
}

/* vg_engine_push_block's loop for a plain window (window__plain). */
static inline __attribute__((always_inline)) uint32_t
engine__block(vg_engine *e, vg_channel *c, const int64_t *t_us, const double *x, uint32_t n,
              vg_engine_event_fn *fn, void *user)
{
    vg_detect *s = &c->det;
    const vg_params *p = &c->par;
    vg_window *w = &c->win;
    double *scratch = e->scratch;
    uint32_t ok = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t t = t_us[i];
        double xi = x[i];
        if (__builtin_expect(!isfinite(xi) || t < s->last_t, 0)) {
            engine__refuse(c, i, isfinite(xi) ? VG_EORDER : VG_ENAN, fn, user);
            continue;
        }
        vg_verdict v;
        window__append_plain(w, t, xi);
        detect__sample(s, p, w, scratch, t, xi, &v);
        c->accepted++;
        ok++;
        if (__builtin_expect(v.alert_edge | v.trip_edge, 0) && fn) {
            vg_verdict ev = v; /* v's address stays in the loop: its fields stay in registers */
            fn(user, c, i, VG_OK, &ev);
        }
    }
    return ok;
}

/* vg_engine_push_block for a window with a time span or min/max deques
 * (not the default): one vg_engine_push call a sample, so that the block
 * function carries one copy of the per-sample path, not two (~12 kB of
 * text each). */
static __attribute__((noinline)) uint32_t engine__block_calls(vg_engine *e, vg_channel *c,
                                                              const int64_t *t_us, const double *x,
                                                              uint32_t n, vg_engine_event_fn *fn,
                                                              void *user)
{
    uint32_t ok = 0;
    for (uint32_t i = 0; i < n; i++) {
        vg_verdict v;
        int rc = vg_engine_push(e, c, t_us[i], x[i], &v);
        ok += rc == VG_OK;
        if (fn && (rc != VG_OK || v.alert_edge || v.trip_edge))
            fn(user, c, i, rc, rc == VG_OK ? &v : NULL);
    }
    return ok;
}

/* Contract in vg_engine.h.  On a plain window, vg_engine_push()'s body with
 * the channel's parts (state, parameters, window, scratch) taken once and
 * the window's expiry and deque tests decided once per block. */
VG_ENGINE_CLONES uint32_t vg_engine_push_block(vg_engine *e, vg_channel *c, const int64_t *t_us,
                                               const double *x, uint32_t n, vg_engine_event_fn *fn,
                                               void *user)
{
    if (!window__plain(&c->win))
        return engine__block_calls(e, c, t_us, x, n, fn, user);
    return engine__block(e, c, t_us, x, n, fn, user);
}

void vg_engine_tick(vg_engine *e, vg_channel *c, int64_t now_us, vg_verdict *v)
{
    (void)e;
    vg_window_expire(&c->win, now_us);
    vg_detect_tick(&c->det, &c->par, now_us, v);
}

/* Envelope that governs channel `name` (listed, else the default). */
static const vg_envelope *engine__env_of(const vg_engine *e, const char *name)
{
    for (uint32_t i = 0; i < e->cfg.nchan; i++)
        if (strcmp(e->chan_cfg[i].name, name) == 0)
            return &e->chan_cfg[i].env;
    return &e->cfg.default_env;
}

int vg_engine_check_model(const vg_engine *e, const vg_model *m, const char **bad)
{
    if (m->nchan > VG_MODEL_MAX_CHANNEL)
        return VG_ETOOBIG;
    for (uint32_t i = 0; i < m->nchan; i++) {
        const vg_chan_model *cm = &m->chan[i];
        if (vg_model_check_envelope(cm, engine__env_of(e, cm->name)) != VG_OK) {
            if (bad)
                *bad = cm->name;
            return VG_EENVELOPE;
        }
    }
    return VG_OK;
}

int vg_engine_apply_model(vg_engine *e, const vg_model *m)
{
    if (m) {
        int rc = vg_engine_check_model(e, m, NULL);
        if (rc != VG_OK)
            return rc;
        e->model = *m;
    }
    e->model_on = m != NULL;
    for (uint32_t i = 0; i < e->nch; i++) {
        vg_channel *c = &e->ch[i];
        engine__compile(e, c);
        vg_detect_new_params(&c->det);
    }
    return VG_OK;
}

uint64_t vg_engine_model_version(const vg_engine *e)
{
    return e->model_on ? e->model.version : 0;
}

/* Contract in vg_engine.h. */
const vg_model *vg_engine_model(const vg_engine *e)
{
    return e->model_on ? &e->model : NULL;
}

int vg_engine_reset_trips(vg_engine *e)
{
    int rc = VG_OK;
    for (uint32_t i = 0; i < e->nch; i++)
        if (vg_detect_reset(&e->ch[i].det) != VG_OK)
            rc = VG_EACTIVE;
    return rc;
}
