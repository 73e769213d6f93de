/*
 * bench_rng.h - the benchmark corpora's seeded random stream (header only).
 *
 * xoshiro256** seeded through splitmix64 from (seed, series index), so a
 * corpus generator (bench/nab/gen_corpus.c, bench/mvar/gen_pump.c) writes
 * the same bytes for the same --seed on every machine.  Not vigil-sim's
 * generator (firmware-sim/rng.h): its seeding differs, and changing either
 * would change every published corpus figure.  The micro-benchmarks
 * (bench_core.c, mvar/bench_mvar.c) draw their synthetic data from the
 * splitmix64 step alone.
 *
 * Cost: O(1) per draw; rng_norm adds one log, one sqrt and one cos.
 */
#ifndef BENCH_RNG_H
#define BENCH_RNG_H

#include <math.h>
#include <stdint.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Random stream (xoshiro256**). */
typedef struct rng {
    uint64_t s[4]; /* generator state */
} rng;

static inline uint64_t rng__splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Seeds *r from (seed, series index). */
static inline void rng_seed(rng *r, uint64_t seed, uint64_t idx)
{
    uint64_t x = seed * 1000003ull + idx;
    for (int i = 0; i < 4; i++)
        r->s[i] = rng__splitmix(&x);
}

/* Next 64 random bits. */
static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, res = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3] << 45 | s[3] >> 19;
    return res;
}

/* Uniform in [0, 1). */
static inline double rng_unif(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller, one value per call). */
static inline double rng_norm(rng *r)
{
    double u = rng_unif(r) + 1e-300, v = rng_unif(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

#endif
