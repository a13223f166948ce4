/* test_nn_kernels.c — the vector kernels of src/nn: every element's result is the same bit for
 * bit wherever it sits (buffers at several offsets, lengths that end in every tail), the vector
 * exp/log1p stay within a few ulps of the scalar glibc functions, the row primitives of the gate
 * against the per-edge functions and finite differences, and the register-blocked dense kernels
 * against a long-double reference on shapes that leave every kind of remainder. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

enum { MAX_N = 67, MAX_OFFSET = 9 };

static void fill(ts_rng *rng, double *x, int n, double scale) {
    for (int k = 0; k < n; k++)
        x[k] = scale * ts_normal(rng);
}

static int64_t ulps_apart(double a, double b) {
    if (a == b)
        return 0;
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if ((ia < 0) != (ib < 0))
        return INT64_MAX;
    return ia > ib ? ia - ib : ib - ia;
}

typedef void (*fwd_fn)(double *, const double *, int);
typedef void (*bwd_fn)(double *, const double *, const double *, int);

/* out[k] for x[k], each element computed alone (n = 1: the padded tail path) */
static void one_by_one_fwd(fwd_fn f, double *out, const double *x, int n) {
    for (int k = 0; k < n; k++)
        f(out + k, x + k, 1);
}

/* An array of n values copied to offset `off` of a scratch buffer, run there, compared bit for
 * bit with the same values run one at a time. */
static void check_placement_fwd(fwd_fn f, const double *x, int n) {
    double ref[MAX_N], buf_x[MAX_N + MAX_OFFSET], buf_y[MAX_N + MAX_OFFSET];
    one_by_one_fwd(f, ref, x, n);
    for (int off = 0; off < MAX_OFFSET; off++) {
        memcpy(buf_x + off, x, (size_t)n * sizeof *x);
        memset(buf_y, 0, sizeof buf_y);
        f(buf_y + off, buf_x + off, n);
        assert_memory_equal(buf_y + off, ref, (size_t)n * sizeof *ref);
    }
}

static void check_placement_bwd(bwd_fn f, const double *x, const double *dy, int n) {
    double ref[MAX_N], bx[MAX_N + MAX_OFFSET], bdy[MAX_N + MAX_OFFSET], bdx[MAX_N + MAX_OFFSET];
    for (int k = 0; k < n; k++) {
        ref[k] = 0.25 * k; /* backward accumulates: start from something */
        f(ref + k, dy + k, x + k, 1);
    }
    for (int off = 0; off < MAX_OFFSET; off++) {
        memcpy(bx + off, x, (size_t)n * sizeof *x);
        memcpy(bdy + (MAX_OFFSET - 1 - off), dy, (size_t)n * sizeof *dy);
        for (int k = 0; k < n; k++)
            bdx[off + k] = 0.25 * k;
        f(bdx + off, bdy + (MAX_OFFSET - 1 - off), bx + off, n);
        assert_memory_equal(bdx + off, ref, (size_t)n * sizeof *ref);
    }
}

static void inplace_as_bwd(double *d, const double *dy, const double *x, int n) {
    /* d := dy * sigmoid(x) through softplus_backward_inplace, added to d */
    double t[MAX_N];
    memcpy(t, dy, (size_t)n * sizeof *t);
    softplus_backward_inplace(t, x, n);
    for (int k = 0; k < n; k++)
        d[k] += t[k];
}

static void test_placement_independence(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 11);
    double x[MAX_N], dy[MAX_N];
    for (int n = 1; n <= MAX_N; n += (n < 20 ? 1 : 7)) {
        fill(&rng, x, n, 6.0);
        fill(&rng, dy, n, 1.0);
        x[0] = n % 2 ? 0.0 : -745.5; /* zero and an underflowing exponential */
        check_placement_fwd(softplus_forward, x, n);
        check_placement_fwd(shifted_softplus_forward, x, n);
        check_placement_fwd(sigmoid_forward, x, n);
        check_placement_bwd(softplus_backward, x, dy, n);
        check_placement_bwd(sigmoid_backward, x, dy, n);
        check_placement_bwd(inplace_as_bwd, x, dy, n);
    }
}

/* the vector functions against the scalar glibc ones (nn_softplus, nn_sigmoid) */
static void test_ulps_against_scalar(void **state) {
    (void)state;
    enum { N = 4001 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *d = calloc(N, sizeof *d);
    double *one = malloc(N * sizeof *one);
    for (int k = 0; k < N; k++) {
        x[k] = -40.0 + 80.0 * k / (N - 1) + 1e-7 * k;
        one[k] = 1.0;
    }
    int64_t worst_sp = 0, worst_sig = 0, worst_dsp = 0;
    softplus_forward(y, x, N);
    for (int k = 0; k < N; k++) {
        int64_t u = ulps_apart(y[k], nn_softplus(x[k]));
        worst_sp = u > worst_sp ? u : worst_sp;
    }
    sigmoid_forward(y, x, N);
    for (int k = 0; k < N; k++) {
        int64_t u = ulps_apart(y[k], nn_sigmoid(x[k]));
        worst_sig = u > worst_sig ? u : worst_sig;
    }
    softplus_backward(d, one, x, N);
    for (int k = 0; k < N; k++) {
        int64_t u = ulps_apart(d[k], nn_sigmoid(x[k]));
        worst_dsp = u > worst_dsp ? u : worst_dsp;
    }
    print_message("    vector vs scalar glibc: softplus %lld ulp, sigmoid %lld ulp, softplus' %lld "
                  "ulp (max over [-40, 40])\n",
                  (long long)worst_sp, (long long)worst_sig, (long long)worst_dsp);
    /* glibc documents at most 4 ulp for its vector exp and log1p */
    assert_true(worst_sp <= 8 && worst_sig <= 8 && worst_dsp <= 8);
    free(x);
    free(y);
    free(d);
    free(one);
}

/* gate_row_forward and gate_row_backward against gate_forward/gate_backward edge by edge, the
 * placement of the rows (strides, offsets), and finite differences of the row loss
 * L = sum_k u_k sum_f s a_k[f] m_k[f] */
typedef struct {
    int deg, F, ldz;
    double *z, *u, *a, s;
    const int *index;
} row_ctx;

static double row_loss(const row_ctx *c) {
    double L = 0, m[16];
    for (int k = 0; k < c->deg; k++) {
        gate_forward(m, c->z + (size_t)k * c->ldz, c->F);
        const double *ak = c->a + (size_t)c->index[k] * c->F;
        for (int f = 0; f < c->F; f++)
            L += c->u[k] * c->s * ak[f] * m[f];
    }
    return L;
}

static void test_gate_rows(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 12);
    enum { DEG = 7, MAXF = 13, LDZ = 2 * MAXF + 3, NA = 4 };
    const int Fs[] = {1, 3, 4, 8, 13};
    double z[DEG * LDZ], u[DEG], a[NA * MAXF];
    int index[DEG] = {2, 0, 3, 3, 1, 0, 2};
    for (size_t t = 0; t < sizeof Fs / sizeof Fs[0]; t++) {
        int F = Fs[t];
        fill(&rng, z, DEG * LDZ, 2.0);
        fill(&rng, a, NA * MAXF, 1.0);
        for (int k = 0; k < DEG; k++)
            u[k] = ts_uniform(&rng);
        row_ctx c = {DEG, F, LDZ, z, u, a, 0.37, index};
        /* forward: the per-edge gate summed in edge order */
        double acc[MAXF], ref[MAXF], m[MAXF];
        for (int f = 0; f < F; f++)
            acc[f] = ref[f] = 0.1 * f;
        gate_row_forward(acc, z, LDZ, u, DEG, F);
        for (int k = 0; k < DEG; k++) {
            gate_forward(m, z + k * LDZ, F);
            for (int f = 0; f < F; f++)
                ref[f] += u[k] * m[f];
        }
        for (int f = 0; f < F; f++)
            assert_true(fabs(acc[f] - ref[f]) <= 1e-14 * (1 + fabs(ref[f])));
        /* backward: dz rows and their sum, gate_dot = dL/du_k */
        double dz[DEG * 2 * MAXF], dsum[2 * MAXF] = {0}, gd[DEG];
        gate_row_backward(dz, 2 * F, dsum, gd, z, LDZ, u, c.s, a, index, F, DEG, F);
        for (int k = 0; k < DEG; k++) {
            double dm[MAXF], dzk[2 * MAXF] = {0};
            for (int f = 0; f < F; f++)
                dm[f] = u[k] * c.s * a[index[k] * F + f];
            gate_backward(dzk, dm, z + k * LDZ, F);
            for (int f = 0; f < 2 * F; f++)
                assert_true(fabs(dz[k * 2 * F + f] - dzk[f]) <= 1e-14 * (1 + fabs(dzk[f])));
            double h = 1e-6, u0 = u[k];
            u[k] = u0 + h;
            double lp = row_loss(&c);
            u[k] = u0 - h;
            double lm = row_loss(&c);
            u[k] = u0;
            double fd = (lp - lm) / (2 * h);
            assert_true(fabs(fd - gd[k]) <= 1e-8 * (1 + fabs(fd)));
            for (int f = 0; f < 2 * F; f++) {
                double z0 = z[k * LDZ + f];
                z[k * LDZ + f] = z0 + h;
                lp = row_loss(&c);
                z[k * LDZ + f] = z0 - h;
                lm = row_loss(&c);
                z[k * LDZ + f] = z0;
                fd = (lp - lm) / (2 * h);
                assert_true(fabs(fd - dz[k * 2 * F + f]) <= 1e-8 * (1 + fabs(fd)));
            }
        }
        for (int f = 0; f < 2 * F; f++) {
            double s = 0;
            for (int k = 0; k < DEG; k++)
                s += dz[k * 2 * F + f];
            assert_true(fabs(dsum[f] - s) <= 1e-14 * (1 + fabs(s)));
        }
        /* one shared a (index NULL) is the same as every index pointing at row 0 */
        int zeros[DEG] = {0};
        double dz1[DEG * 2 * MAXF], dz2[DEG * 2 * MAXF], g1[DEG], g2[DEG];
        gate_row_backward(dz1, 2 * F, NULL, g1, z, LDZ, u, c.s, a, NULL, F, DEG, F);
        gate_row_backward(dz2, 2 * F, NULL, g2, z, LDZ, u, c.s, a, zeros, F, DEG, F);
        assert_memory_equal(dz1, dz2, (size_t)DEG * 2 * F * sizeof *dz1);
        assert_memory_equal(g1, g2, sizeof g1);
        /* placement: the same rows at an odd offset and stride give the same bits */
        double zs[DEG * (LDZ + 1) + MAX_OFFSET], dzs[DEG * 2 * MAXF + MAX_OFFSET], g3[DEG];
        for (int k = 0; k < DEG; k++)
            memcpy(zs + 3 + k * (LDZ + 1), z + k * LDZ, (size_t)2 * F * sizeof *z);
        gate_row_backward(dzs + 5, 2 * F, NULL, g3, zs + 3, LDZ + 1, u, c.s, a, NULL, F, DEG, F);
        assert_memory_equal(dzs + 5, dz1, (size_t)DEG * 2 * F * sizeof *dz1);
        assert_memory_equal(g3, g1, sizeof g1);
        double acc2[MAXF + MAX_OFFSET];
        for (int f = 0; f < F; f++)
            acc2[1 + f] = 0.1 * f;
        gate_row_forward(acc2 + 1, zs + 3, LDZ + 1, u, DEG, F);
        assert_memory_equal(acc2 + 1, acc, (size_t)F * sizeof *acc);
    }
}

static void test_gaussian_rows(void **state) {
    (void)state;
    enum { K = 32, N = 23 };
    const double rc = 5.0;
    double r[N + MAX_OFFSET], g[N * K], dg[N * K], g1[K], dg1[K], gs[(N + 1) * K];
    for (int e = 0; e < N; e++)
        r[e] = 0.01 + 0.26 * e; /* past the cutoff too */
    gaussian_basis_row(g, dg, r, N, rc, K);
    for (int e = 0; e < N; e++) {
        gaussian_basis_forward(g1, dg1, r[e], rc, K);
        for (int k = 0; k < K; k++) {
            /* the walk multiplies a ratio up to K times: a few ulps of it grow to 1e-14 */
            assert_true(fabs(g[e * K + k] - g1[k]) <= 1e-13 * g1[k] + 1e-300);
            assert_true(fabs(dg[e * K + k] - dg1[k]) <= 1e-13 * fabs(dg1[k]) + 1e-300);
        }
        /* each distance alone (the tail path) gives the same bits as in the row */
        gaussian_basis_row(g1, NULL, r + e, 1, rc, K);
        assert_memory_equal(g1, g + e * K, sizeof g1);
    }
    /* a sub-row starting at an odd place */
    gaussian_basis_row(gs, NULL, r + 3, N - 3, rc, K);
    assert_memory_equal(gs, g + 3 * K, (size_t)(N - 3) * K * sizeof *g);
}

/* dense kernels: shapes with every remainder, against long double sums; then each row alone
 * and at an offset gives the same bits as the row inside a block */
static void dense_reference(double *y, const double *x, const double *W, const double *b, int rows,
                            int n_in, int n_out) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < n_out; c++) {
            long double s = b[c];
            for (int k = 0; k < n_in; k++)
                s += (long double)x[r * n_in + k] * W[k * n_out + c];
            y[r * n_out + c] = (double)s;
        }
}

static void test_dense_blocked(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 13);
    const int shapes[][3] = {{1, 1, 1},   {1, 9, 13},  {5, 7, 3},   {4, 8, 16},  {6, 33, 70},
                             {9, 32, 128}, {3, 64, 33}, {2, 5, 129}, {7, 12, 64}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int R = shapes[t][0], I = shapes[t][1], O = shapes[t][2];
        double *x = malloc(sizeof(double) * R * I), *W = malloc(sizeof(double) * I * O);
        double *b = malloc(sizeof(double) * O), *y = malloc(sizeof(double) * R * O);
        double *yr = malloc(sizeof(double) * R * O), *dy = malloc(sizeof(double) * R * O);
        double *dx = calloc((size_t)R * I, sizeof(double)), *dW = calloc((size_t)I * O, 8);
        double *db = calloc((size_t)O, sizeof(double));
        double *buf = calloc((size_t)(R * (I + O) + I * O) + 16, sizeof(double));
        fill(&rng, x, R * I, 1.0);
        fill(&rng, W, I * O, 1.0);
        fill(&rng, b, O, 1.0);
        fill(&rng, dy, R * O, 1.0);
        dense_forward(y, O, x, I, W, b, R, I, O);
        dense_reference(yr, x, W, b, R, I, O);
        for (int k = 0; k < R * O; k++)
            assert_true(fabs(y[k] - yr[k]) <= 1e-14 * (1 + fabs(yr[k])) * I);
        dense_backward(dx, I, dW, db, dy, O, x, I, W, R, I, O);
        for (int r = 0; r < R; r++)
            for (int k = 0; k < I; k++) {
                long double s = 0;
                for (int c = 0; c < O; c++)
                    s += (long double)dy[r * O + c] * W[k * O + c];
                assert_true(fabs(dx[r * I + k] - (double)s) <= 1e-14 * (1 + fabsl(s)) * O);
            }
        for (int k = 0; k < I; k++)
            for (int c = 0; c < O; c++) {
                long double s = 0;
                for (int r = 0; r < R; r++)
                    s += (long double)x[r * I + k] * dy[r * O + c];
                assert_true(fabs(dW[k * O + c] - (double)s) <= 1e-14 * (1 + fabsl(s)) * R);
            }
        for (int c = 0; c < O; c++) {
            long double s = 0;
            for (int r = 0; r < R; r++)
                s += dy[r * O + c];
            assert_true(fabs(db[c] - (double)s) <= 1e-14 * (1 + fabsl(s)) * R);
        }
        /* row by row at an odd offset with padded strides: the same bits */
        for (int r = 0; r < R; r++) {
            double *xo = buf + 1, *yo = xo + I + 2, *dyo = yo + O + 3, *dxo = dyo + O + 1;
            memcpy(xo, x + r * I, sizeof(double) * I);
            memcpy(dyo, dy + r * O, sizeof(double) * O);
            dense_forward(yo, O, xo, I, W, b, 1, I, O);
            assert_memory_equal(yo, y + r * O, sizeof(double) * O);
            memset(dxo, 0, sizeof(double) * I);
            dense_backward(dxo, I, NULL, NULL, dyo, O, NULL, 0, W, 1, I, O);
            assert_memory_equal(dxo, dx + r * I, sizeof(double) * I);
        }
        /* dW from rows one at a time, in order, equals the block's */
        double *dW1 = calloc((size_t)I * O, sizeof(double));
        for (int r = 0; r < R; r++)
            dense_backward(NULL, 0, dW1, NULL, dy + r * O, O, x + r * I, I, W, 1, I, O);
        assert_memory_equal(dW1, dW, sizeof(double) * I * O);
        free(dW1);
        free(x);
        free(W);
        free(b);
        free(y);
        free(yr);
        free(dy);
        free(dx);
        free(dW);
        free(db);
        free(buf);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_independence),
        cmocka_unit_test(test_ulps_against_scalar),
        cmocka_unit_test(test_gate_rows),
        cmocka_unit_test(test_gaussian_rows),
        cmocka_unit_test(test_dense_blocked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
