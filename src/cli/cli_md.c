/* cli_md.c — `mlpot md`: molecular dynamics of one structure (NVE, Langevin or Nosé–Hoover
 * NVT) with thermo lines, a CSV log, an extended XYZ trajectory and a progress line; with a
 * committee of models, their spread logged and the frames they disagree on selected. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "core/units.h"
#include "core/error.h"
#include "core/memory.h"
#include "io/line_reader.h"
#include "io/structure.h"
#include "io/structure_formats.h"
#include "md/md.h"

static const char *md_help =
    "usage: mlpot md STRUCTURE --steps N [--model FILE] [--dt FS] [--temperature K]\n"
    "                [--ensemble nve|nvt-langevin|nvt-nose-hoover] [--friction G] [--tdamp FS]\n"
    "                [--chain M] [--seed S] [--every K] [--traj OUT.extxyz] [--log THERMO.csv]\n"
    "                [--threads N] [--input-format F] [--force]\n"
    "                [--restart-every K [--restart-file FILE]] [--no-extrapolation-warnings]\n"
    "                [--deviation-log DEV.csv] [--select-above X FILE.extxyz]\n"
    "       mlpot md --restart FILE [--steps N] [--threads N]\n\n"
    "Molecular dynamics of the first structure of STRUCTURE in metal units (eV, Å, fs, amu),\n"
    "with velocity Verlet. Velocities start from a Maxwell–Boltzmann distribution at the\n"
    "temperature, with zero total momentum, rescaled to exactly that temperature (3N - 3\n"
    "degrees of freedom), unless the file has a velocities (Å/fs) or momenta (ASE) column.\n"
    "Without --model, the shipped potential whose species cover the structure is used (and\n"
    "named). --model given several times runs on a committee: the forces, energy and stress\n"
    "are the mean of the models'.\n\n"
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
    "  --input-format F    vasp, extxyz or cif (default: from the file name)\n"
    "  --restart-every K   every K steps, write the run's whole state to --restart-file\n"
    "                      (default md.restart), atomically\n"
    "  --restart FILE      continue the run of a restart file where it was written (the\n"
    "                      log and trajectory are cut back to that step), bit for bit as if\n"
    "                      never interrupted; --steps N extends it\n"
    "  --force             replace an existing output of another kind (a model, dataset\n"
    "                      or structure file); an output is never one of the inputs\n"
    "  --deviation-log FILE  (committee) the models' spread at every thermo step as CSV:\n"
    "                      step,time_fs,energy_std_per_atom_eV,force_deviation_max_eV_per_A,\n"
    "                      force_deviation_mean_eV_per_A, the per-atom force deviation being\n"
    "                      sqrt(<|F_i - <F_i>|^2>) over the models (DeePMD's model deviation)\n"
    "  --select-above X FILE  (committee) append every thermo-step frame whose max force\n"
    "                      deviation exceeds X eV/Å to FILE (extended XYZ: positions, cell,\n"
    "                      per-atom force_deviations, step, time_fs and the spread; no energy\n"
    "                      or forces), the candidates to label with DFT (active learning)\n"
    CLI_EXTRAPOLATION_HELP "  (md warns at the first step that extrapolates and counts such steps at the end)\n\n"
    "conserved_eV is etot_eV plus the energy the thermostat exchanged (Langevin: heat taken\n"
    "out by the bath; Nosé–Hoover: the chain's energy); it is etot_eV in NVE. The logs,\n"
    "trajectory and selection are streamed (rows flushed, frames written whole): a killed\n"
    "run keeps them.\n";

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

/* ASE's unit of time in fs: sqrt(amu Å^2 / eV). */
#define ASE_TIME_UNIT_FS 10.180505671156723

/* Velocities of the structure file, used instead of new ones: a `velocities` column (Å/fs, as
 * md's trajectories write them) or ASE's `momenta` (amu Å per ASE time unit). Returns a
 * description of what was used, or NULL when the file has neither. */
static const char *velocities_from_file(md_state *md, const mlpot_structure *s) {
    for (int c = 0; c < s->n_columns; c++) {
        const structure_column *col = &s->columns[c];
        int is_velocities = !strcmp(col->name, "velocities");
        if ((!is_velocities && strcmp(col->name, "momenta")) || col->type != 'R' ||
            col->n_cols != 3)
            continue;
        for (int i = 0; i < md->n_atoms; i++)
            for (int k = 0; k < 3; k++) {
                double x = col->values[3 * i + k];
                md->velocities[3 * i + k] =
                    is_velocities ? x : x / md->masses[i] / ASE_TIME_UNIT_FS;
            }
        return is_velocities ? "from the file's velocities column"
                             : "from the file's momenta column";
    }
    return NULL;
}

/* ---- the command ---- */

#define MD_MAX_MODELS 16

typedef struct {
    long steps, every, chain;
    md_params params;
    int threads, force;
    const char *model, *ensemble, *traj, *log, *input_format;
    const char *models[MD_MAX_MODELS]; /* --model, several: a committee (model = models[0]) */
    int n_models;
    const char *deviation_log; /* committee: the spread at every thermo step */
    const char *select_file;   /* committee: frames whose max force deviation > select_above */
    double select_above;
    long restart_every;       /* 0: no restart file */
    const char *restart_file; /* written every restart_every steps */
    const char *restart;      /* --restart FILE: continue the run it holds */
    int no_extrapolation_warnings;
} md_options;

/* Parses the options; 0 on success, else the exit status (a message has been printed). */
static int parse_md_options(int argc, char **argv, md_options *o) {
    enum { O_MODEL = 256, O_STEPS, O_DT, O_TEMP, O_ENS, O_FRICTION, O_TDAMP, O_CHAIN, O_SEED,
           O_EVERY, O_TRAJ, O_LOG, O_THREADS, O_INFMT, O_FORCE, O_RESTART_EVERY,
           O_RESTART_FILE, O_RESTART, O_DEVLOG, O_SELECT, O_NO_EXTRAP };
    static const struct option long_options[] = {
        {"model", required_argument, 0, O_MODEL},   {"steps", required_argument, 0, O_STEPS},
        {"dt", required_argument, 0, O_DT},         {"temperature", required_argument, 0, O_TEMP},
        {"ensemble", required_argument, 0, O_ENS},  {"friction", required_argument, 0, O_FRICTION},
        {"tdamp", required_argument, 0, O_TDAMP},   {"chain", required_argument, 0, O_CHAIN},
        {"seed", required_argument, 0, O_SEED},     {"every", required_argument, 0, O_EVERY},
        {"traj", required_argument, 0, O_TRAJ},     {"log", required_argument, 0, O_LOG},
        {"threads", required_argument, 0, O_THREADS},
        {"input-format", required_argument, 0, O_INFMT},
        {"force", no_argument, 0, O_FORCE},
        {"restart-every", required_argument, 0, O_RESTART_EVERY},
        {"restart-file", required_argument, 0, O_RESTART_FILE},
        {"restart", required_argument, 0, O_RESTART},
        {"deviation-log", required_argument, 0, O_DEVLOG},
        {"select-above", required_argument, 0, O_SELECT},
        {"no-extrapolation-warnings", no_argument, 0, O_NO_EXTRAP},
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
        case O_MODEL:
            if (o->n_models == MD_MAX_MODELS)
                return cli_usage_error("md", "at most %d --model files", MD_MAX_MODELS);
            o->models[o->n_models++] = optarg;
            o->model = o->models[0];
            break;
        case O_DEVLOG: o->deviation_log = optarg; break;
        case O_SELECT: /* two values: the threshold, then the file */
            if (!cli_parse_double("md", "--select-above", optarg, &o->select_above))
                return CLI_EXIT_USAGE;
            if (!(o->select_above >= 0))
                return cli_usage_error("md", "--select-above X must be >= 0 eV/Å, got %g",
                                       o->select_above);
            if (optind >= argc || argv[optind][0] == '-')
                return cli_usage_error("md", "--select-above needs a threshold and a file: "
                                             "--select-above X FILE");
            o->select_file = argv[optind++];
            break;
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
        case O_FORCE: o->force = 1; break;
        case O_RESTART_EVERY:
            ok = cli_parse_long("md", "--restart-every", optarg, 1, LONG_MAX, &o->restart_every);
            break;
        case O_RESTART_FILE: o->restart_file = optarg; break;
        case O_RESTART: o->restart = optarg; break;
        case O_NO_EXTRAP: o->no_extrapolation_warnings = 1; break;
        case 'h': fputs(md_help, stdout); return -1;
        case ':': return cli_usage_error("md", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("md", "unknown option '%s'", argv[optind - 1]);
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (o->restart && (o->n_models > 1 || o->deviation_log || o->select_file))
        return cli_usage_error("md", "a committee (--model twice, --deviation-log, "
                                     "--select-above) cannot continue a restarted run (restart "
                                     "files hold one model)");
    if (o->restart) /* everything else comes from the restart file (--steps may extend) */
        return optind == argc ? 0
                              : cli_usage_error("md", "--restart FILE takes no structure file");
    if (optind != argc - 1)
        return cli_usage_error("md", "expected one structure file, got %d", argc - optind);
    if (!cli_check_structure_format("md", argv[optind], o->input_format, 0))
        return CLI_EXIT_USAGE;
    if (o->steps < 0)
        return cli_usage_error("md", "--steps N is required");
    if ((o->deviation_log || o->select_file) && o->n_models < 2)
        return cli_usage_error("md", "--deviation-log and --select-above need a committee: "
                                     "--model given at least twice");
    if (o->n_models > 1 && o->restart_every)
        return cli_usage_error("md", "--restart-every is not available with a committee "
                                     "(restart files hold one model)");
    if (o->restart_every && !o->restart_file)
        o->restart_file = "md.restart";
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
    /* a trajectory has many frames: a name that says VASP (one structure) is refused rather
     * than given extended XYZ under it */
    if (!cli_check_trajectory_name("md", o->traj))
        return CLI_EXIT_USAGE;
    const char *select_format = o->select_file ? mlpot_format_from_path(o->select_file) : NULL;
    if (select_format && strcmp(select_format, "extxyz") != 0)
        return cli_usage_error("md", "--select-above %s: frames are written as extended XYZ "
                                     "(*.xyz, *.extxyz)", o->select_file);
    const char *inputs[1 + MD_MAX_MODELS] = {argv[optind], o->model};
    int n_inputs = 1 + (o->n_models ? o->n_models : 1);
    for (int k = 1; k < o->n_models; k++)
        inputs[1 + k] = o->models[k];
    const char *earlier[] = {o->traj, o->log, o->deviation_log};
    if (!cli_check_output("md", o->restart_file, CLI_KIND_TEXT, inputs, n_inputs, o->force) ||
        !cli_check_output("md", o->traj, CLI_KIND_STRUCTURE, inputs, n_inputs, o->force) ||
        !cli_check_output("md", o->log, CLI_KIND_TEXT, inputs, n_inputs, o->force) ||
        !cli_check_output("md", o->log, CLI_KIND_TEXT, &o->traj, 1, 1) ||
        !cli_check_output("md", o->deviation_log, CLI_KIND_TEXT, inputs, n_inputs, o->force) ||
        !cli_check_output("md", o->deviation_log, CLI_KIND_TEXT, earlier, 2, 1) ||
        !cli_check_output("md", o->select_file, CLI_KIND_STRUCTURE, inputs, n_inputs, o->force) ||
        !cli_check_output("md", o->select_file, CLI_KIND_STRUCTURE, earlier, 3, 1))
        return CLI_EXIT_FAILURE;
    return 0;
}

/* ---- restart files ----
 * Text, every double as a C99 hexadecimal float (exact): the run's settings and outputs with
 * the bytes of each output at the time of writing, the step, the generator's state, the
 * thermostats' state, and the atoms' numbers, positions and velocities (cell and pbc). Forces
 * are recomputed from the positions, which gives the same bits. */
#define RESTART_MAGIC "mlpot-md-restart 1"
#define RESTART_PATH_MAX 4096

typedef struct {
    char model[RESTART_PATH_MAX], traj[RESTART_PATH_MAX], log[RESTART_PATH_MAX];
    char restart_file[RESTART_PATH_MAX];
    long traj_bytes, log_bytes;
    md_state saved; /* step, rng, bath energy and chain of the run */
    double *velocities;
    mlpot_structure *structure;
} md_restart;

static void put_doubles(FILE *fp, const char *key, const double *x, int n) {
    fputs(key, fp);
    for (int k = 0; k < n; k++)
        fprintf(fp, " %a", x[k]);
    fputc('\n', fp);
}

static mlpot_status restart_write(const md_options *o, const char *model, const md_state *md,
                                  long traj_bytes, long log_bytes) {
    atomic_file f;
    mlpot_status st = atomic_file_open(&f, o->restart_file);
    if (st)
        return st;
    FILE *fp = f.fp;
    const md_params *p = &md->params;
    fprintf(fp, "%s\nmodel %s\ntraj %ld %s\nlog %ld %s\nrestart_file %s\n", RESTART_MAGIC,
            model, traj_bytes, o->traj ? o->traj : "", log_bytes, o->log ? o->log : "",
            o->restart_file);
    fprintf(fp, "params %s %a %a %a %a %d %llu\n", md_ensemble_name(p->ensemble), p->dt_fs,
            p->temperature_k, p->friction_per_fs, p->tdamp_fs, p->chain_length,
            (unsigned long long)p->seed);
    fprintf(fp, "run %ld %ld %ld %ld\n", o->steps, o->every, o->restart_every, md->step);
    fprintf(fp, "rng %llu %llu %llu %llu %a %d\n", (unsigned long long)md->rng.s[0],
            (unsigned long long)md->rng.s[1], (unsigned long long)md->rng.s[2],
            (unsigned long long)md->rng.s[3], md->rng.spare, md->rng.has_spare);
    fprintf(fp, "bath %a\n", md->bath_energy);
    put_doubles(fp, "chain_xi", md->chain_xi, MD_MAX_CHAIN);
    put_doubles(fp, "chain_zeta", md->chain_zeta, MD_MAX_CHAIN);
    const mlpot_structure *s = md->structure;
    put_doubles(fp, "cell", s->cell, 9);
    fprintf(fp, "pbc %d %d %d\natoms %d\n", s->pbc[0], s->pbc[1], s->pbc[2], s->n_atoms);
    for (int i = 0; i < s->n_atoms; i++) {
        fprintf(fp, "%d", s->numbers[i]);
        for (int k = 0; k < 3; k++)
            fprintf(fp, " %a", s->positions[3 * i + k]);
        for (int k = 0; k < 3; k++)
            fprintf(fp, " %a", md->velocities[3 * i + k]);
        fputc('\n', fp);
    }
    return atomic_file_commit(&f);
}

/* "key rest-of-line" into buf (without the newline); 0 when the line is not that key's. */
static int read_keyed_line(FILE *fp, const char *key, char *buf, size_t size) {
    char line[RESTART_PATH_MAX + 64];
    size_t n = strlen(key);
    if (!fgets(line, sizeof line, fp) || strncmp(line, key, n) != 0 || line[n] != ' ')
        return 0;
    line[strcspn(line, "\n")] = '\0';
    size_t len = strlen(line + n + 1);
    if (len >= size) /* longer than the field: not a line this writer wrote */
        return 0;
    memcpy(buf, line + n + 1, len + 1);
    return 1;
}

static int read_doubles(FILE *fp, const char *key, double *x, int n) {
    char word[32];
    if (fscanf(fp, "%31s", word) != 1 || strcmp(word, key) != 0)
        return 0;
    for (int k = 0; k < n; k++)
        if (fscanf(fp, "%lf", &x[k]) != 1)
            return 0;
    return 1;
}

static void restart_free(md_restart *r) {
    free(r->velocities);
    mlpot_structure_free(r->structure);
}

/* Reads a restart file into r and the options it holds into o (--steps given now wins). */
static mlpot_status restart_read(const char *path, md_restart *r, md_options *o) {
    memset(r, 0, sizeof *r);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return error_set(MLPOT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char magic[64], line[RESTART_PATH_MAX + 32], ensemble[32];
    int ok = fgets(magic, sizeof magic, fp) && !strncmp(magic, RESTART_MAGIC, strlen(RESTART_MAGIC));
    ok = ok && read_keyed_line(fp, "model", r->model, sizeof r->model);
    ok = ok && read_keyed_line(fp, "traj", line, sizeof line) &&
         sscanf(line, "%ld", &r->traj_bytes) == 1;
    if (ok)
        snprintf(r->traj, sizeof r->traj, "%s", strchr(line, ' ') ? strchr(line, ' ') + 1 : "");
    ok = ok && read_keyed_line(fp, "log", line, sizeof line) &&
         sscanf(line, "%ld", &r->log_bytes) == 1;
    if (ok)
        snprintf(r->log, sizeof r->log, "%s", strchr(line, ' ') ? strchr(line, ' ') + 1 : "");
    ok = ok && read_keyed_line(fp, "restart_file", r->restart_file, sizeof r->restart_file);
    md_params *p = &r->saved.params;
    unsigned long long seed = 0, words[4] = {0};
    long steps = 0;
    ok = ok && fscanf(fp, " params %31s %lf %lf %lf %lf %d %llu", ensemble, &p->dt_fs,
                      &p->temperature_k, &p->friction_per_fs, &p->tdamp_fs, &p->chain_length,
                      &seed) == 7 &&
         md_ensemble_from_name(ensemble, &p->ensemble) == MLPOT_OK;
    p->seed = seed;
    ok = ok && fscanf(fp, " run %ld %ld %ld %ld", &steps, &o->every, &o->restart_every,
                      &r->saved.step) == 4;
    ok = ok && fscanf(fp, " rng %llu %llu %llu %llu %lf %d", &words[0], &words[1], &words[2],
                      &words[3], &r->saved.rng.spare, &r->saved.rng.has_spare) == 6;
    for (int k = 0; k < 4; k++)
        r->saved.rng.s[k] = words[k];
    ok = ok && fscanf(fp, " bath %lf", &r->saved.bath_energy) == 1;
    ok = ok && read_doubles(fp, "chain_xi", r->saved.chain_xi, MD_MAX_CHAIN) &&
         read_doubles(fp, "chain_zeta", r->saved.chain_zeta, MD_MAX_CHAIN);
    double cell[9];
    int pbc[3], n = 0;
    ok = ok && read_doubles(fp, "cell", cell, 9) &&
         fscanf(fp, " pbc %d %d %d atoms %d", &pbc[0], &pbc[1], &pbc[2], &n) == 4 && n > 0 &&
         n <= 100000000;
    int *numbers = NULL;
    double *positions = NULL;
    if (ok && (mem_calloc(&numbers, (size_t)n, sizeof *numbers) ||
               mem_calloc(&positions, (size_t)n * 3, sizeof *positions) ||
               mem_calloc(&r->velocities, (size_t)n * 3, sizeof *r->velocities)))
        ok = 0;
    for (int i = 0; ok && i < n; i++)
        ok = fscanf(fp, "%d %lf %lf %lf %lf %lf %lf", &numbers[i], &positions[3 * i],
                    &positions[3 * i + 1], &positions[3 * i + 2], &r->velocities[3 * i],
                    &r->velocities[3 * i + 1], &r->velocities[3 * i + 2]) == 7;
    fclose(fp);
    mlpot_status st = MLPOT_OK;
    if (!ok)
        st = error_set(MLPOT_ERR_PARSE, "%s: not a complete mlpot md restart file", path);
    else if (mlpot_structure_create(&r->structure, n, numbers, positions, cell, pbc))
        st = error_set(MLPOT_ERR_PARSE, "%s: %s", path, mlpot_last_error());
    free(numbers);
    free(positions);
    if (st) {
        restart_free(r);
        return st;
    }
    if (o->steps < 0)
        o->steps = steps;
    o->params = *p;
    o->model = r->model;
    o->traj = r->traj[0] ? r->traj : NULL;
    o->log = r->log[0] ? r->log : NULL;
    if (!o->restart_file)
        o->restart_file = r->restart_file[0] ? r->restart_file : NULL;
    return MLPOT_OK;
}

/* The state of the run the restart file holds, into a state made from its structure. */
static void restart_apply(const md_restart *r, md_state *md) {
    memcpy(md->velocities, r->velocities, (size_t)md->n_atoms * 3 * sizeof *md->velocities);
    md->step = r->saved.step;
    md->rng = r->saved.rng;
    md->bath_energy = r->saved.bath_energy;
    memcpy(md->chain_xi, r->saved.chain_xi, sizeof md->chain_xi);
    memcpy(md->chain_zeta, r->saved.chain_zeta, sizeof md->chain_zeta);
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
    /* a thermo line that cannot be written ends the run (a full disk: nothing is gained by
     * computing on) */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mlpot: <stdout>: write error at step %ld: %s\n", step, strerror(errno));
        return 0;
    }
    if (log->fp && (thermo_csv(log->fp, step, time_fs, &t), fflush(log->fp) != 0)) {
        fprintf(stderr, "mlpot: %s: write error at step %ld: %s\n", log->path, step,
                strerror(errno));
        return 0;
    }
    if (traj && trajectory_write(traj, frame, md, time_fs)) {
        cli_fail();
        return 0;
    }
    return 1;
}

/* ---- committee: the models' spread and the frames they disagree on ---- */

typedef struct {
    mlpot_model *models[MD_MAX_MODELS]; /* models[0] is the simulation's (not owned) */
    md_committee committee;
    double *force_deviations; /* [N] of the current positions */
    cli_output log;           /* --deviation-log */
    mlpot_writer *select;     /* --select-above */
    mlpot_structure *frame;   /* the selected frame, updated in place */
    long n_selected;
} md_committee_run;

/* Loads the other models of the committee, whose first model is the simulation's, and makes
 * the committee and its outputs (the selection is appended to what FILE holds). */
static int committee_open(md_committee_run *run, const md_options *o, cli_simulation *sim) {
    run->models[0] = sim->model;
    for (int k = 1; k < o->n_models; k++)
        if (mlpot_model_load(&run->models[k], o->models[k])) {
            cli_fail();
            return 0;
        }
    int n = sim->structure->n_atoms;
    if (mlpot_committee_create(&run->committee.committee,
                               (const mlpot_model *const *)run->models, o->n_models) ||
        mem_calloc(&run->force_deviations, (size_t)n, sizeof *run->force_deviations)) {
        cli_fail();
        return 0;
    }
    run->committee.deviation.force_deviations = run->force_deviations;
    if (o->deviation_log) {
        if (!cli_output_open_streaming(&run->log, o->deviation_log, 0))
            return 0;
        fputs("step,time_fs,energy_std_per_atom_eV,force_deviation_max_eV_per_A,"
              "force_deviation_mean_eV_per_A\n", run->log.fp);
    }
    if (o->select_file) {
        struct stat existing;
        long keep = stat(o->select_file, &existing) == 0 && S_ISREG(existing.st_mode)
                        ? (long)existing.st_size
                        : 0;
        structure_column column = {.type = 'R', .n_cols = 1};
        mlpot_status st = structure_writer_open_streaming(&run->select, o->select_file,
                                                          "extxyz", keep);
        if (!st)
            st = mlpot_structure_create(&run->frame, n, sim->structure->numbers,
                                        sim->structure->positions, sim->structure->cell,
                                        sim->structure->pbc);
        if (!st && !(st = mem_strdup(&column.name, "force_deviations")) &&
            !(st = mem_calloc(&column.values, (size_t)n, sizeof(double))))
            st = structure_add_column(run->frame, column);
        if (st) {
            structure_column_free(&column, n);
            cli_fail();
            return 0;
        }
    }
    return 1;
}

/* At the thermo steps: the deviation log row, and the frame if the models disagree enough. */
static int committee_output(md_committee_run *run, const md_state *md, long total,
                            const md_options *o) {
    long step = md->step;
    if (step % o->every != 0 && step != total)
        return 1;
    double time_fs = (double)step * md->params.dt_fs;
    const mlpot_committee_deviation *d = &run->committee.deviation;
    if (run->log.fp && (fprintf(run->log.fp, "%ld,%.6f,%.10e,%.10e,%.10e\n", step, time_fs,
                                d->energy_std_per_atom, d->force_deviation_max,
                                d->force_deviation_mean),
                        fflush(run->log.fp) != 0)) {
        fprintf(stderr, "mlpot: %s: write error at step %ld: %s\n", run->log.path, step,
                strerror(errno));
        return 0;
    }
    if (!run->select || !(d->force_deviation_max > o->select_above))
        return 1;
    mlpot_structure *f = run->frame;
    memcpy(f->positions, md->structure->positions, 3 * (size_t)md->n_atoms * sizeof(double));
    memcpy(f->columns[0].values, run->force_deviations, (size_t)md->n_atoms * sizeof(double));
    const char *keys[] = {"step", "time_fs", "energy_std_per_atom", "force_deviation_max",
                          "force_deviation_mean"};
    char text[5][40];
    snprintf(text[0], sizeof text[0], "%ld", step);
    snprintf(text[1], sizeof text[1], "%.6f", time_fs);
    snprintf(text[2], sizeof text[2], "%.10g", d->energy_std_per_atom);
    snprintf(text[3], sizeof text[3], "%.10g", d->force_deviation_max);
    snprintf(text[4], sizeof text[4], "%.10g", d->force_deviation_mean);
    mlpot_status st = MLPOT_OK;
    for (int k = 0; k < 5 && !st; k++)
        st = mlpot_structure_set_info(f, keys[k], text[k]);
    if (st || mlpot_writer_write(run->select, f)) {
        cli_fail();
        return 0;
    }
    run->n_selected++;
    return 1;
}

/* Closes the outputs (status 0: the run succeeded) and frees the committee; the new status. */
static int committee_close(md_committee_run *run, const md_options *o, int status) {
    if (run->select) {
        if (status)
            mlpot_writer_abort(run->select); /* streamed: the frames so far stay */
        else if (mlpot_writer_close(run->select))
            status = cli_fail();
    }
    if (!cli_output_close(&run->log, status == 0))
        status = CLI_EXIT_FAILURE;
    if (status == 0 && o->select_file)
        fprintf(stderr, "mlpot: %ld frames with a max force deviation above %g eV/Å appended "
                        "to %s\n", run->n_selected, o->select_above, o->select_file);
    mlpot_structure_free(run->frame);
    mlpot_committee_free(run->committee.committee);
    for (int k = 1; k < MD_MAX_MODELS; k++)
        mlpot_model_free(run->models[k]);
    free(run->force_deviations);
    return status;
}

/* Extrapolation warnings of a run: one line at the first step whose structure lies outside
 * the model's training ranges, and the number of such steps at the end. */
typedef struct {
    int enabled;
    long steps;
} md_extrapolation;

static void md_check_extrapolation(md_extrapolation *x, const mlpot_calculator *const *calcs,
                                   int n_calcs, const char *path, long step,
                                   step_progress *bar) {
    if (!x->enabled)
        return;
    const mlpot_calculator *c = NULL; /* the first model (of a committee) the atoms leave */
    for (int k = 0; k < n_calcs && !c; k++) {
        int count = 0;
        if (!mlpot_calculator_extrapolation(calcs[k], NULL, 0, &count) && count > 0)
            c = calcs[k];
    }
    if (!c)
        return;
    if (x->steps++ == 0) {
        char where[4200];
        snprintf(where, sizeof where, "%s, step %ld", path, step);
        step_progress_clear(bar);
        cli_warn_extrapolation(c, where);
    }
}

/* Opens the model and calculator of a restarted run (sim->structure is the restart's). */
static int restart_simulation(cli_simulation *sim, md_restart *r, int threads) {
    memset(sim, 0, sizeof *sim);
    if (threads > 0)
        omp_set_num_threads(threads);
    sim->structure = r->structure;
    r->structure = NULL;
    snprintf(sim->model_path, sizeof sim->model_path, "%s", r->model);
    if (mlpot_model_load(&sim->model, sim->model_path) ||
        mlpot_calculator_create(&sim->calculator, sim->model)) {
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
    md_restart restart = {0};
    const char *path = o.restart ? o.restart : argv[optind];
    cli_simulation sim = {0};
    cli_output log = {0};
    mlpot_writer *traj = NULL;
    mlpot_structure *frame = NULL;
    md_state *md = NULL;
    md_potential potential;
    md_committee_run committee = {0};
    const mlpot_calculator *checked[MD_MAX_MODELS] = {0}; /* what the extrapolation check reads */
    int n_checked = 1;
    status = CLI_EXIT_FAILURE;
    if (o.restart && restart_read(o.restart, &restart, &o)) {
        cli_fail();
        goto done;
    }
    if (o.restart ? !restart_simulation(&sim, &restart, o.threads)
                  : !cli_simulation_open(&sim, path, o.input_format, o.model, o.threads))
        goto done;
    potential = md_calculator_potential(sim.calculator);
    checked[0] = sim.calculator;
    if (o.n_models > 1) {
        if (!committee_open(&committee, &o, &sim))
            goto done;
        potential = md_committee_potential(&committee.committee);
        /* the committee's members evaluated the structure: check each one's ranges */
        for (n_checked = 0; n_checked < o.n_models; n_checked++)
            if (mlpot_committee_calculator(committee.committee.committee, n_checked,
                                           &checked[n_checked])) {
                cli_fail();
                goto done;
            }
    }
    const char *velocity_source = NULL;
    if (md_create(&md, sim.structure, &potential, &o.params)) {
        fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
        goto done;
    }
    if (o.restart) {
        restart_apply(&restart, md);
        velocity_source = "and state from the restart file";
    } else if (!(velocity_source = velocities_from_file(md, sim.structure)) &&
               md_maxwell_boltzmann(md, o.params.temperature_k)) {
        fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
        goto done;
    }
    /* a restarted run keeps what its outputs held when the restart file was written */
    if (o.traj && (structure_writer_open_streaming(&traj, o.traj, "extxyz", restart.traj_bytes) ||
                   cli_frame_create(md->structure, 1, &frame))) {
        cli_fail();
        goto done;
    }
    if (o.log) {
        if (!cli_output_open_streaming(&log, o.log, restart.log_bytes))
            goto done;
        if (!o.restart)
            fputs("step,time_fs,epot_eV,ekin_eV,etot_eV,conserved_eV,temperature_K,pressure_GPa\n",
                  log.fp);
    }
    fprintf(stdout, "# %s: %d atoms, %s, dt %g fs, T %g K, %ld steps, velocities %s\n", path,
            md->n_atoms, md_ensemble_name(o.params.ensemble), o.params.dt_fs,
            o.params.temperature_k, o.steps,
            velocity_source ? velocity_source : "drawn from Maxwell-Boltzmann");
    if (o.n_models > 1) {
        printf("# committee of %d models (forces, energy and stress are their mean):", o.n_models);
        for (int k = 0; k < o.n_models; k++)
            printf(" %s", o.models[k]);
        putchar('\n');
    }
    thermo_print_header(stdout);
    step_progress bar = {.enabled = isatty(2), .total = o.steps};
    md_extrapolation extrapolation = {!o.no_extrapolation_warnings, 0};
    md_check_extrapolation(&extrapolation, checked, n_checked, path, md->step, &bar);
    if (!o.restart && (!md_output(md, o.steps, &o, &log, traj, frame, &bar) ||
                       (o.n_models > 1 && !committee_output(&committee, md, o.steps, &o))))
        goto done;
    double start = cli_seconds();
    bar.start = bar.last = start;
    long first = md->step + 1;
    for (long step = first; step <= o.steps; step++) {
        if (md_step(md)) {
            step_progress_clear(&bar);
            fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
            goto done;
        }
        md_check_extrapolation(&extrapolation, checked, n_checked, path, step, &bar);
        if (!md_output(md, o.steps, &o, &log, traj, frame, &bar) ||
            (o.n_models > 1 && !committee_output(&committee, md, o.steps, &o)))
            goto done;
        if (o.restart_every && step % o.restart_every == 0 &&
            restart_write(&o, sim.model_path, md, traj ? structure_writer_bytes(traj) : 0,
                          log.fp ? ftell(log.fp) : 0)) {
            step_progress_clear(&bar);
            cli_fail();
            goto done;
        }
        step_progress_show(&bar, step);
    }
    double elapsed = cli_seconds() - start;
    step_progress_clear(&bar);
    status = 0;
    long done_steps = o.steps - first + 1;
    if (done_steps > 0)
        fprintf(stderr, "mlpot: %ld steps of %d atoms in %.2f s: %.2f steps/s, %.2f µs/atom/step\n",
                done_steps, md->n_atoms, elapsed, done_steps / elapsed,
                1e6 * elapsed / ((double)done_steps * md->n_atoms));
    if (extrapolation.steps > 0)
        fprintf(stderr, "mlpot: warning: %s: %ld of %ld steps extrapolated beyond the model's "
                        "training ranges\n", path, extrapolation.steps, done_steps + !o.restart);
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
    status = committee_close(&committee, &o, status);
    mlpot_structure_free(frame);
    md_free(md);
    cli_simulation_close(&sim);
    restart_free(&restart);
    return status;
}
