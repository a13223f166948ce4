/* hdf5_probe.h — what kind of HDF5 file a path holds, for code built without HDF5's headers
 * (the command-line tool). Implemented in hdf5_util.c. */
#ifndef MLPOT_IO_HDF5_PROBE_H
#define MLPOT_IO_HDF5_PROBE_H

#include <stddef.h>

/* The root attribute `format` of an HDF5 file ("mlpot-model", "mlpot-dataset") into buf, ""
 * when it has none; returns 0 when `path` is not a readable HDF5 file. */
int hdf5_file_format(const char *path, char *buf, size_t size);

#endif
