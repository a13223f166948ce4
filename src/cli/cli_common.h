/* cli_common.h — what every subcommand shares: option parsing with clear errors, reporting a
 * failed library call, and a small JSON writer. Subcommands only parse options and call the
 * library. */
#ifndef MLPOT_CLI_COMMON_H
#define MLPOT_CLI_COMMON_H

#include <stdio.h>

#include "io/atomic_file.h"
#include "mlpot/mlpot.h"

#define CLI_EXIT_USAGE 2
#define CLI_EXIT_FAILURE 1

/* Prints "mlpot: <last error>" to stderr and returns CLI_EXIT_FAILURE. */
int cli_fail(void);
/* Prints "mlpot <command>: <message>" and a hint to see --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Strict numeric option values: 1 on success, else an error message is printed. */
int cli_parse_double(const char *command, const char *option, const char *text, double *value);

/* Output of a command: standard output, or a file written to a temporary name and renamed by
 * cli_output_close(out, keep = 1); keep = 0 removes the temporary file. Return 1 on success
 * (else a message has been printed). */
typedef struct {
    FILE *fp;
    char path[4096];
    atomic_file file;
} cli_output;
int cli_output_open(cli_output *out, const char *path);
int cli_output_close(cli_output *out, int keep);
/* The same, written in place as it goes (flush after each record) after its first keep_bytes
 * bytes; keep = 0 keeps it too. */
int cli_output_open_streaming(cli_output *out, const char *path, long keep_bytes);

/* What an output file holds, for cli_check_output. */
typedef enum {
    CLI_KIND_TEXT,      /* CSV logs, JSON, SVG plots */
    CLI_KIND_STRUCTURE, /* VASP, extended XYZ */
    CLI_KIND_MODEL,     /* HDF5 model files and checkpoints */
    CLI_KIND_DATASET,   /* HDF5 datasets */
    CLI_KIND_HDF5       /* another HDF5 file */
} cli_file_kind;
/* Checked before any work, for every output of every command: refuses an output that is one
 * of the command's inputs (the same file by device and inode, whatever the name) and, unless
 * force, an existing file of another kind than the output (a model or dataset, a structure
 * file, any HDF5 file; a text file may be replaced by anything). NULL or "-" outputs pass.
 * Prints "mlpot <command>: ..." and returns 0 when the output is refused. */
int cli_check_output(const char *command, const char *output, cli_file_kind kind,
                     const char *const *inputs, int n_inputs, int force);

/* The format of a structure file, checked before any work: `format` (the value of
 * --input-format, or of --output-format when output) must be one mlpot reads (vasp, extxyz,
 * cif) or writes (vasp, extxyz); without it the file's name must say one ('-' never does).
 * Prints "mlpot <command>: ..." naming --input-format or --output-format and returns 0 when it
 * is unknown; 1 when the file can be read or written. */
int cli_check_structure_format(const char *command, const char *path, const char *format,
                               int output);

/* A trajectory is extended XYZ: a --traj name that says another format (a VASP file holds one
 * structure) is a usage error, printed, returning 0; NULL passes. */
int cli_check_trajectory_name(const char *command, const char *traj);

/* Very large requests are refused before anything is allocated, from an estimate, unless the
 * user says --allow-large: MEMORY_BUDGET_BYTES (1 GiB) is far beyond what the potentials of
 * mlpot need (a 5 Å graph of 10^5 atoms, a model of 10^7 parameters). */
#define CLI_MEMORY_BUDGET_BYTES (1024.0 * 1024.0 * 1024.0)
/* Prints "mlpot <command>: <what> needs about X GB ..." and returns 0 when estimated_bytes is
 * over the budget and allow is 0. */
int cli_check_memory(const char *command, const char *what, double estimated_bytes, int allow);
/* The estimated memory of the neighbour graph of s at `cutoff` (edges from the density of a
 * periodic cell, or every pair of an open structure), bytes. */
double cli_graph_bytes_estimate(const mlpot_structure *s, double cutoff);

/* After an evaluation with c: when the structure lies outside the model's training ranges,
 * prints one line "mlpot: warning: WHERE: extrapolating: ..." to stderr and returns the number
 * of atoms outside; 0 (nothing printed) otherwise. Never an error. */
int cli_warn_extrapolation(const mlpot_calculator *c, const char *where);
#define CLI_EXTRAPOLATION_HELP \
    "  --no-extrapolation-warnings  no warning when a structure lies outside what the model\n" \
    "                      saw in training (shortest distance, neighbour count, readout inputs)\n"

/* JSON output helpers (one object per line). */
void json_string(FILE *fp, const char *text);
void json_number(FILE *fp, double x); /* null for NaN/inf */
void json_key(FILE *fp, int *first, const char *key);

/* The shipped potential whose species cover s (path into `path`); 0 with a message on stderr
 * when there is none. */
int cli_default_potential(const mlpot_structure *s, char *path, size_t size);

/* What `mlpot md` and `mlpot relax` share (cli_simulation.c): the first structure of a file, the
 * model (--model, or the shipped potential that covers the structure, named on stderr) and a
 * calculator. cli_simulation_open sets the OpenMP threads when threads > 0; it returns 1 on
 * success, else 0 with a message printed. */
typedef struct {
    mlpot_structure *structure;
    mlpot_model *model;
    mlpot_calculator *calculator;
    char model_path[4096];
} cli_simulation;
int cli_simulation_open(cli_simulation *sim, const char *path, const char *input_format,
                        const char *model_path, int threads);
void cli_simulation_close(cli_simulation *sim);
/* Strict integer option values in min..max: 1 on success, else a usage message is printed. */
int cli_parse_long(const char *command, const char *option, const char *text, long min,
                   long max, long *value);
/* A trajectory frame with the atoms and cell of s (no labels, info or extra columns), its
 * forces allocated and, with_velocities, a "velocities" column (columns[0]), so that frames
 * can be updated in place. */
mlpot_status cli_frame_create(const mlpot_structure *s, int with_velocities,
                              mlpot_structure **out);
/* Monotonic clock, seconds. */
double cli_seconds(void);

/* Subcommands: argc/argv start at the subcommand's name. */
int cli_info(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_model(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_dataset(int argc, char **argv);
int cli_md(int argc, char **argv);
int cli_relax(int argc, char **argv);
int cli_kim_model(int argc, char **argv);

#endif
