/* triplets.c — short edges (r < r_3) and the ordered pairs of them received by one atom
 * (model.md §8), taken from the CSR rows of the neighbour graph in row order, so the slot
 * numbering and triplet order depend only on the graph. */
#include "graph/triplets.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

mlpot_status triplet_list_build(triplet_list *t, const mlpot_graph *g, double cutoff3) {
    if (!t || !g) return error_set(MLPOT_ERR_INVALID_ARGUMENT, "triplet_list_build: NULL argument");
    if (!(cutoff3 > 0) || !(cutoff3 <= g->cutoff))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "three-body cutoff %g Å must be in (0, %g] (the graph's cutoff)", cutoff3,
                         g->cutoff);
    int n = g->n_atoms;
    int64_t ne = g->n_edges;
    mlpot_status st;
    if ((st = mem_reserve(&t->short_start, &t->cap_short_start, (size_t)n + 1,
                          sizeof *t->short_start)) ||
        (st = mem_reserve(&t->triplet_start, &t->cap_triplet_start, (size_t)n + 1,
                          sizeof *t->triplet_start)) ||
        (st = mem_reserve(&t->slot_of_edge, &t->cap_slot_of_edge, (size_t)ne,
                          sizeof *t->slot_of_edge)))
        return st;
    /* pass 1: slots in graph order, counts per atom */
    int64_t n_short = 0, n_triplets = 0;
    int max_short = 0;
    for (int i = 0; i < n; i++) {
        t->short_start[i] = n_short;
        t->triplet_start[i] = n_triplets;
        for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++)
            t->slot_of_edge[e] = g->distance[e] < cutoff3 ? n_short++ : -1;
        int64_t m = n_short - t->short_start[i];
        n_triplets += m * (m - 1);
        if (m > max_short) max_short = (int)m;
    }
    t->short_start[n] = n_short;
    t->triplet_start[n] = n_triplets;
    /* pass 2: slot -> edge */
    if ((st = mem_reserve(&t->short_edge, &t->cap_short_edge, (size_t)n_short,
                          sizeof *t->short_edge)))
        return st;
    for (int64_t e = 0; e < ne; e++)
        if (t->slot_of_edge[e] >= 0) t->short_edge[t->slot_of_edge[e]] = e;
    t->n_atoms = n;
    t->n_edges = ne;
    t->n_short = n_short;
    t->n_triplets = n_triplets;
    t->max_short = max_short;
    t->cutoff = cutoff3;
    return MLPOT_OK;
}

void triplet_list_free(triplet_list *t) {
    if (!t) return;
    free(t->short_start);
    free(t->short_edge);
    free(t->slot_of_edge);
    free(t->triplet_start);
    memset(t, 0, sizeof *t);
}

size_t triplet_list_bytes(const triplet_list *t) {
    return (t->cap_short_start + t->cap_triplet_start) * sizeof(int64_t) +
           t->cap_short_edge * sizeof *t->short_edge +
           t->cap_slot_of_edge * sizeof *t->slot_of_edge;
}
