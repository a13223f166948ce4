/* neighbors.c — reads a structure and lists the neighbours of its first atom (README example). */
#include <stdio.h>
#include <stdlib.h>
#include <mlpot/mlpot.h>

int main(int argc, char **argv) {
    mlpot_structure **frames = NULL;
    int n_frames = 0;
    mlpot_graph *graph = NULL;
    if (mlpot_read_all(argc > 1 ? argv[1] : "structures/Si.vasp", NULL, &frames, &n_frames) ||
        mlpot_graph_create(&graph) || mlpot_graph_build(graph, frames[0], 5.0)) {
        fprintf(stderr, "mlpot: %s\n", mlpot_last_error());
        return 1;
    }
    const int64_t *row = mlpot_graph_row_start(graph);
    const int *j = mlpot_graph_neighbors(graph);
    const double *r = mlpot_graph_distances(graph);
    for (int64_t e = row[0]; e < row[1] && e < row[0] + 4; e++)
        printf("atom 0 <- atom %d at %.4f Å\n", j[e], r[e]);
    mlpot_graph_free(graph);
    for (int k = 0; k < n_frames; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
    return 0;
}
