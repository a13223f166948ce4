/* cli_md.c — `mlpot md`: molecular dynamics of one structure (NVE, Langevin or Nosé–Hoover
 * NVT) with thermo lines, a CSV log, an extended XYZ trajectory and a progress line. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "core/units.h"
#include "core/error.h"
#include "core/memory.h"
#include "io/line_reader.h"
#include "io/structure.h"
#include "md/md.h"

static const char *md_help =
    "usage: mlpot md STRUCTURE --steps N [--model FILE] [--dt FS] [--temperature K]\n"
    "                [--ensemble nve|nvt-langevin|nvt-nose-hoover] [--friction G] [--tdamp FS]\n"
    "                [--chain M] [--seed S] [--every K] [--traj OUT.extxyz] [--log THERMO.csv]\n"
    "                [--threads N] [--input-format F]\n\n"
    "Molecular dynamics of the first structure of STRUCTURE in metal units (eV, Å, fs, amu),\n"
    "with velocity Verlet. Velocities start from a Maxwell–Boltzmann distribution at the\n"
    "temperature, with zero total momentum, rescaled to exactly that temperature (3N - 3\n"
    "degrees of freedom). Without --model, the shipped potential whose species cover the\n"
    "structure is used (and named).\n\n"
    "  --steps N           time steps (required, N >= 0)\n"
    "  --dt FS             time step in fs (default 1)\n"
    "  --temperature K     initial temperature and thermostat target in K (default 300)\n"
    "  --ensemble E        nve (default), nvt-langevin (BAOAB) or nvt-nose-hoover (chain)\n"
    "  --friction G        Langevin friction in 1/ps (default 10)\n"
    "  --tdamp FS          Nosé–Hoover relaxation time in fs (default 100)\n"
    "  --chain M           Nosé–Hoover thermostats in the chain, 1..10 (default 3)\n"
    "  --seed S            seed of the velocities and the Langevin noise (default 0)\n"
    "  --every K           thermo line, log row and trajectory frame every K steps (default 10)\n"
    "  --traj FILE         extended XYZ trajectory: positions, velocities (Å/fs), energy,\n"
    "                      forces, stress, step and time_fs\n"
    "  --log FILE          thermo as CSV: step,time_fs,epot_eV,ekin_eV,etot_eV,conserved_eV,\n"
    "                      temperature_K,pressure_GPa (pressure empty unless 3D-periodic)\n"
    "  --threads N         OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
    "  --input-format F    vasp, extxyz or cif (default: from the file name)\n\n"
    "conserved_eV is etot_eV plus the energy the thermostat exchanged (Langevin: heat taken\n"
    "out by the bath; Nosé–Hoover: the chain's energy); it is etot_eV in NVE. Outputs are\n"
    "written to temporary files and renamed when the run completes.\n";

/* ---- progress line: "step 1200/10000  85.3 steps/s  ETA 0:01:43" on a terminal ---- */

typedef struct {
    int enabled, shown;
    long total;
    double start, last;
} step_progress;

/* At most four updates a second, only when standard error is a terminal. */
static void step_progress_show(step_progress *p, long done) {
    if (!p->enabled)
        return;
    double t = cli_seconds();
    if (t - p->last < 0.25)
        return;
    p->last = t;
    p->shown = 1;
    double rate = done / (t - p->start);
    long eta = rate > 0 ? lround((double)(p->total - done) / rate) : 0;
    fprintf(stderr, "\rstep %ld/%ld  %.1f steps/s  ETA %ld:%02ld:%02ld\033[K", done, p->total,
            rate, eta / 3600, eta / 60 % 60, eta % 60);
    fflush(stderr);
}

static void step_progress_clear(step_progress *p) {
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->shown = 0;
}

/* ---- thermo ---- */

typedef struct {
    double epot, ekin, conserved, temperature, pressure_gpa;
    int has_pressure;
} thermo;

/* The thermodynamic quantities of the current state. */
static thermo thermo_of(const md_state *md) {
    thermo t = {.epot = md->energy, .ekin = md_kinetic_energy(md),
                .conserved = md_conserved_energy(md), .temperature = md_temperature(md)};
    double stress[9];
    if (structure_is_periodic3(md->structure) && md->has_stress &&
        md_stress(md, stress) == MLPOT_OK) {
        t.pressure_gpa = -(stress[0] + stress[4] + stress[8]) / 3 * EV_PER_A3_IN_GPA;
        t.has_pressure = 1;
    }
    return t;
}

static void thermo_print_header(FILE *fp) {
    fprintf(fp, "%10s %12s %16s %12s %16s %16s %10s %10s\n", "step", "time_fs", "epot_eV",
            "ekin_eV", "etot_eV", "conserved_eV", "T_K", "P_GPa");
}

static void thermo_print(FILE *fp, long step, double time_fs, const thermo *t) {
    fprintf(fp, "%10ld %12.3f %16.6f %12.6f %16.6f %16.6f %10.2f", step, time_fs, t->epot,
            t->ekin, t->epot + t->ekin, t->conserved, t->temperature);
    if (t->has_pressure)
        fprintf(fp, " %10.4f\n", t->pressure_gpa);
    else
        fprintf(fp, " %10s\n", "-");
}

static void thermo_csv(FILE *fp, long step, double time_fs, const thermo *t) {
    fprintf(fp, "%ld,%.6f,%.10f,%.10f,%.10f,%.10f,%.6f,", step, time_fs, t->epot, t->ekin,
            t->epot + t->ekin, t->conserved, t->temperature);
    if (t->has_pressure)
        fprintf(fp, "%.8f", t->pressure_gpa);
    fputc('\n', fp);
}

/* ---- trajectory ---- */

/* Writes the current state as a frame. */
static mlpot_status trajectory_write(mlpot_writer *w, mlpot_structure *frame, const md_state *md,
                                     double time_fs) {
    size_t n3 = 3 * (size_t)md->n_atoms;
    memcpy(frame->positions, md->structure->positions, n3 * sizeof(double));
    memcpy(frame->forces, md->forces, n3 * sizeof(double));
    memcpy(frame->columns[0].values, md->velocities, n3 * sizeof(double));
    frame->energy = md->energy;
    frame->has_energy = 1;
    memcpy(frame->stress, md->stress, sizeof frame->stress);
    frame->has_stress = md->has_stress;
    char text[64];
    snprintf(text, sizeof text, "%ld", md->step);
    mlpot_status st = mlpot_structure_set_info(frame, "step", text);
    snprintf(text, sizeof text, "%.6f", time_fs);
    if (!st)
        st = mlpot_structure_set_info(frame, "time_fs", text);
    return st ? st : mlpot_writer_write(w, frame);
}

/* ---- the command ---- */

typedef struct {
    long steps, every, chain;
    md_params params;
    int threads;
    const char *model, *ensemble, *traj, *log, *input_format;
} md_options;

/* Parses the options; 0 on success, else the exit status (a message has been printed). */
static int parse_md_options(int argc, char **argv, md_options *o) {
    enum { O_MODEL = 256, O_STEPS, O_DT, O_TEMP, O_ENS, O_FRICTION, O_TDAMP, O_CHAIN, O_SEED,
           O_EVERY, O_TRAJ, O_LOG, O_THREADS, O_INFMT };
    static const struct option long_options[] = {
        {"model", required_argument, 0, O_MODEL},   {"steps", required_argument, 0, O_STEPS},
        {"dt", required_argument, 0, O_DT},         {"temperature", required_argument, 0, O_TEMP},
        {"ensemble", required_argument, 0, O_ENS},  {"friction", required_argument, 0, O_FRICTION},
        {"tdamp", required_argument, 0, O_TDAMP},   {"chain", required_argument, 0, O_CHAIN},
        {"seed", required_argument, 0, O_SEED},     {"every", required_argument, 0, O_EVERY},
        {"traj", required_argument, 0, O_TRAJ},     {"log", required_argument, 0, O_LOG},
        {"threads", required_argument, 0, O_THREADS},
        {"input-format", required_argument, 0, O_INFMT},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
    o->steps = -1;
    o->every = 10;
    o->chain = 3;
    o->params = md_default_params();
    o->ensemble = "nve";
    double friction_per_ps = 10.0;
    long value;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_STEPS: ok = cli_parse_long("md", "--steps", optarg, 0, LONG_MAX, &o->steps); break;
        case O_DT: ok = cli_parse_double("md", "--dt", optarg, &o->params.dt_fs); break;
        case O_TEMP:
            ok = cli_parse_double("md", "--temperature", optarg, &o->params.temperature_k);
            break;
        case O_ENS: o->ensemble = optarg; break;
        case O_FRICTION: ok = cli_parse_double("md", "--friction", optarg, &friction_per_ps); break;
        case O_TDAMP:
            ok = cli_parse_double("md", "--tdamp", optarg, &o->params.tdamp_fs);
            break;
        case O_CHAIN:
            ok = cli_parse_long("md", "--chain", optarg, 1, MD_MAX_CHAIN, &o->chain);
            break;
        case O_SEED:
            ok = cli_parse_long("md", "--seed", optarg, 0, LONG_MAX, &value);
            o->params.seed = (uint64_t)value;
            break;
        case O_EVERY: ok = cli_parse_long("md", "--every", optarg, 1, LONG_MAX, &o->every); break;
        case O_TRAJ: o->traj = optarg; break;
        case O_LOG: o->log = optarg; break;
        case O_THREADS:
            ok = cli_parse_long("md", "--threads", optarg, 1, 4096, &value);
            o->threads = (int)value;
            break;
        case O_INFMT: o->input_format = optarg; break;
        case 'h': fputs(md_help, stdout); return -1;
        case ':': return cli_usage_error("md", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("md", "unknown option '%s'", argv[optind - 1]);
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (optind != argc - 1)
        return cli_usage_error("md", "expected one structure file, got %d", argc - optind);
    if (o->steps < 0)
        return cli_usage_error("md", "--steps N is required");
    if (md_ensemble_from_name(o->ensemble, &o->params.ensemble))
        return cli_usage_error("md", "--ensemble must be nve, nvt-langevin or nvt-nose-hoover, "
                                     "got '%s'", o->ensemble);
    if (!(o->params.dt_fs > 0))
        return cli_usage_error("md", "--dt must be positive, got %g", o->params.dt_fs);
    if (!(o->params.temperature_k >= 0))
        return cli_usage_error("md", "--temperature must be zero or positive, got %g",
                               o->params.temperature_k);
    if (o->params.ensemble == MD_NVT_NOSE_HOOVER && !(o->params.temperature_k > 0))
        return cli_usage_error("md", "nvt-nose-hoover needs a positive --temperature");
    if (!(friction_per_ps > 0))
        return cli_usage_error("md", "--friction must be positive, got %g", friction_per_ps);
    if (!(o->params.tdamp_fs > 0))
        return cli_usage_error("md", "--tdamp must be positive, got %g", o->params.tdamp_fs);
    o->params.friction_per_fs = friction_per_ps * 1e-3;
    o->params.chain_length = (int)o->chain;
    return 0;
}

/* Step 0 and every `every` steps (and the last): thermo line, log row, trajectory frame. */
static int md_output(const md_state *md, long total, const md_options *o, cli_output *log,
                     mlpot_writer *traj, mlpot_structure *frame, step_progress *bar) {
    long step = md->step;
    if (step % o->every != 0 && step != total)
        return 1;
    double time_fs = (double)step * md->params.dt_fs;
    thermo t = thermo_of(md);
    step_progress_clear(bar);
    thermo_print(stdout, step, time_fs, &t);
    fflush(stdout);
    if (log->fp)
        thermo_csv(log->fp, step, time_fs, &t);
    if (traj && trajectory_write(traj, frame, md, time_fs)) {
        cli_fail();
        return 0;
    }
    return 1;
}

int cli_md(int argc, char **argv) {
    md_options o = {0};
    int status = parse_md_options(argc, argv, &o);
    if (status)
        return status < 0 ? 0 : status;
    const char *path = argv[optind];
    cli_simulation sim;
    cli_output log = {0};
    mlpot_writer *traj = NULL;
    mlpot_structure *frame = NULL;
    md_state *md = NULL;
    md_potential potential;
    status = CLI_EXIT_FAILURE;
    if (!cli_simulation_open(&sim, path, o.input_format, o.model, o.threads))
        goto done;
    potential = md_calculator_potential(sim.calculator);
    if (md_create(&md, sim.structure, &potential, &o.params) ||
        md_maxwell_boltzmann(md, o.params.temperature_k)) {
        fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
        goto done;
    }
    if (o.traj && (mlpot_writer_open(&traj, o.traj, "extxyz") ||
                   cli_frame_create(md->structure, 1, &frame))) {
        cli_fail();
        goto done;
    }
    if (o.log) {
        if (!cli_output_open(&log, o.log))
            goto done;
        fputs("step,time_fs,epot_eV,ekin_eV,etot_eV,conserved_eV,temperature_K,pressure_GPa\n",
              log.fp);
    }
    fprintf(stdout, "# %s: %d atoms, %s, dt %g fs, T %g K, %ld steps\n", path, md->n_atoms,
            md_ensemble_name(o.params.ensemble), o.params.dt_fs, o.params.temperature_k, o.steps);
    thermo_print_header(stdout);
    step_progress bar = {.enabled = isatty(2), .total = o.steps};
    if (!md_output(md, o.steps, &o, &log, traj, frame, &bar))
        goto done;
    double start = cli_seconds();
    bar.start = bar.last = start;
    for (long step = 1; step <= o.steps; step++) {
        if (md_step(md)) {
            step_progress_clear(&bar);
            fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
            goto done;
        }
        if (!md_output(md, o.steps, &o, &log, traj, frame, &bar))
            goto done;
        step_progress_show(&bar, step);
    }
    double elapsed = cli_seconds() - start;
    step_progress_clear(&bar);
    status = 0;
    if (o.steps > 0)
        fprintf(stderr, "mlpot: %ld steps of %d atoms in %.2f s: %.2f steps/s, %.2f µs/atom/step\n",
                o.steps, md->n_atoms, elapsed, o.steps / elapsed,
                1e6 * elapsed / ((double)o.steps * md->n_atoms));
done:
    if (traj) {
        if (status)
            mlpot_writer_abort(traj);
        else if (mlpot_writer_close(traj))
            status = cli_fail();
    }
    if (!cli_output_close(&log, status == 0))
        status = CLI_EXIT_FAILURE;
    if (status == 0 && o.traj)
        fprintf(stderr, "mlpot: wrote the trajectory to %s\n", o.traj);
    mlpot_structure_free(frame);
    md_free(md);
    cli_simulation_close(&sim);
    return status;
}
