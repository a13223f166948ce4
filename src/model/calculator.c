/* calculator.c — evaluating a model on a structure: workspace sizing (kept across calls), the
 * embedding and readout (model.md §5), and forces and stress from the per-edge derivatives
 * dE/dr_ij of the reverse sweep (model.md §6), also for the energy of a subset of the atoms
 * (domain decomposition: the reverse sweep starts from the contributing atoms only). Sums over
 * atoms run in atom order after the parallel loops, so results do not depend on the number of
 * threads. */
#include "model/calculator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "io/structure.h"
#include "nn/activations.h"
#include "nn/dense.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

double *calculator_scratch(mlpot_calculator *c) {
#ifdef _OPENMP
    size_t t = (size_t)omp_get_thread_num();
#else
    size_t t = 0;
#endif
    return c->scratch + t * c->scratch_per_thread;
}

mlpot_status mlpot_calculator_create(mlpot_calculator **out, const mlpot_model *m) {
    if (!out || !m)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_calculator_create: NULL argument");
    mlpot_calculator *c = NULL;
    mlpot_status st = mem_calloc(&c, 1, sizeof *c);
    if (st)
        return st;
    c->model = m;
    if ((st = mlpot_graph_create(&c->graph))) {
        free(c);
        return st;
    }
    *out = c;
    return MLPOT_OK;
}

void mlpot_calculator_free(mlpot_calculator *c) {
    if (!c)
        return;
    mlpot_graph_free(c->graph);
    free(c->species);
    free(c->h);
    free(c->pre);
    free(c->node_a);
    free(c->d_node_a);
    free(c->dh);
    free(c->dh_next);
    free(c->readout_t);
    free(c->energies);
    free(c->virial);
    free(c->dEdr);
    free(c->dc);
    free(c->edge_a);
    free(c->d_edge_a);
    free(c->scratch);
    free(c);
}

/* Grows the workspace to the current structure and graph (never shrinks: MD reuses it). */
static mlpot_status workspace_reserve(mlpot_calculator *c) {
    const model_hparams *hp = &c->model->hp;
    size_t N = (size_t)c->n_atoms, E = (size_t)c->n_edges, L = (size_t)hp->n_layers;
    size_t F = (size_t)hp->n_features, H = (size_t)hp->readout_hidden;
    int megnet = hp->arch == MODEL_ARCH_MEGNET;
    size_t Ed = megnet ? (size_t)hp->n_edge_features : 0, M = (size_t)hp->megnet_hidden;
    size_t width = megnet ? M : 2 * F; /* node terms per atom: two blocks of this width */
    size_t pre_width = megnet ? Ed : F;
    mlpot_status st;
    if (N > c->cap_node || !c->h) {
        size_t n = N ? N : 1;
        if ((st = mem_resize(&c->species, n, sizeof *c->species)) ||
            (st = mem_resize(&c->h, (L + 1) * n * F, sizeof *c->h)) ||
            (st = mem_resize(&c->pre, (L ? L : 1) * n * pre_width, sizeof *c->pre)) ||
            (st = mem_resize(&c->node_a, n * 2 * width, sizeof *c->node_a)) ||
            (st = mem_resize(&c->d_node_a, n * 2 * width, sizeof *c->d_node_a)) ||
            (st = mem_resize(&c->dh, n * F, sizeof *c->dh)) ||
            (st = mem_resize(&c->dh_next, n * (F > Ed ? F : Ed), sizeof *c->dh_next)) ||
            (st = mem_resize(&c->readout_t, n * H, sizeof *c->readout_t)) ||
            (st = mem_resize(&c->energies, n, sizeof *c->energies)) ||
            (st = mem_resize(&c->virial, n * 9, sizeof *c->virial)) ||
            (megnet && (st = mem_resize(&c->dc, n * Ed, sizeof *c->dc))))
            return st;
        c->cap_node = n;
    }
    if (E > c->cap_edge || !c->dEdr) {
        size_t e = E ? E : 1;
        if ((st = mem_resize(&c->dEdr, e, sizeof *c->dEdr)))
            return st;
        if (megnet && ((st = mem_resize(&c->edge_a, (L + 1) * e * Ed, sizeof *c->edge_a)) ||
                       (st = mem_resize(&c->d_edge_a, 2 * e * Ed, sizeof *c->d_edge_a))))
            return st;
        c->cap_edge = e;
    }
    size_t per_thread = megnet ? megnet_scratch_size(hp, c->max_degree)
                               : cgcnn_scratch_size(hp, c->max_degree);
    if (per_thread < H) /* the readout's reverse sweep uses H per thread */
        per_thread = H;
    int threads = max_threads();
    size_t need = per_thread * (size_t)threads;
    if (need > c->cap_scratch || !c->scratch) {
        if ((st = mem_resize(&c->scratch, need, sizeof *c->scratch)))
            return st;
        c->cap_scratch = need;
    }
    c->scratch_per_thread = per_thread;
    c->n_threads = threads;
    return MLPOT_OK;
}

static mlpot_status map_species(mlpot_calculator *c, const mlpot_structure *s) {
    const model_hparams *hp = &c->model->hp;
    for (int i = 0; i < s->n_atoms; i++) {
        int idx = model_species_index(hp, s->numbers[i]);
        if (idx < 0) {
            char known[512] = "";
            size_t used = 0;
            for (int k = 0; k < hp->n_species && used + 8 < sizeof known; k++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", k ? ", " : "",
                                         element_symbol(hp->species[k]));
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "atom %d is %s, which the model does not know (its species: %s)",
                             i + 1, element_symbol(s->numbers[i]), known);
        }
        c->species[i] = idx;
    }
    return MLPOT_OK;
}

/* model.md §5: e_i = sp(h_i W1 + b1) W2 + b2; E_i = scale e_i + shift + species_energy[s_i] */
static void readout_forward(mlpot_calculator *c) {
    const mlpot_model *m = c->model;
    const model_hparams *hp = &m->hp;
    int N = c->n_atoms, F = hp->n_features, H = hp->readout_hidden;
    const double *h = c->h + (size_t)hp->n_layers * N * F;
#pragma omp parallel for schedule(static) if (c->parallel)
    for (int i = 0; i < N; i++) {
        double *t = c->readout_t + (size_t)i * H;
        dense_forward(t, H, h + (size_t)i * F, F, m->v.readout_W1, m->v.readout_b1, 1, F, H);
        double e = m->v.readout_b2[0];
        for (int k = 0; k < H; k++)
            e += nn_softplus(t[k]) * m->v.readout_W2[k];
        c->energies[i] = hp->energy_scale * e + hp->energy_shift + m->v.species_energy[c->species[i]];
    }
}

/* dE/dh_L = scale * (W2^T * sigmoid(t)) W1^T, into c->dh; with gradients also dE/d(readout
 * parameters) and dE/d(species_energy) (each E_i enters E once). The reverse sweep is seeded
 * with dE/dE_i = 1 for the atoms that contribute to E and 0 for the others (contributing NULL:
 * every atom contributes). */
static void readout_backward(mlpot_calculator *c, const int *contributing) {
    const mlpot_model *m = c->model;
    const model_hparams *hp = &m->hp;
    const model_views *gv = &c->grad;
    int N = c->n_atoms, F = hp->n_features, H = hp->readout_hidden;
    const double *h = c->h + (size_t)hp->n_layers * N * F;
#pragma omp parallel for schedule(static) if (c->parallel)
    for (int i = 0; i < N; i++) {
        double *dt = calculator_scratch(c);
        const double *t = c->readout_t + (size_t)i * H;
        double *dh = c->dh + (size_t)i * F;
        memset(dh, 0, (size_t)F * sizeof *dh);
        if (contributing && !contributing[i])
            continue;
        for (int k = 0; k < H; k++)
            dt[k] = hp->energy_scale * m->v.readout_W2[k] * nn_sigmoid(t[k]);
        dense_backward(dh, F, c->with_grad ? gv->readout_W1 : NULL,
                       c->with_grad ? gv->readout_b1 : NULL, dt, H, h + (size_t)i * F, F,
                       m->v.readout_W1, 1, F, H);
        if (c->with_grad) {
            for (int k = 0; k < H; k++)
                gv->readout_W2[k] += hp->energy_scale * nn_softplus(t[k]);
            gv->readout_b2[0] += hp->energy_scale;
            gv->species_energy[c->species[i]] += 1.0;
        }
    }
}

/* Graph, workspace and the forward pass up to the per-atom energies; returns E. */
static mlpot_status calculator_forward(mlpot_calculator *c, const mlpot_structure *s,
                                       double *energy_out) {
    const mlpot_model *m = c->model;
    const model_hparams *hp = &m->hp;
    mlpot_status st = mlpot_graph_build(c->graph, s, hp->cutoff);
    if (st)
        return st;
    const mlpot_graph *g = c->graph;
    c->n_atoms = s->n_atoms;
    c->n_edges = g->n_edges;
    c->max_degree = 0;
    for (int i = 0; i < s->n_atoms; i++) {
        int deg = (int)(g->row_start[i + 1] - g->row_start[i]);
        c->max_degree = deg > c->max_degree ? deg : c->max_degree;
    }
    if ((st = workspace_reserve(c)) || (st = map_species(c, s)))
        return st;
    c->parallel = !c->with_grad && c->n_atoms >= CALCULATOR_PARALLEL_MIN;
    int N = c->n_atoms, F = hp->n_features;
    for (int i = 0; i < N; i++)
        memcpy(c->h + (size_t)i * F, m->v.embedding + (size_t)c->species[i] * F,
               (size_t)F * sizeof *c->h);
    if (hp->arch == MODEL_ARCH_CGCNN)
        cgcnn_forward(c);
    else
        megnet_forward(c);
    readout_forward(c);
    double energy = 0;
    for (int i = 0; i < N; i++)
        energy += c->energies[i];
    *energy_out = energy;
    return MLPOT_OK;
}

mlpot_status calculator_energy_gradient(mlpot_calculator *c, const mlpot_structure *s,
                                        double *energy, double *grad) {
    const mlpot_model *m = c->model;
    c->with_grad = 1;
    model_views_bind(&m->hp, m->tensors, m->n_tensors, grad, &c->grad);
    mlpot_status st = calculator_forward(c, s, energy);
    if (st == MLPOT_OK) {
        int N = c->n_atoms, F = m->hp.n_features;
        readout_backward(c, NULL);
        memset(c->dEdr, 0, (size_t)c->n_edges * sizeof *c->dEdr);
        if (m->hp.arch == MODEL_ARCH_CGCNN)
            cgcnn_backward(c);
        else
            megnet_backward(c);
        for (int i = 0; i < N; i++) /* h_0 = embedding[s_i] */
            for (int f = 0; f < F; f++)
                c->grad.embedding[(size_t)c->species[i] * F + f] += c->dh[(size_t)i * F + f];
    }
    c->with_grad = 0;
    return st;
}

/* E_C = sum of E_i over the contributing atoms (all when contributing is NULL) and, on request,
 * its per-atom energies, forces on every atom, stress and per-atom virials W_k. */
static mlpot_status calculator_evaluate(mlpot_calculator *c, const mlpot_structure *s,
                                        const int *contributing, mlpot_results *r,
                                        double *virials) {
    const mlpot_model *m = c->model;
    const model_hparams *hp = &m->hp;
    const mlpot_graph *g = c->graph;
    double energy_all = 0;
    mlpot_status st = calculator_forward(c, s, &energy_all);
    if (st)
        return st;
    int N = c->n_atoms;
    if (contributing) {
        r->energy = 0;
        for (int i = 0; i < N; i++) {
            if (contributing[i])
                r->energy += c->energies[i];
            else
                c->energies[i] = 0;
        }
    } else {
        r->energy = energy_all;
    }
    if (r->energies)
        memcpy(r->energies, c->energies, (size_t)N * sizeof *r->energies);
    int periodic3 = structure_is_periodic3(s);
    r->has_stress = 0;
    if (!r->forces && !virials && !(r->stress && periodic3))
        return MLPOT_OK;

    /* reverse sweep: dE/dh_L, then dE/dr_ij for every edge */
    readout_backward(c, contributing);
    memset(c->dEdr, 0, (size_t)c->n_edges * sizeof *c->dEdr);
    if (hp->arch == MODEL_ARCH_CGCNN)
        cgcnn_backward(c);
    else
        megnet_backward(c);

    /* model.md §6 with g_ij = (dE/dr_ij) d_ij / r_ij and d_ji = -d_ij:
     * F_k = sum over row k of (dEdr[e] + dEdr[rev e]) d_e / r_e;
     * per-atom virial sum over row k of dEdr[e] d_e (x) d_e / r_e. */
#pragma omp parallel for schedule(static) if (c->parallel)
    for (int k = 0; k < N; k++) {
        double f[3] = {0, 0, 0}, w[9] = {0};
        for (int64_t e = g->row_start[k]; e < g->row_start[k + 1]; e++) {
            const double *d = g->vector + 3 * e;
            double inv_r = 1.0 / g->distance[e];
            double a = (c->dEdr[e] + c->dEdr[g->reverse[e]]) * inv_r;
            double b = c->dEdr[e] * inv_r;
            for (int x = 0; x < 3; x++) {
                f[x] += a * d[x];
                for (int y = 0; y < 3; y++)
                    w[3 * x + y] += b * d[x] * d[y];
            }
        }
        if (r->forces)
            memcpy(r->forces + 3 * (size_t)k, f, sizeof f);
        memcpy(c->virial + 9 * (size_t)k, w, sizeof w);
    }
    if (virials) /* formats.md: W = -V sigma */
        for (size_t x = 0; x < 9 * (size_t)N; x++)
            virials[x] = -c->virial[x];
    if (r->stress && periodic3) {
        double sum[9] = {0};
        for (int k = 0; k < N; k++)
            for (int x = 0; x < 9; x++)
                sum[x] += c->virial[9 * (size_t)k + x];
        double volume = fabs(mat3_det(s->cell));
        for (int x = 0; x < 9; x++)
            r->stress[x] = sum[x] / volume;
        r->has_stress = 1;
    }
    return MLPOT_OK;
}

mlpot_status mlpot_calculator_compute(mlpot_calculator *c, const mlpot_structure *s,
                                      mlpot_results *r) {
    if (!c || !s || !r)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_calculator_compute: NULL argument");
    return calculator_evaluate(c, s, NULL, r, NULL);
}

mlpot_status mlpot_calculator_compute_subset(mlpot_calculator *c, const mlpot_structure *s,
                                             const int *contributing, mlpot_results *r,
                                             double *virials) {
    if (!c || !s || !r)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_calculator_compute_subset: NULL argument");
    return calculator_evaluate(c, s, contributing, r, virials);
}
