/*
 * rng.h - the simulator's self-contained pseudo-random number generator.
 *
 * xoshiro256** (Blackman & Vigna) seeded through splitmix64.  Every random
 * draw in vigil-sim comes from one of these generators, never from rand(),
 * so that a run is reproducible to the byte for a given --seed on a given
 * build.  Each device owns several independent streams (one per purpose, see
 * physics.h) derived from (seed, stream id): a fault or a stopped machine on
 * one channel never shifts the noise sequence of another.
 *
 * Cost: every call is O(1), a handful of integer operations; sim_rng_normal()
 * adds one log, one sqrt and one cos.  No allocation, no global state.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4]; /* xoshiro256** state; never all zero after seeding */
} sim_rng;

/* Seeds *r from the run seed and a stream id (e.g. device * 16 + purpose).
 * Different (seed, stream) pairs give statistically independent streams. */
void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);

/* Next 64 uniformly distributed bits. */
uint64_t sim_rng_u64(sim_rng *r);

/* Uniform double in [0, 1) with 53 random bits. */
double sim_rng_uniform(sim_rng *r);

/* Standard normal deviate (Box-Muller; consumes exactly two u64 draws). */
double sim_rng_normal(sim_rng *r);

#endif
