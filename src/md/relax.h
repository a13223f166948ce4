/* relax.h — structural relaxation with FIRE: atomic positions and, optionally, the cell at a
 * target pressure, with the cell degrees of freedom of ASE's UnitCellFilter (the deformation
 * gradient relative to the initial cell, scaled by the number of atoms), optionally keeping
 * the space group by symmetrising forces and stress every step. */
#ifndef MLPOT_MD_RELAX_H
#define MLPOT_MD_RELAX_H

#include "md/fire.h"
#include "md/md.h"

typedef struct {
    double fmax;       /* eV/Å: converged when every |F_i| and every cell force row is below */
    int relax_cell;    /* also relax the cell (periodic in three directions only) */
    double pressure;   /* target hydrostatic pressure, eV/Å^3 */
    int keep_symmetry; /* symmetrise forces and stress over the initial space group */
    double symprec;    /* Å, for keep_symmetry */
    int max_steps;     /* FIRE steps at most */
    fire_params fire;
} relax_options;

/* fmax 0.01 eV/Å, positions only, pressure 0, no symmetrisation (symprec 1e-5 Å),
 * 1000 steps, FIRE defaults. */
relax_options relax_default_options(void);

/* The state after each evaluation, for progress output and trajectories. */
typedef struct {
    int step;                          /* 0 is the initial structure */
    const mlpot_structure *structure;  /* current positions and cell */
    double energy;                     /* eV */
    double enthalpy;                   /* E + P V with relax_cell, else E (eV) */
    const double *forces;              /* [N][3] eV/Å, symmetrised with keep_symmetry */
    double stress[9];                  /* eV/Å^3 (ASE sign), symmetrised; when has_stress */
    int has_stress;
    double fmax_atoms;                 /* max |F_i|, eV/Å */
    double fmax_cell;                  /* max row norm of the cell force, eV/Å (0 without cell) */
} relax_progress;

/* Called after every evaluation; a non-OK status stops the relaxation with that status. */
typedef mlpot_status (*relax_observer)(void *context, const relax_progress *progress);

typedef struct {
    int converged;
    int steps;                       /* FIRE steps taken */
    double energy, fmax_atoms, fmax_cell;
    mlpot_spacegroup before, after; /* with keep_symmetry (else zeroed) */
} relax_result;

/* Relaxes s in place (positions and, with relax_cell, the cell); s then carries the energy,
 * forces and stress of its final positions as labels. MLPOT_OK when the run went to its end,
 * converged or not (result->converged says which); an error status when an evaluation, the
 * symmetry analysis or the observer fails. */
mlpot_status relax_run(mlpot_structure *s, const md_potential *potential,
                       const relax_options *options, relax_observer observer, void *context,
                       relax_result *result);

#endif
