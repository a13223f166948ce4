/* cli_simulation.c — what `mlpot md` and `mlpot relax` share: the structure and the potential
 * (--model, or the shipped one that covers the structure), strict integer options, trajectory
 * frames updated in place, and a monotonic clock. */
#define _GNU_SOURCE
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli_common.h"
#include "core/memory.h"
#include "io/line_reader.h"
#include "io/structure.h"

int cli_parse_long(const char *command, const char *option, const char *text, long min,
                   long max, long *value) {
    if (!parse_long(text, value) || *value < min || *value > max) {
        if (max >= INT_MAX)
            cli_usage_error(command, "%s expects an integer >= %ld, got '%s'", option, min, text);
        else
            cli_usage_error(command, "%s expects an integer in %ld..%ld, got '%s'", option, min,
                            max, text);
        return 0;
    }
    return 1;
}

/* Below this distance (Å) two atoms are physically absurd, though not the same position of
 * model.md §9 (1e-8 Å, an error of the neighbour graph): md and relax warn. */
#define ABSURD_DISTANCE 0.1

/* An error for coinciding atoms (and spans the neighbour search cannot bin), a warning for
 * atoms closer than ABSURD_DISTANCE; 0 after an error. */
static int check_close_atoms(const mlpot_structure *s, const char *path) {
    mlpot_graph *g = NULL;
    if (mlpot_graph_create(&g) || mlpot_graph_build(g, s, ABSURD_DISTANCE)) {
        fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
        mlpot_graph_free(g);
        return 0;
    }
    const int64_t *row = mlpot_graph_row_start(g);
    const int *neighbors = mlpot_graph_neighbors(g);
    const double *distance = mlpot_graph_distances(g);
    int64_t closest = -1;
    int closest_i = 0;
    for (int i = 0; i < mlpot_graph_n_atoms(g); i++)
        for (int64_t e = row[i]; e < row[i + 1]; e++)
            if (closest < 0 || distance[e] < distance[closest]) {
                closest = e;
                closest_i = i;
            }
    if (closest >= 0)
        fprintf(stderr,
                "mlpot: warning: %s: atoms %d and %d are %.3g Å apart, closer than any "
                "physical distance (%g Å); results will be meaningless\n",
                path, closest_i + 1, neighbors[closest] + 1, distance[closest], ABSURD_DISTANCE);
    mlpot_graph_free(g);
    return 1;
}

int cli_simulation_open(cli_simulation *sim, const char *path, const char *input_format,
                        const char *model_path, int threads) {
    memset(sim, 0, sizeof *sim);
    if (threads > 0)
        omp_set_num_threads(threads);
    mlpot_read_options read_options = {.format = input_format};
    mlpot_reader *reader = NULL;
    int ok = !mlpot_reader_open(&reader, path, &read_options) &&
             !mlpot_reader_next(reader, &sim->structure);
    mlpot_reader_close(reader);
    if (!ok) {
        cli_fail();
        return 0;
    }
    if (!sim->structure) {
        fprintf(stderr, "mlpot: %s: expected a structure, found none\n", path);
        return 0;
    }
    if (!check_close_atoms(sim->structure, path))
        return 0;
    if (model_path) {
        snprintf(sim->model_path, sizeof sim->model_path, "%s", model_path);
    } else {
        if (!cli_default_potential(sim->structure, sim->model_path, sizeof sim->model_path))
            return 0;
        fprintf(stderr, "mlpot: using potential %s\n", sim->model_path);
    }
    if (mlpot_model_load(&sim->model, sim->model_path) ||
        mlpot_calculator_create(&sim->calculator, sim->model)) {
        cli_fail();
        return 0;
    }
    return 1;
}

void cli_simulation_close(cli_simulation *sim) {
    mlpot_calculator_free(sim->calculator);
    mlpot_model_free(sim->model);
    mlpot_structure_free(sim->structure);
    memset(sim, 0, sizeof *sim);
}

double cli_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

mlpot_status cli_frame_create(const mlpot_structure *s, int with_velocities,
                              mlpot_structure **out) {
    mlpot_structure *frame = NULL;
    mlpot_status st = mlpot_structure_create(&frame, s->n_atoms, s->numbers, s->positions,
                                             s->cell, s->pbc);
    structure_column velocities = {.type = 'R', .n_cols = 3};
    if (!st)
        st = mem_calloc(&frame->forces, 3 * (size_t)s->n_atoms, sizeof *frame->forces);
    if (!st && with_velocities && !(st = mem_strdup(&velocities.name, "velocities")) &&
        !(st = mem_calloc(&velocities.values, 3 * (size_t)s->n_atoms, sizeof(double))))
        st = structure_add_column(frame, velocities);
    if (st) {
        structure_column_free(&velocities, s->n_atoms);
        mlpot_structure_free(frame);
        return st;
    }
    *out = frame;
    return MLPOT_OK;
}
