/* mat3.h — small 3x3 matrix helpers for cells (row-major, rows = lattice vectors). */
#ifndef MLPOT_CORE_MAT3_H
#define MLPOT_CORE_MAT3_H

static inline double mat3_det(const double m[9]) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
           m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/* inv = m^-1; returns the determinant (inv is all zeros when it is 0). */
static inline double mat3_inverse(const double m[9], double inv[9]) {
    double det = mat3_det(m);
    if (det == 0.0) {
        for (int k = 0; k < 9; k++)
            inv[k] = 0.0;
        return 0.0;
    }
    double r = 1.0 / det;
    inv[0] = (m[4] * m[8] - m[5] * m[7]) * r;
    inv[1] = (m[2] * m[7] - m[1] * m[8]) * r;
    inv[2] = (m[1] * m[5] - m[2] * m[4]) * r;
    inv[3] = (m[5] * m[6] - m[3] * m[8]) * r;
    inv[4] = (m[0] * m[8] - m[2] * m[6]) * r;
    inv[5] = (m[2] * m[3] - m[0] * m[5]) * r;
    inv[6] = (m[3] * m[7] - m[4] * m[6]) * r;
    inv[7] = (m[1] * m[6] - m[0] * m[7]) * r;
    inv[8] = (m[0] * m[4] - m[1] * m[3]) * r;
    return det;
}

/* c = a b */
static inline void mat3_mul(const double a[9], const double b[9], double c[9]) {
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

/* y = x m for a row vector x */
static inline void vec3_mat3(const double x[3], const double m[9], double y[3]) {
    double y0 = x[0] * m[0] + x[1] * m[3] + x[2] * m[6];
    double y1 = x[0] * m[1] + x[1] * m[4] + x[2] * m[7];
    double y2 = x[0] * m[2] + x[1] * m[5] + x[2] * m[8];
    y[0] = y0;
    y[1] = y1;
    y[2] = y2;
}

static inline double vec3_dot(const double a[3], const double b[3]) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void vec3_cross(const double a[3], const double b[3], double c[3]) {
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

#endif
