/* line_reader.h — reading a text file line by line with the file name and line number at hand
 * for error messages: strips CRLF and a leading UTF-8 byte-order mark, rejects NUL bytes and
 * lines longer than LINE_READER_MAX_LINE (so that no input makes us allocate without bound). */
#ifndef MLPOT_IO_LINE_READER_H
#define MLPOT_IO_LINE_READER_H

#include <stdio.h>

#include "mlpot/mlpot.h"

#define LINE_READER_MAX_LINE (16u << 20)

typedef struct {
    FILE *fp;
    char *name;      /* file name used in messages */
    long line;       /* number of the line last returned (1-based) */
    char *buf;
    size_t capacity;
    int peeked;      /* the last line is to be returned again by the next call */
    int at_eof;
} line_reader;

mlpot_status line_reader_open(line_reader *lr, const char *path);
/* Reads from an open stream (not closed by line_reader_close). */
mlpot_status line_reader_init_stream(line_reader *lr, FILE *fp, const char *name);
void line_reader_close(line_reader *lr);
/* *line = the next line without its end-of-line characters, or NULL at end of file. The text
 * is valid until the next call and may be modified by the caller. */
mlpot_status line_reader_next(line_reader *lr, char **line);
/* Makes the next line_reader_next return the same line again. */
void line_reader_unread(line_reader *lr);

/* Parse error at the current line: "name:line: message". */
mlpot_status line_reader_error(const line_reader *lr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Tokenising helpers over a mutable line. */
/* Splits `line` in place at white space into at most `max` tokens; returns the count (tokens
 * beyond `max` are counted but not stored). */
int split_tokens(char *line, char **tokens, int max);
/* A printable, truncated rendering of `text` for messages (at most 40 characters). */
const char *quote_token(const char *text, char out[64]);
/* Strict number parsing of a whole token: 1 on success. Accepts Fortran 'D' exponents. */
int parse_double(const char *token, double *value);
int parse_long(const char *token, long *value);

#endif
