/* hdf5_util.c — shared HDF5 and temporary-file plumbing (see hdf5_util.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/hdf5_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"

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

/* Creates an empty file ".mlpot-tmp-<pid>-<n>-<name>" beside `path` (same directory, so that
 * rename() is atomic; O_EXCL rather than mkstemp() so that the file gets the user's umask). */
mlpot_status temp_file_create(const char *path, char **tmp_out) {
    size_t size = strlen(path) + 64;
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    char *tmp = NULL;
    mlpot_status st = mem_calloc(&tmp, size, 1);
    if (st)
        return st;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, size, "%.*s.mlpot-tmp-%ld-%d-%s", dir_len, path, (long)getpid(), attempt,
                 path + dir_len);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = error_set(MLPOT_ERR_IO, "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
        free(tmp);
        return st;
    }
    close(fd);
    *tmp_out = tmp;
    return MLPOT_OK;
}

/* HDF5 does not fsync; do it before the rename so that a crash cannot leave a truncated file
 * under the final name. */
mlpot_status temp_file_sync(const char *path, const char *tmp_path) {
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        mlpot_status st =
            error_set(MLPOT_ERR_IO, "%s: cannot flush the written file: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return st;
    }
    close(fd);
    return MLPOT_OK;
}

