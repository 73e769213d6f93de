/*
 * replay.c - vigil-replay's pipeline (see replay.h).
 *
 * The same vg_engine the daemon runs scores every cell; this file only
 * reads lines, maps columns to channels, and prints one output row per
 * input row.  Cost per row: O(columns) parsing plus the engine's O(1) per
 * sample.  Memory: the engine (fixed at start), one line buffer, and with
 * --train-rows N the first N lines and their parsed values.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "replay.h"
#include "vg_csv.h"
#include "vg_engine.h"
#include "vg_error.h"
#include "vg_fit.h"
#include "vg_msg.h"
#include "vg_mvar.h"

#define REPLAY_MAX_LINE (1u << 20) /* longest accepted line, bytes */

struct replay {
    const vg_replay_opts *o;
    vg_replay_stats *st;
    FILE *in;
    char *line; /* current line (getline buffer) */
    size_t line_cap;
    uint64_t lineno; /* 1-based line number of `line` */
    vg_csv_row row;  /* split of the current line */
    uint32_t ncol;   /* channel columns (fields - 1) */
    vg_channel **ch; /* channel of each column */
    vg_engine *eng;
    int64_t last_t; /* previous row's time */
    /* --train-rows: buffered lines and their parsed values */
    char *tbuf; /* the lines, each NUL-terminated */
    size_t tbuf_len, tbuf_cap;
    uint64_t nbuf; /* rows buffered */
    int64_t *bt;   /* their times */
    double *bv;    /* their values, row-major: bv[r * ncol + c] */
    /* multivariate detector (mv_on when a model has a multivariate part) */
    int mv_on;
    vg_mvar mv;
    int mv_idx[VG_MVAR_MAX]; /* column of each model channel, -1 = absent */
    uint8_t *covered;        /* per column: watched by the multivariate part */
};

/* Prints "FILE:LINE[:COL]: message" to err and returns rc. */
static int replay__fail(struct replay *r, int rc, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int replay__fail(struct replay *r, int rc, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    fprintf(r->o->err, "vigil-replay: %s:%" PRIu64, r->o->path, r->lineno);
    if (col)
        fprintf(r->o->err, ":%u", col);
    fputs(": ", r->o->err);
    va_start(ap, fmt);
    vfprintf(r->o->err, fmt, ap);
    va_end(ap);
    fputc('\n', r->o->err);
    return rc;
}

/* Reads the next line into r->line; returns its length, or -1 at EOF. */
static ssize_t replay__getline(struct replay *r)
{
    ssize_t n = getline(&r->line, &r->line_cap, r->in);
    if (n < 0)
        return -1;
    r->lineno++;
    if (n > 0 && r->line[n - 1] == '\n')
        r->line[--n] = '\0';
    return n;
}

/* Header cell -> channel name: [A-Za-z0-9_.-], others become '_',
 * truncated to VG_CHANNEL_MAX. */
static void replay__channel_name(const char *cell, uint32_t len, char *out)
{
    uint32_t n = len > VG_CHANNEL_MAX ? VG_CHANNEL_MAX : len;
    for (uint32_t i = 0; i < n; i++) {
        char c = cell[i];
        out[i] = vg_valid_channel(&c, 1) ? c : '_';
    }
    out[n] = '\0';
}

static int replay__split(struct replay *r, ssize_t n)
{
    if ((size_t)n > REPLAY_MAX_LINE)
        return replay__fail(r, VG_ETOOBIG, 0, "line longer than %u bytes", REPLAY_MAX_LINE);
    int rc = vg_csv_split(r->line, (size_t)n, &r->row);
    if (rc == VG_ESYNTAX)
        return replay__fail(r, rc, r->row.bad_col, "unbalanced or misplaced quote");
    if (rc != VG_OK)
        return replay__fail(r, rc, 0, "more than %u columns", VG_CSV_MAX_FIELDS);
    return VG_OK;
}

/* Creates the engine for the header's columns. */
static int replay__header(struct replay *r)
{
    ssize_t n = replay__getline(r);
    if (n < 0)
        return replay__fail(r, VG_ETRUNC, 0, "empty file: no header row");
    int rc = replay__split(r, n);
    if (rc != VG_OK)
        return rc;
    if (r->row.n < 2)
        return replay__fail(r, VG_EMISSING, 0, "header needs a timestamp and a channel column");
    r->ncol = r->row.n - 1;
    vg_engine_config ec = r->o->conf->engine;
    if (ec.max_channels < r->ncol + ec.nchan)
        ec.max_channels = r->ncol + ec.nchan;
    r->eng = vg_engine_create(&ec, &rc);
    r->ch = calloc(r->ncol, sizeof(*r->ch));
    r->covered = calloc(r->ncol, 1);
    if (!r->eng || !r->ch || !r->covered)
        return replay__fail(r, rc ? rc : VG_ENOMEM, 0, "cannot set up: %s", vg_strerror(rc));
    for (uint32_t c = 0; c < r->ncol; c++) {
        char name[VG_CHANNEL_MAX + 1];
        replay__channel_name(r->row.field[c + 1], r->row.len[c + 1], name);
        if (name[0] == '\0')
            return replay__fail(r, VG_EINVAL, c + 2, "empty column name");
        rc = vg_engine_lookup(r->eng, name, strlen(name), &r->ch[c]);
        if (rc != VG_OK)
            return replay__fail(r, rc, c + 2, "channel '%s': %s", name, vg_strerror(rc));
        for (uint32_t k = 0; k < c; k++)
            if (r->ch[k] == r->ch[c])
                return replay__fail(r, VG_EEXIST, c + 2, "duplicate column '%s'", name);
    }
    r->st->channels = r->ncol;
    return VG_OK;
}

/* Parses the current row's time and values into t and v[0..ncol). */
static int replay__parse(struct replay *r, int64_t *t, double *v)
{
    if (r->row.n != r->ncol + 1)
        return replay__fail(r, VG_ESYNTAX, 0, "expected %u fields, found %u", r->ncol + 1,
                            r->row.n);
    if (vg_csv_parse_time(r->row.field[0], r->row.len[0], t) != VG_OK)
        return replay__fail(r, VG_ESYNTAX, 1, "bad timestamp '%s'", r->row.field[0]);
    if (*t < r->last_t)
        return replay__fail(r, VG_EORDER, 1, "timestamp '%s' goes back in time", r->row.field[0]);
    for (uint32_t c = 0; c < r->ncol; c++) {
        int rc = vg_csv_parse_value(r->row.field[c + 1], r->row.len[c + 1], &v[c]);
        if (rc == VG_ESYNTAX)
            return replay__fail(r, rc, c + 2, "'%s' is not a number", r->row.field[c + 1]);
    }
    r->last_t = *t;
    return VG_OK;
}

/* Writes "ts,score,alert,trip\n" with the score to 6 decimals. */
static void replay__emit(struct replay *r, const char *ts, double score, int alert, int trip)
{
    long micro = lround(score * 1e6);
    fprintf(r->o->out, "%s,%ld.%06ld,%d,%d\n", ts, micro / 1000000, micro % 1000000, alert, trip);
}

/* Runs the multivariate detector over row v and joins its verdict into
 * *score / *alert as o->mvar says. */
static void replay__mvar_row(struct replay *r, const double *v, double *score, int *alert)
{
    if (!r->mv_on)
        return;
    double x[VG_MVAR_MAX];
    for (uint32_t j = 0; j < r->mv.m.p; j++)
        x[j] = r->mv_idx[j] >= 0 ? v[r->mv_idx[j]] : NAN;
    vg_mvar_out mo;
    vg_mvar_row(&r->mv, x, &mo);
    r->st->mvar_alert_rows += mo.alert;
    if (r->o->mvar == VG_REPLAY_MVAR_ONLY) {
        *score = mo.score;
        *alert = mo.alert;
    } else if (r->o->mvar != VG_REPLAY_MVAR_OFF) {
        *score = mo.score > *score ? mo.score : *score;
        *alert |= mo.alert;
        r->st->alerts_raised += mo.alert_edge == 1;
    }
}

/* Starts the multivariate detector of model *m, if it has one. */
static int replay__mvar_start(struct replay *r, const vg_model *m)
{
    r->mv_on = 0;
    if (m->mvar.p == 0 || r->o->mvar == VG_REPLAY_MVAR_OFF)
        return VG_OK;
    const char *names[VG_CSV_MAX_FIELDS];
    for (uint32_t c = 0; c < r->ncol && c < VG_CSV_MAX_FIELDS; c++)
        names[c] = r->ch[c]->name;
    const vg_defaults *d = &r->o->conf->engine.defaults;
    int rc = vg_mvar_init(&r->mv, &m->mvar, d->alert_on, d->alert_off);
    if (rc != VG_OK)
        return replay__fail(r, rc, 0, "multivariate model rejected: %s", vg_strerror(rc));
    vg_mvar_map(&m->mvar, names, r->ncol, r->mv_idx);
    memset(r->covered, 0, r->ncol);
    for (uint32_t j = 0; j < m->mvar.p; j++)
        if (r->mv_idx[j] >= 0)
            r->covered[r->mv_idx[j]] = r->o->mvar == VG_REPLAY_MVAR_JOINT;
    r->mv_on = 1;
    r->st->mvar_channels = m->mvar.p;
    r->st->mvar_k = m->mvar.k;
    return VG_OK;
}

/* Fits the multivariate part of *m from the buffered rows (first
 * VG_MVAR_MAX columns); too few rows or channels leave it empty. */
static void replay__fit_mvar(struct replay *r, vg_model *m)
{
    if (r->ncol < 2 || r->o->mvar == VG_REPLAY_MVAR_OFF)
        return;
    uint32_t p = r->ncol < VG_MVAR_MAX ? r->ncol : VG_MVAR_MAX;
    const char *names[VG_MVAR_MAX];
    for (uint32_t c = 0; c < p; c++)
        names[c] = r->ch[c]->name;
    double *x = p == r->ncol ? r->bv : malloc(sizeof(double) * p * (r->nbuf + 1));
    double *scratch = malloc(sizeof(double) * 2 * (r->nbuf + 1));
    if (x && scratch) {
        for (uint64_t i = 0; x != r->bv && i < r->nbuf; i++)
            memcpy(&x[i * p], &r->bv[i * r->ncol], sizeof(double) * p);
        vg_mvar_opts mo;
        vg_mvar_opts_init(&mo);
        if (vg_mvar_fit(names, p, x, r->nbuf, scratch, &mo, &m->mvar) != VG_OK)
            fprintf(r->o->err,
                    "vigil-replay: %s: too few training rows or varying channels for the "
                    "multivariate detector\n",
                    r->o->path);
    }
    if (x != r->bv)
        free(x);
    free(scratch);
}

/* True when verdict *vd comes from the safety path (hard limit, stale
 * watchdog, trip) or says the sensor is stuck (which a correlation only
 * shows when the other channels move): these join the row even for a
 * channel the multivariate detector covers. */
static int replay__safety_verdict(const vg_verdict *vd)
{
    static const uint8_t safety[VG_DET_COUNT] = {
        [VG_DET_LIMIT] = 1, [VG_DET_STALE] = 1, [VG_DET_STUCK] = 1};
    return vd->trip || (vd->det < VG_DET_COUNT && safety[vd->det]);
}

/* Scores one parsed row and prints its output line. */
static void replay__score(struct replay *r, const char *ts, int64_t t, const double *v)
{
    double score = 0;
    int alert = 0, trip = 0;
    for (uint32_t c = 0; c < r->ncol; c++) {
        vg_verdict vd = {0};
        if (isnan(v[c])) {
            r->st->missing++;
            vg_engine_tick(r->eng, r->ch[c], t, &vd);
        } else {
            vg_engine_push(r->eng, r->ch[c], t, v[c], &vd);
            r->st->samples++;
        }
        if (!r->covered[c] || replay__safety_verdict(&vd)) {
            score = vd.score > score ? vd.score : score;
            alert |= vd.alert;
        }
        trip |= vd.trip;
        r->st->alerts_raised += vd.alert_edge == 1;
        if (vd.trip_edge) {
            r->st->trips++;
            if (r->st->first_trip_us == INT64_MIN)
                r->st->first_trip_us = t;
        }
    }
    replay__mvar_row(r, v, &score, &alert);
    r->st->rows++;
    r->st->alert_rows += alert;
    replay__emit(r, ts, score, alert, trip);
}

/* Appends the current row's timestamp cell (after splitting) to tbuf. */
static int replay__keep_time(struct replay *r)
{
    size_t n = r->row.len[0];
    if (r->tbuf_len + n + 1 > r->tbuf_cap) {
        size_t cap = r->tbuf_cap ? r->tbuf_cap * 2 : 1u << 16;
        while (cap < r->tbuf_len + n + 1)
            cap *= 2;
        char *p = realloc(r->tbuf, cap);
        if (!p)
            return VG_ENOMEM;
        r->tbuf = p;
        r->tbuf_cap = cap;
    }
    memcpy(r->tbuf + r->tbuf_len, r->row.field[0], n + 1);
    r->tbuf_len += n + 1;
    return VG_OK;
}

/* Makes room for row `nbuf` in bt / bv (row-major, ncol values a row). */
static int replay__grow(struct replay *r, uint64_t *cap)
{
    if (r->nbuf < *cap)
        return VG_OK;
    uint64_t nc = *cap ? *cap * 2 : 1024;
    if (nc > SIZE_MAX / sizeof(double) / r->ncol)
        return VG_ENOMEM; /* would overflow size_t (32-bit targets) */
    int64_t *bt = realloc(r->bt, nc * sizeof(*bt));
    if (bt)
        r->bt = bt;
    double *bv = realloc(r->bv, nc * r->ncol * sizeof(*bv));
    if (bv)
        r->bv = bv;
    if (!bt || !bv)
        return VG_ENOMEM;
    *cap = nc;
    return VG_OK;
}

/* Reads up to train_rows rows into the training buffer. */
static int replay__buffer_training(struct replay *r)
{
    uint64_t cap = 0;
    ssize_t n;
    while (r->nbuf < r->o->train_rows && (n = replay__getline(r)) >= 0) {
        if (n == 0)
            continue;
        int rc = replay__grow(r, &cap);
        if (rc != VG_OK)
            return replay__fail(r, rc, 0, "cannot buffer training rows: %s", vg_strerror(rc));
        if ((rc = replay__split(r, n)) != VG_OK ||
            (rc = replay__parse(r, &r->bt[r->nbuf], &r->bv[r->nbuf * r->ncol])) != VG_OK)
            return rc;
        if ((rc = replay__keep_time(r)) != VG_OK)
            return replay__fail(r, rc, 0, "cannot buffer training rows: %s", vg_strerror(rc));
        r->nbuf++;
    }
    return VG_OK;
}

/* Fits one channel model per column from the buffered rows. */
static int replay__fit(struct replay *r, vg_model *m)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->device, "replay");
    m->version = 1;
    m->train_from_us = r->nbuf ? r->bt[0] : 0;
    m->train_to_us = r->nbuf ? r->bt[r->nbuf - 1] + 1 : 0;
    if (r->ncol > VG_MODEL_MAX_CHANNEL)
        return replay__fail(r, VG_ETOOBIG, 0, "--train-rows supports at most %d channels",
                            VG_MODEL_MAX_CHANNEL);
    double *col = malloc(sizeof(double) * (r->nbuf + 1));
    double *scratch = malloc(sizeof(double) * (r->nbuf + 1));
    if (!col || !scratch) {
        free(col);
        free(scratch);
        return replay__fail(r, VG_ENOMEM, 0, "cannot allocate training columns");
    }
    vg_fit_opts fo;
    vg_fit_opts_init(&fo);
    for (uint32_t c = 0; c < r->ncol; c++) {
        for (uint64_t i = 0; i < r->nbuf; i++)
            col[i] = r->bv[i * r->ncol + c];
        vg_chan_model *cm = &m->chan[m->nchan];
        if (vg_fit_channel(r->ch[c]->name, r->bt, col, r->nbuf, scratch, &fo, cm) == VG_OK)
            m->nchan++;
        else
            fprintf(r->o->err,
                    "vigil-replay: %s: too few training values for '%s', using defaults\n",
                    r->o->path, r->ch[c]->name);
    }
    free(col);
    free(scratch);
    replay__fit_mvar(r, m);
    return VG_OK;
}

/* Writes model *m as CBOR to o->save_model. */
static int replay__save(struct replay *r, const vg_model *m)
{
    static uint8_t buf[VG_MODEL_MAX_CHANNEL * 256 + 8192];
    size_t len;
    int rc = vg_model_encode(m, buf, sizeof buf, &len);
    FILE *f = rc == VG_OK ? fopen(r->o->save_model, "wb") : NULL;
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(r->o->err, "vigil-replay: cannot write model to %s\n", r->o->save_model);
        return rc ? rc : VG_EINVAL;
    }
    return VG_OK;
}

/* Splits, parses and scores the line in r->line (length n). */
static int replay__line(struct replay *r, ssize_t n, double *v)
{
    if (n == 0)
        return VG_OK;
    int64_t t;
    int rc = replay__split(r, n);
    if (rc == VG_OK)
        rc = replay__parse(r, &t, v);
    if (rc == VG_OK)
        replay__score(r, r->row.field[0], t, v);
    return rc;
}

/* Scores the buffered training rows (already parsed). */
static int replay__score_buffered(struct replay *r)
{
    const char *p = r->tbuf;
    for (uint64_t i = 0; i < r->nbuf; i++) {
        replay__score(r, p, r->bt[i], &r->bv[i * r->ncol]);
        p += strlen(p) + 1;
    }
    return VG_OK;
}

static int replay__train(struct replay *r)
{
    uint64_t header_line = r->lineno;
    int rc = replay__buffer_training(r);
    if (rc != VG_OK)
        return rc;
    static vg_model m;
    if ((rc = replay__fit(r, &m)) != VG_OK)
        return rc;
    if ((rc = vg_engine_apply_model(r->eng, &m)) != VG_OK) {
        r->lineno = header_line;
        return replay__fail(r, rc, 0, "fitted model rejected: %s", vg_strerror(rc));
    }
    if ((rc = replay__mvar_start(r, &m)) != VG_OK)
        return rc;
    if (r->o->save_model && (rc = replay__save(r, &m)) != VG_OK)
        return rc;
    return replay__score_buffered(r);
}

static void replay__free(struct replay *r)
{
    if (r->in && r->in != stdin)
        fclose(r->in);
    vg_engine_destroy(r->eng);
    free(r->line);
    free(r->ch);
    free(r->covered);
    free(r->row.field);
    free(r->row.len);
    free(r->tbuf);
    free(r->bt);
    free(r->bv);
}

static int replay__body(struct replay *r)
{
    int rc = replay__header(r);
    if (rc != VG_OK)
        return rc;
    if (r->o->model && (rc = vg_engine_apply_model(r->eng, r->o->model)) != VG_OK)
        return replay__fail(r, rc, 0, "model rejected: %s", vg_strerror(rc));
    if (r->o->model && (rc = replay__mvar_start(r, r->o->model)) != VG_OK)
        return rc;
    fputs("timestamp,anomaly_score,alert,trip\n", r->o->out);
    if (r->o->train_rows && (rc = replay__train(r)) != VG_OK)
        return rc;
    double *v = malloc(sizeof(double) * r->ncol);
    if (!v)
        return replay__fail(r, VG_ENOMEM, 0, "out of memory");
    ssize_t n;
    while (rc == VG_OK && (n = replay__getline(r)) >= 0)
        rc = replay__line(r, n, v);
    free(v);
    if (rc == VG_OK && ferror(r->in))
        rc = replay__fail(r, VG_ETRUNC, 0, "read error");
    return rc;
}

int vg_replay_run(const vg_replay_opts *o, vg_replay_stats *st)
{
    struct replay r = {.o = o, .st = st, .last_t = INT64_MIN};
    memset(st, 0, sizeof(*st));
    st->first_trip_us = INT64_MIN;
    r.in = strcmp(o->path, "-") == 0 ? stdin : fopen(o->path, "r");
    r.row.cap = VG_CSV_MAX_FIELDS;
    r.row.field = malloc(sizeof(char *) * VG_CSV_MAX_FIELDS);
    r.row.len = malloc(sizeof(uint32_t) * VG_CSV_MAX_FIELDS);
    int rc;
    if (!r.in) {
        fprintf(o->err, "vigil-replay: %s: cannot open: %s\n", o->path, strerror(errno));
        rc = VG_EINVAL;
    } else if (!r.row.field || !r.row.len) {
        rc = replay__fail(&r, VG_ENOMEM, 0, "out of memory");
    } else {
        rc = replay__body(&r);
    }
    replay__free(&r);
    return rc;
}
