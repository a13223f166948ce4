/* fuzz_common.h — shared by the fuzz harnesses: feeding bytes to a reader through fmemopen,
 * checking that errors are clean, and the write-then-read round trip of every frame read. */
#ifndef MLPOT_FUZZ_COMMON_H
#define MLPOT_FUZZ_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/structure_formats.h"

#define FUZZ_MAX_FRAMES 1000

typedef mlpot_status (*fuzz_read_fn)(line_reader *, const mlpot_read_options *,
                                     mlpot_structure **);
typedef mlpot_status (*fuzz_write_fn)(FILE *, const mlpot_structure *);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, const char *text) {
    fprintf(stderr, "fuzz check failed: %s\n", what);
    if (text)
        fprintf(stderr, "--- text ---\n%s\n--- end ---\n", text);
    fprintf(stderr, "last error: %s\n", mlpot_last_error());
    abort();
}

/* A stream over the bytes (an empty input gets a valid buffer too). */
static FILE *fuzz_open(const void *data, size_t size) {
    static char empty[1];
    FILE *fp = fmemopen(size ? (void *)data : empty, size, "r");
    if (!fp)
        fuzz_fail("fmemopen", NULL);
    return fp;
}

/* Errors must say where: "input:LINE: ..." (parse errors) or "input: ..." (validation). */
static void fuzz_check_error(mlpot_status st, const char *name) {
    const char *msg = mlpot_last_error();
    size_t n = strlen(name);
    if (st != MLPOT_ERR_PARSE && st != MLPOT_ERR_INVALID_STRUCTURE)
        fuzz_fail("unexpected status (want parse error or invalid structure)", msg);
    if (strncmp(msg, name, n) != 0 || msg[n] != ':')
        fuzz_fail("error message does not start with the file name", msg);
    if (st == MLPOT_ERR_PARSE) {
        const char *p = msg + n + 1;
        if (*p < '1' || *p > '9')
            fuzz_fail("parse error without a line number", msg);
        while (*p >= '0' && *p <= '9')
            p++;
        if (p[0] != ':' || p[1] != ' ')
            fuzz_fail("parse error without 'file:line: '", msg);
    }
}

static int same_double(double a, double b) {
    return a == b || (isnan(a) && isnan(b));
}

static int same_doubles(const double *a, const double *b, size_t n) {
    if (!a || !b)
        return a == b;
    for (size_t k = 0; k < n; k++)
        if (!same_double(a[k], b[k]))
            return 0;
    return 1;
}

/* What survives a round trip: atoms, cell, pbc; with `labels` also energy, forces, stress,
 * info and extra columns (extxyz). */
static void fuzz_compare(const mlpot_structure *a, const mlpot_structure *b, int labels,
                         const char *text) {
    size_t n = (size_t)a->n_atoms;
    if (a->n_atoms != b->n_atoms || memcmp(a->numbers, b->numbers, n * sizeof(int)) != 0)
        fuzz_fail("round trip changed the atoms", text);
    if (!same_doubles(a->positions, b->positions, 3 * n))
        fuzz_fail("round trip changed the positions", text);
    if (!same_doubles(a->cell, b->cell, 9) || memcmp(a->pbc, b->pbc, sizeof a->pbc) != 0)
        fuzz_fail("round trip changed the cell or pbc", text);
    if (!labels)
        return;
    if (a->has_energy != b->has_energy || (a->has_energy && !same_double(a->energy, b->energy)))
        fuzz_fail("round trip changed the energy", text);
    if (!same_doubles(a->forces, b->forces, 3 * n))
        fuzz_fail("round trip changed the forces", text);
    if (a->has_stress != b->has_stress ||
        (a->has_stress && !same_doubles(a->stress, b->stress, 9)))
        fuzz_fail("round trip changed the stress", text);
    if (a->n_info != b->n_info)
        fuzz_fail("round trip changed the number of info items", text);
    for (int k = 0; k < a->n_info; k++) {
        const char *v = mlpot_structure_info(b, a->info[k].key);
        if (!v || strcmp(v, a->info[k].value) != 0)
            fuzz_fail("round trip changed an info item", text);
    }
    if (a->n_columns != b->n_columns)
        fuzz_fail("round trip changed the number of extra columns", text);
    for (int c = 0; c < a->n_columns; c++) {
        const structure_column *x = &a->columns[c], *y = &b->columns[c];
        size_t m = n * (size_t)x->n_cols;
        if (strcmp(x->name, y->name) != 0 || x->type != y->type || x->n_cols != y->n_cols ||
            !same_doubles(x->values, y->values, m) || !x->strings != !y->strings)
            fuzz_fail("round trip changed an extra column", text);
        for (size_t k = 0; x->strings && k < m; k++)
            if (strcmp(x->strings[k], y->strings[k]) != 0)
                fuzz_fail("round trip changed a string column", text);
    }
}

/* Writes s, reads it back with `read` (it must read, as the only frame) and compares. */
static void fuzz_round_trip(const mlpot_structure *s, fuzz_write_fn write, fuzz_read_fn read,
                            int labels) {
    char *text = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&text, &len);
    if (!w)
        fuzz_fail("open_memstream", NULL);
    mlpot_status st = write(w, s);
    if (fclose(w) != 0)
        fuzz_fail("closing the memory stream", NULL);
    if (st)
        fuzz_fail("writing a frame that was read failed", text);
    FILE *r = fuzz_open(text, len);
    line_reader lr;
    mlpot_read_options opt = {0};
    mlpot_structure *t = NULL, *extra = NULL;
    if (line_reader_init_stream(&lr, r, "roundtrip"))
        fuzz_fail("line_reader_init_stream", NULL);
    if ((st = read(&lr, &opt, &t)) || !t)
        fuzz_fail("reading back a written frame failed", text);
    fuzz_compare(s, t, labels, text);
    if (labels && ((st = read(&lr, &opt, &extra)) || extra))
        fuzz_fail("a written frame read back as more than one frame", text);
    mlpot_structure_free(t);
    line_reader_close(&lr);
    fclose(r);
    free(text);
}

/* Reads frames until the end, an error or FUZZ_MAX_FRAMES; writes each frame read with `write`
 * and reads it back with `read_back` (the same format, or extxyz for a read-only format). */
static void fuzz_reader_via(const uint8_t *data, size_t size, fuzz_read_fn read,
                            fuzz_write_fn write, fuzz_read_fn read_back, int labels) {
    FILE *fp = fuzz_open(data, size);
    line_reader lr;
    mlpot_read_options opt = {0};
    if (line_reader_init_stream(&lr, fp, "input"))
        fuzz_fail("line_reader_init_stream", NULL);
    for (int frame = 0; frame < FUZZ_MAX_FRAMES; frame++) {
        mlpot_structure *s = NULL;
        mlpot_status st = read(&lr, &opt, &s);
        if (st) {
            if (s)
                fuzz_fail("a reader returned a frame together with an error", NULL);
            fuzz_check_error(st, "input");
            break;
        }
        if (!s)
            break;
        fuzz_round_trip(s, write, read_back, labels);
        mlpot_structure_free(s);
    }
    line_reader_close(&lr);
    fclose(fp);
}

static inline void fuzz_reader(const uint8_t *data, size_t size, fuzz_read_fn read,
                               fuzz_write_fn write, int labels) {
    fuzz_reader_via(data, size, read, write, read, labels);
}

#endif
