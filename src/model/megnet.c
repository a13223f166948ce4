/* megnet.c — the "megnet" architecture of model.md §4: the edge encoder, then L blocks of edge
 * and node updates (megnet_block.c). Edge features of every block are stored
 * ([L+1][E][E_dim]) for the reverse sweep. */
#include <stddef.h>

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

static megnet_stack stack_of(const megnet_params *v) {
    return (megnet_stack){v->edge_encoder_W, v->edge_encoder_b, (megnet_layer *)v->layer};
}

static mlpot_status megnet_forward(eval_context *ctx) {
    megnet_stack p = stack_of(ctx->params);
    return megnet_stack_forward(ctx, &p, NULL);
}

static mlpot_status megnet_backward(eval_context *ctx) {
    megnet_stack p = stack_of(ctx->params), g = ctx->grad ? stack_of(ctx->grad) : p;
    return megnet_stack_backward(ctx, &p, ctx->grad ? &g : NULL, NULL);
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
