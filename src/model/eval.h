/* eval.h — what the layers of an architecture see during one evaluation: the model's
 * parameters (and gradient views), the graph, species, the node features of every layer, the
 * node-feature adjoint, the edge-vector adjoints dE/dd_e of model.md §6 and the workspace the
 * architecture asked for. The calculator fills it; kernels include this header only. */
#ifndef MLPOT_MODEL_EVAL_H
#define MLPOT_MODEL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "graph/neighbor_graph.h"
#include "graph/triplets.h"
#include "model/model.h"

struct eval_context {
    const mlpot_model *model;
    const model_hparams *hp;
    const void *params;  /* the architecture's views into the parameters */
    const mlpot_graph *graph;
    const triplet_list *triplets; /* built when the architecture has a triplet_cutoff */
    int n_atoms;
    int64_t n_edges;
    int max_degree;      /* largest row of the graph */
    const int *species;  /* [N] species index s_i */
    double *h;           /* [L+1][N][F] node features entering each layer; h[L] is final */
    double *dh;          /* [N][F] dE/dh: of h_L on entry to backward, of h_0 on return */
    double *edge_adjoint; /* [E][3] dE/dd_e, accumulated by backward (model.md §6) */
    double *buffer[ARCH_MAX_BUFFERS]; /* the architecture's workspace arrays */
    /* with_grad: the reverse sweep also adds dE/dtheta into `grad` (the architecture's views
     * into the gradient array) and runs serially */
    int with_grad;
    void *grad;
    /* loops over atoms run in parallel (omp for, static schedule) only when set */
    int parallel;
    double *scratch;     /* per-thread scratch: scratch_per_thread doubles per thread */
    int n_threads;       /* threads the workspace was sized for */
    size_t scratch_per_thread;
    /* A subset evaluation (domain decomposition) is trimmed to what the contributing atoms'
     * energy needs: hop[i] is atom i's distance in edges from the nearest contributing atom
     * (capped at L + 2), hop_order the atoms by hop distance (breadth-first order) and
     * n_within[k] the number with hop <= k (k = 0..L+1). Layer l (0-based) computes its
     * output h_{l+1} (and the edge features of rows) only for atoms with hop <= L-1-l, which
     * reads h_l up to hop L-l; the readout runs on hop 0. hop == NULL: every atom. */
    const int *hop;
    const int *hop_order;
    int n_within[MODEL_MAX_LAYERS + 2];
};

/* How many atoms a loop over "hop <= k" visits (all atoms when not trimmed). */
static inline int eval_n_within(const eval_context *ctx, int k) {
    if (!ctx->hop)
        return ctx->n_atoms;
    int top = ctx->hp->n_layers + 1;
    return k < 0 ? 0 : ctx->n_within[k < top ? k : top];
}

/* The n-th atom of such a loop: loops run `for (n = 0; n < eval_n_within(ctx, k); n++)` on
 * atom i = eval_atom(ctx, n); the atoms with hop <= k come first, in a fixed order. */
static inline int eval_atom(const eval_context *ctx, int n) {
    return ctx->hop ? ctx->hop_order[n] : n;
}

/* Whether atom i is within k hops of the contributing atoms (always, when not trimmed). */
static inline int eval_within(const eval_context *ctx, int i, int k) {
    return !ctx->hop || ctx->hop[i] <= k;
}

/* Scratch of the calling thread. */
double *eval_scratch(const eval_context *ctx);

/* Adds s * d_e / r_e to the adjoint of edge e: the contribution of a term that depends on
 * the edge only through its length, with s = its dE/dr (model.md §6). */
static inline void eval_add_radial_adjoint(eval_context *ctx, int64_t e, double s) {
    const double *d = ctx->graph->vector + 3 * e;
    double a = s / ctx->graph->distance[e];
    double *g = ctx->edge_adjoint + 3 * e;
    g[0] += a * d[0];
    g[1] += a * d[1];
    g[2] += a * d[2];
}

#endif
