/* test_extxyz.c — the extended XYZ reader and writer (ASE flavour): multi-frame files, comment
 * syntax (quotes, escapes, flags), Lattice/pbc, energy, stress (9 or 6 numbers), virial, extra
 * Properties columns, Z, NaN forces, bit-exact round trips and the first frames of mlearn Si. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/structure.h" /* extra per-atom columns have no public accessor */


/* Identical bits, or both NaN. */
static int same_double(double a, double b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void assert_same_doubles(const double *a, const double *b, size_t n, const char *what) {
    for (size_t k = 0; k < n; k++)
        if (!same_double(a[k], b[k]))
            fail_msg("%s[%zu]: %.17g != %.17g", what, k, a[k], b[k]);
}

static mlpot_structure **read_frames(const char *path, int *n) {
    mlpot_structure **frames = NULL;
    TS_OK(mlpot_read_all(path, NULL, &frames, n));
    return frames;
}

static mlpot_structure **read_data(const char *name, int *n) {
    char rel[512], path[4096];
    snprintf(rel, sizeof rel, "extxyz/%s", name);
    return read_frames(ts_data_path(rel, path, sizeof path), n);
}

static void free_frames(mlpot_structure **frames, int n) {
    for (int k = 0; k < n; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
}

static void assert_info(const mlpot_structure *s, const char *key, const char *value) {
    const char *v = mlpot_structure_info(s, key);
    if (!v)
        fail_msg("info key '%s' is missing", key);
    if (strcmp(v, value))
        fail_msg("info '%s' = '%s', expected '%s'", key, v, value);
}

static const structure_column *find_column(const mlpot_structure *s, const char *name) {
    for (int c = 0; c < s->n_columns; c++)
        if (!strcmp(s->columns[c].name, name))
            return &s->columns[c];
    return NULL;
}

/* Everything a frame carries is the same, numbers bit for bit. */
static void assert_same_structure(const mlpot_structure *a, const mlpot_structure *b) {
    int n = a->n_atoms;
    assert_int_equal(b->n_atoms, n);
    assert_memory_equal(a->numbers, b->numbers, (size_t)n * sizeof(int));
    assert_same_doubles(a->positions, b->positions, (size_t)n * 3, "positions");
    assert_same_doubles(a->cell, b->cell, 9, "cell");
    assert_memory_equal(a->pbc, b->pbc, sizeof a->pbc);
    assert_int_equal(a->has_energy, b->has_energy);
    if (a->has_energy)
        assert_same_doubles(&a->energy, &b->energy, 1, "energy");
    assert_int_equal(a->forces != NULL, b->forces != NULL);
    if (a->forces)
        assert_same_doubles(a->forces, b->forces, (size_t)n * 3, "forces");
    assert_int_equal(a->has_stress, b->has_stress);
    if (a->has_stress)
        assert_same_doubles(a->stress, b->stress, 9, "stress");
    assert_int_equal(a->n_info, b->n_info);
    for (int k = 0; k < a->n_info; k++)
        assert_info(b, a->info[k].key, a->info[k].value);
    assert_int_equal(a->n_columns, b->n_columns);
    for (int c = 0; c < a->n_columns; c++) {
        const structure_column *x = &a->columns[c], *y = find_column(b, x->name);
        if (!y)
            fail_msg("column '%s' lost", x->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->n_cols, y->n_cols);
        size_t m = (size_t)n * (size_t)x->n_cols;
        if (x->type == 'S') {
            for (size_t k = 0; k < m; k++)
                assert_string_equal(x->strings[k], y->strings[k]);
        } else {
            assert_same_doubles(x->values, y->values, m, x->name);
        }
    }
}

/* Writes the frames as extxyz to a temporary path and reads them back (caller frees). */
static mlpot_structure **write_and_read(mlpot_structure **frames, int n, const char *name,
                                        int *n_back) {
    char out[4096];
    ts_tmp_path(name, out, sizeof out);
    mlpot_writer *w = NULL;
    TS_OK(mlpot_writer_open(&w, out, "extxyz"));
    for (int k = 0; k < n; k++)
        TS_OK(mlpot_writer_write(w, frames[k]));
    TS_OK(mlpot_writer_close(w));
    mlpot_structure **back = read_frames(out, n_back);
    unlink(out);
    return back;
}

static void check_round_trip(mlpot_structure **frames, int n, const char *name) {
    int n_back = 0;
    mlpot_structure **back = write_and_read(frames, n, name, &n_back);
    assert_int_equal(n_back, n);
    for (int k = 0; k < n; k++)
        assert_same_structure(frames[k], back[k]);
    /* and once more: what was written is a fixed point */
    int n_again = 0;
    mlpot_structure **again = write_and_read(back, n_back, name, &n_again);
    assert_int_equal(n_again, n);
    for (int k = 0; k < n; k++)
        assert_same_structure(back[k], again[k]);
    free_frames(again, n_again);
    free_frames(back, n_back);
}

/* ---- reading ---- */

static void test_multi_frame(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("multi_frame.xyz", &n);
    assert_int_equal(n, 3);
    assert_int_equal(mlpot_structure_n_atoms(f[0]), 2);
    assert_int_equal(mlpot_structure_n_atoms(f[1]), 3);
    assert_int_equal(mlpot_structure_n_atoms(f[2]), 1);

    double e;
    TS_OK(mlpot_structure_energy(f[0], &e));
    assert_true(e == -10.5);
    const double cell0[9] = {3, 0, 0, 0, 3, 0, 0, 0, 3};
    assert_same_doubles(mlpot_structure_cell(f[0]), cell0, 9, "cell");
    assert_close(mlpot_structure_volume(f[0]), 27.0, 1e-12);
    assert_true(mlpot_structure_positions(f[0])[3] == 1.5);

    /* frame 2: a molecule, no Lattice, so not periodic */
    const int *pbc = mlpot_structure_pbc(f[1]);
    assert_int_equal(pbc[0] + pbc[1] + pbc[2], 0);
    for (int k = 0; k < 9; k++)
        assert_true(mlpot_structure_cell(f[1])[k] == 0.0);
    assert_true(mlpot_structure_volume(f[1]) == 0.0);
    TS_OK(mlpot_structure_energy(f[1], &e));
    assert_true(e == -14.25);
    assert_info(f[1], "config_type", "molecule");
    const int z1[3] = {8, 1, 1};
    assert_memory_equal(mlpot_structure_numbers(f[1]), z1, sizeof z1);
    assert_true(mlpot_structure_positions(f[1])[6] == -0.7586);

    /* frame 3 follows without a blank line and has no energy */
    assert_false(mlpot_structure_has_energy(f[2]));
    assert_int_equal(mlpot_structure_numbers(f[2])[0], 29);
    const double p2[3] = {0.1, 0.2, 0.3};
    assert_same_doubles(mlpot_structure_positions(f[2]), p2, 3, "positions");
    free_frames(f, n);
}

static void test_comment_syntax(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("comment_syntax.xyz", &n);
    assert_int_equal(n, 1);
    mlpot_structure *s = f[0];
    assert_info(s, "name", "a \"quoted\" word");
    assert_info(s, "is_relaxed", "T"); /* a bare flag */
    assert_info(s, "last_flag", "T");  /* ... also at the end of the line */
    assert_info(s, "key2", "value2");  /* spaces around '=' */
    assert_info(s, "path", "C:\\dir\\file");
    assert_info(s, "empty", "");
    assert_info(s, "temperature", "300");
    assert_null(mlpot_structure_info(s, "Lattice"));
    assert_null(mlpot_structure_info(s, "Properties"));
    assert_null(mlpot_structure_info(s, "pbc"));
    const int pbc[3] = {1, 1, 0};
    assert_memory_equal(mlpot_structure_pbc(s), pbc, sizeof pbc);
    const double cell[9] = {5, 0, 0, 0, 6, 0, 0, 0, 7};
    assert_same_doubles(mlpot_structure_cell(s), cell, 9, "cell");
    assert_true(mlpot_structure_volume(s) == 0.0); /* not periodic in 3D */
    const double pos[6] = {0, 0, 0, 1, 2, 3};
    assert_same_doubles(mlpot_structure_positions(s), pos, 6, "positions");
    free_frames(f, n);
}

static void test_missing_lattice(void **state) {
    (void)state;
    const char *files[] = {"no_lattice.xyz", "plain_xyz.xyz"};
    for (int k = 0; k < 2; k++) {
        int n = 0;
        mlpot_structure **f = read_data(files[k], &n);
        assert_int_equal(n, 1);
        const int *pbc = mlpot_structure_pbc(f[0]);
        assert_int_equal(pbc[0] + pbc[1] + pbc[2], 0);
        for (int c = 0; c < 9; c++)
            assert_true(mlpot_structure_cell(f[0])[c] == 0.0);
        assert_false(mlpot_structure_has_stress(f[0]));
        const int z[3] = {8, 1, 1};
        assert_memory_equal(mlpot_structure_numbers(f[0]), z, sizeof z);
        assert_true(mlpot_structure_positions(f[0])[4] == 0.763);
        free_frames(f, n);
    }
}

static void test_stress_forms(void **state) {
    (void)state;
    const double expected[9] = {0.01, 0.04, 0.05, 0.04, 0.02, 0.06, 0.05, 0.06, 0.03};
    double stress[9];
    int n = 0;
    mlpot_structure **f = read_data("stress9.xyz", &n);
    assert_true(mlpot_structure_has_stress(f[0]));
    TS_OK(mlpot_structure_stress(f[0], stress));
    assert_same_doubles(stress, expected, 9, "stress (9 numbers)");
    free_frames(f, n);

    /* Voigt order xx yy zz yz xz xy */
    f = read_data("stress6.xyz", &n);
    TS_OK(mlpot_structure_stress(f[0], stress));
    assert_same_doubles(stress, expected, 9, "stress (6 numbers)");
    free_frames(f, n);
}

static void test_virial_becomes_stress(void **state) {
    (void)state;
    const double virial[9] = {0.8, 0.4, -0.2, 0.4, 1.6, 0.0, -0.2, 0.0, -2.4};
    const double volume = 4.0 * 4.0 * 5.0; /* det of the lower-triangular Lattice */
    int n = 0;
    mlpot_structure **f = read_data("virial.xyz", &n);
    assert_close(mlpot_structure_volume(f[0]), volume, 1e-12);
    assert_true(mlpot_structure_has_stress(f[0]));
    double stress[9];
    TS_OK(mlpot_structure_stress(f[0], stress));
    for (int k = 0; k < 9; k++)
        assert_close(stress[k], -virial[k] / volume, 1e-17);
    assert_true(stress[0] < 0 && stress[8] > 0); /* sign: stress = -virial / V */
    free_frames(f, n);
}

static void test_extra_columns(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("properties.xyz", &n);
    mlpot_structure *s = f[0];
    const int z[3] = {11, 17, 11};
    assert_memory_equal(mlpot_structure_numbers(s), z, sizeof z);
    const double pos[9] = {0, 0, 0, 2.8, 0, 0, 0, 2.8, 0};
    assert_same_doubles(mlpot_structure_positions(s), pos, 9, "positions");
    double forces[9];
    TS_OK(mlpot_structure_forces(s, forces));
    const double fexp[9] = {-0.1, 0.2, -0.3, 0.4, -0.5, 0.6, 1.25, 0.0, -1.25};
    assert_same_doubles(forces, fexp, 9, "forces");
    double e;
    TS_OK(mlpot_structure_energy(s, &e));
    assert_true(e == -12.5);

    assert_int_equal(s->n_columns, 5);
    const structure_column *c = find_column(s, "charge");
    assert_non_null(c);
    assert_int_equal(c->type, 'R');
    assert_int_equal(c->n_cols, 1);
    const double charge[3] = {0.8, -0.8, 0.75};
    assert_same_doubles(c->values, charge, 3, "charge");

    c = find_column(s, "dipole");
    assert_non_null(c);
    assert_int_equal(c->type, 'R');
    assert_int_equal(c->n_cols, 3);
    const double dipole[9] = {0.1, 0.2, 0.3, -1.5e-3, 25.0, 0.0, 1.0, 2.0, 3.0};
    assert_same_doubles(c->values, dipole, 9, "dipole");

    c = find_column(s, "tag");
    assert_non_null(c);
    assert_int_equal(c->type, 'I');
    const double tag[3] = {7, -2, 0};
    assert_same_doubles(c->values, tag, 3, "tag");

    c = find_column(s, "fixed");
    assert_non_null(c);
    assert_int_equal(c->type, 'L');
    const double fixed[3] = {1, 0, 1};
    assert_same_doubles(c->values, fixed, 3, "fixed");

    c = find_column(s, "label");
    assert_non_null(c);
    assert_int_equal(c->type, 'S');
    assert_non_null(c->strings);
    assert_string_equal(c->strings[0], "core");
    assert_string_equal(c->strings[1], "shell");
    assert_string_equal(c->strings[2], "surf");

    assert_null(find_column(s, "species"));
    assert_null(find_column(s, "pos"));
    assert_null(find_column(s, "forces"));
    free_frames(f, n);
}

static void test_atomic_numbers_column(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("z_numbers.xyz", &n);
    const int z[2] = {14, 8};
    assert_memory_equal(mlpot_structure_numbers(f[0]), z, sizeof z);
    assert_int_equal(f[0]->n_columns, 0); /* Z became the numbers, not an extra column */
    free_frames(f, n);
}

static void test_nan_forces(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("nan_forces.xyz", &n);
    double forces[9];
    TS_OK(mlpot_structure_forces(f[0], forces));
    assert_true(forces[0] == 0.1 && forces[1] == -0.2 && forces[2] == 0.3);
    for (int k = 3; k < 6; k++)
        assert_true(isnan(forces[k]));
    assert_true(isnan(forces[6]) && forces[7] == 0.5 && isnan(forces[8]));
    free_frames(f, n);
}

static void test_crlf_and_bom(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("crlf_bom.xyz", &n);
    assert_int_equal(n, 1);
    assert_int_equal(mlpot_structure_n_atoms(f[0]), 2);
    assert_info(f[0], "tag", "crlf");
    const int *pbc = mlpot_structure_pbc(f[0]);
    assert_int_equal(pbc[0] + pbc[1] + pbc[2], 3);
    assert_true(mlpot_structure_positions(f[0])[5] == 1.5);
    free_frames(f, n);
}

/* ---- round trips ---- */

static void test_round_trip_files(void **state) {
    (void)state;
    const char *files[] = {"multi_frame.xyz", "comment_syntax.xyz", "no_lattice.xyz",
                           "plain_xyz.xyz",   "stress9.xyz",        "stress6.xyz",
                           "virial.xyz",      "properties.xyz",     "z_numbers.xyz",
                           "nan_forces.xyz",  "crlf_bom.xyz"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        int n = 0;
        mlpot_structure **f = read_data(files[k], &n);
        check_round_trip(f, n, "test_extxyz_roundtrip.xyz");
        free_frames(f, n);
    }
}

/* Values that need quoting for another reason than white space: a leading '{' or '[' (read as
 * a group), '=', a backslash, a newline. */
static void test_round_trip_special_info_values(void **state) {
    (void)state;
    int n = 0;
    mlpot_structure **f = read_data("info_roundtrip.xyz", &n);
    mlpot_structure *s = f[0];
    assert_info(s, "braces", "{a}b");
    assert_info(s, "bracket", "[x");
    assert_info(s, "text", "two words");
    assert_info(s, "tab", "a\tb");
    assert_info(s, "eq", "a=b");
    assert_info(s, "back", "x\\y");
    assert_info(s, "newline", "line1\nline2");
    assert_info(s, "flag", "T");
    assert_int_equal(s->n_info, 8);
    check_round_trip(f, n, "test_extxyz_special.xyz");
    free_frames(f, n);
}

/* Keys the writer emits from the structure itself cannot be set as info: they would be written
 * twice (or, for virial, read back as the stress). */
static void test_set_info_rejects_reserved_keys(void **state) {
    (void)state;
    const int numbers[1] = {14};
    const double pos[3] = {0, 0, 0}, cell[9] = {3, 0, 0, 0, 3, 0, 0, 0, 3};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 1, numbers, pos, cell, pbc));
    const char *reserved[] = {"Lattice", "Properties", "pbc", "energy", "stress", "virial", ""};
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++) {
        assert_int_equal(mlpot_structure_set_info(s, reserved[k], "1"),
                         MLPOT_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(mlpot_last_error(), reserved[k]));
        assert_null(mlpot_structure_info(s, reserved[k]));
    }
    /* keys of another case are not the writer's and stay free-form */
    TS_OK(mlpot_structure_set_info(s, "Energy", "1"));
    TS_OK(mlpot_structure_set_info(s, "lattice", "x"));
    assert_int_equal(s->n_info, 2);
    mlpot_structure_free(s);
}

/* Structures made in memory: random positions, every label, every kind of value. */
static void test_round_trip_random(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 20240611);
    const int species[3] = {14, 8, 1};
    const double cell[9] = {7.1, 0.3, -0.2, -1.1, 6.4, 0.5, 0.7, -0.9, 8.3};
    const int pbc3[3] = {1, 1, 1}, pbc2[3] = {1, 0, 1};
    mlpot_structure *frames[2];
    frames[0] = ts_random_structure(&rng, 12, species, 3, cell, pbc3, 0.8);
    frames[1] = ts_random_structure(&rng, 5, species, 3, cell, pbc2, 0.8);
    for (int k = 0; k < 2; k++) {
        int n = mlpot_structure_n_atoms(frames[k]);
        double *forces = calloc((size_t)n * 3, sizeof *forces);
        assert_non_null(forces);
        for (int i = 0; i < 3 * n; i++)
            forces[i] = ts_normal(&rng) * pow(10.0, (double)(i % 7) - 3.0);
        TS_OK(mlpot_structure_set_forces(frames[k], forces));
        free(forces);
        TS_OK(mlpot_structure_set_energy(frames[k], -123.456789012345678 * (k + 1) / 3.0));
        TS_OK(mlpot_structure_set_info(frames[k], "config_type", k ? "slab" : "bulk"));
        TS_OK(mlpot_structure_set_info(frames[k], "description", "random test \"frame\""));
    }
    double stress[9];
    for (int k = 0; k < 9; k++)
        stress[k] = ts_normal(&rng) * 1e-3;
    TS_OK(mlpot_structure_set_stress(frames[0], stress));
    check_round_trip(frames, 2, "test_extxyz_random.xyz");
    mlpot_structure_free(frames[0]);
    mlpot_structure_free(frames[1]);
}

/* ---- the reference data of ../shared ---- */

static void test_mlearn_si_first_frames(void **state) {
    (void)state;
    if (!ts_have_shared())
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/data/mlearn/Si_train.extxyz", MLPOT_SHARED_DIR);
    mlpot_reader *r = NULL;
    TS_OK(mlpot_reader_open(&r, path, NULL));
    mlpot_structure *f[3];
    for (int k = 0; k < 3; k++) {
        TS_OK(mlpot_reader_next(r, &f[k]));
        assert_non_null(f[k]);
    }
    mlpot_reader_close(r);

    mlpot_structure *s = f[0];
    assert_int_equal(mlpot_structure_n_atoms(s), 63);
    for (int i = 0; i < 63; i++)
        assert_int_equal(mlpot_structure_numbers(s)[i], 14);
    double e, forces[63 * 3], stress[9];
    TS_OK(mlpot_structure_energy(s, &e));
    assert_true(e == -295.49753016);
    TS_OK(mlpot_structure_forces(s, forces));
    assert_true(forces[0] == -2.98187262);
    assert_true(forces[1] == 0.60691870);
    assert_true(forces[2] == 3.48143607);
    TS_OK(mlpot_structure_stress(s, stress));
    assert_true(stress[1] == -0.005671550665533216);
    assert_true(stress[3] == stress[1]);
    assert_true(stress[0] == 0.004107503988364278);
    assert_info(s, "config_type", "Vacancy");
    assert_info(s, "split", "train");
    const double cell[9] = {14.22366, 5.591921, 15.557314, 0.0, 9.055935, 0.272179,
                            0.0,      0.0,      9.178194};
    assert_same_doubles(mlpot_structure_cell(s), cell, 9, "cell");
    const double p0[3] = {0.29508405, 9.03355219, 4.74853937};
    assert_same_doubles(mlpot_structure_positions(s), p0, 3, "positions");
    for (int k = 1; k < 3; k++) {
        assert_true(mlpot_structure_n_atoms(f[k]) > 0);
        assert_true(mlpot_structure_has_energy(f[k]));
        assert_true(mlpot_structure_has_forces(f[k]));
        assert_true(mlpot_structure_has_stress(f[k]));
        assert_non_null(mlpot_structure_info(f[k], "config_type"));
    }
    check_round_trip(f, 3, "test_extxyz_mlearn.xyz");
    for (int k = 0; k < 3; k++)
        mlpot_structure_free(f[k]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_frame),
        cmocka_unit_test(test_comment_syntax),
        cmocka_unit_test(test_missing_lattice),
        cmocka_unit_test(test_stress_forms),
        cmocka_unit_test(test_virial_becomes_stress),
        cmocka_unit_test(test_extra_columns),
        cmocka_unit_test(test_atomic_numbers_column),
        cmocka_unit_test(test_nan_forces),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_round_trip_files),
        cmocka_unit_test(test_round_trip_special_info_values),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_set_info_rejects_reserved_keys),
        cmocka_unit_test(test_mlearn_si_first_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
