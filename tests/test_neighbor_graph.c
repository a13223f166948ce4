/* test_neighbor_graph.c — the cell-list neighbour graph against a brute-force enumeration of
 * all images (edge sets, image vectors and distances identical) on shipped crystals, random
 * triclinic cells, skewed and tiny cells, atoms far outside the cell and partly periodic
 * structures; plus reverse edges, supercells, thread independence and error cases. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const int si[] = {14};
static const int two_species[] = {8, 14};

/* Asserts that graph g of s equals the brute-force reference, edge for edge (both are in
 * (i, j, n) order), with vectors and distances equal to round-off. */
static void check_against_brute_force(const mlpot_structure *s, double cutoff) {
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, cutoff));
    ts_edge *ref = NULL;
    int64_t n_ref = 0;
    ts_brute_force_edges(s, cutoff, &ref, &n_ref);
    int n = mlpot_structure_n_atoms(s);
    assert_int_equal(mlpot_graph_n_atoms(g), n);
    assert_int_equal(mlpot_graph_n_edges(g), n_ref);
    const int64_t *row = mlpot_graph_row_start(g);
    const int *nb = mlpot_graph_neighbors(g);
    const int *img = mlpot_graph_images(g);
    const double *vec = mlpot_graph_vectors(g);
    const double *dist = mlpot_graph_distances(g);
    int64_t e = 0;
    for (int i = 0; i < n; i++) {
        for (int64_t k = row[i]; k < row[i + 1]; k++, e++) {
            assert_int_equal(ref[e].i, i);
            assert_int_equal(ref[e].j, nb[k]);
            for (int x = 0; x < 3; x++) {
                assert_int_equal(ref[e].n[x], img[3 * k + x]);
                assert_true(fabs(ref[e].d[x] - vec[3 * k + x]) <= 1e-12 * (1 + fabs(ref[e].d[x])));
            }
            assert_true(fabs(ref[e].r - dist[k]) <= 1e-12 * ref[e].r);
            assert_true(dist[k] > 0 && dist[k] < cutoff);
        }
    }
    assert_int_equal(e, n_ref);
    free(ref);
    mlpot_graph_free(g);
}

static void check_reverse_edges(const mlpot_structure *s, double cutoff) {
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, cutoff));
    const int64_t *row = mlpot_graph_row_start(g);
    const int *nb = mlpot_graph_neighbors(g);
    const int *img = mlpot_graph_images(g);
    const double *vec = mlpot_graph_vectors(g);
    const double *dist = mlpot_graph_distances(g);
    const int64_t *rev = mlpot_graph_reverse(g);
    for (int i = 0; i < mlpot_graph_n_atoms(g); i++)
        for (int64_t e = row[i]; e < row[i + 1]; e++) {
            int64_t r = rev[e];
            int j = nb[e];
            assert_true(r >= row[j] && r < row[j + 1]);
            assert_int_equal(nb[r], i);
            assert_int_equal(rev[r], e);
            for (int x = 0; x < 3; x++) {
                assert_int_equal(img[3 * r + x], -img[3 * e + x]);
                assert_true(vec[3 * r + x] == -vec[3 * e + x]); /* exact, see model.md §6 */
            }
            assert_true(dist[r] == dist[e]);
        }
    mlpot_graph_free(g);
}

static void test_shipped_structures(void **state) {
    (void)state;
    const char *names[] = {"Si.vasp",   "Mo.vasp",        "Li.vasp",    "Cu.vasp",
                           "NaCl.vasp", "ZnO.vasp",       "TiO2.vasp",  "triclinic.vasp",
                           "Si_slab.vasp", "H2O_box.vasp"};
    char path[4096];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        mlpot_structure *s = ts_read(ts_structure_path(names[k], path, sizeof path));
        check_against_brute_force(s, 5.0);
        check_against_brute_force(s, 3.1);
        check_reverse_edges(s, 5.0);
        mlpot_structure_free(s);
    }
}

/* Known neighbour shells: diamond Si has 4 + 12 + 12 neighbours within 5 Å. */
static void test_known_coordination(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 2.5));
    assert_int_equal(mlpot_graph_n_edges(g), 8 * 4);
    const double *dist = mlpot_graph_distances(g);
    for (int64_t e = 0; e < mlpot_graph_n_edges(g); e++)
        assert_true(fabs(dist[e] - 5.431 * sqrt(3.0) / 4.0) < 1e-9);
    TS_OK(mlpot_graph_build(g, s, 5.0));
    assert_int_equal(mlpot_graph_n_edges(g), 8 * 28);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
}

static void random_cell(ts_rng *rng, double scale, double skew, double cell[9]) {
    for (int k = 0; k < 3; k++)
        for (int x = 0; x < 3; x++)
            cell[3 * k + x] = (k == x ? scale : 0.0) + skew * scale * (ts_uniform(rng) - 0.5);
}

static void test_random_triclinic(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 42);
    int pbc[3] = {1, 1, 1};
    for (int trial = 0; trial < 12; trial++) {
        double cell[9];
        random_cell(&rng, 6.0 + 4.0 * ts_uniform(&rng), 0.8, cell);
        mlpot_structure *s = ts_random_structure(&rng, 6 + trial, two_species, 2, cell, pbc, 0.8);
        check_against_brute_force(s, 4.0 + ts_uniform(&rng) * 2.0);
        check_reverse_edges(s, 5.0);
        mlpot_structure_free(s);
    }
}

static void test_skewed_and_tiny_cells(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 7);
    int pbc[3] = {1, 1, 1};
    /* very skewed: b and c lean far over a (the Delaunay reduction must undo it) */
    double skewed[9] = {4.0, 0, 0, 17.0, 3.0, 0, -9.0, 5.0, 2.5};
    mlpot_structure *s = ts_random_structure(&rng, 5, si, 1, skewed, pbc, 0.9);
    check_against_brute_force(s, 5.0);
    check_reverse_edges(s, 5.0);
    mlpot_structure_free(s);
    /* one atom in a cell much smaller than the cutoff: every neighbour is an image of itself */
    double tiny[9] = {1.9, 0, 0, 0.3, 2.1, 0, 0.2, -0.4, 1.7};
    double origin[3] = {0.1, 0.2, 0.3};
    int z = 14;
    TS_OK(mlpot_structure_create(&s, 1, &z, origin, tiny, pbc));
    check_against_brute_force(s, 5.0);
    check_reverse_edges(s, 5.0);
    mlpot_structure_free(s);
    /* a flat cell: one direction shorter than r_c/3 */
    double flat[9] = {6.0, 0, 0, 1.0, 5.5, 0, 0.3, 0.2, 1.4};
    s = ts_random_structure(&rng, 4, two_species, 2, flat, pbc, 0.9);
    check_against_brute_force(s, 5.0);
    mlpot_structure_free(s);
}

/* Atoms given far outside the cell keep their positions; vectors come from them as given. */
static void test_atoms_outside_cell(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 11);
    int pbc[3] = {1, 1, 1};
    double cell[9];
    random_cell(&rng, 7.0, 0.5, cell);
    mlpot_structure *s = ts_random_structure(&rng, 8, two_species, 2, cell, pbc, 0.9);
    double *pos = malloc(8 * 3 * sizeof *pos);
    memcpy(pos, mlpot_structure_positions(s), 8 * 3 * sizeof *pos);
    for (int i = 0; i < 8; i++) {
        int shift[3] = {(i % 3) - 1 + 3 * (i % 2), -2 * (i % 4), 5 - i};
        for (int x = 0; x < 3; x++)
            pos[3 * i + x] += shift[0] * cell[x] + shift[1] * cell[3 + x] + shift[2] * cell[6 + x];
    }
    mlpot_structure *moved = NULL;
    TS_OK(mlpot_structure_create(&moved, 8, mlpot_structure_numbers(s), pos, cell, pbc));
    check_against_brute_force(moved, 5.0);
    check_reverse_edges(moved, 5.0);
    /* same edge count and distances as the wrapped structure */
    mlpot_graph *a = NULL, *b = NULL;
    TS_OK(mlpot_graph_create(&a));
    TS_OK(mlpot_graph_create(&b));
    TS_OK(mlpot_graph_build(a, s, 5.0));
    TS_OK(mlpot_graph_build(b, moved, 5.0));
    assert_int_equal(mlpot_graph_n_edges(a), mlpot_graph_n_edges(b));
    mlpot_graph_free(a);
    mlpot_graph_free(b);
    free(pos);
    mlpot_structure_free(moved);
    mlpot_structure_free(s);
}

static void test_partly_periodic(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 5);
    double cell[9] = {5.0, 0, 0, 1.2, 4.6, 0, 0.4, 0.3, 12.0};
    int pbcs[4][3] = {{1, 1, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 0}};
    for (int k = 0; k < 4; k++) {
        mlpot_structure *s = ts_random_structure(&rng, 10, two_species, 2, cell, pbcs[k], 0.9);
        check_against_brute_force(s, 5.0);
        check_reverse_edges(s, 5.0);
        mlpot_structure_free(s);
    }
    /* a slab and a molecule with zero cell vectors along the open directions */
    double slab_cell[9] = {3.9, 0, 0, 0, 3.9, 0, 0, 0, 0};
    int slab_pbc[3] = {1, 1, 0};
    mlpot_structure *s = ts_random_structure(&rng, 6, si, 1, (double[9]){3.9, 0, 0, 0, 3.9, 0, 0,
                                                                          0, 8.0},
                                             slab_pbc, 1.0);
    mlpot_structure *slab = NULL;
    TS_OK(mlpot_structure_create(&slab, 6, mlpot_structure_numbers(s), mlpot_structure_positions(s),
                                 slab_cell, slab_pbc));
    check_against_brute_force(slab, 5.0);
    mlpot_structure_free(slab);
    mlpot_structure_free(s);
    double zero[9] = {0};
    int none[3] = {0, 0, 0};
    s = ts_random_structure(&rng, 12, two_species, 2, (double[9]){6, 0, 0, 0, 6, 0, 0, 0, 6}, none,
                            1.0);
    mlpot_structure *molecule = NULL;
    TS_OK(mlpot_structure_create(&molecule, 12, mlpot_structure_numbers(s),
                                 mlpot_structure_positions(s), zero, none));
    check_against_brute_force(molecule, 4.0);
    check_reverse_edges(molecule, 4.0);
    mlpot_structure_free(molecule);
    mlpot_structure_free(s);
}

/* Two atoms 1000 Å apart in an open box: no edges, and no bins for all that empty space. */
static void test_sparse_molecule(void **state) {
    (void)state;
    double pos[6] = {0, 0, 0, 1000, -800, 3000};
    int z[2] = {1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, NULL, NULL));
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 5.0));
    assert_int_equal(mlpot_graph_n_edges(g), 0);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
}

static void test_supercell_has_8x_edges(void **state) {
    (void)state;
    const char *names[] = {"Si.vasp", "Mo.vasp", "ZnO.vasp", "triclinic.vasp"};
    char path[4096];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        mlpot_structure *s = ts_read(ts_structure_path(names[k], path, sizeof path));
        mlpot_structure *big = ts_supercell(s, 2, 2, 2);
        mlpot_graph *g = NULL, *G = NULL;
        TS_OK(mlpot_graph_create(&g));
        TS_OK(mlpot_graph_create(&G));
        TS_OK(mlpot_graph_build(g, s, 5.0));
        TS_OK(mlpot_graph_build(G, big, 5.0));
        assert_int_equal(8 * mlpot_graph_n_edges(g), mlpot_graph_n_edges(G));
        /* every copy of atom i has the same sorted distances as atom i */
        int n = mlpot_structure_n_atoms(s);
        const int64_t *row = mlpot_graph_row_start(g), *ROW = mlpot_graph_row_start(G);
        for (int copy = 0; copy < 8; copy++)
            for (int i = 0; i < n; i++)
                assert_int_equal(row[i + 1] - row[i], ROW[copy * n + i + 1] - ROW[copy * n + i]);
        check_against_brute_force(big, 5.0);
        mlpot_graph_free(g);
        mlpot_graph_free(G);
        mlpot_structure_free(big);
        mlpot_structure_free(s);
    }
}

static void test_thread_count_independent(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 99);
    int pbc[3] = {1, 1, 1};
    double cell[9];
    random_cell(&rng, 14.0, 0.3, cell);
    mlpot_structure *s = ts_random_structure(&rng, 200, two_species, 2, cell, pbc, 1.2);
    mlpot_graph *g1 = NULL, *g2 = NULL;
    TS_OK(mlpot_graph_create(&g1));
    TS_OK(mlpot_graph_create(&g2));
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    TS_OK(mlpot_graph_build(g1, s, 5.0));
    omp_set_num_threads(2);
    TS_OK(mlpot_graph_build(g2, s, 5.0));
    omp_set_num_threads(saved);
    int64_t ne = mlpot_graph_n_edges(g1);
    assert_int_equal(ne, mlpot_graph_n_edges(g2));
    assert_memory_equal(mlpot_graph_neighbors(g1), mlpot_graph_neighbors(g2), ne * sizeof(int));
    assert_memory_equal(mlpot_graph_images(g1), mlpot_graph_images(g2), ne * 3 * sizeof(int));
    assert_memory_equal(mlpot_graph_vectors(g1), mlpot_graph_vectors(g2), ne * 3 * sizeof(double));
    assert_memory_equal(mlpot_graph_reverse(g1), mlpot_graph_reverse(g2), ne * sizeof(int64_t));
    mlpot_graph_free(g1);
    mlpot_graph_free(g2);
    mlpot_structure_free(s);
}

/* One graph object rebuilt for structures of different sizes (as MD and training do). */
static void test_rebuild_reuses_graph(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *a = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    mlpot_structure *b = ts_supercell(a, 3, 2, 2);
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, b, 5.0));
    assert_int_equal(mlpot_graph_n_edges(g), 12 * 224);
    TS_OK(mlpot_graph_build(g, a, 5.0));
    assert_int_equal(mlpot_graph_n_edges(g), 224);
    TS_OK(mlpot_graph_build(g, b, 4.0));
    check_against_brute_force(b, 4.0);
    mlpot_graph_free(g);
    mlpot_structure_free(b);
    mlpot_structure_free(a);
}

static void test_errors(void **state) {
    (void)state;
    int z[2] = {14, 14};
    double cell[9] = {5, 0, 0, 0, 5, 0, 0, 0, 5};
    int pbc[3] = {1, 1, 1};
    /* atom 2 sits on a periodic image of atom 1 */
    double pos[6] = {0.5, 0.5, 0.5, 5.5, 0.5, -4.5};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, cell, pbc));
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    assert_int_equal(mlpot_graph_build(g, s, 5.0), MLPOT_ERR_INVALID_STRUCTURE);
    assert_non_null(strstr(mlpot_last_error(), "atoms 1 and 2"));
    assert_int_equal(mlpot_graph_n_edges(g), 0);
    assert_int_equal(mlpot_graph_build(g, s, -1.0), MLPOT_ERR_INVALID_ARGUMENT);
    assert_int_equal(mlpot_graph_build(g, s, NAN), MLPOT_ERR_INVALID_ARGUMENT);
    mlpot_structure_free(s);
    /* a cell 1e-4 Å thin needs absurdly many images: an error, not a hang */
    double thin[9] = {5, 0, 0, 0, 5, 0, 0, 0, 1e-4};
    TS_OK(mlpot_structure_create(&s, 1, z, pos, thin, pbc));
    assert_int_equal(mlpot_graph_build(g, s, 5.0), MLPOT_ERR_INVALID_STRUCTURE);
    assert_non_null(strstr(mlpot_last_error(), "too thin"));
    mlpot_structure_free(s);
    /* a singular periodic cell is refused when the structure is made */
    double singular[9] = {5, 0, 0, 10, 0, 0, 0, 0, 5};
    assert_int_equal(mlpot_structure_create(&s, 1, z, pos, singular, pbc),
                     MLPOT_ERR_INVALID_STRUCTURE);
    /* an open structure spanning 1e200 Å (issue 16: SIGFPE in the binning) or 1e20 Å, where a
     * double cannot resolve neighbours: a clear error, for any cutoff */
    double far_spans[2] = {1e200, 1e20};
    for (int k = 0; k < 2; k++) {
        double far[6] = {0, 0, 0, far_spans[k], far_spans[k], far_spans[k]};
        TS_OK(mlpot_structure_create(&s, 2, z, far, NULL, NULL));
        assert_int_equal(mlpot_graph_build(g, s, 5.0), MLPOT_ERR_INVALID_STRUCTURE);
        assert_non_null(strstr(mlpot_last_error(), "neighbour search can resolve"));
        assert_int_equal(mlpot_graph_build(g, s, 1e-3), MLPOT_ERR_INVALID_STRUCTURE);
        mlpot_structure_free(s);
    }
    mlpot_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_structures),
        cmocka_unit_test(test_known_coordination),
        cmocka_unit_test(test_random_triclinic),
        cmocka_unit_test(test_skewed_and_tiny_cells),
        cmocka_unit_test(test_atoms_outside_cell),
        cmocka_unit_test(test_partly_periodic),
        cmocka_unit_test(test_sparse_molecule),
        cmocka_unit_test(test_supercell_has_8x_edges),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_rebuild_reuses_graph),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
