/*
 * series.c - reading a channel's history and its exclusions (see series.h).
 */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_error.h"

/* Grows *s to hold `n` samples. */
static int series__reserve(vb_series *s, size_t n)
{
    if (n <= s->cap)
        return VG_OK;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < n)
        cap *= 2;
    int64_t *t = realloc(s->t, cap * sizeof *t);
    if (t)
        s->t = t;
    double *v = realloc(s->v, cap * sizeof *v);
    if (v)
        s->v = v;
    if (!t || !v)
        return VG_ENOMEM;
    s->cap = cap;
    return VG_OK;
}

/* Appends the in-range samples of one block row. */
static int series__block(vb_series *s, const uint8_t *tb, const uint8_t *vb, size_t n,
                         int64_t from_us, int64_t to_us)
{
    int rc = series__reserve(s, s->n + n);
    if (rc != VG_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t t;
        memcpy(&t, tb + 8 * i, 8);
        if (t < from_us || t >= to_us)
            continue;
        s->t[s->n] = t;
        memcpy(&s->v[s->n], vb + 8 * i, 8);
        s->n++;
    }
    return VG_OK;
}

/* See series.h. */
int vb_series_load(vb_wh *w, int64_t dev, int64_t chan, int64_t from_us, int64_t to_us,
                   size_t limit, vb_series *s)
{
    static const char *const sql =
        "SELECT t, v, n FROM samples WHERE device = ?1 AND channel = ?2 AND t_first < ?4"
        " AND t_last >= ?3 ORDER BY t_first, seq";
    sqlite3_stmt *st = NULL;
    s->n = 0;
    if (sqlite3_prepare_v2(vb_wh_db(w), sql, -1, &st, NULL) != SQLITE_OK)
        return VG_EIO;
    sqlite3_bind_int64(st, 1, dev);
    sqlite3_bind_int64(st, 2, chan);
    sqlite3_bind_int64(st, 3, from_us);
    sqlite3_bind_int64(st, 4, to_us);
    int rc = VG_OK, step;
    while (rc == VG_OK && (!limit || s->n < limit) && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_int64(st, 2);
        const uint8_t *tb = sqlite3_column_blob(st, 0);
        size_t tl = (size_t)sqlite3_column_bytes(st, 0);
        const uint8_t *vb = sqlite3_column_blob(st, 1);
        size_t vl = (size_t)sqlite3_column_bytes(st, 1);
        if (tl != 8 * n || vl != 8 * n)
            rc = VG_EDECODE;
        else
            rc = series__block(s, tb, vb, n, from_us, to_us);
    }
    if (rc == VG_OK && (!limit || s->n < limit) && step != SQLITE_DONE)
        rc = VG_EIO;
    if (limit && s->n > limit)
        s->n = limit;
    sqlite3_finalize(st);
    return rc;
}

void vb_series_free(vb_series *s)
{
    free(s->t);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Appends an interval. */
static int intervals__add(vb_intervals *iv, const char *chan, int64_t from_us, int64_t to_us)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? iv->cap * 2 : 16;
        vb_interval *e = realloc(iv->e, cap * sizeof *e);
        if (!e)
            return VG_ENOMEM;
        iv->e = e;
        iv->cap = cap;
    }
    vb_interval *x = &iv->e[iv->n++];
    snprintf(x->channel, sizeof x->channel, "%s", chan ? chan : "");
    x->from_us = from_us;
    x->to_us = to_us;
    return VG_OK;
}

/* Runs `sql` (?1 = device) and adds each (channel, from, to) row widened
 * by margin. */
static int intervals__query(vb_wh *w, const char *sql, const char *device, int64_t margin,
                            vb_intervals *iv)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(vb_wh_db(w), sql, -1, &st, NULL) != SQLITE_OK)
        return VG_EIO;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    int rc = VG_OK, step;
    while (rc == VG_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = intervals__add(iv, (const char *)sqlite3_column_text(st, 0),
                            sqlite3_column_int64(st, 1) - margin,
                            sqlite3_column_int64(st, 2) + margin);
    if (rc == VG_OK && step != SQLITE_DONE)
        rc = VG_EIO;
    sqlite3_finalize(st);
    return rc;
}

/* See series.h.  A trip stops the machine, so it excludes every channel. */
int vb_intervals_load(vb_wh *w, const char *device, int64_t margin_us, vb_intervals *lab,
                      vb_intervals *trips)
{
    lab->n = trips->n = 0;
    int rc = intervals__query(w,
                              "SELECT channel, from_us, to_us FROM labels WHERE device = ?1"
                              " ORDER BY from_us, to_us, channel",
                              device, 0, lab);
    if (rc == VG_OK)
        rc = intervals__query(w,
                              "SELECT NULL, t.t_us, t.t_us FROM trips t JOIN devices d"
                              " ON d.id = t.device WHERE d.name = ?1 ORDER BY t.t_us",
                              device, margin_us, trips);
    return rc;
}

void vb_intervals_free(vb_intervals *iv)
{
    free(iv->e);
    memset(iv, 0, sizeof *iv);
}

int vb_intervals_hit(const vb_intervals *iv, const char *chan, int64_t t)
{
    for (size_t i = 0; i < iv->n; i++) {
        const vb_interval *x = &iv->e[i];
        if (t >= x->from_us && t < x->to_us && (!x->channel[0] || strcmp(x->channel, chan) == 0))
            return 1;
    }
    return 0;
}

/* See series.h. */
int vb_series_exclude(const vb_series *s, const char *chan, const vb_intervals *a,
                      const vb_intervals *b, vb_series *out)
{
    out->n = 0;
    int rc = series__reserve(out, s->n);
    if (rc != VG_OK)
        return rc;
    int any = a->n || b->n;
    for (size_t i = 0; i < s->n; i++) {
        if (any && (vb_intervals_hit(a, chan, s->t[i]) || vb_intervals_hit(b, chan, s->t[i])))
            continue;
        out->t[out->n] = s->t[i];
        out->v[out->n++] = s->v[i];
    }
    return VG_OK;
}
