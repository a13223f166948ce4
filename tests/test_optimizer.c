/* test_optimizer.c — Adam's first step against the formula, convergence on a quadratic, AdamW's
 * decoupled decay, clipping by global norm, warm-up, cosine and plateau schedules, and the
 * moving average of the weights. */
#include <math.h>
#include <string.h>

#include "test_support.h"
#include "train/optimizer.h"

static optimizer_config base(void) {
    optimizer_config c = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                          .schedule = SCHEDULE_COSINE};
    return c;
}

static void test_first_step_and_convergence(void **state) {
    (void)state;
    optimizer_config c = base();
    double p[3] = {1.0, -2.0, 0.5}, g[3] = {0.3, -4.0, 1e-3};
    optimizer *o = NULL;
    TS_OK(optimizer_create(&o, &c, 3, p));
    double norm = optimizer_step(o, p, g);
    assert_true(fabs(norm - sqrt(0.09 + 16 + 1e-6)) < 1e-12);
    /* bias-corrected first step: p -= lr g / (|g| + eps) */
    assert_true(fabs(p[0] - (1.0 - 0.01 * 0.3 / (0.3 + 1e-8))) < 1e-15);
    assert_true(fabs(p[1] - (-2.0 + 0.01 * 4.0 / (4.0 + 1e-8))) < 1e-15);
    optimizer_free(o);
    /* minimise sum a_k (p_k - t_k)^2 */
    double target[3] = {0.7, -1.1, 2.5}, a[3] = {1.0, 10.0, 0.1};
    c.lr = 0.05;
    c.total_steps = 3000;
    c.lr_min = 1e-5;
    TS_OK(optimizer_create(&o, &c, 3, p));
    for (int t = 0; t < 3000; t++) {
        for (int k = 0; k < 3; k++)
            g[k] = 2 * a[k] * (p[k] - target[k]);
        optimizer_step(o, p, g);
    }
    for (int k = 0; k < 3; k++)
        assert_true(fabs(p[k] - target[k]) < 1e-4);
    optimizer_free(o);
}

static void test_weight_decay_and_clipping(void **state) {
    (void)state;
    optimizer_config c = base();
    c.weight_decay = 0.1;
    c.schedule = SCHEDULE_PLATEAU; /* constant lr */
    double p[2] = {2.0, -3.0}, g[2] = {0, 0};
    optimizer *o = NULL;
    TS_OK(optimizer_create(&o, &c, 2, p));
    for (int t = 0; t < 10; t++) {
        g[0] = g[1] = 0;
        optimizer_step(o, p, g);
    }
    assert_true(fabs(p[0] - 2.0 * pow(1 - 0.01 * 0.1, 10)) < 1e-14);
    optimizer_free(o);
    c.weight_decay = 0;
    c.clip_norm = 1.0;
    TS_OK(optimizer_create(&o, &c, 2, p));
    g[0] = 3;
    g[1] = 4;
    double norm = optimizer_step(o, p, g);
    assert_true(norm == 5.0);
    assert_true(fabs(g[0] - 0.6) < 1e-15 && fabs(g[1] - 0.8) < 1e-15);
    optimizer_free(o);
}

static void test_schedules(void **state) {
    (void)state;
    optimizer_config c = base();
    c.warmup_steps = 10;
    c.total_steps = 110;
    c.lr_min = 1e-4;
    double p[1] = {0}, g[1] = {1};
    optimizer *o = NULL;
    TS_OK(optimizer_create(&o, &c, 1, p));
    double prev = 0;
    for (int t = 1; t <= 110; t++) {
        double lr = optimizer_lr(o);
        if (t <= 10)
            assert_true(fabs(lr - 0.01 * t / 10) < 1e-15);
        else
            assert_true(lr <= prev + 1e-15); /* cosine decreases */
        prev = lr;
        g[0] = 1;
        optimizer_step(o, p, g);
    }
    assert_true(fabs(prev - 1e-4) < 1e-12); /* reaches lr_min at the end */
    assert_true(fabs(optimizer_lr(o) - 1e-4) < 1e-12);
    optimizer_free(o);
    /* plateau: halve after 2 epochs without improvement */
    c = base();
    c.schedule = SCHEDULE_PLATEAU;
    c.plateau_factor = 0.5;
    c.plateau_patience = 2;
    TS_OK(optimizer_create(&o, &c, 1, p));
    assert_true(optimizer_end_epoch(o, 1.0) == 1);
    assert_true(optimizer_end_epoch(o, 0.5) == 1);
    assert_true(optimizer_end_epoch(o, 0.7) == 0);
    assert_true(fabs(optimizer_lr(o) - 0.01) < 1e-15);
    assert_true(optimizer_end_epoch(o, 0.6) == 0);
    assert_true(fabs(optimizer_lr(o) - 0.005) < 1e-15);
    assert_int_equal(o->epochs_since_best, 2);
    optimizer_free(o);
}

static void test_ema(void **state) {
    (void)state;
    optimizer_config c = base();
    c.ema_decay = 0.9;
    c.schedule = SCHEDULE_PLATEAU;
    double p[1] = {1.0}, g[1];
    optimizer *o = NULL;
    TS_OK(optimizer_create(&o, &c, 1, p));
    double ema = 1.0;
    for (int t = 0; t < 5; t++) {
        g[0] = 1.0;
        optimizer_step(o, p, g);
        double d = fmin(0.9, (1.0 + (t + 1)) / (10.0 + (t + 1)));
        ema = d * ema + (1 - d) * p[0];
        assert_true(fabs(o->ema[0] - ema) < 1e-15);
    }
    optimizer_free(o);
    optimizer_config bad = base();
    bad.lr = -1;
    assert_int_equal(optimizer_create(&o, &bad, 1, p), MLPOT_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_step_and_convergence),
        cmocka_unit_test(test_weight_decay_and_clipping),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_ema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
