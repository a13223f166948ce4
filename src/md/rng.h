/* rng.h — the random numbers of MD: xoshiro256** (Blackman and Vigna, 2018) seeded through
 * splitmix64, uniform and normal deviates. The state lives in the caller's struct (no global
 * state), so a seed gives the same sequence on every machine and every thread count. */
#ifndef MLPOT_MD_RNG_H
#define MLPOT_MD_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    double spare;  /* the second normal deviate of the last Box–Muller pair */
    int has_spare;
} md_rng;

/* Seeds the four state words from splitmix64(seed), so that nearby seeds give unrelated
 * streams. */
void md_rng_seed(md_rng *rng, uint64_t seed);
/* The next 64 random bits. */
uint64_t md_rng_next(md_rng *rng);
/* A uniform deviate in [0, 1) with 53 random bits. */
double md_rng_uniform(md_rng *rng);
/* A standard normal deviate (Box–Muller; pairs are used in full). */
double md_rng_normal(md_rng *rng);

#endif
