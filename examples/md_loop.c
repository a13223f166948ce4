/* md_loop.c — the C API in an MD-style loop: load a model, build a structure from plain arrays
 * (what ASE and LAMMPS hold), then move the atoms and recompute energy, forces and stress with
 * one calculator whose workspace is reused. Usage: md_loop MODEL.h5 STRUCTURE [steps]. */
#include <stdio.h>
#include <stdlib.h>
#include <mlpot/mlpot.h>

static int fail(void) {
    fprintf(stderr, "md_loop: %s\n", mlpot_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: md_loop MODEL.h5 STRUCTURE [steps]\n");
        return 2;
    }
    int steps = argc > 3 ? atoi(argv[3]) : 5;
    mlpot_model *model = NULL;
    mlpot_calculator *calc = NULL;
    mlpot_structure **frames = NULL;
    int n_frames = 0;
    if (mlpot_model_load(&model, argv[1]) || mlpot_calculator_create(&calc, model) ||
        mlpot_read_all(argv[2], NULL, &frames, &n_frames))
        return fail();
    mlpot_structure *s = frames[0];
    int n = mlpot_structure_n_atoms(s);
    double *positions = malloc(3 * (size_t)n * sizeof *positions);
    double *forces = malloc(3 * (size_t)n * sizeof *forces);
    double stress[9];
    for (int k = 0; k < 3 * n; k++)
        positions[k] = mlpot_structure_positions(s)[k];
    for (int step = 0; step < steps; step++) {
        mlpot_results r = {.forces = forces, .stress = stress};
        if (mlpot_calculator_compute(calc, s, &r))
            return fail();
        printf("step %d  E = %.8f eV  F[0] = (%.6f, %.6f, %.6f) eV/A", step, r.energy, forces[0],
               forces[1], forces[2]);
        if (r.has_stress)
            printf("  P = %.6f GPa", -(stress[0] + stress[4] + stress[8]) / 3 * 160.21766208);
        printf("\n");
        /* a steepest-descent step stands in for an integrator */
        for (int k = 0; k < 3 * n; k++)
            positions[k] += 0.01 * forces[k];
        if (mlpot_structure_set_positions(s, positions))
            return fail();
    }
    free(positions);
    free(forces);
    for (int k = 0; k < n_frames; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
    mlpot_calculator_free(calc);
    mlpot_model_free(model);
    return 0;
}
