/* triplets.h — the three-body triplets of model.md §8 on top of a CSR neighbour graph: for each
 * receiving atom its short edges (r < r_3) and every ordered pair (a, b) of distinct short edges,
 * a = (i, j, n_a), b = (i, k, n_b) (j = k with n_a != n_b included). */
#ifndef MLPOT_GRAPH_TRIPLETS_H
#define MLPOT_GRAPH_TRIPLETS_H

#include <stddef.h>
#include <stdint.h>

#include "graph/neighbor_graph.h"

/* Short edges are numbered by "slots" s = 0..n_short-1 in graph order (receiving atom, then the
 * graph's row order), so the short edges of atom i are the slots short_start[i] ..
 * short_start[i+1]-1, m_i = short_start[i+1] - short_start[i] of them. The pairs themselves are
 * not stored: atom i owns the m_i (m_i - 1) triplets (a, b) of two distinct slots of its range,
 * ordered by a, then b, with the flat index triplet_index() (triplet_start[i] + ...). Buffers
 * are kept between builds and grow only when a structure needs more. Zero-initialise the struct
 * before the first build (triplet_list t = {0};) and release it with triplet_list_free(). */
typedef struct {
    int n_atoms;
    int64_t n_edges;        /* edges of the graph it was built from */
    int64_t n_short;        /* short edges (slots) */
    int64_t n_triplets;     /* sum over atoms of m_i (m_i - 1) */
    int max_short;          /* largest m_i */
    double cutoff;          /* r_3, Å */
    int64_t *short_start;   /* [n_atoms + 1] first slot of atom i */
    int64_t *short_edge;    /* [n_short] graph edge index of slot s */
    int64_t *slot_of_edge;  /* [n_edges] slot of graph edge e, or -1 when r_e >= r_3 */
    int64_t *triplet_start; /* [n_atoms + 1] flat index of atom i's first triplet */
    size_t cap_short_start, cap_short_edge, cap_slot_of_edge, cap_triplet_start;
} triplet_list;

/* Builds (or rebuilds, reusing buffers) the triplets of graph g for three-body cutoff r_3:
 * O(edges), deterministic. Requires 0 < r_3 <= g->cutoff (short edges are graph edges). */
mlpot_status triplet_list_build(triplet_list *t, const mlpot_graph *g, double cutoff3);

/* Frees the buffers and zeroes the struct (it can be built again). */
void triplet_list_free(triplet_list *t);

/* Flat index of triplet (a, b) of atom i, given the positions pa != pb of the two slots within
 * atom i's range (pa = slot_a - short_start[i]): triplets are ordered by a, then b, skipping
 * b = a. */
static inline int64_t triplet_index(const triplet_list *t, int i, int64_t pa, int64_t pb) {
    int64_t m = t->short_start[i + 1] - t->short_start[i];
    return t->triplet_start[i] + pa * (m - 1) + (pb < pa ? pb : pb - 1);
}

/* Bytes of the list's buffers for the current structure (for memory reports). */
size_t triplet_list_bytes(const triplet_list *t);

#endif
