/* main.c — the mlpot command: dispatches to one subcommand per file (cli_*.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_common.h"
#include "io/atomic_file.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cli_info, "describe structures: formula, cell, density, space group, neighbours"},
    {"convert", cli_convert, "convert structures between VASP POSCAR and extended XYZ"},
    {"predict", cli_predict, "energy, forces and stress of structures with a potential"},
    {"train", cli_train, "fit a potential to an HDF5 dataset (with checkpoints and resume)"},
    {"eval", cli_eval, "errors of a potential on labelled data, parity plots (SVG)"},
    {"model", cli_model, "create (init) or describe (info) model files"},
    {"dataset", cli_dataset, "training datasets (HDF5): convert, info, split"},
    {"md", cli_md, "molecular dynamics: NVE, Langevin or Nose-Hoover NVT"},
    {"relax", cli_relax, "relax positions (and the cell) with FIRE, optionally keeping symmetry"},
    {"kim-model", cli_kim_model, "turn a model file into a KIM portable model (LAMMPS)"},
};

static void print_help(FILE *fp) {
    fprintf(fp, "usage: mlpot <command> [options]\n\n"
                "Crystal-graph neural-network interatomic potentials.\n\ncommands:\n");
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        fprintf(fp, "  %-10s %s\n", commands[k].name, commands[k].summary);
    fprintf(fp, "\n'mlpot <command> --help' describes a command.\n"
                "  --help       this text\n  --version    print the version\n");
}

/* Output lost on standard output (a full disk, `> /dev/full`, a closed pipe) is a failure too:
 * every command's exit status checks it. */
static int cli_finish_stdout(int status) {
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && status == 0) {
        fprintf(stderr, "mlpot: <stdout>: write error: %s\n",
                errno ? strerror(errno) : "output lost");
        return CLI_EXIT_FAILURE;
    }
    return status;
}

int main(int argc, char **argv) {
    /* a batch system's wall time (SIGTERM), ^C or a closed terminal: no temporary files left */
    atomic_file_install_signal_cleanup();
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("mlpot %s\n", mlpot_version_string());
        return 0;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(argv[1], commands[k].name))
            return cli_finish_stdout(commands[k].run(argc - 1, argv + 1));
    fprintf(stderr, "mlpot: unknown command '%s' (see 'mlpot --help')\n", argv[1]);
    return CLI_EXIT_USAGE;
}
