/* legendre.c — Legendre polynomials and their derivatives (model.md §8). The derivative follows
 * by differentiating the recurrence: (l+1) P'_{l+1} = (2l+1)(P_l + x P'_l) - l P'_{l-1}. */
#include "nn/legendre.h"

void legendre_forward(nn_real *P, nn_real *dP, nn_real x, int lmax) {
    P[0] = 1;
    if (dP) dP[0] = 0;
    if (lmax < 1) return;
    P[1] = x;
    if (dP) dP[1] = 1;
    for (int l = 1; l < lmax; l++) {
        P[l + 1] = ((2 * l + 1) * x * P[l] - l * P[l - 1]) / (l + 1);
        if (dP) dP[l + 1] = ((2 * l + 1) * (P[l] + x * dP[l]) - l * dP[l - 1]) / (l + 1);
    }
}
