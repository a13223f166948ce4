/* bench_kernels.c — GFLOP/s of the dense layer kernels (src/nn/dense.c) at the shapes the
 * models use, against this core's measured FP64 fused-multiply-add peak (a register-resident
 * loop of independent vector FMAs), to show how close the layer code comes to the machine.
 * Build with MLPOT_NATIVE=ON to let the compiler use the CPU's widest vectors. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "nn/dense.h"

typedef double v4d __attribute__((vector_size(32)));

/* 2 flops per lane per FMA; 8 independent accumulators hide the FMA latency */
static double peak_gflops(void) {
    v4d acc[8], x = {1.0000001, 1.0000001, 1.0000001, 1.0000001}, y = {0.999999, 0.999999,
                                                                        0.999999, 0.999999};
    for (int k = 0; k < 8; k++)
        acc[k] = (v4d){k, k, k, k};
    long iters = 50000000;
    double t0 = bench_seconds();
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 8; k++)
            acc[k] = acc[k] * x + y;
    double dt = bench_seconds() - t0;
    double sink = 0;
    for (int k = 0; k < 8; k++)
        sink += acc[k][0] + acc[k][3];
    if (sink == 42)
        printf(" ");
    return 8.0 * 4 * 2 * iters / dt * 1e-9;
}

static void run(const char *what, int rows, int n_in, int n_out, double peak) {
    double *x = malloc(sizeof(double) * rows * n_in), *W = malloc(sizeof(double) * n_in * n_out);
    double *b = malloc(sizeof(double) * n_out), *y = malloc(sizeof(double) * rows * n_out);
    double *dx = calloc((size_t)rows * n_in, sizeof(double)), *dW = calloc((size_t)n_in * n_out, 8);
    for (int k = 0; k < rows * n_in; k++)
        x[k] = 0.001 * (k % 97);
    for (int k = 0; k < n_in * n_out; k++)
        W[k] = 0.002 * (k % 89) - 0.05;
    for (int k = 0; k < n_out; k++)
        b[k] = 0.01 * k;
    double flops = 2.0 * rows * n_in * n_out;
    for (int pass = 0; pass < 3; pass++) {
        long reps = 0;
        double t0 = bench_seconds(), t;
        do {
            for (int r = 0; r < 100; r++) {
                if (pass == 0)
                    dense_forward(y, n_out, x, n_in, W, b, rows, n_in, n_out);
                else if (pass == 1)
                    dense_backward(dx, n_in, NULL, NULL, y, n_out, x, n_in, W, rows, n_in, n_out);
                else
                    dense_backward(NULL, 0, dW, NULL, y, n_out, x, n_in, W, rows, n_in, n_out);
            }
            reps += 100;
            t = bench_seconds() - t0;
        } while (t < 0.3);
        double g = flops * reps / t * 1e-9;
        printf("%-26s %4dx%-4d x %4dx%-4d %-10s %8.2f GFLOP/s %5.1f %% of peak\n", what, rows,
               n_in, n_in, n_out, pass == 0 ? "forward" : pass == 1 ? "dx (W^T)" : "dW (x^T)", g,
               100 * g / peak);
    }
    free(x);
    free(W);
    free(b);
    free(y);
    free(dx);
    free(dW);
}

int main(void) {
    double peak = peak_gflops();
    printf("one core: measured FP64 FMA peak %.1f GFLOP/s (4-wide vectors)\n", peak);
    run("cgcnn edge map (28 edges)", 28, 32, 128, peak);
    run("cgcnn node terms (1 atom)", 1, 64, 128, peak);
    run("megnet edge MLP W1c", 1, 32, 64, peak);
    run("readout W1 (64 atoms)", 64, 64, 64, peak);
    return 0;
}
