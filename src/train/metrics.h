/* metrics.h — the error metrics of mlpot eval (model.md §9): MAE and RMSE of the energy per atom
 * (meV/atom), of the labelled force components (eV/Å) and of the six independent stress
 * components xx yy zz yz xz xy (GPa), accumulated frame by frame. */
#ifndef MLPOT_TRAIN_METRICS_H
#define MLPOT_TRAIN_METRICS_H

#include "mlpot/mlpot.h"

typedef struct {
    char name[128];
    long frames, atoms;
    long e_n, f_n, s_n;
    double e_abs, e_sq, f_abs, f_sq, s_abs, s_sq;
} error_stats;

/* Adds the errors of prediction r against the labels of s (unlabelled parts are skipped). */
void error_stats_add(error_stats *st, const mlpot_structure *s, const mlpot_results *r);
/* sum / n, or NaN when n is 0. */
double metrics_mean(double sum, long n);

#endif
