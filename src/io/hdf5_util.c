/* hdf5_util.c — shared HDF5 and temporary-file plumbing (see hdf5_util.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/hdf5_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"

/* Memory files grow in steps of this many bytes. */
#define HDF5_MEMORY_INCREMENT (1 << 20)

/* H5Pset_file_locking exists from 1.10.7 on the 1.10 branch and from 1.12.1 on. */
#if (H5_VERSION_GE(1, 10, 7) && !H5_VERSION_GE(1, 12, 0)) || H5_VERSION_GE(1, 12, 1)
#define HDF5_UTIL_HAVE_LOCKING_PROPERTY 1
#endif

void hdf5_silence(hdf5_error_handler *saved) {
    saved->func = NULL;
    saved->client_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->client_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void hdf5_restore(const hdf5_error_handler *saved) {
    H5Eset_auto2(H5E_DEFAULT, saved->func, saved->client_data);
}

static herr_t take_innermost_error(unsigned n, const H5E_error2_t *error, void *data) {
    hdf5_detail *detail = data;
    if (n == 0 && error->desc)
        snprintf(detail->text, sizeof detail->text, "%s", error->desc);
    return 0;
}

/* The most specific message of HDF5's error stack, on one line; call right after the failure. */
const char *hdf5_error_detail(hdf5_detail *detail) {
    detail->text[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost_error, detail);
    for (char *c = detail->text; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (!detail->text[0])
        snprintf(detail->text, sizeof detail->text, "HDF5 library error");
    return detail->text;
}

/* Closes every object with the file (nothing stays open on an error path) and tolerates file
 * systems without locking. */
hid_t hdf5_file_access_properties(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#ifdef HDF5_UTIL_HAVE_LOCKING_PROPERTY
    H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl;
}

int hdf5_is_file(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT) > 0;
#else
    return H5Fis_hdf5(path) > 0;
#endif
}

int hdf5_file_format(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    int is_hdf5 = hdf5_is_file(path);
    hid_t file = is_hdf5 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    hid_t attr = file >= 0 && H5Aexists(file, "format") > 0 ? H5Aopen(file, "format", H5P_DEFAULT)
                                                           : -1;
    hid_t type = attr >= 0 ? H5Aget_type(attr) : -1;
    if (type >= 0 && H5Tget_class(type) == H5T_STRING) {
        if (H5Tis_variable_str(type) > 0) {
            char *text = NULL;
            hid_t memtype = H5Tget_native_type(type, H5T_DIR_DEFAULT);
            if (memtype >= 0 && H5Aread(attr, memtype, &text) >= 0 && text) {
                snprintf(buf, size, "%s", text);
                H5free_memory(text);
            }
            if (memtype >= 0)
                H5Tclose(memtype);
        } else {
            size_t n = H5Tget_size(type);
            char *text = n > 0 && n < 4096 ? calloc(n + 1, 1) : NULL;
            if (text && H5Aread(attr, type, text) >= 0)
                snprintf(buf, size, "%s", text);
            free(text);
        }
    }
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    if (file >= 0)
        H5Fclose(file);
    hdf5_restore(&saved);
    return is_hdf5;
}

/* Frees what HDF5 allocated while reading variable-length data into buf. */
void hdf5_reclaim(hid_t type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

/* Variable-length UTF-8 strings, as h5py writes str. */
hid_t hdf5_utf8_string_type(void) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0)
        return type;
    if (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        H5Tclose(type);
        return -1;
    }
    return type;
}

/* "[214, 3, 3]" */
void hdf5_format_shape(int rank, const hsize_t *dims, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < rank && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", d ? ", " : "",
                                 (unsigned long long)dims[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

hid_t hdf5_memory_file_create(const char *name, hid_t fcpl) {
    hid_t fapl = hdf5_file_access_properties();
    if (fapl < 0)
        return -1;
    hid_t file = -1;
    if (H5Pset_fapl_core(fapl, HDF5_MEMORY_INCREMENT, 0) >= 0)
        file = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fapl);
    return file;
}

mlpot_status hdf5_memory_file_save(hid_t file, atomic_file *out) {
    hdf5_detail detail;
    mlpot_status st = MLPOT_OK;
    char *image = NULL;
    ssize_t size = -1;
    if (H5Fflush(file, H5F_SCOPE_LOCAL) >= 0)
        size = H5Fget_file_image(file, NULL, 0);
    if (size < 0)
        st = error_set(MLPOT_ERR_IO, "%s: cannot write: %s", out->path, hdf5_error_detail(&detail));
    if (!st && !(st = mem_calloc(&image, (size_t)size + 1, 1)) &&
        H5Fget_file_image(file, image, (size_t)size) != size)
        st = error_set(MLPOT_ERR_IO, "%s: cannot write: %s", out->path, hdf5_error_detail(&detail));
    if (H5Fclose(file) < 0 && !st)
        st = error_set(MLPOT_ERR_IO, "%s: cannot write: %s", out->path, hdf5_error_detail(&detail));
    if (!st && fwrite(image, 1, (size_t)size, out->fp) != (size_t)size)
        st = error_set(MLPOT_ERR_IO, "%s: write error: %s", out->path, strerror(errno));
    free(image);
    return st;
}

mlpot_status hdf5_memory_file_write(hid_t file, const char *path) {
    atomic_file out;
    mlpot_status st = atomic_file_open(&out, path);
    if (st) {
        H5Fclose(file);
        return st;
    }
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    st = hdf5_memory_file_save(file, &out);
    hdf5_restore(&saved);
    if (st)
        atomic_file_abort(&out);
    else
        st = atomic_file_commit(&out);
    return st;
}
