/* simd.h — the fixed-width vectors of the kernels in src/nn: NN_VLEN doubles per vector,
 * unaligned loads and stores, lane selects, and exp/log1p through glibc's vector math library
 * (libmvec) when the build found it, else the scalar functions lane by lane.
 * Every element goes through the same lane-wise code wherever it sits in a buffer, so a result
 * depends on the element's value only, never on alignment, position or thread count. */
#ifndef MLPOT_NN_SIMD_H
#define MLPOT_NN_SIMD_H

#include <math.h>
#include <string.h>
#if defined(__FMA__) || defined(__AVX__)
#include <immintrin.h>
#endif

#include "nn/nn_real.h"

/* The width follows the instruction set the compiler targets (-march): the libmvec entry
 * points of the x86-64 vector function ABI take 8 (AVX-512), 4 (AVX2) or 2 (SSE2) lanes. */
#if defined(MLPOT_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__AVX512F__)
#define NN_VLEN 8
#define NN_VEXP _ZGVeN8v_exp
#define NN_VLOG1P _ZGVeN8v_log1p
#elif defined(MLPOT_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__AVX2__)
#define NN_VLEN 4
#define NN_VEXP _ZGVdN4v_exp
#define NN_VLOG1P _ZGVdN4v_log1p
#elif defined(MLPOT_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__SSE2__)
#define NN_VLEN 2
#define NN_VEXP _ZGVbN2v_exp
#define NN_VLOG1P _ZGVbN2v_log1p
#elif defined(__AVX512F__) /* portable: scalar exp/log1p per lane, as the scalar code */
#define NN_VLEN 8
#elif defined(__AVX__)
#define NN_VLEN 4
#else
#define NN_VLEN 2 /* 16 bytes: SSE2, NEON, or plain registers */
#endif

typedef double nn_vec __attribute__((vector_size(NN_VLEN * sizeof(double))));
typedef long long nn_mask __attribute__((vector_size(NN_VLEN * sizeof(long long))));

#ifdef NN_VEXP
nn_vec NN_VEXP(nn_vec x);
nn_vec NN_VLOG1P(nn_vec x);
static inline nn_vec nn_vexp(nn_vec x) { return NN_VEXP(x); }
static inline nn_vec nn_vlog1p(nn_vec x) { return NN_VLOG1P(x); }
#else
static inline nn_vec nn_vexp(nn_vec x) {
    for (int l = 0; l < NN_VLEN; l++)
        x[l] = exp(x[l]);
    return x;
}
static inline nn_vec nn_vlog1p(nn_vec x) {
    for (int l = 0; l < NN_VLEN; l++)
        x[l] = log1p(x[l]);
    return x;
}
#endif

static inline nn_vec nn_vload(const nn_real *p) {
    nn_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void nn_vstore(nn_real *p, nn_vec v) { memcpy(p, &v, sizeof v); }

static inline nn_vec nn_vbroadcast(nn_real a) {
#if NN_VLEN == 2
    return (nn_vec){a, a};
#elif NN_VLEN == 4
    return (nn_vec){a, a, a, a};
#else
    return (nn_vec){a, a, a, a, a, a, a, a};
#endif
}

/* the first n < NN_VLEN elements of p, the other lanes `pad`; and the store back */
static inline nn_vec nn_vload_part(const nn_real *p, int n, nn_real pad) {
    nn_vec v = nn_vbroadcast(pad);
    for (int l = 0; l < n; l++)
        v[l] = p[l];
    return v;
}

static inline void nn_vstore_part(nn_real *p, nn_vec v, int n) {
    for (int l = 0; l < n; l++)
        p[l] = v[l];
}

/* a * b + c: fused where the CPU has FMA, else two roundings; explicit, because the compiler
 * contracts some loops and not others (src/nn compiles with -ffp-contract=off), and one element
 * must round the same way in every tile of a kernel. */
static inline nn_vec nn_vfma(nn_vec a, nn_vec b, nn_vec c) {
#if defined(__FMA__) && NN_VLEN == 8
    return (nn_vec)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__) && NN_VLEN == 4
    return (nn_vec)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif defined(__FMA__) && NN_VLEN == 2
    return (nn_vec)_mm_fmadd_pd((__m128d)a, (__m128d)b, (__m128d)c);
#else
    return a * b + c;
#endif
}

static inline nn_real nn_fma(nn_real a, nn_real b, nn_real c) {
#ifdef __FMA__
    return fma(a, b, c);
#else
    return a * b + c;
#endif
}

/* m ? a : b lane by lane (m from a vector comparison: all ones or all zeros) */
static inline nn_vec nn_vselect(nn_mask m, nn_vec a, nn_vec b) {
    return (nn_vec)(((nn_mask)a & m) | ((nn_mask)b & ~m));
}

static inline nn_vec nn_vabs(nn_vec x) {
    return nn_vselect(x < 0, -x, x);
}

/* Pairwise sum of the lanes, (v0 + v1) + (v2 + v3) ...: one fixed order. */
static inline nn_real nn_vsum(nn_vec v) {
#if NN_VLEN == 2
    return v[0] + v[1];
#elif NN_VLEN == 4
    return (v[0] + v[1]) + (v[2] + v[3]);
#else
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
#endif
}

/* The four lane sums nn_vsum(a), nn_vsum(b), nn_vsum(c), nn_vsum(d) as one vector, in the same
 * order: two horizontal adds and a cross-half add on AVX, else lane by lane. */
static inline nn_vec nn_vsum4(nn_vec a, nn_vec b, nn_vec c, nn_vec d) {
#if defined(__AVX__) && NN_VLEN == 4
    __m256d ab = _mm256_hadd_pd((__m256d)a, (__m256d)b), cd = _mm256_hadd_pd((__m256d)c, (__m256d)d);
    return (nn_vec)_mm256_add_pd(_mm256_permute2f128_pd(ab, cd, 0x20),
                                 _mm256_permute2f128_pd(ab, cd, 0x31));
#else
    nn_real s[4] = {nn_vsum(a), nn_vsum(b), nn_vsum(c), nn_vsum(d)};
    nn_vec v = nn_vbroadcast(0);
    for (int l = 0; l < 4 && l < NN_VLEN; l++)
        v[l] = s[l];
    return v;
#endif
}

/* Softplus and sigmoid of a vector from one exponential (model.md §2), as nn_softplus_sigmoid
 * in activations.h does for one number: e = exp(-|x|), sp = max(x, 0) + log1p(e),
 * sigmoid = (x >= 0 ? 1 : e) / (1 + e). Either output may be NULL. */
static inline void nn_vsoftplus_sigmoid(nn_vec x, nn_vec *sp, nn_vec *sig) {
    nn_vec zero = nn_vbroadcast(0), one = nn_vbroadcast(1);
    nn_vec e = nn_vexp(-nn_vabs(x));
    if (sp)
        *sp = nn_vselect(x > 0, x, zero) + nn_vlog1p(e);
    if (sig)
        *sig = nn_vselect(x >= 0, one, e) / (one + e);
}

static inline nn_vec nn_vsigmoid(nn_vec x) {
    nn_vec s;
    nn_vsoftplus_sigmoid(x, NULL, &s);
    return s;
}

#endif
