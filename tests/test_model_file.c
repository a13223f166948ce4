/* test_model_file.c — the HDF5 model file (formats.md "Model file (HDF5)"): bit-exact round trips
 * of cgcnn and megnet models, a cross-check with h5py, other writers' conventions, and damaged
 * files, each rejected with one quiet line naming the file and the bad attribute or dataset. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The tests' include path does not carry HDF5's directory; Debian keeps it in hdf5/serial/. */
#include <hdf5.h>

#include "model/model_file.h"
#include "model/model.h"

/* ---- models and comparisons ---- */

/* S = 2 {O, Si}, F = 8, L = 2, K = 6, H = 5 (architecture parameters: the table's small values,
 * integers + 1, e.g. megnet E = 4, M = 6), p = 5, random weights,
 * biases and species energies, a UTF-8 description and two training attributes. */
static mlpot_model *make_model(const char *arch, uint64_t seed) {
    model_hparams hp = {0};
    const model_arch_ops *ops = arch_find(arch);
    assert_non_null(ops);
    model_hparams_set_arch(&hp, ops);
    for (int k = 0; k < ops->n_hparams; k++) /* small, and unlike ts_random_model's */
        hp.arch_value[k] = ops->hparams[k].small_value + (ops->hparams[k].type == ARCH_HPARAM_INT);
    hp.n_species = 2;
    hp.species[0] = 8;
    hp.species[1] = 14;
    hp.cutoff = 4.7;
    hp.n_layers = 2;
    hp.n_features = 8;
    hp.n_basis = 6;
    hp.readout_hidden = 5;
    hp.envelope_p = 5;
    hp.avg_neighbors = 11.0 + 1.0 / 3.0;
    hp.energy_scale = 0.1;
    hp.energy_shift = -7.0 / 3.0;
    mlpot_model *m = NULL;
    TS_OK(model_create(&hp, &m));
    model_init_random(m, seed);
    ts_rng rng;
    ts_rng_seed(&rng, seed ^ 0xb1a5ull);
    for (int t = 0; t < m->n_tensors; t++) {
        const model_tensor *x = &m->tensors[t];
        const char *leaf = strrchr(x->name, '/') + 1;
        if (leaf[0] == 'b' || !strcmp(x->name, "/species_energy"))
            for (size_t k = 0; k < x->size; k++)
                m->params[x->offset + k] = 0.3 * ts_normal(&rng);
    }
    m->description = strdup("SiO2 test model, r_c = 4.7 \xc3\x85 (PBE)"); /* Å in UTF-8 */
    assert_non_null(m->description);
    TS_OK(model_set_training_attribute(m, "dataset", "sio2-train.h5"));
    TS_OK(model_set_training_attribute(m, "command", "mlpot train --epochs 10 --seed 42"));
    return m;
}

static void assert_same_bits(double a, double b, const char *what) {
    if (memcmp(&a, &b, sizeof a) != 0)
        fail_msg("%s: %.17g read back as %.17g", what, a, b);
}

/* Hyper-parameters (envelope_p aside: see the callers), parameters bit for bit. */
static void assert_same_numbers(const mlpot_model *a, const mlpot_model *b) {
    assert_ptr_equal(a->hp.arch, b->hp.arch);
    assert_int_equal(a->hp.n_species, b->hp.n_species);
    for (int s = 0; s < a->hp.n_species; s++)
        assert_int_equal(a->hp.species[s], b->hp.species[s]);
    assert_same_bits(a->hp.cutoff, b->hp.cutoff, "cutoff");
    assert_int_equal(a->hp.n_layers, b->hp.n_layers);
    assert_int_equal(a->hp.n_features, b->hp.n_features);
    for (int k = 0; k < ARCH_MAX_HPARAMS; k++)
        assert_same_bits(a->hp.arch_value[k], b->hp.arch_value[k], "architecture parameter");
    assert_int_equal(a->hp.n_basis, b->hp.n_basis);
    assert_int_equal(a->hp.readout_hidden, b->hp.readout_hidden);
    assert_same_bits(a->hp.avg_neighbors, b->hp.avg_neighbors, "avg_neighbors");
    assert_same_bits(a->hp.energy_scale, b->hp.energy_scale, "energy_scale");
    assert_same_bits(a->hp.energy_shift, b->hp.energy_shift, "energy_shift");
    assert_int_equal(a->n_tensors, b->n_tensors);
    assert_int_equal(a->n_params, b->n_params);
    for (int t = 0; t < a->n_tensors; t++) {
        assert_string_equal(a->tensors[t].name, b->tensors[t].name);
        for (size_t k = 0; k < a->tensors[t].size; k++) {
            char what[96];
            snprintf(what, sizeof what, "%s[%zu]", a->tensors[t].name, k);
            size_t i = a->tensors[t].offset + k;
            assert_same_bits(a->params[i], b->params[i], what);
        }
    }
}

static void assert_same_model(const mlpot_model *a, const mlpot_model *b) {
    assert_same_numbers(a, b);
    assert_int_equal(a->hp.envelope_p, b->hp.envelope_p);
    assert_string_equal(a->description ? a->description : "", mlpot_model_description(b));
    assert_int_equal(a->n_training, b->n_training);
    for (int k = 0; k < a->n_training; k++) {
        assert_string_equal(a->training[k].key, b->training[k].key);
        assert_string_equal(a->training[k].value, b->training[k].value);
    }
}

static const char *training_value(const mlpot_model *m, const char *key) {
    for (int k = 0; k < m->n_training; k++)
        if (!strcmp(m->training[k].key, key))
            return m->training[k].value;
    return NULL;
}

/* A freshly written model file tmp/<name>; the model is returned when `model` is not NULL. */
static const char *save_model(const char *arch, const char *name, char *path, size_t size,
                              mlpot_model **model) {
    ts_tmp_path(name, path, size);
    mlpot_model *m = make_model(arch, 7);
    TS_OK(mlpot_model_save(m, path));
    if (model)
        *model = m;
    else
        mlpot_model_free(m);
    return path;
}

/* ---- loading with stderr captured: the library must never print ---- */

static mlpot_status load_quietly(const char *path, mlpot_model **out) {
    char capture[4096];
    ts_tmp_path("model_file_stderr.txt", capture, sizeof capture);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    H5E_auto2_t handler_before = NULL, handler_after = NULL;
    void *data_before = NULL, *data_after = NULL;
    H5Eget_auto2(H5E_DEFAULT, &handler_before, &data_before);
    mlpot_status st = mlpot_model_load(out, path);
    H5Eget_auto2(H5E_DEFAULT, &handler_after, &data_after);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    /* HDF5's own error printing is restored for the caller */
    assert_true(handler_before != NULL && handler_after == handler_before);
    assert_ptr_equal(data_after, data_before);
    struct stat info;
    assert_int_equal(stat(capture, &info), 0);
    if (info.st_size != 0)
        fail_msg("loading %s printed %lld bytes to stderr", path, (long long)info.st_size);
    return st;
}

/* The load fails with one line naming the file and `needle` (and `needle2` when not NULL). */
static void expect_rejected(const char *path, const char *needle, const char *needle2) {
    mlpot_model *m = NULL;
    mlpot_status st = load_quietly(path, &m);
    const char *message = mlpot_last_error();
    if (st == MLPOT_OK)
        fail_msg("%s was accepted; expected an error naming %s", path, needle);
    assert_null(m);
    if (!strstr(message, path))
        fail_msg("message \"%s\" does not name the file %s", message, path);
    if (!strstr(message, needle))
        fail_msg("message \"%s\" does not name %s", message, needle);
    if (needle2 && !strstr(message, needle2))
        fail_msg("message \"%s\" does not say %s", message, needle2);
    if (strchr(message, '\n'))
        fail_msg("message \"%s\" is not one line", message);
    print_message("    rejected: %s\n", message);
}

/* ---- building damaged files with the HDF5 C API ---- */

static hid_t open_for_update(const char *path) {
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    return file;
}

static void close_file(hid_t file) {
    assert_true(H5Fclose(file) >= 0);
}

static void remove_attribute(hid_t loc, const char *name) {
    if (H5Aexists(loc, name) > 0)
        assert_true(H5Adelete(loc, name) >= 0);
}

/* A string attribute, variable-length UTF-8 (width 0) or fixed-length ASCII of `width` bytes
 * with padding `pad`. */
static void put_string(hid_t loc, const char *name, const char *value, size_t width,
                       H5T_str_t pad) {
    remove_attribute(loc, name);
    hid_t type = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate(H5S_SCALAR);
    assert_true(type >= 0 && space >= 0);
    char buffer[256] = {0};
    const void *data = &value;
    if (width == 0) {
        assert_true(H5Tset_size(type, H5T_VARIABLE) >= 0);
        assert_true(H5Tset_cset(type, H5T_CSET_UTF8) >= 0);
    } else {
        assert_true(width <= sizeof buffer);
        memset(buffer, pad == H5T_STR_SPACEPAD ? ' ' : '\0', width);
        memcpy(buffer, value, strlen(value));
        assert_true(H5Tset_size(type, width) >= 0);
        assert_true(H5Tset_strpad(type, pad) >= 0);
        data = buffer;
    }
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(attr >= 0);
    assert_true(H5Awrite(attr, type, data) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
}

/* A numeric attribute of file type `file_type`: a scalar (count 0) or `count` values. */
static void put_numbers(hid_t loc, const char *name, hid_t file_type, int count,
                        const double *values) {
    remove_attribute(loc, name);
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = count ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR);
    assert_true(space >= 0);
    hid_t attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(attr >= 0);
    assert_true(H5Awrite(attr, H5T_NATIVE_DOUBLE, values) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
}

static void remove_link(hid_t file, const char *path) {
    assert_true(H5Ldelete(file, path, H5P_DEFAULT) >= 0);
}

/* A float64 dataset at `path` (replacing one that exists; creating missing groups). */
static void put_dataset(hid_t file, const char *path, int rank, const hsize_t *dims,
                        const double *values) {
    htri_t exists = 0;
    H5E_BEGIN_TRY {
        exists = H5Lexists(file, path, H5P_DEFAULT); /* fails when a parent group is missing */
    }
    H5E_END_TRY;
    if (exists > 0)
        remove_link(file, path);
    hid_t links = H5Pcreate(H5P_LINK_CREATE);
    assert_true(links >= 0 && H5Pset_create_intermediate_group(links, 1) >= 0);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, path, H5T_IEEE_F64LE, space, links, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
    H5Dclose(ds);
    H5Sclose(space);
    H5Pclose(links);
}

static void write_text_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* ---- round trips ---- */

static void round_trip(const char *arch) {
    char path[4096], name[64];
    snprintf(name, sizeof name, "model_file_%s.h5", arch);
    mlpot_model *written = NULL;
    save_model(arch, name, path, sizeof path, &written);
    mlpot_model *read = NULL;
    TS_OK(load_quietly(path, &read));
    assert_same_model(written, read);
    /* and once more: a read model writes the same file content back */
    TS_OK(mlpot_model_save(read, path));
    mlpot_model *again = NULL;
    TS_OK(mlpot_model_load(&again, path));
    assert_same_model(written, again);
    mlpot_model_free(again);
    mlpot_model_free(read);
    mlpot_model_free(written);
}

static void test_round_trip_every_architecture(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++)
        round_trip(arch_at(a)->name);
}

static void test_getters(void **state) {
    (void)state;
    char path[4096];
    mlpot_model *written = NULL;
    save_model("megnet", "model_file_getters.h5", path, sizeof path, &written);
    mlpot_model *m = NULL;
    TS_OK(mlpot_model_load(&m, path));
    assert_string_equal(mlpot_model_architecture(m), "megnet");
    assert_true(mlpot_model_cutoff(m) == 4.7);
    assert_int_equal(mlpot_model_n_layers(m), 2);
    assert_int_equal(mlpot_model_n_species(m), 2);
    assert_int_equal(mlpot_model_species(m)[0], 8);
    assert_int_equal(mlpot_model_species(m)[1], 14);
    assert_int_equal(mlpot_model_n_parameters(m), written->n_params);
    assert_string_equal(mlpot_model_description(m), written->description);
    free(m->description);
    m->description = NULL;
    assert_string_equal(mlpot_model_description(m), "");
    mlpot_model_free(m);
    mlpot_model_free(written);
}

/* ---- h5py, when the system has it ---- */

static const char h5py_script[] =
    "import sys, shutil, h5py, numpy as np\n"
    "with h5py.File(sys.argv[1], 'r') as f:\n"
    "    a = f.attrs\n"
    "    print('format', type(a['format']).__name__, a['format'])\n"
    "    print('version', a['version'].dtype, int(a['version']))\n"
    "    print('architecture', a['architecture'])\n"
    "    print('species', a['species'].dtype, *[int(z) for z in a['species']])\n"
    "    print('cutoff', a['cutoff'].dtype, float(a['cutoff']).hex())\n"
    "    print('basis', a['basis'], a['envelope'], int(a['envelope_p']))\n"
    "    w = f['layers/1/W_self']\n"
    "    print('W_self', w.dtype, *w.shape)\n"
    "    print('W_self[2,3]', float(w[2, 3]).hex())\n"
    "    print('W2', *f['readout/W2'].shape)\n"
    "    print('b2', *f['readout/b2'].shape)\n"
    "    print('description', a['description'].encode('utf-8').hex())\n"
    "    print('training', *[k + '=' + v for k, v in f['training'].attrs.items()])\n"
    "shutil.copy(sys.argv[1], sys.argv[2])\n"
    "with h5py.File(sys.argv[2], 'r+') as g:\n"
    "    g.attrs['n_layers'] = 2\n"
    "    g.attrs['species'] = [8, 14]\n"
    "    g.attrs['format'] = np.bytes_(b'mlpot-model')\n"
    "    g['training'].attrs['rmse'] = np.array([1.5, 0.25])\n"
    "    print('rewritten', g.attrs['n_layers'].dtype, g.attrs['species'].dtype)\n";

static char *read_whole_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static void expect_line(const char *output, const char *line) {
    char wanted[1024];
    /* checked: a truncated line would match a shorter one */
    int n = snprintf(wanted, sizeof wanted, "%s\n", line);
    if (n < 0 || (size_t)n >= sizeof wanted)
        fail_msg("expected line too long for the check: %s", line);
    if (!strstr(output, wanted))
        fail_msg("h5py printed:\n%s\nexpected the line: %s", output, line);
}

static void test_h5py_cross_check(void **state) {
    (void)state;
    if (system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
        print_message("    h5py is not available (/usr/bin/python3 -c 'import h5py' failed): "
                      "skipping the cross-check\n");
        skip();
    }
    char path[4096], copy[4096], script[4096], output_path[4096], command[4 * 4096 + 64];
    mlpot_model *m = NULL;
    save_model("cgcnn", "model_file_h5py.h5", path, sizeof path, &m);
    ts_tmp_path("model_file_h5py_rewritten.h5", copy, sizeof copy);
    ts_tmp_path("model_file_check.py", script, sizeof script);
    ts_tmp_path("model_file_check.txt", output_path, sizeof output_path);
    write_text_file(script, h5py_script);
    snprintf(command, sizeof command, "/usr/bin/python3 '%s' '%s' '%s' > '%s' 2>&1", script,
             path, copy, output_path);
    int code = system(command);
    const char *output = read_whole_file(output_path);
    if (code != 0)
        fail_msg("the h5py check failed:\n%s", output);

    expect_line(output, "format str mlpot-model");
    expect_line(output, "version int32 1");
    expect_line(output, "architecture cgcnn");
    expect_line(output, "species int32 8 14");
    expect_line(output, "basis gaussian polynomial 5");
    expect_line(output, "W_self float64 8 16");
    expect_line(output, "W2 5 1");
    expect_line(output, "b2 1");
    expect_line(output, "training dataset=sio2-train.h5 command=mlpot train --epochs 10 --seed 42");
    expect_line(output, "rewritten int64 int64");
    char line[1024];
    size_t used = (size_t)snprintf(line, sizeof line, "description ");
    for (const unsigned char *c = (const unsigned char *)m->description; *c; c++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%02x", *c);
    expect_line(output, line);
    /* numbers: h5py's float.hex() parsed back must give the same bits */
    const char *at = strstr(output, "cutoff float64 ");
    assert_non_null(at);
    assert_same_bits(strtod(at + strlen("cutoff float64 "), NULL), m->hp.cutoff, "h5py cutoff");
    at = strstr(output, "W_self[2,3] ");
    assert_non_null(at);
    assert_same_bits(strtod(at + strlen("W_self[2,3] "), NULL),
                     m->params[model_find_tensor(m, "/layers/1/W_self")->offset + 2 * 16 + 3],
                     "h5py /layers/1/W_self[2, 3]");

    /* what h5py writes by default (int64, fixed-length bytes) reads back */
    mlpot_model *rewritten = NULL;
    TS_OK(load_quietly(copy, &rewritten));
    assert_same_numbers(m, rewritten);
    assert_non_null(training_value(rewritten, "rmse"));
    assert_string_equal(training_value(rewritten, "rmse"), "1.5 0.25");
    mlpot_model_free(rewritten);
    mlpot_model_free(m);
}

/* ---- other writers' conventions ---- */

static void test_accepts_other_integer_widths_and_string_kinds(void **state) {
    (void)state;
    char path[4096];
    mlpot_model *m = NULL;
    save_model("megnet", "model_file_conventions.h5", path, sizeof path, &m);
    hid_t file = open_for_update(path);
    double two = 2, species[2] = {8, 14}, metrics[3] = {0.5, 0.25, 0.1}, seed = 42;
    put_numbers(file, "n_layers", H5T_STD_I64LE, 0, &two);
    put_numbers(file, "species", H5T_STD_U8LE, 2, species);
    put_string(file, "format", "mlpot-model", 11, H5T_STR_NULLPAD);
    put_string(file, "architecture", "megnet", 16, H5T_STR_NULLTERM);
    put_string(file, "description", m->description, 48, H5T_STR_SPACEPAD);
    /* basis and envelope are required, but have one legal value: absent is read as that */
    remove_attribute(file, "basis");
    remove_attribute(file, "envelope");
    remove_attribute(file, "envelope_p");
    hid_t training = H5Gopen2(file, "/training", H5P_DEFAULT);
    assert_true(training >= 0);
    put_numbers(training, "metrics", H5T_IEEE_F64BE, 3, metrics);
    put_numbers(training, "seed", H5T_STD_I16BE, 0, &seed);
    put_string(training, "notes", "fixed", 5, H5T_STR_NULLPAD);
    H5Gclose(training);
    close_file(file);

    mlpot_model *read = NULL;
    TS_OK(load_quietly(path, &read));
    assert_same_numbers(m, read);
    assert_int_equal(read->hp.envelope_p, 6); /* formats.md: absent means 6 */
    assert_string_equal(read->description, m->description);
    assert_string_equal(training_value(read, "dataset"), "sio2-train.h5");
    assert_string_equal(training_value(read, "metrics"), "0.5 0.25 0.10000000000000001");
    assert_string_equal(training_value(read, "seed"), "42");
    assert_string_equal(training_value(read, "notes"), "fixed");
    mlpot_model_free(read);
    mlpot_model_free(m);
}

static void test_ignores_unknown_attributes_and_datasets(void **state) {
    (void)state;
    char path[4096];
    mlpot_model *m = NULL;
    save_model("cgcnn", "model_file_extras.h5", path, sizeof path, &m);
    hid_t file = open_for_update(path);
    double values[6] = {1, 2, 3, 4, 5, 6}, flag = 1;
    hsize_t dims[2] = {2, 3};
    put_string(file, "comment", "made by a later mlpot", 0, H5T_STR_NULLTERM);
    put_numbers(file, "future_option", H5T_STD_I32LE, 0, &flag);
    put_dataset(file, "/extra/notes", 2, dims, values);
    put_dataset(file, "/layers/0/unused", 1, dims, values);
    hid_t ds = H5Dopen2(file, "/readout/W1", H5P_DEFAULT);
    assert_true(ds >= 0);
    put_string(ds, "units", "none", 0, H5T_STR_NULLTERM);
    H5Dclose(ds);
    close_file(file);

    mlpot_model *read = NULL;
    TS_OK(load_quietly(path, &read));
    assert_same_model(m, read);
    mlpot_model_free(read);
    mlpot_model_free(m);
}

/* ---- rejections ---- */

static void test_rejects_wrong_format(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_bad_format.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    put_string(file, "format", "mlpot-dataset", 0, H5T_STR_NULLTERM);
    close_file(file);
    expect_rejected(path, "attribute 'format'", "found \"mlpot-dataset\"");
}

/* model.md §9: a version-2 reader reads cgcnn stamped version 2 and rejects version 3. */
static void test_version_rule(void **state) {
    (void)state;
    char path[4096];
    mlpot_model *written = NULL, *read = NULL;
    save_model("cgcnn", "model_file_version2.h5", path, sizeof path, &written);
    assert_int_equal(written->hp.arch->file_version, 1);
    hid_t file = open_for_update(path);
    double version = 2;
    put_numbers(file, "version", H5T_STD_I32LE, 0, &version);
    close_file(file);
    TS_OK(load_quietly(path, &read));
    assert_same_model(written, read);
    mlpot_model_free(read);
    mlpot_model_free(written);
    file = open_for_update(path);
    version = 3;
    put_numbers(file, "version", H5T_STD_I32LE, 0, &version);
    close_file(file);
    expect_rejected(path, "version 3 is not supported", "reads versions 1 to 2");
}

static void test_rejects_m3gnet(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_m3gnet.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    put_string(file, "architecture", "m3gnet", 0, H5T_STR_NULLTERM);
    close_file(file);
    expect_rejected(path, "architecture \"m3gnet\"", "version 2");
}

static void test_rejects_unknown_architecture(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_schnet.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    put_string(file, "architecture", "schnet", 0, H5T_STR_NULLTERM);
    close_file(file);
    expect_rejected(path, "attribute 'architecture'", "found \"schnet\"");
}

static void test_rejects_missing_n_layers(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_no_layers.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    remove_attribute(file, "n_layers");
    close_file(file);
    expect_rejected(path, "attribute 'n_layers' is missing", NULL);
}

static void test_rejects_float_n_features(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_float_features.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double eight = 8;
    put_numbers(file, "n_features", H5T_IEEE_F64LE, 0, &eight);
    close_file(file);
    expect_rejected(path, "attribute 'n_features'", "expected an integer");
}

static void test_rejects_other_basis(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_bessel.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    put_string(file, "basis", "bessel", 0, H5T_STR_NULLTERM);
    close_file(file);
    expect_rejected(path, "attribute 'basis'", "expected \"gaussian\", found \"bessel\"");
}

static void test_rejects_wrong_shape(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_bad_shape.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double values[64] = {0};
    hsize_t dims[2] = {8, 8};
    put_dataset(file, "/layers/0/W_nbr", 2, dims, values);
    close_file(file);
    expect_rejected(path, "/layers/0/W_nbr: expected shape [8, 16], found [8, 8]", NULL);
}

/* m3gnet files (model.md §8): tensor shapes from Q = N (lambda + 1), r_3 <= r_c, lambda >= 0,
 * n_3 > 0 (make_model: F = 8, N = 4, lambda = 3, r_3 = 3, r_c = 4.7). */
static void test_rejects_inconsistent_m3gnet(void **state) {
    (void)state;
    char path[4096];
    save_model("m3gnet", "model_file_m3gnet_shape.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double values[96] = {0};
    hsize_t dims[2] = {8, 12};
    put_dataset(file, "/layers/1/threebody/W_alpha", 2, dims, values);
    close_file(file);
    expect_rejected(path, "/layers/1/threebody/W_alpha: expected shape [8, 16], found [8, 12]",
                    NULL);
    const struct {
        const char *attribute;
        hid_t type;
        double value;
        const char *message;
    } bad[] = {{"threebody_cutoff", H5T_IEEE_F64LE, 4.8, "threebody_cutoff = 4.8"},
               {"threebody_lmax", H5T_STD_I32LE, -1, "threebody_lmax = -1"},
               {"n_threebody_basis", H5T_STD_I32LE, 1, "n_threebody_basis = 1"},
               {"avg_threebody_neighbors", H5T_IEEE_F64LE, 0, "avg_threebody_neighbors = 0"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        save_model("m3gnet", "model_file_m3gnet_bad.h5", path, sizeof path, NULL);
        file = open_for_update(path);
        put_numbers(file, bad[k].attribute, bad[k].type, 0, &bad[k].value);
        close_file(file);
        expect_rejected(path, bad[k].message, NULL);
    }
    save_model("m3gnet", "model_file_m3gnet_no_r3.h5", path, sizeof path, NULL);
    file = open_for_update(path);
    remove_attribute(file, "threebody_cutoff");
    close_file(file);
    expect_rejected(path, "attribute 'threebody_cutoff' is missing", NULL);
}

static void test_rejects_wrong_rank(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_bad_rank.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double values[5] = {0};
    hsize_t dims[1] = {5};
    put_dataset(file, "/readout/W2", 1, dims, values); /* must be [5, 1] */
    close_file(file);
    expect_rejected(path, "/readout/W2: expected shape [5, 1], found [5]", NULL);
}

static void test_rejects_missing_readout_W1(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_no_readout.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    remove_link(file, "/readout/W1");
    close_file(file);
    expect_rejected(path, "/readout/W1", "missing");
}

static void test_rejects_missing_layer_group(void **state) {
    (void)state;
    char path[4096];
    save_model("megnet", "model_file_no_layer1.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    remove_link(file, "/layers/1");
    close_file(file);
    expect_rejected(path, "/layers/1/edge/W1", "missing");
}

static void test_rejects_nan_in_embedding(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_nan.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double values[16];
    for (int k = 0; k < 16; k++)
        values[k] = 0.1 * k;
    values[1 * 8 + 3] = NAN;
    hsize_t dims[2] = {2, 8};
    put_dataset(file, "/embedding", 2, dims, values);
    close_file(file);
    expect_rejected(path, "/embedding: non-finite value at index [1, 3]", NULL);
}

/* issue 16: a damaged parameter (one value changed, finite) loaded and gave wrong energies;
 * parameters_sha256 catches it, and a file without the attribute (older versions) loads. */
static void test_parameters_sha256(void **state) {
    (void)state;
    char path[4096];
    mlpot_model *m = NULL;
    save_model("cgcnn", "model_file_sha256.h5", path, sizeof path, &m);
    assert_true(model_file_has_parameters_sha256(path));
    mlpot_model *back = NULL;
    TS_OK(load_quietly(path, &back));
    assert_same_numbers(m, back);
    mlpot_model_free(back);
    /* one value of /embedding changed by one unit in the last place */
    hid_t file = open_for_update(path);
    double values[16];
    memcpy(values, m->params + m->tensors[0].offset, sizeof values);
    assert_string_equal(m->tensors[0].name, "/embedding");
    values[5] = nextafter(values[5], INFINITY);
    hsize_t dims[2] = {2, 8};
    put_dataset(file, "/embedding", 2, dims, values);
    close_file(file);
    expect_rejected(path, "model_file_sha256.h5", "do not match the file's parameters_sha256");
    /* the same file without the attribute: accepted, with the changed value */
    file = open_for_update(path);
    assert_true(H5Adelete(file, "parameters_sha256") >= 0);
    close_file(file);
    assert_false(model_file_has_parameters_sha256(path));
    TS_OK(load_quietly(path, &back));
    assert_true(back->params[back->tensors[0].offset + 5] == values[5]);
    mlpot_model_free(back);
    mlpot_model_free(m);
}

static void test_rejects_species_not_ascending(void **state) {
    (void)state;
    char path[4096];
    save_model("cgcnn", "model_file_species.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    double species[2] = {14, 8};
    put_numbers(file, "species", H5T_STD_I32LE, 2, species);
    close_file(file);
    expect_rejected(path, "attribute 'species'", "ascending");
}

static void test_rejects_megnet_without_hidden_width(void **state) {
    (void)state;
    char path[4096];
    save_model("megnet", "model_file_no_hidden.h5", path, sizeof path, NULL);
    hid_t file = open_for_update(path);
    remove_attribute(file, "megnet_hidden");
    close_file(file);
    expect_rejected(path, "attribute 'megnet_hidden' is missing", NULL);
}

static void test_rejects_text_file(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("model_file_text.h5", path, sizeof path);
    write_text_file(path, "format = mlpot-model\nversion = 1\n");
    expect_rejected(path, "not an HDF5 file", NULL);
}

static void test_rejects_missing_file(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("model_file_does_not_exist.h5", path, sizeof path);
    remove(path);
    expect_rejected(path, "cannot open", NULL);
}

static void test_rejects_truncated_file(void **state) {
    (void)state;
    char path[4096], truncated[4096];
    save_model("cgcnn", "model_file_whole.h5", path, sizeof path, NULL);
    ts_tmp_path("model_file_truncated.h5", truncated, sizeof truncated);
    FILE *in = fopen(path, "rb"), *out = fopen(truncated, "wb");
    assert_true(in && out);
    char bytes[100];
    assert_int_equal(fread(bytes, 1, sizeof bytes, in), sizeof bytes);
    assert_int_equal(fwrite(bytes, 1, sizeof bytes, out), sizeof bytes);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    expect_rejected(truncated, "HDF5", NULL);
}

/* ---- writing safely ---- */

static int count_temporaries(const char *dir, int *n_entries) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int temporaries = 0;
    *n_entries = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        (*n_entries)++;
        temporaries += strncmp(e->d_name, ".mlpot-tmp-", 11) == 0;
    }
    closedir(d);
    return temporaries;
}

static void test_leaves_no_temporary_file(void **state) {
    (void)state;
    char dir[4096], path[4096 + 16];
    ts_tmp_path("model_file_dir", dir, sizeof dir);
    mkdir(dir, 0777);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        char entry[4096 + 256];
        snprintf(entry, sizeof entry, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            remove(entry);
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/model.h5", dir);

    mlpot_model *m = make_model("megnet", 3);
    TS_OK(mlpot_model_save(m, path));
    TS_OK(mlpot_model_save(m, path)); /* replacing an existing file */
    int n_entries = 0;
    assert_int_equal(count_temporaries(dir, &n_entries), 0);
    assert_int_equal(n_entries, 1);

    /* a model with a NaN is refused before anything is written; the old file stays */
    size_t index = model_find_tensor(m, "/layers/1/node/W2")->offset;
    double kept = m->params[index];
    m->params[index] = NAN;
    assert_int_not_equal(mlpot_model_save(m, path), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "/layers/1/node/W2"));
    m->params[index] = kept;
    assert_int_equal(count_temporaries(dir, &n_entries), 0);
    mlpot_model *read = NULL;
    TS_OK(mlpot_model_load(&read, path));
    assert_same_model(m, read);
    mlpot_model_free(read);

    /* a directory that does not exist: a clean failure naming the file */
    char missing[4096 + 64];
    snprintf(missing, sizeof missing, "%s/no/such/dir/model.h5", dir);
    assert_int_not_equal(mlpot_model_save(m, missing), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), missing));
    assert_null(strchr(mlpot_last_error(), '\n'));
    assert_int_equal(count_temporaries(dir, &n_entries), 0);
    assert_int_equal(n_entries, 1);
    mlpot_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_architecture),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_h5py_cross_check),
        cmocka_unit_test(test_accepts_other_integer_widths_and_string_kinds),
        cmocka_unit_test(test_ignores_unknown_attributes_and_datasets),
        cmocka_unit_test(test_rejects_wrong_format),
        cmocka_unit_test(test_version_rule),
        cmocka_unit_test(test_rejects_m3gnet),
        cmocka_unit_test(test_rejects_inconsistent_m3gnet),
        cmocka_unit_test(test_rejects_unknown_architecture),
        cmocka_unit_test(test_rejects_missing_n_layers),
        cmocka_unit_test(test_rejects_float_n_features),
        cmocka_unit_test(test_rejects_other_basis),
        cmocka_unit_test(test_rejects_wrong_shape),
        cmocka_unit_test(test_rejects_wrong_rank),
        cmocka_unit_test(test_rejects_missing_readout_W1),
        cmocka_unit_test(test_rejects_missing_layer_group),
        cmocka_unit_test(test_rejects_nan_in_embedding),
        cmocka_unit_test(test_parameters_sha256),
        cmocka_unit_test(test_rejects_species_not_ascending),
        cmocka_unit_test(test_rejects_megnet_without_hidden_width),
        cmocka_unit_test(test_rejects_text_file),
        cmocka_unit_test(test_rejects_missing_file),
        cmocka_unit_test(test_rejects_truncated_file),
        cmocka_unit_test(test_leaves_no_temporary_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
