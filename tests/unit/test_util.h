/*
 * test_util.h - small helpers shared by the unit tests: a seeded PRNG
 * (splitmix64, so streams are the same on every platform), uniform and
 * normal variates, and a relative-tolerance comparison.
 */
#ifndef VG_TEST_UTIL_H
#define VG_TEST_UTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

static inline uint64_t vg_test_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double vg_test_uniform(uint64_t *s)
{
    return (double)(vg_test_rand(s) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller). */
static inline double vg_test_normal(uint64_t *s)
{
    double u = vg_test_uniform(s), v = vg_test_uniform(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* |a - b| <= tol * max(1, |a|, |b|). */
static inline bool vg_test_close(double a, double b, double tol)
{
    double m = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= tol * m;
}

#endif
