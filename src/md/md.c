/* md.c — the integrators of md.h. Every loop over atoms runs in a fixed order on the calling
 * thread (the force evaluation is where the time goes, and it is threaded and deterministic),
 * so a seed gives the same trajectory on any number of threads. */
#include "md/md.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "io/structure.h"

static mlpot_status calculator_compute(void *context, const mlpot_structure *s,
                                       mlpot_results *results) {
    return mlpot_calculator_compute(context, s, results);
}

md_potential md_calculator_potential(mlpot_calculator *calculator) {
    md_potential p = {.compute = calculator_compute, .context = calculator};
    return p;
}

static mlpot_status committee_compute(void *context, const mlpot_structure *s,
                                      mlpot_results *results) {
    md_committee *c = context;
    return mlpot_committee_compute(c->committee, s, results, &c->deviation);
}

md_potential md_committee_potential(md_committee *committee) {
    md_potential p = {.compute = committee_compute, .context = committee};
    return p;
}

static const char *const ensemble_names[] = {"nve", "nvt-langevin", "nvt-nose-hoover"};

mlpot_status md_ensemble_from_name(const char *name, md_ensemble *out) {
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, ensemble_names[k])) {
            *out = (md_ensemble)k;
            return MLPOT_OK;
        }
    return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                     "unknown ensemble '%s' (expected nve, nvt-langevin or nvt-nose-hoover)", name);
}

const char *md_ensemble_name(md_ensemble ensemble) {
    return (unsigned)ensemble < 3 ? ensemble_names[ensemble] : "?";
}

md_params md_default_params(void) {
    md_params p = {.ensemble = MD_NVE, .dt_fs = 1.0, .temperature_k = 300.0,
                   .friction_per_fs = 0.01, .tdamp_fs = 100.0, .chain_length = 3, .seed = 0};
    return p;
}

static mlpot_status check_params(const md_params *p) {
    if (!(p->dt_fs > 0) || !isfinite(p->dt_fs))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "time step must be positive, got %g fs",
                         p->dt_fs);
    if (!(p->temperature_k >= 0) || !isfinite(p->temperature_k))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "temperature must be zero or positive, got %g K", p->temperature_k);
    if ((unsigned)p->ensemble > MD_NVT_NOSE_HOOVER)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "unknown ensemble %d", (int)p->ensemble);
    if (p->ensemble == MD_NVT_LANGEVIN &&
        (!(p->friction_per_fs > 0) || !isfinite(p->friction_per_fs)))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "Langevin friction must be positive, got %g/fs", p->friction_per_fs);
    if (p->ensemble == MD_NVT_NOSE_HOOVER) {
        if (!(p->tdamp_fs > 0) || !isfinite(p->tdamp_fs))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "Nosé–Hoover damping time must be positive, got %g fs", p->tdamp_fs);
        if (!(p->temperature_k > 0))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "Nosé–Hoover needs a positive temperature, got %g K",
                             p->temperature_k);
        if (p->chain_length < 1 || p->chain_length > MD_MAX_CHAIN)
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "Nosé–Hoover chain length must be 1..%d, got %d", MD_MAX_CHAIN,
                             p->chain_length);
    }
    return MLPOT_OK;
}

/* Energy, forces and stress of the current positions into the state. */
static mlpot_status compute_forces(md_state *md) {
    mlpot_results r = {.forces = md->forces, .stress = md->stress};
    mlpot_status st = md->potential.compute(md->potential.context, md->structure, &r);
    if (st)
        return st;
    if (!isfinite(r.energy))
        return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                         "MD step %ld: the energy is not finite (time step too large?)", md->step);
    md->energy = r.energy;
    md->has_stress = r.has_stress;
    return MLPOT_OK;
}

mlpot_status md_create(md_state **out, const mlpot_structure *s, const md_potential *potential,
                       const md_params *params) {
    *out = NULL;
    mlpot_status st = check_params(params);
    if (st)
        return st;
    if (s->n_atoms < 2)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "MD needs at least 2 atoms (the total momentum is held at zero), got %d",
                         s->n_atoms);
    md_state *md = NULL;
    if ((st = mem_calloc(&md, 1, sizeof *md)))
        return st;
    md->params = *params;
    md->potential = *potential;
    md->n_atoms = s->n_atoms;
    md->n_dof = 3 * s->n_atoms - 3;
    size_t n = (size_t)s->n_atoms;
    if ((st = mlpot_structure_copy(&md->structure, s)) ||
        (st = mem_calloc(&md->masses, n, sizeof *md->masses)) ||
        (st = mem_calloc(&md->velocities, 3 * n, sizeof *md->velocities)) ||
        (st = mem_calloc(&md->forces, 3 * n, sizeof *md->forces)))
        goto fail;
    for (int i = 0; i < s->n_atoms; i++)
        md->masses[i] = element_mass_amu(s->numbers[i]);
    md_rng_seed(&md->rng, params->seed);
    if (params->ensemble == MD_NVT_NOSE_HOOVER) {
        /* Q_1 = N_f kT τ^2 couples to the particles, Q_j = kT τ^2 to the thermostat below */
        double kt = MD_BOLTZMANN_EV_PER_K * params->temperature_k;
        double tau2 = params->tdamp_fs * params->tdamp_fs;
        for (int j = 0; j < params->chain_length; j++)
            md->chain_q[j] = (j == 0 ? md->n_dof : 1) * kt * tau2;
    }
    if ((st = compute_forces(md)))
        goto fail;
    *out = md;
    return MLPOT_OK;
fail:
    md_free(md);
    return st;
}

void md_free(md_state *md) {
    if (!md)
        return;
    mlpot_structure_free(md->structure);
    free(md->masses);
    free(md->velocities);
    free(md->forces);
    free(md);
}

double md_kinetic_energy_of(int n, const double *masses, const double *velocities) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const double *v = &velocities[3 * i];
        sum += masses[i] * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    }
    return 0.5 * sum * MD_EV_PER_AMU_A2_FS2;
}

double md_kinetic_energy(const md_state *md) {
    return md_kinetic_energy_of(md->n_atoms, md->masses, md->velocities);
}

double md_temperature(const md_state *md) {
    return 2.0 * md_kinetic_energy(md) / (md->n_dof * MD_BOLTZMANN_EV_PER_K);
}

/* Subtracts the centre-of-mass velocity, so that the total momentum is zero. */
static void remove_total_momentum(int n, const double *masses, double *velocities) {
    double p[3] = {0, 0, 0}, mass = 0;
    for (int i = 0; i < n; i++) {
        mass += masses[i];
        for (int a = 0; a < 3; a++)
            p[a] += masses[i] * velocities[3 * i + a];
    }
    for (int i = 0; i < n; i++)
        for (int a = 0; a < 3; a++)
            velocities[3 * i + a] -= p[a] / mass;
}

mlpot_status md_maxwell_boltzmann_velocities(int n, const double *masses, double temperature_k,
                                             md_rng *rng, double *velocities) {
    if (n < 2)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "Maxwell–Boltzmann velocities need at least 2 atoms, got %d", n);
    if (!(temperature_k >= 0) || !isfinite(temperature_k))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "temperature must be zero or positive, got %g K", temperature_k);
    double kt = MD_BOLTZMANN_EV_PER_K * temperature_k;
    for (int i = 0; i < n; i++) {
        if (!(masses[i] > 0))
            return error_set(MLPOT_ERR_INVALID_ARGUMENT, "atom %d has no mass", i + 1);
        /* <m v_a^2> = kT per component */
        double sigma = sqrt(kt * MD_A_FS2_PER_EV_A_AMU / masses[i]);
        for (int a = 0; a < 3; a++)
            velocities[3 * i + a] = sigma * md_rng_normal(rng);
    }
    remove_total_momentum(n, masses, velocities);
    double ekin = md_kinetic_energy_of(n, masses, velocities);
    double target = 0.5 * (3 * n - 3) * kt;
    double scale = ekin > 0 ? sqrt(target / ekin) : 0.0;
    for (int k = 0; k < 3 * n; k++)
        velocities[k] *= scale;
    return MLPOT_OK;
}

mlpot_status md_maxwell_boltzmann(md_state *md, double temperature_k) {
    return md_maxwell_boltzmann_velocities(md->n_atoms, md->masses, temperature_k, &md->rng,
                                           md->velocities);
}

/* B: v += (h/m) F, a half or whole kick of length h fs. */
static void kick(md_state *md, double h) {
    for (int i = 0; i < md->n_atoms; i++) {
        double c = h * MD_A_FS2_PER_EV_A_AMU / md->masses[i];
        for (int a = 0; a < 3; a++)
            md->velocities[3 * i + a] += c * md->forces[3 * i + a];
    }
}

/* A: r += h v. */
static void drift(md_state *md, double h) {
    double *r = md->structure->positions;
    for (int k = 0; k < 3 * md->n_atoms; k++)
        r[k] += h * md->velocities[k];
}

/* O: the exact Ornstein–Uhlenbeck step of length h, v = c v + sqrt((1 - c^2) kT/m) R with
 * c = exp(-γ h). The centre-of-mass part of the noise is projected out (the orthogonal
 * projection in mass-weighted velocities, so the distribution on the zero-momentum subspace
 * is still Maxwell–Boltzmann at T with 3N - 3 degrees of freedom); the kinetic energy taken
 * out is added to bath_energy. */
static void ornstein_uhlenbeck(md_state *md, double h) {
    double c = exp(-md->params.friction_per_fs * h);
    double kt = MD_BOLTZMANN_EV_PER_K * md->params.temperature_k;
    double before = md_kinetic_energy(md);
    for (int i = 0; i < md->n_atoms; i++) {
        double sigma = sqrt((1.0 - c * c) * kt * MD_A_FS2_PER_EV_A_AMU / md->masses[i]);
        for (int a = 0; a < 3; a++)
            md->velocities[3 * i + a] =
                c * md->velocities[3 * i + a] + sigma * md_rng_normal(&md->rng);
    }
    remove_total_momentum(md->n_atoms, md->masses, md->velocities);
    md->bath_energy += before - md_kinetic_energy(md);
}

/* The force on thermostat j of the chain (1/fs^2): G_1 = (2 E_kin - N_f kT)/Q_1,
 * G_j = (Q_{j-1} ζ_{j-1}^2 - kT)/Q_j. */
static double chain_force(const md_state *md, int j, double ekin, double kt) {
    if (j == 0)
        return (2.0 * ekin - md->n_dof * kt) / md->chain_q[0];
    double zeta = md->chain_zeta[j - 1];
    return (md->chain_q[j - 1] * zeta * zeta - kt) / md->chain_q[j];
}

/* One thermostat update of thermostat j < M - 1 for a time h: the velocity ζ_j is scaled by
 * the thermostat above it over h/4, pushed by its force over h/2, scaled again. */
static void chain_update(md_state *md, int j, double h, double ekin, double kt) {
    double damp = exp(-0.25 * h * md->chain_zeta[j + 1]);
    md->chain_zeta[j] *= damp;
    md->chain_zeta[j] += 0.5 * h * chain_force(md, j, ekin, kt);
    md->chain_zeta[j] *= damp;
}

/* The Nosé–Hoover chain part of the Liouvillian for a time h (h = dt/2 on each side of the
 * velocity Verlet step), as a palindromic Trotter splitting (Martyna et al., Mol. Phys. 87,
 * 1117 (1996), with one multiple time step and no Suzuki–Yoshida weights), so the step is
 * time-reversible. */
static void nose_hoover_chain(md_state *md, double h) {
    int last = md->params.chain_length - 1;
    double kt = MD_BOLTZMANN_EV_PER_K * md->params.temperature_k;
    double ekin = md_kinetic_energy(md);
    md->chain_zeta[last] += 0.5 * h * chain_force(md, last, ekin, kt);
    for (int j = last - 1; j >= 0; j--)
        chain_update(md, j, h, ekin, kt);
    double scale = exp(-h * md->chain_zeta[0]);
    for (int k = 0; k < 3 * md->n_atoms; k++)
        md->velocities[k] *= scale;
    ekin *= scale * scale;
    for (int j = 0; j <= last; j++)
        md->chain_xi[j] += h * md->chain_zeta[j];
    for (int j = 0; j < last; j++)
        chain_update(md, j, h, ekin, kt);
    md->chain_zeta[last] += 0.5 * h * chain_force(md, last, ekin, kt);
}

mlpot_status md_step(md_state *md) {
    double dt = md->params.dt_fs;
    mlpot_status st;
    switch (md->params.ensemble) {
    case MD_NVE:
        kick(md, 0.5 * dt);
        drift(md, dt);
        st = compute_forces(md);
        kick(md, 0.5 * dt);
        break;
    case MD_NVT_LANGEVIN: /* BAOAB */
        kick(md, 0.5 * dt);
        drift(md, 0.5 * dt);
        ornstein_uhlenbeck(md, dt);
        drift(md, 0.5 * dt);
        st = compute_forces(md);
        kick(md, 0.5 * dt);
        break;
    default:
        nose_hoover_chain(md, 0.5 * dt);
        kick(md, 0.5 * dt);
        drift(md, dt);
        st = compute_forces(md);
        kick(md, 0.5 * dt);
        nose_hoover_chain(md, 0.5 * dt);
        break;
    }
    md->step++;
    return st;
}

double md_conserved_energy(const md_state *md) {
    double e = md->energy + md_kinetic_energy(md);
    if (md->params.ensemble == MD_NVT_LANGEVIN)
        e += md->bath_energy;
    if (md->params.ensemble == MD_NVT_NOSE_HOOVER) {
        double kt = MD_BOLTZMANN_EV_PER_K * md->params.temperature_k;
        for (int j = 0; j < md->params.chain_length; j++)
            e += 0.5 * md->chain_q[j] * md->chain_zeta[j] * md->chain_zeta[j] +
                 (j == 0 ? md->n_dof : 1) * kt * md->chain_xi[j];
    }
    return e;
}

mlpot_status md_stress(const md_state *md, double stress[9]) {
    if (!md->has_stress || !structure_is_periodic3(md->structure))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "stress needs a structure periodic in three directions");
    double volume = fabs(mat3_det(md->structure->cell));
    double kinetic[9] = {0};
    for (int i = 0; i < md->n_atoms; i++) {
        const double *v = &md->velocities[3 * i];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                kinetic[3 * a + b] += md->masses[i] * v[a] * v[b];
    }
    for (int k = 0; k < 9; k++)
        stress[k] = md->stress[k] - kinetic[k] * MD_EV_PER_AMU_A2_FS2 / volume;
    return MLPOT_OK;
}
