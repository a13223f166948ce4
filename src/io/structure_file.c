/* structure_file.c — opening structure files by format (given or guessed from the name) and
 * writing them safely: a writer writes a temporary file beside the target and renames it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"
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
    FILE *fp;
    char *path;
    char *tmp_path;
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
                         "CONTCAR*, *.vasp, *.poscar, *.xyz, *.extxyz or *.cif, or give --format "
                         "vasp|extxyz|cif",
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

mlpot_status mlpot_writer_open(mlpot_writer **out, const char *path, const char *format_name) {
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
    if (!strcmp(path, "-")) {
        w->fp = stdout;
        *out = w;
        return MLPOT_OK;
    }
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    if ((st = mem_strdup(&w->path, path)) || (st = mem_calloc(&w->tmp_path, n + 64, 1))) {
        mlpot_writer_abort(w);
        return st;
    }
    /* A temporary name in the same directory, so that rename() is atomic; open() with
     * O_EXCL rather than mkstemp() so that the file gets the user's umask, not mode 0600. */
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(w->tmp_path, n + 64, "%.*s.mlpot-tmp-%ld-%d-%s", (int)dir_len, path,
                 (long)getpid(), attempt, path + dir_len);
        fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = error_set(MLPOT_ERR_IO, "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL;
        mlpot_writer_abort(w);
        return st;
    }
    w->fp = fdopen(fd, "w");
    if (!w->fp) {
        close(fd);
        st = error_set(MLPOT_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        mlpot_writer_abort(w);
        return st;
    }
    *out = w;
    return MLPOT_OK;
}

mlpot_status mlpot_writer_write(mlpot_writer *w, const mlpot_structure *s) {
    if (!w->format->multi_frame && w->frames_written > 0)
        return error_set(MLPOT_ERR_UNSUPPORTED, "%s: the %s format holds one structure only",
                         w->path ? w->path : "<stdout>", w->format->name);
    mlpot_status st = w->format->write(w->fp, s);
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
    if (w->fp && w->fp != stdout)
        fclose(w->fp);
    if (w->tmp_path)
        remove(w->tmp_path);
    free(w->tmp_path);
    free(w->path);
    free(w);
}

mlpot_status mlpot_writer_close(mlpot_writer *w) {
    if (!w)
        return MLPOT_OK;
    if (w->fp == stdout) {
        int bad = fflush(stdout) != 0;
        free(w);
        return bad ? error_set(MLPOT_ERR_IO, "<stdout>: write error") : MLPOT_OK;
    }
    int bad = fflush(w->fp) != 0 || ferror(w->fp) || fsync(fileno(w->fp)) != 0;
    bad |= fclose(w->fp) != 0;
    w->fp = NULL;
    if (bad) {
        mlpot_status st = error_set(MLPOT_ERR_IO, "%s: write error: %s", w->path, strerror(errno));
        mlpot_writer_abort(w);
        return st;
    }
    if (rename(w->tmp_path, w->path) != 0) {
        mlpot_status st = error_set(MLPOT_ERR_IO, "%s: cannot rename the temporary file: %s",
                                    w->path, strerror(errno));
        mlpot_writer_abort(w);
        return st;
    }
    free(w->tmp_path);
    w->tmp_path = NULL;
    mlpot_writer_abort(w);
    return MLPOT_OK;
}
