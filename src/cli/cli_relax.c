/* cli_relax.c — `mlpot relax`: FIRE relaxation of the positions and, with --cell, the cell
 * at a target pressure, optionally keeping the space group; one progress line per step, the
 * relaxed structure written atomically (VASP or extended XYZ by its name). */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/units.h"
#include "io/structure.h"
#include "md/relax.h"

static const char *relax_help =
    "usage: mlpot relax STRUCTURE -o OUT [--model FILE] [--fmax F] [--cell [--pressure P]]\n"
    "                   [--keep-symmetry [--symprec X]] [--max-steps N] [--traj FILE]\n"
    "                   [--threads N] [--input-format F] [--output-format F] [--force]\n"
    "                   [--no-extrapolation-warnings]\n\n"
    "Relaxes the first structure of STRUCTURE with FIRE (Bitzek et al. 2006, ASE's\n"
    "parameters) until every force is below --fmax and, with --cell, the stress equals -P\n"
    "(the cell is relaxed as in ASE's UnitCellFilter: converged when every row of\n"
    "V (stress + P I) / N is below --fmax, in eV/Å). Writes OUT (VASP or extended XYZ, by\n"
    "its name or --output-format) even when not converged, then exits with status 1. Without\n"
    "--model, the shipped potential whose species cover the structure is used (and named).\n\n"
    "  -o, --output OUT    the relaxed structure (required)\n"
    "  --fmax F            force criterion in eV/Å (default 0.01)\n"
    "  --cell              relax the cell too (periodic in three directions only)\n"
    "  --pressure P        target pressure in GPa for --cell (default 0)\n"
    "  --keep-symmetry     symmetrise forces and stress over the space group (spglib) every\n"
    "                      step; the space group is checked at the end\n"
    "  --symprec X         tolerance in Å for --keep-symmetry (default 1e-5)\n"
    "  --max-steps N       FIRE steps at most (default 1000)\n"
    "  --traj FILE         every step as an extended XYZ frame (energy, forces, stress)\n"
    "  --threads N         OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
    "  --input-format F    vasp, extxyz or cif (default: from the file name)\n"
    "  --output-format F   vasp or extxyz for OUT (default: from its name); --format F is\n"
    "                      the same option (its older name)\n"
    "  --force             replace an existing output of another kind (a model or dataset);\n"
    "                      an output is never the input\n"
    CLI_EXTRAPOLATION_HELP "  (relax checks the relaxed structure)\n";


typedef struct {
    relax_options relax;
    double pressure_gpa;
    int threads, force;
    const char *model, *output, *output_format, *traj, *input_format;
    int no_extrapolation_warnings;
} relax_cli_options;

/* Parses the options; 0 on success, -1 after --help, else the exit status. */
static int parse_relax_options(int argc, char **argv, relax_cli_options *o) {
    enum { O_MODEL = 256, O_FMAX, O_CELL, O_PRESSURE, O_KEEPSYM, O_SYMPREC, O_MAXSTEPS, O_TRAJ,
           O_THREADS, O_INFMT, O_FORMAT, O_FORCE, O_NO_EXTRAP };
    static const struct option long_options[] = {{"model", required_argument, 0, O_MODEL},
                                                 {"fmax", required_argument, 0, O_FMAX},
                                                 {"cell", no_argument, 0, O_CELL},
                                                 {"pressure", required_argument, 0, O_PRESSURE},
                                                 {"keep-symmetry", no_argument, 0, O_KEEPSYM},
                                                 {"symprec", required_argument, 0, O_SYMPREC},
                                                 {"max-steps", required_argument, 0, O_MAXSTEPS},
                                                 {"traj", required_argument, 0, O_TRAJ},
                                                 {"threads", required_argument, 0, O_THREADS},
                                                 {"input-format", required_argument, 0, O_INFMT},
                                                 {"output-format", required_argument, 0, O_FORMAT},
                                                 {"format", required_argument, 0, O_FORMAT},
                                                 {"output", required_argument, 0, 'o'},
                                                 {"force", no_argument, 0, O_FORCE},
                                                 {"help", no_argument, 0, 'h'},
                                                 {"no-extrapolation-warnings", no_argument, 0,
                                                  O_NO_EXTRAP},
                                                 {0, 0, 0, 0}};
    o->relax = relax_default_options();
    long value;
    int c, pressure_given = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", long_options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_FMAX: ok = cli_parse_double("relax", "--fmax", optarg, &o->relax.fmax); break;
        case O_CELL: o->relax.relax_cell = 1; break;
        case O_PRESSURE:
            ok = cli_parse_double("relax", "--pressure", optarg, &o->pressure_gpa);
            pressure_given = 1;
            break;
        case O_KEEPSYM: o->relax.keep_symmetry = 1; break;
        case O_SYMPREC:
            ok = cli_parse_double("relax", "--symprec", optarg, &o->relax.symprec);
            break;
        case O_MAXSTEPS:
            ok = cli_parse_long("relax", "--max-steps", optarg, 0, INT_MAX, &value);
            o->relax.max_steps = (int)value;
            break;
        case O_TRAJ: o->traj = optarg; break;
        case O_THREADS:
            ok = cli_parse_long("relax", "--threads", optarg, 1, 4096, &value);
            o->threads = (int)value;
            break;
        case O_INFMT: o->input_format = optarg; break;
        case O_FORMAT: o->output_format = optarg; break;
        case 'o': o->output = optarg; break;
        case O_FORCE: o->force = 1; break;
        case O_NO_EXTRAP: o->no_extrapolation_warnings = 1; break;
        case 'h': fputs(relax_help, stdout); return -1;
        case ':': return cli_usage_error("relax", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("relax", "unknown option '%s'", argv[optind - 1]);
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (optind != argc - 1)
        return cli_usage_error("relax", "expected one structure file, got %d", argc - optind);
    if (!o->output)
        return cli_usage_error("relax", "-o OUT is required");
    if (!cli_check_structure_format("relax", argv[optind], o->input_format, 0) ||
        !cli_check_structure_format("relax", o->output, o->output_format, 1))
        return CLI_EXIT_USAGE;
    if (!(o->relax.fmax > 0))
        return cli_usage_error("relax", "--fmax must be positive, got %g", o->relax.fmax);
    if (!(o->relax.symprec > 0))
        return cli_usage_error("relax", "--symprec must be positive, got %g", o->relax.symprec);
    if (pressure_given && !o->relax.relax_cell)
        return cli_usage_error("relax", "--pressure needs --cell");
    if (!isfinite(o->pressure_gpa))
        return cli_usage_error("relax", "--pressure must be finite");
    o->relax.pressure = o->pressure_gpa / EV_PER_A3_IN_GPA;
    if (!cli_check_trajectory_name("relax", o->traj))
        return CLI_EXIT_USAGE;
    const char *inputs[] = {argv[optind], o->model};
    if (!cli_check_output("relax", o->output, CLI_KIND_STRUCTURE, inputs, 2, o->force) ||
        !cli_check_output("relax", o->traj, CLI_KIND_STRUCTURE, inputs, 2, o->force))
        return CLI_EXIT_FAILURE;
    return 0;
}

typedef struct {
    const relax_options *options;
    mlpot_writer *traj;
    mlpot_structure *frame; /* trajectory frame, arrays reused */
} relax_observer_context;

/* max |σ_ij + P δ_ij| in GPa. */
static double stress_residual_gpa(const double stress[9], double pressure) {
    double worst = 0;
    for (int k = 0; k < 9; k++)
        worst = fmax(worst, fabs(stress[k] + (k % 4 == 0 ? pressure : 0.0)));
    return worst * EV_PER_A3_IN_GPA;
}

/* One progress line per step, and a trajectory frame. */
static mlpot_status print_progress(void *context, const relax_progress *p) {
    const relax_observer_context *ctx = context;
    const relax_options *o = ctx->options;
    if (p->step == 0) {
        printf("%6s %18s %12s", "step", o->relax_cell ? "enthalpy_eV" : "energy_eV", "fmax_eV/A");
        if (o->relax_cell)
            printf(" %11s %10s", "cell_eV/A", "|s+P|_GPa");
        printf(p->has_stress ? " %10s\n" : "\n", "P_GPa");
    }
    printf("%6d %18.8f %12.6f", p->step, p->enthalpy, p->fmax_atoms);
    if (o->relax_cell)
        printf(" %11.6f %10.4f", p->fmax_cell, stress_residual_gpa(p->stress, o->pressure));
    if (p->has_stress)
        printf(" %10.4f", -(p->stress[0] + p->stress[4] + p->stress[8]) / 3 * EV_PER_A3_IN_GPA);
    putchar('\n');
    fflush(stdout);
    if (!ctx->traj)
        return MLPOT_OK;
    mlpot_structure *f = ctx->frame;
    const mlpot_structure *s = p->structure;
    memcpy(f->cell, s->cell, sizeof f->cell);
    memcpy(f->positions, s->positions, 3 * (size_t)s->n_atoms * sizeof *f->positions);
    memcpy(f->forces, p->forces, 3 * (size_t)s->n_atoms * sizeof *f->forces);
    f->energy = p->energy;
    f->has_energy = 1;
    memcpy(f->stress, p->stress, sizeof f->stress);
    f->has_stress = p->has_stress;
    return mlpot_writer_write(ctx->traj, f);
}

/* The space-group verdict of --keep-symmetry: 0 when kept or raised (with a note), else 1
 * with a message. */
static int check_symmetry(const relax_result *r) {
    const mlpot_spacegroup *a = &r->before, *b = &r->after;
    if (a->number == b->number && a->n_operations == b->n_operations) {
        fprintf(stderr, "mlpot: space group %s (%d) kept\n", a->symbol, a->number);
        return 0;
    }
    if (b->n_operations > a->n_operations && b->n_operations % a->n_operations == 0) {
        fprintf(stderr, "mlpot: space group raised from %s (%d) to %s (%d)\n", a->symbol,
                a->number, b->symbol, b->number);
        return 0;
    }
    fprintf(stderr, "mlpot: space group changed from %s (%d) to %s (%d) despite "
                    "--keep-symmetry (try a larger --symprec)\n",
            a->symbol, a->number, b->symbol, b->number);
    return 1;
}

int cli_relax(int argc, char **argv) {
    relax_cli_options o = {0};
    int status = parse_relax_options(argc, argv, &o);
    if (status)
        return status < 0 ? 0 : status;
    const char *path = argv[optind];
    cli_simulation sim;
    relax_observer_context ctx = {.options = &o.relax};
    mlpot_writer *out = NULL;
    relax_result result = {0};
    md_potential potential;
    int ran = 0; /* the relaxation went to its end: the trajectory is kept */
    status = CLI_EXIT_FAILURE;
    if (!cli_simulation_open(&sim, path, o.input_format, o.model, o.threads))
        goto done;
    if (o.traj && (mlpot_writer_open(&ctx.traj, o.traj, "extxyz") ||
                   cli_frame_create(sim.structure, 0, &ctx.frame))) {
        cli_fail();
        goto done;
    }
    /* open the output first, so that a bad name fails before the relaxation */
    if (mlpot_writer_open(&out, o.output, o.output_format)) {
        cli_fail();
        goto done;
    }
    potential = md_calculator_potential(sim.calculator);
    if (relax_run(sim.structure, &potential, &o.relax, print_progress, &ctx, &result)) {
        fprintf(stderr, "mlpot: %s: %s\n", path, mlpot_last_error());
        goto done;
    }
    ran = 1;
    mlpot_results final = {0}; /* the relaxed structure, evaluated for the warning */
    if (!o.no_extrapolation_warnings &&
        !mlpot_calculator_compute(sim.calculator, sim.structure, &final))
        cli_warn_extrapolation(sim.calculator, path);
    mlpot_status st = mlpot_writer_write(out, sim.structure);
    if (st) {
        cli_fail();
        goto done;
    }
    st = mlpot_writer_close(out);
    out = NULL;
    if (st) {
        cli_fail();
        goto done;
    }
    status = 0;
    if (result.converged) {
        fprintf(stderr, "mlpot: converged in %d steps: energy %.8f eV, max |F| %.6f eV/Å",
                result.steps, result.energy, result.fmax_atoms);
        if (o.relax.relax_cell)
            fprintf(stderr, ", cell force %.6f eV/Å at %g GPa", result.fmax_cell, o.pressure_gpa);
        fprintf(stderr, "; wrote %s\n", o.output);
    } else {
        fprintf(stderr, "mlpot: not converged after %d steps: max |F| %.6f eV/Å", result.steps,
                result.fmax_atoms);
        if (o.relax.relax_cell)
            fprintf(stderr, ", cell force %.6f eV/Å", result.fmax_cell);
        fprintf(stderr, " (--fmax %g); wrote the last structure to %s\n", o.relax.fmax,
                o.output);
        status = CLI_EXIT_FAILURE;
    }
    if (o.relax.keep_symmetry && check_symmetry(&result))
        status = CLI_EXIT_FAILURE;
done:
    if (out)
        mlpot_writer_abort(out);
    if (ctx.traj) {
        if (!ran)
            mlpot_writer_abort(ctx.traj);
        else if (mlpot_writer_close(ctx.traj))
            status = cli_fail();
    }
    mlpot_structure_free(ctx.frame);
    cli_simulation_close(&sim);
    return status;
}
