/* test_md.c — MD and relaxation (src/md): the random generator; Maxwell–Boltzmann velocities
 * (zero momentum, exact temperature, equipartition between masses, seeds); units against the
 * analytic harmonic oscillator; NVE energy conservation with second-order error (halving dt
 * quarters the fluctuation); Langevin and Nosé–Hoover temperatures and the Nosé–Hoover
 * conserved energy; identical trajectories on 1 and 2 threads; FIRE on positions, the cell
 * (against a 1D minimisation of a Morse crystal), a target pressure, and --keep-symmetry with a
 * symmetry-breaking field. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/units.h"

#include "core/mat3.h"
#include "io/structure.h"
#include "md/md.h"
#include "model/calculator.h"
#include "md/relax.h"

static const int silicon[1] = {14};

/* ---- potentials for the tests ---- */

/* E = sum_i k/2 |r_i - r0_i|^2: independent isotropic oscillators. */
typedef struct {
    double k;           /* eV/Å^2 */
    const double *rest; /* [N][3] */
} harmonic;

static mlpot_status harmonic_compute(void *context, const mlpot_structure *s, mlpot_results *r) {
    const harmonic *h = context;
    r->energy = 0;
    for (int k = 0; k < 3 * s->n_atoms; k++) {
        double d = s->positions[k] - h->rest[k];
        r->energy += 0.5 * h->k * d * d;
        if (r->forces)
            r->forces[k] = -h->k * d;
    }
    r->has_stress = 0;
    return MLPOT_OK;
}

/* A shifted-force Morse pair potential (energy and force continuous at the cutoff), summed
 * over the brute-force edge list, with an optional constant force `field` on atom 0 (a
 * symmetry-breaking perturbation, E -= field . r_0). */
typedef struct {
    double depth, alpha, r0, cutoff;
    double field[3];
} morse;

static void morse_pair(const morse *m, double r, double *phi, double *dphi) {
    double e = exp(-m->alpha * (r - m->r0));
    *phi = m->depth * (e * e - 2 * e);
    *dphi = -2 * m->alpha * m->depth * (e * e - e);
}

static mlpot_status morse_compute(void *context, const mlpot_structure *s, mlpot_results *r) {
    const morse *m = context;
    double phi_c, dphi_c;
    morse_pair(m, m->cutoff, &phi_c, &dphi_c);
    ts_edge *edges = NULL;
    int64_t n_edges = 0;
    ts_brute_force_edges(s, m->cutoff, &edges, &n_edges);
    double virial[9] = {0};
    r->energy = 0;
    if (r->forces)
        memset(r->forces, 0, 3 * (size_t)s->n_atoms * sizeof *r->forces);
    for (int64_t e = 0; e < n_edges; e++) {
        const ts_edge *x = &edges[e];
        double phi, dphi;
        morse_pair(m, x->r, &phi, &dphi);
        r->energy += 0.5 * (phi - phi_c - (x->r - m->cutoff) * dphi_c);
        double g = (dphi - dphi_c) / x->r; /* dE/dr / r of the pair, counted twice */
        for (int a = 0; a < 3; a++) {
            if (r->forces)
                r->forces[3 * x->i + a] += g * x->d[a];
            for (int b = 0; b < 3; b++)
                virial[3 * a + b] += 0.5 * g * x->d[a] * x->d[b];
        }
    }
    free(edges);
    r->energy -= vec3_dot(m->field, s->positions);
    if (r->forces)
        for (int a = 0; a < 3; a++)
            r->forces[a] += m->field[a];
    r->has_stress = 0;
    if (r->stress && structure_is_periodic3(s)) {
        double volume = fabs(mat3_det(s->cell));
        for (int k = 0; k < 9; k++)
            r->stress[k] = virial[k] / volume;
        r->has_stress = 1;
    }
    return MLPOT_OK;
}

/* A short-ranged Morse potential whose fcc crystal has a ≈ 3.6 Å, cut between the third and
 * fourth neighbour shells (for 3.4 < a < 3.9 Å). */
static morse copper_morse(void) {
    morse m = {.depth = 0.3, .alpha = 2.0, .r0 = 2.55, .cutoff = 4.8};
    return m;
}

/* The conventional fcc cell (4 atoms) with lattice constant a, repeated n x n x n. */
static mlpot_structure *fcc(double a, int n) {
    const int numbers[4] = {29, 29, 29, 29};
    const double frac[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
    double positions[12], cell[9] = {a, 0, 0, 0, a, 0, 0, 0, a};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            positions[3 * i + k] = a * frac[i][k];
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *unit = NULL;
    TS_OK(mlpot_structure_create(&unit, 4, numbers, positions, cell, pbc));
    mlpot_structure *s = ts_supercell(unit, n, n, n);
    mlpot_structure_free(unit);
    return s;
}

static double energy_per_atom(const md_potential *p, const mlpot_structure *s) {
    mlpot_results r = {0};
    TS_OK(p->compute(p->context, s, &r));
    return r.energy / s->n_atoms;
}

/* The equilibrium lattice constant of the Morse fcc crystal by golden-section search on the
 * energy per atom: the reference for the cell relaxation. */
static double morse_equilibrium_lattice(const md_potential *p) {
    double lo = 3.4, hi = 3.85, g = 0.5 * (sqrt(5.0) - 1);
    while (hi - lo > 1e-7) {
        double a1 = hi - g * (hi - lo), a2 = lo + g * (hi - lo);
        mlpot_structure *s1 = fcc(a1, 1), *s2 = fcc(a2, 1);
        if (energy_per_atom(p, s1) < energy_per_atom(p, s2))
            hi = a2;
        else
            lo = a1;
        mlpot_structure_free(s1);
        mlpot_structure_free(s2);
    }
    return 0.5 * (lo + hi);
}

static void rattle(mlpot_structure *s, double amplitude, uint64_t seed) {
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    for (int k = 0; k < 3 * s->n_atoms; k++)
        s->positions[k] += amplitude * (2 * ts_uniform(&rng) - 1);
}

/* Diamond Si: the shipped 8-atom cell repeated n x n x n, rattled. */
static mlpot_structure *silicon_cell(int n, double amplitude) {
    char path[4096];
    mlpot_structure *unit = ts_read(ts_structure_path("Si.vasp", path, sizeof path));
    mlpot_structure *s = ts_supercell(unit, n, n, n);
    mlpot_structure_free(unit);
    rattle(s, amplitude, 11);
    return s;
}

static double total_momentum_norm(const md_state *md) {
    double p[3] = {0, 0, 0};
    for (int i = 0; i < md->n_atoms; i++)
        for (int a = 0; a < 3; a++)
            p[a] += md->masses[i] * md->velocities[3 * i + a];
    return sqrt(vec3_dot(p, p));
}

/* The random model the MD tests share, its calculator, and 8- and 64-atom rattled Si cells. */
typedef struct {
    mlpot_model *model;
    mlpot_calculator *calculator;
    md_potential potential;
    mlpot_structure *si8, *si64;
} model_fixture;

static int model_fixture_setup(void **state) {
    model_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->model = ts_random_model("cgcnn", silicon, 1, 3.0, 21);
    TS_OK(mlpot_calculator_create(&f->calculator, f->model));
    f->potential = md_calculator_potential(f->calculator);
    f->si8 = silicon_cell(1, 0.05);
    f->si64 = silicon_cell(2, 0.05);
    *state = f;
    return 0;
}

static int model_fixture_teardown(void **state) {
    model_fixture *f = *state;
    mlpot_structure_free(f->si8);
    mlpot_structure_free(f->si64);
    mlpot_calculator_free(f->calculator);
    mlpot_model_free(f->model);
    free(f);
    return 0;
}

/* ---- the random generator ---- */

static void test_rng(void **state) {
    (void)state;
    md_rng a, b, c;
    md_rng_seed(&a, 42);
    md_rng_seed(&b, 42);
    md_rng_seed(&c, 43);
    int same_c = 0;
    for (int k = 0; k < 1000; k++) {
        uint64_t x = md_rng_next(&a);
        assert_true(x == md_rng_next(&b));
        same_c += x == md_rng_next(&c);
    }
    assert_int_equal(same_c, 0);
    /* moments of 2e5 normal deviates: standard errors 0.0022 (mean), 0.0032 (variance) */
    double sum = 0, sum2 = 0, umin = 1, umax = 0;
    const int n = 200000;
    for (int k = 0; k < n; k++) {
        double x = md_rng_normal(&a), u = md_rng_uniform(&a);
        sum += x;
        sum2 += x * x;
        umin = fmin(umin, u);
        umax = fmax(umax, u);
    }
    assert_close(sum / n, 0.0, 0.012);
    assert_close(sum2 / n, 1.0, 0.016);
    assert_true(umin >= 0 && umin < 1e-3 && umax < 1 && umax > 1 - 1e-3);
}

/* ---- initial velocities ---- */

static void test_maxwell_boltzmann(void **state) {
    (void)state;
    enum { N = 4000 };
    double *masses = malloc(N * sizeof *masses), *v = malloc(3 * N * sizeof *v),
           *w = malloc(3 * N * sizeof *w);
    for (int i = 0; i < N; i++)
        masses[i] = i % 2 ? 15.999 : 28.085;
    md_rng rng;
    md_rng_seed(&rng, 7);
    TS_OK(md_maxwell_boltzmann_velocities(N, masses, 500.0, &rng, v));
    double p[3] = {0, 0, 0}, ekin_species[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        for (int a = 0; a < 3; a++)
            p[a] += masses[i] * v[3 * i + a];
        ekin_species[i % 2] += md_kinetic_energy_of(1, &masses[i], &v[3 * i]);
    }
    for (int a = 0; a < 3; a++)
        assert_close(p[a], 0.0, 1e-10);
    double ekin = md_kinetic_energy_of(N, masses, v);
    double kt = MD_BOLTZMANN_EV_PER_K * 500.0;
    assert_close(2 * ekin / ((3 * N - 3) * kt), 1.0, 1e-12);
    /* equipartition: both masses carry 3/2 kT per atom (relative standard error 1.3%) */
    for (int s = 0; s < 2; s++)
        assert_close(ekin_species[s] / (N / 2) / (1.5 * kt), 1.0, 0.06);
    /* the same seed gives the same velocities, another seed others */
    md_rng_seed(&rng, 7);
    TS_OK(md_maxwell_boltzmann_velocities(N, masses, 500.0, &rng, w));
    assert_memory_equal(v, w, 3 * N * sizeof *v);
    md_rng_seed(&rng, 8);
    TS_OK(md_maxwell_boltzmann_velocities(N, masses, 500.0, &rng, w));
    int differ = 0;
    for (int k = 0; k < 3 * N; k++)
        differ += v[k] != w[k];
    assert_int_equal(differ, 3 * N);
    /* zero temperature: at rest; a single atom has no degree of freedom */
    TS_OK(md_maxwell_boltzmann_velocities(N, masses, 0.0, &rng, w));
    assert_close(md_kinetic_energy_of(N, masses, w), 0.0, 0.0);
    assert_int_equal(md_maxwell_boltzmann_velocities(1, masses, 300.0, &rng, w),
                     MLPOT_ERR_INVALID_ARGUMENT);
    free(masses);
    free(v);
    free(w);
}

/* The state's velocities: from its seed, at exactly T with 3N - 3 degrees of freedom. */
static void test_state_velocities(void **state) {
    (void)state;
    mlpot_structure *s = silicon_cell(1, 0.0);
    double *rest = s->positions;
    harmonic h = {.k = 1.0, .rest = rest};
    md_potential pot = {harmonic_compute, &h};
    md_params p = md_default_params();
    p.seed = 3;
    md_state *a = NULL, *b = NULL;
    TS_OK(md_create(&a, s, &pot, &p));
    TS_OK(md_create(&b, s, &pot, &p));
    TS_OK(md_maxwell_boltzmann(a, 1234.0));
    TS_OK(md_maxwell_boltzmann(b, 1234.0));
    assert_int_equal(a->n_dof, 21);
    assert_close(md_temperature(a), 1234.0, 1e-9);
    assert_close(total_momentum_norm(a), 0.0, 1e-12);
    assert_memory_equal(a->velocities, b->velocities, 24 * sizeof(double));
    md_free(a);
    md_free(b);
    mlpot_structure_free(s);
}

/* ---- units: the harmonic oscillator ---- */

/* Two atoms (Si and O) in independent springs, released at rest with the centre of mass at
 * rest: x_i(t) = A_i cos(ω_i t), ω_i = sqrt(k / m_i) with k/m converted to 1/fs^2, and the
 * total energy stays k A^2/2 (which checks the kinetic-energy conversion). */
static void test_harmonic_oscillator_units(void **state) {
    (void)state;
    const int numbers[2] = {14, 8};
    const double rest[6] = {0, 0, 0, 5, 0, 0};
    const double m_si = 28.085, m_o = 15.999, amplitude = 0.1;
    double positions[6] = {amplitude, 0, 0, 5 - amplitude * m_si / m_o, 0, 0};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, numbers, positions, NULL, NULL));
    harmonic h = {.k = 20.0, .rest = rest};
    md_potential pot = {harmonic_compute, &h};
    md_params p = md_default_params();
    p.dt_fs = 0.02;
    md_state *md = NULL;
    TS_OK(md_create(&md, s, &pot, &p));
    double e0 = md_conserved_energy(md), worst = 0;
    for (int step = 0; step < 5000; step++) { /* 100 fs, about 3 and 2 periods */
        TS_OK(md_step(md));
        worst = fmax(worst, fabs(md_conserved_energy(md) - e0));
    }
    double t = 100.0;
    double w_si = sqrt(h.k / m_si * MD_A_FS2_PER_EV_A_AMU),
           w_o = sqrt(h.k / m_o * MD_A_FS2_PER_EV_A_AMU);
    /* the period of Si: 2π/ω = 2π sqrt(28.085 / (20 * 0.0096485)) = 75.8 fs */
    assert_close(2 * 3.141592653589793 / w_si, 75.80, 0.01);
    assert_close(md->structure->positions[0], amplitude * cos(w_si * t), 1e-5);
    assert_close(md->structure->positions[3] - 5, -amplitude * m_si / m_o * cos(w_o * t), 1e-5);
    assert_close(md->structure->positions[1], 0.0, 1e-15);
    assert_true(worst < 1e-5 * e0);
    md_free(md);
    mlpot_structure_free(s);
}

/* ---- NVE with a model ---- */

/* Standard deviation and drift (least-squares slope, eV/fs) of the total energy over `steps`
 * steps of length dt after MB velocities at T. */
static void nve_run(const model_fixture *f, double dt, int steps, double *fluctuation,
                    double *drift) {
    md_params p = md_default_params();
    p.dt_fs = dt;
    p.seed = 5;
    md_state *md = NULL;
    TS_OK(md_create(&md, f->si8, &f->potential, &p));
    TS_OK(md_maxwell_boltzmann(md, 600.0));
    double st = 0, se = 0, stt = 0, ste = 0, see = 0;
    for (int k = 0; k <= steps; k++) {
        if (k)
            TS_OK(md_step(md));
        double t = k * dt, e = md_conserved_energy(md);
        st += t;
        se += e;
        stt += t * t;
        ste += t * e;
        see += e * e;
    }
    int n = steps + 1;
    double var_t = stt / n - st * st / n / n, cov = ste / n - st * se / n / n;
    *drift = cov / var_t;
    *fluctuation = sqrt(fmax(see / n - se * se / n / n, 0.0));
    md_free(md);
}

static void test_nve_energy_conservation(void **state) {
    const model_fixture *f = *state;
    double fluct1, drift1, fluct2, drift2, fluct4, drift4;
    nve_run(f, 2.0, 100, &fluct1, &drift1);
    nve_run(f, 1.0, 200, &fluct2, &drift2);
    nve_run(f, 0.5, 400, &fluct4, &drift4);
    print_message("NVE 8 Si atoms, 200 fs at 600 K: energy RMS fluctuation %.3g / %.3g / %.3g eV "
                  "at dt 2 / 1 / 0.5 fs; drift %.3g eV/atom/ps at 1 fs\n",
                  fluct1, fluct2, fluct4, drift2 * 1000 / 8);
    /* a second-order integrator: the fluctuation scales with dt^2 */
    assert_true(fluct1 / fluct2 > 3.2 && fluct1 / fluct2 < 4.8);
    assert_true(fluct2 / fluct4 > 3.2 && fluct2 / fluct4 < 4.8);
    assert_true(fabs(drift2) * 1000 / 8 < 1e-3);
}

/* ---- thermostats ---- */

/* Mean kinetic temperature over `steps` steps after `equilibration` steps. */
static double mean_temperature(md_state *md, int equilibration, int steps) {
    for (int k = 0; k < equilibration; k++)
        TS_OK(md_step(md));
    double sum = 0;
    for (int k = 0; k < steps; k++) {
        TS_OK(md_step(md));
        sum += md_temperature(md);
    }
    return sum / steps;
}

/* Langevin from rest: the bath heats 64 atoms to T (relative standard deviation of one sample
 * sqrt(2/189) = 10%, about 100 independent samples: 1% on the mean), and the total momentum
 * stays zero. */
static void test_langevin_temperature(void **state) {
    const model_fixture *f = *state;
    md_params p = md_default_params();
    p.ensemble = MD_NVT_LANGEVIN;
    p.temperature_k = 800.0;
    p.friction_per_fs = 0.05;
    p.seed = 9;
    md_state *md = NULL;
    TS_OK(md_create(&md, f->si64, &f->potential, &p));
    double t = mean_temperature(md, 200, 800);
    print_message("Langevin 64 atoms, target 800 K: mean %.1f K\n", t);
    assert_close(t, 800.0, 0.05 * 800.0);
    assert_close(total_momentum_norm(md), 0.0, 1e-9);
    md_free(md);
}

/* Nosé–Hoover chain and a single thermostat, starting at twice the target: the mean
 * temperature comes to the target, and the conserved energy (with the thermostat's) stays
 * constant while E_pot + E_kin changes by far more. */
static void test_nose_hoover(void **state) {
    const model_fixture *f = *state;
    for (int chain = 3; chain >= 1; chain -= 2) {
        md_params p = md_default_params();
        p.ensemble = MD_NVT_NOSE_HOOVER;
        p.temperature_k = 400.0;
        p.tdamp_fs = 20.0;
        p.chain_length = chain;
        p.seed = 4;
        md_state *md = NULL;
        TS_OK(md_create(&md, f->si64, &f->potential, &p));
        TS_OK(md_maxwell_boltzmann(md, 800.0));
        double h0 = md_conserved_energy(md), e0 = md->energy + md_kinetic_energy(md);
        double h_dev = 0, e_dev = 0, sum_t = 0;
        const int steps = 1200, skip = 300;
        for (int k = 1; k <= steps; k++) {
            TS_OK(md_step(md));
            h_dev = fmax(h_dev, fabs(md_conserved_energy(md) - h0));
            e_dev = fmax(e_dev, fabs(md->energy + md_kinetic_energy(md) - e0));
            if (k > skip)
                sum_t += md_temperature(md);
        }
        double t = sum_t / (steps - skip);
        print_message("Nose-Hoover chain %d, 64 atoms, 800 K -> 400 K: mean %.1f K; conserved "
                      "energy within %.2g eV while E_pot + E_kin moved %.3g eV\n",
                      chain, t, h_dev, e_dev);
        assert_close(t, 400.0, 0.08 * 400.0);
        assert_true(h_dev < 2e-3 && e_dev > 50 * h_dev);
        assert_close(total_momentum_norm(md), 0.0, 1e-9);
        md_free(md);
    }
}

/* ---- threads ---- */

/* 64 atoms (the calculator's threaded path) with Langevin noise: bit-identical positions and
 * velocities on 1 and 2 threads. */
static void test_threads_identical(void **state) {
    const model_fixture *f = *state;
    md_params p = md_default_params();
    p.ensemble = MD_NVT_LANGEVIN;
    p.seed = 2;
    md_state *runs[2] = {NULL, NULL};
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        TS_OK(md_create(&runs[threads - 1], f->si64, &f->potential, &p));
        TS_OK(md_maxwell_boltzmann(runs[threads - 1], 500.0));
        for (int k = 0; k < 30; k++)
            TS_OK(md_step(runs[threads - 1]));
    }
    assert_true(f->calculator->ctx.parallel);
    assert_memory_equal(runs[0]->structure->positions, runs[1]->structure->positions,
                        64 * 3 * sizeof(double));
    assert_memory_equal(runs[0]->velocities, runs[1]->velocities, 64 * 3 * sizeof(double));
    assert_true(runs[0]->energy == runs[1]->energy);
    md_free(runs[0]);
    md_free(runs[1]);
}

static void test_bad_parameters(void **state) {
    (void)state;
    mlpot_structure *s = silicon_cell(1, 0.0);
    harmonic h = {.k = 1.0, .rest = s->positions};
    md_potential pot = {harmonic_compute, &h};
    md_state *md = NULL;
    md_params p = md_default_params();
    p.dt_fs = -1;
    assert_int_equal(md_create(&md, s, &pot, &p), MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "time step"));
    p = md_default_params();
    p.ensemble = MD_NVT_NOSE_HOOVER;
    p.temperature_k = 0;
    assert_int_equal(md_create(&md, s, &pot, &p), MLPOT_ERR_INVALID_ARGUMENT);
    md_ensemble e;
    assert_int_equal(md_ensemble_from_name("npt", &e), MLPOT_ERR_INVALID_ARGUMENT);
    TS_OK(md_ensemble_from_name("nvt-langevin", &e));
    assert_int_equal(e, MD_NVT_LANGEVIN);
    assert_null(md);
    mlpot_structure_free(s);
}

/* ---- relaxation ---- */

static double max_force(const md_potential *p, const mlpot_structure *s) {
    double *f = calloc(3 * (size_t)s->n_atoms, sizeof *f), worst = 0;
    mlpot_results r = {.forces = f};
    TS_OK(p->compute(p->context, s, &r));
    for (int i = 0; i < s->n_atoms; i++)
        worst = fmax(worst, sqrt(vec3_dot(&f[3 * i], &f[3 * i])));
    free(f);
    return worst;
}

/* FIRE brings a rattled Morse crystal back to the perfect crystal's energy; and a rattled
 * silicon cell with the random model to fmax. */
static void test_fire_positions(void **state) {
    const model_fixture *f = *state;
    morse mo = copper_morse();
    md_potential pot = {morse_compute, &mo};
    double a = morse_equilibrium_lattice(&pot);
    mlpot_structure *perfect = fcc(a, 2), *s = fcc(a, 2);
    rattle(s, 0.15, 5);
    relax_options o = relax_default_options();
    relax_result r;
    TS_OK(relax_run(s, &pot, &o, NULL, NULL, &r));
    print_message("FIRE, rattled 32-atom Morse fcc: %d steps\n", r.steps);
    assert_true(r.converged && r.steps > 10 && r.steps < 300);
    assert_true(max_force(&pot, s) < 0.01);
    assert_close(r.energy / 32, energy_per_atom(&pot, perfect), 1e-5);
    double label;
    TS_OK(mlpot_structure_energy(s, &label));
    assert_true(label == r.energy);
    mlpot_structure_free(perfect);
    mlpot_structure_free(s);

    s = silicon_cell(1, 0.1);
    double f0 = max_force(&f->potential, s);
    TS_OK(relax_run(s, &f->potential, &o, NULL, NULL, &r));
    print_message("FIRE, rattled 8-atom Si, random model: max |F| %.3g -> %.3g eV/Å in %d steps\n",
                  f0, r.fmax_atoms, r.steps);
    assert_true(r.converged && f0 > 0.03);
    assert_true(max_force(&f->potential, s) < 0.01);
    mlpot_structure_free(s);
}

/* The cell of a strained and sheared Morse crystal relaxes to the cubic cell of the
 * equilibrium lattice constant (the metric L L^T = a^2 I, whatever rotation); at a pressure P
 * the stress becomes -P and the crystal shrinks. */
static void test_fire_cell(void **state) {
    (void)state;
    morse mo = copper_morse();
    md_potential pot = {morse_compute, &mo};
    double a = morse_equilibrium_lattice(&pot);
    for (int with_pressure = 0; with_pressure <= 1; with_pressure++) {
        mlpot_structure *s = fcc(a, 1);
        const double strain[9] = {1.04, 0.02, 0, 0, 0.97, 0, 0.01, 0, 1.02};
        double cell[9];
        mat3_mul(s->cell, strain, cell);
        for (int i = 0; i < 4; i++)
            vec3_mat3(&s->positions[3 * i], strain, &s->positions[3 * i]);
        TS_OK(mlpot_structure_set_cell(s, cell, NULL));
        relax_options o = relax_default_options();
        o.relax_cell = 1;
        o.fmax = 1e-4;
        o.pressure = with_pressure ? 2.0 / EV_PER_A3_IN_GPA : 0.0;
        relax_result r;
        TS_OK(relax_run(s, &pot, &o, NULL, NULL, &r));
        assert_true(r.converged);
        double stress[9], *f = calloc(12, sizeof *f);
        mlpot_results res = {.forces = f, .stress = stress};
        TS_OK(pot.compute(pot.context, s, &res));
        free(f);
        double tolerance = 2e-4 * 4 / mlpot_structure_volume(s); /* |σ + P| < fmax N / V */
        for (int k = 0; k < 9; k++)
            assert_close(stress[k], k % 4 == 0 ? -o.pressure : 0.0, tolerance);
        double metric[9], t[9];
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++)
                t[3 * x + y] = s->cell[3 * y + x];
        mat3_mul(s->cell, t, metric);
        double a_final = sqrt(metric[0]);
        print_message("FIRE cell, Morse fcc at %g GPa: a = %.6f Å (1D minimum %.6f Å), %d steps\n",
                      with_pressure ? 2.0 : 0.0, a_final, a, r.steps);
        for (int k = 0; k < 9; k++)
            assert_close(metric[k], k % 4 == 0 ? a_final * a_final : 0.0, 1e-4 * a * a);
        if (with_pressure)
            assert_true(a_final < a - 0.005);
        else
            assert_close(a_final, a, 1e-4);
        mlpot_structure_free(s);
    }
}

/* A force on one atom breaks the symmetry of a strained fcc crystal: with keep_symmetry the
 * forces are averaged over the space group, which cancels it, so the crystal keeps Fm-3m
 * (225) while its cell relaxes; without, the group is lost. */
static void test_keep_symmetry(void **state) {
    (void)state;
    morse mo = copper_morse();
    mo.field[0] = 0.05;
    mo.field[1] = 0.02;
    md_potential pot = {morse_compute, &mo};
    for (int keep = 1; keep >= 0; keep--) {
        mlpot_structure *s = fcc(3.7, 1);
        relax_options o = relax_default_options();
        o.relax_cell = 1;
        o.keep_symmetry = keep;
        o.max_steps = 300;
        relax_result r;
        TS_OK(relax_run(s, &pot, &o, NULL, NULL, &r));
        mlpot_spacegroup sg;
        TS_OK(mlpot_symmetry_spacegroup(s, 1e-5, &sg));
        if (keep) {
            assert_true(r.converged);
            assert_int_equal(r.before.number, 225);
            assert_int_equal(r.after.number, 225);
            assert_int_equal(sg.number, 225);
        } else {
            assert_true(sg.number != 225);
        }
        mlpot_structure_free(s);
    }
}

static void test_relax_refusals(void **state) {
    (void)state;
    const int numbers[2] = {14, 14};
    const double positions[6] = {0, 0, 0, 2.3, 0, 0};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, numbers, positions, NULL, NULL));
    harmonic h = {.k = 1.0, .rest = positions};
    md_potential pot = {harmonic_compute, &h};
    relax_options o = relax_default_options();
    relax_result r;
    o.relax_cell = 1;
    assert_int_equal(relax_run(s, &pot, &o, NULL, NULL, &r), MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "periodic"));
    o = relax_default_options();
    o.fmax = 0;
    assert_int_equal(relax_run(s, &pot, &o, NULL, NULL, &r), MLPOT_ERR_INVALID_ARGUMENT);
    /* no FIRE step at all: not converged, the structure untouched */
    o = relax_default_options();
    o.max_steps = 0;
    s->positions[0] = 0.5;
    TS_OK(relax_run(s, &pot, &o, NULL, NULL, &r));
    assert_false(r.converged);
    assert_int_equal(r.steps, 0);
    assert_close(s->positions[0], 0.5, 0.0);
    mlpot_structure_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_maxwell_boltzmann),
        cmocka_unit_test(test_state_velocities),
        cmocka_unit_test(test_harmonic_oscillator_units),
        cmocka_unit_test(test_nve_energy_conservation),
        cmocka_unit_test(test_langevin_temperature),
        cmocka_unit_test(test_nose_hoover),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_fire_positions),
        cmocka_unit_test(test_fire_cell),
        cmocka_unit_test(test_keep_symmetry),
        cmocka_unit_test(test_relax_refusals),
    };
    return cmocka_run_group_tests(tests, model_fixture_setup, model_fixture_teardown);
}
