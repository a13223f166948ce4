/* test_loss_gradient.c — the gradient of the training loss (energy, force and stress terms,
 * frame weights, unlabelled force rows) against central differences of the loss itself, for
 * every parameter of both architectures; the loss value against a direct computation; and
 * frames without labels contributing nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "io/structure.h"
#include "model/model.h"
#include "train/loss.h"

static const int species_OSi[] = {8, 14};

/* A frame with labels near (not at) the model's own predictions. */
static mlpot_structure *labelled_frame(mlpot_calculator *c, int periodic, uint64_t seed,
                                       int nan_row) {
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    double cell[9] = {4.6, 0.2, -0.3, 0.5, 4.9, 0.1, -0.4, 0.6, 5.2};
    int pbc[3] = {periodic, periodic, periodic};
    mlpot_structure *s = ts_random_structure(&rng, 5, species_OSi, 2, cell, pbc, 1.4);
    int n = mlpot_structure_n_atoms(s);
    double f[15], st[9];
    mlpot_results r = {.forces = f, .stress = st};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    for (int k = 0; k < 3 * n; k++)
        f[k] += 0.3 * ts_normal(&rng);
    if (nan_row >= 0)
        f[3 * nan_row] = f[3 * nan_row + 1] = f[3 * nan_row + 2] = NAN;
    TS_OK(mlpot_structure_set_energy(s, r.energy + 0.2 * n * ts_normal(&rng)));
    TS_OK(mlpot_structure_set_forces(s, f));
    if (periodic) {
        for (int a = 0; a < 3; a++)
            for (int b = a; b < 3; b++)
                st[3 * a + b] = st[3 * b + a] = st[3 * a + b] + 0.01 * ts_normal(&rng);
        TS_OK(mlpot_structure_set_stress(s, st));
    }
    return s;
}

typedef struct {
    mlpot_structure *frames[2];
    double weights[2];
    loss_weights w;
    loss_norms norms;
} batch;

static double batch_loss(mlpot_calculator *c, loss_workspace *ws, const batch *b, double *grad) {
    double L = 0;
    for (int f = 0; f < 2; f++) {
        frame_errors err;
        TS_OK(frame_loss(c, b->frames[f], b->weights[f], &b->w, &b->norms, ws, &L, grad, &err));
    }
    return L;
}

static void check(const char *arch) {
    mlpot_model *m = ts_random_model(arch, species_OSi, 2, 3.8, 77);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    loss_workspace *ws = NULL;
    TS_OK(loss_workspace_create(&ws, m->n_params));
    batch b = {.weights = {1.3, 0.6}, .w = {.energy = 1.0, .force = 0.7, .stress = 50.0}};
    b.frames[0] = labelled_frame(c, 1, 3, -1); /* crystal: E, F, S */
    b.frames[1] = labelled_frame(c, 0, 4, 2);  /* molecule: E, F with one unlabelled row */
    for (int f = 0; f < 2; f++)
        loss_norms_add(&b.norms, b.frames[f], b.weights[f]);
    assert_true(fabs(b.norms.energy - 1.9) < 1e-15);
    assert_true(fabs(b.norms.force - (1.3 * 15 + 0.6 * 12)) < 1e-12);
    assert_true(fabs(b.norms.stress - 1.3 * 9) < 1e-15);

    double *grad = calloc(m->n_params, sizeof *grad);
    double L0 = batch_loss(c, ws, &b, grad);
    assert_true(L0 > 0);
    double scale = 0;
    for (size_t k = 0; k < m->n_params; k++)
        scale = fmax(scale, fabs(grad[k]));
    double worst_rel = 0, worst_abs = 0;
    for (size_t k = 0; k < m->n_params; k++) {
        double p0 = m->params[k], h = 1e-5 * (1 + fabs(p0));
        m->params[k] = p0 + h;
        double lp = batch_loss(c, ws, &b, NULL);
        m->params[k] = p0 - h;
        double lm = batch_loss(c, ws, &b, NULL);
        m->params[k] = p0;
        double fd = ts_central(lm, lp, h), err = fabs(fd - grad[k]);
        worst_abs = fmax(worst_abs, err / scale);
        if (fabs(fd) > 1e-3 * scale)
            worst_rel = fmax(worst_rel, err / fabs(fd));
    }
    print_message("%s: loss %.6g, %zu parameters, max rel error %.2e, max error / max |grad| "
                  "%.2e\n", arch, L0, m->n_params, worst_rel, worst_abs);
    assert_true(worst_rel <= 1e-6);
    assert_true(worst_abs <= 1e-6);
    free(grad);
    for (int f = 0; f < 2; f++)
        mlpot_structure_free(b.frames[f]);
    loss_workspace_free(ws);
    mlpot_calculator_free(c);
    mlpot_model_free(m);
}

static void test_loss_gradient_every_architecture(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++)
        check(arch_at(a)->name);
}

/* The loss value equals the formula computed here from predictions; an unlabelled frame adds
 * nothing to the loss, the normalisers or the gradient. */
static void test_loss_value_and_unlabelled(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("cgcnn", species_OSi, 2, 3.8, 8);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    loss_workspace *ws = NULL;
    TS_OK(loss_workspace_create(&ws, m->n_params));
    mlpot_structure *s = labelled_frame(c, 1, 5, 1);
    int n = mlpot_structure_n_atoms(s);
    double f[15], st[9];
    mlpot_results r = {.forces = f, .stress = st};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    loss_weights w = {.energy = 2.0, .force = 0.5, .stress = 10.0};
    loss_norms norms = {0};
    loss_norms_add(&norms, s, 1.0);
    double expect_e = pow((r.energy - s->energy) / n, 2) * 2.0;
    double sf = 0, ss = 0;
    for (int i = 0; i < n; i++)
        for (int x = 0; x < 3 && i != 1; x++)
            sf += pow(f[3 * i + x] - s->forces[3 * i + x], 2);
    for (int k = 0; k < 9; k++)
        ss += pow(st[k] - s->stress[k], 2);
    double expect = expect_e + 0.5 * sf / (3 * (n - 1)) + 10.0 * ss / 9;
    double L = 0;
    frame_errors err;
    TS_OK(frame_loss(c, s, 1.0, &w, &norms, ws, &L, NULL, &err));
    assert_true(fabs(L - expect) <= 1e-12 * expect);
    assert_int_equal(err.n_force_components, 3 * (n - 1));
    assert_true(err.has_energy && err.has_stress);

    mlpot_structure *bare = NULL;
    TS_OK(mlpot_structure_copy(&bare, s));
    bare->has_energy = 0;
    bare->has_stress = 0;
    free(bare->forces);
    bare->forces = NULL;
    loss_norms none = {0};
    loss_norms_add(&none, bare, 1.0);
    assert_true(none.energy == 0 && none.force == 0 && none.stress == 0);
    double *grad = calloc(m->n_params, sizeof *grad), L2 = 0;
    TS_OK(frame_loss(c, bare, 1.0, &w, &norms, ws, &L2, grad, &err));
    assert_true(L2 == 0);
    for (size_t k = 0; k < m->n_params; k++)
        assert_true(grad[k] == 0);
    free(grad);
    mlpot_structure_free(bare);
    mlpot_structure_free(s);
    loss_workspace_free(ws);
    mlpot_calculator_free(c);
    mlpot_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_gradient_every_architecture),
        cmocka_unit_test(test_loss_value_and_unlabelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
