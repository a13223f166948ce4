/* bench_model.c — energy + forces + stress cost of every architecture at its default size
 * (F = 64, L = 3, K = 32, H = 64, r_c = 5 Å and the architecture's own defaults: megnet and
 * m3gnet E = 32, M = 64; m3gnet r_3 = 4 Å, N = 4, lambda = 3) on diamond Si and bcc Mo
 * supercells from 8 to ~10^5 atoms, on 1 and 2 threads: µs/atom, GFLOP/s of the dense layers
 * (counted below, per evaluation), and peak memory per atom; also the process CPU time per
 * atom, which on one thread is the rate a busy shared machine still measures.
 * Usage: bench_model [ARCH|all] [max_atoms] [max_threads] [min_threads] [reps]
 * [min_atoms]: with reps, each cell is evaluated reps times (a fixed amount of work, for timing
 * the whole process) instead of for 1 s. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "model/calculator.h"
#include "model/model.h"

/* The default sizes: the architecture's own hyper-parameters at their defaults. */
static mlpot_model *default_model(const model_arch_ops *arch, int z) {
    model_hparams hp = {.n_species = 1, .species = {z}, .cutoff = 5.0, .n_layers = 3,
                        .n_features = 64, .n_basis = 32, .readout_hidden = 64, .envelope_p = 6,
                        .avg_neighbors = 30.0, .energy_scale = 1.0};
    model_hparams_set_arch(&hp, arch);
    mlpot_model *m = NULL;
    if (model_create(&hp, &m)) {
        fprintf(stderr, "bench_model: %s\n", mlpot_last_error());
        exit(1);
    }
    model_init_random(m, 1);
    return m;
}

/* Multiply-adds of the dense layers x2, for one energy + forces + stress evaluation, as the
 * code does them (forward, then the reverse sweep with its recomputations). */
static double dense_flops(const model_hparams *hp, double N, double E, double n_short) {
    double F = hp->n_features, K = hp->n_basis, H = hp->readout_hidden, L = hp->n_layers;
    double readout = N * 4 * F * H;
    if (!strcmp(hp->arch->name, "cgcnn")) /* node terms 3x; g W_edge 2x and dg/dr W_edge 1x */
        return readout + L * (N * 3 * 8 * F * F + E * 3 * 4 * K * F);
    double threebody = 0;
    if (!strcmp(hp->arch->name, "m3gnet")) {
        /* gates h W_alpha and the projections S W_value, S W_gate: forward, recomputed in the
         * reverse sweep, and their backward (the triplet sums themselves are not counted) */
        double N3 = hp->arch_value[arch_hparam_index(hp->arch, "n_threebody_basis")];
        double lmax = hp->arch_value[arch_hparam_index(hp->arch, "threebody_lmax")];
        double Q = N3 * (lmax + 1);
        double Ed = hp->arch_value[arch_hparam_index(hp->arch, "n_edge_features")];
        threebody = L * (N * 3 * 2 * F * Q + n_short * 3 * 4 * Q * Ed);
    } else if (strcmp(hp->arch->name, "megnet")) {
        return 0; /* not counted */
    }
    double Ed = hp->arch_value[arch_hparam_index(hp->arch, "n_edge_features")];
    double M = hp->arch_value[arch_hparam_index(hp->arch, "megnet_hidden")];
    double edge_mlp = 4 * M * Ed;                          /* one evaluation of the edge MLP */
    double node_mlp = 2 * (F + Ed) * M + 2 * M * F;        /* one evaluation of the node MLP */
    double per_layer = N * 3 * 4 * F * M                    /* Q node terms: fwd, bwd, dh */
                       + E * (edge_mlp * 3 + 4 * M * Ed + 2 * M * Ed) /* fwd, A, B + backward */
                       + N * (node_mlp * 3);
    return readout + L * per_layer + E * 3 * 2 * K * Ed /* edge encoder fwd + bwd */
           + threebody;
}

static int fixed_reps; /* 0: evaluate each cell for 1 s */

static void run(const model_arch_ops *arch, const char *name, int z, int m, int threads) {
    long rss0 = bench_current_rss_kb();
    mlpot_structure *s = bench_supercell(name, m);
    mlpot_model *model = default_model(arch, z);
    mlpot_calculator *c = NULL;
    int n = mlpot_structure_n_atoms(s);
    double *forces = malloc((size_t)n * 3 * sizeof *forces), stress[9];
    omp_set_num_threads(threads);
    mlpot_results r = {.forces = forces, .stress = stress};
    if (mlpot_calculator_create(&c, model) || mlpot_calculator_compute(c, s, &r)) {
        fprintf(stderr, "bench_model: %s\n", mlpot_last_error());
        exit(1);
    }
    int reps = 0;
    double t0 = bench_seconds(), c0 = bench_cpu_seconds(), t;
    do {
        mlpot_calculator_compute(c, s, &r);
        reps++;
        t = bench_seconds() - t0;
    } while (fixed_reps ? reps < fixed_reps : t < 1.0 && reps < 1000);
    double per_call = t / reps, cpu_per_call = (bench_cpu_seconds() - c0) / reps;
    double flops = dense_flops(&model->hp, n, (double)c->ctx.n_edges,
                               c->ctx.triplets ? (double)c->ctx.triplets->n_short : 0.0);
    long rss1 = bench_current_rss_kb();
    printf("%-7s %-8s %8d %8d %12.2f %12.2f %10.2f %12.1f\n", arch->name, name, n, threads,
           1e6 * per_call / n, 1e6 * cpu_per_call / n, flops / per_call * 1e-9,
           (double)(rss1 - rss0) * 1.024 / n);
    fflush(stdout);
    mlpot_calculator_free(c);
    mlpot_model_free(model);
    free(forces);
    mlpot_structure_free(s);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int max_atoms = argc > 2 ? atoi(argv[2]) : 110000;
    int max_threads = argc > 3 ? atoi(argv[3]) : 2;
    int min_threads = argc > 4 ? atoi(argv[4]) : 1;
    fixed_reps = argc > 5 ? atoi(argv[5]) : 0;
    int min_atoms = argc > 6 ? atoi(argv[6]) : 0;
    printf("energy + forces + stress, F=64 L=3 K=32 H=64 r_c=5 Å (megnet, m3gnet E=32 M=64; "
           "m3gnet r_3=4 Å N=4 lambda=3)\n");
    printf("%-7s %-8s %8s %8s %12s %12s %10s %12s\n", "model", "crystal", "atoms", "threads",
           "us/atom", "cpu us/atom", "GFLOP/s", "kB/atom*");
    const int si_sizes[] = {1, 2, 3, 4, 5, 10, 15, 23};
    const int mo_sizes[] = {2, 4, 8, 16, 30, 37};
    for (int a = 0; a < arch_count(); a++) {
        const model_arch_ops *arch = arch_at(a);
        if (strcmp(which, "all") && strcmp(which, arch->name))
            continue;
        for (int threads = min_threads; threads <= max_threads; threads++) {
            for (size_t k = 0; k < sizeof si_sizes / sizeof si_sizes[0]; k++)
                if (8 * si_sizes[k] * si_sizes[k] * si_sizes[k] <= max_atoms &&
                    8 * si_sizes[k] * si_sizes[k] * si_sizes[k] >= min_atoms)
                    run(arch, "Si.vasp", 14, si_sizes[k], threads);
            for (size_t k = 0; k < sizeof mo_sizes / sizeof mo_sizes[0]; k++)
                if (2 * mo_sizes[k] * mo_sizes[k] * mo_sizes[k] <= max_atoms &&
                    2 * mo_sizes[k] * mo_sizes[k] * mo_sizes[k] >= min_atoms)
                    run(arch, "Mo.vasp", 42, mo_sizes[k], threads);
        }
    }
    printf("* resident memory of structure, graph, calculator workspace and results over the\n"
           "  atoms (model parameters excluded), measured after the run\n");
    return 0;
}
