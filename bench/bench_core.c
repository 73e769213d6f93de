/*
 * bench_core.c - vigil-bench-core: throughput of the core's full detector
 * set over many channels, beside a minimal baseline in the same run.
 *
 *   vigil-bench-core [--channels N] [--samples-per-channel S] [--window W]
 *                    [--batch B] [--runs R]
 *                    [--only model|model-block|adapt|adapt-block|base]
 *
 * Each channel gets a hard envelope (3-of-5 debounced limits, trip, stale
 * watchdog), rate and stuck limits, and in the first configuration a
 * fitted reference (robust z, EWMA, CUSUM), so every detector runs on
 * every sample.  Samples are fed as they arrive in vigil's columnar
 * batches: B samples of one channel, then the next channel.  Three
 * configurations are timed, R runs each, and the median is reported:
 *   full+model  every detector: the adaptive detector (vg_adapt) and the
 *               fitted reference beside it (on this Gaussian data it stays
 *               in service: nothing retires it)
 *   full+adapt  every detector the engine runs without a model: the
 *               adaptive detector (the window median/MAD z only in its
 *               64-sample warm-up)
 *   baseline    a bare windowed mean/std z-score per channel (sliding sums,
 *               no limits, no state machines): the cheapest useful detector
 * The first two are timed twice: one vg_engine_push call per sample, and
 * (model-block, adapt-block) one vg_engine_push_block call per channel
 * block, as vigild scores a decoded batch; each on its own engine.
 * The median and the fastest run are printed (on a shared machine the
 * fastest is the one least disturbed by other work).  Memory per channel
 * is printed from the engine's own sizes.  --only times
 * one configuration (the others report 0), for `perf stat` per
 * configuration: instructions and cycles per sample are the difference of
 * two --runs counts divided by the extra samples.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_rng.h"
#include "vg_engine.h"
#include "vg_error.h"

struct bench {
    uint32_t channels; /* channels */
    uint32_t per_chan; /* samples per channel per run */
    uint32_t window;   /* window samples */
    uint32_t batch;    /* samples per channel block */
    int runs;          /* repetitions */
    char only;         /* 'm', 'a' or 'b': time that configuration only; 0 = all */
    double *x;         /* values, per_chan per channel, channel-major */
};

static double bench__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench__data(struct bench *b)
{
    uint64_t state = 1;
    size_t n = (size_t)b->channels * b->per_chan;
    b->x = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double u = ((double)(rng__splitmix(&state) >> 11) + 0.5) * 0x1.0p-53;
        double v = (double)(rng__splitmix(&state) >> 11) * 0x1.0p-53;
        b->x[i] = 50 + 2 * sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
    }
}

static vg_engine *bench__engine(const struct bench *b, bool with_model, vg_chan_config *cc)
{
    for (uint32_t c = 0; c < b->channels; c++) {
        memset(&cc[c], 0, sizeof cc[c]);
        snprintf(cc[c].name, sizeof cc[c].name, "ch%u", c);
        vg_envelope_init(&cc[c].env);
        cc[c].env.lo = 0;
        cc[c].env.hi = 100;
        cc[c].env.debounce_n = 3;
        cc[c].env.debounce_m = 5;
        cc[c].env.trip = true;
        cc[c].env.stale_us = 10000000;
        cc[c].env.trip_on_stale = true;
        vg_chan_model_clear(&cc[c].local, cc[c].name);
        cc[c].local.rate_max = 1e9;
        cc[c].local.stuck_n = 50;
    }
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.window = b->window;
    ec.max_channels = b->channels;
    ec.nchan = b->channels;
    ec.chan = cc;
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    if (!e)
        return NULL;
    if (with_model) {
        /* Models hold at most VG_MODEL_MAX_CHANNEL channels: give every
         * channel a fitted reference through its local settings instead,
         * which the engine compiles exactly like model values. */
        for (uint32_t c = 0; c < b->channels; c++) {
            vg_channel *ch = vg_engine_channel(e, c);
            vg_chan_model m = cc[c].local;
            m.loc = 50;
            m.scale = 2;
            m.z_thr = 6;
            m.cusum_h = 12;
            vg_defaults d;
            vg_defaults_init(&d);
            vg_params_compile(&ch->par, &d, &cc[c].env, &m, 1);
        }
    }
    return e;
}

/* Feeds every sample through the engine; returns seconds. */
static double bench__run_engine(const struct bench *b, vg_engine *e, int64_t *t0, uint64_t *trips)
{
    double start = bench__now();
    for (uint32_t base = 0; base < b->per_chan; base += b->batch) {
        uint32_t n = base + b->batch <= b->per_chan ? b->batch : b->per_chan - base;
        for (uint32_t c = 0; c < b->channels; c++) {
            vg_channel *ch = vg_engine_channel(e, c);
            const double *x = b->x + (size_t)c * b->per_chan + base;
            for (uint32_t i = 0; i < n; i++) {
                vg_verdict v;
                vg_engine_push(e, ch, *t0 + (int64_t)(base + i) * 1000, x[i], &v);
                *trips += v.trip_edge;
            }
        }
    }
    *t0 += (int64_t)b->per_chan * 1000;
    return bench__now() - start;
}

/* Counts the trip edges vg_engine_push_block reports. */
static void bench__event(void *user, vg_channel *c, uint32_t i, int rc, const vg_verdict *v)
{
    (void)c;
    (void)i;
    if (rc == VG_OK)
        *(uint64_t *)user += v->trip_edge;
}

/* The same feed as bench__run_engine, one vg_engine_push_block call per
 * channel block (the times of a block, alike on every channel, built once);
 * returns seconds. */
static double bench__run_block(const struct bench *b, vg_engine *e, int64_t *tbuf, int64_t *t0,
                               uint64_t *trips)
{
    double start = bench__now();
    for (uint32_t base = 0; base < b->per_chan; base += b->batch) {
        uint32_t n = base + b->batch <= b->per_chan ? b->batch : b->per_chan - base;
        for (uint32_t i = 0; i < n; i++)
            tbuf[i] = *t0 + (int64_t)(base + i) * 1000;
        for (uint32_t c = 0; c < b->channels; c++) {
            const double *x = b->x + (size_t)c * b->per_chan + base;
            vg_engine_push_block(e, vg_engine_channel(e, c), tbuf, x, n, bench__event, trips);
        }
    }
    *t0 += (int64_t)b->per_chan * 1000;
    return bench__now() - start;
}

/* The baseline: sliding-sum mean/std z-score per channel. */
struct base_chan {
    double sum, sumsq;
    uint32_t n, head;
    double ring[4096];
};

static double bench__run_baseline(const struct bench *b, struct base_chan *bc, uint64_t *alerts)
{
    double start = bench__now();
    uint32_t w = b->window > 4096 ? 4096 : b->window;
    for (uint32_t base = 0; base < b->per_chan; base += b->batch) {
        uint32_t n = base + b->batch <= b->per_chan ? b->batch : b->per_chan - base;
        for (uint32_t c = 0; c < b->channels; c++) {
            struct base_chan *s = &bc[c];
            const double *x = b->x + (size_t)c * b->per_chan + base;
            for (uint32_t i = 0; i < n; i++) {
                if (s->n == w) {
                    double old = s->ring[s->head];
                    s->sum -= old;
                    s->sumsq -= old * old;
                } else {
                    s->n++;
                }
                s->ring[s->head] = x[i];
                s->head = (s->head + 1) % w;
                s->sum += x[i];
                s->sumsq += x[i] * x[i];
                double mean = s->sum / s->n, var = s->sumsq / s->n - mean * mean;
                *alerts += var > 0 && fabs(x[i] - mean) > 4 * sqrt(var);
            }
        }
    }
    return bench__now() - start;
}

static int bench__cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double bench__median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), bench__cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The timed configurations, in the order they run and print. */
enum bench_kind { BENCH_CALL, BENCH_BLOCK, BENCH_BASE };
static const struct bench_config {
    const char *name; /* printed */
    const char *only; /* --only value */
    enum bench_kind kind;
    bool model; /* fitted reference in service */
} bench__configs[] = {
    {"full+model", "model", BENCH_CALL, true},  {"model-block", "model-block", BENCH_BLOCK, true},
    {"full+adapt", "adapt", BENCH_CALL, false}, {"adapt-block", "adapt-block", BENCH_BLOCK, false},
    {"baseline", "base", BENCH_BASE, false},
};
#define BENCH_NCONF (sizeof bench__configs / sizeof bench__configs[0])

/* Index of --only value `v` in bench__configs (the first letter alone
 * still names the three per-call ones), or -1. */
static int bench__only(const char *v)
{
    for (size_t i = 0; i < BENCH_NCONF; i++)
        if (strcmp(v, bench__configs[i].only) == 0 ||
            (v[0] && !v[1] && v[0] == bench__configs[i].only[0] &&
             bench__configs[i].kind != BENCH_BLOCK))
            return (int)i;
    return -1;
}

/* The state of one configuration across runs. */
struct bench_state {
    vg_engine *e;   /* engine (NULL for the baseline) */
    int64_t t0;     /* time base of its next run */
    double sec[99]; /* seconds of each run */
};

/* One run of configuration k; returns seconds. */
static double bench__run(const struct bench *b, size_t k, struct bench_state *st,
                         struct base_chan *bc, int64_t *tbuf, uint64_t *trips, uint64_t *alerts)
{
    switch (bench__configs[k].kind) {
    case BENCH_CALL:
        return bench__run_engine(b, st->e, &st->t0, trips);
    case BENCH_BLOCK:
        return bench__run_block(b, st->e, tbuf, &st->t0, trips);
    default:
        return bench__run_baseline(b, bc, alerts);
    }
}

static const char bench__usage[] =
    "usage: vigil-bench-core [--channels N] [--samples-per-channel S] [--window W] [--batch B]\n"
    "                        [--runs R] [--only model|model-block|adapt|adapt-block|base]\n";

/* Parses argv into *b and *only (-1 = every configuration); 0 or 2. */
static int bench__args(int argc, char **argv, struct bench *b, int *only)
{
    static const struct option lo[] = {{"channels", required_argument, NULL, 'c'},
                                       {"samples-per-channel", required_argument, NULL, 's'},
                                       {"window", required_argument, NULL, 'w'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"runs", required_argument, NULL, 'r'},
                                       {"only", required_argument, NULL, 'o'},
                                       {NULL, 0, NULL, 0}};
    int o;
    *only = -1;
    while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        unsigned long v = strtoul(optarg ? optarg : "0", NULL, 10);
        if (o == 'c')
            b->channels = (uint32_t)v;
        else if (o == 's')
            b->per_chan = (uint32_t)v;
        else if (o == 'w')
            b->window = (uint32_t)v;
        else if (o == 'b')
            b->batch = (uint32_t)v;
        else if (o == 'r')
            b->runs = (int)v;
        else if (o == 'o' && (*only = bench__only(optarg)) >= 0)
            continue;
        else {
            fputs(bench__usage, stderr);
            return 2;
        }
    }
    if (!b->channels || !b->per_chan || !b->batch || b->runs < 1 || b->runs > 99 || b->window < 2) {
        fputs("vigil-bench-core: bad arguments\n", stderr);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bench b = {.channels = 1000, .per_chan = 20000, .window = 256, .batch = 64, .runs = 5};
    int only;
    if (bench__args(argc, argv, &b, &only))
        return 2;
    bench__data(&b);
    vg_chan_config *cc = calloc(b.channels, sizeof(*cc));
    struct base_chan *bc = calloc(b.channels, sizeof(*bc));
    int64_t *tbuf = malloc(sizeof(int64_t) * b.batch);
    static struct bench_state st[BENCH_NCONF];
    int bad = !cc || !bc || !tbuf || !b.x;
    for (size_t k = 0; k < BENCH_NCONF && !bad; k++) {
        st[k].t0 = 1;
        if (bench__configs[k].kind != BENCH_BASE)
            bad = !(st[k].e = bench__engine(&b, bench__configs[k].model, cc));
    }
    if (bad) {
        fputs("vigil-bench-core: out of memory\n", stderr);
        return 1;
    }
    uint64_t trips = 0, alerts = 0;
    for (int r = 0; r < b.runs; r++) /* interleaved, so drift hits all alike */
        for (size_t k = 0; k < BENCH_NCONF; k++)
            st[k].sec[r] = only < 0 || (size_t)only == k
                               ? bench__run(&b, k, &st[k], bc, tbuf, &trips, &alerts)
                               : 0;
    double n = (double)b.channels * b.per_chan;
    double mb = bench__median(st[BENCH_NCONF - 1].sec, b.runs);
    printf("channels=%u samples/run=%.0f window=%u batch=%u runs=%d\n", b.channels, n, b.window,
           b.batch, b.runs);
    printf("%-12s %10s %14s %10s %9s\n", "config", "ns/sample", "Msamples/s", "vs base", "min ns");
    for (size_t k = 0; k < BENCH_NCONF; k++) {
        double m = bench__median(st[k].sec, b.runs); /* sorts: sec[0] is the fastest */
        printf("%-12s %10.2f %14.1f %9.2fx %9.2f\n", bench__configs[k].name, m / n * 1e9,
               n / m / 1e6, m / mb, st[k].sec[0] / n * 1e9);
    }
    vg_channel *ch = vg_engine_channel(st[0].e, 0);
    printf("memory/channel: window buffer %zu B + channel state %zu B (trips %llu, base alerts "
           "%llu)\n",
           vg_window_bytes(ch->win.cap), sizeof(vg_channel), (unsigned long long)trips,
           (unsigned long long)alerts);
    for (size_t k = 0; k < BENCH_NCONF; k++)
        vg_engine_destroy(st[k].e);
    free(tbuf);
    free(bc);
    free(cc);
    free(b.x);
    return 0;
}
