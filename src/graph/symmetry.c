/* symmetry.c — spglib wrappers: space group, equivalent atoms, primitive and conventional
 * standard cells, and Niggli/Delaunay reduced cells (also used by the neighbour graph). spglib
 * keeps lattice vectors in columns; mlpot keeps them in rows, hence the transposes. */
#include "graph/symmetry.h"

#include <math.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "io/structure.h"

static void rows_to_spglib(const double rows[9], double lattice[3][3]) {
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            lattice[j][i] = rows[3 * i + j];
}

static void spglib_to_rows(const double lattice[3][3], double rows[9]) {
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            rows[3 * i + j] = lattice[j][i];
}

mlpot_status lattice_reduce(const double cell[9], int niggli, double eps, double reduced[9],
                            int map[9]) {
    double lattice[3][3];
    rows_to_spglib(cell, lattice);
    int ok = niggli ? spg_niggli_reduce(lattice, eps) : spg_delaunay_reduce(lattice, eps);
    if (!ok)
        return error_set(MLPOT_ERR_SYMMETRY, "spglib could not reduce the cell");
    double rows[9], inv[9], m[9];
    spglib_to_rows(lattice, rows);
    if (mat3_inverse(cell, inv) == 0.0)
        return error_set(MLPOT_ERR_INVALID_STRUCTURE, "singular cell");
    /* reduced = map * cell with an integer, unimodular map */
    mat3_mul(rows, inv, m);
    for (int k = 0; k < 9; k++) {
        double r = round(m[k]);
        if (fabs(m[k] - r) > 1e-6 || fabs(r) > 1e6)
            return error_set(MLPOT_ERR_SYMMETRY, "reduced cell is not a basis of the lattice");
        map[k] = (int)r;
    }
    double dm[9];
    for (int k = 0; k < 9; k++)
        dm[k] = map[k];
    if (fabs(fabs(mat3_det(dm)) - 1.0) > 1e-9)
        return error_set(MLPOT_ERR_SYMMETRY, "reduced cell has a different volume");
    mat3_mul(dm, cell, reduced); /* exact integer combinations of the input rows */
    return MLPOT_OK;
}

static mlpot_status require_periodic(const mlpot_structure *s) {
    if (!structure_is_periodic3(s))
        return error_set(MLPOT_ERR_UNSUPPORTED,
                         "symmetry analysis needs a structure periodic in three directions");
    if (s->n_atoms < 1)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "symmetry analysis needs at least one atom");
    return MLPOT_OK;
}

/* Fractional coordinates of the structure's atoms (as spglib wants them). */
static mlpot_status fractional(const mlpot_structure *s, double (**out)[3]) {
    double inv[9];
    if (mat3_inverse(s->cell, inv) == 0.0)
        return error_set(MLPOT_ERR_INVALID_STRUCTURE, "singular cell");
    double(*frac)[3] = NULL;
    mlpot_status st = mem_calloc(&frac, (size_t)s->n_atoms, sizeof *frac);
    if (st)
        return st;
    for (int i = 0; i < s->n_atoms; i++)
        vec3_mat3(&s->positions[3 * i], inv, frac[i]);
    *out = frac;
    return MLPOT_OK;
}

static mlpot_status get_dataset(const mlpot_structure *s, double symprec, SpglibDataset **out) {
    mlpot_status st = require_periodic(s);
    if (st)
        return st;
    if (!(symprec > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "symprec must be positive");
    double(*frac)[3] = NULL;
    if ((st = fractional(s, &frac)))
        return st;
    double lattice[3][3];
    rows_to_spglib(s->cell, lattice);
    SpglibDataset *ds = spg_get_dataset(lattice, frac, s->numbers, s->n_atoms, symprec);
    free(frac);
    if (!ds)
        return error_set(MLPOT_ERR_SYMMETRY, "spglib found no space group at symprec %g: %s",
                         symprec, spg_get_error_message(spg_get_error_code()));
    *out = ds;
    return MLPOT_OK;
}

mlpot_status mlpot_symmetry_spacegroup(const mlpot_structure *s, double symprec,
                                       mlpot_spacegroup *out) {
    SpglibDataset *ds = NULL;
    mlpot_status st = get_dataset(s, symprec, &ds);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->number = ds->spacegroup_number;
    snprintf(out->symbol, sizeof out->symbol, "%s", ds->international_symbol);
    snprintf(out->hall_symbol, sizeof out->hall_symbol, "%s", ds->hall_symbol);
    snprintf(out->point_group, sizeof out->point_group, "%s", ds->pointgroup_symbol);
    out->n_operations = ds->n_operations;
    spg_free_dataset(ds);
    return MLPOT_OK;
}

mlpot_status mlpot_symmetry_equivalent_atoms(const mlpot_structure *s, double symprec,
                                             int *equivalent) {
    SpglibDataset *ds = NULL;
    mlpot_status st = get_dataset(s, symprec, &ds);
    if (st)
        return st;
    memcpy(equivalent, ds->equivalent_atoms, (size_t)s->n_atoms * sizeof *equivalent);
    spg_free_dataset(ds);
    return MLPOT_OK;
}

mlpot_status symmetry_operations(const mlpot_structure *s, double symprec, int *n_ops,
                                 int (**rotations)[3][3], double (**translations)[3]) {
    SpglibDataset *ds = NULL;
    mlpot_status st = get_dataset(s, symprec, &ds);
    if (st)
        return st;
    int(*rot)[3][3] = NULL;
    double(*tr)[3] = NULL;
    if ((st = mem_calloc(&rot, (size_t)ds->n_operations, sizeof *rot)) ||
        (st = mem_calloc(&tr, (size_t)ds->n_operations, sizeof *tr))) {
        free(rot);
        spg_free_dataset(ds);
        return st;
    }
    memcpy(rot, ds->rotations, (size_t)ds->n_operations * sizeof *rot);
    memcpy(tr, ds->translations, (size_t)ds->n_operations * sizeof *tr);
    *n_ops = ds->n_operations;
    *rotations = rot;
    *translations = tr;
    spg_free_dataset(ds);
    return MLPOT_OK;
}

/* spg_standardize_cell writes up to 4x the input atoms (a primitive input, centred lattice). */
static mlpot_status standardize(const mlpot_structure *s, double symprec, int to_primitive,
                                mlpot_structure **out) {
    mlpot_status st = require_periodic(s);
    if (st)
        return st;
    double(*frac)[3] = NULL;
    if ((st = fractional(s, &frac)))
        return st;
    size_t cap = (size_t)s->n_atoms * 4;
    double(*pos)[3] = NULL;
    int *types = NULL;
    if ((st = mem_calloc(&pos, cap, sizeof *pos)) || (st = mem_calloc(&types, cap, sizeof *types))) {
        free(frac);
        free(pos);
        return st;
    }
    memcpy(pos, frac, (size_t)s->n_atoms * sizeof *pos);
    memcpy(types, s->numbers, (size_t)s->n_atoms * sizeof *types);
    free(frac);
    double lattice[3][3];
    rows_to_spglib(s->cell, lattice);
    int n = spg_standardize_cell(lattice, pos, types, s->n_atoms, to_primitive, 0, symprec);
    if (n <= 0) {
        free(pos);
        free(types);
        return error_set(MLPOT_ERR_SYMMETRY, "spglib could not standardise the cell: %s",
                         spg_get_error_message(spg_get_error_code()));
    }
    double cell[9];
    spglib_to_rows(lattice, cell);
    double *cart = NULL;
    if ((st = mem_calloc(&cart, (size_t)n * 3, sizeof *cart))) {
        free(pos);
        free(types);
        return st;
    }
    for (int i = 0; i < n; i++)
        vec3_mat3(pos[i], cell, &cart[3 * i]);
    int pbc[3] = {1, 1, 1};
    st = mlpot_structure_create(out, n, types, cart, cell, pbc);
    free(pos);
    free(types);
    free(cart);
    return st;
}

mlpot_status mlpot_symmetry_primitive(const mlpot_structure *s, double symprec,
                                      mlpot_structure **out) {
    return standardize(s, symprec, 1, out);
}

mlpot_status mlpot_symmetry_conventional(const mlpot_structure *s, double symprec,
                                         mlpot_structure **out) {
    return standardize(s, symprec, 0, out);
}

static mlpot_status reduced_structure(const mlpot_structure *s, int niggli, double symprec,
                                      mlpot_structure **out) {
    mlpot_status st = require_periodic(s);
    if (st)
        return st;
    double reduced[9], inv[9];
    int map[9];
    if ((st = lattice_reduce(s->cell, niggli, symprec, reduced, map)))
        return st;
    mat3_inverse(reduced, inv);
    double *cart = NULL;
    if ((st = mem_calloc(&cart, (size_t)s->n_atoms * 3, sizeof *cart)))
        return st;
    for (int i = 0; i < s->n_atoms; i++) {
        double f[3];
        vec3_mat3(&s->positions[3 * i], inv, f);
        for (int k = 0; k < 3; k++)
            f[k] -= floor(f[k]);
        vec3_mat3(f, reduced, &cart[3 * i]);
    }
    st = mlpot_structure_create(out, s->n_atoms, s->numbers, cart, reduced, s->pbc);
    free(cart);
    return st;
}

mlpot_status mlpot_symmetry_niggli(const mlpot_structure *s, double symprec,
                                   mlpot_structure **out) {
    return reduced_structure(s, 1, symprec, out);
}

mlpot_status mlpot_symmetry_delaunay(const mlpot_structure *s, double symprec,
                                     mlpot_structure **out) {
    return reduced_structure(s, 0, symprec, out);
}

/* Forces and stress averaged over the space group: F_sym(g i) = (1/|G|) sum_g R_g F_i and
 * sigma_sym = (1/|G|) sum_g R_g sigma R_g^T, with R_g = A R A^-1 the Cartesian rotation of an
 * operation (A: lattice vectors as columns). Either array may be NULL. */
mlpot_status mlpot_symmetrize(const mlpot_structure *s, double symprec, double *forces,
                              double *stress) {
    int n_ops = 0;
    int(*rot)[3][3] = NULL;
    double(*tr)[3] = NULL;
    mlpot_status st = symmetry_operations(s, symprec, &n_ops, &rot, &tr);
    if (st)
        return st;
    int n = s->n_atoms;
    double A[9], Ainv[9], inv[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            A[3 * i + j] = s->cell[3 * j + i];
    mat3_inverse(A, Ainv);
    mat3_inverse(s->cell, inv);
    double(*frac)[3] = NULL;
    double *fsum = NULL;
    if ((st = mem_calloc(&frac, (size_t)n, sizeof *frac)) ||
        (st = mem_calloc(&fsum, (size_t)n * 3, sizeof *fsum)))
        goto done;
    for (int i = 0; i < n; i++)
        vec3_mat3(&s->positions[3 * i], inv, frac[i]);
    double ssum[9] = {0};
    for (int g = 0; g < n_ops; g++) {
        double R[9], tmp[9], Rc[9];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                R[3 * a + b] = rot[g][a][b];
        mat3_mul(A, R, tmp);
        mat3_mul(tmp, Ainv, Rc);
        if (stress) {
            double t2[9], RT[9];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    RT[3 * a + b] = Rc[3 * b + a];
            mat3_mul(Rc, stress, tmp);
            mat3_mul(tmp, RT, t2);
            for (int k = 0; k < 9; k++)
                ssum[k] += t2[k];
        }
        if (!forces)
            continue;
        for (int i = 0; i < n; i++) {
            double x[3];
            for (int a = 0; a < 3; a++)
                x[a] = R[3 * a] * frac[i][0] + R[3 * a + 1] * frac[i][1] +
                       R[3 * a + 2] * frac[i][2] + tr[g][a];
            int best = -1;
            double best_d = 0;
            for (int j = 0; j < n; j++) {
                if (s->numbers[j] != s->numbers[i])
                    continue;
                double d[3], c[3];
                for (int a = 0; a < 3; a++) {
                    d[a] = x[a] - frac[j][a];
                    d[a] -= round(d[a]);
                }
                vec3_mat3(d, s->cell, c);
                double dist = sqrt(vec3_dot(c, c));
                if (best < 0 || dist < best_d) {
                    best = j;
                    best_d = dist;
                }
            }
            if (best < 0 || best_d > 2 * symprec + 1e-8) {
                st = error_set(MLPOT_ERR_SYMMETRY,
                               "symmetry operation %d maps atom %d onto no atom (symprec %g)",
                               g + 1, i + 1, symprec);
                goto done;
            }
            const double *f = &forces[3 * i];
            for (int a = 0; a < 3; a++)
                fsum[3 * best + a] += Rc[3 * a] * f[0] + Rc[3 * a + 1] * f[1] + Rc[3 * a + 2] * f[2];
        }
    }
    if (forces)
        for (int k = 0; k < 3 * n; k++)
            forces[k] = fsum[k] / n_ops;
    if (stress)
        for (int k = 0; k < 9; k++)
            stress[k] = ssum[k] / n_ops;
done:
    free(frac);
    free(fsum);
    free(rot);
    free(tr);
    return st;
}
