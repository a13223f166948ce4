/* main.c — the mlpot command: dispatches to one subcommand per file (cli_*.c). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "io/atomic_file.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int logs; /* prints a line per epoch, step or file as it goes (see line_buffered_logs) */
} command;

static const command commands[] = {
    {"info", cli_info, "describe structures: formula, cell, density, space group, neighbours", 0},
    {"convert", cli_convert, "convert structures between VASP POSCAR and extended XYZ", 0},
    {"predict", cli_predict, "energy, forces and stress of structures with a potential", 0},
    {"train", cli_train, "fit a potential to an HDF5 dataset (with checkpoints and resume)", 1},
    {"eval", cli_eval, "errors of a potential on labelled data, parity plots (SVG)", 0},
    {"model", cli_model, "create (init) or describe (info) model files", 0},
    {"dataset", cli_dataset, "training datasets (HDF5): convert, info, split", 1},
    {"md", cli_md, "molecular dynamics: NVE, Langevin or Nose-Hoover NVT", 1},
    {"relax", cli_relax, "relax positions (and the cell) with FIRE, optionally keeping symmetry",
     1},
    {"kim-model", cli_kim_model, "turn a model file into a KIM portable model (LAMMPS)", 0},
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

/* Commands that run for minutes or hours write whole lines as they come when their output goes
 * to a file or a pipe (`mlpot train ... > log; tail -f log`), not a block of 4 KiB at a time;
 * a terminal is line-buffered (stdout) or unbuffered (stderr, for the progress bars) already.
 * Commands whose output is data (predict, convert to '-') keep the faster full buffering. */
static void line_buffered_logs(void) {
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    if (!isatty(STDERR_FILENO))
        setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
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
        if (!strcmp(argv[1], commands[k].name)) {
            if (commands[k].logs)
                line_buffered_logs();
            return cli_finish_stdout(commands[k].run(argc - 1, argv + 1));
        }
    fprintf(stderr, "mlpot: unknown command '%s' (see 'mlpot --help')\n", argv[1]);
    return CLI_EXIT_USAGE;
}
