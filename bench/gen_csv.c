/*
 * gen_csv.c - vigil-gen-csv: a deterministic CSV stream in vigil-replay's
 * format, with an optional injected fault, for the demo, the replay
 * benchmark and the tests.
 *
 *   vigil-gen-csv [--rows N] [--channels C] [--seed K] [--fault KIND]
 *                 [--fault-at ROW] [--truth FILE]
 *
 * Channel 0 ("temp") is a machine temperature around 60 C with a load cycle
 * (--period rows, default 3600) and Gaussian noise; the others ("ch1", ...) are noisy sine waves.
 * Faults (on temp, from --fault-at, default 70% of the rows):
 *   overheat  temperature runs away at 0.05 C/row until the end
 *   spike     single-row spikes of +25 C every 97 rows for 20 spikes
 *   stuck     the value freezes for 500 rows
 *   drift     a slow upward drift of 0.002 C/row
 *   missing   500 rows of empty cells
 * Rows are one second apart from 2026-01-01 00:00:00 UTC.  Cost: O(rows x
 * channels), constant memory.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen {
    uint64_t rows;     /* data rows to write */
    unsigned channels; /* value columns */
    uint64_t seed;     /* PRNG seed */
    const char *fault; /* fault kind or NULL */
    uint64_t at;       /* fault onset row */
    const char *truth; /* truth CSV path or NULL */
    uint64_t period;   /* rows per load cycle of temp */
    uint64_t rng;      /* PRNG state */
};

static uint64_t gen__rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double gen__normal(uint64_t *s)
{
    double u = ((double)(gen__rand(s) >> 11) + 0.5) * 0x1.0p-53;
    double v = (double)(gen__rand(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Temperature at row r with the fault applied; NAN for a missing cell. */
static double gen__temp(struct gen *g, uint64_t r, double *frozen)
{
    double x = 60 + 3 * sin(6.283185307179586 * (double)r / (double)g->period) +
               0.5 * gen__normal(&g->rng);
    if (!g->fault || r < g->at)
        return x;
    uint64_t k = r - g->at;
    if (strcmp(g->fault, "overheat") == 0)
        return x + 0.05 * (double)k;
    if (strcmp(g->fault, "drift") == 0)
        return x + 0.002 * (double)k;
    if (strcmp(g->fault, "spike") == 0)
        return (k % 97 == 0 && k / 97 < 20) ? x + 25 : x;
    if (strcmp(g->fault, "stuck") == 0 && k < 500) {
        if (k == 0)
            *frozen = x;
        return *frozen;
    }
    if (strcmp(g->fault, "missing") == 0 && k < 500)
        return NAN;
    return x;
}

static void gen__truth(const struct gen *g)
{
    FILE *f = fopen(g->truth, "w");
    if (!f) {
        perror(g->truth);
        exit(1);
    }
    const int64_t t0 = 1767225600; /* 2026-01-01 00:00:00 UTC */
    uint64_t end = g->rows;
    if (strcmp(g->fault, "stuck") == 0 || strcmp(g->fault, "missing") == 0)
        end = g->at + 500 < g->rows ? g->at + 500 : g->rows;
    if (strcmp(g->fault, "spike") == 0)
        end = g->at + 19 * 97 + 1 < g->rows ? g->at + 19 * 97 + 1 : g->rows;
    fprintf(f, "channel,fault,start,end\ntemp,%s,%lld,%lld\n", g->fault,
            (long long)(t0 + (int64_t)g->at), (long long)(t0 + (int64_t)end));
    fclose(f);
}

static void gen__run(struct gen *g)
{
    const int64_t t0 = 1767225600;
    fputs("timestamp,temp", stdout);
    for (unsigned c = 1; c < g->channels; c++)
        printf(",ch%u", c);
    putchar('\n');
    double frozen = 0;
    for (uint64_t r = 0; r < g->rows; r++) {
        int64_t t = t0 + (int64_t)r;
        int64_t days = t / 86400, sod = t % 86400;
        /* civil date from days since epoch (all rows are after 1970) */
        int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        int64_t y = yoe + era * 400 + (m <= 2);
        printf("%04lld-%02lld-%02lld %02lld:%02lld:%02lld", (long long)y, (long long)m,
               (long long)d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
               (long long)(sod % 60));
        double temp = gen__temp(g, r, &frozen);
        if (isnan(temp))
            fputs(",", stdout);
        else
            printf(",%.3f", temp);
        for (unsigned c = 1; c < g->channels; c++)
            printf(",%.3f", 10 * sin((double)r / (50.0 + c)) + gen__normal(&g->rng));
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    struct gen g = {.rows = 10000, .channels = 3, .seed = 1, .period = 3600};
    int at_set = 0;
    static const struct option lo[] = {{"rows", required_argument, NULL, 'r'},
                                       {"channels", required_argument, NULL, 'c'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"fault", required_argument, NULL, 'f'},
                                       {"fault-at", required_argument, NULL, 'a'},
                                       {"truth", required_argument, NULL, 't'},
                                       {"period", required_argument, NULL, 'p'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.rows = strtoull(optarg, NULL, 10);
            break;
        case 'c':
            g.channels = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 's':
            g.seed = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            g.fault = optarg;
            break;
        case 'a':
            g.at = strtoull(optarg, NULL, 10);
            at_set = 1;
            break;
        case 't':
            g.truth = optarg;
            break;
        case 'p':
            g.period = strtoull(optarg, NULL, 10) ? strtoull(optarg, NULL, 10) : 1;
            break;
        default:
            fputs("usage: vigil-gen-csv [--rows N] [--channels C] [--seed K] "
                  "[--fault overheat|spike|stuck|drift|missing] [--fault-at ROW] [--truth FILE] "
                  "[--period ROWS]\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (g.channels < 1 || g.channels > 1000) {
        fputs("vigil-gen-csv: --channels must be 1..1000\n", stderr);
        return 2;
    }
    if (!at_set)
        g.at = g.rows * 7 / 10;
    g.rng = g.seed;
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    gen__run(&g);
    if (g.fault && g.truth)
        gen__truth(&g);
    return fflush(stdout) == 0 ? 0 : 1;
}
