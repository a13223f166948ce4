/* svg_plot.h — minimal SVG figures for `mlpot eval`: parity panels and log-scale line plots
 * side by side in one file (panel `index` 0, 1, 2 ...). */
#ifndef MLPOT_CLI_SVG_PLOT_H
#define MLPOT_CLI_SVG_PLOT_H

#include <stddef.h>
#include <stdio.h>

void svg_begin(FILE *fp, int panels);
void svg_end(FILE *fp);
/* Predicted against reference with the diagonal; `note` (e.g. "MAE 3.1 meV/atom") in a corner. */
void svg_parity_panel(FILE *fp, int index, const double *ref, const double *pred, size_t n,
                      const char *title, const char *unit, const char *note);
/* Series ys[s][k] against x[k] on a log10 y axis (non-positive values skipped). */
void svg_line_panel(FILE *fp, int index, const double *x, const double *const *ys,
                    const char *const *names, int n_series, size_t n, const char *title,
                    const char *xlabel, const char *ylabel);

#endif
