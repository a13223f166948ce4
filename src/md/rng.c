/* rng.c — xoshiro256** and splitmix64 (public-domain reference algorithms by Blackman and
 * Vigna), with Box–Muller normal deviates. */
#include "md/rng.h"

#include <math.h>

#include "core/random.h"

static uint64_t rotate_left(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void md_rng_seed(md_rng *rng, uint64_t seed) {
    uint64_t sm = seed;
    for (int k = 0; k < 4; k++)
        rng->s[k] = splitmix64_next(&sm);
    rng->spare = 0.0;
    rng->has_spare = 0;
}

uint64_t md_rng_next(md_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

double md_rng_uniform(md_rng *rng) {
    return (double)(md_rng_next(rng) >> 11) * 0x1.0p-53;
}

double md_rng_normal(md_rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    /* 1 - u lies in (0, 1], so the logarithm is finite */
    double radius = sqrt(-2.0 * log(1.0 - md_rng_uniform(rng)));
    double angle = 6.283185307179586 * md_rng_uniform(rng);
    rng->spare = radius * sin(angle);
    rng->has_spare = 1;
    return radius * cos(angle);
}
