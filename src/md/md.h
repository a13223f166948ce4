/* md.h — molecular dynamics in metal units (eV, Å, fs, amu, K) on any potential that gives
 * energy, forces and stress: velocity Verlet (NVE), Langevin dynamics (BAOAB, Leimkuhler and
 * Matthews 2013) and Nosé–Hoover chains (Martyna, Klein and Tuckerman 1992, integrated with
 * the time-reversible Trotter splitting of Martyna et al. 1996). */
#ifndef MLPOT_MD_MD_H
#define MLPOT_MD_MD_H

#include <stdint.h>

#include "md/rng.h"
#include "mlpot/mlpot.h"

#define MD_BOLTZMANN_EV_PER_K 8.617333262e-5
/* 1 amu Å^2/fs^2 in eV (amu 1.66053906660e-27 kg, e 1.602176634e-19 C; CODATA 2018), and its
 * inverse: the acceleration in Å/fs^2 of a force of 1 eV/Å on 1 amu. */
#define MD_EV_PER_AMU_A2_FS2 103.64269652680505
#define MD_A_FS2_PER_EV_A_AMU 9.648533215665327e-3
#define MD_MAX_CHAIN 10

/* What the integrators need of a potential: energy, forces and (periodic in three
 * directions) stress of a structure, as mlpot_calculator_compute gives them. */
typedef struct {
    mlpot_status (*compute)(void *context, const mlpot_structure *s, mlpot_results *results);
    void *context;
} md_potential;

/* The potential of a calculator (which must outlive its use). */
md_potential md_calculator_potential(mlpot_calculator *calculator);

/* The mean of a committee's models (mlpot_committee_compute, which must outlive its use). The
 * spread of the latest evaluation, which is that of the state's current positions after
 * md_create and md_step, is kept in `deviation` (its force_deviations array, if set, is the
 * caller's, one double per atom). */
typedef struct {
    mlpot_committee *committee;
    mlpot_committee_deviation deviation;
} md_committee;
md_potential md_committee_potential(md_committee *committee);

typedef enum { MD_NVE, MD_NVT_LANGEVIN, MD_NVT_NOSE_HOOVER } md_ensemble;

/* "nve", "nvt-langevin" or "nvt-nose-hoover"; MLPOT_ERR_INVALID_ARGUMENT for another name. */
mlpot_status md_ensemble_from_name(const char *name, md_ensemble *out);
const char *md_ensemble_name(md_ensemble ensemble);

typedef struct {
    md_ensemble ensemble;
    double dt_fs;
    double temperature_k;   /* target of the thermostats */
    double friction_per_fs; /* Langevin friction γ */
    double tdamp_fs;        /* Nosé–Hoover relaxation time τ */
    int chain_length;       /* Nosé–Hoover thermostats in the chain, 1..MD_MAX_CHAIN */
    uint64_t seed;          /* of the initial velocities and the Langevin noise */
} md_params;

/* dt 1 fs, 300 K, NVE, γ = 0.01/fs (10/ps), τ = 100 fs, a chain of 3, seed 0. */
md_params md_default_params(void);

/* The integrator's state. Positions are those of `structure` (never wrapped into the cell);
 * forces, energy and stress are those of the current positions. */
typedef struct {
    md_params params;
    md_potential potential;
    mlpot_structure *structure; /* owned copy of the initial structure */
    int n_atoms;
    int n_dof;          /* 3N - 3: the total momentum is zero and stays zero */
    double *masses;     /* [N] amu */
    double *velocities; /* [N][3] Å/fs */
    double *forces;     /* [N][3] eV/Å */
    double energy;      /* potential energy, eV */
    double stress[9];   /* potential part, eV/Å^3 (ASE sign), when has_stress */
    int has_stress;
    long step;
    md_rng rng;
    double bath_energy; /* Langevin: energy taken out by the heat bath so far, eV */
    double chain_q[MD_MAX_CHAIN];    /* Nosé–Hoover masses Q_j, eV fs^2 */
    double chain_xi[MD_MAX_CHAIN];   /* thermostat positions (dimensionless) */
    double chain_zeta[MD_MAX_CHAIN]; /* thermostat velocities, 1/fs */
} md_state;

/* A state for a copy of s (at least 2 atoms) with zero velocities and the forces of its
 * positions. Checks the parameters (the message names the bad one). */
mlpot_status md_create(md_state **out, const mlpot_structure *s, const md_potential *potential,
                       const md_params *params);
void md_free(md_state *md);

/* Maxwell–Boltzmann velocities at temperature T from the state's generator, with zero total
 * momentum, rescaled so that the kinetic temperature (3N - 3 degrees of freedom) is exactly T. */
mlpot_status md_maxwell_boltzmann(md_state *md, double temperature_k);
/* The same for plain arrays: v[n][3] for masses[n] (amu), n >= 2. */
mlpot_status md_maxwell_boltzmann_velocities(int n, const double *masses, double temperature_k,
                                             md_rng *rng, double *velocities);

/* One time step of the state's ensemble (one force evaluation). */
mlpot_status md_step(md_state *md);

/* Kinetic energy sum m v^2 / 2 in eV of v[n][3] (Å/fs) for masses[n] (amu). */
double md_kinetic_energy_of(int n, const double *masses, const double *velocities);
double md_kinetic_energy(const md_state *md);
/* Kinetic temperature 2 E_kin / (n_dof k_B), K. */
double md_temperature(const md_state *md);
/* Potential + kinetic energy plus what the thermostat exchanged (Langevin: the heat taken out;
 * Nosé–Hoover: the chain's kinetic and potential energy): constant up to integration error. */
double md_conserved_energy(const md_state *md);
/* Stress including the kinetic part -sum m v (x) v / V (eV/Å^3, ASE sign);
 * MLPOT_ERR_INVALID_ARGUMENT unless the structure is periodic in three directions. */
mlpot_status md_stress(const md_state *md, double stress[9]);

#endif
