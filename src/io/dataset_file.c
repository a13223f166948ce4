/* dataset_file.c — the HDF5 dataset file of formats.md ("Dataset file (HDF5)", version 1): frames are
 * appended in buffered blocks to chunked, compressed, extendible datasets and read one at a time
 * through hyperslabs; the optional /forces, /stress, /weight and /name appear when first needed. */
#define _POSIX_C_SOURCE 200809L
#include "io/dataset_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/elements.h"
#include "core/error.h"
#include "io/hdf5_attr.h"
#include "io/hdf5_util.h"
#include "core/memory.h"
#include "io/structure.h"

#define DATASET_ATOM_CHUNK 4096    /* rows per chunk of /numbers, /positions, /forces */
#define DATASET_FRAME_CHUNK 1024   /* frames per chunk of the per-frame datasets */
#define DATASET_FLUSH_FRAMES 4096  /* buffered frames that trigger a write */
#define DATASET_FLUSH_ATOMS 262144 /* buffered atoms that trigger a write */
#define DATASET_DEFLATE_LEVEL 4
#define DATASET_CHECK_BLOCK 1048576 /* rows of /numbers checked at a time when opening */
#define DATASET_NAME_BLOCK 65536    /* names read at a time when opening */

/* =============================================================================================
 * The table of formats.md
 * =========================================================================================== */

typedef enum {
    COL_N_ATOMS,
    COL_OFFSET,
    COL_NUMBERS,
    COL_POSITIONS,
    COL_CELL,
    COL_PBC,
    COL_ENERGY,
    COL_FORCES,
    COL_STRESS,
    COL_WEIGHT,
    COL_NAME,
    N_COLUMNS
} column_id;

typedef enum { KIND_INT32, KIND_INT64, KIND_UINT8, KIND_FLOAT64, KIND_STRING } column_kind;

typedef struct {
    const char *path;
    column_kind kind;
    int per_atom; /* rows are atoms (A of them), else frames (F) */
    int rank;     /* 1: [rows], 2: [rows, 3], 3: [rows, 3, 3] */
    int optional;
} column_spec;

static const column_spec columns[N_COLUMNS] = {
    [COL_N_ATOMS] = {"/n_atoms", KIND_INT32, 0, 1, 0},
    [COL_OFFSET] = {"/offset", KIND_INT64, 0, 1, 0},
    [COL_NUMBERS] = {"/numbers", KIND_INT32, 1, 1, 0},
    [COL_POSITIONS] = {"/positions", KIND_FLOAT64, 1, 2, 0},
    [COL_CELL] = {"/cell", KIND_FLOAT64, 0, 3, 0},
    [COL_PBC] = {"/pbc", KIND_UINT8, 0, 2, 0},
    [COL_ENERGY] = {"/energy", KIND_FLOAT64, 0, 1, 0},
    [COL_FORCES] = {"/forces", KIND_FLOAT64, 1, 2, 1},
    [COL_STRESS] = {"/stress", KIND_FLOAT64, 0, 3, 1},
    [COL_WEIGHT] = {"/weight", KIND_FLOAT64, 0, 1, 1},
    [COL_NAME] = {"/name", KIND_STRING, 0, 1, 1},
};

/* Values per row: 1, 3 or 9. */
static int column_width(column_id c) {
    return columns[c].rank == 1 ? 1 : (columns[c].rank == 2 ? 3 : 9);
}

static size_t kind_size(column_kind kind) {
    switch (kind) {
    case KIND_INT32: return sizeof(int32_t);
    case KIND_INT64: return sizeof(int64_t);
    case KIND_UINT8: return sizeof(uint8_t);
    case KIND_FLOAT64: return sizeof(double);
    case KIND_STRING: return sizeof(char *);
    }
    return 1;
}

static hid_t kind_memory_type(column_kind kind) {
    switch (kind) {
    case KIND_INT32: return H5T_NATIVE_INT32;
    case KIND_INT64: return H5T_NATIVE_INT64;
    case KIND_UINT8: return H5T_NATIVE_UINT8;
    case KIND_FLOAT64: return H5T_NATIVE_DOUBLE;
    case KIND_STRING: break;
    }
    return -1;
}

static hid_t kind_file_type(column_kind kind) {
    switch (kind) {
    case KIND_INT32: return H5T_STD_I32LE;
    case KIND_INT64: return H5T_STD_I64LE;
    case KIND_UINT8: return H5T_STD_U8LE;
    case KIND_FLOAT64: return H5T_IEEE_F64LE;
    case KIND_STRING: break;
    }
    return -1;
}

/* =============================================================================================
 * HDF5 messages (the plumbing itself is io/hdf5_util.c)
 * =========================================================================================== */

static mlpot_status hdf5_failed(mlpot_status status, const char *path, const char *what,
                                const char *verb) {
    hdf5_detail detail;
    return error_set(status, "%s: %s: cannot %s: %s", path, what, verb, hdf5_error_detail(&detail));
}

/* Selects rows [row0, row0 + n_rows) of a dataset whose rows hold `width` values ([n], [n, 3] or
 * [n, 3, 3]: the dataspace's rank says how much of start and count is used) and transfers them
 * from the file into buf (read = 1) or from buf into the file. */
static herr_t transfer_rows(hid_t ds, hid_t mem_type, int64_t row0, int64_t n_rows, int width,
                            void *buf, int read) {
    if (n_rows == 0)
        return 0;
    hsize_t start[3] = {(hsize_t)row0, 0, 0};
    hsize_t count[3] = {(hsize_t)n_rows, 3, 3};
    hsize_t mem_dims[1] = {(hsize_t)n_rows * (hsize_t)width};
    hid_t file_space = H5Dget_space(ds);
    hid_t mem_space = H5Screate_simple(1, mem_dims, NULL);
    herr_t result = -1;
    if (file_space >= 0 && mem_space >= 0 &&
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0) {
        result = read ? H5Dread(ds, mem_type, mem_space, file_space, H5P_DEFAULT, buf)
                      : H5Dwrite(ds, mem_type, mem_space, file_space, H5P_DEFAULT, buf);
    }
    if (mem_space >= 0)
        H5Sclose(mem_space);
    if (file_space >= 0)
        H5Sclose(file_space);
    return result;
}

/* =============================================================================================
 * Writing
 *
 * All datasets have an unlimited first dimension, are chunked (DATASET_ATOM_CHUNK rows or
 * DATASET_FRAME_CHUNK frames) and compressed with shuffle + deflate(4), and carry no timestamps
 * (the same frames give the same bytes). The required datasets are created with the file;
 * /forces, /stress, /weight and /name only the first time a frame has forces, stress, an explicit
 * weight or a non-empty name. Rows before then are never stored: they read as the dataset's fill
 * value (NaN = not labelled for forces and stress, 1 for weights), and /name is back-filled with
 * "". So a dataset of molecules has no /stress at all. Frames are buffered and written every
 * DATASET_FLUSH_FRAMES frames or DATASET_FLUSH_ATOMS atoms: memory stays bounded however many
 * frames are appended. After a failed append only dataset_writer_abort() is meaningful.
 * =========================================================================================== */

struct dataset_writer {
    char *path;
    atomic_file out; /* the file is built in memory and written here when closed */
    hid_t file;
    hid_t string_type;
    hid_t ds[N_COLUMNS];   /* -1 until created */
    int wanted[N_COLUMNS]; /* some frame has had this optional dataset's values */
    int64_t file_frames;   /* rows already in the file */
    int64_t file_atoms;
    /* frames waiting to be written: buf[c] holds rows of column c */
    void *buf[N_COLUMNS];
    size_t cap_frames, cap_atoms;
    size_t buf_frames, buf_atoms;
};

static mlpot_status writer_failed(const dataset_writer *w, const char *what) {
    return hdf5_failed(MLPOT_ERR_IO, w->path, what, "write");
}

static mlpot_status write_root_attributes(dataset_writer *w) {
    mlpot_status st = MLPOT_OK;
    hid_t scalar = H5Screate(H5S_SCALAR);
    const char *format = DATASET_FORMAT;
    int32_t version = DATASET_VERSION;
    hid_t attr = scalar < 0 ? -1
                            : H5Acreate2(w->file, "format", w->string_type, scalar, H5P_DEFAULT,
                                         H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, w->string_type, &format) < 0)
        st = writer_failed(w, "attribute 'format'");
    if (attr >= 0)
        H5Aclose(attr);
    if (!st) {
        attr = H5Acreate2(w->file, "version", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        if (attr < 0 || H5Awrite(attr, H5T_NATIVE_INT32, &version) < 0)
            st = writer_failed(w, "attribute 'version'");
        if (attr >= 0)
            H5Aclose(attr);
    }
    if (scalar >= 0)
        H5Sclose(scalar);
    return st;
}

/* Writes "" into rows [0, n) of the freshly created /name. */
static mlpot_status backfill_names(dataset_writer *w, hid_t ds, int64_t n) {
    const char *empty[256];
    for (int k = 0; k < 256; k++)
        empty[k] = "";
    for (int64_t row = 0; row < n; row += 256) {
        int64_t count = n - row < 256 ? n - row : 256;
        if (transfer_rows(ds, w->string_type, row, count, 1, (void *)empty, 0) < 0)
            return writer_failed(w, "/name");
    }
    return MLPOT_OK;
}

/* Creates dataset c with the rows already in the file (as fill values), unlimited first
 * dimension, chunked and compressed. */
static mlpot_status create_column(dataset_writer *w, column_id c) {
    const column_spec *spec = &columns[c];
    int64_t rows = spec->per_atom ? w->file_atoms : w->file_frames;
    hsize_t dims[3] = {(hsize_t)rows, 3, 3};
    hsize_t max_dims[3] = {H5S_UNLIMITED, 3, 3};
    hsize_t chunk[3] = {spec->per_atom ? DATASET_ATOM_CHUNK : DATASET_FRAME_CHUNK, 3, 3};
    hid_t file_type = spec->kind == KIND_STRING ? w->string_type : kind_file_type(spec->kind);
    hid_t space = H5Screate_simple(spec->rank, dims, max_dims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    mlpot_status st = MLPOT_OK;
    /* no modification times in object headers: the same frames give the same bytes */
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, spec->rank, chunk) < 0 ||
        H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DATASET_DEFLATE_LEVEL) < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0)
        st = writer_failed(w, spec->path);
    if (!st && spec->kind == KIND_FLOAT64) {
        /* unwritten rows (frames appended before the first labelled one) are not labelled */
        double fill = c == COL_WEIGHT ? 1.0 : NAN;
        if (H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill) < 0)
            st = writer_failed(w, spec->path);
    }
    if (!st) {
        w->ds[c] =
            H5Dcreate2(w->file, spec->path, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (w->ds[c] < 0)
            st = writer_failed(w, spec->path);
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (!st && c == COL_NAME)
        st = backfill_names(w, w->ds[c], rows);
    return st;
}

/* Appends the buffered rows of column c to its dataset. */
static mlpot_status append_column(dataset_writer *w, column_id c) {
    const column_spec *spec = &columns[c];
    int64_t old_rows = spec->per_atom ? w->file_atoms : w->file_frames;
    int64_t n = (int64_t)(spec->per_atom ? w->buf_atoms : w->buf_frames);
    if (n == 0)
        return MLPOT_OK;
    hsize_t dims[3] = {(hsize_t)(old_rows + n), 3, 3};
    hid_t mem_type = spec->kind == KIND_STRING ? w->string_type : kind_memory_type(spec->kind);
    if (H5Dset_extent(w->ds[c], dims) < 0 ||
        transfer_rows(w->ds[c], mem_type, old_rows, n, column_width(c), w->buf[c], 0) < 0)
        return writer_failed(w, spec->path);
    return MLPOT_OK;
}

static void free_buffered_names(dataset_writer *w) {
    char **names = w->buf[COL_NAME];
    for (size_t k = 0; names && k < w->buf_frames; k++) {
        free(names[k]);
        names[k] = NULL;
    }
}

static mlpot_status writer_flush(dataset_writer *w) {
    mlpot_status st = MLPOT_OK;
    for (int c = 0; !st && c < N_COLUMNS; c++) {
        if (columns[c].optional && !w->wanted[c])
            continue;
        if (w->ds[c] < 0 && (st = create_column(w, (column_id)c)))
            break;
        st = append_column(w, (column_id)c);
    }
    if (st)
        return st;
    free_buffered_names(w);
    w->file_frames += (int64_t)w->buf_frames;
    w->file_atoms += (int64_t)w->buf_atoms;
    w->buf_frames = 0;
    w->buf_atoms = 0;
    return MLPOT_OK;
}

/* Grows every buffer with rows of one kind (per atom or per frame) to hold `need` rows. */
static mlpot_status grow_buffers(dataset_writer *w, int per_atom, size_t need) {
    size_t *cap = per_atom ? &w->cap_atoms : &w->cap_frames;
    if (need <= *cap)
        return MLPOT_OK;
    size_t new_cap = *cap ? *cap : 64;
    while (new_cap < need)
        new_cap *= 2;
    for (int c = 0; c < N_COLUMNS; c++) {
        if (columns[c].per_atom != per_atom)
            continue;
        size_t row = kind_size(columns[c].kind) * (size_t)column_width((column_id)c);
        mlpot_status st = mem_resize(&w->buf[c], new_cap, row);
        if (st)
            return st;
    }
    *cap = new_cap;
    return MLPOT_OK;
}

mlpot_status dataset_writer_open(dataset_writer **out, const char *path) {
    if (!out || !path || !path[0])
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_writer_open: NULL argument");
    dataset_writer *w = NULL;
    mlpot_status st = mem_calloc(&w, 1, sizeof *w);
    if (st)
        return st;
    w->file = w->string_type = -1;
    for (int c = 0; c < N_COLUMNS; c++)
        w->ds[c] = -1;
    /* the temporary file up front: an unwritable directory fails before any work */
    if ((st = mem_strdup(&w->path, path)) || (st = atomic_file_open(&w->out, path))) {
        free(w->path);
        free(w);
        return st;
    }
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0 && H5Pset_obj_track_times(fcpl, 0) >= 0)
        w->file = hdf5_memory_file_create(path, fcpl);
    if (w->file < 0)
        st = writer_failed(w, "the file");
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (!st && (w->string_type = hdf5_utf8_string_type()) < 0)
        st = writer_failed(w, "the file");
    if (!st)
        st = write_root_attributes(w);
    for (int c = 0; !st && c < N_COLUMNS; c++)
        if (!columns[c].optional)
            st = create_column(w, (column_id)c);
    hdf5_restore(&saved);
    if (st) {
        dataset_writer_abort(w);
        return st;
    }
    *out = w;
    return MLPOT_OK;
}

mlpot_status dataset_writer_append_frame(dataset_writer *w, const mlpot_structure *s,
                                         const char *name, const double *weight) {
    if (!w || !s)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_writer_append: NULL argument");
    long long frame = (long long)(w->file_frames + (int64_t)w->buf_frames);
    int n = s->n_atoms;
    char where[64];
    snprintf(where, sizeof where, "frame %lld", frame);
    if (n < 1)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: frame %lld has no atoms (a dataset frame needs at least one)",
                         w->path, frame);
    if (frame >= INT_MAX)
        return error_set(MLPOT_ERR_UNSUPPORTED, "%s: more than %d frames", w->path, INT_MAX - 1);
    mlpot_status st = structure_validate(s, where);
    if (st) {
        error_prefix("%s", w->path);
        return st;
    }
    if (weight && !(isfinite(*weight) && *weight >= 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: frame %lld: weight %g, expected a finite value >= 0", w->path, frame,
                         *weight);
    if (!name)
        name = mlpot_structure_info(s, "config_type");
    if (!name)
        name = ""; /* HDF5 would store a NULL pointer, which not every reader expects */
    char *name_copy = NULL;
    if ((st = grow_buffers(w, 0, w->buf_frames + 1)) ||
        (st = grow_buffers(w, 1, w->buf_atoms + (size_t)n)) ||
        (st = mem_strdup(&name_copy, name)))
        return st;
    size_t f = w->buf_frames, a = w->buf_atoms;
    ((int32_t *)w->buf[COL_N_ATOMS])[f] = n;
    ((int64_t *)w->buf[COL_OFFSET])[f] = w->file_atoms + (int64_t)a;
    memcpy((double *)w->buf[COL_CELL] + 9 * f, s->cell, 9 * sizeof(double));
    for (int k = 0; k < 3; k++)
        ((uint8_t *)w->buf[COL_PBC])[3 * f + (size_t)k] = (uint8_t)(s->pbc[k] != 0);
    ((double *)w->buf[COL_ENERGY])[f] = s->has_energy ? s->energy : NAN;
    double *stress = (double *)w->buf[COL_STRESS] + 9 * f;
    for (int k = 0; k < 9; k++)
        stress[k] = s->has_stress ? s->stress[k] : NAN;
    ((double *)w->buf[COL_WEIGHT])[f] = weight ? *weight : 1.0;
    ((char **)w->buf[COL_NAME])[f] = name_copy;
    int32_t *numbers = (int32_t *)w->buf[COL_NUMBERS] + a;
    for (int i = 0; i < n; i++)
        numbers[i] = s->numbers[i];
    memcpy((double *)w->buf[COL_POSITIONS] + 3 * a, s->positions, (size_t)n * 3 * sizeof(double));
    double *forces = (double *)w->buf[COL_FORCES] + 3 * a;
    for (size_t k = 0; k < (size_t)n * 3; k++)
        forces[k] = s->forces ? s->forces[k] : NAN;
    w->wanted[COL_FORCES] |= s->forces != NULL;
    w->wanted[COL_STRESS] |= s->has_stress;
    w->wanted[COL_WEIGHT] |= weight != NULL;
    w->wanted[COL_NAME] |= name_copy[0] != '\0';
    w->buf_frames++;
    w->buf_atoms += (size_t)n;
    if (w->buf_frames < DATASET_FLUSH_FRAMES && w->buf_atoms < DATASET_FLUSH_ATOMS)
        return MLPOT_OK;
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    st = writer_flush(w);
    hdf5_restore(&saved);
    return st;
}

mlpot_status dataset_writer_append(dataset_writer *w, const mlpot_structure *s) {
    return dataset_writer_append_frame(w, s, NULL, NULL);
}

int64_t dataset_writer_n_frames(const dataset_writer *w) {
    return w->file_frames + (int64_t)w->buf_frames;
}

static void writer_free(dataset_writer *w) {
    free_buffered_names(w);
    for (int c = 0; c < N_COLUMNS; c++)
        free(w->buf[c]);
    free(w->path);
    free(w);
}

/* Closes every HDF5 object of the writer but the file. */
static void writer_close_objects(dataset_writer *w) {
    for (int c = 0; c < N_COLUMNS; c++)
        if (w->ds[c] >= 0) {
            H5Dclose(w->ds[c]);
            w->ds[c] = -1;
        }
    if (w->string_type >= 0)
        H5Tclose(w->string_type);
    w->string_type = -1;
}

mlpot_status dataset_writer_close(dataset_writer *w) {
    if (!w)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_writer_close: NULL argument");
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    mlpot_status st = writer_flush(w);
    writer_close_objects(w);
    if (!st)
        st = hdf5_memory_file_save(w->file, &w->out);
    else
        H5Fclose(w->file);
    w->file = -1;
    hdf5_restore(&saved);
    if (st)
        atomic_file_abort(&w->out);
    else
        st = atomic_file_commit(&w->out);
    writer_free(w);
    return st;
}

void dataset_writer_abort(dataset_writer *w) {
    if (!w)
        return;
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    writer_close_objects(w);
    if (w->file >= 0)
        H5Fclose(w->file);
    hdf5_restore(&saved);
    atomic_file_abort(&w->out);
    writer_free(w);
}

/* ---- copying unknown root attributes ---- */

typedef struct {
    dataset_writer *w;
    const char *src_path;
    mlpot_status status;
} attribute_copy;

static mlpot_status copy_attribute(attribute_copy *copy, hid_t src, const char *name) {
    dataset_writer *w = copy->w;
    char what[160];
    snprintf(what, sizeof what, "attribute '%s'", name);
    hid_t attr = H5Aopen(src, name, H5P_DEFAULT);
    hid_t file_type = attr >= 0 ? H5Aget_type(attr) : -1;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : -1;
    hid_t mem_type = file_type >= 0 ? H5Tget_native_type(file_type, H5T_DIR_DEFAULT) : -1;
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    mlpot_status st = MLPOT_OK;
    void *buf = NULL;
    if (mem_type < 0 || count < 0) {
        st = hdf5_failed(MLPOT_ERR_PARSE, copy->src_path, what, "read");
    } else if (H5Tdetect_class(file_type, H5T_REFERENCE) > 0) {
        /* a reference into the source file means nothing in another file: not copied */
    } else if (!(st = mem_calloc(&buf, count ? (size_t)count : 1, H5Tget_size(mem_type)))) {
        int read_ok = count == 0 || H5Aread(attr, mem_type, buf) >= 0;
        if (!read_ok) {
            st = hdf5_failed(MLPOT_ERR_PARSE, copy->src_path, what, "read");
        } else {
            hid_t out = H5Acreate2(w->file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
            if (out < 0 || (count > 0 && H5Awrite(out, mem_type, buf) < 0))
                st = writer_failed(w, what);
            if (out >= 0)
                H5Aclose(out);
            if (count > 0 && (H5Tdetect_class(mem_type, H5T_VLEN) > 0 ||
                              H5Tdetect_class(mem_type, H5T_STRING) > 0))
                hdf5_reclaim(mem_type, space, buf);
        }
        free(buf);
    }
    if (mem_type >= 0)
        H5Tclose(mem_type);
    if (space >= 0)
        H5Sclose(space);
    if (file_type >= 0)
        H5Tclose(file_type);
    if (attr >= 0)
        H5Aclose(attr);
    return st;
}

static herr_t visit_root_attribute(hid_t loc, const char *name, const H5A_info_t *info,
                                   void *data) {
    attribute_copy *copy = data;
    (void)info;
    if (!strcmp(name, "format") || !strcmp(name, "version"))
        return 0;
    htri_t exists = H5Aexists(copy->w->file, name);
    if (exists > 0)
        return 0;
    copy->status = copy_attribute(copy, loc, name);
    return copy->status ? -1 : 0;
}

/* =============================================================================================
 * Reading
 *
 * The per-frame arrays (n_atoms, offset, cell, pbc, energy, stress, weight, names) are held,
 * O(frames), and checked at open, as are the atomic numbers (in blocks); positions and forces are
 * read when a frame is, through a window of whole chunks so that sequential reads decompress
 * each chunk once. HDF5's automatic error printing is off during every call (the library never
 * prints); its innermost message goes into ours.
 * =========================================================================================== */

struct dataset {
    char *path;
    hid_t file;
    hid_t ds_numbers, ds_positions, ds_forces; /* ds_forces = -1 without /forces */
    int n_frames;
    int64_t n_atoms_total;
    int32_t *n_atoms; /* [F] */
    int64_t *offset;  /* [F] */
    double *cell;     /* [F][9] */
    uint8_t *pbc;     /* [F][3] */
    double *energy;   /* [F] */
    double *stress;   /* [F][9], NULL without /stress */
    double *weight;   /* [F], NULL without /weight */
    char *name_pool;  /* the names, NUL-terminated one after the other */
    int64_t *name_at; /* [F] start of each name in name_pool; NULL without /name */
    int n_unknown;
    char **unknown; /* root objects formats.md does not name */
    /* rows [window_start, window_start + window_rows) of /numbers, /positions and /forces */
    int64_t window_start, window_rows, window_granule;
    size_t window_cap;
    int32_t *window_numbers;
    double *window_positions, *window_forces;
};

static mlpot_status read_failed(const dataset *d, const char *what) {
    return hdf5_failed(MLPOT_ERR_PARSE, d->path, what, "read");
}

/* The frame that owns `row` (binary search in offset). */
static int frame_of_row(const dataset *d, int64_t row) {
    int lo = 0, hi = d->n_frames - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (d->offset[mid] <= row)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static mlpot_status check_format_and_version(const dataset *d) {
    hdf5_reader r = {d->path, d->file};
    int version;
    return hdf5_check_format_version(&r, DATASET_FORMAT, DATASET_VERSION, "dataset ", &version);
}

static const char *type_class_description(H5T_class_t type_class) {
    switch (type_class) {
    case H5T_STRING: return "strings";
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floating-point numbers";
    case H5T_ENUM: return "an enumeration (numpy bool? formats.md asks for uint8 0/1)";
    case H5T_COMPOUND: return "a compound type";
    default: return "another type";
    }
}

/* Whether column c is present, with its number of rows; checks the type class and the trailing
 * dimensions. */
static mlpot_status inspect_column(const dataset *d, column_id c, int *present, int64_t *rows) {
    const column_spec *spec = &columns[c];
    *present = 0;
    htri_t exists = H5Lexists(d->file, spec->path, H5P_DEFAULT);
    if (exists < 0)
        return read_failed(d, spec->path);
    if (!exists) {
        if (spec->optional)
            return MLPOT_OK;
        return error_set(MLPOT_ERR_PARSE, "%s: %s: dataset is missing", d->path, spec->path);
    }
    hid_t ds = H5Dopen2(d->file, spec->path, H5P_DEFAULT);
    if (ds < 0)
        return error_set(MLPOT_ERR_PARSE, "%s: %s: expected a dataset, found another object",
                         d->path, spec->path);
    hid_t type = H5Dget_type(ds);
    hid_t space = H5Dget_space(ds);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK];
    mlpot_status st = MLPOT_OK;
    static const char *expected_type[] = {"int32", "int64", "uint8 (0/1)", "float64", "strings"};
    static const H5T_class_t expected_class[] = {H5T_INTEGER, H5T_INTEGER, H5T_INTEGER, H5T_FLOAT,
                                                 H5T_STRING};
    if (type < 0 || rank < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        st = read_failed(d, spec->path);
    } else if (H5Tget_class(type) != expected_class[spec->kind]) {
        st = error_set(MLPOT_ERR_PARSE, "%s: %s: expected %s, found %s", d->path, spec->path,
                       expected_type[spec->kind], type_class_description(H5Tget_class(type)));
    } else {
        int same = rank == spec->rank;
        for (int k = 1; same && k < rank; k++)
            same = dims[k] == 3;
        if (!same) {
            static const char *want[] = {"", "[n]", "[n, 3]", "[n, 3, 3]"};
            char found[32 + 24 * H5S_MAX_RANK];
            hdf5_format_shape(rank, dims, found, sizeof found);
            st = error_set(MLPOT_ERR_PARSE, "%s: %s: expected shape %s, found %s", d->path,
                           spec->path, want[spec->rank], found);
        } else {
            *present = 1;
            *rows = (int64_t)dims[0];
        }
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    H5Dclose(ds);
    return st;
}

/* Reads the whole per-frame column c into a new array. */
static mlpot_status read_frame_column(const dataset *d, column_id c, void *out) {
    void *buf = NULL;
    size_t row = kind_size(columns[c].kind) * (size_t)column_width(c);
    mlpot_status st = mem_calloc(&buf, d->n_frames ? (size_t)d->n_frames : 1, row);
    if (st)
        return st;
    hid_t ds = H5Dopen2(d->file, columns[c].path, H5P_DEFAULT);
    if (ds < 0 || transfer_rows(ds, kind_memory_type(columns[c].kind), 0, d->n_frames,
                                column_width(c), buf, 1) < 0)
        st = read_failed(d, columns[c].path);
    if (ds >= 0)
        H5Dclose(ds);
    if (st) {
        free(buf);
        return st;
    }
    *(void **)out = buf;
    return MLPOT_OK;
}

static mlpot_status check_offsets(const dataset *d) {
    int64_t expected = 0;
    for (int k = 0; k < d->n_frames; k++) {
        if (d->n_atoms[k] < 1)
            return error_set(MLPOT_ERR_PARSE,
                             "%s: /n_atoms: frame %d has %d atoms, expected at "
                             "least 1",
                             d->path, k, (int)d->n_atoms[k]);
        if (d->offset[k] != expected)
            return error_set(MLPOT_ERR_PARSE,
                             "%s: /offset: frame %d starts at row %lld, expected %lld", d->path, k,
                             (long long)d->offset[k], (long long)expected);
        expected += d->n_atoms[k];
    }
    if (expected != d->n_atoms_total)
        return error_set(MLPOT_ERR_PARSE,
                         "%s: /n_atoms: the frames hold %lld atoms in all, but /numbers has %lld "
                         "rows",
                         d->path, (long long)expected, (long long)d->n_atoms_total);
    return MLPOT_OK;
}

static mlpot_status check_cells(const dataset *d) {
    mlpot_structure cell_only;
    memset(&cell_only, 0, sizeof cell_only);
    for (int k = 0; k < d->n_frames; k++) {
        for (int j = 0; j < 3; j++) {
            uint8_t p = d->pbc[3 * k + j];
            if (p > 1)
                return error_set(MLPOT_ERR_PARSE, "%s: /pbc: frame %d: value %d, expected 0 or 1",
                                 d->path, k, p);
            cell_only.pbc[j] = p;
        }
        memcpy(cell_only.cell, &d->cell[9 * k], sizeof cell_only.cell);
        char where[64];
        snprintf(where, sizeof where, "frame %d", k);
        if (structure_validate(&cell_only, where)) {
            error_prefix("%s: /cell", d->path);
            return MLPOT_ERR_PARSE;
        }
    }
    return MLPOT_OK;
}

/* NaN means "not labelled"; infinity is an error. */
static mlpot_status check_labels(const dataset *d) {
    for (int k = 0; k < d->n_frames; k++) {
        if (isinf(d->energy[k]))
            return error_set(MLPOT_ERR_PARSE,
                             "%s: /energy: frame %d: infinite energy (NaN "
                             "means not labelled)",
                             d->path, k);
        for (int j = 0; d->stress && j < 9; j++)
            if (isinf(d->stress[9 * k + j]))
                return error_set(MLPOT_ERR_PARSE,
                                 "%s: /stress: frame %d: infinite stress (NaN "
                                 "means not labelled)",
                                 d->path, k);
        if (d->weight && !(isfinite(d->weight[k]) && d->weight[k] >= 0))
            return error_set(MLPOT_ERR_PARSE,
                             "%s: /weight: frame %d: weight %g, expected a finite value >= 0",
                             d->path, k, d->weight[k]);
    }
    return MLPOT_OK;
}

/* Streams /numbers in blocks, checking 1..118. */
static mlpot_status check_numbers(const dataset *d) {
    int32_t *block = NULL;
    int64_t block_rows =
        d->n_atoms_total < DATASET_CHECK_BLOCK ? d->n_atoms_total : DATASET_CHECK_BLOCK;
    mlpot_status st = mem_calloc(&block, block_rows ? (size_t)block_rows : 1, sizeof *block);
    for (int64_t row = 0; !st && row < d->n_atoms_total; row += block_rows) {
        int64_t n = d->n_atoms_total - row < block_rows ? d->n_atoms_total - row : block_rows;
        if (transfer_rows(d->ds_numbers, H5T_NATIVE_INT32, row, n, 1, block, 1) < 0) {
            st = read_failed(d, "/numbers");
            break;
        }
        for (int64_t i = 0; i < n; i++)
            if (block[i] < 1 || block[i] > ELEMENT_MAX_Z) {
                st = error_set(MLPOT_ERR_PARSE,
                               "%s: /numbers: frame %d (row %lld): atomic number %d, expected "
                               "1..%d",
                               d->path, frame_of_row(d, row + i), (long long)(row + i),
                               (int)block[i], ELEMENT_MAX_Z);
                break;
            }
    }
    free(block);
    return st;
}

/* Appends `text` (n bytes) and a NUL to the name pool. */
static mlpot_status pool_append(dataset *d, size_t *used, size_t *cap, const char *text, size_t n) {
    mlpot_status st = mem_reserve(&d->name_pool, cap, *used + n + 1, 1);
    if (st)
        return st;
    memcpy(d->name_pool + *used, text, n);
    d->name_pool[*used + n] = '\0';
    *used += n + 1;
    return MLPOT_OK;
}

/* Reads /name (variable- or fixed-length strings) in blocks into the pool. */
static mlpot_status read_names(dataset *d) {
    hid_t ds = H5Dopen2(d->file, "/name", H5P_DEFAULT);
    hid_t file_type = ds >= 0 ? H5Dget_type(ds) : -1;
    hid_t mem_type = H5Tcopy(H5T_C_S1);
    int variable = file_type >= 0 && H5Tis_variable_str(file_type) > 0;
    size_t width = variable ? sizeof(char *) : (file_type >= 0 ? H5Tget_size(file_type) : 0);
    size_t used = 0, cap = 0;
    void *block = NULL;
    mlpot_status st = MLPOT_OK;
    if (ds < 0 || file_type < 0 || mem_type < 0 || width == 0 ||
        H5Tset_cset(mem_type, H5Tget_cset(file_type)) < 0 ||
        H5Tset_size(mem_type, variable ? H5T_VARIABLE : width) < 0 ||
        (!variable && H5Tset_strpad(mem_type, H5T_STR_NULLPAD) < 0))
        st = read_failed(d, "/name");
    if (!st)
        st = mem_calloc(&d->name_at, d->n_frames ? (size_t)d->n_frames : 1, sizeof *d->name_at);
    if (!st)
        st = mem_calloc(&block, DATASET_NAME_BLOCK, width);
    if (!st)
        st = pool_append(d, &used, &cap, "", 0);
    for (int k0 = 0; !st && k0 < d->n_frames; k0 += DATASET_NAME_BLOCK) {
        int n = d->n_frames - k0 < DATASET_NAME_BLOCK ? d->n_frames - k0 : DATASET_NAME_BLOCK;
        if (transfer_rows(ds, mem_type, k0, n, 1, block, 1) < 0) {
            st = read_failed(d, "/name");
            break;
        }
        for (int k = 0; k < n; k++) {
            const char *text = variable ? ((char **)block)[k] : (char *)block + (size_t)k * width;
            size_t len = !text ? 0 : (variable ? strlen(text) : strnlen(text, width));
            d->name_at[k0 + k] = len ? (int64_t)used : 0;
            if (!st && len)
                st = pool_append(d, &used, &cap, text, len);
        }
        if (variable) {
            hsize_t dims[1] = {(hsize_t)n};
            hid_t space = H5Screate_simple(1, dims, NULL);
            if (space >= 0) {
                hdf5_reclaim(mem_type, space, block);
                H5Sclose(space);
            }
        }
    }
    free(block);
    if (mem_type >= 0)
        H5Tclose(mem_type);
    if (file_type >= 0)
        H5Tclose(file_type);
    if (ds >= 0)
        H5Dclose(ds);
    return st;
}

static herr_t visit_root_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    dataset *d = data;
    (void)group;
    (void)info;
    for (int c = 0; c < N_COLUMNS; c++)
        if (!strcmp(columns[c].path + 1, name))
            return 0;
    if (mem_resize(&d->unknown, (size_t)d->n_unknown + 1, sizeof *d->unknown))
        return -1;
    size_t n = strlen(name) + 2;
    if (mem_calloc(&d->unknown[d->n_unknown], n, 1))
        return -1;
    snprintf(d->unknown[d->n_unknown++], n, "/%s", name);
    return 0;
}

/* The window granule: the chunk rows of /positions (what HDF5 decompresses at once anyway). */
static int64_t window_granule(hid_t ds) {
    int64_t granule = DATASET_ATOM_CHUNK;
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[H5S_MAX_RANK];
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
        H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) >= 1)
        granule = (int64_t)chunk[0];
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return granule < 1024 ? 1024 : (granule > 65536 ? 65536 : granule);
}

static mlpot_status open_validated(dataset *d) {
    mlpot_status st;
    int present[N_COLUMNS];
    int64_t rows[N_COLUMNS];
    if ((st = check_format_and_version(d)))
        return st;
    for (int c = 0; c < N_COLUMNS; c++)
        if ((st = inspect_column(d, (column_id)c, &present[c], &rows[c])))
            return st;
    int64_t n_frames = rows[COL_N_ATOMS];
    if (n_frames > INT_MAX - 1)
        return error_set(MLPOT_ERR_UNSUPPORTED,
                         "%s: /n_atoms: %lld frames is more than mlpot "
                         "handles",
                         d->path, (long long)n_frames);
    d->n_frames = (int)n_frames;
    d->n_atoms_total = rows[COL_NUMBERS];
    for (int c = 0; c < N_COLUMNS; c++) {
        if (!present[c])
            continue;
        int64_t want = columns[c].per_atom ? d->n_atoms_total : n_frames;
        if (rows[c] != want)
            return error_set(MLPOT_ERR_PARSE, "%s: %s: expected %lld rows (%s), found %lld",
                             d->path, columns[c].path, (long long)want,
                             columns[c].per_atom ? "one per atom, as /numbers"
                                                 : "one per frame, as /n_atoms",
                             (long long)rows[c]);
    }
    if ((st = read_frame_column(d, COL_N_ATOMS, &d->n_atoms)) ||
        (st = read_frame_column(d, COL_OFFSET, &d->offset)) || (st = check_offsets(d)) ||
        (st = read_frame_column(d, COL_CELL, &d->cell)) ||
        (st = read_frame_column(d, COL_PBC, &d->pbc)) || (st = check_cells(d)) ||
        (st = read_frame_column(d, COL_ENERGY, &d->energy)) ||
        (present[COL_STRESS] && (st = read_frame_column(d, COL_STRESS, &d->stress))) ||
        (present[COL_WEIGHT] && (st = read_frame_column(d, COL_WEIGHT, &d->weight))) ||
        (st = check_labels(d)) || (present[COL_NAME] && (st = read_names(d))))
        return st;
    d->ds_numbers = H5Dopen2(d->file, "/numbers", H5P_DEFAULT);
    d->ds_positions = H5Dopen2(d->file, "/positions", H5P_DEFAULT);
    if (present[COL_FORCES])
        d->ds_forces = H5Dopen2(d->file, "/forces", H5P_DEFAULT);
    if (d->ds_numbers < 0 || d->ds_positions < 0 || (present[COL_FORCES] && d->ds_forces < 0))
        return read_failed(d, "a per-atom dataset");
    d->window_granule = window_granule(d->ds_positions);
    if ((st = check_numbers(d)))
        return st;
    if (H5Literate(d->file, H5_INDEX_NAME, H5_ITER_INC, NULL, visit_root_link, d) < 0)
        return error_set(MLPOT_ERR_MEMORY, "%s: cannot list the root group", d->path);
    return MLPOT_OK;
}

static void dataset_free(dataset *d) {
    free(d->path);
    free(d->n_atoms);
    free(d->offset);
    free(d->cell);
    free(d->pbc);
    free(d->energy);
    free(d->stress);
    free(d->weight);
    free(d->name_pool);
    free(d->name_at);
    for (int k = 0; k < d->n_unknown; k++)
        free(d->unknown[k]);
    free(d->unknown);
    free(d->window_numbers);
    free(d->window_positions);
    free(d->window_forces);
    free(d);
}

static void dataset_close_objects(dataset *d) {
    if (d->ds_forces >= 0)
        H5Dclose(d->ds_forces);
    if (d->ds_positions >= 0)
        H5Dclose(d->ds_positions);
    if (d->ds_numbers >= 0)
        H5Dclose(d->ds_numbers);
    if (d->file >= 0)
        H5Fclose(d->file);
    d->ds_forces = d->ds_positions = d->ds_numbers = d->file = -1;
}

mlpot_status dataset_open(dataset **out, const char *path) {
    if (!out || !path)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_open: NULL argument");
    /* fopen first, so that a missing or unreadable file is reported as such */
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return error_set(MLPOT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
    dataset *d = NULL;
    mlpot_status st = mem_calloc(&d, 1, sizeof *d);
    if (st)
        return st;
    d->file = d->ds_numbers = d->ds_positions = d->ds_forces = -1;
    if ((st = mem_strdup(&d->path, path))) {
        free(d);
        return st;
    }
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    if (!hdf5_is_file(path)) {
        st = error_set(MLPOT_ERR_PARSE, "%s: not an HDF5 file", path);
    } else {
        hid_t fapl = hdf5_file_access_properties();
        if (fapl >= 0)
            d->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
        if (d->file < 0) {
            hdf5_detail detail; /* before H5Pclose, which clears HDF5's error stack */
            st = error_set(MLPOT_ERR_PARSE, "%s: cannot open as HDF5 (damaged or truncated?): %s",
                           path, hdf5_error_detail(&detail));
        }
        if (fapl >= 0)
            H5Pclose(fapl);
    }
    if (!st)
        st = open_validated(d);
    if (st)
        dataset_close_objects(d);
    hdf5_restore(&saved);
    if (st) {
        dataset_free(d);
        return st;
    }
    *out = d;
    return MLPOT_OK;
}

void dataset_close(dataset *d) {
    if (!d)
        return;
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    dataset_close_objects(d);
    hdf5_restore(&saved);
    dataset_free(d);
}

int dataset_n_frames(const dataset *d) {
    return d->n_frames;
}
int64_t dataset_n_atoms_total(const dataset *d) {
    return d->n_atoms_total;
}
int dataset_frame_n_atoms(const dataset *d, int k) {
    return k >= 0 && k < d->n_frames ? d->n_atoms[k] : 0;
}
double dataset_frame_weight(const dataset *d, int k) {
    return d->weight && k >= 0 && k < d->n_frames ? d->weight[k] : 1.0;
}
const char *dataset_frame_name(const dataset *d, int k) {
    return d->name_at && k >= 0 && k < d->n_frames ? d->name_pool + d->name_at[k] : "";
}
int dataset_has_forces(const dataset *d) {
    return d->ds_forces >= 0;
}
int dataset_has_stress(const dataset *d) {
    return d->stress != NULL;
}
int dataset_has_weight(const dataset *d) {
    return d->weight != NULL;
}
int dataset_has_names(const dataset *d) {
    return d->name_at != NULL;
}
int dataset_n_unknown_objects(const dataset *d) {
    return d->n_unknown;
}
const char *dataset_unknown_object(const dataset *d, int i) {
    return i >= 0 && i < d->n_unknown ? d->unknown[i] : NULL;
}

/* Makes the window hold rows [row0, row0 + n): the whole chunks around them. */
static mlpot_status load_window(dataset *d, int64_t row0, int64_t n) {
    if (row0 >= d->window_start && row0 + n <= d->window_start + d->window_rows)
        return MLPOT_OK;
    int64_t g = d->window_granule;
    int64_t start = row0 / g * g;
    int64_t end = (row0 + n + g - 1) / g * g;
    if (end > d->n_atoms_total)
        end = d->n_atoms_total;
    size_t rows = (size_t)(end - start);
    mlpot_status st;
    if (rows > d->window_cap) {
        if ((st = mem_resize(&d->window_numbers, rows, sizeof(int32_t))) ||
            (st = mem_resize(&d->window_positions, rows, 3 * sizeof(double))) ||
            (d->ds_forces >= 0 && (st = mem_resize(&d->window_forces, rows, 3 * sizeof(double)))))
            return st;
        d->window_cap = rows;
    }
    d->window_rows = 0; /* invalid until every read succeeded */
    if (transfer_rows(d->ds_numbers, H5T_NATIVE_INT32, start, (int64_t)rows, 1, d->window_numbers,
                      1) < 0)
        return read_failed(d, "/numbers");
    if (transfer_rows(d->ds_positions, H5T_NATIVE_DOUBLE, start, (int64_t)rows, 3,
                      d->window_positions, 1) < 0)
        return read_failed(d, "/positions");
    if (d->ds_forces >= 0 && transfer_rows(d->ds_forces, H5T_NATIVE_DOUBLE, start, (int64_t)rows, 3,
                                           d->window_forces, 1) < 0)
        return read_failed(d, "/forces");
    d->window_start = start;
    d->window_rows = (int64_t)rows;
    return MLPOT_OK;
}

/* Copies frame k's rows out of the window into a new structure. */
static mlpot_status frame_from_window(const dataset *d, int k, mlpot_structure **out) {
    int n = d->n_atoms[k];
    int64_t row0 = d->offset[k];
    size_t first = (size_t)(row0 - d->window_start);
    mlpot_structure *s = NULL;
    mlpot_status st = structure_alloc(&s, n);
    if (st)
        return st;
    for (int i = 0; i < n; i++)
        s->numbers[i] = d->window_numbers[first + (size_t)i];
    memcpy(s->positions, d->window_positions + 3 * first, (size_t)n * 3 * sizeof(double));
    for (int i = 0; !st && i < n; i++)
        if (!isfinite(s->positions[3 * i]) || !isfinite(s->positions[3 * i + 1]) ||
            !isfinite(s->positions[3 * i + 2]))
            st = error_set(MLPOT_ERR_PARSE,
                           "%s: /positions: frame %d (row %lld): non-finite "
                           "position",
                           d->path, k, (long long)(row0 + i));
    memcpy(s->cell, &d->cell[9 * k], sizeof s->cell);
    for (int j = 0; j < 3; j++)
        s->pbc[j] = d->pbc[3 * k + j];
    if (!isnan(d->energy[k])) {
        s->has_energy = 1;
        s->energy = d->energy[k];
    }
    if (!st && d->ds_forces >= 0) {
        const double *f = d->window_forces + 3 * first;
        int labelled = 0;
        for (int i = 0; !st && i < n; i++) {
            int nan_row = 0;
            for (int j = 0; j < 3; j++) {
                nan_row |= isnan(f[3 * i + j]);
                if (isinf(f[3 * i + j]))
                    st = error_set(MLPOT_ERR_PARSE,
                                   "%s: /forces: frame %d (row %lld): infinite "
                                   "force (NaN means not labelled)",
                                   d->path, k, (long long)(row0 + i));
            }
            labelled |= !nan_row;
        }
        if (!st && labelled)
            st = mlpot_structure_set_forces(s, f);
    }
    if (!st && d->stress) {
        const double *sigma = &d->stress[9 * k];
        int complete = 1;
        for (int j = 0; j < 9; j++)
            complete &= !isnan(sigma[j]);
        if (complete)
            st = mlpot_structure_set_stress(s, sigma);
    }
    const char *name = dataset_frame_name(d, k);
    if (!st && name[0])
        st = mlpot_structure_set_info(s, "config_type", name);
    if (st) {
        mlpot_structure_free(s);
        return st;
    }
    *out = s;
    return MLPOT_OK;
}

mlpot_status dataset_read_frame(dataset *d, int k, mlpot_structure **out) {
    if (!d || !out)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_read_frame: NULL argument");
    if (k < 0 || k >= d->n_frames)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: frame %d does not exist (%d frames)",
                         d->path, k, d->n_frames);
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    mlpot_status st = load_window(d, d->offset[k], d->n_atoms[k]);
    hdf5_restore(&saved);
    if (st)
        return st;
    return frame_from_window(d, k, out);
}

mlpot_status dataset_writer_copy_attributes(dataset_writer *w, const dataset *src) {
    if (!w || !src)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "dataset_writer_copy_attributes: NULL");
    hdf5_error_handler saved;
    hdf5_silence(&saved);
    attribute_copy copy = {w, src->path, MLPOT_OK};
    hsize_t position = 0;
    herr_t result =
        H5Aiterate2(src->file, H5_INDEX_NAME, H5_ITER_INC, &position, visit_root_attribute, &copy);
    mlpot_status st = copy.status;
    if (!st && result < 0)
        st = read_failed(src, "the root attributes");
    hdf5_restore(&saved);
    return st;
}
