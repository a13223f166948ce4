/* calculator.c — evaluating a model on a structure: workspace sizing (kept across calls), the
 * embedding, the architecture's sweeps and the readout (model.md §5), and forces and stress
 * assembled from the edge-vector adjoints dE/dd_e of the reverse sweep (model.md §6, stress
 * orientation §8), also for the energy of a subset of the atoms (domain decomposition: the
 * reverse sweep starts from the contributing atoms only). Sums over atoms run in atom order
 * after the parallel loops, so results do not depend on the number of threads. */
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
#include "model/readout.h"

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

double *eval_scratch(const eval_context *ctx) {
#ifdef _OPENMP
    size_t t = (size_t)omp_get_thread_num();
#else
    size_t t = 0;
#endif
    return ctx->scratch + t * ctx->scratch_per_thread;
}

mlpot_status mlpot_calculator_create(mlpot_calculator **out, const mlpot_model *m) {
    if (!out || !m)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_calculator_create: NULL argument");
    mlpot_calculator *c = NULL;
    mlpot_status st = mem_calloc(&c, 1, sizeof *c);
    if (st)
        return st;
    c->model = m;
    size_t views = m->hp.arch->views_size ? m->hp.arch->views_size : 1;
    if ((st = mem_calloc(&c->grad_arch, 1, views)) || (st = mlpot_graph_create(&c->graph))) {
        free(c->grad_arch);
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
    triplet_list_free(&c->triplets);
    free(c->species);
    free(c->h);
    free(c->dh);
    free(c->readout_t);
    free(c->energies);
    free(c->virial);
    free(c->hop);
    free(c->hop_order);
    free(c->edge_adjoint);
    for (int k = 0; k < ARCH_MAX_BUFFERS; k++)
        free(c->buffer[k]);
    free(c->scratch);
    free(c->grad_arch);
    free(c);
}

/* Grows the workspace to the current structure and graph (never shrinks: MD reuses it). */
static mlpot_status workspace_reserve(mlpot_calculator *c) {
    const model_hparams *hp = &c->model->hp;
    eval_context *ctx = &c->ctx;
    size_t N = (size_t)ctx->n_atoms, E = (size_t)ctx->n_edges, L = (size_t)hp->n_layers;
    size_t F = (size_t)hp->n_features, H = (size_t)hp->readout_hidden;
    mlpot_status st;
    if (N > c->cap_node || !c->h) {
        size_t n = N ? N : 1;
        if ((st = mem_resize(&c->species, n, sizeof *c->species)) ||
            (st = mem_resize(&c->h, (L + 1) * n * F, sizeof *c->h)) ||
            (st = mem_resize(&c->dh, n * F, sizeof *c->dh)) ||
            (st = mem_resize(&c->readout_t, n * H, sizeof *c->readout_t)) ||
            (st = mem_resize(&c->energies, n, sizeof *c->energies)) ||
            (st = mem_resize(&c->virial, n * 9, sizeof *c->virial)) ||
            (st = mem_resize(&c->hop, n, sizeof *c->hop)) ||
            (st = mem_resize(&c->hop_order, n, sizeof *c->hop_order)))
            return st;
        c->cap_node = n;
    }
    if (E > c->cap_edge || !c->edge_adjoint) {
        size_t e = E ? E : 1;
        if ((st = mem_resize(&c->edge_adjoint, 3 * e, sizeof *c->edge_adjoint)))
            return st;
        c->cap_edge = e;
    }
    int threads = max_threads();
    arch_sizes sz = {N, E, ctx->max_degree, 0, 0, 0, threads};
    if (ctx->triplets) {
        sz.n_short = (size_t)ctx->triplets->n_short;
        sz.n_triplets = (size_t)ctx->triplets->n_triplets;
        sz.max_short = ctx->triplets->max_short;
    }
    size_t need[ARCH_MAX_BUFFERS] = {0}, per_thread = 0;
    hp->arch->workspace(hp, &sz, need, &per_thread);
    for (int k = 0; k < ARCH_MAX_BUFFERS; k++) {
        if (need[k] > c->cap_buffer[k]) {
            if ((st = mem_resize(&c->buffer[k], need[k], sizeof *c->buffer[k])))
                return st;
            c->cap_buffer[k] = need[k];
        }
        ctx->buffer[k] = c->buffer[k];
    }
    if (per_thread < H) /* the readout's reverse sweep uses H per thread */
        per_thread = H;
    size_t total = per_thread * (size_t)threads;
    if (total > c->cap_scratch || !c->scratch) {
        if ((st = mem_resize(&c->scratch, total, sizeof *c->scratch)))
            return st;
        c->cap_scratch = total;
    }
    c->n_threads = threads;
    ctx->scratch = c->scratch;
    ctx->scratch_per_thread = per_thread;
    ctx->n_threads = threads;
    ctx->species = c->species;
    ctx->h = c->h;
    ctx->dh = c->dh;
    ctx->edge_adjoint = c->edge_adjoint;
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

/* The hop distances of a subset evaluation (eval.h): breadth first from the contributing
 * atoms in atom order, each row in graph order, up to L + 1 hops (farther atoms get L + 2). */
static void subset_hops(mlpot_calculator *c, const int *contributing) {
    eval_context *ctx = &c->ctx;
    const mlpot_graph *g = c->graph;
    int N = ctx->n_atoms, L = c->model->hp.n_layers, far = L + 2, tail = 0;
    for (int i = 0; i < N; i++) {
        c->hop[i] = contributing[i] ? 0 : far;
        if (contributing[i])
            c->hop_order[tail++] = i;
    }
    ctx->n_within[0] = tail;
    for (int k = 1, head = 0; k <= L + 1; k++) {
        for (int end = tail; head < end; head++) {
            int i = c->hop_order[head];
            for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
                int j = g->neighbor[e];
                if (c->hop[j] == far) {
                    c->hop[j] = k;
                    c->hop_order[tail++] = j;
                }
            }
        }
        ctx->n_within[k] = tail;
    }
    ctx->hop = c->hop;
    ctx->hop_order = c->hop_order;
}

/* Graph, workspace and the forward pass up to the per-atom energies (only those of the
 * contributing atoms, and the layers trimmed to them, when `contributing` is given); returns
 * the sum of the per-atom energies. */
static mlpot_status calculator_forward(mlpot_calculator *c, const mlpot_structure *s,
                                       int with_grad, const int *contributing,
                                       double *energy_out) {
    const mlpot_model *m = c->model;
    const model_hparams *hp = &m->hp;
    mlpot_status st = mlpot_graph_build(c->graph, s, hp->cutoff);
    if (st)
        return st;
    const mlpot_graph *g = c->graph;
    eval_context *ctx = &c->ctx;
    ctx->model = m;
    ctx->hp = hp;
    ctx->params = m->arch_views;
    ctx->graph = g;
    ctx->triplets = NULL;
    if (hp->arch->triplet_cutoff) {
        if ((st = triplet_list_build(&c->triplets, g, hp->arch->triplet_cutoff(hp))))
            return st;
        ctx->triplets = &c->triplets;
    }
    ctx->n_atoms = s->n_atoms;
    ctx->n_edges = g->n_edges;
    ctx->max_degree = 0;
    for (int i = 0; i < s->n_atoms; i++) {
        int deg = (int)(g->row_start[i + 1] - g->row_start[i]);
        ctx->max_degree = deg > ctx->max_degree ? deg : ctx->max_degree;
    }
    if ((st = workspace_reserve(c)) || (st = map_species(c, s)))
        return st;
    ctx->with_grad = with_grad;
    ctx->grad = with_grad ? c->grad_arch : NULL;
    ctx->parallel = !with_grad && ctx->n_atoms >= CALCULATOR_PARALLEL_MIN;
    ctx->hop = ctx->hop_order = NULL;
    int N = ctx->n_atoms, F = hp->n_features;
    if (contributing && !c->no_trim) {
        subset_hops(c, contributing);
        memset(c->energies, 0, (size_t)N * sizeof *c->energies); /* the readout skips ghosts */
    }
    for (int i = 0; i < N; i++) /* h_0 = embedding[s_i] */
        memcpy(c->h + (size_t)i * F, m->v.embedding + (size_t)c->species[i] * F,
               (size_t)F * sizeof *c->h);
    if ((st = hp->arch->forward(ctx)))
        return st;
    readout_forward(ctx, c->readout_t, c->energies);
    double energy = 0;
    for (int i = 0; i < N; i++)
        energy += c->energies[i];
    *energy_out = energy;
    return MLPOT_OK;
}

/* The reverse sweep: dE/dh_L from the readout, then the architecture's layers, leaving dE/dh_0
 * in ctx->dh and dE/dd_e in ctx->edge_adjoint. */
static mlpot_status calculator_backward(mlpot_calculator *c, const int *contributing,
                                        model_views *grad) {
    eval_context *ctx = &c->ctx;
    readout_backward(ctx, c->readout_t, contributing, grad);
    memset(c->edge_adjoint, 0, 3 * (size_t)ctx->n_edges * sizeof *c->edge_adjoint);
    return c->model->hp.arch->backward(ctx);
}

mlpot_status calculator_energy_gradient(mlpot_calculator *c, const mlpot_structure *s,
                                        double *energy, double *grad) {
    const mlpot_model *m = c->model;
    model_bind_views(m, grad, &c->grad, c->grad_arch);
    mlpot_status st = calculator_forward(c, s, 1, NULL, energy);
    if (st == MLPOT_OK) {
        int N = c->ctx.n_atoms, F = m->hp.n_features;
        st = calculator_backward(c, NULL, &c->grad);
        for (int i = 0; !st && i < N; i++) /* h_0 = embedding[s_i] */
            for (int f = 0; f < F; f++)
                c->grad.embedding[(size_t)c->species[i] * F + f] += c->dh[(size_t)i * F + f];
    }
    c->ctx.with_grad = 0;
    c->ctx.grad = NULL;
    return st;
}

/* E_C = sum of E_i over the contributing atoms (all when contributing is NULL) and, on request,
 * its per-atom energies, forces on every atom, stress and per-atom virials W_k. */
static mlpot_status calculator_evaluate(mlpot_calculator *c, const mlpot_structure *s,
                                        const int *contributing, mlpot_results *r,
                                        double *virials) {
    const mlpot_graph *g = c->graph;
    double energy_all = 0;
    mlpot_status st = calculator_forward(c, s, 0, contributing, &energy_all);
    if (st)
        return st;
    int N = c->ctx.n_atoms;
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

    if ((st = calculator_backward(c, contributing, NULL)))
        return st;

    /* model.md §6: F_k = sum over row k of (g_e - g_rev(e)), the edges k <- j and j <- k;
     * per-atom virial W_k[x][y] = sum over row k of d_e,x g_e,y (§8 orientation). */
    const double *ga = c->edge_adjoint;
#pragma omp parallel for schedule(static) if (c->ctx.parallel)
    for (int k = 0; k < N; k++) {
        double f[3] = {0, 0, 0}, w[9] = {0};
        for (int64_t e = g->row_start[k]; e < g->row_start[k + 1]; e++) {
            const double *d = g->vector + 3 * e, *ge = ga + 3 * e, *gr = ga + 3 * g->reverse[e];
            for (int x = 0; x < 3; x++) {
                f[x] += ge[x] - gr[x];
                for (int y = 0; y < 3; y++)
                    w[3 * x + y] += d[x] * ge[y];
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
