/*
 * gen_corpus.c - vigil-nab-corpus: a deterministic, labelled corpus of
 * univariate series in the NAB layout, for scoring detectors (issue 7).
 *
 *   vigil-nab-corpus --out DIR [--series N] [--seed K]
 *
 * Writes DIR/<name>.csv (header "timestamp,value", 5-minute epoch-second
 * timestamps, an empty cell for a missing sample) and DIR/manifest.csv with
 * one line per series: name,part,rows,probation,windows,kind where part is
 * "tune" or "held" (every third series is held out), probation is the NAB
 * probationary length min(floor(0.15 rows), 750), and windows lists the
 * labelled anomaly windows as "start:end" row ranges (half-open) joined by
 * ';' ("-" for none).  As in NAB, the windows together cover 10% of the
 * series, divided evenly among its anomalies and centred on each onset.
 *
 * Design: a series is a base process (one of 12 characters: daily and
 * weekly seasonality, trend, AR(1) machine temperature, heavy-tailed noise,
 * Poisson counts, quantised sensor, bimodal regimes, benign bursts, random
 * walk, duty cycle, smooth daily) plus anomaly effects that change the
 * process from an onset: spikes, level shifts, variance changes, period
 * changes at unchanged level, drifts, stuck and silent sensors, dropouts to
 * zero, a lost daily cycle.  All randomness is a splitmix64-seeded
 * xoshiro256** stream per series, so the corpus is identical for a seed.
 * Cost: O(rows) per series, O(1) memory besides stdio.
 */
#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT2
#define M_SQRT2 1.41421356237309504880
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_rng.h"

#define GEN_STEP_S  300        /* seconds between samples */
#define GEN_T0      1700000000 /* first timestamp (epoch seconds) */
#define GEN_DAY     288        /* samples per day */
#define GEN_MAX_ANO 3          /* anomalies per series at most */

enum base {
    B_DAILY,
    B_WEEKLY,
    B_TREND,
    B_AR,
    B_HEAVY,
    B_COUNT,
    B_QUANT,
    B_REGIME,
    B_BURSTY,
    B_WALK,
    B_DUTY,
    B_SMOOTH,
    B_NKIND
};

enum ano {
    A_SPIKE,
    A_LEVEL,
    A_VARUP,
    A_VARDOWN,
    A_PERIOD,
    A_DRIFT,
    A_STUCK,
    A_SILENT,
    A_ZERO,
    A_NOSEASON,
    A_NKIND
};

static const char *const base_name[B_NKIND] = {"daily",  "weekly", "trend", "ar",
                                               "heavy",  "count",  "quant", "regime",
                                               "bursty", "walk",   "duty",  "smooth"};
static const char *const ano_name[A_NKIND] = {"spike", "level", "varup",  "vardown", "period",
                                              "drift", "stuck", "silent", "zero",    "noseason"};

/* Student-t with 3 degrees of freedom, scaled to unit variance. */
static double rng_t3(rng *r)
{
    double z = rng_norm(r), c = 0;
    for (int i = 0; i < 3; i++) {
        double g = rng_norm(r);
        c += g * g;
    }
    return z / sqrt(c / 3.0) / sqrt(3.0);
}

/* Poisson draw (inversion; rates here stay below ~60). */
static double rng_poisson(rng *r, double lam)
{
    double l = exp(-lam), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= rng_unif(r);
    } while (p > l && k < 1000);
    return k - 1;
}

/* One anomaly: what changes, from when, for how long, how much. */
typedef struct ano_ev {
    int kind;   /* A_* */
    long onset; /* first affected row */
    long dur;   /* affected rows (LONG_MAX-like for permanent) */
    double mag; /* size in units of the base noise sigma (signed) */
} ano_ev;

/* A series under construction. */
typedef struct series {
    int base;                /* B_* */
    long rows;               /* length */
    double level, amp;       /* base level, seasonal amplitude */
    double sigma;            /* noise sigma */
    double slope;            /* trend per row */
    int nano;                /* anomalies */
    ano_ev ano[GEN_MAX_ANO]; /* in onset order */
} series;

/* Effects active at row i, accumulated over the anomalies. */
typedef struct effects {
    double offset; /* added to the value */
    double noise;  /* noise multiplier */
    double period; /* seasonal period multiplier (< 1: faster) */
    double season; /* seasonal amplitude multiplier */
    int stuck;     /* hold the last output */
    int silent;    /* no sample */
    int zero;      /* reads 0 */
} effects;

static void effects_at(const series *s, long i, effects *e)
{
    memset(e, 0, sizeof(*e));
    e->noise = e->period = e->season = 1.0;
    for (int k = 0; k < s->nano; k++) {
        const ano_ev *a = &s->ano[k];
        long d = i - a->onset;
        if (d < 0 || d >= a->dur)
            continue;
        double sz = a->mag * s->sigma;
        switch (a->kind) {
        case A_SPIKE:
            e->offset += sz;
            break;
        case A_LEVEL:
            e->offset += sz;
            break;
        case A_VARUP:
            e->noise *= a->mag;
            break;
        case A_VARDOWN:
            e->noise /= a->mag;
            break;
        case A_PERIOD:
            e->period *= 0.5;
            break;
        case A_DRIFT:
            e->offset += sz * (d < 200 ? (double)d / 200.0 : 1.0);
            break;
        case A_STUCK:
            e->stuck = 1;
            break;
        case A_SILENT:
            e->silent = 1;
            break;
        case A_ZERO:
            e->zero = 1;
            break;
        case A_NOSEASON:
            e->season = 0;
            break;
        }
    }
}

/* Generator state carried from row to row. */
typedef struct gstate {
    double phase;  /* seasonal phase in days (advances by period multiplier) */
    double ar;     /* AR / random-walk state */
    double regime; /* current regime offset */
    double last;   /* last output value */
    int burst;     /* rows left in a benign burst */
} gstate;

/* Daily shape in [-1, 1]-ish for phase p (days): business-hours bump. */
static double shape_day(double p)
{
    double h = (p - floor(p)) * 24.0;
    return h > 8 && h < 18 ? sin((h - 8) / 10.0 * M_PI) : -0.3;
}

/* Base value of row i before anomaly effects that replace the value. */
static double base_value(const series *s, gstate *g, rng *r, long i, const effects *e)
{
    g->phase += e->period / GEN_DAY;
    double p = g->phase, n = e->noise * s->sigma, season = e->season * s->amp;
    double sn = sin(2 * M_PI * p), v = s->level;
    switch (s->base) {
    case B_DAILY:
        v += season * sn + n * rng_norm(r);
        break;
    case B_WEEKLY: {
        int wd = (int)floor(p) % 7;
        v += season * shape_day(p) * (wd >= 5 ? 0.3 : 1.0) + n * rng_norm(r);
        break;
    }
    case B_TREND:
        v += s->slope * (double)i + season * sn + n * rng_norm(r);
        break;
    case B_AR:
        g->ar = 0.97 * g->ar + 0.25 * s->sigma * rng_norm(r);
        v += g->ar + season * sn + n * rng_norm(r) * 0.5;
        break;
    case B_HEAVY:
        v += season * sn + n * rng_t3(r);
        break;
    case B_COUNT: {
        double lam = s->level * (1 + 0.6 * e->season * sn);
        v = rng_poisson(r, lam > 0.1 ? lam : 0.1) * (e->noise > 1.5 ? 2.0 : 1.0);
        break;
    }
    case B_QUANT:
        g->ar = 0.95 * g->ar + 0.3 * s->sigma * rng_norm(r);
        v = round((v + g->ar + season * sn + n * rng_norm(r) * 0.3) * 2.0) / 2.0;
        break;
    case B_REGIME:
        if (rng_unif(r) < 0.004)
            g->regime = g->regime != 0 ? 0 : 4 * s->sigma;
        v += g->regime + n * rng_norm(r);
        break;
    case B_BURSTY:
        if (g->burst == 0 && rng_unif(r) < 0.01)
            g->burst = 1 + (int)(rng_unif(r) * 3);
        v += n * fabs(rng_norm(r)) + (g->burst > 0 ? 2.5 * s->sigma : 0);
        g->burst -= g->burst > 0;
        break;
    case B_WALK:
        g->ar += 0.08 * s->sigma * rng_norm(r);
        v += g->ar + n * rng_norm(r);
        break;
    case B_DUTY:
        v += (sin(2 * M_PI * p * 6) > 0 ? season : 0) + n * rng_norm(r);
        break;
    default:
        v += season * sn + 0.25 * season * sin(4 * M_PI * p) + n * rng_norm(r);
        break;
    }
    return v;
}

/* Writes the series' rows to f. */
static void series_write(const series *s, rng *r, FILE *f)
{
    gstate g = {0};
    fputs("timestamp,value\n", f);
    for (long i = 0; i < s->rows; i++) {
        effects e;
        effects_at(s, i, &e);
        double v = base_value(s, &g, r, i, &e) + e.offset;
        if (s->base == B_COUNT && e.offset != 0)
            v = round(v);
        if (e.zero)
            v = 0;
        if (e.stuck)
            v = g.last;
        long ts = GEN_T0 + i * GEN_STEP_S;
        if (e.silent) {
            fprintf(f, "%ld,\n", ts);
            continue;
        }
        g.last = v;
        fprintf(f, "%ld,%.6g\n", ts, v);
    }
}

/* NAB probationary length. */
static long probation_of(long rows)
{
    long p = (long)floor(0.15 * (double)rows);
    return p < 750 ? p : 750;
}

/* Chooses an anomaly kind that makes sense for base b. */
static int pick_kind(int b, rng *r)
{
    for (;;) {
        int k = (int)(rng_unif(r) * A_NKIND);
        int seasonal = b != B_AR && b != B_REGIME && b != B_BURSTY && b != B_WALK && b != B_HEAVY;
        if ((k == A_PERIOD || k == A_NOSEASON) && !seasonal)
            continue;
        if (k == A_VARDOWN && (b == B_COUNT || b == B_QUANT))
            continue;
        return k;
    }
}

/* Duration and magnitude of an anomaly of kind k. */
static void shape_anomaly(ano_ev *a, rng *r, long wlen)
{
    double sgn = rng_unif(r) < 0.5 ? -1.0 : 1.0;
    a->dur = 1L << 40; /* permanent unless set below */
    switch (a->kind) {
    case A_SPIKE:
        a->dur = 1 + (long)(rng_unif(r) * 3);
        a->mag = sgn * (6 + 6 * rng_unif(r));
        break;
    case A_LEVEL:
        a->mag = sgn * (3 + 3 * rng_unif(r));
        break;
    case A_VARUP:
        a->mag = 3 + 2 * rng_unif(r);
        a->dur = wlen * 2;
        break;
    case A_VARDOWN:
        a->mag = 5 + 5 * rng_unif(r);
        a->dur = wlen * 2;
        break;
    case A_PERIOD:
        a->dur = wlen * 3;
        break;
    case A_DRIFT:
        a->mag = sgn * (4 + 4 * rng_unif(r));
        break;
    case A_STUCK:
        a->dur = wlen / 2 + 20;
        break;
    case A_SILENT:
        a->dur = 20 + (long)(rng_unif(r) * 40);
        break;
    case A_ZERO:
        a->dur = 10 + (long)(rng_unif(r) * 30);
        break;
    case A_NOSEASON:
        a->dur = GEN_DAY;
        break;
    }
}

/* Builds series number idx: base, parameters, anomalies. */
static void series_make(series *s, rng *r, int idx)
{
    static const long lens[] = {4032, 5000, 6048, 4320, 3600};
    memset(s, 0, sizeof(*s));
    s->base = idx % B_NKIND;
    s->rows = lens[(idx / B_NKIND + idx) % 5];
    s->level = 20 + 80 * rng_unif(r);
    s->sigma = s->level * (0.01 + 0.04 * rng_unif(r));
    s->amp = s->sigma * (3 + 5 * rng_unif(r));
    s->slope = s->sigma * (rng_unif(r) - 0.5) * 0.004;
    if (s->base == B_COUNT)
        s->level = 3 + 20 * rng_unif(r);
    s->nano = (idx % 7 == 3) ? 0 : 1 + (int)(rng_unif(r) * GEN_MAX_ANO);
    long p = probation_of(s->rows), wlen = s->nano ? (long)(0.1 * (double)s->rows) / s->nano : 0;
    long span = (s->rows - p - wlen) / (s->nano ? s->nano : 1);
    for (int k = 0; k < s->nano; k++) {
        ano_ev *a = &s->ano[k];
        a->kind = pick_kind(s->base, r);
        /* Each onset in its own slice, at least a window from the next. */
        a->onset = p + wlen / 2 + 1 + k * span + (long)(rng_unif(r) * (double)(span - wlen));
        shape_anomaly(a, r, wlen);
    }
}

/* Writes the manifest line of series s. */
static void manifest_line(FILE *m, const series *s, const char *name, int idx)
{
    long wlen = s->nano ? (long)(0.1 * (double)s->rows) / s->nano : 0;
    fprintf(m, "%s,%s,%ld,%ld,", name, idx % 3 == 2 ? "held" : "tune", s->rows,
            probation_of(s->rows));
    for (int k = 0; k < s->nano; k++) {
        long a = s->ano[k].onset - wlen / 2, b = a + wlen;
        fprintf(m, "%s%ld:%ld", k ? ";" : "", a, b > s->rows ? s->rows : b);
    }
    fprintf(m, "%s,%s", s->nano ? "" : "-", base_name[s->base]);
    for (int k = 0; k < s->nano; k++)
        fprintf(m, "%c%s", k ? '+' : ':', ano_name[s->ano[k].kind]);
    fputc('\n', m);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    int n = 60;
    unsigned long seed = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "--series"))
            n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoul(argv[i + 1], NULL, 10);
    }
    if (!out || n < 1) {
        fprintf(stderr, "usage: vigil-nab-corpus --out DIR [--series N] [--seed K]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.csv", out);
    FILE *m = fopen(path, "w");
    if (!m) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        rng r;
        rng_seed(&r, seed, (uint64_t)i);
        series s;
        series_make(&s, &r, i);
        char name[64];
        snprintf(name, sizeof name, "g%02d_%s", i, base_name[s.base]);
        snprintf(path, sizeof path, "%s/%s.csv", out, name);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        series_write(&s, &r, f);
        fclose(f);
        manifest_line(m, &s, name, i);
    }
    fclose(m);
    return 0;
}
