/*
 * retrain.c - candidate models from the warehouse (see retrain.h).
 */
#include "retrain.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "progress.h"
#include "series.h"
#include "vg_error.h"
#include "vg_fit.h"
#include "vg_msg.h"
#include "vg_mvar.h"

#define US_PER_DAY  86400000000LL
#define US_PER_WEEK (7 * US_PER_DAY)
#define FAR_MIN     1e-7 /* per-sample false alarm rate bounds */
#define FAR_MAX     1e-2
#define MVAR_ROWS   50000 /* aligned rows the multivariate fit uses at most */

/* A channel known to the warehouse and its fleet prior. */
typedef struct rt_chan {
    char name[VG_CHANNEL_MAX + 1]; /* channel name */
    int64_t id;                    /* warehouse id */
    vg_chan_model prior;           /* fleet prior (fields NaN when none) */
    int has_prior;                 /* 1 when at least one device fitted */
} rt_chan;

/* The state of one retrain run. */
typedef struct rt_ctx {
    vb_wh *w;                 /* warehouse (borrowed) */
    const vb_retrain_opts *o; /* options (borrowed) */
    vb_retrain_stats *st;     /* statistics (borrowed) */
    rt_chan *chan;            /* every channel, by name (owned) */
    uint32_t nchan;
    vb_series full[VG_MODEL_MAX_CHANNEL]; /* one device's channels (owned) */
    vb_series train;                      /* training subset of one channel (owned) */
    double *scratch;                      /* vg_fit scratch (owned) */
    size_t scratch_cap;
    vb_intervals lab, trips; /* one device's exclusions (owned) */
    FILE *manifest;          /* manifest being written (owned) */
    int entries;             /* manifest entries so far */
    char *err;               /* caller's message buffer */
    size_t errlen;
} rt_ctx;

/* Verdict on one device. */
typedef struct rt_entry {
    const char *device; /* device id (borrowed) */
    const char *status; /* publish / held / unchanged / skipped */
    uint64_t version;   /* candidate version */
    uint32_t nchan;     /* channels in the candidate */
    uint64_t samples;   /* training samples */
    vb_bt_result bt;    /* backtest */
    char file[96];      /* bundle file name relative to DIR, or "" */
} rt_entry;

void vb_retrain_opts_init(vb_retrain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->shard.n = 1;
    o->days = 28;
    o->trip_margin_us = 3600LL * 1000000;
    o->label_grace_us = 300LL * 1000000;
    o->alarms_per_week = 1;
    o->prior_n0 = 5000;
    o->prior_rows = 4096;
    vb_guard_init(&o->guard);
}

/* Records a message and returns rc. */
static int rt__fail(rt_ctx *c, int rc, const char *what, const char *who)
{
    snprintf(c->err, c->errlen, "%s%s%s: %s", who ? who : "", who ? ": " : "", what,
             rc == VG_EIO ? sqlite3_errmsg(vb_wh_db(c->w)) : vg_strerror(rc));
    return rc;
}

/* Sets the effective training range. */
static int rt__range(rt_ctx *c)
{
    const vb_retrain_opts *o = c->o;
    int64_t to = o->to_us, from = o->from_us;
    if (!to) {
        to = vb_wh_scalar(c->w, "SELECT coalesce(max(t_last) + 1, 0) FROM samples");
        if (to <= 0)
            return rt__fail(c, VG_EMISSING, "no samples in the warehouse", NULL);
    }
    if (!from)
        from = to - (int64_t)(o->days * (double)US_PER_DAY);
    if (from >= to)
        return rt__fail(c, VG_EINVAL, "empty training range", NULL);
    c->st->from_us = from;
    c->st->to_us = to;
    return VG_OK;
}

/* Loads every channel name, in name order. */
static int rt__channels(rt_ctx *c)
{
    sqlite3_stmt *s = NULL;
    int64_t n = vb_wh_scalar(c->w, "SELECT count(*) FROM channels");
    if (n < 0 || sqlite3_prepare_v2(vb_wh_db(c->w), "SELECT name, id FROM channels ORDER BY name",
                                    -1, &s, NULL) != SQLITE_OK)
        return rt__fail(c, VG_EIO, "cannot list channels", NULL);
    c->chan = calloc((size_t)n + 1, sizeof *c->chan);
    while (c->chan && c->nchan < n && sqlite3_step(s) == SQLITE_ROW) {
        rt_chan *x = &c->chan[c->nchan++];
        snprintf(x->name, sizeof x->name, "%s", (const char *)sqlite3_column_text(s, 0));
        x->id = sqlite3_column_int64(s, 1);
        vg_chan_model_clear(&x->prior, x->name);
    }
    sqlite3_finalize(s);
    return c->chan ? VG_OK : rt__fail(c, VG_ENOMEM, "channel table", NULL);
}

/* Grows the fit scratch to n doubles. */
static int rt__scratch(rt_ctx *c, size_t n)
{
    if (n <= c->scratch_cap)
        return VG_OK;
    double *s = realloc(c->scratch, n * sizeof *s);
    if (!s)
        return VG_ENOMEM;
    c->scratch = s;
    c->scratch_cap = n;
    return VG_OK;
}

/* Per-sample false alarm rate for `n` training samples over the range,
 * spreading alarms_per_week over the device's `nchan` channels. */
static double rt__far(const rt_ctx *c, size_t n, uint32_t nchan)
{
    double weeks = (double)(c->st->to_us - c->st->from_us) / (double)US_PER_WEEK;
    double per_week = weeks > 0 ? (double)n / weeks : (double)n;
    double far = c->o->alarms_per_week / ((nchan ? nchan : 1) * (per_week > 1 ? per_week : 1));
    return far < FAR_MIN ? FAR_MIN : far > FAR_MAX ? FAR_MAX : far;
}

/* Fits c->train into *out with false alarm rate `far`. */
static int rt__fit(rt_ctx *c, const char *name, double far, vg_chan_model *out)
{
    int rc = rt__scratch(c, c->train.n + 1);
    if (rc != VG_OK)
        return rc;
    vg_fit_opts fo;
    vg_fit_opts_init(&fo);
    fo.far = far;
    return vg_fit_channel(name, c->train.t, c->train.v, c->train.n, c->scratch, &fo, out);
}

static int rt__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sets each statistic of *prior to the median of the finite values of
 * that field over fits[0..n). */
static void rt__median_fields(const vg_chan_model *fits, size_t n, double *tmp,
                              vg_chan_model *prior)
{
    for (size_t off = offsetof(vg_chan_model, lo); off <= offsetof(vg_chan_model, stale_s);
         off += sizeof(double)) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, (const char *)&fits[i] + off, sizeof d);
            if (isfinite(d))
                tmp[k++] = d;
        }
        if (!k)
            continue;
        qsort(tmp, k, sizeof *tmp, rt__cmp_double);
        double med = k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
        memcpy((char *)prior + off, &med, sizeof med);
    }
}

/* Lists the devices (all, or those having channel `chan` when >= 0) in
 * name order into a prepared statement. */
static sqlite3_stmt *rt__devices(rt_ctx *c, int64_t chan)
{
    sqlite3_stmt *s = NULL;
    const char *sql = chan < 0 ? "SELECT name, id FROM devices ORDER BY name"
                               : "SELECT d.name, d.id FROM devices d WHERE EXISTS (SELECT 1"
                                 " FROM samples s WHERE s.device = d.id AND s.channel = ?1)"
                                 " ORDER BY d.name";
    if (sqlite3_prepare_v2(vb_wh_db(c->w), sql, -1, &s, NULL) != SQLITE_OK)
        return NULL;
    if (chan >= 0)
        sqlite3_bind_int64(s, 1, chan);
    return s;
}

/* Fleet prior of channel x: median of per-device fits on prior_rows. */
static int rt__prior(rt_ctx *c, rt_chan *x)
{
    sqlite3_stmt *s = rt__devices(c, x->id);
    if (!s)
        return rt__fail(c, VG_EIO, "cannot list devices", NULL);
    size_t n = 0, cap = 64;
    vg_chan_model *fits = malloc(cap * sizeof *fits);
    int rc = fits ? VG_OK : VG_ENOMEM;
    vb_series raw = {0};
    while (rc == VG_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *dev = (const char *)sqlite3_column_text(s, 0);
        rc = vb_intervals_load(c->w, dev, c->o->trip_margin_us, &c->lab, &c->trips);
        if (rc == VG_OK)
            rc = vb_series_load(c->w, sqlite3_column_int64(s, 1), x->id, c->st->from_us,
                                c->st->to_us, c->o->prior_rows, &raw);
        if (rc == VG_OK)
            rc = vb_series_exclude(&raw, x->name, &c->lab, &c->trips, &c->train);
        if (rc != VG_OK || rt__fit(c, x->name, 1e-4, &fits[n]) != VG_OK)
            continue;
        if (++n == cap) {
            vg_chan_model *f = realloc(fits, 2 * cap * sizeof *fits);
            rc = f ? VG_OK : VG_ENOMEM;
            fits = f ? f : fits;
            cap *= 2;
        }
    }
    sqlite3_finalize(s);
    vb_series_free(&raw);
    if (rc == VG_OK && n) {
        rc = rt__scratch(c, n);
        if (rc == VG_OK)
            rt__median_fields(fits, n, c->scratch, &x->prior);
        x->has_prior = 1;
    }
    free(fits);
    return rc == VG_OK ? VG_OK : rt__fail(c, rc, "fleet prior", x->name);
}

/* The configured envelope of channel `name`. */
static const vg_envelope *rt__envelope(const vg_conf *conf, const char *name)
{
    for (uint32_t i = 0; i < conf->engine.nchan; i++)
        if (strcmp(conf->chan[i].name, name) == 0)
            return &conf->chan[i].env;
    return &conf->engine.default_env;
}

/* Clamps a channel model into its envelope: limits inside, stale deadline
 * no longer. */
static void rt__clamp(vg_chan_model *m, const vg_envelope *env)
{
    if (isfinite(m->lo) && m->lo < env->lo)
        m->lo = env->lo;
    if (isfinite(m->hi) && m->hi > env->hi)
        m->hi = env->hi;
    if (isfinite(m->lo) && isfinite(m->hi) && m->lo > m->hi)
        m->lo = m->hi;
    if (env->stale_us > 0 && isfinite(m->stale_s) && m->stale_s * 1e6 > (double)env->stale_us)
        m->stale_s = (double)env->stale_us / 1e6;
}

/* Fits channel x of device `dev` from c->full[k] into m->chan[m->nchan]. */
static int rt__channel(rt_ctx *c, const char *dev, const rt_chan *x, uint32_t k, uint32_t nchan,
                       vg_model *m, uint64_t *used)
{
    int rc = vb_series_exclude(&c->full[k], x->name, &c->lab, &c->trips, &c->train);
    if (rc != VG_OK)
        return rt__fail(c, rc, "exclusions", dev);
    vg_chan_model *cm = &m->chan[m->nchan];
    size_t n = c->train.n;
    rc = rt__fit(c, x->name, rt__far(c, n, nchan), cm);
    if (rc == VG_EINVAL && x->has_prior) {
        *cm = x->prior; /* too little data of its own: the fleet's */
        n = 0;
    } else if (rc == VG_EINVAL) {
        return VG_OK; /* nothing to go by: the device keeps its defaults */
    } else if (rc != VG_OK) {
        return rt__fail(c, rc, "fit", dev);
    }
    if (x->has_prior)
        vg_fit_shrink(cm, &x->prior, (double)n, c->o->prior_n0);
    rt__clamp(cm, rt__envelope(c->o->conf, x->name));
    if (vg_model_check_envelope(cm, rt__envelope(c->o->conf, x->name)) != VG_OK)
        return rt__fail(c, VG_EENVELOPE, "envelope clamp", dev);
    m->nchan++;
    *used += n;
    return VG_OK;
}

/* Index of the channel (of x[0..p)) with the earliest sample at or after
 * pos[]; -1 when every series is exhausted. */
static int rt__next_time(rt_ctx *c, uint32_t p, const size_t *pos, int64_t *t)
{
    int best = -1;
    for (uint32_t j = 0; j < p; j++)
        if (pos[j] < c->full[j].n && (best < 0 || c->full[j].t[pos[j]] < *t)) {
            best = (int)j;
            *t = c->full[j].t[pos[j]];
        }
    return best;
}

/* True when time t is excluded (label or trip) for any of the p channels. */
static int rt__row_excluded(rt_ctx *c, const rt_chan *const *mine, uint32_t p, int64_t t)
{
    for (uint32_t j = 0; j < p; j++)
        if (vb_intervals_hit(&c->lab, mine[j]->name, t) ||
            vb_intervals_hit(&c->trips, mine[j]->name, t))
            return 1;
    return 0;
}

/* Aligns the first p series of c->full by timestamp into rows x (n x p;
 * NaN where a channel has no sample at that time), the most recent
 * MVAR_ROWS rows at most, leaving out excluded times.  Returns the rows. */
static size_t rt__align(rt_ctx *c, const rt_chan *const *mine, uint32_t p, double *x)
{
    size_t pos[VG_MVAR_MAX], rows = 0;
    for (uint32_t j = 0; j < p; j++) /* start near the end: the recent rows */
        pos[j] = c->full[j].n > MVAR_ROWS ? c->full[j].n - MVAR_ROWS : 0;
    int64_t t0 = INT64_MIN;
    for (uint32_t j = 0; j < p; j++)
        if (pos[j] < c->full[j].n && c->full[j].t[pos[j]] > t0)
            t0 = c->full[j].t[pos[j]];
    for (uint32_t j = 0; j < p; j++)
        while (pos[j] < c->full[j].n && c->full[j].t[pos[j]] < t0)
            pos[j]++;
    int64_t t = 0;
    while (rows < MVAR_ROWS && rt__next_time(c, p, pos, &t) >= 0) {
        double *row = &x[rows * p];
        for (uint32_t j = 0; j < p; j++) {
            int here = pos[j] < c->full[j].n && c->full[j].t[pos[j]] == t;
            row[j] = here ? c->full[j].v[pos[j]++] : NAN;
        }
        rows += !rt__row_excluded(c, mine, p, t);
    }
    return rows;
}

/* Fits the multivariate part of *m from the device's first (by name)
 * VG_MVAR_MAX channels, aligned by timestamp; too few rows or varying
 * channels leave it empty (the device runs without one). */
static int rt__fit_mvar(rt_ctx *c, const rt_chan *const *mine, uint32_t k, vg_model *m)
{
    uint32_t p = k < VG_MVAR_MAX ? k : VG_MVAR_MAX;
    memset(&m->mvar, 0, sizeof m->mvar);
    if (p < 2)
        return VG_OK;
    double *x = malloc(sizeof(double) * MVAR_ROWS * p);
    int rc = x ? rt__scratch(c, 2 * MVAR_ROWS) : VG_ENOMEM;
    if (rc == VG_OK) {
        const char *names[VG_MVAR_MAX];
        for (uint32_t j = 0; j < p; j++)
            names[j] = mine[j]->name;
        size_t rows = rt__align(c, mine, p, x);
        vg_mvar_opts o;
        vg_mvar_opts_init(&o);
        double far = rt__far(c, rows, 1); /* the device's alarm budget, as a row rate */
        o.far = far < o.far ? far : o.far;
        (void)vg_mvar_fit(names, p, x, rows, c->scratch, &o, &m->mvar);
    }
    free(x);
    return rc;
}

/* Loads the device's channels' full series and fits them into *m;
 * bt[] receives the backtest inputs, *nbt their number. */
static int rt__fit_device(rt_ctx *c, const char *dev, int64_t dev_id, vg_model *m,
                          vb_bt_channel *bt, uint32_t *nbt, uint64_t *used)
{
    uint32_t k = 0;
    const rt_chan *mine[VG_MODEL_MAX_CHANNEL];
    for (uint32_t i = 0; i < c->nchan && k < VG_MODEL_MAX_CHANNEL; i++) {
        int rc = vb_series_load(c->w, dev_id, c->chan[i].id, c->st->from_us, c->st->to_us, 0,
                                &c->full[k]);
        if (rc != VG_OK)
            return rt__fail(c, rc, "cannot read samples", dev);
        if (c->full[k].n == 0)
            continue;
        bt[k].name = c->chan[i].name;
        bt[k].series = &c->full[k];
        mine[k++] = &c->chan[i];
    }
    *nbt = k;
    for (uint32_t j = 0; j < k; j++) {
        int rc = rt__channel(c, dev, mine[j], j, k, m, used);
        if (rc != VG_OK)
            return rc;
    }
    int rc = rt__fit_mvar(c, mine, k, m);
    return rc == VG_OK ? VG_OK : rt__fail(c, rc, "multivariate fit", dev);
}

/* True when candidate *m equals current *cur but for version/created. */
static int rt__same(const vg_model *cur, const vg_model *m)
{
    static _Thread_local uint8_t a[VG_BUNDLE_MAX_BYTES], b[VG_BUNDLE_MAX_BYTES];
    static _Thread_local vg_model tmp;
    size_t la, lb;
    if (!cur->version)
        return 0;
    tmp = *m;
    tmp.version = cur->version;
    tmp.created_us = cur->created_us;
    return vg_model_encode(cur, a, sizeof a, &la) == VG_OK &&
           vg_model_encode(&tmp, b, sizeof b, &lb) == VG_OK && la == lb && memcmp(a, b, la) == 0;
}

/* Writes the candidate's bundle (or unsigned model) into DIR or DIR/held. */
static int rt__write_bundle(rt_ctx *c, const vg_model *m, rt_entry *e)
{
    static _Thread_local uint8_t buf[VG_BUNDLE_MAX_BYTES];
    size_t len;
    int held = strcmp(e->status, "held") == 0;
    int rc = c->o->sign_key ? vg_bundle_sign(m, c->o->sign_key, buf, sizeof buf, &len)
                            : vg_model_encode(m, buf, sizeof buf, &len);
    if (rc != VG_OK)
        return rt__fail(c, rc, "cannot encode the bundle", e->device);
    snprintf(e->file, sizeof e->file, "%s%s.%s", held ? "held/" : "", e->device,
             c->o->sign_key ? "bundle" : "model");
    if (vb_write_file(c->o->out_dir, e->file, buf, len) != VG_OK)
        return rt__fail(c, VG_EIO, "cannot write", e->file);
    return VG_OK;
}

/* Writes DIR/<dev>.meta: the entry as "key value" lines for publish. */
static int rt__write_meta(rt_ctx *c, const vg_model *m, const rt_entry *e)
{
    char buf[1024], name[96];
    const vb_bt_result *b = &e->bt;
    int n =
        snprintf(buf, sizeof buf,
                 "device %s\nstatus %s\nversion %llu\nfile %s\ncreated_us %lld\n"
                 "train_from_us %lld\ntrain_to_us %lld\nsamples %llu\n"
                 "figures %lld %lld %lld %lld %lld %lld %lld %lld %lld\nreason %s\n",
                 e->device, e->status, (unsigned long long)e->version, e->file,
                 (long long)m->created_us, (long long)m->train_from_us, (long long)m->train_to_us,
                 (unsigned long long)e->samples, (long long)b->cur.alerts,
                 (long long)b->cand.alerts, (long long)b->cur.trips, (long long)b->cand.trips,
                 (long long)b->labels, (long long)b->cur.detected, (long long)b->cand.detected,
                 (long long)b->cur.false_alarms, (long long)b->cand.false_alarms, b->reason);
    snprintf(name, sizeof name, "%s.meta", e->device);
    if (n < 0 || (size_t)n >= sizeof buf || vb_write_file(c->o->out_dir, name, buf, (size_t)n))
        return rt__fail(c, VG_EIO, "cannot write", name);
    return VG_OK;
}

/* Appends the entry to the manifest. */
static void rt__manifest_entry(rt_ctx *c, const rt_entry *e)
{
    FILE *f = c->manifest;
    const vb_bt_result *b = &e->bt;
    fprintf(f, "%s\n    {\"device\": ", c->entries++ ? "," : "");
    vb_json_str(f, e->device);
    fprintf(f, ", \"status\": \"%s\", \"version\": %llu, \"channels\": %u, \"samples\": %llu,",
            e->status, (unsigned long long)e->version, e->nchan, (unsigned long long)e->samples);
    fprintf(f, " \"file\": ");
    vb_json_str(f, e->file);
    fprintf(f,
            ", \"backtest\": {\"current\": {\"alerts\": %lld, \"trips\": %lld, \"detected\": "
            "%lld, \"false_alarms\": %lld}, \"candidate\": {\"alerts\": %lld, \"trips\": %lld, "
            "\"detected\": %lld, \"false_alarms\": %lld}, \"labels\": %lld}, \"reason\": ",
            (long long)b->cur.alerts, (long long)b->cur.trips, (long long)b->cur.detected,
            (long long)b->cur.false_alarms, (long long)b->cand.alerts, (long long)b->cand.trips,
            (long long)b->cand.detected, (long long)b->cand.false_alarms, (long long)b->labels);
    vb_json_str(f, b->reason);
    fputc('}', f);
}

/* Retrains one device. */
static int rt__device(rt_ctx *c, const char *dev, int64_t dev_id)
{
    static _Thread_local vg_model m, cur;
    vb_bt_channel bt[VG_MODEL_MAX_CHANNEL];
    uint32_t nbt = 0;
    rt_entry e = {.device = dev, .status = "skipped"};
    memset(&m, 0, sizeof m);
    snprintf(m.device, sizeof m.device, "%s", dev);
    m.train_from_us = c->st->from_us;
    m.train_to_us = m.created_us = c->st->to_us;
    uint64_t cur_version = 0;
    int rc = vb_intervals_load(c->w, dev, c->o->trip_margin_us, &c->lab, &c->trips);
    if (rc == VG_OK)
        rc = vb_wh_current_model(c->w, dev, &cur_version, &cur);
    if (rc != VG_OK)
        return rt__fail(c, rc, "cannot read labels, trips or the registry", dev);
    if ((rc = rt__fit_device(c, dev, dev_id, &m, bt, &nbt, &e.samples)) != VG_OK)
        return rc;
    m.version = e.version = cur_version + 1;
    e.nchan = m.nchan;
    if (m.nchan == 0) {
        snprintf(e.bt.reason, sizeof e.bt.reason, "no usable samples in the training range");
    } else if (rt__same(&cur, &m)) {
        e.status = "unchanged";
        e.version = cur_version;
        snprintf(e.bt.reason, sizeof e.bt.reason, "candidate equals version %llu",
                 (unsigned long long)cur_version);
    } else {
        rc = vb_backtest(c->o->conf, bt, nbt, cur.version ? &cur : NULL, &m, &c->lab,
                         c->o->label_grace_us, &c->o->guard, &e.bt);
        if (rc != VG_OK)
            return rt__fail(c, rc, "backtest", dev);
        e.status = e.bt.held ? "held" : "publish";
        rc = rt__write_bundle(c, &m, &e);
    }
    if (rc == VG_OK)
        rc = rt__write_meta(c, &m, &e);
    rt__manifest_entry(c, &e);
    c->st->samples += e.samples;
    c->st->publish += strcmp(e.status, "publish") == 0;
    c->st->held += strcmp(e.status, "held") == 0;
    c->st->unchanged += strcmp(e.status, "unchanged") == 0;
    c->st->skipped += strcmp(e.status, "skipped") == 0;
    return rc;
}

/* Opens the manifest (manifest.json or manifest-I-of-N.json). */
static int rt__manifest_open(rt_ctx *c)
{
    char path[4200];
    const vb_shard *sh = &c->o->shard;
    if (sh->n > 1)
        snprintf(path, sizeof path, "%s/manifest-%u-of-%u.json", c->o->out_dir, sh->i, sh->n);
    else
        snprintf(path, sizeof path, "%s/manifest.json", c->o->out_dir);
    c->manifest = fopen(path, "w");
    if (!c->manifest)
        return rt__fail(c, VG_EIO, "cannot create", path);
    fprintf(c->manifest,
            "{\n  \"schema\": 1,\n  \"train_from_us\": %lld,\n  \"train_to_us\": %lld,\n"
            "  \"shard\": \"%u/%u\",\n  \"signed\": %s,\n  \"devices\": [",
            (long long)c->st->from_us, (long long)c->st->to_us, sh->i, sh->n,
            c->o->sign_key ? "true" : "false");
    return VG_OK;
}

/* Closes the manifest. */
static int rt__manifest_close(rt_ctx *c)
{
    if (!c->manifest)
        return VG_OK;
    fprintf(c->manifest, "\n  ]\n}\n");
    int bad = ferror(c->manifest) | fclose(c->manifest);
    c->manifest = NULL;
    return bad ? rt__fail(c, VG_EIO, "cannot write the manifest", NULL) : VG_OK;
}

/* Retrains every device of the shard, with progress. */
static int rt__devices_all(rt_ctx *c)
{
    sqlite3_stmt *s = rt__devices(c, -1);
    if (!s)
        return rt__fail(c, VG_EIO, "cannot list devices", NULL);
    vb_progress p;
    int64_t total = vb_wh_scalar(c->w, "SELECT count(*) FROM devices");
    vb_progress_start(&p, "retrain", "devices", total > 0 ? (uint64_t)total : 0);
    int rc = VG_OK;
    uint64_t seen = 0;
    while (rc == VG_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *dev = (const char *)sqlite3_column_text(s, 0);
        if (vb_shard_owns(&c->o->shard, dev)) {
            c->st->devices++;
            rc = rt__device(c, dev, sqlite3_column_int64(s, 1));
        }
        vb_progress_step(&p, ++seen);
    }
    vb_progress_end(&p);
    sqlite3_finalize(s);
    return rc;
}

/* See retrain.h. */
int vb_retrain_run(vb_wh *w, const vb_retrain_opts *o, vb_retrain_stats *st, char *err,
                   size_t errlen)
{
    rt_ctx c = {.w = w, .o = o, .st = st, .err = err, .errlen = errlen};
    memset(st, 0, sizeof *st);
    err[0] = '\0';
    int rc = rt__range(&c);
    if (rc == VG_OK)
        rc = rt__channels(&c);
    for (uint32_t i = 0; rc == VG_OK && i < c.nchan; i++)
        rc = rt__prior(&c, &c.chan[i]);
    if (rc == VG_OK && vb_mkdir_p(o->out_dir) != VG_OK)
        rc = rt__fail(&c, VG_EIO, "cannot create", o->out_dir);
    if (rc == VG_OK) {
        char held[4200];
        snprintf(held, sizeof held, "%s/held", o->out_dir);
        if (vb_mkdir_p(held) != VG_OK)
            rc = rt__fail(&c, VG_EIO, "cannot create", held);
    }
    if (rc == VG_OK)
        rc = rt__manifest_open(&c);
    if (rc == VG_OK)
        rc = rt__devices_all(&c);
    int rc2 = rt__manifest_close(&c);
    rc = rc != VG_OK ? rc : rc2;
    for (uint32_t k = 0; k < VG_MODEL_MAX_CHANNEL; k++)
        vb_series_free(&c.full[k]);
    vb_series_free(&c.train);
    vb_intervals_free(&c.lab);
    vb_intervals_free(&c.trips);
    free(c.scratch);
    free(c.chan);
    return rc;
}
