/* m3gnet.c — the "m3gnet" architecture of model.md §8 (model files version 2): the MEGNet edge
 * encoder, then L blocks, each a three-body edge update (threebody.c, over the triplet list the
 * calculator builds with r_3) in front of a MEGNet block (megnet_block.c). Edge features
 * entering each block are stored as for megnet; the edge features after the three-body update
 * and the three-body sums are recomputed block by block in the reverse sweep (one block's worth
 * of memory instead of L). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "core/error.h"
#include "model/megnet_block.h"
#include "model/threebody.h"

enum { HP_CUTOFF3 = MEGNET_HP_HIDDEN + 1, HP_N_BASIS3, HP_LMAX, HP_AVG3 };

static const arch_hparam m3gnet_hparams[] = {
    MEGNET_BLOCK_HPARAMS,
    {"threebody_cutoff", "threebody-cutoff", "R3", "three-body cutoff r_3 in Å (<= r_c)",
     ARCH_HPARAM_REAL, 4.0, 3.0, 1e-3, 100},
    {"n_threebody_basis", "threebody-basis", "N", "radial functions of the three-body basis",
     ARCH_HPARAM_INT, 4, 3, 2, THREEBODY_MAX_Q},
    {"threebody_lmax", "threebody-lmax", "LMAX", "highest Legendre degree of the three-body basis",
     ARCH_HPARAM_INT, 3, 2, 0, THREEBODY_MAX_LMAX},
    {"avg_threebody_neighbors", "avg-threebody-neighbors", "N3",
     "normalisation n_3 of three-body sums (training sets it)", ARCH_HPARAM_REAL, 16, 2.5, 1e-6,
     1e6},
};

typedef struct {
    double *W_alpha, *b_alpha, *W_value, *W_gate; /* [F,Q] [Q] [Q,E] [Q,E] */
} m3gnet_threebody;

/* Named views of the parameters (or gradients), bound by the tensor table's slots. */
typedef struct {
    double *edge_encoder_W; /* [K,E] */
    double *edge_encoder_b; /* [E] */
    megnet_layer layer[MODEL_MAX_LAYERS];
    m3gnet_threebody threebody[MODEL_MAX_LAYERS];
} m3gnet_params;

/* workspace arrays after the shared ones */
enum {
    BUF_A_MID = MEGNET_N_BUFFERS, /* [E][E_dim] edge features after the three-body update */
    BUF_S,                        /* [n_short][Q] three-body sums of the current block */
    BUF_WORK                      /* threebody_workspace_size(..., for_backward = 1, threads) */
};

static threebody_hparams threebody_sizes(const model_hparams *hp) {
    return (threebody_hparams){.n_features = hp->n_features,
                               .n_edge_features = arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES),
                               .n_radial = arch_hparam_int(hp, HP_N_BASIS3),
                               .lmax = arch_hparam_int(hp, HP_LMAX),
                               .envelope_p = hp->envelope_p,
                               .cutoff = arch_hparam_real(hp, HP_CUTOFF3),
                               .avg_neighbors = arch_hparam_real(hp, HP_AVG3)};
}

static threebody_params threebody_weights(const m3gnet_threebody *v) {
    return (threebody_params){v->W_alpha, v->b_alpha, v->W_value, v->W_gate};
}

static double m3gnet_triplet_cutoff(const model_hparams *hp) {
    return arch_hparam_real(hp, HP_CUTOFF3);
}

/* n_3 = the mean number of partners b of a short edge a (model.md §8) over the frames, the
 * three-body analogue of avg_neighbors. */
static mlpot_status m3gnet_fit_to_frames(model_hparams *hp, mlpot_structure *const *frames,
                                         int n) {
    mlpot_graph *g = NULL;
    triplet_list t = {0};
    mlpot_status st = mlpot_graph_create(&g);
    double triplets = 0, short_edges = 0;
    for (int f = 0; f < n && !st; f++)
        if (!(st = mlpot_graph_build(g, frames[f], hp->cutoff)) &&
            !(st = triplet_list_build(&t, g, arch_hparam_real(hp, HP_CUTOFF3)))) {
            triplets += (double)t.n_triplets;
            short_edges += (double)t.n_short;
        }
    mlpot_graph_free(g);
    triplet_list_free(&t);
    if (!st && triplets > 0)
        hp->arch_value[HP_AVG3] = triplets / short_edges;
    return st;
}

static mlpot_status m3gnet_validate(const model_hparams *hp, const char *where) {
    double r3 = arch_hparam_real(hp, HP_CUTOFF3);
    if (!(r3 <= hp->cutoff))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: threebody_cutoff = %g, expected 0 < r_3 <= cutoff = %g", where, r3,
                         hp->cutoff);
    threebody_hparams thp = threebody_sizes(hp);
    if (threebody_check(&thp))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: %s", where, mlpot_last_error());
    return MLPOT_OK;
}

static mlpot_status m3gnet_layout(const model_hparams *hp, tensor_table *t) {
    static const char *names[] = {"W_alpha", "b_alpha", "W_value", "W_gate"};
    static const size_t slots[] = {offsetof(m3gnet_threebody, W_alpha),
                                   offsetof(m3gnet_threebody, b_alpha),
                                   offsetof(m3gnet_threebody, W_value),
                                   offsetof(m3gnet_threebody, W_gate)};
    threebody_hparams thp = threebody_sizes(hp);
    int F = hp->n_features, E = thp.n_edge_features, Q = threebody_q(&thp);
    int rows[] = {F, Q, Q, Q}, cols[] = {Q, 0, E, E};
    mlpot_status st = megnet_encoder_layout(hp, t, offsetof(m3gnet_params, edge_encoder_W),
                                            offsetof(m3gnet_params, edge_encoder_b));
    char name[MODEL_TENSOR_NAME];
    for (int l = 0; !st && l < hp->n_layers; l++) {
        size_t base = offsetof(m3gnet_params, threebody) + (size_t)l * sizeof(m3gnet_threebody);
        for (int k = 0; !st && k < 4; k++) {
            snprintf(name, sizeof name, "/layers/%d/threebody/%s", l, names[k]);
            st = tensor_table_add(t, name, rows[k], cols[k], base + slots[k]);
        }
        if (!st)
            st = megnet_block_layout(hp, t, l,
                                     offsetof(m3gnet_params, layer) +
                                         (size_t)l * sizeof(megnet_layer));
    }
    return st;
}

static void m3gnet_workspace(const model_hparams *hp, const arch_sizes *sz,
                             size_t buffer[ARCH_MAX_BUFFERS], size_t *scratch) {
    megnet_workspace(hp, sz, buffer, scratch);
    threebody_hparams thp = threebody_sizes(hp);
    size_t Q = (size_t)threebody_q(&thp), E = sz->n_edges ? sz->n_edges : 1;
    size_t N = sz->n_atoms ? sz->n_atoms : 1, n_short = sz->n_short ? sz->n_short : 1;
    size_t threads = (size_t)(sz->n_threads > 1 ? sz->n_threads : 1);
    buffer[BUF_A_MID] = E * (size_t)thp.n_edge_features;
    buffer[BUF_S] = n_short * Q;
    /* threebody_workspace_size(&thp, t, 1, threads) from the sizes alone */
    buffer[BUF_WORK] = (N + n_short) * Q + threads * 2 * (size_t)sz->max_short * Q;
}

/* The doubles in BUF_WORK (m3gnet_workspace sized it for this many threads). */
static size_t work_doubles(const eval_context *ctx, const threebody_hparams *thp) {
    size_t Q = (size_t)threebody_q(thp), max_short = (size_t)ctx->triplets->max_short;
    size_t shared = ((size_t)ctx->n_atoms + (size_t)ctx->triplets->n_short) * Q;
    return shared + (size_t)ctx->n_threads * 2 * max_short * Q;
}

/* The atoms block l handles in a trimmed evaluation (eval.h): its edge features within L-1-l
 * hops of the contributing atoms, whose short edges read the gates of atoms one hop farther;
 * NULL when not trimmed. */
static const threebody_atoms *block_atoms(const eval_context *ctx, int l, threebody_atoms *room) {
    if (!ctx->hop)
        return NULL;
    int hops = ctx->hp->n_layers - 1 - l;
    *room = (threebody_atoms){ctx->hop_order, ctx->hop, eval_n_within(ctx, hops),
                              eval_n_within(ctx, hops + 1), hops};
    return room;
}

/* The prelude of block l (megnet_block.h): a_mid = a_in + the three-body update (model.md §8;
 * the sums S kept in BUF_S for the reverse sweep, which calls this again instead of storing
 * a_mid and S for every block). */
static mlpot_status threebody_prelude_forward(eval_context *ctx, int l, const double *a_in,
                                              const double **a_block) {
    const model_hparams *hp = ctx->hp;
    const m3gnet_params *v = ctx->params;
    threebody_hparams thp = threebody_sizes(hp);
    threebody_params w = threebody_weights(&v->threebody[l]);
    const double *h = ctx->h + (size_t)l * ctx->n_atoms * hp->n_features;
    threebody_atoms room;
    *a_block = ctx->buffer[BUF_A_MID];
    return threebody_forward(ctx->buffer[BUF_A_MID], ctx->buffer[BUF_S], a_in, &thp, &w,
                             ctx->graph, ctx->triplets, h, ctx->buffer[BUF_WORK],
                             work_doubles(ctx, &thp), block_atoms(ctx, l, &room), ctx->parallel);
}

/* The update is additive, so dE/da_in = da (dE/da_mid) already; add the gates' dE/dh and the
 * edge-vector adjoints of the three-body terms, and their parameter gradients. */
static mlpot_status threebody_prelude_backward(eval_context *ctx, int l, const double *da) {
    const model_hparams *hp = ctx->hp;
    const m3gnet_params *v = ctx->params;
    m3gnet_params *grad = ctx->grad;
    threebody_hparams thp = threebody_sizes(hp);
    threebody_params w = threebody_weights(&v->threebody[l]);
    const double *h = ctx->h + (size_t)l * ctx->n_atoms * hp->n_features;
    threebody_atoms room;
    threebody_grads gw;
    if (grad) {
        m3gnet_threebody *gt = &grad->threebody[l];
        gw = (threebody_grads){gt->W_alpha, gt->b_alpha, gt->W_value, gt->W_gate};
    }
    return threebody_backward(ctx->dh, ctx->edge_adjoint, grad ? &gw : NULL, da,
                              ctx->buffer[BUF_S], &thp, &w, ctx->graph, ctx->triplets, h,
                              ctx->buffer[BUF_WORK], work_doubles(ctx, &thp),
                              block_atoms(ctx, l, &room), ctx->parallel);
}

static const megnet_prelude threebody_prelude = {threebody_prelude_forward,
                                                 threebody_prelude_backward};

static megnet_stack stack_of(const m3gnet_params *v) {
    return (megnet_stack){v->edge_encoder_W, v->edge_encoder_b, (megnet_layer *)v->layer};
}

static mlpot_status m3gnet_forward(eval_context *ctx) {
    megnet_stack p = stack_of(ctx->params);
    return megnet_stack_forward(ctx, &p, &threebody_prelude);
}

static mlpot_status m3gnet_backward(eval_context *ctx) {
    megnet_stack p = stack_of(ctx->params), g = ctx->grad ? stack_of(ctx->grad) : p;
    return megnet_stack_backward(ctx, &p, ctx->grad ? &g : NULL, &threebody_prelude);
}

const model_arch_ops m3gnet_arch = {
    .name = "m3gnet",
    .file_version = 2,
    .summary = "three-body edge updates in front of MEGNet blocks (model.md §8)",
    .hparams = m3gnet_hparams,
    .n_hparams = (int)(sizeof m3gnet_hparams / sizeof m3gnet_hparams[0]),
    .validate = m3gnet_validate,
    .layout = m3gnet_layout,
    .views_size = sizeof(m3gnet_params),
    .workspace = m3gnet_workspace,
    .triplet_cutoff = m3gnet_triplet_cutoff,
    .fit_to_frames = m3gnet_fit_to_frames,
    .forward = m3gnet_forward,
    .backward = m3gnet_backward,
};
