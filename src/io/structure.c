/* structure.c — creating, copying, validating and querying structures (the mlpot_structure
 * handle of the public API). */
#include "io/structure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"

mlpot_status structure_alloc(mlpot_structure **out, int n_atoms) {
    if (n_atoms < 0)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "negative atom count %d", n_atoms);
    mlpot_structure *s = NULL;
    mlpot_status st = mem_calloc(&s, 1, sizeof *s);
    if (st)
        return st;
    s->n_atoms = n_atoms;
    if ((st = mem_calloc(&s->numbers, (size_t)n_atoms, sizeof *s->numbers)) ||
        (st = mem_calloc(&s->positions, (size_t)n_atoms * 3, sizeof *s->positions))) {
        mlpot_structure_free(s);
        return st;
    }
    *out = s;
    return MLPOT_OK;
}

mlpot_status structure_adopt(mlpot_structure **out, int n_atoms, int *numbers, double *positions) {
    mlpot_structure *s = NULL;
    mlpot_status st = mem_calloc(&s, 1, sizeof *s);
    if (st)
        return st;
    s->n_atoms = n_atoms;
    s->numbers = numbers;
    s->positions = positions;
    *out = s;
    return MLPOT_OK;
}

void structure_column_free(structure_column *c, int n_atoms) {
    free(c->name);
    free(c->values);
    if (c->strings) {
        for (size_t k = 0; k < (size_t)n_atoms * (size_t)c->n_cols; k++)
            free(c->strings[k]);
        free(c->strings);
    }
    memset(c, 0, sizeof *c);
}

mlpot_status structure_add_column(mlpot_structure *s, structure_column column) {
    mlpot_status st = mem_resize(&s->columns, (size_t)s->n_columns + 1, sizeof *s->columns);
    if (st) {
        structure_column_free(&column, s->n_atoms);
        return st;
    }
    s->columns[s->n_columns++] = column;
    return MLPOT_OK;
}

void mlpot_structure_free(mlpot_structure *s) {
    if (!s)
        return;
    free(s->numbers);
    free(s->positions);
    free(s->forces);
    for (int k = 0; k < s->n_info; k++) {
        free(s->info[k].key);
        free(s->info[k].value);
    }
    free(s->info);
    for (int k = 0; k < s->n_columns; k++)
        structure_column_free(&s->columns[k], s->n_atoms);
    free(s->columns);
    free(s);
}

mlpot_status mlpot_structure_create(mlpot_structure **out, int n_atoms, const int *numbers,
                                    const double *positions, const double *cell, const int *pbc) {
    if (!out || n_atoms < 0 || (n_atoms > 0 && (!numbers || !positions)))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_structure_create: need out, n_atoms >= 0, numbers and positions");
    mlpot_structure *s = NULL;
    mlpot_status st = structure_alloc(&s, n_atoms);
    if (st)
        return st;
    if (n_atoms > 0) { /* numbers and positions may be NULL for an empty structure */
        memcpy(s->numbers, numbers, (size_t)n_atoms * sizeof *numbers);
        memcpy(s->positions, positions, (size_t)n_atoms * 3 * sizeof *positions);
    }
    if (cell)
        memcpy(s->cell, cell, sizeof s->cell);
    for (int k = 0; k < 3; k++)
        s->pbc[k] = pbc ? (pbc[k] != 0) : 0;
    if ((st = structure_validate(s, "mlpot_structure_create"))) {
        mlpot_structure_free(s);
        return st;
    }
    *out = s;
    return MLPOT_OK;
}

mlpot_status mlpot_structure_copy(mlpot_structure **out, const mlpot_structure *src) {
    mlpot_structure *s = NULL;
    mlpot_status st = mlpot_structure_create(&s, src->n_atoms, src->numbers, src->positions,
                                             src->cell, src->pbc);
    if (st)
        return st;
    s->has_energy = src->has_energy;
    s->energy = src->energy;
    s->has_stress = src->has_stress;
    memcpy(s->stress, src->stress, sizeof s->stress);
    if (src->forces && (st = mlpot_structure_set_forces(s, src->forces)))
        goto fail;
    for (int k = 0; k < src->n_info; k++)
        if ((st = mlpot_structure_set_info(s, src->info[k].key, src->info[k].value)))
            goto fail;
    for (int k = 0; k < src->n_columns; k++) {
        const structure_column *c = &src->columns[k];
        structure_column copy = {.type = c->type, .n_cols = c->n_cols};
        size_t n = (size_t)src->n_atoms * (size_t)c->n_cols;
        if ((st = mem_strdup(&copy.name, c->name)))
            goto fail;
        if (c->values) {
            if ((st = mem_calloc(&copy.values, n, sizeof *copy.values))) {
                structure_column_free(&copy, src->n_atoms);
                goto fail;
            }
            memcpy(copy.values, c->values, n * sizeof *copy.values);
        }
        if (c->strings) {
            if ((st = mem_calloc(&copy.strings, n, sizeof *copy.strings))) {
                structure_column_free(&copy, src->n_atoms);
                goto fail;
            }
            for (size_t m = 0; m < n; m++)
                if ((st = mem_strdup(&copy.strings[m], c->strings[m]))) {
                    structure_column_free(&copy, src->n_atoms);
                    goto fail;
                }
        }
        if ((st = structure_add_column(s, copy)))
            goto fail;
    }
    *out = s;
    return MLPOT_OK;
fail:
    mlpot_structure_free(s);
    return st;
}

int mlpot_structure_n_atoms(const mlpot_structure *s) {
    return s->n_atoms;
}
const int *mlpot_structure_numbers(const mlpot_structure *s) {
    return s->numbers;
}
const double *mlpot_structure_positions(const mlpot_structure *s) {
    return s->positions;
}
const double *mlpot_structure_cell(const mlpot_structure *s) {
    return s->cell;
}
const int *mlpot_structure_pbc(const mlpot_structure *s) {
    return s->pbc;
}

static int all_finite(const double *x, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!isfinite(x[k]))
            return 0;
    return 1;
}

mlpot_status mlpot_structure_set_positions(mlpot_structure *s, const double *positions) {
    if (!all_finite(positions, (size_t)s->n_atoms * 3))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "positions contain NaN or infinity");
    memcpy(s->positions, positions, (size_t)s->n_atoms * 3 * sizeof *positions);
    return MLPOT_OK;
}

mlpot_status mlpot_structure_set_cell(mlpot_structure *s, const double *cell, const int *pbc) {
    double old_cell[9];
    int old_pbc[3];
    memcpy(old_cell, s->cell, sizeof old_cell);
    memcpy(old_pbc, s->pbc, sizeof old_pbc);
    memcpy(s->cell, cell, sizeof s->cell);
    if (pbc)
        for (int k = 0; k < 3; k++)
            s->pbc[k] = pbc[k] != 0;
    mlpot_status st = structure_validate(s, "mlpot_structure_set_cell");
    if (st) {
        memcpy(s->cell, old_cell, sizeof old_cell);
        memcpy(s->pbc, old_pbc, sizeof old_pbc);
    }
    return st;
}

int mlpot_structure_has_energy(const mlpot_structure *s) {
    return s->has_energy;
}
int mlpot_structure_has_forces(const mlpot_structure *s) {
    return s->forces != NULL;
}
int mlpot_structure_has_stress(const mlpot_structure *s) {
    return s->has_stress;
}

mlpot_status mlpot_structure_energy(const mlpot_structure *s, double *energy) {
    if (!s->has_energy)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "structure has no energy");
    *energy = s->energy;
    return MLPOT_OK;
}

mlpot_status mlpot_structure_forces(const mlpot_structure *s, double *forces) {
    if (!s->forces)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "structure has no forces");
    memcpy(forces, s->forces, (size_t)s->n_atoms * 3 * sizeof *forces);
    return MLPOT_OK;
}

mlpot_status mlpot_structure_stress(const mlpot_structure *s, double *stress) {
    if (!s->has_stress)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "structure has no stress");
    memcpy(stress, s->stress, sizeof s->stress);
    return MLPOT_OK;
}

mlpot_status mlpot_structure_set_energy(mlpot_structure *s, double energy) {
    s->energy = energy;
    s->has_energy = 1;
    return MLPOT_OK;
}

mlpot_status mlpot_structure_set_forces(mlpot_structure *s, const double *forces) {
    if (!s->forces) {
        mlpot_status st = mem_calloc(&s->forces, (size_t)s->n_atoms * 3, sizeof *s->forces);
        if (st)
            return st;
    }
    memcpy(s->forces, forces, (size_t)s->n_atoms * 3 * sizeof *forces);
    return MLPOT_OK;
}

mlpot_status mlpot_structure_set_stress(mlpot_structure *s, const double *stress) {
    memcpy(s->stress, stress, sizeof s->stress);
    s->has_stress = 1;
    return MLPOT_OK;
}

const char *mlpot_structure_info(const mlpot_structure *s, const char *key) {
    for (int k = 0; k < s->n_info; k++)
        if (strcmp(s->info[k].key, key) == 0)
            return s->info[k].value;
    return NULL;
}

mlpot_status mlpot_structure_set_info(mlpot_structure *s, const char *key, const char *value) {
    /* The extended XYZ writer emits these keys from the structure itself (and the reader turns
     * a virial into the stress): as info items they would be written twice or read back as
     * something else. */
    static const char *const reserved[] = {"Lattice", "Properties", "pbc",
                                           "energy",  "stress",     "virial"};
    if (!s || !key || !*key)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_structure_set_info: expected a structure and a non-empty key");
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
        if (!strcmp(key, reserved[k]))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "info key '%s' is reserved (the structure's own %s); set it with "
                             "the structure's functions instead",
                             key, !strcmp(key, "virial") ? "stress" : key);
    char *v = NULL;
    mlpot_status st = mem_strdup(&v, value ? value : "");
    if (st)
        return st;
    for (int k = 0; k < s->n_info; k++)
        if (strcmp(s->info[k].key, key) == 0) {
            free(s->info[k].value);
            s->info[k].value = v;
            return MLPOT_OK;
        }
    char *kcopy = NULL;
    if ((st = mem_strdup(&kcopy, key)) ||
        (st = mem_resize(&s->info, (size_t)s->n_info + 1, sizeof *s->info))) {
        free(v);
        free(kcopy);
        return st;
    }
    s->info[s->n_info].key = kcopy;
    s->info[s->n_info].value = v;
    s->n_info++;
    return MLPOT_OK;
}

int structure_is_periodic3(const mlpot_structure *s) {
    return s->pbc[0] && s->pbc[1] && s->pbc[2];
}

double mlpot_structure_volume(const mlpot_structure *s) {
    return structure_is_periodic3(s) ? fabs(mat3_det(s->cell)) : 0.0;
}

/* Volume (or area, or length) spanned by the periodic cell vectors, relative to the cube of
 * their lengths: 0 means the periodic directions are degenerate. */
static double periodic_span_raw(const mlpot_structure *s) {
    const double *a = &s->cell[0], *b = &s->cell[3], *c = &s->cell[6];
    double la = sqrt(vec3_dot(a, a)), lb = sqrt(vec3_dot(b, b)), lc = sqrt(vec3_dot(c, c));
    double cross[3];
    int np = s->pbc[0] + s->pbc[1] + s->pbc[2];
    if (np == 3) {
        double denom = la * lb * lc;
        return denom > 0 ? fabs(mat3_det(s->cell)) / denom : 0.0;
    }
    if (np == 2) {
        const double *u = s->pbc[0] ? a : b, *v = s->pbc[2] ? c : b;
        double lu = sqrt(vec3_dot(u, u)), lv = sqrt(vec3_dot(v, v));
        vec3_cross(u, v, cross);
        return lu * lv > 0 ? sqrt(vec3_dot(cross, cross)) / (lu * lv) : 0.0;
    }
    if (np == 1) {
        const double *u = s->pbc[0] ? a : (s->pbc[1] ? b : c);
        return sqrt(vec3_dot(u, u)) > 0 ? 1.0 : 0.0;
    }
    return 1.0;
}

/* periodic_span_raw, with 0 when the lengths or the volume overflow (inf / inf is NaN, which
 * would otherwise pass a degenerate cell of huge vectors). */
static double periodic_span(const mlpot_structure *s) {
    double span = periodic_span_raw(s);
    return isfinite(span) ? span : 0.0;
}

mlpot_status structure_validate(const mlpot_structure *s, const char *where) {
    for (int i = 0; i < s->n_atoms; i++) {
        if (s->numbers[i] < 1 || s->numbers[i] > ELEMENT_MAX_Z)
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "%s: atom %d has atomic number %d, expected 1..%d", where, i + 1,
                             s->numbers[i], ELEMENT_MAX_Z);
        if (!all_finite(&s->positions[3 * i], 3))
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "%s: atom %d has a non-finite position", where, i + 1);
    }
    if (!all_finite(s->cell, 9))
        return error_set(MLPOT_ERR_INVALID_STRUCTURE, "%s: cell contains NaN or infinity", where);
    if (periodic_span(s) < 1e-10)
        return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                         "%s: the cell vectors of the periodic directions are zero, linearly "
                         "dependent or too long",
                         where);
    return MLPOT_OK;
}

static int compare_symbols(const void *a, const void *b) {
    int za = *(const int *)a, zb = *(const int *)b;
    return strcmp(element_symbol(za), element_symbol(zb));
}

void structure_formula(const mlpot_structure *s, char *out, size_t size) {
    int counts[ELEMENT_MAX_Z + 1] = {0};
    for (int i = 0; i < s->n_atoms; i++)
        if (s->numbers[i] >= 1 && s->numbers[i] <= ELEMENT_MAX_Z)
            counts[s->numbers[i]]++;
    int order[ELEMENT_MAX_Z];
    int n = 0;
    for (int z = 1; z <= ELEMENT_MAX_Z; z++)
        if (counts[z] && !(counts[6] && (z == 6 || z == 1)))
            order[n++] = z;
    qsort(order, (size_t)n, sizeof *order, compare_symbols);
    size_t used = 0;
    out[0] = '\0';
    int hill[2] = {6, 1};
    for (int k = 0; k < 2 + n; k++) {
        int z;
        if (k < 2) {
            if (!counts[6] || !counts[hill[k]])
                continue;
            z = hill[k];
        } else {
            z = order[k - 2];
        }
        int w = counts[z] == 1 ? snprintf(out + used, size - used, "%s", element_symbol(z))
                               : snprintf(out + used, size - used, "%s%d", element_symbol(z),
                                          counts[z]);
        if (w < 0 || (size_t)w >= size - used)
            return;
        used += (size_t)w;
    }
}
