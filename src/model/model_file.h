/* model_file.h — reading and writing HDF5 model files (formats.md "Model file (HDF5)"): root
 * attributes for the hyper-parameters, one float64 dataset per tensor of the model's table and a
 * /training group of text attributes (and the float64 arrays range_* of extrapolation.h). */
#ifndef MLPOT_MODEL_MODEL_FILE_H
#define MLPOT_MODEL_MODEL_FILE_H

#include <stdint.h>

#include "mlpot/mlpot.h"

/* Writes `m` to a temporary file beside `path` and renames it over `path` when complete; on
 * failure nothing is left behind and an existing `path` is untouched. */
mlpot_status model_file_write(const mlpot_model *m, const char *path);
/* Writes `m` into a new HDF5 file held in memory (hdf5_memory_file_create) and leaves it open in
 * *file (an hid_t; this header is also read without HDF5's), for a caller that adds to it
 * (checkpoints) before hdf5_memory_file_write. */
mlpot_status model_file_write_memory(const mlpot_model *m, const char *path, int64_t *file);
/* hex[65]: formats.md `parameters_sha256` of the model's parameters (written with every model
 * and verified on reading when the file has it). */
void model_file_parameters_sha256(const mlpot_model *m, char hex[65]);
/* Whether the model file at `path` stores parameters_sha256 (older files and potentials not). */
int model_file_has_parameters_sha256(const char *path);
/* Reads and validates a model file; the message names the file and the first bad attribute or
 * dataset. *out is set only on success. */
mlpot_status model_file_read(const char *path, mlpot_model **out);

#endif
