/* dense.c — dense layers on blocks of rows. The loops run along the output width innermost,
 * over contiguous rows of W, which the compiler vectorises; W stays in cache across the rows
 * of a block (an atom's edges, a chunk of atoms). */
#include "nn/dense.h"

#include <string.h>

void dense_accumulate(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W, int rows,
                      int n_in, int n_out) {
    for (int r = 0; r < rows; r++) {
        nn_real *restrict yr = y + (long)r * ldy;
        const nn_real *xr = x + (long)r * ldx;
        for (int k = 0; k < n_in; k++) {
            const nn_real a = xr[k];
            const nn_real *restrict Wk = W + (long)k * n_out;
            for (int c = 0; c < n_out; c++)
                yr[c] += a * Wk[c];
        }
    }
}

void dense_forward(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W,
                   const nn_real *b, int rows, int n_in, int n_out) {
    for (int r = 0; r < rows; r++) {
        nn_real *yr = y + (long)r * ldy;
        if (b)
            memcpy(yr, b, (size_t)n_out * sizeof *yr);
        else
            memset(yr, 0, (size_t)n_out * sizeof *yr);
    }
    dense_accumulate(y, ldy, x, ldx, W, rows, n_in, n_out);
}

void dense_backward(nn_real *dx, int lddx, nn_real *dW, nn_real *db, const nn_real *dy, int lddy,
                    const nn_real *x, int ldx, const nn_real *W, int rows, int n_in, int n_out) {
    for (int r = 0; r < rows; r++) {
        const nn_real *restrict dyr = dy + (long)r * lddy;
        if (dx) {
            nn_real *dxr = dx + (long)r * lddx;
            for (int k = 0; k < n_in; k++) {
                const nn_real *restrict Wk = W + (long)k * n_out;
                nn_real sum = 0;
                /* a reduction: simd lets the compiler split it over vector lanes (a fixed order
                 * for a given build, the same on any number of threads) */
#pragma omp simd reduction(+ : sum)
                for (int c = 0; c < n_out; c++)
                    sum += Wk[c] * dyr[c];
                dxr[k] += sum;
            }
        }
        if (dW) {
            const nn_real *xr = x + (long)r * ldx;
            for (int k = 0; k < n_in; k++) {
                const nn_real a = xr[k];
                nn_real *restrict dWk = dW + (long)k * n_out;
                for (int c = 0; c < n_out; c++)
                    dWk[c] += a * dyr[c];
            }
        }
        if (db)
            for (int c = 0; c < n_out; c++)
                db[c] += dyr[c];
    }
}
