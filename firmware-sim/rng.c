/*
 * rng.c - xoshiro256** with splitmix64 seeding; see rng.h.
 *
 * Written from the published algorithm descriptions.  Box-Muller consumes a
 * fixed two draws per deviate so that the number of draws per simulated tick
 * never depends on the values drawn.
 */
#include "rng.h"

#include <math.h>

#define SIM_TWO_PI 6.283185307179586476925286766559

/* splitmix64 step: advances *x and returns a well-mixed 64-bit value. */
static uint64_t rng__splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Rotates x left by k bits (0 < k < 64). */
static uint64_t rng__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* See rng.h.  The stream id is mixed with an odd constant so that stream
 * ids that differ in few bits still give unrelated seeds. */
void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL + 0x8bb84b93962eacc9ULL);
    (void)rng__splitmix(&x);
    for (int i = 0; i < 4; i++)
        r->s[i] = rng__splitmix(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

/* See rng.h. */
uint64_t sim_rng_u64(sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rng__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng__rotl(s[3], 45);
    return out;
}

/* See rng.h. */
double sim_rng_uniform(sim_rng *r)
{
    return (double)(sim_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* See rng.h.  u1 is taken from (0, 1] so that log() is finite. */
double sim_rng_normal(sim_rng *r)
{
    double u1 = 1.0 - sim_rng_uniform(r);
    double u2 = sim_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(SIM_TWO_PI * u2);
}
