/* extrapolation.c — training ranges per species (shortest neighbour distance, neighbour count
 * within r_c, readout inputs h_L of model.md §5) gathered from the calculator's evaluations,
 * and the atoms of an evaluated structure that lie outside them, as n2p2 does with its
 * symmetry-function ranges. Values within a relative 1e-6 of the range are not reported. */
#include "model/extrapolation.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/memory.h"
#include "model/calculator.h"

#define EXTRAPOLATION_TOLERANCE 1e-6

mlpot_status model_ranges_create(int n_species, int n_features, model_ranges **out) {
    model_ranges *r = NULL;
    size_t S = (size_t)n_species, F = (size_t)n_features;
    mlpot_status st = mem_calloc(&r, 1, sizeof *r);
    if (st)
        return st;
    double *block = NULL;
    if ((st = mem_calloc(&block, 3 * S + 2 * S * F, sizeof *block))) {
        free(r);
        return st;
    }
    r->n_species = n_species;
    r->n_features = n_features;
    r->min_distance = block;
    r->neighbors_min = block + S;
    r->neighbors_max = block + 2 * S;
    r->readout_min = block + 3 * S;
    r->readout_max = block + 3 * S + S * F;
    for (size_t k = 0; k < S; k++) {
        r->min_distance[k] = r->neighbors_min[k] = INFINITY;
        r->neighbors_max[k] = -INFINITY;
    }
    for (size_t k = 0; k < S * F; k++) {
        r->readout_min[k] = INFINITY;
        r->readout_max[k] = -INFINITY;
    }
    *out = r;
    return MLPOT_OK;
}

void model_ranges_free(model_ranges *r) {
    if (!r)
        return;
    free(r->min_distance); /* the block */
    free(r);
}

/* The shortest distance of the edges atom i receives (INFINITY without neighbours). */
static double atom_min_distance(const mlpot_graph *g, int i) {
    double d = INFINITY;
    for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++)
        d = g->distance[e] < d ? g->distance[e] : d;
    return d;
}

void model_ranges_add(model_ranges *r, const mlpot_calculator *c) {
    const eval_context *ctx = &c->ctx;
    const mlpot_graph *g = ctx->graph;
    int N = ctx->n_atoms, F = r->n_features;
    const double *hL = ctx->h + (size_t)ctx->hp->n_layers * N * F;
    for (int i = 0; i < N; i++) {
        int s = ctx->species[i];
        double d = atom_min_distance(g, i), n = (double)(g->row_start[i + 1] - g->row_start[i]);
        r->min_distance[s] = d < r->min_distance[s] ? d : r->min_distance[s];
        r->neighbors_min[s] = n < r->neighbors_min[s] ? n : r->neighbors_min[s];
        r->neighbors_max[s] = n > r->neighbors_max[s] ? n : r->neighbors_max[s];
        for (int f = 0; f < F; f++) {
            double x = hL[(size_t)i * F + f];
            double *lo = r->readout_min + (size_t)s * F + f, *hi = r->readout_max + (size_t)s * F + f;
            *lo = x < *lo ? x : *lo;
            *hi = x > *hi ? x : *hi;
        }
    }
}

mlpot_status model_ranges_gather(mlpot_model *m, mlpot_structure *const *frames, int n) {
    model_ranges *r = NULL;
    mlpot_calculator *c = NULL;
    mlpot_status st = model_ranges_create(m->hp.n_species, m->hp.n_features, &r);
    if (!st)
        st = mlpot_calculator_create(&c, m);
    for (int k = 0; !st && k < n; k++) {
        mlpot_results res = {0};
        if (!(st = mlpot_calculator_compute(c, frames[k], &res)))
            model_ranges_add(r, c);
    }
    mlpot_calculator_free(c);
    if (st) {
        model_ranges_free(r);
        return st;
    }
    model_ranges_free(m->ranges);
    m->ranges = r;
    return MLPOT_OK;
}

int mlpot_model_has_ranges(const mlpot_model *m) {
    return m && m->ranges;
}

/* How far x lies outside [lo, hi] relative to the width (1 when the range is a point); 0
 * inside, and for a species the training frames did not have (lo > hi). */
static double range_excess(double x, double lo, double hi) {
    if (!(lo <= hi))
        return 0;
    double width = hi - lo > 0 ? hi - lo : 1;
    double e = x < lo ? (lo - x) / width : x > hi ? (x - hi) / width : 0;
    return e > EXTRAPOLATION_TOLERANCE ? e : 0;
}

/* Atom i's worst quantity (excess 0 when within every range); bit q of *kinds set for each
 * quantity q outside its range. */
static mlpot_extrapolation atom_extrapolation(const mlpot_calculator *c, int i, unsigned *kinds) {
    const eval_context *ctx = &c->ctx;
    const model_ranges *r = c->model->ranges;
    const mlpot_graph *g = ctx->graph;
    int s = ctx->species[i], N = ctx->n_atoms, F = r->n_features;
    mlpot_extrapolation w = {i, MLPOT_RANGE_DISTANCE, -1, 0, 0, 0, 0};
    double d = atom_min_distance(g, i), cutoff = ctx->hp->cutoff;
    double e = d < cutoff ? range_excess(d, r->min_distance[s], cutoff) : 0;
    *kinds = e > 0 ? 1u << MLPOT_RANGE_DISTANCE : 0;
    if (e > w.excess)
        w = (mlpot_extrapolation){i, MLPOT_RANGE_DISTANCE, -1, d, r->min_distance[s], cutoff, e};
    double n = (double)(g->row_start[i + 1] - g->row_start[i]);
    e = range_excess(n, r->neighbors_min[s], r->neighbors_max[s]);
    *kinds |= e > 0 ? 1u << MLPOT_RANGE_NEIGHBORS : 0;
    if (e > w.excess)
        w = (mlpot_extrapolation){i, MLPOT_RANGE_NEIGHBORS, -1, n, r->neighbors_min[s],
                                  r->neighbors_max[s], e};
    if (!eval_within(ctx, i, 0)) /* h_L of a trimmed subset evaluation's far atoms */
        return w;
    const double *h = ctx->h + ((size_t)ctx->hp->n_layers * N + (size_t)i) * F;
    for (int f = 0; f < F; f++) {
        double lo = r->readout_min[(size_t)s * F + f], hi = r->readout_max[(size_t)s * F + f];
        e = range_excess(h[f], lo, hi);
        *kinds |= e > 0 ? 1u << MLPOT_RANGE_READOUT_INPUT : 0;
        if (e > w.excess)
            w = (mlpot_extrapolation){i, MLPOT_RANGE_READOUT_INPUT, f, h[f], lo, hi, e};
    }
    return w;
}

/* mlpot_calculator_extrapolation, also counting the atoms outside each quantity's range
 * (by_kind[q] for quantity q, when by_kind is not NULL) and finding the atom whose shortest
 * distance lies farthest below the training range (*closest, when not NULL; excess 0 if none). */
static void find_extrapolation(const mlpot_calculator *c, mlpot_extrapolation *out,
                               int capacity, int *count, int *by_kind,
                               mlpot_extrapolation *closest) {
    *count = 0;
    if (!c->model->ranges || !c->ctx.graph || c->ctx.species != c->species)
        return; /* no ranges, or nothing evaluated yet */
    int kept = 0;
    for (int i = 0; i < c->ctx.n_atoms; i++) {
        unsigned kinds = 0;
        mlpot_extrapolation w = atom_extrapolation(c, i, &kinds);
        if (w.excess <= 0)
            continue;
        ++*count;
        for (int q = 0; by_kind && q <= MLPOT_RANGE_READOUT_INPUT; q++)
            by_kind[q] += (kinds >> q) & 1;
        if (closest && (kinds & 1u << MLPOT_RANGE_DISTANCE)) {
            const model_ranges *r = c->model->ranges;
            int s = c->ctx.species[i];
            double d = atom_min_distance(c->ctx.graph, i), rc = c->ctx.hp->cutoff;
            double e = range_excess(d, r->min_distance[s], rc);
            if (e > closest->excess)
                *closest = (mlpot_extrapolation){i, MLPOT_RANGE_DISTANCE, -1, d,
                                                 r->min_distance[s], rc, e};
        }
        int k = kept < capacity ? kept++ : capacity; /* insertion into the worst `capacity` */
        for (; k > 0 && out[k - 1].excess < w.excess; k--)
            if (k < capacity)
                out[k] = out[k - 1];
        if (k < capacity)
            out[k] = w;
    }
}

mlpot_status mlpot_calculator_extrapolation(const mlpot_calculator *c, mlpot_extrapolation *out,
                                            int capacity, int *count) {
    if (!c || !count || (capacity > 0 && !out))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_calculator_extrapolation: NULL argument");
    find_extrapolation(c, out, capacity, count, NULL, NULL);
    return MLPOT_OK;
}

#define MESSAGE_ATOMS 5

mlpot_status mlpot_calculator_extrapolation_message(const mlpot_calculator *c, char *text,
                                                    size_t size, int *count) {
    if (!c || !text || !size)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_calculator_extrapolation_message: NULL argument");
    mlpot_extrapolation worst[MESSAGE_ATOMS];
    int n = 0, by_kind[MLPOT_RANGE_READOUT_INPUT + 1] = {0};
    mlpot_extrapolation closest = {0};
    find_extrapolation(c, worst, MESSAGE_ATOMS, &n, by_kind, &closest);
    text[0] = '\0';
    if (count)
        *count = n;
    if (n == 0)
        return MLPOT_OK;
    const mlpot_model *m = c->model;
    int shown = n < MESSAGE_ATOMS ? n : MESSAGE_ATOMS;
    size_t used = (size_t)snprintf(text, size, "extrapolating: %d of %d atoms outside the "
                                   "training range:", n, c->ctx.n_atoms);
    for (int k = 0; k < shown && used < size; k++)
        used += (size_t)snprintf(text + used, size - used, "%s %s%d", k ? "," : "",
                                 element_symbol(m->hp.species[c->species[worst[k].atom]]),
                                 worst[k].atom + 1);
    if (n > shown && used < size)
        used += (size_t)snprintf(text + used, size - used, ", ...");
    static const char *kind_names[] = {"closer to a neighbour than any in training",
                                       "with a neighbour count not seen in training",
                                       "with readout inputs outside the training range"};
    for (int q = 0; q <= MLPOT_RANGE_READOUT_INPUT && used < size; q++)
        if (by_kind[q]) {
            used += (size_t)snprintf(text + used, size - used, "; %d %s", by_kind[q],
                                     kind_names[q]);
            if (q == MLPOT_RANGE_DISTANCE && used < size)
                used += (size_t)snprintf(
                    text + used, size - used, " (atom %d at %.3f Å from a neighbour, %s down to "
                    "%.3f Å in training)", closest.atom + 1, closest.value,
                    element_symbol(m->hp.species[c->species[closest.atom]]), closest.low);
        }
    const mlpot_extrapolation *w = &worst[0];
    const char *sym = element_symbol(m->hp.species[c->species[w->atom]]);
    if (used >= size)
        return MLPOT_OK;
    if (w->quantity == MLPOT_RANGE_DISTANCE)
        snprintf(text + used, size - used, "; worst: atom %d (%s) at %.3f Å from a neighbour, "
                 "%s down to %.3f Å in training: %.0f%% of the range width beyond",
                 w->atom + 1, sym, w->value, sym, w->low, 100 * w->excess);
    else if (w->quantity == MLPOT_RANGE_NEIGHBORS)
        snprintf(text + used, size - used, "; worst: atom %d (%s) with %.0f neighbours, %s with "
                 "%.0f to %.0f in training: %.0f%% of the range width beyond",
                 w->atom + 1, sym, w->value, sym, w->low, w->high, 100 * w->excess);
    else
        snprintf(text + used, size - used, "; worst: atom %d (%s) readout input feature %d at "
                 "%.4g, %s in [%.4g, %.4g] in training: %.0f%% of the range width beyond",
                 w->atom + 1, sym, w->feature + 1, w->value, sym, w->low, w->high,
                 100 * w->excess);
    return MLPOT_OK;
}
