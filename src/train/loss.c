/* loss.c — the loss of one frame and its parameter gradient (see loss.h). With E the energy,
 * N atoms, F = -dE/dr, sigma = (1/V) dE/deps and frame weight w_f:
 *   L_E = w_E w_f ((E - E_ref)/N)^2 / norm_E,
 *   L_F = w_F w_f sum_k |F_k - F_ref,k|^2 / norm_F   (labelled rows only),
 *   L_S = w_S w_f sum_ab (sigma - sigma_ref)_ab^2 / norm_S.
 * dL_F/dtheta = -2 c_F d/dtheta [d/dt E(r + t dF)] and dL_S/dtheta = 2 c_S/V d/dtheta [d/dt
 * E(strain t dS)]: one central difference in t of dE/dtheta (which calculator_energy_gradient
 * gives exactly) along the combined direction of both. */
#include "train/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "io/structure.h"
#include "model/calculator.h"

#define FORCE_STEP_A 1e-4  /* largest displacement of the force-term difference, Å */
#define STRESS_STEP 1e-5   /* largest strain component of the stress-term difference */

static int row_labelled(const double *f) {
    return isfinite(f[0]) && isfinite(f[1]) && isfinite(f[2]);
}

static int stress_labelled(const mlpot_structure *s) {
    if (!s->has_stress || !structure_is_periodic3(s))
        return 0;
    for (int k = 0; k < 9; k++)
        if (!isfinite(s->stress[k]))
            return 0;
    return 1;
}

void loss_norms_add(loss_norms *norms, const mlpot_structure *s, double frame_weight) {
    if (s->has_energy && isfinite(s->energy))
        norms->energy += frame_weight;
    if (s->forces)
        for (int i = 0; i < s->n_atoms; i++)
            if (row_labelled(&s->forces[3 * i]))
                norms->force += 3 * frame_weight;
    if (stress_labelled(s))
        norms->stress += 9 * frame_weight;
}

mlpot_status loss_workspace_create(loss_workspace **out, size_t n_params) {
    loss_workspace *ws = NULL;
    mlpot_status st = mem_calloc(&ws, 1, sizeof *ws);
    if (st)
        return st;
    ws->n_params = n_params;
    if ((st = mem_calloc(&ws->g_plus, n_params, sizeof *ws->g_plus)) ||
        (st = mem_calloc(&ws->g_minus, n_params, sizeof *ws->g_minus))) {
        loss_workspace_free(ws);
        return st;
    }
    *out = ws;
    return MLPOT_OK;
}

void loss_workspace_free(loss_workspace *ws) {
    if (!ws)
        return;
    free(ws->forces);
    free(ws->direction);
    free(ws->g_plus);
    free(ws->g_minus);
    mlpot_structure_free(ws->moved);
    free(ws);
}

/* Makes ws->moved a copy of s's atoms and cell (reusing it when the atom count matches). */
static mlpot_status prepare_moved(loss_workspace *ws, const mlpot_structure *s) {
    if (ws->moved && ws->moved->n_atoms != s->n_atoms) {
        mlpot_structure_free(ws->moved);
        ws->moved = NULL;
    }
    if (!ws->moved)
        return mlpot_structure_create(&ws->moved, s->n_atoms, s->numbers, s->positions, s->cell,
                                      s->pbc);
    memcpy(ws->moved->numbers, s->numbers, (size_t)s->n_atoms * sizeof *s->numbers);
    memcpy(ws->moved->positions, s->positions, (size_t)s->n_atoms * 3 * sizeof *s->positions);
    memcpy(ws->moved->cell, s->cell, sizeof s->cell);
    memcpy(ws->moved->pbc, s->pbc, sizeof s->pbc);
    return MLPOT_OK;
}

/* g(+t) - g(-t) of dE/dtheta with positions moved by +-t * direction (NULL: none), then the
 * cell and positions strained by (I +- t D) (strain: D symmetric [9], NULL: none); into
 * ws->g_plus. The cross term of the two is even in t and drops out of the difference. */
static mlpot_status gradient_difference(mlpot_calculator *c, const mlpot_structure *s,
                                        loss_workspace *ws, const double *direction,
                                        const double *strain, double t) {
    mlpot_status st = prepare_moved(ws, s);
    if (st)
        return st;
    int n = s->n_atoms;
    double *g[2] = {ws->g_plus, ws->g_minus};
    for (int side = 0; side < 2; side++) {
        double sign = side == 0 ? t : -t;
        for (int k = 0; k < 3 * n; k++)
            ws->moved->positions[k] = s->positions[k] + (direction ? sign * direction[k] : 0.0);
        if (strain) {
            double m[9], p[3];
            for (int k = 0; k < 9; k++)
                m[k] = (k % 4 == 0 ? 1.0 : 0.0) + sign * strain[k];
            mat3_mul(s->cell, m, ws->moved->cell);
            for (int i = 0; i < n; i++) {
                memcpy(p, &ws->moved->positions[3 * i], sizeof p);
                vec3_mat3(p, m, &ws->moved->positions[3 * i]);
            }
        }
        memset(g[side], 0, ws->n_params * sizeof *g[side]);
        double e;
        if ((st = calculator_energy_gradient(c, ws->moved, &e, g[side])))
            return st;
    }
    for (size_t k = 0; k < ws->n_params; k++)
        ws->g_plus[k] -= ws->g_minus[k];
    return MLPOT_OK;
}

static mlpot_status reserve_atoms(loss_workspace *ws, int n) {
    if ((size_t)n <= ws->cap_atoms && ws->forces)
        return MLPOT_OK;
    mlpot_status st;
    if ((st = mem_resize(&ws->forces, (size_t)n * 3, sizeof *ws->forces)) ||
        (st = mem_resize(&ws->direction, (size_t)n * 3, sizeof *ws->direction)))
        return st;
    ws->cap_atoms = (size_t)n;
    return MLPOT_OK;
}

mlpot_status frame_loss(mlpot_calculator *c, const mlpot_structure *s, double frame_weight,
                        const loss_weights *w, const loss_norms *norms, loss_workspace *ws,
                        double *loss, double *grad, frame_errors *errors) {
    int n = s->n_atoms;
    mlpot_status st = reserve_atoms(ws, n);
    if (st)
        return st;
    double stress[9];
    mlpot_results r = {.forces = ws->forces, .stress = stress};
    if ((st = mlpot_calculator_compute(c, s, &r)))
        return st;
    memset(errors, 0, sizeof *errors);
    double L = 0, cE = 0, cF = 0, cS = 0, dEpa = 0, max_u = 0, max_d = 0, D[9] = {0};
    if (s->has_energy && isfinite(s->energy)) {
        dEpa = (r.energy - s->energy) / n;
        errors->has_energy = 1;
        errors->energy_per_atom_error = dEpa;
        if (norms->energy > 0)
            cE = frame_weight * w->energy / norms->energy;
        L += cE * dEpa * dEpa;
    }
    double *u = ws->direction;
    memset(u, 0, (size_t)n * 3 * sizeof *u);
    if (s->forces) {
        double sq = 0;
        for (int i = 0; i < n; i++) {
            if (!row_labelled(&s->forces[3 * i]))
                continue;
            for (int x = 0; x < 3; x++) {
                double d = ws->forces[3 * i + x] - s->forces[3 * i + x];
                u[3 * i + x] = d;
                sq += d * d;
                errors->force_abs_sum += fabs(d);
                max_u = fmax(max_u, fabs(d));
            }
            errors->n_force_components += 3;
        }
        errors->force_sq_sum = sq;
        if (norms->force > 0)
            cF = frame_weight * w->force / norms->force;
        L += cF * sq;
    }
    if (stress_labelled(s) && r.has_stress) {
        double sq = 0;
        for (int k = 0; k < 9; k++) { /* the loss weighs all nine components */
            double d = stress[k] - s->stress[k];
            sq += d * d;
        }
        static const int voigt[6] = {0, 4, 8, 5, 2, 1}; /* xx yy zz yz xz xy (model.md §9) */
        for (int k = 0; k < 6; k++)
            errors->stress_abs_sum += fabs(stress[voigt[k]] - s->stress[voigt[k]]);
        for (int a = 0; a < 3; a++) /* sigma is symmetric, so only the symmetric part counts */
            for (int b = 0; b < 3; b++) {
                D[3 * a + b] = 0.5 * ((stress[3 * a + b] - s->stress[3 * a + b]) +
                                      (stress[3 * b + a] - s->stress[3 * b + a]));
                max_d = fmax(max_d, fabs(D[3 * a + b]));
            }
        errors->has_stress = 1;
        errors->stress_sq_sum = sq;
        if (norms->stress > 0)
            cS = frame_weight * w->stress / norms->stress;
        L += cS * sq;
    }
    *loss += L;
    if (!grad)
        return MLPOT_OK;
    if (cE != 0 && dEpa != 0) { /* 2 c_E dEpa / N * dE/dtheta */
        memset(ws->g_plus, 0, ws->n_params * sizeof *ws->g_plus);
        double e;
        if ((st = calculator_energy_gradient(c, s, &e, ws->g_plus)))
            return st;
        double a = 2 * cE * dEpa / n;
        for (size_t k = 0; k < ws->n_params; k++)
            grad[k] += a * ws->g_plus[k];
    }
    /* Force and stress terms together: -2 c_F d/dt E(r + t u) + (2 c_S / V) d/dt E(strain t D)
     * is the derivative along one combined direction, positions moved by -2 c_F t u and
     * strained by (2 c_S / V) t D; one central difference of dE/dtheta gives its gradient. The
     * step keeps the largest displacement within FORCE_STEP_A and strain within STRESS_STEP. */
    int force_term = cF != 0 && max_u > 0, stress_term = cS != 0 && max_d > 0;
    if (force_term || stress_term) {
        double a = force_term ? -2 * cF : 0.0;
        double b = stress_term ? 2 * cS / mlpot_structure_volume(s) : 0.0;
        double t = INFINITY;
        if (force_term) {
            t = fmin(t, FORCE_STEP_A / (fabs(a) * max_u));
            for (int k = 0; k < 3 * n; k++)
                u[k] *= a;
        }
        if (stress_term) {
            t = fmin(t, STRESS_STEP / (fabs(b) * max_d));
            for (int k = 0; k < 9; k++)
                D[k] *= b;
        }
        if ((st = gradient_difference(c, s, ws, force_term ? u : NULL, stress_term ? D : NULL,
                                      t)))
            return st;
        double scale = 1.0 / (2 * t);
        for (size_t k = 0; k < ws->n_params; k++)
            grad[k] += scale * ws->g_plus[k];
    }
    return MLPOT_OK;
}
