/* frame_checks.c — the check of a training frame and the outlier test of labels
 * (frame_checks.h). */
#include "train/frame_checks.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/units.h"
#include "io/structure.h"

/* Labels beyond these are not results of any calculation (an all-electron total energy is
 * below 1e6 eV per atom); they are data errors, such as a 1e300 that made training diverge. */
#define LABEL_BOUND_EV_PER_ATOM 1e6
#define LABEL_BOUND_EV_PER_A 1e6
#define LABEL_BOUND_GPA 1e6

mlpot_status dataset_check_frame(const mlpot_structure *s, double cutoff, mlpot_graph *g,
                                 const char *file, int frame) {
    if (mlpot_graph_build(g, s, cutoff))
        return error_set(MLPOT_ERR_INVALID_STRUCTURE, "%s: frame %d: %s", file, frame,
                         mlpot_last_error());
    if (s->has_energy && !(fabs(s->energy) / s->n_atoms < LABEL_BOUND_EV_PER_ATOM))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: frame %d: energy label %g eV (%g eV/atom), beyond %g eV/atom",
                         file, frame, s->energy, s->energy / s->n_atoms,
                         LABEL_BOUND_EV_PER_ATOM);
    for (int k = 0; s->forces && k < 3 * s->n_atoms; k++)
        if (fabs(s->forces[k]) >= LABEL_BOUND_EV_PER_A) /* NaN rows: unlabelled, masked */
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: frame %d: atom %d: force label %g eV/Å, beyond %g", file,
                             frame, k / 3 + 1, s->forces[k], LABEL_BOUND_EV_PER_A);
    for (int k = 0; s->has_stress && k < 9; k++)
        if (!(fabs(s->stress[k]) * EV_PER_A3_IN_GPA < LABEL_BOUND_GPA))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: frame %d: stress label %g GPa, beyond %g GPa", file, frame,
                             s->stress[k] * EV_PER_A3_IN_GPA, LABEL_BOUND_GPA);
    return MLPOT_OK;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int dataset_outliers(const double *e, int n, double n_sigma, int *out, int max_out) {
    double *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted)
        return 0;
    int m = 0;
    for (int k = 0; k < n; k++)
        if (!isnan(e[k]))
            sorted[m++] = e[k];
    if (m < 4) { /* too few values to have a distribution */
        free(sorted);
        return 0;
    }
    qsort(sorted, (size_t)m, sizeof *sorted, compare_doubles);
    double median = 0.5 * (sorted[(m - 1) / 2] + sorted[m / 2]);
    for (int k = 0; k < m; k++)
        sorted[k] = fabs(sorted[k] - median);
    qsort(sorted, (size_t)m, sizeof *sorted, compare_doubles);
    double sigma = 1.4826 * 0.5 * (sorted[(m - 1) / 2] + sorted[m / 2]);
    free(sorted);
    if (!(sigma > 0)) /* most values equal: no spread to measure against */
        return 0;
    int count = 0;
    for (int k = 0; k < n; k++)
        if (!isnan(e[k]) && fabs(e[k] - median) > n_sigma * sigma) {
            if (count < max_out)
                out[count] = k;
            count++;
        }
    return count;
}
