/* legendre.h — Legendre polynomials of model.md §8 by the three-term recurrence
 * P_0 = 1, P_1 = x, P_{l+1} = ((2l+1) x P_l - l P_{l-1}) / (l+1), with derivatives. */
#ifndef MLPOT_NN_LEGENDRE_H
#define MLPOT_NN_LEGENDRE_H

#include "nn/nn_real.h"

/* P[l] = P_l(x) and, if dP is not NULL, dP[l] = dP_l/dx, for l = 0..lmax (lmax >= 0). Any x:
 * no clamping to [-1, 1] (the derivative recurrence has no 1/(1 - x^2)). */
void legendre_forward(nn_real *P, nn_real *dP, nn_real x, int lmax);

#endif
