/* dense.h — the dense layer y = x W + b of model.md (row vectors, W of shape [n_in, n_out]),
 * applied to a block of rows at once. */
#ifndef MLPOT_NN_DENSE_H
#define MLPOT_NN_DENSE_H

#include "nn/nn_real.h"

/* y[rows][n_out] = x[rows][n_in] W[n_in][n_out] + b[n_out]; b may be NULL (no bias).
 * ldx and ldy are the row strides of x and y (n_in and n_out for packed arrays). */
void dense_forward(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W,
                   const nn_real *b, int rows, int n_in, int n_out);
/* y += x W (no bias): for adding a term of a factored concatenation. */
void dense_accumulate(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W, int rows,
                      int n_in, int n_out);
/* The reverse of dense_forward, accumulating: dx += dy W^T, dW += x^T dy, db += sum dy.
 * Any of dx, dW, db may be NULL. */
void dense_backward(nn_real *dx, int lddx, nn_real *dW, nn_real *db, const nn_real *dy, int lddy,
                    const nn_real *x, int ldx, const nn_real *W, int rows, int n_in, int n_out);

#endif
