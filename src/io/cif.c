/* cif.c — CIF 1.1 reading (formats.md): each data block with a cell and atom sites is a frame;
 * the sites (fractional) are expanded with the block's symmetry operations and images closer
 * than CIF_MERGE_TOLERANCE (periodically) are merged; partial occupancy is an error. */
#define _POSIX_C_SOURCE 200809L
#include "io/structure_formats.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"

/* Images of a site closer than this (Å) are one atom: CIFs give coordinates to 4-6 digits, so
 * that 1/3 written as 0.3333 lands 1e-4 of a lattice vector away from its image. */
#define CIF_MERGE_TOLERANCE 1e-2
#define CIF_MERGE_TOLERANCE_TEXT "0.01"
#define CIF_DEGREE (3.14159265358979323846 / 180.0)
#define CIF_MAX_ATOMS 1000000
#define CIF_MAX_OPERATIONS 1024

/* ---- the token level: CIF 1.1 words, quoted strings, text fields, comments ---- */

typedef enum { TOK_END, TOK_DATA, TOK_LOOP, TOK_TAG, TOK_VALUE } token_kind;

typedef struct {
    token_kind kind;
    char *text; /* owned; the value or the tag (tags lower-cased, '.' as '_') */
    long line;
    int quoted;        /* a quoted string or text field: '?' and '.' are then literal */
    int at_line_start; /* a data_ word first on its line (the next frame starts there) */
} token;

typedef struct {
    line_reader *lr;
    char *line; /* the current line of lr, or NULL when one must be read */
    char *pos;
    token peeked;
    int has_peeked;
} lexer;

static mlpot_status copy_text(char **out, const char *text, size_t n) {
    mlpot_status st = mem_calloc(out, n + 1, 1);
    if (!st)
        memcpy(*out, text, n);
    return st;
}

/* A text field: the rest of the line after ';', then whole lines up to a line starting ';'. */
static mlpot_status read_text_field(lexer *lx, token *t) {
    long start = lx->lr->line;
    char *text = NULL;
    size_t cap = 0, n = 0;
    mlpot_status st;
    const char *piece = lx->line + 1;
    for (;;) {
        size_t m = strlen(piece);
        if ((st = mem_reserve(&text, &cap, n + m + 2, 1)))
            goto fail;
        if (n > 0)
            text[n++] = '\n';
        memcpy(text + n, piece, m);
        n += m;
        text[n] = '\0';
        if ((st = line_reader_next(lx->lr, &lx->line)))
            goto fail;
        if (!lx->line) {
            st = line_reader_error(lx->lr, "expected a line starting with ';' to close the text "
                                           "field of line %ld, found end of file",
                                   start);
            goto fail;
        }
        if (lx->line[0] == ';')
            break;
        piece = lx->line;
    }
    lx->pos = lx->line + 1;
    t->kind = TOK_VALUE;
    t->text = text;
    t->line = start;
    t->quoted = 1;
    return MLPOT_OK;
fail:
    free(text);
    return st;
}

static int is_reserved_word(const char *word, size_t n, const char *reserved) {
    size_t m = strlen(reserved);
    return n >= m && strncasecmp(word, reserved, m) == 0;
}

static mlpot_status lexer_next(lexer *lx, token *t) {
    char q[64];
    mlpot_status st;
    memset(t, 0, sizeof *t);
    if (lx->has_peeked) {
        *t = lx->peeked;
        lx->has_peeked = 0;
        return MLPOT_OK;
    }
    for (;;) {
        if (!lx->line) {
            if ((st = line_reader_next(lx->lr, &lx->line)))
                return st;
            if (!lx->line) {
                t->kind = TOK_END;
                t->line = lx->lr->line;
                return MLPOT_OK;
            }
            if (lx->line[0] == ';')
                return read_text_field(lx, t);
            lx->pos = lx->line;
        }
        while (*lx->pos && isspace((unsigned char)*lx->pos))
            lx->pos++;
        if (!*lx->pos || *lx->pos == '#') {
            lx->line = NULL;
            continue;
        }
        break;
    }
    char *start = lx->pos;
    t->line = lx->lr->line;
    if (*start == '\'' || *start == '"') {
        /* CIF 1.1: a quoted string ends at its quote character followed by white space */
        char *p = start + 1;
        while (*p && !(*p == *start && (p[1] == '\0' || isspace((unsigned char)p[1]))))
            p++;
        if (!*p)
            return line_reader_error(lx->lr, "expected a closing %c for the string %s",
                                     *start, quote_token(start, q));
        lx->pos = p + 1;
        t->kind = TOK_VALUE;
        t->quoted = 1;
        return copy_text(&t->text, start + 1, (size_t)(p - start - 1));
    }
    char *p = start;
    while (*p && !isspace((unsigned char)*p))
        p++;
    size_t n = (size_t)(p - start);
    lx->pos = p;
    if (*start == '_') {
        t->kind = TOK_TAG;
        if ((st = copy_text(&t->text, start, n)))
            return st;
        for (char *c = t->text; *c; c++)
            *c = *c == '.' ? '_' : (char)tolower((unsigned char)*c);
        return MLPOT_OK;
    }
    if (is_reserved_word(start, n, "data_")) {
        t->kind = TOK_DATA;
        t->at_line_start = strspn(lx->line, " \t") == (size_t)(start - lx->line);
        return copy_text(&t->text, start + 5, n - 5);
    }
    if (n == 5 && is_reserved_word(start, n, "loop_")) {
        t->kind = TOK_LOOP;
        return MLPOT_OK;
    }
    if (is_reserved_word(start, n, "save_") || is_reserved_word(start, n, "global_") ||
        is_reserved_word(start, n, "stop_")) {
        return line_reader_error(lx->lr, "expected a tag, value, loop_ or data_, found %s "
                                         "(save frames and global blocks are not supported)",
                                 quote_token(start, q));
    }
    t->kind = TOK_VALUE;
    return copy_text(&t->text, start, n);
}

static void lexer_unget(lexer *lx, token *t) {
    lx->peeked = *t;
    lx->has_peeked = 1;
    memset(t, 0, sizeof *t);
}

/* ---- the block level: tags with their values, loops as tables ---- */

typedef struct {
    int n_tags;
    char **tags;
    int n_values;
    size_t cap;
    token *values; /* row-major [n_values / n_tags][n_tags] */
    long line;     /* of loop_ or of the tag */
} cif_table;

typedef struct {
    char *name;
    long line;
    int n_tables;
    cif_table *tables;
} cif_block;

static void table_free(cif_table *t) {
    for (int k = 0; k < t->n_tags; k++)
        free(t->tags[k]);
    free(t->tags);
    for (int k = 0; k < t->n_values; k++)
        free(t->values[k].text);
    free(t->values);
}

static void block_free(cif_block *b) {
    for (int k = 0; k < b->n_tables; k++)
        table_free(&b->tables[k]);
    free(b->tables);
    free(b->name);
}

/* The table holding `tag` and its column, or NULL. */
static cif_table *find_tag(const cif_block *b, const char *tag, int *column) {
    for (int k = 0; k < b->n_tables; k++)
        for (int c = 0; c < b->tables[k].n_tags; c++)
            if (!strcmp(b->tables[k].tags[c], tag)) {
                *column = c;
                return &b->tables[k];
            }
    return NULL;
}

static mlpot_status table_add_value(cif_table *t, token *v) {
    mlpot_status st = mem_reserve(&t->values, &t->cap, (size_t)t->n_values + 1, sizeof *t->values);
    if (st)
        return st;
    t->values[t->n_values++] = *v;
    memset(v, 0, sizeof *v);
    return MLPOT_OK;
}

static mlpot_status block_new_table(cif_block *b, long line, cif_table **out) {
    mlpot_status st = mem_resize(&b->tables, (size_t)b->n_tables + 1, sizeof *b->tables);
    if (st)
        return st;
    cif_table *t = &b->tables[b->n_tables++];
    memset(t, 0, sizeof *t);
    t->line = line;
    *out = t;
    return MLPOT_OK;
}

/* Adds a tag to a table of block b (taking its text); a tag seen before in b is an error. */
static mlpot_status table_add_tag(const line_reader *lr, const cif_block *b, cif_table *t,
                                  token *tag) {
    char q[64];
    int column;
    if (find_tag(b, tag->text, &column))
        return line_reader_error(lr, "expected each tag once per data block, found %s again",
                                 quote_token(tag->text, q));
    mlpot_status st = mem_resize(&t->tags, (size_t)t->n_tags + 1, sizeof *t->tags);
    if (st)
        return st;
    t->tags[t->n_tags++] = tag->text;
    tag->text = NULL;
    return MLPOT_OK;
}

static const char *token_description(const token *t, char q[64]) {
    switch (t->kind) {
    case TOK_END:
        return "end of file";
    case TOK_DATA:
        return "data_";
    case TOK_LOOP:
        return "loop_";
    default:
        return quote_token(t->text, q);
    }
}

/* Reads the block after its data_ word up to the next data_ (left for the next call) or the end
 * of the file. Tags already seen in the block are an error. */
static mlpot_status read_block(lexer *lx, cif_block *b) {
    char q[64];
    token t;
    mlpot_status st = MLPOT_OK;
    for (;;) {
        if ((st = lexer_next(lx, &t)))
            return st;
        if (t.kind == TOK_END)
            return MLPOT_OK;
        if (t.kind == TOK_DATA) {
            if (!t.at_line_start) {
                free(t.text);
                return line_reader_error(lx->lr, "expected data_ at the start of a line");
            }
            free(t.text);
            line_reader_unread(lx->lr);
            return MLPOT_OK;
        }
        if (t.kind == TOK_VALUE) {
            st = line_reader_error(lx->lr, "expected a tag (_name) or loop_, found the value %s",
                                   quote_token(t.text, q));
            free(t.text);
            return st;
        }
        cif_table *table = NULL;
        if ((st = block_new_table(b, t.line, &table)))
            goto fail;
        if (t.kind == TOK_TAG) {
            if ((st = table_add_tag(lx->lr, b, table, &t)))
                goto fail;
            if ((st = lexer_next(lx, &t)))
                return st;
            if (t.kind != TOK_VALUE) {
                st = line_reader_error(lx->lr, "expected a value for %s, found %s",
                                       table->tags[0], token_description(&t, q));
                goto fail;
            }
            if ((st = table_add_value(table, &t)))
                goto fail;
            continue;
        }
        /* loop_: its tags, then values up to the next tag, loop_, data_ or the end */
        for (;;) {
            if ((st = lexer_next(lx, &t)))
                return st;
            if (t.kind != TOK_TAG)
                break;
            if ((st = table_add_tag(lx->lr, b, table, &t)))
                goto fail;
        }
        if (table->n_tags == 0) {
            st = line_reader_error(lx->lr, "expected the tags of the loop_ of line %ld, found %s",
                                   table->line, token_description(&t, q));
            goto fail;
        }
        while (t.kind == TOK_VALUE) {
            if ((st = table_add_value(table, &t)))
                goto fail;
            if ((st = lexer_next(lx, &t)))
                return st;
        }
        if (table->n_values == 0 || table->n_values % table->n_tags != 0) {
            st = error_set(MLPOT_ERR_PARSE,
                           "%s:%ld: expected values for the loop_ of line %ld in rows of %d "
                           "(one per tag), found %d values",
                           lx->lr->name, table->n_values ? table->values[table->n_values - 1].line
                                                         : table->line,
                           table->line, table->n_tags, table->n_values);
            goto fail;
        }
        lexer_unget(lx, &t);
    }
fail:
    free(t.text);
    return st;
}

/* ---- from a block to a structure ---- */

static int is_unknown(const token *v) {
    return !v->quoted && (!strcmp(v->text, "?") || !strcmp(v->text, "."));
}

/* A number, with an optional standard uncertainty in parentheses: "5.4307(2)". */
static int parse_cif_number(const token *v, double *x) {
    char buf[128];
    size_t n = strlen(v->text);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, v->text, n + 1);
    if (buf[n - 1] == ')') {
        char *open = strrchr(buf, '(');
        if (!open || open == buf || open[1] == ')')
            return 0;
        for (char *c = open + 1; c < buf + n - 1; c++)
            if (!isdigit((unsigned char)*c))
                return 0;
        *open = '\0';
    }
    return parse_double(buf, x);
}

static mlpot_status error_at(const line_reader *lr, long line, const char *message,
                             const char *detail) {
    return error_set(MLPOT_ERR_PARSE, "%s:%ld: %s%s", lr->name, line, message, detail);
}

/* The one value of a tag given outside a loop (or in a loop of one row). */
static mlpot_status single_number(const line_reader *lr, const cif_block *b, const char *tag,
                                  double *x) {
    char q[64], message[160];
    int c = 0;
    const cif_table *t = find_tag(b, tag, &c);
    if (!t) {
        snprintf(message, sizeof message, "expected %s in data block '", tag);
        return error_set(MLPOT_ERR_PARSE, "%s:%ld: %s%s'", lr->name, b->line, message, b->name);
    }
    if (t->n_values != t->n_tags) {
        snprintf(message, sizeof message, "expected one value of %s, found ", tag);
        char count[32];
        snprintf(count, sizeof count, "%d", t->n_values / t->n_tags);
        return error_at(lr, t->line, message, count);
    }
    const token *v = &t->values[c];
    if (is_unknown(v) || !parse_cif_number(v, x)) {
        snprintf(message, sizeof message, "expected a number for %s, found ", tag);
        return error_at(lr, v->line, message, quote_token(v->text, q));
    }
    return MLPOT_OK;
}

/* Lattice vectors (rows) from lengths and angles: a along x, b in the xy plane, the usual
 * convention (ASE's and the International Tables'). Right angles give exact zeros. */
static mlpot_status cell_from_parameters(const line_reader *lr, const cif_block *b,
                                         double cell[9]) {
    static const char *tags[6] = {"_cell_length_a",    "_cell_length_b",   "_cell_length_c",
                                  "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
    double p[6];
    mlpot_status st;
    for (int k = 0; k < 6; k++)
        if ((st = single_number(lr, b, tags[k], &p[k])))
            return st;
    for (int k = 0; k < 6; k++) {
        int ok = k < 3 ? p[k] > 0 : (p[k] > 0 && p[k] < 180);
        if (!ok) {
            int c;
            const cif_table *t = find_tag(b, tags[k], &c);
            return error_set(MLPOT_ERR_PARSE, "%s:%ld: expected %s %s, found %s",
                             lr->name, t->values[c].line, tags[k],
                             k < 3 ? "> 0 (Å)" : "between 0 and 180 degrees", t->values[c].text);
        }
    }
    double cosine[3], sine_gamma;
    for (int k = 0; k < 3; k++)
        cosine[k] = p[3 + k] == 90.0 ? 0.0 : cos(p[3 + k] * CIF_DEGREE);
    sine_gamma = p[5] == 90.0 ? 1.0 : sin(p[5] * CIF_DEGREE);
    double cx = cosine[1], cy = (cosine[0] - cosine[1] * cosine[2]) / sine_gamma;
    double cz2 = 1.0 - cx * cx - cy * cy;
    if (!(cz2 > 1e-10)) {
        char alpha[32], beta[32], gamma[32];
        format_double(alpha, p[3]);
        format_double(beta, p[4]);
        format_double(gamma, p[5]);
        return error_set(MLPOT_ERR_PARSE,
                         "%s:%ld: expected cell angles that span a volume in data block '%s', "
                         "found alpha %s, beta %s, gamma %s",
                         lr->name, b->line, b->name, alpha, beta, gamma);
    }
    double m[9] = {p[0], 0, 0, p[1] * cosine[2], p[1] * sine_gamma, 0, p[2] * cx, p[2] * cy,
                   p[2] * sqrt(cz2)};
    memcpy(cell, m, sizeof m);
    return MLPOT_OK;
}

typedef struct {
    int rotation[9]; /* row-major: new_frac[i] = sum_j rotation[3i+j] frac[j] + shift[i] */
    double shift[3];
} sym_op;

/* Reads "-x+1/2, y-x, z+0.25" (any case, any order of terms). 1 on success. */
static int parse_operation(const char *text, sym_op *op) {
    memset(op, 0, sizeof *op);
    const char *p = text;
    for (int row = 0; row < 3; row++) {
        int terms = 0;
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == ',' || *p == '\0')
                break;
            double sign = 1;
            if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
            } else if (terms > 0) {
                return 0;
            }
            double value = 1;
            int has_number = 0;
            if (isdigit((unsigned char)*p) || *p == '.') {
                char number[32];
                size_t n = 0;
                while ((isdigit((unsigned char)*p) || *p == '.') && n + 1 < sizeof number)
                    number[n++] = *p++;
                number[n] = '\0';
                if (isdigit((unsigned char)*p) || *p == '.' || !parse_double(number, &value))
                    return 0;
                if (*p == '/') {
                    p++;
                    n = 0;
                    while (isdigit((unsigned char)*p) && n + 1 < sizeof number)
                        number[n++] = *p++;
                    number[n] = '\0';
                    double denominator;
                    if (isdigit((unsigned char)*p) || !parse_double(number, &denominator) ||
                        denominator == 0)
                        return 0;
                    value /= denominator;
                }
                has_number = 1;
                if (*p == '*')
                    p++;
            }
            char axis = (char)tolower((unsigned char)*p);
            if (axis == 'x' || axis == 'y' || axis == 'z') {
                p++;
                if (value != 1 && value != 2)
                    return 0;
                op->rotation[3 * row + (axis - 'x')] += (int)(sign * value);
            } else if (has_number) {
                op->shift[row] += sign * value;
            } else {
                return 0;
            }
            terms++;
        }
        if (terms == 0)
            return 0;
        if (row < 2) {
            if (*p != ',')
                return 0;
            p++;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return 0;
    int *r = op->rotation;
    int det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) +
              r[2] * (r[3] * r[7] - r[4] * r[6]);
    return det == 1 || det == -1;
}

/* 1 if a space-group name or number says the group is P1 (or nothing says otherwise). */
static int group_is_p1(const cif_block *b, const char **name) {
    static const char *name_tags[] = {"_symmetry_space_group_name_h-m",
                                      "_space_group_name_h-m_alt"};
    static const char *number_tags[] = {"_symmetry_int_tables_number", "_space_group_it_number"};
    int c;
    for (int k = 0; k < 2; k++) {
        const cif_table *t = find_tag(b, name_tags[k], &c);
        if (t && !is_unknown(&t->values[c])) {
            char compact[16];
            size_t n = 0;
            for (const char *s = t->values[c].text; *s && n + 1 < sizeof compact; s++)
                if (!isspace((unsigned char)*s))
                    compact[n++] = *s;
            compact[n] = '\0';
            if (strcasecmp(compact, "P1") != 0) {
                *name = t->values[c].text;
                return 0;
            }
        }
        t = find_tag(b, number_tags[k], &c);
        if (t && !is_unknown(&t->values[c]) && strcmp(t->values[c].text, "1") != 0) {
            *name = t->values[c].text;
            return 0;
        }
    }
    return 1;
}

static mlpot_status read_operations(const line_reader *lr, const cif_block *b, sym_op **ops_out,
                                    int *n_out) {
    static const char *tags[] = {"_space_group_symop_operation_xyz",
                                 "_symmetry_equiv_pos_as_xyz"};
    char q[64];
    int c = 0;
    const cif_table *t = NULL;
    for (int k = 0; k < 2 && !t; k++)
        t = find_tag(b, tags[k], &c);
    sym_op *ops = NULL;
    mlpot_status st;
    if (!t) {
        const char *group = NULL;
        if (!group_is_p1(b, &group))
            return error_set(MLPOT_ERR_PARSE,
                             "%s:%ld: expected the symmetry operations "
                             "(_space_group_symop_operation_xyz or _symmetry_equiv_pos_as_xyz) "
                             "of space group '%s' in data block '%s' (reading a group by its "
                             "name is not supported)",
                             lr->name, b->line, group, b->name);
        if ((st = mem_calloc(&ops, 1, sizeof *ops)))
            return st;
        ops[0].rotation[0] = ops[0].rotation[4] = ops[0].rotation[8] = 1;
        *ops_out = ops;
        *n_out = 1;
        return MLPOT_OK;
    }
    int n = t->n_values / t->n_tags;
    if (n > CIF_MAX_OPERATIONS)
        return error_at(lr, t->line, "expected at most 1024 symmetry operations", "");
    if ((st = mem_calloc(&ops, (size_t)n, sizeof *ops)))
        return st;
    for (int k = 0; k < n; k++) {
        const token *v = &t->values[k * t->n_tags + c];
        if (!parse_operation(v->text, &ops[k])) {
            free(ops);
            return error_at(lr, v->line,
                            "expected a symmetry operation such as '-x+1/2, y, z' (integer "
                            "rotation of determinant +-1), found ",
                            quote_token(v->text, q));
        }
    }
    *ops_out = ops;
    *n_out = n;
    return MLPOT_OK;
}

/* The element of an atom type ("Fe3+", "O2-") or label ("Ti1", "OW"): the leading letters, two
 * if they name an element, else one. */
static int element_of_word(const char *word) {
    char symbol[2];
    if (!isalpha((unsigned char)word[0]))
        return 0;
    symbol[0] = (char)toupper((unsigned char)word[0]);
    if (isalpha((unsigned char)word[1])) {
        symbol[1] = (char)tolower((unsigned char)word[1]);
        int z = element_from_symbol_n(symbol, 2);
        if (z)
            return z;
    }
    return element_from_symbol_n(symbol, 1);
}

typedef struct {
    const cif_table *table;
    int x, y, z, type, label, occupancy; /* columns, -1 when absent */
} site_columns;

static int column_of(const cif_block *b, const cif_table *table, const char *tag) {
    int c;
    const cif_table *t = find_tag(b, tag, &c);
    return t == table ? c : -1;
}

static mlpot_status find_sites(const line_reader *lr, const cif_block *b, site_columns *s) {
    int c;
    s->table = find_tag(b, "_atom_site_fract_x", &c);
    if (!s->table) {
        if (find_tag(b, "_atom_site_cartn_x", &c))
            return error_set(MLPOT_ERR_PARSE,
                             "%s:%ld: expected fractional coordinates (_atom_site_fract_x) in "
                             "data block '%s', found Cartesian ones (not supported)",
                             lr->name, b->line, b->name);
        return error_set(MLPOT_ERR_PARSE,
                         "%s:%ld: expected atom sites (_atom_site_fract_x, _y, _z) in data "
                         "block '%s'",
                         lr->name, b->line, b->name);
    }
    s->x = c;
    s->y = column_of(b, s->table, "_atom_site_fract_y");
    s->z = column_of(b, s->table, "_atom_site_fract_z");
    s->type = column_of(b, s->table, "_atom_site_type_symbol");
    s->label = column_of(b, s->table, "_atom_site_label");
    s->occupancy = column_of(b, s->table, "_atom_site_occupancy");
    if (s->y < 0 || s->z < 0)
        return error_at(lr, s->table->line,
                        "expected _atom_site_fract_x, _y and _z in the same loop", "");
    if (s->type < 0 && s->label < 0)
        return error_at(lr, s->table->line,
                        "expected _atom_site_type_symbol or _atom_site_label in the loop of the "
                        "atom sites",
                        "");
    return MLPOT_OK;
}

/* The name of site `row` for messages: its label, else "number N". */
static const char *site_name(const site_columns *s, int row, char out[64]) {
    if (s->label >= 0)
        return quote_token(s->table->values[row * s->table->n_tags + s->label].text, out);
    snprintf(out, 64, "number %d", row + 1);
    return out;
}

/* Adds the images of every site under every operation, merging images closer than
 * CIF_MERGE_TOLERANCE; images of two different sites that coincide are an error. */
static mlpot_status expand_sites(const line_reader *lr, const double cell[9],
                                 const site_columns *s, const sym_op *ops, int n_ops,
                                 int **numbers_out, double **frac_out, int *n_out) {
    char q[64], q2[64];
    const cif_table *t = s->table;
    int n_sites = t->n_values / t->n_tags;
    int *numbers = NULL, *site_of = NULL;
    double *frac = NULL;
    size_t cap_n = 0, cap_f = 0, cap_s = 0;
    int n = 0;
    mlpot_status st = MLPOT_OK;
    for (int row = 0; row < n_sites; row++) {
        const token *v = &t->values[row * t->n_tags];
        double f[3];
        const int cols[3] = {s->x, s->y, s->z};
        for (int k = 0; k < 3; k++)
            if (is_unknown(&v[cols[k]]) || !parse_cif_number(&v[cols[k]], &f[k])) {
                st = error_set(MLPOT_ERR_PARSE, "%s:%ld: expected a fractional coordinate of "
                                                "site %s, found %s",
                               lr->name, v[cols[k]].line, site_name(s, row, q),
                               quote_token(v[cols[k]].text, q2));
                goto fail;
            }
        const token *word = &v[s->type >= 0 ? s->type : s->label];
        if (s->type >= 0 && is_unknown(word) && s->label >= 0)
            word = &v[s->label];
        int z = element_of_word(word->text);
        if (!z) {
            st = error_set(MLPOT_ERR_PARSE, "%s:%ld: expected an element for site %s, found %s",
                           lr->name, word->line, site_name(s, row, q), quote_token(word->text, q2));
            goto fail;
        }
        if (s->occupancy >= 0 && !is_unknown(&v[s->occupancy])) {
            double occupancy;
            if (!parse_cif_number(&v[s->occupancy], &occupancy) || fabs(occupancy - 1) > 1e-3) {
                st = error_set(MLPOT_ERR_PARSE, "%s:%ld: site %s has occupancy %s; partial "
                                                "occupancy (disorder) is not supported",
                               lr->name, v[s->occupancy].line, site_name(s, row, q),
                               quote_token(v[s->occupancy].text, q2));
                goto fail;
            }
        }
        for (int o = 0; o < n_ops; o++) {
            double g[3];
            for (int i = 0; i < 3; i++) {
                const int *r = &ops[o].rotation[3 * i];
                g[i] = r[0] * f[0] + r[1] * f[1] + r[2] * f[2] + ops[o].shift[i];
                g[i] -= floor(g[i]);
                if (g[i] >= 1.0) /* -1e-17 - floor(-1e-17) rounds to 1 */
                    g[i] = 0.0;
            }
            int duplicate = -1;
            for (int a = 0; a < n && duplicate < 0; a++) {
                double d[3], r[3];
                for (int i = 0; i < 3; i++) {
                    d[i] = g[i] - frac[3 * a + i];
                    d[i] -= nearbyint(d[i]);
                }
                vec3_mat3(d, cell, r);
                if (vec3_dot(r, r) < CIF_MERGE_TOLERANCE * CIF_MERGE_TOLERANCE)
                    duplicate = a;
            }
            if (duplicate >= 0) {
                if (site_of[duplicate] == row)
                    continue;
                st = error_set(MLPOT_ERR_PARSE,
                               "%s:%ld: site %s falls on an image of site %s (closer than "
                               CIF_MERGE_TOLERANCE_TEXT " Å) under symmetry operation %d",
                               lr->name, v[cols[0]].line, site_name(s, row, q),
                               site_name(s, site_of[duplicate], q2), o + 1);
                goto fail;
            }
            if (n >= CIF_MAX_ATOMS) {
                st = error_set(MLPOT_ERR_PARSE, "%s:%ld: expected at most %d atoms after the "
                                                "symmetry operations, found more",
                               lr->name, v[cols[0]].line, CIF_MAX_ATOMS);
                goto fail;
            }
            if ((st = mem_reserve(&numbers, &cap_n, (size_t)n + 1, sizeof *numbers)) ||
                (st = mem_reserve(&site_of, &cap_s, (size_t)n + 1, sizeof *site_of)) ||
                (st = mem_reserve(&frac, &cap_f, 3 * (size_t)n + 3, sizeof *frac)))
                goto fail;
            numbers[n] = z;
            site_of[n] = row;
            memcpy(&frac[3 * n], g, sizeof g);
            n++;
        }
    }
    free(site_of);
    *numbers_out = numbers;
    *frac_out = frac;
    *n_out = n;
    return MLPOT_OK;
fail:
    free(numbers);
    free(site_of);
    free(frac);
    return st;
}

/* A block with neither a cell nor atom sites (a publication block, say) is no structure. */
static int block_has_structure(const cif_block *b) {
    int c;
    return find_tag(b, "_cell_length_a", &c) || find_tag(b, "_atom_site_fract_x", &c) ||
           find_tag(b, "_atom_site_cartn_x", &c);
}

static mlpot_status block_to_structure(const line_reader *lr, const cif_block *b,
                                       mlpot_structure **out) {
    double cell[9];
    site_columns sites = {NULL, -1, -1, -1, -1, -1, -1};
    sym_op *ops = NULL;
    int n_ops = 0, n = 0, *numbers = NULL;
    double *frac = NULL;
    mlpot_status st;
    if ((st = cell_from_parameters(lr, b, cell)) || (st = find_sites(lr, b, &sites)) ||
        (st = read_operations(lr, b, &ops, &n_ops)))
        return st;
    st = expand_sites(lr, cell, &sites, ops, n_ops, &numbers, &frac, &n);
    free(ops);
    if (st)
        return st;
    for (int a = 0; a < n; a++) {
        double r[3];
        vec3_mat3(&frac[3 * a], cell, r);
        memcpy(&frac[3 * a], r, sizeof r);
    }
    mlpot_structure *s = NULL;
    if ((st = structure_adopt(&s, n, numbers, frac))) {
        free(numbers);
        free(frac);
        return st;
    }
    memcpy(s->cell, cell, sizeof cell);
    s->pbc[0] = s->pbc[1] = s->pbc[2] = 1;
    char where[600];
    snprintf(where, sizeof where, "%s:%ld", lr->name, b->line);
    if ((st = structure_validate(s, where))) {
        mlpot_structure_free(s);
        return st;
    }
    *out = s;
    return MLPOT_OK;
}

mlpot_status cif_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out) {
    (void)opt;
    *out = NULL;
    char q[64];
    lexer lx = {.lr = lr};
    for (;;) {
        token t;
        mlpot_status st = lexer_next(&lx, &t);
        if (st)
            return st;
        if (t.kind == TOK_END)
            return MLPOT_OK;
        if (t.kind != TOK_DATA) {
            st = line_reader_error(lr, "expected data_ to start a data block, found %s",
                                   token_description(&t, q));
            free(t.text);
            return st;
        }
        cif_block b = {.name = t.text, .line = t.line};
        if ((st = read_block(&lx, &b)) == MLPOT_OK && block_has_structure(&b))
            st = block_to_structure(lr, &b, out);
        block_free(&b);
        if (st || *out)
            return st;
    }
}
