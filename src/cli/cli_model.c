/* cli_model.c — `mlpot model init` (a randomly initialised model file, for tests, benchmarks
 * and as the start of training), `mlpot model info` (what a model file holds) and
 * `mlpot model describe` (set the description of a trained model, e.g. for a model card). */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_arch.h"
#include "cli/cli_common.h"
#include "core/elements.h"
#include "io/line_reader.h"
#include "model/model.h"
#include "model/model_file.h"

static const char *model_help_head =
    "usage: mlpot model init --arch A --species Si,O --cutoff R [options] -o FILE\n"
    "       mlpot model info FILE\n"
    "       mlpot model describe FILE TEXT [-o OUT [--force]]\n\n"
    "init creates a randomly initialised model (Glorot-uniform weights, N(0,1) embeddings,\n"
    "zero biases unless --bias-std) with these hyper-parameters (model.md):\n";

static const char *model_help =
    "  --species LIST       elements, e.g. Si,O (stored in ascending atomic number)\n"
    "  --cutoff R           r_c in Å\n"
    "  --features F         node feature width (default 64)\n"
    "  --layers L           message-passing layers (default 3)\n"
    "  --basis K            Gaussian basis functions (default 32)\n"
    "  --readout-hidden H   hidden width of the readout (default 64)\n"
    "  --envelope-p P       envelope exponent (default 6)\n"
    "  --avg-neighbors X    n_avg normalising message sums (default 24; training sets it)\n"
    "  --energy-scale X     (default 1)    --energy-shift X  (default 0), eV\n"
    "  --bias-std X         draw biases and species energies from N(0, X^2) (default 0)\n"
    "  --seed S             random seed (default 0)\n"
    "  --description TEXT   free text stored in the file\n"
    "  -o FILE              output model file (written atomically)\n"
    "  --force              replace FILE even if it is a dataset or structure file\n"
    "  --allow-large        create a model estimated above 1 GB (refused otherwise)\n"
    "info prints the architecture, hyper-parameters, species, parameter count, description\n"
    "and training provenance of a model file.\n"
    "describe sets the description (what the model is for and what it is not) and writes\n"
    "the file back (or to OUT), atomically; weights and training provenance are kept.\n";

static void print_model_help(FILE *out) {
    fputs(model_help_head, out);
    cli_arch_print_help(out, NULL, model_hparams_set_arch);
    fputs(model_help, out);
}

static int parse_int_option(const char *option, const char *text, int *value) {
    long v;
    if (!parse_long(text, &v) || v < INT_MIN || v > INT_MAX) {
        cli_usage_error("model init", "%s expects an integer, got '%s'", option, text);
        return 0;
    }
    *value = (int)v;
    return 1;
}

static int parse_species(const char *text, model_hparams *hp) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    int z[MODEL_MAX_SPECIES], n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int e = element_from_symbol(tok);
        if (!e) {
            cli_usage_error("model init", "--species: unknown element '%s'", tok);
            return 0;
        }
        for (int k = 0; k < n; k++)
            if (z[k] == e) {
                cli_usage_error("model init", "--species: %s given twice", tok);
                return 0;
            }
        if (n == MODEL_MAX_SPECIES)
            return 0;
        z[n++] = e;
    }
    if (n == 0) {
        cli_usage_error("model init", "--species needs at least one element");
        return 0;
    }
    /* ascending atomic numbers (formats.md) */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && z[b - 1] > z[b]; b--) {
            int t = z[b];
            z[b] = z[b - 1];
            z[b - 1] = t;
        }
    hp->n_species = n;
    memcpy(hp->species, z, (size_t)n * sizeof *z);
    return 1;
}

static int model_init(int argc, char **argv) {
    enum { O_ARCH = 256, O_SPECIES, O_CUTOFF, O_FEATURES, O_LAYERS, O_BASIS, O_READOUT,
           O_ENVP, O_AVG, O_SCALE, O_SHIFT, O_BIAS, O_SEED, O_DESC, O_FORCE, O_ALLOW_LARGE };
    static const struct option base_options[] = {
        {"arch", required_argument, 0, O_ARCH},
        {"species", required_argument, 0, O_SPECIES},
        {"cutoff", required_argument, 0, O_CUTOFF},
        {"features", required_argument, 0, O_FEATURES},
        {"layers", required_argument, 0, O_LAYERS},
        {"basis", required_argument, 0, O_BASIS},
        {"readout-hidden", required_argument, 0, O_READOUT},
        {"envelope-p", required_argument, 0, O_ENVP},
        {"avg-neighbors", required_argument, 0, O_AVG},
        {"energy-scale", required_argument, 0, O_SCALE},
        {"energy-shift", required_argument, 0, O_SHIFT},
        {"bias-std", required_argument, 0, O_BIAS},
        {"seed", required_argument, 0, O_SEED},
        {"description", required_argument, 0, O_DESC},
        {"output", required_argument, 0, 'o'},
        {"force", no_argument, 0, O_FORCE},
        {"allow-large", no_argument, 0, O_ALLOW_LARGE},
        {"help", no_argument, 0, 'h'}};
    struct option long_options[sizeof base_options / sizeof base_options[0] + CLI_ARCH_MAX_OPTIONS];
    int n_options = (int)(sizeof base_options / sizeof base_options[0]);
    memcpy(long_options, base_options, sizeof base_options);
    cli_arch_add_options(long_options, &n_options,
                         (int)(sizeof long_options / sizeof long_options[0]));
    model_hparams hp = {.n_layers = 3, .n_features = 64, .n_basis = 32, .readout_hidden = 64,
                        .envelope_p = 6, .avg_neighbors = 24.0, .energy_scale = 1.0};
    cli_arch_values arch_values = {0};
    const char *arch = NULL, *output = NULL, *description = NULL;
    int have_species = 0, have_cutoff = 0, force = 0, allow_large = 0;
    double bias_std = 0;
    long seed = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", long_options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case O_ARCH: arch = optarg; break;
        case O_SPECIES: ok = have_species = parse_species(optarg, &hp); break;
        case O_CUTOFF: ok = have_cutoff = cli_parse_double("model init", "--cutoff", optarg,
                                                           &hp.cutoff); break;
        case O_FEATURES: ok = parse_int_option("--features", optarg, &hp.n_features); break;
        case O_LAYERS: ok = parse_int_option("--layers", optarg, &hp.n_layers); break;
        case O_BASIS: ok = parse_int_option("--basis", optarg, &hp.n_basis); break;
        case O_READOUT: ok = parse_int_option("--readout-hidden", optarg, &hp.readout_hidden); break;
        case O_ENVP: ok = parse_int_option("--envelope-p", optarg, &hp.envelope_p); break;
        case O_AVG: ok = cli_parse_double("model init", "--avg-neighbors", optarg,
                                          &hp.avg_neighbors); break;
        case O_SCALE: ok = cli_parse_double("model init", "--energy-scale", optarg,
                                            &hp.energy_scale); break;
        case O_SHIFT: ok = cli_parse_double("model init", "--energy-shift", optarg,
                                            &hp.energy_shift); break;
        case O_BIAS: ok = cli_parse_double("model init", "--bias-std", optarg, &bias_std); break;
        case O_SEED:
            if (!parse_long(optarg, &seed) || seed < 0)
                return cli_usage_error("model init", "--seed expects a non-negative integer");
            break;
        case O_DESC: description = optarg; break;
        case 'o': output = optarg; break;
        case O_FORCE: force = 1; break;
        case O_ALLOW_LARGE: allow_large = 1; break;
        case 'h': print_model_help(stdout); return 0;
        case ':':
            return cli_usage_error("model init", "option '%s' needs a value", argv[optind - 1]);
        default:
            if (!cli_arch_is_option(c))
                return cli_usage_error("model init", "unknown option '%s'", argv[optind - 1]);
            ok = cli_arch_record("model init", &arch_values, c, optarg);
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("model init", "unexpected argument '%s'", argv[optind]);
    if (!arch || !have_species || !have_cutoff || !output)
        return cli_usage_error("model init", "--arch, --species, --cutoff and -o are required");
    if (!cli_check_output("model init", output, CLI_KIND_MODEL, NULL, 0, force))
        return CLI_EXIT_FAILURE;
    if (!cli_arch_apply("model init", arch, &hp, &arch_values, model_hparams_set_arch))
        return CLI_EXIT_USAGE;
    if (!(bias_std >= 0))
        return cli_usage_error("model init", "--bias-std must be >= 0");
    /* the size from the layout alone, before allocating (--features 4096 --layers 32 asked
     * for 17 GB): the parameters, their file image and the optimiser's and gradient copies */
    tensor_table layout;
    if (model_layout(&hp, &layout))
        return cli_fail();
    size_t n_params = layout.n_params;
    free(layout.tensors);
    char what[96];
    snprintf(what, sizeof what, "a model of %zu parameters", n_params);
    if (!cli_check_memory("model init", what, 2.0 * 8.0 * (double)n_params, allow_large))
        return CLI_EXIT_FAILURE;
    mlpot_model *m = NULL;
    if (model_create(&hp, &m))
        return cli_fail();
    model_init_random(m, (unsigned long long)seed);
    if (bias_std > 0)
        model_randomize_biases(m, (unsigned long long)seed, bias_std);
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%ld", seed);
    mlpot_status st = MLPOT_OK;
    if (description && !(m->description = strdup(description)))
        st = MLPOT_ERR_MEMORY;
    if (!st)
        st = model_set_training_attribute(m, "created_by", "mlpot model init");
    if (!st)
        st = model_set_training_attribute(m, "seed", seed_text);
    if (!st)
        st = mlpot_model_save(m, output);
    if (st) {
        mlpot_model_free(m);
        return cli_fail();
    }
    fprintf(stderr, "mlpot: wrote %s model with %zu parameters to %s\n", arch, m->n_params, output);
    mlpot_model_free(m);
    return 0;
}

static int model_info(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            print_model_help(stdout);
            return 0;
        }
        return cli_usage_error("model info", "expected exactly one model file");
    }
    mlpot_model *m = NULL;
    if (mlpot_model_load(&m, argv[1]))
        return cli_fail();
    const model_hparams *hp = &m->hp;
    printf("%s\n", argv[1]);
    printf("  architecture        %s\n", hp->arch->name);
    printf("  species            ");
    for (int k = 0; k < hp->n_species; k++)
        printf(" %s", element_symbol(hp->species[k]));
    printf("\n  cutoff (Å)          %g\n", hp->cutoff);
    printf("  layers              %d\n", hp->n_layers);
    printf("  node features       %d\n", hp->n_features);
    cli_arch_print_info(stdout, hp);
    printf("  Gaussian basis      %d\n", hp->n_basis);
    printf("  envelope p          %d\n", hp->envelope_p);
    printf("  readout hidden      %d\n", hp->readout_hidden);
    printf("  avg neighbours      %g\n", hp->avg_neighbors);
    printf("  energy scale, shift %g, %g eV\n", hp->energy_scale, hp->energy_shift);
    printf("  parameters          %zu\n", m->n_params);
    char sha[65];
    model_file_parameters_sha256(m, sha);
    printf("  parameters_sha256   %s (%s)\n", sha,
           model_file_has_parameters_sha256(argv[1]) ? "verified against the file"
                                                     : "computed; the file stores none");
    printf("  description         %s\n", m->description && m->description[0] ? m->description
                                                                                : "(none)");
    if (m->n_training) {
        printf("  training\n");
        for (int k = 0; k < m->n_training; k++)
            printf("    %-18s %s\n", m->training[k].key, m->training[k].value);
    }
    const model_ranges *r = m->ranges;
    printf("  training ranges     %s\n", r ? "per species, for extrapolation warnings"
                                         : "(none: no extrapolation warnings)");
    for (int k = 0; r && k < hp->n_species; k++)
        printf("    %-18s shortest neighbour distance %.4f Å, %g to %g neighbours\n",
               element_symbol(hp->species[k]), r->min_distance[k], r->neighbors_min[k],
               r->neighbors_max[k]);
    mlpot_model_free(m);
    return 0;
}

static int model_describe(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        print_model_help(stdout);
        return 0;
    }
    const char *output = NULL;
    int force = argc > 3 && !strcmp(argv[argc - 1], "--force");
    argc -= force;
    if (argc == 5 && !strcmp(argv[3], "-o"))
        output = argv[4];
    else if (argc != 3)
        return cli_usage_error("model describe", "expected FILE TEXT [-o OUT [--force]]");
    /* OUT may be FILE (the same as no -o); it may not replace a file of another kind */
    if (!cli_check_output("model describe", output, CLI_KIND_MODEL, NULL, 0, force))
        return CLI_EXIT_FAILURE;
    if (argv[1][0] == '-')
        return cli_usage_error("model describe", "expected a model file, got '%s'", argv[1]);
    mlpot_model *m = NULL;
    if (mlpot_model_load(&m, argv[1]))
        return cli_fail();
    char *text = strdup(argv[2]);
    if (!text) {
        mlpot_model_free(m);
        fprintf(stderr, "mlpot model describe: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    free(m->description);
    m->description = text;
    int rc = 0;
    if (mlpot_model_save(m, output ? output : argv[1]))
        rc = cli_fail();
    else
        fprintf(stderr, "mlpot: wrote the description to %s\n", output ? output : argv[1]);
    mlpot_model_free(m);
    return rc;
}

int cli_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_model_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "init"))
        return model_init(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info"))
        return model_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "describe"))
        return model_describe(argc - 1, argv + 1);
    return cli_usage_error("model", "unknown subcommand '%s' (init, info or describe)", argv[1]);
}
