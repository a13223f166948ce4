/* cli_common.c — shared helpers of the command-line tool. */
#include "cli/cli_common.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "io/line_reader.h"
#include "io/structure_formats.h"

int cli_fail(void) {
    fprintf(stderr, "mlpot: %s\n", mlpot_last_error());
    return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "mlpot %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'mlpot %s --help')\n", command);
    return CLI_EXIT_USAGE;
}

int cli_parse_double(const char *command, const char *option, const char *text, double *value) {
    if (!parse_double(text, value)) {
        cli_usage_error(command, "%s expects a number, got '%s'", option, text);
        return 0;
    }
    return 1;
}

void json_string(FILE *fp, const char *text) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

void json_number(FILE *fp, double x) {
    if (!isfinite(x)) {
        fputs("null", fp);
        return;
    }
    char buf[32];
    format_double(buf, x);
    fputs(buf, fp);
}

void json_key(FILE *fp, int *first, const char *key) {
    if (!*first)
        fputs(", ", fp);
    *first = 0;
    json_string(fp, key);
    fputs(": ", fp);
}
