/*
 * metrics.c - Prometheus text and status rendering of vgd_metrics (see
 * metrics.h).
 *
 * Both renderings are declarative: metric__families lists every Prometheus
 * family in output order as (name, type, help, emitter, offset of its field
 * in vgd_metrics), and status__rows does the same for the counters carried
 * in the status message.  An emitter knows how to read its field (u64, i64,
 * double, int) or how to expand it into labelled samples: the per-reason
 * arrays walk the vg_error codes, the alert family walks alert__states,
 * the histogram walks vgd_hist_bounds_us.  Adding a counter is a struct
 * field plus a table row.
 *
 * Costs: an update is an increment; observe is O(buckets); rendering is
 * O(families + reasons + buckets) snprintf calls into the caller's buffer,
 * no allocation; the status subset is O(rows + reasons).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
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

/* The field at byte offset `off` of *m (the tables' offsetof values). */
#define METRIC__AT(m, off, type) ((const type *)(const void *)((const char *)(m) + (off)))

struct family;

/* Writes a family's sample lines (the # HELP / # TYPE header is written by
 * the caller).  Reads only *m; appends to *o. */
typedef void (*family__emit_fn)(struct out *o, const struct family *f, const vgd_metrics *m,
                                const char *dev);

/* One Prometheus metric family. */
struct family {
    const char *name;     /* metric name */
    const char *type;     /* "counter", "gauge", "histogram" */
    const char *help;     /* # HELP text */
    family__emit_fn emit; /* how its samples are read and written */
    size_t off;           /* offsetof its field in vgd_metrics */
};

/* One unlabelled sample, printed as a double like every scalar family. */
static void family__sample(struct out *o, const struct family *f, const char *dev, double v)
{
    out__printf(o, "%s{device=\"%s\"} %.17g\n", f->name, dev, v);
}

static void family__u64(struct out *o, const struct family *f, const vgd_metrics *m,
                        const char *dev)
{
    family__sample(o, f, dev, (double)*METRIC__AT(m, f->off, uint64_t));
}

static void family__i64(struct out *o, const struct family *f, const vgd_metrics *m,
                        const char *dev)
{
    family__sample(o, f, dev, (double)*METRIC__AT(m, f->off, int64_t));
}

static void family__f64(struct out *o, const struct family *f, const vgd_metrics *m,
                        const char *dev)
{
    family__sample(o, f, dev, *METRIC__AT(m, f->off, double));
}

static void family__int(struct out *o, const struct family *f, const vgd_metrics *m,
                        const char *dev)
{
    family__sample(o, f, dev, *METRIC__AT(m, f->off, int));
}

/* A uint64_t[VG_ESTATUS_MAX] by reason: one sample per non-zero reason. */
static void family__reasons(struct out *o, const struct family *f, const vgd_metrics *m,
                            const char *dev)
{
    const uint64_t *v = METRIC__AT(m, f->off, uint64_t);
    for (int r = 1; r < VG_ESTATUS_MAX; r++)
        if (v[r])
            out__printf(o, "%s{device=\"%s\",reason=\"%s\"} %llu\n", f->name, dev, vg_errname(r),
                        (unsigned long long)v[r]);
}

/* The alert edge counters, labelled by state. */
static const struct {
    const char *state; /* label value */
    size_t off;        /* offsetof its counter */
} alert__states[] = {
    {"raised", offsetof(vgd_metrics, alerts_raised)},
    {"cleared", offsetof(vgd_metrics, alerts_cleared)},
};

static void family__states(struct out *o, const struct family *f, const vgd_metrics *m,
                           const char *dev)
{
    for (size_t i = 0; i < sizeof alert__states / sizeof alert__states[0]; i++)
        out__printf(o, "%s{device=\"%s\",state=\"%s\"} %llu\n", f->name, dev,
                    alert__states[i].state,
                    (unsigned long long)*METRIC__AT(m, alert__states[i].off, uint64_t));
}

/* The latency histogram: cumulative buckets over vgd_hist_bounds_us, then
 * +Inf, sum and count. */
static void family__hist(struct out *o, const struct family *f, const vgd_metrics *m,
                         const char *dev)
{
    const char *n = f->name;
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

#define C         "counter"
#define G         "gauge"
#define AT(field) offsetof(vgd_metrics, field)

/* Every family, in output order. */
static const struct family metric__families[] = {
    {"vigild_batches_in_total", C, "sample batches accepted", family__u64, AT(batches_in)},
    {"vigild_samples_in_total", C, "samples scored", family__u64, AT(samples_in)},
    {"vigild_rejected_total", C, "batches or samples refused, by reason", family__reasons,
     AT(rejected)},
    {"vigild_alerts_total", C, "alert edges", family__states, 0},
    {"vigild_trips_total", C, "safety trips decided", family__u64, AT(trips)},
    {"vigild_resets_total", C, "resets that cleared a latch", family__u64, AT(resets_ok)},
    {"vigild_resets_refused_total", C, "resets refused", family__u64, AT(resets_refused)},
    {"vigild_actions_total", C, "local trip actions started", family__u64, AT(actions_run)},
    {"vigild_actions_failed_total", C, "local actions failed", family__u64, AT(actions_failed)},
    {"vigild_actions_killed_total", C, "local actions killed at timeout", family__u64,
     AT(actions_killed)},
    {"vigild_models_applied_total", C, "model bundles applied", family__u64, AT(models_applied)},
    {"vigild_models_rejected_total", C, "model bundles refused, by reason", family__reasons,
     AT(models_rejected)},
    {"vigild_spool_errors_total", C, "failed spool writes", family__u64, AT(spool_errors)},
    {"vigild_spool_commits_total", C, "spool writer group commits", family__u64, AT(spool_commits)},
    {"vigild_spool_gaps_dropped_total", C, "skipped-seq gaps given up", family__u64,
     AT(spool_gaps_dropped)},
    {"vigild_spool_queue_records", G, "records queued for the spool writer", family__u64,
     AT(spool_queue)},
    {"vigild_acked_seq", G, "committed mark published on samples/ack", family__i64, AT(acked_seq)},
    {"vigild_spool_bytes", G, "spool database bytes", family__u64, AT(spool_bytes)},
    {"vigild_backlog_records", G, "records not yet forwarded", family__u64, AT(backlog)},
    {"vigild_backlog_bytes", G, "payload bytes not yet forwarded", family__u64, AT(backlog_bytes)},
    {"vigild_evicted_unsent_total", C, "unsent batches evicted by quota", family__u64,
     AT(evicted_lost)},
    {"vigild_uplink_lag_seconds", G, "age of the oldest unsent record", family__f64,
     AT(uplink_lag_s)},
    {"vigild_uplink_chunks_total", C, "archive chunks acknowledged", family__u64,
     AT(uplink_chunks)},
    {"vigild_uplink_records_total", C, "records forwarded", family__u64, AT(uplink_records)},
    {"vigild_uplink_bytes_total", C, "archive bytes acknowledged", family__u64, AT(uplink_bytes)},
    {"vigild_connects_total", C, "broker connections", family__u64, AT(connects)},
    {"vigild_mqtt_client_renewals_total", C, "wedged MQTT clients replaced", family__u64,
     AT(client_renewals)},
    {"vigild_connected", G, "1 while connected", family__int, AT(connected)},
    {"vigild_latched", G, "1 while a trip is latched", family__int, AT(latched)},
    {"vigild_model_version", G, "model version running", family__u64, AT(model_version)},
    {"vigild_processing_latency_seconds", "histogram",
     "time from a batch's arrival to its spooled verdict", family__hist, AT(hist)},
};
#undef C
#undef G

int vgd_metrics_render(const vgd_metrics *m, const char *d, char *buf, size_t cap, size_t *len)
{
    struct out o = {.buf = buf, .cap = cap, .len = 0, .rc = cap ? VG_OK : VG_ENOSPC};
    for (size_t i = 0; i < sizeof metric__families / sizeof metric__families[0]; i++) {
        const struct family *f = &metric__families[i];
        out__printf(&o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
        f->emit(&o, f, m, d);
    }
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

struct status_row;

/* Appends a row's counters to st->counter[]; reads only *m. */
typedef void (*status__emit_fn)(vg_status *st, const struct status_row *row, const vgd_metrics *m);

/* One status counter (or, for a by-reason array, a group of them). */
struct status_row {
    const char *name;     /* counter name (prefix, for a by-reason array) */
    status__emit_fn emit; /* how it is read */
    size_t off;           /* offsetof its field in vgd_metrics */
};

static void status__u64(vg_status *st, const struct status_row *row, const vgd_metrics *m)
{
    status__add(st, row->name, *METRIC__AT(m, row->off, uint64_t));
}

/* A seconds gauge carried as whole milliseconds. */
static void status__ms(vg_status *st, const struct status_row *row, const vgd_metrics *m)
{
    status__add(st, row->name, (uint64_t)(*METRIC__AT(m, row->off, double) * 1000.0));
}

/* A by-reason array: its total under `name`, then `name_<reason>` for each
 * non-zero reason. */
static void status__reasons(vg_status *st, const struct status_row *row, const vgd_metrics *m)
{
    const uint64_t *v = METRIC__AT(m, row->off, uint64_t);
    uint64_t total = 0;
    for (int r = 0; r < VG_ESTATUS_MAX; r++)
        total += v[r];
    status__add(st, row->name, total);
    for (int r = 1; r < VG_ESTATUS_MAX; r++) {
        char name[VG_COUNTER_NAME_MAX + 1];
        if (!v[r])
            continue;
        snprintf(name, sizeof name, "%s_%s", row->name, vg_errname(r));
        status__add(st, name, v[r]);
    }
}

/* The status subset, in message order. */
static const struct status_row status__rows[] = {
    {"batches_in", status__u64, AT(batches_in)},
    {"samples_in", status__u64, AT(samples_in)},
    {"rejected", status__reasons, AT(rejected)},
    {"alerts_raised", status__u64, AT(alerts_raised)},
    {"alerts_cleared", status__u64, AT(alerts_cleared)},
    {"trips", status__u64, AT(trips)},
    {"resets", status__u64, AT(resets_ok)},
    {"resets_refused", status__u64, AT(resets_refused)},
    {"reset_refused_reason", status__u64, AT(reset_refused_reason)},
    {"models_applied", status__u64, AT(models_applied)},
    {"spool_bytes", status__u64, AT(spool_bytes)},
    {"backlog", status__u64, AT(backlog)},
    {"uplink_records", status__u64, AT(uplink_records)},
    {"uplink_lag_ms", status__ms, AT(uplink_lag_s)},
};

void vgd_metrics_to_status(const vgd_metrics *m, vg_status *st)
{
    st->ncounter = 0;
    for (size_t i = 0; i < sizeof status__rows / sizeof status__rows[0]; i++)
        status__rows[i].emit(st, &status__rows[i], m);
}
