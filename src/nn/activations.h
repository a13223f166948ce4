/* activations.h — the element-wise functions of model.md §2: smooth softplus
 * sp(x) = max(x,0) + log1p(exp(-|x|)), shifted softplus sp2 = sp - ln 2, the sigmoid, and the
 * CGCNN gate m = sigmoid(z^f) * sp(z^c). Backward functions accumulate into the input adjoint. */
#ifndef MLPOT_NN_ACTIVATIONS_H
#define MLPOT_NN_ACTIVATIONS_H

#include <math.h>

#include "nn/nn_real.h"

#define NN_LN2 0.69314718055994530942

static inline nn_real nn_sigmoid(nn_real x) {
    /* exp of a non-positive argument only: no overflow for any x */
    if (x >= 0) {
        nn_real e = exp(-x);
        return 1 / (1 + e);
    }
    nn_real e = exp(x);
    return e / (1 + e);
}

static inline nn_real nn_softplus(nn_real x) {
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

/* sp(x) and sigmoid(x) from one exponential */
static inline void nn_softplus_sigmoid(nn_real x, nn_real *sp, nn_real *sig) {
    nn_real e = exp(-fabs(x));
    *sp = (x > 0 ? x : 0) + log1p(e);
    *sig = x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/* The array functions below run in fixed-width vectors (nn/simd.h): exp and log1p come from
 * glibc's vector math library when the build has it, and an element's result depends on its
 * value only, not on where it sits in the array. */
void softplus_forward(nn_real *y, const nn_real *x, int n);
void softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n);
void shifted_softplus_forward(nn_real *y, const nn_real *x, int n);
/* sp2' = sp' = sigmoid */
void shifted_softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n);
void sigmoid_forward(nn_real *y, const nn_real *x, int n);
void sigmoid_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n);
/* d[k] *= sp'(x[k]) = sigmoid(x[k]): the reverse of softplus (or sp2) in place */
void softplus_backward_inplace(nn_real *d, const nn_real *x, int n);
/* m[F] = sigmoid(z[0:F]) * sp(z[F:2F]) for z of width 2F (model.md §3) */
void gate_forward(nn_real *m, const nn_real *z, int F);
/* dz[0:2F] += the adjoint of z given dm */
void gate_backward(nn_real *dz, const nn_real *dm, const nn_real *z, int F);

/* A row of deg edges with pre-activations z_k = z + k ldz (width 2F) and envelopes u[k]:
 * acc[F] += sum_k u[k] sigmoid(z_k^f) sp(z_k^c), the edges added in order (model.md §3). */
void gate_row_forward(nn_real *acc, const nn_real *z, int ldz, const nn_real *u, int deg, int F);
/* The reverse of gate_row_forward with the message of edge k receiving dm_k = u[k] s a_k, where
 * a_k = a + index[k] lda (index NULL: a for every edge). Writes dz_k = dz + k lddz (width 2F,
 * overwritten), adds sum_k dz_k to dsum[2F] and writes gate_dot[k] = sum_f s a_k[f]
 * sigmoid(z_k^f) sp(z_k^c), the derivative with respect to u[k]; dsum, gate_dot may be NULL. */
void gate_row_backward(nn_real *dz, int lddz, nn_real *dsum, nn_real *gate_dot, const nn_real *z,
                       int ldz, const nn_real *u, nn_real s, const nn_real *a, const int *index,
                       int lda, int deg, int F);

#endif
