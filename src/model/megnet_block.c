/* megnet_block.c — the edge encoder and the block of model.md §4 (activation sp2):
 *   a_ij = sp2(g(r_ij) W + b);
 *   a_ij <- a_ij + sp2(sp2([h_i; h_j; a_ij] W1 + b1) W2 + b2),
 *   c_i = (1/n_avg) sum_j u(r_ij) a_ij,
 *   h_i <- h_i + sp2(sp2([h_i; c_i] V1 + c1) V2 + c2).
 * The concatenations are factored: h_i W1[0:F] and h_j W1[F:2F] are node terms computed once
 * per atom. The MLPs' insides are recomputed in the reverse sweep. All loops gather over CSR
 * rows (pass B uses reverse edges for the neighbour side), so no two threads write the same
 * place. */
#include "model/megnet_block.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

mlpot_status megnet_encoder_layout(const model_hparams *hp, tensor_table *t, size_t slot_W,
                                   size_t slot_b) {
    int E = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    mlpot_status st = tensor_table_add(t, "/edge_encoder/W", hp->n_basis, E, slot_W);
    return st ? st : tensor_table_add(t, "/edge_encoder/b", E, 0, slot_b);
}

mlpot_status megnet_block_layout(const model_hparams *hp, tensor_table *t, int l, size_t slot) {
    static const char *names[] = {"edge/W1", "edge/b1", "edge/W2", "edge/b2",
                                  "node/W1", "node/b1", "node/W2", "node/b2"};
    static const size_t slots[] = {offsetof(megnet_layer, edge_W1), offsetof(megnet_layer, edge_b1),
                                   offsetof(megnet_layer, edge_W2), offsetof(megnet_layer, edge_b2),
                                   offsetof(megnet_layer, node_W1), offsetof(megnet_layer, node_b1),
                                   offsetof(megnet_layer, node_W2), offsetof(megnet_layer, node_b2)};
    int F = hp->n_features;
    int E = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES), M = arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    int rows[] = {2 * F + E, M, M, E, F + E, M, M, F};
    int cols[] = {M, 0, E, 0, M, 0, F, 0};
    mlpot_status st = MLPOT_OK;
    char name[MODEL_TENSOR_NAME];
    for (int k = 0; !st && k < 8; k++) {
        snprintf(name, sizeof name, "/layers/%d/%s", l, names[k]);
        st = tensor_table_add(t, name, rows[k], cols[k], slot + slots[k]);
    }
    return st;
}

typedef struct {
    double *g, *dg, *dgv, *t1, *s1, *t2, *dt1, *dt2, *t3, *s3, *t4, *dt3, *dt4, *vec;
} megnet_scratch;

void megnet_workspace(const model_hparams *hp, const arch_sizes *sz,
                      size_t buffer[ARCH_MAX_BUFFERS], size_t *scratch) {
    size_t N = sz->n_atoms ? sz->n_atoms : 1, E = sz->n_edges ? sz->n_edges : 1;
    size_t L = (size_t)hp->n_layers, F = (size_t)hp->n_features, K = (size_t)hp->n_basis;
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    size_t M = (size_t)arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    buffer[MEGNET_BUF_C] = (L ? L : 1) * N * Ed;
    buffer[MEGNET_BUF_NODE] = N * 2 * M;
    buffer[MEGNET_BUF_D_NODE] = N * 2 * M;
    buffer[MEGNET_BUF_DH_IN] = N * F;
    buffer[MEGNET_BUF_DC] = N * Ed;
    buffer[MEGNET_BUF_EDGE_A] = (L + 1) * E * Ed;
    buffer[MEGNET_BUF_D_EDGE_A] = 2 * E * Ed;
    buffer[MEGNET_BUF_DEDR] = E;
    *scratch = 3 * K + 3 * M + 3 * Ed + 1 + 3 * M + 2 * F;
}

static megnet_scratch scratch_layout(const eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    size_t K = (size_t)hp->n_basis, F = (size_t)hp->n_features;
    size_t M = (size_t)arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    double *p = eval_scratch(ctx);
    megnet_scratch s;
    s.g = p;
    s.dg = s.g + K;
    s.dgv = s.dg + K;
    s.t1 = s.dgv + K;
    s.s1 = s.t1 + M;
    s.dt1 = s.s1 + M;
    s.t2 = s.dt1 + M;
    s.dt2 = s.t2 + Ed;
    s.vec = s.dt2 + Ed; /* Ed + 1 spare */
    s.t3 = s.vec + Ed + 1;
    s.s3 = s.t3 + M;
    s.dt3 = s.s3 + M;
    s.t4 = s.dt3 + M;
    s.dt4 = s.t4 + F;
    return s;
}

/* t1 = a W1c + b1 + Q_self[i] + Q_nbr[j]; s1 = sp2(t1); t2 = s1 W2 + b2 */
static void edge_mlp(const eval_context *ctx, const megnet_layer *p, const double *a, int i,
                     int j, megnet_scratch *s) {
    const model_hparams *hp = ctx->hp;
    int F = hp->n_features, M = arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    int Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    const double *W1c = p->edge_W1 + (size_t)2 * F * M;
    const double *node = ctx->buffer[MEGNET_BUF_NODE];
    const double *Qs = node + (size_t)i * 2 * M, *Qn = node + (size_t)j * 2 * M + M;
    dense_forward(s->t1, M, a, Ed, W1c, p->edge_b1, 1, Ed, M);
    for (int k = 0; k < M; k++)
        s->t1[k] += Qs[k] + Qn[k];
    shifted_softplus_forward(s->s1, s->t1, M);
    dense_forward(s->t2, Ed, s->s1, M, p->edge_W2, p->edge_b2, 1, M, Ed);
}

/* dt1 from the adjoint of the updated edge features (a_out = a_in + sp2(t2)) */
static void edge_mlp_backward(const eval_context *ctx, const megnet_layer *p,
                              const double *da_out, megnet_scratch *s) {
    const model_hparams *hp = ctx->hp;
    int M = arch_hparam_int(hp, MEGNET_HP_HIDDEN), Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    memset(s->dt2, 0, (size_t)Ed * sizeof *s->dt2);
    shifted_softplus_backward(s->dt2, da_out, s->t2, Ed);
    memset(s->dt1, 0, (size_t)M * sizeof *s->dt1);
    dense_backward(s->dt1, M, NULL, NULL, s->dt2, Ed, NULL, 0, p->edge_W2, 1, M, Ed);
    softplus_backward_inplace(s->dt1, s->t1, M); /* ds1 -> dt1 */
}

/* t3 = h V1a + c V1b + c1; s3 = sp2(t3); t4 = s3 V2 + c2 */
static void node_mlp(const eval_context *ctx, const megnet_layer *p, const double *h,
                     const double *cvec, megnet_scratch *s) {
    const model_hparams *hp = ctx->hp;
    int F = hp->n_features, M = arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    int Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    dense_forward(s->t3, M, h, F, p->node_W1, p->node_b1, 1, F, M);
    dense_accumulate(s->t3, M, cvec, Ed, p->node_W1 + (size_t)F * M, 1, Ed, M);
    shifted_softplus_forward(s->s3, s->t3, M);
    dense_forward(s->t4, F, s->s3, M, p->node_W2, p->node_b2, 1, M, F);
}

/* Q_self = h W1[0:F], Q_nbr = h W1[F:2F] for the atoms within `hops` hops (eval.h; all atoms
 * when not trimmed) */
static void node_terms(const eval_context *ctx, const megnet_layer *p, const double *h,
                       int hops) {
    int F = ctx->hp->n_features, M = arch_hparam_int(ctx->hp, MEGNET_HP_HIDDEN);
    int n_rows = eval_n_within(ctx, hops);
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        double *Q = ctx->buffer[MEGNET_BUF_NODE] + (size_t)i * 2 * M;
        dense_forward(Q, M, h + (size_t)i * F, F, p->edge_W1, NULL, 1, F, M);
        dense_forward(Q + M, M, h + (size_t)i * F, F, p->edge_W1 + (size_t)F * M, NULL, 1, F, M);
    }
}

void megnet_encoder_forward(const eval_context *ctx, const double *W, const double *b,
                            double *a0) {
    const model_hparams *hp = ctx->hp;
    const mlpot_graph *g = ctx->graph;
    int K = hp->n_basis, Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    int n_rows = eval_n_within(ctx, hp->n_layers - 1); /* the rows block 0 updates */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        megnet_scratch s = scratch_layout(ctx);
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
            gaussian_basis_forward(s.g, NULL, g->distance[e], hp->cutoff, K);
            dense_forward(s.vec, Ed, s.g, K, W, b, 1, K, Ed);
            shifted_softplus_forward(a0 + (size_t)e * Ed, s.vec, Ed);
        }
    }
}

void megnet_encoder_backward(eval_context *ctx, const double *W, const double *b, double *gW,
                             double *gb, const double *da0, double *dEdr) {
    const model_hparams *hp = ctx->hp;
    const mlpot_graph *g = ctx->graph;
    int K = hp->n_basis, Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    int n_rows = eval_n_within(ctx, hp->n_layers - 1); /* beyond, da0 and dE/dr are 0 */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        megnet_scratch s = scratch_layout(ctx);
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
            gaussian_basis_forward(s.g, s.dg, g->distance[e], hp->cutoff, K);
            dense_forward(s.vec, Ed, s.g, K, W, b, 1, K, Ed);
            memset(s.dt2, 0, (size_t)Ed * sizeof *s.dt2);
            shifted_softplus_backward(s.dt2, da0 + (size_t)e * Ed, s.vec, Ed);
            memset(s.dgv, 0, (size_t)K * sizeof *s.dgv);
            dense_backward(s.dgv, K, gW, gb, s.dt2, Ed, s.g, K, W, 1, K, Ed);
            dEdr[e] += gaussian_basis_backward(s.dgv, s.dg, K);
            /* g_e = (dE/dr_e) d_e / r_e (model.md §6): row i is complete here */
            eval_add_radial_adjoint(ctx, e, dEdr[e]);
        }
    }
}

void megnet_block_forward(const eval_context *ctx, int l, const megnet_layer *p,
                          const double *h_in, double *h_out, const double *a_in, double *a_out,
                          double *cbuf) {
    const model_hparams *hp = ctx->hp;
    const mlpot_graph *g = ctx->graph;
    int F = hp->n_features, Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    double inv_n = 1.0 / hp->avg_neighbors;
    /* trimmed (eval.h): rows within L-1-l hops, reading h_in within L-l */
    int hops = hp->n_layers - 1 - l, n_rows = eval_n_within(ctx, hops);
    node_terms(ctx, p, h_in, hops + 1);
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        megnet_scratch s = scratch_layout(ctx);
        double *ci = cbuf + (size_t)i * Ed;
        memset(ci, 0, (size_t)Ed * sizeof *ci);
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
            edge_mlp(ctx, p, a_in + (size_t)e * Ed, i, g->neighbor[e], &s);
            double u = envelope_forward(g->distance[e], hp->cutoff, hp->envelope_p, NULL);
            double *ae = a_out + (size_t)e * Ed;
            shifted_softplus_forward(ae, s.t2, Ed);
            for (int k = 0; k < Ed; k++) {
                ae[k] += a_in[(size_t)e * Ed + k];
                ci[k] += u * ae[k];
            }
        }
        for (int k = 0; k < Ed; k++)
            ci[k] *= inv_n;
        node_mlp(ctx, p, h_in + (size_t)i * F, ci, &s);
        double *ho = h_out + (size_t)i * F;
        shifted_softplus_forward(ho, s.t4, F);
        for (int k = 0; k < F; k++)
            ho[k] += h_in[(size_t)i * F + k];
    }
}

void megnet_block_backward(eval_context *ctx, int l, const megnet_layer *p, megnet_layer *gp,
                           const double *h_in, const double *a_in, const double *a_out,
                           const double *cbuf, const double *da_next, double *da_cur,
                           double *dEdr) {
    const model_hparams *hp = ctx->hp;
    const mlpot_graph *g = ctx->graph;
    int F = hp->n_features;
    int Ed = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES), M = arch_hparam_int(hp, MEGNET_HP_HIDDEN);
    double inv_n = 1.0 / hp->avg_neighbors;
    double *d_node = ctx->buffer[MEGNET_BUF_D_NODE], *dc = ctx->buffer[MEGNET_BUF_DC];
    double *dh_in_all = ctx->buffer[MEGNET_BUF_DH_IN];
    const int with_grad = gp != NULL;
    const double *W1c = p->edge_W1 + (size_t)2 * F * M;
    /* trimmed (eval.h): dh_out and da_next are 0 beyond L-1-l hops, the adjoints of the
     * block's inputs beyond L-l; the rows at L-l hops get zeros (the block below reads them) */
    int hops = hp->n_layers - 1 - l, n_rows = eval_n_within(ctx, hops + 1);
    node_terms(ctx, p, h_in, hops + 1);
    /* node update and pass A over the edges atom i receives */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        megnet_scratch s = scratch_layout(ctx);
        const double *dh_out = ctx->dh + (size_t)i * F;
        double *dh_in = dh_in_all + (size_t)i * F;
        double *dci = dc + (size_t)i * Ed;
        double *dQs = d_node + (size_t)i * 2 * M;
        if (!eval_within(ctx, i, hops)) {
            memset(dh_in, 0, (size_t)F * sizeof *dh_in);
            memset(dQs, 0, (size_t)2 * M * sizeof *dQs);
            memset(da_cur + (size_t)g->row_start[i] * Ed, 0,
                   (size_t)(g->row_start[i + 1] - g->row_start[i]) * Ed * sizeof *da_cur);
            continue;
        }
        node_mlp(ctx, p, h_in + (size_t)i * F, cbuf + (size_t)i * Ed, &s);
        memset(s.dt4, 0, (size_t)F * sizeof *s.dt4);
        shifted_softplus_backward(s.dt4, dh_out, s.t4, F);
        memset(s.dt3, 0, (size_t)M * sizeof *s.dt3);
        dense_backward(s.dt3, M, with_grad ? gp->node_W2 : NULL, with_grad ? gp->node_b2 : NULL,
                       s.dt4, F, s.s3, M, p->node_W2, 1, M, F);
        softplus_backward_inplace(s.dt3, s.t3, M);
        memcpy(dh_in, dh_out, (size_t)F * sizeof *dh_in); /* the residual */
        dense_backward(dh_in, F, with_grad ? gp->node_W1 : NULL, with_grad ? gp->node_b1 : NULL,
                       s.dt3, M, h_in + (size_t)i * F, F, p->node_W1, 1, F, M);
        memset(dci, 0, (size_t)Ed * sizeof *dci);
        dense_backward(dci, Ed, with_grad ? gp->node_W1 + (size_t)F * M : NULL, NULL, s.dt3, M,
                       cbuf + (size_t)i * Ed, Ed, p->node_W1 + (size_t)F * M, 1, Ed, M);
        memset(dQs, 0, (size_t)2 * M * sizeof *dQs);
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
            double du;
            double u = envelope_forward(g->distance[e], hp->cutoff, hp->envelope_p, &du);
            const double *ae = a_out + (size_t)e * Ed;
            double *da_out = s.vec;
            double dot = 0;
            for (int k = 0; k < Ed; k++) {
                da_out[k] = da_next[(size_t)e * Ed + k] + u * inv_n * dci[k];
                dot += ae[k] * dci[k];
            }
            dEdr[e] += du * inv_n * dot;
            edge_mlp(ctx, p, a_in + (size_t)e * Ed, i, g->neighbor[e], &s);
            edge_mlp_backward(ctx, p, da_out, &s);
            if (with_grad) { /* once per directed edge, in its own row */
                dense_backward(NULL, 0, gp->edge_W2, gp->edge_b2, s.dt2, Ed, s.s1, M, p->edge_W2,
                               1, M, Ed);
                dense_backward(NULL, 0, gp->edge_W1 + (size_t)2 * F * M, gp->edge_b1, s.dt1, M,
                               a_in + (size_t)e * Ed, Ed, W1c, 1, Ed, M);
            }
            double *dae = da_cur + (size_t)e * Ed;
            memcpy(dae, da_out, (size_t)Ed * sizeof *dae);
            dense_backward(dae, Ed, NULL, NULL, s.dt1, M, NULL, 0, W1c, 1, Ed, M);
            for (int k = 0; k < M; k++)
                dQs[k] += s.dt1[k];
        }
    }
    /* pass B: atom j as the neighbour h_j of edges (i <- j), via j's row and reverse edges;
     * trimmed, the edges whose receiver i is beyond L-1-l hops carry adjoints of 0 */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int j = eval_atom(ctx, n);
        megnet_scratch s = scratch_layout(ctx);
        double *dQn = d_node + (size_t)j * 2 * M + M;
        for (int64_t ep = g->row_start[j]; ep < g->row_start[j + 1]; ep++) {
            int64_t e = g->reverse[ep];
            int i = g->neighbor[ep];
            if (!eval_within(ctx, i, hops))
                continue;
            double u = envelope_forward(g->distance[ep], hp->cutoff, hp->envelope_p, NULL);
            const double *dci = dc + (size_t)i * Ed;
            double *da_out = s.vec;
            for (int k = 0; k < Ed; k++)
                da_out[k] = da_next[(size_t)e * Ed + k] + u * inv_n * dci[k];
            edge_mlp(ctx, p, a_in + (size_t)e * Ed, i, j, &s);
            edge_mlp_backward(ctx, p, da_out, &s);
            for (int k = 0; k < M; k++)
                dQn[k] += s.dt1[k];
        }
    }
    /* dh = dh_in + dQ_self W1a^T + dQ_nbr W1b^T */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        double *dh = ctx->dh + (size_t)i * F;
        memcpy(dh, dh_in_all + (size_t)i * F, (size_t)F * sizeof *dh);
        const double *dQ = d_node + (size_t)i * 2 * M;
        const double *hi = h_in + (size_t)i * F;
        dense_backward(dh, F, with_grad ? gp->edge_W1 : NULL, NULL, dQ, M, hi, F, p->edge_W1, 1,
                       F, M);
        dense_backward(dh, F, with_grad ? gp->edge_W1 + (size_t)F * M : NULL, NULL, dQ + M, M,
                       hi, F, p->edge_W1 + (size_t)F * M, 1, F, M);
    }
}

mlpot_status megnet_stack_forward(eval_context *ctx, const megnet_stack *p,
                                  const megnet_prelude *prelude) {
    const model_hparams *hp = ctx->hp;
    size_t N = (size_t)ctx->n_atoms, F = (size_t)hp->n_features, E = (size_t)ctx->n_edges;
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    double *edge_a = ctx->buffer[MEGNET_BUF_EDGE_A];
    megnet_encoder_forward(ctx, p->encoder_W, p->encoder_b, edge_a);
    for (int l = 0; l < hp->n_layers; l++) {
        const double *a_block = edge_a + (size_t)l * E * Ed;
        mlpot_status st;
        if (prelude && (st = prelude->forward(ctx, l, a_block, &a_block)))
            return st;
        megnet_block_forward(ctx, l, &p->layer[l], ctx->h + (size_t)l * N * F,
                             ctx->h + (size_t)(l + 1) * N * F, a_block,
                             edge_a + (size_t)(l + 1) * E * Ed,
                             ctx->buffer[MEGNET_BUF_C] + (size_t)l * N * Ed);
    }
    return MLPOT_OK;
}

mlpot_status megnet_stack_backward(eval_context *ctx, const megnet_stack *p,
                                   const megnet_stack *grad, const megnet_prelude *prelude) {
    const model_hparams *hp = ctx->hp;
    size_t N = (size_t)ctx->n_atoms, F = (size_t)hp->n_features, E = (size_t)ctx->n_edges;
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    const double *edge_a = ctx->buffer[MEGNET_BUF_EDGE_A];
    double *dEdr = ctx->buffer[MEGNET_BUF_DEDR];
    double *da_next = ctx->buffer[MEGNET_BUF_D_EDGE_A]; /* adjoint of the block's output a */
    double *da_cur = da_next + E * Ed;                  /* ... and of its input */
    memset(da_next, 0, E * Ed * sizeof *da_next); /* the readout does not see edge features */
    memset(dEdr, 0, E * sizeof *dEdr);
    for (int l = hp->n_layers - 1; l >= 0; l--) {
        const double *a_block = edge_a + (size_t)l * E * Ed;
        mlpot_status st;
        if (prelude && (st = prelude->forward(ctx, l, a_block, &a_block)))
            return st;
        megnet_block_backward(ctx, l, &p->layer[l], grad ? &grad->layer[l] : NULL,
                              ctx->h + (size_t)l * N * F, a_block,
                              edge_a + (size_t)(l + 1) * E * Ed,
                              ctx->buffer[MEGNET_BUF_C] + (size_t)l * N * Ed, da_next, da_cur,
                              dEdr);
        if (prelude && (st = prelude->backward(ctx, l, da_cur)))
            return st;
        double *swap = da_next;
        da_next = da_cur;
        da_cur = swap;
    }
    megnet_encoder_backward(ctx, p->encoder_W, p->encoder_b, grad ? grad->encoder_W : NULL,
                            grad ? grad->encoder_b : NULL, da_next, dEdr);
    return MLPOT_OK;
}
