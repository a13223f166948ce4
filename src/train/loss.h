/* loss.h — the training loss of one frame and its exact-to-1e-6 gradient with respect to every
 * model parameter: weighted squared errors of the energy per atom, the force components and the
 * stress components. A batch's loss is the sum of its frames' contributions, each term divided
 * by the batch's normaliser for that term (so the terms are means over what is labelled). */
#ifndef MLPOT_TRAIN_LOSS_H
#define MLPOT_TRAIN_LOSS_H

#include <stddef.h>

#include "mlpot/mlpot.h"

typedef struct {
    double energy; /* weight of the energy-per-atom term (eV^-2 atom^2) */
    double force;  /* weight of the force term ((eV/Å)^-2) */
    double stress; /* weight of the stress term ((eV/Å^3)^-2) */
} loss_weights;

/* Normalisers of a batch: sum of frame weights over frames with an energy; sum of frame weight
 * x labelled force components; sum of frame weights x 9 over frames with a stress. */
typedef struct {
    double energy, force, stress;
} loss_norms;

/* Errors of one frame, for metrics (unweighted). */
typedef struct {
    int has_energy, n_force_components, has_stress;
    double energy_per_atom_error;       /* predicted - reference, eV/atom */
    double force_abs_sum, force_sq_sum; /* over labelled components */
    double stress_abs_sum; /* over the six independent components (model.md §9) */
    double stress_sq_sum;  /* over the nine components the loss weighs */
} frame_errors;

/* Buffers of frame_loss, kept across frames so that the training loop allocates nothing once
 * sizes settle (one per thread). */
typedef struct {
    size_t n_params, cap_atoms;
    double *forces, *direction;  /* [atoms][3] */
    double *g_plus, *g_minus;    /* [n_params] */
    mlpot_structure *moved;      /* the displaced or strained copy of the frame */
} loss_workspace;

mlpot_status loss_workspace_create(loss_workspace **out, size_t n_params);
void loss_workspace_free(loss_workspace *ws);

/* Adds what frame `s` (with its labels) contributes to a batch's normalisers. */
void loss_norms_add(loss_norms *norms, const mlpot_structure *s, double frame_weight);

/* The frame's contribution to the batch loss (*loss) and, if grad is not NULL, to its gradient
 * (added to grad[n_params]). The force and stress terms need d/dtheta of dE/dr and dE/deps:
 * they are taken as central differences of dE/dtheta along the error direction (a displacement
 * of at most 1e-4 Å, a strain of at most 1e-5), which the tests check against finite
 * differences of the loss to 1e-6 relative. Runs on the calling thread. */
mlpot_status frame_loss(mlpot_calculator *c, const mlpot_structure *s, double frame_weight,
                        const loss_weights *w, const loss_norms *norms, loss_workspace *ws,
                        double *loss, double *grad, frame_errors *errors);

#endif
