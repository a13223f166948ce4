/* hdf5_util.h — what every HDF5 file of mlpot (models, datasets, checkpoints) needs: HDF5's
 * automatic error printing switched off around a call (the library never prints) with its
 * innermost message taken into ours, file access properties, string types, and the temporary
 * file + fsync + rename that makes every write all-or-nothing. */
#ifndef MLPOT_IO_HDF5_UTIL_H
#define MLPOT_IO_HDF5_UTIL_H

#include <hdf5.h>
#include <stddef.h>

#include "mlpot/mlpot.h"

typedef struct {
    H5E_auto2_t func;
    void *client_data;
} hdf5_error_handler;

typedef struct {
    char text[256];
} hdf5_detail;

/* Switch HDF5's error printing off, remembering the caller's handler; and back on. */
void hdf5_silence(hdf5_error_handler *saved);
void hdf5_restore(const hdf5_error_handler *saved);
/* The most specific message of HDF5's current error stack, on one line. Call it right after
 * the failing call: the next HDF5 call clears the stack. */
const char *hdf5_error_detail(hdf5_detail *detail);
/* File access: every object closes with the file (nothing stays open on an error path), and
 * file systems without locking are tolerated. */
hid_t hdf5_file_access_properties(void);
int hdf5_is_file(const char *path);
/* Frees what HDF5 allocated reading variable-length data into buf. */
void hdf5_reclaim(hid_t type, hid_t space, void *buf);
/* Variable-length UTF-8 strings, as h5py writes str. */
hid_t hdf5_utf8_string_type(void);
/* "[2, 3]" */
void hdf5_format_shape(int rank, const hsize_t *dims, char *buf, size_t size);

/* An empty file ".mlpot-tmp-<pid>-<n>-<name>" beside `path` (the same directory, so that the
 * final rename is atomic; O_EXCL so that it gets the user's umask); *tmp_out is allocated. */
mlpot_status temp_file_create(const char *path, char **tmp_out);
/* fsync of the written temporary file before its rename (HDF5 does not sync). */
mlpot_status temp_file_sync(const char *path, const char *tmp_path);

#endif
