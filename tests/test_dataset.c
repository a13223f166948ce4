/* test_dataset.c — the HDF5 dataset file (formats.md "Dataset file (HDF5)"): bit-exact round trips
 * of random frames across flush and chunk boundaries, labels that appear late, damaged files
 * (built with the HDF5 C API) each rejected with one line naming the file, dataset and frame,
 * copied root attributes, and the mlearn Si training set when ../shared is present. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/structure.h"
#include "io/dataset_file.h"

/* ---- random frames and comparisons ---- */

static const int test_species[] = {1, 8, 14, 26, 79};

/* Frame `index` of a varied sequence: 1..max_atoms atoms, four kinds of periodicity, and labels
 * (energy, forces with an occasional NaN row, stress, config_type) present or not. */
static mlpot_structure *random_frame(ts_rng *rng, int index, int max_atoms) {
    int n = 1 + (int)(ts_uniform(rng) * max_atoms);
    int *numbers = malloc((size_t)n * sizeof *numbers);
    double *positions = malloc((size_t)n * 3 * sizeof *positions);
    for (int i = 0; i < n; i++) {
        numbers[i] = test_species[(int)(ts_uniform(rng) * 5)];
        for (int j = 0; j < 3; j++)
            positions[3 * i + j] = 6 * ts_normal(rng);
    }
    static const int pbc_kinds[4][3] = {{1, 1, 1}, {1, 1, 0}, {0, 0, 0}, {1, 0, 1}};
    const int *pbc = pbc_kinds[index % 4];
    double cell[9] = {0};
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 3; j++)
            cell[3 * r + j] = (r == j ? 5 + 3 * ts_uniform(rng) : ts_normal(rng));
    if (index % 8 == 2)
        memset(cell, 0, sizeof cell); /* a molecule without a cell */
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, n, numbers, positions, cell, pbc));
    free(numbers);
    free(positions);
    if (index % 5 != 0)
        TS_OK(mlpot_structure_set_energy(s, -3.7 * n + ts_normal(rng)));
    if (index % 3 != 0) {
        double *forces = malloc((size_t)n * 3 * sizeof *forces);
        for (int k = 0; k < 3 * n; k++)
            forces[k] = ts_normal(rng);
        if (index % 6 == 1 && n > 1)
            forces[0] = forces[1] = forces[2] = NAN; /* one unlabelled row */
        TS_OK(mlpot_structure_set_forces(s, forces));
        free(forces);
    }
    if (pbc[0] && pbc[1] && pbc[2] && index % 2 == 0) {
        double stress[9];
        for (int k = 0; k < 9; k++)
            stress[k] = 0.01 * ts_normal(rng);
        TS_OK(mlpot_structure_set_stress(s, stress));
    }
    if (index % 7 != 0) {
        char name[32];
        snprintf(name, sizeof name, "type %d ü", index % 11);
        TS_OK(mlpot_structure_set_info(s, "config_type", name));
    }
    return s;
}

/* Bit-for-bit equality of what a dataset holds of a frame. */
static void assert_same_frame(const mlpot_structure *a, const mlpot_structure *b, int k) {
    if (a->n_atoms != b->n_atoms)
        fail_msg("frame %d: %d atoms, expected %d", k, b->n_atoms, a->n_atoms);
    size_t n = (size_t)a->n_atoms;
    if (memcmp(a->numbers, b->numbers, n * sizeof *a->numbers) ||
        memcmp(a->positions, b->positions, 3 * n * sizeof(double)) ||
        memcmp(a->cell, b->cell, sizeof a->cell) || memcmp(a->pbc, b->pbc, sizeof a->pbc))
        fail_msg("frame %d: atoms, cell or pbc differ", k);
    if (a->has_energy != b->has_energy || (a->has_energy && memcmp(&a->energy, &b->energy, 8)))
        fail_msg("frame %d: energy differs", k);
    if ((a->forces == NULL) != (b->forces == NULL) ||
        (a->forces && memcmp(a->forces, b->forces, 3 * n * sizeof(double))))
        fail_msg("frame %d: forces differ", k);
    if (a->has_stress != b->has_stress ||
        (a->has_stress && memcmp(a->stress, b->stress, sizeof a->stress)))
        fail_msg("frame %d: stress differs", k);
    const char *na = mlpot_structure_info(a, "config_type");
    const char *nb = mlpot_structure_info(b, "config_type");
    if ((na == NULL) != (nb == NULL) || (na && strcmp(na, nb)))
        fail_msg("frame %d: config_type '%s', expected '%s'", k, nb ? nb : "(none)",
                 na ? na : "(none)");
}

/* Writes frames[0..n-1] to path with dataset_writer_append. */
static void write_frames(const char *path, mlpot_structure **frames, int n) {
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    for (int k = 0; k < n; k++)
        TS_OK(dataset_writer_append(w, frames[k]));
    assert_int_equal(dataset_writer_n_frames(w), n);
    TS_OK(dataset_writer_close(w));
}

static void check_frames(const char *path, mlpot_structure **frames, int n) {
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_int_equal(dataset_n_frames(d), n);
    int64_t atoms = 0;
    for (int k = 0; k < n; k++)
        atoms += frames[k]->n_atoms;
    assert_int_equal(dataset_n_atoms_total(d), atoms);
    for (int k = 0; k < n; k++) {
        mlpot_structure *s = NULL;
        TS_OK(dataset_read_frame(d, k, &s));
        assert_same_frame(frames[k], s, k);
        assert_int_equal(dataset_frame_n_atoms(d, k), frames[k]->n_atoms);
        mlpot_structure_free(s);
    }
    /* frame k reads the rows of frame k in any order */
    ts_rng rng;
    ts_rng_seed(&rng, 99);
    for (int t = 0; t < 200 && n > 0; t++) {
        int k = (int)(ts_uniform(&rng) * n);
        mlpot_structure *s = NULL;
        TS_OK(dataset_read_frame(d, k, &s));
        assert_same_frame(frames[k], s, k);
        mlpot_structure_free(s);
    }
    mlpot_structure *none = NULL;
    assert_int_equal(dataset_read_frame(d, n, &none), MLPOT_ERR_INVALID_ARGUMENT);
    dataset_close(d);
}

static void free_frames(mlpot_structure **frames, int n) {
    for (int k = 0; k < n; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
}

/* No temporary file of this process (".mlpot-tmp-<pid>-*") is left in the test directory. */
static void assert_no_temporary_files(void) {
    char dir[4096], prefix[64], left[256] = "";
    ts_tmp_path("", dir, sizeof dir);
    snprintf(prefix, sizeof prefix, ".mlpot-tmp-%ld-", (long)getpid());
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *e;
    while ((e = readdir(dp)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            snprintf(left, sizeof left, "%s", e->d_name);
    closedir(dp);
    if (left[0])
        fail_msg("temporary file left: %s", left);
}

/* ---- round trips ---- */

static void test_round_trip_random_frames(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 7);
    int n = 300;
    mlpot_structure **frames = calloc((size_t)n, sizeof *frames);
    for (int k = 0; k < n; k++)
        frames[k] = random_frame(&rng, k, 40);
    char path[4096];
    ts_tmp_path("dataset_random.h5", path, sizeof path);
    write_frames(path, frames, n);
    check_frames(path, frames, n);
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_true(dataset_has_forces(d) && dataset_has_stress(d) && dataset_has_names(d));
    assert_false(dataset_has_weight(d));
    assert_string_equal(dataset_frame_name(d, 0), ""); /* frame 0 has no config_type */
    assert_string_equal(dataset_frame_name(d, 1), "type 1 ü");
    assert_true(dataset_frame_weight(d, 5) == 1.0);
    assert_int_equal(dataset_n_unknown_objects(d), 0);
    dataset_close(d);
    free_frames(frames, n);
    assert_no_temporary_files();
}

/* > 5000 frames (several flushes and chunks), labels that first appear after a flush (read
 * back as not labelled before), a frame larger than the atom flush threshold, names and
 * weights given explicitly. */
static void test_many_frames_and_late_labels(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 11);
    int n = 9000, big = 6500;
    mlpot_structure **frames = calloc((size_t)n, sizeof *frames);
    char path[4096];
    ts_tmp_path("dataset_many.h5", path, sizeof path);
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    for (int k = 0; k < n; k++) {
        frames[k] = random_frame(&rng, k, k == big ? 1 : 4);
        mlpot_structure *s = frames[k];
        if (k == big) { /* 300000 atoms in one frame */
            mlpot_structure_free(s);
            int atoms = 300000;
            int *z = malloc((size_t)atoms * sizeof *z);
            double *x = malloc((size_t)atoms * 3 * sizeof *x);
            for (int i = 0; i < atoms; i++) {
                z[i] = 14;
                for (int j = 0; j < 3; j++)
                    x[3 * i + j] = 100 * ts_uniform(&rng);
            }
            TS_OK(mlpot_structure_create(&frames[k], atoms, z, x, NULL, NULL));
            free(z);
            free(x);
            s = frames[k];
        }
        if (k < 5000) { /* no labels at all in the first 5000 frames */
            free(s->forces);
            s->forces = NULL;
            s->has_stress = 0;
        }
        char name[32];
        snprintf(name, sizeof name, "late %d", k % 3);
        double weight = 0.5 + k % 4;
        TS_OK(dataset_writer_append_frame(w, s, k >= 6000 ? name : "", k >= 7000 ? &weight : NULL));
        if (k >= 6000)
            TS_OK(mlpot_structure_set_info(s, "config_type", name));
    }
    TS_OK(dataset_writer_close(w));
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_int_equal(dataset_n_frames(d), n);
    assert_true(dataset_has_forces(d) && dataset_has_stress(d));
    assert_true(dataset_has_weight(d) && dataset_has_names(d));
    for (int k = 0; k < n; k++) {
        mlpot_structure *s = NULL;
        TS_OK(dataset_read_frame(d, k, &s));
        mlpot_structure *want = frames[k];
        if (k < 6000) { /* empty names read back as no config_type */
            mlpot_structure *copy = NULL;
            TS_OK(mlpot_structure_create(&copy, want->n_atoms, want->numbers, want->positions,
                                         want->cell, want->pbc));
            copy->has_energy = want->has_energy;
            copy->energy = want->energy;
            copy->has_stress = want->has_stress;
            memcpy(copy->stress, want->stress, sizeof copy->stress);
            if (want->forces)
                TS_OK(mlpot_structure_set_forces(copy, want->forces));
            mlpot_structure_free(frames[k]);
            frames[k] = want = copy;
        }
        assert_same_frame(want, s, k);
        double expected_weight = k >= 7000 ? 0.5 + k % 4 : 1.0;
        assert_true(dataset_frame_weight(d, k) == expected_weight);
        mlpot_structure_free(s);
    }
    dataset_close(d);
    free_frames(frames, n);
}

static void test_empty_dataset_and_bad_frames(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("dataset_empty.h5", path, sizeof path);
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    TS_OK(dataset_writer_close(w));
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_int_equal(dataset_n_frames(d), 0);
    assert_int_equal(dataset_n_atoms_total(d), 0);
    dataset_close(d);
    /* a frame without atoms is refused; abort leaves no temporary file */
    TS_OK(dataset_writer_open(&w, path));
    mlpot_structure *s = NULL;
    int no_numbers[1] = {0};
    double no_positions[3] = {0}; /* not NULL: structure.c memcpy()s even 0 bytes from them */
    TS_OK(mlpot_structure_create(&s, 0, no_numbers, no_positions, NULL, NULL));
    assert_int_equal(dataset_writer_append(w, s), MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "frame 0 has no atoms"));
    double negative = -1;
    mlpot_structure_free(s);
    int z = 14;
    double x[3] = {0, 0, 0};
    TS_OK(mlpot_structure_create(&s, 1, &z, x, NULL, NULL));
    assert_int_equal(dataset_writer_append_frame(w, s, NULL, &negative),
                     MLPOT_ERR_INVALID_ARGUMENT);
    mlpot_structure_free(s);
    dataset_writer_abort(w);
    assert_no_temporary_files();
}

/* ---- damaged files, made with the HDF5 C API from a good one ---- */

#define DAMAGE_FRAMES 40

/* A good file of DAMAGE_FRAMES frames of 3 atoms each (frame k starts at row 3k), TTT cells. */
static void write_good_file(const char *path) {
    ts_rng rng;
    ts_rng_seed(&rng, 5);
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    for (int k = 0; k < DAMAGE_FRAMES; k++) {
        int z[3] = {14, 8, 8};
        double x[9], cell[9] = {5, 0, 0, 0, 5, 0, 0, 0, 5}, f[9];
        int pbc[3] = {1, 1, 1};
        for (int j = 0; j < 9; j++) {
            x[j] = 5 * ts_uniform(&rng);
            f[j] = ts_normal(&rng);
        }
        mlpot_structure *s = NULL;
        TS_OK(mlpot_structure_create(&s, 3, z, x, cell, pbc));
        TS_OK(mlpot_structure_set_energy(s, -10.0 + k));
        TS_OK(mlpot_structure_set_forces(s, f));
        TS_OK(dataset_writer_append(w, s));
        mlpot_structure_free(s);
    }
    TS_OK(dataset_writer_close(w));
}

static hid_t open_rw(const char *path) {
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    return file;
}

/* Overwrites one element of a dataset (coordinates `at`, rank of the dataset). */
static void poke(const char *path, const char *name, const hsize_t *at, hid_t mem_type,
                 const void *value) {
    hid_t file = open_rw(path);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    hsize_t one = 1;
    hid_t mem = H5Screate_simple(1, &one, NULL);
    assert_true(H5Sselect_elements(space, H5S_SELECT_SET, 1, at) >= 0);
    assert_true(H5Dwrite(ds, mem_type, mem, space, H5P_DEFAULT, value) >= 0);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(file);
}

static void set_root_attribute(const char *path, const char *name, hid_t type, hid_t mem_type,
                               const void *value) {
    hid_t file = open_rw(path);
    if (H5Aexists(file, name) > 0)
        H5Adelete(file, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(attr >= 0 && H5Awrite(attr, mem_type, value) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Fclose(file);
}

static void set_string_attribute(const char *path, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    set_root_attribute(path, name, type, type, &value);
    H5Tclose(type);
}

/* Replaces a dataset by float64 zeros of another shape (or just deletes it: rank 0). */
static void replace_dataset(const char *path, const char *name, int rank, const hsize_t *dims) {
    hid_t file = open_rw(path);
    assert_true(H5Ldelete(file, name, H5P_DEFAULT) >= 0);
    if (rank > 0) {
        hid_t space = H5Screate_simple(rank, dims, NULL);
        hid_t ds =
            H5Dcreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(ds >= 0);
        H5Dclose(ds);
        H5Sclose(space);
    }
    H5Fclose(file);
}

/* dataset_open (or, with read_frame >= 0, reading that frame) fails with status `want` and a
 * one-line message holding the file name and every fragment. */
static void expect_rejected(const char *path, int read_frame, mlpot_status want,
                            const char *fragment1, const char *fragment2) {
    dataset *d = NULL;
    mlpot_status st = dataset_open(&d, path);
    if (read_frame >= 0) {
        if (st != MLPOT_OK)
            fail_msg("%s: opening failed: %s", path, mlpot_last_error());
        mlpot_structure *s = NULL;
        st = dataset_read_frame(d, read_frame, &s);
        dataset_close(d);
        assert_null(s);
    }
    const char *msg = mlpot_last_error();
    if (st != want)
        fail_msg("%s: status %d, expected %d (%s)", path, st, want, msg);
    if (!strstr(msg, path) || !strstr(msg, fragment1) || (fragment2 && !strstr(msg, fragment2)) ||
        strchr(msg, '\n'))
        fail_msg("message '%s' should name %s, '%s' and '%s' on one line", msg, path, fragment1,
                 fragment2 ? fragment2 : "");
}

static void test_rejects_damaged_files(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("dataset_damaged.h5", path, sizeof path);
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    write_good_file(path);
    set_string_attribute(path, "format", "mlpot-model");
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "attribute 'format'", "\"mlpot-model\"");

    write_good_file(path);
    int version = 2;
    set_root_attribute(path, "version", H5T_STD_I32LE, H5T_NATIVE_INT, &version);
    expect_rejected(path, -1, MLPOT_ERR_UNSUPPORTED, "version 2", NULL);

    write_good_file(path);
    hsize_t frame17[1] = {17};
    int64_t wrong_offset = 52;
    poke(path, "/offset", frame17, H5T_NATIVE_INT64, &wrong_offset);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/offset: frame 17 starts at row 52, expected 51",
                    NULL);

    write_good_file(path);
    hsize_t row31[1] = {31}; /* frame 10, second atom */
    int bad_z = 119;
    poke(path, "/numbers", row31, H5T_NATIVE_INT, &bad_z);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/numbers: frame 10 (row 31)", "119");

    write_good_file(path);
    hsize_t row38[2] = {38, 1}; /* frame 12, third atom */
    double nan = NAN;
    poke(path, "/positions", row38, H5T_NATIVE_DOUBLE, &nan);
    expect_rejected(path, 12, MLPOT_ERR_PARSE, "/positions: frame 12 (row 38)", NULL);

    write_good_file(path);
    hsize_t cell_b[2][3] = {{7, 1, 0}, {7, 1, 1}}; /* frame 7: b = (0, 0, 0) */
    double zero = 0;
    poke(path, "/cell", cell_b[0], H5T_NATIVE_DOUBLE, &zero);
    poke(path, "/cell", cell_b[1], H5T_NATIVE_DOUBLE, &zero);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/cell: frame 7", "linearly dependent");

    write_good_file(path);
    hsize_t cell_nan[3] = {9, 2, 2};
    poke(path, "/cell", cell_nan, H5T_NATIVE_DOUBLE, &nan);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/cell: frame 9", "NaN");

    write_good_file(path);
    hsize_t forces_shape[2] = {3 * DAMAGE_FRAMES, 4};
    replace_dataset(path, "/forces", 2, forces_shape);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/forces: expected shape [n, 3], found [120, 4]",
                    NULL);

    write_good_file(path);
    hsize_t short_energy[1] = {DAMAGE_FRAMES - 1};
    replace_dataset(path, "/energy", 1, short_energy);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/energy: expected 40 rows", "found 39");

    write_good_file(path);
    replace_dataset(path, "/energy", 0, NULL);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/energy: dataset is missing", NULL);

    write_good_file(path);
    hsize_t pbc_at[2] = {3, 0};
    unsigned char two = 2;
    poke(path, "/pbc", pbc_at, H5T_NATIVE_UCHAR, &two);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/pbc: frame 3", NULL);

    write_good_file(path);
    hsize_t energy_at[1] = {4};
    double inf = INFINITY;
    poke(path, "/energy", energy_at, H5T_NATIVE_DOUBLE, &inf);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "/energy: frame 4", NULL);

    /* not HDF5 at all, and missing */
    FILE *fp = fopen(path, "w");
    fputs("not a dataset\n", fp);
    fclose(fp);
    expect_rejected(path, -1, MLPOT_ERR_PARSE, "not an HDF5 file", NULL);
    remove(path);
    expect_rejected(path, -1, MLPOT_ERR_IO, "cannot open", NULL);

    /* unknown extras are fine: an attribute, and a dataset reported as not understood */
    write_good_file(path);
    set_string_attribute(path, "comment", "made by another tool");
    hsize_t extra_shape[1] = {DAMAGE_FRAMES};
    hid_t file = open_rw(path);
    hid_t space = H5Screate_simple(1, extra_shape, NULL);
    hid_t ds =
        H5Dcreate2(file, "/extra", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(file);
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_int_equal(dataset_n_unknown_objects(d), 1);
    assert_string_equal(dataset_unknown_object(d, 0), "/extra");
    mlpot_structure *s = NULL;
    TS_OK(dataset_read_frame(d, 39, &s));
    double e;
    TS_OK(mlpot_structure_energy(s, &e));
    assert_true(e == 29.0);
    mlpot_structure_free(s);
    dataset_close(d);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
}

/* Root attributes other than format/version go to a rewritten file; NaN forces rows and
 * unlabelled energies survive a rewrite through read_frame + append. */
static void test_copy_attributes_and_rewrite(void **state) {
    (void)state;
    char src[4096], dst[4096];
    ts_tmp_path("dataset_attr_src.h5", src, sizeof src);
    ts_tmp_path("dataset_attr_dst.h5", dst, sizeof dst);
    write_good_file(src);
    set_string_attribute(src, "comment", "DFT: PBE, 520 eV");
    int level = 3;
    set_root_attribute(src, "level", H5T_STD_I32LE, H5T_NATIVE_INT, &level);
    dataset *d = NULL;
    TS_OK(dataset_open(&d, src));
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, dst));
    TS_OK(dataset_writer_copy_attributes(w, d));
    for (int k = 0; k < dataset_n_frames(d); k++) {
        mlpot_structure *s = NULL;
        TS_OK(dataset_read_frame(d, k, &s));
        TS_OK(dataset_writer_append(w, s));
        mlpot_structure_free(s);
    }
    TS_OK(dataset_writer_close(w));
    dataset_close(d);
    hid_t file = H5Fopen(dst, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t attr = H5Aopen(file, "level", H5P_DEFAULT);
    int got = 0;
    assert_true(attr >= 0 && H5Aread(attr, H5T_NATIVE_INT, &got) >= 0);
    assert_int_equal(got, 3);
    H5Aclose(attr);
    attr = H5Aopen(file, "comment", H5P_DEFAULT);
    hid_t type = H5Aget_type(attr);
    char *text = NULL;
    assert_true(H5Aread(attr, type, &text) >= 0);
    assert_string_equal(text, "DFT: PBE, 520 eV");
    H5free_memory(text);
    H5Tclose(type);
    H5Aclose(attr);
    attr = H5Aopen(file, "format", H5P_DEFAULT);
    type = H5Aget_type(attr);
    assert_true(H5Aread(attr, type, &text) >= 0);
    assert_string_equal(text, "mlpot-dataset");
    H5free_memory(text);
    H5Tclose(type);
    H5Aclose(attr);
    H5Fclose(file);
}

/* The mlearn Si training set (Zuo et al. 2020) through extended XYZ into a dataset. */
static void test_shared_si_train(void **state) {
    (void)state;
    if (!ts_have_shared())
        skip();
    char xyz[4096], path[4096];
    snprintf(xyz, sizeof xyz, "%s/data/mlearn/Si_train.extxyz", MLPOT_SHARED_DIR);
    ts_tmp_path("dataset_si_train.h5", path, sizeof path);
    mlpot_reader *r = NULL;
    TS_OK(mlpot_reader_open(&r, xyz, NULL));
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    for (;;) {
        mlpot_structure *s = NULL;
        TS_OK(mlpot_reader_next(r, &s));
        if (!s)
            break;
        TS_OK(dataset_writer_append(w, s));
        mlpot_structure_free(s);
    }
    mlpot_reader_close(r);
    TS_OK(dataset_writer_close(w));
    dataset *d = NULL;
    TS_OK(dataset_open(&d, path));
    assert_int_equal(dataset_n_frames(d), 214);
    assert_int_equal(dataset_n_atoms_total(d), 13233);
    mlpot_structure *s = NULL;
    TS_OK(dataset_read_frame(d, 0, &s));
    double e, f[3 * 64];
    TS_OK(mlpot_structure_energy(s, &e));
    assert_true(e == -295.49753016);
    assert_true(s->n_atoms <= 64);
    TS_OK(mlpot_structure_forces(s, f));
    assert_true(f[0] == -2.98187262 && f[1] == 0.60691870 && f[2] == 3.48143607);
    assert_string_equal(dataset_frame_name(d, 0), "Vacancy");
    assert_string_equal(mlpot_structure_info(s, "config_type"), "Vacancy");
    assert_true(mlpot_structure_has_stress(s));
    mlpot_structure_free(s);
    dataset_close(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_random_frames),
        cmocka_unit_test(test_many_frames_and_late_labels),
        cmocka_unit_test(test_empty_dataset_and_bad_frames),
        cmocka_unit_test(test_rejects_damaged_files),
        cmocka_unit_test(test_copy_attributes_and_rewrite),
        cmocka_unit_test(test_shared_si_train),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
