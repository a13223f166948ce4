/* cli_common.c — shared helpers of the command-line tool. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

int cli_output_open(cli_output *out, const char *path) {
    memset(out, 0, sizeof *out);
    if (!path || !strcmp(path, "-")) {
        out->fp = stdout;
        return 1;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(out->tmp, sizeof out->tmp, "%.*s.mlpot-tmp-%ld-%d-%s", dir_len, path,
                 (long)getpid(), attempt, path + dir_len);
        fd = open(out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0 || !(out->fp = fdopen(fd, "w"))) {
        fprintf(stderr, "mlpot: %s: cannot create: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            remove(out->tmp);
        }
        return 0;
    }
    return 1;
}

int cli_output_close(cli_output *out, int keep) {
    if (!out->fp)
        return 1;
    if (out->fp == stdout) {
        out->fp = NULL;
        if (fflush(stdout) != 0) {
            fprintf(stderr, "mlpot: <stdout>: write error\n");
            return 0;
        }
        return 1;
    }
    int bad = fflush(out->fp) != 0 || ferror(out->fp) || fsync(fileno(out->fp)) != 0;
    bad |= fclose(out->fp) != 0;
    out->fp = NULL;
    if (!keep || bad) {
        remove(out->tmp);
        if (bad)
            fprintf(stderr, "mlpot: %s: write error\n", out->path);
        return !bad;
    }
    if (rename(out->tmp, out->path) != 0) {
        fprintf(stderr, "mlpot: %s: cannot rename the temporary file: %s\n", out->path,
                strerror(errno));
        remove(out->tmp);
        return 0;
    }
    return 1;
}
