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

void gaussian_basis_forward(nn_real *g, nn_real *dg, nn_real r, nn_real cutoff, int K) {
    nn_real sigma = cutoff / (K - 1);
    nn_real inv_s2 = 1 / (sigma * sigma);
    for (int k = 0; k < K; k++) {
        nn_real mu = cutoff * k / (K - 1);
        nn_real t = r - mu;
        g[k] = exp(-t * t * inv_s2);
        if (dg)
            dg[k] = -2 * t * inv_s2 * g[k];
    }
}

nn_real gaussian_basis_backward(const nn_real *d_basis, const nn_real *dg_dr, int K) {
    nn_real s = 0;
    for (int k = 0; k < K; k++)
        s += d_basis[k] * dg_dr[k];
    return s;
}
