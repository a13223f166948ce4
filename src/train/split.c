/* split.c — the reproducible random split of a dataset's frames into parts (split.h). */
#include "train/split.h"

#include <math.h>
#include <stdlib.h>

#include "core/memory.h"
#include "core/random.h"

/* Uniform in [0, n) without modulo bias: values at or above the largest multiple of n that fits
 * below 2^64 - 1 are drawn again. */
static uint64_t uniform_below(uint64_t *rng, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = splitmix64_next(rng);
    while (r >= limit);
    return r % n;
}

mlpot_status split_assign_parts(int n_frames, const double *fractions, int n_parts,
                                uint64_t seed, int *part, int64_t *counts) {
    int *perm = NULL;
    mlpot_status st = mem_calloc(&perm, (size_t)(n_frames ? n_frames : 1), sizeof *perm);
    if (st)
        return st;
    for (int k = 0; k < n_frames; k++)
        perm[k] = k;
    uint64_t rng = seed;
    for (int i = n_frames - 1; i > 0; i--) {
        int j = (int)uniform_below(&rng, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    double cumulative = 0;
    int64_t begin = 0;
    for (int p = 0; p < n_parts; p++) {
        cumulative += fractions[p];
        int64_t end = p == n_parts - 1 ? n_frames : llround(cumulative * n_frames);
        if (end > n_frames)
            end = n_frames;
        if (end < begin)
            end = begin;
        for (int64_t j = begin; j < end; j++)
            part[perm[j]] = p;
        counts[p] = end - begin;
        begin = end;
    }
    free(perm);
    return MLPOT_OK;
}
