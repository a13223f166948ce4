/* extrapolation.h — the per-species ranges a model saw in training (model.h model_ranges):
 * gathered from the calculator's evaluations of the training frames, and compared with a
 * structure's own to warn when a prediction extrapolates (mlpot_calculator_extrapolation). */
#ifndef MLPOT_MODEL_EXTRAPOLATION_H
#define MLPOT_MODEL_EXTRAPOLATION_H

#include "model/model.h"

/* Empty ranges (min = +inf, max = -inf) for S species and F features. */
mlpot_status model_ranges_create(int n_species, int n_features, model_ranges **out);
void model_ranges_free(model_ranges *r);
/* Widens r by what the calculator's last full evaluation saw (graph, species, h_L). */
void model_ranges_add(model_ranges *r, const mlpot_calculator *c);
/* m->ranges (replacing any) from evaluations of m on frames[0..n). */
mlpot_status model_ranges_gather(mlpot_model *m, mlpot_structure *const *frames, int n);

#endif
