/* cli_convert.c — `mlpot convert IN OUT`: structures between VASP POSCAR and extended XYZ,
 * frame by frame (nothing is held beyond one frame), written atomically. */
#define _GNU_SOURCE
#include <getopt.h>
#include <string.h>

#include "cli/cli_common.h"

static const char *convert_help =
    "usage: mlpot convert IN OUT [--input-format vasp|extxyz|cif]\n"
    "                            [--output-format vasp|extxyz] [--species Si,O] [--force]\n\n"
    "Converts structures between formats; formats come from the file names (POSCAR*,\n"
    "CONTCAR*, *.vasp, *.poscar; *.xyz, *.extxyz; *.cif, read only) unless given. Every\n"
    "frame of IN is written to OUT (a VASP file holds one). Energies, forces, stress and\n"
    "extra per-atom columns are kept in extended XYZ. OUT is written to a temporary file and\n"
    "renamed when complete; '-' writes to standard output. OUT is never IN; an existing OUT\n"
    "that is a model or dataset is replaced only with --force.\n\n"
    "  --input-format F    vasp, extxyz or cif: the format of IN (default: from its name;\n"
    "                      needed for '-', standard input); --from F is the same option\n"
    "  --output-format F   vasp or extxyz: the format of OUT (default: from its name;\n"
    "                      needed for '-'); --to F is the same option\n"
    "  --species Si,O      element symbols for VASP 4 files without a species line\n"
    "  --force             replace an OUT that is a model or dataset\n";

int cli_convert(int argc, char **argv) {
    static const struct option long_options[] = {{"input-format", required_argument, 0, 'f'},
                                                 {"output-format", required_argument, 0, 't'},
                                                 {"from", required_argument, 0, 'f'},
                                                 {"to", required_argument, 0, 't'},
                                                 {"species", required_argument, 0, 'S'},
                                                 {"force", no_argument, 0, 'F'},
                                                 {"help", no_argument, 0, 'h'},
                                                 {0, 0, 0, 0}};
    mlpot_read_options read_opt = {0};
    const char *to = NULL;
    int c, force = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'f': read_opt.format = optarg; break;
        case 't': to = optarg; break;
        case 'S': read_opt.species = optarg; break;
        case 'F': force = 1; break;
        case 'h': fputs(convert_help, stdout); return 0;
        case ':': return cli_usage_error("convert", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("convert", "expected an input and an output file, got %d names",
                               argc - optind);
    const char *in = argv[optind], *out = argv[optind + 1];
    if (!cli_check_structure_format("convert", in, read_opt.format, 0) ||
        !cli_check_structure_format("convert", out, to, 1))
        return CLI_EXIT_USAGE;
    if (!cli_check_output("convert", out, CLI_KIND_STRUCTURE, &in, 1, force))
        return CLI_EXIT_FAILURE;
    mlpot_reader *r = NULL;
    mlpot_writer *w = NULL;
    if (mlpot_reader_open(&r, in, &read_opt))
        return cli_fail();
    if (mlpot_writer_open(&w, out, to)) {
        mlpot_reader_close(r);
        return cli_fail();
    }
    int frames = 0;
    for (;;) {
        mlpot_structure *s = NULL;
        mlpot_status st = mlpot_reader_next(r, &s);
        if (st == MLPOT_OK && !s)
            break;
        if (st == MLPOT_OK)
            st = mlpot_writer_write(w, s);
        mlpot_structure_free(s);
        if (st) {
            mlpot_writer_abort(w);
            mlpot_reader_close(r);
            return cli_fail();
        }
        frames++;
    }
    mlpot_reader_close(r);
    if (frames == 0) {
        mlpot_writer_abort(w);
        fprintf(stderr, "mlpot: %s: expected at least one structure, found none\n", in);
        return CLI_EXIT_FAILURE;
    }
    if (mlpot_writer_close(w))
        return cli_fail();
    if (strcmp(out, "-"))
        fprintf(stderr, "mlpot: wrote %d structure%s to %s\n", frames, frames == 1 ? "" : "s",
                out);
    return 0;
}
