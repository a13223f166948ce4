/* model.c — hyper-parameter checks, the tensor table (names and shapes of formats.md and
 * model.md §3-5), parameter views, creation and seeded random initialisation of models. */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/memory.h"

const char *model_arch_name(model_arch arch) {
    return arch == MODEL_ARCH_CGCNN ? "cgcnn" : (arch == MODEL_ARCH_MEGNET ? "megnet" : "unknown");
}

int model_species_index(const model_hparams *hp, int z) {
    for (int s = 0; s < hp->n_species; s++)
        if (hp->species[s] == z)
            return s;
    return -1;
}

static mlpot_status check_width(const char *where, const char *name, int value) {
    if (value < 1 || value > MODEL_MAX_WIDTH)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: %s = %d, expected 1..%d", where, name,
                         value, MODEL_MAX_WIDTH);
    return MLPOT_OK;
}

mlpot_status model_hparams_validate(const model_hparams *hp, const char *where) {
    if (hp->arch != MODEL_ARCH_CGCNN && hp->arch != MODEL_ARCH_MEGNET)
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
    if (hp->arch == MODEL_ARCH_MEGNET &&
        ((st = check_width(where, "n_edge_features", hp->n_edge_features)) ||
         (st = check_width(where, "megnet_hidden", hp->megnet_hidden))))
        return st;
    if (!(hp->avg_neighbors > 0) || !isfinite(hp->avg_neighbors))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: avg_neighbors = %g, expected > 0",
                         where, hp->avg_neighbors);
    if (!isfinite(hp->energy_scale) || !isfinite(hp->energy_shift))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: energy_scale and energy_shift must be finite", where);
    return MLPOT_OK;
}

static void add_tensor(model_tensor *t, int *n, size_t *offset, const char *name, int rows,
                       int cols) {
    model_tensor *x = &t[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->offset = *offset;
    x->ndim = cols > 0 ? 2 : 1;
    x->shape[0] = rows;
    x->shape[1] = cols > 0 ? cols : 0;
    x->size = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    *offset += x->size;
}

mlpot_status model_layout(const model_hparams *hp, int *n_tensors, model_tensor *t,
                          size_t *n_params) {
    mlpot_status st = model_hparams_validate(hp, "model");
    if (st)
        return st;
    int n = 0;
    size_t off = 0;
    int S = hp->n_species, F = hp->n_features, K = hp->n_basis, H = hp->readout_hidden;
    int E = hp->n_edge_features, M = hp->megnet_hidden;
    char name[64];
    add_tensor(t, &n, &off, "/embedding", S, F);
    add_tensor(t, &n, &off, "/species_energy", S, 0);
    if (hp->arch == MODEL_ARCH_MEGNET) {
        add_tensor(t, &n, &off, "/edge_encoder/W", K, E);
        add_tensor(t, &n, &off, "/edge_encoder/b", E, 0);
    }
    for (int l = 0; l < hp->n_layers; l++) {
        if (hp->arch == MODEL_ARCH_CGCNN) {
            static const char *names[] = {"W_self", "W_nbr", "W_edge", "b"};
            int rows[] = {F, F, K, 2 * F}, cols[] = {2 * F, 2 * F, 2 * F, 0};
            for (int k = 0; k < 4; k++) {
                snprintf(name, sizeof name, "/layers/%d/%s", l, names[k]);
                add_tensor(t, &n, &off, name, rows[k], cols[k]);
            }
        } else {
            static const char *names[] = {"edge/W1", "edge/b1", "edge/W2", "edge/b2",
                                          "node/W1", "node/b1", "node/W2", "node/b2"};
            int rows[] = {2 * F + E, M, M, E, F + E, M, M, F};
            int cols[] = {M, 0, E, 0, M, 0, F, 0};
            for (int k = 0; k < 8; k++) {
                snprintf(name, sizeof name, "/layers/%d/%s", l, names[k]);
                add_tensor(t, &n, &off, name, rows[k], cols[k]);
            }
        }
    }
    add_tensor(t, &n, &off, "/readout/W1", F, H);
    add_tensor(t, &n, &off, "/readout/b1", H, 0);
    add_tensor(t, &n, &off, "/readout/W2", H, 1);
    add_tensor(t, &n, &off, "/readout/b2", 1, 0);
    *n_tensors = n;
    *n_params = off;
    return MLPOT_OK;
}

void model_views_bind(const model_hparams *hp, const model_tensor *t, int n_tensors, double *base,
                      model_views *v) {
    memset(v, 0, sizeof *v);
    int k = 0;
    v->embedding = base + t[k++].offset;
    v->species_energy = base + t[k++].offset;
    if (hp->arch == MODEL_ARCH_MEGNET) {
        v->edge_encoder_W = base + t[k++].offset;
        v->edge_encoder_b = base + t[k++].offset;
    }
    for (int l = 0; l < hp->n_layers; l++) {
        if (hp->arch == MODEL_ARCH_CGCNN) {
            cgcnn_layer_params *p = &v->cgcnn[l];
            p->W_self = base + t[k++].offset;
            p->W_nbr = base + t[k++].offset;
            p->W_edge = base + t[k++].offset;
            p->b = base + t[k++].offset;
        } else {
            megnet_layer_params *p = &v->megnet[l];
            double **slots[] = {&p->edge_W1, &p->edge_b1, &p->edge_W2, &p->edge_b2,
                                &p->node_W1, &p->node_b1, &p->node_W2, &p->node_b2};
            for (int s = 0; s < 8; s++)
                *slots[s] = base + t[k++].offset;
        }
    }
    v->readout_W1 = base + t[k++].offset;
    v->readout_b1 = base + t[k++].offset;
    v->readout_W2 = base + t[k++].offset;
    v->readout_b2 = base + t[k++].offset;
    (void)n_tensors;
}

mlpot_status model_create(const model_hparams *hp, mlpot_model **out) {
    mlpot_model *m = NULL;
    mlpot_status st = mem_calloc(&m, 1, sizeof *m);
    if (st)
        return st;
    m->hp = *hp;
    if ((st = model_layout(hp, &m->n_tensors, m->tensors, &m->n_params)) ||
        (st = mem_calloc(&m->params, m->n_params, sizeof *m->params))) {
        mlpot_model_free(m);
        return st;
    }
    model_views_bind(&m->hp, m->tensors, m->n_tensors, m->params, &m->v);
    *out = m;
    return MLPOT_OK;
}

void mlpot_model_free(mlpot_model *m) {
    if (!m)
        return;
    free(m->params);
    free(m->description);
    for (int k = 0; k < m->n_training; k++) {
        free(m->training[k].key);
        free(m->training[k].value);
    }
    free(m->training);
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

/* splitmix64, so that a seed gives the same model on every machine */
static unsigned long long next_random(unsigned long long *state) {
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(unsigned long long *state) {
    return (double)(next_random(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* N(0, 1) by Box-Muller from the generator above */
static double normal(unsigned long long *state) {
    double u = uniform(state), w = uniform(state);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * w);
}

void model_init_random(mlpot_model *m, unsigned long long seed) {
    unsigned long long state = seed;
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        double *x = m->params + t->offset;
        const char *leaf = strrchr(t->name, '/') + 1;
        if (!strcmp(t->name, "/species_energy") || leaf[0] == 'b' || leaf[0] == 'c') {
            memset(x, 0, t->size * sizeof *x);
        } else if (!strcmp(t->name, "/embedding")) {
            for (size_t i = 0; i < t->size; i++)
                x[i] = normal(&state);
        } else {
            double limit = sqrt(6.0 / (t->shape[0] + t->shape[1])); /* Glorot uniform */
            for (size_t i = 0; i < t->size; i++)
                x[i] = limit * (2.0 * uniform(&state) - 1.0);
        }
    }
}

void model_randomize_biases(mlpot_model *m, unsigned long long seed, double std) {
    unsigned long long state = seed ^ 0xb1a5ull;
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        const char *leaf = strrchr(t->name, '/') + 1;
        if (leaf[0] == 'b' || !strcmp(t->name, "/species_energy"))
            for (size_t i = 0; i < t->size; i++)
                m->params[t->offset + i] = std * normal(&state);
    }
}
