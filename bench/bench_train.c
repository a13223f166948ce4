/* bench_train.c — training throughput: frames/s and atoms/s of full training steps (loss with
 * energy, force and stress terms and its parameter gradient) on rattled 64-atom diamond-Si
 * frames, for the default cgcnn and megnet sizes and a small cgcnn, on 1 and 2 threads (frames
 * of a batch in parallel, as mlpot train runs them). Usage: bench_train [frames]. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "model/model.h"
#include "train/loss.h"

static mlpot_model *make_model(const char *arch, int F, int L, int K) {
    model_hparams hp = {.n_species = 1, .species = {14}, .cutoff = 5.0, .n_layers = L,
                        .n_features = F, .n_basis = K, .readout_hidden = F, .envelope_p = 6,
                        .avg_neighbors = 28.0, .energy_scale = 1.0};
    model_hparams_set_arch(&hp, arch_find(arch)); /* its own hyper-parameters at defaults */
    mlpot_model *m = NULL;
    if (model_create(&hp, &m)) {
        fprintf(stderr, "bench_train: %s\n", mlpot_last_error());
        exit(1);
    }
    model_init_random(m, 1);
    return m;
}

int main(int argc, char **argv) {
    int n_frames = argc > 1 ? atoi(argv[1]) : 16;
    mlpot_structure **frames = malloc((size_t)n_frames * sizeof *frames);
    unsigned long long state = 12345;
    for (int f = 0; f < n_frames; f++) {
        frames[f] = bench_supercell("Si.vasp", 2);
        int n = mlpot_structure_n_atoms(frames[f]);
        double *pos = malloc((size_t)n * 3 * sizeof *pos), *forces = calloc((size_t)n * 3, 8);
        double stress[9] = {0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01};
        memcpy(pos, mlpot_structure_positions(frames[f]), (size_t)n * 3 * sizeof *pos);
        for (int k = 0; k < 3 * n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            pos[k] += 0.1 * ((double)(state >> 11) / 9007199254740992.0 - 0.5);
            forces[k] = 0.5 * ((double)(state >> 13) / 2251799813685248.0 - 0.5);
        }
        mlpot_structure_set_positions(frames[f], pos);
        mlpot_structure_set_energy(frames[f], -5.4 * n);
        mlpot_structure_set_forces(frames[f], forces);
        mlpot_structure_set_stress(frames[f], stress);
        free(pos);
        free(forces);
    }
    struct {
        const char *name;
        const char *arch;
        int F, L, K;
    } configs[] = {{"cgcnn F=32 L=2 K=16", "cgcnn", 32, 2, 16},
                   {"cgcnn F=64 L=3 K=32", "cgcnn", 64, 3, 32},
                   {"megnet F=64 L=3 K=32", "megnet", 64, 3, 32}};
    printf("training steps (E + F + S loss and gradient), 64-atom Si frames\n");
    printf("%-22s %8s %10s %12s %10s\n", "model", "threads", "frames/s", "atoms/s", "ms/frame");
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        mlpot_model *m = make_model(configs[c].arch, configs[c].F, configs[c].L, configs[c].K);
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            mlpot_calculator *calc[2];
            loss_workspace *ws[2];
            double *grads = calloc(m->n_params * (size_t)n_frames, sizeof(double));
            for (int t = 0; t < 2; t++) {
                mlpot_calculator_create(&calc[t], m);
                loss_workspace_create(&ws[t], m->n_params);
            }
            loss_norms norms = {0};
            for (int f = 0; f < n_frames; f++)
                loss_norms_add(&norms, frames[f], 1.0);
            loss_weights w = {.energy = 1, .force = 1, .stress = 1};
            double t0 = bench_seconds();
#pragma omp parallel for schedule(static)
            for (int f = 0; f < n_frames; f++) {
                double loss = 0;
                frame_errors err;
                int t = omp_get_thread_num();
                frame_loss(calc[t], frames[f], 1.0, &w, &norms, ws[t], &loss,
                           grads + (size_t)f * m->n_params, &err);
            }
            double dt = bench_seconds() - t0;
            printf("%-22s %8d %10.2f %12.0f %10.2f\n", configs[c].name, threads, n_frames / dt,
                   64.0 * n_frames / dt, 1000 * dt / n_frames);
            fflush(stdout);
            for (int t = 0; t < 2; t++) {
                mlpot_calculator_free(calc[t]);
                loss_workspace_free(ws[t]);
            }
            free(grads);
        }
        mlpot_model_free(m);
    }
    for (int f = 0; f < n_frames; f++)
        mlpot_structure_free(frames[f]);
    free(frames);
    return 0;
}
