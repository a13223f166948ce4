/* test_nn_layers.c — every layer of src/nn against finite differences: dense (input, weight
 * and bias adjoints), softplus, shifted softplus, sigmoid, the CGCNN gate, the Gaussian basis
 * (and its recurrence against direct exponentials) and the polynomial envelope (values, and
 * u = u' = u'' = 0 at r_c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/radial.h"

static double central(double (*f)(const double *, void *), double *x, int k, void *ctx,
                      double h) {
    double x0 = x[k];
    x[k] = x0 + h;
    double fp = f(x, ctx);
    x[k] = x0 - h;
    double fm = f(x, ctx);
    x[k] = x0;
    return ts_central(fm, fp, h);
}

/* L = sum(y * w) for y = dense(x) with fixed random w: dL/dy = w. */
typedef struct {
    int rows, n_in, n_out;
    double *x, *W, *b, *w;
    int which; /* 0: x, 1: W, 2: b is the variable */
} dense_ctx;

static double dense_loss(const double *var, void *vctx) {
    dense_ctx *c = vctx;
    const double *x = c->which == 0 ? var : c->x, *W = c->which == 1 ? var : c->W;
    const double *b = c->which == 2 ? var : c->b;
    double *y = malloc((size_t)c->rows * c->n_out * sizeof *y);
    dense_forward(y, c->n_out, x, c->n_in, W, b, c->rows, c->n_in, c->n_out);
    double loss = 0;
    for (int k = 0; k < c->rows * c->n_out; k++)
        loss += y[k] * c->w[k];
    free(y);
    return loss;
}

static void fill(ts_rng *rng, double *x, int n) {
    for (int k = 0; k < n; k++)
        x[k] = ts_normal(rng);
}

static void test_dense(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 1);
    dense_ctx c = {.rows = 3, .n_in = 5, .n_out = 4};
    c.x = malloc(15 * sizeof(double));
    c.W = malloc(20 * sizeof(double));
    c.b = malloc(4 * sizeof(double));
    c.w = malloc(12 * sizeof(double));
    fill(&rng, c.x, 15);
    fill(&rng, c.W, 20);
    fill(&rng, c.b, 4);
    fill(&rng, c.w, 12);
    double dx[15] = {0}, dW[20] = {0}, db[4] = {0};
    dense_backward(dx, 5, dW, db, c.w, 4, c.x, 5, c.W, 3, 5, 4);
    double *vars[3] = {c.x, c.W, c.b}, *grads[3] = {dx, dW, db};
    int sizes[3] = {15, 20, 4};
    for (int v = 0; v < 3; v++) {
        c.which = v;
        for (int k = 0; k < sizes[v]; k++) {
            double fd = central(dense_loss, vars[v], k, &c, 1e-5);
            assert_true(fabs(fd - grads[v][k]) <= 1e-8 * (1 + fabs(fd)));
        }
    }
    /* accumulation: a second backward adds the same again */
    dense_backward(dx, 5, NULL, NULL, c.w, 4, c.x, 5, c.W, 3, 5, 4);
    c.which = 0;
    double fd0 = central(dense_loss, c.x, 0, &c, 1e-5);
    assert_true(fabs(dx[0] - 2 * fd0) <= 1e-8 * (1 + fabs(fd0)));
    /* forward without bias equals accumulate into zeros */
    double y1[12], y2[12] = {0};
    dense_forward(y1, 4, c.x, 5, c.W, NULL, 3, 5, 4);
    dense_accumulate(y2, 4, c.x, 5, c.W, 3, 5, 4);
    assert_memory_equal(y1, y2, sizeof y1);
    free(c.x);
    free(c.W);
    free(c.b);
    free(c.w);
}

typedef void (*elementwise_fn)(nn_real *, const nn_real *, int);
typedef void (*elementwise_bwd)(nn_real *, const nn_real *, const nn_real *, int);

static void check_elementwise(elementwise_fn fwd, elementwise_bwd bwd) {
    const double xs[] = {-40.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.7, 3.0, 40.0};
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
        double x = xs[k], h = 1e-6, yp, ym, one = 1.0, dx = 0, xp = x + h, xm = x - h;
        fwd(&yp, &xp, 1);
        fwd(&ym, &xm, 1);
        bwd(&dx, &one, &x, 1);
        double fd = ts_central(ym, yp, h);
        assert_true(fabs(fd - dx) <= 1e-8 * (1 + fabs(fd)));
    }
}

static void test_activations(void **state) {
    (void)state;
    check_elementwise(softplus_forward, softplus_backward);
    check_elementwise(shifted_softplus_forward, shifted_softplus_backward);
    check_elementwise(sigmoid_forward, sigmoid_backward);
    /* values: sp(0) = ln 2, sp2(0) = 0, sigmoid(0) = 1/2, no overflow far out */
    double x[4] = {0.0, 800.0, -800.0, 1e-300}, y[4];
    softplus_forward(y, x, 4);
    assert_true(fabs(y[0] - log(2.0)) < 1e-16);
    assert_true(y[1] == 800.0 && y[2] >= 0 && y[2] < 1e-300);
    shifted_softplus_forward(y, x, 1);
    assert_true(fabs(y[0]) < 1e-16);
    sigmoid_forward(y, x, 4);
    assert_true(y[0] == 0.5 && y[1] == 1.0 && y[2] >= 0 && y[2] < 1e-300);
    double sp, sig;
    for (double v = -30; v <= 30; v += 0.37) {
        nn_softplus_sigmoid(v, &sp, &sig);
        assert_true(fabs(sp - nn_softplus(v)) <= 1e-15 * (1 + fabs(sp)));
        assert_true(fabs(sig - nn_sigmoid(v)) <= 1e-16);
    }
}

static void test_gate(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 2);
    enum { F = 5 };
    double z[2 * F], w[F], dz[2 * F] = {0}, m[F];
    fill(&rng, z, 2 * F);
    fill(&rng, w, F);
    gate_backward(dz, w, z, F);
    for (int k = 0; k < 2 * F; k++) {
        double z0 = z[k], h = 1e-6, lp = 0, lm = 0;
        z[k] = z0 + h;
        gate_forward(m, z, F);
        for (int f = 0; f < F; f++)
            lp += m[f] * w[f];
        z[k] = z0 - h;
        gate_forward(m, z, F);
        for (int f = 0; f < F; f++)
            lm += m[f] * w[f];
        z[k] = z0;
        double fd = ts_central(lm, lp, h);
        assert_true(fabs(fd - dz[k]) <= 1e-8 * (1 + fabs(fd)));
    }
}

static void test_gaussian_basis(void **state) {
    (void)state;
    const double rc = 5.0;
    const int K = 32;
    double g[32], dg[32], gp[32], gm[32];
    for (double r = 0.0; r <= 6.0; r += 0.0731) {
        gaussian_basis_forward(g, dg, r, rc, K);
        double sigma = rc / (K - 1);
        for (int k = 0; k < K; k++) {
            double mu = rc * k / (K - 1), direct = exp(-(r - mu) * (r - mu) / (sigma * sigma));
            /* the recurrence agrees with direct exponentials (relative 1e-13, which is about the
             * error of exp(-(r-mu)^2/sigma^2) itself for large arguments) */
            assert_true(fabs(g[k] - direct) <= 1e-13 * direct + 1e-40);
        }
        if (r < 1e-3)
            continue;
        double h = 1e-6;
        gaussian_basis_forward(gp, NULL, r + h, rc, K);
        gaussian_basis_forward(gm, NULL, r - h, rc, K);
        for (int k = 0; k < K; k++)
            assert_true(fabs(ts_central(gm[k], gp[k], h) - dg[k]) <= 1e-7 * (1 + fabs(dg[k])));
    }
    /* backward: d/dr of sum_k w_k g_k(r), against a central difference */
    double w[32], h = 1e-6, lp = 0, lm = 0;
    for (int k = 0; k < K; k++)
        w[k] = 0.1 * k - 1;
    gaussian_basis_forward(gp, NULL, 2.3 + h, rc, K);
    gaussian_basis_forward(gm, NULL, 2.3 - h, rc, K);
    for (int k = 0; k < K; k++) {
        lp += w[k] * gp[k];
        lm += w[k] * gm[k];
    }
    gaussian_basis_forward(g, dg, 2.3, rc, K);
    double fd = ts_central(lm, lp, h);
    assert_true(fabs(gaussian_basis_backward(w, dg, K) - fd) <= 1e-7 * (1 + fabs(fd)));
}

static void test_envelope(void **state) {
    (void)state;
    const double rc = 4.5;
    const int ps[] = {3, 5, 6, 8};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        int p = ps[k];
        double du;
        assert_true(fabs(envelope_forward(0.0, rc, p, &du) - 1.0) < 1e-15);
        for (double r = 0.05; r < rc; r += 0.173) {
            double u = envelope_forward(r, rc, p, &du), h = 1e-6;
            double fd = (envelope_forward(r + h, rc, p, NULL) - envelope_forward(r - h, rc, p, NULL)) /
                        (2 * h);
            assert_true(fabs(fd - du) <= 1e-8);
            assert_true(u >= 0 && u <= 1);
        }
        /* u, u' and u'' vanish at r_c: near r_c, u ~ delta^3 */
        double d = 1e-3, u = envelope_forward(rc - d, rc, p, &du);
        assert_true(fabs(u) <= 1e-6 * (p * p * p));
        assert_true(fabs(du) <= 1e-4 * (p * p * p));
        assert_true(envelope_forward(rc, rc, p, &du) == 0 && du == 0);
        assert_true(envelope_forward(rc + 1, rc, p, &du) == 0 && du == 0);
    }
    /* p = 6 closed form of model.md: 1 - 28x^6 + 48x^7 - 21x^8, du/dx = -168 x^5 (1-x)^2 */
    double x = 0.63, du, u = envelope_forward(x * rc, rc, 6, &du);
    assert_true(fabs(u - (1 - 28 * pow(x, 6) + 48 * pow(x, 7) - 21 * pow(x, 8))) < 1e-15);
    assert_true(fabs(du * rc - (-168 * pow(x, 5) * (1 - x) * (1 - x))) < 1e-14);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense),         cmocka_unit_test(test_activations),
        cmocka_unit_test(test_gate),          cmocka_unit_test(test_gaussian_basis),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
