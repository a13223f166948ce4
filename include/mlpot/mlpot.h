/* mlpot.h — the public C interface of libmlpot: status codes, error messages, structures
 * (atoms, cell, periodicity, labels), structure file reading and writing, neighbour graphs,
 * models and committees of models, and symmetry. Every function returns an mlpot_status; on
 * failure mlpot_last_error() says why. */
#ifndef MLPOT_MLPOT_H
#define MLPOT_MLPOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLPOT_VERSION_MAJOR 0
#define MLPOT_VERSION_MINOR 1
#define MLPOT_VERSION_PATCH 0

typedef enum {
    MLPOT_OK = 0,
    MLPOT_ERR_INVALID_ARGUMENT = 1, /* a caller passed a value the function cannot accept */
    MLPOT_ERR_IO = 2,               /* a file could not be opened, read or written */
    MLPOT_ERR_PARSE = 3,            /* a file's content is malformed (message names file:line) */
    MLPOT_ERR_MEMORY = 4,           /* an allocation failed or a size would overflow */
    MLPOT_ERR_INVALID_STRUCTURE = 5, /* e.g. coinciding atoms, singular periodic cell */
    MLPOT_ERR_UNSUPPORTED = 6,      /* a valid request mlpot does not (yet) handle */
    MLPOT_ERR_SYMMETRY = 7          /* spglib could not analyse the structure */
} mlpot_status;

/* Message of the most recent failure in the calling thread ("" if none). The text stays valid
 * until the next mlpot call in the same thread that fails. */
const char *mlpot_last_error(void);
/* Short name of a status code ("ok", "parse error", ...). */
const char *mlpot_status_string(mlpot_status status);
/* "MAJOR.MINOR.PATCH". */
const char *mlpot_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Structures: N atoms with atomic numbers, Cartesian positions (Å), cell rows a, b, c (Å) and
 * periodicity per cell direction, plus optional labels (energy eV, forces eV/Å, stress eV/Å^3 in
 * ASE's sign convention) and free-form key=value information.
 * ------------------------------------------------------------------------------------------- */
typedef struct mlpot_structure mlpot_structure;

/* A new structure from plain arrays: numbers[n_atoms], positions[n_atoms][3] (row-major, Å),
 * cell[3][3] (rows are lattice vectors; may be NULL for a non-periodic structure, meaning zeros),
 * pbc[3] (0/1; NULL means all 0). The arrays are copied. */
mlpot_status mlpot_structure_create(mlpot_structure **out, int n_atoms, const int *numbers,
                                    const double *positions, const double *cell, const int *pbc);
mlpot_status mlpot_structure_copy(mlpot_structure **out, const mlpot_structure *s);
void mlpot_structure_free(mlpot_structure *s);

int mlpot_structure_n_atoms(const mlpot_structure *s);
/* Views into the structure's own arrays; valid until the structure is changed or freed. */
const int *mlpot_structure_numbers(const mlpot_structure *s);
const double *mlpot_structure_positions(const mlpot_structure *s); /* [n_atoms][3] */
const double *mlpot_structure_cell(const mlpot_structure *s);      /* [3][3] rows */
const int *mlpot_structure_pbc(const mlpot_structure *s);          /* [3] */

/* Replace positions (and the cell) of a structure with the same atoms, e.g. between MD steps. */
mlpot_status mlpot_structure_set_positions(mlpot_structure *s, const double *positions);
mlpot_status mlpot_structure_set_cell(mlpot_structure *s, const double *cell, const int *pbc);

/* Labels. Getters return MLPOT_ERR_INVALID_ARGUMENT when the label is absent (use has_*). */
int mlpot_structure_has_energy(const mlpot_structure *s);
int mlpot_structure_has_forces(const mlpot_structure *s);
int mlpot_structure_has_stress(const mlpot_structure *s);
mlpot_status mlpot_structure_energy(const mlpot_structure *s, double *energy);
mlpot_status mlpot_structure_forces(const mlpot_structure *s, double *forces); /* [n][3] out */
mlpot_status mlpot_structure_stress(const mlpot_structure *s, double *stress); /* [3][3] out */
mlpot_status mlpot_structure_set_energy(mlpot_structure *s, double energy);
mlpot_status mlpot_structure_set_forces(mlpot_structure *s, const double *forces);
mlpot_status mlpot_structure_set_stress(mlpot_structure *s, const double *stress);
/* Free-form information (extxyz comment keys other than Lattice/Properties/pbc/energy/stress/
 * virial). Returns NULL when the key is absent. set_info rejects those reserved keys (and an
 * empty key) with MLPOT_ERR_INVALID_ARGUMENT: the writer emits them from the structure. */
const char *mlpot_structure_info(const mlpot_structure *s, const char *key);
mlpot_status mlpot_structure_set_info(mlpot_structure *s, const char *key, const char *value);

/* Cell volume |det L| in Å^3 (0 unless periodic in all three directions). */
double mlpot_structure_volume(const mlpot_structure *s);

/* ---------------------------------------------------------------------------------------------
 * Structure files. Formats: "vasp" (POSCAR/CONTCAR) and "extxyz" (extended XYZ, ASE flavour).
 * A NULL format means: guess from the file name (POSCAR*, CONTCAR*, *.vasp, *.poscar -> vasp;
 * *.xyz, *.extxyz -> extxyz).
 * ------------------------------------------------------------------------------------------- */
typedef struct mlpot_reader mlpot_reader;
typedef struct mlpot_writer mlpot_writer;

typedef struct {
    const char *format;  /* NULL = from the file name */
    const char *species; /* VASP 4 files without a species line: "Si,O" (NULL = from comment) */
} mlpot_read_options;

/* Format name for a path, or NULL if the name says nothing. */
const char *mlpot_format_from_path(const char *path);

mlpot_status mlpot_reader_open(mlpot_reader **out, const char *path,
                               const mlpot_read_options *options);
/* The next frame; *out = NULL (and MLPOT_OK) at the end of the file. The caller frees it. */
mlpot_status mlpot_reader_next(mlpot_reader *reader, mlpot_structure **out);
void mlpot_reader_close(mlpot_reader *reader);

/* Read every frame of a file (convenience; the caller frees each frame and the array). */
mlpot_status mlpot_read_all(const char *path, const mlpot_read_options *options,
                            mlpot_structure ***frames, int *n_frames);

/* A writer writes to a temporary file beside `path` and renames it over `path` on a successful
 * mlpot_writer_close(); mlpot_writer_abort() (or a failed close) removes the temporary file.
 * The "vasp" format holds one frame. A path of "-" writes to standard output. */
mlpot_status mlpot_writer_open(mlpot_writer **out, const char *path, const char *format);
mlpot_status mlpot_writer_write(mlpot_writer *writer, const mlpot_structure *s);
mlpot_status mlpot_writer_close(mlpot_writer *writer);
void mlpot_writer_abort(mlpot_writer *writer);

/* ---------------------------------------------------------------------------------------------
 * Neighbour graphs (model.md §1): every directed edge (i, j, n) with 0 < |r_j + n L - r_i| < r_c,
 * grouped by receiving atom i (CSR), each edge knowing the index of its reverse (j, i, -n).
 * A graph object keeps its buffers between builds (MD steps reuse them).
 * ------------------------------------------------------------------------------------------- */
typedef struct mlpot_graph mlpot_graph;

mlpot_status mlpot_graph_create(mlpot_graph **out);
void mlpot_graph_free(mlpot_graph *g);
mlpot_status mlpot_graph_build(mlpot_graph *g, const mlpot_structure *s, double cutoff);
int mlpot_graph_n_atoms(const mlpot_graph *g);
int64_t mlpot_graph_n_edges(const mlpot_graph *g);
/* Views valid until the next build: row_start[n_atoms + 1]; for edge e: neighbor[e] = j,
 * image[3e..3e+2] = n, vector[3e..3e+2] = d_ij (Å), distance[e] = r_ij, reverse[e]. */
const int64_t *mlpot_graph_row_start(const mlpot_graph *g);
const int *mlpot_graph_neighbors(const mlpot_graph *g);
const int *mlpot_graph_images(const mlpot_graph *g);
const double *mlpot_graph_vectors(const mlpot_graph *g);
const double *mlpot_graph_distances(const mlpot_graph *g);
const int64_t *mlpot_graph_reverse(const mlpot_graph *g);

/* ---------------------------------------------------------------------------------------------
 * Models (model.md): "cgcnn" and "megnet" message-passing potentials stored in HDF5 model files
 * (formats.md). A calculator holds a model's workspace for one structure size and reuses it
 * across calls, so an MD loop allocates nothing once sizes settle.
 * ------------------------------------------------------------------------------------------- */
typedef struct mlpot_model mlpot_model;
typedef struct mlpot_calculator mlpot_calculator;

/* Reads and validates a model file; the message names the first bad attribute or dataset. */
mlpot_status mlpot_model_load(mlpot_model **out, const char *path);
/* Writes a model file (to a temporary name beside `path`, renamed when complete). */
mlpot_status mlpot_model_save(const mlpot_model *m, const char *path);
void mlpot_model_free(mlpot_model *m);
const char *mlpot_model_architecture(const mlpot_model *m); /* "cgcnn" or "megnet" */
double mlpot_model_cutoff(const mlpot_model *m);             /* r_c, Å */
int mlpot_model_n_layers(const mlpot_model *m);
int mlpot_model_n_species(const mlpot_model *m);
const int *mlpot_model_species(const mlpot_model *m); /* atomic numbers, ascending */
size_t mlpot_model_n_parameters(const mlpot_model *m);
const char *mlpot_model_description(const mlpot_model *m); /* "" when none */

/* Results of one evaluation; the caller owns every array. NULL arrays are not computed
 * (forces and stress cost one reverse sweep together). */
typedef struct {
    double energy;    /* eV */
    double *energies; /* [n_atoms] per-atom energies E_i (sum to energy), or NULL */
    double *forces;   /* [n_atoms][3] eV/Å, or NULL */
    double *stress;   /* [3][3] eV/Å^3 (ASE sign), or NULL; only for 3D-periodic cells */
    int has_stress;   /* set to 1 when stress was computed (periodic in 3 directions) */
} mlpot_results;

mlpot_status mlpot_calculator_create(mlpot_calculator **out, const mlpot_model *m);
void mlpot_calculator_free(mlpot_calculator *c);
/* Energy, and on request per-atom energies, forces and stress, of a structure. The model must
 * outlive the calculator. */
mlpot_status mlpot_calculator_compute(mlpot_calculator *c, const mlpot_structure *s,
                                      mlpot_results *results);
/* The energy of a subset of the atoms, E_C = sum of E_i over the atoms with contributing[i] != 0
 * (each E_i evaluated in the whole structure s), and its derivatives with respect to every atom:
 * what a domain-decomposed simulator needs. LAMMPS through KIM, for instance, passes a rank's own
 * atoms as contributing and, as an open structure, the ghost atoms around them within
 * n_layers * cutoff, which makes every contributing E_i exact. Results: energy = E_C;
 * energies[i] = E_i for contributing atoms and 0 for the others; forces[k] = -dE_C/dr_k on every
 * atom, non-contributing ones included; stress (3D-periodic cells only) = (1/V) dE_C/d(epsilon).
 * virials ([n_atoms][9] row-major, or NULL) receives per-atom virials in the sign of formats.md
 * (W = -V sigma): W_k = -sum over the edges (k, j) that k receives of d_kj (x) dE_C/dd_kj, so
 * that sum_k W_k = -V sigma on a periodic cell and sum_k r_k (x) F_k on an open structure.
 * contributing = NULL means every atom (then the results equal mlpot_calculator_compute's). */
mlpot_status mlpot_calculator_compute_subset(mlpot_calculator *c, const mlpot_structure *s,
                                             const int *contributing, mlpot_results *results,
                                             double *virials);

/* Extrapolation (models trained by this version store, per species, the shortest neighbour
 * distance, the fewest and most neighbours within r_c and the range of each readout input
 * feature seen over the training frames; older model files have none and never extrapolate).
 * After mlpot_calculator_compute, the atoms of that structure outside those ranges, one entry per
 * atom for its worst quantity. excess is how far beyond the range the value lies, relative to the
 * range's width (a distance range runs from the shortest seen to r_c). */
typedef enum {
    MLPOT_RANGE_DISTANCE,     /* shortest neighbour distance of the atom, Å */
    MLPOT_RANGE_NEIGHBORS,    /* neighbours within r_c */
    MLPOT_RANGE_READOUT_INPUT /* a feature of h_L entering the readout (model.md §5) */
} mlpot_range_quantity;

typedef struct {
    int atom;     /* 0-based */
    int quantity; /* mlpot_range_quantity */
    int feature;  /* for MLPOT_RANGE_READOUT_INPUT, else -1 */
    double value, low, high; /* the atom's value and the training range */
    double excess;           /* > 0 */
} mlpot_extrapolation;

/* Whether the model carries training ranges. */
int mlpot_model_has_ranges(const mlpot_model *m);
/* Writes the worst min(capacity, count) atoms, worst first, into out (may be NULL when
 * capacity is 0) and their number into *count (0 when none or the model has no ranges). */
mlpot_status mlpot_calculator_extrapolation(const mlpot_calculator *c, mlpot_extrapolation *out,
                                            int capacity, int *count);
/* One line (no newline) for a warning, "" when nothing extrapolates: how many atoms, the first
 * few by name and number, and the worst excess. *count (may be NULL) gets the number of atoms. */
mlpot_status mlpot_calculator_extrapolation_message(const mlpot_calculator *c, char *text,
                                                    size_t size, int *count);

/* ---------------------------------------------------------------------------------------------
 * Committees: several models (e.g. trained from different seeds or data splits) evaluated on
 * one structure. The mean of their predictions is the prediction; their spread estimates its
 * error (DeePMD's model deviation): the population standard deviation of the energies divided
 * by the number of atoms, and per atom sqrt(<|F_i - <F_i>|^2>) over the models, with its max
 * and mean over the atoms. Models may differ in architecture and cutoff (each keeps its own
 * neighbour graph); each must know every species of the structure. A committee of one model
 * gives exactly that model's results and zero deviation. Buffers grow on the first call for a
 * size and are reused after it.
 * ------------------------------------------------------------------------------------------- */
typedef struct mlpot_committee mlpot_committee;

/* The spread of a committee's predictions. */
typedef struct {
    double energy_std_per_atom;  /* eV/atom */
    double force_deviation_max;  /* eV/Å, max over atoms of sqrt(<|F_i - <F_i>|^2>) */
    double force_deviation_mean; /* eV/Å, its mean over atoms */
    double *force_deviations;    /* [n_atoms] the per-atom deviations (caller's array), or NULL */
} mlpot_committee_deviation;

/* A committee of models[0..n_models-1] (n_models >= 1); the models must outlive it. */
mlpot_status mlpot_committee_create(mlpot_committee **out, const mlpot_model *const *models,
                                    int n_models);
void mlpot_committee_free(mlpot_committee *c);
int mlpot_committee_size(const mlpot_committee *c);
/* The calculator of member k (0-based), which after mlpot_committee_compute holds that model's
 * evaluation of the structure (for mlpot_calculator_extrapolation); owned by the committee. */
mlpot_status mlpot_committee_calculator(const mlpot_committee *c, int k,
                                        const mlpot_calculator **out);
/* The mean energy and, on request (non-NULL arrays of mean), per-atom energies, forces and
 * stress (3D-periodic cells) of the models, and their spread (deviation may be NULL). The
 * forces are evaluated for the deviation even when mean->forces is NULL. */
mlpot_status mlpot_committee_compute(mlpot_committee *c, const mlpot_structure *s,
                                     mlpot_results *mean, mlpot_committee_deviation *deviation);

/* ---------------------------------------------------------------------------------------------
 * Symmetry (spglib), for structures periodic in all three directions. symprec in Å.
 * ------------------------------------------------------------------------------------------- */
typedef struct {
    int number;          /* international space-group number 1..230 */
    char symbol[11];     /* international short symbol, e.g. "Fd-3m" */
    char hall_symbol[17];
    char point_group[6];
    int n_operations;
} mlpot_spacegroup;

mlpot_status mlpot_symmetry_spacegroup(const mlpot_structure *s, double symprec,
                                       mlpot_spacegroup *out);
/* equivalent[i] = smallest index of an atom equivalent to atom i (array of n_atoms). */
mlpot_status mlpot_symmetry_equivalent_atoms(const mlpot_structure *s, double symprec,
                                             int *equivalent);
/* Standardised cells as new structures (labels are dropped). */
mlpot_status mlpot_symmetry_primitive(const mlpot_structure *s, double symprec,
                                      mlpot_structure **out);
mlpot_status mlpot_symmetry_conventional(const mlpot_structure *s, double symprec,
                                         mlpot_structure **out);
/* The same lattice with a Niggli-reduced (or Delaunay-reduced) basis; atoms wrapped into it. */
mlpot_status mlpot_symmetry_niggli(const mlpot_structure *s, double symprec,
                                   mlpot_structure **out);
mlpot_status mlpot_symmetry_delaunay(const mlpot_structure *s, double symprec,
                                     mlpot_structure **out);
/* Averages forces ([n][3], may be NULL) and stress ([3][3], may be NULL) over the space group
 * of s, so that a relaxation keeps the symmetry. */
mlpot_status mlpot_symmetrize(const mlpot_structure *s, double symprec, double *forces,
                              double *stress);

#ifdef __cplusplus
}
#endif
#endif
