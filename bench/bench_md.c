/* bench_md.c — NVE molecular dynamics with a potential file (default: the shipped Si
 * potential) on diamond Si supercells of 64 and 512 atoms, on 1 and 2 threads: steps/s,
 * µs/atom/step (the force evaluation and the integrator together) and the drift of the total
 * energy (least-squares slope, eV/atom/ps) at dt = 1 fs from 300 K.
 * Usage: bench_md [model.h5] [steps of the 64-atom cell] [max_threads]. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "md/md.h"

static void fail(void) {
    fprintf(stderr, "bench_md: %s\n", mlpot_last_error());
    exit(1);
}

static void run(const mlpot_model *model, int repeat, int steps, int threads) {
    mlpot_structure *s = bench_supercell("Si.vasp", repeat);
    mlpot_calculator *c = NULL;
    md_state *md = NULL;
    omp_set_num_threads(threads);
    md_potential pot;
    md_params p = md_default_params();
    p.seed = 1;
    if (mlpot_calculator_create(&c, model))
        fail();
    pot = md_calculator_potential(c);
    if (md_create(&md, s, &pot, &p) || md_maxwell_boltzmann(md, 300.0))
        fail();
    double st = 0, se = 0, stt = 0, ste = 0, t0 = bench_seconds();
    for (int k = 1; k <= steps; k++) {
        if (md_step(md))
            fail();
        double t = k * p.dt_fs, e = md_conserved_energy(md);
        st += t;
        se += e;
        stt += t * t;
        ste += t * e;
    }
    double elapsed = bench_seconds() - t0;
    double drift =
        (ste / steps - st * se / steps / steps) / (stt / steps - st * st / steps / steps);
    int n = md->n_atoms;
    printf("%8d %8d %8d %10.2f %14.2f %18.2e\n", n, threads, steps, steps / elapsed,
           1e6 * elapsed / ((double)steps * n), drift * 1000 / n);
    fflush(stdout);
    md_free(md);
    mlpot_calculator_free(c);
    mlpot_structure_free(s);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : MLPOT_SOURCE_DIR "/potentials/previous/Si-mlearn-cgcnn.h5";
    int steps = argc > 2 ? atoi(argv[2]) : 400;
    int max_threads = argc > 3 ? atoi(argv[3]) : 2;
    mlpot_model *model = NULL;
    if (mlpot_model_load(&model, path))
        fail();
    printf("NVE, dt 1 fs from 300 K, %s\n", path);
    printf("%8s %8s %8s %10s %14s %18s\n", "atoms", "threads", "steps", "steps/s",
           "us/atom/step", "drift eV/atom/ps");
    for (int threads = 1; threads <= max_threads; threads++) {
        run(model, 2, steps, threads);
        run(model, 4, steps / 8 > 10 ? steps / 8 : 10, threads);
    }
    mlpot_model_free(model);
    return 0;
}
