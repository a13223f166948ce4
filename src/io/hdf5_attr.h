/* hdf5_attr.h — reading HDF5 attributes the way every mlpot file reader wants them (model files,
 * datasets): any integer width, float or integer where a number is expected, fixed- or
 * variable-length strings in any character set, one message naming the file and the attribute
 * for each problem; and the format/version check of formats.md. */
#ifndef MLPOT_IO_HDF5_ATTR_H
#define MLPOT_IO_HDF5_ATTR_H

#include <hdf5.h>
#include <stddef.h>

#include "mlpot/mlpot.h"

/* An open file and its path (for messages). */
typedef struct {
    const char *path;
    hid_t file;
} hdf5_reader;

/* The values of one attribute, whatever its width or string kind. */
typedef struct {
    int present;
    H5T_class_t type_class; /* only strings, integers and floats are read */
    int rank;
    size_t count;           /* number of elements (1 for a scalar) */
    char **strings;         /* [count] for strings */
    long long *integers;    /* [count] for integers */
    double *reals;          /* [count] for floats */
} hdf5_attribute;

void hdf5_attribute_free(hdf5_attribute *v);
/* "a string", "an integer", ... */
const char *hdf5_type_class_description(H5T_class_t type_class);
/* "PATH: WHAT: cannot read: <HDF5's message>" as MLPOT_ERR_PARSE. */
mlpot_status hdf5_read_failed(const hdf5_reader *r, const char *what);
/* Reads attribute `name` of `loc` (`where` names loc in messages, "" for the root);
 * v->present = 0 when it does not exist. Attributes of other type classes than string,
 * integer and float are reported present with no values. */
mlpot_status hdf5_read_attribute(const hdf5_reader *r, hid_t loc, const char *where,
                                 const char *name, hdf5_attribute *v);

/* What a root attribute must hold: a string, an integer, or a number (float or integer). */
typedef enum { HDF5_VALUE_STRING, HDF5_VALUE_INTEGER, HDF5_VALUE_NUMBER } hdf5_value_kind;
/* A root attribute present (when required), of the expected kind and holding one value;
 * v->present = 0 when absent and not required. */
mlpot_status hdf5_read_root_value(const hdf5_reader *r, const char *name, hdf5_value_kind kind,
                                  int required, hdf5_attribute *v);
/* A string attribute: *out = NULL when absent and not required. */
mlpot_status hdf5_read_root_string(const hdf5_reader *r, const char *name, int required,
                                   char **out);
/* An integer attribute of any width; *out keeps its value when absent and not required. */
mlpot_status hdf5_read_root_int(const hdf5_reader *r, const char *name, int required, int *out);
/* A required number, float or integer, as double. */
mlpot_status hdf5_read_root_double(const hdf5_reader *r, const char *name, double *out);
/* An optional string attribute that, when present, must equal `expected`. */
mlpot_status hdf5_check_root_string(const hdf5_reader *r, const char *name, const char *expected);
/* formats.md: root attribute `format` equal to `format`, `version` an integer in
 * 1..max_version (`kind` prefixes the version message, e.g. "dataset "); the version read. */
mlpot_status hdf5_check_format_version(const hdf5_reader *r, const char *format, int max_version,
                                       const char *kind, int *version);

#endif
