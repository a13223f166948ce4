/* random.h — splitmix64 (Steele, Lea and Flood 2014; public-domain reference algorithm), the one
 * generator behind every seeded choice in mlpot (model initialisation, shuffles, dataset splits,
 * MD seeding, tests): the state is the caller's, so a seed gives the same numbers everywhere. */
#ifndef MLPOT_CORE_RANDOM_H
#define MLPOT_CORE_RANDOM_H

#include <math.h>
#include <stdint.h>

/* The next 64 random bits; advances *state. */
static inline uint64_t splitmix64_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double splitmix64_uniform(uint64_t *state) {
    return (double)(splitmix64_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* N(0, 1) by Box-Muller from two uniforms (one normal per call). */
static inline double splitmix64_normal(uint64_t *state) {
    double u = splitmix64_uniform(state), w = splitmix64_uniform(state);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * w);
}

#endif
