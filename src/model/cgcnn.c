/* cgcnn.c — the "cgcnn" architecture of model.md §3: message passing with the concatenated
 * linear map factored as z_ij = h_i W_self + h_j W_nbr + g(r_ij) W_edge + b (node terms once
 * per atom, the edge term once per edge), gated messages m_ij = u(r) sigmoid(z^f) sp(z^c),
 * h_i <- sp(h_i + sum_j m_ij / n_avg).
 *
 * The reverse sweep keeps memory at O(N F): per-edge values are recomputed, not stored. Every
 * loop is a gather: pass A runs over the edges an atom receives (its row), pass B over the
 * rows again for the neighbour side, using r_ji = r_ij, so no two threads write one place. */
#include <string.h>

#include "model/calculator.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

/* scratch layout of a row of `deg` edges */
typedef struct {
    double *g, *dg, *u, *du, *z, *dz, *acc, *dagg;
} row_scratch;

size_t cgcnn_scratch_size(const model_hparams *hp, int max_degree) {
    size_t deg = (size_t)(max_degree > 0 ? max_degree : 1);
    size_t F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    return deg * (2 * K + 2 + 4 * F) + 2 * F;
}

static row_scratch scratch_layout(mlpot_calculator *c) {
    const model_hparams *hp = &c->model->hp;
    size_t deg = (size_t)(c->max_degree > 0 ? c->max_degree : 1);
    size_t F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    double *p = calculator_scratch(c);
    row_scratch s;
    s.g = p;
    s.dg = s.g + deg * K;
    s.u = s.dg + deg * K;
    s.du = s.u + deg;
    s.z = s.du + deg;
    s.dz = s.z + deg * 2 * F;
    s.acc = s.dz + deg * 2 * F;
    s.dagg = s.acc + F;
    return s;
}

/* Radial features of a list of distances: g, dg/dr (optional), u, du/dr (optional). */
static void radial_row(const model_hparams *hp, const double *dist, const int64_t *edges,
                       int64_t e0, int deg, row_scratch *s, int with_derivatives) {
    int K = hp->n_basis;
    for (int k = 0; k < deg; k++) {
        double r = edges ? dist[edges[k]] : dist[e0 + k];
        gaussian_basis_forward(s->g + (size_t)k * K, with_derivatives ? s->dg + (size_t)k * K : NULL,
                               r, hp->cutoff, K);
        s->u[k] = envelope_forward(r, hp->cutoff, hp->envelope_p, with_derivatives ? &s->du[k] : NULL);
    }
}

/* z rows of the edges (i <- j_k): g W_edge + b + P_self[i] + P_nbr[j_k]. `receiver` gives
 * the atom whose P_self is used for edge k (i fixed in pass A, the neighbour in pass B). */
static void edge_preactivations(const mlpot_calculator *c, const cgcnn_layer_params *p,
                                int deg, const int *self_atoms, int self_fixed,
                                const int *nbr_atoms, int nbr_fixed, row_scratch *s) {
    const model_hparams *hp = &c->model->hp;
    int F = hp->n_features, W = 2 * F;
    dense_forward(s->z, W, s->g, hp->n_basis, p->W_edge, p->b, deg, hp->n_basis, W);
    for (int k = 0; k < deg; k++) {
        int a = self_atoms ? self_atoms[k] : self_fixed;
        int b = nbr_atoms ? nbr_atoms[k] : nbr_fixed;
        const double *Ps = c->node_a + (size_t)a * 2 * W;
        const double *Pn = c->node_a + (size_t)b * 2 * W + W;
        double *zk = s->z + (size_t)k * W;
        for (int f = 0; f < W; f++)
            zk[f] += Ps[f] + Pn[f];
    }
}

/* P_self = h W_self and P_nbr = h W_nbr for all atoms (node terms, once per atom). */
static void node_terms(mlpot_calculator *c, const cgcnn_layer_params *p, const double *h) {
    int N = c->n_atoms, F = c->model->hp.n_features, W = 2 * F;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        double *P = c->node_a + (size_t)i * 2 * W;
        dense_forward(P, W, h + (size_t)i * F, F, p->W_self, NULL, 1, F, W);
        dense_forward(P + W, W, h + (size_t)i * F, F, p->W_nbr, NULL, 1, F, W);
    }
}

void cgcnn_forward(mlpot_calculator *c) {
    const model_hparams *hp = &c->model->hp;
    const mlpot_graph *g = c->graph;
    int N = c->n_atoms, F = hp->n_features, W = 2 * F;
    double inv_n = 1.0 / hp->avg_neighbors;
    for (int l = 0; l < hp->n_layers; l++) {
        const cgcnn_layer_params *p = &c->model->v.cgcnn[l];
        const double *h_in = c->h + (size_t)l * N * F;
        double *h_out = c->h + (size_t)(l + 1) * N * F;
        double *pre = c->pre + (size_t)l * N * F;
        node_terms(c, p, h_in);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) {
            row_scratch s = scratch_layout(c);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            radial_row(hp, g->distance, NULL, e0, deg, &s, 0);
            edge_preactivations(c, p, deg, NULL, i, g->neighbor + e0, 0, &s);
            memset(s.acc, 0, (size_t)F * sizeof *s.acc);
            for (int k = 0; k < deg; k++) {
                const double *zk = s.z + (size_t)k * W;
                for (int f = 0; f < F; f++)
                    s.acc[f] += s.u[k] * (nn_sigmoid(zk[f]) * nn_softplus(zk[F + f]));
            }
            for (int f = 0; f < F; f++)
                pre[(size_t)i * F + f] = h_in[(size_t)i * F + f] + s.acc[f] * inv_n;
            softplus_forward(h_out + (size_t)i * F, pre + (size_t)i * F, F);
        }
    }
}

void cgcnn_backward(mlpot_calculator *c) {
    const model_hparams *hp = &c->model->hp;
    const mlpot_graph *g = c->graph;
    int N = c->n_atoms, F = hp->n_features, W = 2 * F, K = hp->n_basis;
    double inv_n = 1.0 / hp->avg_neighbors;
    for (int l = hp->n_layers - 1; l >= 0; l--) {
        const cgcnn_layer_params *p = &c->model->v.cgcnn[l];
        const double *h_in = c->h + (size_t)l * N * F;
        const double *pre = c->pre + (size_t)l * N * F;
        double *dpre = c->dh_next;
        node_terms(c, p, h_in);
        /* h_out = sp(pre): dpre = dh_out * sigmoid(pre); the sum of messages gets dpre/n_avg */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) {
            memset(dpre + (size_t)i * F, 0, (size_t)F * sizeof *dpre);
            softplus_backward(dpre + (size_t)i * F, c->dh + (size_t)i * F, pre + (size_t)i * F, F);
            memset(c->d_node_a + (size_t)i * 2 * W, 0, (size_t)2 * W * sizeof *c->d_node_a);
        }
        /* pass A: the edges atom i receives: dP_self[i] and dE/dr_ij */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) {
            row_scratch s = scratch_layout(c);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            if (deg == 0)
                continue;
            radial_row(hp, g->distance, NULL, e0, deg, &s, 1);
            edge_preactivations(c, p, deg, NULL, i, g->neighbor + e0, 0, &s);
            for (int f = 0; f < F; f++)
                s.dagg[f] = dpre[(size_t)i * F + f] * inv_n;
            memset(s.dz, 0, (size_t)deg * W * sizeof *s.dz);
            double *dP_self = c->d_node_a + (size_t)i * 2 * W;
            for (int k = 0; k < deg; k++) {
                const double *zk = s.z + (size_t)k * W;
                double *dzk = s.dz + (size_t)k * W;
                double dm_du = 0;
                for (int f = 0; f < F; f++) {
                    s.acc[f] = s.u[k] * s.dagg[f];
                    dm_du += s.dagg[f] * nn_sigmoid(zk[f]) * nn_softplus(zk[F + f]);
                }
                gate_backward(dzk, s.acc, zk, F);
                for (int f = 0; f < W; f++)
                    dP_self[f] += dzk[f];
                c->dEdr[e0 + k] += s.du[k] * dm_du;
            }
            /* dg = dz W_edge^T; dE/dr += dg . dg/dr */
            memset(s.g, 0, (size_t)deg * K * sizeof *s.g);
            dense_backward(s.g, K, NULL, NULL, s.dz, W, NULL, 0, p->W_edge, deg, K, W);
            for (int k = 0; k < deg; k++)
                c->dEdr[e0 + k] +=
                    gaussian_basis_backward(s.g + (size_t)k * K, s.dg + (size_t)k * K, K);
        }
        /* pass B: atom j as the neighbour of the edges (i <- j): dP_nbr[j], gathered over
         * j's own row (edge j <- i has the same length as i <- j). */
#pragma omp parallel for schedule(static)
        for (int j = 0; j < N; j++) {
            row_scratch s = scratch_layout(c);
            int64_t e0 = g->row_start[j];
            int deg = (int)(g->row_start[j + 1] - e0);
            if (deg == 0)
                continue;
            const int *senders = g->neighbor + e0; /* the receiving atoms i of (i <- j) */
            radial_row(hp, g->distance, NULL, e0, deg, &s, 0);
            edge_preactivations(c, p, deg, senders, 0, NULL, j, &s);
            double *dP_nbr = c->d_node_a + (size_t)j * 2 * W + W;
            for (int k = 0; k < deg; k++) {
                int i = senders[k];
                const double *zk = s.z + (size_t)k * W;
                double *dzk = s.dz;
                memset(dzk, 0, (size_t)W * sizeof *dzk);
                for (int f = 0; f < F; f++)
                    s.acc[f] = s.u[k] * dpre[(size_t)i * F + f] * inv_n;
                gate_backward(dzk, s.acc, zk, F);
                for (int f = 0; f < W; f++)
                    dP_nbr[f] += dzk[f];
            }
        }
        /* dh_in = dpre (the residual) + dP_self W_self^T + dP_nbr W_nbr^T */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < N; i++) {
            double *dh = c->dh + (size_t)i * F;
            memcpy(dh, dpre + (size_t)i * F, (size_t)F * sizeof *dh);
            const double *dP = c->d_node_a + (size_t)i * 2 * W;
            dense_backward(dh, F, NULL, NULL, dP, W, NULL, 0, p->W_self, 1, F, W);
            dense_backward(dh, F, NULL, NULL, dP + W, W, NULL, 0, p->W_nbr, 1, F, W);
        }
    }
}
