/* test_train.c — the fit loop on a generated dataset whose labels come from a random "teacher"
 * model (so there is something to learn): the validation loss falls; species energies come from
 * least squares; 1 and 2 threads give bit-identical models; a run stopped after two epochs
 * and resumed from its checkpoint ends with exactly the model of an uninterrupted run; a
 * program in a decimal-comma locale gets decimal points in the log, CSV and /training. */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

/* The tests' include path does not carry HDF5's directory; Debian keeps it in hdf5/serial/. */
#include <hdf5.h>

#include "model/model.h"
#include "model/model_file.h"
#include "io/dataset_file.h"
#include "train/trainer.h"

static const int species_Si[] = {14};

typedef enum { DATA_GOOD, DATA_HUGE_LABEL, DATA_ZERO_WEIGHTS, DATA_NO_ENERGIES } data_variant;

static void make_dataset_variant(const char *path, data_variant variant) {
    mlpot_model *teacher = ts_random_model("cgcnn", species_Si, 1, 3.5, 2024);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, teacher));
    dataset_writer *w = NULL;
    TS_OK(dataset_writer_open(&w, path));
    ts_rng rng;
    ts_rng_seed(&rng, 11);
    for (int f = 0; f < 16; f++) {
        double a = 4.4 + 0.4 * ts_uniform(&rng);
        double cell[9] = {a, 0, 0, 0.2, a, 0, -0.1, 0.3, a};
        int pbc[3] = {1, 1, 1};
        mlpot_structure *s = ts_random_structure(&rng, 4 + f % 3, species_Si, 1, cell, pbc, 2.0);
        int n = mlpot_structure_n_atoms(s);
        double forces[18], stress[9];
        mlpot_results r = {.forces = forces, .stress = stress};
        TS_OK(mlpot_calculator_compute(c, s, &r));
        if (variant != DATA_NO_ENERGIES) /* a per-atom reference */
            TS_OK(mlpot_structure_set_energy(s, variant == DATA_HUGE_LABEL && f == 5
                                                    ? 1e300
                                                    : r.energy - 5.4 * n));
        TS_OK(mlpot_structure_set_forces(s, forces));
        TS_OK(mlpot_structure_set_stress(s, stress));
        double zero = 0;
        TS_OK(dataset_writer_append_frame(w, s, NULL, variant == DATA_ZERO_WEIGHTS ? &zero : NULL));
        mlpot_structure_free(s);
    }
    TS_OK(dataset_writer_close(w));
    mlpot_calculator_free(c);
    mlpot_model_free(teacher);
}

static void make_dataset(const char *path) {
    make_dataset_variant(path, DATA_GOOD);
}

static train_settings settings(const char *data, const char *name, int threads) {
    train_settings s;
    train_settings_defaults(&s);
    char path[4096];
    snprintf(s.train_path, sizeof s.train_path, "%s", data);
    snprintf(s.output, sizeof s.output, "%s", ts_tmp_path(name, path, sizeof path));
    s.valid_fraction = 0.25;
    model_hparams_set_arch(&s.hp, arch_find("cgcnn")); /* not the default: fast enough here */
    s.hp.cutoff = 3.5;
    s.hp.n_features = 6;
    s.hp.n_layers = 1;
    s.hp.n_basis = 5;
    s.hp.readout_hidden = 4;
    s.epochs = 6;
    s.batch_size = 4;
    s.opt.lr = 5e-3;
    s.opt.ema_decay = 0.9;
    s.seed = 3;
    s.threads = threads;
    s.weights = (loss_weights){.energy = 1.0, .force = 1.0, .stress = 10.0};
    s.patience = 20;
    return s;
}

/* Validation losses of the CSV learning curve (column 8). */
static int read_valid_losses(const char *path, double *out, int max) {
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[1024];
    int n = 0;
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    while (n < max && fgets(line, sizeof line, fp)) {
        char *p = line;
        for (int col = 0; col < 7; col++)
            p = strchr(p, ',') + 1;
        out[n++] = strtod(p, NULL);
    }
    fclose(fp);
    return n;
}

static mlpot_model *load(const char *path) {
    mlpot_model *m = NULL;
    TS_OK(model_file_read(path, &m));
    return m;
}

/* Counts the lines a run reports and checks each is one line. */
static void count_line(void *user, const char *text) {
    assert_null(strchr(text, '\n'));
    ++*(int *)user;
}

static void test_training(void **state) {
    (void)state;
    char data[4096], path[4200];
    ts_tmp_path("train_teacher.h5", data, sizeof data);
    make_dataset(data);

    /* the library reports through the observer and leaves the caller's OpenMP setting alone */
    int threads_before = omp_get_max_threads(), lines = 0;
    train_observer observer = {count_line, NULL, &lines};
    train_settings a = settings(data, "train_a.h5", 1);
    TS_OK(train_run(&a, NULL, 0, &observer));
    assert_int_equal(omp_get_max_threads(), threads_before);
    assert_true(lines >= 6 + 2); /* the start, six epochs, the end */
    double losses[16];
    char csv[4200];
    snprintf(csv, sizeof csv, "%s.csv", a.output);
    int n = read_valid_losses(csv, losses, 16);
    assert_int_equal(n, 6);
    print_message("validation loss: epoch 1 %.4e -> epoch 6 %.4e\n", losses[0], losses[5]);
    assert_true(losses[5] < 0.7 * losses[0]);
    mlpot_model *ma = load(a.output);
    /* least squares put the -5.4 eV/atom reference into the species energy */
    assert_true(fabs(ma->v.species_energy[0] - (-5.4)) < 1.0);
    assert_int_equal(ma->hp.species[0], 14);

    /* two threads: the same model bit for bit */
    train_settings b = settings(data, "train_b.h5", 2);
    TS_OK(train_run(&b, NULL, 0, NULL));
    mlpot_model *mb = load(b.output);
    assert_int_equal(ma->n_params, mb->n_params);
    assert_memory_equal(ma->params, mb->params, ma->n_params * sizeof(double));

    /* stopped after two epochs, resumed from the checkpoint: the same model */
    train_settings c = settings(data, "train_c.h5", 1);
    c.stop_after_epochs = 2;
    TS_OK(train_run(&c, NULL, 0, NULL));
    snprintf(path, sizeof path, "%s.ckpt", c.output);
    train_settings none = {0};
    TS_OK(train_run(&none, path, 0, NULL));
    mlpot_model *mc = load(c.output);
    assert_memory_equal(ma->params, mc->params, ma->n_params * sizeof(double));
    snprintf(csv, sizeof csv, "%s.csv", c.output);
    assert_int_equal(read_valid_losses(csv, losses, 16), 6);

    mlpot_model_free(ma);
    mlpot_model_free(mb);
    mlpot_model_free(mc);
}

static void test_bad_inputs(void **state) {
    (void)state;
    train_settings s;
    train_settings_defaults(&s);
    char path[4096];
    snprintf(s.train_path, sizeof s.train_path, "%s", ts_tmp_path("missing.h5", path, sizeof path));
    snprintf(s.output, sizeof s.output, "%s", ts_tmp_path("never.h5", path, sizeof path));
    assert_int_not_equal(train_run(&s, NULL, 0, NULL), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "missing.h5"));
    /* a model file is not a checkpoint */
    mlpot_model *m = ts_random_model("cgcnn", species_Si, 1, 3.5, 1);
    ts_tmp_path("not_a_checkpoint.h5", path, sizeof path);
    TS_OK(model_file_write(m, path));
    assert_int_not_equal(train_run(NULL, path, 0, NULL), MLPOT_OK);
    assert_non_null(strstr(mlpot_last_error(), "not a training checkpoint"));
    mlpot_model_free(m);
}

static int exists(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (fp)
        fclose(fp);
    return fp != NULL;
}

/* train_run fails with a message holding `needle` and writes no model. */
static void expect_refused(train_settings *s, const char *needle) {
    remove(s->output);
    assert_int_not_equal(train_run(s, NULL, 0, NULL), MLPOT_OK);
    if (!strstr(mlpot_last_error(), needle))
        fail_msg("'%s' not in: %s", needle, mlpot_last_error());
    assert_false(exists(s->output));
}

/* issue 16: each of these trained and wrote a model with exit 0 */
static void test_degenerate_settings_and_data(void **state) {
    (void)state;
    char good[4096], path[4096];
    ts_tmp_path("train_degenerate_good.h5", good, sizeof good);
    make_dataset(good);
    train_settings s = settings(good, "degenerate.h5", 1);
    s.epochs = 2;
    s.weights.energy = -1;
    expect_refused(&s, "loss weights must be finite and >= 0");
    s.weights = (loss_weights){0, 0, 0};
    expect_refused(&s, "all 0");
    s = settings(good, "degenerate.h5", 1);
    s.epochs = 2;
    s.opt.lr = 1e6;
    s.opt.clip_norm = 0;
    expect_refused(&s, "expected 0 < --lr <= 1");
    /* a label of 1e300 eV: the frame is named, with its file */
    ts_tmp_path("train_degenerate_huge.h5", path, sizeof path);
    make_dataset_variant(path, DATA_HUGE_LABEL);
    s = settings(path, "degenerate.h5", 1);
    s.valid_fraction = 0;
    expect_refused(&s, "train_degenerate_huge.h5: frame 5:");
    assert_non_null(strstr(mlpot_last_error(), "energy label 1e+300 eV"));
    ts_tmp_path("train_degenerate_zero.h5", path, sizeof path);
    make_dataset_variant(path, DATA_ZERO_WEIGHTS);
    s = settings(path, "degenerate.h5", 1);
    expect_refused(&s, "every training frame has weight 0");
    ts_tmp_path("train_degenerate_no_energy.h5", path, sizeof path);
    make_dataset_variant(path, DATA_NO_ENERGIES);
    s = settings(path, "degenerate.h5", 1);
    expect_refused(&s, "has an energy label");
}

/* The /training attribute `key` of m as text. */
static const char *training_attribute(const mlpot_model *m, const char *key) {
    for (int k = 0; k < m->n_training; k++)
        if (!strcmp(m->training[k].key, key))
            return m->training[k].value;
    fail_msg("no /training attribute %s", key);
    return NULL;
}

/* Epoch lines as the observer gets them, for a check under the comma locale. */
static void check_epoch_line(void *user, const char *text) {
    if (!strncmp(text, "epoch ", 6)) {
        if (strchr(text, ','))
            fail_msg("a decimal comma in the epoch line: %s", text);
        ++*(int *)user;
    }
}

/* Adds a real-valued /training attribute, as another program (h5py) would write one. */
static void add_real_training_attribute(const char *path, const char *key, double value) {
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t group = H5Gopen2(file, "/training", H5P_DEFAULT);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(group, key, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(group >= 0 && space >= 0 && attr >= 0);
    assert_true(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Gclose(group);
    H5Fclose(file);
}

/* A program that has called setlocale() with a decimal comma trains and reads the model back:
 * the learning curve (11 numeric columns), the epoch lines and the /training attributes
 * (written as text, or real-valued ones made text when read) have decimal points. */
static void test_decimal_comma_locale(void **state) {
    (void)state;
    char data[4096];
    ts_tmp_path("train_locale_teacher.h5", data, sizeof data);
    make_dataset(data);
    if (!ts_enter_decimal_comma_locale()) {
        setlocale(LC_ALL, "C");
        print_message("skipped: no de_DE.UTF-8 locale and localedef cannot make one\n");
        skip();
    }
    train_settings s = settings(data, "train_locale.h5", 1);
    s.epochs = 2;
    int epoch_lines = 0;
    train_observer observer = {check_epoch_line, NULL, &epoch_lines};
    TS_OK(train_run(&s, NULL, 0, &observer));
    assert_int_equal(epoch_lines, 2);
    add_real_training_attribute(s.output, "other_program_real", 0.25);
    mlpot_model *m = load(s.output); /* still under the comma locale */
    char csv[4200];
    snprintf(csv, sizeof csv, "%s.csv", s.output);
    FILE *fp = fopen(csv, "r");
    setlocale(LC_ALL, "C");

    assert_string_equal(training_attribute(m, "lr"), "0.005");
    assert_string_equal(training_attribute(m, "valid_fraction"), "0.25");
    assert_string_equal(training_attribute(m, "ema_decay"), "0.9");
    assert_string_equal(training_attribute(m, "other_program_real"), "0.25");
    char *end;
    double e = strtod(training_attribute(m, "last_epoch_valid_energy_mae_mev_per_atom"), &end);
    assert_true(*end == '\0' && e > 0);
    mlpot_model_free(m);

    assert_non_null(fp);
    char line[1024];
    int rows = 0;
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    while (fgets(line, sizeof line, fp)) {
        int fields = 0;
        for (char *p = line, *next;; p = next + 1) {
            double v = strtod(p, &next);
            assert_true(next > p && isfinite(v)); /* the whole field is one number */
            fields++;
            if (*next != ',') {
                assert_true(*next == '\n');
                break;
            }
        }
        assert_int_equal(fields, 11);
        rows++;
    }
    fclose(fp);
    assert_int_equal(rows, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training),
        cmocka_unit_test(test_decimal_comma_locale),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_degenerate_settings_and_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
