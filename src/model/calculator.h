/* calculator.h — the workspace behind mlpot_calculator: the neighbour graph and every array
 * one forward and one reverse sweep need, sized for a structure and kept across calls (MD
 * evaluates the same size thousands of times). Architectures implement forward (energies
 * through the readout input h) and backward (dE/dr_ij per edge) on it. */
#ifndef MLPOT_MODEL_CALCULATOR_H
#define MLPOT_MODEL_CALCULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "graph/neighbor_graph.h"
#include "model/model.h"

#define CALCULATOR_PARALLEL_MIN 64

struct mlpot_calculator {
    const mlpot_model *model;
    mlpot_graph *graph;
    int n_atoms;       /* of the current structure */
    int64_t n_edges;   /* of the current graph */
    int max_degree;    /* largest row of the current graph */
    int n_threads;     /* scratch blocks allocated */
    int *species;      /* [N] species index s_i */
    /* node arrays (sizes for N atoms) */
    double *h;         /* [L+1][N][F] node features entering each layer; h[L] is final */
    double *pre;       /* [L][N][F] cgcnn: h + agg/n_avg before sp; megnet: c_i [L][N][E] */
    double *node_a;    /* [N][2*W] cgcnn: P_self|P_nbr of the current layer; megnet: Q */
    double *d_node_a;  /* [N][2*W] adjoints of node_a */
    double *dh;        /* [N][F] adjoint of the current h */
    double *dh_next;   /* [N][F] */
    double *readout_t; /* [N][H] readout pre-activation */
    double *energies;  /* [N] E_i */
    double *virial;    /* [N][9] per-atom sum of dEdr d (x) d / r */
    double *dc;        /* megnet: [N][E] adjoint of c_i in the current block */
    /* edge arrays */
    double *dEdr;      /* [E] dE/dr_ij accumulated over layers */
    double *edge_a;    /* megnet: [L+1][E][Edim] edge features entering each block */
    double *d_edge_a;  /* megnet: [2][E][Edim] adjoints (current and next block) */
    /* parameter gradients: when `with_grad`, backward sweeps also accumulate dE/dtheta into
     * the views `grad` (flat array laid out like the parameters), running serially */
    int with_grad;
    model_views grad;
    /* loops over atoms run in parallel only for structures of at least CALCULATOR_PARALLEL_MIN
     * atoms and without gradients: below that, thread start-up costs more than it saves */
    int parallel;
    /* per-thread scratch for an atom's block of edges */
    double *scratch;
    size_t scratch_per_thread;
    size_t cap_node, cap_edge, cap_scratch;
};

/* Sizes of the per-thread scratch (doubles) for a row of `max_degree` edges. */
size_t cgcnn_scratch_size(const model_hparams *hp, int max_degree);
size_t megnet_scratch_size(const model_hparams *hp, int max_degree);
/* Message passing: fills c->h (and what backward needs) from the species and the graph. */
void cgcnn_forward(mlpot_calculator *c);
void megnet_forward(mlpot_calculator *c);
/* Given c->dh = dE/dh_L, accumulates dE/dr_ij into c->dEdr. */
void cgcnn_backward(mlpot_calculator *c);
void megnet_backward(mlpot_calculator *c);

/* E and dE/dtheta (added to grad[n_params]) of one structure; forces and stress are not
 * computed. Runs on the calling thread only, so that training can run frames in parallel
 * and add their gradients in a fixed order. */
mlpot_status calculator_energy_gradient(mlpot_calculator *c, const mlpot_structure *s,
                                        double *energy, double *grad);

/* Thread-local scratch of the calling thread. */
double *calculator_scratch(mlpot_calculator *c);

#endif
