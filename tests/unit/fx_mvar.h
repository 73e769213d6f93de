/*
 * fx_mvar.h - the simulated 4-channel machine shared by test_mvar.c and
 * test_mvar_adapt.c: channels flow, pressure and current follow one
 * latent load (strongly correlated), temp is independent.
 */
#ifndef VG_FX_MVAR_H
#define VG_FX_MVAR_H
#include <stddef.h>
#include <stdint.h>

#include "vg_mvar.h"

#define NT 20000 /* rows the arrays below hold */

extern double xs[NT * 4];          /* rows, row-major: machine() fills them */
extern double scratch[2 * NT];     /* vg_mvar_fit's scratch */
extern const char *const names4[]; /* the four channel names */

/* Row of the machine from the generator state *rng (4 values). */
void machine_row(uint64_t *rng, double *row);
/* Fills xs with n <= NT rows from seed. */
void machine(uint64_t seed, size_t n);
/* Fits m from xs[0..n) with the default options (CUnit-fatal on error). */
void fit_default(vg_mvar_model *m, size_t n);
#endif
