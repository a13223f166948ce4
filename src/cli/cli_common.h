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

/* JSON output helpers (one object per line). */
void json_string(FILE *fp, const char *text);
void json_number(FILE *fp, double x); /* null for NaN/inf */
void json_key(FILE *fp, int *first, const char *key);

/* Subcommands: argc/argv start at the subcommand's name. */
int cli_info(int argc, char **argv);
int cli_convert(int argc, char **argv);

#endif
