/*
 * summary.c - the end-of-run report; see summary.h.
 */
#include "summary.h"

#include <inttypes.h>

#include "simtime.h"

#define SUMMARY_TRIP_GRACE_US 10000000 /* a stop this long after a fault's end still counts */

/* Seconds of simulated time from the start of the run to t_us. */
static double summary__rel(const sim_report *r, int64_t t_us)
{
    return (double)(t_us - r->sim_start_us) / 1e6;
}

/* Prints the header lines. */
static void summary__header(FILE *f, const sim_report *r, uint32_t n)
{
    char a[SIM_TIME_TEXT_MAX], b[SIM_TIME_TEXT_MAX];
    if (r->rate_hz > 0)
        fprintf(f,
                "vigil-sim %s: %u device%s, scenario %s, seed %" PRIu64 ", %g Hz, %u rows/batch\n",
                r->mode, n, n == 1 ? "" : "s", r->scenario, r->seed, r->rate_hz, r->batch);
    else
        fprintf(f, "vigil-sim %s: %u device%s, file %s, %u rows/batch\n", r->mode, n,
                n == 1 ? "" : "s", r->scenario, r->batch);
    fprintf(f, "  simulated %s .. %s (%.1f s) in %.2f s wall%s%s\n",
            sim_time_format(r->sim_start_us, a), sim_time_format(r->sim_end_us, b),
            summary__rel(r, r->sim_end_us), r->wall_s, r->interrupted ? ", INTERRUPTED" : "",
            r->dry_run ? ", DRY RUN (no broker)" : "");
    if (r->lag_max_s > 0.5)
        fprintf(f, "  fell behind the schedule by up to %.1f s (broker slow or away)\n",
                r->lag_max_s);
}

/* Adds c into *t. */
static void summary__add(sim_counts *t, const sim_counts *c)
{
    t->batches_pub += c->batches_pub;
    t->batches_ack += c->batches_ack;
    t->samples_pub += c->samples_pub;
    t->samples_ack += c->samples_ack;
    t->resends += c->resends;
    t->connects += c->connects;
    t->renewals += c->renewals;
}

/* Prints the rate line for totals t. */
static void summary__rates(FILE *f, const sim_report *r, const sim_counts *t)
{
    double pw = r->publish_s > 1e-6 ? r->publish_s : 1e-6;
    double aw = r->wall_s > 1e-6 ? r->wall_s : 1e-6;
    fprintf(f,
            "rate: published %.1f batches/s, %.1f samples/s over %.2f s; acknowledged %.1f "
            "batches/s, %.1f samples/s over %.2f s\n",
            (double)t->batches_pub / pw, (double)t->samples_pub / pw, r->publish_s,
            (double)t->batches_ack / aw, (double)t->samples_ack / aw, r->wall_s);
}

/* See summary.h. */
int sim_report_counts(FILE *f, const sim_report *r, const char *const *names, const sim_counts *c,
                      uint32_t n)
{
    sim_counts t = {0};
    summary__header(f, r, n);
    fprintf(f, "%-24s %21s %21s %8s %8s\n", "device", "batches pub/ack", "samples pub/ack",
            "resends", "connects");
    for (uint32_t i = 0; i < n; i++) {
        char bb[48], ss[48];
        snprintf(bb, sizeof bb, "%" PRIu64 "/%" PRIu64, c[i].batches_pub, c[i].batches_ack);
        snprintf(ss, sizeof ss, "%" PRIu64 "/%" PRIu64, c[i].samples_pub, c[i].samples_ack);
        fprintf(f, "%-24s %21s %21s %8" PRIu64 " %8" PRIu64 "\n", names[i], bb, ss, c[i].resends,
                c[i].connects);
        summary__add(&t, &c[i]);
    }
    uint64_t reconnects = t.connects > n ? t.connects - n : 0;
    fprintf(f,
            "total: devices=%u batches_published=%" PRIu64 " batches_acked=%" PRIu64
            " samples_published=%" PRIu64 " samples_acked=%" PRIu64 " resends=%" PRIu64
            " reconnects=%" PRIu64 " renewals=%" PRIu64 "\n",
            n, t.batches_pub, t.batches_ack, t.samples_pub, t.samples_ack, t.resends, reconnects,
            t.renewals);
    summary__rates(f, r, &t);
    return r->dry_run || t.batches_ack == t.batches_pub;
}

/* First stop of d within [from, to], or NULL. */
static const sim_stop *summary__stop_in(const sim_device *d, int64_t from, int64_t to)
{
    for (uint32_t i = 0; i < d->act.nstop; i++) {
        if (d->act.stop[i].t_us >= from && d->act.stop[i].t_us <= to)
            return &d->act.stop[i];
    }
    return NULL;
}

/* Describes what stopped (or did not stop) the machine for a fault that
 * began at `from` and ended at `to`. */
static void summary__outcome(FILE *f, const sim_device *d, int kind, int64_t from, int64_t to)
{
    int64_t limit = to == SIM_T_NONE ? INT64_MAX : to + SUMMARY_TRIP_GRACE_US;
    const sim_stop *s = summary__stop_in(d, from, limit);
    if (s)
        fprintf(f, "  %s %.1f s after onset (trip %" PRIu64 ", temp %.1f C)",
                kind == SIM_FAULT_OVERHEAT ? "stopped" : "TRIPPED", (double)(s->t_us - from) / 1e6,
                s->trip_id, s->temp_c);
    else
        fprintf(f, "  no trip");
    if (kind == SIM_FAULT_OVERHEAT && d->act.damage_us != SIM_T_NONE)
        fprintf(f, ", DAMAGE (%.0f C) %.1f s after onset", SIM_TEMP_DAMAGE_C,
                (double)(d->act.damage_us - from) / 1e6);
    else if (kind == SIM_FAULT_OVERHEAT)
        fprintf(f, ", damage limit %.0f C not reached", SIM_TEMP_DAMAGE_C);
    fputc('\n', f);
}

/* Prints fault i of d (and the spikes that follow it, as one line);
 * returns the index of the next fault to print. */
static uint32_t summary__fault(FILE *f, const sim_report *r, const sim_device *d, uint32_t i)
{
    const sim_fault *x = &d->plan.fault[i];
    const char *ch = x->channel == SIM_CH_DEVICE ? "*" : sim_channel_names[x->channel];
    uint32_t j = i + 1;
    while (x->kind == SIM_FAULT_SPIKE && j < d->plan.nfault &&
           d->plan.fault[j].kind == SIM_FAULT_SPIKE && d->plan.fault[j].begun_us != SIM_T_NONE)
        j++;
    const sim_fault *last = &d->plan.fault[j - 1];
    fprintf(f, "  %-16s %-9s %-9s", d->name, sim_fault_name(x->kind), ch);
    if (x->kind == SIM_FAULT_SPIKE)
        fprintf(f, "%u x 1 sample, +%.1f .. +%.1f s", j - i, summary__rel(r, x->begun_us),
                summary__rel(r, last->begun_us));
    else
        fprintf(f, "+%.1f .. +%.1f s", summary__rel(r, x->begun_us), summary__rel(r, x->ended_us));
    summary__outcome(f, d, x->kind, x->begun_us, last->ended_us);
    return j;
}

/* Prints the trips seen by d. */
static void summary__trips(FILE *f, const sim_report *r, const sim_device *d)
{
    const sim_actuator *a = &d->act;
    for (uint32_t i = 0; i < a->nstop; i++) {
        const sim_stop *s = &a->stop[i];
        fprintf(f, "  %-16s trip %" PRIu64 " at +%.1f s: channel %s, \"%s\", temp %.1f C", d->name,
                s->trip_id, summary__rel(r, s->t_us), s->channel, s->reason, s->temp_c);
        if (s->restart_us != SIM_T_NONE)
            fprintf(f, ", restarted at +%.1f s", summary__rel(r, s->restart_us));
        fputc('\n', f);
    }
    if (a->shutdowns || a->cleared || a->bad || a->resets || a->resets_refused)
        fprintf(f,
                "  %-16s commands: %" PRIu64 " shutdown (%" PRIu64 " ignored), %" PRIu64
                " cleared, %" PRIu64 " bad, %" PRIu64 " reset (%" PRIu64 " refused)\n",
                d->name, a->shutdowns, a->ignored, a->cleared, a->bad, a->resets,
                a->resets_refused);
}

/* See summary.h. */
void sim_report_faults(FILE *f, const sim_report *r, const sim_device *d, uint32_t n)
{
    uint64_t nfault = 0, ntrip = 0, ndamage = 0;
    fprintf(f, "faults (simulated seconds from the start; stop = shutdown received):\n");
    for (uint32_t k = 0; k < n; k++) {
        for (uint32_t i = 0; i < d[k].plan.nfault;) {
            if (d[k].plan.fault[i].begun_us == SIM_T_NONE) {
                i++;
                continue;
            }
            nfault++;
            i = summary__fault(f, r, &d[k], i);
        }
    }
    if (nfault == 0)
        fprintf(f, "  none injected\n");
    fprintf(f, "trips:\n");
    for (uint32_t k = 0; k < n; k++) {
        ntrip += d[k].act.stops_total;
        ndamage += d[k].act.damage_us != SIM_T_NONE;
        summary__trips(f, r, &d[k]);
    }
    if (ntrip == 0)
        fprintf(f, "  none\n");
    fprintf(f, "faults: injected=%" PRIu64 " trips=%" PRIu64 " damaged=%" PRIu64 "\n", nfault,
            ntrip, ndamage);
}

/* See summary.h. */
void sim_report_result(FILE *f, const sim_report *r, const sim_counts *c, uint32_t n)
{
    uint64_t pub = 0, ack = 0;
    for (uint32_t i = 0; i < n; i++) {
        pub += c[i].batches_pub;
        ack += c[i].batches_ack;
    }
    if (r->dry_run)
        fprintf(f, "result: dry run, %" PRIu64 " batches made, none sent\n", pub);
    else if (ack == pub)
        fprintf(f, "result: all %" PRIu64 " batches acknowledged\n", pub);
    else
        fprintf(f, "result: %" PRIu64 " of %" PRIu64 " batches NOT acknowledged\n", pub - ack, pub);
}
