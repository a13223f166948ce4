/* test_poscar.c — the VASP POSCAR reader and writer: every shipped structure against values
 * computed here, the hand-written files of tests/data/vasp/ (VASP 4, the three kinds of scale
 * factor, selective dynamics, coordinate modes, velocities, CRLF/BOM, POTCAR names), round trip. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* The one structure of a file read with options (asserts that it reads and holds one frame). */
static mlpot_structure *read_single(const char *path, const mlpot_read_options *options) {
    mlpot_structure **frames = NULL;
    int n = 0;
    TS_OK(mlpot_read_all(path, options, &frames, &n));
    assert_int_equal(n, 1);
    mlpot_structure *s = frames[0];
    free(frames);
    return s;
}

static mlpot_structure *read_vasp_data(const char *name) {
    char rel[512], path[4096];
    snprintf(rel, sizeof rel, "vasp/%s", name);
    return read_single(ts_data_path(rel, path, sizeof path), NULL);
}

static double det3(const double m[9]) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
           m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/* Cartesian r = f . cell (cell rows are lattice vectors). */
static void frac_to_cart(const double f[3], const double cell[9], double r[3]) {
    for (int c = 0; c < 3; c++)
        r[c] = f[0] * cell[c] + f[1] * cell[3 + c] + f[2] * cell[6 + c];
}

static void assert_numbers(const mlpot_structure *s, const int *expected, int n) {
    assert_int_equal(mlpot_structure_n_atoms(s), n);
    const int *z = mlpot_structure_numbers(s);
    for (int i = 0; i < n; i++)
        if (z[i] != expected[i])
            fail_msg("atom %d has Z = %d, expected %d", i + 1, z[i], expected[i]);
}

static void assert_cell(const mlpot_structure *s, const double expected[9], double tol) {
    const double *cell = mlpot_structure_cell(s);
    for (int k = 0; k < 9; k++)
        assert_close(cell[k], expected[k], tol);
    const int *pbc = mlpot_structure_pbc(s);
    assert_int_equal(pbc[0] + pbc[1] + pbc[2], 3);
}

static void assert_positions(const mlpot_structure *s, const double *expected, int n, double tol) {
    const double *pos = mlpot_structure_positions(s);
    for (int k = 0; k < 3 * n; k++)
        assert_close(pos[k], expected[k], tol);
}

/* ---- shipped structures, parsed a second time by a minimal reader of their plain layout ---- */

typedef struct {
    const char *file;
    int n_species;
    int z[3];
    int count[3];
    double volume; /* structures/README.md */
} shipped_structure;

static const shipped_structure shipped[] = {
    {"Cu.vasp", 1, {29}, {4}, 47.242},
    {"H2O_box.vasp", 2, {1, 8}, {2, 1}, 1000.0},
    {"Li.vasp", 1, {3}, {2}, 43.244},
    {"Mo.vasp", 1, {42}, {2}, 31.167},
    {"NaCl.vasp", 2, {17, 11}, {4, 4}, 179.406},
    {"Si.vasp", 1, {14}, {8}, 160.191},
    {"Si_slab.vasp", 1, {14}, {16}, 7.6805938572482795 * 3.8402969286241397 * 24.504249999999999},
    {"TiO2.vasp", 2, {8, 22}, {4, 2}, 62.435},
    {"ZnO.vasp", 2, {8, 30}, {2, 2}, 47.593},
    {"triclinic.vasp", 3, {13, 8, 14}, {8, 20, 4}, 293.598},
};
#define N_SHIPPED ((int)(sizeof shipped / sizeof shipped[0]))

/* Cell and Cartesian positions of a shipped file (scale 1, species, counts, Direct). */
static int parse_plain_poscar(const char *path, double cell[9], double *pos, int max_atoms) {
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[1024];
    int n = 0, lineno = 0;
    double scale = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (lineno == 2) {
            scale = strtod(line, NULL);
        } else if (lineno >= 3 && lineno <= 5) {
            double *v = &cell[3 * (lineno - 3)];
            assert_int_equal(sscanf(line, "%lf %lf %lf", &v[0], &v[1], &v[2]), 3);
        } else if (lineno == 8) {
            assert_true(line[0] == 'D');
        } else if (lineno > 8 && n < max_atoms) {
            double f[3];
            if (sscanf(line, "%lf %lf %lf", &f[0], &f[1], &f[2]) != 3)
                break;
            frac_to_cart(f, cell, &pos[3 * n]);
            n++;
        }
    }
    fclose(fp);
    assert_true(scale == 1.0);
    return n;
}

static const shipped_structure *find_shipped(const char *name) {
    for (int k = 0; k < N_SHIPPED; k++)
        if (!strcmp(shipped[k].file, name))
            return &shipped[k];
    return NULL;
}

static void check_shipped(const char *name) {
    const shipped_structure *e = find_shipped(name);
    if (!e)
        fail_msg("structures/%s is not described in test_poscar.c", name);
    char path[4096];
    ts_structure_path(name, path, sizeof path);
    mlpot_structure *s = read_single(path, NULL);
    int expected_z[64], n = 0;
    for (int k = 0; k < e->n_species; k++)
        for (int m = 0; m < e->count[k]; m++)
            expected_z[n++] = e->z[k];
    assert_numbers(s, expected_z, n);

    double cell[9], pos[64 * 3];
    assert_int_equal(parse_plain_poscar(path, cell, pos, 64), n);
    assert_cell(s, cell, 0.0);
    assert_positions(s, pos, n, 1e-12);
    assert_close(mlpot_structure_volume(s), fabs(det3(cell)), 1e-9);
    assert_close(mlpot_structure_volume(s), e->volume, 1e-3);
    assert_false(mlpot_structure_has_energy(s));
    assert_false(mlpot_structure_has_forces(s));
    assert_false(mlpot_structure_has_stress(s));
    mlpot_structure_free(s);
}

static void test_every_shipped_structure(void **state) {
    (void)state;
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/structures", MLPOT_SOURCE_DIR);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int seen = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        size_t len = strlen(d->d_name);
        if (len < 5 || strcmp(d->d_name + len - 5, ".vasp"))
            continue;
        check_shipped(d->d_name);
        seen++;
    }
    closedir(dir);
    assert_int_equal(seen, N_SHIPPED);
}

static void test_si_values(void **state) {
    (void)state;
    char path[4096];
    mlpot_structure *s = read_single(ts_structure_path("Si.vasp", path, sizeof path), NULL);
    const double a = 5.431;
    const double cell[9] = {a, 0, 0, 0, a, 0, 0, 0, a};
    assert_cell(s, cell, 0.0);
    assert_int_equal(mlpot_structure_n_atoms(s), 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(mlpot_structure_numbers(s)[i], 14);
    const double *pos = mlpot_structure_positions(s);
    for (int c = 0; c < 3; c++) {
        assert_close(pos[c], 0.0, 0.0);
        assert_close(pos[3 + c], 1.35775, 1e-12);
    }
    /* atom 8 at (0.75, 0.75, 0.25) */
    assert_close(pos[21], 4.07325, 1e-12);
    assert_close(pos[22], 4.07325, 1e-12);
    assert_close(pos[23], 1.35775, 1e-12);
    assert_close(mlpot_structure_volume(s), a * a * a, 1e-10);
    mlpot_structure_free(s);
}

/* ---- hand-written variants ---- */

static void test_vasp4_species_from_comment(void **state) {
    (void)state;
    mlpot_structure *s = read_vasp_data("vasp4_comment_species.vasp");
    const int z[3] = {14, 14, 8};
    assert_numbers(s, z, 3);
    const double pos[9] = {0, 0, 0, 2.5, 2.5, 2.5, 1.25, 1.25, 1.25};
    assert_positions(s, pos, 3, 1e-14);
    mlpot_structure_free(s);

    s = read_vasp_data("vasp4_potcar_comment.vasp");
    const int z2[3] = {14, 8, 8};
    assert_numbers(s, z2, 3);
    mlpot_structure_free(s);
}

static void test_vasp4_species_option(void **state) {
    (void)state;
    char path[4096];
    ts_data_path("vasp/vasp4_no_species.vasp", path, sizeof path);
    mlpot_structure **frames = NULL;
    int n = 0;
    /* without the option the comment has no element symbols: a clear error */
    assert_int_not_equal(mlpot_read_all(path, NULL, &frames, &n), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "vasp4_no_species.vasp:6:"));
    assert_non_null(strstr(mlpot_last_error(), "species"));

    mlpot_read_options opt = {.species = "Ga,As"};
    mlpot_structure *s = read_single(path, &opt);
    const int z[3] = {31, 33, 33};
    assert_numbers(s, z, 3);
    const double cell[9] = {0, 2.825, 2.825, 2.825, 0, 2.825, 2.825, 2.825, 0};
    assert_cell(s, cell, 0.0);
    const double pos[9] = {0, 0, 0, 1.4125, 1.4125, 1.4125, 4.2375, 4.2375, 4.2375};
    assert_positions(s, pos, 3, 1e-12);
    mlpot_structure_free(s);

    /* space-separated works too; the option wins over element words in the comment */
    mlpot_read_options spaces = {.species = "Ge C"};
    s = read_single(ts_data_path("vasp/vasp4_comment_species.vasp", path, sizeof path), &spaces);
    const int z2[3] = {32, 32, 6};
    assert_numbers(s, z2, 3);
    mlpot_structure_free(s);

    /* a VASP 5 species line is not overridden by the option */
    s = read_single(ts_structure_path("NaCl.vasp", path, sizeof path), &opt);
    assert_int_equal(mlpot_structure_numbers(s)[0], 17);
    assert_int_equal(mlpot_structure_numbers(s)[7], 11);
    mlpot_structure_free(s);
}

static void test_negative_scale_is_volume(void **state) {
    (void)state;
    const double lattice[9] = {2.0, 0.0, 0.0, 0.5, 3.0, 0.0, 0.0, 0.2, 4.0};
    const double f = cbrt(100.0 / det3(lattice));
    double cell[9];
    for (int k = 0; k < 9; k++)
        cell[k] = f * lattice[k];

    mlpot_structure *s = read_vasp_data("negative_scale.vasp");
    assert_close(mlpot_structure_volume(s), 100.0, 1e-10);
    assert_cell(s, cell, 1e-13);
    const double frac[3] = {0.25, 0.5, 0.75};
    double pos[6] = {0, 0, 0};
    frac_to_cart(frac, cell, &pos[3]);
    assert_positions(s, pos, 2, 1e-12);
    mlpot_structure_free(s);

    s = read_vasp_data("negative_scale_cartesian.vasp");
    assert_close(mlpot_structure_volume(s), 100.0, 1e-10);
    assert_cell(s, cell, 1e-13);
    const double cart[6] = {0, 0, 0, f * 1.0, f * 1.5, f * 2.0};
    assert_positions(s, cart, 2, 1e-13);
    mlpot_structure_free(s);
}

static void test_three_scale_factors(void **state) {
    (void)state;
    const double lattice[9] = {1.0, 0.1, 0.2, 0.3, 1.0, 0.4, 0.5, 0.6, 1.0};
    const double scale[3] = {2.0, 3.0, 0.5};
    double cell[9];
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            cell[3 * k + c] = lattice[3 * k + c] * scale[c];

    mlpot_structure *s = read_vasp_data("three_scales.vasp");
    assert_cell(s, cell, 1e-15);
    /* Cartesian x, y, z are multiplied by the x, y, z factors */
    const double cart[6] = {0, 0, 0, 0.8, 1.5, 0.3};
    assert_positions(s, cart, 2, 1e-15);
    assert_close(mlpot_structure_volume(s), fabs(det3(lattice)) * 3.0, 1e-12);
    mlpot_structure_free(s);

    s = read_vasp_data("three_scales_direct.vasp");
    assert_cell(s, cell, 1e-15);
    const double frac[3] = {0.25, 0.5, 0.75};
    double pos[6] = {0, 0, 0};
    frac_to_cart(frac, cell, &pos[3]);
    assert_positions(s, pos, 2, 1e-14);
    mlpot_structure_free(s);
}

/* The cell shared by the small hand-written files and its expected positions. */
static const double small_cell[9] = {4.0, 0.0, 0.0, 2.0, 3.0, 0.0, 0.0, 0.0, 5.0};

static void test_selective_dynamics(void **state) {
    (void)state;
    const int z[3] = {14, 8, 8};
    const double pos[9] = {0, 0, 0, 2.5, 0.75, 1.0, 2.0, 1.5, 2.0};
    const char *files[] = {"selective_dynamics.vasp", "selective_lower_cartesian.vasp"};
    for (int f = 0; f < 2; f++) {
        mlpot_structure *s = read_vasp_data(files[f]);
        assert_numbers(s, z, 3);
        assert_cell(s, small_cell, 0.0);
        assert_positions(s, pos, 3, 1e-14);
        mlpot_structure_free(s);
    }
}

static void test_coordinate_modes(void **state) {
    (void)state;
    const char *modes[] = {"direct_Direct",       "direct_direct",      "direct_D",
                           "direct_d",            "cartesian_Cartesian", "cartesian_cartesian",
                           "cartesian_C",         "cartesian_c",         "cartesian_K",
                           "cartesian_k",         "cartesian_Kartesisch"};
    const double pos[6] = {0, 0, 0, 2.5, 0.75, 1.0};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        char name[128];
        snprintf(name, sizeof name, "mode_%s.vasp", modes[m]);
        mlpot_structure *s = read_vasp_data(name);
        assert_int_equal(mlpot_structure_n_atoms(s), 2);
        assert_cell(s, small_cell, 0.0);
        assert_positions(s, pos, 2, 1e-14);
        mlpot_structure_free(s);
    }
}

static void test_velocity_block_ignored(void **state) {
    (void)state;
    const int z[2] = {14, 8};
    const double pos[6] = {0, 0, 0, 2.5, 0.75, 1.0};
    const char *files[] = {"velocities.vasp", "velocities_no_blank.vasp"};
    for (int f = 0; f < 2; f++) {
        mlpot_structure *s = read_vasp_data(files[f]); /* asserts one frame, no error */
        assert_numbers(s, z, 2);
        assert_positions(s, pos, 2, 1e-14);
        mlpot_structure_free(s);
    }
}

static void test_crlf_and_bom(void **state) {
    (void)state;
    mlpot_structure *s = read_vasp_data("crlf_bom.vasp");
    const int z[2] = {14, 8};
    const double pos[6] = {0, 0, 0, 2.5, 0.75, 1.0};
    assert_numbers(s, z, 2);
    assert_cell(s, small_cell, 0.0);
    assert_positions(s, pos, 2, 1e-14);
    mlpot_structure_free(s);

    /* the byte-order mark must not hide the first species word of a VASP 4 comment */
    s = read_vasp_data("crlf_bom_vasp4.vasp");
    assert_numbers(s, z, 2);
    assert_positions(s, pos, 2, 0.0);
    mlpot_structure_free(s);
}

static void test_potcar_species_names(void **state) {
    (void)state;
    mlpot_structure *s = read_vasp_data("potcar_species.vasp");
    const int z[4] = {14, 8, 22, 26};
    assert_numbers(s, z, 4);
    mlpot_structure_free(s);
}

static void test_format_from_path(void **state) {
    (void)state;
    assert_string_equal(mlpot_format_from_path("POSCAR"), "vasp");
    assert_string_equal(mlpot_format_from_path("run/CONTCAR_final"), "vasp");
    assert_string_equal(mlpot_format_from_path("/a/b/Si.vasp"), "vasp");
    assert_string_equal(mlpot_format_from_path("x.poscar"), "vasp");
    assert_string_equal(mlpot_format_from_path("train.xyz"), "extxyz");
    assert_string_equal(mlpot_format_from_path("train.extxyz"), "extxyz");
    assert_null(mlpot_format_from_path("notes.txt"));
}

/* ---- writing ---- */

static void write_vasp(const mlpot_structure *s, const char *path) {
    mlpot_writer *w = NULL;
    TS_OK(mlpot_writer_open(&w, path, "vasp"));
    TS_OK(mlpot_writer_write(w, s));
    TS_OK(mlpot_writer_close(w));
}

static void assert_bit_identical(const mlpot_structure *a, const mlpot_structure *b) {
    int n = mlpot_structure_n_atoms(a);
    assert_int_equal(mlpot_structure_n_atoms(b), n);
    assert_memory_equal(mlpot_structure_numbers(a), mlpot_structure_numbers(b),
                        (size_t)n * sizeof(int));
    assert_memory_equal(mlpot_structure_positions(a), mlpot_structure_positions(b),
                        (size_t)n * 3 * sizeof(double));
    assert_memory_equal(mlpot_structure_cell(a), mlpot_structure_cell(b), 9 * sizeof(double));
    assert_memory_equal(mlpot_structure_pbc(a), mlpot_structure_pbc(b), 3 * sizeof(int));
}

/* Writes s to tmp/<name>, reads it back: the same structure bit for bit. */
static void assert_round_trip(const mlpot_structure *s, const char *name) {
    char out[4096];
    ts_tmp_path(name, out, sizeof out);
    write_vasp(s, out);
    mlpot_structure *back = read_single(out, NULL);
    assert_bit_identical(s, back);
    mlpot_structure_free(back);
    unlink(out);
}

static void test_round_trip_shipped(void **state) {
    (void)state;
    for (int k = 0; k < N_SHIPPED; k++) {
        char in[4096], name[256];
        mlpot_structure *s = read_single(ts_structure_path(shipped[k].file, in, sizeof in), NULL);
        snprintf(name, sizeof name, "test_poscar_roundtrip_%s", shipped[k].file);
        assert_round_trip(s, name);
        mlpot_structure_free(s);
    }
    /* the scaled and selective variants too */
    const char *variants[] = {"three_scales.vasp", "negative_scale.vasp",
                              "selective_dynamics.vasp", "potcar_species.vasp"};
    for (int k = 0; k < 4; k++) {
        mlpot_structure *s = read_vasp_data(variants[k]);
        assert_round_trip(s, "test_poscar_roundtrip_variant.vasp");
        mlpot_structure_free(s);
    }
}

/* Line `lineno` (1-based) of a text file, white space collapsed to single blanks. */
static void file_line(const char *path, int lineno, char *out, size_t size) {
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[1024];
    for (int k = 0; k < lineno; k++)
        assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    out[0] = '\0';
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (out[0])
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, t, size - strlen(out) - 1);
    }
}

static void test_writer_keeps_atom_order(void **state) {
    (void)state;
    const int numbers[4] = {14, 8, 8, 14};
    const double cell[9] = {5.0, 0.0, 0.0, 0.1, 5.0, 0.0, 0.2, 0.3, 5.0};
    const double pos[12] = {0.0, 0.0, 0.0, 1.1, 0.1, 0.2, 0.3, 1.7, 0.4, 2.5, 2.5, 2.5};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 4, numbers, pos, cell, pbc));
    char out[4096], line[1024];
    ts_tmp_path("test_poscar_order.vasp", out, sizeof out);
    write_vasp(s, out);
    file_line(out, 6, line, sizeof line);
    assert_string_equal(line, "Si O Si");
    file_line(out, 7, line, sizeof line);
    assert_string_equal(line, "1 2 1");
    mlpot_structure *back = read_single(out, NULL);
    assert_bit_identical(s, back);
    mlpot_structure_free(back);
    mlpot_structure_free(s);
    unlink(out);
}

/* Species in many groups (as ASE writes unsorted atoms: "In P In P ...", counts of 1): more
 * groups than there are elements, read in the order given and written back the same way. */
static void test_repeated_species_groups(void **state) {
    (void)state;
    enum { N = 300 };
    int numbers[N];
    double pos[3 * N];
    const double cell[9] = {30.0, 0.0, 0.0, 0.0, 31.0, 0.0, 0.0, 0.0, 32.0};
    const int pbc[3] = {1, 1, 1};
    for (int i = 0; i < N; i++) {
        numbers[i] = (i % 3 == 2) ? 15 : (i % 2 ? 49 : 15); /* runs of 1 and 2 */
        pos[3 * i] = 0.1 * i;
        pos[3 * i + 1] = 0.05 * (i % 7);
        pos[3 * i + 2] = 0.07 * (i % 11);
    }
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, N, numbers, pos, cell, pbc));
    assert_round_trip(s, "test_poscar_groups.vasp");
    mlpot_structure_free(s);

    /* as ASE writes it: one group per atom, Direct coordinates; then as VASP 4 (no species
     * line) with the groups' species from --species, as many as there are */
    char out[4096], species[1024] = "";
    ts_tmp_path("test_poscar_groups.vasp", out, sizeof out);
    for (int i = 0; i < 200; i++)
        strcat(species, i % 2 ? ",P" : (i ? ",In" : "In"));
    mlpot_read_options options = {.species = species};
    for (int vasp4 = 0; vasp4 < 2; vasp4++) {
        FILE *fp = fopen(out, "w");
        assert_non_null(fp);
        fprintf(fp, "InP\n1.0\n6 0 0\n0 6 0\n0 0 6\n");
        for (int i = 0; i < 200 && !vasp4; i++)
            fprintf(fp, " %s%s", i % 2 ? "P" : "In", i == 199 ? "\n" : "");
        for (int i = 0; i < 200; i++)
            fprintf(fp, " 1");
        fprintf(fp, "\nDirect\n");
        for (int i = 0; i < 200; i++)
            fprintf(fp, "%d.0e-3 0.5 0.25\n", i);
        fclose(fp);
        s = read_single(out, vasp4 ? &options : NULL);
        assert_int_equal(mlpot_structure_n_atoms(s), 200);
        const int *z = mlpot_structure_numbers(s);
        const double *r = mlpot_structure_positions(s);
        for (int i = 0; i < 200; i++) {
            assert_int_equal(z[i], i % 2 ? 15 : 49);
            assert_close(r[3 * i], 6.0 * i * 1e-3, 1e-12);
            assert_close(r[3 * i + 1], 3.0, 0.0);
            assert_close(r[3 * i + 2], 1.5, 0.0);
        }
        mlpot_structure_free(s);
    }
    unlink(out);
}

/* 1 if the tmp directory holds a temporary file of the writer for `base`. */
static int temp_file_left(const char *base) {
    char dir_path[4096];
    ts_tmp_path("", dir_path, sizeof dir_path);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int found = 0;
    for (struct dirent *d; (d = readdir(dir));)
        if (strstr(d->d_name, ".mlpot-tmp-") && strstr(d->d_name, base))
            found = 1;
    closedir(dir);
    return found;
}

static void test_writer_failures_leave_nothing(void **state) {
    (void)state;
    char out[4096];
    ts_tmp_path("test_poscar_fail.vasp", out, sizeof out);
    unlink(out);

    /* a molecule has no cell: the vasp writer refuses it */
    const int numbers[2] = {1, 1};
    const double pos[6] = {0, 0, 0, 0.74, 0, 0};
    mlpot_structure *molecule = NULL;
    TS_OK(mlpot_structure_create(&molecule, 2, numbers, pos, NULL, NULL));
    mlpot_writer *w = NULL;
    TS_OK(mlpot_writer_open(&w, out, NULL));
    assert_int_equal(mlpot_writer_write(w, molecule), MLPOT_ERR_UNSUPPORTED);
    assert_true(strlen(mlpot_last_error()) > 0);
    mlpot_writer_abort(w);
    assert_int_equal(access(out, F_OK), -1);
    assert_false(temp_file_left("test_poscar_fail.vasp"));
    mlpot_structure_free(molecule);

    /* a POSCAR holds one structure: the second write fails */
    char path[4096];
    mlpot_structure *si = read_single(ts_structure_path("Si.vasp", path, sizeof path), NULL);
    TS_OK(mlpot_writer_open(&w, out, "vasp"));
    TS_OK(mlpot_writer_write(w, si));
    assert_int_not_equal(mlpot_writer_write(w, si), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "one structure"));
    mlpot_writer_abort(w);
    assert_int_equal(access(out, F_OK), -1);
    assert_false(temp_file_left("test_poscar_fail.vasp"));
    mlpot_structure_free(si);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shipped_structure),
        cmocka_unit_test(test_si_values),
        cmocka_unit_test(test_vasp4_species_from_comment),
        cmocka_unit_test(test_vasp4_species_option),
        cmocka_unit_test(test_negative_scale_is_volume),
        cmocka_unit_test(test_three_scale_factors),
        cmocka_unit_test(test_selective_dynamics),
        cmocka_unit_test(test_coordinate_modes),
        cmocka_unit_test(test_velocity_block_ignored),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_potcar_species_names),
        cmocka_unit_test(test_format_from_path),
        cmocka_unit_test(test_round_trip_shipped),
        cmocka_unit_test(test_writer_keeps_atom_order),
        cmocka_unit_test(test_repeated_species_groups),
        cmocka_unit_test(test_writer_failures_leave_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
