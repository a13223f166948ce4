/* test_locale.c — structure files read and written by a program that has switched to a locale
 * with a decimal comma (de_DE.UTF-8, generated with localedef into the test directory when the
 * system lacks it): the same structures and the same bytes as in the "C" locale. Skipped when
 * no such locale can be had. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const inputs[][2] = {
    {"structures", "TiO2.vasp"},       {"structures", "triclinic.vasp"},
    {"data", "extxyz/properties.xyz"}, {"data", "extxyz/stress9.xyz"},
    {"data", "extxyz/virial.xyz"},     {"data", "vasp/selective_dynamics.vasp"},
};
enum { N_INPUTS = sizeof inputs / sizeof inputs[0] };

static const char *input_path(int k, char *buf, size_t size) {
    return !strcmp(inputs[k][0], "structures") ? ts_structure_path(inputs[k][1], buf, size)
                                               : ts_data_path(inputs[k][1], buf, size);
}

/* Reads input k and writes it to a file named after `tag`; returns the frames read. */
static mlpot_structure **read_and_write(int k, const char *tag, int *n, char *out, size_t size) {
    char path[4096], name[256];
    mlpot_structure **frames = NULL;
    TS_OK(mlpot_read_all(input_path(k, path, sizeof path), NULL, &frames, n));
    int is_vasp = strstr(inputs[k][1], ".vasp") != NULL;
    snprintf(name, sizeof name, "test_locale_%s_%d.%s", tag, k, is_vasp ? "vasp" : "xyz");
    ts_tmp_path(name, out, size);
    mlpot_writer *w = NULL;
    TS_OK(mlpot_writer_open(&w, out, NULL));
    for (int f = 0; f < *n; f++)
        TS_OK(mlpot_writer_write(w, frames[f]));
    TS_OK(mlpot_writer_close(w));
    return frames;
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, fp)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
    }
    fclose(fp);
    text[n] = '\0';
    return text;
}

static void assert_same_frames(mlpot_structure **a, mlpot_structure **b, int n) {
    for (int f = 0; f < n; f++) {
        int atoms = mlpot_structure_n_atoms(a[f]);
        assert_int_equal(atoms, mlpot_structure_n_atoms(b[f]));
        assert_memory_equal(mlpot_structure_positions(a[f]), mlpot_structure_positions(b[f]),
                            sizeof(double) * 3 * (size_t)atoms);
        assert_memory_equal(mlpot_structure_cell(a[f]), mlpot_structure_cell(b[f]),
                            sizeof(double) * 9);
        double ea = 0, eb = 0, sa[9] = {0}, sb[9] = {0};
        assert_int_equal(mlpot_structure_energy(a[f], &ea), mlpot_structure_energy(b[f], &eb));
        assert_true(ea == eb);
        assert_int_equal(mlpot_structure_stress(a[f], sa), mlpot_structure_stress(b[f], sb));
        assert_memory_equal(sa, sb, sizeof sa);
    }
}

static void test_decimal_comma_locale(void **state) {
    (void)state;
    mlpot_structure **c_frames[N_INPUTS];
    int c_n[N_INPUTS];
    char c_out[N_INPUTS][4096];
    for (int k = 0; k < N_INPUTS; k++)
        c_frames[k] = read_and_write(k, "c", &c_n[k], c_out[k], sizeof c_out[k]);

    if (!ts_enter_decimal_comma_locale()) {
        for (int k = 0; k < N_INPUTS; k++) {
            for (int f = 0; f < c_n[k]; f++)
                mlpot_structure_free(c_frames[k][f]);
            free(c_frames[k]);
        }
        setlocale(LC_ALL, "C");
        print_message("skipped: no de_DE.UTF-8 locale and localedef cannot make one\n");
        skip();
    }
    for (int k = 0; k < N_INPUTS; k++) {
        int n = 0;
        char out[4096];
        mlpot_structure **frames = read_and_write(k, "de", &n, out, sizeof out);
        assert_int_equal(n, c_n[k]);
        assert_same_frames(c_frames[k], frames, n);
        char *a = slurp(c_out[k]), *b = slurp(out);
        if (strcmp(a, b) != 0)
            fail_msg("%s written differently under de_DE.UTF-8:\n%s\nvs\n%s", inputs[k][1], a, b);
        /* and what was written under the comma locale reads back the same */
        mlpot_structure **again = NULL;
        int n_again = 0;
        TS_OK(mlpot_read_all(out, NULL, &again, &n_again));
        assert_int_equal(n_again, n);
        assert_same_frames(frames, again, n);
        for (int f = 0; f < n; f++) {
            mlpot_structure_free(frames[f]);
            mlpot_structure_free(again[f]);
            mlpot_structure_free(c_frames[k][f]);
        }
        free(frames);
        free(again);
        free(c_frames[k]);
        free(a);
        free(b);
        remove(out);
        remove(c_out[k]);
    }
    setlocale(LC_ALL, "C");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_comma_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
