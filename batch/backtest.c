/*
 * backtest.c - current vs candidate model over a device's history (see
 * backtest.h).
 */
#include "backtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_engine.h"
#include "vg_error.h"

void vb_guard_init(vb_guard *g)
{
    g->max_alert_ratio = 2.0;
    g->min_alerts = 5;
    g->allow_fewer_detections = 0;
    g->allow_more_trips = 0;
}

/* Per-label hit flags of one model run. */
typedef struct bt_run {
    vb_bt_figures f;         /* figures */
    uint8_t *hit;            /* hit[i]: label i detected (owned by caller) */
    const vb_intervals *lab; /* labels */
    int64_t grace;           /* widening of labels */
} bt_run;

/* Marks labels covering (chan, t) as detected; returns 1 when any does. */
static int bt__credit(bt_run *b, const char *chan, int64_t t)
{
    int any = 0;
    for (size_t i = 0; i < b->lab->n; i++) {
        const vb_interval *x = &b->lab->e[i];
        if (t >= x->from_us - b->grace && t < x->to_us + b->grace &&
            (!x->channel[0] || strcmp(x->channel, chan) == 0)) {
            b->hit[i] = 1;
            any = 1;
        }
    }
    return any;
}

/* Pushes one channel's series into engine e, counting into *b. */
static int bt__channel(vg_engine *e, const vb_bt_channel *c, bt_run *b)
{
    vg_channel *ch;
    int rc = vg_engine_lookup(e, c->name, strlen(c->name), &ch);
    if (rc != VG_OK)
        return rc;
    const vb_series *s = c->series;
    for (size_t i = 0; i < s->n; i++) {
        vg_verdict v;
        if (vg_engine_push(e, ch, s->t[i], s->v[i], &v) != VG_OK)
            continue; /* NaN / out of order: the device would refuse it too */
        if (v.alert_edge == 1) {
            b->f.alerts++;
            if (!bt__credit(b, c->name, s->t[i]))
                b->f.false_alarms++;
        }
        if (v.trip_edge) {
            b->f.trips++;
            bt__credit(b, c->name, s->t[i]);
        }
    }
    return VG_OK;
}

/* Runs every channel under model m (NULL: none) into *b: the channels are
 * admitted first so that the model applies to all of them from the first
 * sample, as on a device that loaded it at start-up. */
static int bt__run(const vg_conf *conf, const vb_bt_channel *ch, uint32_t nchan, const vg_model *m,
                   bt_run *b)
{
    vg_engine_config ec = conf->engine;
    ec.allow_unknown = true;
    if (ec.max_channels < nchan + ec.nchan)
        ec.max_channels = nchan + ec.nchan;
    int rc = VG_OK;
    vg_engine *e = vg_engine_create(&ec, &rc);
    if (!e)
        return rc ? rc : VG_ENOMEM;
    for (uint32_t c = 0; c < nchan && rc == VG_OK; c++) {
        vg_channel *x;
        rc = vg_engine_lookup(e, ch[c].name, strlen(ch[c].name), &x);
    }
    if (rc == VG_OK && m)
        rc = vg_engine_apply_model(e, m);
    for (uint32_t c = 0; c < nchan && rc == VG_OK; c++)
        rc = bt__channel(e, &ch[c], b);
    vg_engine_destroy(e);
    return rc;
}

/* Counts hit labels into b->f.detected. */
static void bt__detected(bt_run *b)
{
    for (size_t i = 0; i < b->lab->n; i++)
        b->f.detected += b->hit[i];
}

/* Applies the guardrails of *g to *r. */
static void bt__judge(const vb_guard *g, vb_bt_result *r)
{
    int64_t base = r->cur.alerts > g->min_alerts ? r->cur.alerts : g->min_alerts;
    if ((double)r->cand.alerts > g->max_alert_ratio * (double)base) {
        r->held = 1;
        snprintf(r->reason, sizeof r->reason,
                 "alert rate: %lld alerts vs %lld with the current model (limit %.2fx of %lld)",
                 (long long)r->cand.alerts, (long long)r->cur.alerts, g->max_alert_ratio,
                 (long long)base);
    } else if (!g->allow_fewer_detections && r->cand.detected < r->cur.detected) {
        r->held = 1;
        snprintf(r->reason, sizeof r->reason,
                 "detects %lld of %lld labelled incidents, the current model %lld",
                 (long long)r->cand.detected, (long long)r->labels, (long long)r->cur.detected);
    } else if (!g->allow_more_trips && r->cand.trips > r->cur.trips) {
        r->held = 1;
        snprintf(r->reason, sizeof r->reason, "trips: %lld vs %lld with the current model",
                 (long long)r->cand.trips, (long long)r->cur.trips);
    } else {
        snprintf(r->reason, sizeof r->reason, "alerts %lld -> %lld, trips %lld -> %lld",
                 (long long)r->cur.alerts, (long long)r->cand.alerts, (long long)r->cur.trips,
                 (long long)r->cand.trips);
    }
}

/* See backtest.h. */
int vb_backtest(const vg_conf *conf, const vb_bt_channel *ch, uint32_t nchan, const vg_model *cur,
                const vg_model *cand, const vb_intervals *labels, int64_t grace_us,
                const vb_guard *g, vb_bt_result *r)
{
    memset(r, 0, sizeof *r);
    r->labels = (int64_t)labels->n;
    uint8_t *hit = calloc(labels->n + 1, 1);
    if (!hit)
        return VG_ENOMEM;
    bt_run a = {.hit = hit, .lab = labels, .grace = grace_us};
    int rc = bt__run(conf, ch, nchan, cur, &a);
    bt__detected(&a);
    r->cur = a.f;
    bt_run b = {.hit = hit, .lab = labels, .grace = grace_us};
    memset(hit, 0, labels->n + 1);
    if (rc == VG_OK)
        rc = bt__run(conf, ch, nchan, cand, &b);
    bt__detected(&b);
    r->cand = b.f;
    free(hit);
    if (rc == VG_OK)
        bt__judge(g, r);
    return rc;
}
