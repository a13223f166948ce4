/* megnet_block.h — the layers of model.md §4 that "megnet" and "m3gnet" (§8) share: the edge
 * encoder a_ij = sp2(g(r_ij) W + b) and the block (edge update, then node update), each with
 * its reverse sweep, on an eval_context whose first MEGNET_N_BUFFERS workspace arrays and first
 * two hyper-parameters are the ones named here. */
#ifndef MLPOT_MODEL_MEGNET_BLOCK_H
#define MLPOT_MODEL_MEGNET_BLOCK_H

#include "model/eval.h"

/* The first two entries of the architecture's hyper-parameter table. */
enum { MEGNET_HP_EDGE_FEATURES, MEGNET_HP_HIDDEN };
#define MEGNET_BLOCK_HPARAMS                                                                       \
    {"n_edge_features", "edge-features", "E", "edge feature width", ARCH_HPARAM_INT, 32, 3, 1,    \
     MODEL_MAX_WIDTH},                                                                             \
    {                                                                                              \
        "megnet_hidden", "megnet-hidden", "M", "hidden width of the edge and node MLPs",           \
            ARCH_HPARAM_INT, 64, 5, 1, MODEL_MAX_WIDTH                                             \
    }

typedef struct {
    double *edge_W1, *edge_b1, *edge_W2, *edge_b2; /* [2F+E,M] [M] [M,E] [E] */
    double *node_W1, *node_b1, *node_W2, *node_b2; /* [F+E,M] [M] [M,F] [F] */
} megnet_layer;

/* Workspace arrays 0..MEGNET_N_BUFFERS-1 of the architecture. */
enum {
    MEGNET_BUF_C,        /* [L][N][E] c_i of every block */
    MEGNET_BUF_NODE,     /* [N][2M] Q_self | Q_nbr of the current block */
    MEGNET_BUF_D_NODE,   /* [N][2M] their adjoints */
    MEGNET_BUF_DH_IN,    /* [N][F] adjoint of the block's input h through the node update */
    MEGNET_BUF_DC,       /* [N][E] adjoint of c_i in the current block */
    MEGNET_BUF_EDGE_A,   /* [L+1][E][E_dim] edge features entering each block */
    MEGNET_BUF_D_EDGE_A, /* [2][E][E_dim] adjoints (current and next block) */
    MEGNET_BUF_DEDR,     /* [E] dE/dr_ij accumulated over blocks */
    MEGNET_N_BUFFERS
};

/* Adds /edge_encoder/W [K,E] and /edge_encoder/b [E] bound to the given slots. */
mlpot_status megnet_encoder_layout(const model_hparams *hp, tensor_table *t, size_t slot_W,
                                   size_t slot_b);
/* Adds the eight tensors of block l (/layers/l/edge/..., /layers/l/node/...) bound to the
 * megnet_layer at byte offset `slot` of the views. */
mlpot_status megnet_block_layout(const model_hparams *hp, tensor_table *t, int l, size_t slot);
/* Sizes of the shared workspace arrays and of the per-thread scratch. */
void megnet_workspace(const model_hparams *hp, const arch_sizes *sz,
                      size_t buffer[ARCH_MAX_BUFFERS], size_t *scratch);

/* a0[E][E_dim] = sp2(g(r) W + b) for every edge. */
void megnet_encoder_forward(const eval_context *ctx, const double *W, const double *b,
                            double *a0);
/* Adds the encoder's dE/dr (given da0, the adjoint of a0) to dEdr, then turns the completed
 * dEdr into edge adjoints; with gW and gb (not NULL) also the encoder's parameter gradients. */
void megnet_encoder_backward(eval_context *ctx, const double *W, const double *b, double *gW,
                             double *gb, const double *da0, double *dEdr);
/* Block l (0-based; a trimmed evaluation runs it within L-1-l hops, eval.h):
 * a_out = a_in + edge MLP, c = envelope-weighted sum / n_avg (stored), h_out = h_in + node MLP. */
void megnet_block_forward(const eval_context *ctx, int l, const megnet_layer *p,
                          const double *h_in, double *h_out, const double *a_in, double *a_out,
                          double *c);
/* The reverse of one block: on entry ctx->dh = dE/dh_out and da_out = dE/da_out; on return
 * ctx->dh = dE/dh_in, da_in = dE/da_in, and the block's dE/dr added to dEdr; gp (not NULL)
 * receives the block's parameter gradients. */
void megnet_block_backward(eval_context *ctx, int l, const megnet_layer *p, megnet_layer *gp,
                           const double *h_in, const double *a_in, const double *a_out,
                           const double *c, const double *da_out, double *da_in, double *dEdr);

/* The whole stack: the encoder, then L blocks, each optionally preceded by an additive update
 * of its input edge features (m3gnet's three-body update, model.md §8): `prelude->forward`
 * returns a pointer to a_in + update for block l (it is called again before the block's
 * reverse sweep, so it may recompute rather than store), and `prelude->backward` adds the
 * update's own adjoints given da = dE/d(a_in + update) = dE/da_in. prelude may be NULL. */
typedef struct {
    mlpot_status (*forward)(eval_context *ctx, int l, const double *a_in, const double **a_block);
    mlpot_status (*backward)(eval_context *ctx, int l, const double *da);
} megnet_prelude;

/* Parameters of the stack (or their gradients): the encoder and the L blocks. */
typedef struct {
    double *encoder_W, *encoder_b;
    megnet_layer *layer;
} megnet_stack;

mlpot_status megnet_stack_forward(eval_context *ctx, const megnet_stack *p,
                                  const megnet_prelude *prelude);
/* grad (NULL: no parameter gradients) receives the encoder's and the blocks' gradients. */
mlpot_status megnet_stack_backward(eval_context *ctx, const megnet_stack *p,
                                   const megnet_stack *grad, const megnet_prelude *prelude);

#endif
