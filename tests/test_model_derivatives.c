/* test_model_derivatives.c — the checks of model.md §7 for both architectures on several
 * structures (a rattled crystal, a two-species triclinic cell, a cell shorter than r_c, a slab,
 * a molecule): forces against five-point finite differences of the energy, stress against
 * finite differences under cell strain, sum of forces, stress symmetry, per-atom energies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/arch.h"
#include "test_support.h"

static const int species_OSi[] = {8, 14};

typedef struct {
    double energy;
    double *forces;
    double stress[9];
    int has_stress;
} evaluation;

static double energy_of(mlpot_calculator *c, int n, const int *z, const double *pos,
                        const double *cell, const int *pbc) {
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, n, z, pos, cell, pbc));
    mlpot_results r = {0};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    mlpot_structure_free(s);
    return r.energy;
}

static void evaluate(mlpot_calculator *c, const mlpot_structure *s, evaluation *out) {
    int n = mlpot_structure_n_atoms(s);
    out->forces = calloc((size_t)n * 3, sizeof(double));
    double *energies = calloc((size_t)n, sizeof(double));
    mlpot_results r = {.forces = out->forces, .stress = out->stress, .energies = energies};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    out->energy = r.energy;
    out->has_stress = r.has_stress;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += energies[i];
    assert_true(fabs(sum - r.energy) <= 1e-12 * (1 + fabs(r.energy)));
    free(energies);
}


static double check_forces_fd(mlpot_calculator *c, const mlpot_structure *s) {
    int n = mlpot_structure_n_atoms(s);
    const int *z = mlpot_structure_numbers(s);
    const double *cell = mlpot_structure_cell(s);
    const int *pbc = mlpot_structure_pbc(s);
    double *pos = malloc((size_t)n * 3 * sizeof *pos);
    memcpy(pos, mlpot_structure_positions(s), (size_t)n * 3 * sizeof *pos);
    evaluation ev;
    evaluate(c, s, &ev);
    const double h = 1e-3;
    double worst = 0, fsum[3] = {0, 0, 0};
    for (int k = 0; k < 3 * n; k++) {
        double x0 = pos[k], e[4];
        const double steps[4] = {-2 * h, -h, h, 2 * h};
        for (int m = 0; m < 4; m++) {
            pos[k] = x0 + steps[m];
            e[m] = energy_of(c, n, z, pos, cell, pbc);
        }
        pos[k] = x0;
        double fd = -ts_five_point(e[0], e[1], e[2], e[3], h);
        worst = fmax(worst, fabs(fd - ev.forces[k]));
        fsum[k % 3] += ev.forces[k];
    }
    for (int x = 0; x < 3; x++)
        assert_true(fabs(fsum[x]) < 1e-12 * (1 + n));
    free(pos);
    free(ev.forces);
    return worst;
}

static double check_stress_fd(mlpot_calculator *c, const mlpot_structure *s) {
    int n = mlpot_structure_n_atoms(s);
    const int *z = mlpot_structure_numbers(s);
    const double *cell0 = mlpot_structure_cell(s), *pos0 = mlpot_structure_positions(s);
    evaluation ev;
    evaluate(c, s, &ev);
    assert_true(ev.has_stress);
    double volume = mlpot_structure_volume(s);
    const double h = 1e-4;
    double worst = 0;
    double *pos = malloc((size_t)n * 3 * sizeof *pos);
    for (int a = 0; a < 3; a++)
        for (int b = a; b < 3; b++) {
            double e[4];
            const double steps[4] = {-2 * h, -h, h, 2 * h};
            for (int m = 0; m < 4; m++) {
                /* positions and cell deformed by (I + eps), eps symmetric, row vectors */
                double eps[9] = {0};
                eps[3 * a + b] += a == b ? steps[m] : steps[m] / 2;
                eps[3 * b + a] += a == b ? 0 : steps[m] / 2;
                double cell[9];
                for (int r = 0; r < 3; r++)
                    for (int x = 0; x < 3; x++)
                        cell[3 * r + x] = cell0[3 * r + x] + cell0[3 * r] * eps[x] +
                                          cell0[3 * r + 1] * eps[3 + x] +
                                          cell0[3 * r + 2] * eps[6 + x];
                for (int i = 0; i < n; i++)
                    for (int x = 0; x < 3; x++)
                        pos[3 * i + x] = pos0[3 * i + x] + pos0[3 * i] * eps[x] +
                                         pos0[3 * i + 1] * eps[3 + x] + pos0[3 * i + 2] * eps[6 + x];
                e[m] = energy_of(c, n, z, pos, cell, mlpot_structure_pbc(s));
            }
            double fd = ts_five_point(e[0], e[1], e[2], e[3], h) / volume;
            worst = fmax(worst, fabs(fd - ev.stress[3 * a + b]));
            assert_true(fabs(ev.stress[3 * a + b] - ev.stress[3 * b + a]) <= 1e-10);
        }
    free(pos);
    free(ev.forces);
    return worst;
}

static mlpot_structure *rattled(mlpot_structure *s, double amplitude, uint64_t seed) {
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    int n = mlpot_structure_n_atoms(s);
    double *pos = malloc((size_t)n * 3 * sizeof *pos);
    memcpy(pos, mlpot_structure_positions(s), (size_t)n * 3 * sizeof *pos);
    for (int k = 0; k < 3 * n; k++)
        pos[k] += amplitude * (2 * ts_uniform(&rng) - 1);
    mlpot_structure *out = NULL;
    TS_OK(mlpot_structure_create(&out, n, mlpot_structure_numbers(s), pos,
                                 mlpot_structure_cell(s), mlpot_structure_pbc(s)));
    free(pos);
    mlpot_structure_free(s);
    return out;
}

/* The structures of the checks: index 0..4 */
static mlpot_structure *test_structure(int which) {
    ts_rng rng;
    ts_rng_seed(&rng, 1000 + (uint64_t)which);
    char path[4096];
    switch (which) {
    case 0: /* rattled diamond Si */
        return rattled(ts_read(ts_structure_path("Si.vasp", path, sizeof path)), 0.1, 1);
    case 1: { /* two species, triclinic */
        double cell[9] = {4.6, 0.2, -0.3, 0.5, 4.9, 0.1, -0.4, 0.6, 5.2};
        int pbc[3] = {1, 1, 1};
        return ts_random_structure(&rng, 6, species_OSi, 2, cell, pbc, 1.4);
    }
    case 2: { /* a cell shorter than r_c in every direction: many images */
        double cell[9] = {2.7, 0, 0, 0.4, 2.5, 0, -0.3, 0.2, 2.9};
        int pbc[3] = {1, 1, 1};
        return ts_random_structure(&rng, 2, species_OSi, 2, cell, pbc, 1.3);
    }
    case 3: { /* a slab */
        double cell[9] = {4.0, 0, 0, 0.8, 4.2, 0, 0, 0, 6.0};
        int pbc[3] = {1, 1, 0};
        return ts_random_structure(&rng, 5, species_OSi, 2, cell, pbc, 1.4);
    }
    default: { /* a molecule */
        double cell[9] = {4.0, 0, 0, 0, 4.0, 0, 0, 0, 4.0};
        int pbc[3] = {0, 0, 0};
        return ts_random_structure(&rng, 6, species_OSi, 2, cell, pbc, 1.3);
    }
    }
}

static void test_forces_match_finite_differences(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 3.6, 17 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        for (int w = 0; w < 5; w++) {
            mlpot_structure *s = test_structure(w);
            double err = check_forces_fd(c, s);
            print_message("%s structure %d: max |F - F_fd| = %.2e eV/Å\n", arch_at(a)->name, w, err);
            assert_true(err <= 1e-6);
            mlpot_structure_free(s);
        }
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

static void test_stress_matches_finite_differences(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 3.6, 29 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        for (int w = 0; w < 3; w++) { /* the periodic ones */
            mlpot_structure *s = test_structure(w);
            double err = check_stress_fd(c, s);
            print_message("%s structure %d: max |sigma - sigma_fd| = %.2e eV/Å^3\n", arch_at(a)->name, w,
                          err);
            assert_true(err <= 1e-7);
            mlpot_structure_free(s);
        }
        /* no stress for a slab or a molecule */
        for (int w = 3; w < 5; w++) {
            mlpot_structure *s = test_structure(w);
            double stress[9];
            mlpot_results r = {.stress = stress};
            TS_OK(mlpot_calculator_compute(c, s, &r));
            assert_false(r.has_stress);
            mlpot_structure_free(s);
        }
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forces_match_finite_differences),
        cmocka_unit_test(test_stress_matches_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
