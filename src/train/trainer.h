/* trainer.h — fitting a model to HDF5 datasets: the settings of a run (all of which a
 * checkpoint stores, so that a run resumes from its checkpoint alone), and the run itself:
 * data statistics, mini-batch epochs with frames in parallel and a fixed-order gradient sum
 * (bit-identical models for any thread count), validation with the weight average, early
 * stopping, a checkpoint written atomically after every epoch, and a CSV learning curve. */
#ifndef MLPOT_TRAIN_TRAINER_H
#define MLPOT_TRAIN_TRAINER_H

#include <stdio.h>

#include "model/model.h"
#include "train/loss.h"
#include "train/optimizer.h"

#define TRAIN_PATH_MAX 4096

typedef struct {
    char train_path[TRAIN_PATH_MAX];
    char valid_path[TRAIN_PATH_MAX]; /* "" = split valid_fraction off the training set */
    double valid_fraction;
    model_hparams hp;                /* architecture and sizes; species and statistics from data */
    loss_weights weights;
    optimizer_config opt;
    int epochs, batch_size;
    int patience;                    /* early stopping after this many epochs (0 = never) */
    unsigned long long seed;
    int threads;                     /* 0 = OpenMP's default */
    char output[TRAIN_PATH_MAX];     /* the trained model */
    char checkpoint[TRAIN_PATH_MAX]; /* "" = output + ".ckpt" */
    char log_csv[TRAIN_PATH_MAX];    /* "" = output + ".csv" */
    char command_line[2048];
    int stop_after_epochs;           /* testing aid: stop (as if killed) after this many epochs of
                                        this process; 0 = run to the end */
} train_settings;

/* Defaults: the recipe of the shipped potentials (potentials/recipes/): megnet with E 16, M 32,
 * r_c 5, F 32, L 2, K 16, H 32; weights E 100, F 1, S 10 (per-atom energy eV^-2, force and
 * stress components); Adam lr 2e-3 with 5% warm-up and cosine decay to 1e-5, batch 2, 200
 * epochs, EMA 0.99, clipping at 10, no early stopping, valid fraction 0.1, seed 0. */
void train_settings_defaults(train_settings *s);
/* `arch` into hp with training's defaults of its own hyper-parameters: the architecture's
 * table defaults, except edge features 16 and MEGNet hidden width 32 (megnet, m3gnet). */
void train_arch_defaults(model_hparams *hp, const model_arch_ops *arch);

/* What a run reports while it works; any member may be NULL. `line` gets complete lines (the
 * start, warnings, one line per epoch, the end), `progress` the state within an epoch: batches
 * done, seconds per epoch so far in this run and the estimated seconds left. */
typedef struct {
    void (*line)(void *user, const char *text);
    void (*progress)(void *user, int epoch, int epochs, int batch, int batches,
                     double seconds_per_epoch, double eta_seconds);
    void *user;
} train_observer;

/* Runs a training from scratch, or resumes from `resume_checkpoint` (its settings are used; a
 * non-zero `epochs_override` extends the run), reporting to `observer` (may be NULL). It runs
 * on settings->threads threads (0: the OpenMP default) without changing the caller's OpenMP
 * settings, and prints nothing itself. */
mlpot_status train_run(const train_settings *settings, const char *resume_checkpoint,
                       int epochs_override, const train_observer *observer);

#endif
