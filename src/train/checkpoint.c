/* checkpoint.c — training checkpoints: a model file (so a checkpoint also loads as a model)
 * with a /checkpoint group holding the optimizer's moments, the weight average, the best
 * weights so far, the random state, the learning-curve text and every setting of the run.
 * Written to a temporary name and renamed, so a killed run always leaves a whole checkpoint. */
#include "train/checkpoint.h"

#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "io/hdf5_util.h"
#include "model/model_file.h"

typedef enum { FIELD_STRING, FIELD_DOUBLE, FIELD_INT, FIELD_LONG, FIELD_U64 } field_type;

typedef struct {
    const char *name;
    field_type type;
    size_t offset;
    size_t size; /* strings */
} settings_field;

#define S_FIELD(name, member, type)                                                                \
    { name, type, offsetof(train_settings, member), sizeof(((train_settings *)0)->member) }

static const settings_field fields[] = {
    S_FIELD("train_path", train_path, FIELD_STRING),
    S_FIELD("valid_path", valid_path, FIELD_STRING),
    S_FIELD("valid_fraction", valid_fraction, FIELD_DOUBLE),
    S_FIELD("energy_weight", weights.energy, FIELD_DOUBLE),
    S_FIELD("force_weight", weights.force, FIELD_DOUBLE),
    S_FIELD("stress_weight", weights.stress, FIELD_DOUBLE),
    S_FIELD("lr", opt.lr, FIELD_DOUBLE),
    S_FIELD("lr_min", opt.lr_min, FIELD_DOUBLE),
    S_FIELD("beta1", opt.beta1, FIELD_DOUBLE),
    S_FIELD("beta2", opt.beta2, FIELD_DOUBLE),
    S_FIELD("eps", opt.eps, FIELD_DOUBLE),
    S_FIELD("weight_decay", opt.weight_decay, FIELD_DOUBLE),
    S_FIELD("clip_norm", opt.clip_norm, FIELD_DOUBLE),
    S_FIELD("warmup_steps", opt.warmup_steps, FIELD_INT),
    S_FIELD("schedule", opt.schedule, FIELD_INT),
    S_FIELD("total_steps", opt.total_steps, FIELD_LONG),
    S_FIELD("plateau_factor", opt.plateau_factor, FIELD_DOUBLE),
    S_FIELD("plateau_patience", opt.plateau_patience, FIELD_INT),
    S_FIELD("ema_decay", opt.ema_decay, FIELD_DOUBLE),
    S_FIELD("epochs", epochs, FIELD_INT),
    S_FIELD("batch_size", batch_size, FIELD_INT),
    S_FIELD("patience", patience, FIELD_INT),
    S_FIELD("seed", seed, FIELD_U64),
    S_FIELD("threads", threads, FIELD_INT),
    S_FIELD("output", output, FIELD_STRING),
    S_FIELD("checkpoint", checkpoint, FIELD_STRING),
    S_FIELD("log_csv", log_csv, FIELD_STRING),
    S_FIELD("command_line", command_line, FIELD_STRING),
};

static herr_t write_attribute(hid_t obj, const char *name, hid_t type, const void *value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = attr < 0 ? -1 : H5Awrite(attr, type, value);
    if (attr >= 0)
        H5Aclose(attr);
    H5Sclose(space);
    return st;
}

static herr_t write_string(hid_t obj, const char *name, const char *text) {
    hid_t type = hdf5_utf8_string_type();
    herr_t st = write_attribute(obj, name, type, &text);
    H5Tclose(type);
    return st;
}

static herr_t read_attribute(hid_t obj, const char *name, hid_t type, void *value) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    herr_t st = H5Aread(attr, type, value);
    H5Aclose(attr);
    return st;
}

/* A variable-length string attribute into a new buffer. */
static char *read_string(hid_t obj, const char *name) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0)
        return NULL;
    hid_t type = hdf5_utf8_string_type();
    char *value = NULL, *copy = NULL;
    if (H5Aread(attr, type, &value) >= 0 && value) {
        if (mem_strdup(&copy, value) != MLPOT_OK)
            copy = NULL;
        H5free_memory(value);
    }
    H5Tclose(type);
    H5Aclose(attr);
    return copy;
}

static herr_t write_vector(hid_t group, const char *name, const double *x, size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(group, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    herr_t st = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(space);
    return st;
}

static herr_t read_vector(hid_t group, const char *name, double *x, size_t n) {
    hid_t ds = H5Dopen2(group, name, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t space = H5Dget_space(ds);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    herr_t st = count == (hssize_t)n
                    ? H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x)
                    : -1;
    H5Sclose(space);
    H5Dclose(ds);
    return st;
}

mlpot_status checkpoint_save(const char *path, const mlpot_model *m, const train_settings *set,
                             const optimizer *o, const checkpoint_state *cs) {
    hid_t file = -1;
    mlpot_status st = model_file_write_memory(m, path, &file);
    if (st)
        return st;
    hdf5_error_handler q;
    hdf5_silence(&q);
    hid_t g = H5Gcreate2(file, "/checkpoint", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t bad = g < 0;
    for (size_t k = 0; !bad && k < sizeof fields / sizeof fields[0]; k++) {
        const char *p = (const char *)set + fields[k].offset;
        switch (fields[k].type) {
        case FIELD_STRING: bad = write_string(g, fields[k].name, p) < 0; break;
        case FIELD_DOUBLE: bad = write_attribute(g, fields[k].name, H5T_NATIVE_DOUBLE, p) < 0; break;
        case FIELD_INT: bad = write_attribute(g, fields[k].name, H5T_NATIVE_INT, p) < 0; break;
        case FIELD_LONG: bad = write_attribute(g, fields[k].name, H5T_NATIVE_LONG, p) < 0; break;
        case FIELD_U64: bad = write_attribute(g, fields[k].name, H5T_NATIVE_ULLONG, p) < 0; break;
        }
    }
    int has_ema = o->ema != NULL;
    if (!bad)
        bad = write_attribute(g, "state_epoch", H5T_NATIVE_INT, &cs->epoch) < 0 ||
              write_attribute(g, "state_rng", H5T_NATIVE_ULLONG, &cs->rng) < 0 ||
              write_attribute(g, "state_best_valid", H5T_NATIVE_DOUBLE, &cs->best_valid) < 0 ||
              write_attribute(g, "state_best_epoch", H5T_NATIVE_INT, &cs->best_epoch) < 0 ||
              write_attribute(g, "state_step", H5T_NATIVE_LONG, &o->step) < 0 ||
              write_attribute(g, "state_plateau_scale", H5T_NATIVE_DOUBLE, &o->plateau_scale) < 0 ||
              write_attribute(g, "state_best_metric", H5T_NATIVE_DOUBLE, &o->best_metric) < 0 ||
              write_attribute(g, "state_epochs_since_best", H5T_NATIVE_INT,
                              &o->epochs_since_best) < 0 ||
              write_attribute(g, "state_has_ema", H5T_NATIVE_INT, &has_ema) < 0 ||
              write_string(g, "state_csv", cs->csv ? cs->csv : "") < 0 ||
              write_vector(g, "adam_m", o->m, o->n) < 0 || write_vector(g, "adam_v", o->v, o->n) < 0 ||
              write_vector(g, "best_params", cs->best_params, o->n) < 0 ||
              (has_ema && write_vector(g, "ema", o->ema, o->n) < 0);
    if (g >= 0)
        H5Gclose(g);
    if (bad) {
        H5Fclose(file);
        hdf5_restore(&q);
        return error_set(MLPOT_ERR_IO, "%s: cannot write the checkpoint", path);
    }
    hdf5_restore(&q);
    /* temporary file, fsync and rename: a kill leaves the previous checkpoint whole */
    return hdf5_memory_file_write(file, path);
}

mlpot_status checkpoint_load(const char *path, mlpot_model **model_out, train_settings *set,
                             optimizer **opt_out, checkpoint_state *cs) {
    mlpot_model *m = NULL;
    mlpot_status st = model_file_read(path, &m);
    if (st)
        return st;
    hdf5_error_handler q;
    hdf5_silence(&q);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = file < 0 ? -1 : H5Gopen2(file, "/checkpoint", H5P_DEFAULT);
    optimizer *o = NULL;
    const char *missing = NULL;
    memset(cs, 0, sizeof *cs);
    for (size_t k = 0; g >= 0 && !missing && k < sizeof fields / sizeof fields[0]; k++) {
        char *p = (char *)set + fields[k].offset;
        herr_t r = 0;
        switch (fields[k].type) {
        case FIELD_STRING: {
            char *text = read_string(g, fields[k].name);
            if (!text) {
                r = -1;
                break;
            }
            snprintf(p, fields[k].size, "%s", text);
            free(text);
            break;
        }
        case FIELD_DOUBLE: r = read_attribute(g, fields[k].name, H5T_NATIVE_DOUBLE, p); break;
        case FIELD_INT: r = read_attribute(g, fields[k].name, H5T_NATIVE_INT, p); break;
        case FIELD_LONG: r = read_attribute(g, fields[k].name, H5T_NATIVE_LONG, p); break;
        case FIELD_U64: r = read_attribute(g, fields[k].name, H5T_NATIVE_ULLONG, p); break;
        }
        if (r < 0)
            missing = fields[k].name;
    }
    set->hp = m->hp;
    int has_ema = 0;
    if (g >= 0 && !missing) {
        st = optimizer_create(&o, &set->opt, m->n_params, m->params);
        if (st == MLPOT_OK && !(cs->best_params = malloc(m->n_params * sizeof(double))))
            st = error_set(MLPOT_ERR_MEMORY, "out of memory");
        if (st == MLPOT_OK &&
            (read_attribute(g, "state_epoch", H5T_NATIVE_INT, &cs->epoch) < 0 ||
             read_attribute(g, "state_rng", H5T_NATIVE_ULLONG, &cs->rng) < 0 ||
             read_attribute(g, "state_best_valid", H5T_NATIVE_DOUBLE, &cs->best_valid) < 0 ||
             read_attribute(g, "state_best_epoch", H5T_NATIVE_INT, &cs->best_epoch) < 0 ||
             read_attribute(g, "state_step", H5T_NATIVE_LONG, &o->step) < 0 ||
             read_attribute(g, "state_plateau_scale", H5T_NATIVE_DOUBLE, &o->plateau_scale) < 0 ||
             read_attribute(g, "state_best_metric", H5T_NATIVE_DOUBLE, &o->best_metric) < 0 ||
             read_attribute(g, "state_epochs_since_best", H5T_NATIVE_INT,
                            &o->epochs_since_best) < 0 ||
             read_attribute(g, "state_has_ema", H5T_NATIVE_INT, &has_ema) < 0 ||
             !(cs->csv = read_string(g, "state_csv")) ||
             read_vector(g, "adam_m", o->m, o->n) < 0 || read_vector(g, "adam_v", o->v, o->n) < 0 ||
             read_vector(g, "best_params", cs->best_params, o->n) < 0 ||
             (has_ema != (o->ema != NULL)) || (has_ema && read_vector(g, "ema", o->ema, o->n) < 0)))
            missing = "optimizer state";
    }
    if (g >= 0)
        H5Gclose(g);
    if (file >= 0)
        H5Fclose(file);
    hdf5_restore(&q);
    if (st == MLPOT_OK && (g < 0 || missing))
        st = error_set(MLPOT_ERR_PARSE, "%s: not a training checkpoint (%s %s)", path,
                       g < 0 ? "no group" : "missing", g < 0 ? "/checkpoint" : missing);
    if (st) {
        optimizer_free(o);
        mlpot_model_free(m);
        free(cs->best_params);
        free(cs->csv);
        memset(cs, 0, sizeof *cs);
        return st;
    }
    *model_out = m;
    *opt_out = o;
    return MLPOT_OK;
}
