/* committee.c — the C API's committee: several models evaluated on every frame of a structure
 * file, their mean energy and their spread (energy std per atom, per-atom force deviation and
 * its max and mean), the atom the models disagree on most. Usage: committee FILE MODEL... */
#include <stdio.h>
#include <stdlib.h>
#include <mlpot/mlpot.h>

#define MAX_MODELS 16

static int fail(void) {
    fprintf(stderr, "committee: %s\n", mlpot_last_error());
    return 1;
}

int main(int argc, char **argv) {
    int n_models = argc - 2;
    if (n_models < 1 || n_models > MAX_MODELS) {
        fprintf(stderr, "usage: committee STRUCTURES MODEL... (1 to %d models)\n", MAX_MODELS);
        return 2;
    }
    mlpot_model *models[MAX_MODELS] = {0};
    for (int k = 0; k < n_models; k++)
        if (mlpot_model_load(&models[k], argv[2 + k]))
            return fail();
    mlpot_committee *committee = NULL;
    mlpot_reader *reader = NULL;
    if (mlpot_committee_create(&committee, (const mlpot_model *const *)models, n_models) ||
        mlpot_reader_open(&reader, argv[1], NULL))
        return fail();
    mlpot_structure *s = NULL;
    for (int frame = 1; mlpot_reader_next(reader, &s) == MLPOT_OK && s; frame++) {
        int n = mlpot_structure_n_atoms(s);
        double *forces = malloc(3 * (size_t)n * sizeof *forces);
        double *deviations = malloc((size_t)n * sizeof *deviations);
        mlpot_results mean = {.forces = forces};
        mlpot_committee_deviation spread = {.force_deviations = deviations};
        if (!forces || !deviations || mlpot_committee_compute(committee, s, &mean, &spread))
            return fail();
        int worst = 0;
        for (int i = 1; i < n; i++)
            if (deviations[i] > deviations[worst])
                worst = i;
        printf("frame %d: %d atoms, mean energy %.6f eV, energy std %.2f meV/atom, force "
               "deviation max %.4f (atom %d) mean %.4f eV/Å\n",
               frame, n, mean.energy, 1000 * spread.energy_std_per_atom,
               spread.force_deviation_max, worst + 1, spread.force_deviation_mean);
        free(forces);
        free(deviations);
        mlpot_structure_free(s);
    }
    mlpot_reader_close(reader);
    mlpot_committee_free(committee); /* before its models */
    for (int k = 0; k < n_models; k++)
        mlpot_model_free(models[k]);
    return 0;
}
