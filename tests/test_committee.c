/* test_committee.c — mlpot_committee against its models evaluated one by one: a committee of
 * one model is that model bit for bit; the mean and spread of models of different
 * architectures and cutoffs match a brute-force recomputation; identical models spread 0; one
 * and two OpenMP threads agree bit for bit; buffers follow the structure size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "test_support.h"

static const int species_OSi[] = {8, 14};

/* A triclinic O/Si cell of n atoms (seeded). */
static mlpot_structure *cell_structure(int n, uint64_t seed) {
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    double scale = cbrt(n / 7.0);
    double cell[9] = {4.6 * scale, 0.2, -0.3, 0.5, 4.9 * scale, 0.1, -0.4, 0.6, 5.2 * scale};
    int pbc[3] = {1, 1, 1};
    return ts_random_structure(&rng, n, species_OSi, 2, cell, pbc, 1.4);
}

/* Results with arrays for n atoms (one block; free r->energies). */
static mlpot_results results_alloc(int n, double *stress) {
    double *block = calloc((size_t)n * 4, sizeof *block);
    assert_non_null(block);
    return (mlpot_results){.energies = block, .forces = block + n, .stress = stress};
}

/* One model: the committee's results are that model's, bit for bit, with zero spread. */
static void test_committee_of_one_is_the_model(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("megnet", species_OSi, 2, 3.9, 11);
    mlpot_calculator *calc = NULL;
    mlpot_committee *com = NULL;
    TS_OK(mlpot_calculator_create(&calc, m));
    const mlpot_model *members[] = {m};
    TS_OK(mlpot_committee_create(&com, members, 1));
    assert_int_equal(mlpot_committee_size(com), 1);
    mlpot_structure *s = cell_structure(7, 3);
    int n = mlpot_structure_n_atoms(s);
    double stress_a[9], stress_b[9];
    mlpot_results a = results_alloc(n, stress_a), b = results_alloc(n, stress_b);
    double *dev = calloc((size_t)n, sizeof *dev);
    mlpot_committee_deviation d = {.force_deviations = dev};
    TS_OK(mlpot_calculator_compute(calc, s, &a));
    TS_OK(mlpot_committee_compute(com, s, &b, &d));
    assert_memory_equal(&a.energy, &b.energy, sizeof a.energy);
    assert_memory_equal(a.energies, b.energies, (size_t)n * sizeof(double));
    assert_memory_equal(a.forces, b.forces, 3 * (size_t)n * sizeof(double));
    assert_int_equal(b.has_stress, 1);
    assert_memory_equal(stress_a, stress_b, sizeof stress_a);
    assert_true(d.energy_std_per_atom == 0 && d.force_deviation_max == 0 &&
                d.force_deviation_mean == 0);
    for (int i = 0; i < n; i++)
        assert_true(dev[i] == 0);
    free(dev);
    free(a.energies);
    free(b.energies);
    mlpot_structure_free(s);
    mlpot_committee_free(com);
    mlpot_calculator_free(calc);
    mlpot_model_free(m);
}

/* Three models of two architectures and three cutoffs: the mean of the separate results and
 * the spread recomputed here from them, on structures of changing size (buffers regrow). */
static void test_committee_matches_separate_models(void **state) {
    (void)state;
    enum { K = 3 };
    mlpot_model *m[K] = {ts_random_model("cgcnn", species_OSi, 2, 3.6, 21),
                         ts_random_model("megnet", species_OSi, 2, 4.2, 22),
                         ts_random_model("cgcnn", species_OSi, 2, 3.1, 23)};
    mlpot_calculator *calc[K];
    for (int k = 0; k < K; k++)
        TS_OK(mlpot_calculator_create(&calc[k], m[k]));
    for (int size = 2; size <= K; size++) { /* the committee of the first two, then all three */
        mlpot_committee *com = NULL;
        TS_OK(mlpot_committee_create(&com, (const mlpot_model *const *)m, size));
        const int sizes[] = {7, 13, 5};
        for (int w = 0; w < 3; w++) {
            mlpot_structure *s = cell_structure(sizes[w], 30 + (uint64_t)w);
            int n = mlpot_structure_n_atoms(s);
            double stress[K][9], mean_stress[9];
            mlpot_results r[K], mean = results_alloc(n, mean_stress);
            for (int k = 0; k < size; k++) {
                r[k] = results_alloc(n, stress[k]);
                TS_OK(mlpot_calculator_compute(calc[k], s, &r[k]));
            }
            double *dev = calloc((size_t)n, sizeof *dev);
            mlpot_committee_deviation d = {.force_deviations = dev};
            TS_OK(mlpot_committee_compute(com, s, &mean, &d));
            /* the mean */
            double e = 0, e_sq = 0;
            for (int k = 0; k < size; k++)
                e += r[k].energy / size;
            assert_close(mean.energy, e, 1e-12);
            for (int k = 0; k < size; k++)
                e_sq += (r[k].energy - e) * (r[k].energy - e) / size;
            assert_close(d.energy_std_per_atom, sqrt(e_sq) / n, 1e-12);
            for (int x = 0; x < 9; x++) {
                double sum = 0;
                for (int k = 0; k < size; k++)
                    sum += stress[k][x] / size;
                assert_close(mean_stress[x], sum, 1e-12);
            }
            double max = 0, avg = 0;
            for (int i = 0; i < n; i++) {
                double ei = 0;
                for (int k = 0; k < size; k++)
                    ei += r[k].energies[i] / size;
                assert_close(mean.energies[i], ei, 1e-12);
                /* sqrt of the mean over models of |F_k,i - <F_i>|^2 */
                double f[3] = {0, 0, 0}, sq = 0;
                for (int x = 0; x < 3; x++) {
                    for (int k = 0; k < size; k++)
                        f[x] += r[k].forces[3 * i + x] / size;
                    assert_close(mean.forces[3 * i + x], f[x], 1e-12);
                }
                for (int k = 0; k < size; k++)
                    for (int x = 0; x < 3; x++)
                        sq += pow(r[k].forces[3 * i + x] - f[x], 2) / size;
                assert_close(dev[i], sqrt(sq), 1e-12);
                max = fmax(max, sqrt(sq));
                avg += sqrt(sq) / n;
            }
            assert_close(d.force_deviation_max, max, 1e-12);
            assert_close(d.force_deviation_mean, avg, 1e-12);
            /* different random models disagree: a spread that is not zero */
            assert_true(d.force_deviation_max > 1e-6 && d.energy_std_per_atom > 1e-9);
            /* without arrays: the same energy and spread (forces evaluated internally) */
            mlpot_results bare = {0};
            mlpot_committee_deviation d2 = {0};
            TS_OK(mlpot_committee_compute(com, s, &bare, &d2));
            assert_memory_equal(&bare.energy, &mean.energy, sizeof bare.energy);
            assert_true(d2.force_deviation_max == d.force_deviation_max &&
                        d2.force_deviation_mean == d.force_deviation_mean &&
                        d2.energy_std_per_atom == d.energy_std_per_atom);
            assert_int_equal(bare.has_stress, 0);
            for (int k = 0; k < size; k++)
                free(r[k].energies);
            free(mean.energies);
            free(dev);
            mlpot_structure_free(s);
        }
        mlpot_committee_free(com);
    }
    for (int k = 0; k < K; k++) {
        mlpot_calculator_free(calc[k]);
        mlpot_model_free(m[k]);
    }
}

/* Two copies of one model (the same object, and a second one with the same weights): zero. */
static void test_identical_models_spread_zero(void **state) {
    (void)state;
    mlpot_model *a = ts_random_model("cgcnn", species_OSi, 2, 3.6, 41);
    mlpot_model *b = ts_random_model("cgcnn", species_OSi, 2, 3.6, 41);
    const mlpot_model *pairs[2][2] = {{a, a}, {a, b}};
    mlpot_structure *s = cell_structure(9, 5);
    int n = mlpot_structure_n_atoms(s);
    for (int p = 0; p < 2; p++) {
        mlpot_committee *com = NULL;
        TS_OK(mlpot_committee_create(&com, pairs[p], 2));
        double stress[9];
        mlpot_results r = results_alloc(n, stress);
        double *dev = calloc((size_t)n, sizeof *dev);
        mlpot_committee_deviation d = {.force_deviations = dev};
        TS_OK(mlpot_committee_compute(com, s, &r, &d));
        assert_true(d.energy_std_per_atom == 0 && d.force_deviation_max == 0 &&
                    d.force_deviation_mean == 0);
        for (int i = 0; i < n; i++)
            assert_true(dev[i] == 0);
        free(dev);
        free(r.energies);
        mlpot_committee_free(com);
    }
    mlpot_structure_free(s);
    mlpot_model_free(a);
    mlpot_model_free(b);
}

/* 1 and 2 OpenMP threads: the same bits (60 atoms, above the calculator's parallel minimum). */
static void test_committee_threads_identical(void **state) {
    (void)state;
#ifdef _OPENMP
    mlpot_model *m[2] = {ts_random_model("cgcnn", species_OSi, 2, 3.6, 51),
                         ts_random_model("megnet", species_OSi, 2, 4.0, 52)};
    mlpot_committee *com = NULL;
    TS_OK(mlpot_committee_create(&com, (const mlpot_model *const *)m, 2));
    mlpot_structure *s = cell_structure(80, 7);
    int n = mlpot_structure_n_atoms(s);
    double stress[2][9], *dev[2];
    mlpot_results r[2];
    mlpot_committee_deviation d[2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        r[t] = results_alloc(n, stress[t]);
        dev[t] = calloc((size_t)n, sizeof(double));
        d[t] = (mlpot_committee_deviation){.force_deviations = dev[t]};
        TS_OK(mlpot_committee_compute(com, s, &r[t], &d[t]));
    }
    omp_set_num_threads(saved);
    assert_memory_equal(&r[0].energy, &r[1].energy, sizeof(double));
    assert_memory_equal(r[0].energies, r[1].energies, (size_t)n * 4 * sizeof(double));
    assert_memory_equal(stress[0], stress[1], sizeof stress[0]);
    assert_memory_equal(dev[0], dev[1], (size_t)n * sizeof(double));
    assert_memory_equal(&d[0].force_deviation_max, &d[1].force_deviation_max, sizeof(double));
    assert_memory_equal(&d[0].force_deviation_mean, &d[1].force_deviation_mean, sizeof(double));
    assert_memory_equal(&d[0].energy_std_per_atom, &d[1].energy_std_per_atom, sizeof(double));
    for (int t = 0; t < 2; t++) {
        free(r[t].energies);
        free(dev[t]);
    }
    mlpot_structure_free(s);
    mlpot_committee_free(com);
    mlpot_model_free(m[0]);
    mlpot_model_free(m[1]);
#else
    skip();
#endif
}

/* Bad arguments and a model that does not know a species: statuses with messages. */
static void test_committee_errors(void **state) {
    (void)state;
    static const int species_Si[] = {14};
    mlpot_model *si = ts_random_model("cgcnn", species_Si, 1, 3.6, 61);
    mlpot_model *osi = ts_random_model("cgcnn", species_OSi, 2, 3.6, 62);
    mlpot_committee *com = NULL;
    assert_int_equal(mlpot_committee_create(&com, NULL, 0), MLPOT_ERR_INVALID_ARGUMENT);
    const mlpot_model *with_null[] = {osi, NULL};
    assert_int_equal(mlpot_committee_create(&com, with_null, 2), MLPOT_ERR_INVALID_ARGUMENT);
    assert_null(com);
    const mlpot_model *members[] = {osi, si};
    TS_OK(mlpot_committee_create(&com, members, 2));
    mlpot_structure *s = cell_structure(7, 3);
    mlpot_results r = {0};
    assert_int_equal(mlpot_committee_compute(com, s, NULL, NULL), MLPOT_ERR_INVALID_ARGUMENT);
    mlpot_status st = mlpot_committee_compute(com, s, &r, NULL);
    assert_int_not_equal(st, MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "committee model 2"));
    assert_non_null(strstr(mlpot_last_error(), "does not know"));
    mlpot_structure_free(s);
    mlpot_committee_free(com);
    mlpot_model_free(si);
    mlpot_model_free(osi);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committee_of_one_is_the_model),
        cmocka_unit_test(test_committee_matches_separate_models),
        cmocka_unit_test(test_identical_models_spread_zero),
        cmocka_unit_test(test_committee_threads_identical),
        cmocka_unit_test(test_committee_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
