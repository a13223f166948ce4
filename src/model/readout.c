/* readout.c — the per-atom energies of model.md §5 and their reverse sweep (readout.h). */
#include "model/readout.h"

#include <string.h>

#include "nn/activations.h"
#include "nn/dense.h"

void readout_forward(const eval_context *ctx, double *t_all, double *energies) {
    const model_hparams *hp = ctx->hp;
    const model_views *v = &ctx->model->v;
    int N = ctx->n_atoms, F = hp->n_features, H = hp->readout_hidden;
    const double *h = ctx->h + (size_t)hp->n_layers * N * F;
    int n_rows = eval_n_within(ctx, 0); /* a trimmed subset evaluation: contributing atoms */
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int n = 0; n < n_rows; n++) {
        int i = eval_atom(ctx, n);
        double *t = t_all + (size_t)i * H;
        dense_forward(t, H, h + (size_t)i * F, F, v->readout_W1, v->readout_b1, 1, F, H);
        double e = v->readout_b2[0];
        for (int k = 0; k < H; k++)
            e += nn_softplus(t[k]) * v->readout_W2[k];
        energies[i] = hp->energy_scale * e + hp->energy_shift + v->species_energy[ctx->species[i]];
    }
}

/* dE/dh_L = scale * (W2^T * sigmoid(t)) W1^T (each E_i enters E once) */
void readout_backward(const eval_context *ctx, const double *t_all, const int *contributing,
                      model_views *grad) {
    const model_hparams *hp = ctx->hp;
    const model_views *v = &ctx->model->v;
    int N = ctx->n_atoms, F = hp->n_features, H = hp->readout_hidden;
    const double *h = ctx->h + (size_t)hp->n_layers * N * F;
#pragma omp parallel for schedule(static) if (ctx->parallel)
    for (int i = 0; i < N; i++) {
        double *dt = eval_scratch(ctx);
        const double *t = t_all + (size_t)i * H;
        double *dh = ctx->dh + (size_t)i * F;
        memset(dh, 0, (size_t)F * sizeof *dh);
        if (contributing && !contributing[i])
            continue;
        for (int k = 0; k < H; k++)
            dt[k] = hp->energy_scale * v->readout_W2[k] * nn_sigmoid(t[k]);
        dense_backward(dh, F, grad ? grad->readout_W1 : NULL, grad ? grad->readout_b1 : NULL, dt,
                       H, h + (size_t)i * F, F, v->readout_W1, 1, F, H);
        if (grad) {
            for (int k = 0; k < H; k++)
                grad->readout_W2[k] += hp->energy_scale * nn_softplus(t[k]);
            grad->readout_b2[0] += hp->energy_scale;
            grad->species_energy[ctx->species[i]] += 1.0;
        }
    }
}
