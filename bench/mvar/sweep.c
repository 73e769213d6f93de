/*
 * sweep.c - vigil-mvar-sweep: the core's T^2/Q detector alone over a pump
 * corpus (bench/mvar/gen_pump.c) with given fit options, for tuning on the
 * tuning part and checking settings on others.
 *
 *   vigil-mvar-sweep --data DIR [--part tune|held|all] [--var V] [--lambda L]
 *                    [--margin M] [--margin-rows R] [--drift D] [--holdout H]
 *                    [--clip C] [--verbose]
 *
 * Options default to vg_mvar_opts_init().  Each series is fitted on its
 * training rows (the manifest's probation column) and scored row by row
 * with vg_mvar_row, as vigil-replay --mvar only does (without the CSV
 * and engine around it).  Prints the pooled per-row F1, precision, recall
 * and FAR of the alert after the training rows, and the fraction of normal
 * rows where each smoothed statistic is over its limit; --verbose adds a
 * line per series.  Cost: O(rows x p k) plus the fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_mvar.h"

#define SW_MAXROW 8192
#define SW_P      8

typedef struct sw_tally {
    long tp, fp, fn, tn;  /* rows */
    long normal, t2x, qx; /* normal rows; of them over the T^2 / Q limit */
} sw_tally;

static double xs[SW_MAXROW * SW_P], scratch[2 * SW_MAXROW];
static int lab[SW_MAXROW];

/* Reads DIR/<name>.csv (8 channels) and .labels; returns rows or -1. */
static long sw__load(const char *dir, const char *name)
{
    char path[4200], line[4096];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(line, sizeof line, f))
        return -1;
    long n = 0;
    while (n < SW_MAXROW && fgets(line, sizeof line, f)) {
        char *s = strchr(line, ',');
        for (int j = 0; j < SW_P && s; j++)
            xs[n * SW_P + j] = strtod(s + 1, &s);
        n++;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.labels", dir, name);
    f = fopen(path, "r");
    for (long i = 0; f && i < n; i++) {
        int cp;
        if (fscanf(f, "%d %d", &lab[i], &cp) != 2)
            n = -1;
    }
    if (f)
        fclose(f);
    return f ? n : -1;
}

/* Fits on the first `train` rows, scores all, tallies rows after train. */
static int sw__series(long n, long train, const vg_mvar_opts *o, sw_tally *t, sw_tally *one)
{
    static const char *const names[SW_P] = {"vib1",       "vib2",       "current", "pressure",
                                            "temp_motor", "temp_fluid", "voltage", "flow"};
    vg_mvar_model m;
    vg_mvar s;
    if (vg_mvar_fit(names, SW_P, xs, (size_t)train, scratch, o, &m) != 0 ||
        vg_mvar_init(&s, &m, 0.5, 0.45) != 0)
        return -1;
    memset(one, 0, sizeof *one);
    for (long i = 0; i < n; i++) {
        vg_mvar_out r;
        vg_mvar_row(&s, &xs[i * SW_P], &r);
        if (i < train)
            continue;
        one->tp += r.alert && lab[i];
        one->fp += r.alert && !lab[i];
        one->fn += !r.alert && lab[i];
        one->tn += !r.alert && !lab[i];
        one->normal += !lab[i];
        one->t2x += !lab[i] && r.t2_s > m.t2_lim;
        one->qx += !lab[i] && r.q_s > m.q_lim;
    }
    t->tp += one->tp, t->fp += one->fp, t->fn += one->fn, t->tn += one->tn;
    t->normal += one->normal, t->t2x += one->t2x, t->qx += one->qx;
    return 0;
}

static void sw__print(const char *what, const sw_tally *t)
{
    double p = t->tp + t->fp ? (double)t->tp / (double)(t->tp + t->fp) : 0;
    double r = t->tp + t->fn ? (double)t->tp / (double)(t->tp + t->fn) : 0;
    double nn = t->normal ? (double)t->normal : 1;
    printf("%-24s F1 %.3f prec %.3f rec %.3f FAR %.3f  normal rows over: T2 %.3f Q %.3f\n", what,
           p + r > 0 ? 2 * p * r / (p + r) : 0, p, r,
           t->fp + t->tn ? (double)t->fp / (double)(t->fp + t->tn) : 0, (double)t->t2x / nn,
           (double)t->qx / nn);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *part = "all";
    int verbose = 0;
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(k, "--verbose")) {
            verbose = 1;
            continue;
        }
        i++;
        if (!strcmp(k, "--data"))
            dir = v;
        else if (!strcmp(k, "--part"))
            part = v;
        else if (!strcmp(k, "--var"))
            o.var_explained = atof(v);
        else if (!strcmp(k, "--lambda"))
            o.lambda = atof(v);
        else if (!strcmp(k, "--margin"))
            o.margin = atof(v);
        else if (!strcmp(k, "--margin-rows"))
            o.margin_rows = (uint32_t)atol(v);
        else if (!strcmp(k, "--drift"))
            o.drift = atof(v);
        else if (!strcmp(k, "--holdout"))
            o.holdout = atof(v);
        else if (!strcmp(k, "--clip"))
            o.clip = atof(v);
        else
            dir = NULL, i = argc;
    }
    char path[4200], line[4096], name[256], pt[16];
    snprintf(path, sizeof path, "%s/manifest.csv", dir ? dir : ".");
    FILE *m = dir ? fopen(path, "r") : NULL;
    if (!m) {
        fprintf(stderr, "usage: vigil-mvar-sweep --data DIR [--part P] [--var V] [--lambda L] "
                        "[--margin M] [--margin-rows R] [--drift D] [--holdout H] [--clip C] "
                        "[--verbose]\n");
        return 2;
    }
    sw_tally all = {0}, one;
    long rows, train;
    while (fgets(line, sizeof line, m)) {
        if (sscanf(line, "%255[^,],%15[^,],%ld,%ld", name, pt, &rows, &train) != 4 ||
            (strcmp(part, "all") && strcmp(part, pt)))
            continue;
        long n = sw__load(dir, name);
        if (n < 0 || sw__series(n, train, &o, &all, &one) != 0) {
            fprintf(stderr, "vigil-mvar-sweep: %s: cannot load or fit\n", name);
            return 1;
        }
        if (verbose)
            sw__print(name, &one);
    }
    fclose(m);
    sw__print(part, &all);
    return 0;
}
