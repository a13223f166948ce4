/* neighbor_graph.h — the neighbour graph behind the opaque mlpot_graph handle (model.md §1):
 * CSR rows of edges by receiving atom, with reverse-edge indices, plus the binning workspace
 * that is kept between builds so that MD steps allocate nothing once sizes settle. */
#ifndef MLPOT_GRAPH_NEIGHBOR_GRAPH_H
#define MLPOT_GRAPH_NEIGHBOR_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "mlpot/mlpot.h"

struct mlpot_graph {
    int n_atoms;
    int64_t n_edges;
    double cutoff;
    int64_t *row_start; /* [n_atoms + 1]: edges of atom i are row_start[i] .. row_start[i+1]-1 */
    int *neighbor;      /* [E] j */
    int *image;         /* [E][3] n */
    double *vector;     /* [E][3] d_ij = r_j + n L - r_i */
    double *distance;   /* [E] r_ij */
    int64_t *reverse;   /* [E] index of (j, i, -n) */
    size_t cap_row_start, cap_neighbor, cap_image, cap_vector, cap_distance, cap_reverse;
    /* workspace */
    double *wrapped;       /* [n][3] positions wrapped into the binning frame */
    int *shift;            /* [n][3] lattice shift removed by wrapping (binning basis) */
    int *atom_bin;         /* [n] */
    int *bin_atoms;        /* [n] atoms in bin order */
    double *bin_positions; /* [n][3] wrapped positions in bin order */
    int *bin_start;        /* [n_bins + 1] */
    void *buffers;         /* per-thread edge buffers (thread_buffer[n_buffers]) */
    int n_buffers;
    size_t cap_wrapped, cap_shift, cap_atom_bin, cap_bin_atoms, cap_bin_positions,
        cap_bin_start;
};

/* Builds (or rebuilds, reusing buffers) the graph of `s` at cutoff r_c (Å). */
mlpot_status neighbor_graph_build(mlpot_graph *g, const mlpot_structure *s, double cutoff);

#endif
