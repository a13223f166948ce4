/* model.c — hyper-parameter checks, the tensor table (names and shapes of formats.md and
 * model.md §3-8; the architecture adds its own through its table), parameter views bound by
 * each tensor's slot, creation and seeded random initialisation of models. */
#include "model/model.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/random.h"
#include "core/memory.h"
#include "model/extrapolation.h"

int model_species_index(const model_hparams *hp, int z) {
    for (int s = 0; s < hp->n_species; s++)
        if (hp->species[s] == z)
            return s;
    return -1;
}

void model_hparams_set_arch(model_hparams *hp, const model_arch_ops *arch) {
    hp->arch = arch;
    memset(hp->arch_value, 0, sizeof hp->arch_value);
    for (int k = 0; k < arch->n_hparams; k++)
        hp->arch_value[k] = arch->hparams[k].default_value;
}

static mlpot_status check_width(const char *where, const char *name, int value) {
    if (value < 1 || value > MODEL_MAX_WIDTH)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: %s = %d, expected 1..%d", where, name,
                         value, MODEL_MAX_WIDTH);
    return MLPOT_OK;
}

/* The architecture's own hyper-parameters against the ranges of its table. */
static mlpot_status validate_arch_hparams(const model_hparams *hp, const char *where) {
    const model_arch_ops *arch = hp->arch;
    for (int k = 0; k < arch->n_hparams; k++) {
        const arch_hparam *p = &arch->hparams[k];
        double x = hp->arch_value[k];
        if (p->type == ARCH_HPARAM_INT && (!(x >= p->min && x <= p->max) || x != floor(x)))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: %s = %g, expected %.0f..%.0f",
                             where, p->attribute, x, p->min, p->max);
        if (p->type == ARCH_HPARAM_REAL && (!isfinite(x) || !(x >= p->min && x <= p->max)))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: %s = %g, expected %g..%g", where,
                             p->attribute, x, p->min, p->max);
    }
    return arch->validate ? arch->validate(hp, where) : MLPOT_OK;
}

mlpot_status model_hparams_validate(const model_hparams *hp, const char *where) {
    if (!hp->arch)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: unknown architecture", where);
    if (hp->n_species < 1 || hp->n_species > MODEL_MAX_SPECIES)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: species: expected 1..%d elements",
                         where, MODEL_MAX_SPECIES);
    for (int s = 0; s < hp->n_species; s++) {
        if (hp->species[s] < 1 || hp->species[s] > ELEMENT_MAX_Z)
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: species: atomic number %d out of range 1..%d", where,
                             hp->species[s], ELEMENT_MAX_Z);
        if (s > 0 && hp->species[s] <= hp->species[s - 1])
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: species: expected ascending atomic numbers without repeats",
                             where);
    }
    if (!(hp->cutoff > 0) || !isfinite(hp->cutoff) || hp->cutoff > 100)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: cutoff = %g, expected 0 < r_c <= 100 Å",
                         where, hp->cutoff);
    if (hp->n_layers < 0 || hp->n_layers > MODEL_MAX_LAYERS)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: n_layers = %d, expected 0..%d", where,
                         hp->n_layers, MODEL_MAX_LAYERS);
    mlpot_status st;
    if ((st = check_width(where, "n_features", hp->n_features)) ||
        (st = check_width(where, "readout_hidden", hp->readout_hidden)))
        return st;
    if (hp->n_basis < 2 || hp->n_basis > MODEL_MAX_WIDTH)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: n_basis = %d, expected 2..%d", where,
                         hp->n_basis, MODEL_MAX_WIDTH);
    if (hp->envelope_p < 1 || hp->envelope_p > 64)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: envelope_p = %d, expected 1..64", where,
                         hp->envelope_p);
    if ((st = validate_arch_hparams(hp, where)))
        return st;
    if (!(hp->avg_neighbors > 0) || !isfinite(hp->avg_neighbors))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: avg_neighbors = %g, expected > 0",
                         where, hp->avg_neighbors);
    if (!isfinite(hp->energy_scale) || !isfinite(hp->energy_shift))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: energy_scale and energy_shift must be finite", where);
    return MLPOT_OK;
}

static mlpot_status table_add(tensor_table *t, const char *name, int rows, int cols,
                              int in_arch_views, size_t slot) {
    if (strlen(name) >= MODEL_TENSOR_NAME)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "tensor name too long: %s", name);
    if (t->n == t->capacity) {
        int capacity = t->capacity ? 2 * t->capacity : 32;
        mlpot_status st = mem_resize(&t->tensors, (size_t)capacity, sizeof *t->tensors);
        if (st)
            return st;
        t->capacity = capacity;
    }
    model_tensor *x = &t->tensors[t->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->offset = t->n_params;
    x->ndim = cols > 0 ? 2 : 1;
    x->shape[0] = rows;
    x->shape[1] = cols > 0 ? cols : 0;
    x->size = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    x->in_arch_views = in_arch_views;
    x->slot = slot;
    t->n_params += x->size;
    return MLPOT_OK;
}

mlpot_status tensor_table_add(tensor_table *t, const char *name, int rows, int cols,
                              size_t slot) {
    return table_add(t, name, rows, cols, 1, slot);
}

mlpot_status model_layout(const model_hparams *hp, tensor_table *t) {
    memset(t, 0, sizeof *t);
    mlpot_status st = model_hparams_validate(hp, "model");
    if (st)
        return st;
    int S = hp->n_species, F = hp->n_features, H = hp->readout_hidden;
    if ((st = table_add(t, "/embedding", S, F, 0, offsetof(model_views, embedding))) ||
        (st = table_add(t, "/species_energy", S, 0, 0, offsetof(model_views, species_energy))) ||
        (st = hp->arch->layout(hp, t)) ||
        (st = table_add(t, "/readout/W1", F, H, 0, offsetof(model_views, readout_W1))) ||
        (st = table_add(t, "/readout/b1", H, 0, 0, offsetof(model_views, readout_b1))) ||
        (st = table_add(t, "/readout/W2", H, 1, 0, offsetof(model_views, readout_W2))) ||
        (st = table_add(t, "/readout/b2", 1, 0, 0, offsetof(model_views, readout_b2)))) {
        free(t->tensors);
        memset(t, 0, sizeof *t);
        return st;
    }
    return MLPOT_OK;
}

void model_bind_views(const mlpot_model *m, double *base, model_views *common, void *arch_views) {
    memset(common, 0, sizeof *common);
    memset(arch_views, 0, m->hp.arch->views_size);
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        char *views = t->in_arch_views ? (char *)arch_views : (char *)common;
        double *p = base + t->offset;
        memcpy(views + t->slot, &p, sizeof p);
    }
}

const model_tensor *model_find_tensor(const mlpot_model *m, const char *name) {
    for (int k = 0; k < m->n_tensors; k++)
        if (!strcmp(m->tensors[k].name, name))
            return &m->tensors[k];
    return NULL;
}

mlpot_status model_create(const model_hparams *hp, mlpot_model **out) {
    mlpot_model *m = NULL;
    mlpot_status st = mem_calloc(&m, 1, sizeof *m);
    if (st)
        return st;
    m->hp = *hp;
    tensor_table t;
    if ((st = model_layout(hp, &t))) {
        free(m);
        return st;
    }
    m->tensors = t.tensors;
    m->n_tensors = t.n;
    m->n_params = t.n_params;
    if ((st = mem_calloc(&m->params, m->n_params ? m->n_params : 1, sizeof *m->params)) ||
        (st = mem_calloc(&m->arch_views, 1, hp->arch->views_size ? hp->arch->views_size : 1))) {
        mlpot_model_free(m);
        return st;
    }
    model_bind_views(m, m->params, &m->v, m->arch_views);
    *out = m;
    return MLPOT_OK;
}

void mlpot_model_free(mlpot_model *m) {
    if (!m)
        return;
    free(m->params);
    free(m->tensors);
    free(m->arch_views);
    free(m->description);
    for (int k = 0; k < m->n_training; k++) {
        free(m->training[k].key);
        free(m->training[k].value);
    }
    free(m->training);
    model_ranges_free(m->ranges);
    free(m);
}

mlpot_status model_set_training_attribute(mlpot_model *m, const char *key, const char *value) {
    char *v = NULL, *k = NULL;
    mlpot_status st = mem_strdup(&v, value);
    if (st)
        return st;
    for (int i = 0; i < m->n_training; i++)
        if (!strcmp(m->training[i].key, key)) {
            free(m->training[i].value);
            m->training[i].value = v;
            return MLPOT_OK;
        }
    if ((st = mem_strdup(&k, key)) ||
        (st = mem_resize(&m->training, (size_t)m->n_training + 1, sizeof *m->training))) {
        free(k);
        free(v);
        return st;
    }
    m->training[m->n_training].key = k;
    m->training[m->n_training].value = v;
    m->n_training++;
    return MLPOT_OK;
}

void model_init_random(mlpot_model *m, unsigned long long seed) {
    uint64_t state = seed; /* splitmix64: a seed gives the same model on every machine */
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        double *x = m->params + t->offset;
        const char *leaf = strrchr(t->name, '/') + 1;
        if (!strcmp(t->name, "/species_energy") || leaf[0] == 'b' || leaf[0] == 'c') {
            memset(x, 0, t->size * sizeof *x);
        } else if (!strcmp(t->name, "/embedding")) {
            for (size_t i = 0; i < t->size; i++)
                x[i] = splitmix64_normal(&state);
        } else {
            double limit = sqrt(6.0 / (t->shape[0] + t->shape[1])); /* Glorot uniform */
            for (size_t i = 0; i < t->size; i++)
                x[i] = limit * (2.0 * splitmix64_uniform(&state) - 1.0);
        }
    }
}

void model_randomize_biases(mlpot_model *m, unsigned long long seed, double std) {
    uint64_t state = seed ^ 0xb1a5ull;
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        const char *leaf = strrchr(t->name, '/') + 1;
        if (leaf[0] == 'b' || !strcmp(t->name, "/species_energy"))
            for (size_t i = 0; i < t->size; i++)
                m->params[t->offset + i] = std * splitmix64_normal(&state);
    }
}
