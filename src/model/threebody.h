/* threebody.h — the three-body edge update of architecture "m3gnet" (model.md §8) as pure
 * functions on explicit arrays: forward (sums S and the gated update of the edge features) and
 * the hand-written reverse sweep (node-feature, edge-vector and parameter adjoints). */
#ifndef MLPOT_MODEL_THREEBODY_H
#define MLPOT_MODEL_THREEBODY_H

#include <stddef.h>

#include "graph/neighbor_graph.h"
#include "graph/triplets.h"

/* Bounds of the sizes (stack scratch per thread; a model file beyond them is rejected). */
#define THREEBODY_MAX_Q 512             /* Q = N (lmax + 1) */
#define THREEBODY_MAX_LMAX 64           /* lmax */
#define THREEBODY_MAX_EDGE_FEATURES 512 /* E */

/* Hyper-parameters of one three-body update (model.md §8; root attributes of formats.md). */
typedef struct {
    int n_features;       /* F, node feature width */
    int n_edge_features;  /* E, edge feature width */
    int n_radial;         /* N = n_threebody_basis (>= 2) */
    int lmax;             /* lambda = threebody_lmax (>= 0) */
    int envelope_p;       /* p of the envelope u_3 (the model's envelope_p) */
    double cutoff;        /* r_3 = threebody_cutoff, Å; the triplet list must be built with it */
    double avg_neighbors; /* n_3 = avg_threebody_neighbors (> 0) */
} threebody_hparams;

/* Parameters of block t (`/layers/t/threebody/...`), row-major as stored, Q = N (lmax + 1),
 * component index p = l N + n (Legendre degree l, radial index n). */
typedef struct {
    const double *W_alpha; /* [F][Q] */
    const double *b_alpha; /* [Q] */
    const double *W_value; /* [Q][E] */
    const double *W_gate;  /* [Q][E] */
} threebody_params;

/* Gradient accumulators with the same shapes (every pointer non-NULL). */
typedef struct {
    double *W_alpha, *b_alpha, *W_value, *W_gate;
} threebody_grads;

/* The atoms a sweep handles when it is trimmed to a subset (model/eval.h): receiving atoms
 * order[0..n_rows) (their short edges, triplets and rows of a), gates alpha_k of atoms
 * order[0..n_gates) (n_gates >= n_rows, every neighbour of a receiving atom among them), and
 * hop[] with max_hop: atom i is a receiving atom iff hop[i] <= max_hop. Arrays of other atoms
 * and edges are neither read nor written. A NULL threebody_atoms: every atom. */
typedef struct {
    const int *order, *hop;
    int n_rows, n_gates, max_hop;
} threebody_atoms;

/* Q = N (lmax + 1). */
int threebody_q(const threebody_hparams *hp);

/* MLPOT_OK when the sizes are in range (model.md §8) and within the THREEBODY_MAX_* bounds;
 * otherwise an error naming the attribute. */
mlpot_status threebody_check(const threebody_hparams *hp);

/* Doubles of workspace the functions below need for list t: (n_atoms + n_short) Q for the
 * forward functions (for_backward = 0); threebody_backward needs n_threads 2 t->max_short Q more
 * (n_threads: the most OpenMP threads it should use, e.g. omp_get_max_threads(); with less
 * room it runs on fewer threads, never fewer than one, with the same results). The workspace
 * holds no state between calls. */
size_t threebody_workspace_size(const threebody_hparams *hp, const triplet_list *t,
                                int for_backward, int n_threads);

/* The sums of model.md §8 for every short edge, in slot order of t:
 *   alpha_k = sigmoid(h_k W_alpha + b_alpha),
 *   S[s][l N + n] = (u_3(r_a)/n_3) sum_{b != a} u_3(r_b) P_l(cos theta_ab) q_n(r_b) alpha_{k(b)}[l
 * N + n] with a = t->short_edge[s] and b over the other short edges of a's receiving atom. The part
 * of a term that does not depend on a (u_3 q_n alpha) is formed once per edge b, so the work per
 * triplet is one cos theta, the Legendre recurrence and Q multiply-adds.
 * S [n_short][Q] out; h [n_atoms][F]; g and t of the same structure (t built from g with
 * hp->cutoff); work of threebody_workspace_size(hp, t, 0, 1) doubles or more.
 * parallel != 0: OpenMP over receiving atoms (results do not depend on the thread count). */
mlpot_status threebody_sums(double *S, const threebody_hparams *hp, const threebody_params *w,
                            const mlpot_graph *g, const triplet_list *t, const double *h,
                            double *work, size_t work_len, const threebody_atoms *atoms,
                            int parallel);

/* a[e] += sp2(S_s W_value) * sigmoid(S_s W_gate) for every short edge e = t->short_edge[s]
 * (model.md §8), in place; other edges keep their a (their S is 0 and sp2(0) = 0).
 * a [n_edges][E] in graph edge order; S [n_short][Q] from threebody_sums. */
mlpot_status threebody_apply(double *a, const double *S, const threebody_hparams *hp,
                             const threebody_params *w, const triplet_list *t,
                             const threebody_atoms *atoms, int parallel);

/* threebody_sums then threebody_apply: a_out = a_in + update (a_out may equal a_in: in place).
 * S [n_short][Q] receives the sums; keep it for threebody_backward, or recompute it later with
 * threebody_sums on the same h (it does not depend on a). */
mlpot_status threebody_forward(double *a_out, double *S, const double *a_in,
                               const threebody_hparams *hp, const threebody_params *w,
                               const mlpot_graph *g, const triplet_list *t, const double *h,
                               double *work, size_t work_len, const threebody_atoms *atoms,
                               int parallel);

/* The reverse sweep of threebody_forward, accumulating (+=) into
 *   d_h [n_atoms][F]:     dE/dh through the gates alpha (gathered per atom over reverse edges);
 *   g_edge [n_edges][3]:  the edge-vector adjoints dE/dd_e of model.md §6/§8: radial terms of
 *                         u_3 and q_n, the angular terms d cos theta_ab / d d_a and d d_b of
 *                         every triplet holding the edge, the envelope term of u_3(r_a);
 *   grads (may be NULL):  parameter gradients; when given the sweep runs on one thread.
 * d_a [n_edges][E] is the adjoint of a_out. The update is additive and S does not read a, so
 * dE/da_in = d_a exactly: the caller keeps using the same array for the block below.
 * S is the array threebody_sums / threebody_forward filled for this h and geometry.
 * work: threebody_workspace_size(hp, t, 1, n_threads) doubles or more. Writes of d_h row k and of
 * g_edge rows of atom i's edges happen on one thread each, in a fixed order: bit-identical results
 * for any number of threads. */
mlpot_status threebody_backward(double *d_h, double *g_edge, const threebody_grads *grads,
                                const double *d_a, const double *S, const threebody_hparams *hp,
                                const threebody_params *w, const mlpot_graph *g,
                                const triplet_list *t, const double *h, double *work,
                                size_t work_len, const threebody_atoms *atoms, int parallel);

#endif
