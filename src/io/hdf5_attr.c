/* hdf5_attr.c — HDF5 attribute reading and the format/version check shared by the model-file
 * and dataset readers (hdf5_attr.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/hdf5_attr.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "io/hdf5_util.h"

void hdf5_attribute_free(hdf5_attribute *v) {
    if (v->strings)
        for (size_t k = 0; k < v->count; k++)
            free(v->strings[k]);
    free(v->strings);
    free(v->integers);
    free(v->reals);
    memset(v, 0, sizeof *v);
}

const char *hdf5_type_class_description(H5T_class_t type_class) {
    switch (type_class) {
    case H5T_STRING: return "a string";
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a floating-point number";
    case H5T_ENUM: return "an enumeration (boolean?)";
    case H5T_COMPOUND: return "a compound value";
    case H5T_ARRAY: return "an array type";
    default: return "an unsupported type";
    }
}

/* "attribute 'x'" or "attribute 'x' of /training". */
static void attribute_label(const char *where, const char *name, char *buf, size_t size) {
    snprintf(buf, size, "attribute '%s'%s%s", name, where[0] ? " of " : "", where);
}

mlpot_status hdf5_read_failed(const hdf5_reader *r, const char *what) {
    hdf5_detail detail;
    return error_set(MLPOT_ERR_PARSE, "%s: %s: cannot read: %s", r->path, what,
                     hdf5_error_detail(&detail));
}

/* Reads the count strings of a string attribute, fixed-length (any padding) or variable-length,
 * in the attribute's own character set. */
static mlpot_status read_strings(const hdf5_reader *r, hid_t attr, hid_t file_type,
                                 const char *label, hdf5_attribute *v) {
    mlpot_status st = mem_calloc(&v->strings, v->count, sizeof *v->strings);
    if (st)
        return st;
    hid_t mem_type = H5Tcopy(H5T_C_S1);
    if (mem_type < 0 || H5Tset_cset(mem_type, H5Tget_cset(file_type)) < 0) {
        st = hdf5_read_failed(r, label);
    } else if (H5Tis_variable_str(file_type) > 0) {
        char **pointers = NULL;
        if (!(st = mem_calloc(&pointers, v->count, sizeof *pointers))) {
            if (H5Tset_size(mem_type, H5T_VARIABLE) < 0 ||
                H5Aread(attr, mem_type, pointers) < 0)
                st = hdf5_read_failed(r, label);
            for (size_t k = 0; k < v->count; k++) {
                if (!st)
                    st = mem_strdup(&v->strings[k], pointers[k] ? pointers[k] : "");
                if (pointers[k])
                    H5free_memory(pointers[k]);
            }
            free(pointers);
        }
    } else {
        /* Fixed length: read NUL-padded (HDF5 strips space padding), then cut at the first NUL. */
        size_t width = H5Tget_size(file_type);
        char *buffer = NULL;
        if (width == 0 || H5Tset_size(mem_type, width) < 0 ||
            H5Tset_strpad(mem_type, H5T_STR_NULLPAD) < 0) {
            st = hdf5_read_failed(r, label);
        } else if (!(st = mem_calloc(&buffer, v->count, width))) {
            if (H5Aread(attr, mem_type, buffer) < 0)
                st = hdf5_read_failed(r, label);
            for (size_t k = 0; !st && k < v->count; k++) {
                size_t n = strnlen(buffer + k * width, width);
                if (!(st = mem_calloc(&v->strings[k], n + 1, 1)))
                    memcpy(v->strings[k], buffer + k * width, n);
            }
            free(buffer);
        }
    }
    if (mem_type >= 0)
        H5Tclose(mem_type);
    return st;
}

/* Reads attribute `name` of `loc`; v->present = 0 when it does not exist. Attributes of other
 * type classes than string, integer and float are reported present with no values. */
mlpot_status hdf5_read_attribute(const hdf5_reader *r, hid_t loc, const char *where,
                                   const char *name, hdf5_attribute *v) {
    memset(v, 0, sizeof *v);
    char label[160];
    attribute_label(where, name, label, sizeof label);
    htri_t exists = H5Aexists(loc, name);
    if (exists < 0)
        return hdf5_read_failed(r, label);
    if (!exists)
        return MLPOT_OK;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return hdf5_read_failed(r, label);
    mlpot_status st = MLPOT_OK;
    hid_t file_type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (file_type < 0 || count < 0 || rank < 0) {
        st = hdf5_read_failed(r, label);
    } else {
        v->present = 1;
        v->type_class = H5Tget_class(file_type);
        v->rank = rank;
        v->count = (size_t)count;
        if (v->count == 0) {
            /* an empty (null-dataspace) attribute: nothing to read */
        } else if (v->type_class == H5T_STRING) {
            st = read_strings(r, attr, file_type, label, v);
        } else if (v->type_class == H5T_INTEGER) {
            if (!(st = mem_calloc(&v->integers, v->count, sizeof *v->integers)) &&
                H5Aread(attr, H5T_NATIVE_LLONG, v->integers) < 0)
                st = hdf5_read_failed(r, label);
        } else if (v->type_class == H5T_FLOAT) {
            if (!(st = mem_calloc(&v->reals, v->count, sizeof *v->reals)) &&
                H5Aread(attr, H5T_NATIVE_DOUBLE, v->reals) < 0)
                st = hdf5_read_failed(r, label);
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (file_type >= 0)
        H5Tclose(file_type);
    H5Aclose(attr);
    if (st)
        hdf5_attribute_free(v);
    return st;
}

/* Checks that a root attribute is present (when required), of the expected kind (a string, an
 * integer, or a number: float or integer) and holds one value. Returns 0 when it is absent. */

mlpot_status hdf5_read_root_value(const hdf5_reader *r, const char *name, hdf5_value_kind kind,
                                    int required, hdf5_attribute *v) {
    mlpot_status st = hdf5_read_attribute(r, r->file, "", name, v);
    if (st)
        return st;
    if (!v->present) {
        if (required)
            return error_set(MLPOT_ERR_PARSE, "%s: attribute '%s' is missing", r->path, name);
        return MLPOT_OK;
    }
    int kind_ok = kind == HDF5_VALUE_STRING    ? v->type_class == H5T_STRING
                  : kind == HDF5_VALUE_INTEGER ? v->type_class == H5T_INTEGER
                                          : (v->type_class == H5T_INTEGER ||
                                             v->type_class == H5T_FLOAT);
    static const char *expected[] = {"a string", "an integer", "a number"};
    if (!kind_ok)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute '%s': expected %s, found %s", r->path,
                       name, expected[kind], hdf5_type_class_description(v->type_class));
    else if (v->count != 1)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute '%s': expected one value, found %zu",
                       r->path, name, v->count);
    if (st)
        hdf5_attribute_free(v);
    return st;
}

/* A string attribute: *out = NULL when absent and not required. */
mlpot_status hdf5_read_root_string(const hdf5_reader *r, const char *name, int required,
                                     char **out) {
    hdf5_attribute v;
    *out = NULL;
    mlpot_status st = hdf5_read_root_value(r, name, HDF5_VALUE_STRING, required, &v);
    if (st || !v.present)
        return st;
    *out = v.strings[0];
    v.strings[0] = NULL;
    hdf5_attribute_free(&v);
    return MLPOT_OK;
}

/* An integer attribute of any width; *out keeps its value when absent and not required. */
mlpot_status hdf5_read_root_int(const hdf5_reader *r, const char *name, int required,
                                  int *out) {
    hdf5_attribute v;
    mlpot_status st = hdf5_read_root_value(r, name, HDF5_VALUE_INTEGER, required, &v);
    if (st || !v.present)
        return st;
    long long value = v.integers[0];
    hdf5_attribute_free(&v);
    if (value < INT_MIN || value > INT_MAX)
        return error_set(MLPOT_ERR_PARSE, "%s: attribute '%s' = %lld is out of range", r->path,
                         name, value);
    *out = (int)value;
    return MLPOT_OK;
}

/* A required number, float or integer, as double. */
mlpot_status hdf5_read_root_double(const hdf5_reader *r, const char *name, double *out) {
    hdf5_attribute v;
    mlpot_status st = hdf5_read_root_value(r, name, HDF5_VALUE_NUMBER, 1, &v);
    if (st)
        return st;
    *out = v.type_class == H5T_FLOAT ? v.reals[0] : (double)v.integers[0];
    hdf5_attribute_free(&v);
    return MLPOT_OK;
}

/* An optional string attribute that, when present, must equal `expected`. */
mlpot_status hdf5_check_root_string(const hdf5_reader *r, const char *name,
                                      const char *expected) {
    char *text = NULL;
    mlpot_status st = hdf5_read_root_string(r, name, 0, &text);
    if (!st && text && strcmp(text, expected) != 0)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute '%s': expected \"%s\", found \"%s\"",
                       r->path, name, expected, text);
    free(text);
    return st;
}

mlpot_status hdf5_check_format_version(const hdf5_reader *r, const char *format, int max_version,
                                       const char *kind, int *version_out) {
    char *found = NULL;
    mlpot_status st = hdf5_read_root_string(r, "format", 0, &found);
    if (st)
        return st;
    if (!found)
        return error_set(MLPOT_ERR_PARSE, "%s: attribute 'format' is missing (expected \"%s\")",
                         r->path, format);
    if (strcmp(found, format) != 0)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute 'format': expected \"%s\", found \"%s\"",
                       r->path, format, found);
    free(found);
    int version = 0;
    if (st || (st = hdf5_read_root_int(r, "version", 1, &version)))
        return st;
    if (version < 1 || version > max_version) {
        if (max_version == 1)
            return error_set(MLPOT_ERR_UNSUPPORTED,
                             "%s: %sversion %d is not supported by this mlpot (it reads version 1)",
                             r->path, kind, version);
        return error_set(MLPOT_ERR_UNSUPPORTED,
                         "%s: %sversion %d is not supported by this mlpot (it reads versions 1 to "
                         "%d)",
                         r->path, kind, version, max_version);
    }
    *version_out = version;
    return MLPOT_OK;
}
