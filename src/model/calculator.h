/* calculator.h — the workspace behind mlpot_calculator: the neighbour graph and every array
 * one forward and one reverse sweep need, sized for a structure and kept across calls (MD
 * evaluates the same size thousands of times). The architecture's layers see it through an
 * eval_context (eval.h) and never include this header. */
#ifndef MLPOT_MODEL_CALCULATOR_H
#define MLPOT_MODEL_CALCULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "model/eval.h"

#define CALCULATOR_PARALLEL_MIN 64

struct mlpot_calculator {
    const mlpot_model *model;
    mlpot_graph *graph;
    triplet_list triplets; /* when the architecture needs them */
    int n_threads;     /* scratch blocks allocated */
    int *species;      /* [N] */
    double *h;         /* [L+1][N][F] */
    double *dh;        /* [N][F] */
    double *readout_t; /* [N][H] readout pre-activation */
    double *energies;  /* [N] E_i */
    double *virial;    /* [N][9] per-atom sum of d_e (x) dE/dd_e over the atom's row */
    double *edge_adjoint; /* [E][3] */
    double *buffer[ARCH_MAX_BUFFERS];
    size_t cap_buffer[ARCH_MAX_BUFFERS];
    double *scratch;
    int *hop, *hop_order; /* [N] of a subset evaluation (eval.h) */
    size_t cap_node, cap_edge, cap_scratch;
    /* 1: a subset evaluation runs every layer on every atom (tests and benchmarks compare it
     * with the trimmed one) */
    int no_trim;
    /* gradient views (common and the architecture's) bound to the caller's array */
    model_views grad;
    void *grad_arch;
    eval_context ctx;
};

/* E and dE/dtheta (added to grad[n_params]) of one structure; forces and stress are not
 * computed. Runs on the calling thread only, so that training can run frames in parallel
 * and add their gradients in a fixed order. */
mlpot_status calculator_energy_gradient(mlpot_calculator *c, const mlpot_structure *s,
                                        double *energy, double *grad);

#endif
