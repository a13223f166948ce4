/* cli_kim_model.c — `mlpot kim-model MODEL NAME -o DIR`: turns a model file into the source
 * directory of a KIM portable model (DIR/NAME: a CMakeLists.txt and a copy of the model file)
 * for mlpot's KIM model driver (interfaces/kim), ready for kim-api-collections-management. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_common.h"
#include "core/elements.h"

/* The KIM name of the driver: the project name in interfaces/kim/CMakeLists.txt. */
#define KIM_DRIVER_NAME "mlpot__MD_000000000000_000"

static const char *kim_model_help =
    "usage: mlpot kim-model MODEL NAME [-o DIR] [--driver NAME] [--force]\n\n"
    "Writes DIR/NAME (default DIR: .), the source of a KIM portable model that evaluates the\n"
    "mlpot model file MODEL through mlpot's KIM model driver: a CMakeLists.txt and a copy\n"
    "of MODEL. Install the driver first, then the model, e.g.\n"
    "  kim-api-collections-management install user interfaces/kim\n"
    "  kim-api-collections-management install user DIR/NAME\n"
    "and use it in LAMMPS with 'kim init NAME metal' and 'kim interactions Si'.\n\n"
    "NAME is a KIM item name: letters, digits and underscores, starting with a letter, e.g.\n"
    "Si_mlpot_cgcnn__MO_000000000000_000 (the OpenKIM form Prefix__MO_<12 digits>_<3 digits>\n"
    "is not required for models installed from a directory).\n\n"
    "  -o DIR          parent directory of the model's directory (created if missing)\n"
    "  --driver NAME   the driver's KIM name (default " KIM_DRIVER_NAME ")\n"
    "  --force         write into DIR/NAME even if it exists\n";

/* A KIM item name is a C identifier (the KIM CMake macros insist on it); a leading underscore
 * is refused as well, since such names are reserved in C. */
static int is_kim_name(const char *name) {
    if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return strlen(name) <= 200;
}

/* The model file's name inside the portable model: its own name when CMake can take it
 * verbatim, else "model.h5". */
static const char *parameter_file_name(const char *model_path) {
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    if (!*base)
        return "model.h5";
    for (const char *p = base; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return "model.h5";
    return base;
}

static int make_directory(const char *path, int must_be_new) {
    if (mkdir(path, 0777) == 0)
        return 1;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!must_be_new)
            return 1;
        fprintf(stderr, "mlpot: %s: already exists (use --force to write into it)\n", path);
        return 0;
    }
    fprintf(stderr, "mlpot: %s: cannot create directory: %s\n", path, strerror(errno));
    return 0;
}

/* Byte-for-byte copy, so that the portable model carries the model file with its provenance. */
static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (!in) {
        fprintf(stderr, "mlpot: %s: cannot open: %s\n", from, strerror(errno));
        return 0;
    }
    cli_output out;
    if (!cli_output_open(&out, to)) {
        fclose(in);
        return 0;
    }
    char buffer[1 << 16];
    size_t n;
    int ok = 1;
    while (ok && (n = fread(buffer, 1, sizeof buffer, in)) > 0)
        ok = fwrite(buffer, 1, n, out.fp) == n;
    if (ferror(in)) {
        fprintf(stderr, "mlpot: %s: read error\n", from);
        ok = 0;
    }
    fclose(in);
    return cli_output_close(&out, ok) && ok;
}

static int write_cmake_lists(const char *path, const char *name, const char *driver,
                             const char *parameter_file, const mlpot_model *m) {
    cli_output out;
    if (!cli_output_open(&out, path))
        return 0;
    FILE *fp = out.fp;
    fprintf(fp, "# KIM portable model %s, written by `mlpot kim-model`.\n"
                "# Parameter file: the mlpot model file %s\n"
                "# (%s, species", name, parameter_file, mlpot_model_architecture(m));
    const int *species = mlpot_model_species(m);
    for (int k = 0; k < mlpot_model_n_species(m); k++)
        fprintf(fp, " %s", element_symbol(species[k]));
    fprintf(fp, ", cutoff %g Å, %d layers: influence distance %g Å).\n"
                "# Model driver: %s. Install the driver, then this directory:\n"
                "#   kim-api-collections-management install user <this directory>\n",
            mlpot_model_cutoff(m), mlpot_model_n_layers(m),
            mlpot_model_n_layers(m) * mlpot_model_cutoff(m), driver);
    fprintf(fp, "cmake_minimum_required(VERSION 3.10)\n\n"
                "list(APPEND CMAKE_PREFIX_PATH $ENV{KIM_API_CMAKE_PREFIX_DIR})\n"
                "find_package(KIM-API-ITEMS 2.2 REQUIRED CONFIG)\n"
                "kim_api_items_setup_before_project(ITEM_TYPE \"portableModel\")\n"
                "project(%s)\n"
                "kim_api_items_setup_after_project(ITEM_TYPE \"portableModel\")\n\n"
                "add_kim_api_model_library(\n"
                "  NAME ${PROJECT_NAME}\n"
                "  DRIVER_NAME \"%s\"\n"
                "  PARAMETER_FILES \"%s\")\n",
            name, driver, parameter_file);
    int ok = !ferror(fp);
    return cli_output_close(&out, ok) && ok;
}

int cli_kim_model(int argc, char **argv) {
    static const struct option long_options[] = {{"output", required_argument, 0, 'o'},
                                                 {"driver", required_argument, 0, 'd'},
                                                 {"force", no_argument, 0, 'f'},
                                                 {"help", no_argument, 0, 'h'},
                                                 {0, 0, 0, 0}};
    const char *dir = ".", *driver = KIM_DRIVER_NAME;
    int force = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'd': driver = optarg; break;
        case 'f': force = 1; break;
        case 'h': fputs(kim_model_help, stdout); return 0;
        case ':':
            return cli_usage_error("kim-model", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("kim-model", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("kim-model", "expected a model file and a KIM name, got %d "
                               "arguments", argc - optind);
    const char *model_path = argv[optind], *name = argv[optind + 1];
    if (!is_kim_name(name))
        return cli_usage_error("kim-model", "'%s' is not a KIM item name: use letters, digits and "
                               "underscores, starting with a letter (at most 200), e.g. "
                               "Si_mlpot__MO_000000000000_000", name);
    if (!is_kim_name(driver))
        return cli_usage_error("kim-model", "'%s' is not a KIM item name (--driver)", driver);
    if (!strcmp(name, driver))
        return cli_usage_error("kim-model", "the model cannot have the driver's name '%s'", name);

    mlpot_model *m = NULL;
    if (mlpot_model_load(&m, model_path))
        return cli_fail();
    const char *parameter_file = parameter_file_name(model_path);
    size_t size = strlen(dir) + strlen(name) + strlen(parameter_file) + 32;
    char *item_dir = malloc(size), *path = malloc(size);
    int ok = item_dir && path;
    if (ok) {
        snprintf(item_dir, size, "%s/%s", dir, name);
        ok = make_directory(dir, 0) && make_directory(item_dir, !force);
    }
    if (ok) {
        snprintf(path, size, "%s/%s", item_dir, parameter_file);
        ok = copy_file(model_path, path);
    }
    if (ok) {
        snprintf(path, size, "%s/CMakeLists.txt", item_dir);
        ok = write_cmake_lists(path, name, driver, parameter_file, m);
    }
    if (ok)
        fprintf(stderr, "mlpot: wrote KIM portable model %s (driver %s, influence distance %g Å) "
                        "to %s\nmlpot: install it with: kim-api-collections-management install "
                        "user %s\n",
                name, driver, mlpot_model_n_layers(m) * mlpot_model_cutoff(m), item_dir,
                item_dir);
    else if (!item_dir || !path)
        fprintf(stderr, "mlpot: out of memory\n");
    free(item_dir);
    free(path);
    mlpot_model_free(m);
    return ok ? 0 : CLI_EXIT_FAILURE;
}
