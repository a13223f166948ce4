/* dense.c — dense layers on blocks of rows, register-blocked: a tile of outputs stays in vector
 * registers while the loop runs over the shared dimension, so the inner loop is loads and FMAs.
 * Each output's sum runs in one fixed order that depends on the shapes only (not on alignment,
 * the tile it falls in, or threads): y and dW add the terms in index order; dx = dy W^T adds
 * them in vector lanes (lane l takes c = l mod NN_VLEN), then the lanes pairwise, then the tail. */
#include "nn/dense.h"

#include <string.h>

#include "nn/simd.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))





/* The outer-product tile of both y += x W and dW += x^T dy:
 * out[i][C vectors] += sum_{t < n} a[i sa_i + t sa_t] B[t ldb][C vectors], i < R, t in order. */
ALWAYS_INLINE void outer_tile(nn_real *out, int ldout, const nn_real *a, long sa_i, long sa_t,
                              const nn_real *B, int ldb, int n, const int R, const int C) {
    nn_vec acc[4][8];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 8
        for (int v = 0; v < C; v++)
            acc[i][v] = nn_vload(out + (long)i * ldout + v * NN_VLEN);
    for (int t = 0; t < n; t++) {
        const nn_real *Bt = B + (long)t * ldb;
        nn_vec w[8];
#pragma GCC unroll 8
        for (int v = 0; v < C; v++)
            w[v] = nn_vload(Bt + v * NN_VLEN);
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            nn_vec ai = nn_vbroadcast(a[i * sa_i + t * sa_t]);
#pragma GCC unroll 8
            for (int v = 0; v < C; v++)
                acc[i][v] = nn_vfma(ai, w[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 8
        for (int v = 0; v < C; v++)
            nn_vstore(out + (long)i * ldout + v * NN_VLEN, acc[i][v]);
}

/* y[R rows][C vectors at column c] += x[R][0:n_in] W[0:n_in][c ...] */
ALWAYS_INLINE void accumulate_tile(nn_real *y, int ldy, const nn_real *x, int ldx,
                                   const nn_real *W, int n_in, int n_out, int c, const int R,
                                   const int C) {
    outer_tile(y + c, ldy, x, ldx, 1, W + c, n_out, n_in, R, C);
}

/* the columns left over after whole vectors, one at a time, in the same order */
static void accumulate_columns(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W,
                               int rows, int n_in, int n_out, int c0) {
    for (int r = 0; r < rows; r++)
        for (int c = c0; c < n_out; c++) {
            nn_real s = y[(long)r * ldy + c];
            for (int k = 0; k < n_in; k++)
                s = nn_fma(x[(long)r * ldx + k], W[(long)k * n_out + c], s);
            y[(long)r * ldy + c] = s;
        }
}

/* R rows of y: tiles of C vectors, then one vector at a time */
ALWAYS_INLINE void accumulate_rows(nn_real *y, int ldy, const nn_real *x, int ldx,
                                   const nn_real *W, int n_in, int n_out, const int R,
                                   const int C) {
    int nv = n_out / NN_VLEN, v = 0;
    for (; v + C <= nv; v += C)
        accumulate_tile(y, ldy, x, ldx, W, n_in, n_out, v * NN_VLEN, R, C);
    for (; v < nv; v++)
        accumulate_tile(y, ldy, x, ldx, W, n_in, n_out, v * NN_VLEN, R, 1);
}

void dense_accumulate(nn_real *y, int ldy, const nn_real *x, int ldx, const nn_real *W, int rows,
                      int n_in, int n_out) {
    int r = 0;
    for (; r + 4 <= rows; r += 4) /* 4 rows x 2 vectors: 8 accumulators */
        accumulate_rows(y + (long)r * ldy, ldy, x + (long)r * ldx, ldx, W, n_in, n_out, 4, 2);
    for (; r < rows; r++) /* 1 row x 8 vectors */
        accumulate_rows(y + (long)r * ldy, ldy, x + (long)r * ldx, ldx, W, n_in, n_out, 1, 8);
    int nv = n_out / NN_VLEN;
    if (nv * NN_VLEN < n_out)
        accumulate_columns(y, ldy, x, ldx, W, rows, n_in, n_out, nv * NN_VLEN);
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

/* dx[R rows][K inputs from k] += dy[R][:] . W[k ...][:] */
ALWAYS_INLINE void dx_tile(nn_real *dx, int lddx, const nn_real *dy, int lddy, const nn_real *W,
                           int n_out, int k, const int R, const int KB) {
    nn_vec acc[2][8];
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int j = 0; j < KB; j++)
            acc[r][j] = nn_vbroadcast(0);
    int nv = n_out / NN_VLEN;
    for (int v = 0; v < nv; v++) {
        nn_vec d[2];
#pragma GCC unroll 2
        for (int r = 0; r < R; r++)
            d[r] = nn_vload(dy + (long)r * lddy + v * NN_VLEN);
#pragma GCC unroll 8
        for (int j = 0; j < KB; j++) {
            nn_vec w = nn_vload(W + (long)(k + j) * n_out + v * NN_VLEN);
#pragma GCC unroll 2
            for (int r = 0; r < R; r++)
                acc[r][j] = nn_vfma(d[r], w, acc[r][j]);
        }
    }
#if NN_VLEN == 4
    if (KB % 4 == 0 && nv * NN_VLEN == n_out) { /* four sums per vector, no tail */
#pragma GCC unroll 2
        for (int r = 0; r < R; r++)
#pragma GCC unroll 2
            for (int j = 0; j < KB; j += 4) {
                nn_real *d = dx + (long)r * lddx + k + j;
                nn_vstore(d, nn_vload(d) + nn_vsum4(acc[r][j], acc[r][j + 1], acc[r][j + 2],
                                                    acc[r][j + 3]));
            }
        return;
    }
#endif
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int j = 0; j < KB; j++) {
            nn_real s = nn_vsum(acc[r][j]);
            const nn_real *Wk = W + (long)(k + j) * n_out, *dyr = dy + (long)r * lddy;
            for (int c = nv * NN_VLEN; c < n_out; c++)
                s = nn_fma(dyr[c], Wk[c], s);
            dx[(long)r * lddx + k + j] += s;
        }
}

/* R rows of dx: tiles of KB inputs, then one input at a time */
ALWAYS_INLINE void dx_rows(nn_real *dx, int lddx, const nn_real *dy, int lddy, const nn_real *W,
                           int n_in, int n_out, const int R, const int KB) {
    int k = 0;
    for (; k + KB <= n_in; k += KB)
        dx_tile(dx, lddx, dy, lddy, W, n_out, k, R, KB);
    for (; k < n_in; k++)
        dx_tile(dx, lddx, dy, lddy, W, n_out, k, R, 1);
}

static void backward_dx(nn_real *dx, int lddx, const nn_real *dy, int lddy, const nn_real *W,
                        int rows, int n_in, int n_out) {
    int r = 0;
    for (; r + 2 <= rows; r += 2) /* 2 rows x 4 inputs: 8 accumulators */
        dx_rows(dx + (long)r * lddx, lddx, dy + (long)r * lddy, lddy, W, n_in, n_out, 2, 4);
    for (; r < rows; r++) /* 1 row x 8 inputs */
        dx_rows(dx + (long)r * lddx, lddx, dy + (long)r * lddy, lddy, W, n_in, n_out, 1, 8);
}

/* dW[K inputs from k][C vectors at column c] += x[0:rows][k ...]^T dy[0:rows][c ...] */
ALWAYS_INLINE void dW_tile(nn_real *dW, const nn_real *dy, int lddy, const nn_real *x, int ldx,
                           int rows, int n_out, int k, int c, const int KB, const int C) {
    outer_tile(dW + (long)k * n_out + c, n_out, x + k, 1, ldx, dy + c, lddy, rows, KB, C);
}

/* one row: dW[k][C vectors from vector v] += x[k] dy[...], the C vectors of dy held in
 * registers (each dW element is read and written once: the loop is bound by memory) */
ALWAYS_INLINE void rank1_dW(nn_real *dW, const nn_real *dy, const nn_real *x, int n_in, int n_out,
                            int v, const int C) {
    nn_vec d[8];
#pragma GCC unroll 8
    for (int j = 0; j < C; j++)
        d[j] = nn_vload(dy + (v + j) * NN_VLEN);
    for (int k = 0; k < n_in; k++) {
        nn_vec a = nn_vbroadcast(x[k]);
        nn_real *row = dW + (long)k * n_out + v * NN_VLEN;
#pragma GCC unroll 8
        for (int j = 0; j < C; j++)
            nn_vstore(row + j * NN_VLEN, nn_vfma(a, d[j], nn_vload(row + j * NN_VLEN)));
    }
}

static void backward_dW(nn_real *dW, const nn_real *dy, int lddy, const nn_real *x, int ldx,
                        int rows, int n_in, int n_out) {
    int nv = n_out / NN_VLEN;
    int k = rows == 1 ? n_in : 0; /* one row: every whole vector by rank1_dW */
    if (rows == 1) {
        int v = 0;
        for (; v + 8 <= nv; v += 8)
            rank1_dW(dW, dy, x, n_in, n_out, v, 8);
        for (; v < nv; v++)
            rank1_dW(dW, dy, x, n_in, n_out, v, 1);
    }
    for (; k + 4 <= n_in; k += 4) { /* 4 inputs x 2 vectors */
        int v = 0;
        for (; v + 2 <= nv; v += 2)
            dW_tile(dW, dy, lddy, x, ldx, rows, n_out, k, v * NN_VLEN, 4, 2);
        for (; v < nv; v++)
            dW_tile(dW, dy, lddy, x, ldx, rows, n_out, k, v * NN_VLEN, 4, 1);
    }
    for (; k < n_in; k++) {
        int v = 0;
        for (; v + 4 <= nv; v += 4)
            dW_tile(dW, dy, lddy, x, ldx, rows, n_out, k, v * NN_VLEN, 1, 4);
        for (; v < nv; v++)
            dW_tile(dW, dy, lddy, x, ldx, rows, n_out, k, v * NN_VLEN, 1, 1);
    }
    for (int kk = 0; kk < n_in; kk++) /* columns after the whole vectors */
        for (int c = nv * NN_VLEN; c < n_out; c++) {
            nn_real s = dW[(long)kk * n_out + c];
            for (int r = 0; r < rows; r++)
                s = nn_fma(x[(long)r * ldx + kk], dy[(long)r * lddy + c], s);
            dW[(long)kk * n_out + c] = s;
        }
}

void dense_backward(nn_real *dx, int lddx, nn_real *dW, nn_real *db, const nn_real *dy, int lddy,
                    const nn_real *x, int ldx, const nn_real *W, int rows, int n_in, int n_out) {
    if (dx)
        backward_dx(dx, lddx, dy, lddy, W, rows, n_in, n_out);
    if (dW)
        backward_dW(dW, dy, lddy, x, ldx, rows, n_in, n_out);
    if (db)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < n_out; c++)
                db[c] += dy[(long)r * lddy + c];
}
