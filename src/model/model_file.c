/* model_file.c — the HDF5 model file of formats.md ("Model file (HDF5)"): writing it
 * through a temporary file that is renamed into place, and reading it back with every attribute
 * and dataset validated, reporting the first problem with its path in the file. */
#define _POSIX_C_SOURCE 200809L
#include "model/model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/c_locale.h"
#include "core/elements.h"
#include "core/error.h"
#include "core/sha256.h"
#include "io/hdf5_attr.h"
#include "io/hdf5_util.h"
#include "core/memory.h"
#include "model/extrapolation.h"
#include "model/model.h"

#define MODEL_FILE_FORMAT "mlpot-model"
#define MODEL_DEFAULT_ENVELOPE_P 6

/* HDF5's error printing, file access and temporary files: io/hdf5_util.c. */

/* "[i]" or "[i, j]" for the flat index of a tensor element. */
static void format_tensor_index(const model_tensor *t, size_t flat, char *buf, size_t size) {
    if (t->ndim == 2)
        snprintf(buf, size, "[%zu, %zu]", flat / (size_t)t->shape[1],
                 flat % (size_t)t->shape[1]);
    else
        snprintf(buf, size, "[%zu]", flat);
}

/* Index of the first NaN or infinity of x[0..n-1], or n when all are finite. */
static size_t first_non_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return n;
}

/* =============================================================================================
 * Writing
 * =========================================================================================== */

typedef struct {
    const char *path;   /* the target file, for messages */
    hid_t file;
    hid_t link_props;   /* creates intermediate groups ("/layers/0/edge") */
    hid_t string_type;  /* variable-length UTF-8, as h5py writes str */
    hid_t scalar_space;
} model_writer;

static mlpot_status write_failed(const model_writer *w, const char *what) {
    hdf5_detail detail;
    return error_set(MLPOT_ERR_IO, "%s: cannot write %s: %s", w->path, what,
                     hdf5_error_detail(&detail));
}

/* Attribute `name` of `loc` (`where` names loc in messages, "" for the root) of shape
 * dims[rank] (rank 0: a scalar) and file type `file_type`, written from memory type `mem_type`. */
static mlpot_status write_attribute_shaped(const model_writer *w, hid_t loc, const char *where,
                                           const char *name, hid_t file_type, hid_t mem_type,
                                           int rank, const hsize_t *dims, const void *data) {
    char what[160];
    snprintf(what, sizeof what, "attribute '%s'%s%s", name, where[0] ? " of " : "", where);
    hid_t space = w->scalar_space;
    if (rank > 0 && (space = H5Screate_simple(rank, dims, NULL)) < 0)
        return write_failed(w, what);
    mlpot_status st = MLPOT_OK;
    hid_t attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, mem_type, data) < 0)
        st = write_failed(w, what);
    if (attr >= 0 && H5Aclose(attr) < 0 && !st)
        st = write_failed(w, what);
    if (space != w->scalar_space)
        H5Sclose(space);
    return st;
}

/* The same holding `count` values in one dimension (count 0: a scalar). */
static mlpot_status write_attribute(const model_writer *w, hid_t loc, const char *where,
                                    const char *name, hid_t file_type, hid_t mem_type,
                                    size_t count, const void *data) {
    hsize_t dims[1] = {count};
    return write_attribute_shaped(w, loc, where, name, file_type, mem_type, count > 0, dims,
                                  data);
}

static mlpot_status write_string(const model_writer *w, hid_t loc, const char *where,
                                 const char *name, const char *value) {
    return write_attribute(w, loc, where, name, w->string_type, w->string_type, 0, &value);
}

static mlpot_status write_int32(const model_writer *w, const char *name, int value) {
    return write_attribute(w, w->file, "", name, H5T_STD_I32LE, H5T_NATIVE_INT, 0, &value);
}

static mlpot_status write_float64(const model_writer *w, const char *name, double value) {
    return write_attribute(w, w->file, "", name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &value);
}

/* The architecture's own hyper-parameters, as its table says (int32 or float64). */
static mlpot_status write_arch_hparams(const model_writer *w, const model_hparams *hp) {
    mlpot_status st = MLPOT_OK;
    for (int k = 0; !st && k < hp->arch->n_hparams; k++) {
        const arch_hparam *p = &hp->arch->hparams[k];
        st = p->type == ARCH_HPARAM_INT ? write_int32(w, p->attribute, arch_hparam_int(hp, k))
                                        : write_float64(w, p->attribute, hp->arch_value[k]);
    }
    return st;
}

/* formats.md `parameters_sha256`: SHA-256 of every parameter tensor's float64 values as
 * little-endian bytes in row-major order, the tensors taken in ascending byte order of their
 * full paths. */
void model_file_parameters_sha256(const mlpot_model *m, char hex[65]) {
    sha256_context c;
    sha256_init(&c);
    const char *previous = NULL;
    for (int done = 0; done < m->n_tensors; done++) {
        const model_tensor *next = NULL; /* the smallest path after `previous` */
        for (int k = 0; k < m->n_tensors; k++) {
            const model_tensor *t = &m->tensors[k];
            if ((!previous || strcmp(t->name, previous) > 0) &&
                (!next || strcmp(t->name, next->name) < 0))
                next = t;
        }
        const double *x = m->params + next->offset;
        unsigned char bytes[8 * 256];
        for (size_t i = 0; i < next->size; i += 256) {
            size_t n = next->size - i < 256 ? next->size - i : 256;
            for (size_t j = 0; j < n; j++) {
                uint64_t bits;
                memcpy(&bits, &x[i + j], sizeof bits);
                for (int b = 0; b < 8; b++)
                    bytes[8 * j + (size_t)b] = (unsigned char)(bits >> (8 * b));
            }
            sha256_update(&c, bytes, 8 * n);
        }
        previous = next->name;
    }
    unsigned char digest[32];
    sha256_final(&c, digest);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static mlpot_status write_root_attributes(const model_writer *w, const mlpot_model *m) {
    const model_hparams *hp = &m->hp;
    mlpot_status st;
    /* model.md §9: the lowest version that defines the architecture */
    if ((st = write_string(w, w->file, "", "format", MODEL_FILE_FORMAT)) ||
        (st = write_int32(w, "version", hp->arch->file_version)) ||
        (st = write_string(w, w->file, "", "architecture", hp->arch->name)) ||
        (st = write_attribute(w, w->file, "", "species", H5T_STD_I32LE, H5T_NATIVE_INT,
                              (size_t)hp->n_species, hp->species)) ||
        (st = write_float64(w, "cutoff", hp->cutoff)) ||
        (st = write_int32(w, "n_layers", hp->n_layers)) ||
        (st = write_int32(w, "n_features", hp->n_features)))
        return st;
    if ((st = write_arch_hparams(w, hp)) || (st = write_int32(w, "n_basis", hp->n_basis)) ||
        (st = write_string(w, w->file, "", "basis", "gaussian")) ||
        (st = write_string(w, w->file, "", "envelope", "polynomial")) ||
        (st = write_int32(w, "envelope_p", hp->envelope_p)) ||
        (st = write_float64(w, "avg_neighbors", hp->avg_neighbors)) ||
        (st = write_int32(w, "readout_hidden", hp->readout_hidden)) ||
        (st = write_float64(w, "energy_scale", hp->energy_scale)) ||
        (st = write_float64(w, "energy_shift", hp->energy_shift)))
        return st;
    char sha[65];
    model_file_parameters_sha256(m, sha);
    if ((st = write_string(w, w->file, "", "parameters_sha256", sha)))
        return st;
    if (m->description && m->description[0])
        return write_string(w, w->file, "", "description", m->description);
    return MLPOT_OK;
}

/* One tensor as a float64 dataset at its path, with the tensor's rank and shape. */
static mlpot_status write_tensor(const model_writer *w, const model_tensor *t,
                                 const double *values) {
    hsize_t dims[2] = {(hsize_t)t->shape[0], (hsize_t)t->shape[1]};
    hid_t space = H5Screate_simple(t->ndim, dims, NULL);
    if (space < 0)
        return write_failed(w, t->name);
    mlpot_status st = MLPOT_OK;
    hid_t ds = H5Dcreate2(w->file, t->name, H5T_IEEE_F64LE, space, w->link_props, H5P_DEFAULT,
                          H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
        st = write_failed(w, t->name);
    if (ds >= 0 && H5Dclose(ds) < 0 && !st)
        st = write_failed(w, t->name);
    H5Sclose(space);
    return st;
}

/* formats.md /training `range_*`: float64 arrays [S] and [S, F] (extrapolation.h). */
typedef struct {
    const char *name;
    int per_feature;
} range_attribute;

static const range_attribute range_attributes[] = {
    {"range_min_distance", 0},       {"range_neighbors_min", 0},
    {"range_neighbors_max", 0},      {"range_readout_input_min", 1},
    {"range_readout_input_max", 1}};
#define N_RANGE_ATTRIBUTES 5

static double *range_values(model_ranges *r, int k) {
    double *values[N_RANGE_ATTRIBUTES] = {r->min_distance, r->neighbors_min, r->neighbors_max,
                                          r->readout_min, r->readout_max};
    return values[k];
}

static mlpot_status write_ranges(const model_writer *w, hid_t group, model_ranges *r) {
    mlpot_status st = MLPOT_OK;
    for (int k = 0; !st && k < N_RANGE_ATTRIBUTES; k++) {
        hsize_t dims[2] = {(hsize_t)r->n_species, (hsize_t)r->n_features};
        st = write_attribute_shaped(w, group, "/training", range_attributes[k].name,
                                    H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                    1 + range_attributes[k].per_feature, dims, range_values(r, k));
    }
    return st;
}

/* The /training group, tracking the creation order of its attributes so that readers (mlpot
 * and h5py) list them in the order they were set. */
static mlpot_status write_training(const model_writer *w, const mlpot_model *m) {
    hid_t props = H5Pcreate(H5P_GROUP_CREATE);
    if (props < 0 ||
        H5Pset_attr_creation_order(props, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        mlpot_status st = write_failed(w, "group /training");
        if (props >= 0)
            H5Pclose(props);
        return st;
    }
    hid_t group = H5Gcreate2(w->file, "/training", H5P_DEFAULT, props, H5P_DEFAULT);
    mlpot_status st = group < 0 ? write_failed(w, "group /training") : MLPOT_OK;
    H5Pclose(props);
    for (int k = 0; !st && k < m->n_training; k++)
        st = write_string(w, group, "/training", m->training[k].key, m->training[k].value);
    if (!st && m->ranges)
        st = write_ranges(w, group, m->ranges);
    if (group >= 0 && H5Gclose(group) < 0 && !st)
        st = write_failed(w, "group /training");
    return st;
}

/* Writes the whole model into a new HDF5 memory file (messages name `path`), left open in
 * w->file on success. */
static mlpot_status write_model_file(const mlpot_model *m, const char *path, hid_t *file_out) {
    model_writer w = {path, -1, -1, -1, -1};
    mlpot_status st = MLPOT_OK;
    w.file = hdf5_memory_file_create(path, H5P_DEFAULT);
    if (w.file < 0)
        st = write_failed(&w, "the file");
    if (!st) {
        w.link_props = H5Pcreate(H5P_LINK_CREATE);
        w.string_type = H5Tcopy(H5T_C_S1);
        w.scalar_space = H5Screate(H5S_SCALAR);
        if (w.link_props < 0 || w.string_type < 0 || w.scalar_space < 0 ||
            H5Pset_create_intermediate_group(w.link_props, 1) < 0 ||
            H5Tset_size(w.string_type, H5T_VARIABLE) < 0 ||
            H5Tset_cset(w.string_type, H5T_CSET_UTF8) < 0)
            st = write_failed(&w, "the file");
    }
    if (!st)
        st = write_root_attributes(&w, m);
    for (int k = 0; !st && k < m->n_tensors; k++)
        st = write_tensor(&w, &m->tensors[k], m->params + m->tensors[k].offset);
    if (!st)
        st = write_training(&w, m);
    if (w.scalar_space >= 0)
        H5Sclose(w.scalar_space);
    if (w.string_type >= 0)
        H5Tclose(w.string_type);
    if (w.link_props >= 0)
        H5Pclose(w.link_props);
    if (st && w.file >= 0)
        H5Fclose(w.file);
    if (!st)
        *file_out = w.file;
    return st;
}

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is int64_t from HDF5 1.10 on");

mlpot_status model_file_write_memory(const mlpot_model *m, const char *path, int64_t *file) {
    if (!m || !path || !path[0] || !file)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "model_file_write: NULL argument");
    /* A file mlpot would refuse to read back is not worth writing. */
    for (int k = 0; k < m->n_tensors; k++) {
        const model_tensor *t = &m->tensors[k];
        size_t bad = first_non_finite(m->params + t->offset, t->size);
        if (bad < t->size) {
            char index[64];
            format_tensor_index(t, bad, index, sizeof index);
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: %s: non-finite value at index %s; not writing the model",
                             path, t->name, index);
        }
    }
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    mlpot_status st = write_model_file(m, path, file);
    hdf5_restore(&saved);
    return st;
}

mlpot_status model_file_write(const mlpot_model *m, const char *path) {
    if (!m || !path || !path[0])
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "model_file_write: NULL argument");
    hid_t file = -1;
    mlpot_status st = model_file_write_memory(m, path, &file);
    if (st)
        return st;
    return hdf5_memory_file_write(file, path);
}

/* =============================================================================================
 * Reading
 * =========================================================================================== */

static mlpot_status read_architecture(const hdf5_reader *r, int version,
                                      const model_arch_ops **arch) {
    char *name = NULL;
    mlpot_status st = hdf5_read_root_string(r, "architecture", 1, &name);
    if (st)
        return st;
    *arch = arch_find(name);
    if (*arch && (*arch)->file_version > version) {
        st = error_set(MLPOT_ERR_PARSE,
                       "%s: architecture \"%s\" needs model file version %d, the file says %d",
                       r->path, name, (*arch)->file_version, version);
    } else if (!*arch) {
        char known[256];
        arch_list_names(known, sizeof known, "\" or \"");
        st = error_set(MLPOT_ERR_PARSE,
                       "%s: attribute 'architecture': expected \"%s\", found \"%s\"", r->path,
                       known, name);
    }
    free(name);
    return st;
}

/* The architecture's own hyper-parameters (all required), as its table says. */
static mlpot_status read_arch_hparams(const hdf5_reader *r, model_hparams *hp) {
    mlpot_status st = MLPOT_OK;
    for (int k = 0; !st && k < hp->arch->n_hparams; k++) {
        const arch_hparam *p = &hp->arch->hparams[k];
        if (p->type == ARCH_HPARAM_INT) {
            int value = 0;
            st = hdf5_read_root_int(r, p->attribute, 1, &value);
            hp->arch_value[k] = value;
        } else {
            st = hdf5_read_root_double(r, p->attribute, &hp->arch_value[k]);
        }
    }
    return st;
}

static mlpot_status read_species(const hdf5_reader *r, model_hparams *hp) {
    hdf5_attribute v;
    mlpot_status st = hdf5_read_attribute(r, r->file, "", "species", &v);
    if (st)
        return st;
    if (!v.present)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute 'species' is missing", r->path);
    else if (v.type_class != H5T_INTEGER)
        st = error_set(MLPOT_ERR_PARSE, "%s: attribute 'species': expected integers, found %s",
                       r->path, hdf5_type_class_description(v.type_class));
    else if (v.rank > 1)
        st = error_set(MLPOT_ERR_PARSE,
                       "%s: attribute 'species': expected a 1-D array, found rank %d", r->path,
                       v.rank);
    else if (v.count < 1 || v.count > MODEL_MAX_SPECIES)
        st = error_set(MLPOT_ERR_PARSE,
                       "%s: attribute 'species': expected 1..%d atomic numbers, found %zu",
                       r->path, MODEL_MAX_SPECIES, v.count);
    for (size_t s = 0; !st && s < v.count; s++) {
        long long z = v.integers[s];
        if (z < 1 || z > ELEMENT_MAX_Z)
            st = error_set(MLPOT_ERR_PARSE,
                           "%s: attribute 'species': atomic number %lld at index %zu is out of "
                           "range 1..%d",
                           r->path, z, s, ELEMENT_MAX_Z);
        else if (s > 0 && z <= v.integers[s - 1])
            st = error_set(MLPOT_ERR_PARSE,
                           "%s: attribute 'species': expected ascending atomic numbers, found "
                           "%lld after %lld",
                           r->path, z, v.integers[s - 1]);
        else
            hp->species[s] = (int)z;
    }
    if (!st)
        hp->n_species = (int)v.count;
    hdf5_attribute_free(&v);
    return st;
}

/* Every root attribute, in the order of formats.md, then the common range checks. */
static mlpot_status read_hparams(const hdf5_reader *r, model_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    hp->envelope_p = MODEL_DEFAULT_ENVELOPE_P;
    mlpot_status st;
    int version = 0;
    if ((st = hdf5_check_format_version(r, MODEL_FILE_FORMAT, arch_max_file_version(), "",
                                            &version)) ||
        (st = read_architecture(r, version, &hp->arch)) || (st = read_species(r, hp)) ||
        (st = hdf5_read_root_double(r, "cutoff", &hp->cutoff)) ||
        (st = hdf5_read_root_int(r, "n_layers", 1, &hp->n_layers)) ||
        (st = hdf5_read_root_int(r, "n_features", 1, &hp->n_features)) ||
        (st = read_arch_hparams(r, hp)))
        return st;
    /* `basis` and `envelope` are required by formats.md but have one legal value each, so a
     * file without them is read with those values. */
    if ((st = hdf5_read_root_int(r, "n_basis", 1, &hp->n_basis)) ||
        (st = hdf5_check_root_string(r, "basis", "gaussian")) ||
        (st = hdf5_check_root_string(r, "envelope", "polynomial")) ||
        (st = hdf5_read_root_int(r, "envelope_p", 0, &hp->envelope_p)) ||
        (st = hdf5_read_root_double(r, "avg_neighbors", &hp->avg_neighbors)) ||
        (st = hdf5_read_root_int(r, "readout_hidden", 1, &hp->readout_hidden)) ||
        (st = hdf5_read_root_double(r, "energy_scale", &hp->energy_scale)) ||
        (st = hdf5_read_root_double(r, "energy_shift", &hp->energy_shift)))
        return st;
    if (model_hparams_validate(hp, r->path))
        return MLPOT_ERR_PARSE; /* the message names the file and the attribute */
    return MLPOT_OK;
}

/* Whether every link along an absolute path exists (H5Lexists fails, rather than answering no,
 * when an intermediate group is missing). */
static int path_exists(hid_t file, const char *path) {
    char prefix[sizeof ((model_tensor *)0)->name];
    size_t n = strlen(path);
    if (n >= sizeof prefix)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if (k < n && path[k] != '/')
            continue;
        memcpy(prefix, path, k);
        prefix[k] = '\0';
        if (H5Lexists(file, prefix, H5P_DEFAULT) <= 0)
            return 0;
    }
    return 1;
}

/* Reads one tensor: the dataset must exist, hold numbers, have exactly the tensor's rank and
 * shape, and be finite. */
static mlpot_status read_tensor(const hdf5_reader *r, const model_tensor *t, double *values) {
    if (!path_exists(r->file, t->name))
        return error_set(MLPOT_ERR_PARSE, "%s: %s: dataset is missing", r->path, t->name);
    hid_t ds = H5Dopen2(r->file, t->name, H5P_DEFAULT);
    if (ds < 0)
        return error_set(MLPOT_ERR_PARSE, "%s: %s: expected a dataset, found another object",
                         r->path, t->name);
    mlpot_status st = MLPOT_OK;
    hid_t file_type = H5Dget_type(ds);
    hid_t space = H5Dget_space(ds);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK];
    H5T_class_t type_class = file_type >= 0 ? H5Tget_class(file_type) : H5T_NO_CLASS;
    if (file_type < 0 || rank < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        st = hdf5_read_failed(r, t->name);
    } else if (type_class != H5T_FLOAT && type_class != H5T_INTEGER) {
        st = error_set(MLPOT_ERR_PARSE, "%s: %s: expected float64 values, found %s", r->path,
                       t->name, hdf5_type_class_description(type_class));
    } else {
        hsize_t expected[2] = {(hsize_t)t->shape[0], (hsize_t)t->shape[1]};
        int same = rank == t->ndim;
        for (int d = 0; same && d < rank; d++)
            same = dims[d] == expected[d];
        if (!same) {
            char want[64], found[64 + 24 * H5S_MAX_RANK];
            hdf5_format_shape(t->ndim, expected, want, sizeof want);
            hdf5_format_shape(rank, dims, found, sizeof found);
            st = error_set(MLPOT_ERR_PARSE, "%s: %s: expected shape %s, found %s", r->path,
                           t->name, want, found);
        } else if (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
            st = hdf5_read_failed(r, t->name);
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (file_type >= 0)
        H5Tclose(file_type);
    H5Dclose(ds);
    if (st)
        return st;
    size_t bad = first_non_finite(values, t->size);
    if (bad < t->size) {
        char index[64];
        format_tensor_index(t, bad, index, sizeof index);
        return error_set(MLPOT_ERR_PARSE, "%s: %s: non-finite value at index %s", r->path,
                         t->name, index);
    }
    return MLPOT_OK;
}

/* Text of an attribute's values: strings as they are, numbers with %lld or %.17g, several
 * values separated by spaces. */
static mlpot_status attribute_text(const hdf5_attribute *v, char **out) {
    size_t capacity = 0, used = 0;
    char *text = NULL;
    mlpot_status st = mem_reserve(&text, &capacity, 1, 1);
    if (st)
        return st;
    text[0] = '\0';
    for (size_t k = 0; k < v->count; k++) {
        char number[40];
        const char *piece = number;
        if (v->type_class == H5T_STRING)
            piece = v->strings[k];
        else if (v->type_class == H5T_INTEGER)
            snprintf(number, sizeof number, "%lld", v->integers[k]);
        else {
            locale_t saved = c_locale_begin(); /* "0.001" under any locale of the program */
            snprintf(number, sizeof number, "%.17g", v->reals[k]);
            c_locale_end(saved);
        }
        size_t n = strlen(piece) + (k > 0);
        if ((st = mem_reserve(&text, &capacity, used + n + 1, 1))) {
            free(text);
            return st;
        }
        snprintf(text + used, capacity - used, "%s%s", k > 0 ? " " : "", piece);
        used += n;
    }
    *out = text;
    return MLPOT_OK;
}

typedef struct {
    const hdf5_reader *reader;
    hid_t group;
    mlpot_model *model;
    mlpot_status status;
    model_ranges *ranges; /* the range_* attributes read so far */
    unsigned ranges_found; /* bit k: range_attributes[k] read with its shape */
} training_visit;

/* A range_* attribute of the expected shape into visit->ranges; 1 when `name` is one of
 * them (a wrong shape is ignored, as something this version does not know). */
static int visit_range_attribute(training_visit *visit, const char *name,
                                 const hdf5_attribute *v) {
    for (int k = 0; k < N_RANGE_ATTRIBUTES; k++) {
        if (strcmp(name, range_attributes[k].name))
            continue;
        const model_hparams *hp = &visit->model->hp;
        size_t want = (size_t)hp->n_species * (range_attributes[k].per_feature ? hp->n_features : 1);
        if (v->type_class != H5T_FLOAT || v->count != want)
            return 1;
        if (!visit->ranges &&
            (visit->status = model_ranges_create(hp->n_species, hp->n_features, &visit->ranges)))
            return 1;
        memcpy(range_values(visit->ranges, k), v->reals, want * sizeof *v->reals);
        visit->ranges_found |= 1u << k;
        return 1;
    }
    return 0;
}

/* H5Aiterate2 callback: one /training attribute into the model, as text. Attributes of types
 * mlpot does not know are skipped (formats.md: readers ignore what they do not know). */
static herr_t visit_training_attribute(hid_t group, const char *name, const H5A_info_t *info,
                                       void *data) {
    training_visit *visit = data;
    hdf5_attribute v;
    (void)info;
    (void)group;
    if ((visit->status = hdf5_read_attribute(visit->reader, visit->group, "/training", name, &v)))
        return -1;
    if (visit_range_attribute(visit, name, &v)) {
        /* kept as numbers in visit->ranges */
    } else if (v.type_class == H5T_STRING || v.type_class == H5T_INTEGER ||
               v.type_class == H5T_FLOAT) {
        char *text = NULL;
        if (!(visit->status = attribute_text(&v, &text)))
            visit->status = model_set_training_attribute(visit->model, name, text);
        free(text);
    }
    hdf5_attribute_free(&v);
    return visit->status ? -1 : 0;
}

/* The /training group's attributes, in creation order when the file tracks it. */
static mlpot_status read_training(const hdf5_reader *r, mlpot_model *m) {
    if (!path_exists(r->file, "/training"))
        return MLPOT_OK;
    hid_t group = H5Gopen2(r->file, "/training", H5P_DEFAULT);
    if (group < 0)
        return MLPOT_OK; /* not a group: something this version does not know */
    H5_index_t order = H5_INDEX_NAME;
    hid_t props = H5Gget_create_plist(group);
    unsigned flags = 0;
    if (props >= 0 && H5Pget_attr_creation_order(props, &flags) >= 0 &&
        (flags & H5P_CRT_ORDER_INDEXED))
        order = H5_INDEX_CRT_ORDER;
    if (props >= 0)
        H5Pclose(props);
    training_visit visit = {r, group, m, MLPOT_OK, NULL, 0};
    hsize_t position = 0;
    herr_t result =
        H5Aiterate2(group, order, H5_ITER_INC, &position, visit_training_attribute, &visit);
    mlpot_status st = visit.status;
    if (!st && visit.ranges_found == (1u << N_RANGE_ATTRIBUTES) - 1) {
        m->ranges = visit.ranges; /* all of them, or none */
        visit.ranges = NULL;
    }
    model_ranges_free(visit.ranges);
    if (!st && result < 0)
        st = hdf5_read_failed(r, "group /training");
    H5Gclose(group);
    return st;
}

/* The optional root attribute parameters_sha256 (absent in files of older versions and the
 * shipped potentials), checked against the parameters read: a damaged or edited file fails
 * here instead of giving wrong energies. */
static mlpot_status verify_parameters_sha256(const hdf5_reader *r, const mlpot_model *m) {
    char *stored = NULL;
    mlpot_status st = hdf5_read_root_string(r, "parameters_sha256", 0, &stored);
    if (st || !stored)
        return st;
    char computed[65];
    model_file_parameters_sha256(m, computed);
    if (strcmp(stored, computed) != 0)
        st = error_set(MLPOT_ERR_PARSE,
                       "%s: the parameters do not match the file's parameters_sha256 (%.64s; "
                       "they hash to %s): the file is damaged or was modified",
                       r->path, stored, computed);
    free(stored);
    return st;
}

int model_file_has_parameters_sha256(const char *path) {
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    hid_t file = hdf5_is_file(path) ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    int present = file >= 0 && H5Aexists(file, "parameters_sha256") > 0;
    if (file >= 0)
        H5Fclose(file);
    hdf5_restore(&saved);
    return present;
}

static mlpot_status read_model_file(const hdf5_reader *r, mlpot_model **out) {
    model_hparams hp;
    mlpot_model *m = NULL;
    char *description = NULL;
    mlpot_status st;
    if ((st = read_hparams(r, &hp)) || (st = hdf5_read_root_string(r, "description", 0, &description)))
        return st;
    if ((st = model_create(&hp, &m))) {
        free(description);
        return st;
    }
    m->description = description;
    for (int k = 0; !st && k < m->n_tensors; k++)
        st = read_tensor(r, &m->tensors[k], m->params + m->tensors[k].offset);
    if (!st)
        st = verify_parameters_sha256(r, m);
    if (!st)
        st = read_training(r, m);
    if (st) {
        mlpot_model_free(m);
        return st;
    }
    *out = m;
    return MLPOT_OK;
}

mlpot_status model_file_read(const char *path, mlpot_model **out) {
    if (!path || !out)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "model_file_read: NULL argument");
    /* fopen first, so that a missing or unreadable file is reported as such */
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return error_set(MLPOT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    mlpot_status st = MLPOT_OK;
    hdf5_reader r = {path, -1};
    if (!hdf5_is_file(path)) {
        st = error_set(MLPOT_ERR_PARSE, "%s: not an HDF5 file", path);
    } else {
        hid_t fapl = hdf5_file_access_properties();
        if (fapl >= 0)
            r.file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
        if (r.file < 0) {
            /* before H5Pclose, which clears HDF5's error stack */
            hdf5_detail detail;
            st = error_set(MLPOT_ERR_PARSE, "%s: cannot open as HDF5 (damaged or truncated?): %s",
                           path, hdf5_error_detail(&detail));
        }
        if (fapl >= 0)
            H5Pclose(fapl);
        if (!st) {
            st = read_model_file(&r, out);
            H5Fclose(r.file);
        }
    }
    hdf5_restore(&saved);
    return st;
}

/* ---- public interface ---- */

mlpot_status mlpot_model_load(mlpot_model **out, const char *path) {
    return model_file_read(path, out);
}

mlpot_status mlpot_model_save(const mlpot_model *m, const char *path) {
    return model_file_write(m, path);
}
