/* extxyz.c — extended XYZ (ASE flavour) reading and writing: multi-frame files, key=value
 * comment lines with quoted values, Lattice, pbc, energy, stress (9 or 6 numbers, ASE sign) or
 * virial, and Properties with any columns; columns other than species/pos/forces are kept. */
#define _POSIX_C_SOURCE 200809L
#include "io/structure_formats.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/c_locale.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"

#define EXTXYZ_MAX_COLUMNS 64
#define EXTXYZ_MAX_TOKENS 1024
#define EXTXYZ_MAX_KEYS 1024
/* Integer columns are kept as doubles: only integers of at most 2^53 in magnitude are exact. */
#define EXTXYZ_MAX_INTEGER 9007199254740992L

enum column_role { ROLE_EXTRA, ROLE_SPECIES, ROLE_Z, ROLE_POS, ROLE_FORCES };

typedef struct {
    char name[64];
    char type; /* R I L S */
    int n_cols;
    enum column_role role;
    double *values; /* R, I, L */
    char **strings; /* S extra columns */
    size_t cap_values, cap_strings;
    size_t n_strings; /* strings filled so far (the rest of the buffer is uninitialised) */
} column_spec;

typedef struct {
    char *key;
    char *value;
} key_value;

static void free_key_values(key_value *kv, int n) {
    for (int k = 0; k < n; k++) {
        free(kv[k].key);
        free(kv[k].value);
    }
    free(kv);
}

/* Measures (buf == NULL) or copies (buf != NULL, with room for *len + 1 bytes) the key or
 * value starting at s: a "quoted string" (with \" \\ and \n escapes), a {...} or [...] group,
 * or a bare word ending at white space or (for keys) '='. Returns the end of the item, or NULL
 * with *missing = the closing character that is missing. */
static const char *scan_item(const char *s, int is_key, char *buf, size_t *len, char *missing) {
    size_t n = 0;
    if (*s == '"') {
        s++;
        while (*s && *s != '"') {
            char c = *s++;
            if (c == '\\' && (*s == '"' || *s == '\\')) {
                c = *s++;
            } else if (c == '\\' && *s == 'n') {
                c = '\n';
                s++;
            }
            if (buf)
                buf[n] = c;
            n++;
        }
        if (*s != '"') {
            *missing = '"';
            return NULL;
        }
        s++;
    } else if (!is_key && (*s == '{' || *s == '[')) {
        char close = *s == '{' ? '}' : ']';
        while (*s && *s != close) {
            if (buf)
                buf[n] = *s;
            n++;
            s++;
        }
        if (*s != close) {
            *missing = close;
            return NULL;
        }
        if (buf)
            buf[n] = *s;
        n++;
        s++;
    } else {
        while (*s && !isspace((unsigned char)*s) && !(is_key && *s == '=')) {
            if (buf)
                buf[n] = *s;
            n++;
            s++;
        }
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return s;
}

/* Reads a key or a value starting at *p (see scan_item) into a new string of its own size. */
static mlpot_status read_item(line_reader *lr, const char **p, int is_key, char **out) {
    size_t len = 0;
    char missing = 0;
    const char *end = scan_item(*p, is_key, NULL, &len, &missing);
    if (!end)
        return line_reader_error(lr, "expected a closing '%c' in the comment line, found %s",
                                 missing, "end of line");
    char *buf = NULL;
    mlpot_status st = mem_calloc(&buf, len + 1, 1);
    if (st)
        return st;
    scan_item(*p, is_key, buf, &len, &missing);
    *p = end;
    *out = buf;
    return MLPOT_OK;
}

static mlpot_status parse_comment(line_reader *lr, const char *line, key_value **kv_out,
                                  int *n_out) {
    key_value *kv = NULL;
    size_t cap = 0;
    int n = 0;
    mlpot_status st = MLPOT_OK;
    const char *p = line;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (n >= EXTXYZ_MAX_KEYS) {
            /* info keys are looked up linearly: bound the count, not only the line length */
            st = line_reader_error(lr, "expected at most %d key=value pairs in the comment line",
                                   EXTXYZ_MAX_KEYS);
            goto fail;
        }
        char *key = NULL, *value = NULL;
        if ((st = read_item(lr, &p, 1, &key)))
            goto fail;
        if (!key[0]) {
            free(key);
            char q[64];
            st = line_reader_error(lr, "expected key=value in the comment line, found %s",
                                   quote_token(p, q));
            goto fail;
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '=') {
            p++;
            while (isspace((unsigned char)*p))
                p++;
            st = read_item(lr, &p, 0, &value);
        } else {
            st = mem_strdup(&value, "T"); /* a bare key is a true flag, as in ASE */
        }
        if (st || (st = mem_reserve(&kv, &cap, (size_t)n + 1, sizeof *kv))) {
            free(key);
            free(value);
            goto fail;
        }
        kv[n].key = key;
        kv[n].value = value;
        n++;
    }
    *kv_out = kv;
    *n_out = n;
    return MLPOT_OK;
fail:
    free_key_values(kv, n);
    return st;
}

/* Parses `count` numbers separated by white space (and optional commas/brackets). */
static int parse_numbers(const char *text, double *out, int count, int allow_nan) {
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return 0;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *q = buf; *q; q++)
        if (*q == ',' || *q == '[' || *q == ']')
            *q = ' ';
    char *tok[16];
    int n = split_tokens(buf, tok, 16);
    if (n != count)
        return 0;
    for (int k = 0; k < n; k++) {
        if (allow_nan && (strcmp(tok[k], "nan") == 0 || strcmp(tok[k], "NaN") == 0)) {
            out[k] = NAN;
            continue;
        }
        if (!parse_double(tok[k], &out[k]))
            return 0;
    }
    return 1;
}

static int parse_logical(const char *t, int *value) {
    if (!strcmp(t, "T") || !strcmp(t, "True") || !strcmp(t, "true") || !strcmp(t, "TRUE")) {
        *value = 1;
        return 1;
    }
    if (!strcmp(t, "F") || !strcmp(t, "False") || !strcmp(t, "false") || !strcmp(t, "FALSE")) {
        *value = 0;
        return 1;
    }
    return 0;
}

static int parse_label(const char *t, double *value) {
    if (!strcmp(t, "nan") || !strcmp(t, "NaN")) {
        *value = NAN;
        return 1;
    }
    return parse_double(t, value);
}

/* Stress from 9 numbers (3x3) or 6 (Voigt xx yy zz yz xz xy). */
static int parse_tensor(const char *text, double t[9]) {
    double v[9];
    if (parse_numbers(text, v, 9, 1)) {
        memcpy(t, v, sizeof v);
        return 1;
    }
    if (parse_numbers(text, v, 6, 1)) {
        double full[9] = {v[0], v[5], v[4], v[5], v[1], v[3], v[4], v[3], v[2]};
        memcpy(t, full, sizeof full);
        return 1;
    }
    return 0;
}

/* Column names with a meaning: such a column must have the type and count of its role (so
 * that no extra column takes a name the writer uses for a role), and a role is given once. */
static const struct {
    const char *name;
    enum column_role role;
    char type;
    int n_cols;
} known_columns[] = {
    {"species", ROLE_SPECIES, 'S', 1}, {"pos", ROLE_POS, 'R', 3},
    {"positions", ROLE_POS, 'R', 3},   {"forces", ROLE_FORCES, 'R', 3},
    {"force", ROLE_FORCES, 'R', 3},
};

static mlpot_status parse_properties(line_reader *lr, const char *text, column_spec *cols,
                                     int *n_cols_out) {
    char q[64];
    char *buf = NULL;
    mlpot_status st = mem_strdup(&buf, text);
    if (st)
        return st;
    int n = 0;
    char *fields[3 * EXTXYZ_MAX_COLUMNS];
    int nf = 0;
    /* split at every ':' (empty fields are kept, and rejected below) */
    for (char *f = buf;;) {
        if (nf >= 3 * EXTXYZ_MAX_COLUMNS) {
            st = line_reader_error(lr, "expected at most %d Properties columns",
                                   EXTXYZ_MAX_COLUMNS);
            goto done;
        }
        fields[nf++] = f;
        char *colon = strchr(f, ':');
        if (!colon)
            break;
        *colon = '\0';
        f = colon + 1;
    }
    if (nf % 3 != 0) {
        st = line_reader_error(lr, "expected Properties as name:type:count triples, found %s",
                               quote_token(text, q));
        goto done;
    }
    for (int k = 0; k < nf; k += 3) {
        column_spec *c = &cols[n];
        memset(c, 0, sizeof *c);
        long count;
        const char *type = fields[k + 1];
        if (strlen(fields[k]) >= sizeof c->name || !fields[k][0]) {
            st = line_reader_error(lr, "expected a Properties column name, found %s",
                                   quote_token(fields[k], q));
            goto done;
        }
        if (strlen(type) != 1 || !strchr("RILS", type[0])) {
            st = line_reader_error(lr, "expected a Properties type R, I, L or S, found %s",
                                   quote_token(type, q));
            goto done;
        }
        if (!parse_long(fields[k + 2], &count) || count < 1 || count > 64) {
            st = line_reader_error(lr, "expected a Properties column count 1..64, found %s",
                                   quote_token(fields[k + 2], q));
            goto done;
        }
        snprintf(c->name, sizeof c->name, "%s", fields[k]);
        c->type = type[0];
        c->n_cols = (int)count;
        c->role = ROLE_EXTRA;
        if (!strcmp(c->name, "Z") && c->type == 'I' && count == 1)
            c->role = ROLE_Z;
        for (size_t m = 0; m < sizeof known_columns / sizeof known_columns[0]; m++) {
            if (strcmp(c->name, known_columns[m].name) != 0)
                continue;
            if (c->type != known_columns[m].type || count != known_columns[m].n_cols) {
                st = line_reader_error(lr, "expected Properties column %s:%c:%d, found %s:%c:%ld",
                                       c->name, known_columns[m].type, known_columns[m].n_cols,
                                       c->name, c->type, count);
                goto done;
            }
            c->role = known_columns[m].role;
        }
        for (int m = 0; m < n; m++) {
            if (!strcmp(cols[m].name, c->name)) {
                st = line_reader_error(lr, "Properties names column '%s' twice", c->name);
                goto done;
            }
            if (c->role != ROLE_EXTRA && c->role != ROLE_Z && cols[m].role == c->role) {
                st = line_reader_error(lr, "expected one of the Properties columns '%s' and "
                                           "'%s', found both",
                                       cols[m].name, c->name);
                goto done;
            }
        }
        n++;
    }
    *n_cols_out = n;
done:
    free(buf);
    return st;
}

static void free_columns(column_spec *cols, int n) {
    for (int k = 0; k < n; k++) {
        free(cols[k].values);
        if (cols[k].strings) {
            for (size_t m = 0; m < cols[k].n_strings; m++)
                free(cols[k].strings[m]);
            free(cols[k].strings);
        }
    }
}

/* Applies the comment's known keys to s; the others become info. */
static mlpot_status apply_comment(line_reader *lr, key_value *kv, int n_kv, mlpot_structure *s) {
    char q[64];
    int has_lattice = 0, has_pbc = 0, has_virial = 0;
    double virial[9];
    const char *virial_text = NULL;
    mlpot_status st;
    for (int k = 0; k < n_kv; k++) {
        const char *key = kv[k].key, *value = kv[k].value;
        if (!strcmp(key, "Lattice")) {
            if (!parse_numbers(value, s->cell, 9, 0))
                return line_reader_error(lr, "expected Lattice=\"9 numbers\", found %s",
                                         quote_token(value, q));
            has_lattice = 1;
        } else if (!strcmp(key, "Properties")) {
            continue;
        } else if (!strcmp(key, "pbc")) {
            char buf[256];
            char *tok[4];
            snprintf(buf, sizeof buf, "%s", value);
            for (char *c = buf; *c; c++)
                if (*c == ',' || *c == '[' || *c == ']')
                    *c = ' ';
            int nt = strlen(value) < sizeof buf ? split_tokens(buf, tok, 4) : 0;
            if (nt == 1)
                tok[1] = tok[2] = tok[0];
            if ((nt != 3 && nt != 1) || !parse_logical(tok[0], &s->pbc[0]) ||
                !parse_logical(tok[1], &s->pbc[1]) || !parse_logical(tok[2], &s->pbc[2]))
                return line_reader_error(lr, "expected pbc=\"T T T\" (3 of T/F), found %s",
                                         quote_token(value, q));
            has_pbc = 1;
        } else if (!strcmp(key, "energy")) {
            if (!parse_label(value, &s->energy))
                return line_reader_error(lr, "expected energy=<number>, found %s",
                                         quote_token(value, q));
            s->has_energy = 1;
        } else if (!strcmp(key, "stress")) {
            if (!parse_tensor(value, s->stress))
                return line_reader_error(lr, "expected stress=\"9 or 6 numbers\", found %s",
                                         quote_token(value, q));
            s->has_stress = 1;
        } else if (!strcmp(key, "virial")) {
            if (!parse_tensor(value, virial))
                return line_reader_error(lr, "expected virial=\"9 or 6 numbers\", found %s",
                                         quote_token(value, q));
            has_virial = 1;
            virial_text = value;
        } else if ((st = mlpot_structure_set_info(s, key, value))) {
            return st;
        }
    }
    if (!has_pbc)
        s->pbc[0] = s->pbc[1] = s->pbc[2] = has_lattice;
    if (has_virial && !s->has_stress) {
        /* formats.md: W = -V sigma */
        double volume = fabs(mat3_det(s->cell));
        if (!structure_is_periodic3(s) || !(volume > 0))
            return line_reader_error(lr, "virial given for a structure without a 3D cell");
        for (int k = 0; k < 9; k++) {
            s->stress[k] = -virial[k] / volume;
            if (isinf(s->stress[k]))
                return line_reader_error(lr, "expected a virial that gives a finite stress "
                                             "(virial / volume), found %s",
                                         quote_token(virial_text, q));
        }
        s->has_stress = 1;
    }
    if (s->has_stress && !structure_is_periodic3(s))
        return line_reader_error(lr, "stress given for a structure that is not periodic in 3D");
    return MLPOT_OK;
}

static mlpot_status read_atom_line(line_reader *lr, char *line, column_spec *cols, int n_cols,
                                   int total_cols, size_t atom, char **tok) {
    char q[64];
    int nt = split_tokens(line, tok, EXTXYZ_MAX_TOKENS);
    if (nt != total_cols)
        return line_reader_error(lr, "expected %d columns as Properties says, found %d",
                                 total_cols, nt);
    int t = 0;
    for (int c = 0; c < n_cols; c++) {
        column_spec *col = &cols[c];
        size_t need = (atom + 1) * (size_t)col->n_cols;
        mlpot_status st;
        if (col->type == 'S' && col->role != ROLE_SPECIES) {
            if ((st = mem_reserve(&col->strings, &col->cap_strings, need, sizeof(char *))))
                return st;
        } else if ((st = mem_reserve(&col->values, &col->cap_values, need, sizeof(double)))) {
            return st;
        }
        for (int m = 0; m < col->n_cols; m++, t++) {
            double *v = col->values ? &col->values[atom * (size_t)col->n_cols + (size_t)m] : NULL;
            long iv;
            int lv;
            switch (col->type) {
            case 'S':
                if (col->role == ROLE_SPECIES) {
                    int z = element_from_symbol(tok[t]);
                    if (!z)
                        return line_reader_error(lr, "expected an element symbol, found %s",
                                                 quote_token(tok[t], q));
                    *v = z;
                } else {
                    char **slot = &col->strings[atom * (size_t)col->n_cols + (size_t)m];
                    if ((st = mem_strdup(slot, tok[t])))
                        return st;
                    col->n_strings++;
                }
                break;
            case 'R':
                if (!(col->role == ROLE_POS ? parse_double(tok[t], v) : parse_label(tok[t], v)))
                    return line_reader_error(lr, "expected a number in column '%s', found %s",
                                             col->name, quote_token(tok[t], q));
                break;
            case 'I':
                if (!parse_long(tok[t], &iv) || iv < -EXTXYZ_MAX_INTEGER ||
                    iv > EXTXYZ_MAX_INTEGER)
                    return line_reader_error(lr,
                                             "expected an integer of at most 2^53 in magnitude in "
                                             "column '%s', found %s",
                                             col->name, quote_token(tok[t], q));
                if (col->role == ROLE_Z && (iv < 1 || iv > ELEMENT_MAX_Z))
                    return line_reader_error(lr, "expected an atomic number 1..%d in column 'Z', "
                                                 "found %s",
                                             ELEMENT_MAX_Z, quote_token(tok[t], q));
                *v = (double)iv;
                break;
            default: /* 'L' */
                if (!parse_logical(tok[t], &lv))
                    return line_reader_error(lr, "expected T or F in column '%s', found %s",
                                             col->name, quote_token(tok[t], q));
                *v = lv;
                break;
            }
        }
    }
    return MLPOT_OK;
}

/* Moves the parsed columns into the structure. */
static mlpot_status build_frame(column_spec *cols, int n_cols, int n_atoms, mlpot_structure *s) {
    int species = -1, zcol = -1, pos = -1, forces = -1;
    for (int c = 0; c < n_cols; c++) {
        if (cols[c].role == ROLE_SPECIES)
            species = c;
        else if (cols[c].role == ROLE_Z)
            zcol = c;
        else if (cols[c].role == ROLE_POS)
            pos = c;
        else if (cols[c].role == ROLE_FORCES)
            forces = c;
    }
    int numbers_from = species >= 0 ? species : zcol;
    mlpot_status st;
    if ((st = mem_calloc(&s->numbers, (size_t)n_atoms, sizeof *s->numbers)) ||
        (st = mem_calloc(&s->positions, (size_t)n_atoms * 3, sizeof *s->positions)))
        return st;
    s->n_atoms = n_atoms;
    for (int i = 0; i < n_atoms; i++) {
        double z = cols[numbers_from].values[i];
        s->numbers[i] = z >= 1 && z <= ELEMENT_MAX_Z ? (int)z : 0; /* 0 fails validation */
    }
    memcpy(s->positions, cols[pos].values, (size_t)n_atoms * 3 * sizeof(double));
    if (forces >= 0) {
        s->forces = cols[forces].values;
        cols[forces].values = NULL;
    }
    for (int c = 0; c < n_cols; c++) {
        column_spec *col = &cols[c];
        if (c == species || c == pos || c == forces || (c == zcol && species < 0))
            continue;
        structure_column out = {.type = col->type, .n_cols = col->n_cols};
        if ((st = mem_strdup(&out.name, col->name)))
            return st;
        out.values = col->values;
        out.strings = col->strings;
        col->values = NULL;
        col->strings = NULL;
        col->n_strings = 0;
        if ((st = structure_add_column(s, out)))
            return st;
    }
    return MLPOT_OK;
}

mlpot_status extxyz_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out) {
    (void)opt;
    char *line;
    char q[64];
    mlpot_status st;
    *out = NULL;
    /* blank lines between or after frames are allowed */
    do {
        if ((st = line_reader_next(lr, &line)))
            return st;
        if (!line)
            return MLPOT_OK;
        while (isspace((unsigned char)*line))
            line++;
    } while (!*line);
    char *tok[EXTXYZ_MAX_TOKENS];
    long n_atoms;
    int nt = split_tokens(line, tok, 2);
    if (nt != 1 || !parse_long(tok[0], &n_atoms) || n_atoms < 1)
        return line_reader_error(lr, "expected the number of atoms (a positive integer), found %s",
                                 quote_token(nt ? tok[0] : NULL, q));
    if (n_atoms > 100000000L)
        return line_reader_error(lr, "expected at most 10^8 atoms, found %ld", n_atoms);

    if ((st = line_reader_next(lr, &line)))
        return st;
    if (!line) {
        lr->line++;
        return line_reader_error(lr, "expected the comment line of a frame, found end of file");
    }
    key_value *kv = NULL;
    int n_kv = 0;
    if ((st = parse_comment(lr, line, &kv, &n_kv)))
        return st;
    const char *properties = "species:S:1:pos:R:3";
    for (int k = 0; k < n_kv; k++)
        if (!strcmp(kv[k].key, "Properties"))
            properties = kv[k].value;
    column_spec cols[EXTXYZ_MAX_COLUMNS];
    int n_cols = 0, total_cols = 0;
    mlpot_structure *s = NULL;
    if ((st = parse_properties(lr, properties, cols, &n_cols)))
        goto done;
    int has_species = 0, has_pos = 0;
    for (int c = 0; c < n_cols; c++) {
        total_cols += cols[c].n_cols;
        has_species |= cols[c].role == ROLE_SPECIES || cols[c].role == ROLE_Z;
        has_pos |= cols[c].role == ROLE_POS;
    }
    if (!has_species || !has_pos) {
        st = line_reader_error(lr, "expected Properties with species:S:1 (or Z:I:1) and pos:R:3");
        goto done;
    }
    if (total_cols > EXTXYZ_MAX_TOKENS) {
        st = line_reader_error(lr, "expected at most %d values per atom", EXTXYZ_MAX_TOKENS);
        goto done;
    }
    if ((st = mem_calloc(&s, 1, sizeof *s)) || (st = apply_comment(lr, kv, n_kv, s)))
        goto done;
    long comment_line = lr->line;
    for (long i = 0; i < n_atoms; i++) {
        if ((st = line_reader_next(lr, &line)))
            goto done;
        if (!line) {
            lr->line++;
            st = line_reader_error(lr,
                                   "expected %ld atom lines after the comment on line %ld, found "
                                   "%ld (end of file)",
                                   n_atoms, comment_line, i);
            goto done;
        }
        if ((st = read_atom_line(lr, line, cols, n_cols, total_cols, (size_t)i, tok)))
            goto done;
    }
    /* What validation can still reject (the cell) comes from the comment line. */
    char where[512];
    snprintf(where, sizeof where, "%s:%ld", lr->name, comment_line);
    if ((st = build_frame(cols, n_cols, (int)n_atoms, s)) || (st = structure_validate(s, where)))
        goto done;
    *out = s;
    s = NULL;
done:
    free_columns(cols, n_cols);
    free_key_values(kv, n_kv);
    mlpot_structure_free(s);
    return st;
}

void format_double(char out[32], double x) {
    if (isnan(x)) {
        snprintf(out, 32, "nan");
        return;
    }
    locale_t saved = c_locale_begin(); /* a decimal point whatever the program's locale */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    c_locale_end(saved);
}

/* 1 if a key or value would not read back as the same bare word: empty, with white space, a
 * quote, '=' or a backslash, or starting like a {...} or [...] group that ends before it does. */
static int needs_quotes(const char *v) {
    if (!*v)
        return 1;
    if (*v == '{' || *v == '[') {
        const char *close = strchr(v, *v == '{' ? '}' : ']');
        if (!close || close[1] != '\0')
            return 1;
    }
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '=' || *p == '\\')
            return 1;
    return 0;
}

/* The text of a quoted string, with the escapes read_item undoes. */
static void write_escaped(FILE *fp, const char *v) {
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', fp);
        if (*p == '\n') {
            fputs("\\n", fp);
            continue;
        }
        fputc(*p, fp);
    }
}

/* Writes a value, quoted when it would not survive as a bare word. */
static void write_value(FILE *fp, const char *v) {
    if (!needs_quotes(v)) {
        fputs(v, fp);
        return;
    }
    fputc('"', fp);
    write_escaped(fp, v);
    fputc('"', fp);
}

static void write_numbers(FILE *fp, const double *v, int n) {
    char buf[32];
    for (int k = 0; k < n; k++) {
        format_double(buf, v[k]);
        fprintf(fp, "%s%s", k ? " " : "", buf);
    }
}

mlpot_status extxyz_write(FILE *fp, const mlpot_structure *s) {
    fprintf(fp, "%d\n", s->n_atoms);
    int has_cell = s->pbc[0] || s->pbc[1] || s->pbc[2];
    for (int k = 0; k < 9; k++)
        has_cell |= s->cell[k] != 0.0;
    if (has_cell) {
        fputs("Lattice=\"", fp);
        write_numbers(fp, s->cell, 9);
        fputs("\" ", fp);
    }
    /* Column names come from a Properties value that may have been quoted. */
    int quote = 0;
    for (int c = 0; c < s->n_columns; c++)
        quote |= needs_quotes(s->columns[c].name);
    fputs(quote ? "Properties=\"species:S:1:pos:R:3" : "Properties=species:S:1:pos:R:3", fp);
    for (int c = 0; c < s->n_columns; c++) {
        fputc(':', fp);
        write_escaped(fp, s->columns[c].name);
        fprintf(fp, ":%c:%d", s->columns[c].type, s->columns[c].n_cols);
    }
    if (s->forces)
        fputs(":forces:R:3", fp);
    if (quote)
        fputc('"', fp);
    char buf[32];
    if (s->has_energy) {
        format_double(buf, s->energy);
        fprintf(fp, " energy=%s", buf);
    }
    if (s->has_stress) {
        fputs(" stress=\"", fp);
        write_numbers(fp, s->stress, 9);
        fputc('"', fp);
    }
    for (int k = 0; k < s->n_info; k++) {
        fputc(' ', fp);
        write_value(fp, s->info[k].key);
        fputc('=', fp);
        write_value(fp, s->info[k].value);
    }
    fprintf(fp, " pbc=\"%c %c %c\"\n", s->pbc[0] ? 'T' : 'F', s->pbc[1] ? 'T' : 'F',
            s->pbc[2] ? 'T' : 'F');
    for (int i = 0; i < s->n_atoms; i++) {
        fprintf(fp, "%-3s ", element_symbol(s->numbers[i]));
        write_numbers(fp, &s->positions[3 * i], 3);
        for (int c = 0; c < s->n_columns; c++) {
            const structure_column *col = &s->columns[c];
            for (int m = 0; m < col->n_cols; m++) {
                size_t idx = (size_t)i * (size_t)col->n_cols + (size_t)m;
                fputc(' ', fp);
                if (col->type == 'S')
                    fputs(col->strings[idx], fp);
                else if (col->type == 'L')
                    fputc(col->values[idx] != 0 ? 'T' : 'F', fp);
                else if (col->type == 'I')
                    fprintf(fp, "%.0f", col->values[idx]);
                else {
                    format_double(buf, col->values[idx]);
                    fputs(buf, fp);
                }
            }
        }
        if (s->forces) {
            fputc(' ', fp);
            write_numbers(fp, &s->forces[3 * i], 3);
        }
        fputc('\n', fp);
    }
    return ferror(fp) ? error_set(MLPOT_ERR_IO, "write error") : MLPOT_OK;
}
