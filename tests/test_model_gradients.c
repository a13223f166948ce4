/* test_model_gradients.c — dE/dtheta of the reverse sweep against central differences of the
 * energy for every parameter of both architectures (on a periodic two-species cell and a
 * molecule), and that the gradient leaves forces and later evaluations unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "model/calculator.h"
#include "model/model.h"

static const int species_OSi[] = {8, 14};

static mlpot_structure *structure(int periodic) {
    ts_rng rng;
    ts_rng_seed(&rng, periodic ? 5 : 6);
    double cell[9] = {4.6, 0.2, -0.3, 0.5, 4.9, 0.1, -0.4, 0.6, 5.2};
    int pbc[3] = {periodic, periodic, periodic};
    return ts_random_structure(&rng, 6, species_OSi, 2, cell, pbc, 1.4);
}

static double energy(mlpot_calculator *c, const mlpot_structure *s) {
    mlpot_results r = {0};
    TS_OK(mlpot_calculator_compute(c, s, &r));
    return r.energy;
}

static void check_gradient(const char *arch, int periodic) {
    mlpot_model *m = ts_random_model(arch, species_OSi, 2, 3.8, 123);
    mlpot_structure *s = structure(periodic);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    double *grad = calloc(m->n_params, sizeof *grad);
    double e0 = 0;
    TS_OK(calculator_energy_gradient(c, s, &e0, grad));
    assert_true(fabs(e0 - energy(c, s)) <= 1e-12 * fabs(e0));
    double worst = 0;
    int n_checked = 0, n_nonzero = 0;
    for (size_t k = 0; k < m->n_params; k++) {
        double p0 = m->params[k], h = 1e-5 * (1 + fabs(p0));
        m->params[k] = p0 + h;
        double ep = energy(c, s);
        m->params[k] = p0 - h;
        double em = energy(c, s);
        m->params[k] = p0;
        double fd = ts_central(em, ep, h);
        double err = fabs(fd - grad[k]) / fmax(1.0, fabs(fd));
        worst = fmax(worst, err);
        n_checked++;
        n_nonzero += fabs(grad[k]) > 1e-12;
    }
    print_message("%s %s: %d parameters, %d with non-zero gradient, max rel error %.2e\n", arch,
                  periodic ? "crystal" : "molecule", n_checked, n_nonzero, worst);
    assert_true(worst <= 1e-6);
    /* every tensor gets some gradient (none is silently skipped) */
    for (int t = 0; t < m->n_tensors; t++) {
        double norm = 0;
        for (size_t k = 0; k < m->tensors[t].size; k++)
            norm += fabs(grad[m->tensors[t].offset + k]);
        if (!(norm > 0))
            fail_msg("%s: no gradient reaches %s", arch, m->tensors[t].name);
    }
    free(grad);
    mlpot_calculator_free(c);
    mlpot_structure_free(s);
    mlpot_model_free(m);
}

static void test_parameter_gradient_every_architecture(void **state) {
    (void)state;
    for (int a = 0; a < arch_count(); a++) {
        check_gradient(arch_at(a)->name, 1);
        check_gradient(arch_at(a)->name, 0);
    }
}

/* Gradient mode must not disturb ordinary evaluations that follow it. */
static void test_gradient_then_forces(void **state) {
    (void)state;
    mlpot_model *m = ts_random_model("megnet", species_OSi, 2, 3.8, 9);
    mlpot_structure *s = structure(1);
    mlpot_calculator *c = NULL;
    TS_OK(mlpot_calculator_create(&c, m));
    int n = mlpot_structure_n_atoms(s);
    double f1[18], f2[18], st1[9], st2[9];
    mlpot_results r1 = {.forces = f1, .stress = st1}, r2 = {.forces = f2, .stress = st2};
    TS_OK(mlpot_calculator_compute(c, s, &r1));
    double *grad = calloc(m->n_params, sizeof *grad), e;
    TS_OK(calculator_energy_gradient(c, s, &e, grad));
    TS_OK(mlpot_calculator_compute(c, s, &r2));
    assert_memory_equal(f1, f2, (size_t)n * 3 * sizeof(double));
    assert_memory_equal(st1, st2, sizeof st1);
    free(grad);
    mlpot_calculator_free(c);
    mlpot_structure_free(s);
    mlpot_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_gradient_every_architecture),
        cmocka_unit_test(test_gradient_then_forces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
