/* committee.c — mlpot_committee: several models evaluated on one structure, their mean
 * prediction and its spread (energy std per atom, per-atom force deviation as DeePMD's model
 * deviation). Each model keeps its own calculator, hence its own graph at its own cutoff. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "io/structure.h"

struct mlpot_committee {
    int n_models;
    mlpot_calculator **calculators; /* [n_models] */
    double *forces;                 /* [n_models][N][3] each model's forces */
    double *energies;               /* [N] one model's per-atom energies */
    double *model_energy;           /* [n_models] */
    size_t cap_atoms;
};

mlpot_status mlpot_committee_create(mlpot_committee **out, const mlpot_model *const *models,
                                    int n_models) {
    if (!out || !models || n_models < 1)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_committee_create: needs at least one model, got %d", n_models);
    for (int k = 0; k < n_models; k++)
        if (!models[k])
            return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_committee_create: model %d is NULL",
                             k + 1);
    mlpot_committee *c = NULL;
    mlpot_status st = mem_calloc(&c, 1, sizeof *c);
    if (st)
        return st;
    c->n_models = n_models;
    if ((st = mem_calloc(&c->calculators, (size_t)n_models, sizeof *c->calculators)) ||
        (st = mem_calloc(&c->model_energy, (size_t)n_models, sizeof *c->model_energy))) {
        mlpot_committee_free(c);
        return st;
    }
    for (int k = 0; k < n_models; k++)
        if ((st = mlpot_calculator_create(&c->calculators[k], models[k]))) {
            mlpot_committee_free(c);
            return st;
        }
    *out = c;
    return MLPOT_OK;
}

void mlpot_committee_free(mlpot_committee *c) {
    if (!c)
        return;
    for (int k = 0; c->calculators && k < c->n_models; k++)
        mlpot_calculator_free(c->calculators[k]);
    free(c->calculators);
    free(c->forces);
    free(c->energies);
    free(c->model_energy);
    free(c);
}

int mlpot_committee_size(const mlpot_committee *c) { return c ? c->n_models : 0; }

mlpot_status mlpot_committee_calculator(const mlpot_committee *c, int k,
                                        const mlpot_calculator **out) {
    if (!c || !out || k < 0 || k >= c->n_models)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "mlpot_committee_calculator: expected a member 0..%d, got %d",
                         c ? c->n_models - 1 : -1, k);
    *out = c->calculators[k];
    return MLPOT_OK;
}

/* Grows the per-model buffers to N atoms (never shrinks: MD reuses them). */
static mlpot_status committee_reserve(mlpot_committee *c, size_t n_atoms) {
    if (n_atoms <= c->cap_atoms && c->forces)
        return MLPOT_OK;
    size_t n = n_atoms ? n_atoms : 1;
    mlpot_status st;
    if ((st = mem_resize(&c->forces, (size_t)c->n_models * 3 * n, sizeof *c->forces)) ||
        (st = mem_resize(&c->energies, n, sizeof *c->energies)))
        return st;
    c->cap_atoms = n;
    return MLPOT_OK;
}

mlpot_status mlpot_committee_compute(mlpot_committee *c, const mlpot_structure *s,
                                     mlpot_results *mean, mlpot_committee_deviation *deviation) {
    if (!c || !s || !mean)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_committee_compute: NULL argument");
    size_t n = (size_t)s->n_atoms, n3 = 3 * n;
    int K = c->n_models;
    mlpot_status st = committee_reserve(c, n);
    if (st)
        return st;
    double stress_sum[9] = {0};
    int has_stress = 1;
    if (mean->energies)
        memset(mean->energies, 0, n * sizeof *mean->energies);
    for (int k = 0; k < K; k++) {
        double stress[9];
        mlpot_results r = {.forces = c->forces + (size_t)k * n3,
                           .energies = mean->energies ? c->energies : NULL,
                           .stress = mean->stress ? stress : NULL};
        if ((st = mlpot_calculator_compute(c->calculators[k], s, &r))) {
            if (K > 1)
                error_prefix("committee model %d", k + 1);
            return st;
        }
        c->model_energy[k] = r.energy;
        has_stress = has_stress && r.has_stress;
        if (mean->stress && r.has_stress)
            for (int x = 0; x < 9; x++)
                stress_sum[x] += stress[x];
        if (mean->energies)
            for (size_t i = 0; i < n; i++)
                mean->energies[i] += c->energies[i];
    }
    /* means: sums in model order divided by K (exact for K = 1) */
    double energy_sum = 0;
    for (int k = 0; k < K; k++)
        energy_sum += c->model_energy[k];
    mean->energy = energy_sum / K;
    if (mean->energies)
        for (size_t i = 0; i < n; i++)
            mean->energies[i] /= K;
    mean->has_stress = mean->stress && has_stress;
    if (mean->has_stress)
        for (int x = 0; x < 9; x++)
            mean->stress[x] = stress_sum[x] / K;
    double variance = 0;
    for (int k = 0; k < K; k++)
        variance += (c->model_energy[k] - mean->energy) * (c->model_energy[k] - mean->energy);
    double deviation_max = 0, deviation_sum = 0;
    for (size_t i = 0; i < n; i++) {
        double squared = 0; /* sum over models of |F_ki - <F_i>|^2 */
        for (int x = 0; x < 3; x++) {
            double sum = 0;
            for (int k = 0; k < K; k++)
                sum += c->forces[(size_t)k * n3 + 3 * i + (size_t)x];
            double m = sum / K;
            if (mean->forces)
                mean->forces[3 * i + (size_t)x] = m;
            for (int k = 0; k < K; k++) {
                double d = c->forces[(size_t)k * n3 + 3 * i + (size_t)x] - m;
                squared += d * d;
            }
        }
        double dev = sqrt(squared / K);
        if (deviation && deviation->force_deviations)
            deviation->force_deviations[i] = dev;
        deviation_max = fmax(deviation_max, dev);
        deviation_sum += dev;
    }
    if (deviation) {
        deviation->energy_std_per_atom = n ? sqrt(variance / K) / (double)n : 0;
        deviation->force_deviation_max = deviation_max;
        deviation->force_deviation_mean = n ? deviation_sum / (double)n : 0;
    }
    return MLPOT_OK;
}
