/* optimizer.c — Adam/AdamW with clipping, schedules and a weight EMA (see optimizer.h).
 * Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m/(1-b1^t)) / (sqrt(v/(1-b2^t))
 * + eps); AdamW also p -= lr wd p (Loshchilov & Hutter, decoupled weight decay). */
#include "train/optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

#define M_PI_VALUE 3.14159265358979323846

mlpot_status optimizer_create(optimizer **out, const optimizer_config *cfg, size_t n,
                              const double *params) {
    if (!(cfg->lr > 0) || !(cfg->beta1 >= 0 && cfg->beta1 < 1) ||
        !(cfg->beta2 >= 0 && cfg->beta2 < 1) || !(cfg->eps > 0) || cfg->weight_decay < 0 ||
        cfg->clip_norm < 0 || cfg->warmup_steps < 0 || !(cfg->ema_decay >= 0 && cfg->ema_decay < 1))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "optimizer: expected lr > 0, 0 <= beta < 1, eps > 0, decay, clipping and "
                         "warm-up >= 0, 0 <= ema decay < 1");
    optimizer *o = NULL;
    mlpot_status st = mem_calloc(&o, 1, sizeof *o);
    if (st)
        return st;
    o->cfg = *cfg;
    o->n = n;
    o->plateau_scale = 1.0;
    o->best_metric = INFINITY;
    if ((st = mem_calloc(&o->m, n, sizeof *o->m)) || (st = mem_calloc(&o->v, n, sizeof *o->v)) ||
        (cfg->ema_decay > 0 && (st = mem_calloc(&o->ema, n, sizeof *o->ema)))) {
        optimizer_free(o);
        return st;
    }
    if (o->ema)
        memcpy(o->ema, params, n * sizeof *params);
    *out = o;
    return MLPOT_OK;
}

void optimizer_free(optimizer *o) {
    if (!o)
        return;
    free(o->m);
    free(o->v);
    free(o->ema);
    free(o);
}

double optimizer_lr(const optimizer *o) {
    const optimizer_config *c = &o->cfg;
    long t = o->step + 1;
    if (c->warmup_steps > 0 && t <= c->warmup_steps)
        return c->lr * (double)t / c->warmup_steps;
    if (c->schedule == SCHEDULE_PLATEAU)
        return fmax(c->lr * o->plateau_scale, c->lr_min);
    long span = c->total_steps - c->warmup_steps;
    if (span <= 0)
        return c->lr;
    double x = (double)(t - c->warmup_steps) / span;
    x = x > 1 ? 1 : x;
    return c->lr_min + 0.5 * (c->lr - c->lr_min) * (1 + cos(M_PI_VALUE * x));
}

double optimizer_step(optimizer *o, double *p, double *g) {
    const optimizer_config *c = &o->cfg;
    double norm2 = 0;
    for (size_t k = 0; k < o->n; k++)
        norm2 += g[k] * g[k];
    double norm = sqrt(norm2);
    if (c->clip_norm > 0 && norm > c->clip_norm) {
        double s = c->clip_norm / norm;
        for (size_t k = 0; k < o->n; k++)
            g[k] *= s;
    }
    double lr = optimizer_lr(o);
    o->step++;
    double bc1 = 1 - pow(c->beta1, (double)o->step), bc2 = 1 - pow(c->beta2, (double)o->step);
    for (size_t k = 0; k < o->n; k++) {
        o->m[k] = c->beta1 * o->m[k] + (1 - c->beta1) * g[k];
        o->v[k] = c->beta2 * o->v[k] + (1 - c->beta2) * g[k] * g[k];
        double update = (o->m[k] / bc1) / (sqrt(o->v[k] / bc2) + c->eps);
        p[k] -= lr * (update + c->weight_decay * p[k]);
    }
    if (o->ema) { /* the average warms up: decay min(d, (1 + t) / (10 + t)) */
        double d = fmin(c->ema_decay, (1.0 + (double)o->step) / (10.0 + (double)o->step));
        for (size_t k = 0; k < o->n; k++)
            o->ema[k] = d * o->ema[k] + (1 - d) * p[k];
    }
    return norm;
}

int optimizer_end_epoch(optimizer *o, double metric) {
    if (metric < o->best_metric) {
        o->best_metric = metric;
        o->epochs_since_best = 0;
        return 1;
    }
    o->epochs_since_best++;
    if (o->cfg.schedule == SCHEDULE_PLATEAU && o->cfg.plateau_patience > 0 &&
        o->epochs_since_best % o->cfg.plateau_patience == 0)
        o->plateau_scale *= o->cfg.plateau_factor;
    return 0;
}
