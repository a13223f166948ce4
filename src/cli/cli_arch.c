/* cli_arch.c — architecture options of `model init` and `train`, generated from the
 * registry's tables (cli_arch.h). Two architectures that share a hyper-parameter (the same
 * flag) share one option. */
#include "cli/cli_arch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "io/line_reader.h"

/* The distinct flags of all architectures, in registry order; their table entries. */
static int distinct_flags(const arch_hparam **out, int capacity) {
    int n = 0;
    for (int a = 0; a < arch_count(); a++) {
        const model_arch_ops *arch = arch_at(a);
        for (int k = 0; k < arch->n_hparams; k++) {
            int seen = 0;
            for (int j = 0; j < n && !seen; j++)
                seen = !strcmp(out[j]->flag, arch->hparams[k].flag);
            if (!seen && n < capacity)
                out[n++] = &arch->hparams[k];
        }
    }
    return n;
}

void cli_arch_add_options(struct option *options, int *n, int capacity) {
    const arch_hparam *flags[CLI_ARCH_MAX_OPTIONS];
    int count = distinct_flags(flags, CLI_ARCH_MAX_OPTIONS);
    for (int k = 0; k < count && *n + 1 < capacity; k++)
        options[(*n)++] = (struct option){flags[k]->flag, required_argument, 0,
                                          CLI_ARCH_OPTION_BASE + k};
    options[*n] = (struct option){0, 0, 0, 0};
}

int cli_arch_is_option(int code) {
    const arch_hparam *flags[CLI_ARCH_MAX_OPTIONS];
    int count = distinct_flags(flags, CLI_ARCH_MAX_OPTIONS);
    return code >= CLI_ARCH_OPTION_BASE && code < CLI_ARCH_OPTION_BASE + count;
}

const char *cli_arch_option_flag(int code) {
    const arch_hparam *flags[CLI_ARCH_MAX_OPTIONS];
    int count = distinct_flags(flags, CLI_ARCH_MAX_OPTIONS);
    int k = code - CLI_ARCH_OPTION_BASE;
    return k >= 0 && k < count ? flags[k]->flag : "";
}

int cli_arch_record(const char *command, cli_arch_values *values, int code, const char *value) {
    if (values->n == CLI_ARCH_MAX_VALUES) {
        cli_usage_error(command, "too many architecture options");
        return 0;
    }
    if (strlen(value) >= sizeof values->given[0].value) {
        cli_usage_error(command, "--%s: value too long", cli_arch_option_flag(code));
        return 0;
    }
    values->given[values->n].option = code - CLI_ARCH_OPTION_BASE;
    snprintf(values->given[values->n].value, sizeof values->given[0].value, "%s", value);
    values->n++;
    return 1;
}

int cli_arch_apply(const char *command, const char *name, model_hparams *hp,
                   const cli_arch_values *values, cli_arch_setter set_arch) {
    const model_arch_ops *arch = arch_find(name);
    if (!arch) {
        char known[256];
        arch_list_names(known, sizeof known, ", ");
        cli_usage_error(command, "--arch must be one of %s, got '%s'", known, name);
        return 0;
    }
    set_arch(hp, arch);
    for (int v = 0; v < values->n; v++) {
        int code = CLI_ARCH_OPTION_BASE + values->given[v].option;
        const char *flag = cli_arch_option_flag(code), *text = values->given[v].value;
        int k = 0;
        while (k < arch->n_hparams && strcmp(arch->hparams[k].flag, flag))
            k++;
        if (k == arch->n_hparams) {
            cli_usage_error(command, "--%s does not apply to architecture %s", flag, arch->name);
            return 0;
        }
        const arch_hparam *p = &arch->hparams[k];
        double x;
        long integer;
        if (p->type == ARCH_HPARAM_INT) {
            if (!parse_long(text, &integer) || integer < p->min || integer > p->max) {
                cli_usage_error(command, "--%s expects an integer in %.0f..%.0f, got '%s'", flag,
                                p->min, p->max, text);
                return 0;
            }
            x = (double)integer;
        } else if (!parse_double(text, &x) || !(x >= p->min && x <= p->max)) {
            cli_usage_error(command, "--%s expects a number in %g..%g, got '%s'", flag, p->min,
                            p->max, text);
            return 0;
        }
        hp->arch_value[k] = x;
    }
    return 1;
}

static void format_value(char *buf, size_t size, const arch_hparam *p, double x) {
    if (p->type == ARCH_HPARAM_INT)
        snprintf(buf, size, "%.0f", x);
    else
        snprintf(buf, size, "%g", x);
}

void cli_arch_print_help(FILE *out, const model_arch_ops *default_arch, cli_arch_setter set_arch) {
    char known[256];
    arch_list_names(known, sizeof known, "|");
    fprintf(out, "  --arch A             %s", known);
    if (default_arch)
        fprintf(out, " (default %s)", default_arch->name);
    fprintf(out, ":\n");
    for (int a = 0; a < arch_count(); a++)
        fprintf(out, "                         %-8s %s\n", arch_at(a)->name, arch_at(a)->summary);
    const arch_hparam *flags[CLI_ARCH_MAX_OPTIONS];
    int count = distinct_flags(flags, CLI_ARCH_MAX_OPTIONS);
    for (int k = 0; k < count; k++) {
        char option[48], users[160] = "", value[32] = "";
        size_t used = 0;
        snprintf(option, sizeof option, "--%s %s", flags[k]->flag, flags[k]->metavar);
        for (int a = 0; a < arch_count(); a++) {
            const model_arch_ops *arch = arch_at(a);
            for (int j = 0; j < arch->n_hparams; j++)
                if (!strcmp(arch->hparams[j].flag, flags[k]->flag) && used < sizeof users) {
                    used += (size_t)snprintf(users + used, sizeof users - used, "%s%s",
                                             used ? ", " : "", arch->name);
                    if (!value[0]) { /* the default of the first architecture with the flag */
                        model_hparams hp = {0};
                        set_arch(&hp, arch);
                        format_value(value, sizeof value, flags[k], hp.arch_value[j]);
                    }
                }
        }
        if (strlen(option) > 20) /* a long option on a line of its own */
            fprintf(out, "  %s\n  %-20s", option, "");
        else
            fprintf(out, "  %-20s", option);
        fprintf(out, " %s: %s (default %s)\n", users, flags[k]->help, value);
    }
}

void cli_arch_print_values(FILE *out, const model_hparams *hp) {
    for (int k = 0; k < hp->arch->n_hparams; k++) {
        char value[32];
        format_value(value, sizeof value, &hp->arch->hparams[k], hp->arch_value[k]);
        fprintf(out, ", %s %s", hp->arch->hparams[k].metavar, value);
    }
}

void cli_arch_print_info(FILE *out, const model_hparams *hp) {
    for (int k = 0; k < hp->arch->n_hparams; k++) {
        char value[32];
        format_value(value, sizeof value, &hp->arch->hparams[k], hp->arch_value[k]);
        fprintf(out, "  %-19s %s\n", hp->arch->hparams[k].attribute, value);
    }
}
