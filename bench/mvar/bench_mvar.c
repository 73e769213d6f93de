/*
 * bench_mvar.c - vigil-bench-mvar: cost of the multivariate detector in the
 * core (vg_mvar.h): fit time and per-row scoring time.
 *
 *   vigil-bench-mvar [--rows N] [--adapt RATE]
 *
 * For p = 4, 8 and 16 correlated channels (two latent drivers plus noise,
 * a deterministic generator), fits on 400 and on 50000 rows, then scores
 * N rows (default 2000000) with each fitted model, the covariance
 * adaptation at RATE (default VG_MVAR_ADAPT; 0 = off).  Prints, per p:
 * "p k fit400_us fit50k_ms ns_per_row rows_per_s folded ns_row_400
 * folded": ns_per_row with the 50000-row model (tight limits: its
 * adaptation gate is mostly shut on these rows), ns_row_400 with the
 * 400-row one (wide limits: most rows are folded, the adaptation's full
 * cost); folded is the fraction of rows folded into the adapted covariance
 * (re-decompositions times their period VG_MVAR_EIG_EVERY p, plus the rows
 * since the last, over the rows).  Wall clock
 * (CLOCK_MONOTONIC), one thread; the median of 5 runs of the scoring loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench_rng.h"
#include "vg_mvar.h"

#define BM_FIT 50000

static double bm__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Uniform in [-0.5, 0.5) from the corpora's splitmix64 step. */
static double bm__unif(uint64_t *s)
{
    return (double)(rng__splitmix(s) >> 11) * 0x1.0p-53 - 0.5;
}

/* n rows x p channels: channel j = (j+1) * a + (j % 3) * b + noise. */
static void bm__rows(double *x, size_t n, uint32_t p, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double a = bm__unif(&s), b = bm__unif(&s);
        for (uint32_t j = 0; j < p; j++)
            x[i * p + j] = (j + 1) * a + (j % 3) * b + 0.5 * bm__unif(&s);
    }
}

static int bm__cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Scores `rows` rows of test (4096 x p, cycled) with model *m and the
 * adaptation at rate adapt: *ns the median of 5 runs in ns a row, *folded
 * the fraction of rows folded into the covariance. */
static void bm__score(const vg_mvar_model *m, const double *test, uint32_t p, size_t rows,
                      double adapt, double *ns, double *folded)
{
    static vg_mvar s;
    double runs[5], sink = 0;
    for (int r = 0; r < 5; r++) {
        vg_mvar_init(&s, m, 0.5, 0.45);
        vg_mvar_set_adapt(&s, adapt);
        vg_mvar_out out;
        double a = bm__now();
        for (size_t i = 0; i < rows; i++) {
            vg_mvar_row(&s, &test[(i & 4095) * p], &out);
            sink += out.score;
        }
        runs[r] = (bm__now() - a) / (double)rows;
    }
    qsort(runs, 5, sizeof *runs, bm__cmp);
    *ns = runs[2] * 1e9 + (sink < 0 ? 1e-300 : 0);
    *folded = ((double)s.decomps * VG_MVAR_EIG_EVERY * p + s.folded) / (double)rows;
}

int main(int argc, char **argv)
{
    size_t rows = 2000000;
    double adapt = VG_MVAR_ADAPT;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0)
            rows = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--adapt") == 0)
            adapt = strtod(argv[i + 1], NULL);
    }
    static double x[BM_FIT * VG_MVAR_MAX], scratch[2 * BM_FIT], test[4096 * VG_MVAR_MAX];
    static const uint32_t ps[] = {4, 8, 16};
    const char *names[VG_MVAR_MAX];
    char nbuf[VG_MVAR_MAX][8];
    for (int j = 0; j < VG_MVAR_MAX; j++) {
        snprintf(nbuf[j], sizeof nbuf[j], "c%d", j);
        names[j] = nbuf[j];
    }
    if (!(adapt >= 0 && adapt <= 0.25))
        return 2;
    printf("p  k  fit400_us  fit50k_ms  ns_per_row  rows_per_s  folded  ns_row_400  folded\n");
    for (size_t t = 0; t < sizeof ps / sizeof *ps; t++) {
        uint32_t p = ps[t];
        vg_mvar_opts o;
        vg_mvar_opts_init(&o);
        o.var_explained = 0.999; /* keep most components: the upper bound */
        vg_mvar_model m, m400;
        bm__rows(x, BM_FIT, p, 1);
        double t0 = bm__now();
        if (vg_mvar_fit(names, p, x, 400, scratch, &o, &m400) != 0)
            return 1;
        double t1 = bm__now();
        if (vg_mvar_fit(names, p, x, BM_FIT, scratch, &o, &m) != 0)
            return 1;
        double t2 = bm__now();
        bm__rows(test, 4096, p, 2);
        double ns50k, f50k, ns400, f400;
        bm__score(&m, test, p, rows, adapt, &ns50k, &f50k);
        bm__score(&m400, test, p, rows, adapt, &ns400, &f400);
        printf("%-2u %-2u %9.1f  %9.2f  %10.1f  %10.0f  %6.3f  %10.1f  %6.3f\n", p, m.k,
               (t1 - t0) * 1e6, (t2 - t1) * 1e3, ns50k, 1e9 / ns50k, f50k, ns400, f400);
    }
    return 0;
}
