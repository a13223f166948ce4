/* frame_checks.h — what dataset info, train and eval check of every training frame: a valid
 * geometry at the model's cutoff and labels within physical bounds, and labels far outside the
 * data's own distribution. */
#ifndef MLPOT_TRAIN_FRAME_CHECKS_H
#define MLPOT_TRAIN_FRAME_CHECKS_H

#include "mlpot/mlpot.h"

/* The one check of a training frame. Its geometry builds a neighbour graph at `cutoff` (no coinciding atoms, no cell too thin for
 * it: model.md §1) and its labels lie within bounds no calculation produces (|E| per atom
 * below 1e6 eV, |F| below 1e6 eV/Å, |σ| below 1e6 GPa). `g` is reused across frames. The
 * message reads "<file>: frame <k>: ...". */
mlpot_status dataset_check_frame(const mlpot_structure *s, double cutoff, mlpot_graph *g,
                                 const char *file, int frame);
/* Indices (into e, at most max_out) of values more than n_sigma robust standard deviations
 * (1.4826 x the median absolute deviation) from the median, NaN skipped; returns how many
 * there are in all. Labels far outside the data's own distribution are warned about. */
int dataset_outliers(const double *e, int n, double n_sigma, int *out, int max_out);
/* The warning threshold of train and dataset info, in robust standard deviations. */
#define DATASET_OUTLIER_SIGMA 20.0

#endif
