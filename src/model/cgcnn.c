/* cgcnn.c — the "cgcnn" architecture of model.md §3: message passing with the concatenated
 * linear map factored as z_ij = h_i W_self + h_j W_nbr + g(r_ij) W_edge + b (node terms once
 * per atom, the edge term once per edge), gated messages m_ij = u(r) sigmoid(z^f) sp(z^c),
 * h_i <- sp(h_i + sum_j m_ij / n_avg).
 *
 * The reverse sweep keeps memory at O(N F): per-edge values are recomputed, not stored. Every
 * loop is a gather over an atom's row: for the edge i <- j it handles both directions, since
 * z_ji = h_j W_self + h_i W_nbr + g(r) W_edge + b shares g(r) W_edge + b with z_ij; i gets
 * dP_self from z_ij and dP_nbr from z_ji, and no two threads write one place. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model/eval.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

typedef struct {
    double *W_self, *W_nbr, *W_edge, *b; /* [F,2F] [F,2F] [K,2F] [2F] */
} cgcnn_layer;

/* Named views of the parameters (or gradients), bound by the tensor table's slots. */
typedef struct {
    cgcnn_layer layer[MODEL_MAX_LAYERS];
} cgcnn_params;

/* workspace arrays */
enum {
    BUF_PRE,      /* [L][N][F] h + agg/n_avg before sp */
    BUF_NODE,     /* [N][2W] P_self | P_nbr of the current layer (W = 2F) */
    BUF_D_NODE,   /* [N][2W] their adjoints */
    BUF_DPRE,     /* [N][F] adjoint of pre */
    BUF_DEDR      /* [E] dE/dr_ij accumulated over layers */
};

static mlpot_status cgcnn_layout(const model_hparams *hp, tensor_table *t) {
    static const char *names[] = {"W_self", "W_nbr", "W_edge", "b"};
    size_t slots[] = {offsetof(cgcnn_layer, W_self), offsetof(cgcnn_layer, W_nbr),
                      offsetof(cgcnn_layer, W_edge), offsetof(cgcnn_layer, b)};
    int F = hp->n_features, K = hp->n_basis;
    int rows[] = {F, F, K, 2 * F}, cols[] = {2 * F, 2 * F, 2 * F, 0};
    mlpot_status st = MLPOT_OK;
    char name[MODEL_TENSOR_NAME];
    for (int l = 0; l < hp->n_layers; l++)
        for (int k = 0; !st && k < 4; k++) {
            snprintf(name, sizeof name, "/layers/%d/%s", l, names[k]);
            st = tensor_table_add(t, name, rows[k], cols[k],
                                  offsetof(cgcnn_params, layer) + (size_t)l * sizeof(cgcnn_layer) +
                                      slots[k]);
        }
    return st;
}

static size_t cgcnn_scratch_size(const model_hparams *hp, int max_degree) {
    size_t deg = (size_t)(max_degree > 0 ? max_degree : 1);
    size_t F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    return deg * (3 * K + 5 + 6 * F) + F; /* + dist and nbr of a trimmed row */
}

static void cgcnn_workspace(const model_hparams *hp, const arch_sizes *sz,
                            size_t buffer[ARCH_MAX_BUFFERS], size_t *scratch) {
    size_t N = sz->n_atoms ? sz->n_atoms : 1, L = (size_t)(hp->n_layers ? hp->n_layers : 1);
    size_t F = (size_t)hp->n_features;
    buffer[BUF_PRE] = L * N * F;
    buffer[BUF_NODE] = N * 4 * F;
    buffer[BUF_D_NODE] = N * 4 * F;
    buffer[BUF_DPRE] = N * F;
    buffer[BUF_DEDR] = sz->n_edges ? sz->n_edges : 1;
    *scratch = cgcnn_scratch_size(hp, sz->max_degree);
}

/* scratch layout of a row of `deg` edges */
typedef struct {
    double *g, *dg, *u, *du, *z, *dz, *acc, *dm_du, *dgv, *zr, *dist;
    int *nbr;
} row_scratch;

static row_scratch scratch_layout(const eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    size_t deg = (size_t)(ctx->max_degree > 0 ? ctx->max_degree : 1);
    size_t F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    double *p = eval_scratch(ctx);
    row_scratch s;
    s.g = p;
    s.dg = s.g + deg * K;
    s.u = s.dg + deg * K;
    s.du = s.u + deg;
    s.z = s.du + deg;
    s.dz = s.z + deg * 2 * F;
    s.acc = s.dz + deg * 2 * F;
    s.dm_du = s.acc + F;
    s.dgv = s.dm_du + deg;
    s.zr = s.dgv + deg * K;
    s.dist = s.zr + deg * 2 * F;
    s.nbr = (int *)(s.dist + deg); /* deg ints in deg doubles */
    return s;
}

/* Radial features of a list of distances: g, dg/dr (optional), u, du/dr (optional). */
static void radial_row(const model_hparams *hp, const double *dist, int64_t e0, int deg,
                       row_scratch *s, int with_derivatives) {
    gaussian_basis_row(s->g, with_derivatives ? s->dg : NULL, dist + e0, deg, hp->cutoff,
                       hp->n_basis);
    for (int k = 0; k < deg; k++)
        s->u[k] = envelope_forward(dist[e0 + k], hp->cutoff, hp->envelope_p,
                                   with_derivatives ? &s->du[k] : NULL);
}

/* z rows of the edges i <- j_k of atom i's row: g W_edge + b + P_self[i] + P_nbr[j_k]. */
static void edge_preactivations(const eval_context *ctx, const cgcnn_layer *p, int deg, int i,
                                const int *neighbors, row_scratch *s) {
    const model_hparams *hp = ctx->hp;
    int F = hp->n_features, W = 2 * F;
    const double *node = ctx->buffer[BUF_NODE];
    dense_forward(s->z, W, s->g, hp->n_basis, p->W_edge, p->b, deg, hp->n_basis, W);
    for (int k = 0; k < deg; k++) {
        const double *Ps = node + (size_t)i * 2 * W;
        const double *Pn = node + (size_t)neighbors[k] * 2 * W + W;
        double *zk = s->z + (size_t)k * W;
        for (int f = 0; f < W; f++)
            zk[f] += Ps[f] + Pn[f];
    }
}

/* P_self = h W_self and P_nbr = h W_nbr (node terms, once per atom) for the atoms within
 * `hops` hops of the contributing ones (eval.h; every atom when not trimmed), and zeros for
 * those at hop `zero_to` and below that the reverse sweep reads next to adjoints that are 0. */
static void node_terms(const eval_context *ctx, const cgcnn_layer *p, const double *h, int hops,
                       int zero_to) {
    int F = ctx->hp->n_features, W = 2 * F;
    int n_rows = eval_n_within(ctx, hops), n_zero = eval_n_within(ctx, zero_to);
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_zero; n++) {
        int i = eval_atom(ctx, n);
        double *P = ctx->buffer[BUF_NODE] + (size_t)i * 2 * W;
        if (n >= n_rows) {
            memset(P, 0, (size_t)2 * W * sizeof *P);
            continue;
        }
        dense_forward(P, W, h + (size_t)i * F, F, p->W_self, NULL, 1, F, W);
        dense_forward(P + W, W, h + (size_t)i * F, F, p->W_nbr, NULL, 1, F, W);
    }
}

static mlpot_status cgcnn_forward(eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    const cgcnn_params *params = ctx->params;
    const mlpot_graph *g = ctx->graph;
    int N = ctx->n_atoms, F = hp->n_features, W = 2 * F;
    double inv_n = 1.0 / hp->avg_neighbors;
    for (int l = 0; l < hp->n_layers; l++) {
        const cgcnn_layer *p = &params->layer[l];
        const double *h_in = ctx->h + (size_t)l * N * F;
        double *h_out = ctx->h + (size_t)(l + 1) * N * F;
        double *pre = ctx->buffer[BUF_PRE] + (size_t)l * N * F;
        /* trimmed: outputs within L-1-l hops, from inputs within L-l (eval.h) */
        int hops = hp->n_layers - 1 - l, n_rows = eval_n_within(ctx, hops);
        node_terms(ctx, p, h_in, hops + 1, hops + 1);
#pragma omp parallel for schedule(static) if (ctx->parallel)
        for (int n = 0; n < n_rows; n++) {
            int i = eval_atom(ctx, n);
            row_scratch s = scratch_layout(ctx);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            radial_row(hp, g->distance, e0, deg, &s, 0);
            edge_preactivations(ctx, p, deg, i, g->neighbor + e0, &s);
            memset(s.acc, 0, (size_t)F * sizeof *s.acc);
            gate_row_forward(s.acc, s.z, W, s.u, deg, F);
            for (int f = 0; f < F; f++)
                pre[(size_t)i * F + f] = h_in[(size_t)i * F + f] + s.acc[f] * inv_n;
            softplus_forward(h_out + (size_t)i * F, pre + (size_t)i * F, F);
        }
    }
    return MLPOT_OK;
}

/* The reverse sweep of a row i at `hops` + 1 hops in a trimmed evaluation (eval.h): its own
 * adjoint dpre_i is 0, so only the edges j <- i from its neighbours j within `hops` carry
 * adjoints, into dP_nbr[i]; the other edges would add zeros, and are skipped. */
static void shell_row_backward(const eval_context *ctx, const cgcnn_layer *p, int i, int hops,
                               row_scratch *s, const double *dpre, double *dP_nbr) {
    const model_hparams *hp = ctx->hp;
    const mlpot_graph *g = ctx->graph;
    int F = hp->n_features, W = 2 * F, K = hp->n_basis, m = 0;
    for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++)
        if (eval_within(ctx, g->neighbor[e], hops)) {
            s->dist[m] = g->distance[e];
            s->nbr[m++] = g->neighbor[e];
        }
    if (m == 0)
        return;
    radial_row(hp, s->dist, 0, m, s, 1);
    dense_forward(s->zr, W, s->g, K, p->W_edge, p->b, m, K, W); /* g W_edge + b */
    const double *node = ctx->buffer[BUF_NODE], *Pn_i = node + (size_t)i * 2 * W + W;
    for (int k = 0; k < m; k++) { /* z_ji, receiver j, neighbour i */
        const double *Ps_j = node + (size_t)s->nbr[k] * 2 * W;
        double *zr = s->zr + (size_t)k * W;
        for (int f = 0; f < W; f++)
            zr[f] = zr[f] + Ps_j[f] + Pn_i[f];
    }
    gate_row_backward(s->dz, W, dP_nbr, NULL, s->zr, W, s->u, 1.0 / hp->avg_neighbors, dpre,
                      s->nbr, F, m, F);
}

static mlpot_status cgcnn_backward(eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    const cgcnn_params *params = ctx->params;
    const mlpot_graph *g = ctx->graph;
    int N = ctx->n_atoms, F = hp->n_features, W = 2 * F, K = hp->n_basis;
    const int with_grad = ctx->with_grad;
    const double *node = ctx->buffer[BUF_NODE];
    double *d_node = ctx->buffer[BUF_D_NODE], *dEdr = ctx->buffer[BUF_DEDR];
    memset(dEdr, 0, (size_t)ctx->n_edges * sizeof *dEdr);
    double inv_n = 1.0 / hp->avg_neighbors;
    for (int l = hp->n_layers - 1; l >= 0; l--) {
        const cgcnn_layer *p = &params->layer[l];
        const cgcnn_layer *gp = with_grad ? &((cgcnn_params *)ctx->grad)->layer[l] : NULL;
        const double *h_in = ctx->h + (size_t)l * N * F;
        const double *pre = ctx->buffer[BUF_PRE] + (size_t)l * N * F;
        double *dpre = ctx->buffer[BUF_DPRE];
        /* trimmed (eval.h): dh_out is not 0 within L-1-l hops, so rows within L-l get adjoints;
         * their neighbours one hop farther are read with node terms and dpre of 0 */
        int hops = hp->n_layers - 1 - l, n_rows = eval_n_within(ctx, hops + 1);
        int n_zero = eval_n_within(ctx, hops + 2);
        node_terms(ctx, p, h_in, hops + 1, hops + 2);
        /* h_out = sp(pre): dpre = dh_out * sigmoid(pre); the sum of messages gets dpre/n_avg */
#pragma omp parallel for schedule(static) if (ctx->parallel)
        for (int n = 0; n < n_zero; n++) {
            int i = eval_atom(ctx, n);
            memset(dpre + (size_t)i * F, 0, (size_t)F * sizeof *dpre);
            if (eval_within(ctx, i, hops))
                softplus_backward(dpre + (size_t)i * F, ctx->dh + (size_t)i * F,
                                  pre + (size_t)i * F, F);
        }
        /* the edges i <- j of row i, in both directions */
#pragma omp parallel for schedule(static) if (ctx->parallel)
        for (int n = 0; n < n_rows; n++) {
            int i = eval_atom(ctx, n);
            row_scratch s = scratch_layout(ctx);
            double *dP_self = d_node + (size_t)i * 2 * W, *dP_nbr = dP_self + W;
            memset(dP_self, 0, (size_t)2 * W * sizeof *dP_self);
            int64_t e0 = g->row_start[i];
            int deg = (int)(g->row_start[i + 1] - e0);
            if (deg == 0)
                continue;
            if (!eval_within(ctx, i, hops)) {
                shell_row_backward(ctx, p, i, hops, &s, dpre, dP_nbr);
                continue;
            }
            radial_row(hp, g->distance, e0, deg, &s, 1);
            dense_forward(s.z, W, s.g, K, p->W_edge, p->b, deg, K, W); /* g W_edge + b */
            const double *Ps_i = node + (size_t)i * 2 * W, *Pn_i = Ps_i + W;
            const int *nbr = g->neighbor + e0;
            for (int k = 0; k < deg; k++) {
                const double *Ps_j = node + (size_t)nbr[k] * 2 * W, *Pn_j = Ps_j + W;
                double *zk = s.z + (size_t)k * W, *zr = s.zr + (size_t)k * W;
                /* z_ji (receiver j, neighbour i) and z_ij, both from the shared edge term */
                for (int f = 0; f < W; f++) {
                    zr[f] = zk[f] + Ps_j[f] + Pn_i[f];
                    zk[f] += Ps_i[f] + Pn_j[f];
                }
            }
            /* edges i <- j: dP_self[i], and the envelope's share of dE/dr (the gates . dagg) */
            gate_row_backward(s.dz, W, dP_self, s.dm_du, s.z, W, s.u, inv_n, dpre + (size_t)i * F,
                              NULL, F, deg, F);
            /* dE/dr_ij += du/dr dm_du + (dz W_edge^T) . dg/dr, all edges in one product */
            memset(s.dgv, 0, (size_t)deg * K * sizeof *s.dgv);
            dense_backward(s.dgv, K, NULL, NULL, s.dz, W, NULL, 0, p->W_edge, deg, K, W);
            for (int k = 0; k < deg; k++) {
                double dot = 0;
                for (int b = 0; b < K; b++)
                    dot += s.dgv[(size_t)k * K + b] * s.dg[(size_t)k * K + b];
                dEdr[e0 + k] += s.du[k] * s.dm_du[k] + dot;
            }
            if (with_grad) /* z_ij = ... + g W_edge + b: once per directed edge */
                dense_backward(NULL, 0, gp->W_edge, gp->b, s.dz, W, s.g, K, p->W_edge, deg, K, W);
            /* edges j <- i: their neighbour is i, so they feed dP_nbr[i]; (j <- i) adds its
             * W_edge and b gradients in its own row, j's */
            gate_row_backward(s.dz, W, dP_nbr, NULL, s.zr, W, s.u, inv_n, dpre, nbr, F, deg, F);
        }
        /* dh_in = dpre (the residual) + dP_self W_self^T + dP_nbr W_nbr^T */
#pragma omp parallel for schedule(static) if (ctx->parallel)
        for (int n = 0; n < n_rows; n++) {
            int i = eval_atom(ctx, n);
            double *dh = ctx->dh + (size_t)i * F;
            memcpy(dh, dpre + (size_t)i * F, (size_t)F * sizeof *dh);
            const double *dP = d_node + (size_t)i * 2 * W;
            const double *hi = h_in + (size_t)i * F;
            dense_backward(dh, F, with_grad ? gp->W_self : NULL, NULL, dP, W, hi, F, p->W_self,
                           1, F, W);
            dense_backward(dh, F, with_grad ? gp->W_nbr : NULL, NULL, dP + W, W, hi, F,
                           p->W_nbr, 1, F, W);
        }
    }
    /* g_e = (dE/dr_e) d_e / r_e (model.md §6); trimmed, dE/dr is 0 beyond L-1 hops */
    int n_rows = eval_n_within(ctx, hp->n_layers - 1);
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++)
            eval_add_radial_adjoint(ctx, e, dEdr[e]);
    }
    return MLPOT_OK;
}

const model_arch_ops cgcnn_arch = {
    .name = "cgcnn",
    .file_version = 1,
    .summary = "smooth CGCNN: gated pairwise messages (model.md §3)",
    .hparams = NULL,
    .n_hparams = 0,
    .validate = NULL,
    .layout = cgcnn_layout,
    .views_size = sizeof(cgcnn_params),
    .workspace = cgcnn_workspace,
    .triplet_cutoff = NULL,
    .forward = cgcnn_forward,
    .backward = cgcnn_backward,
};
