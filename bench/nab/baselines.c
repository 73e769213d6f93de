/*
 * baselines.c - vigil-nab-baseline: the two reference detectors of the
 * detection benchmark, scored by the same harness as vigil.
 *
 *   vigil-nab-baseline --det wgauss|fixed [--window W] [--probation P] FILE.csv
 *
 * Input: the corpus layout (header, then "timestamp,value"; an empty value
 * is a missing sample).  Output on stdout, like vigil-replay:
 * "timestamp,anomaly_score,alert" for every input row.
 *
 *   wgauss  windowed Gaussian (the idea of NAB's windowedGaussian): the mean
 *           and standard deviation of the last W values (default 6400)
 *           before the current one; the score is 1 - the two-sided normal
 *           tail probability of the value, erf(|z| / sqrt 2); the alert is
 *           score >= 1 - 1e-4 (|z| about 3.9).  O(1) per sample with sliding
 *           sums over a ring of W values.
 *   fixed   a fixed threshold fitted on the first P rows (the probationary
 *           period): the band [min, max] of those values; inside it the
 *           score is 0, outside 0.5 + 0.5 d / (1 + d) with d the distance
 *           past the band in band widths; the alert is "outside the band".
 * A missing sample scores 0.  Memory: the ring of W doubles.
 */
#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT2
#define M_SQRT2 1.41421356237309504880
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sliding-window Gaussian state. */
typedef struct wg {
    double *ring;   /* last W values */
    long cap, n;    /* capacity W, values held */
    long head;      /* next write position */
    double sum, ss; /* sums of values and squares in the ring */
} wg;

/* Score of x against the ring, then adds x to it. */
static double wg_step(wg *g, double x)
{
    double score = 0;
    if (g->n >= 2) {
        double mean = g->sum / (double)g->n;
        double var = (g->ss - g->sum * mean) / (double)(g->n - 1);
        double sd = var > 1e-12 * (1 + mean * mean) ? sqrt(var) : 1e-6 * (1 + fabs(mean));
        score = erf(fabs(x - mean) / sd / M_SQRT2);
    }
    if (g->n == g->cap) {
        double old = g->ring[g->head];
        g->sum -= old;
        g->ss -= old * old;
    } else {
        g->n++;
    }
    g->ring[g->head] = x;
    g->head = (g->head + 1) % g->cap;
    g->sum += x;
    g->ss += x * x;
    return score;
}

/* Fixed-band state. */
typedef struct fb {
    long prob, seen; /* probationary rows, rows with values seen */
    double lo, hi;   /* band */
} fb;

static double fb_step(fb *b, double x)
{
    if (b->seen++ < b->prob) {
        b->lo = b->seen == 1 || x < b->lo ? x : b->lo;
        b->hi = b->seen == 1 || x > b->hi ? x : b->hi;
        return 0;
    }
    double w = b->hi - b->lo > 0 ? b->hi - b->lo : 1e-9;
    double d = x > b->hi ? (x - b->hi) / w : x < b->lo ? (b->lo - x) / w : 0;
    return d > 0 ? 0.5 + 0.5 * d / (1 + d) : 0;
}

int main(int argc, char **argv)
{
    const char *det = NULL, *path = NULL;
    long window = 6400, prob = 750;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--det") && i + 1 < argc)
            det = argv[++i];
        else if (!strcmp(argv[i], "--window") && i + 1 < argc)
            window = atol(argv[++i]);
        else if (!strcmp(argv[i], "--probation") && i + 1 < argc)
            prob = atol(argv[++i]);
        else
            path = argv[i];
    }
    int is_wg = det && !strcmp(det, "wgauss");
    if (!path || !det || (!is_wg && strcmp(det, "fixed")) || window < 2) {
        fprintf(stderr, "usage: vigil-nab-baseline --det wgauss|fixed [--window W] "
                        "[--probation P] FILE.csv\n");
        return 2;
    }
    FILE *f = fopen(path, "r");
    wg g = {.ring = calloc((size_t)window, sizeof(double)), .cap = window};
    fb b = {.prob = prob};
    char line[1024];
    if (!f || !g.ring || !fgets(line, sizeof line, f)) {
        perror(path);
        return 1;
    }
    puts("timestamp,anomaly_score,alert");
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *comma = strchr(line, ',');
        char *end = NULL;
        double x = comma ? strtod(comma + 1, &end) : NAN;
        double sc = 0;
        if (comma && end != comma + 1 && isfinite(x))
            sc = is_wg ? wg_step(&g, x) : fb_step(&b, x);
        if (comma)
            *comma = '\0';
        int al = is_wg ? sc >= 1 - 1e-4 : sc > 0;
        printf("%s,%.12f,%d\n", line, sc, al);
    }
    fclose(f);
    free(g.ring);
    return 0;
}
