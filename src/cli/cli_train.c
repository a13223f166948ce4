/* cli_train.c — `mlpot train`: options (or the same settings as a flat JSON config file) into
 * train_settings, the effective settings printed, then the fit loop of src/train. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_arch.h"
#include "cli/cli_common.h"
#include "io/line_reader.h"
#include "train/trainer.h"

static const char *train_help_head =
    "usage: mlpot train --train TRAIN.h5 [--valid VALID.h5 | --valid-fraction X] -o MODEL.h5\n"
    "                   [--arch A] [model options] [loss and optimiser options]\n"
    "       mlpot train --resume CHECKPOINT [--epochs N]\n"
    "       mlpot train --config settings.json [options overriding it]\n\n"
    "Fits a potential to an HDF5 dataset (mlpot dataset convert). Species, per-species\n"
    "reference energies (least squares), energy shift/scale and n_avg come from the training\n"
    "data. One line per epoch (train and validation MAE of energy per atom, forces, stress;\n"
    "the learning rate of the epoch's last step; nan where there is no value); a checkpoint\n"
    "after every epoch (MODEL.h5.ckpt) and the learning curve (MODEL.h5.csv).\n"
    "The defaults are the recipe of the shipped potentials (potentials/recipes/), measured on\n"
    "the mlearn Si, Mo and Li sets; `mlpot model init` has its own (the architectures').\n\n"
    "data:\n"
    "  --train FILE          training dataset\n"
    "  --valid FILE          validation dataset (default: --valid-fraction of the training set)\n"
    "  --valid-fraction X    seeded random fraction held out (default 0.1)\n"
    "model (defaults: r_c 5, F 32, L 2, K 16, H 32, p 6):\n"
    "  --cutoff R --features F --layers L --basis K --readout-hidden H --envelope-p P\n";

static const char *train_help =
    "loss (mean squared errors of energy per atom (eV), force components (eV/A) and stress\n"
    "components (eV/A^3); the run prints each term's size at an error of one standard\n"
    "deviation of the training labels):\n"
    "  --energy-weight X (100)  --force-weight X (1)  --stress-weight X (10)\n"
    "optimiser:\n"
    "  --epochs N (200)  --batch-size N (2)  --lr X (2e-3)  --lr-min X (1e-5)\n"
    "  --lr-schedule cosine|plateau (cosine)  --warmup-steps N (5% of the run)\n"
    "  --plateau-factor X (0.5)  --plateau-patience N (5)  --patience N (early stop, 0 off; 0)\n"
    "  --weight-decay X (0: Adam; > 0: AdamW)  --clip-norm X (10)  --ema-decay X (0.99)\n"
    "run:\n"
    "  --seed S (0)  --threads N (OpenMP default)  -o MODEL  --checkpoint FILE  --log FILE\n"
    "  --resume CKPT  continue a run from its checkpoint (same settings; --epochs extends)\n"
    "  --force        let an output replace a file of another kind (a dataset, a structure);\n"
    "                 an output is never one of the datasets\n"
    "  --config FILE  a flat JSON object of the long option names above, e.g.\n"
    "                 {\"train\": \"si.h5\", \"arch\": \"cgcnn\", \"epochs\": 200}\n";

static void print_train_help(FILE *out) {
    fputs(train_help_head, out);
    train_settings defaults;
    train_settings_defaults(&defaults);
    cli_arch_print_help(out, defaults.hp.arch, train_arch_defaults);
    fputs(train_help, out);
}

enum {
    O_TRAIN = 256, O_VALID, O_VALID_FRACTION, O_ARCH, O_CUTOFF, O_FEATURES, O_LAYERS, O_BASIS,
    O_READOUT, O_ENVP, O_EW, O_FW, O_SW, O_EPOCHS, O_BATCH, O_LR, O_LR_MIN,
    O_SCHEDULE, O_WARMUP, O_PLATEAU_FACTOR, O_PLATEAU_PATIENCE, O_PATIENCE, O_WD, O_CLIP, O_EMA,
    O_SEED, O_THREADS, O_CHECKPOINT, O_LOG, O_RESUME, O_CONFIG, O_STOP_AFTER, O_FORCE
};

static const struct option base_options[] = {
    {"train", required_argument, 0, O_TRAIN},
    {"valid", required_argument, 0, O_VALID},
    {"valid-fraction", required_argument, 0, O_VALID_FRACTION},
    {"arch", required_argument, 0, O_ARCH},
    {"cutoff", required_argument, 0, O_CUTOFF},
    {"features", required_argument, 0, O_FEATURES},
    {"layers", required_argument, 0, O_LAYERS},
    {"basis", required_argument, 0, O_BASIS},
    {"readout-hidden", required_argument, 0, O_READOUT},
    {"envelope-p", required_argument, 0, O_ENVP},
    {"energy-weight", required_argument, 0, O_EW},
    {"force-weight", required_argument, 0, O_FW},
    {"stress-weight", required_argument, 0, O_SW},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"batch-size", required_argument, 0, O_BATCH},
    {"lr", required_argument, 0, O_LR},
    {"lr-min", required_argument, 0, O_LR_MIN},
    {"lr-schedule", required_argument, 0, O_SCHEDULE},
    {"warmup-steps", required_argument, 0, O_WARMUP},
    {"plateau-factor", required_argument, 0, O_PLATEAU_FACTOR},
    {"plateau-patience", required_argument, 0, O_PLATEAU_PATIENCE},
    {"patience", required_argument, 0, O_PATIENCE},
    {"weight-decay", required_argument, 0, O_WD},
    {"clip-norm", required_argument, 0, O_CLIP},
    {"ema-decay", required_argument, 0, O_EMA},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"output", required_argument, 0, 'o'},
    {"checkpoint", required_argument, 0, O_CHECKPOINT},
    {"log", required_argument, 0, O_LOG},
    {"resume", required_argument, 0, O_RESUME},
    {"config", required_argument, 0, O_CONFIG},
    {"stop-after-epochs", required_argument, 0, O_STOP_AFTER}, /* testing aid, undocumented */
    {"force", no_argument, 0, O_FORCE},
    {"help", no_argument, 0, 'h'}};

#define N_BASE_OPTIONS ((int)(sizeof base_options / sizeof base_options[0]))

typedef struct {
    train_settings set;
    const char *resume;
    int epochs_given;
    const char *arch;            /* --arch, NULL: the default */
    cli_arch_values arch_values; /* architecture options, applied once the arch is known */
    struct option options[N_BASE_OPTIONS + CLI_ARCH_MAX_OPTIONS];
} train_request;

static int set_int(const char *name, const char *text, int min, int *out) {
    long v;
    if (!parse_long(text, &v) || v < min || v > INT_MAX) {
        cli_usage_error("train", "--%s expects an integer >= %d, got '%s'", name, min, text);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int set_double(const char *name, const char *text, double *out) {
    char option[64];
    snprintf(option, sizeof option, "--%s", name);
    return cli_parse_double("train", option, text, out);
}

static int set_path(char *dst, size_t size, const char *text) {
    if (strlen(text) >= size) {
        cli_usage_error("train", "path too long: %s", text);
        return 0;
    }
    snprintf(dst, size, "%s", text);
    return 1;
}

/* Applies one option (code from train_options) with its value; 0 on a usage error. */
static int apply_option(train_request *rq, int code, const char *name, const char *v) {
    train_settings *s = &rq->set;
    switch (code) {
    case O_TRAIN: return set_path(s->train_path, sizeof s->train_path, v);
    case O_VALID: return set_path(s->valid_path, sizeof s->valid_path, v);
    case O_VALID_FRACTION: return set_double(name, v, &s->valid_fraction);
    case O_ARCH:
        if (!arch_find(v)) {
            char known[256];
            arch_list_names(known, sizeof known, ", ");
            cli_usage_error("train", "--arch must be one of %s, got '%s'", known, v);
            return 0;
        }
        rq->arch = arch_find(v)->name;
        return 1;
    case O_CUTOFF: return set_double(name, v, &s->hp.cutoff);
    case O_FEATURES: return set_int(name, v, 1, &s->hp.n_features);
    case O_LAYERS: return set_int(name, v, 0, &s->hp.n_layers);
    case O_BASIS: return set_int(name, v, 2, &s->hp.n_basis);
    case O_READOUT: return set_int(name, v, 1, &s->hp.readout_hidden);
    case O_ENVP: return set_int(name, v, 1, &s->hp.envelope_p);
    case O_EW: return set_double(name, v, &s->weights.energy);
    case O_FW: return set_double(name, v, &s->weights.force);
    case O_SW: return set_double(name, v, &s->weights.stress);
    case O_EPOCHS: rq->epochs_given = 1; return set_int(name, v, 1, &s->epochs);
    case O_BATCH: return set_int(name, v, 1, &s->batch_size);
    case O_LR: return set_double(name, v, &s->opt.lr);
    case O_LR_MIN: return set_double(name, v, &s->opt.lr_min);
    case O_SCHEDULE:
        if (!strcmp(v, "cosine"))
            s->opt.schedule = SCHEDULE_COSINE;
        else if (!strcmp(v, "plateau"))
            s->opt.schedule = SCHEDULE_PLATEAU;
        else {
            cli_usage_error("train", "--lr-schedule must be cosine or plateau, got '%s'", v);
            return 0;
        }
        return 1;
    case O_WARMUP: return set_int(name, v, 0, &s->opt.warmup_steps);
    case O_PLATEAU_FACTOR: return set_double(name, v, &s->opt.plateau_factor);
    case O_PLATEAU_PATIENCE: return set_int(name, v, 1, &s->opt.plateau_patience);
    case O_PATIENCE: return set_int(name, v, 0, &s->patience);
    case O_WD: return set_double(name, v, &s->opt.weight_decay);
    case O_CLIP: return set_double(name, v, &s->opt.clip_norm);
    case O_EMA: return set_double(name, v, &s->opt.ema_decay);
    case O_SEED: {
        long seed;
        if (!parse_long(v, &seed) || seed < 0) {
            cli_usage_error("train", "--seed expects a non-negative integer, got '%s'", v);
            return 0;
        }
        s->seed = (unsigned long long)seed;
        return 1;
    }
    case O_THREADS: return set_int(name, v, 1, &s->threads);
    case 'o': return set_path(s->output, sizeof s->output, v);
    case O_CHECKPOINT: return set_path(s->checkpoint, sizeof s->checkpoint, v);
    case O_LOG: return set_path(s->log_csv, sizeof s->log_csv, v);
    case O_RESUME: rq->resume = v; return 1;
    case O_STOP_AFTER: return set_int(name, v, 1, &s->stop_after_epochs);
    }
    if (cli_arch_is_option(code))
        return cli_arch_record("train", &rq->arch_values, code, v);
    return 0;
}

/* A flat JSON object {"name": value, ...} whose names are the long options. */
static int read_config(train_request *rq, const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "mlpot: %s: cannot open\n", path);
        return 0;
    }
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    char *p = text;
    int line = 1;
#define SKIP_SPACE()                                                                               \
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {                                  \
        line += *p == '\n';                                                                        \
        p++;                                                                                       \
    }
    SKIP_SPACE();
    if (*p++ != '{') {
        fprintf(stderr, "mlpot: %s:%d: expected a JSON object '{'\n", path, line);
        return 0;
    }
    for (;;) {
        SKIP_SPACE();
        if (*p == '}')
            return 1;
        char key[64], value[4200];
        if (*p != '"' || sscanf(p, "\"%63[^\"]\"", key) != 1) {
            fprintf(stderr, "mlpot: %s:%d: expected a quoted option name\n", path, line);
            return 0;
        }
        p = strchr(p + 1, '"') + 1;
        SKIP_SPACE();
        if (*p++ != ':') {
            fprintf(stderr, "mlpot: %s:%d: expected ':' after \"%s\"\n", path, line, key);
            return 0;
        }
        SKIP_SPACE();
        size_t len = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"' && len + 1 < sizeof value)
                value[len++] = *p++;
            if (*p++ != '"') {
                fprintf(stderr, "mlpot: %s:%d: unterminated string for \"%s\"\n", path, line, key);
                return 0;
            }
        } else {
            while (*p && *p != ',' && *p != '}' && *p != '\n' && len + 1 < sizeof value)
                value[len++] = *p++;
            while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\r'))
                len--;
        }
        value[len] = '\0';
        int code = 0;
        for (const struct option *o = rq->options; o->name; o++)
            if (!strcmp(o->name, key) && o->has_arg == required_argument)
                code = o->val;
        if (!code || code == O_CONFIG || code == O_STOP_AFTER) {
            fprintf(stderr, "mlpot: %s:%d: unknown setting \"%s\" (see mlpot train --help)\n",
                    path, line, key);
            return 0;
        }
        if (!apply_option(rq, code, key, value))
            return 0;
        SKIP_SPACE();
        if (*p == ',')
            p++;
        else if (*p != '}') {
            fprintf(stderr, "mlpot: %s:%d: expected ',' or '}'\n", path, line);
            return 0;
        }
    }
#undef SKIP_SPACE
}

static void print_settings(const train_settings *s) {
    printf("settings: train %s, valid %s, arch %s, r_c %g, F %d, L %d, K %d, H %d", s->train_path,
           s->valid_path[0] ? s->valid_path : "(fraction of train)", s->hp.arch->name,
           s->hp.cutoff, s->hp.n_features, s->hp.n_layers, s->hp.n_basis, s->hp.readout_hidden);
    cli_arch_print_values(stdout, &s->hp);
    char warmup[32] = "5% of the steps";
    if (s->opt.warmup_steps >= 0)
        snprintf(warmup, sizeof warmup, "%d steps", s->opt.warmup_steps);
    printf("\n          weights E %g F %g S %g, epochs %d, batch %d, lr %g -> %g (%s), warm-up "
           "%s, clip %g, EMA %g, weight decay %g, patience %d, seed %llu\n",
           s->weights.energy, s->weights.force, s->weights.stress, s->epochs, s->batch_size,
           s->opt.lr, s->opt.lr_min, s->opt.schedule == SCHEDULE_PLATEAU ? "plateau" : "cosine",
           warmup, s->opt.clip_norm, s->opt.ema_decay, s->opt.weight_decay,
           s->patience, s->seed);
}

/* The model, checkpoint and CSV log may be none of the datasets, and replace only files of
 * their own kind (unless --force); a resumed run writes where its checkpoint says. */
static int check_train_outputs(const train_settings *s, int force) {
    char checkpoint[TRAIN_PATH_MAX + 8], log[TRAIN_PATH_MAX + 8];
    snprintf(checkpoint, sizeof checkpoint, "%s", s->checkpoint);
    if (!s->checkpoint[0])
        snprintf(checkpoint, sizeof checkpoint, "%s.ckpt", s->output);
    snprintf(log, sizeof log, "%s", s->log_csv);
    if (!s->log_csv[0])
        snprintf(log, sizeof log, "%s.csv", s->output);
    const char *inputs[] = {s->train_path, s->valid_path[0] ? s->valid_path : NULL};
    const char *model_outputs[] = {s->output, checkpoint};
    return cli_check_output("train", s->output, CLI_KIND_MODEL, inputs, 2, force) &&
           cli_check_output("train", checkpoint, CLI_KIND_MODEL, inputs, 2, force) &&
           cli_check_output("train", log, CLI_KIND_TEXT, inputs, 2, force) &&
           cli_check_output("train", log, CLI_KIND_TEXT, model_outputs, 2, 1);
}

/* The run's lines on stdout (flushed, so that a redirected log is live), after clearing the
 * progress bar on a terminal. */
static void print_line(void *user, const char *text) {
    if (*(const int *)user)
        fprintf(stderr, "\r%*s\r", 100, "");
    printf("%s\n", text);
    fflush(stdout);
}

/* A live bar on a terminal: this epoch's batches, seconds per epoch and the time left. */
static void draw_progress(void *user, int epoch, int epochs, int batch, int batches,
                          double seconds_per_epoch, double eta) {
    (void)user;
    int width = 30, filled = (int)(width * (double)batch / batches);
    fprintf(stderr, "\r  epoch %d/%d [%.*s%*s] %d/%d batches  %.1f s/epoch  ETA %dh%02dm%02ds  ",
            epoch, epochs, filled, "##############################", width - filled, "", batch,
            batches, seconds_per_epoch, (int)(eta / 3600), (int)fmod(eta / 60, 60),
            (int)fmod(eta, 60));
    fflush(stderr);
}

int cli_train(int argc, char **argv) {
    train_request rq = {0};
    train_settings_defaults(&rq.set);
    int n_options = N_BASE_OPTIONS;
    memcpy(rq.options, base_options, sizeof base_options);
    cli_arch_add_options(rq.options, &n_options, (int)(sizeof rq.options / sizeof rq.options[0]));
    /* the config file first, so that options given with it override it */
    for (int a = 1; a < argc - 1; a++)
        if (!strcmp(argv[a], "--config") && !read_config(&rq, argv[a + 1]))
            return CLI_EXIT_USAGE;
    size_t used = 0;
    for (int a = 0; a < argc && used + 2 < sizeof rq.set.command_line; a++)
        used += (size_t)snprintf(rq.set.command_line + used, sizeof rq.set.command_line - used,
                                 "%s%s", a ? " " : "mlpot ", argv[a]);
    int c, index = 0, force = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", rq.options, &index)) != -1) {
        if (c == O_FORCE) {
            force = 1;
            continue;
        }
        if (c == 'h') {
            print_train_help(stdout);
            return 0;
        }
        if (c == ':')
            return cli_usage_error("train", "option '%s' needs a value", argv[optind - 1]);
        if (c == '?')
            return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
        if (c == O_CONFIG)
            continue;
        const char *name = c == 'o' ? "output" : rq.options[index].name;
        if (!apply_option(&rq, c, name, optarg))
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!rq.resume && (!rq.set.train_path[0] || !rq.set.output[0]))
        return cli_usage_error("train", "--train and -o are required (or --resume CHECKPOINT)");
    if (!rq.resume && !(rq.set.valid_fraction >= 0 && rq.set.valid_fraction < 1))
        return cli_usage_error("train", "--valid-fraction must be in [0, 1)");
    if (!rq.resume && !cli_arch_apply("train", rq.arch ? rq.arch : rq.set.hp.arch->name,
                                      &rq.set.hp, &rq.arch_values, train_arch_defaults))
        return CLI_EXIT_USAGE;
    if (!rq.resume && !check_train_outputs(&rq.set, force))
        return CLI_EXIT_FAILURE;
    if (!rq.resume)
        print_settings(&rq.set);
    int tty = isatty(2);
    train_observer observer = {print_line, tty ? draw_progress : NULL, &tty};
    mlpot_status st = train_run(&rq.set, rq.resume, rq.resume && rq.epochs_given ? rq.set.epochs : 0,
                                &observer);
    return st ? cli_fail() : 0;
}
