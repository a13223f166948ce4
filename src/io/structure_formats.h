/* structure_formats.h — the per-format readers and writers behind mlpot_reader/mlpot_writer. */
#ifndef MLPOT_IO_STRUCTURE_FORMATS_H
#define MLPOT_IO_STRUCTURE_FORMATS_H

#include <stdio.h>

#include "io/line_reader.h"
#include "io/structure.h"

/* Each reader returns the next frame in *out, or *out = NULL at the end of the input. */
mlpot_status poscar_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out);
mlpot_status extxyz_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out);
/* One frame per data block that holds a structure (cif.c); there is no CIF writer. */
mlpot_status cif_read(line_reader *lr, const mlpot_read_options *opt, mlpot_structure **out);

mlpot_status poscar_write(FILE *fp, const mlpot_structure *s);
mlpot_status extxyz_write(FILE *fp, const mlpot_structure *s);
/* A writer that streams: the file is written in place, each frame whole and flushed, after
 * its first keep_bytes bytes (md's trajectory; see atomic_file_open_streaming). */
mlpot_status structure_writer_open_streaming(mlpot_writer **out, const char *path,
                                             const char *format_name, long keep_bytes);
/* Bytes in the file so far (all flushed, for a streaming writer). */
long structure_writer_bytes(const mlpot_writer *w);

/* The shortest decimal text ("%.15g" .. "%.17g") that reads back as exactly `x`. */
void format_double(char out[32], double x);

#endif
