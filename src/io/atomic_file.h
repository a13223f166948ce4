/* atomic_file.h — how every output of mlpot is written: to a temporary file beside its final
 * name, flushed to the disk (fsync) and renamed over the name when complete, so that a reader
 * sees the old file or the new one, never half of one; temporary files are registered so that a
 * signal handler (SIGTERM, SIGINT, SIGHUP: a batch system's wall time) can remove them. */
#ifndef MLPOT_IO_ATOMIC_FILE_H
#define MLPOT_IO_ATOMIC_FILE_H

#include <stdio.h>

#include "mlpot/mlpot.h"

typedef struct {
    FILE *fp;   /* writes go here (binary-safe) */
    char *path; /* the final name */
    char *tmp;  /* ".mlpot-tmp-<pid>-<n>-<name>" in the same directory; NULL when writing
                 * straight to a device or pipe */
} atomic_file;

/* Creates the temporary file (O_EXCL, so that it gets the user's umask) and registers it. An
 * existing `path` that is not a regular file (/dev/stdout, /dev/null, a named pipe) is written
 * directly: renaming over it would replace the device node. */
mlpot_status atomic_file_open(atomic_file *f, const char *path);
/* A file written in place as it goes (md's trajectory and thermo log: a killed run keeps
 * every record written): its first keep_bytes bytes are kept (0: a new file; a restarted run
 * continues after what its restart file had seen) and writes append; commit flushes, fsyncs
 * and closes it, abort closes it and keeps what was written. */
mlpot_status atomic_file_open_streaming(atomic_file *f, const char *path, long keep_bytes);
/* Flushes, fsyncs and closes the temporary file, then renames it to the final name. On any
 * failure the temporary file is removed and the message names the final path. */
mlpot_status atomic_file_commit(atomic_file *f);
/* Closes and removes the temporary file (nothing happens to the final name). */
void atomic_file_abort(atomic_file *f);
/* Removes every registered temporary file; async-signal-safe (unlink only). */
void atomic_file_remove_all(void);
/* Installs handlers for SIGTERM, SIGINT and SIGHUP that remove the temporary files and then
 * die of the same signal (for programs, not the library). */
void atomic_file_install_signal_cleanup(void);

#endif
