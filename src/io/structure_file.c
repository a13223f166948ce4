/* structure_file.c — opening structure files by format (given or guessed from the name) and
 * writing them safely: a writer writes a temporary file beside the target and renames it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "io/atomic_file.h"
#include "io/structure_formats.h"

typedef mlpot_status (*read_fn)(line_reader *, const mlpot_read_options *, mlpot_structure **);
typedef mlpot_status (*write_fn)(FILE *, const mlpot_structure *);

typedef struct {
    const char *name;
    read_fn read;
    write_fn write;
    int multi_frame;
} format_entry;

static const format_entry formats[] = {
    {"vasp", poscar_read, poscar_write, 0},
    {"extxyz", extxyz_read, extxyz_write, 1},
    {"cif", cif_read, NULL, 1},
};

struct mlpot_reader {
    line_reader lr;
    FILE *fp;
    const format_entry *format;
    mlpot_read_options options;
    char *species;
    int frames_read;
};

struct mlpot_writer {
    FILE *fp;         /* stdout, or out.fp */
    const char *path; /* out.path, or NULL for stdout */
    atomic_file out;
    int streaming; /* each frame reaches the file whole, at once */
    const format_entry *format;
    int frames_written;
};

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *mlpot_format_from_path(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strncmp(base, "POSCAR", 6) || !strncmp(base, "CONTCAR", 7) || ends_with(base, ".vasp") ||
        ends_with(base, ".poscar"))
        return "vasp";
    if (ends_with(base, ".xyz") || ends_with(base, ".extxyz"))
        return "extxyz";
    if (ends_with(base, ".cif") || ends_with(base, ".CIF"))
        return "cif";
    return NULL;
}

static mlpot_status find_format(const char *path, const char *name, const format_entry **out) {
    if (!name)
        name = mlpot_format_from_path(path);
    if (!name)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: cannot tell the format from the file name; expected POSCAR*, "
                         "CONTCAR*, *.vasp, *.poscar, *.xyz, *.extxyz or *.cif, or name the "
                         "format: vasp, extxyz or cif",
                         path);
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++)
        if (!strcmp(formats[k].name, name)) {
            *out = &formats[k];
            return MLPOT_OK;
        }
    return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                     "unknown format '%s'; expected vasp, extxyz or cif", name);
}

mlpot_status mlpot_reader_open(mlpot_reader **out, const char *path,
                               const mlpot_read_options *options) {
    if (!out || !path)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_reader_open: NULL argument");
    const format_entry *format = NULL;
    mlpot_status st = find_format(path, options ? options->format : NULL, &format);
    if (st)
        return st;
    mlpot_reader *r = NULL;
    if ((st = mem_calloc(&r, 1, sizeof *r)))
        return st;
    r->format = format;
    if (options && options->species) {
        if ((st = mem_strdup(&r->species, options->species))) {
            free(r);
            return st;
        }
        r->options.species = r->species;
    }
    if (!strcmp(path, "-")) {
        st = line_reader_init_stream(&r->lr, stdin, "<stdin>");
    } else {
        r->fp = fopen(path, "rb");
        if (!r->fp)
            st = error_set(MLPOT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        else
            st = line_reader_init_stream(&r->lr, r->fp, path);
    }
    if (st) {
        mlpot_reader_close(r);
        return st;
    }
    *out = r;
    return MLPOT_OK;
}

mlpot_status mlpot_reader_next(mlpot_reader *r, mlpot_structure **out) {
    *out = NULL;
    if (!r->format->multi_frame && r->frames_read > 0)
        return MLPOT_OK;
    mlpot_status st = r->format->read(&r->lr, &r->options, out);
    if (st == MLPOT_OK && *out)
        r->frames_read++;
    return st;
}

void mlpot_reader_close(mlpot_reader *r) {
    if (!r)
        return;
    line_reader_close(&r->lr);
    if (r->fp)
        fclose(r->fp);
    free(r->species);
    free(r);
}

mlpot_status mlpot_read_all(const char *path, const mlpot_read_options *options,
                            mlpot_structure ***frames_out, int *n_out) {
    mlpot_reader *r = NULL;
    mlpot_status st = mlpot_reader_open(&r, path, options);
    if (st)
        return st;
    mlpot_structure **frames = NULL;
    size_t cap = 0;
    int n = 0;
    for (;;) {
        mlpot_structure *s = NULL;
        if ((st = mlpot_reader_next(r, &s)))
            break;
        if (!s)
            break;
        if ((st = mem_reserve(&frames, &cap, (size_t)n + 1, sizeof *frames))) {
            mlpot_structure_free(s);
            break;
        }
        frames[n++] = s;
    }
    mlpot_reader_close(r);
    if (st == MLPOT_OK && n == 0)
        st = error_set(MLPOT_ERR_PARSE, "%s:1: expected at least one structure, found none", path);
    if (st) {
        for (int k = 0; k < n; k++)
            mlpot_structure_free(frames[k]);
        free(frames);
        return st;
    }
    *frames_out = frames;
    *n_out = n;
    return MLPOT_OK;
}

static mlpot_status writer_open(mlpot_writer **out, const char *path, const char *format_name,
                                int streaming, long keep_bytes) {
    if (!out || !path)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_writer_open: NULL argument");
    const format_entry *format = NULL;
    mlpot_status st = find_format(path, format_name, &format);
    if (st)
        return st;
    if (!format->write)
        return error_set(MLPOT_ERR_UNSUPPORTED,
                         "%s: the %s format is read only; write vasp or extxyz", path,
                         format->name);
    mlpot_writer *w = NULL;
    if ((st = mem_calloc(&w, 1, sizeof *w)))
        return st;
    w->format = format;
    w->streaming = streaming;
    if (!strcmp(path, "-")) {
        w->fp = stdout;
        *out = w;
        return MLPOT_OK;
    }
    if ((st = streaming ? atomic_file_open_streaming(&w->out, path, keep_bytes)
                        : atomic_file_open(&w->out, path))) {
        free(w);
        return st;
    }
    w->fp = w->out.fp;
    w->path = w->out.path;
    *out = w;
    return MLPOT_OK;
}

mlpot_status mlpot_writer_open(mlpot_writer **out, const char *path, const char *format_name) {
    return writer_open(out, path, format_name, 0, 0);
}

mlpot_status structure_writer_open_streaming(mlpot_writer **out, const char *path,
                                             const char *format_name, long keep_bytes) {
    return writer_open(out, path, format_name, 1, keep_bytes);
}

long structure_writer_bytes(const mlpot_writer *w) {
    return ftell(w->fp);
}

/* One frame formatted in memory, then handed to the file in one write and flushed: a run
 * killed at any moment leaves whole frames only. */
static mlpot_status write_whole_frame(mlpot_writer *w, const mlpot_structure *s) {
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&text, &size);
    if (!memory)
        return error_set(MLPOT_ERR_MEMORY, "out of memory");
    mlpot_status st = w->format->write(memory, s);
    if (fclose(memory) != 0 && !st)
        st = error_set(MLPOT_ERR_MEMORY, "out of memory");
    if (!st && (fwrite(text, 1, size, w->fp) != size || fflush(w->fp) != 0))
        st = error_set(MLPOT_ERR_IO, "write error: %s", strerror(errno));
    free(text);
    return st;
}

mlpot_status mlpot_writer_write(mlpot_writer *w, const mlpot_structure *s) {
    if (!w->format->multi_frame && w->frames_written > 0)
        return error_set(MLPOT_ERR_UNSUPPORTED, "%s: the %s format holds one structure only",
                         w->path ? w->path : "<stdout>", w->format->name);
    mlpot_status st = w->streaming ? write_whole_frame(w, s) : w->format->write(w->fp, s);
    if (st) {
        error_prefix("%s", w->path ? w->path : "<stdout>");
        return st;
    }
    w->frames_written++;
    return MLPOT_OK;
}

void mlpot_writer_abort(mlpot_writer *w) {
    if (!w)
        return;
    atomic_file_abort(&w->out);
    free(w);
}

mlpot_status mlpot_writer_close(mlpot_writer *w) {
    if (!w)
        return MLPOT_OK;
    if (w->fp == stdout) {
        int bad = fflush(stdout) != 0 || ferror(stdout);
        free(w);
        return bad ? error_set(MLPOT_ERR_IO, "<stdout>: write error: %s", strerror(errno))
                   : MLPOT_OK;
    }
    mlpot_status st = atomic_file_commit(&w->out);
    free(w);
    return st;
}
