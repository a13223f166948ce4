/* radial.c — envelope and Gaussian basis (model.md §2). */
#include "nn/radial.h"

#include <math.h>

#include "nn/simd.h"

nn_real envelope_forward(nn_real r, nn_real cutoff, int p, nn_real *du) {
    nn_real x = r / cutoff;
    if (!(x < 1)) {
        if (du)
            *du = 0;
        return 0;
    }
    /* u = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2) */
    nn_real a = (p + 1) * (p + 2) / 2.0, b = p * (p + 2.0), c = p * (p + 1) / 2.0;
    nn_real xpm1 = 1; /* x^(p-1) */
    for (int k = 1; k < p; k++)
        xpm1 *= x;
    nn_real xp = xpm1 * x;
    nn_real u = 1 - a * xp + b * xp * x - c * xp * x * x;
    if (du) /* du/dx = -p a x^(p-1) + (p+1) b x^p - (p+2) c x^(p+1) */
        *du = (-p * a * xpm1 + (p + 1) * b * xp - (p + 2) * c * xp * x) / cutoff;
    return u;
}

/* With x = r/sigma and mu_k = k sigma, g_k = exp(-(x - k)^2). Neighbouring terms differ by
 * g_{k+1} = g_k exp(2(x - k) - 1), so three exponentials give all K terms: start at the centre
 * nearest to x (g in [exp(-1/4), 1], so nothing underflows early) and walk both ways. The
 * ratios are products of two exponentials each updated by a constant factor exp(-2). */
static int nearest_centre(nn_real x, int K) {
    int k0 = (int)floor(x + 0.5);
    return k0 < 0 ? 0 : (k0 > K - 1 ? K - 1 : k0);
}

/* the walk from g_k0 = e0 with the first ratios up = exp(2t - 1), down = exp(-2t - 1) */
static void basis_walk(nn_real *g, nn_real *dg, nn_real x, int k0, nn_real e0, nn_real up,
                       nn_real down, nn_real sigma, int K) {
    g[k0] = e0;
    const nn_real e_m2 = 0.1353352832366127; /* exp(-2) */
    for (int k = k0 + 1; k < K; k++) {
        g[k] = g[k - 1] * up;
        up *= e_m2;
    }
    for (int k = k0 - 1; k >= 0; k--) {
        g[k] = g[k + 1] * down;
        down *= e_m2;
    }
    if (dg) /* dg_k/dr = -2 (x - k) g_k / sigma */
        for (int k = 0; k < K; k++)
            dg[k] = -2 * (x - k) * g[k] / sigma;
}

void gaussian_basis_forward(nn_real *g, nn_real *dg, nn_real r, nn_real cutoff, int K) {
    nn_real sigma = cutoff / (K - 1);
    nn_real x = r / sigma;
    int k0 = nearest_centre(x, K);
    nn_real t = x - k0;
    basis_walk(g, dg, x, k0, exp(-t * t), exp(2 * t - 1), exp(-2 * t - 1), sigma, K);
}

void gaussian_basis_row(nn_real *g, nn_real *dg, const nn_real *r, int n, nn_real cutoff, int K) {
    nn_real sigma = cutoff / (K - 1);
    nn_vec one = nn_vbroadcast(1), two = nn_vbroadcast(2);
    for (int e = 0; e < n; e += NN_VLEN) {
        int lanes = n - e < NN_VLEN ? n - e : NN_VLEN;
        nn_real x[NN_VLEN];
        int k0[NN_VLEN];
        nn_vec t = nn_vbroadcast(0);
        for (int l = 0; l < lanes; l++) {
            x[l] = r[e + l] / sigma;
            k0[l] = nearest_centre(x[l], K);
            t[l] = x[l] - k0[l];
        }
        /* the three exponentials of every lane at once; the walks are scalar */
        nn_vec e0 = nn_vexp(-t * t), up = nn_vexp(two * t - one), down = nn_vexp(-two * t - one);
        for (int l = 0; l < lanes; l++)
            basis_walk(g + (long)(e + l) * K, dg ? dg + (long)(e + l) * K : NULL, x[l], k0[l],
                       e0[l], up[l], down[l], sigma, K);
    }
}

nn_real gaussian_basis_backward(const nn_real *d_basis, const nn_real *dg_dr, int K) {
    nn_real s = 0;
    for (int k = 0; k < K; k++)
        s += d_basis[k] * dg_dr[k];
    return s;
}
