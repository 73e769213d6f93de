/*
 * vg_adapt.c - adaptive baseline, surprise components and their
 * self-calibration (see vg_adapt.h for the design): parameters, reset, and
 * the exported step, whose body is in vg_adapt.inc (shared with
 * vg_detect.c, which inlines it).
 */
#include <string.h>

#include "vg_adapt.h"
#include "vg_adapt.inc"

void vg_adapt_params_init(vg_adapt_params *p)
{
    p->alpha = 0.3;
    p->beta = 0.02;
    p->a_scale = 0.01;
    p->a_var = 0.1;
    p->a_cal = 0.002;
    p->a_fast = 0.03;
    p->a_slow = 0.005;
    p->a_prof = 0.1;
    p->a_season = 0.05;
    p->z_cal = 4.0;
    p->warmup = 64;
    p->shift_n = 3;
}

void vg_adapt_init(vg_adapt *a)
{
    memset(a, 0, sizeof(*a));
}

double vg_adapt_step(vg_adapt *a, const vg_adapt_params *p, int64_t t_us, double x)
{
    return adapt__step(a, p, t_us, x);
}
