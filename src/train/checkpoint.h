/* checkpoint.h — saving and restoring the whole state of a training run (see checkpoint.c). */
#ifndef MLPOT_TRAIN_CHECKPOINT_H
#define MLPOT_TRAIN_CHECKPOINT_H

#include "train/trainer.h"

typedef struct {
    int epoch;                /* epochs completed */
    unsigned long long rng;   /* the shuffling generator's state */
    double best_valid;        /* best validation loss so far */
    int best_epoch;
    double *best_params;      /* [n_params] the weights saved as the model (EMA when used) */
    char *csv;                /* the learning curve so far, as CSV text */
} checkpoint_state;

mlpot_status checkpoint_save(const char *path, const mlpot_model *m, const train_settings *set,
                             const optimizer *o, const checkpoint_state *cs);
/* A new model, the settings, a new optimizer and the state (best_params and csv allocated). */
mlpot_status checkpoint_load(const char *path, mlpot_model **m, train_settings *set,
                             optimizer **o, checkpoint_state *cs);

#endif
