/* fire.h — FIRE, the fast inertial relaxation engine (Bitzek, Bitzek, Gumbsch, Moseler and
 * Gumbsch, Phys. Rev. Lett. 97, 170201 (2006)), on a flat vector of coordinates and the
 * generalised forces -dE/dx, with the parameters and the step limit of ASE's FIRE. */
#ifndef MLPOT_MD_FIRE_H
#define MLPOT_MD_FIRE_H

#include "mlpot/mlpot.h"

typedef struct {
    double dt_start;    /* initial time step (coordinates per unit force per unit time) */
    double dt_max;      /* largest time step */
    double max_step;    /* largest |Δx| of one step (Å) */
    int n_min;          /* downhill steps before the time step may grow */
    double f_inc;       /* time step growth */
    double f_dec;       /* time step cut after an uphill step */
    double alpha_start; /* initial mixing of velocity towards the force */
    double f_alpha;     /* mixing decay */
} fire_params;

/* Bitzek et al.'s parameters with ASE's time unit: dt 0.1, dt_max 1, N_min 5, f_inc 1.1,
 * f_dec 0.5, α 0.1, f_α 0.99; at most 0.2 Å a step. */
fire_params fire_default_params(void);

typedef struct {
    fire_params params;
    int n;            /* coordinates */
    double *velocity; /* [n] */
    double dt, alpha;
    int n_downhill;   /* steps since the last uphill step */
    int started;      /* 0 before the first step (which has no velocity to mix) */
} fire_state;

mlpot_status fire_create(fire_state **out, int n, const fire_params *params);
void fire_free(fire_state *fire);
/* One FIRE step: mixes the velocity towards the force f[n] (or stops it when P = f·v <= 0),
 * adapts dt and α, then x += dt v after v += dt f, limited to max_step in norm. */
mlpot_status fire_step(fire_state *fire, double *x, const double *f);

#endif
