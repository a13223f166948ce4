/* metrics.c — accumulating the error metrics of mlpot eval (metrics.h). */
#include "train/metrics.h"

#include <math.h>

#include "core/units.h"
#include "io/structure.h"

void error_stats_add(error_stats *st, const mlpot_structure *s, const mlpot_results *r) {
    st->frames++;
    st->atoms += s->n_atoms;
    if (s->has_energy && isfinite(s->energy)) {
        double d = 1000 * (r->energy - s->energy) / s->n_atoms;
        st->e_abs += fabs(d);
        st->e_sq += d * d;
        st->e_n++;
    }
    if (s->forces)
        for (int k = 0; k < 3 * s->n_atoms; k++)
            if (isfinite(s->forces[k])) {
                double d = r->forces[k] - s->forces[k];
                st->f_abs += fabs(d);
                st->f_sq += d * d;
                st->f_n++;
            }
    if (s->has_stress && r->has_stress) {
        static const int voigt[6] = {0, 4, 8, 5, 2, 1}; /* xx yy zz yz xz xy */
        for (int k = 0; k < 6; k++)
            if (isfinite(s->stress[voigt[k]])) {
                double d = EV_PER_A3_IN_GPA * (r->stress[voigt[k]] - s->stress[voigt[k]]);
                st->s_abs += fabs(d);
                st->s_sq += d * d;
                st->s_n++;
            }
    }
}

double metrics_mean(double sum, long n) {
    return n ? sum / n : NAN;
}
