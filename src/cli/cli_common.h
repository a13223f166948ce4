/* cli_common.h — what every subcommand shares: option parsing with clear errors, reporting a
 * failed library call, and a small JSON writer. Subcommands only parse options and call the
 * library. */
#ifndef MLPOT_CLI_COMMON_H
#define MLPOT_CLI_COMMON_H

#include <stdio.h>

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
    char tmp[4200];
} cli_output;
int cli_output_open(cli_output *out, const char *path);
int cli_output_close(cli_output *out, int keep);

/* JSON output helpers (one object per line). */
void json_string(FILE *fp, const char *text);
void json_number(FILE *fp, double x); /* null for NaN/inf */
void json_key(FILE *fp, int *first, const char *key);

/* The shipped potential whose species cover s (path into `path`); 0 with a message on stderr
 * when there is none. */
int cli_default_potential(const mlpot_structure *s, char *path, size_t size);

/* Subcommands: argc/argv start at the subcommand's name. */
int cli_info(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_model(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_dataset(int argc, char **argv);

#endif
