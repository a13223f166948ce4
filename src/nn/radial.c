/* radial.c — envelope and Gaussian basis (model.md §2). */
#include "nn/radial.h"

#include <math.h>

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
void gaussian_basis_forward(nn_real *g, nn_real *dg, nn_real r, nn_real cutoff, int K) {
    nn_real sigma = cutoff / (K - 1);
    nn_real x = r / sigma;
    int k0 = (int)floor(x + 0.5);
    k0 = k0 < 0 ? 0 : (k0 > K - 1 ? K - 1 : k0);
    nn_real t = x - k0;
    g[k0] = exp(-t * t);
    const nn_real e_m2 = 0.1353352832366127; /* exp(-2) */
    nn_real up = exp(2 * t - 1);             /* g_{k0+1} / g_{k0} */
    for (int k = k0 + 1; k < K; k++) {
        g[k] = g[k - 1] * up;
        up *= e_m2;
    }
    nn_real down = exp(-2 * t - 1); /* g_{k0-1} / g_{k0} */
    for (int k = k0 - 1; k >= 0; k--) {
        g[k] = g[k + 1] * down;
        down *= e_m2;
    }
    if (dg) /* dg_k/dr = -2 (x - k) g_k / sigma */
        for (int k = 0; k < K; k++)
            dg[k] = -2 * (x - k) * g[k] / sigma;
}

nn_real gaussian_basis_backward(const nn_real *d_basis, const nn_real *dg_dr, int K) {
    nn_real s = 0;
    for (int k = 0; k < K; k++)
        s += d_basis[k] * dg_dr[k];
    return s;
}
