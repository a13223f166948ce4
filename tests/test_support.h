/* test_support.h — helpers shared by the cmocka tests: a deterministic random number
 * generator, random structures, a brute-force neighbour enumeration (the reference for the
 * cell-list graph), file paths and temporary files. */
#ifndef MLPOT_TEST_SUPPORT_H
#define MLPOT_TEST_SUPPORT_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mlpot/mlpot.h"

/* splitmix64: the same sequence on every machine. */
typedef struct {
    uint64_t state;
} ts_rng;
void ts_rng_seed(ts_rng *rng, uint64_t seed);
double ts_uniform(ts_rng *rng); /* [0, 1) */
double ts_normal(ts_rng *rng);

/* n atoms with numbers drawn from `species` (n_species of them) at uniform fractional
 * positions in `cell` (rows), rejecting atoms closer than min_distance to another (images
 * included along periodic directions). Asserts on failure. */
mlpot_structure *ts_random_structure(ts_rng *rng, int n, const int *species, int n_species,
                                     const double cell[9], const int pbc[3], double min_distance);

/* The na x nb x nc supercell of a periodic structure (atom k of image (a,b,c) at index
 * ((a*nb + b)*nc + c)*n + k). */
mlpot_structure *ts_supercell(const mlpot_structure *s, int na, int nb, int nc);

/* Derivative at 0 from samples of f: the five-point stencil (-f(2h) + 8 f(h) - 8 f(-h) +
 * f(-2h)) / 12h (model.md §7) and the plain central difference (f(h) - f(-h)) / 2h. */
double ts_five_point(double fm2, double fm1, double fp1, double fp2, double h);
double ts_central(double fm, double fp, double h);

/* A small random model of a registered architecture (model/arch.h) for species `species`
 * (ascending; the architecture's own hyper-parameters at their small values), with random
 * weights AND random biases and species energies (so that every parameter is exercised):
 * F = 6, L = 2, K = 5, H = 4, p = 6, n_avg = 3.7, scale 0.8, shift -0.4. */
mlpot_model *ts_random_model(const char *arch, const int *species, int n_species, double cutoff,
                             uint64_t seed);

/* A structure read from a file (asserts that it reads). */
mlpot_structure *ts_read(const char *path);
/* "<source>/structures/<name>" etc. into a static buffer per call site. */
const char *ts_structure_path(const char *name, char *buf, size_t size);
const char *ts_data_path(const char *name, char *buf, size_t size);
const char *ts_tmp_path(const char *name, char *buf, size_t size);
/* 1 when ../shared is present (tests that need it skip otherwise). */
int ts_have_shared(void);
/* Switches the program to a locale whose decimal separator is a comma (de_DE.UTF-8, generated
 * with localedef into the test directory when the system lacks it): 1 when it now runs in
 * one, 0 when no such locale can be had (the caller skips). setlocale(LC_ALL, "C") undoes it. */
int ts_enter_decimal_comma_locale(void);

typedef struct {
    int i, j;
    int n[3];
    double d[3];
    double r;
} ts_edge;

/* Every edge (i, j, n) with 0 < r < cutoff by enumerating all images within reach: the
 * O(N^2 * images) reference. Sorted by (i, j, n). Caller frees *edges. */
void ts_brute_force_edges(const mlpot_structure *s, double cutoff, ts_edge **edges, int64_t *n);

/* |a - b| <= tol, printing both values otherwise. */
#define assert_close(a, b, tol)                                                                    \
    do {                                                                                           \
        double ac_a_ = (a), ac_b_ = (b);                                                           \
        if (!(fabs(ac_a_ - ac_b_) <= (tol)))                                                       \
            fail_msg("%s = %.17g, expected %s = %.17g (tolerance %g)", #a, ac_a_, #b, ac_b_,      \
                     (double)(tol));                                                               \
    } while (0)

/* Asserts that the call succeeded, printing mlpot_last_error() if not. */
#define TS_OK(call)                                                                                \
    do {                                                                                           \
        mlpot_status ts_status_ = (call);                                                          \
        if (ts_status_ != MLPOT_OK)                                                                \
            fail_msg("%s failed: %s", #call, mlpot_last_error());                                  \
    } while (0)

#endif
