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

/* The shortest decimal text ("%.15g" .. "%.17g") that reads back as exactly `x`. */
void format_double(char out[32], double x);

#endif
