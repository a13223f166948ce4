/* bench_kernels.c — rates of the kernels of src/nn at the shapes the models use: GFLOP/s of the
 * dense layers against this core's measured FP64 FMA peak (a register-resident loop of
 * independent vector FMAs at the width the build targets), and ns per element of the
 * activations and gates. Times are CPU time of this single-threaded process.
 * Usage: bench_kernels [reps [dense|act]]: with reps, every kernel runs reps x 100 times (a fixed
 * amount of work, for timing the whole process) instead of for 0.3 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"
#include "nn/simd.h"

/* 2 flops per lane per FMA; 12 independent accumulators cover FMA latency x throughput */
static double peak_gflops(void) {
    enum { A = 12 };
    nn_vec acc[A], x = nn_vbroadcast(1.0000001), y = nn_vbroadcast(0.999999);
    for (int k = 0; k < A; k++)
        acc[k] = nn_vbroadcast(k);
    long iters = 40000000;
    double t0 = bench_cpu_seconds();
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < A; k++)
            acc[k] = nn_vfma(acc[k], x, y);
    double dt = bench_cpu_seconds() - t0;
    double sink = 0;
    for (int k = 0; k < A; k++)
        sink += acc[k][0];
    if (sink == 42)
        printf(" ");
    return (double)A * NN_VLEN * 2 * iters / dt * 1e-9;
}

static long fixed_reps; /* 0: run each kernel for 0.3 s */

/* seconds per call of kernel(ctx, pass) */
static double time_calls(void (*kernel)(void *, int), void *ctx, int pass) {
    long reps = 0;
    double t0 = bench_cpu_seconds(), t;
    do {
        for (int r = 0; r < 100; r++)
            kernel(ctx, pass);
        reps += 100;
        t = bench_cpu_seconds() - t0;
    } while (fixed_reps ? reps < fixed_reps * 100 : t < 0.3);
    return t / reps;
}

typedef struct {
    int rows, n_in, n_out;
    double *x, *W, *b, *y, *dx, *dW;
} dense_case;

static void dense_kernel(void *vctx, int pass) {
    dense_case *c = vctx;
    if (pass == 0)
        dense_forward(c->y, c->n_out, c->x, c->n_in, c->W, c->b, c->rows, c->n_in, c->n_out);
    else if (pass == 1)
        dense_backward(c->dx, c->n_in, NULL, NULL, c->y, c->n_out, c->x, c->n_in, c->W, c->rows,
                       c->n_in, c->n_out);
    else
        dense_backward(NULL, 0, c->dW, NULL, c->y, c->n_out, c->x, c->n_in, c->W, c->rows, c->n_in,
                       c->n_out);
}

static void run_dense(const char *what, int rows, int n_in, int n_out, double peak) {
    dense_case c = {.rows = rows, .n_in = n_in, .n_out = n_out};
    c.x = malloc(sizeof(double) * rows * n_in);
    c.W = malloc(sizeof(double) * n_in * n_out);
    c.b = malloc(sizeof(double) * n_out);
    c.y = malloc(sizeof(double) * rows * n_out);
    c.dx = calloc((size_t)rows * n_in, sizeof(double));
    c.dW = calloc((size_t)n_in * n_out, sizeof(double));
    for (int k = 0; k < rows * n_in; k++)
        c.x[k] = 0.001 * (k % 97);
    for (int k = 0; k < n_in * n_out; k++)
        c.W[k] = 0.002 * (k % 89) - 0.05;
    for (int k = 0; k < n_out; k++)
        c.b[k] = 0.01 * k;
    double flops = 2.0 * rows * n_in * n_out;
    for (int pass = 0; pass < 3; pass++) {
        double g = flops / time_calls(dense_kernel, &c, pass) * 1e-9;
        printf("%-26s %4dx%-4d x %4dx%-4d %-10s %8.2f GFLOP/s %5.1f %% of peak\n", what, rows,
               n_in, n_in, n_out, pass == 0 ? "forward" : pass == 1 ? "dx (W^T)" : "dW (x^T)", g,
               100 * g / peak);
    }
    free(c.x);
    free(c.W);
    free(c.b);
    free(c.y);
    free(c.dx);
    free(c.dW);
}

/* a row of deg edges of width 2F (the cgcnn gate), and deg distances */
typedef struct {
    int deg, F, K;
    double *z, *dz, *m, *dm, *x, *y, *r, *g, *dg;
} act_case;

static void act_kernel(void *vctx, int pass) {
    act_case *c = vctx;
    int n = c->deg * c->F;
    switch (pass) {
    case 0:
        softplus_forward(c->y, c->x, n);
        break;
    case 1:
        softplus_backward(c->y, c->dm, c->x, n);
        break;
    case 2:
        for (int k = 0; k < c->deg; k++)
            gate_forward(c->m + (size_t)k * c->F, c->z + (size_t)k * 2 * c->F, c->F);
        break;
    case 3:
        for (int k = 0; k < c->deg; k++)
            gate_backward(c->dz + (size_t)k * 2 * c->F, c->dm + (size_t)k * c->F,
                          c->z + (size_t)k * 2 * c->F, c->F);
        break;
    default:
        for (int k = 0; k < c->deg; k++)
            gaussian_basis_forward(c->g + (size_t)k * c->K, c->dg + (size_t)k * c->K, c->r[k], 5.0,
                                   c->K);
    }
}

static void run_activations(void) {
    act_case c = {.deg = 28, .F = 64, .K = 32};
    size_t n = (size_t)c.deg * c.F;
    c.z = malloc(2 * n * sizeof(double));
    c.dz = calloc(2 * n, sizeof(double));
    c.m = malloc(n * sizeof(double));
    c.dm = malloc(n * sizeof(double));
    c.x = malloc(n * sizeof(double));
    c.y = calloc(n, sizeof(double));
    c.r = malloc((size_t)c.deg * sizeof(double));
    c.g = malloc((size_t)c.deg * c.K * sizeof(double));
    c.dg = malloc((size_t)c.deg * c.K * sizeof(double));
    for (size_t k = 0; k < 2 * n; k++)
        c.z[k] = 0.01 * (double)(k % 601) - 3.0;
    for (size_t k = 0; k < n; k++) {
        c.x[k] = 0.013 * (double)(k % 701) - 4.5;
        c.dm[k] = 0.001 * (double)(k % 31);
    }
    for (int k = 0; k < c.deg; k++)
        c.r[k] = 2.0 + 0.1 * k;
    const char *names[] = {"softplus forward", "softplus backward", "gate forward",
                           "gate backward", "gaussian basis + d/dr"};
    const double per[] = {(double)n, (double)n, (double)n, (double)n, (double)c.deg * c.K};
    const char *unit[] = {"element", "element", "edge-feature", "edge-feature", "basis value"};
    for (int pass = 0; pass < 5; pass++) {
        double ns = 1e9 * time_calls(act_kernel, &c, pass) / per[pass];
        printf("%-26s %-22s %8.3f ns per %s\n", names[pass],
               pass < 2 ? "28x64 elements" : pass < 4 ? "28 edges, F = 64" : "28 distances, K = 32",
               ns, unit[pass]);
    }
    free(c.z);
    free(c.dz);
    free(c.m);
    free(c.dm);
    free(c.x);
    free(c.y);
    free(c.r);
    free(c.g);
    free(c.dg);
}

int main(int argc, char **argv) {
    fixed_reps = argc > 1 ? atol(argv[1]) : 0;
    const char *which = argc > 2 ? argv[2] : "all";
    if (strcmp(which, "act")) {
        double peak = peak_gflops();
        printf("one core: measured FP64 FMA peak %.1f GFLOP/s (%d-wide vectors)\n", peak, NN_VLEN);
        run_dense("cgcnn edge map (28 edges)", 28, 32, 128, peak);
        run_dense("cgcnn node terms (1 atom)", 1, 64, 128, peak);
        run_dense("megnet edge MLP W1c", 1, 32, 64, peak);
        run_dense("megnet edge MLP W2", 1, 64, 32, peak);
        run_dense("readout W1 (64 atoms)", 64, 64, 64, peak);
    }
    if (strcmp(which, "dense"))
        run_activations();
    return 0;
}
