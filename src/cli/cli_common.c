/* cli_common.c — shared helpers of the command-line tool. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli_common.h"

#include <errno.h>
#include <string.h>

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include <sys/stat.h>

#include "io/hdf5_probe.h"
#include "io/line_reader.h"
#include "io/structure_formats.h"

int cli_fail(void) {
    fprintf(stderr, "mlpot: %s\n", mlpot_last_error());
    return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "mlpot %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'mlpot %s --help')\n", command);
    return CLI_EXIT_USAGE;
}

int cli_check_structure_format(const char *command, const char *path, const char *format,
                               int output) {
    const char *option = output ? "--output-format" : "--input-format";
    const char *names = output ? "vasp|extxyz" : "vasp|extxyz|cif";
    if (format) {
        if (!strcmp(format, "vasp") || !strcmp(format, "extxyz") ||
            (!output && !strcmp(format, "cif")))
            return 1;
        cli_usage_error(command, "%s must be %s, got '%s'", option,
                        output ? "vasp or extxyz" : "vasp, extxyz or cif", format);
        return 0;
    }
    const char *from_name = mlpot_format_from_path(path);
    if (from_name && !(output && !strcmp(from_name, "cif")))
        return 1;
    if (!strcmp(path, "-"))
        cli_usage_error(command, "'-' (standard %s) needs %s %s", output ? "output" : "input",
                        option, names);
    else if (from_name)
        cli_usage_error(command, "%s: the %s format is read only; write vasp or extxyz "
                        "(*.vasp, POSCAR*, *.xyz, *.extxyz, or %s %s)",
                        path, from_name, option, names);
    else
        cli_usage_error(command, "cannot tell the format of '%s' from its name: expected "
                        "POSCAR*, CONTCAR*, *.vasp, *.poscar, *.xyz, *.extxyz%s, or %s %s",
                        path, output ? "" : " or *.cif", option, names);
    return 0;
}

int cli_parse_double(const char *command, const char *option, const char *text, double *value) {
    if (!parse_double(text, value)) {
        cli_usage_error(command, "%s expects a number, got '%s'", option, text);
        return 0;
    }
    return 1;
}

void json_string(FILE *fp, const char *text) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

void json_number(FILE *fp, double x) {
    if (!isfinite(x)) {
        fputs("null", fp);
        return;
    }
    char buf[32];
    format_double(buf, x);
    fputs(buf, fp);
}

void json_key(FILE *fp, int *first, const char *key) {
    if (!*first)
        fputs(", ", fp);
    *first = 0;
    json_string(fp, key);
    fputs(": ", fp);
}

static int output_open(cli_output *out, const char *path, int streaming, long keep_bytes) {
    memset(out, 0, sizeof *out);
    if (!path || !strcmp(path, "-")) {
        out->fp = stdout;
        return 1;
    }
    snprintf(out->path, sizeof out->path, "%s", path);
    if (streaming ? atomic_file_open_streaming(&out->file, path, keep_bytes)
                  : atomic_file_open(&out->file, path)) {
        fprintf(stderr, "mlpot: %s\n", mlpot_last_error());
        return 0;
    }
    out->fp = out->file.fp;
    return 1;
}

int cli_output_open(cli_output *out, const char *path) {
    return output_open(out, path, 0, 0);
}

int cli_output_open_streaming(cli_output *out, const char *path, long keep_bytes) {
    return output_open(out, path, 1, keep_bytes);
}

int cli_output_close(cli_output *out, int keep) {
    if (!out->fp)
        return 1;
    if (out->fp == stdout) {
        out->fp = NULL;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "mlpot: <stdout>: write error: %s\n", strerror(errno));
            return 0;
        }
        return 1;
    }
    out->fp = NULL;
    if (!keep) {
        atomic_file_abort(&out->file);
        return 1;
    }
    if (atomic_file_commit(&out->file)) {
        fprintf(stderr, "mlpot: %s\n", mlpot_last_error());
        return 0;
    }
    return 1;
}

static const char *kind_name(cli_file_kind kind) {
    switch (kind) {
    case CLI_KIND_STRUCTURE: return "a structure file";
    case CLI_KIND_MODEL: return "a model file";
    case CLI_KIND_DATASET: return "a dataset";
    case CLI_KIND_HDF5: return "an HDF5 file";
    default: return "a text file";
    }
}

/* What an existing file holds: HDF5 by content, structure files by name (as readers pick
 * their format). */
static cli_file_kind existing_kind(const char *path) {
    char format[64];
    if (hdf5_file_format(path, format, sizeof format)) {
        if (!strcmp(format, "mlpot-model"))
            return CLI_KIND_MODEL;
        if (!strcmp(format, "mlpot-dataset"))
            return CLI_KIND_DATASET;
        return CLI_KIND_HDF5;
    }
    return mlpot_format_from_path(path) ? CLI_KIND_STRUCTURE : CLI_KIND_TEXT;
}

int cli_check_output(const char *command, const char *output, cli_file_kind kind,
                     const char *const *inputs, int n_inputs, int force) {
    struct stat out_st, in_st;
    if (!output || !strcmp(output, "-") || stat(output, &out_st) != 0)
        return 1;
    for (int k = 0; k < n_inputs; k++)
        if (inputs[k] && stat(inputs[k], &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
            in_st.st_ino == out_st.st_ino) {
            fprintf(stderr, "mlpot %s: output %s is the input %s; refusing to overwrite it\n",
                    command, output, inputs[k]);
            return 0;
        }
    if (force || !S_ISREG(out_st.st_mode))
        return 1;
    cli_file_kind existing = existing_kind(output);
    if (existing != CLI_KIND_TEXT && existing != kind) {
        fprintf(stderr,
                "mlpot %s: %s exists and is %s, not %s; refusing to replace it (--force to "
                "replace it anyway)\n",
                command, output, kind_name(existing), kind_name(kind));
        return 0;
    }
    return 1;
}

int cli_check_trajectory_name(const char *command, const char *traj) {
    const char *format = traj ? mlpot_format_from_path(traj) : NULL;
    if (format && strcmp(format, "extxyz") != 0) {
        cli_usage_error(command, "--traj %s: a trajectory is written as extended XYZ (*.xyz, "
                                 "*.extxyz); a %s file holds one structure",
                        traj, format);
        return 0;
    }
    return 1;
}

int cli_check_memory(const char *command, const char *what, double estimated_bytes, int allow) {
    if (allow || estimated_bytes <= CLI_MEMORY_BUDGET_BYTES)
        return 1;
    fprintf(stderr,
            "mlpot %s: %s needs about %.1f GB, over the %.0f GB a command may take unasked; "
            "--allow-large to go ahead\n",
            command, what, estimated_bytes / 1e9, CLI_MEMORY_BUDGET_BYTES / 1e9);
    return 0;
}

/* Bytes per directed edge: the graph's arrays (neighbour, image, vector, distance, reverse)
 * and the build's sort entries. */
#define GRAPH_BYTES_PER_EDGE 110.0

double cli_graph_bytes_estimate(const mlpot_structure *s, double cutoff) {
    double n = s->n_atoms, edges;
    const double *c = s->cell;
    double volume = fabs(c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) +
                         c[2] * (c[3] * c[7] - c[4] * c[6]));
    if (s->pbc[0] && s->pbc[1] && s->pbc[2] && volume > 0)
        edges = n * (n / volume) * (4.0 / 3.0) * 3.141592653589793 * cutoff * cutoff * cutoff;
    else
        edges = n * (n - 1); /* at most every pair (open directions hold no images) */
    return edges * GRAPH_BYTES_PER_EDGE;
}

int cli_warn_extrapolation(const mlpot_calculator *c, const char *where) {
    char text[1024];
    int count = 0;
    if (mlpot_calculator_extrapolation_message(c, text, sizeof text, &count) || !count)
        return 0;
    fprintf(stderr, "mlpot: warning: %s: %s\n", where, text);
    return count;
}
