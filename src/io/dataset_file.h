/* dataset_file.h — streaming reader and writer of the HDF5 dataset file of formats.md ("Dataset file
 * (HDF5)", version 1): frames are appended and read one at a time, so a dataset never has to fit
 * in memory; only per-frame arrays (O(frames)) are held. */
#ifndef MLPOT_IO_DATASET_FILE_H
#define MLPOT_IO_DATASET_FILE_H

#include <stdint.h>

#include "mlpot/mlpot.h"

#define DATASET_FORMAT "mlpot-dataset"
#define DATASET_VERSION 1

typedef struct dataset_writer dataset_writer;
typedef struct dataset dataset;

/* ---- writing ----
 * The file is created at a temporary name beside `path` and renamed over it by a successful
 * dataset_writer_close(). /forces, /stress, /weight and /name are created the first time a
 * frame has them; earlier frames read as not labelled (NaN), weight 1 and name "". */
mlpot_status dataset_writer_open(dataset_writer **out, const char *path);
/* Appends a frame named by its info `config_type` (no name when it has none), weight 1. */
mlpot_status dataset_writer_append(dataset_writer *w, const mlpot_structure *s);
/* Appends a frame with an explicit /name entry (NULL: as dataset_writer_append) and weight
 * (NULL: 1; a non-NULL weight creates /weight). */
mlpot_status dataset_writer_append_frame(dataset_writer *w, const mlpot_structure *s,
                                         const char *name, const double *weight);
/* Copies the root attributes of `src` other than format and version (attributes the writer
 * already has are kept). */
mlpot_status dataset_writer_copy_attributes(dataset_writer *w, const dataset *src);
int64_t dataset_writer_n_frames(const dataset_writer *w);
/* Writes what is buffered, closes and renames; frees the writer, also on failure (when the
 * temporary file is removed). */
mlpot_status dataset_writer_close(dataset_writer *w);
/* Removes the temporary file and frees the writer. */
void dataset_writer_abort(dataset_writer *w);

/* ---- reading ----
 * dataset_open validates everything but the per-atom values up front (format, version, shapes,
 * offsets, atomic numbers, cells, labels); positions and forces are checked as frames are read.
 * Messages name the file, the dataset and the first bad frame (frames and rows count from 0,
 * as h5py indexes them). */
mlpot_status dataset_open(dataset **out, const char *path);
void dataset_close(dataset *d);
int dataset_n_frames(const dataset *d);
int64_t dataset_n_atoms_total(const dataset *d);
int dataset_frame_n_atoms(const dataset *d, int k);
double dataset_frame_weight(const dataset *d, int k);    /* 1 without /weight */
const char *dataset_frame_name(const dataset *d, int k); /* "" without /name */
int dataset_has_forces(const dataset *d);
int dataset_has_stress(const dataset *d);
int dataset_has_weight(const dataset *d);
int dataset_has_names(const dataset *d);
/* Frame k as a new structure: energy unless NaN, forces unless every row is NaN (rows with NaN
 * stay NaN: the trainer masks them), stress unless NaN, the name as info `config_type`. */
mlpot_status dataset_read_frame(dataset *d, int k, mlpot_structure **out);
/* Root objects that formats.md does not name (e.g. "/extra"), which rewriting tools do not
 * copy. */
int dataset_n_unknown_objects(const dataset *d);
const char *dataset_unknown_object(const dataset *d, int i);

#endif
