/* test_symmetry.c — spglib wrappers: the space groups of the shipped crystals equal the known
 * ones, equivalent atoms, primitive and conventional standard cells, Niggli and Delaunay
 * reduction (same lattice, same neighbour graph), and refusals for non-periodic structures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

typedef struct {
    const char *file;
    int number;
    const char *symbol;
} known_group;

static void test_spacegroups_of_shipped_structures(void **state) {
    (void)state;
    const known_group known[] = {
        {"Si.vasp", 227, "Fd-3m"},     {"Mo.vasp", 229, "Im-3m"},     {"Li.vasp", 229, "Im-3m"},
        {"Cu.vasp", 225, "Fm-3m"},     {"NaCl.vasp", 225, "Fm-3m"},   {"ZnO.vasp", 186, "P6_3mc"},
        {"TiO2.vasp", 136, "P4_2/mnm"}, {"triclinic.vasp", 2, "P-1"},
    };
    char path[4096];
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        mlpot_structure *s = ts_read(ts_structure_path(known[k].file, path, sizeof path));
        mlpot_spacegroup sg;
        TS_OK(mlpot_symmetry_spacegroup(s, 1e-5, &sg));
        if (sg.number != known[k].number)
            fail_msg("%s: space group %d, expected %d", known[k].file, sg.number, known[k].number);
        assert_string_equal(sg.symbol, known[k].symbol);
        mlpot_structure_free(s);
    }
}

/* Rotating and translating the whole crystal leaves the space group unchanged; a small
 * displacement of one atom lowers it. */
static void test_spacegroup_invariance_and_breaking(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    int n = mlpot_structure_n_atoms(s);
    double c = cos(0.3), sn = sin(0.3);
    double R[9] = {c, -sn, 0, sn, c, 0, 0, 0, 1};
    double cell[9], *pos = malloc((size_t)n * 3 * sizeof *pos);
    const double *c0 = mlpot_structure_cell(s), *p0 = mlpot_structure_positions(s);
    for (int k = 0; k < 3; k++)
        for (int x = 0; x < 3; x++)
            cell[3 * k + x] =
                R[3 * x] * c0[3 * k] + R[3 * x + 1] * c0[3 * k + 1] + R[3 * x + 2] * c0[3 * k + 2];
    for (int i = 0; i < n; i++)
        for (int x = 0; x < 3; x++)
            pos[3 * i + x] = R[3 * x] * p0[3 * i] + R[3 * x + 1] * p0[3 * i + 1] +
                             R[3 * x + 2] * p0[3 * i + 2] + 0.37;
    mlpot_structure *rot = NULL;
    TS_OK(mlpot_structure_create(&rot, n, mlpot_structure_numbers(s), pos, cell,
                                 mlpot_structure_pbc(s)));
    mlpot_spacegroup sg;
    TS_OK(mlpot_symmetry_spacegroup(rot, 1e-5, &sg));
    assert_int_equal(sg.number, 227);
    pos[0] += 0.01;
    mlpot_structure *broken = NULL;
    TS_OK(mlpot_structure_create(&broken, n, mlpot_structure_numbers(s), pos, cell,
                                 mlpot_structure_pbc(s)));
    TS_OK(mlpot_symmetry_spacegroup(broken, 1e-5, &sg));
    assert_true(sg.number < 227);
    /* ... unless the tolerance is larger than the displacement */
    TS_OK(mlpot_symmetry_spacegroup(broken, 0.1, &sg));
    assert_int_equal(sg.number, 227);
    free(pos);
    mlpot_structure_free(broken);
    mlpot_structure_free(rot);
    mlpot_structure_free(s);
}

static void test_equivalent_atoms(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    int eq[8];
    TS_OK(mlpot_symmetry_equivalent_atoms(s, 1e-5, eq));
    for (int i = 0; i < 8; i++)
        assert_int_equal(eq[i], 0);
    mlpot_structure_free(s);
    /* rutile: the 2 Ti are one orbit, the 4 O another */
    s = ts_read(ts_structure_path("TiO2.vasp", path, sizeof path));
    int n = mlpot_structure_n_atoms(s);
    const int *z = mlpot_structure_numbers(s);
    int *e = malloc((size_t)n * sizeof *e);
    TS_OK(mlpot_symmetry_equivalent_atoms(s, 1e-5, e));
    int orbits = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(z[e[i]], z[i]);
        orbits += e[i] == i;
    }
    assert_int_equal(orbits, 2);
    free(e);
    mlpot_structure_free(s);
}

static void test_primitive_and_conventional(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    mlpot_structure *prim = NULL, *conv = NULL;
    TS_OK(mlpot_symmetry_primitive(s, 1e-5, &prim));
    assert_int_equal(mlpot_structure_n_atoms(prim), 2);
    assert_true(fabs(mlpot_structure_volume(prim) - mlpot_structure_volume(s) / 4) < 1e-8);
    TS_OK(mlpot_symmetry_conventional(prim, 1e-5, &conv));
    assert_int_equal(mlpot_structure_n_atoms(conv), 8);
    assert_true(fabs(mlpot_structure_volume(conv) - mlpot_structure_volume(s)) < 1e-8);
    mlpot_spacegroup sg;
    TS_OK(mlpot_symmetry_spacegroup(prim, 1e-5, &sg));
    assert_int_equal(sg.number, 227);
    /* the same crystal: 28 neighbours per atom within 5 Å in every cell */
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, prim, 5.0));
    assert_int_equal(mlpot_graph_n_edges(g), 2 * 28);
    mlpot_graph_free(g);
    mlpot_structure_free(conv);
    mlpot_structure_free(prim);
    mlpot_structure_free(s);
}

static void test_reduced_cells(void **state) {
    (void)state;
    /* a badly chosen basis of a simple lattice: the reduced basis is short again */
    double cell[9] = {3.0, 0, 0, 7.0, 3.1, 0, -5.0, 4.0, 3.2};
    int pbc[3] = {1, 1, 1};
    ts_rng rng;
    ts_rng_seed(&rng, 3);
    const int z[] = {14, 8};
    mlpot_structure *s = ts_random_structure(&rng, 4, z, 2, cell, pbc, 1.0);
    for (int niggli = 0; niggli < 2; niggli++) {
        mlpot_structure *r = NULL;
        TS_OK(niggli ? mlpot_symmetry_niggli(s, 1e-5, &r) : mlpot_symmetry_delaunay(s, 1e-5, &r));
        assert_true(fabs(mlpot_structure_volume(r) - mlpot_structure_volume(s)) < 1e-9);
        const double *rc = mlpot_structure_cell(r);
        double longest = 0;
        for (int k = 0; k < 3; k++)
            longest = fmax(longest, sqrt(rc[3 * k] * rc[3 * k] + rc[3 * k + 1] * rc[3 * k + 1] +
                                         rc[3 * k + 2] * rc[3 * k + 2]));
        assert_true(longest < 4.0); /* the original has vectors of 7.7 and 7.1 Å */
        mlpot_graph *a = NULL, *b = NULL;
        TS_OK(mlpot_graph_create(&a));
        TS_OK(mlpot_graph_create(&b));
        TS_OK(mlpot_graph_build(a, s, 5.0));
        TS_OK(mlpot_graph_build(b, r, 5.0));
        assert_int_equal(mlpot_graph_n_edges(a), mlpot_graph_n_edges(b));
        mlpot_graph_free(a);
        mlpot_graph_free(b);
        mlpot_structure_free(r);
    }
    mlpot_structure_free(s);
}

static void test_non_periodic_refused(void **state) {
    (void)state;
    double pos[6] = {0, 0, 0, 0.74, 0, 0};
    int z[2] = {1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, NULL, NULL));
    mlpot_spacegroup sg;
    assert_int_equal(mlpot_symmetry_spacegroup(s, 1e-5, &sg), MLPOT_ERR_UNSUPPORTED);
    assert_non_null(strstr(mlpot_last_error(), "periodic"));
    mlpot_structure *p = NULL;
    assert_int_equal(mlpot_symmetry_primitive(s, 1e-5, &p), MLPOT_ERR_UNSUPPORTED);
    mlpot_structure_free(s);
}

/* Averaging over the space group projects onto what the symmetry allows: no force on a
 * diamond-Si site (site symmetry -43m) and an isotropic stress in a cubic crystal; in wurtzite
 * (P6_3mc, polar c axis) forces along c only and sigma_xx = sigma_yy, no shear. Idempotent. */
static void test_symmetrize(void **state) {
    (void)state;
    char path[4096];
    const char *names[2] = {"Si.vasp", "ZnO.vasp"};
    ts_rng rng;
    ts_rng_seed(&rng, 12);
    for (int k = 0; k < 2; k++) {
        mlpot_structure *s = ts_read(ts_structure_path(names[k], path, sizeof path));
        int n = mlpot_structure_n_atoms(s);
        double *f = malloc((size_t)n * 3 * sizeof *f), *f2 = malloc((size_t)n * 3 * sizeof *f2);
        double sigma[9], sigma2[9];
        for (int i = 0; i < 3 * n; i++)
            f[i] = ts_normal(&rng);
        for (int a = 0; a < 3; a++)
            for (int b = a; b < 3; b++)
                sigma[3 * a + b] = sigma[3 * b + a] = ts_normal(&rng);
        double trace = sigma[0] + sigma[4] + sigma[8];
        TS_OK(mlpot_symmetrize(s, 1e-5, f, sigma));
        if (k == 0) {
            for (int i = 0; i < 3 * n; i++)
                assert_true(fabs(f[i]) < 1e-12);
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    assert_true(fabs(sigma[3 * a + b] - (a == b ? trace / 3 : 0)) < 1e-12);
        } else {
            double fz = 0;
            for (int i = 0; i < n; i++) {
                assert_true(fabs(f[3 * i]) < 1e-12 && fabs(f[3 * i + 1]) < 1e-12);
                fz += fabs(f[3 * i + 2]);
            }
            assert_true(fz > 1e-3); /* c is polar: forces along it survive */
            assert_true(fabs(sigma[0] - sigma[4]) < 1e-12);
            assert_true(fabs(sigma[1]) < 1e-12 && fabs(sigma[2]) < 1e-12 && fabs(sigma[5]) < 1e-12);
            assert_true(fabs(sigma[0] + sigma[4] + sigma[8] - trace) < 1e-12);
        }
        memcpy(f2, f, (size_t)n * 3 * sizeof *f);
        memcpy(sigma2, sigma, sizeof sigma);
        TS_OK(mlpot_symmetrize(s, 1e-5, f2, sigma2));
        for (int i = 0; i < 3 * n; i++)
            assert_true(fabs(f2[i] - f[i]) < 1e-12);
        for (int i = 0; i < 9; i++)
            assert_true(fabs(sigma2[i] - sigma[i]) < 1e-12);
        free(f);
        free(f2);
        mlpot_structure_free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spacegroups_of_shipped_structures),
        cmocka_unit_test(test_spacegroup_invariance_and_breaking),
        cmocka_unit_test(test_equivalent_atoms),
        cmocka_unit_test(test_primitive_and_conventional),
        cmocka_unit_test(test_reduced_cells),
        cmocka_unit_test(test_non_periodic_refused),
        cmocka_unit_test(test_symmetrize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
