/* model.h — the model behind the opaque mlpot_model handle: hyper-parameters (the root
 * attributes of a model file), one flat parameter array, and a table of named tensors
 * ("/embedding" [S, F], ...) that views into it (model.md §3-8, formats.md). The same table
 * drives file reading and writing, initialisation, the gradient array and the named pointers
 * (views) that the layers use. */
#ifndef MLPOT_MODEL_MODEL_H
#define MLPOT_MODEL_MODEL_H

#include <stddef.h>

#include "mlpot/mlpot.h"
#include "model/arch.h"

#define MODEL_MAX_SPECIES 118
#define MODEL_MAX_LAYERS 32
#define MODEL_MAX_WIDTH 4096
#define MODEL_TENSOR_NAME 64

/* The hyper-parameters every architecture has, plus its own (arch->hparams). */
struct model_hparams {
    const model_arch_ops *arch;
    int n_species;
    int species[MODEL_MAX_SPECIES]; /* atomic numbers, ascending */
    double cutoff;                  /* r_c, Å */
    int n_layers;                   /* L */
    int n_features;                 /* F */
    int n_basis;                    /* K */
    int envelope_p;                 /* p, default 6 */
    int readout_hidden;             /* H */
    double avg_neighbors;           /* n_avg */
    double energy_scale, energy_shift;
    double arch_value[ARCH_MAX_HPARAMS]; /* arch->hparams[k] (integers held exactly) */
};

/* An architecture's own hyper-parameter by its index in arch->hparams. */
static inline int arch_hparam_int(const model_hparams *hp, int index) {
    return (int)hp->arch_value[index];
}
static inline double arch_hparam_real(const model_hparams *hp, int index) {
    return hp->arch_value[index];
}

/* A named tensor of the parameter array: path in the model file, offset and shape, and the
 * pointer slot it binds to: byte offset in the common views (model_views) or, when
 * `in_arch_views`, in the architecture's views struct. */
typedef struct {
    char name[MODEL_TENSOR_NAME];
    size_t offset;
    int ndim;     /* 1 or 2 */
    int shape[2]; /* [n] or [rows, cols], row-major */
    size_t size;
    int in_arch_views;
    size_t slot;
} model_tensor;

/* The tensor table, grown as tensors are added. */
struct tensor_table {
    model_tensor *tensors;
    int n, capacity;
    size_t n_params;
};

/* Appends a tensor of shape [rows] (cols == 0) or [rows, cols] bound to the pointer at byte
 * offset `slot` of the architecture's views struct. */
mlpot_status tensor_table_add(tensor_table *t, const char *name, int rows, int cols,
                              size_t slot);

/* Named views of the tensors all architectures share (model.md §3 step 1 and §5). */
typedef struct {
    double *embedding;      /* [S,F] */
    double *species_energy; /* [S] */
    double *readout_W1, *readout_b1, *readout_W2, *readout_b2; /* [F,H] [H] [H,1] [1] */
} model_views;

/* A key/value attribute of the /training group, kept as text (numbers read from a file are
 * formatted as text and written back as strings, see model_file.c). */
typedef struct {
    char *key;
    char *value;
} model_attribute;

/* Per species, the ranges seen over the training frames (formats.md /training `range_*`):
 * the shortest neighbour distance r_ij of an edge received by an atom of the species, the
 * fewest and most neighbours within r_c, and each feature of h_L entering the readout
 * (model.md §5), min and max. */
typedef struct {
    int n_species, n_features;
    double *min_distance;                /* [S] Å */
    double *neighbors_min, *neighbors_max; /* [S] */
    double *readout_min, *readout_max;   /* [S,F] */
} model_ranges;

struct mlpot_model {
    model_hparams hp;
    char *description;
    int n_training;
    model_attribute *training;
    /* What the model saw in training (extrapolation.h), or NULL (older files) */
    model_ranges *ranges;
    int n_tensors;
    model_tensor *tensors;
    size_t n_params;
    double *params;
    model_views v;
    void *arch_views; /* hp.arch->views_size bytes of named pointers into params */
};

/* Sets every hyper-parameter of `arch` to its default (the common ones are left alone). */
void model_hparams_set_arch(model_hparams *hp, const model_arch_ops *arch);
/* Checks the hyper-parameters (ranges, ascending species, ...); `where` starts the message. */
mlpot_status model_hparams_validate(const model_hparams *hp, const char *where);
/* Builds the tensor table for hp (the caller frees t->tensors). */
mlpot_status model_layout(const model_hparams *hp, tensor_table *t);
/* Points common and architecture views at a flat array laid out by the model's table. */
void model_bind_views(const mlpot_model *m, double *base, model_views *common, void *arch_views);
/* The tensor called `name`, or NULL. */
const model_tensor *model_find_tensor(const mlpot_model *m, const char *name);
/* A model with zeroed parameters for hp. */
mlpot_status model_create(const model_hparams *hp, mlpot_model **out);
/* Fills the parameters with a seeded random initialisation (Glorot-uniform weights, zero
 * biases, N(0,1) embeddings, zero species energies); identical for a given seed everywhere. */
void model_init_random(mlpot_model *m, unsigned long long seed);
/* Biases (tensors whose name ends in /b...) and species energies drawn from N(0, std^2), so
 * that tests and random models exercise them too. */
void model_randomize_biases(mlpot_model *m, unsigned long long seed, double std);
mlpot_status model_set_training_attribute(mlpot_model *m, const char *key, const char *value);
/* Index of species Z in the model's list, or -1. */
int model_species_index(const model_hparams *hp, int z);

#endif
