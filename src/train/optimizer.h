/* optimizer.h — Adam and AdamW over a flat parameter array, gradient clipping by global norm,
 * learning-rate warm-up followed by a cosine or plateau schedule, and an exponential moving
 * average of the weights (used for validation and the saved model). All state is plain arrays
 * and numbers, so that a checkpoint can store and restore it exactly. */
#ifndef MLPOT_TRAIN_OPTIMIZER_H
#define MLPOT_TRAIN_OPTIMIZER_H

#include <stddef.h>

#include "mlpot/mlpot.h"

typedef enum { SCHEDULE_COSINE = 0, SCHEDULE_PLATEAU = 1 } lr_schedule_kind;

typedef struct {
    double lr;            /* peak learning rate */
    double lr_min;        /* floor of the schedule */
    double beta1, beta2, eps;
    double weight_decay;  /* AdamW's decoupled decay (0 = plain Adam) */
    double clip_norm;     /* global gradient norm limit (0 = none) */
    int warmup_steps;     /* linear warm-up from 0 */
    lr_schedule_kind schedule;
    long total_steps;     /* cosine: steps of the whole run */
    double plateau_factor; /* plateau: multiply by this ... */
    int plateau_patience;  /* ... after this many epochs without improvement */
    double ema_decay;      /* 0 = no moving average; warms up as min(d, (1+t)/(10+t)) */
} optimizer_config;

typedef struct {
    optimizer_config cfg;
    size_t n;
    double *m, *v;     /* Adam moments */
    double *ema;       /* moving average of the parameters (NULL without) */
    long step;         /* updates done */
    double plateau_scale; /* current plateau multiplier (1 at start) */
    double best_metric;   /* best validation loss seen (for plateau and early stopping) */
    int epochs_since_best;
} optimizer;

mlpot_status optimizer_create(optimizer **out, const optimizer_config *cfg, size_t n,
                              const double *params);
void optimizer_free(optimizer *o);
/* The learning rate of the next update. */
double optimizer_lr(const optimizer *o);
/* One update of params from grad (grad may be scaled down in place by clipping); returns the
 * gradient norm before clipping. */
double optimizer_step(optimizer *o, double *params, double *grad);
/* End of an epoch with validation loss `metric`: updates the plateau schedule and the
 * early-stopping count; returns 1 when the metric improved on the best so far. */
int optimizer_end_epoch(optimizer *o, double metric);

#endif
