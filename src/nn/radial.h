/* radial.h — the radial functions of model.md §2: the DimeNet polynomial envelope u(r) and
 * the Gaussian basis g_k(r) = exp(-(r - mu_k)^2 / sigma^2), mu_k = r_c k/(K-1),
 * sigma = r_c/(K-1), with their derivatives with respect to r. */
#ifndef MLPOT_NN_RADIAL_H
#define MLPOT_NN_RADIAL_H

#include "nn/nn_real.h"

/* u(r) and du/dr (du may be NULL); zero for r >= r_c. */
nn_real envelope_forward(nn_real r, nn_real cutoff, int p, nn_real *du);
/* g[K] = g_k(r) and, if dg is not NULL, dg[K] = dg_k/dr. */
void gaussian_basis_forward(nn_real *g, nn_real *dg, nn_real r, nn_real cutoff, int K);
/* The basis of n distances r[n]: rows g[n][K] and, if dg is not NULL, dg[n][K]; the same
 * walk as gaussian_basis_forward with its three exponentials taken in vectors of distances. */
void gaussian_basis_row(nn_real *g, nn_real *dg, const nn_real *r, int n, nn_real cutoff, int K);
/* The reverse of gaussian_basis_forward for one r: returns sum_k dg_in[k] dg_k/dr. */
nn_real gaussian_basis_backward(const nn_real *d_basis, const nn_real *dg_dr, int K);

#endif
