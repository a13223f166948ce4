/* cli_arch.h — the command-line side of the architecture registry, shared by `model init` and
 * `train`: --arch, one option per architecture hyper-parameter (from the tables, so a new
 * architecture brings its own flags and help), and printing an architecture's values. */
#ifndef MLPOT_CLI_CLI_ARCH_H
#define MLPOT_CLI_CLI_ARCH_H

#include <getopt.h>
#include <stdio.h>

#include "model/model.h"

#define CLI_ARCH_OPTION_BASE 4096 /* getopt codes of architecture options */
#define CLI_ARCH_MAX_OPTIONS 64
#define CLI_ARCH_MAX_VALUES 64

/* Architecture options given before the architecture is known, applied by cli_arch_apply. */
typedef struct {
    int n;
    struct {
        int option; /* index among the distinct flags */
        char value[64];
    } given[CLI_ARCH_MAX_VALUES];
} cli_arch_values;

/* Appends one getopt entry per distinct architecture flag to options[0..*n) (capacity
 * entries, the last kept for the terminating zero entry). */
void cli_arch_add_options(struct option *options, int *n, int capacity);
/* Whether a getopt code is an architecture option; its flag. */
int cli_arch_is_option(int code);
const char *cli_arch_option_flag(int code);
/* Records an architecture option's value; 0 (with a usage message) when there are too many. */
int cli_arch_record(const char *command, cli_arch_values *values, int code, const char *value);
/* Puts an architecture with a command's defaults of its hyper-parameters into hp:
 * model_hparams_set_arch (the tables' defaults, `model init`) or train_arch_defaults. */
typedef void (*cli_arch_setter)(model_hparams *hp, const model_arch_ops *arch);

/* The architecture called `name` with its defaults (set_arch) into hp, then the recorded
 * values; 0 with a usage message naming the option for an unknown architecture, a flag the
 * architecture does not have, or a value that is not a number of its type. */
int cli_arch_apply(const char *command, const char *name, model_hparams *hp,
                   const cli_arch_values *values, cli_arch_setter set_arch);
/* "  --arch A ..." (with `default_arch` when it is not NULL) and one help line per
 * architecture option with its default as set_arch gives it. */
void cli_arch_print_help(FILE *out, const model_arch_ops *default_arch, cli_arch_setter set_arch);
/* ", E 32, M 64" (metavar and value of each of hp's architecture hyper-parameters). */
void cli_arch_print_values(FILE *out, const model_hparams *hp);
/* One "  <help>  <value>" line per architecture hyper-parameter, for `model info`. */
void cli_arch_print_info(FILE *out, const model_hparams *hp);

#endif
