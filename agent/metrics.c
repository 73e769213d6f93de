/*
 * metrics.c - Prometheus text rendering of vgd_metrics (see metrics.h).
 * Rendering appends with snprintf into the caller's buffer: O(lines).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

const uint32_t vgd_hist_bounds_us[VGD_HIST_BUCKETS] = {5,   10,   25,   50,    100,   250,
                                                       500, 1000, 2500, 10000, 50000, 250000};

void vgd_metrics_observe(vgd_metrics *m, int64_t us)
{
    int i = 0;
    while (i < VGD_HIST_BUCKETS && us > (int64_t)vgd_hist_bounds_us[i])
        i++;
    m->hist[i]++;
    m->hist_sum_s += (double)us * 1e-6;
}

/* Appender over a fixed buffer; `rc` turns VG_ENOSPC once it overflows. */
struct out {
    char *buf;  /* destination */
    size_t cap; /* its size */
    size_t len; /* bytes written */
    int rc;     /* VG_OK or VG_ENOSPC */
};

static void out__printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out__printf(struct out *o, const char *fmt, ...)
{
    if (o->rc != VG_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->rc = VG_ENOSPC;
    else
        o->len += (size_t)n;
}

/* One metric family with a single unlabelled sample. */
static void out__one(struct out *o, const char *name, const char *type, const char *help,
                     const char *dev, double v)
{
    out__printf(o, "# HELP %s %s\n# TYPE %s %s\n%s{device=\"%s\"} %.17g\n", name, help, name, type,
                name, dev, v);
}

/* A counter family labelled by reason, one sample per non-zero reason. */
static void out__reasons(struct out *o, const char *name, const char *help, const char *dev,
                         const uint64_t *v)
{
    out__printf(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int r = 1; r < VG_ESTATUS_MAX; r++)
        if (v[r])
            out__printf(o, "%s{device=\"%s\",reason=\"%s\"} %llu\n", name, dev, vg_errname(r),
                        (unsigned long long)v[r]);
}

static void out__hist(struct out *o, const vgd_metrics *m, const char *dev)
{
    const char *n = "vigild_processing_latency_seconds";
    out__printf(o, "# HELP %s time from a batch's arrival to its spooled verdict\n", n);
    out__printf(o, "# TYPE %s histogram\n", n);
    uint64_t cum = 0;
    for (int i = 0; i < VGD_HIST_BUCKETS; i++) {
        cum += m->hist[i];
        out__printf(o, "%s_bucket{device=\"%s\",le=\"%g\"} %llu\n", n, dev,
                    vgd_hist_bounds_us[i] * 1e-6, (unsigned long long)cum);
    }
    cum += m->hist[VGD_HIST_BUCKETS];
    out__printf(o, "%s_bucket{device=\"%s\",le=\"+Inf\"} %llu\n", n, dev, (unsigned long long)cum);
    out__printf(o, "%s_sum{device=\"%s\"} %.9g\n%s_count{device=\"%s\"} %llu\n", n, dev,
                m->hist_sum_s, n, dev, (unsigned long long)cum);
}

int vgd_metrics_render(const vgd_metrics *m, const char *d, char *buf, size_t cap, size_t *len)
{
    struct out o = {.buf = buf, .cap = cap, .len = 0, .rc = cap ? VG_OK : VG_ENOSPC};
    out__one(&o, "vigild_batches_in_total", "counter", "sample batches accepted", d,
             (double)m->batches_in);
    out__one(&o, "vigild_samples_in_total", "counter", "samples scored", d, (double)m->samples_in);
    out__reasons(&o, "vigild_rejected_total", "batches or samples refused, by reason", d,
                 m->rejected);
    out__printf(&o, "# HELP vigild_alerts_total alert edges\n# TYPE vigild_alerts_total counter\n");
    out__printf(&o, "vigild_alerts_total{device=\"%s\",state=\"raised\"} %llu\n", d,
                (unsigned long long)m->alerts_raised);
    out__printf(&o, "vigild_alerts_total{device=\"%s\",state=\"cleared\"} %llu\n", d,
                (unsigned long long)m->alerts_cleared);
    out__one(&o, "vigild_trips_total", "counter", "safety trips decided", d, (double)m->trips);
    out__one(&o, "vigild_resets_total", "counter", "resets that cleared a latch", d,
             (double)m->resets_ok);
    out__one(&o, "vigild_resets_refused_total", "counter", "resets refused", d,
             (double)m->resets_refused);
    out__one(&o, "vigild_actions_total", "counter", "local trip actions started", d,
             (double)m->actions_run);
    out__one(&o, "vigild_actions_failed_total", "counter", "local actions failed", d,
             (double)m->actions_failed);
    out__one(&o, "vigild_actions_killed_total", "counter", "local actions killed at timeout", d,
             (double)m->actions_killed);
    out__one(&o, "vigild_models_applied_total", "counter", "model bundles applied", d,
             (double)m->models_applied);
    out__reasons(&o, "vigild_models_rejected_total", "model bundles refused, by reason", d,
                 m->models_rejected);
    out__one(&o, "vigild_spool_errors_total", "counter", "failed spool writes", d,
             (double)m->spool_errors);
    out__one(&o, "vigild_spool_commits_total", "counter", "spool writer group commits", d,
             (double)m->spool_commits);
    out__one(&o, "vigild_spool_gaps_dropped_total", "counter", "skipped-seq gaps given up", d,
             (double)m->spool_gaps_dropped);
    out__one(&o, "vigild_spool_queue_records", "gauge", "records queued for the spool writer", d,
             (double)m->spool_queue);
    out__one(&o, "vigild_acked_seq", "gauge", "committed mark published on samples/ack", d,
             (double)m->acked_seq);
    out__one(&o, "vigild_spool_bytes", "gauge", "spool database bytes", d, (double)m->spool_bytes);
    out__one(&o, "vigild_backlog_records", "gauge", "records not yet forwarded", d,
             (double)m->backlog);
    out__one(&o, "vigild_backlog_bytes", "gauge", "payload bytes not yet forwarded", d,
             (double)m->backlog_bytes);
    out__one(&o, "vigild_evicted_unsent_total", "counter", "unsent batches evicted by quota", d,
             (double)m->evicted_lost);
    out__one(&o, "vigild_uplink_lag_seconds", "gauge", "age of the oldest unsent record", d,
             m->uplink_lag_s);
    out__one(&o, "vigild_uplink_chunks_total", "counter", "archive chunks acknowledged", d,
             (double)m->uplink_chunks);
    out__one(&o, "vigild_uplink_records_total", "counter", "records forwarded", d,
             (double)m->uplink_records);
    out__one(&o, "vigild_uplink_bytes_total", "counter", "archive bytes acknowledged", d,
             (double)m->uplink_bytes);
    out__one(&o, "vigild_connects_total", "counter", "broker connections", d, (double)m->connects);
    out__one(&o, "vigild_connected", "gauge", "1 while connected", d, m->connected);
    out__one(&o, "vigild_latched", "gauge", "1 while a trip is latched", d, m->latched);
    out__one(&o, "vigild_model_version", "gauge", "model version running", d,
             (double)m->model_version);
    out__hist(&o, m, d);
    *len = o.len;
    return o.rc;
}

int vgd_metrics_write_file(const vgd_metrics *m, const char *device, const char *path)
{
    char buf[8192], tmp[4096 + 8];
    size_t len;
    if (vgd_metrics_render(m, device, buf, sizeof buf, &len) != VG_OK)
        return VG_ENOSPC;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return VG_EINVAL;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return VG_EIO;
    int ok = fwrite(buf, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        errno = e;
        return VG_EIO;
    }
    return VG_OK;
}

/* Appends one status counter if there is room. */
static void status__add(vg_status *st, const char *name, uint64_t v)
{
    if (st->ncounter >= VG_STATUS_MAX_COUNTER)
        return;
    vg_counter *c = &st->counter[st->ncounter++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->value = v;
}

void vgd_metrics_to_status(const vgd_metrics *m, vg_status *st)
{
    uint64_t rejected = 0;
    for (int r = 0; r < VG_ESTATUS_MAX; r++)
        rejected += m->rejected[r];
    st->ncounter = 0;
    status__add(st, "batches_in", m->batches_in);
    status__add(st, "samples_in", m->samples_in);
    status__add(st, "rejected", rejected);
    for (int r = 1; r < VG_ESTATUS_MAX; r++) {
        char name[VG_COUNTER_NAME_MAX + 1];
        if (!m->rejected[r])
            continue;
        snprintf(name, sizeof name, "rejected_%s", vg_errname(r));
        status__add(st, name, m->rejected[r]);
    }
    status__add(st, "alerts_raised", m->alerts_raised);
    status__add(st, "alerts_cleared", m->alerts_cleared);
    status__add(st, "trips", m->trips);
    status__add(st, "resets", m->resets_ok);
    status__add(st, "resets_refused", m->resets_refused);
    status__add(st, "reset_refused_reason", m->reset_refused_reason);
    status__add(st, "models_applied", m->models_applied);
    status__add(st, "spool_bytes", m->spool_bytes);
    status__add(st, "backlog", m->backlog);
    status__add(st, "uplink_records", m->uplink_records);
    status__add(st, "uplink_lag_ms", (uint64_t)(m->uplink_lag_s * 1000.0));
}
