/* arch.h — the operations table of an architecture: its name and model-file version
 * (model.md §9), its own hyper-parameters (root attribute, CLI flag, help, default, range), its
 * tensors, its workspace, and its forward and reverse sweeps on an evaluation context (eval.h).
 * Adding an architecture means one file defining a model_arch_ops and one line in
 * arch_registry.c; nothing else in the tree names an architecture. */
#ifndef MLPOT_MODEL_ARCH_H
#define MLPOT_MODEL_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "mlpot/mlpot.h"

#define ARCH_MAX_HPARAMS 8 /* architecture-specific hyper-parameters of one architecture */
#define ARCH_MAX_BUFFERS 16 /* workspace arrays of one architecture */

typedef struct model_hparams model_hparams;
typedef struct tensor_table tensor_table;
typedef struct eval_context eval_context;

typedef enum { ARCH_HPARAM_INT, ARCH_HPARAM_REAL } arch_hparam_type;

/* One architecture-specific hyper-parameter: a root attribute of the model file (int32 or
 * float64), a CLI flag of `model init` and `train`, and a key of `train --config`. Its value
 * lives in model_hparams.arch_value[index in the table]. */
typedef struct {
    const char *attribute; /* root attribute name, e.g. "n_edge_features" */
    const char *flag;      /* long option without dashes, e.g. "edge-features" */
    const char *metavar;   /* e.g. "E" */
    const char *help;      /* one line */
    arch_hparam_type type;
    double default_value;  /* for `model init` and `train` */
    double small_value;    /* a small value for tests and examples */
    double min, max;       /* inclusive range checked on every model */
} arch_hparam;

/* Sizes an architecture's workspace depends on. */
typedef struct {
    size_t n_atoms, n_edges;
    int max_degree;          /* largest row of the graph */
    size_t n_short;          /* short edges of the triplet list (0 without triplets) */
    size_t n_triplets;
    int max_short;           /* most short edges of one atom */
    int n_threads;           /* OpenMP threads the sweeps may use */
} arch_sizes;

typedef struct model_arch_ops {
    const char *name;         /* the "architecture" root attribute */
    int file_version;         /* lowest model-file version that defines it (model.md §9) */
    const char *summary;      /* one line for --help */
    const arch_hparam *hparams;
    int n_hparams;
    /* Checks across hyper-parameters beyond the ranges of the table (may be NULL);
     * `where` starts the message. */
    mlpot_status (*validate)(const model_hparams *hp, const char *where);
    /* Adds the architecture's tensors (between /species_energy and /readout, formats.md) with
     * tensor_table_add, each bound to a pointer slot of its views struct (views_size bytes). */
    mlpot_status (*layout)(const model_hparams *hp, tensor_table *t);
    size_t views_size;
    /* Doubles of each workspace array (unused entries 0) and of the per-thread scratch. */
    void (*workspace)(const model_hparams *hp, const arch_sizes *sz,
                      size_t buffer_doubles[ARCH_MAX_BUFFERS], size_t *scratch_doubles);
    /* The three-body cutoff r_3 of an architecture that needs triplets (model.md §8), which
     * the calculator then builds into ctx->triplets; NULL: no triplets. */
    double (*triplet_cutoff)(const model_hparams *hp);
    /* Sets the architecture's data-dependent normalisers from training frames, as training
     * sets avg_neighbors (may be NULL). */
    mlpot_status (*fit_to_frames)(model_hparams *hp, mlpot_structure *const *frames, int n);
    /* Message passing: ctx->h[0] holds the embeddings; fills ctx->h[1..L] (and what the
     * reverse sweep keeps in the workspace). */
    mlpot_status (*forward)(eval_context *ctx);
    /* Given ctx->dh = dE/dh_L, leaves dE/dh_0 in ctx->dh and adds dE/dd_e to
     * ctx->edge_adjoint (and dE/dtheta to the gradient views when ctx->with_grad). */
    mlpot_status (*backward)(eval_context *ctx);
} model_arch_ops;

/* The registry (arch_registry.c): the architectures this mlpot knows, in a fixed order; the
 * first is the default of `model init` and `train`. */
int arch_count(void);
const model_arch_ops *arch_at(int index);
const model_arch_ops *arch_find(const char *name);
const model_arch_ops *arch_default(void);
/* Highest model-file version any architecture needs: what this mlpot reads. */
int arch_max_file_version(void);
/* The registered names joined by `separator` into buf. */
void arch_list_names(char *buf, size_t size, const char *separator);

/* Index of an attribute in an architecture's table, or -1. */
int arch_hparam_index(const model_arch_ops *arch, const char *attribute);

#endif
