/* test_triplets.c — the triplet list of model.md §8 against a brute-force enumeration over all
 * periodic images: counts, membership (every ordered pair of distinct short edges of an atom, no
 * other, none twice) and flat indices, on diamond Si, random triclinic cells, a tiny triclinic
 * cell shorter than r_3 (j = k triplets), a slab and a molecule; buffers reused on rebuilds. */
#include <stdlib.h>
#include <string.h>

#include "graph/triplets.h"
#include "test_support.h"

static const int two_species[] = {8, 14};

typedef struct {
    int i, j, k;
    int na[3], nb[3];
} triplet_key;

static int compare_keys(const void *x, const void *y) {
    return memcmp(x, y, sizeof(triplet_key));
}

/* Every triplet of s at r_3 from the brute-force edge list (model.md §8 read literally). */
static triplet_key *brute_force_triplets(const mlpot_structure *s, double cutoff3, int64_t *n_out) {
    ts_edge *e = NULL;
    int64_t ne = 0;
    ts_brute_force_edges(s, cutoff3, &e, &ne);
    int64_t cap = 16, n = 0;
    triplet_key *out = malloc((size_t)cap * sizeof *out);
    assert_non_null(out);
    for (int64_t a = 0; a < ne; a++)
        for (int64_t b = 0; b < ne; b++) {
            if (a == b || e[a].i != e[b].i) continue;
            if (n == cap) {
                cap *= 2;
                out = realloc(out, (size_t)cap * sizeof *out);
                assert_non_null(out);
            }
            triplet_key key;
            memset(&key, 0, sizeof key);
            key.i = e[a].i;
            key.j = e[a].j;
            key.k = e[b].j;
            memcpy(key.na, e[a].n, sizeof key.na);
            memcpy(key.nb, e[b].n, sizeof key.nb);
            out[n++] = key;
        }
    free(e);
    *n_out = n;
    return out;
}

/* Builds the list, checks it against the brute force and returns the number of j = k triplets. */
static int64_t check_triplets(const mlpot_structure *s, double cutoff, double cutoff3) {
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, cutoff));
    triplet_list t = {0};
    TS_OK(triplet_list_build(&t, g, cutoff3));
    int64_t n_ref = 0;
    triplet_key *ref = brute_force_triplets(s, cutoff3, &n_ref);
    assert_int_equal(t.n_triplets, n_ref);
    assert_int_equal(t.n_atoms, g->n_atoms);

    /* slots: exactly the edges with r < r_3, in row order, and slot_of_edge inverts short_edge */
    int64_t n_short = 0;
    for (int64_t e = 0; e < g->n_edges; e++) {
        if (g->distance[e] < cutoff3) {
            assert_int_equal(t.slot_of_edge[e], n_short);
            assert_int_equal(t.short_edge[n_short], e);
            n_short++;
        } else {
            assert_int_equal(t.slot_of_edge[e], -1);
        }
    }
    assert_int_equal(t.n_short, n_short);

    triplet_key *got = calloc((size_t)(n_ref ? n_ref : 1), sizeof *got);
    assert_non_null(got);
    int64_t count = 0, same_atom = 0;
    int max_short = 0;
    for (int i = 0; i < t.n_atoms; i++) {
        int64_t first = t.short_start[i], m = t.short_start[i + 1] - first;
        max_short = m > max_short ? (int)m : max_short;
        for (int64_t pa = 0; pa < m; pa++)
            for (int64_t pb = 0; pb < m; pb++) {
                if (pa == pb) continue;
                assert_int_equal(triplet_index(&t, i, pa, pb), count); /* a, then b order */
                int64_t a = t.short_edge[first + pa], b = t.short_edge[first + pb];
                assert_true(a >= g->row_start[i] && a < g->row_start[i + 1]);
                assert_true(b >= g->row_start[i] && b < g->row_start[i + 1]);
                assert_true(count < n_ref);
                triplet_key *key = &got[count++];
                key->i = i;
                key->j = g->neighbor[a];
                key->k = g->neighbor[b];
                memcpy(key->na, &g->image[3 * a], sizeof key->na);
                memcpy(key->nb, &g->image[3 * b], sizeof key->nb);
                same_atom += key->j == key->k;
            }
    }
    assert_int_equal(count, n_ref);
    assert_int_equal(t.max_short, max_short);
    qsort(ref, (size_t)n_ref, sizeof *ref, compare_keys);
    qsort(got, (size_t)n_ref, sizeof *got, compare_keys);
    for (int64_t k = 0; k < n_ref; k++) {
        assert_memory_equal(&ref[k], &got[k], sizeof *ref);
        if (k > 0) /* no triplet twice */
            assert_true(compare_keys(&got[k - 1], &got[k]) < 0);
    }
    free(ref);
    free(got);
    triplet_list_free(&t);
    mlpot_graph_free(g);
    return same_atom;
}

static void test_diamond_si(void **state) {
    (void)state;
    char buf[4096];
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", buf, sizeof buf));
    /* r_3 = 4: 4 first (2.35 Å) and 12 second (3.84 Å) neighbours, 16 * 15 triplets per atom */
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 5.0));
    triplet_list t = {0};
    TS_OK(triplet_list_build(&t, g, 4.0));
    assert_int_equal(t.n_short, 8 * 16);
    assert_int_equal(t.n_triplets, 8 * 16 * 15);
    assert_int_equal(t.max_short, 16);
    TS_OK(triplet_list_build(&t, g, 3.0)); /* first neighbours only: 4 * 3 per atom */
    assert_int_equal(t.n_triplets, 8 * 12);
    triplet_list_free(&t);
    mlpot_graph_free(g);
    check_triplets(s, 5.0, 4.0);
    check_triplets(s, 5.0, 5.0); /* r_3 = r_c */
    mlpot_structure_free(s);
}

static void test_random_triclinic(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 31);
    const int pbc[3] = {1, 1, 1};
    const double cells[3][9] = {{5.1, 0, 0, -1.9, 4.4, 0, 0.8, 1.1, 4.0},
                                {6.0, 0.3, 0, 1.2, 5.5, 0, -0.7, 0.9, 6.2},
                                {4.3, 0, 0, 0.7, 4.1, 0, -0.4, 0.5, 3.9}};
    for (int c = 0; c < 3; c++) {
        mlpot_structure *s =
            ts_random_structure(&rng, 6 + 2 * c, two_species, 2, cells[c], pbc, 1.4);
        check_triplets(s, 5.0, 3.5);
        check_triplets(s, 4.0, 4.0);
        mlpot_structure_free(s);
    }
}

/* One atom in a 2.1-2.4 Å triclinic cell: every neighbour is an image of the atom itself, so all
 * triplets have j = k (with different images). */
static void test_tiny_cell_shorter_than_r3(void **state) {
    (void)state;
    const int z[] = {14, 8};
    const double pos[] = {0.1, 0.2, 0.3, 1.3, 1.1, 1.2};
    const double cell[9] = {2.2, 0, 0, 0.4, 2.3, 0, -0.3, 0.2, 2.4};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 1, z, pos, cell, pbc));
    int64_t same = check_triplets(s, 4.5, 3.2);
    assert_true(same > 0);
    mlpot_structure_free(s);
    TS_OK(mlpot_structure_create(&s, 2, z, pos, cell, pbc));
    same = check_triplets(s, 4.0, 3.0);
    assert_true(same > 0);
    mlpot_structure_free(s);
}

static void test_slab_and_molecule(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 5);
    const int slab_pbc[3] = {1, 1, 0};
    const double slab_cell[9] = {4.6, 0, 0, 0.5, 4.4, 0, 0, 0, 5.0};
    mlpot_structure *s = ts_random_structure(&rng, 6, two_species, 2, slab_cell, slab_pbc, 1.4);
    check_triplets(s, 4.5, 3.0);
    mlpot_structure_free(s);
    const int none[3] = {0, 0, 0};
    const double box[9] = {4.0, 0, 0, 0, 4.0, 0, 0, 0, 4.0};
    s = ts_random_structure(&rng, 7, two_species, 2, box, none, 1.3);
    check_triplets(s, 4.0, 3.0);
    mlpot_structure_free(s);
    /* one isolated atom: no short edges, no triplets */
    const int z[] = {14};
    const double p0[] = {0, 0, 0};
    TS_OK(mlpot_structure_create(&s, 1, z, p0, NULL, NULL));
    assert_int_equal(check_triplets(s, 4.0, 3.0), 0);
    mlpot_structure_free(s);
}

/* MD-style rebuilds on a rattled structure of the same size keep every buffer: no allocation. */
static void test_reuse_without_reallocation(void **state) {
    (void)state;
    char buf[4096];
    mlpot_structure *unit = ts_read(ts_structure_path("Si.vasp", buf, sizeof buf));
    mlpot_structure *s = ts_supercell(unit, 3, 3, 3);
    int n = mlpot_structure_n_atoms(s);
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 5.0));
    triplet_list t = {0};
    TS_OK(triplet_list_build(&t, g, 4.0));
    assert_int_equal(t.n_triplets, (int64_t)n * 240);
    triplet_list before = t;
    double *pos = malloc((size_t)n * 3 * sizeof *pos);
    assert_non_null(pos);
    ts_rng rng;
    ts_rng_seed(&rng, 77);
    for (int step = 0; step < 5; step++) {
        const double *p0 = mlpot_structure_positions(s);
        for (int k = 0; k < 3 * n; k++)
            pos[k] = p0[k] + 0.01 * ts_normal(&rng); /* no second neighbour crosses 4 Å */
        TS_OK(mlpot_structure_set_positions(s, pos));
        TS_OK(mlpot_graph_build(g, s, 5.0));
        TS_OK(triplet_list_build(&t, g, 4.0));
        assert_int_equal(t.n_triplets, (int64_t)n * 240);
        assert_ptr_equal(t.short_start, before.short_start);
        assert_ptr_equal(t.short_edge, before.short_edge);
        assert_ptr_equal(t.slot_of_edge, before.slot_of_edge);
        assert_ptr_equal(t.triplet_start, before.triplet_start);
        assert_int_equal(t.cap_short_edge, before.cap_short_edge);
        assert_int_equal(t.cap_slot_of_edge, before.cap_slot_of_edge);
    }
    /* a smaller structure afterwards reuses the same buffers too */
    TS_OK(mlpot_graph_build(g, unit, 5.0));
    TS_OK(triplet_list_build(&t, g, 4.0));
    assert_int_equal(t.n_triplets, 8 * 240);
    assert_ptr_equal(t.short_edge, before.short_edge);
    assert_ptr_equal(t.slot_of_edge, before.slot_of_edge);
    assert_true(triplet_list_bytes(&t) > 0);
    free(pos);
    triplet_list_free(&t);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
    mlpot_structure_free(unit);
}

static void test_errors(void **state) {
    (void)state;
    const int z[] = {14};
    const double p0[] = {0, 0, 0};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 1, z, p0, NULL, NULL));
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 4.0));
    triplet_list t = {0};
    assert_int_equal(triplet_list_build(&t, g, 4.5), MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "three-body cutoff"));
    assert_int_equal(triplet_list_build(&t, g, 0.0), MLPOT_ERR_INVALID_ARGUMENT);
    assert_int_equal(triplet_list_build(&t, g, NAN), MLPOT_ERR_INVALID_ARGUMENT);
    triplet_list_free(&t);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diamond_si),
        cmocka_unit_test(test_random_triclinic),
        cmocka_unit_test(test_tiny_cell_shorter_than_r3),
        cmocka_unit_test(test_slab_and_molecule),
        cmocka_unit_test(test_reuse_without_reallocation),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
