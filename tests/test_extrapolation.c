/* test_extrapolation.c — training ranges and extrapolation warnings (issue 17): a model trained
 * on a tiny two-species dataset stores per-species ranges equal to brute-force recomputations
 * (shortest distance and neighbour counts from every periodic image, readout inputs attained by
 * some atom); its training frames do not extrapolate, a cell compressed to 0.8 does and names
 * the atoms with too-short distances; a shipped potential without ranges never warns. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "io/dataset_file.h"
#include "io/structure.h"
#include "model/calculator.h"
#include "model/extrapolation.h"
#include "model/model.h"
#include "model/model_file.h"
#include "train/trainer.h"

#define N_FRAMES 8
#define CUTOFF 3.5

static const int species[] = {3, 14}; /* Li, Si */

/* frames labelled by a random teacher; frames[k] kept for the checks */
static void make_dataset(const char *path, mlpot_structure **frames) {
    mlpot_model *teacher = ts_random_model("cgcnn", species, 2, CUTOFF, 77);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, teacher));
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    ts_rng rng;
    ts_rng_seed(&rng, 5);
    for (int f = 0; f < N_FRAMES; f++) {
        double a = 4.6 + 0.3 * ts_uniform(&rng);
        double cell[9] = {a, 0, 0, 0.1, a, 0, 0, -0.2, a};
        int pbc[3] = {1, 1, 1};
        mlpot_structure *s = ts_random_structure(&rng, 5 + f % 2, species, 2, cell, pbc, 1.9);
        int n = mlpot_structure_n_atoms(s);
        double forces[18];
        mlpot_results r = {.forces = forces};
        TS_OK(mlpot_calculator_compute(c, s, &r));
        TS_OK(mlpot_structure_set_energy(s, r.energy - 3.0 * n));
        TS_OK(mlpot_structure_set_forces(s, forces));
        TS_OK(dataset_writer_append_frame(w, s, NULL, NULL));
        frames[f] = s;
    }
    TS_OK(dataset_writer_close(w));
    mlpot_calculator_free(c);
    mlpot_model_free(teacher);
}

static mlpot_model *train_tiny(const char *data, const char *name) {
    train_settings s;
    train_settings_defaults(&s);
    char path[4096];
    snprintf(s.train_path, sizeof s.train_path, "%s", data);
    snprintf(s.output, sizeof s.output, "%s", ts_tmp_path(name, path, sizeof path));
    s.valid_fraction = 0;
    s.hp.cutoff = CUTOFF;
    s.hp.n_features = 5;
    s.hp.n_layers = 2;
    s.hp.n_basis = 5;
    s.hp.readout_hidden = 4;
    s.epochs = 3;
    s.batch_size = 4;
    s.seed = 9;
    s.threads = 1;
    TS_OK(train_run(&s, NULL, 0, NULL));
    mlpot_model *m = NULL;
    TS_OK(model_file_read(s.output, &m));
    return m;
}

static int species_of(const mlpot_model *m, int z) {
    return model_species_index(&m->hp, z);
}

/* Brute force over every periodic image: the ranges of distance and neighbour count. */
static void check_geometry_ranges(const mlpot_model *m, mlpot_structure **frames) {
    double dmin[2] = {INFINITY, INFINITY}, nmin[2] = {INFINITY, INFINITY};
    double nmax[2] = {-INFINITY, -INFINITY};
    for (int f = 0; f < N_FRAMES; f++) {
        const mlpot_structure *s = frames[f];
        ts_edge *edges = NULL;
        int64_t n_edges = 0;
        ts_brute_force_edges(s, CUTOFF, &edges, &n_edges);
        for (int i = 0; i < s->n_atoms; i++) {
            int k = species_of(m, s->numbers[i]), count = 0;
            for (int64_t e = 0; e < n_edges; e++)
                if (edges[e].i == i) {
                    count++;
                    dmin[k] = fmin(dmin[k], edges[e].r);
                }
            nmin[k] = fmin(nmin[k], count);
            nmax[k] = fmax(nmax[k], count);
        }
        free(edges);
    }
    for (int k = 0; k < 2; k++) {
        print_message("species %d: shortest %.4f Å, %g..%g neighbours\n", m->hp.species[k],
                      m->ranges->min_distance[k], m->ranges->neighbors_min[k],
                      m->ranges->neighbors_max[k]);
        assert_close(m->ranges->min_distance[k], dmin[k], 1e-12);
        assert_close(m->ranges->neighbors_min[k], nmin[k], 0);
        assert_close(m->ranges->neighbors_max[k], nmax[k], 0);
    }
}

/* Every stored readout-input bound is attained by some atom of the training frames, and no
 * atom lies outside: the stored values are the exact min and max of h_L per species. */
static void check_readout_ranges(const mlpot_model *m, mlpot_structure **frames) {
    int S = m->hp.n_species, F = m->hp.n_features, L = m->hp.n_layers;
    int *hit = calloc((size_t)(2 * S * F), sizeof *hit);
    assert_non_null(hit);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    for (int f = 0; f < N_FRAMES; f++) {
        mlpot_results r = {0};
        TS_OK(mlpot_calculator_compute(c, frames[f], &r));
        int N = frames[f]->n_atoms;
        for (int i = 0; i < N; i++) {
            int k = species_of(m, frames[f]->numbers[i]);
            for (int x = 0; x < F; x++) {
                double h = c->h[((size_t)L * N + i) * F + x];
                double lo = m->ranges->readout_min[k * F + x], hi = m->ranges->readout_max[k * F + x];
                assert_true(lo <= h && h <= hi);
                hit[2 * (k * F + x)] |= h == lo;
                hit[2 * (k * F + x) + 1] |= h == hi;
            }
        }
        int count = -1; /* a training frame does not extrapolate */
        TS_OK(mlpot_calculator_extrapolation(c, NULL, 0, &count));
        assert_int_equal(count, 0);
    }
    for (int k = 0; k < 2 * S * F; k++)
        assert_true(hit[k]);
    mlpot_calculator_free(c);
    free(hit);
}

/* Positions and cell scaled by 0.8: the atoms with a neighbour closer than the species'
 * shortest training distance are reported (each atom at most once, worst first). */
static void check_compressed(const mlpot_model *m, const mlpot_structure *s0) {
    mlpot_structure *s = NULL;
    int N = s0->n_atoms;
    double pos[3 * 6], cell[9];
    for (int x = 0; x < 3 * N; x++)
        pos[x] = 0.8 * s0->positions[x];
    for (int x = 0; x < 9; x++)
        cell[x] = 0.8 * s0->cell[x];
    TS_OK(mlpot_structure_create(&s, N, s0->numbers, pos, cell, s0->pbc));
    ts_edge *edges = NULL;
    int64_t n_edges = 0;
    ts_brute_force_edges(s, CUTOFF, &edges, &n_edges);
    int too_short[6] = {0}, n_short = 0;
    for (int i = 0; i < N; i++) {
        int k = species_of(m, s->numbers[i]);
        for (int64_t e = 0; e < n_edges; e++)
            if (edges[e].i == i && edges[e].r < m->ranges->min_distance[k] * (1 - 1e-5))
                too_short[i] = 1;
        n_short += too_short[i];
    }
    free(edges);
    assert_true(n_short > 0);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    mlpot_results r = {0};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    mlpot_extrapolation found[6];
    int count = 0;
    TS_OK(mlpot_calculator_extrapolation(c, found, 6, &count));
    assert_true(count >= n_short && count <= N);
    int seen[6] = {0};
    for (int k = 0; k < count; k++) {
        assert_false(seen[found[k].atom]);
        seen[found[k].atom] = 1;
        assert_true(found[k].excess > 0);
        if (k > 0)
            assert_true(found[k].excess <= found[k - 1].excess);
        if (found[k].quantity == MLPOT_RANGE_DISTANCE) {
            assert_true(too_short[found[k].atom]);
            assert_close(found[k].excess, (found[k].low - found[k].value) /
                                              (CUTOFF - found[k].low), 1e-12);
        }
    }
    for (int i = 0; i < N; i++)
        if (too_short[i])
            assert_true(seen[i]);
    char text[1024];
    TS_OK(mlpot_calculator_extrapolation_message(c, text, sizeof text, &count));
    print_message("%s\n", text);
    assert_non_null(strstr(text, "extrapolating"));
    char name[16];
    snprintf(name, sizeof name, "%d", found[0].atom + 1);
    assert_non_null(strstr(text, name));
    /* fewer slots than atoms: the worst ones, the same count */
    mlpot_extrapolation one;
    int count1 = 0;
    TS_OK(mlpot_calculator_extrapolation(c, &one, 1, &count1));
    assert_int_equal(count1, count);
    assert_int_equal(one.atom, found[0].atom);
    mlpot_calculator_free(c);
    mlpot_structure_free(s);
}

static void test_ranges(void **state) {
    (void)state;
    char data[4096];
    mlpot_structure *frames[N_FRAMES];
    make_dataset(ts_tmp_path("extrap_data.h5", data, sizeof data), frames);
    mlpot_model *m = train_tiny(data, "extrap_model.h5");
    assert_true(mlpot_model_has_ranges(m));
    assert_int_equal(m->ranges->n_species, 2);
    check_geometry_ranges(m, frames);
    check_readout_ranges(m, frames);
    check_compressed(m, frames[0]);
    /* written and read again: the same ranges */
    char again[4096];
    TS_OK(model_file_write(m, ts_tmp_path("extrap_again.h5", again, sizeof again)));
    mlpot_model *m2 = NULL;
    TS_OK(model_file_read(again, &m2));
    assert_true(mlpot_model_has_ranges(m2));
    size_t n = 3 * 2 + 2 * 2 * (size_t)m->hp.n_features;
    assert_memory_equal(m2->ranges->min_distance, m->ranges->min_distance, n * sizeof(double));
    mlpot_model_free(m2);
    for (int f = 0; f < N_FRAMES; f++)
        mlpot_structure_free(frames[f]);
    mlpot_model_free(m);
}

/* A model file without ranges (the shipped potentials predate them): no warning, no error. */
static void test_old_model(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/potentials/previous/Si-mlearn-cgcnn.h5", MLPOT_SOURCE_DIR);
    mlpot_model *m = NULL;
    TS_OK(mlpot_model_load(&m, path));
    assert_false(mlpot_model_has_ranges(m));
    mlpot_structure *s = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    for (int x = 0; x < 3 * s->n_atoms; x++)
        s->positions[x] *= 0.7;
    for (int x = 0; x < 9; x++)
        s->cell[x] *= 0.7;
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    int count = -1;
    TS_OK(mlpot_calculator_extrapolation(c, NULL, 0, &count)); /* nothing evaluated yet */
    assert_int_equal(count, 0);
    mlpot_results r = {0};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    char text[256] = "x";
    TS_OK(mlpot_calculator_extrapolation_message(c, text, sizeof text, &count));
    assert_int_equal(count, 0);
    assert_string_equal(text, "");
    mlpot_calculator_free(c);
    mlpot_structure_free(s);
    mlpot_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_old_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
