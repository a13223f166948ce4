/* megnet.c — the "megnet" architecture of model.md §4: the edge encoder, then L blocks of edge
 * and node updates (megnet_block.c). Edge features of every block are stored
 * ([L+1][E][E_dim]) for the reverse sweep. */
#include <stddef.h>
#include <string.h>

#include "model/megnet_block.h"

static const arch_hparam megnet_hparams[] = {MEGNET_BLOCK_HPARAMS};

/* Named views of the parameters (or gradients), bound by the tensor table's slots. */
typedef struct {
    double *edge_encoder_W; /* [K,E] */
    double *edge_encoder_b; /* [E] */
    megnet_layer layer[MODEL_MAX_LAYERS];
} megnet_params;

static mlpot_status megnet_layout(const model_hparams *hp, tensor_table *t) {
    mlpot_status st = megnet_encoder_layout(hp, t, offsetof(megnet_params, edge_encoder_W),
                                            offsetof(megnet_params, edge_encoder_b));
    for (int l = 0; !st && l < hp->n_layers; l++)
        st = megnet_block_layout(hp, t, l,
                                 offsetof(megnet_params, layer) + (size_t)l * sizeof(megnet_layer));
    return st;
}

static mlpot_status megnet_forward(eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    const megnet_params *v = ctx->params;
    size_t N = (size_t)ctx->n_atoms, F = (size_t)hp->n_features, E = (size_t)ctx->n_edges;
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    double *edge_a = ctx->buffer[MEGNET_BUF_EDGE_A];
    megnet_encoder_forward(ctx, v->edge_encoder_W, v->edge_encoder_b, edge_a);
    for (int l = 0; l < hp->n_layers; l++)
        megnet_block_forward(ctx, l, &v->layer[l], ctx->h + (size_t)l * N * F,
                             ctx->h + (size_t)(l + 1) * N * F, edge_a + (size_t)l * E * Ed,
                             edge_a + (size_t)(l + 1) * E * Ed,
                             ctx->buffer[MEGNET_BUF_C] + (size_t)l * N * Ed);
    return MLPOT_OK;
}

static mlpot_status megnet_backward(eval_context *ctx) {
    const model_hparams *hp = ctx->hp;
    const megnet_params *v = ctx->params;
    megnet_params *grad = ctx->grad;
    size_t N = (size_t)ctx->n_atoms, F = (size_t)hp->n_features, E = (size_t)ctx->n_edges;
    size_t Ed = (size_t)arch_hparam_int(hp, MEGNET_HP_EDGE_FEATURES);
    const double *edge_a = ctx->buffer[MEGNET_BUF_EDGE_A];
    double *dEdr = ctx->buffer[MEGNET_BUF_DEDR];
    double *da_next = ctx->buffer[MEGNET_BUF_D_EDGE_A]; /* adjoint of the block's output a */
    double *da_cur = da_next + E * Ed;                  /* ... and of its input */
    memset(da_next, 0, E * Ed * sizeof *da_next); /* the readout does not see edge features */
    memset(dEdr, 0, E * sizeof *dEdr);
    for (int l = hp->n_layers - 1; l >= 0; l--) {
        megnet_block_backward(ctx, l, &v->layer[l], grad ? &grad->layer[l] : NULL,
                              ctx->h + (size_t)l * N * F, edge_a + (size_t)l * E * Ed,
                              edge_a + (size_t)(l + 1) * E * Ed,
                              ctx->buffer[MEGNET_BUF_C] + (size_t)l * N * Ed, da_next, da_cur,
                              dEdr);
        double *swap = da_next;
        da_next = da_cur;
        da_cur = swap;
    }
    megnet_encoder_backward(ctx, v->edge_encoder_W, v->edge_encoder_b,
                            grad ? grad->edge_encoder_W : NULL, grad ? grad->edge_encoder_b : NULL,
                            da_next, dEdr);
    return MLPOT_OK;
}

const model_arch_ops megnet_arch = {
    .name = "megnet",
    .file_version = 1,
    .summary = "smooth MEGNet: edge and node MLP updates (model.md §4)",
    .hparams = megnet_hparams,
    .n_hparams = (int)(sizeof megnet_hparams / sizeof megnet_hparams[0]),
    .validate = NULL,
    .layout = megnet_layout,
    .views_size = sizeof(megnet_params),
    .workspace = megnet_workspace,
    .triplet_cutoff = NULL,
    .forward = megnet_forward,
    .backward = megnet_backward,
};
