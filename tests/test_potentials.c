/* test_potentials.c — the shipped potentials (every .h5 file in potentials/): each loads and
 * validates, says what it is for, covers one element, and reproduces the predictions recorded
 * when it was trained (potentials/checks/<name>.extxyz: rattled and strained cells with the energy, forces
 * and stress the potential gave then). Guards the files against accidental change and the
 * engine against changes that would silently alter shipped results. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define MAX_POTENTIALS 32

/* Names (without .h5) of the model files in potentials/, sorted. */
static int shipped_potentials(char names[][256]) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/potentials", MLPOT_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n < MAX_POTENTIALS) {
        size_t len = strlen(ent->d_name);
        if (len > 3 && !strcmp(ent->d_name + len - 3, ".h5") && len - 3 < 256) {
            memcpy(names[n], ent->d_name, len - 3);
            names[n][len - 3] = '\0';
            n++;
        }
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    return n;
}

/* Si, Mo and Li each have a shipped potential whose file name starts with the element. */
static void test_one_potential_per_element(void **state) {
    (void)state;
    char names[MAX_POTENTIALS][256];
    int n = shipped_potentials(names);
    const char *elements[] = {"Si", "Mo", "Li"};
    for (int e = 0; e < 3; e++) {
        int found = 0;
        for (int k = 0; k < n; k++)
            found += !strncmp(names[k], elements[e], strlen(elements[e])) &&
                     names[k][strlen(elements[e])] == '-';
        if (found != 1)
            fail_msg("expected one potentials/%s-*.h5, found %d", elements[e], found);
    }
}

/* Each file validates on load, holds one species matching its name, and has a description
 * that says what it is for and what it is not. */
static void test_files_validate(void **state) {
    (void)state;
    char names[MAX_POTENTIALS][256];
    int n = shipped_potentials(names);
    assert_true(n >= 3);
    for (int k = 0; k < n; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/potentials/%.255s.h5", MLPOT_SOURCE_DIR, names[k]);
        mlpot_model *m = NULL;
        TS_OK(mlpot_model_load(&m, path));
        assert_int_equal(mlpot_model_n_species(m), 1);
        const char *description = mlpot_model_description(m);
        int says_not = strstr(description, "not") || strstr(description, "Not");
        if (strlen(description) < 40 || !says_not)
            fail_msg("%s: description should say what it is for and not for: '%s'", path,
                     description);
        assert_true(mlpot_model_cutoff(m) > 0);
        mlpot_model_free(m);
    }
}

static double rel_diff(double a, double b) {
    return fabs(a - b) / fmax(1.0, fabs(b));
}

/* Predictions now equal the ones recorded at training time. */
static void test_recorded_predictions(void **state) {
    (void)state;
    char names[MAX_POTENTIALS][256];
    int n = shipped_potentials(names);
    for (int k = 0; k < n; k++) {
        char model_path[4096], check_path[4096];
        snprintf(model_path, sizeof model_path, "%s/potentials/%.255s.h5", MLPOT_SOURCE_DIR,
                 names[k]);
        snprintf(check_path, sizeof check_path, "%s/potentials/checks/%.255s.extxyz",
                 MLPOT_SOURCE_DIR, names[k]);
        mlpot_model *m = NULL;
        mlpot_calculator *c = NULL;
        TS_OK(mlpot_model_load(&m, model_path));
        TS_OK(mlpot_calculator_create(&c, m));
        mlpot_structure **frames = NULL;
        int n_frames = 0;
        TS_OK(mlpot_read_all(check_path, NULL, &frames, &n_frames));
        if (n_frames < 2)
            fail_msg("%s: expected at least 2 recorded frames", check_path);
        for (int f = 0; f < n_frames; f++) {
            const mlpot_structure *s = frames[f];
            int na = mlpot_structure_n_atoms(s);
            assert_true(mlpot_structure_has_energy(s) && mlpot_structure_has_forces(s) &&
                        mlpot_structure_has_stress(s));
            double energy, stress[9], stress_ref[9];
            double *forces = malloc(sizeof(double) * 3 * (size_t)na);
            double *forces_ref = malloc(sizeof(double) * 3 * (size_t)na);
            assert_non_null(forces);
            assert_non_null(forces_ref);
            TS_OK(mlpot_structure_energy(s, &energy));
            TS_OK(mlpot_structure_forces(s, forces_ref));
            TS_OK(mlpot_structure_stress(s, stress_ref));
            mlpot_results r = {0};
            r.forces = forces;
            r.stress = stress;
            TS_OK(mlpot_calculator_compute(c, s, &r));
            if (rel_diff(r.energy, energy) > 1e-11)
                fail_msg("%s frame %d: energy %.12f eV, recorded %.12f", names[k], f, r.energy,
                         energy);
            double max_force_error = 0;
            for (int i = 0; i < 3 * na; i++)
                max_force_error = fmax(max_force_error, fabs(forces[i] - forces_ref[i]));
            if (max_force_error > 1e-8)
                fail_msg("%s frame %d: forces differ from the record by %g eV/Å", names[k], f,
                         max_force_error);
            for (int i = 0; i < 9; i++)
                assert_close(stress[i], stress_ref[i], 1e-9);
            free(forces);
            free(forces_ref);
            mlpot_structure_free(frames[f]);
        }
        free(frames);
        mlpot_calculator_free(c);
        mlpot_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_potential_per_element),
        cmocka_unit_test(test_files_validate),
        cmocka_unit_test(test_recorded_predictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
