/* activations.c — element-wise activations and the CGCNN gate (see activations.h). */
#include "nn/activations.h"

void softplus_forward(nn_real *y, const nn_real *x, int n) {
    for (int k = 0; k < n; k++)
        y[k] = nn_softplus(x[k]);
}

void softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    for (int k = 0; k < n; k++)
        dx[k] += dy[k] * nn_sigmoid(x[k]);
}

void shifted_softplus_forward(nn_real *y, const nn_real *x, int n) {
    for (int k = 0; k < n; k++)
        y[k] = nn_softplus(x[k]) - NN_LN2;
}

void shifted_softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    softplus_backward(dx, dy, x, n);
}

void sigmoid_forward(nn_real *y, const nn_real *x, int n) {
    for (int k = 0; k < n; k++)
        y[k] = nn_sigmoid(x[k]);
}

void sigmoid_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    for (int k = 0; k < n; k++) {
        nn_real s = nn_sigmoid(x[k]);
        dx[k] += dy[k] * s * (1 - s);
    }
}

void gate_forward(nn_real *m, const nn_real *z, int F) {
    for (int k = 0; k < F; k++)
        m[k] = nn_sigmoid(z[k]) * nn_softplus(z[F + k]);
}

void gate_backward(nn_real *dz, const nn_real *dm, const nn_real *z, int F) {
    for (int k = 0; k < F; k++) {
        nn_real sf = nn_sigmoid(z[k]), spc, sc;
        nn_softplus_sigmoid(z[F + k], &spc, &sc);
        dz[k] += dm[k] * sf * (1 - sf) * spc;
        dz[F + k] += dm[k] * sf * sc;
    }
}
