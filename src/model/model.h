/* model.h — the model behind the opaque mlpot_model handle: hyper-parameters (the root
 * attributes of a model file), one flat parameter array, and a table of named tensors
 * ("/layers/0/W_self" [F, 2F], ...) that views into it (model.md §3-5, formats.md). The same
 * table drives file reading and writing, initialisation and the gradient array. */
#ifndef MLPOT_MODEL_MODEL_H
#define MLPOT_MODEL_MODEL_H

#include <stddef.h>

#include "mlpot/mlpot.h"

#define MODEL_MAX_SPECIES 118
#define MODEL_MAX_LAYERS 32
#define MODEL_MAX_TENSORS (8 + 8 * MODEL_MAX_LAYERS)
#define MODEL_MAX_WIDTH 4096

typedef enum { MODEL_ARCH_CGCNN = 1, MODEL_ARCH_MEGNET = 2 } model_arch;

typedef struct {
    model_arch arch;
    int n_species;
    int species[MODEL_MAX_SPECIES]; /* atomic numbers, ascending */
    double cutoff;                  /* r_c, Å */
    int n_layers;                   /* L */
    int n_features;                 /* F */
    int n_edge_features;            /* E (megnet) */
    int megnet_hidden;              /* M (megnet) */
    int n_basis;                    /* K */
    int envelope_p;                 /* p, default 6 */
    int readout_hidden;             /* H */
    double avg_neighbors;           /* n_avg */
    double energy_scale, energy_shift;
} model_hparams;

/* A named tensor of the parameter array: path in the model file, offset and shape. */
typedef struct {
    char name[64];
    size_t offset;
    int ndim;     /* 1 or 2 */
    int shape[2]; /* [n] or [rows, cols], row-major */
    size_t size;
} model_tensor;

typedef struct {
    double *W_self, *W_nbr, *W_edge, *b; /* [F,2F] [F,2F] [K,2F] [2F] */
} cgcnn_layer_params;

typedef struct {
    double *edge_W1, *edge_b1, *edge_W2, *edge_b2; /* [2F+E,M] [M] [M,E] [E] */
    double *node_W1, *node_b1, *node_W2, *node_b2; /* [F+E,M] [M] [M,F] [F] */
} megnet_layer_params;

/* Named views into a flat array laid out by the tensor table (parameters or gradients). */
typedef struct {
    double *embedding;      /* [S,F] */
    double *species_energy; /* [S] */
    double *edge_encoder_W; /* [K,E] megnet */
    double *edge_encoder_b; /* [E] megnet */
    cgcnn_layer_params cgcnn[MODEL_MAX_LAYERS];
    megnet_layer_params megnet[MODEL_MAX_LAYERS];
    double *readout_W1, *readout_b1, *readout_W2, *readout_b2; /* [F,H] [H] [H,1] [1] */
} model_views;

/* A key/value attribute of the /training group, kept as text (numbers read from a file are
 * formatted as text and written back as strings, see model_file.c). */
typedef struct {
    char *key;
    char *value;
} model_attribute;

struct mlpot_model {
    model_hparams hp;
    char *description;
    int n_training;
    model_attribute *training;
    int n_tensors;
    model_tensor tensors[MODEL_MAX_TENSORS];
    size_t n_params;
    double *params;
    model_views v;
};

/* Checks the hyper-parameters (ranges, ascending species, ...); `where` starts the message. */
mlpot_status model_hparams_validate(const model_hparams *hp, const char *where);
/* Builds the tensor table for hp (fills n_tensors, tensors, n_params). */
mlpot_status model_layout(const model_hparams *hp, int *n_tensors, model_tensor *tensors,
                          size_t *n_params);
/* Points the views at a flat array laid out by the table. */
void model_views_bind(const model_hparams *hp, const model_tensor *tensors, int n_tensors,
                      double *base, model_views *v);
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
const char *model_arch_name(model_arch arch);

#endif
