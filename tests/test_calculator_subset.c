/* test_calculator_subset.c — mlpot_calculator_compute_subset as LAMMPS uses it through KIM: a
 * periodic cell's atoms (contributing) with their periodic images within n_layers * cutoff
 * (ghosts) as an open structure give the periodic energy, per-atom energies, forces folded back
 * onto their owners and virial; forces are the gradient of the contributing energy only. The
 * trimmed evaluation (each layer only within the hops its output needs, model/eval.h) equals the
 * untrimmed one exactly and touches exactly the atoms the hop distances allow. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "model/arch.h"
#include "model/calculator.h"
#include "test_support.h"

static const int species_OSi[] = {8, 14};

/* The open structure of a periodic cell: its atoms first (contributing), then every periodic
 * image closer than `reach` to one of them (ghosts); owner[p] is the atom p is an image of. */
typedef struct {
    mlpot_structure *structure;
    int *contributing;
    int *owner;
    int n;
} open_cluster;

static void open_cluster_build(const mlpot_structure *s, double reach, open_cluster *out) {
    int n = mlpot_structure_n_atoms(s);
    const double *cell = mlpot_structure_cell(s), *pos = mlpot_structure_positions(s);
    const int *z = mlpot_structure_numbers(s);
    /* images needed along direction k: reach over the plane spacing V / |b x c|, plus one for
     * atoms that sit anywhere in the cell */
    double volume = mlpot_structure_volume(s);
    int range[3];
    for (int k = 0; k < 3; k++) {
        const double *u = cell + 3 * ((k + 1) % 3), *v = cell + 3 * ((k + 2) % 3);
        double cx = u[1] * v[2] - u[2] * v[1], cy = u[2] * v[0] - u[0] * v[2],
               cz = u[0] * v[1] - u[1] * v[0];
        range[k] = (int)ceil(reach / (volume / sqrt(cx * cx + cy * cy + cz * cz))) + 1;
    }
    int cap = n * (2 * range[0] + 1) * (2 * range[1] + 1) * (2 * range[2] + 1);
    double *p = malloc((size_t)cap * 3 * sizeof *p);
    int *numbers = malloc((size_t)cap * sizeof *numbers);
    out->owner = malloc((size_t)cap * sizeof *out->owner);
    out->contributing = calloc((size_t)cap, sizeof *out->contributing);
    int count = 0;
    for (int pass = 0; pass < 2; pass++) /* the cell itself first, then its images */
        for (int a = -range[0]; a <= range[0]; a++)
            for (int b = -range[1]; b <= range[1]; b++)
                for (int c = -range[2]; c <= range[2]; c++) {
                    int home = a == 0 && b == 0 && c == 0;
                    if (home != (pass == 0))
                        continue;
                    for (int k = 0; k < n; k++) {
                        double r[3];
                        for (int x = 0; x < 3; x++)
                            r[x] = pos[3 * k + x] + a * cell[x] + b * cell[3 + x] + c * cell[6 + x];
                        double nearest = home ? 0 : INFINITY;
                        for (int i = 0; i < n && !home; i++) {
                            double dx = r[0] - pos[3 * i], dy = r[1] - pos[3 * i + 1],
                                   dz = r[2] - pos[3 * i + 2];
                            nearest = fmin(nearest, sqrt(dx * dx + dy * dy + dz * dz));
                        }
                        if (nearest >= reach)
                            continue;
                        memcpy(p + 3 * count, r, sizeof r);
                        numbers[count] = z[k];
                        out->owner[count] = k;
                        out->contributing[count] = home;
                        count++;
                    }
                }
    out->n = count;
    out->structure = NULL;
    TS_OK(mlpot_structure_create(&out->structure, count, numbers, p, NULL, NULL));
    free(p);
    free(numbers);
}

static void open_cluster_free(open_cluster *o) {
    mlpot_structure_free(o->structure);
    free(o->contributing);
    free(o->owner);
}

static mlpot_structure *periodic_structure(int which) {
    ts_rng rng;
    ts_rng_seed(&rng, 77 + (uint64_t)which);
    char path[4096];
    if (which == 0) { /* diamond Si, rattled */
        mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
        int n = mlpot_structure_n_atoms(s);
        double *pos = malloc((size_t)n * 3 * sizeof *pos);
        memcpy(pos, mlpot_structure_positions(s), (size_t)n * 3 * sizeof *pos);
        for (int k = 0; k < 3 * n; k++)
            pos[k] += 0.15 * (2 * ts_uniform(&rng) - 1);
        TS_OK(mlpot_structure_set_positions(s, pos));
        free(pos);
        return s;
    }
    if (which == 1) { /* two species, triclinic */
        double cell[9] = {4.6, 0.2, -0.3, 0.5, 4.9, 0.1, -0.4, 0.6, 5.2};
        int pbc[3] = {1, 1, 1};
        return ts_random_structure(&rng, 7, species_OSi, 2, cell, pbc, 1.4);
    }
    /* a cell shorter than r_c: the same atom appears as many ghosts */
    double cell[9] = {2.7, 0, 0, 0.4, 2.5, 0, -0.3, 0.2, 2.9};
    int pbc[3] = {1, 1, 1};
    return ts_random_structure(&rng, 2, species_OSi, 2, cell, pbc, 1.3);
}

static double max_abs(const double *x, size_t n) {
    double m = 0;
    for (size_t k = 0; k < n; k++)
        m = fmax(m, fabs(x[k]));
    return m;
}

/* The ghost shell n_layers * r_c thick gives the periodic results exactly. */
static void test_open_cluster_equals_periodic(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 3.6, 41 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        double reach = mlpot_model_n_layers(m) * mlpot_model_cutoff(m);
        for (int w = 0; w < 3; w++) {
            mlpot_structure *s = periodic_structure(w);
            int n = mlpot_structure_n_atoms(s);
            double *f_per = calloc((size_t)n * 3, sizeof *f_per);
            double *e_per = calloc((size_t)n, sizeof *e_per);
            double stress[9];
            mlpot_results rp = {.energies = e_per, .forces = f_per, .stress = stress};
            TS_OK(mlpot_calculator_compute(c, s, &rp));
            assert_true(rp.has_stress);

            open_cluster o;
            open_cluster_build(s, reach, &o);
            double *f = calloc((size_t)o.n * 3, sizeof *f);
            double *e = calloc((size_t)o.n, sizeof *e);
            double *w9 = calloc((size_t)o.n * 9, sizeof *w9);
            mlpot_results ro = {.energies = e, .forces = f};
            TS_OK(mlpot_calculator_compute_subset(c, o.structure, o.contributing, &ro, w9));
            assert_false(ro.has_stress); /* an open structure has none */

            double scale_e = fabs(rp.energy) + n;
            assert_close(ro.energy, rp.energy, 1e-10 * scale_e);
            for (int p = 0; p < o.n; p++)
                assert_close(e[p], o.contributing[p] ? e_per[o.owner[p]] : 0.0,
                             1e-10 * (1 + fabs(e_per[o.owner[p]])));
            /* ghost forces summed onto their owners, as LAMMPS's reverse communication does */
            double *folded = calloc((size_t)n * 3, sizeof *folded);
            double virial[9] = {0};
            for (int p = 0; p < o.n; p++) {
                for (int x = 0; x < 3; x++)
                    folded[3 * o.owner[p] + x] += f[3 * p + x];
                for (int x = 0; x < 9; x++)
                    virial[x] += w9[9 * p + x];
            }
            double scale_f = 1 + max_abs(f_per, (size_t)n * 3);
            for (int k = 0; k < 3 * n; k++)
                assert_close(folded[k], f_per[k], 1e-10 * scale_f);
            /* formats.md: W = -V sigma */
            double volume = mlpot_structure_volume(s);
            double scale_w = 1 + volume * max_abs(stress, 9);
            for (int x = 0; x < 9; x++)
                assert_close(virial[x], -volume * stress[x], 1e-10 * scale_w);
            print_message("%s structure %d: %d atoms + %d ghosts, |dE| = %.1e, max |dF| folded "
                          "ok\n", arch_at(a)->name, w, n, o.n - n, fabs(ro.energy - rp.energy));
            free(folded);
            free(f);
            free(e);
            free(w9);
            open_cluster_free(&o);
            free(f_per);
            free(e_per);
            mlpot_structure_free(s);
        }
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

/* contributing = NULL is mlpot_calculator_compute, bit for bit, and its virials sum to -V sigma */
static void test_all_contributing_is_compute(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("cgcnn", species_OSi, 2, 3.6, 5);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    mlpot_structure *s = periodic_structure(1);
    int n = mlpot_structure_n_atoms(s);
    double f1[3 * 7], f2[3 * 7], s1[9], s2[9], w9[9 * 7];
    assert_int_equal(n, 7);
    mlpot_results r1 = {.forces = f1, .stress = s1}, r2 = {.forces = f2, .stress = s2};
    TS_OK(mlpot_calculator_compute(c, s, &r1));
    TS_OK(mlpot_calculator_compute_subset(c, s, NULL, &r2, w9));
    assert_memory_equal(&r1.energy, &r2.energy, sizeof r1.energy);
    assert_memory_equal(f1, f2, sizeof f1);
    assert_memory_equal(s1, s2, sizeof s1);
    double volume = mlpot_structure_volume(s);
    for (int x = 0; x < 9; x++) {
        double sum = 0;
        for (int k = 0; k < n; k++)
            sum += w9[9 * k + x];
        assert_close(sum, -volume * s1[x], 1e-12 * (1 + volume * max_abs(s1, 9)));
    }
    /* energy only: nothing else is touched */
    mlpot_results r3 = {0};
    TS_OK(mlpot_calculator_compute_subset(c, s, NULL, &r3, NULL));
    assert_memory_equal(&r1.energy, &r3.energy, sizeof r1.energy);
    assert_int_equal(mlpot_calculator_compute_subset(NULL, s, NULL, &r3, NULL),
                     MLPOT_ERR_INVALID_ARGUMENT);
    mlpot_structure_free(s);
    mlpot_calculator_free(c);
    mlpot_model_free(m);
}

static double subset_energy(mlpot_calculator *c, int n, const int *z, const double *pos,
                            const int *contributing) {
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, n, z, pos, NULL, NULL));
    mlpot_results r = {0};
    TS_OK(mlpot_calculator_compute_subset(c, s, contributing, &r, NULL));
    mlpot_structure_free(s);
    return r.energy;
}

/* Forces on every atom, contributing or not, are -dE_C/dr (five-point differences, model.md §7),
 * and the per-atom virials of an open structure sum to sum_k r_k (x) F_k. */
static void test_subset_forces_match_finite_differences(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 3.6, 61 + (uint64_t)a);
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_calculator_create(&c, m));
        ts_rng rng;
        ts_rng_seed(&rng, 3);
        double box[9] = {5.5, 0, 0, 0, 5.0, 0, 0, 0, 5.2};
        int pbc[3] = {0, 0, 0};
        mlpot_structure *s = ts_random_structure(&rng, 12, species_OSi, 2, box, pbc, 1.3);
        int n = mlpot_structure_n_atoms(s);
        const int *z = mlpot_structure_numbers(s);
        int contributing[12];
        for (int i = 0; i < n; i++) /* a few atoms contribute, the others are ghosts */
            contributing[i] = i % 3 == 0;
        double pos[36], f[36], w9[9 * 12];
        memcpy(pos, mlpot_structure_positions(s), sizeof pos);
        mlpot_results r = {.forces = f};
        TS_OK(mlpot_calculator_compute_subset(c, s, contributing, &r, w9));
        const double h = 1e-3, steps[4] = {-2 * h, -h, h, 2 * h};
        double worst = 0, ghost_force = 0;
        for (int k = 0; k < 3 * n; k++) {
            double x0 = pos[k], e[4];
            for (int q = 0; q < 4; q++) {
                pos[k] = x0 + steps[q];
                e[q] = subset_energy(c, n, z, pos, contributing);
            }
            pos[k] = x0;
            double fd = -ts_five_point(e[0], e[1], e[2], e[3], h);
            worst = fmax(worst, fabs(fd - f[k]));
            if (!contributing[k / 3])
                ghost_force = fmax(ghost_force, fabs(f[k]));
        }
        print_message("%s: max |F - F_fd| = %.2e eV/Å (largest ghost force %.2f)\n", arch_at(a)->name,
                      worst, ghost_force);
        assert_true(worst <= 1e-6);
        assert_true(ghost_force > 1e-3); /* the check did exercise forces on ghosts */
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++) {
                double sum = 0, rf = 0;
                for (int k = 0; k < n; k++) {
                    sum += w9[9 * k + 3 * x + y];
                    rf += pos[3 * k + x] * f[3 * k + y];
                }
                assert_close(sum, rf, 1e-10 * (1 + fabs(rf)));
            }
        mlpot_structure_free(s);
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

/* Hop distances from the contributing atoms by brute force: all pairs closer than the cutoff,
 * relaxed until nothing changes (no graph, no breadth-first order). */
static int *brute_force_hops(const open_cluster *o, double cutoff) {
    const double *pos = mlpot_structure_positions(o->structure);
    int n = o->n, *hop = malloc((size_t)n * sizeof *hop);
    for (int i = 0; i < n; i++)
        hop[i] = o->contributing[i] ? 0 : n + 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double dx = pos[3 * i] - pos[3 * j], dy = pos[3 * i + 1] - pos[3 * j + 1],
                       dz = pos[3 * i + 2] - pos[3 * j + 2];
                if (i != j && dx * dx + dy * dy + dz * dz < cutoff * cutoff &&
                    hop[i] + 1 < hop[j]) {
                    hop[j] = hop[i] + 1;
                    changed = 1;
                }
            }
    }
    return hop;
}

static void fill_nan(double *x, size_t n) {
    for (size_t k = 0; k < n; k++)
        x[k] = NAN;
}

/* Every workspace array a sweep may read: NaN, so that reading anything the trimmed sweeps did
 * not write in this call shows in the results. */
static void poison_workspace(mlpot_calculator *c, int L, int F) {
    size_t N = c->cap_node;
    fill_nan(c->h, (size_t)(L + 1) * N * (size_t)F);
    fill_nan(c->dh, N * (size_t)F);
    fill_nan(c->energies, N);
    fill_nan(c->virial, 9 * N);
    fill_nan(c->edge_adjoint, 3 * c->cap_edge);
    for (int k = 0; k < ARCH_MAX_BUFFERS; k++)
        fill_nan(c->buffer[k], c->cap_buffer[k]);
}

/* The trimmed subset evaluation gives the untrimmed one's energy, per-atom energies, forces
 * and virials bit for bit (== on every value) on explicit ghost shells, for every architecture,
 * with every workspace array poisoned with NaN in between (nothing stale is read); and layer l
 * computes h_{l+1} for exactly the atoms within L-1-l hops of the contributing ones (hop
 * distances by brute force): rows of h_{l+1} farther out keep their NaN. It fails if trimming
 * is switched off (rows are filled) or trims too much (results differ or are NaN). The same
 * on 1 and 2 OpenMP threads. */
static void test_trimmed_equals_untrimmed(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        mlpot_model *m = ts_random_model(arch_at(a)->name, species_OSi, 2, 3.6, 91 + (uint64_t)a);
        mlpot_calculator *full = NULL, *c = NULL;
        TS_OK(mlpot_calculator_create(&full, m));
        TS_OK(mlpot_calculator_create(&c, m));
        full->no_trim = 1;
        int L = mlpot_model_n_layers(m), F = c->model->hp.n_features;
        double cutoff = mlpot_model_cutoff(m);
        for (int w = 0; w < 3; w++) {
            mlpot_structure *s = periodic_structure(w);
            open_cluster o;
            open_cluster_build(s, L * cutoff + 0.5, &o); /* a skin: some atoms beyond L hops */
            size_t n = (size_t)o.n;
            double *buf = calloc(n * 39, sizeof *buf);
            double *e0 = buf, *f0 = e0 + n, *w0 = f0 + 3 * n;
            double *e1 = w0 + 9 * n, *f1 = e1 + n, *w1 = f1 + 3 * n;
            mlpot_results r0 = {.energies = e0, .forces = f0};
            mlpot_results r1 = {.energies = e1, .forces = f1};
            TS_OK(mlpot_calculator_compute_subset(full, o.structure, o.contributing, &r0, w0));
            TS_OK(mlpot_calculator_compute_subset(c, o.structure, o.contributing, &r1, w1));
            poison_workspace(c, L, F);
            TS_OK(mlpot_calculator_compute_subset(c, o.structure, o.contributing, &r1, w1));
            assert_true(r1.energy == r0.energy);
            for (size_t k = 0; k < n; k++)
                assert_true(e1[k] == e0[k]);
            for (size_t k = 0; k < 3 * n; k++)
                assert_true(f1[k] == f0[k]);
            for (size_t k = 0; k < 9 * n; k++)
                assert_true(w1[k] == w0[k]);
#ifdef _OPENMP
            double *e2 = w1 + 9 * n, *f2 = e2 + n, *w2 = f2 + 3 * n;
            mlpot_results r2 = {.energies = e2, .forces = f2};
            int saved = omp_get_max_threads();
            for (int threads = 1; threads <= 2; threads++) {
                omp_set_num_threads(threads);
                TS_OK(mlpot_calculator_compute_subset(c, o.structure, o.contributing, &r2, w2));
                assert_memory_equal(&r2.energy, &r1.energy, sizeof r1.energy);
                assert_memory_equal(e2, e1, n * sizeof *e1);
                assert_memory_equal(f2, f1, 3 * n * sizeof *f1);
                assert_memory_equal(w2, w1, 9 * n * sizeof *w1);
            }
            omp_set_num_threads(saved);
#endif
            poison_workspace(c, L, F); /* for the count below: rows of this call only */
            TS_OK(mlpot_calculator_compute_subset(c, o.structure, o.contributing, &r1, w1));
            /* the atoms each layer evaluated, against brute-force hop distances */
            int *hop = brute_force_hops(&o, cutoff);
            char counts[256];
            int used = 0;
            for (int l = 0; l < L; l++) {
                const double *h_out = c->h + (size_t)(l + 1) * n * (size_t)F;
                int evaluated = 0, expected = 0;
                for (size_t i = 0; i < n; i++) {
                    int done = !isnan(h_out[i * (size_t)F]);
                    assert_int_equal(done, hop[i] <= L - 1 - l);
                    evaluated += done;
                    expected += hop[i] <= L - 1 - l;
                }
                assert_int_equal(evaluated, expected);
                used += snprintf(counts + used, sizeof counts - (size_t)used, " %d", evaluated);
            }
            int beyond = 0; /* atoms beyond L hops: no force, as in the untrimmed evaluation */
            for (size_t i = 0; i < n; i++)
                if (hop[i] > L) {
                    beyond++;
                    for (int x = 0; x < 3; x++)
                        assert_true(f1[3 * i + (size_t)x] == 0);
                }
            assert_true(beyond > 0);
            print_message("%s structure %d: %zu atoms, layers evaluated on%s, %d beyond L hops\n",
                          arch_at(a)->name, w, n, counts, beyond);
            free(hop);
            free(buf);
            open_cluster_free(&o);
            mlpot_structure_free(s);
        }
        mlpot_calculator_free(c);
        mlpot_calculator_free(full);
        mlpot_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_cluster_equals_periodic),
        cmocka_unit_test(test_all_contributing_is_compute),
        cmocka_unit_test(test_subset_forces_match_finite_differences),
        cmocka_unit_test(test_trimmed_equals_untrimmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
