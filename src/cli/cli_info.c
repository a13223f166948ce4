/* cli_info.c — `mlpot info`: formula, atoms, cell, volume, density, space group and the
 * neighbour statistics at a cutoff, for every structure of every file given. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/elements.h"
#include "core/mat3.h"
#include "io/structure.h"

/* g/cm^3 per amu/Å^3 (1 amu = 1.66053906660e-24 g, 1 Å^3 = 1e-24 cm^3) */
#define AMU_PER_A3_IN_G_PER_CM3 1.66053906660

static const char *info_help =
    "usage: mlpot info FILE... [--cutoff R] [--symprec X] [--input-format vasp|extxyz|cif]\n"
    "                          [--species Si,O] [--json] [--allow-large]\n\n"
    "Describes each structure: formula, number of atoms, cell lengths and angles, volume,\n"
    "density, space group (spglib), and the neighbour graph at the cutoff: edges (directed, as\n"
    "in model.md), neighbours per atom (min/mean/max) and the shortest distance.\n\n"
    "  --cutoff R     neighbour cutoff in Å (default 5)\n"
    "  --symprec X    symmetry tolerance in Å for the space group (default 1e-5)\n"
    "  --input-format F  format of every FILE (default: from each file's name; needed for\n"
    "                 '-', standard input); --format F is the same option (its older name)\n"
    "  --species S    element symbols for VASP 4 files without a species line\n"
    "  --json         one JSON object per structure and line\n"
    "  --allow-large  build a neighbour graph estimated above 1 GB (refused otherwise)\n";

typedef struct {
    double cutoff, symprec;
    int json, allow_large;
} info_options;

typedef struct {
    int64_t n_edges;
    int nmin, nmax;
    double nmean, min_distance;
} neighbor_stats;

static mlpot_status compute_neighbors(const mlpot_structure *s, double cutoff,
                                      neighbor_stats *out) {
    mlpot_graph *g = NULL;
    mlpot_status st = mlpot_graph_create(&g);
    if (st || (st = mlpot_graph_build(g, s, cutoff))) {
        mlpot_graph_free(g);
        return st;
    }
    const int64_t *row = mlpot_graph_row_start(g);
    const double *dist = mlpot_graph_distances(g);
    int n = mlpot_graph_n_atoms(g);
    out->n_edges = mlpot_graph_n_edges(g);
    out->nmin = n ? (int)(row[1] - row[0]) : 0;
    out->nmax = out->nmin;
    for (int i = 0; i < n; i++) {
        int c = (int)(row[i + 1] - row[i]);
        out->nmin = c < out->nmin ? c : out->nmin;
        out->nmax = c > out->nmax ? c : out->nmax;
    }
    out->nmean = n ? (double)out->n_edges / n : 0.0;
    out->min_distance = NAN;
    for (int64_t e = 0; e < out->n_edges; e++)
        if (isnan(out->min_distance) || dist[e] < out->min_distance)
            out->min_distance = dist[e];
    mlpot_graph_free(g);
    return MLPOT_OK;
}

static void cell_parameters(const double *cell, double lengths[3], double angles[3]) {
    for (int k = 0; k < 3; k++)
        lengths[k] = sqrt(vec3_dot(&cell[3 * k], &cell[3 * k]));
    for (int k = 0; k < 3; k++) {
        int a = (k + 1) % 3, b = (k + 2) % 3; /* alpha = angle(b, c), ... */
        double denom = lengths[a] * lengths[b];
        double c = denom > 0 ? vec3_dot(&cell[3 * a], &cell[3 * b]) / denom : 0.0;
        c = c > 1 ? 1 : (c < -1 ? -1 : c);
        angles[k] = denom > 0 ? acos(c) * 180.0 / M_PI : NAN;
    }
}

static int describe(const char *path, int frame, int label_frames, const mlpot_structure *s,
                    const info_options *opt) {
    char formula[1024];
    structure_formula(s, formula, sizeof formula);
    double lengths[3], angles[3];
    cell_parameters(s->cell, lengths, angles);
    int periodic3 = structure_is_periodic3(s);
    double volume = periodic3 ? mlpot_structure_volume(s) : NAN;
    double mass = 0;
    for (int i = 0; i < s->n_atoms; i++)
        mass += element_mass_amu(s->numbers[i]);
    double density = periodic3 ? mass / volume * AMU_PER_A3_IN_G_PER_CM3 : NAN;
    mlpot_spacegroup sg = {0};
    int have_sg = 0;
    if (periodic3) {
        if (mlpot_symmetry_spacegroup(s, opt->symprec, &sg) == MLPOT_OK)
            have_sg = 1;
    }
    neighbor_stats nb;
    char what[4200];
    snprintf(what, sizeof what, "the neighbour graph of %s (frame %d) at %g Å", path, frame + 1,
             opt->cutoff);
    if (!cli_check_memory("info", what, cli_graph_bytes_estimate(s, opt->cutoff),
                          opt->allow_large))
        return CLI_EXIT_FAILURE;
    if (compute_neighbors(s, opt->cutoff, &nb)) {
        fprintf(stderr, "mlpot: %s (frame %d): %s\n", path, frame + 1, mlpot_last_error());
        return CLI_EXIT_FAILURE;
    }
    if (opt->json) {
        FILE *fp = stdout;
        int first = 1;
        fputc('{', fp);
        json_key(fp, &first, "file");
        json_string(fp, path);
        json_key(fp, &first, "frame");
        fprintf(fp, "%d", frame);
        json_key(fp, &first, "n_atoms");
        fprintf(fp, "%d", s->n_atoms);
        json_key(fp, &first, "formula");
        json_string(fp, formula);
        json_key(fp, &first, "pbc");
        fprintf(fp, "[%s, %s, %s]", s->pbc[0] ? "true" : "false", s->pbc[1] ? "true" : "false",
                s->pbc[2] ? "true" : "false");
        json_key(fp, &first, "cell");
        fputc('[', fp);
        for (int k = 0; k < 9; k++) {
            fputs(k == 0 ? "[" : (k % 3 == 0 ? "], [" : ", "), fp);
            json_number(fp, s->cell[k]);
        }
        fputs("]]", fp);
        json_key(fp, &first, "cell_lengths");
        fprintf(fp, "[");
        for (int k = 0; k < 3; k++) {
            json_number(fp, lengths[k]);
            fputs(k < 2 ? ", " : "]", fp);
        }
        json_key(fp, &first, "cell_angles");
        fprintf(fp, "[");
        for (int k = 0; k < 3; k++) {
            json_number(fp, angles[k]);
            fputs(k < 2 ? ", " : "]", fp);
        }
        json_key(fp, &first, "volume");
        json_number(fp, volume);
        json_key(fp, &first, "density");
        json_number(fp, density);
        json_key(fp, &first, "spacegroup_number");
        if (have_sg)
            fprintf(fp, "%d", sg.number);
        else
            fputs("null", fp);
        json_key(fp, &first, "spacegroup_symbol");
        if (have_sg)
            json_string(fp, sg.symbol);
        else
            fputs("null", fp);
        json_key(fp, &first, "symprec");
        json_number(fp, opt->symprec);
        json_key(fp, &first, "cutoff");
        json_number(fp, opt->cutoff);
        json_key(fp, &first, "n_edges");
        fprintf(fp, "%lld", (long long)nb.n_edges);
        json_key(fp, &first, "neighbors_min");
        fprintf(fp, "%d", nb.nmin);
        json_key(fp, &first, "neighbors_mean");
        json_number(fp, nb.nmean);
        json_key(fp, &first, "neighbors_max");
        fprintf(fp, "%d", nb.nmax);
        json_key(fp, &first, "min_distance");
        json_number(fp, nb.min_distance);
        fputs("}\n", fp);
        return 0;
    }
    if (label_frames)
        printf("%s, frame %d\n", path, frame + 1);
    else
        printf("%s\n", path);
    printf("  formula             %s\n", formula);
    printf("  atoms               %d\n", s->n_atoms);
    printf("  periodic            %s %s %s\n", s->pbc[0] ? "T" : "F", s->pbc[1] ? "T" : "F",
           s->pbc[2] ? "T" : "F");
    if (lengths[0] > 0 || lengths[1] > 0 || lengths[2] > 0) {
        printf("  cell lengths (Å)    %.6f %.6f %.6f\n", lengths[0], lengths[1], lengths[2]);
        printf("  cell angles (°)    ");
        for (int k = 0; k < 3; k++) { /* an angle with a zero-length vector is not defined */
            if (isnan(angles[k]))
                printf(" -");
            else
                printf(" %.4f", angles[k]);
        }
        printf("\n");
    } else {
        printf("  cell                none\n");
    }
    if (periodic3) {
        printf("  volume (Å^3)        %.4f (%.4f per atom)\n", volume,
               s->n_atoms ? volume / s->n_atoms : 0.0);
        printf("  density (g/cm^3)    %.4f\n", density);
        if (have_sg)
            printf("  space group         %s (%d) at symprec %g Å\n", sg.symbol, sg.number,
                   opt->symprec);
        else
            printf("  space group         not found: %s\n", mlpot_last_error());
    } else {
        printf("  volume              none (not periodic in three directions)\n");
        printf("  space group         none (not periodic in three directions)\n");
    }
    printf("  cutoff (Å)          %g\n", opt->cutoff);
    printf("  edges               %lld (directed)\n", (long long)nb.n_edges);
    printf("  neighbours          min %d, mean %.3f, max %d\n", nb.nmin, nb.nmean, nb.nmax);
    if (isnan(nb.min_distance))
        printf("  shortest distance   none within the cutoff\n");
    else
        printf("  shortest distance   %.6f Å\n", nb.min_distance);
    return 0;
}

int cli_info(int argc, char **argv) {
    static const struct option long_options[] = {
        {"cutoff", required_argument, 0, 'c'}, {"symprec", required_argument, 0, 's'},
        {"input-format", required_argument, 0, 'f'}, {"format", required_argument, 0, 'f'},
        {"species", required_argument, 0, 'S'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {"allow-large", no_argument, 0, 'L'},  {0, 0, 0, 0}};
    info_options opt = {.cutoff = 5.0, .symprec = 1e-5};
    mlpot_read_options read_opt = {0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (!cli_parse_double("info", "--cutoff", optarg, &opt.cutoff))
                return CLI_EXIT_USAGE;
            if (!(opt.cutoff > 0))
                return cli_usage_error("info", "--cutoff must be positive, got %s", optarg);
            break;
        case 's':
            if (!cli_parse_double("info", "--symprec", optarg, &opt.symprec))
                return CLI_EXIT_USAGE;
            if (!(opt.symprec > 0))
                return cli_usage_error("info", "--symprec must be positive, got %s", optarg);
            break;
        case 'f': read_opt.format = optarg; break;
        case 'S': read_opt.species = optarg; break;
        case 'j': opt.json = 1; break;
        case 'L': opt.allow_large = 1; break;
        case 'h': fputs(info_help, stdout); return 0;
        case ':': return cli_usage_error("info", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("info", "expected at least one structure file");
    for (int a = optind; a < argc; a++)
        if (!cli_check_structure_format("info", argv[a], read_opt.format, 0))
            return CLI_EXIT_USAGE;
    int status = 0;
    for (int a = optind; a < argc; a++) {
        mlpot_reader *r = NULL;
        if (mlpot_reader_open(&r, argv[a], &read_opt))
            return cli_fail();
        const char *format = read_opt.format ? read_opt.format : mlpot_format_from_path(argv[a]);
        int label_frames = format && (!strcmp(format, "extxyz") || !strcmp(format, "cif"));
        for (int frame = 0;; frame++) {
            mlpot_structure *s = NULL;
            if (mlpot_reader_next(r, &s)) {
                mlpot_reader_close(r);
                return cli_fail();
            }
            if (!s) {
                if (frame == 0) {
                    mlpot_reader_close(r);
                    fprintf(stderr, "mlpot: %s: expected at least one structure, found none\n",
                            argv[a]);
                    return CLI_EXIT_FAILURE;
                }
                break;
            }
            int rc = describe(argv[a], frame, label_frames, s, &opt);
            mlpot_structure_free(s);
            if (rc) {
                status = rc;
                break;
            }
        }
        mlpot_reader_close(r);
        if (status)
            return status;
    }
    return status;
}
