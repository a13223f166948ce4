/* readout.h — the readout and energy of model.md §5, shared by every architecture:
 * e_i = sp(h_i W1 + b1) W2 + b2, E_i = scale e_i + shift + species_energy[s_i]. */
#ifndef MLPOT_MODEL_READOUT_H
#define MLPOT_MODEL_READOUT_H

#include "model/eval.h"

/* E_i of every atom from the final node features ctx->h[L]; keeps the pre-activation
 * t [N][H] for the reverse sweep. */
void readout_forward(const eval_context *ctx, double *t, double *energies);
/* dE/dh_L into ctx->dh, seeded with dE/dE_i = 1 for contributing atoms and 0 for the others
 * (contributing NULL: every atom); with `grad` (common gradient views, serial runs only) also
 * dE/d(readout parameters) and dE/d(species_energy). Uses H doubles of thread scratch. */
void readout_backward(const eval_context *ctx, const double *t, const int *contributing,
                      model_views *grad);

#endif
