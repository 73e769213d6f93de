/*
 * fx_mvar.c - the simulated machine of the multivariate detector's tests
 * (see fx_mvar.h): rows from two latent drivers, fitted with the default
 * options.  The row arrays are static storage (xs is 640 KiB).
 */
#include <CUnit/CUnit.h>

#include "fx_mvar.h"
#include "test_util.h"
#include "vg_error.h"

double xs[NT * 4], scratch[2 * NT];
const char *const names4[] = {"flow", "pressure", "current", "temp"};

/* Row i of a 4-channel machine: two latent drivers, rho(flow, pressure)
 * and rho(flow, current) high, temp independent. */
void machine_row(uint64_t *rng, double *row)
{
    double load = vg_test_normal(rng), e = vg_test_normal(rng);
    row[0] = 10 + 2 * load + 0.2 * vg_test_normal(rng);
    row[1] = 5 + 1 * load + 0.1 * vg_test_normal(rng);
    row[2] = 20 + 3 * load + 0.3 * vg_test_normal(rng);
    row[3] = 40 + 0.5 * e;
}

void machine(uint64_t seed, size_t n)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++)
        machine_row(&rng, &xs[i * 4]);
}

void fit_default(vg_mvar_model *m, size_t n)
{
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(names4, 4, xs, n, scratch, &o, m), VG_OK);
}
