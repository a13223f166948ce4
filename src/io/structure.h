/* structure.h — the in-memory structure behind the opaque mlpot_structure handle: atoms, cell,
 * periodicity, optional labels, free-form info and extra per-atom columns (kept so that extended
 * XYZ files round-trip). */
#ifndef MLPOT_IO_STRUCTURE_H
#define MLPOT_IO_STRUCTURE_H

#include "mlpot/mlpot.h"

/* An extra per-atom column of an extended XYZ file (type 'R', 'I', 'L' or 'S'). Numeric and
 * logical values live in `values` [n_atoms * n_cols]; strings in `strings`. */
typedef struct {
    char *name;
    char type;
    int n_cols;
    double *values;
    char **strings;
} structure_column;

typedef struct {
    char *key;
    char *value;
} structure_info_item;

struct mlpot_structure {
    int n_atoms;
    int *numbers;      /* [n_atoms] */
    double *positions; /* [n_atoms][3], Å */
    double cell[9];    /* rows a, b, c, Å */
    int pbc[3];
    int has_energy;
    double energy;  /* eV */
    double *forces; /* [n_atoms][3] eV/Å, NULL when absent */
    int has_stress;
    double stress[9]; /* eV/Å^3, ASE sign */
    int n_info;
    structure_info_item *info;
    int n_columns;
    structure_column *columns;
};

/* An empty structure with room for n_atoms atoms (numbers and positions zeroed). */
mlpot_status structure_alloc(mlpot_structure **out, int n_atoms);
/* Takes ownership of already-filled arrays (numbers, positions) of n_atoms atoms. */
mlpot_status structure_adopt(mlpot_structure **out, int n_atoms, int *numbers, double *positions);
/* Appends an extra column; takes ownership of name, values and strings. */
mlpot_status structure_add_column(mlpot_structure *s, structure_column column);
void structure_column_free(structure_column *c, int n_atoms);
/* 1 if all three directions are periodic. */
int structure_is_periodic3(const mlpot_structure *s);
/* Checks finite positions and cell, a non-singular cell along periodic directions, and
 * atomic numbers in 1..118; the message starts with `where`. */
mlpot_status structure_validate(const mlpot_structure *s, const char *where);
/* Hill-order formula (C, H, then alphabetical; all alphabetical without C): "Cl4Na4". */
void structure_formula(const mlpot_structure *s, char *out, size_t size);

#endif
