/* split.h — a dataset's frames split at random into parts of given fractions, the same on every
 * machine: splitmix64 seeded with `seed` drives a Fisher-Yates shuffle without modulo bias, and
 * part p receives the shuffled positions round(c(p-1) F) .. round(c(p) F) - 1, c(p) the sum of
 * the first p fractions (mlpot dataset split). */
#ifndef MLPOT_TRAIN_SPLIT_H
#define MLPOT_TRAIN_SPLIT_H

#include <stdint.h>

#include "mlpot/mlpot.h"

/* part[k] = the part of frame k; counts[p] = frames in part p. */
mlpot_status split_assign_parts(int n_frames, const double *fractions, int n_parts,
                                uint64_t seed, int *part, int64_t *counts);

#endif
