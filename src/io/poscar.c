/* poscar.c — VASP POSCAR/CONTCAR reading and writing as formats.md describes: VASP 5 and 4,
 * the three forms of the scale factor, selective dynamics, Direct/Cartesian; a velocity block
 * after the positions is ignored. */
#include "io/structure_formats.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/elements.h"
#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"

#define POSCAR_MAX_ATOMS 100000000L

/* The number of white-space separated words of `line`. */
static int count_tokens(const char *line) {
    int n = 0;
    for (const char *p = line; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        n++;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    return n;
}

/* Next line, or a parse error naming what was expected at the end of the file. */
static mlpot_status next_line(line_reader *lr, char **line, const char *expected) {
    mlpot_status st = line_reader_next(lr, line);
    if (st)
        return st;
    if (!*line) {
        lr->line++;
        return line_reader_error(lr, "expected %s, found end of file", expected);
    }
    return MLPOT_OK;
}

/* A species token of a VASP 5 species line may carry a POTCAR suffix ("Si_pv", "Si/abc"). */
static int species_from_token(const char *token) {
    int len = 0;
    while (token[len] && token[len] != '_' && token[len] != '/' && token[len] != ':')
        len++;
    return element_from_symbol_n(token, len);
}

static mlpot_status read_vector(line_reader *lr, char *line, double v[3], const char *what) {
    char *tok[4];
    char q[64];
    int n = split_tokens(line, tok, 4);
    for (int k = 0; k < 3; k++)
        if (k >= n || !parse_double(tok[k], &v[k]))
            return line_reader_error(lr, "expected %s (3 numbers), found %s", what,
                                     quote_token(k < n ? tok[k] : NULL, q));
    return MLPOT_OK;
}

/* 1 if structure_validate accepts `cell` for a structure periodic in 3D: the test a cell that
 * was read (and so the cell written back) must pass, independent of the cell's size. */
static int cell_is_regular(const double cell[9]) {
    mlpot_structure probe;
    memset(&probe, 0, sizeof probe);
    memcpy(probe.cell, cell, sizeof probe.cell);
    probe.pbc[0] = probe.pbc[1] = probe.pbc[2] = 1;
    return structure_validate(&probe, "") == MLPOT_OK;
}

/* Species of a VASP 4 file: the --species option, else the first words of the comment (as
 * many as there are counts: a species may come back in several groups). */
static mlpot_status vasp4_species(line_reader *lr, const mlpot_read_options *opt, char *comment,
                                  int n_species, int *species) {
    const char *src = opt && opt->species ? opt->species : comment;
    char *buf = NULL, **tok = NULL;
    mlpot_status st;
    if ((st = mem_strdup(&buf, src)) || (st = mem_calloc(&tok, (size_t)n_species, sizeof *tok))) {
        free(buf);
        return st;
    }
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = ' ';
    int n = split_tokens(buf, tok, n_species);
    for (int k = 0; k < n_species && !st; k++) {
        species[k] = k < n ? species_from_token(tok[k]) : 0;
        if (!species[k])
            st = line_reader_error(
                lr,
                "expected a VASP 5 species line or %d element symbols in the comment line (or "
                "--species), found counts only",
                n_species);
    }
    free(buf);
    free(tok);
    return st;
}

mlpot_status poscar_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out) {
    char *line, *tok[7];
    char q[64];
    char comment[1024];
    mlpot_status st;
    *out = NULL;

    if ((st = line_reader_next(lr, &line)))
        return st;
    if (!line) {
        lr->line++;
        return line_reader_error(lr, "expected a POSCAR comment line, found an empty file");
    }
    snprintf(comment, sizeof comment, "%s", line);

    /* scale factor: one value (>0 scale, <0 volume) or three positive values */
    double scale[3];
    if ((st = next_line(lr, &line, "the scale factor")))
        return st;
    long scale_line = lr->line;
    int n = split_tokens(line, tok, 4);
    int n_scale = (n >= 3 && parse_double(tok[1], &scale[1])) ? 3 : 1;
    for (int k = 0; k < n_scale; k++)
        if (k >= n || !parse_double(tok[k], &scale[k]))
            return line_reader_error(lr, "expected the scale factor (1 or 3 numbers), found %s",
                                     quote_token(k < n ? tok[k] : NULL, q));
    if (n_scale == 1 && scale[0] == 0.0)
        return line_reader_error(lr, "expected a non-zero scale factor, found 0");
    if (n_scale == 3 && (scale[0] <= 0 || scale[1] <= 0 || scale[2] <= 0))
        return line_reader_error(lr, "expected three positive scale factors");

    double cell[9];
    static const char *vec_name[3] = {"lattice vector a", "lattice vector b", "lattice vector c"};
    for (int k = 0; k < 3; k++) {
        if ((st = next_line(lr, &line, vec_name[k])) ||
            (st = read_vector(lr, line, &cell[3 * k], vec_name[k])))
            return st;
    }
    /* A relative test: an absolute bound on the determinant would reject tiny cells that a
     * scale factor then enlarges, and the scaled cells that are written back. */
    if (!cell_is_regular(cell))
        return line_reader_error(lr, "expected three linearly independent lattice vectors");
    double det = mat3_det(cell);

    /* VASP 5 species line, or directly the counts (VASP 4). A species may come back in several
     * groups ("In P In P", as ASE writes unsorted atoms), so there is no bound on the groups
     * but the line's length. */
    if ((st = next_line(lr, &line, "the species or counts line")))
        return st;
    n = count_tokens(line);
    if (n == 0)
        return line_reader_error(lr, "expected element symbols or atom counts, found a blank line");
    int *species = NULL;
    long *counts = NULL;
    char **words = NULL;
    int *numbers = NULL;
    double *pos = NULL;
    if ((st = mem_calloc(&species, (size_t)n, sizeof *species)) ||
        (st = mem_calloc(&counts, (size_t)n, sizeof *counts)) ||
        (st = mem_calloc(&words, (size_t)n + 1, sizeof *words)))
        goto fail;
    split_tokens(line, words, n);
    long dummy;
    int vasp5 = !parse_long(words[0], &dummy);
    int n_species = n;
    if (vasp5) {
        for (int k = 0; k < n; k++)
            if (!(species[k] = species_from_token(words[k]))) {
                st = line_reader_error(lr, "expected an element symbol, found %s",
                                       quote_token(words[k], q));
                goto fail;
            }
        if ((st = next_line(lr, &line, "the atom counts line")))
            goto fail;
        int nc = split_tokens(line, words, n_species + 1);
        if (nc < n_species) {
            st = line_reader_error(lr, "expected %d atom counts (one per species), found %d",
                                   n_species, nc);
            goto fail;
        }
        n = nc < n_species + 1 ? nc : n_species + 1;
    }
    /* Counts run up to the first word that is not an integer (a comment may follow them): in
     * VASP 4 they give the number of species; in VASP 5 they must match the species line. */
    int n_counts = 0;
    while (n_counts < n && parse_long(words[n_counts], &dummy))
        n_counts++;
    if (!vasp5)
        n_species = n_counts;
    else if (n_counts > n_species) {
        st = line_reader_error(lr, "expected %d atom counts (one per species), found %d",
                               n_species, n_counts);
        goto fail;
    }
    long total = 0;
    for (int k = 0; k < n_species; k++) {
        if (!parse_long(words[k], &counts[k]) || counts[k] < 1) {
            st = line_reader_error(lr, "expected a positive atom count, found %s",
                                   quote_token(words[k], q));
            goto fail;
        }
        if (counts[k] > POSCAR_MAX_ATOMS - total) { /* not total + count: that may overflow */
            st = line_reader_error(lr, "expected at most 10^8 atoms in all, found more");
            goto fail;
        }
        total += counts[k];
    }
    if (!vasp5 && (st = vasp4_species(lr, opt, comment, n_species, species)))
        goto fail;

    if ((st = next_line(lr, &line, "'Direct' or 'Cartesian'")))
        goto fail;
    while (isspace((unsigned char)*line))
        line++;
    int selective = (*line == 's' || *line == 'S');
    if (selective) {
        if ((st = next_line(lr, &line, "'Direct' or 'Cartesian'")))
            goto fail;
        while (isspace((unsigned char)*line))
            line++;
    }
    int cartesian;
    if (*line == 'c' || *line == 'C' || *line == 'k' || *line == 'K')
        cartesian = 1;
    else if (*line == 'd' || *line == 'D')
        cartesian = 0;
    else {
        st = line_reader_error(lr, "expected 'Direct' or 'Cartesian', found %s",
                               quote_token(line, q));
        goto fail;
    }

    /* Apply the scale factor to the cell (formats.md: VASP's definition). */
    double factor[3] = {scale[0], scale[0], scale[0]};
    if (n_scale == 3) {
        factor[1] = scale[1];
        factor[2] = scale[2];
    } else if (scale[0] < 0) {
        double f = cbrt(-scale[0] / fabs(det));
        factor[0] = factor[1] = factor[2] = f;
    }
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            cell[3 * k + c] *= factor[c];
    if (!cell_is_regular(cell)) {
        char text[100], a[32], b[32], c[32];
        format_double(a, scale[0]);
        format_double(b, scale[1]);
        format_double(c, scale[2]);
        if (n_scale == 3)
            snprintf(text, sizeof text, "%s %s %s", a, b, c);
        else
            snprintf(text, sizeof text, "%s", a);
        st = error_set(MLPOT_ERR_PARSE,
                       "%s:%ld: expected a scale factor that leaves the cell finite and "
                       "non-singular, found %s",
                       lr->name, scale_line, text);
        goto fail;
    }

    /* Positions: the arrays grow as lines arrive, so a wrong count cannot make us allocate it. */
    size_t cap_n = 0, cap_p = 0;
    int n_atoms = 0;
    for (int sp = 0; sp < n_species; sp++) {
        for (long a = 0; a < counts[sp]; a++) {
            char what[96];
            snprintf(what, sizeof what, "coordinates of atom %d of %ld", n_atoms + 1, total);
            if ((st = next_line(lr, &line, what)))
                goto fail;
            int nt = split_tokens(line, tok, 7);
            double x[3];
            for (int k = 0; k < 3; k++)
                if (k >= nt || !parse_double(tok[k], &x[k])) {
                    st = line_reader_error(lr, "expected %s (3 numbers), found %s", what,
                                           quote_token(k < nt ? tok[k] : NULL, q));
                    goto fail;
                }
            if (selective)
                for (int k = 3; k < 6; k++)
                    if (k >= nt || !(tok[k][0] == 'T' || tok[k][0] == 'F' || tok[k][0] == 't' ||
                                     tok[k][0] == 'f')) {
                        st = line_reader_error(
                            lr, "expected 3 selective-dynamics flags (T/F) after the coordinates, "
                                "found %s",
                            quote_token(k < nt ? tok[k] : NULL, q));
                        goto fail;
                    }
            if ((st = mem_reserve(&numbers, &cap_n, (size_t)n_atoms + 1, sizeof *numbers)) ||
                (st = mem_reserve(&pos, &cap_p, (size_t)n_atoms * 3 + 3, sizeof *pos)))
                goto fail;
            double *r = &pos[3 * n_atoms];
            if (cartesian) {
                for (int k = 0; k < 3; k++)
                    r[k] = x[k] * factor[k];
            } else {
                vec3_mat3(x, cell, r);
            }
            if (!(isfinite(r[0]) && isfinite(r[1]) && isfinite(r[2]))) {
                st = line_reader_error(lr, "expected %s, found coordinates that overflow once "
                                           "scaled",
                                       what);
                goto fail;
            }
            numbers[n_atoms++] = species[sp];
        }
    }
    mlpot_structure *s = NULL;
    if ((st = structure_adopt(&s, n_atoms, numbers, pos)))
        goto fail;
    numbers = NULL;
    pos = NULL;
    memcpy(s->cell, cell, sizeof cell);
    s->pbc[0] = s->pbc[1] = s->pbc[2] = 1;
    if ((st = structure_validate(s, lr->name)))
        mlpot_structure_free(s);
    else
        *out = s;
fail:
    free(species);
    free(counts);
    free(words);
    free(numbers);
    free(pos);
    return st;
}
mlpot_status poscar_write(FILE *fp, const mlpot_structure *s) {
    if (!structure_is_periodic3(s) || !(fabs(mat3_det(s->cell)) > 0))
        return error_set(MLPOT_ERR_UNSUPPORTED,
                         "the vasp format needs a cell periodic in three directions");
    if (s->n_atoms < 1)
        return error_set(MLPOT_ERR_UNSUPPORTED, "the vasp format needs at least one atom");
    char formula[512];
    structure_formula(s, formula, sizeof formula);
    fprintf(fp, "%s\n1.0\n", formula[0] ? formula : "empty");
    for (int k = 0; k < 3; k++) {
        char a[32], b[32], c[32];
        format_double(a, s->cell[3 * k]);
        format_double(b, s->cell[3 * k + 1]);
        format_double(c, s->cell[3 * k + 2]);
        fprintf(fp, "  %22s %22s %22s\n", a, b, c);
    }
    /* Species in runs of equal atoms, so that the atom order is kept as it is. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->n_atoms;) {
            int j = i;
            while (j < s->n_atoms && s->numbers[j] == s->numbers[i])
                j++;
            if (pass == 0)
                fprintf(fp, " %4s", element_symbol(s->numbers[i]));
            else
                fprintf(fp, " %4d", j - i);
            i = j;
        }
        fputc('\n', fp);
    }
    fprintf(fp, "Cartesian\n");
    for (int i = 0; i < s->n_atoms; i++) {
        char a[32], b[32], c[32];
        format_double(a, s->positions[3 * i]);
        format_double(b, s->positions[3 * i + 1]);
        format_double(c, s->positions[3 * i + 2]);
        fprintf(fp, "  %22s %22s %22s\n", a, b, c);
    }
    return ferror(fp) ? error_set(MLPOT_ERR_IO, "write error") : MLPOT_OK;
}
