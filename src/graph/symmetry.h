/* symmetry.h — internal spglib helpers shared by the graph builder and the CLI (the public
 * symmetry functions are declared in mlpot.h). */
#ifndef MLPOT_GRAPH_SYMMETRY_H
#define MLPOT_GRAPH_SYMMETRY_H

#include "mlpot/mlpot.h"

/* A reduced basis of the lattice spanned by the rows of `cell` (Niggli if niggli != 0, else
 * Delaunay) with reduced = map * cell exactly, map an integer unimodular matrix. */
mlpot_status lattice_reduce(const double cell[9], int niggli, double eps, double reduced[9],
                            int map[9]);

/* The space group's operations in fractional coordinates (caller frees both arrays). */
mlpot_status symmetry_operations(const mlpot_structure *s, double symprec, int *n_ops,
                                 int (**rotations)[3][3], double (**translations)[3]);

#endif
