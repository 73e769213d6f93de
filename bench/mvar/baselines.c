/*
 * baselines.c - vigil-mvar-baseline: the textbook baselines the
 * multivariate detector is compared with (issue 7).
 *
 *   vigil-mvar-baseline --det zscore|hotelling --train N FILE.csv
 *
 * Both fit on the first N rows of FILE.csv (timestamp, then numeric
 * channels; an empty cell holds the channel's last value) and print
 * "timestamp,anomaly_score,alert" for every row:
 *   zscore     per-channel mean and sd; R = max_j |z_j| / 3 (a 3-sigma
 *              limit on every channel);
 *   hotelling  mean and full covariance (no PCA, a 1e-6 ridge), T^2 =
 *              z' S^-1 z against the chi^2_p quantile at 1 - 1e-3
 *              (Wilson-Hilferty); R^2 = T^2 / limit.
 * Score R^2 / (1 + R^2), alert R >= 1 (as vigil's score: 0.5 at the limit).
 * No smoothing, no hysteresis.  Cost: O(N p^2 + p^3) to fit, O(p^2) a row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BL_MAXP 64

typedef struct data {
    char **ts;   /* timestamps */
    double *x;   /* rows x p, hold-last filled */
    long n, cap; /* rows */
    int p;       /* channels */
} data;

/* Splits a CSV line (no quoting) into the timestamp and p values. */
static int bl__parse(char *line, data *d)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *c = strchr(line, ',');
    if (!c)
        return -1;
    *c = '\0';
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 4096;
        d->ts = realloc(d->ts, (size_t)d->cap * sizeof *d->ts);
        d->x = realloc(d->x, (size_t)d->cap * (size_t)d->p * sizeof *d->x);
        if (!d->ts || !d->x)
            return -1;
    }
    d->ts[d->n] = strdup(line);
    double *row = &d->x[d->n * d->p];
    for (int j = 0; j < d->p; j++) {
        char *s = c + 1, *end;
        c = strchr(s, ',');
        if (c)
            *c = '\0';
        double v = strtod(s, &end);
        row[j] = end != s ? v : d->n ? row[j - d->p] : 0;
        if (!c && j + 1 < d->p)
            return -1;
    }
    d->n++;
    return 0;
}

static int bl__load(const char *path, data *d)
{
    FILE *f = fopen(path, "r");
    static char line[1 << 16];
    if (!f || !fgets(line, sizeof line, f))
        return -1;
    d->p = 0;
    for (char *c = line; *c; c++)
        d->p += *c == ',';
    if (d->p < 1 || d->p > BL_MAXP)
        return -1;
    while (fgets(line, sizeof line, f))
        if (bl__parse(line, d) != 0)
            return -1;
    fclose(f);
    return 0;
}

static void bl__moments(const data *d, long n, double *mean, double *sd)
{
    for (int j = 0; j < d->p; j++) {
        double s = 0, ss = 0;
        for (long i = 0; i < n; i++)
            s += d->x[i * d->p + j];
        mean[j] = s / (double)n;
        for (long i = 0; i < n; i++)
            ss += pow(d->x[i * d->p + j] - mean[j], 2);
        sd[j] = sqrt(ss / (double)(n > 1 ? n - 1 : 1));
        if (!(sd[j] > 1e-9))
            sd[j] = 1e-9;
    }
}

/* Cholesky factor L (lower) of the p x p matrix a, in place. */
static void bl__cholesky(double *a, int p)
{
    for (int j = 0; j < p; j++) {
        for (int k = 0; k < j; k++)
            a[j * p + j] -= a[j * p + k] * a[j * p + k];
        a[j * p + j] = sqrt(a[j * p + j] > 1e-12 ? a[j * p + j] : 1e-12);
        for (int i = j + 1; i < p; i++) {
            for (int k = 0; k < j; k++)
                a[i * p + j] -= a[i * p + k] * a[j * p + k];
            a[i * p + j] /= a[j * p + j];
        }
    }
}

/* |L^-1 z|^2 by forward substitution. */
static double bl__mahal(const double *l, const double *z, int p)
{
    double y[BL_MAXP], s = 0;
    for (int i = 0; i < p; i++) {
        double v = z[i];
        for (int k = 0; k < i; k++)
            v -= l[i * p + k] * y[k];
        y[i] = v / l[i * p + i];
        s += y[i] * y[i];
    }
    return s;
}

static void bl__emit(const char *ts, double r2)
{
    printf("%s,%.6f,%d\n", ts, r2 / (1 + r2), r2 >= 1);
}

int main(int argc, char **argv)
{
    const char *det = NULL, *path = NULL;
    long train = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--det") && i + 1 < argc)
            det = argv[++i];
        else if (!strcmp(argv[i], "--train") && i + 1 < argc)
            train = atol(argv[++i]);
        else
            path = argv[i];
    }
    data d = {0};
    if (!det || !path || train < 2 || bl__load(path, &d) != 0 || d.n < train) {
        fprintf(stderr, "usage: vigil-mvar-baseline --det zscore|hotelling --train N FILE.csv\n");
        return 2;
    }
    int p = d.p;
    double mean[BL_MAXP], sd[BL_MAXP], z[BL_MAXP];
    static double cov[BL_MAXP * BL_MAXP];
    bl__moments(&d, train, mean, sd);
    int hot = !strcmp(det, "hotelling");
    for (int a = 0; hot && a < p; a++)
        for (int b = 0; b < p; b++) {
            double s = 0;
            for (long i = 0; i < train; i++)
                s += (d.x[i * p + a] - mean[a]) * (d.x[i * p + b] - mean[b]) / (sd[a] * sd[b]);
            cov[a * p + b] = s / (double)(train - 1) + (a == b ? 1e-6 : 0);
        }
    if (hot)
        bl__cholesky(cov, p);
    /* chi^2_p at 1 - 1e-3 by Wilson-Hilferty (z = 3.0902) */
    double w = 2.0 / (9.0 * p), lim = p * pow(1 - w + 3.0902 * sqrt(w), 3);
    puts("timestamp,anomaly_score,alert");
    for (long i = 0; i < d.n; i++) {
        double m = 0;
        for (int j = 0; j < p; j++) {
            z[j] = (d.x[i * p + j] - mean[j]) / sd[j];
            m = fmax(m, fabs(z[j]) / 3);
        }
        bl__emit(d.ts[i], hot ? bl__mahal(cov, z, p) / lim : m * m);
    }
    return 0;
}
