/* activations.c — element-wise activations and the CGCNN gate (see activations.h) in
 * fixed-width vectors: whole vectors first, then the tail through the same vector code with
 * padded lanes, so every element takes one path wherever it sits. */
#include "nn/activations.h"

#include "nn/simd.h"

void softplus_forward(nn_real *y, const nn_real *x, int n) {
    nn_vec sp;
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN) {
        nn_vsoftplus_sigmoid(nn_vload(x + k), &sp, NULL);
        nn_vstore(y + k, sp);
    }
    if (k < n) {
        nn_vsoftplus_sigmoid(nn_vload_part(x + k, n - k, 0), &sp, NULL);
        nn_vstore_part(y + k, sp, n - k);
    }
}

void softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN)
        nn_vstore(dx + k, nn_vload(dx + k) + nn_vload(dy + k) * nn_vsigmoid(nn_vload(x + k)));
    if (k < n) {
        int t = n - k;
        nn_vec d = nn_vload_part(dx + k, t, 0) +
                   nn_vload_part(dy + k, t, 0) * nn_vsigmoid(nn_vload_part(x + k, t, 0));
        nn_vstore_part(dx + k, d, t);
    }
}

void softplus_backward_inplace(nn_real *d, const nn_real *x, int n) {
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN)
        nn_vstore(d + k, nn_vload(d + k) * nn_vsigmoid(nn_vload(x + k)));
    if (k < n) {
        int t = n - k;
        nn_vstore_part(d + k, nn_vload_part(d + k, t, 0) * nn_vsigmoid(nn_vload_part(x + k, t, 0)),
                       t);
    }
}

void shifted_softplus_forward(nn_real *y, const nn_real *x, int n) {
    nn_vec sp, ln2 = nn_vbroadcast(NN_LN2);
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN) {
        nn_vsoftplus_sigmoid(nn_vload(x + k), &sp, NULL);
        nn_vstore(y + k, sp - ln2);
    }
    if (k < n) {
        nn_vsoftplus_sigmoid(nn_vload_part(x + k, n - k, 0), &sp, NULL);
        nn_vstore_part(y + k, sp - ln2, n - k);
    }
}

void shifted_softplus_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    softplus_backward(dx, dy, x, n);
}

void sigmoid_forward(nn_real *y, const nn_real *x, int n) {
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN)
        nn_vstore(y + k, nn_vsigmoid(nn_vload(x + k)));
    if (k < n)
        nn_vstore_part(y + k, nn_vsigmoid(nn_vload_part(x + k, n - k, 0)), n - k);
}

void sigmoid_backward(nn_real *dx, const nn_real *dy, const nn_real *x, int n) {
    nn_vec one = nn_vbroadcast(1);
    int k = 0;
    for (; k + NN_VLEN <= n; k += NN_VLEN) {
        nn_vec s = nn_vsigmoid(nn_vload(x + k));
        nn_vstore(dx + k, nn_vload(dx + k) + nn_vload(dy + k) * s * (one - s));
    }
    if (k < n) {
        int t = n - k;
        nn_vec s = nn_vsigmoid(nn_vload_part(x + k, t, 0));
        nn_vstore_part(dx + k, nn_vload_part(dx + k, t, 0) + nn_vload_part(dy + k, t, 0) * s * (one - s),
                       t);
    }
}

/* t lanes (t <= NN_VLEN) of the gate's filter and core halves at column f of z */
static inline void load_gate(const nn_real *z, int f, int t, int F, nn_vec *zf, nn_vec *zc) {
    if (t == NN_VLEN) {
        *zf = nn_vload(z + f);
        *zc = nn_vload(z + F + f);
    } else {
        *zf = nn_vload_part(z + f, t, 0);
        *zc = nn_vload_part(z + F + f, t, 0);
    }
}

static inline nn_vec load_lanes(const nn_real *p, int t) {
    return t == NN_VLEN ? nn_vload(p) : nn_vload_part(p, t, 0);
}

static inline void store_lanes(nn_real *p, nn_vec v, int t) {
    if (t == NN_VLEN)
        nn_vstore(p, v);
    else
        nn_vstore_part(p, v, t);
}

void gate_forward(nn_real *m, const nn_real *z, int F) {
    for (int f = 0; f < F; f += NN_VLEN) {
        int t = F - f < NN_VLEN ? F - f : NN_VLEN;
        nn_vec zf, zc, spc;
        load_gate(z, f, t, F, &zf, &zc);
        nn_vsoftplus_sigmoid(zc, &spc, NULL);
        store_lanes(m + f, nn_vsigmoid(zf) * spc, t);
    }
}

void gate_backward(nn_real *dz, const nn_real *dm, const nn_real *z, int F) {
    nn_vec one = nn_vbroadcast(1);
    for (int f = 0; f < F; f += NN_VLEN) {
        int t = F - f < NN_VLEN ? F - f : NN_VLEN;
        nn_vec zf, zc, spc, sc;
        load_gate(z, f, t, F, &zf, &zc);
        nn_vsoftplus_sigmoid(zc, &spc, &sc);
        nn_vec sf = nn_vsigmoid(zf), d = load_lanes(dm + f, t);
        store_lanes(dz + f, load_lanes(dz + f, t) + d * sf * (one - sf) * spc, t);
        store_lanes(dz + F + f, load_lanes(dz + F + f, t) + d * sf * sc, t);
    }
}

void gate_row_forward(nn_real *acc, const nn_real *z, int ldz, const nn_real *u, int deg, int F) {
    for (int f = 0; f < F; f += NN_VLEN) {
        int t = F - f < NN_VLEN ? F - f : NN_VLEN;
        nn_vec a = load_lanes(acc + f, t);
        for (int k = 0; k < deg; k++) {
            nn_vec zf, zc, spc;
            load_gate(z + (long)k * ldz, f, t, F, &zf, &zc);
            nn_vsoftplus_sigmoid(zc, &spc, NULL);
            a = a + nn_vbroadcast(u[k]) * (nn_vsigmoid(zf) * spc);
        }
        store_lanes(acc + f, a, t);
    }
}

void gate_row_backward(nn_real *dz, int lddz, nn_real *dsum, nn_real *gate_dot, const nn_real *z,
                       int ldz, const nn_real *u, nn_real s, const nn_real *a, const int *index,
                       int lda, int deg, int F) {
    nn_vec one = nn_vbroadcast(1), vs = nn_vbroadcast(s);
    for (int k = 0; k < deg; k++) {
        const nn_real *zk = z + (long)k * ldz, *ak = a + (index ? (long)index[k] * lda : 0);
        nn_real *dzk = dz + (long)k * lddz;
        nn_vec uk = nn_vbroadcast(u[k]), dot = nn_vbroadcast(0);
        for (int f = 0; f < F; f += NN_VLEN) {
            int t = F - f < NN_VLEN ? F - f : NN_VLEN;
            nn_vec zf, zc, spc, sc;
            load_gate(zk, f, t, F, &zf, &zc);
            nn_vsoftplus_sigmoid(zc, &spc, &sc);
            nn_vec sf = nn_vsigmoid(zf), dagg = vs * load_lanes(ak + f, t); /* padded lanes: 0 */
            dot = dot + dagg * sf * spc;
            nn_vec dm = uk * dagg, dzf = dm * sf * (one - sf) * spc, dzc = dm * sf * sc;
            store_lanes(dzk + f, dzf, t);
            store_lanes(dzk + F + f, dzc, t);
            if (dsum) {
                store_lanes(dsum + f, load_lanes(dsum + f, t) + dzf, t);
                store_lanes(dsum + F + f, load_lanes(dsum + F + f, t) + dzc, t);
            }
        }
        if (gate_dot)
            gate_dot[k] = nn_vsum(dot);
    }
}
