/* hdf5_util.h — what every HDF5 file of mlpot (models, datasets, checkpoints) needs: HDF5's
 * automatic error printing switched off around a call (the library never prints) with its
 * innermost message taken into ours, file access properties, string types, and files written
 * in memory and saved with checked writes. */
#ifndef MLPOT_IO_HDF5_UTIL_H
#define MLPOT_IO_HDF5_UTIL_H

#include <hdf5.h>
#include <stddef.h>

#include "io/atomic_file.h"
#include "io/hdf5_probe.h"
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

/* A new HDF5 file held in memory (the core driver without a backing store; `name` only names
 * it in messages). mlpot writes HDF5 files this way and then their image with checked writes of
 * its own (hdf5_memory_file_save), because HDF5 1.10 must never see a write fail: after a
 * failed flush (a full disk) it keeps a half-closed file that crashes its exit-time cleanup
 * (SIGSEGV, issue 16). Returns < 0 on failure, as H5Fcreate. */
hid_t hdf5_memory_file_create(const char *name, hid_t fcpl);
/* Closes the memory file and writes its image to out->fp (the caller commits or aborts `out`);
 * messages name out->path. */
mlpot_status hdf5_memory_file_save(hid_t file, atomic_file *out);
/* The same, to a new atomic_file at `path`, committed on success; always closes `file`. */
mlpot_status hdf5_memory_file_write(hid_t file, const char *path);

#endif
