/* cli_eval.c — `mlpot eval MODEL DATA`: energy-per-atom, force and stress MAE and RMSE of a
 * potential on labelled data (an HDF5 dataset or structure files), overall and per config
 * type, as a table or JSON; parity plots and a learning curve as SVG. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "train/metrics.h"
#include "core/elements.h"
#include "core/units.h"
#include "cli/svg_plot.h"
#include "io/structure.h"
#include "io/dataset_file.h"
#include "train/frame_checks.h"


static const char *eval_help =
    "usage: mlpot eval MODEL.h5 DATA [--json] [--plot parity.svg] [--log train.csv\n"
    "                  --curve curve.svg] [--input-format F] [--force]\n\n"
    "Errors of a potential on labelled data (an HDF5 dataset, *.h5 or *.hdf5, or a\n"
    "structure file, usually extended XYZ): MAE and RMSE of the energy per atom (meV/atom), of the force\n"
    "components (eV/Å) and of the six independent stress components (GPa), over all frames and\n"
    "per config type.\n\n"
    "  --json         one JSON object instead of the table\n"
    "  --plot FILE    SVG parity plots (energy per atom, force components, stress components)\n"
    "  --log CSV      a training log (MODEL.h5.csv) ...\n"
    "  --curve FILE   ... drawn as an SVG learning curve (loss and validation MAEs per epoch)\n"
    "  --input-format F  DATA is a structure file in format F: vasp, extxyz or cif (default:\n"
    "                 a dataset by the name *.h5 or *.hdf5, else the format from the name)\n"
    "  --force        replace an existing plot file that is a model, dataset or structure\n"
    "                 file (never an input)\n";

typedef struct {
    double *ref, *pred;
    size_t n, cap;
} series;

static int series_add(series *s, double ref, double pred) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        double *r = realloc(s->ref, cap * sizeof *r);
        if (!r)
            return 0;
        s->ref = r;
        double *p = realloc(s->pred, cap * sizeof *p);
        if (!p)
            return 0;
        s->pred = p;
        s->cap = cap;
    }
    s->ref[s->n] = ref;
    s->pred[s->n++] = pred;
    return 1;
}

static error_stats *stats_for(error_stats **all, int *n, const char *name) {
    for (int k = 0; k < *n; k++)
        if (!strcmp((*all)[k].name, name))
            return &(*all)[k];
    error_stats *grown = realloc(*all, (size_t)(*n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    *all = grown;
    error_stats *s = &grown[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static void print_row(const error_stats *s) {
    printf("%-24s %6ld %7ld  %9.2f %9.2f  %8.4f %8.4f  %7.3f %7.3f\n", s->name, s->frames,
           s->atoms, metrics_mean(s->e_abs, s->e_n), sqrt(metrics_mean(s->e_sq, s->e_n)),
           metrics_mean(s->f_abs, s->f_n), sqrt(metrics_mean(s->f_sq, s->f_n)),
           metrics_mean(s->s_abs, s->s_n), sqrt(metrics_mean(s->s_sq, s->s_n)));
}

static void json_stats(FILE *fp, const error_stats *s) {
    int first = 1;
    fputc('{', fp);
    json_key(fp, &first, "frames");
    fprintf(fp, "%ld", s->frames);
    json_key(fp, &first, "atoms");
    fprintf(fp, "%ld", s->atoms);
    json_key(fp, &first, "energy_mae_mev_per_atom");
    json_number(fp, metrics_mean(s->e_abs, s->e_n));
    json_key(fp, &first, "energy_rmse_mev_per_atom");
    json_number(fp, sqrt(metrics_mean(s->e_sq, s->e_n)));
    json_key(fp, &first, "force_mae_ev_per_a");
    json_number(fp, metrics_mean(s->f_abs, s->f_n));
    json_key(fp, &first, "force_rmse_ev_per_a");
    json_number(fp, sqrt(metrics_mean(s->f_sq, s->f_n)));
    json_key(fp, &first, "stress_mae_gpa");
    json_number(fp, metrics_mean(s->s_abs, s->s_n));
    json_key(fp, &first, "stress_rmse_gpa");
    json_number(fp, sqrt(metrics_mean(s->s_sq, s->s_n)));
    fputc('}', fp);
}

/* The learning curve of a training CSV: train loss, valid loss against epoch. */
static int write_curve(const char *log, const char *path) {
    FILE *in = fopen(log, "r");
    if (!in) {
        fprintf(stderr, "mlpot: %s: cannot open the training log\n", log);
        return 0;
    }
    char line[2048];
    size_t n = 0, cap = 0;
    double *x = NULL, *cols[4] = {NULL, NULL, NULL, NULL};
    int ok = fgets(line, sizeof line, in) && !strncmp(line, "epoch,", 6);
    while (ok && fgets(line, sizeof line, in)) {
        double v[11];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]) != 11)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            x = realloc(x, cap * sizeof *x);
            for (int c = 0; c < 4; c++)
                cols[c] = realloc(cols[c], cap * sizeof(double));
        }
        x[n] = v[0];
        cols[0][n] = v[3];     /* train loss */
        cols[1][n] = v[7];     /* valid loss */
        cols[2][n] = v[8];     /* valid energy MAE, meV/atom */
        cols[3][n++] = v[9];   /* valid force MAE, eV/Å */
    }
    fclose(in);
    if (!ok || n == 0) {
        fprintf(stderr, "mlpot: %s: expected a training log (CSV written by mlpot train)\n", log);
        free(x);
        for (int c = 0; c < 4; c++)
            free(cols[c]);
        return 0;
    }
    cli_output out;
    if (!cli_output_open(&out, path))
        return 0;
    svg_begin(out.fp, 2);
    const double *losses[2] = {cols[0], cols[1]};
    const char *loss_names[2] = {"train loss", "valid loss"};
    svg_line_panel(out.fp, 0, x, losses, loss_names, 2, n, "loss", "epoch", "loss");
    const double *maes[2] = {cols[2], cols[3]};
    const char *mae_names[2] = {"E meV/atom", "F eV/Å"};
    svg_line_panel(out.fp, 1, x, maes, mae_names, 2, n, "validation MAE", "epoch", "MAE");
    svg_end(out.fp);
    free(x);
    for (int c = 0; c < 4; c++)
        free(cols[c]);
    return cli_output_close(&out, 1);
}

int cli_eval(int argc, char **argv) {
    enum { O_JSON = 256, O_PLOT, O_LOG, O_CURVE, O_FORCE, O_INFMT };
    static const struct option long_options[] = {
        {"json", no_argument, 0, O_JSON}, {"plot", required_argument, 0, O_PLOT},
        {"log", required_argument, 0, O_LOG}, {"curve", required_argument, 0, O_CURVE},
        {"force", no_argument, 0, O_FORCE}, {"help", no_argument, 0, 'h'},
        {"input-format", required_argument, 0, O_INFMT}, {0, 0, 0, 0}};
    int json = 0, replace_other_kinds = 0, c;
    const char *plot = NULL, *log = NULL, *curve = NULL;
    mlpot_read_options read_opt = {0};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = 1; break;
        case O_PLOT: plot = optarg; break;
        case O_LOG: log = optarg; break;
        case O_CURVE: curve = optarg; break;
        case O_FORCE: replace_other_kinds = 1; break;
        case O_INFMT: read_opt.format = optarg; break;
        case 'h': fputs(eval_help, stdout); return 0;
        case ':': return cli_usage_error("eval", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if ((log == NULL) != (curve == NULL))
        return cli_usage_error("eval", "--log and --curve go together");
    if (argc - optind != 2)
        return cli_usage_error("eval", "expected a model file and a data file");
    const char *model_path = argv[optind], *data_path = argv[optind + 1];
    size_t len = strlen(data_path);
    int is_h5 = !read_opt.format && ((len > 3 && !strcmp(data_path + len - 3, ".h5")) ||
                                     (len > 5 && !strcmp(data_path + len - 5, ".hdf5")));
    if (!is_h5 && !cli_check_structure_format("eval", data_path, read_opt.format, 0))
        return CLI_EXIT_USAGE;
    const char *inputs[] = {model_path, data_path, log};
    if (!cli_check_output("eval", plot, CLI_KIND_TEXT, inputs, 3, replace_other_kinds) ||
        !cli_check_output("eval", curve, CLI_KIND_TEXT, inputs, 3, replace_other_kinds))
        return CLI_EXIT_FAILURE;
    mlpot_model *model = NULL;
    mlpot_calculator *calc = NULL;
    if (mlpot_model_load(&model, model_path) || mlpot_calculator_create(&calc, model)) {
        mlpot_model_free(model);
        return cli_fail();
    }
    dataset *d = NULL;
    mlpot_reader *reader = NULL;
    int status = 0;
    mlpot_graph *graph = NULL;
    if (mlpot_graph_create(&graph) ||
        (is_h5 ? dataset_open(&d, data_path) != MLPOT_OK
               : mlpot_reader_open(&reader, data_path, &read_opt) != MLPOT_OK))
        status = cli_fail();
    error_stats *groups = NULL, *species = NULL, overall = {.name = "all"};
    int n_groups = 0, n_species = 0;
    series energy = {0}, force = {0}, stress = {0};
    for (int k = 0; !status; k++) {
        mlpot_structure *s = NULL;
        if (is_h5 && k >= dataset_n_frames(d))
            break;
        if (is_h5 ? dataset_read_frame(d, k, &s) != MLPOT_OK
                  : mlpot_reader_next(reader, &s) != MLPOT_OK) {
            status = cli_fail();
            break;
        }
        if (!s)
            break;
        /* the check train and dataset info make */
        if (dataset_check_frame(s, mlpot_model_cutoff(model), graph, data_path, k)) {
            mlpot_structure_free(s);
            status = cli_fail();
            break;
        }
        int n = s->n_atoms;
        double st[9];
        mlpot_results r = {.stress = st};
        r.forces = malloc((size_t)n * 3 * sizeof *r.forces);
        if (!r.forces || mlpot_calculator_compute(calc, s, &r)) {
            fprintf(stderr, "mlpot: %s (frame %d): %s\n", data_path, k,
                    r.forces ? mlpot_last_error() : "out of memory");
            status = CLI_EXIT_FAILURE;
        } else {
            const char *type = mlpot_structure_info(s, "config_type");
            error_stats *g = stats_for(&groups, &n_groups, type && type[0] ? type : "(none)");
            error_stats_add(&overall, s, &r);
            if (g)
                error_stats_add(g, s, &r);
            for (int i = 0; s->forces && i < n; i++) { /* force errors by element */
                error_stats *e = stats_for(&species, &n_species, element_symbol(s->numbers[i]));
                if (!e)
                    continue;
                e->atoms++;
                for (int x = 0; x < 3; x++)
                    if (isfinite(s->forces[3 * i + x])) {
                        double dF = r.forces[3 * i + x] - s->forces[3 * i + x];
                        e->f_abs += fabs(dF);
                        e->f_sq += dF * dF;
                        e->f_n++;
                    }
            }
            if (s->has_energy && isfinite(s->energy))
                series_add(&energy, s->energy / n, r.energy / n);
            if (s->forces)
                for (int i = 0; i < 3 * n; i++)
                    if (isfinite(s->forces[i]))
                        series_add(&force, s->forces[i], r.forces[i]);
            if (s->has_stress && r.has_stress)
                for (int i = 0; i < 9; i++)
                    if (i % 4 == 0 || i == 1 || i == 2 || i == 5)
                        series_add(&stress, EV_PER_A3_IN_GPA * s->stress[i],
                                   EV_PER_A3_IN_GPA * r.stress[i]);
        }
        free(r.forces);
        mlpot_structure_free(s);
    }
    if (!status && overall.frames == 0) {
        fprintf(stderr, "mlpot: %s: no frames\n", data_path);
        status = CLI_EXIT_FAILURE;
    }
    if (!status && overall.e_n + overall.f_n + overall.s_n == 0) {
        fprintf(stderr, "mlpot: %s: no energy, force or stress labels to compare with (mlpot "
                        "predict gives the model's predictions)\n", data_path);
        status = CLI_EXIT_FAILURE;
    }
    if (!status && json) {
        int first = 1;
        fputc('{', stdout);
        json_key(stdout, &first, "model");
        json_string(stdout, model_path);
        json_key(stdout, &first, "data");
        json_string(stdout, data_path);
        json_key(stdout, &first, "overall");
        json_stats(stdout, &overall);
        json_key(stdout, &first, "by_config_type");
        fputc('{', stdout);
        int inner = 1;
        for (int g = 0; g < n_groups; g++) {
            json_key(stdout, &inner, groups[g].name);
            json_stats(stdout, &groups[g]);
        }
        fputc('}', stdout);
        json_key(stdout, &first, "forces_by_species");
        fputc('{', stdout);
        inner = 1;
        for (int g = 0; g < n_species; g++) {
            json_key(stdout, &inner, species[g].name);
            fputc('{', stdout);
            int f = 1;
            json_key(stdout, &f, "atoms");
            fprintf(stdout, "%ld", species[g].atoms);
            json_key(stdout, &f, "force_mae_ev_per_a");
            json_number(stdout, metrics_mean(species[g].f_abs, species[g].f_n));
            json_key(stdout, &f, "force_rmse_ev_per_a");
            json_number(stdout, sqrt(metrics_mean(species[g].f_sq, species[g].f_n)));
            fputc('}', stdout);
        }
        fputs("}}\n", stdout);
    } else if (!status) {
        printf("%s on %s\n", model_path, data_path);
        printf("%-24s %6s %7s  %9s %9s  %8s %8s  %7s %7s\n", "config type", "frames", "atoms",
               "E MAE", "E RMSE", "F MAE", "F RMSE", "S MAE", "S RMSE");
        printf("%-24s %6s %7s  %19s  %17s  %15s\n", "", "", "", "meV/atom", "eV/Å", "GPa");
        for (int g = 0; g < n_groups; g++)
            print_row(&groups[g]);
        print_row(&overall);
        if (n_species > 0) {
            printf("\n%-24s %7s  %8s %8s\n", "forces by species", "atoms", "F MAE", "F RMSE");
            for (int g = 0; g < n_species; g++)
                printf("%-24s %7ld  %8.4f %8.4f\n", species[g].name, species[g].atoms,
                       metrics_mean(species[g].f_abs, species[g].f_n),
                       sqrt(metrics_mean(species[g].f_sq, species[g].f_n)));
        }
    }
    if (!status && plot) {
        cli_output out;
        if (!cli_output_open(&out, plot)) {
            status = CLI_EXIT_FAILURE;
        } else {
            char note[3][96];
            snprintf(note[0], sizeof note[0], "MAE %.2f meV/atom",
                     metrics_mean(overall.e_abs, overall.e_n));
            snprintf(note[1], sizeof note[1], "MAE %.4f eV/Å", metrics_mean(overall.f_abs,
                                                                            overall.f_n));
            snprintf(note[2], sizeof note[2], "MAE %.3f GPa", metrics_mean(overall.s_abs,
                                                                           overall.s_n));
            svg_begin(out.fp, 3);
            svg_parity_panel(out.fp, 0, energy.ref, energy.pred, energy.n, "energy per atom",
                             "eV/atom", note[0]);
            svg_parity_panel(out.fp, 1, force.ref, force.pred, force.n, "force components",
                             "eV/Å", note[1]);
            svg_parity_panel(out.fp, 2, stress.ref, stress.pred, stress.n, "stress components",
                             "GPa", note[2]);
            svg_end(out.fp);
            if (!cli_output_close(&out, 1))
                status = CLI_EXIT_FAILURE;
        }
    }
    if (!status && curve && !write_curve(log, curve))
        status = CLI_EXIT_FAILURE;
    free(energy.ref);
    free(energy.pred);
    free(force.ref);
    free(force.pred);
    free(stress.ref);
    free(stress.pred);
    free(groups);
    free(species);
    dataset_close(d);
    mlpot_reader_close(reader);
    mlpot_graph_free(graph);
    mlpot_calculator_free(calc);
    mlpot_model_free(model);
    return status;
}
