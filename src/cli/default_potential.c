/* default_potential.c — finding the shipped potential for a structure when no --model is
 * given: the first model file (by name) in $MLPOT_POTENTIALS, the installed
 * share/mlpot/potentials, or the source tree's potentials/, whose species cover the
 * structure's elements. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/elements.h"
#include "io/structure.h"

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Model files of a directory, sorted; returns the count (0 if none or unreadable). */
static int list_models(const char *dir, char ***out) {
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d)
        return 0;
    int n = 0, cap = 0;
    char **names = NULL;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (len < 4 || strcmp(ent->d_name + len - 3, ".h5") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        size_t size = strlen(dir) + len + 2;
        names[n] = malloc(size);
        if (!names[n])
            break;
        snprintf(names[n], size, "%s/%s", dir, ent->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, compare_names);
    *out = names;
    return n;
}

static int covers(const mlpot_model *m, const mlpot_structure *s) {
    const int *species = mlpot_model_species(m);
    int ns = mlpot_model_n_species(m);
    for (int i = 0; i < s->n_atoms; i++) {
        int found = 0;
        for (int k = 0; k < ns && !found; k++)
            found = species[k] == s->numbers[i];
        if (!found)
            return 0;
    }
    return 1;
}

int cli_default_potential(const mlpot_structure *s, char *path, size_t size) {
    const char *dirs[3] = {getenv("MLPOT_POTENTIALS"), MLPOT_DATA_DIR "/potentials",
                           MLPOT_SOURCE_DIR "/potentials"};
    char listing[2048] = "";
    size_t used = 0;
    int found = 0;
    for (int d = 0; d < 3 && !found; d++) {
        if (!dirs[d] || !dirs[d][0])
            continue;
        char **names = NULL;
        int n = list_models(dirs[d], &names);
        for (int k = 0; k < n; k++) {
            mlpot_model *m = NULL;
            if (!found && mlpot_model_load(&m, names[k]) == MLPOT_OK) {
                if (covers(m, s)) {
                    snprintf(path, size, "%s", names[k]);
                    found = 1;
                } else if (used + 200 < sizeof listing) {
                    used += (size_t)snprintf(listing + used, sizeof listing - used, "%s%s (",
                                             used ? ", " : "", names[k]);
                    for (int z = 0; z < mlpot_model_n_species(m); z++)
                        used += (size_t)snprintf(listing + used, sizeof listing - used, "%s%s",
                                                 z ? " " : "",
                                                 element_symbol(mlpot_model_species(m)[z]));
                    used += (size_t)snprintf(listing + used, sizeof listing - used, ")");
                }
            }
            mlpot_model_free(m);
            free(names[k]);
        }
        free(names);
    }
    if (found)
        return 1;
    char formula[256];
    structure_formula(s, formula, sizeof formula);
    if (used)
        fprintf(stderr, "mlpot: no shipped potential covers %s; potentials found: %s; give one "
                        "with --model\n", formula, listing);
    else
        fprintf(stderr, "mlpot: no --model given and no potential found (looked in "
                        "$MLPOT_POTENTIALS, %s/potentials and %s/potentials); create one with "
                        "'mlpot model init' or give --model FILE\n", MLPOT_DATA_DIR,
                MLPOT_SOURCE_DIR);
    return 0;
}
