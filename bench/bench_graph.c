/* bench_graph.c — neighbour-graph building speed at r_c = 5 Å for diamond Si and bcc Mo
 * supercells from 8 to ~10^5 atoms, on 1 and 2 OpenMP threads: µs per atom and edges per
 * second (the target: >= 10^7 edges/s on one core).
 * Usage: bench_graph [cutoff] [max_threads]. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

static void run(const char *name, int m, double cutoff, int threads) {
    mlpot_structure *s = bench_supercell(name, m);
    mlpot_graph *g = NULL;
    if (mlpot_graph_create(&g) || mlpot_graph_build(g, s, cutoff)) {
        fprintf(stderr, "bench_graph: %s\n", mlpot_last_error());
        exit(1);
    }
    omp_set_num_threads(threads);
    int n = mlpot_structure_n_atoms(s);
    /* repeat until at least 0.5 s has passed (buffers are reused, as in MD) */
    int reps = 0;
    double t0 = bench_seconds(), t;
    do {
        if (mlpot_graph_build(g, s, cutoff)) {
            fprintf(stderr, "bench_graph: %s\n", mlpot_last_error());
            exit(1);
        }
        reps++;
        t = bench_seconds() - t0;
    } while (t < 0.5);
    double per_build = t / reps;
    long long edges = (long long)mlpot_graph_n_edges(g);
    printf("%-10s %8d %10lld %8d %12.3f %14.3e\n", name, n, edges, threads, 1e6 * per_build / n,
           edges / per_build);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
}

int main(int argc, char **argv) {
    double cutoff = argc > 1 ? atof(argv[1]) : 5.0;
    int max_threads = argc > 2 ? atoi(argv[2]) : 2;
    printf("neighbour graph build, r_c = %g Å\n", cutoff);
    printf("%-10s %8s %10s %8s %12s %14s\n", "structure", "atoms", "edges", "threads", "us/atom",
           "edges/s");
    const int si_sizes[] = {1, 2, 3, 5, 10, 15, 23};
    const int mo_sizes[] = {2, 4, 8, 16, 30, 37};
    for (int threads = 1; threads <= max_threads; threads++) {
        for (size_t k = 0; k < sizeof si_sizes / sizeof si_sizes[0]; k++)
            run("Si.vasp", si_sizes[k], cutoff, threads);
        for (size_t k = 0; k < sizeof mo_sizes / sizeof mo_sizes[0]; k++)
            run("Mo.vasp", mo_sizes[k], cutoff, threads);
    }
    printf("peak memory: %ld MB\n", bench_peak_rss_kb() / 1024);
    return 0;
}
