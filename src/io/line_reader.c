/* line_reader.c — line-oriented text input with positions for error messages. */
#define _POSIX_C_SOURCE 200809L
#include "io/line_reader.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/c_locale.h"
#include "core/error.h"
#include "core/memory.h"

mlpot_status line_reader_init_stream(line_reader *lr, FILE *fp, const char *name) {
    memset(lr, 0, sizeof *lr);
    lr->fp = fp;
    return mem_strdup(&lr->name, name);
}

mlpot_status line_reader_open(line_reader *lr, const char *path) {
    memset(lr, 0, sizeof *lr);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return error_set(MLPOT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    mlpot_status st = line_reader_init_stream(lr, fp, path);
    if (st)
        fclose(fp);
    return st;
}

void line_reader_close(line_reader *lr) {
    /* A reader made by line_reader_open owns its stream; init_stream callers close their own. */
    free(lr->buf);
    free(lr->name);
    memset(lr, 0, sizeof *lr);
}

void line_reader_unread(line_reader *lr) {
    lr->peeked = 1;
}

mlpot_status line_reader_next(line_reader *lr, char **line) {
    if (lr->peeked) {
        lr->peeked = 0;
        *line = lr->at_eof ? NULL : lr->buf;
        return MLPOT_OK;
    }
    if (lr->at_eof) {
        *line = NULL;
        return MLPOT_OK;
    }
    size_t len = 0;
    int c;
    for (;;) {
        c = getc(lr->fp);
        if (c == EOF || c == '\n')
            break;
        if (c == '\0') {
            lr->line++;
            return line_reader_error(lr, "expected text, found a NUL byte (binary file?)");
        }
        if (len + 1 >= lr->capacity) {
            if (len + 1 >= LINE_READER_MAX_LINE) {
                lr->line++;
                return line_reader_error(lr, "expected a line shorter than %u bytes",
                                         LINE_READER_MAX_LINE);
            }
            mlpot_status st = mem_reserve(&lr->buf, &lr->capacity, len + 2, 1);
            if (st)
                return st;
        }
        lr->buf[len++] = (char)c;
    }
    if (ferror(lr->fp))
        return error_set(MLPOT_ERR_IO, "%s:%ld: read error", lr->name, lr->line + 1);
    if (c == EOF && len == 0) {
        lr->at_eof = 1;
        *line = NULL;
        return MLPOT_OK;
    }
    if (!lr->buf) {
        mlpot_status st = mem_reserve(&lr->buf, &lr->capacity, 1, 1);
        if (st)
            return st;
    }
    if (len > 0 && lr->buf[len - 1] == '\r')
        len--;
    lr->buf[len] = '\0';
    lr->line++;
    if (lr->line == 1 && len >= 3 && memcmp(lr->buf, "\xEF\xBB\xBF", 3) == 0)
        memmove(lr->buf, lr->buf + 3, len - 2);
    *line = lr->buf;
    return MLPOT_OK;
}

mlpot_status line_reader_error(const line_reader *lr, const char *fmt, ...) {
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return error_set(MLPOT_ERR_PARSE, "%s:%ld: %s", lr->name, lr->line, message);
}

int split_tokens(char *line, char **tokens, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (n < max)
            tokens[n] = p;
        n++;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        *p++ = '\0';
    }
    return n;
}

const char *quote_token(const char *text, char out[64]) {
    if (!text)
        return "end of line";
    size_t k = 0, max = 40;
    out[k++] = '\'';
    for (const char *p = text; *p && k < max; p++)
        out[k++] = isprint((unsigned char)*p) ? *p : '?';
    if (strlen(text) > max - 1) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k++] = '\'';
    out[k] = '\0';
    return out;
}

int parse_double(const char *token, double *value) {
    if (!token || !*token)
        return 0;
    char buf[128];
    size_t n = strlen(token);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, token, n + 1);
    for (size_t k = 0; k < n; k++)
        if (buf[k] == 'd' || buf[k] == 'D')
            buf[k] = 'e';
    /* strtod would also accept hexadecimal floats, "inf" and "nan"; none belongs in these files */
    for (size_t k = 0; k < n; k++)
        if (!(isdigit((unsigned char)buf[k]) || buf[k] == '.' || buf[k] == 'e' ||
              buf[k] == 'E' || buf[k] == '+' || buf[k] == '-'))
            return 0;
    char *end = NULL;
    errno = 0;
    locale_t saved = c_locale_begin(); /* a decimal point whatever the program's locale */
    double v = strtod(buf, &end);
    c_locale_end(saved);
    if (end == buf || *end != '\0' || !isfinite(v))
        return 0;
    *value = v;
    return 1;
}

int parse_long(const char *token, long *value) {
    if (!token || !*token)
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(token, &end, 10);
    if (end == token || *end != '\0' || errno == ERANGE)
        return 0;
    if (isspace((unsigned char)token[0]))
        return 0;
    *value = v;
    return 1;
}
