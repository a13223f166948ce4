/* svg_plot.c — plain SVG figures written by mlpot itself (no plotting library): parity panels
 * (prediction against reference with the diagonal) and line plots (learning curves), with
 * axes, ticks and labels, viewable in any browser. */
#include "cli/svg_plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PANEL_W 360.0
#define PANEL_H 360.0
#define MARGIN_L 70.0
#define MARGIN_B 50.0
#define MARGIN_T 40.0
#define MARGIN_R 20.0

/* A "nice" tick step for a range (1, 2 or 5 times a power of ten). */
static double tick_step(double span) {
    double raw = span / 5, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void axes(FILE *fp, double x0, double y0, double lo_x, double hi_x, double lo_y,
                 double hi_y, int log_y, const char *xlabel, const char *ylabel,
                 const char *title) {
    double w = PANEL_W - MARGIN_L - MARGIN_R, h = PANEL_H - MARGIN_T - MARGIN_B;
    double ox = x0 + MARGIN_L, oy = y0 + MARGIN_T + h;
    fprintf(fp, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n",
            ox, oy - h, w, h);
    fprintf(fp, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='14'>%s</text>\n",
            ox + w / 2, y0 + 22, title);
    fprintf(fp, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>%s</text>\n",
            ox + w / 2, oy + 38, xlabel);
    fprintf(fp, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12' "
                "transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            x0 + 16, oy - h / 2, x0 + 16, oy - h / 2, ylabel);
    double sx = tick_step(hi_x - lo_x);
    for (double t = ceil(lo_x / sx) * sx; t <= hi_x + 1e-12 * fabs(hi_x); t += sx) {
        double px = ox + (t - lo_x) / (hi_x - lo_x) * w;
        fprintf(fp, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
                    "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='10'>%g</text>\n",
                px, oy, px, oy + 4, px, oy + 16, fabs(t) < 1e-12 * sx ? 0.0 : t);
    }
    if (log_y) {
        for (double e = ceil(lo_y); e <= hi_y + 1e-9; e += 1) {
            double py = oy - (e - lo_y) / (hi_y - lo_y) * h;
            fprintf(fp, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
                        "<text x='%.1f' y='%.1f' text-anchor='end' font-size='10'>1e%g</text>\n",
                    ox - 4, py, ox, py, ox - 6, py + 3, e);
        }
        return;
    }
    double sy = tick_step(hi_y - lo_y);
    for (double t = ceil(lo_y / sy) * sy; t <= hi_y + 1e-12 * fabs(hi_y); t += sy) {
        double py = oy - (t - lo_y) / (hi_y - lo_y) * h;
        fprintf(fp, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
                    "<text x='%.1f' y='%.1f' text-anchor='end' font-size='10'>%g</text>\n",
                ox - 4, py, ox, py, ox - 6, py + 3, fabs(t) < 1e-12 * sy ? 0.0 : t);
    }
}

void svg_begin(FILE *fp, int panels) {
    fprintf(fp, "<?xml version='1.0' encoding='UTF-8'?>\n"
                "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
                "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            PANEL_W * panels, PANEL_H);
}

void svg_end(FILE *fp) {
    fputs("</svg>\n", fp);
}

void svg_parity_panel(FILE *fp, int index, const double *ref, const double *pred, size_t n,
                      const char *title, const char *unit, const char *note) {
    double x0 = index * PANEL_W;
    char xl[128], yl[128];
    snprintf(xl, sizeof xl, "reference (%s)", unit);
    snprintf(yl, sizeof yl, "predicted (%s)", unit);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        lo = fmin(lo, fmin(ref[k], pred[k]));
        hi = fmax(hi, fmax(ref[k], pred[k]));
    }
    if (!(hi > lo)) {
        lo = n ? lo - 1 : -1;
        hi = n ? hi + 1 : 1;
    }
    double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    axes(fp, x0, 0, lo, hi, lo, hi, 0, xl, yl, title);
    double w = PANEL_W - MARGIN_L - MARGIN_R, h = PANEL_H - MARGIN_T - MARGIN_B;
    double ox = x0 + MARGIN_L, oy = MARGIN_T + h;
    fprintf(fp, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' "
                "stroke-dasharray='4 3'/>\n",
            ox, oy, ox + w, oy - h);
    fputs("<g fill='#1f77b4' fill-opacity='0.5'>\n", fp);
    for (size_t k = 0; k < n; k++)
        fprintf(fp, "<circle cx='%.1f' cy='%.1f' r='1.8'/>\n", ox + (ref[k] - lo) / (hi - lo) * w,
                oy - (pred[k] - lo) / (hi - lo) * h);
    fputs("</g>\n", fp);
    if (note)
        fprintf(fp, "<text x='%.1f' y='%.1f' font-size='11'>%s</text>\n", ox + 8, oy - h + 16,
                note);
}

void svg_line_panel(FILE *fp, int index, const double *x, const double *const *ys,
                    const char *const *names, int n_series, size_t n, const char *title,
                    const char *xlabel, const char *ylabel) {
    static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"};
    double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        lo_x = fmin(lo_x, x[k]);
        hi_x = fmax(hi_x, x[k]);
        for (int s = 0; s < n_series; s++)
            if (ys[s][k] > 0 && isfinite(ys[s][k])) {
                lo_y = fmin(lo_y, log10(ys[s][k]));
                hi_y = fmax(hi_y, log10(ys[s][k]));
            }
    }
    if (!(hi_x > lo_x))
        hi_x = lo_x + 1;
    if (!(hi_y > lo_y)) {
        lo_y = isfinite(lo_y) ? lo_y - 1 : 0;
        hi_y = lo_y + 2;
    }
    lo_y = floor(lo_y);
    hi_y = ceil(hi_y);
    double x0 = index * PANEL_W;
    axes(fp, x0, 0, lo_x, hi_x, lo_y, hi_y, 1, xlabel, ylabel, title);
    double w = PANEL_W - MARGIN_L - MARGIN_R, h = PANEL_H - MARGIN_T - MARGIN_B;
    double ox = x0 + MARGIN_L, oy = MARGIN_T + h;
    for (int s = 0; s < n_series; s++) {
        fprintf(fp, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", colors[s % 4]);
        for (size_t k = 0; k < n; k++)
            if (ys[s][k] > 0 && isfinite(ys[s][k]))
                fprintf(fp, "%.1f,%.1f ", ox + (x[k] - lo_x) / (hi_x - lo_x) * w,
                        oy - (log10(ys[s][k]) - lo_y) / (hi_y - lo_y) * h);
        fputs("'/>\n", fp);
        fprintf(fp, "<text x='%.1f' y='%.1f' font-size='11' fill='%s'>%s</text>\n", ox + w - 90,
                oy - h + 16 + 14 * s, colors[s % 4], names[s]);
    }
}
