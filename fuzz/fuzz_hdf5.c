/* fuzz_hdf5.c — harness for the HDF5 readers: the input bytes, written to a temporary file,
 * are opened as a model file (model_file_read) and as a dataset (dataset_open, then every
 * frame). A failure must name the file; a model that loads must have finite parameters and
 * survive a write and re-read bit for bit (parameters_sha256 included). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/model_file.h"
#include "io/dataset_file.h"

#define FUZZ_MAX_FRAMES 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what) {
    fprintf(stderr, "fuzz check failed: %s\nlast error: %s\n", what, mlpot_last_error());
    abort();
}

/* A failed call must say which file. */
static void check_error_names(const char *path) {
    if (!strstr(mlpot_last_error(), path))
        fuzz_fail("error message does not name the file");
}

static void check_model(const char *path, const char *copy) {
    mlpot_model *m = NULL;
    if (model_file_read(path, &m) != MLPOT_OK) {
        check_error_names(path);
        return;
    }
    for (size_t k = 0; k < m->n_params; k++)
        if (!isfinite(m->params[k]))
            fuzz_fail("a loaded model has a non-finite parameter");
    mlpot_model *back = NULL;
    if (model_file_write(m, copy) != MLPOT_OK || model_file_read(copy, &back) != MLPOT_OK)
        fuzz_fail("a loaded model does not write and read back");
    if (back->n_params != m->n_params ||
        memcmp(back->params, m->params, m->n_params * sizeof *m->params) != 0)
        fuzz_fail("a model read back differs");
    mlpot_model_free(back);
    mlpot_model_free(m);
}

static void check_dataset(const char *path) {
    dataset *d = NULL;
    if (dataset_open(&d, path) != MLPOT_OK) {
        check_error_names(path);
        return;
    }
    int n = dataset_n_frames(d);
    for (int k = 0; k < n && k < FUZZ_MAX_FRAMES; k++) {
        mlpot_structure *s = NULL;
        if (dataset_read_frame(d, k, &s) != MLPOT_OK) {
            check_error_names(path);
            break;
        }
        mlpot_structure_free(s);
    }
    dataset_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096], copy[4200];
    snprintf(path, sizeof path, "%s/mlpot-fuzz-hdf5-%ld.h5", dir, (long)getpid());
    snprintf(copy, sizeof copy, "%s.copy.h5", path);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
        fuzz_fail("cannot write the input to a temporary file");
    check_model(path, copy);
    check_dataset(path);
    remove(path);
    remove(copy);
    return 0;
}
