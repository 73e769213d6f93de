/*
 * report.c - the HTML report with inline SVG charts and the JSON summary
 * (see report.h).
 */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "series.h"
#include "vg_error.h"
#include "vg_msg.h"

#define CHART_H   150 /* chart height in pixels */
#define CHART_PAD 4   /* vertical padding */
#define US_PER_H  3600000000.0

/* What the report knows of one device. */
typedef struct rp_dev {
    char name[VG_DEVICE_MAX + 1]; /* device id */
    int64_t id;                   /* warehouse id */
    vg_model cur, old;            /* newest and previous published (version 0: none) */
    char why[200];                /* registry reason of the newest */
    int64_t fig[9];               /* its backtest figures */
} rp_dev;

/* The report being written. */
typedef struct rp_ctx {
    vb_wh *w;                /* warehouse (borrowed) */
    const vb_report_opts *o; /* options */
    FILE *html, *json;       /* outputs (owned) */
    vb_series s;             /* scratch series (owned) */
    int json_first;          /* no device written to JSON yet */
} rp_ctx;

static const char *const rp_style =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
    "padding:2px 6px;font-size:13px;text-align:right}th{background:#f3f3f3}"
    "td.l,th.l{text-align:left}.held{background:#fff3e0}svg{background:#fafafa;"
    "border:1px solid #ddd}h2{border-bottom:1px solid #ccc}.k{font-size:12px;color:#555}";

/* Reads the newest two published models of the device. */
static int rp__models(rp_ctx *c, rp_dev *d)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(vb_wh_db(c->w),
                           "SELECT model, reason, cur_alerts, cand_alerts, cur_trips, cand_trips,"
                           " labels, cur_detected, cand_detected, cur_false, cand_false"
                           " FROM models WHERE device = ?1 ORDER BY version DESC LIMIT 2",
                           -1, &s, NULL) != SQLITE_OK)
        return VG_EIO;
    sqlite3_bind_text(s, 1, d->name, -1, SQLITE_STATIC);
    d->cur.version = d->old.version = 0;
    for (int k = 0; k < 2 && sqlite3_step(s) == SQLITE_ROW; k++) {
        vg_model *m = k ? &d->old : &d->cur;
        if (vg_model_decode(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), m))
            m->version = 0;
        if (k)
            continue;
        snprintf(d->why, sizeof d->why, "%s", (const char *)sqlite3_column_text(s, 1));
        for (int i = 0; i < 9; i++)
            d->fig[i] = sqlite3_column_int64(s, 2 + i);
    }
    sqlite3_finalize(s);
    return VG_OK;
}

/* Writes `x` to f (or "-" when unset). */
static void rp__num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.4g", x);
    else
        fputs("-", f);
}

/* Band [loc - z*scale, loc + z*scale] of a channel model; 0 when unset. */
static int rp__band(const vg_chan_model *m, double *lo, double *hi)
{
    if (!m || !isfinite(m->loc) || !isfinite(m->scale) || !isfinite(m->z_thr))
        return 0;
    *lo = m->loc - m->z_thr * m->scale;
    *hi = m->loc + m->z_thr * m->scale;
    return 1;
}

/* Y pixel of value v in [lo, hi]. */
static double rp__y(double v, double lo, double hi)
{
    double span = hi > lo ? hi - lo : 1;
    return CHART_PAD + (CHART_H - 2 * CHART_PAD) * (1 - (v - lo) / span);
}

/* Draws the series as a min/max polyline, one pair per pixel column. */
static void rp__trace(rp_ctx *c, int64_t t0, int64_t t1, double lo, double hi)
{
    const vb_series *s = &c->s;
    uint32_t w = c->o->width;
    fputs("<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1\" points=\"", c->html);
    size_t i = 0;
    for (uint32_t x = 0; x < w && i < s->n; x++) {
        int64_t end = t0 + (int64_t)((double)(t1 - t0) * (x + 1) / w);
        double mn = INFINITY, mx = -INFINITY;
        for (; i < s->n && s->t[i] < end; i++)
            if (isfinite(s->v[i])) {
                mn = fmin(mn, s->v[i]);
                mx = fmax(mx, s->v[i]);
            }
        if (mn <= mx)
            fprintf(c->html, "%u,%.1f %u,%.1f ", x, rp__y(mn, lo, hi), x, rp__y(mx, lo, hi));
    }
    fputs("\"/>\n", c->html);
}

/* Draws a band's two threshold lines. */
static void rp__band_lines(FILE *f, const vg_chan_model *m, double lo, double hi, uint32_t w,
                           const char *colour, const char *dash, const char *title)
{
    double a, b;
    if (!rp__band(m, &a, &b))
        return;
    const double v[2] = {a, b};
    for (int k = 0; k < 2; k++)
        fprintf(f,
                "<line x1=\"0\" x2=\"%u\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-dasharray=\"%s\"><title>%s %.4g</title></line>\n",
                w, rp__y(v[k], lo, hi), rp__y(v[k], lo, hi), colour, dash, title, v[k]);
}

/* Draws the alerts and trips of the device/channel in [t0, t1). */
static void rp__events(rp_ctx *c, const rp_dev *d, const char *chan, int64_t t0, int64_t t1,
                       double lo, double hi)
{
    static const char *const sql[2] = {
        "SELECT t_us, value FROM alerts WHERE device = ?1 AND channel = ?2 AND raised = 1"
        " AND t_us >= ?3 AND t_us < ?4 ORDER BY t_us LIMIT 500",
        "SELECT t_us, 0 FROM trips WHERE device = ?1 AND channel = ?2 AND t_us >= ?3"
        " AND t_us < ?4 ORDER BY t_us LIMIT 100"};
    double w = c->o->width;
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(vb_wh_db(c->w), sql[k], -1, &s, NULL) != SQLITE_OK)
            continue;
        sqlite3_bind_int64(s, 1, d->id);
        sqlite3_bind_text(s, 2, chan, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, t0);
        sqlite3_bind_int64(s, 4, t1);
        while (sqlite3_step(s) == SQLITE_ROW) {
            double x = w * (double)(sqlite3_column_int64(s, 0) - t0) / (double)(t1 - t0);
            if (k == 0)
                fprintf(c->html,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ef6c00\">"
                        "<title>alert</title></circle>\n",
                        x, rp__y(sqlite3_column_double(s, 1), lo, hi));
            else
                fprintf(c->html,
                        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\" stroke=\"#c62828\" "
                        "stroke-width=\"2\"><title>trip</title></line>\n",
                        x, x, CHART_H);
        }
        sqlite3_finalize(s);
    }
}

/* Value range of the series and both bands. */
static void rp__range(const vb_series *s, const vg_chan_model *a, const vg_chan_model *b,
                      double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->v[i])) {
            *lo = fmin(*lo, s->v[i]);
            *hi = fmax(*hi, s->v[i]);
        }
    const vg_chan_model *m[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        double x, y;
        if (rp__band(m[k], &x, &y)) {
            *lo = fmin(*lo, x);
            *hi = fmax(*hi, y);
        }
    }
    if (!(*lo <= *hi))
        *lo = 0, *hi = 1;
}

/* One channel's chart. */
static int rp__chart(rp_ctx *c, const rp_dev *d, const char *chan, int64_t chan_id)
{
    char q[160];
    snprintf(q, sizeof q,
             "SELECT coalesce(max(t_last), 0) FROM samples WHERE device = %" PRId64
             " AND channel = %" PRId64,
             d->id, chan_id);
    int64_t t1 = vb_wh_scalar(c->w, q) + 1;
    int64_t t0 = t1 - (int64_t)(c->o->recent_hours * US_PER_H);
    snprintf(q, sizeof q,
             "SELECT coalesce(min(t_first), 0) FROM samples WHERE device = %" PRId64
             " AND channel = %" PRId64,
             d->id, chan_id);
    int64_t first = vb_wh_scalar(c->w, q);
    t0 = first > t0 && first < t1 ? first : t0; /* no empty space before the data */
    int rc = vb_series_load(c->w, d->id, chan_id, t0, t1, 0, &c->s);
    if (rc != VG_OK)
        return rc;
    const vg_chan_model *nw = d->cur.version ? vg_model_find(&d->cur, chan, strlen(chan)) : NULL;
    const vg_chan_model *od = d->old.version ? vg_model_find(&d->old, chan, strlen(chan)) : NULL;
    double lo, hi;
    rp__range(&c->s, od, nw, &lo, &hi);
    fprintf(c->html,
            "<h3>%s / %s</h3>\n<p class=\"k\">last %.3g h, %zu samples, y %.4g .. %.4g;"
            " dashed grey: old band, green: new band, dots: alerts, red: trips</p>\n",
            d->name, chan, c->o->recent_hours, c->s.n, lo, hi);
    fprintf(c->html,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%d\" "
            "viewBox=\"0 0 %u %d\" role=\"img\" aria-label=\"%s %s\">\n",
            c->o->width, CHART_H, c->o->width, CHART_H, d->name, chan);
    rp__trace(c, t0, t1, lo, hi);
    rp__band_lines(c->html, od, lo, hi, c->o->width, "#888", "6 4", "old threshold");
    rp__band_lines(c->html, nw, lo, hi, c->o->width, "#2e7d32", "none", "new threshold");
    rp__events(c, d, chan, t0, t1, lo, hi);
    fputs("</svg>\n", c->html);
    return VG_OK;
}

/* Parameter rows old -> new of one channel. */
static void rp__param_rows(FILE *f, const char *chan, const vg_chan_model *od,
                           const vg_chan_model *nw)
{
    static const struct {
        const char *name; /* column label */
        size_t off;       /* field offset */
    } p[] = {
        {"loc", offsetof(vg_chan_model, loc)},
        {"scale", offsetof(vg_chan_model, scale)},
        {"z_thr", offsetof(vg_chan_model, z_thr)},
        {"ewma_l", offsetof(vg_chan_model, ewma_l)},
        {"cusum_h", offsetof(vg_chan_model, cusum_h)},
        {"rate_max", offsetof(vg_chan_model, rate_max)},
    };
    fprintf(f, "<tr><td class=\"l\">%s</td>", chan);
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        double a = NAN, b = NAN;
        if (od)
            memcpy(&a, (const char *)od + p[i].off, sizeof a);
        if (nw)
            memcpy(&b, (const char *)nw + p[i].off, sizeof b);
        fputs("<td>", f);
        rp__num(f, a);
        fputs(" &rarr; ", f);
        rp__num(f, b);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
}

/* The "what changed and why" table of a device. */
static void rp__changes(rp_ctx *c, const rp_dev *d)
{
    FILE *f = c->html;
    if (!d->cur.version) {
        fputs("<p>No published model yet.</p>\n", f);
        return;
    }
    fprintf(f,
            "<p>Model version %" PRIu64 " (was %" PRIu64 "), trained on [%" PRId64 ", %" PRId64
            ") us. Why: %s. Backtest alerts %" PRId64 " &rarr; %" PRId64 ", trips %" PRId64
            " &rarr; %" PRId64 ", labelled incidents %" PRId64 " detected %" PRId64
            " &rarr; %" PRId64 ", false alarms %" PRId64 " &rarr; %" PRId64 ".</p>\n",
            d->cur.version, d->old.version, d->cur.train_from_us, d->cur.train_to_us, d->why,
            d->fig[0], d->fig[1], d->fig[2], d->fig[3], d->fig[4], d->fig[5], d->fig[6], d->fig[7],
            d->fig[8]);
    fputs("<table><tr><th class=\"l\">channel</th><th>loc</th><th>scale</th><th>z_thr</th>"
          "<th>ewma_l</th><th>cusum_h</th><th>rate_max</th></tr>\n",
          f);
    for (uint32_t i = 0; i < d->cur.nchan; i++) {
        const vg_chan_model *nw = &d->cur.chan[i];
        const vg_chan_model *od =
            d->old.version ? vg_model_find(&d->old, nw->name, strlen(nw->name)) : NULL;
        rp__param_rows(f, nw->name, od, nw);
    }
    fputs("</table>\n", f);
}

/* The held-back candidates table (all devices). */
static int rp__held(rp_ctx *c)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(vb_wh_db(c->w),
                           "SELECT c.device, c.version, c.reason FROM candidates c WHERE"
                           " c.version > coalesce((SELECT max(version) FROM models m WHERE"
                           " m.device = c.device), 0) ORDER BY c.device, c.version",
                           -1, &s, NULL) != SQLITE_OK)
        return VG_EIO;
    fputs("<h2>Held-back candidates</h2>\n<table><tr><th class=\"l\">device</th><th>version</th>"
          "<th class=\"l\">reason</th></tr>\n",
          c->html);
    int n = 0;
    fputs("  \"held\": [", c->json);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *dev = (const char *)sqlite3_column_text(s, 0);
        const char *why = (const char *)sqlite3_column_text(s, 2);
        fprintf(c->html,
                "<tr class=\"held\"><td class=\"l\">%s</td><td>%" PRId64
                "</td><td class=\"l\">%s</td></tr>\n",
                dev, (int64_t)sqlite3_column_int64(s, 1), why);
        fprintf(c->json, "%s\n    {\"device\": ", n++ ? "," : "");
        vb_json_str(c->json, dev);
        fprintf(c->json,
                ", \"version\": %" PRId64 ", \"reason\": ", (int64_t)sqlite3_column_int64(s, 1));
        vb_json_str(c->json, why);
        fputc('}', c->json);
    }
    fprintf(c->json, "\n  ],\n  \"held_count\": %d", n);
    if (!n)
        fputs("<tr><td class=\"l\" colspan=\"3\">none</td></tr>\n", c->html);
    fputs("</table>\n", c->html);
    sqlite3_finalize(s);
    return VG_OK;
}

/* Writes the device's JSON summary entry. */
static void rp__json_device(rp_ctx *c, const rp_dev *d, int nchan)
{
    fprintf(c->json, "%s\n    {\"device\": ", c->json_first ? "" : ",");
    c->json_first = 0;
    vb_json_str(c->json, d->name);
    fprintf(c->json,
            ", \"version\": %" PRIu64 ", \"previous_version\": %" PRIu64
            ", \"channels\": %d, \"train_from_us\": %" PRId64 ", \"train_to_us\": %" PRId64
            ", \"backtest\": {\"current_alerts\": %" PRId64 ", \"candidate_alerts\": %" PRId64
            ", \"current_trips\": %" PRId64 ", \"candidate_trips\": %" PRId64
            ", \"labels\": %" PRId64 "}}",
            d->cur.version, d->old.version, nchan, d->cur.train_from_us, d->cur.train_to_us,
            d->fig[0], d->fig[1], d->fig[2], d->fig[3], d->fig[4]);
}

/* One device's section: changes, then a chart per channel. */
static int rp__device(rp_ctx *c, rp_dev *d)
{
    int rc = rp__models(c, d);
    if (rc != VG_OK)
        return rc;
    fprintf(c->html, "<h2 id=\"dev-%s\">%s</h2>\n", d->name, d->name);
    rp__changes(c, d);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(vb_wh_db(c->w),
                           "SELECT c.name, c.id FROM channels c WHERE EXISTS (SELECT 1 FROM"
                           " samples s WHERE s.device = ?1 AND s.channel = c.id) ORDER BY c.name",
                           -1, &s, NULL) != SQLITE_OK)
        return VG_EIO;
    sqlite3_bind_int64(s, 1, d->id);
    int n = 0;
    while (rc == VG_OK && sqlite3_step(s) == SQLITE_ROW) {
        rc = rp__chart(c, d, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1));
        n++;
    }
    sqlite3_finalize(s);
    rp__json_device(c, d, n);
    return rc;
}

/* Every device in name order. */
static int rp__devices(rp_ctx *c)
{
    static _Thread_local rp_dev d;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(vb_wh_db(c->w), "SELECT name, id FROM devices ORDER BY name", -1, &s,
                           NULL) != SQLITE_OK)
        return VG_EIO;
    int rc = VG_OK, n = 0;
    fputs("  \"devices\": [", c->json);
    c->json_first = 1;
    while (rc == VG_OK && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(d.name, sizeof d.name, "%s", (const char *)sqlite3_column_text(s, 0));
        d.id = sqlite3_column_int64(s, 1);
        rc = rp__device(c, &d);
        n++;
    }
    sqlite3_finalize(s);
    fprintf(c->json, "\n  ],\n  \"device_count\": %d", n);
    return rc;
}

/* Header of the page and of the JSON. */
static void rp__head(rp_ctx *c)
{
    fprintf(c->html,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>vigil-batch report</title><style>%s</style></head><body>\n"
            "<h1>vigil-batch report</h1>\n",
            rp_style);
    fprintf(c->json,
            "{\n  \"schema\": 1,\n  \"samples\": %" PRId64 ",\n  \"alerts\": %" PRId64
            ",\n  \"trips\": %" PRId64 ",\n",
            vb_wh_scalar(c->w, "SELECT coalesce(sum(n), 0) FROM samples"),
            vb_wh_scalar(c->w, "SELECT count(*) FROM alerts WHERE raised = 1"),
            vb_wh_scalar(c->w, "SELECT count(*) FROM trips"));
}

/* Closes f (NULL ok); 1 when writing or closing it failed. */
static int rp__close(FILE *f)
{
    if (!f)
        return 0;
    int bad = ferror(f) != 0;
    return (fclose(f) != 0) | bad;
}

/* See report.h. */
int vb_report_write(vb_wh *w, const vb_report_opts *o, char *err, size_t errlen)
{
    char jpath[4200];
    snprintf(jpath, sizeof jpath, "%s", o->json_path ? o->json_path : o->html_path);
    if (!o->json_path) {
        size_t n = strlen(jpath);
        if (n > 5 && strcmp(jpath + n - 5, ".html") == 0)
            jpath[n - 5] = '\0';
        strncat(jpath, ".json", sizeof jpath - strlen(jpath) - 1);
    }
    rp_ctx c = {.w = w, .o = o};
    c.html = fopen(o->html_path, "w");
    c.json = fopen(jpath, "w");
    int rc = c.html && c.json ? VG_OK : VG_EIO;
    if (rc == VG_OK) {
        rp__head(&c);
        rc = rp__held(&c);
    }
    if (rc == VG_OK) {
        fputs(",\n", c.json);
        rc = rp__devices(&c);
    }
    if (c.html)
        fputs("</body></html>\n", c.html);
    if (c.json)
        fputs("\n}\n", c.json);
    int bad = rp__close(c.html) + rp__close(c.json);
    vb_series_free(&c.s);
    if (rc == VG_OK && (bad || !c.html || !c.json))
        rc = VG_EIO;
    if (rc != VG_OK)
        snprintf(err, errlen, "cannot write %s / %s: %s", o->html_path, jpath,
                 rc == VG_EIO ? sqlite3_errmsg(vb_wh_db(w)) : vg_strerror(rc));
    return rc;
}
