/* trainer.c — the fit loop (see trainer.h). Frames are held in memory (the mlearn sets are a
 * few MB); each mini-batch runs its frames in parallel, one calculator and loss workspace per
 * thread and one gradient buffer per frame, and adds the frame gradients in frame order, so
 * that a seed gives the same model bit for bit on any number of threads. */
#define _POSIX_C_SOURCE 200809L
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/c_locale.h"
#include "core/elements.h"
#include "core/error.h"
#include "core/random.h"
#include "core/units.h"
#include "core/memory.h"
#include "core/sha256.h"
#include "io/atomic_file.h"
#include "io/structure.h"
#include "model/extrapolation.h"
#include "model/model_file.h"
#include "train/checkpoint.h"
#include "io/dataset_file.h"
#include "train/frame_checks.h"

#ifdef _OPENMP
#include <omp.h>
#endif


/* The recipe of the shipped potentials (potentials/recipes/): measured on the mlearn Si, Mo and
 * Li sets, where the older defaults (cgcnn F 64 L 3, weights 1/1/0.1, batch 8) learned almost
 * no energy. `mlpot model init` keeps the architectures' own table defaults. */
void train_settings_defaults(train_settings *s) {
    memset(s, 0, sizeof *s);
    s->valid_fraction = 0.1;
    s->hp = (model_hparams){.cutoff = 5.0, .n_layers = 2, .n_features = 32, .n_basis = 16,
                            .readout_hidden = 32, .envelope_p = 6, .avg_neighbors = 1.0,
                            .energy_scale = 1.0};
    train_arch_defaults(&s->hp, arch_find("megnet"));
    s->weights = (loss_weights){.energy = 100.0, .force = 1.0, .stress = 10.0};
    s->opt = (optimizer_config){.lr = 2e-3, .lr_min = 1e-5, .beta1 = 0.9, .beta2 = 0.999,
                                .eps = 1e-8, .clip_norm = 10.0, .schedule = SCHEDULE_COSINE,
                                .plateau_factor = 0.5, .plateau_patience = 5, .ema_decay = 0.99,
                                .warmup_steps = -1};
    s->epochs = 200;
    s->batch_size = 2;
    s->patience = 0;
}

void train_arch_defaults(model_hparams *hp, const model_arch_ops *arch) {
    model_hparams_set_arch(hp, arch);
    for (int k = 0; k < arch->n_hparams; k++) {
        if (!strcmp(arch->hparams[k].flag, "edge-features"))
            hp->arch_value[k] = 16;
        if (!strcmp(arch->hparams[k].flag, "megnet-hidden"))
            hp->arch_value[k] = 32;
    }
}

typedef struct {
    double loss, e_abs, f_abs, s_abs;
    long n_e, n_f, n_s;
} epoch_metrics;

typedef struct {
    train_settings set;
    mlpot_model *model;
    optimizer *opt;
    mlpot_structure **train, **valid;
    double *train_w, *valid_w;
    int *train_index, *valid_index; /* each frame's index in its file, for messages */
    const char *valid_file;         /* the file the validation frames come from */
    int n_train, n_valid;
    checkpoint_state cs;
    int n_threads;
    mlpot_calculator **calc;
    loss_workspace **ws;
    double *frame_grads, *grad, *backup;
    double *frame_loss_values;
    frame_errors *frame_err;
    mlpot_status *frame_status;
    size_t csv_cap;
} trainer;

/* Fisher-Yates with splitmix64 (the state is kept in checkpoints as unsigned long long) */
static void shuffle(int *idx, int n, unsigned long long *state) {
    uint64_t s = *state;
    for (int k = n - 1; k > 0; k--) {
        int j = (int)(splitmix64_next(&s) % (uint64_t)(k + 1));
        int t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
    }
    *state = s;
}

static mlpot_status load_frames(const char *path, mlpot_structure ***frames, double **weights,
                                int **file_index, int *n) {
    dataset *d = NULL;
    mlpot_status st = dataset_open(&d, path);
    if (st)
        return st;
    int count = dataset_n_frames(d);
    if (count < 1) {
        dataset_close(d);
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: the dataset has no frames", path);
    }
    if ((st = mem_calloc(frames, (size_t)count, sizeof **frames)) ||
        (st = mem_calloc(weights, (size_t)count, sizeof **weights)) ||
        (st = mem_calloc(file_index, (size_t)count, sizeof **file_index))) {
        dataset_close(d);
        return st;
    }
    for (int k = 0; k < count && st == MLPOT_OK; k++) {
        st = dataset_read_frame(d, k, &(*frames)[k]);
        (*weights)[k] = dataset_frame_weight(d, k);
        (*file_index)[k] = k;
    }
    dataset_close(d);
    *n = count;
    return st;
}

static void free_frames(mlpot_structure **frames, int n) {
    for (int k = 0; frames && k < n; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
}

/* Moves a seeded valid_fraction of the training frames into the validation set. */
static mlpot_status split_validation(trainer *t) {
    int n = t->n_train, n_valid = (int)floor(t->set.valid_fraction * n + 0.5);
    if (n_valid < 1 || n_valid >= n)
        return n_valid >= n ? error_set(MLPOT_ERR_INVALID_ARGUMENT,
                                        "--valid-fraction %g leaves no training frames",
                                        t->set.valid_fraction)
                            : MLPOT_OK;
    int *idx = malloc((size_t)n * sizeof *idx);
    char *is_valid = calloc((size_t)n, 1);
    mlpot_status st = MLPOT_OK;
    if (!idx || !is_valid || mem_calloc(&t->valid, (size_t)n_valid, sizeof *t->valid) ||
        mem_calloc(&t->valid_w, (size_t)n_valid, sizeof *t->valid_w) ||
        mem_calloc(&t->valid_index, (size_t)n_valid, sizeof *t->valid_index)) {
        st = error_set(MLPOT_ERR_MEMORY, "out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++)
        idx[k] = k;
    unsigned long long state = t->set.seed ^ 0x76616c6964ull; /* "valid" */
    shuffle(idx, n, &state);
    for (int k = 0; k < n_valid; k++)
        is_valid[idx[k]] = 1;
    int a = 0, b = 0;
    for (int k = 0; k < n; k++) { /* both sets keep the file's order */
        if (is_valid[k]) {
            t->valid[b] = t->train[k];
            t->valid_index[b] = t->train_index[k];
            t->valid_w[b++] = t->train_w[k];
        } else {
            t->train[a] = t->train[k];
            t->train_index[a] = t->train_index[k];
            t->train_w[a++] = t->train_w[k];
        }
    }
    t->n_train = a;
    t->n_valid = b;
done:
    free(idx);
    free(is_valid);
    return st;
}

/* Standard deviations of the training labels (about their means, frames unweighted): the
 * per-atom energy after the species references, the labelled force components and the nine
 * stress components of stress-labelled frames (as loss_norms_add counts them); 0 without. */
typedef struct {
    double energy, force, stress;
    long n_energy, n_force, n_stress;
} data_spread;

static void add_sample(double x, double *sum, double *sum2, long *n) {
    *sum += x;
    *sum2 += x * x;
    ++*n;
}

static double spread_of(double sum, double sum2, long n) {
    double mean = n ? sum / n : 0;
    return n ? sqrt(fmax(sum2 / n - mean * mean, 0)) : 0;
}

/* Species from the data; species energies by least squares on the training energies; shift
 * and scale from the per-atom residuals; n_avg from the neighbour counts (trainer.h); the
 * labels' spread for the start-of-run report. */
static mlpot_status data_statistics(trainer *t, model_hparams *hp, double *species_energy,
                                    data_spread *spread) {
    int present[ELEMENT_MAX_Z + 1] = {0};
    for (int f = 0; f < t->n_train; f++)
        for (int i = 0; i < t->train[f]->n_atoms; i++)
            present[t->train[f]->numbers[i]] = 1;
    hp->n_species = 0;
    for (int z = 1; z <= ELEMENT_MAX_Z; z++)
        if (present[z])
            hp->species[hp->n_species++] = z;
    int S = hp->n_species;
    /* normal equations (A^T A + ridge) x = A^T E, A[f][s] = atoms of species s in frame f */
    double *ata = calloc((size_t)S * S, sizeof *ata), *atb = calloc((size_t)S, sizeof *atb);
    double *count = calloc((size_t)S, sizeof *count);
    if (!ata || !atb || !count) {
        free(ata);
        free(atb);
        free(count);
        return error_set(MLPOT_ERR_MEMORY, "out of memory");
    }
    int labelled = 0;
    for (int f = 0; f < t->n_train; f++) {
        const mlpot_structure *s = t->train[f];
        if (!s->has_energy || !isfinite(s->energy))
            continue;
        labelled++;
        memset(count, 0, (size_t)S * sizeof *count);
        for (int i = 0; i < s->n_atoms; i++)
            count[model_species_index(hp, s->numbers[i])] += 1;
        for (int a = 0; a < S; a++) {
            atb[a] += count[a] * s->energy;
            for (int b = 0; b < S; b++)
                ata[a * S + b] += count[a] * count[b];
        }
    }
    double trace = 0;
    for (int a = 0; a < S; a++)
        trace += ata[a * S + a];
    for (int a = 0; a < S; a++)
        ata[a * S + a] += 1e-10 * (trace > 0 ? trace : 1);
    /* Gaussian elimination with partial pivoting (S is small) */
    for (int c = 0; c < S; c++) {
        int piv = c;
        for (int r = c + 1; r < S; r++)
            if (fabs(ata[r * S + c]) > fabs(ata[piv * S + c]))
                piv = r;
        for (int k = 0; k < S; k++) {
            double tmp = ata[c * S + k];
            ata[c * S + k] = ata[piv * S + k];
            ata[piv * S + k] = tmp;
        }
        double tmp = atb[c];
        atb[c] = atb[piv];
        atb[piv] = tmp;
        for (int r = c + 1; r < S; r++) {
            double f = ata[r * S + c] / ata[c * S + c];
            for (int k = c; k < S; k++)
                ata[r * S + k] -= f * ata[c * S + k];
            atb[r] -= f * atb[c];
        }
    }
    for (int c = S - 1; c >= 0; c--) {
        double v = atb[c];
        for (int k = c + 1; k < S; k++)
            v -= ata[c * S + k] * species_energy[k];
        species_energy[c] = labelled ? v / ata[c * S + c] : 0.0;
    }
    /* residual energy per atom: its mean is the shift, its spread the scale */
    double sum = 0, sum2 = 0;
    for (int f = 0; f < t->n_train; f++) {
        const mlpot_structure *s = t->train[f];
        if (!s->has_energy || !isfinite(s->energy))
            continue;
        double e = s->energy;
        for (int i = 0; i < s->n_atoms; i++)
            e -= species_energy[model_species_index(hp, s->numbers[i])];
        e /= s->n_atoms;
        sum += e;
        sum2 += e * e;
    }
    double mean = labelled ? sum / labelled : 0, var = labelled ? sum2 / labelled - mean * mean : 0;
    hp->energy_shift = mean;
    hp->energy_scale = fmax(sqrt(fmax(var, 0)), 0.01);
    double f_sum = 0, f_sum2 = 0, s_sum = 0, s_sum2 = 0;
    *spread = (data_spread){.energy = sqrt(fmax(var, 0)), .n_energy = labelled};
    for (int f = 0; f < t->n_train; f++) {
        const mlpot_structure *s = t->train[f];
        for (int i = 0; s->forces && i < s->n_atoms; i++) {
            const double *row = &s->forces[3 * i];
            if (isfinite(row[0]) && isfinite(row[1]) && isfinite(row[2]))
                for (int k = 0; k < 3; k++)
                    add_sample(row[k], &f_sum, &f_sum2, &spread->n_force);
        }
        loss_norms labels = {0};
        loss_norms_add(&labels, s, 1.0);
        for (int k = 0; labels.stress > 0 && k < 9; k++)
            add_sample(s->stress[k], &s_sum, &s_sum2, &spread->n_stress);
    }
    spread->force = spread_of(f_sum, f_sum2, spread->n_force);
    spread->stress = spread_of(s_sum, s_sum2, spread->n_stress);
    /* average neighbours at the cutoff */
    mlpot_graph *g = NULL;
    mlpot_status st = mlpot_graph_create(&g);
    double edges = 0, atoms = 0;
    for (int f = 0; f < t->n_train && st == MLPOT_OK; f++) {
        st = mlpot_graph_build(g, t->train[f], hp->cutoff);
        edges += (double)mlpot_graph_n_edges(g);
        atoms += t->train[f]->n_atoms;
    }
    mlpot_graph_free(g);
    hp->avg_neighbors = atoms > 0 && edges > 0 ? edges / atoms : 1.0;
    if (!st && hp->arch->fit_to_frames)
        st = hp->arch->fit_to_frames(hp, t->train, t->n_train);
    free(ata);
    free(atb);
    free(count);
    return st;
}

static mlpot_status allocate_threads(trainer *t) {
    int n = 1;
#ifdef _OPENMP
    n = t->set.threads > 0 ? t->set.threads : omp_get_max_threads();
#endif
    size_t P = t->model->n_params, B = (size_t)t->set.batch_size;
    int nb = t->n_train > t->n_valid ? t->n_train : t->n_valid;
    mlpot_status st;
    t->n_threads = n;
    if ((st = mem_calloc(&t->calc, (size_t)n, sizeof *t->calc)) ||
        (st = mem_calloc(&t->ws, (size_t)n, sizeof *t->ws)) ||
        (st = mem_calloc(&t->frame_grads, B * P, sizeof *t->frame_grads)) ||
        (st = mem_calloc(&t->grad, P, sizeof *t->grad)) ||
        (st = mem_calloc(&t->backup, P, sizeof *t->backup)) ||
        (st = mem_calloc(&t->frame_loss_values, (size_t)nb, sizeof(double))) ||
        (st = mem_calloc(&t->frame_err, (size_t)nb, sizeof *t->frame_err)) ||
        (st = mem_calloc(&t->frame_status, (size_t)nb, sizeof *t->frame_status)))
        return st;
    for (int k = 0; k < n; k++)
        if ((st = mlpot_calculator_create(&t->calc[k], t->model)) ||
            (st = loss_workspace_create(&t->ws[k], P)))
            return st;
    return MLPOT_OK;
}

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static void add_errors(epoch_metrics *m, const frame_errors *e) {
    if (e->has_energy) {
        m->e_abs += fabs(e->energy_per_atom_error);
        m->n_e++;
    }
    m->f_abs += e->force_abs_sum;
    m->n_f += e->n_force_components;
    if (e->has_stress) {
        m->s_abs += e->stress_abs_sum;
        m->n_s += 6;
    }
}

static size_t first_non_finite(const double *x, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!isfinite(x[k]))
            return k;
    return n;
}

/* Settings that cannot train (issue 16: negative or all-zero loss weights trained and wrote a
 * model with exit 0), refused before any work. */
static mlpot_status check_settings(const train_settings *s) {
    const loss_weights *w = &s->weights;
    if (!(w->energy >= 0 && w->force >= 0 && w->stress >= 0 && isfinite(w->energy) &&
          isfinite(w->force) && isfinite(w->stress)))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "the loss weights must be finite and >= 0 (energy %g, force %g, stress "
                         "%g)",
                         w->energy, w->force, w->stress);
    if (!(w->energy + w->force + w->stress > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "the energy, force and stress weights are all 0: nothing to fit");
    const optimizer_config *o = &s->opt;
    /* Adam moves every weight by about the learning rate per step: above 1, by more than the
     * weights' own scale (issue 16: --lr 1e6 --clip-norm 0 "trained" with exit 0) */
    if (!(o->lr > 0 && o->lr <= 1) || !(o->lr_min >= 0 && o->lr_min <= o->lr))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "expected 0 < --lr <= 1 (got %g; Adam's steps are about lr in every "
                         "weight) and 0 <= --lr-min <= --lr (got %g)",
                         o->lr, o->lr_min);
    if (!(o->clip_norm >= 0 && isfinite(o->clip_norm)) ||
        !(o->weight_decay >= 0 && isfinite(o->weight_decay)) ||
        !(o->ema_decay >= 0 && o->ema_decay < 1))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "expected --clip-norm >= 0 (%g), --weight-decay >= 0 (%g) and "
                         "0 <= --ema-decay < 1 (%g)",
                         o->clip_norm, o->weight_decay, o->ema_decay);
    return MLPOT_OK;
}

/* Every frame through dataset_check_frame (the check dataset info makes), naming file and
 * frame; then data that cannot train: every weight 0, or no energy label. */
static mlpot_status check_training_data(const trainer *t) {
    mlpot_graph *g = NULL;
    mlpot_status st = mlpot_graph_create(&g);
    for (int k = 0; !st && k < t->n_train; k++)
        st = dataset_check_frame(t->train[k], t->set.hp.cutoff, g, t->set.train_path,
                                 t->train_index[k]);
    for (int k = 0; !st && k < t->n_valid; k++)
        st = dataset_check_frame(t->valid[k], t->set.hp.cutoff, g, t->valid_file,
                                 t->valid_index[k]);
    mlpot_graph_free(g);
    if (st)
        return st;
    double weight_sum = 0;
    int n_energy = 0;
    for (int k = 0; k < t->n_train; k++) {
        weight_sum += t->train_w[k];
        n_energy += t->train[k]->has_energy && t->train_w[k] > 0;
    }
    const char *file = t->set.train_path;
    if (!(weight_sum > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: every training frame has weight 0: nothing to fit", file);
    if (n_energy == 0)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: no training frame (of weight > 0) has an energy label; the "
                         "species energies and the energy scale come from them",
                         file);
    return MLPOT_OK;
}

/* A number as the log, the CSV and /training print it: every NaN as "nan" (a NaN made by 0/0
 * has its sign bit set, which printf writes "-nan"), infinities as "inf" and "-inf"; numpy's
 * loadtxt/genfromtxt and pandas' read_csv read these three words back. */
static double printable(double x) {
    return isnan(x) ? NAN : x;
}

/* One complete line to the observer (no newline in fmt). */
static void report(const train_observer *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void report(const train_observer *o, const char *fmt, ...) {
    if (!o || !o->line)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    locale_t saved = c_locale_begin(); /* the same text under any locale of an embedding program */
    vsnprintf(line, sizeof line, fmt, ap);
    c_locale_end(saved);
    va_end(ap);
    o->line(o->user, line);
}

/* Warns (to the observer) about training frames whose energy per atom lies far outside the data's own
 * distribution: a wrong unit or a corrupted label, which the fit would chase. */
static void warn_label_outliers(const trainer *t, const train_observer *out) {
    double *e = malloc((size_t)t->n_train * sizeof *e);
    int shown[5];
    if (!e)
        return;
    for (int k = 0; k < t->n_train; k++)
        e[k] = t->train[k]->has_energy ? t->train[k]->energy / t->train[k]->n_atoms : NAN;
    int n = dataset_outliers(e, t->n_train, DATASET_OUTLIER_SIGMA, shown, 5);
    for (int k = 0; k < n && k < 5; k++)
        report(out, "warning: %s: frame %d: energy %.6g eV/atom is far outside the other "
                    "frames' (more than %g robust standard deviations from the median)",
               t->set.train_path, t->train_index[shown[k]], e[shown[k]], DATASET_OUTLIER_SIGMA);
    if (n > 5)
        report(out, "warning: %s: %d more frames like these", t->set.train_path, n - 5);
    free(e);
}

/* The loss weights and what each term is for an error of one standard deviation of the data
 * (weight x std^2: the loss is a mean of squared errors), so that a user can judge the balance
 * on this dataset; "-" for a kind of label the training set lacks. */
static void report_loss_terms(const trainer *t, const data_spread *d, const train_observer *out) {
    const loss_weights *w = &t->set.weights;
    const double std[3] = {d->energy, d->force, d->stress};
    const double weight[3] = {w->energy, w->force, w->stress};
    const long n[3] = {d->n_energy, d->n_force, d->n_stress};
    char std_text[3][32], term_text[3][32];
    locale_t saved = c_locale_begin(); /* "0.5", never "0,5" */
    for (int k = 0; k < 3; k++) {
        if (n[k]) {
            snprintf(std_text[k], sizeof std_text[k], "%.4g", std[k]);
            snprintf(term_text[k], sizeof term_text[k], "%.4g", weight[k] * std[k] * std[k]);
        } else {
            snprintf(std_text[k], sizeof std_text[k], "-");
            snprintf(term_text[k], sizeof term_text[k], "-");
        }
    }
    c_locale_end(saved);
    report(out, "loss weights: energy %g, forces %g, stress %g; data std: energy %s eV/atom, "
                "force components %s eV/A, stress components %s eV/A^3",
           w->energy, w->force, w->stress, std_text[0], std_text[1], std_text[2]);
    report(out, "loss terms at 1 std of the data: energy %s, forces %s, stress %s", term_text[0],
           term_text[1], term_text[2]);
}

/* Loss and errors of frames idx[0..n) with normalisers `norms`; gradients into per-frame
 * buffers (when `grads`), then summed in frame order into t->grad. */
static mlpot_status evaluate_frames(trainer *t, mlpot_structure **frames, const double *w,
                                    const char *file, const int *file_index, const int *idx,
                                    int n, const loss_norms *norms, int grads,
                                    epoch_metrics *m) {
    size_t P = t->model->n_params;
#pragma omp parallel num_threads(t->n_threads)
    {
#ifdef _OPENMP
        /* a frame's own loops run on its thread; this sets the ICV of this region's tasks
         * only, not the caller's */
        omp_set_num_threads(1);
#endif
#pragma omp for schedule(static)
        for (int b = 0; b < n; b++) {
            int th = thread_id();
            double *g = grads ? t->frame_grads + (size_t)b * P : NULL;
            if (g)
                memset(g, 0, P * sizeof *g);
            t->frame_loss_values[b] = 0;
            t->frame_status[b] = frame_loss(t->calc[th], frames[idx[b]], w[idx[b]],
                                            &t->set.weights, norms, t->ws[th],
                                            &t->frame_loss_values[b], g, &t->frame_err[b]);
        }
    }
    if (grads)
        memset(t->grad, 0, P * sizeof *t->grad);
    for (int b = 0; b < n; b++) {
        if (t->frame_status[b])
            return error_set(t->frame_status[b], "%s: frame %d: %s", file, file_index[idx[b]],
                             mlpot_last_error());
        /* a non-finite loss or gradient would spread through the optimiser into every weight
         * (issue 16: an energy label of 1e300 trained and saved a model giving 6e303 eV) */
        size_t bad = grads ? first_non_finite(t->frame_grads + (size_t)b * P, P) : P;
        if (!isfinite(t->frame_loss_values[b]) || bad < P)
            return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                             "%s: frame %d: the %s is not finite (loss %g); stopping, the last "
                             "checkpoint is of the last complete epoch",
                             file, file_index[idx[b]], bad < P ? "gradient" : "loss",
                             t->frame_loss_values[b]);
        m->loss += t->frame_loss_values[b];
        add_errors(m, &t->frame_err[b]);
        if (grads)
            for (size_t k = 0; k < P; k++)
                t->grad[k] += t->frame_grads[(size_t)b * P + k];
    }
    return MLPOT_OK;
}

/* Progress within an epoch: seconds per epoch so far in this process (`done` epochs' worth of
 * work in `elapsed` seconds) and the time left. */
static void progress(const train_observer *o, int epoch, int epochs, int batch, int batches,
                     double elapsed, double done) {
    if (!o || !o->progress)
        return;
    double rate = done > 0 ? elapsed / done : 0; /* seconds per epoch */
    double eta = rate * (epochs - (epoch - 1) - (double)batch / batches);
    o->progress(o->user, epoch, epochs, batch, batches, rate, eta);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static mlpot_status append_csv(trainer *t, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    locale_t saved = c_locale_begin(); /* decimal points, whatever the program's locale */
    int n = vsnprintf(line, sizeof line, fmt, ap);
    c_locale_end(saved);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) /* rows are numbers: never this long */
        return error_set(MLPOT_ERR_MEMORY, "learning curve: a row of %d characters", n);
    size_t len = t->cs.csv ? strlen(t->cs.csv) : 0;
    mlpot_status st = mem_reserve(&t->cs.csv, &t->csv_cap, len + (size_t)n + 1, 1);
    if (st)
        return st;
    memcpy(t->cs.csv + len, line, (size_t)n + 1);
    return MLPOT_OK;
}

static mlpot_status write_text_file(const char *path, const char *text) {
    atomic_file out;
    mlpot_status st = atomic_file_open(&out, path);
    if (st)
        return st;
    if (fputs(text, out.fp) < 0) {
        st = error_set(MLPOT_ERR_IO, "%s: write error: %s", path, strerror(errno));
        atomic_file_abort(&out);
        return st;
    }
    return atomic_file_commit(&out);
}

static void free_trainer(trainer *t) {
    for (int k = 0; t->calc && k < t->n_threads; k++) {
        mlpot_calculator_free(t->calc[k]);
        loss_workspace_free(t->ws[k]);
    }
    free(t->calc);
    free(t->ws);
    free(t->frame_grads);
    free(t->grad);
    free(t->backup);
    free(t->frame_loss_values);
    free(t->frame_err);
    free(t->frame_status);
    free_frames(t->train, t->n_train);
    free_frames(t->valid, t->n_valid);
    free(t->train_w);
    free(t->valid_w);
    free(t->train_index);
    free(t->valid_index);
    free(t->cs.best_params);
    free(t->cs.csv);
    optimizer_free(t->opt);
    mlpot_model_free(t->model);
}

/* The final model: the best weights, with the run's provenance in /training. */
static mlpot_status save_model(trainer *t, double valid_e, double valid_f, double valid_s) {
    mlpot_model *out = NULL;
    mlpot_status st = model_create(&t->model->hp, &out);
    if (st)
        return st;
    memcpy(out->params, t->cs.best_params, t->model->n_params * sizeof *out->params);
    char text[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    st = model_set_training_attribute(out, "date", text);
    struct {
        const char *key, *value;
    } strings[] = {{"train_file", t->set.train_path},
                   {"valid_file", t->set.valid_path[0] ? t->set.valid_path : "(split)"},
                   {"command_line", t->set.command_line},
                   {"created_by", "mlpot train"},
                   {"stress_loss", "squared errors of the nine components of sigma (eV/Å^3)"},
                   {"stress_mae", "over xx yy zz yz xz xy, GPa, as mlpot eval (model.md §9)"}};
    for (size_t k = 0; st == MLPOT_OK && k < sizeof strings / sizeof strings[0]; k++)
        st = model_set_training_attribute(out, strings[k].key, strings[k].value);
    char hex[65];
    if (st == MLPOT_OK && (st = sha256_file_hex(t->set.train_path, hex)) == MLPOT_OK)
        st = model_set_training_attribute(out, "train_sha256", hex);
    if (st == MLPOT_OK && t->set.valid_path[0] &&
        (st = sha256_file_hex(t->set.valid_path, hex)) == MLPOT_OK)
        st = model_set_training_attribute(out, "valid_sha256", hex);
    struct {
        const char *key;
        double value;
    } numbers[] = {{"seed", (double)t->set.seed},
                   {"epochs_run", t->cs.epoch},
                   {"best_epoch", t->cs.best_epoch},
                   {"batch_size", t->set.batch_size},
                   {"lr", t->set.opt.lr},
                   {"energy_weight", t->set.weights.energy},
                   {"force_weight", t->set.weights.force},
                   {"stress_weight", t->set.weights.stress},
                   {"epochs", t->set.epochs},
                   {"valid_fraction", t->set.valid_path[0] ? 0 : t->set.valid_fraction},
                   {"lr_min", t->set.opt.lr_min},
                   {"lr_schedule_plateau", t->set.opt.schedule == SCHEDULE_PLATEAU},
                   {"warmup_steps", t->set.opt.warmup_steps},
                   {"weight_decay", t->set.opt.weight_decay},
                   {"clip_norm", t->set.opt.clip_norm},
                   {"ema_decay", t->set.opt.ema_decay},
                   {"patience", t->set.patience},
                   {"train_frames", t->n_train},
                   {"valid_frames", t->n_valid},
                   {"last_epoch_valid_energy_mae_mev_per_atom", valid_e},
                   {"last_epoch_valid_force_mae_ev_per_a", valid_f},
                   {"last_epoch_valid_stress_mae_gpa", valid_s}};
    for (size_t k = 0; st == MLPOT_OK && k < sizeof numbers / sizeof numbers[0]; k++) {
        locale_t saved = c_locale_begin(); /* "0.001", never "0,001" */
        snprintf(text, sizeof text, "%.10g", printable(numbers[k].value));
        c_locale_end(saved);
        st = model_set_training_attribute(out, numbers[k].key, text);
    }
    if (st == MLPOT_OK) /* what the model saw, for extrapolation warnings */
        st = model_ranges_gather(out, t->train, t->n_train);
    if (st == MLPOT_OK)
        st = model_file_write(out, t->set.output);
    mlpot_model_free(out);
    return st;
}

mlpot_status train_run(const train_settings *settings, const char *resume, int epochs_override,
                       const train_observer *out) {
    trainer t;
    memset(&t, 0, sizeof t);
    mlpot_status st;
    if (resume) {
        if ((st = checkpoint_load(resume, &t.model, &t.set, &t.opt, &t.cs)))
            return st;
        if (epochs_override > 0)
            t.set.epochs = epochs_override;
        t.set.stop_after_epochs = settings ? settings->stop_after_epochs : 0;
        t.csv_cap = t.cs.csv ? strlen(t.cs.csv) + 1 : 0;
    } else {
        t.set = *settings;
    }
    if (!t.set.checkpoint[0])
        snprintf(t.set.checkpoint, sizeof t.set.checkpoint, "%.4080s.ckpt", t.set.output);
    if (!t.set.log_csv[0])
        snprintf(t.set.log_csv, sizeof t.set.log_csv, "%.4080s.csv", t.set.output);
    if (t.set.batch_size < 1 || t.set.epochs < 1) {
        free_trainer(&t);
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "expected batch size and epochs >= 1");
    }
    if ((st = check_settings(&t.set))) {
        free_trainer(&t);
        return st;
    }
    t.valid_file = t.set.valid_path[0] ? t.set.valid_path : t.set.train_path;
    if ((st = load_frames(t.set.train_path, &t.train, &t.train_w, &t.train_index, &t.n_train)) ||
        (t.set.valid_path[0] && (st = load_frames(t.set.valid_path, &t.valid, &t.valid_w,
                                                  &t.valid_index,
                                                  &t.n_valid))) ||
        (!t.set.valid_path[0] && t.set.valid_fraction > 0 && (st = split_validation(&t))) ||
        (st = check_training_data(&t)))
        goto done;
    if (!resume)
        warn_label_outliers(&t, out);
    if (!resume) {
        double species_energy[MODEL_MAX_SPECIES] = {0};
        data_spread spread = {0};
        if ((st = data_statistics(&t, &t.set.hp, species_energy, &spread)) ||
            (st = model_create(&t.set.hp, &t.model)))
            goto done;
        model_init_random(t.model, t.set.seed);
        memcpy(t.model->v.species_energy, species_energy,
               (size_t)t.set.hp.n_species * sizeof *species_energy);
        int batches = (t.n_train + t.set.batch_size - 1) / t.set.batch_size;
        t.set.opt.total_steps = (long)batches * t.set.epochs;
        if (t.set.opt.warmup_steps < 0)
            t.set.opt.warmup_steps = (int)(0.05 * t.set.opt.total_steps);
        if ((st = optimizer_create(&t.opt, &t.set.opt, t.model->n_params, t.model->params)))
            goto done;
        if (!(t.cs.best_params = malloc(t.model->n_params * sizeof(double)))) {
            st = error_set(MLPOT_ERR_MEMORY, "out of memory");
            goto done;
        }
        memcpy(t.cs.best_params, t.model->params, t.model->n_params * sizeof(double));
        t.cs.best_valid = INFINITY;
        t.cs.rng = t.set.seed;
        if ((st = append_csv(&t, "epoch,seconds,lr,train_loss,train_energy_mae_mev_per_atom,"
                                 "train_force_mae_ev_per_a,train_stress_mae_gpa,valid_loss,"
                                 "valid_energy_mae_mev_per_atom,valid_force_mae_ev_per_a,"
                                 "valid_stress_mae_gpa\n")))
            goto done;
        report(out, "training %s on %d frames (%d for validation): %s, %zu parameters, "
                    "n_avg %.3f, energy scale %.4g eV, shift %.4g eV, %ld steps (%d warm-up)",
                t.set.hp.arch->name, t.n_train, t.n_valid,
                t.set.train_path, t.model->n_params, t.set.hp.avg_neighbors,
                t.set.hp.energy_scale, t.set.hp.energy_shift, t.set.opt.total_steps,
                t.set.opt.warmup_steps);
        report_loss_terms(&t, &spread, out);
    } else {
        /* A changed number of epochs re-plans the cosine schedule over the new length (from
         * the current step on), so that a shortened or extended run still anneals. */
        int batches = (t.n_train + t.set.batch_size - 1) / t.set.batch_size;
        t.set.opt.total_steps = (long)batches * t.set.epochs;
        t.opt->cfg.total_steps = t.set.opt.total_steps;
        report(out, "resuming %s after epoch %d of %d", resume, t.cs.epoch, t.set.epochs);
    }
    if ((st = allocate_threads(&t)))
        goto done;

    int *order = malloc((size_t)(t.n_train > t.n_valid ? t.n_train : t.n_valid + 1) * sizeof *order);
    if (!order) {
        st = error_set(MLPOT_ERR_MEMORY, "out of memory");
        goto done;
    }
    loss_norms valid_norms = {0};
    for (int k = 0; k < t.n_valid; k++)
        loss_norms_add(&valid_norms, t.valid[k], t.valid_w[k]);
    double start = now_seconds();
    double last_e = NAN, last_f = NAN, last_s = NAN;
    int epochs_this_run = 0;
    size_t P = t.model->n_params;
    while (t.cs.epoch < t.set.epochs) {
        int epoch = t.cs.epoch + 1;
        double epoch_start = now_seconds();
        for (int k = 0; k < t.n_train; k++)
            order[k] = k;
        shuffle(order, t.n_train, &t.cs.rng);
        epoch_metrics tm = {0};
        int batches = (t.n_train + t.set.batch_size - 1) / t.set.batch_size;
        /* the epoch's learning rate, printed and logged: that of its last step (the cosine
         * schedule changes it every step; the plateau schedule only between epochs) */
        double lr = optimizer_lr(t.opt);
        for (int b = 0; b < batches; b++) {
            int first = b * t.set.batch_size;
            int n = t.n_train - first < t.set.batch_size ? t.n_train - first : t.set.batch_size;
            loss_norms norms = {0};
            for (int k = 0; k < n; k++)
                loss_norms_add(&norms, t.train[order[first + k]], t.train_w[order[first + k]]);
            epoch_metrics bm = {0};
            if ((st = evaluate_frames(&t, t.train, t.train_w, t.set.train_path, t.train_index,
                                      order + first, n, &norms, 1, &bm)))
                break;
            tm.loss += bm.loss * n; /* the epoch's loss: mean of batch losses, frame-weighted */
            tm.e_abs += bm.e_abs;
            tm.f_abs += bm.f_abs;
            tm.s_abs += bm.s_abs;
            tm.n_e += bm.n_e;
            tm.n_f += bm.n_f;
            tm.n_s += bm.n_s;
            lr = optimizer_lr(t.opt);
            optimizer_step(t.opt, t.model->params, t.grad);
            if (first_non_finite(t.model->params, P) < P) {
                st = error_set(MLPOT_ERR_INVALID_ARGUMENT,
                               "epoch %d, batch %d: the weights became non-finite (a learning "
                               "rate of %g is too high?); stopping, the last checkpoint is of "
                               "the last complete epoch",
                               epoch, b + 1, optimizer_lr(t.opt));
                break;
            }
            progress(out, epoch, t.set.epochs, b + 1, batches, now_seconds() - start,
                     epochs_this_run + (double)(b + 1) / batches);
        }
        if (st)
            break;
        tm.loss /= t.n_train;
        /* validation with the moving average of the weights */
        memcpy(t.backup, t.model->params, P * sizeof *t.backup);
        if (t.opt->ema)
            memcpy(t.model->params, t.opt->ema, P * sizeof *t.backup);
        epoch_metrics vm = {0};
        for (int k = 0; k < t.n_valid; k++)
            order[k] = k;
        if (t.n_valid && (st = evaluate_frames(&t, t.valid, t.valid_w, t.valid_file,
                                               t.valid_index, order, t.n_valid,
                                               &valid_norms, 0, &vm)))
            break;
        double metric = t.n_valid ? vm.loss : tm.loss;
        if (metric < t.cs.best_valid) {
            t.cs.best_valid = metric;
            t.cs.best_epoch = epoch;
            memcpy(t.cs.best_params, t.model->params, P * sizeof *t.backup);
        }
        memcpy(t.model->params, t.backup, P * sizeof *t.backup);
        optimizer_end_epoch(t.opt, metric);
        t.cs.epoch = epoch;
        double seconds = now_seconds() - epoch_start;
        double te = tm.n_e ? 1000 * tm.e_abs / tm.n_e : NAN, tf = tm.n_f ? tm.f_abs / tm.n_f : NAN;
        double ts = tm.n_s ? EV_PER_A3_IN_GPA * tm.s_abs / tm.n_s : NAN;
        last_e = vm.n_e ? 1000 * vm.e_abs / vm.n_e : NAN;
        last_f = vm.n_f ? vm.f_abs / vm.n_f : NAN;
        last_s = vm.n_s ? EV_PER_A3_IN_GPA * vm.s_abs / vm.n_s : NAN;
        report(out, "epoch %4d/%d  lr %.2e  train loss %.4e  E %.2f meV/atom  F %.4f eV/A  "
                    "S %.3f GPa | valid loss %.4e  E %.2f  F %.4f  S %.3f  %.1f s%s",
               epoch, t.set.epochs, lr, printable(tm.loss), printable(te), printable(tf),
               printable(ts), printable(metric), printable(last_e), printable(last_f),
               printable(last_s), seconds, t.cs.best_epoch == epoch ? "  *" : "");
        if ((st = append_csv(&t, "%d,%.3f,%.6e,%.8e,%.6f,%.6f,%.6f,%.8e,%.6f,%.6f,%.6f\n", epoch,
                             seconds, lr, printable(tm.loss), printable(te), printable(tf),
                             printable(ts), printable(metric), printable(last_e),
                             printable(last_f), printable(last_s))) ||
            (st = checkpoint_save(t.set.checkpoint, t.model, &t.set, t.opt, &t.cs)) ||
            (st = write_text_file(t.set.log_csv, t.cs.csv)))
            break;
        epochs_this_run++;
        if (t.set.patience > 0 && t.n_valid && t.opt->epochs_since_best >= t.set.patience) {
            report(out, "early stop: no improvement in the validation loss for %d epochs",
                   t.set.patience);
            break;
        }
        if (t.set.stop_after_epochs > 0 && epochs_this_run >= t.set.stop_after_epochs) {
            free(order);
            goto done; /* as if killed: the checkpoint holds everything */
        }
    }
    free(order);
    if (st == MLPOT_OK && (st = save_model(&t, last_e, last_f, last_s)) == MLPOT_OK)
        report(out, "wrote %s (weights of epoch %d; checkpoint %s, learning curve %s)",
               t.set.output, t.cs.best_epoch, t.set.checkpoint, t.set.log_csv);
done:
    free_trainer(&t);
    return st;
}
