/* fire.c — the FIRE minimiser of fire.h, in the form of ASE's ase.optimize.FIRE (mixing and
 * adaptation from the power P = f·v, then a semi-implicit Euler step with a length cap). */
#include "md/fire.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/memory.h"

fire_params fire_default_params(void) {
    fire_params p = {.dt_start = 0.1, .dt_max = 1.0, .max_step = 0.2, .n_min = 5,
                     .f_inc = 1.1, .f_dec = 0.5, .alpha_start = 0.1, .f_alpha = 0.99};
    return p;
}

mlpot_status fire_create(fire_state **out, int n, const fire_params *params) {
    *out = NULL;
    if (n < 1)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "FIRE needs at least one coordinate");
    if (!(params->dt_start > 0) || !(params->dt_max >= params->dt_start) ||
        !(params->max_step > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "FIRE: time steps and step length must be "
                                                     "positive with dt_max >= dt_start");
    fire_state *f = NULL;
    mlpot_status st = mem_calloc(&f, 1, sizeof *f);
    if (st)
        return st;
    if ((st = mem_calloc(&f->velocity, (size_t)n, sizeof *f->velocity))) {
        free(f);
        return st;
    }
    f->params = *params;
    f->n = n;
    f->dt = params->dt_start;
    f->alpha = params->alpha_start;
    *out = f;
    return MLPOT_OK;
}

void fire_free(fire_state *fire) {
    if (!fire)
        return;
    free(fire->velocity);
    free(fire);
}

mlpot_status fire_step(fire_state *fire, double *x, const double *f) {
    const fire_params *p = &fire->params;
    int n = fire->n;
    double *v = fire->velocity;
    double power = 0, f2 = 0, v2 = 0;
    for (int k = 0; k < n; k++) {
        power += f[k] * v[k];
        f2 += f[k] * f[k];
        v2 += v[k] * v[k];
    }
    if (!isfinite(f2))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "FIRE: the forces are not finite");
    if (!fire->started) {
        fire->started = 1;
    } else if (power > 0) {
        /* v = (1 - α) v + α |v| f/|f| */
        double mix = f2 > 0 ? fire->alpha * sqrt(v2 / f2) : 0.0;
        for (int k = 0; k < n; k++)
            v[k] = (1.0 - fire->alpha) * v[k] + mix * f[k];
        if (fire->n_downhill > p->n_min) {
            fire->dt = fmin(fire->dt * p->f_inc, p->dt_max);
            fire->alpha *= p->f_alpha;
        }
        fire->n_downhill++;
    } else {
        for (int k = 0; k < n; k++)
            v[k] = 0.0;
        fire->alpha = p->alpha_start;
        fire->dt *= p->f_dec;
        fire->n_downhill = 0;
    }
    double dx2 = 0;
    for (int k = 0; k < n; k++) {
        v[k] += fire->dt * f[k];
        dx2 += (fire->dt * v[k]) * (fire->dt * v[k]);
    }
    double limit = dx2 > p->max_step * p->max_step ? p->max_step / sqrt(dx2) : 1.0;
    for (int k = 0; k < n; k++)
        x[k] += limit * fire->dt * v[k];
    return MLPOT_OK;
}
