/* test_threebody.c — the three-body update of model.md §8 (src/model/threebody.c) on random
 * small structures: with a scalar test function E = sum w . a_out + 1/2 sum v a_out^2, every
 * adjoint of the reverse sweep (d a_in, dE/dh, edge-vector adjoints turned into forces and
 * stress, parameter gradients) against five-point differences; 1, 2 and 3 threads bit for bit. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "graph/triplets.h"
#include "model/threebody.h"
#include "nn/legendre.h"
#include "test_support.h"

static const int two_species[] = {8, 14};

/* One test case: a structure, cutoffs, hyper-parameters and every input of the layer. */
typedef struct {
    mlpot_structure *s;
    double cutoff;
    threebody_hparams hp;
    double *theta; /* W_alpha [F][Q], b_alpha [Q], W_value [Q][E], W_gate [Q][E] */
    size_t n_theta;
    threebody_params w;
    double *h;    /* [n_atoms][F] */
    double *a_in; /* [n_edges][E] */
    double *wt;   /* [n_edges][E] linear weights of the test function */
    double v[8];  /* [E] quadratic weights */
    int64_t n_edges;
} tb_case;

static void set_views(tb_case *c) {
    size_t F = (size_t)c->hp.n_features, Q = (size_t)threebody_q(&c->hp);
    c->w.W_alpha = c->theta;
    c->w.b_alpha = c->theta + F * Q;
    c->w.W_value = c->w.b_alpha + Q;
    c->w.W_gate = c->w.W_value + Q * (size_t)c->hp.n_edge_features;
}

static double *random_array(ts_rng *rng, size_t n, double scale) {
    double *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    for (size_t k = 0; k < n; k++)
        x[k] = scale * ts_normal(rng);
    return x;
}

/* Distances within `margin` of r_c or r_3 would let five-point steps change the graph. */
static int graph_is_stable(const mlpot_structure *s, double cutoff, double cutoff3, double margin,
                           int64_t *n_edges) {
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, cutoff + margin));
    int ok = 1;
    for (int64_t e = 0; e < g->n_edges; e++)
        if (fabs(g->distance[e] - cutoff) < margin || fabs(g->distance[e] - cutoff3) < margin)
            ok = 0;
    TS_OK(mlpot_graph_build(g, s, cutoff));
    *n_edges = g->n_edges;
    mlpot_graph_free(g);
    return ok;
}

/* A cutoff in [lo, hi] as far as possible from every pair distance of s (images included), so
 * that the five-point steps of the test never move an edge across it. */
static double pick_cutoff(const mlpot_structure *s, double lo, double hi) {
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, hi + 0.1));
    double best = lo, best_gap = -1;
    for (double r = lo; r <= hi; r += 1e-3) {
        double gap = 1e9;
        for (int64_t e = 0; e < g->n_edges; e++)
            gap = fmin(gap, fabs(g->distance[e] - r));
        if (gap > best_gap) {
            best_gap = gap;
            best = r;
        }
    }
    mlpot_graph_free(g);
    return best;
}

static tb_case make_case(mlpot_structure *s, double cutoff, threebody_hparams hp, uint64_t seed) {
    tb_case c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.cutoff = cutoff;
    c.hp = hp;
    assert_true(graph_is_stable(s, cutoff, hp.cutoff, 0.005, &c.n_edges));
    ts_rng rng;
    ts_rng_seed(&rng, seed);
    size_t F = (size_t)hp.n_features, E = (size_t)hp.n_edge_features, Q = (size_t)threebody_q(&hp);
    c.n_theta = F * Q + Q + 2 * Q * E;
    c.theta = random_array(&rng, c.n_theta, 1.0 / sqrt((double)Q));
    for (size_t k = 0; k < F * Q + Q; k++) /* gates alpha spread over (0, 1) */
        c.theta[k] *= sqrt((double)Q);
    set_views(&c);
    c.h = random_array(&rng, (size_t)mlpot_structure_n_atoms(s) * F, 1.0);
    c.a_in = random_array(&rng, (size_t)c.n_edges * E, 0.5);
    c.wt = random_array(&rng, (size_t)c.n_edges * E, 1.0);
    for (size_t k = 0; k < E; k++)
        c.v[k] = ts_normal(&rng);
    return c;
}

static void free_case(tb_case *c) {
    free(c->theta);
    free(c->h);
    free(c->a_in);
    free(c->wt);
    mlpot_structure_free(c->s);
}

/* The layer on structure s: graph, triplets, workspace, S and a_out (caller frees). */
typedef struct {
    mlpot_graph *g;
    triplet_list t;
    double *work, *S, *a_out;
    size_t work_len;
} tb_run;

/* Threads the backward workspace is sized for (0: omp_get_max_threads()). */
static int workspace_threads = 0;

static tb_run run_forward(const tb_case *c, const mlpot_structure *s, const double *h,
                          const double *a_in) {
    tb_run r;
    memset(&r, 0, sizeof r);
    TS_OK(mlpot_graph_create(&r.g));
    TS_OK(mlpot_graph_build(r.g, s, c->cutoff));
    assert_int_equal(r.g->n_edges, c->n_edges);
    TS_OK(triplet_list_build(&r.t, r.g, c->hp.cutoff));
    r.work_len = threebody_workspace_size(
        &c->hp, &r.t, 1, workspace_threads ? workspace_threads : omp_get_max_threads());
    r.work = malloc((r.work_len ? r.work_len : 1) * sizeof *r.work);
    size_t Q = (size_t)threebody_q(&c->hp), E = (size_t)c->hp.n_edge_features;
    r.S = malloc(((size_t)r.t.n_short * Q + 1) * sizeof *r.S);
    r.a_out = malloc(((size_t)c->n_edges * E + 1) * sizeof *r.a_out);
    assert_non_null(r.work);
    assert_non_null(r.S);
    assert_non_null(r.a_out);
    TS_OK(threebody_forward(r.a_out, r.S, a_in, &c->hp, &c->w, r.g, &r.t, h, r.work,
                            threebody_workspace_size(&c->hp, &r.t, 0, 1), NULL, 1));
    return r;
}

static void free_run(tb_run *r) {
    free(r->work);
    free(r->S);
    free(r->a_out);
    triplet_list_free(&r->t);
    mlpot_graph_free(r->g);
}

static double objective_of(const tb_case *c, const double *a_out) {
    int E = c->hp.n_edge_features;
    double sum = 0;
    for (int64_t e = 0; e < c->n_edges; e++)
        for (int k = 0; k < E; k++) {
            double x = a_out[e * E + k];
            sum += c->wt[e * E + k] * x + 0.5 * c->v[k] * x * x;
        }
    return sum;
}

static double objective(const tb_case *c, const mlpot_structure *s, const double *h,
                        const double *a_in) {
    tb_run r = run_forward(c, s, h, a_in);
    double value = objective_of(c, r.a_out);
    free_run(&r);
    return value;
}

/* Analytic adjoints at the case's own structure. */
typedef struct {
    double *d_a, *d_h, *g_edge, *grad;
    double forces[3 * 64], stress[9];
} tb_adjoints;

static tb_adjoints run_backward(const tb_case *c, int with_grads) {
    tb_run r = run_forward(c, c->s, c->h, c->a_in);
    int n = mlpot_structure_n_atoms(c->s), E = c->hp.n_edge_features;
    tb_adjoints out;
    memset(&out, 0, sizeof out);
    out.d_a = malloc(((size_t)c->n_edges * E + 1) * sizeof *out.d_a);
    out.d_h = calloc((size_t)n * c->hp.n_features, sizeof *out.d_h);
    out.g_edge = calloc((size_t)c->n_edges * 3 + 1, sizeof *out.g_edge);
    out.grad = calloc(c->n_theta, sizeof *out.grad);
    for (int64_t e = 0; e < c->n_edges; e++)
        for (int k = 0; k < E; k++)
            out.d_a[e * E + k] = c->wt[e * E + k] + c->v[k] * r.a_out[e * E + k];
    size_t F = (size_t)c->hp.n_features, Q = (size_t)threebody_q(&c->hp);
    threebody_grads gr = {out.grad, out.grad + F * Q, out.grad + F * Q + Q,
                          out.grad + F * Q + Q + Q * (size_t)E};
    TS_OK(threebody_backward(out.d_h, out.g_edge, with_grads ? &gr : NULL, out.d_a, r.S, &c->hp,
                             &c->w, r.g, &r.t, c->h, r.work, r.work_len, NULL, 1));
    /* model.md §6: F_k = sum_{(k, j)} g - sum_{(i, k)} g; sigma = (1/V) sum d (x) g */
    if (n <= 64)
        for (int i = 0; i < n; i++)
            for (int64_t e = r.g->row_start[i]; e < r.g->row_start[i + 1]; e++)
                for (int x = 0; x < 3; x++) {
                    out.forces[3 * i + x] += out.g_edge[3 * e + x];
                    out.forces[3 * r.g->neighbor[e] + x] -= out.g_edge[3 * e + x];
                }
    double vol = mlpot_structure_volume(c->s);
    for (int64_t e = 0; e < c->n_edges && vol > 0; e++)
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++)
                out.stress[3 * x + y] += r.g->vector[3 * e + x] * out.g_edge[3 * e + y] / vol;
    free_run(&r);
    return out;
}

static void free_adjoints(tb_adjoints *a) {
    free(a->d_a);
    free(a->d_h);
    free(a->g_edge);
    free(a->grad);
}


/* dE/dx[k] by five points for every entry of an array the objective reads. */
static double fd_entry(const tb_case *c, double *x, size_t k, double step) {
    double x0 = x[k], f[4];
    const double offsets[4] = {-2, -1, 1, 2};
    for (int m = 0; m < 4; m++) {
        x[k] = x0 + offsets[m] * step;
        f[m] = objective(c, c->s, c->h, c->a_in);
    }
    x[k] = x0;
    return ts_five_point(f[0], f[1], f[2], f[3], step);
}

static double max_abs(const double *x, size_t n) {
    double m = 0;
    for (size_t k = 0; k < n; k++)
        m = fabs(x[k]) > m ? fabs(x[k]) : m;
    return m;
}

static double sigmoid_ref(double x) {
    return 1 / (1 + exp(-x));
}

/* a_out of model.md §8 read literally, on the brute-force edge list (same (i, j, n) order as
 * the graph's rows): every triplet summed term by term, Legendre polynomials in closed form. */
static void forward_brute_force(double *a_out, const tb_case *c) {
    const threebody_hparams *hp = &c->hp;
    ts_edge *ed = NULL;
    int64_t ne = 0;
    ts_brute_force_edges(c->s, c->cutoff, &ed, &ne);
    assert_int_equal(ne, c->n_edges);
    int n = mlpot_structure_n_atoms(c->s), F = hp->n_features, E = hp->n_edge_features;
    int N = hp->n_radial, Q = threebody_q(hp);
    double r3 = hp->cutoff, tau = r3 / (N - 1);
    double *alpha = malloc((size_t)n * Q * sizeof *alpha);
    assert_non_null(alpha);
    for (int k = 0; k < n; k++)
        for (int p = 0; p < Q; p++) {
            double z = c->w.b_alpha[p];
            for (int f = 0; f < F; f++)
                z += c->h[k * F + f] * c->w.W_alpha[f * Q + p];
            alpha[k * Q + p] = sigmoid_ref(z);
        }
    memcpy(a_out, c->a_in, (size_t)ne * E * sizeof *a_out);
    for (int64_t a = 0; a < ne; a++) {
        if (ed[a].r >= r3) continue;
        double S[64] = {0};
        assert_true(Q <= 64);
        for (int64_t b = 0; b < ne; b++) {
            if (b == a || ed[b].i != ed[a].i || ed[b].r >= r3) continue;
            double x =
                (ed[a].d[0] * ed[b].d[0] + ed[a].d[1] * ed[b].d[1] + ed[a].d[2] * ed[b].d[2]) /
                (ed[a].r * ed[b].r);
            double P[5] = {1, x, (3 * x * x - 1) / 2, (5 * x * x * x - 3 * x) / 2,
                           (35 * x * x * x * x - 30 * x * x + 3) / 8};
            double y = ed[b].r / r3;
            double u3 = 1 - 28 * pow(y, 6) + 48 * pow(y, 7) - 21 * pow(y, 8);
            assert_true(hp->lmax <= 4 && hp->envelope_p == 6);
            for (int l = 0; l <= hp->lmax; l++)
                for (int m = 0; m < N; m++) {
                    double q = exp(-pow(ed[b].r - r3 * m / (N - 1), 2) / (tau * tau));
                    S[l * N + m] += u3 * P[l] * q * alpha[ed[b].j * Q + l * N + m];
                }
        }
        double y = ed[a].r / r3;
        double u3a = 1 - 28 * pow(y, 6) + 48 * pow(y, 7) - 21 * pow(y, 8);
        for (int p = 0; p < Q; p++)
            S[p] *= u3a / hp->avg_neighbors;
        for (int k = 0; k < E; k++) {
            double zv = 0, zg = 0;
            for (int p = 0; p < Q; p++) {
                zv += S[p] * c->w.W_value[p * E + k];
                zg += S[p] * c->w.W_gate[p * E + k];
            }
            a_out[a * E + k] += (log1p(exp(zv)) - log(2.0)) * sigmoid_ref(zg);
        }
    }
    free(alpha);
    free(ed);
}

static void check_case(tb_case *c, const char *label) {
    int n = mlpot_structure_n_atoms(c->s), F = c->hp.n_features, E = c->hp.n_edge_features;
    {
        tb_run r = run_forward(c, c->s, c->h, c->a_in);
        double *ref = malloc((size_t)c->n_edges * E * sizeof *ref);
        assert_non_null(ref);
        forward_brute_force(ref, c);
        double err = 0, change = 0;
        for (size_t k = 0; k < (size_t)c->n_edges * E; k++) {
            err = fmax(err, fabs(ref[k] - r.a_out[k]));
            change = fmax(change, fabs(r.a_out[k] - c->a_in[k]));
        }
        print_message("%s: a_out vs brute force max error %.2e (largest update %.2e, %lld "
                      "triplets)\n",
                      label, err, change, (long long)r.t.n_triplets);
        assert_true(err <= 1e-13 * fmax(1, max_abs(ref, (size_t)c->n_edges * E)));
        assert_true(change > 1e-2);
        free(ref);
        free_run(&r);
    }
    tb_adjoints an = run_backward(c, 1);
    tb_adjoints plain = run_backward(c, 0);
    /* the gradient path (one thread) gives the same adjoints bit for bit */
    assert_memory_equal(an.d_h, plain.d_h, (size_t)n * F * sizeof *an.d_h);
    assert_memory_equal(an.g_edge, plain.g_edge, (size_t)c->n_edges * 3 * sizeof *an.g_edge);
    assert_true(max_abs(an.d_h, (size_t)n * F) > 1e-3);    /* the gates matter */
    assert_true(max_abs(an.forces, (size_t)3 * n) > 1e-3); /* the geometry matters */

    /* d a_in = d a_out (additive update) */
    double err = 0;
    for (size_t k = 0; k < (size_t)c->n_edges * E; k++)
        err = fmax(err, fabs(fd_entry(c, c->a_in, k, 1e-3) - an.d_a[k]));
    print_message("%s: d a_in max error %.2e (max %.2e)\n", label, err,
                  max_abs(an.d_a, (size_t)c->n_edges * E));
    assert_true(err <= 1e-8 * fmax(1, max_abs(an.d_a, (size_t)c->n_edges * E)));

    /* dE/dh through the gates alpha */
    err = 0;
    for (size_t k = 0; k < (size_t)n * F; k++)
        err = fmax(err, fabs(fd_entry(c, c->h, k, 1e-3) - an.d_h[k]));
    print_message("%s: dE/dh max error %.2e (max %.2e)\n", label, err,
                  max_abs(an.d_h, (size_t)n * F));
    assert_true(err <= 1e-6 * max_abs(an.d_h, (size_t)n * F));

    /* parameter gradients */
    err = 0;
    for (size_t k = 0; k < c->n_theta; k++)
        err = fmax(err, fabs(fd_entry(c, c->theta, k, 1e-3) - an.grad[k]));
    print_message("%s: parameter gradient max error %.2e (max %.2e)\n", label, err,
                  max_abs(an.grad, c->n_theta));
    assert_true(err <= 1e-6 * max_abs(an.grad, c->n_theta));

    /* forces from the edge-vector adjoints vs -dE/dr (model.md §7: five points, h = 1e-3 Å) */
    double *pos = malloc((size_t)n * 3 * sizeof *pos);
    assert_non_null(pos);
    memcpy(pos, mlpot_structure_positions(c->s), (size_t)n * 3 * sizeof *pos);
    mlpot_structure *moved = NULL;
    TS_OK(mlpot_structure_copy(&moved, c->s));
    err = 0;
    for (int k = 0; k < 3 * n; k++) {
        double f[4];
        const double offsets[4] = {-2, -1, 1, 2}, x0 = pos[k];
        for (int m = 0; m < 4; m++) {
            pos[k] = x0 + offsets[m] * 1e-3;
            TS_OK(mlpot_structure_set_positions(moved, pos));
            f[m] = objective(c, moved, c->h, c->a_in);
        }
        pos[k] = x0;
        err = fmax(err, fabs(-ts_five_point(f[0], f[1], f[2], f[3], 1e-3) - an.forces[k]));
    }
    print_message("%s: forces max error %.2e (max %.2e)\n", label, err,
                  max_abs(an.forces, (size_t)3 * n));
    assert_true(err <= 1e-6);

    /* stress from the same adjoints vs strain derivatives (five points, h = 1e-4) */
    double vol = mlpot_structure_volume(c->s);
    if (vol > 0) {
        const double *cell0 = mlpot_structure_cell(c->s);
        const int *pbc = mlpot_structure_pbc(c->s);
        const double *p0 = mlpot_structure_positions(c->s);
        err = 0;
        for (int x = 0; x < 3; x++)
            for (int y = x; y < 3; y++) {
                double f[4];
                const double offsets[4] = {-2, -1, 1, 2};
                for (int m = 0; m < 4; m++) {
                    double eps[9] = {0}, t[9], cell[9];
                    eps[3 * x + y] += 0.5 * offsets[m] * 1e-4;
                    eps[3 * y + x] += 0.5 * offsets[m] * 1e-4;
                    for (int k = 0; k < 9; k++)
                        t[k] = (k % 4 == 0) + eps[k];
                    for (int row = 0; row < 3; row++) /* row vectors: r (I + eps) */
                        for (int col = 0; col < 3; col++) {
                            cell[3 * row + col] = 0;
                            for (int k = 0; k < 3; k++)
                                cell[3 * row + col] += cell0[3 * row + k] * t[3 * k + col];
                        }
                    for (int a = 0; a < n; a++)
                        for (int col = 0; col < 3; col++) {
                            pos[3 * a + col] = 0;
                            for (int k = 0; k < 3; k++)
                                pos[3 * a + col] += p0[3 * a + k] * t[3 * k + col];
                        }
                    TS_OK(mlpot_structure_set_cell(moved, cell, pbc));
                    TS_OK(mlpot_structure_set_positions(moved, pos));
                    f[m] = objective(c, moved, c->h, c->a_in);
                }
                double fd = ts_five_point(f[0], f[1], f[2], f[3], 1e-4) / vol;
                err = fmax(err, fabs(fd - an.stress[3 * x + y]));
            }
        double asym = 0;
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++)
                asym = fmax(asym, fabs(an.stress[3 * x + y] - an.stress[3 * y + x]));
        print_message("%s: stress max error %.2e (max %.2e), asymmetry %.1e\n", label, err,
                      max_abs(an.stress, 9), asym);
        assert_true(err <= 1e-7);
        assert_true(asym <= 1e-10);
    }
    mlpot_structure_free(moved);
    free(pos);
    free_adjoints(&an);
    free_adjoints(&plain);
}

static threebody_hparams hparams(int N, int lmax, double cutoff3) {
    threebody_hparams hp = {.n_features = 4,
                            .n_edge_features = 3,
                            .n_radial = N,
                            .lmax = lmax,
                            .envelope_p = 6,
                            .cutoff = cutoff3,
                            .avg_neighbors = 2.5};
    TS_OK(threebody_check(&hp));
    return hp;
}

static void test_legendre(void **state) {
    (void)state;
    const double xs[] = {-1.3, -1.0, -0.4, 0.0, 0.3, 0.999, 1.0, 1.7};
    for (size_t k = 0; k < sizeof xs / sizeof *xs; k++) {
        double x = xs[k], P[6], dP[6], Pp[6], Pm[6], Pp2[6], Pm2[6];
        legendre_forward(P, dP, x, 5);
        assert_close(P[0], 1.0, 0);
        assert_close(P[1], x, 0);
        assert_close(P[2], (3 * x * x - 1) / 2, 1e-14);
        assert_close(P[3], (5 * x * x * x - 3 * x) / 2, 1e-14);
        assert_close(P[4], (35 * pow(x, 4) - 30 * x * x + 3) / 8, 1e-13);
        assert_close(P[5], (63 * pow(x, 5) - 70 * pow(x, 3) + 15 * x) / 8, 1e-13);
        double hstep = 1e-3;
        legendre_forward(Pp, NULL, x + hstep, 5);
        legendre_forward(Pm, NULL, x - hstep, 5);
        legendre_forward(Pp2, NULL, x + 2 * hstep, 5);
        legendre_forward(Pm2, NULL, x - 2 * hstep, 5);
        for (int l = 0; l <= 5; l++) /* degree <= 5: five points are exact up to round-off */
            assert_close(dP[l], ts_five_point(Pm2[l], Pm[l], Pp[l], Pp2[l], hstep), 1e-9);
    }
    double P0[1], dP0[1];
    legendre_forward(P0, dP0, 0.3, 0);
    assert_close(P0[0], 1.0, 0);
    assert_close(dP0[0], 0.0, 0);
}

static void test_triclinic_cell(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 11);
    const double cell[9] = {5.1, 0, 0, -1.2, 4.6, 0, 0.8, 0.6, 4.4};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *s = ts_random_structure(&rng, 6, two_species, 2, cell, pbc, 1.5);
    double rc = pick_cutoff(s, 4.3, 4.7), r3 = pick_cutoff(s, 3.2, 3.6);
    tb_case c = make_case(s, rc, hparams(3, 3, r3), 101);
    check_case(&c, "triclinic 6 atoms");
    free_case(&c);
}

/* A 2-atom cell shorter than r_3: many images, triplets with j = k; r_3 = r_c too. */
static void test_cell_shorter_than_r3(void **state) {
    (void)state;
    const int z[] = {14, 8};
    const double pos[] = {0.1, 0.2, 0.05, 1.4, 1.25, 1.3};
    const double cell[9] = {2.7, 0, 0, 0.3, 2.75, 0, 0.2, -0.1, 2.65};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, cell, pbc));
    double rc = pick_cutoff(s, 3.5, 3.8), r3 = pick_cutoff(s, 2.9, 3.3);
    tb_case c = make_case(s, rc, hparams(2, 1, r3), 202);
    check_case(&c, "2-atom cell < r_3");
    free_case(&c);
    TS_OK(mlpot_structure_create(&s, 2, z, pos, cell, pbc));
    c = make_case(s, r3, hparams(4, 0, r3), 203);
    check_case(&c, "2-atom cell, r_3 = r_c, lmax 0");
    free_case(&c);
}

static void test_molecule(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 13);
    const double box[9] = {3.5, 0, 0, 0, 3.5, 0, 0, 0, 3.5};
    const int none[3] = {0, 0, 0};
    mlpot_structure *s = ts_random_structure(&rng, 5, two_species, 2, box, none, 1.3);
    double rc = pick_cutoff(s, 3.8, 4.2), r3 = pick_cutoff(s, 2.8, 3.2);
    tb_case c = make_case(s, rc, hparams(5, 4, r3), 303);
    check_case(&c, "molecule 5 atoms");
    free_case(&c);
}

/* 1, 2 and 3 threads: S, a_out, dE/dh and edge adjoints bit for bit (48 atoms). */
static void test_threads_bit_identical(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_seed(&rng, 17);
    const double cell[9] = {5.1, 0, 0, -1.2, 4.6, 0, 0.8, 0.6, 4.4};
    const int pbc[3] = {1, 1, 1};
    mlpot_structure *unit = ts_random_structure(&rng, 6, two_species, 2, cell, pbc, 1.5);
    mlpot_structure *s = ts_supercell(unit, 2, 2, 2);
    mlpot_structure_free(unit);
    int n = mlpot_structure_n_atoms(s);
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 4.5));
    int64_t ne = g->n_edges;
    mlpot_graph_free(g);
    tb_case c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.cutoff = 4.5;
    c.hp = hparams(4, 3, 3.6);
    c.n_edges = ne;
    size_t F = 4, E = 3, Q = (size_t)threebody_q(&c.hp);
    c.n_theta = F * Q + Q + 2 * Q * E;
    c.theta = random_array(&rng, c.n_theta, 0.5);
    set_views(&c);
    c.h = random_array(&rng, (size_t)n * F, 1.0);
    c.a_in = random_array(&rng, (size_t)ne * E, 0.5);
    c.wt = random_array(&rng, (size_t)ne * E, 1.0);
    for (size_t k = 0; k < E; k++)
        c.v[k] = ts_normal(&rng);
    tb_adjoints ref;
    double *S_ref = NULL, *a_ref = NULL;
    size_t n_S = 0;
    int saved = omp_get_max_threads();
    /* 1, 2, 3 threads, then 3 with a workspace that has scratch for one thread only */
    for (int threads = 1; threads <= 4; threads++) {
        omp_set_num_threads(threads < 4 ? threads : 3);
        workspace_threads = threads < 4 ? 0 : 1;
        tb_run r = run_forward(&c, s, c.h, c.a_in);
        tb_adjoints adj = run_backward(&c, 0);
        if (threads == 1) {
            n_S = (size_t)r.t.n_short * Q;
            assert_true(r.t.n_triplets > 0);
            S_ref = malloc(n_S * sizeof *S_ref);
            a_ref = malloc((size_t)ne * E * sizeof *a_ref);
            memcpy(S_ref, r.S, n_S * sizeof *S_ref);
            memcpy(a_ref, r.a_out, (size_t)ne * E * sizeof *a_ref);
            ref = adj;
        } else {
            assert_memory_equal(S_ref, r.S, n_S * sizeof *S_ref);
            assert_memory_equal(a_ref, r.a_out, (size_t)ne * E * sizeof *a_ref);
            assert_memory_equal(ref.d_h, adj.d_h, (size_t)n * F * sizeof *adj.d_h);
            assert_memory_equal(ref.g_edge, adj.g_edge, (size_t)ne * 3 * sizeof *adj.g_edge);
            assert_memory_equal(ref.stress, adj.stress, sizeof adj.stress);
            free_adjoints(&adj);
        }
        free_run(&r);
    }
    omp_set_num_threads(saved);
    workspace_threads = 0;
    free_adjoints(&ref);
    free(S_ref);
    free(a_ref);
    free_case(&c);
}

static void test_errors(void **state) {
    (void)state;
    threebody_hparams hp = hparams(3, 2, 3.0);
    hp.lmax = -1;
    assert_int_equal(threebody_check(&hp), MLPOT_ERR_INVALID_ARGUMENT);
    hp.lmax = 64 + 1;
    assert_int_equal(threebody_check(&hp), MLPOT_ERR_INVALID_ARGUMENT);
    hp = hparams(3, 2, 3.0);
    hp.n_radial = 1;
    assert_int_equal(threebody_check(&hp), MLPOT_ERR_INVALID_ARGUMENT);
    hp = hparams(3, 2, 3.0);
    hp.avg_neighbors = 0;
    assert_int_equal(threebody_check(&hp), MLPOT_ERR_INVALID_ARGUMENT);
    hp = hparams(3, 2, 3.0);
    hp.n_radial = 200;
    assert_int_equal(threebody_check(&hp), MLPOT_ERR_INVALID_ARGUMENT);
    /* a workspace that is too small, a list built with another r_3 */
    const int z[] = {14, 14};
    const double pos[] = {0, 0, 0, 2.0, 0, 0};
    mlpot_structure *s = NULL;
    TS_OK(mlpot_structure_create(&s, 2, z, pos, NULL, NULL));
    mlpot_graph *g = NULL;
    TS_OK(mlpot_graph_create(&g));
    TS_OK(mlpot_graph_build(g, s, 4.0));
    triplet_list t = {0};
    TS_OK(triplet_list_build(&t, g, 3.0));
    hp = hparams(3, 2, 3.0);
    double h[8] = {0}, S[64], work[64], a[8] = {0};
    threebody_params w = {work, work, work, work};
    assert_int_equal(threebody_sums(S, &hp, &w, g, &t, h, work, 1, NULL, 0), MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "workspace"));
    hp.cutoff = 2.5;
    assert_int_equal(threebody_forward(a, S, a, &hp, &w, g, &t, h, work, 64, NULL, 0),
                     MLPOT_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(mlpot_last_error(), "triplet list"));
    triplet_list_free(&t);
    mlpot_graph_free(g);
    mlpot_structure_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legendre),
        cmocka_unit_test(test_triclinic_cell),
        cmocka_unit_test(test_cell_shorter_than_r3),
        cmocka_unit_test(test_molecule),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
