/* cli_dataset.c — `mlpot dataset convert|info|split`: building HDF5 datasets (formats.md) from
 * structure files and back, describing them, and splitting them reproducibly. Everything
 * streams frame by frame; long runs show progress on a terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "core/random.h"
#include "core/units.h"
#include "core/elements.h"
#include "io/line_reader.h"
#include "io/structure.h"
#include "io/dataset_file.h"
#include "train/frame_checks.h"
#include "train/split.h"

#define MAX_SPLIT_PARTS 16
#define INFO_TEXT_MAX_CONFIG_TYPES 30

static const char *dataset_help =
    "usage: mlpot dataset convert IN... -o OUT [--input-format F] [--output-format F]\n"
    "                             [--species Si,O]\n"
    "       mlpot dataset info FILE [--json] [--cutoff R]\n"
    "       mlpot dataset split FILE --fractions A,B[,C...] [--seed S] -o OUT_A -o OUT_B...\n\n"
    "Training datasets in the HDF5 format of formats.md (*.h5, *.hdf5). 'mlpot dataset\n"
    "<command> --help' describes a command.\n";

/* dataset info checks frames at train's default cutoff (Å). */
#define DATASET_INFO_CUTOFF 5.0

static const char *convert_help =
    "usage: mlpot dataset convert IN... -o OUT [--input-format vasp|extxyz|cif]\n"
    "                             [--output-format vasp|extxyz] [--species Si,O] [--force]\n\n"
    "Writes every frame of the inputs, in order, to OUT. Inputs are structure files (extended\n"
    "XYZ, VASP) or datasets (*.h5, *.hdf5); OUT is a dataset (*.h5, *.hdf5) or a structure file\n"
    "(*.xyz, *.extxyz; POSCAR for a single frame). Energy, forces and stress come from each\n"
    "frame's labels; a frame's /name is its config_type, or else the name of its file (without\n"
    "the directory). Back in extended XYZ the name becomes config_type. Frames stream: no more\n"
    "than a few thousand are held at once. OUT is written to a temporary file and renamed when\n"
    "complete.\n\n"
    "  -o, --output OUT   the file to write (required); never one of the inputs\n"
    "  --force            replace OUT even if it is a file of another kind (a model; a\n"
    "                     structure file when OUT is a dataset, or the reverse)\n"
    "  --input-format F   vasp, extxyz or cif: the format of the structure-file inputs\n"
    "                     (default: from each name); --format F is the same option\n"
    "  --output-format F  vasp or extxyz: the format of a structure-file OUT (default: from\n"
    "                     its name)\n"
    "  --species S        element symbols for VASP 4 files without a species line\n";

static const char *info_help =
    "usage: mlpot dataset info FILE [--json] [--cutoff R]\n\n"
    "Validates a dataset as train does (every frame's neighbour graph at the cutoff R, default\n"
    "5 Å as train's, and labels within physical bounds; frames whose energy per atom is far\n"
    "from the others' are warned about) and describes it: frames, atoms (total and per frame), species with\n"
    "their counts, which labels exist, energy per atom (min, mean, max, std), force components\n"
    "(RMS) and the largest force, stress (mean of each Voigt component and the largest "
    "|component|,\n"
    "GPa), weights and config types (from /name) with their frame counts.\n\n"
    "  --json   one JSON object\n";

static const char *split_help =
    "usage: mlpot dataset split FILE --fractions A,B[,C...] [--seed S] -o OUT_A -o OUT_B...\n"
    "                           [--force]\n\n"
    "Splits a dataset at random into parts of the given fractions (summing to 1), one -o per\n"
    "fraction. The permutation is reproducible on every machine: splitmix64 seeded with S\n"
    "(default 0) drives a Fisher-Yates shuffle (for i = F-1 down to 1, swap i with j = r mod\n"
    "(i+1), r drawn again while r >= 2^64-1 - (2^64-1) mod (i+1)); part p receives the shuffled\n"
    "positions round(c(p-1) F) .. round(c(p) F) - 1 where c(p) is the sum of the first p\n"
    "fractions. Every part keeps the original frame order, names, weights and root attributes.\n\n"
    "  --fractions A,B   fractions of the frames for the outputs, in order (required)\n"
    "  --seed S          seed of the permutation, a non-negative integer (default 0)\n"
    "  -o, --output OUT  an output dataset; one per fraction; never FILE\n"
    "  --force           replace an OUT that is a file of another kind (a model, a structure)\n";

/* ---- progress on a terminal: "frames 12000/?  3400 frames/s" ---- */

typedef struct {
    int enabled, shown;
    int64_t total; /* -1 when unknown */
    double start, last;
} progress;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void progress_start(progress *p, int64_t total) {
    p->enabled = isatty(2);
    p->shown = 0;
    p->total = total;
    p->start = p->last = now_seconds();
}

/* At most four updates a second. */
static void progress_show(progress *p, int64_t done) {
    if (!p->enabled)
        return;
    double t = now_seconds();
    if (t - p->last < 0.25)
        return;
    p->last = t;
    p->shown = 1;
    double rate = done / (t - p->start);
    if (p->total < 0) {
        fprintf(stderr, "\rframes %lld/?  %.0f frames/s\033[K", (long long)done, rate);
    } else {
        long eta = rate > 0 ? lround((double)(p->total - done) / rate) : 0;
        fprintf(stderr, "\rframes %lld/%lld  %.0f frames/s  ETA %ld:%02ld:%02ld\033[K",
                (long long)done, (long long)p->total, rate, eta / 3600, eta / 60 % 60, eta % 60);
    }
    fflush(stderr);
}

static void progress_end(progress *p) {
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}

/* ---- helpers ---- */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_dataset_path(const char *path) {
    return ends_with(path, ".h5") || ends_with(path, ".hdf5");
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Warns that root objects of a dataset not named by formats.md are not copied. */
static void warn_unknown_objects(const char *command, const char *path, const dataset *d) {
    for (int i = 0; i < dataset_n_unknown_objects(d); i++)
        fprintf(stderr,
                "mlpot dataset %s: warning: %s: %s is not copied (only the datasets of "
                "formats.md and root attributes are)\n",
                command, path, dataset_unknown_object(d, i));
}

/* =============================================================================================
 * convert
 * =========================================================================================== */

typedef struct {
    dataset_writer *dataset_out; /* one of these two */
    mlpot_writer *structure_out;
    int64_t frames, atoms;
    progress bar;
} convert_output;

static mlpot_status convert_emit(convert_output *out, const mlpot_structure *s, const char *name,
                                 const double *weight) {
    mlpot_status st = out->dataset_out
                          ? dataset_writer_append_frame(out->dataset_out, s, name, weight)
                          : mlpot_writer_write(out->structure_out, s);
    if (st)
        return st;
    out->frames++;
    out->atoms += mlpot_structure_n_atoms(s);
    progress_show(&out->bar, out->frames);
    return MLPOT_OK;
}

static mlpot_status convert_dataset_input(convert_output *out, const char *path) {
    dataset *d = NULL;
    mlpot_status st = dataset_open(&d, path);
    if (st)
        return st;
    if (out->dataset_out) {
        warn_unknown_objects("convert", path, d);
        st = dataset_writer_copy_attributes(out->dataset_out, d);
    }
    for (int k = 0; !st && k < dataset_n_frames(d); k++) {
        mlpot_structure *s = NULL;
        double weight = dataset_frame_weight(d, k);
        if (!(st = dataset_read_frame(d, k, &s)))
            st = convert_emit(out, s, dataset_has_names(d) ? dataset_frame_name(d, k) : NULL,
                              dataset_has_weight(d) ? &weight : NULL);
        mlpot_structure_free(s);
    }
    dataset_close(d);
    return st;
}

static mlpot_status convert_structure_input(convert_output *out, const char *path,
                                            const mlpot_read_options *read_opt) {
    mlpot_reader *r = NULL;
    mlpot_status st = mlpot_reader_open(&r, path, read_opt);
    while (!st) {
        mlpot_structure *s = NULL;
        if ((st = mlpot_reader_next(r, &s)) || !s)
            break;
        const char *name = mlpot_structure_info(s, "config_type");
        st = convert_emit(out, s, name ? name : base_name(path), NULL);
        mlpot_structure_free(s);
    }
    mlpot_reader_close(r);
    return st;
}

static int dataset_convert(int argc, char **argv) {
    static const struct option long_options[] = {{"output", required_argument, 0, 'o'},
                                                 {"input-format", required_argument, 0, 'f'},
                                                 {"format", required_argument, 0, 'f'},
                                                 {"output-format", required_argument, 0, 't'},
                                                 {"species", required_argument, 0, 'S'},
                                                 {"force", no_argument, 0, 'R'},
                                                 {"help", no_argument, 0, 'h'},
                                                 {0, 0, 0, 0}};
    const char *cmd = "dataset convert";
    mlpot_read_options read_opt = {0};
    const char *output = NULL, *output_format = NULL;
    int c, force = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", long_options, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (output)
                return cli_usage_error(cmd, "only one -o is allowed");
            output = optarg;
            break;
        case 'f': read_opt.format = optarg; break;
        case 't': output_format = optarg; break;
        case 'S': read_opt.species = optarg; break;
        case 'R': force = 1; break;
        case 'h': fputs(convert_help, stdout); return 0;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "expected at least one input file");
    if (!output)
        return cli_usage_error(cmd, "-o OUT is required");
    if (!is_dataset_path(output) && !output_format && !mlpot_format_from_path(output))
        return cli_usage_error(cmd,
                               "cannot tell the format of '%s' from its name: expected *.h5, "
                               "*.hdf5 (a dataset), *.xyz, *.extxyz, *.vasp, POSCAR* or "
                               "CONTCAR*, or --output-format vasp|extxyz",
                               output);
    if (is_dataset_path(output) && output_format)
        return cli_usage_error(cmd, "--output-format is for a structure-file OUT; '%s' is a "
                               "dataset (by its name)", output);
    if (!is_dataset_path(output) &&
        !cli_check_structure_format(cmd, output, output_format, 1))
        return CLI_EXIT_USAGE;
    for (int i = optind; i < argc; i++)
        if (!is_dataset_path(argv[i]) &&
            !cli_check_structure_format(cmd, argv[i], read_opt.format, 0))
            return CLI_EXIT_USAGE;
    if (!cli_check_output(cmd, output,
                          is_dataset_path(output) ? CLI_KIND_DATASET : CLI_KIND_STRUCTURE,
                          (const char *const *)argv + optind, argc - optind, force))
        return CLI_EXIT_FAILURE;
    convert_output out = {0};
    mlpot_status st = is_dataset_path(output) ? dataset_writer_open(&out.dataset_out, output)
                                              : mlpot_writer_open(&out.structure_out, output,
                                                                  output_format);
    if (st)
        return cli_fail();
    progress_start(&out.bar, -1);
    for (int i = optind; !st && i < argc; i++)
        st = is_dataset_path(argv[i]) ? convert_dataset_input(&out, argv[i])
                                      : convert_structure_input(&out, argv[i], &read_opt);
    progress_end(&out.bar);
    if (!st && out.frames == 0) {
        dataset_writer_abort(out.dataset_out);
        mlpot_writer_abort(out.structure_out);
        fprintf(stderr, "mlpot: expected at least one structure in the inputs, found none\n");
        return CLI_EXIT_FAILURE;
    }
    if (st) {
        int rc = cli_fail();
        dataset_writer_abort(out.dataset_out);
        mlpot_writer_abort(out.structure_out);
        return rc;
    }
    st = out.dataset_out ? dataset_writer_close(out.dataset_out)
                         : mlpot_writer_close(out.structure_out);
    if (st)
        return cli_fail();
    fprintf(stderr, "mlpot: wrote %lld frame%s (%lld atoms) to %s\n", (long long)out.frames,
            out.frames == 1 ? "" : "s", (long long)out.atoms, output);
    return 0;
}

/* =============================================================================================
 * info
 * =========================================================================================== */

/* Running mean and variance (Welford). */
typedef struct {
    int64_t n;
    double mean, m2, min, max;
} running_stats;

static void stats_add(running_stats *r, double x) {
    if (r->n == 0 || x < r->min)
        r->min = x;
    if (r->n == 0 || x > r->max)
        r->max = x;
    r->n++;
    double delta = x - r->mean;
    r->mean += delta / (double)r->n;
    r->m2 += delta * (x - r->mean);
}

static double stats_std(const running_stats *r) {
    return r->n > 0 ? sqrt(r->m2 / (double)r->n) : NAN;
}

typedef struct {
    const char *name;
    int64_t count;
} name_count;

typedef struct {
    int64_t frames, n_atoms;
    int atoms_min, atoms_max;
    int64_t species[ELEMENT_MAX_Z + 1];
    int64_t energy_frames, forces_frames, forces_atoms, stress_frames;
    running_stats energy_per_atom, weight;
    double force_sum_squares, force_max;
    int64_t force_components;
    double stress_sum_gpa[6], stress_max_gpa;
    name_count *config_types;
    int n_config_types;
} dataset_stats;

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Most frames first, then by name. */
static int compare_name_counts(const void *a, const void *b) {
    const name_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Config types (distinct /name values) with their frame counts: sort the names, count runs. */
static int count_config_types(const dataset *d, dataset_stats *st) {
    int n = dataset_n_frames(d);
    if (!dataset_has_names(d) || n == 0)
        return 1;
    const char **names = calloc((size_t)n, sizeof *names);
    st->config_types = calloc((size_t)n, sizeof *st->config_types);
    if (!names || !st->config_types) {
        free(names);
        fprintf(stderr, "mlpot: out of memory counting config types\n");
        return 0;
    }
    for (int k = 0; k < n; k++)
        names[k] = dataset_frame_name(d, k);
    qsort(names, (size_t)n, sizeof *names, compare_strings);
    for (int k = 0; k < n; k++) {
        if (k == 0 || strcmp(names[k], names[k - 1]) != 0)
            st->config_types[st->n_config_types++] = (name_count){names[k], 0};
        st->config_types[st->n_config_types - 1].count++;
    }
    free(names);
    qsort(st->config_types, (size_t)st->n_config_types, sizeof *st->config_types,
          compare_name_counts);
    return 1;
}

static void add_frame(dataset_stats *st, const mlpot_structure *s, double weight) {
    int n = s->n_atoms;
    st->n_atoms += n;
    if (st->frames++ == 0 || n < st->atoms_min)
        st->atoms_min = n;
    if (n > st->atoms_max)
        st->atoms_max = n;
    for (int i = 0; i < n; i++)
        st->species[s->numbers[i]]++;
    if (s->has_energy) {
        st->energy_frames++;
        stats_add(&st->energy_per_atom, s->energy / n);
    }
    if (s->forces) {
        st->forces_frames++;
        for (int i = 0; i < n; i++) {
            const double *f = &s->forces[3 * i];
            if (isnan(f[0]) || isnan(f[1]) || isnan(f[2]))
                continue;
            double f2 = f[0] * f[0] + f[1] * f[1] + f[2] * f[2];
            st->forces_atoms++;
            st->force_sum_squares += f2;
            st->force_components += 3;
            if (sqrt(f2) > st->force_max)
                st->force_max = sqrt(f2);
        }
    }
    if (s->has_stress) {
        static const int voigt[6] = {0, 4, 8, 5, 2, 1};
        st->stress_frames++;
        for (int j = 0; j < 6; j++)
            st->stress_sum_gpa[j] += s->stress[voigt[j]] * EV_PER_A3_IN_GPA;
        for (int j = 0; j < 9; j++)
            if (fabs(s->stress[j]) * EV_PER_A3_IN_GPA > st->stress_max_gpa)
                st->stress_max_gpa = fabs(s->stress[j]) * EV_PER_A3_IN_GPA;
    }
    stats_add(&st->weight, weight);
}

static void print_info_json(const char *path, const dataset *d, const dataset_stats *st) {
    FILE *fp = stdout;
    int n = dataset_n_frames(d), first = 1;
    fputc('{', fp);
    json_key(fp, &first, "file");
    json_string(fp, path);
    json_key(fp, &first, "n_frames");
    fprintf(fp, "%d", n);
    json_key(fp, &first, "n_atoms");
    fprintf(fp, "%lld", (long long)st->n_atoms);
    json_key(fp, &first, "atoms_per_frame");
    fprintf(fp, "{\"min\": %d, \"mean\": ", st->atoms_min);
    json_number(fp, n ? (double)st->n_atoms / n : NAN);
    fprintf(fp, ", \"max\": %d}", st->atoms_max);
    json_key(fp, &first, "species");
    int inner = 1;
    fputc('{', fp);
    for (int z = 1; z <= ELEMENT_MAX_Z; z++)
        if (st->species[z]) {
            json_key(fp, &inner, element_symbol(z));
            fprintf(fp, "%lld", (long long)st->species[z]);
        }
    fputc('}', fp);
    json_key(fp, &first, "labels");
    fprintf(fp,
            "{\"energy\": %lld, \"forces\": %lld, \"forces_atoms\": %lld, \"stress\": %lld, "
            "\"weight\": %s, \"name\": %s}",
            (long long)st->energy_frames, (long long)st->forces_frames, (long long)st->forces_atoms,
            (long long)st->stress_frames, dataset_has_weight(d) ? "true" : "false",
            dataset_has_names(d) ? "true" : "false");
    json_key(fp, &first, "energy_per_atom");
    if (st->energy_frames) {
        fputs("{\"min\": ", fp);
        json_number(fp, st->energy_per_atom.min);
        fputs(", \"mean\": ", fp);
        json_number(fp, st->energy_per_atom.mean);
        fputs(", \"max\": ", fp);
        json_number(fp, st->energy_per_atom.max);
        fputs(", \"std\": ", fp);
        json_number(fp, stats_std(&st->energy_per_atom));
        fputc('}', fp);
    } else {
        fputs("null", fp);
    }
    json_key(fp, &first, "forces");
    if (st->forces_atoms) {
        fputs("{\"rms\": ", fp);
        json_number(fp, sqrt(st->force_sum_squares / (double)st->force_components));
        fputs(", \"max_norm\": ", fp);
        json_number(fp, st->force_max);
        fputc('}', fp);
    } else {
        fputs("null", fp);
    }
    json_key(fp, &first, "stress_gpa");
    if (st->stress_frames) {
        fputs("{\"mean_voigt\": [", fp);
        for (int j = 0; j < 6; j++) {
            json_number(fp, st->stress_sum_gpa[j] / (double)st->stress_frames);
            fputs(j < 5 ? ", " : "]", fp);
        }
        fputs(", \"max_abs\": ", fp);
        json_number(fp, st->stress_max_gpa);
        fputc('}', fp);
    } else {
        fputs("null", fp);
    }
    json_key(fp, &first, "weight");
    if (dataset_has_weight(d) && st->weight.n) {
        fputs("{\"min\": ", fp);
        json_number(fp, st->weight.min);
        fputs(", \"mean\": ", fp);
        json_number(fp, st->weight.mean);
        fputs(", \"max\": ", fp);
        json_number(fp, st->weight.max);
        fputc('}', fp);
    } else {
        fputs("null", fp);
    }
    json_key(fp, &first, "config_types");
    inner = 1;
    fputc('{', fp);
    for (int k = 0; k < st->n_config_types; k++) {
        json_key(fp, &inner, st->config_types[k].name);
        fprintf(fp, "%lld", (long long)st->config_types[k].count);
    }
    fputs("}}\n", fp);
}

static void print_info_text(const char *path, const dataset *d, const dataset_stats *st) {
    int n = dataset_n_frames(d);
    printf("%s\n", path);
    printf("  frames              %d\n", n);
    printf("  atoms               %lld", (long long)st->n_atoms);
    if (n)
        printf(" (per frame min %d, mean %.2f, max %d)", st->atoms_min, (double)st->n_atoms / n,
               st->atoms_max);
    printf("\n  species            ");
    for (int z = 1; z <= ELEMENT_MAX_Z; z++)
        if (st->species[z])
            printf(" %s %lld", element_symbol(z), (long long)st->species[z]);
    printf("\n  labels (frames)     energy %lld/%d, forces %lld/%d, stress %lld/%d, weight %s\n",
           (long long)st->energy_frames, n, (long long)st->forces_frames, n,
           (long long)st->stress_frames, n, dataset_has_weight(d) ? "yes" : "no (all 1)");
    if (st->energy_frames)
        printf("  energy/atom (eV)    min %.6f, mean %.6f, max %.6f, std %.6f\n",
               st->energy_per_atom.min, st->energy_per_atom.mean, st->energy_per_atom.max,
               stats_std(&st->energy_per_atom));
    else
        printf("  energy/atom (eV)    none (no frame has an energy)\n");
    if (st->forces_atoms)
        printf("  forces (eV/Å)       component RMS %.6f, max |F| %.6f (%lld/%lld atoms)\n",
               sqrt(st->force_sum_squares / (double)st->force_components), st->force_max,
               (long long)st->forces_atoms, (long long)st->n_atoms);
    else
        printf("  forces (eV/Å)       none\n");
    if (st->stress_frames) {
        printf("  stress (GPa)        mean xx yy zz yz xz xy");
        for (int j = 0; j < 6; j++)
            printf(" %.4f", st->stress_sum_gpa[j] / (double)st->stress_frames);
        printf("; max |component| %.4f\n", st->stress_max_gpa);
    } else {
        printf("  stress (GPa)        none\n");
    }
    if (dataset_has_weight(d) && st->weight.n)
        printf("  weights             min %g, mean %g, max %g\n", st->weight.min, st->weight.mean,
               st->weight.max);
    if (!st->n_config_types) {
        printf("  config types        none (no /name)\n");
        return;
    }
    printf("  config types        %d:", st->n_config_types);
    for (int k = 0; k < st->n_config_types && k < INFO_TEXT_MAX_CONFIG_TYPES; k++)
        printf("%s %s %lld", k ? "," : "",
               st->config_types[k].name[0] ? st->config_types[k].name : "(no name)",
               (long long)st->config_types[k].count);
    if (st->n_config_types > INFO_TEXT_MAX_CONFIG_TYPES)
        printf(", and %d more", st->n_config_types - INFO_TEXT_MAX_CONFIG_TYPES);
    printf("\n");
}

static int dataset_info(int argc, char **argv) {
    static const struct option long_options[] = {{"json", no_argument, 0, 'j'},
                                                 {"cutoff", required_argument, 0, 'c'},
                                                 {"help", no_argument, 0, 'h'},
                                                 {0, 0, 0, 0}};
    const char *cmd = "dataset info";
    int json = 0, c;
    double cutoff = DATASET_INFO_CUTOFF;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'c':
            if (!cli_parse_double(cmd, "--cutoff", optarg, &cutoff))
                return CLI_EXIT_USAGE;
            if (!(cutoff > 0))
                return cli_usage_error(cmd, "--cutoff must be positive");
            break;
        case 'h': fputs(info_help, stdout); return 0;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, "expected one dataset file, got %d names", argc - optind);
    const char *path = argv[optind];
    dataset *d = NULL;
    if (dataset_open(&d, path))
        return cli_fail();
    dataset_stats *st = calloc(1, sizeof *st);
    int n = dataset_n_frames(d), rc = 0;
    double *energy_per_atom = malloc((size_t)(n > 0 ? n : 1) * sizeof *energy_per_atom);
    mlpot_graph *g = NULL;
    if (!st || !energy_per_atom || mlpot_graph_create(&g) || !count_config_types(d, st)) {
        if (!st || !energy_per_atom || !g)
            fprintf(stderr, "mlpot: out of memory\n");
        free(st);
        free(energy_per_atom);
        mlpot_graph_free(g);
        dataset_close(d);
        return CLI_EXIT_FAILURE;
    }
    progress bar;
    progress_start(&bar, n);
    for (int k = 0; k < n && !rc; k++) {
        mlpot_structure *s = NULL;
        /* the check train makes of every frame, so that a file this passes trains */
        if (dataset_read_frame(d, k, &s) || dataset_check_frame(s, cutoff, g, path, k)) {
            progress_end(&bar);
            mlpot_structure_free(s);
            rc = cli_fail();
            break;
        }
        energy_per_atom[k] = s->has_energy ? s->energy / s->n_atoms : NAN;
        add_frame(st, s, dataset_frame_weight(d, k));
        mlpot_structure_free(s);
        progress_show(&bar, k + 1);
    }
    progress_end(&bar);
    if (!rc) {
        int shown[5];
        int n_out = dataset_outliers(energy_per_atom, n, DATASET_OUTLIER_SIGMA, shown, 5);
        for (int k = 0; k < n_out && k < 5; k++)
            fprintf(stderr, "mlpot: warning: %s: frame %d: energy %.6g eV/atom is far outside the "
                            "other frames' (more than %g robust standard deviations from the "
                            "median)\n",
                    path, shown[k], energy_per_atom[shown[k]], DATASET_OUTLIER_SIGMA);
        if (n_out > 5)
            fprintf(stderr, "mlpot: warning: %s: %d more frames like these\n", path, n_out - 5);
        if (json)
            print_info_json(path, d, st);
        else
            print_info_text(path, d, st);
    }
    free(energy_per_atom);
    mlpot_graph_free(g);
    free(st->config_types);
    free(st);
    dataset_close(d);
    return rc;
}

/* =============================================================================================
 * split
 * =========================================================================================== */


/* "0.8,0.1,0.1": 1 on success, else 0 with a usage message printed. */
static int parse_fractions(const char *cmd, const char *text, double *fractions, int *n) {
    double sum = 0;
    *n = 0;
    for (const char *p = text;; p++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char token[64];
        double x = NAN;
        if (len < sizeof token) {
            memcpy(token, p, len);
            token[len] = '\0';
        }
        if (*n == MAX_SPLIT_PARTS) {
            cli_usage_error(cmd, "--fractions: at most %d values", MAX_SPLIT_PARTS);
            return 0;
        }
        if (len >= sizeof token || !parse_double(token, &x) || !(x >= 0 && x <= 1)) {
            cli_usage_error(cmd,
                            "--fractions expects numbers in [0, 1] separated by commas, "
                            "got '%s'",
                            text);
            return 0;
        }
        fractions[(*n)++] = x;
        sum += x;
        if (!comma)
            break;
        p = comma;
    }
    if (*n < 2) {
        cli_usage_error(cmd, "--fractions needs at least two values, got '%s'", text);
        return 0;
    }
    if (fabs(sum - 1) > 1e-6) {
        cli_usage_error(cmd, "--fractions must sum to 1, got %.10g", sum);
        return 0;
    }
    return 1;
}

static int parse_seed(const char *cmd, const char *text, uint64_t *seed) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno) {
        cli_usage_error(cmd, "--seed expects a non-negative integer, got '%s'", text);
        return 0;
    }
    *seed = (uint64_t)value;
    return 1;
}

/* Streams the input once, sending each frame to its part's writer. */
static mlpot_status split_write(dataset *d, const int *part, dataset_writer **writers) {
    int n = dataset_n_frames(d);
    progress bar;
    progress_start(&bar, n);
    mlpot_status st = MLPOT_OK;
    for (int k = 0; !st && k < n; k++) {
        mlpot_structure *s = NULL;
        double weight = dataset_frame_weight(d, k);
        if (!(st = dataset_read_frame(d, k, &s)))
            st = dataset_writer_append_frame(writers[part[k]], s,
                                             dataset_has_names(d) ? dataset_frame_name(d, k) : NULL,
                                             dataset_has_weight(d) ? &weight : NULL);
        mlpot_structure_free(s);
        progress_show(&bar, k + 1);
    }
    progress_end(&bar);
    return st;
}

static int dataset_split(int argc, char **argv) {
    static const struct option long_options[] = {{"fractions", required_argument, 0, 'F'},
                                                 {"seed", required_argument, 0, 's'},
                                                 {"output", required_argument, 0, 'o'},
                                                 {"force", no_argument, 0, 'R'},
                                                 {"help", no_argument, 0, 'h'},
                                                 {0, 0, 0, 0}};
    const char *cmd = "dataset split";
    const char *outputs[MAX_SPLIT_PARTS];
    double fractions[MAX_SPLIT_PARTS];
    int n_outputs = 0, n_fractions = 0, force = 0, c;
    uint64_t seed = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", long_options, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (!parse_fractions(cmd, optarg, fractions, &n_fractions))
                return CLI_EXIT_USAGE;
            break;
        case 's':
            if (!parse_seed(cmd, optarg, &seed))
                return CLI_EXIT_USAGE;
            break;
        case 'o':
            if (n_outputs == MAX_SPLIT_PARTS)
                return cli_usage_error(cmd, "at most %d outputs", MAX_SPLIT_PARTS);
            outputs[n_outputs++] = optarg;
            break;
        case 'R': force = 1; break;
        case 'h': fputs(split_help, stdout); return 0;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, "expected one dataset file, got %d names", argc - optind);
    if (!n_fractions)
        return cli_usage_error(cmd, "--fractions is required");
    if (n_outputs != n_fractions)
        return cli_usage_error(cmd, "%d fractions need %d -o outputs, got %d", n_fractions,
                               n_fractions, n_outputs);
    for (int i = 0; i < n_outputs; i++) {
        if (!is_dataset_path(outputs[i]))
            return cli_usage_error(cmd, "output '%s' is not a dataset name (*.h5, *.hdf5)",
                                   outputs[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(outputs[i], outputs[j]))
                return cli_usage_error(cmd, "output '%s' is given twice", outputs[i]);
        if (!cli_check_output(cmd, outputs[i], CLI_KIND_DATASET, (const char *const *)argv + optind,
                              1, force))
            return CLI_EXIT_FAILURE;
    }
    const char *path = argv[optind];
    dataset *d = NULL;
    if (dataset_open(&d, path))
        return cli_fail();
    int n = dataset_n_frames(d);
    int *part = malloc((size_t)(n ? n : 1) * sizeof *part);
    int64_t counts[MAX_SPLIT_PARTS];
    int rc = 0;
    if (!part) {
        fprintf(stderr, "mlpot: out of memory\n");
        rc = CLI_EXIT_FAILURE;
    } else if (split_assign_parts(n, fractions, n_fractions, seed, part, counts)) {
        rc = cli_fail();
    }
    for (int i = 0; !rc && i < n_outputs; i++)
        if (counts[i] == 0) {
            fprintf(stderr, "mlpot: %s: %d frames give no frame to %s at fraction %g\n", path, n,
                    outputs[i], fractions[i]);
            rc = CLI_EXIT_FAILURE;
        }
    dataset_writer *writers[MAX_SPLIT_PARTS] = {0};
    mlpot_status st = MLPOT_OK;
    for (int i = 0; !rc && !st && i < n_outputs; i++)
        if (!(st = dataset_writer_open(&writers[i], outputs[i])))
            st = dataset_writer_copy_attributes(writers[i], d);
    if (!rc && !st) {
        warn_unknown_objects("split", path, d);
        st = split_write(d, part, writers);
    }
    for (int i = 0; !rc && i < n_outputs; i++) {
        if (!st)
            st = dataset_writer_close(writers[i]);
        else
            dataset_writer_abort(writers[i]);
        writers[i] = NULL;
    }
    if (!rc && st)
        rc = cli_fail();
    if (!rc) {
        fprintf(stderr, "mlpot: wrote");
        for (int i = 0; i < n_outputs; i++)
            fprintf(stderr, "%s %lld frame%s to %s", i ? "," : "", (long long)counts[i],
                    counts[i] == 1 ? "" : "s", outputs[i]);
        fprintf(stderr, "\n");
    }
    free(part);
    dataset_close(d);
    return rc;
}

int cli_dataset(int argc, char **argv) {
    if (argc < 2)
        return cli_usage_error("dataset", "expected a command: convert, info or split");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(dataset_help, stdout);
        return 0;
    }
    if (!strcmp(sub, "convert"))
        return dataset_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "info"))
        return dataset_info(argc - 1, argv + 1);
    if (!strcmp(sub, "split"))
        return dataset_split(argc - 1, argv + 1);
    return cli_usage_error("dataset", "unknown command '%s'; expected convert, info or split", sub);
}
