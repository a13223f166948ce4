/* test_model_invariances.c — model.md §7 beyond derivatives, for every architecture:
 * translation, rotation and permutation invariance, 2x2x2 supercells (also of cells shorter
 * than 2 r_c), a dimer pulled through r_c, an atom pulled through r_3 (three-body
 * architectures, §8), isolated atoms, bit-identical results for 1, 2 and
 * 3 threads, workspace reuse across structures, and the unknown-species error. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "test_support.h"

static const int species_OSi[] = {8, 14};

typedef struct {
    double energy;
    double *forces;
    double *energies;
    double stress[9];
    int has_stress;
} evaluation;

static evaluation evaluate(mlpot_calculator *c, const mlpot_structure *s) {
    int n = mlpot_structure_n_atoms(s);
    evaluation ev = {0};
    ev.forces = calloc((size_t)n * 3, sizeof(double));
    ev.energies = calloc((size_t)n, sizeof(double));
    mlpot_results r = {.forces = ev.forces, .stress = ev.stress, .energies = ev.energies};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    ev.energy = r.energy;
    ev.has_stress = r.has_stress;
    return ev;
}

static void release(evaluation *ev) {
    free(ev->forces);
    free(ev->energies);
}

static mlpot_structure *triclinic_OSi(uint64_t seed, int n) {
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    double cell[9] = {4.6, 0.2, -0.3, 0.5, 4.9, 0.1, -0.4, 0.6, 5.2};
    int pbc[3] = {1, 1, 1};
    return ts_random_structure(&rng, n, species_OSi, 2, cell, pbc, 1.4);
}

static double rel(double a, double b) {
    return fabs(a - b) / fmax(1.0, fabs(b));
}

static void test_translation_rotation_permutation(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 4.0, 41 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        mlpot_structure *s = triclinic_OSi(3, 7);
        int n = mlpot_structure_n_atoms(s);
        const double *p0 = mlpot_structure_positions(s), *c0 = mlpot_structure_cell(s);
        const int *z0 = mlpot_structure_numbers(s);
        evaluation ref = evaluate(c, s);
        double scale = 0;
        for (int k = 0; k < 3 * n; k++)
            scale = fmax(scale, fabs(ref.forces[k]));

        /* translation */
        double *pos = malloc((size_t)n * 3 * sizeof *pos);
        for (int i = 0; i < n; i++)
            for (int x = 0; x < 3; x++)
                pos[3 * i + x] = p0[3 * i + x] + (x + 1) * 1.37;
        mlpot_structure *t = NULL;
        TS_OK(mlpot_structure_create(&t, n, z0, pos, c0, mlpot_structure_pbc(s)));
        evaluation et = evaluate(c, t);
        assert_true(rel(et.energy, ref.energy) <= 1e-10);
        for (int k = 0; k < 3 * n; k++)
            assert_true(fabs(et.forces[k] - ref.forces[k]) <= 1e-10 * scale);
        release(&et);
        mlpot_structure_free(t);

        /* rotation: r' = R r, cell rows likewise; F' = R F, sigma' = R sigma R^T */
        double ang = 0.7, ax[3] = {1 / sqrt(3.0), 1 / sqrt(3.0), 1 / sqrt(3.0)};
        double cs = cos(ang), sn = sin(ang), R[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double cross = 0;
                if (i != j) {
                    int k = 3 - i - j;
                    double sign = ((i + 1) % 3 == j) ? -1 : 1;
                    cross = sign * ax[k];
                }
                R[3 * i + j] = (i == j ? cs : 0) + (1 - cs) * ax[i] * ax[j] + sn * cross;
            }
        double cell[9];
        for (int r = 0; r < 3; r++)
            for (int x = 0; x < 3; x++)
                cell[3 * r + x] = R[3 * x] * c0[3 * r] + R[3 * x + 1] * c0[3 * r + 1] +
                                  R[3 * x + 2] * c0[3 * r + 2];
        for (int i = 0; i < n; i++)
            for (int x = 0; x < 3; x++)
                pos[3 * i + x] = R[3 * x] * p0[3 * i] + R[3 * x + 1] * p0[3 * i + 1] +
                                 R[3 * x + 2] * p0[3 * i + 2];
        mlpot_structure *rot = NULL;
        TS_OK(mlpot_structure_create(&rot, n, z0, pos, cell, mlpot_structure_pbc(s)));
        evaluation er = evaluate(c, rot);
        assert_true(rel(er.energy, ref.energy) <= 1e-10);
        for (int i = 0; i < n; i++)
            for (int x = 0; x < 3; x++) {
                double f = R[3 * x] * ref.forces[3 * i] + R[3 * x + 1] * ref.forces[3 * i + 1] +
                           R[3 * x + 2] * ref.forces[3 * i + 2];
                assert_true(fabs(er.forces[3 * i + x] - f) <= 1e-10 * scale);
            }
        double sscale = 1e-12;
        for (int k = 0; k < 9; k++)
            sscale = fmax(sscale, fabs(ref.stress[k]));
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double v = 0;
                for (int k = 0; k < 3; k++)
                    for (int l = 0; l < 3; l++)
                        v += R[3 * i + k] * ref.stress[3 * k + l] * R[3 * j + l];
                assert_true(fabs(er.stress[3 * i + j] - v) <= 1e-10 * sscale);
            }
        release(&er);
        mlpot_structure_free(rot);

        /* permutation: reversed atom order */
        int *z = malloc((size_t)n * sizeof *z);
        for (int i = 0; i < n; i++) {
            z[i] = z0[n - 1 - i];
            memcpy(&pos[3 * i], &p0[3 * (n - 1 - i)], 3 * sizeof *pos);
        }
        mlpot_structure *perm = NULL;
        TS_OK(mlpot_structure_create(&perm, n, z, pos, c0, mlpot_structure_pbc(s)));
        evaluation ep = evaluate(c, perm);
        assert_true(rel(ep.energy, ref.energy) <= 1e-10);
        for (int i = 0; i < n; i++) {
            assert_true(rel(ep.energies[i], ref.energies[n - 1 - i]) <= 1e-10);
            for (int x = 0; x < 3; x++)
                assert_true(fabs(ep.forces[3 * i + x] - ref.forces[3 * (n - 1 - i) + x]) <=
                            1e-10 * scale);
        }
        release(&ep);
        mlpot_structure_free(perm);
        free(z);
        free(pos);
        release(&ref);
        mlpot_structure_free(s);
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

static void test_supercell_energy_is_extensive(void **state) {
    (void)state;
    char path[4096];
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 4.0, 51 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        mlpot_structure *cells[3];
        cells[0] = triclinic_OSi(8, 6);
        cells[1] = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
        { /* a cell shorter than r_c (and so than 2 r_c) */
            ts_rng rng;
            ts_rng_seed(&rng, 77);
            double cell[9] = {2.7, 0, 0, 0.4, 2.5, 0, -0.3, 0.2, 2.9};
            int pbc[3] = {1, 1, 1};
            cells[2] = ts_random_structure(&rng, 2, species_OSi, 2, cell, pbc, 1.3);
        }
        for (int k = 0; k < 3; k++) {
            mlpot_structure *big = ts_supercell(cells[k], 2, 2, 2);
            evaluation e1 = evaluate(c, cells[k]), e8 = evaluate(c, big);
            int n = mlpot_structure_n_atoms(cells[k]);
            assert_true(fabs(e8.energy - 8 * e1.energy) <= 1e-10 * fabs(8 * e1.energy));
            for (int copy = 0; copy < 8; copy++)
                for (int i = 0; i < n; i++)
                    for (int x = 0; x < 3; x++)
                        assert_true(fabs(e8.forces[3 * (copy * n + i) + x] - e1.forces[3 * i + x]) <=
                                    1e-9);
            for (int x = 0; x < 9; x++)
                assert_true(fabs(e8.stress[x] - e1.stress[x]) <= 1e-10 * (1 + fabs(e1.stress[x])));
            release(&e1);
            release(&e8);
            mlpot_structure_free(big);
            mlpot_structure_free(cells[k]);
        }
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

/* A Si-O dimer pulled through r_c: E and F go continuously to their isolated values. */
static void test_dimer_through_cutoff(void **state) {
    (void)state;
    const double rc = 4.0;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, rc, 61 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        int z[2] = {8, 14};
        double far[6] = {0, 0, 0, 0, 0, 50.0};
        mlpot_structure *s = NULL;
        TS_OK(mlpot_structure_create(&s, 2, z, far, NULL, NULL));
        evaluation iso = evaluate(c, s);
        mlpot_structure_free(s);
        assert_true(iso.forces[2] == 0 && iso.forces[5] == 0);
        double prev_gap = INFINITY;
        const double deltas[] = {1e-1, 1e-2, 1e-3, 0.0, -1e-3};
        for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
            double pos[6] = {0, 0, 0, 0.3, -0.2, 0};
            pos[5] = sqrt((rc - deltas[k]) * (rc - deltas[k]) - 0.13);
            TS_OK(mlpot_structure_create(&s, 2, z, pos, NULL, NULL));
            evaluation e = evaluate(c, s);
            double gap = fabs(e.energy - iso.energy);
            double fmag = sqrt(e.forces[0] * e.forces[0] + e.forces[1] * e.forces[1] +
                               e.forces[2] * e.forces[2]);
            print_message("%s r_c - %.0e: |E - E_iso| = %.3e eV, |F| = %.3e eV/Å\n", arch_at(a)->name,
                          deltas[k], gap, fmag);
            if (deltas[k] <= 0) { /* at or beyond r_c: exactly isolated */
                assert_true(gap == 0 && fmag == 0);
            } else {
                /* u, u', u'' vanish at r_c: E - E_iso = O(delta^3), F = O(delta^2) */
                assert_true(gap <= 1e3 * deltas[k] * deltas[k] * deltas[k]);
                assert_true(fmag <= 1e3 * deltas[k] * deltas[k]);
                assert_true(gap < prev_gap);
            }
            prev_gap = gap;
            release(&e);
            mlpot_structure_free(s);
        }
        /* an isolated atom's energy depends only on its species */
        double single[3] = {1.0, 2.0, 3.0};
        TS_OK(mlpot_structure_create(&s, 1, &z[1], single, NULL, NULL));
        evaluation e1 = evaluate(c, s);
        assert_true(fabs(e1.energy - iso.energies[1]) <= 1e-14 * (1 + fabs(e1.energy)));
        release(&e1);
        mlpot_structure_free(s);
        release(&iso);
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

/* model.md §8: an atom pulled through r_3 from inside. In the molecule O-Si...Si below, the only
 * short edges are O-Si and Si...Si (r = r_3 - delta), so every triplet holds the edge that
 * crosses r_3, and "no three-body terms" is the same model with its three-body value weights
 * zeroed. E - E_no3 must vanish as delta^3 (ratio 8 when delta halves) and F - F_no3 with it,
 * both 0 at and beyond r_3. Architectures without triplets are skipped. */
static void test_triplet_through_r3(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        const model_arch_ops *arch = arch_at(a);
        if (!arch->triplet_cutoff)
            continue;
        mlpot_model *m = ts_random_model(arch->name, species_OSi, 2, 4.0, 91 + (uint64_t)a);
        mlpot_model *m0 = ts_random_model(arch->name, species_OSi, 2, 4.0, 91 + (uint64_t)a);
        int zeroed = 0;
        for (int t = 0; t < m0->n_tensors; t++)
            if (strstr(m0->tensors[t].name, "/threebody/W_value")) {
                memset(m0->params + m0->tensors[t].offset, 0,
                       m0->tensors[t].size * sizeof(double));
                zeroed++;
            }
        assert_int_equal(zeroed, m0->hp.n_layers);
        double r3 = arch->triplet_cutoff(&m->hp);
        mlpot_calculator *c = NULL, *c0 = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        TS_OK(mlpot_calculator_create(&c0, m0));
        const int numbers[3] = {14, 8, 14};
        const double deltas[] = {8e-2, 4e-2, 2e-2, 1e-2, 0.0, -1e-3};
        double diff[6], fdiff[6];
        for (int k = 0; k < 6; k++) {
            double r = r3 - deltas[k], angle = 0.35;
            double pos[9] = {0, 0, 0, 1.6, 0, 0, -r * cos(angle), r * sin(angle), 0.0};
            mlpot_structure *s = NULL;
            TS_OK(mlpot_structure_create(&s, 3, numbers, pos, NULL, NULL));
            evaluation e = evaluate(c, s), e0 = evaluate(c0, s);
            diff[k] = e.energy - e0.energy;
            fdiff[k] = 0;
            for (int x = 0; x < 9; x++)
                fdiff[k] = fmax(fdiff[k], fabs(e.forces[x] - e0.forces[x]));
            print_message("%s r_3 - %.0e: E - E_no3 = %.3e eV, max |F - F_no3| = %.3e eV/Å\n",
                          arch->name, deltas[k], diff[k], fdiff[k]);
            release(&e);
            release(&e0);
            mlpot_structure_free(s);
        }
        assert_true(fabs(diff[0]) > 1e-10); /* the three-body terms are there */
        for (int k = 1; k < 4; k++) {
            double ratio = diff[k - 1] / diff[k];
            print_message("%s: ratio for delta %.0e -> %.0e: %.3f\n", arch->name, deltas[k - 1],
                          deltas[k], ratio);
            assert_true(fabs(ratio - 8.0) < 0.8);
        }
        /* continuous through r_3: both differences vanish there and stay 0 beyond */
        assert_true(fabs(diff[4]) < 1e-14 && fdiff[4] < 1e-12);
        assert_true(diff[5] == 0.0 && fdiff[5] == 0.0);
        assert_true(fdiff[3] < fdiff[2] && fdiff[2] < fdiff[1]);
        mlpot_calculator_free(c);
        mlpot_calculator_free(c0);
        mlpot_model_free(m);
        mlpot_model_free(m0);
    }
}

static void test_threads_bit_identical(void **state) {
    (void)state;
    char path[4096];
    int saved = omp_get_max_threads();
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 4.0, 71 + (uint64_t)a);
        mlpot_structure *base = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
        mlpot_structure *s = ts_supercell(base, 2, 2, 2); /* >= CALCULATOR_PARALLEL_MIN atoms */
        int n = mlpot_structure_n_atoms(s);
        evaluation runs[3];
        for (int t = 0; t < 3; t++) {
            omp_set_num_threads(t + 1);
            mlpot_calculator *c = NULL;
            TS_OK(mlpot_calculator_create(&c, m));
            runs[t] = evaluate(c, s);
            mlpot_calculator_free(c);
        }
        omp_set_num_threads(saved);
        for (int t = 1; t < 3; t++) {
            assert_memory_equal(&runs[t].energy, &runs[0].energy, sizeof(double));
            assert_memory_equal(runs[t].forces, runs[0].forces, (size_t)n * 3 * sizeof(double));
            assert_memory_equal(runs[t].energies, runs[0].energies, (size_t)n * sizeof(double));
            assert_memory_equal(runs[t].stress, runs[0].stress, 9 * sizeof(double));
        }
        for (int t = 0; t < 3; t++)
            release(&runs[t]);
        mlpot_structure_free(s);
        mlpot_structure_free(base);
        mlpot_model_free(m);
    }
}

/* One calculator over structures of different sizes gives what fresh calculators give. */
static void test_workspace_reuse(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("megnet", species_OSi, 2, 4.0, 81);
    mlpot_calculator *shared = NULL;
    TS_OK(mlpot_calculator_create(&shared, m));
    for (int k = 0; k < 4; k++) {
        mlpot_structure *s = triclinic_OSi(90 + (uint64_t)k, k % 2 ? 3 : 8);
        mlpot_calculator *fresh = NULL;
        TS_OK(mlpot_calculator_create(&fresh, m));
        evaluation a = evaluate(shared, s), b = evaluate(fresh, s);
        assert_memory_equal(&a.energy, &b.energy, sizeof(double));
        assert_memory_equal(a.forces, b.forces,
                            (size_t)mlpot_structure_n_atoms(s) * 3 * sizeof(double));
        release(&a);
        release(&b);
        mlpot_calculator_free(fresh);
        mlpot_structure_free(s);
    }
    mlpot_calculator_free(shared);
    mlpot_model_free(m);
}

static void test_unknown_species(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("cgcnn", species_OSi, 2, 4.0, 3);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    int z[2] = {14, 26};
    double pos[6] = {0, 0, 0, 2, 0, 0};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, NULL, NULL));
    mlpot_results r = {0};
    assert_int_equal(mlpot_calculator_compute(c, s, &r), MLPOT_ERR_INVALID_STRUCTURE);
    assert_non_null(strstr(mlpot_last_error(), "atom 2 is Fe"));
    assert_non_null(strstr(mlpot_last_error(), "O, Si"));
    mlpot_structure_free(s);
    mlpot_calculator_free(c);
    mlpot_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translation_rotation_permutation),
        cmocka_unit_test(test_supercell_energy_is_extensive),
        cmocka_unit_test(test_dimer_through_cutoff),
        cmocka_unit_test(test_triplet_through_r3),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_workspace_reuse),
        cmocka_unit_test(test_unknown_species),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
