/* test_support.c — shared helpers of the cmocka tests (see test_support.h). */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "core/random.h"

#include "model/model.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ts_rng_seed(ts_rng *rng, uint64_t seed) {
    rng->state = seed;
}

double ts_five_point(double fm2, double fm1, double fp1, double fp2, double h) {
    return (-fp2 + 8 * fp1 - 8 * fm1 + fm2) / (12 * h);
}

double ts_central(double fm, double fp, double h) {
    return (fp - fm) / (2 * h);
}

double ts_uniform(ts_rng *rng) {
    return splitmix64_uniform(&rng->state);
}

double ts_normal(ts_rng *rng) {
    return splitmix64_normal(&rng->state);
}

static void inverse3(const double m[9], double inv[9]) {
    double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                 m[2] * (m[3] * m[7] - m[4] * m[6]);
    inv[0] = (m[4] * m[8] - m[5] * m[7]) / det;
    inv[1] = (m[2] * m[7] - m[1] * m[8]) / det;
    inv[2] = (m[1] * m[5] - m[2] * m[4]) / det;
    inv[3] = (m[5] * m[6] - m[3] * m[8]) / det;
    inv[4] = (m[0] * m[8] - m[2] * m[6]) / det;
    inv[5] = (m[2] * m[3] - m[0] * m[5]) / det;
    inv[6] = (m[3] * m[7] - m[4] * m[6]) / det;
    inv[7] = (m[1] * m[6] - m[0] * m[7]) / det;
    inv[8] = (m[0] * m[4] - m[1] * m[3]) / det;
}

/* A basis whose periodic rows are the cell's own: non-periodic rows are chosen among the
 * Cartesian axes to make it as well conditioned as possible (only fractional coordinates
 * along the periodic rows matter to the enumeration). */
static double det3(const double m[9]) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
           m[2] * (m[3] * m[7] - m[4] * m[6]);
}

static void full_basis(const mlpot_structure *s, double b[9]) {
    const double *cell = mlpot_structure_cell(s);
    const int *pbc = mlpot_structure_pbc(s);
    static const double id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double best = -1, trial[9];
    memcpy(b, id, sizeof id);
    for (int combo = 0; combo < 27; combo++) {
        int axis[3] = {combo % 3, (combo / 3) % 3, combo / 9};
        for (int k = 0; k < 3; k++)
            memcpy(&trial[3 * k], pbc[k] ? &cell[3 * k] : &id[3 * axis[k]], 3 * sizeof(double));
        double d = fabs(det3(trial));
        if (d > best) {
            best = d;
            memcpy(b, trial, sizeof trial);
        }
    }
}

static double height(const double inv[9], int k) {
    return 1.0 / sqrt(inv[k] * inv[k] + inv[3 + k] * inv[3 + k] + inv[6 + k] * inv[6 + k]);
}

mlpot_structure *ts_random_structure(ts_rng *rng, int n, const int *species, int n_species,
                                     const double cell[9], const int pbc[3], double min_distance) {
    int *numbers = calloc((size_t)n, sizeof *numbers);
    double *pos = calloc((size_t)n * 3, sizeof *pos);
    assert_non_null(numbers);
    assert_non_null(pos);
    mlpot_structure *probe = NULL;
    int placed = 0;
    for (int attempt = 0; placed < n && attempt < 100000; attempt++) {
        double f[3] = {ts_uniform(rng), ts_uniform(rng), ts_uniform(rng)};
        double r[3];
        for (int c = 0; c < 3; c++)
            r[c] = f[0] * cell[c] + f[1] * cell[3 + c] + f[2] * cell[6 + c];
        numbers[placed] = species[(int)(ts_uniform(rng) * n_species) % n_species];
        memcpy(&pos[3 * placed], r, sizeof r);
        /* accept if no edge shorter than min_distance involves the new atom */
        TS_OK(mlpot_structure_create(&probe, placed + 1, numbers, pos, cell, pbc));
        ts_edge *edges = NULL;
        int64_t ne = 0;
        ts_brute_force_edges(probe, min_distance, &edges, &ne);
        int ok = 1;
        for (int64_t e = 0; e < ne; e++)
            if (edges[e].i == placed || edges[e].j == placed)
                ok = 0;
        free(edges);
        mlpot_structure_free(probe);
        if (ok)
            placed++;
    }
    assert_int_equal(placed, n);
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, n, numbers, pos, cell, pbc));
    free(numbers);
    free(pos);
    return s;
}

mlpot_structure *ts_supercell(const mlpot_structure *s, int na, int nb, int nc) {
    int n = mlpot_structure_n_atoms(s);
    int total = n * na * nb * nc;
    const double *cell = mlpot_structure_cell(s);
    const double *pos = mlpot_structure_positions(s);
    const int *z = mlpot_structure_numbers(s);
    int *numbers = calloc((size_t)total, sizeof *numbers);
    double *p = calloc((size_t)total * 3, sizeof *p);
    assert_non_null(numbers);
    assert_non_null(p);
    int m = 0;
    for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++)
            for (int c = 0; c < nc; c++)
                for (int k = 0; k < n; k++, m++) {
                    numbers[m] = z[k];
                    for (int x = 0; x < 3; x++)
                        p[3 * m + x] = pos[3 * k + x] + a * cell[x] + b * cell[3 + x] +
                                       c * cell[6 + x];
                }
    double big[9];
    int mult[3] = {na, nb, nc};
    for (int k = 0; k < 3; k++)
        for (int x = 0; x < 3; x++)
            big[3 * k + x] = cell[3 * k + x] * mult[k];
    mlpot_structure *out = NULL;
    TS_OK(mlpot_structure_create(&out, total, numbers, p, big, mlpot_structure_pbc(s)));
    free(numbers);
    free(p);
    return out;
}

mlpot_structure *ts_read(const char *path) {
    mlpot_structure **frames = NULL;
    int n = 0;
    TS_OK(mlpot_read_all(path, NULL, &frames, &n));
    for (int k = 1; k < n; k++)
        mlpot_structure_free(frames[k]);
    mlpot_structure *s = frames[0];
    free(frames);
    return s;
}

const char *ts_structure_path(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/structures/%s", MLPOT_SOURCE_DIR, name);
    return buf;
}

const char *ts_data_path(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", MLPOT_TEST_DATA_DIR, name);
    return buf;
}

const char *ts_tmp_path(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", MLPOT_TEST_TMP_DIR, name);
    return buf;
}

/* see test_support.h */
int ts_enter_decimal_comma_locale(void) {
    if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
        char dir[2048], command[8192];
        ts_tmp_path("locale", dir, sizeof dir);
        /* made under another name and renamed: test programs run in parallel */
        snprintf(command, sizeof command,
                 "mkdir -p '%s' && cd '%s' && { [ -d de_DE.UTF-8 ] || "
                 "{ localedef -i de_DE -f UTF-8 ./de.$$ && mv -T de.$$ de_DE.UTF-8; } || "
                 "{ rm -rf de.$$; [ -d de_DE.UTF-8 ]; }; } >/dev/null 2>&1",
                 dir, dir);
        if (system(command) != 0)
            return 0;
        setenv("LOCPATH", dir, 1); /* glibc reads it at each setlocale */
        if (!setlocale(LC_ALL, "de_DE.UTF-8"))
            return 0;
    }
    char text[16];
    snprintf(text, sizeof text, "%.1f", 0.5);
    return strcmp(text, "0,5") == 0;
}

int ts_have_shared(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/spec/model.md", MLPOT_SHARED_DIR);
    return access(path, R_OK) == 0;
}

static int compare_ts_edges(const void *a, const void *b) {
    const ts_edge *x = a, *y = b;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    for (int k = 0; k < 3; k++)
        if (x->n[k] != y->n[k])
            return x->n[k] < y->n[k] ? -1 : 1;
    return 0;
}

void ts_brute_force_edges(const mlpot_structure *s, double cutoff, ts_edge **edges_out,
                          int64_t *n_out) {
    int n = mlpot_structure_n_atoms(s);
    const double *pos = mlpot_structure_positions(s);
    const double *cell = mlpot_structure_cell(s);
    const int *pbc = mlpot_structure_pbc(s);
    double basis[9], inv[9];
    full_basis(s, basis);
    inverse3(basis, inv);
    double h[3];
    for (int k = 0; k < 3; k++)
        h[k] = height(inv, k);
    size_t cap = 1024, count = 0;
    ts_edge *edges = malloc(cap * sizeof *edges);
    assert_non_null(edges);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double diff[3], fd[3];
            for (int c = 0; c < 3; c++)
                diff[c] = pos[3 * j + c] - pos[3 * i + c];
            for (int k = 0; k < 3; k++)
                fd[k] = diff[0] * inv[k] + diff[1] * inv[3 + k] + diff[2] * inv[6 + k];
            int lo[3], hi[3];
            for (int k = 0; k < 3; k++) {
                if (!pbc[k]) {
                    lo[k] = hi[k] = 0;
                    continue;
                }
                double reach = cutoff / h[k] + 1.0;
                lo[k] = (int)floor(-fd[k] - reach);
                hi[k] = (int)ceil(-fd[k] + reach);
            }
            for (int a = lo[0]; a <= hi[0]; a++)
                for (int b = lo[1]; b <= hi[1]; b++)
                    for (int c = lo[2]; c <= hi[2]; c++) {
                        if (i == j && a == 0 && b == 0 && c == 0)
                            continue;
                        double d[3];
                        for (int x = 0; x < 3; x++)
                            d[x] = diff[x] + (a * cell[x] + b * cell[3 + x] + c * cell[6 + x]);
                        double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                        if (!(r > 0 && r < cutoff))
                            continue;
                        if (count == cap) {
                            cap *= 2;
                            edges = realloc(edges, cap * sizeof *edges);
                            assert_non_null(edges);
                        }
                        ts_edge *e = &edges[count++];
                        e->i = i;
                        e->j = j;
                        e->n[0] = a;
                        e->n[1] = b;
                        e->n[2] = c;
                        memcpy(e->d, d, sizeof d);
                        e->r = r;
                    }
        }
    qsort(edges, count, sizeof *edges, compare_ts_edges);
    *edges_out = edges;
    *n_out = (int64_t)count;
}

mlpot_model *ts_random_model(const char *arch, const int *species, int n_species, double cutoff,
                             uint64_t seed) {
    model_hparams hp = {0};
    const model_arch_ops *ops = arch_find(arch);
    assert_non_null(ops);
    model_hparams_set_arch(&hp, ops);
    for (int k = 0; k < ops->n_hparams; k++)
        hp.arch_value[k] = ops->hparams[k].small_value;
    hp.n_species = n_species;
    for (int k = 0; k < n_species; k++)
        hp.species[k] = species[k];
    hp.cutoff = cutoff;
    hp.n_layers = 2;
    hp.n_features = 6;
    hp.n_basis = 5;
    hp.readout_hidden = 4;
    hp.envelope_p = 6;
    hp.avg_neighbors = 3.7;
    hp.energy_scale = 0.8;
    hp.energy_shift = -0.4;
    mlpot_model *m = NULL;
    TS_OK(model_create(&hp, &m));
    model_init_random(m, seed);
    ts_rng rng;
    ts_rng_seed(&rng, seed ^ 0x5eedull);
    for (int t = 0; t < m->n_tensors; t++) {
        const model_tensor *x = &m->tensors[t];
        const char *leaf = strrchr(x->name, '/') + 1;
        if (leaf[0] == 'b' || leaf[0] == 'c' || !strcmp(x->name, "/species_energy"))
            for (size_t k = 0; k < x->size; k++)
                m->params[x->offset + k] = 0.3 * ts_normal(&rng);
    }
    return m;
}
