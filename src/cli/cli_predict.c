/* cli_predict.c — `mlpot predict`: energy, forces, stress (and per-atom energies) of every
 * structure of every file given, as text, JSON lines or extended XYZ. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "core/units.h"
#include "core/elements.h"
#include "core/error.h"
#include "core/memory.h"
#include "io/line_reader.h"
#include "io/structure.h"


static const char *predict_help =
    "usage: mlpot predict STRUCTURE... [--model FILE]... [--output-format text|json|extxyz]\n"
    "                     [--per-atom] [--symmetrize [--symprec X]] [--input-format F]\n"
    "                     [-o OUT] [--force] [--no-extrapolation-warnings]\n\n"
    "Energy (eV and eV/atom), forces (eV/Å), stress (eV/Å^3 and GPa, Voigt order xx yy zz yz\n"
    "xz xy; ASE sign: negative under compression) and pressure of every structure (every\n"
    "frame of a multi-frame file). Without --model, the shipped potential whose species cover\n"
    "the structure is used (and named).\n\n"
    "  --model FILE        model file; given several times, a committee: the mean of the\n"
    "                      models' energies, forces and stress, and their spread (energy\n"
    "                      per atom std; per-atom force deviation sqrt(<|F_i - <F_i>|^2>),\n"
    "                      its max and mean over atoms, as DeePMD's model deviation)\n"
    "  --output-format F   text (default), json (one object per structure and line) or extxyz\n"
    "                      (the structures with energy, forces, stress, ready for ASE);\n"
    "                      --format F is the same option (its older name)\n"
    "  --per-atom          also per-atom energies (they sum to the energy)\n"
    "  --symmetrize        average forces and stress over the space group (spglib) of the\n"
    "                      input, so that relaxations keep the symmetry\n"
    "  --symprec X         tolerance in Å for --symmetrize (default 1e-5)\n"
    "  --input-format F    vasp, extxyz or cif: the format of every STRUCTURE (default: from\n"
    "                      each file's name; needed for '-', standard input)\n"
    "  -o OUT              write to OUT (atomically) instead of standard output\n"
    "  --force             replace an existing OUT of another kind (a model, dataset or\n"
    "                      structure file); OUT is never one of the inputs\n"
    CLI_EXTRAPOLATION_HELP;

#define PREDICT_MAX_MODELS 16

typedef struct {
    const char *model_paths[PREDICT_MAX_MODELS];
    int n_models;
    const char *format;
    int per_atom, symmetrize;
    double symprec;
    int no_extrapolation_warnings;
} predict_options;

typedef struct {
    mlpot_model *model;
    char path[4096];
} loaded_model;

/* Loads the model at path unless lm holds it already; *changed is set when it was loaded. */
static int load_model(loaded_model *lm, const char *path, int *changed) {
    if (lm->model && !strcmp(lm->path, path))
        return 1;
    mlpot_model_free(lm->model);
    lm->model = NULL;
    *changed = 1;
    if (mlpot_model_load(&lm->model, path)) {
        cli_fail();
        return 0;
    }
    snprintf(lm->path, sizeof lm->path, "%s", path);
    return 1;
}

static void print_vector_json(FILE *fp, const double *v, int n) {
    fputc('[', fp);
    for (int k = 0; k < n; k++) {
        if (k)
            fputs(", ", fp);
        json_number(fp, v[k]);
    }
    fputc(']', fp);
}

static void voigt_gpa(const double *stress, double out[6]) {
    static const int idx[6] = {0, 4, 8, 5, 2, 1}; /* xx yy zz yz xz xy */
    for (int k = 0; k < 6; k++)
        out[k] = stress[idx[k]] * EV_PER_A3_IN_GPA;
}

/* The spread of a committee's predictions (n > 1 models). */
typedef struct {
    int n;
    mlpot_committee_deviation dev;
} committee;

static void write_json(FILE *fp, const char *file, int frame, const mlpot_structure *s,
                       const mlpot_results *r, const char *model, int per_atom,
                       const committee *cm) {
    int n = s->n_atoms, first = 1;
    fputc('{', fp);
    json_key(fp, &first, "file");
    json_string(fp, file);
    json_key(fp, &first, "frame");
    fprintf(fp, "%d", frame);
    json_key(fp, &first, "n_atoms");
    fprintf(fp, "%d", n);
    json_key(fp, &first, "model");
    json_string(fp, model);
    json_key(fp, &first, "energy");
    json_number(fp, r->energy);
    json_key(fp, &first, "energy_per_atom");
    json_number(fp, r->energy / n);
    json_key(fp, &first, "forces");
    fputc('[', fp);
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", fp);
        print_vector_json(fp, &r->forces[3 * i], 3);
    }
    fputc(']', fp);
    if (r->has_stress) {
        json_key(fp, &first, "stress");
        fputc('[', fp);
        for (int a = 0; a < 3; a++) {
            if (a)
                fputs(", ", fp);
            print_vector_json(fp, &r->stress[3 * a], 3);
        }
        fputc(']', fp);
        double v[6];
        voigt_gpa(r->stress, v);
        json_key(fp, &first, "stress_voigt_gpa");
        print_vector_json(fp, v, 6);
        json_key(fp, &first, "pressure_gpa");
        json_number(fp, -(v[0] + v[1] + v[2]) / 3);
    }
    if (per_atom) {
        json_key(fp, &first, "energies");
        print_vector_json(fp, r->energies, n);
    }
    if (cm) {
        json_key(fp, &first, "committee_size");
        fprintf(fp, "%d", cm->n);
        json_key(fp, &first, "energy_std_per_atom");
        json_number(fp, cm->dev.energy_std_per_atom);
        json_key(fp, &first, "force_deviation_max");
        json_number(fp, cm->dev.force_deviation_max);
        json_key(fp, &first, "force_deviation_mean");
        json_number(fp, cm->dev.force_deviation_mean);
    }
    fputs("}\n", fp);
}

static void write_text(FILE *fp, const char *file, int frame, int label_frames,
                       const mlpot_structure *s, const mlpot_results *r, const char *model,
                       int per_atom, const committee *cm) {
    int n = s->n_atoms;
    if (label_frames)
        fprintf(fp, "%s, frame %d\n", file, frame + 1);
    else
        fprintf(fp, "%s\n", file);
    fprintf(fp, "  model               %s\n", model);
    fprintf(fp, "  energy              %.10f eV (%.10f eV/atom)%s\n", r->energy, r->energy / n,
            cm ? ", committee mean" : "");
    if (cm)
        fprintf(fp, "  committee           %d models: energy std %.3f meV/atom; force deviation "
                    "max %.4f, mean %.4f eV/Å\n",
                cm->n, 1000 * cm->dev.energy_std_per_atom, cm->dev.force_deviation_max, cm->dev.force_deviation_mean);
    fprintf(fp, "  forces (eV/Å)%s\n", per_atom ? "                                      "
                                                  "        energy (eV)"
                                                : "");
    for (int i = 0; i < n; i++) {
        fprintf(fp, "  %6d %-3s %16.10f %16.10f %16.10f", i + 1, element_symbol(s->numbers[i]),
                r->forces[3 * i], r->forces[3 * i + 1], r->forces[3 * i + 2]);
        if (per_atom)
            fprintf(fp, " %18.10f", r->energies[i]);
        fputc('\n', fp);
    }
    if (r->has_stress) {
        double v[6];
        voigt_gpa(r->stress, v);
        fprintf(fp, "  stress              xx yy zz yz xz xy\n");
        fprintf(fp, "    eV/Å^3           ");
        static const int idx[6] = {0, 4, 8, 5, 2, 1};
        for (int k = 0; k < 6; k++)
            fprintf(fp, " % .10e", r->stress[idx[k]]);
        fprintf(fp, "\n    GPa              ");
        for (int k = 0; k < 6; k++)
            fprintf(fp, " % .10f", v[k]);
        fprintf(fp, "\n  pressure            %.10f GPa\n", -(v[0] + v[1] + v[2]) / 3);
    } else {
        fprintf(fp, "  stress              none (not periodic in three directions)\n");
    }
}

/* Adds the results to a copy of the structure for extended XYZ output. */
static mlpot_status annotate(const mlpot_structure *s, const mlpot_results *r, const char *model,
                             int per_atom, const committee *cm, mlpot_structure **out) {
    mlpot_structure *copy = NULL;
    mlpot_status st = mlpot_structure_copy(&copy, s);
    if (st)
        return st;
    for (int k = 0; k < copy->n_columns; k++) /* earlier results would be stale */
        if (!strcmp(copy->columns[k].name, "energies")) {
            structure_column_free(&copy->columns[k], copy->n_atoms);
            copy->columns[k] = copy->columns[--copy->n_columns];
            break;
        }
    copy->has_stress = 0;
    if ((st = mlpot_structure_set_energy(copy, r->energy)) ||
        (st = mlpot_structure_set_forces(copy, r->forces)) ||
        (r->has_stress && (st = mlpot_structure_set_stress(copy, r->stress))) ||
        (st = mlpot_structure_set_info(copy, "model", model)))
        goto fail;
    if (cm) {
        const char *keys[] = {"energy_std_per_atom", "force_deviation_max",
                              "force_deviation_mean"};
        double values[] = {cm->dev.energy_std_per_atom, cm->dev.force_deviation_max, cm->dev.force_deviation_mean};
        char text[40];
        for (int k = 0; k < 3 && !st; k++) {
            snprintf(text, sizeof text, "%.10g", values[k]);
            st = mlpot_structure_set_info(copy, keys[k], text);
        }
        if (st)
            goto fail;
    }
    if (per_atom) {
        structure_column col = {.type = 'R', .n_cols = 1};
        if ((st = mem_strdup(&col.name, "energies")))
            goto fail;
        col.values = malloc((size_t)copy->n_atoms * sizeof *col.values);
        if (!col.values) {
            free(col.name);
            st = MLPOT_ERR_MEMORY;
            goto fail;
        }
        memcpy(col.values, r->energies, (size_t)copy->n_atoms * sizeof *col.values);
        if ((st = structure_add_column(copy, col)))
            goto fail;
    }
    *out = copy;
    return MLPOT_OK;
fail:
    mlpot_structure_free(copy);
    return st;
}

int cli_predict(int argc, char **argv) {
    enum { O_MODEL = 256, O_FORMAT, O_PER_ATOM, O_SYM, O_SYMPREC, O_INFMT, O_FORCE, O_NO_EXTRAP };
    static const struct option long_options[] = {
        {"model", required_argument, 0, O_MODEL},     {"format", required_argument, 0, O_FORMAT},
        {"per-atom", no_argument, 0, O_PER_ATOM},     {"symmetrize", no_argument, 0, O_SYM},
        {"symprec", required_argument, 0, O_SYMPREC}, {"input-format", required_argument, 0, O_INFMT},
        {"output", required_argument, 0, 'o'},        {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, O_FORCE},           {"output-format", required_argument, 0, O_FORMAT},
        {"no-extrapolation-warnings", no_argument, 0, O_NO_EXTRAP},
        {0, 0, 0, 0}};
    predict_options opt = {.format = "text", .symprec = 1e-5};
    mlpot_read_options read_opt = {0};
    const char *output = NULL;
    int force = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", long_options, NULL)) != -1) {
        switch (c) {
        case O_MODEL:
            if (opt.n_models == PREDICT_MAX_MODELS)
                return cli_usage_error("predict", "at most %d --model files",
                                       PREDICT_MAX_MODELS);
            opt.model_paths[opt.n_models++] = optarg;
            break;
        case O_FORMAT: opt.format = optarg; break;
        case O_PER_ATOM: opt.per_atom = 1; break;
        case O_SYM: opt.symmetrize = 1; break;
        case O_SYMPREC:
            if (!cli_parse_double("predict", "--symprec", optarg, &opt.symprec))
                return CLI_EXIT_USAGE;
            if (!(opt.symprec > 0))
                return cli_usage_error("predict", "--symprec must be positive");
            break;
        case O_INFMT: read_opt.format = optarg; break;
        case 'o': output = optarg; break;
        case O_FORCE: force = 1; break;
        case O_NO_EXTRAP: opt.no_extrapolation_warnings = 1; break;
        case 'h': fputs(predict_help, stdout); return 0;
        case ':': return cli_usage_error("predict", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("predict", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (strcmp(opt.format, "text") && strcmp(opt.format, "json") && strcmp(opt.format, "extxyz"))
        return cli_usage_error("predict", "--output-format must be text, json or extxyz, got '%s'",
                               opt.format);
    if (optind >= argc)
        return cli_usage_error("predict", "expected at least one structure file");
    for (int a = optind; a < argc; a++)
        if (!cli_check_structure_format("predict", argv[a], read_opt.format, 0))
            return CLI_EXIT_USAGE;

    /* text and json go through a writer-like temporary file too when -o is given */
    mlpot_writer *xyz = NULL;
    cli_output out = {0};
    int is_xyz = !strcmp(opt.format, "extxyz");
    cli_file_kind kind = is_xyz ? CLI_KIND_STRUCTURE : CLI_KIND_TEXT;
    /* the inputs: the structure files and the model */
    const char **inputs = malloc((size_t)(argc - optind + opt.n_models + 1) * sizeof *inputs);
    if (!inputs)
        return CLI_EXIT_FAILURE;
    for (int a = optind; a < argc; a++)
        inputs[a - optind] = argv[a];
    for (int k = 0; k < opt.n_models; k++)
        inputs[argc - optind + k] = opt.model_paths[k];
    int output_ok =
        cli_check_output("predict", output, kind, inputs, argc - optind + opt.n_models, force);
    free(inputs);
    if (!output_ok)
        return CLI_EXIT_FAILURE;
    if (is_xyz ? mlpot_writer_open(&xyz, output ? output : "-", "extxyz") != MLPOT_OK
               : !cli_output_open(&out, output))
        return is_xyz ? cli_fail() : CLI_EXIT_FAILURE;
    loaded_model *lms = calloc(PREDICT_MAX_MODELS, sizeof *lms); /* 4 kB paths each */
    if (!lms) {
        fprintf(stderr, "mlpot: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    int n_models = opt.n_models ? opt.n_models : 1;
    mlpot_committee *models = NULL; /* of lms[0..n_models-1], remade when one is reloaded */
    char label[4096] = "";
    int status = 0;
    for (int a = optind; a < argc && !status; a++) {
        mlpot_reader *r = NULL;
        if (mlpot_reader_open(&r, argv[a], &read_opt)) {
            status = cli_fail();
            break;
        }
        const char *fmt = read_opt.format ? read_opt.format : mlpot_format_from_path(argv[a]);
        int label_frames = fmt && (!strcmp(fmt, "extxyz") || !strcmp(fmt, "cif"));
        for (int frame = 0; !status; frame++) {
            mlpot_structure *s = NULL;
            if (mlpot_reader_next(r, &s)) {
                status = cli_fail();
                break;
            }
            if (!s) {
                if (frame == 0) {
                    fprintf(stderr, "mlpot: %s: expected at least one structure, found none\n",
                            argv[a]);
                    status = CLI_EXIT_FAILURE;
                }
                break;
            }
            char path[4096];
            int loaded = 1, changed = !models;
            for (int k = 0; k < n_models && loaded; k++) {
                if (opt.n_models) {
                    snprintf(path, sizeof path, "%s", opt.model_paths[k]);
                } else if (!cli_default_potential(s, path, sizeof path)) {
                    loaded = 0;
                    break;
                }
                loaded = load_model(&lms[k], path, &changed);
            }
            if (loaded && changed) {
                const mlpot_model *members[PREDICT_MAX_MODELS];
                for (int k = 0; k < n_models; k++)
                    members[k] = lms[k].model;
                mlpot_committee_free(models);
                models = NULL;
                if (mlpot_committee_create(&models, members, n_models)) {
                    cli_fail();
                    loaded = 0;
                }
            }
            if (!loaded) {
                mlpot_structure_free(s);
                status = CLI_EXIT_FAILURE;
                break;
            }
            if (!opt.n_models && frame == 0 && a == optind)
                fprintf(stderr, "mlpot: using potential %s\n", path);
            size_t used = 0;
            for (int k = 0; k < n_models && used < sizeof label; k++)
                used += (size_t)snprintf(label + used, sizeof label - used, "%s%s", k ? ", " : "",
                                         lms[k].path);
            double stress[9];
            mlpot_results res = {.stress = stress,
                                 .forces = calloc(3 * (size_t)s->n_atoms, sizeof(double)),
                                 .energies = calloc((size_t)s->n_atoms, sizeof(double))};
            committee cm = {.n = n_models};
            mlpot_status st = !res.forces || !res.energies
                                  ? error_set(MLPOT_ERR_MEMORY, "out of memory")
                                  : mlpot_committee_compute(models, s, &res, &cm.dev);
            if (st == MLPOT_OK && opt.symmetrize) {
                if (!structure_is_periodic3(s))
                    st = error_set(MLPOT_ERR_INVALID_ARGUMENT, "--symmetrize needs a structure periodic in three "
                                       "directions");
                else
                    st = mlpot_symmetrize(s, opt.symprec, res.forces, res.stress);
            }
            char where[4200];
            snprintf(where, sizeof where, "%s (frame %d)", argv[a], frame + 1);
            for (int k = 0; !st && !opt.no_extrapolation_warnings && k < n_models; k++) {
                const mlpot_calculator *member = NULL;
                if (!mlpot_committee_calculator(models, k, &member) &&
                    cli_warn_extrapolation(member, where)) /* one line per structure */
                    break;
            }
            if (st) {
                fprintf(stderr, "mlpot: %s (frame %d): %s\n", argv[a], frame + 1,
                        mlpot_last_error());
                status = CLI_EXIT_FAILURE;
            } else if (is_xyz) {
                mlpot_structure *annotated = NULL;
                if (annotate(s, &res, label, opt.per_atom, n_models > 1 ? &cm : NULL,
                             &annotated) ||
                    mlpot_writer_write(xyz, annotated))
                    status = cli_fail();
                mlpot_structure_free(annotated);
            } else if (!strcmp(opt.format, "json")) {
                write_json(out.fp, argv[a], frame, s, &res, label, opt.per_atom,
                           n_models > 1 ? &cm : NULL);
            } else {
                write_text(out.fp, argv[a], frame, label_frames, s, &res, label, opt.per_atom,
                           n_models > 1 ? &cm : NULL);
            }
            free(res.forces);
            free(res.energies);
            mlpot_structure_free(s);
        }
        mlpot_reader_close(r);
    }
    mlpot_committee_free(models); /* before its models */
    for (int k = 0; k < PREDICT_MAX_MODELS; k++)
        mlpot_model_free(lms[k].model);
    free(lms);
    if (is_xyz) {
        if (status) {
            mlpot_writer_abort(xyz);
        } else if (mlpot_writer_close(xyz)) {
            status = cli_fail();
        }
    } else if (!cli_output_close(&out, status == 0)) {
        status = CLI_EXIT_FAILURE;
    }
    return status;
}
