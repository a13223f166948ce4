/* cgcnn.c — the "cgcnn" architecture of model.md §3: message passing with the concatenated
 * linear map factored as z_ij = h_i W_self + h_j W_nbr + g(r_ij) W_edge + b (node terms once
 * per atom, the edge term once per edge), gated messages m_ij = u(r) sigmoid(z^f) sp(z^c),
 * h_i <- sp(h_i + sum_j m_ij / n_avg).
 *
 * The reverse sweep keeps memory at O(N F): per-edge values are recomputed, not stored. Every
 * loop is a gather over an atom's row: for the edge i <- j it handles both directions, since
 * z_ji = h_j W_self + h_i W_nbr + g(r) W_edge + b shares g(r) W_edge + b with z_ij; i gets
 * dP_self from z_ij and dP_nbr from z_ji, and no two threads write one place. */
#include <string.h>

#include "model/calculator.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

/* scratch layout of a row of `deg` edges */
typedef struct {
    double *g, *dg, *u, *du, *z, *dz, *acc, *dagg, *gw, *zr;
} row_scratch;

size_t cgcnn_scratch_size(const model_hparams *hp, int max_degree) {
    size_t deg = (size_t)(max_degree > 0 ? max_degree : 1);
    size_t F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    return deg * (2 * K + 2 + 4 * F) + 2 * F + 4 * F;
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
    s.gw = s.dagg + F;
    s.zr = s.gw + 2 * F;
    return s;
}

/* Radial features of a list of distances: g, dg/dr (optional), u, du/dr (optional). */
static void radial_row(const model_hparams *hp, const double *dist, int64_t e0, int deg,
                       row_scratch *s, int with_derivatives) {
    int K = hp->n_basis;
    for (int k = 0; k < deg; k++) {
        double r = dist[e0 + k];
        gaussian_basis_forward(s->g + (size_t)k * K, with_derivatives ? s->dg + (size_t)k * K : NULL,
                               r, hp->cutoff, K);
        s->u[k] = envelope_forward(r, hp->cutoff, hp->envelope_p, with_derivatives ? &s->du[k] : NULL);
    }
}

/* z rows of the edges i <- j_k of atom i's row: g W_edge + b + P_self[i] + P_nbr[j_k]. */
static void edge_preactivations(const mlpot_calculator *c, const cgcnn_layer_params *p, int deg,
                                int i, const int *neighbors, row_scratch *s) {
    const model_hparams *hp = &c->model->hp;
    int F = hp->n_features, W = 2 * F;
    dense_forward(s->z, W, s->g, hp->n_basis, p->W_edge, p->b, deg, hp->n_basis, W);
    for (int k = 0; k < deg; k++) {
        const double *Ps = c->node_a + (size_t)i * 2 * W;
        const double *Pn = c->node_a + (size_t)neighbors[k] * 2 * W + W;
        double *zk = s->z + (size_t)k * W;
        for (int f = 0; f < W; f++)
            zk[f] += Ps[f] + Pn[f];
    }
}

/* P_self = h W_self and P_nbr = h W_nbr for all atoms (node terms, once per atom). */
static void node_terms(mlpot_calculator *c, const cgcnn_layer_params *p, const double *h) {
    int N = c->n_atoms, F = c->model->hp.n_features, W = 2 * F;
#pragma omp parallel for schedule(static) if (c->parallel)
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
#pragma omp parallel for schedule(static) if (c->parallel)
        for (int i = 0; i < N; i++) {
            row_scratch s = scratch_layout(c);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            radial_row(hp, g->distance, e0, deg, &s, 0);
            edge_preactivations(c, p, deg, i, g->neighbor + e0, &s);
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
        const cgcnn_layer_params *gp = &c->grad.cgcnn[l]; /* used when c->with_grad */
        const double *h_in = c->h + (size_t)l * N * F;
        const double *pre = c->pre + (size_t)l * N * F;
        double *dpre = c->dh_next;
        node_terms(c, p, h_in);
        /* h_out = sp(pre): dpre = dh_out * sigmoid(pre); the sum of messages gets dpre/n_avg */
#pragma omp parallel for schedule(static) if (c->parallel)
        for (int i = 0; i < N; i++) {
            memset(dpre + (size_t)i * F, 0, (size_t)F * sizeof *dpre);
            softplus_backward(dpre + (size_t)i * F, c->dh + (size_t)i * F, pre + (size_t)i * F, F);
        }
        /* the edges i <- j of row i, in both directions */
#pragma omp parallel for schedule(static) if (c->parallel)
        for (int i = 0; i < N; i++) {
            row_scratch s = scratch_layout(c);
            double *dP_self = c->d_node_a + (size_t)i * 2 * W, *dP_nbr = dP_self + W;
            memset(dP_self, 0, (size_t)2 * W * sizeof *dP_self);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            if (deg == 0)
                continue;
            radial_row(hp, g->distance, e0, deg, &s, 1);
            dense_forward(s.z, W, s.g, K, p->W_edge, p->b, deg, K, W); /* g W_edge + b */
            for (int f = 0; f < F; f++)
                s.dagg[f] = dpre[(size_t)i * F + f] * inv_n;
            const double *Ps_i = c->node_a + (size_t)i * 2 * W, *Pn_i = Ps_i + W;
            for (int k = 0; k < deg; k++) {
                int j = g->neighbor[e0 + k];
                const double *Ps_j = c->node_a + (size_t)j * 2 * W, *Pn_j = Ps_j + W;
                double *zk = s.z + (size_t)k * W, *dz = s.dz;
                /* z_ji (receiver j, neighbour i) and z_ij, both from the shared edge term */
                for (int f = 0; f < W; f++) {
                    s.zr[f] = zk[f] + Ps_j[f] + Pn_i[f];
                    zk[f] += Ps_i[f] + Pn_j[f];
                }
                /* edge i <- j: dP_self[i], and the envelope's share of dE/dr */
                double dm_du = 0;
                for (int f = 0; f < F; f++) {
                    double spc, sc;
                    nn_softplus_sigmoid(zk[F + f], &spc, &sc);
                    double sf = nn_sigmoid(zk[f]);
                    dm_du += s.dagg[f] * sf * spc;
                    double dm = s.u[k] * s.dagg[f];
                    dz[f] = dm * sf * (1 - sf) * spc;
                    dz[F + f] = dm * sf * sc;
                    dP_self[f] += dz[f];
                    dP_self[F + f] += dz[F + f];
                }
                /* dE/dr_ij += du/dr (sum of the gate * dagg) + dz . (dg/dr W_edge) */
                dense_forward(s.gw, W, s.dg + (size_t)k * K, K, p->W_edge, NULL, 1, K, W);
                double dot = 0;
                for (int f = 0; f < W; f++)
                    dot += dz[f] * s.gw[f];
                c->dEdr[e0 + k] += s.du[k] * dm_du + dot;
                if (c->with_grad) /* z_ij = ... + g W_edge + b: once per directed edge */
                    dense_backward(NULL, 0, gp->W_edge, gp->b, dz, W, s.g + (size_t)k * K, K,
                                   p->W_edge, 1, K, W);
                /* edge j <- i: its neighbour is i, so it feeds dP_nbr[i] */
                memset(dz, 0, (size_t)W * sizeof *dz);
                for (int f = 0; f < F; f++)
                    s.acc[f] = s.u[k] * dpre[(size_t)j * F + f] * inv_n;
                gate_backward(dz, s.acc, s.zr, F);
                for (int f = 0; f < W; f++)
                    dP_nbr[f] += dz[f];
                /* (j <- i) adds its W_edge and b gradients in its own row, j's */
            }
        }
        /* dh_in = dpre (the residual) + dP_self W_self^T + dP_nbr W_nbr^T */
#pragma omp parallel for schedule(static) if (c->parallel)
        for (int i = 0; i < N; i++) {
            double *dh = c->dh + (size_t)i * F;
            memcpy(dh, dpre + (size_t)i * F, (size_t)F * sizeof *dh);
            const double *dP = c->d_node_a + (size_t)i * 2 * W;
            const double *hi = h_in + (size_t)i * F;
            dense_backward(dh, F, c->with_grad ? gp->W_self : NULL, NULL, dP, W, hi, F, p->W_self,
                           1, F, W);
            dense_backward(dh, F, c->with_grad ? gp->W_nbr : NULL, NULL, dP + W, W, hi, F,
                           p->W_nbr, 1, F, W);
        }
    }
}
