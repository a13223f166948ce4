/* relax.c — FIRE relaxation of positions and cell (relax.h). The coordinates FIRE moves are
 * x = [r~ (N rows), N F] with r = r~ F^T and L = L0 F^T (rows of L are lattice vectors): F is
 * the deformation gradient from the initial cell L0. Their generalised forces are
 * -dH/dr~ = f F and -dH/dF / N = -V (σ + P I) F^-T / N for H = E + P V and ASE's stress σ
 * (negative under compression), as in ASE's UnitCellFilter. */
#include "md/relax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "io/structure.h"

relax_options relax_default_options(void) {
    relax_options o = {.fmax = 0.01, .relax_cell = 0, .pressure = 0.0, .keep_symmetry = 0,
                       .symprec = 1e-5, .max_steps = 1000, .fire = fire_default_params()};
    return o;
}

/* Everything one relaxation needs, allocated before the first step. */
typedef struct {
    int n_atoms, n_coords;
    double cell_factor;  /* N: weights the cell coordinates like ASE's UnitCellFilter */
    double cell0[9];     /* initial cell rows */
    double *x;           /* [n_coords] FIRE coordinates */
    double *g;           /* [n_coords] generalised forces */
    double *forces;      /* [N][3] */
    fire_state *fire;
} relax_work;

static void transpose3(const double m[9], double t[9]) {
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            t[3 * a + b] = m[3 * b + a];
}

/* The deformation gradient F held in the coordinates (identity without cell relaxation). */
static void deformation(const relax_work *w, int relax_cell, double F[9]) {
    static const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    if (!relax_cell) {
        memcpy(F, identity, sizeof identity);
        return;
    }
    for (int k = 0; k < 9; k++)
        F[k] = w->x[3 * w->n_atoms + k] / w->cell_factor;
}

/* Positions r = r~ F^T and cell L = L0 F^T of the coordinates, into s. */
static mlpot_status apply_coordinates(const relax_work *w, int relax_cell, mlpot_structure *s) {
    double F[9], Ft[9];
    deformation(w, relax_cell, F);
    transpose3(F, Ft);
    if (relax_cell) {
        double cell[9];
        mat3_mul(w->cell0, Ft, cell);
        mlpot_status st = mlpot_structure_set_cell(s, cell, NULL);
        if (st)
            return st;
    }
    for (int i = 0; i < w->n_atoms; i++)
        vec3_mat3(&w->x[3 * i], Ft, &s->positions[3 * i]);
    return MLPOT_OK;
}

/* Generalised forces of the coordinates from forces and stress (see the top of the file), and
 * the largest |F_i| and largest cell-force row. */
static void generalised_forces(relax_work *w, const relax_options *o, const mlpot_structure *s,
                               const double stress[9], relax_progress *p) {
    double F[9];
    deformation(w, o->relax_cell, F);
    p->fmax_atoms = 0;
    for (int i = 0; i < w->n_atoms; i++) {
        const double *f = &w->forces[3 * i];
        p->fmax_atoms = fmax(p->fmax_atoms, sqrt(vec3_dot(f, f)));
        vec3_mat3(f, F, &w->g[3 * i]);
    }
    p->fmax_cell = 0;
    if (!o->relax_cell)
        return;
    double volume = fabs(mat3_det(s->cell)), virial[9], Finv[9], FinvT[9], cell_force[9];
    for (int k = 0; k < 9; k++)
        virial[k] = -volume * (stress[k] + (k % 4 == 0 ? o->pressure : 0.0));
    mat3_inverse(F, Finv);
    transpose3(Finv, FinvT);
    mat3_mul(virial, FinvT, cell_force);
    for (int a = 0; a < 3; a++) {
        double *row = &w->g[3 * w->n_atoms + 3 * a];
        for (int b = 0; b < 3; b++)
            row[b] = cell_force[3 * a + b] / w->cell_factor;
        p->fmax_cell = fmax(p->fmax_cell, sqrt(vec3_dot(row, row)));
    }
}

/* Energy, forces and stress of s (symmetrised with keep_symmetry) and the generalised
 * forces, into the work arrays and the progress record. */
static mlpot_status evaluate(relax_work *w, const relax_options *o, const md_potential *pot,
                             const mlpot_structure *s, relax_progress *p) {
    mlpot_results r = {.forces = w->forces, .stress = p->stress};
    mlpot_status st = pot->compute(pot->context, s, &r);
    if (st)
        return st;
    if (!isfinite(r.energy))
        return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                         "relaxation step %d: the energy is not finite", p->step);
    if (o->relax_cell && !r.has_stress)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "cell relaxation needs the stress");
    if (o->keep_symmetry &&
        (st = mlpot_symmetrize(s, o->symprec, w->forces, r.has_stress ? p->stress : NULL)))
        return st;
    p->structure = s;
    p->energy = r.energy;
    p->enthalpy = r.energy + (o->relax_cell ? o->pressure * fabs(mat3_det(s->cell)) : 0.0);
    p->forces = w->forces;
    p->has_stress = r.has_stress;
    generalised_forces(w, o, s, p->stress, p);
    return MLPOT_OK;
}

static mlpot_status check_options(const mlpot_structure *s, const relax_options *o) {
    if (!(o->fmax > 0) || !isfinite(o->fmax))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "fmax must be positive, got %g", o->fmax);
    if (o->max_steps < 0)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "max_steps must not be negative, got %d",
                         o->max_steps);
    if (!isfinite(o->pressure))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "the pressure must be finite");
    if ((o->relax_cell || o->keep_symmetry) && !structure_is_periodic3(s))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s needs a structure periodic in three "
                         "directions", o->relax_cell ? "cell relaxation" : "keeping the symmetry");
    if (o->keep_symmetry && !(o->symprec > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "symprec must be positive, got %g",
                         o->symprec);
    return MLPOT_OK;
}

/* The space group of s when keeping the symmetry (else zeroed). */
static mlpot_status spacegroup_of(const mlpot_structure *s, const relax_options *o,
                                  mlpot_spacegroup *sg) {
    memset(sg, 0, sizeof *sg);
    return o->keep_symmetry ? mlpot_symmetry_spacegroup(s, o->symprec, sg) : MLPOT_OK;
}

/* The final energy, forces and stress as labels of s. */
static mlpot_status set_labels(mlpot_structure *s, const relax_progress *p) {
    mlpot_status st = mlpot_structure_set_energy(s, p->energy);
    if (!st)
        st = mlpot_structure_set_forces(s, p->forces);
    s->has_stress = 0;
    if (!st && p->has_stress)
        st = mlpot_structure_set_stress(s, p->stress);
    return st;
}

mlpot_status relax_run(mlpot_structure *s, const md_potential *potential,
                       const relax_options *options, relax_observer observer, void *context,
                       relax_result *result) {
    memset(result, 0, sizeof *result);
    mlpot_status st = check_options(s, options);
    if (st)
        return st;
    relax_work w = {.n_atoms = s->n_atoms, .cell_factor = s->n_atoms};
    w.n_coords = 3 * s->n_atoms + (options->relax_cell ? 9 : 0);
    memcpy(w.cell0, s->cell, sizeof w.cell0);
    if ((st = spacegroup_of(s, options, &result->before)) ||
        (st = mem_calloc(&w.x, (size_t)w.n_coords, sizeof *w.x)) ||
        (st = mem_calloc(&w.g, (size_t)w.n_coords, sizeof *w.g)) ||
        (st = mem_calloc(&w.forces, 3 * (size_t)s->n_atoms, sizeof *w.forces)) ||
        (st = fire_create(&w.fire, w.n_coords, &options->fire)))
        goto done;
    memcpy(w.x, s->positions, 3 * (size_t)s->n_atoms * sizeof *w.x);
    if (options->relax_cell)
        for (int a = 0; a < 3; a++)
            w.x[3 * s->n_atoms + 4 * a] = w.cell_factor; /* F = I */
    relax_progress p = {0};
    for (int step = 0;; step++) {
        p.step = step;
        if ((step > 0 && (st = apply_coordinates(&w, options->relax_cell, s))) ||
            (st = evaluate(&w, options, potential, s, &p)) ||
            (observer && (st = observer(context, &p))))
            goto done;
        result->steps = step;
        result->energy = p.energy;
        result->fmax_atoms = p.fmax_atoms;
        result->fmax_cell = p.fmax_cell;
        if (p.fmax_atoms < options->fmax && p.fmax_cell < options->fmax) {
            result->converged = 1;
            break;
        }
        if (step == options->max_steps)
            break;
        if ((st = fire_step(w.fire, w.x, w.g)))
            goto done;
    }
    if (!(st = spacegroup_of(s, options, &result->after)))
        st = set_labels(s, &p);
done:
    fire_free(w.fire);
    free(w.x);
    free(w.g);
    free(w.forces);
    return st;
}
