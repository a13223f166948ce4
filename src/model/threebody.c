/* threebody.c — the three-body update of model.md §8 and its reverse sweep. Every loop runs over
 * receiving atoms and touches only that atom's rows (its short edges and triplets) or, for the
 * gate adjoint, gathers over the atom's reverse edges: no two threads write the same place. */
#include "model/threebody.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"
#include "nn/activations.h"
#include "nn/dense.h"
#include "nn/legendre.h"
#include "nn/radial.h"

int threebody_q(const threebody_hparams *hp) {
    return hp->n_radial * (hp->lmax + 1);
}

mlpot_status threebody_check(const threebody_hparams *hp) {
    if (!hp)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "three-body update: NULL hyper-parameters");
    if (hp->n_features < 1 || hp->n_edge_features < 1 ||
        hp->n_edge_features > THREEBODY_MAX_EDGE_FEATURES)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "three-body update: n_features %d and n_edge_features %d must be in "
                         "1..%d",
                         hp->n_features, hp->n_edge_features, THREEBODY_MAX_EDGE_FEATURES);
    if (hp->n_radial < 2)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "n_threebody_basis %d must be >= 2",
                         hp->n_radial);
    if (hp->lmax < 0 || hp->lmax > THREEBODY_MAX_LMAX)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "threebody_lmax %d must be in 0..%d", hp->lmax,
                         THREEBODY_MAX_LMAX);
    if ((long)hp->n_radial * (hp->lmax + 1) > THREEBODY_MAX_Q)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "n_threebody_basis * (threebody_lmax + 1) = %ld exceeds %d",
                         (long)hp->n_radial * (hp->lmax + 1), THREEBODY_MAX_Q);
    if (!(hp->cutoff > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "threebody_cutoff %g must be > 0", hp->cutoff);
    if (!(hp->avg_neighbors > 0))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "avg_threebody_neighbors %g must be > 0",
                         hp->avg_neighbors);
    if (hp->envelope_p < 1)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "envelope_p %d must be >= 1", hp->envelope_p);
    return MLPOT_OK;
}

size_t threebody_workspace_size(const threebody_hparams *hp, const triplet_list *t,
                                int for_backward, int n_threads) {
    size_t Q = (size_t)threebody_q(hp);
    size_t shared = ((size_t)t->n_atoms + (size_t)t->n_short) * Q;
    if (!for_backward) return shared;
    return shared + (size_t)(n_threads > 1 ? n_threads : 1) * 2 * (size_t)t->max_short * Q;
}

static mlpot_status check_inputs(const char *who, const threebody_hparams *hp, const mlpot_graph *g,
                                 const triplet_list *t, size_t work_len, int for_backward) {
    mlpot_status st = threebody_check(hp);
    if (st) return st;
    if (t->n_atoms != g->n_atoms || t->n_edges != g->n_edges || t->cutoff != hp->cutoff)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT,
                         "%s: the triplet list was not built from this graph with r_3 = %g", who,
                         hp->cutoff);
    if (work_len < threebody_workspace_size(hp, t, for_backward, 1))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "%s: workspace of %zu doubles, %zu needed",
                         who, work_len, threebody_workspace_size(hp, t, for_backward, 1));
    return MLPOT_OK;
}

/* Receiving atoms and gate atoms of a sweep (all atoms without a threebody_atoms). */
static int n_rows(const threebody_atoms *atoms, const triplet_list *t) {
    return atoms ? atoms->n_rows : t->n_atoms;
}
static int n_gates(const threebody_atoms *atoms, const triplet_list *t) {
    return atoms ? atoms->n_gates : t->n_atoms;
}
static int atom_at(const threebody_atoms *atoms, int n) {
    return atoms ? atoms->order[n] : n;
}

/* alpha[k] = sigmoid(h_k W_alpha + b_alpha) for every gate atom (model.md §8). */
static void gates_forward(double *alpha, const threebody_hparams *hp, const threebody_params *w,
                          const double *h, const triplet_list *t, const threebody_atoms *atoms,
                          int parallel) {
    int F = hp->n_features, Q = threebody_q(hp), n_k = n_gates(atoms, t);
#pragma omp parallel for schedule(static) if (parallel)
    for (int n = 0; n < n_k; n++) {
        int k = atom_at(atoms, n);
        double *ak = alpha + (size_t)k * Q;
        dense_forward(ak, Q, h + (size_t)k * F, F, w->W_alpha, w->b_alpha, 1, F, Q);
        for (int p = 0; p < Q; p++)
            ak[p] = nn_sigmoid(ak[p]);
    }
}

/* u_3(r), q_n(r) (model.md §8: the envelope and Gaussians of §2 with cutoff r_3) and, when
 * dq is not NULL, their derivatives. */
static void edge_radial(double *u3, double *du3, double *q, double *dq, double r,
                        const threebody_hparams *hp) {
    *u3 = envelope_forward(r, hp->cutoff, hp->envelope_p, du3);
    gaussian_basis_forward(q, dq, r, hp->cutoff, hp->n_radial);
}

/* The partner-independent factor of every short edge b = (i, k, n_b):
 * c[s][l N + n] = u_3(r_b) q_n(r_b) alpha_k[l N + n]. */
static void partner_factors(double *c, const double *alpha, const threebody_hparams *hp,
                            const mlpot_graph *g, const triplet_list *t,
                            const threebody_atoms *atoms, int parallel) {
    int N = hp->n_radial, L1 = hp->lmax + 1, Q = N * L1, n_i = n_rows(atoms, t);
#pragma omp parallel for schedule(static) if (parallel)
    for (int row = 0; row < n_i; row++) {
        int i = atom_at(atoms, row);
        double q[THREEBODY_MAX_Q], u3, du3;
        for (int64_t s = t->short_start[i]; s < t->short_start[i + 1]; s++) {
            int64_t e = t->short_edge[s];
            edge_radial(&u3, &du3, q, NULL, g->distance[e], hp);
            const double *ak = alpha + (size_t)g->neighbor[e] * Q;
            double *cs = c + (size_t)s * Q;
            for (int l = 0; l < L1; l++)
                for (int n = 0; n < N; n++)
                    cs[l * N + n] = u3 * q[n] * ak[l * N + n];
        }
    }
}

/* cos theta_ab = d_a . d_b / (r_a r_b) (model.md §8, no clamping). */
static double cos_angle(const mlpot_graph *g, int64_t a, int64_t b) {
    const double *da = g->vector + 3 * a, *db = g->vector + 3 * b;
    return (da[0] * db[0] + da[1] * db[1] + da[2] * db[2]) / (g->distance[a] * g->distance[b]);
}

mlpot_status threebody_sums(double *S, const threebody_hparams *hp, const threebody_params *w,
                            const mlpot_graph *g, const triplet_list *t, const double *h,
                            double *work, size_t work_len, const threebody_atoms *atoms,
                            int parallel) {
    mlpot_status st = check_inputs("threebody_sums", hp, g, t, work_len, 0);
    if (st) return st;
    int N = hp->n_radial, L1 = hp->lmax + 1, Q = N * L1, n_i = n_rows(atoms, t);
    double *alpha = work, *c = work + (size_t)t->n_atoms * Q;
    gates_forward(alpha, hp, w, h, t, atoms, parallel);
    partner_factors(c, alpha, hp, g, t, atoms, parallel);
    /* cos theta_ab = cos theta_ba: each unordered pair once, adding to S_a and S_b. S_a still
     * receives its terms in ascending order of b (from earlier a' = b, then its own sweep). */
#pragma omp parallel for schedule(dynamic, 16) if (parallel)
    for (int row = 0; row < n_i; row++) {
        int i = atom_at(atoms, row);
        double P[THREEBODY_MAX_LMAX + 1];
        int64_t first = t->short_start[i], end = t->short_start[i + 1];
        memset(S + (size_t)first * Q, 0, (size_t)(end - first) * Q * sizeof *S);
        for (int64_t sa = first; sa < end; sa++) {
            int64_t a = t->short_edge[sa];
            double *Sa = S + (size_t)sa * Q;
            const double *ca = c + (size_t)sa * Q;
            for (int64_t sb = sa + 1; sb < end; sb++) {
                legendre_forward(P, NULL, cos_angle(g, a, t->short_edge[sb]), hp->lmax);
                const double *cb = c + (size_t)sb * Q;
                double *Sb = S + (size_t)sb * Q;
                for (int l = 0; l < L1; l++)
                    for (int n = 0; n < N; n++) {
                        Sa[l * N + n] += P[l] * cb[l * N + n];
                        Sb[l * N + n] += P[l] * ca[l * N + n];
                    }
            }
            double scale = envelope_forward(g->distance[a], hp->cutoff, hp->envelope_p, NULL) /
                           hp->avg_neighbors;
            for (int p = 0; p < Q; p++)
                Sa[p] *= scale;
        }
    }
    return MLPOT_OK;
}

/* zv = S_s W_value, zg = S_s W_gate for one short edge. */
static void gate_inputs(double *zv, double *zg, const double *Ss, const threebody_hparams *hp,
                        const threebody_params *w) {
    int Q = threebody_q(hp), E = hp->n_edge_features;
    dense_forward(zv, E, Ss, Q, w->W_value, NULL, 1, Q, E);
    dense_forward(zg, E, Ss, Q, w->W_gate, NULL, 1, Q, E);
}

mlpot_status threebody_apply(double *a, const double *S, const threebody_hparams *hp,
                             const threebody_params *w, const triplet_list *t,
                             const threebody_atoms *atoms, int parallel) {
    mlpot_status st = threebody_check(hp);
    if (st) return st;
    int Q = threebody_q(hp), E = hp->n_edge_features, n_i = n_rows(atoms, t);
#pragma omp parallel for schedule(static) if (parallel)
    for (int row = 0; row < n_i; row++) {
        int i = atom_at(atoms, row);
        double zv[THREEBODY_MAX_EDGE_FEATURES], zg[THREEBODY_MAX_EDGE_FEATURES];
        for (int64_t s = t->short_start[i]; s < t->short_start[i + 1]; s++) {
            gate_inputs(zv, zg, S + (size_t)s * Q, hp, w);
            double *ae = a + (size_t)t->short_edge[s] * E;
            for (int k = 0; k < E; k++)
                ae[k] += (nn_softplus(zv[k]) - NN_LN2) * nn_sigmoid(zg[k]);
        }
    }
    return MLPOT_OK;
}

mlpot_status threebody_forward(double *a_out, double *S, const double *a_in,
                               const threebody_hparams *hp, const threebody_params *w,
                               const mlpot_graph *g, const triplet_list *t, const double *h,
                               double *work, size_t work_len, const threebody_atoms *atoms,
                               int parallel) {
    mlpot_status st = threebody_sums(S, hp, w, g, t, h, work, work_len, atoms, parallel);
    if (st) return st;
    size_t E = (size_t)hp->n_edge_features;
    if (a_out != a_in && !atoms)
        memcpy(a_out, a_in, (size_t)g->n_edges * E * sizeof *a_out);
    else if (a_out != a_in) /* the rows of the receiving atoms */
        for (int n = 0; n < atoms->n_rows; n++) {
            int i = atoms->order[n];
            size_t e0 = (size_t)g->row_start[i], e1 = (size_t)g->row_start[i + 1];
            memcpy(a_out + e0 * E, a_in + e0 * E, (e1 - e0) * E * sizeof *a_out);
        }
    return threebody_apply(a_out, S, hp, w, t, atoms, parallel);
}

/* g_edge[a] += coef * d cos theta_ab / d d_a = coef (d_b/(r_a r_b) - cos d_a/r_a^2), and the
 * same with a <-> b (model.md §8). */
static void add_angular(double *g_edge, const mlpot_graph *g, int64_t a, int64_t b, double x,
                        double coef) {
    const double *da = g->vector + 3 * a, *db = g->vector + 3 * b;
    double ra = g->distance[a], rb = g->distance[b];
    double cross = coef / (ra * rb), self_a = coef * x / (ra * ra), self_b = coef * x / (rb * rb);
    for (int k = 0; k < 3; k++) {
        g_edge[3 * a + k] += cross * db[k] - self_a * da[k];
        g_edge[3 * b + k] += cross * da[k] - self_b * db[k];
    }
}

static void add_radial(double *g_edge, const mlpot_graph *g, int64_t e, double dE_dr) {
    double f = dE_dr / g->distance[e];
    for (int k = 0; k < 3; k++)
        g_edge[3 * e + k] += f * g->vector[3 * e + k];
}

/* The reverse sweep over the triplets of atom i, with dT and dc [m_i][Q] the thread's scratch
 * for dE/dT_a and dE/dc_b. Only atom i's triplets read the c_b of its slots, so on return c[s]
 * (s a slot of atom i) is overwritten with the adjoint of alpha_{k(b)} from edge b:
 * dE/dc_b[p] u_3 q_n. */
static void atom_backward(double *g_edge, double *c, double *dT_all, double *dc,
                          const threebody_grads *grads, const double *d_a, const double *S,
                          const double *alpha, const threebody_hparams *hp,
                          const threebody_params *w, const mlpot_graph *g, const triplet_list *t,
                          int i) {
    int N = hp->n_radial, L1 = hp->lmax + 1, Q = N * L1, E = hp->n_edge_features;
    double zv[THREEBODY_MAX_EDGE_FEATURES], zg[THREEBODY_MAX_EDGE_FEATURES];
    double dzv[THREEBODY_MAX_EDGE_FEATURES], dzg[THREEBODY_MAX_EDGE_FEATURES];
    double dS[THREEBODY_MAX_Q], q[THREEBODY_MAX_Q], dq[THREEBODY_MAX_Q];
    double P[THREEBODY_MAX_LMAX + 1], dP[THREEBODY_MAX_LMAX + 1];
    int64_t first = t->short_start[i], end = t->short_start[i + 1];
    memset(dc, 0, (size_t)(end - first) * Q * sizeof *dc);
    for (int64_t sa = first; sa < end; sa++) {
        int64_t a = t->short_edge[sa];
        const double *Sa = S + (size_t)sa * Q;
        /* a_a += sp2(zv) sigmoid(zg): sp2' = sigmoid */
        gate_inputs(zv, zg, Sa, hp, w);
        const double *da = d_a + (size_t)a * E;
        for (int k = 0; k < E; k++) {
            double sv, sigv, sigg = nn_sigmoid(zg[k]);
            nn_softplus_sigmoid(zv[k], &sv, &sigv);
            dzv[k] = da[k] * sigg * sigv;
            dzg[k] = da[k] * (sv - NN_LN2) * sigg * (1 - sigg);
        }
        memset(dS, 0, (size_t)Q * sizeof *dS);
        dense_backward(dS, Q, grads ? grads->W_value : NULL, NULL, dzv, E, Sa, Q, w->W_value, 1, Q,
                       E);
        dense_backward(dS, Q, grads ? grads->W_gate : NULL, NULL, dzg, E, Sa, Q, w->W_gate, 1, Q,
                       E);
        /* S_a = (u_3(r_a)/n_3) T_a: the envelope term is (du_3/u_3) dS . S_a (0 when u_3 is) */
        double du3, u3 = envelope_forward(g->distance[a], hp->cutoff, hp->envelope_p, &du3);
        double dot = 0, *dT = dT_all + (size_t)(sa - first) * Q;
        for (int p = 0; p < Q; p++) {
            dot += dS[p] * Sa[p];
            dT[p] = dS[p] * u3 / hp->avg_neighbors;
        }
        if (u3 > 0) add_radial(g_edge, g, a, du3 / u3 * dot);
    }
    /* T_a[l N + n] = sum_b P_l(x_ab) c_b[l N + n]: the pair (a, b) enters T_a and T_b with the
     * same cos theta, so it is visited once and its angular term added once */
    for (int64_t sa = first; sa < end; sa++) {
        int64_t a = t->short_edge[sa];
        const double *ca = c + (size_t)sa * Q, *dTa = dT_all + (size_t)(sa - first) * Q;
        double *dca = dc + (size_t)(sa - first) * Q;
        for (int64_t sb = sa + 1; sb < end; sb++) {
            int64_t b = t->short_edge[sb];
            double x = cos_angle(g, a, b);
            legendre_forward(P, dP, x, hp->lmax);
            const double *cb = c + (size_t)sb * Q, *dTb = dT_all + (size_t)(sb - first) * Q;
            double *dcb = dc + (size_t)(sb - first) * Q;
            double dx = 0;
            for (int l = 0; l < L1; l++) {
                double sl = 0;
                for (int n = 0; n < N; n++) {
                    int p = l * N + n;
                    sl += dTa[p] * cb[p] + dTb[p] * ca[p];
                    dcb[p] += P[l] * dTa[p];
                    dca[p] += P[l] * dTb[p];
                }
                dx += dP[l] * sl;
            }
            add_angular(g_edge, g, a, b, x, dx);
        }
    }
    /* c_b = u_3(r_b) q_n(r_b) alpha_k: radial terms of b; the alpha adjoint replaces c_b */
    for (int64_t sb = first; sb < end; sb++) {
        int64_t b = t->short_edge[sb];
        double u3, du3;
        edge_radial(&u3, &du3, q, dq, g->distance[b], hp);
        const double *ak = alpha + (size_t)g->neighbor[b] * Q;
        const double *dcb = dc + (size_t)(sb - first) * Q;
        double *cb = c + (size_t)sb * Q, dr = 0;
        for (int l = 0; l < L1; l++)
            for (int n = 0; n < N; n++) {
                int p = l * N + n;
                dr += dcb[p] * ak[p] * (du3 * q[n] + u3 * dq[n]);
                cb[p] = dcb[p] * u3 * q[n];
            }
        add_radial(g_edge, g, b, dr);
    }
}

mlpot_status threebody_backward(double *d_h, double *g_edge, const threebody_grads *grads,
                                const double *d_a, const double *S, const threebody_hparams *hp,
                                const threebody_params *w, const mlpot_graph *g,
                                const triplet_list *t, const double *h, double *work,
                                size_t work_len, const threebody_atoms *atoms, int parallel) {
    mlpot_status st = check_inputs("threebody_backward", hp, g, t, work_len, 1);
    if (st) return st;
    int F = hp->n_features, Q = threebody_q(hp);
    double *alpha = work, *c = alpha + (size_t)t->n_atoms * Q;
    double *scratch = c + (size_t)t->n_short * Q; /* [threads][2][max_short][Q] */
    /* parameter gradients are sums over all atoms: one thread keeps their order fixed */
    parallel = parallel && !grads;
    gates_forward(alpha, hp, w, h, t, atoms, parallel);
    partner_factors(c, alpha, hp, g, t, atoms, parallel);
    int n_i = n_rows(atoms, t), n_k = n_gates(atoms, t);
    size_t per_thread = 2 * (size_t)t->max_short * Q;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
    if (per_thread > 0) { /* no more threads than the workspace has scratch for */
        size_t room = (work_len - (size_t)(scratch - work)) / per_thread;
        threads = room < (size_t)threads ? (int)room : threads;
    }
#endif
#pragma omp parallel num_threads(threads) if (parallel)
    {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        double *dT = scratch + (size_t)me * per_thread, *dc = dT + per_thread / 2;
#pragma omp for schedule(dynamic, 16)
        for (int n = 0; n < n_i; n++)
            atom_backward(g_edge, c, dT, dc, grads, d_a, S, alpha, hp, w, g, t, atom_at(atoms, n));
    }
    /* alpha_k is read by every short edge b = (i, k, n) pointing at k: gather them through the
     * reverse edges of k's own row, then through the sigmoid and the dense layer (skipping
     * edges whose receiver is not a receiving atom of the sweep: their adjoints are 0) */
#pragma omp parallel for schedule(static) if (parallel)
    for (int n = 0; n < n_k; n++) {
        int k = atom_at(atoms, n);
        double dz[THREEBODY_MAX_Q];
        memset(dz, 0, (size_t)Q * sizeof *dz);
        for (int64_t e = g->row_start[k]; e < g->row_start[k + 1]; e++) {
            int64_t sb = t->slot_of_edge[g->reverse[e]];
            if (sb < 0 || (atoms && atoms->hop[g->neighbor[e]] > atoms->max_hop)) continue;
            const double *cb = c + (size_t)sb * Q;
            for (int p = 0; p < Q; p++)
                dz[p] += cb[p];
        }
        const double *ak = alpha + (size_t)k * Q;
        for (int p = 0; p < Q; p++)
            dz[p] *= ak[p] * (1 - ak[p]);
        dense_backward(d_h + (size_t)k * F, F, grads ? grads->W_alpha : NULL,
                       grads ? grads->b_alpha : NULL, dz, Q, h + (size_t)k * F, F, w->W_alpha, 1, F,
                       Q);
    }
    return MLPOT_OK;
}
