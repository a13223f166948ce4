/* neighbor_graph.c — the periodic neighbour graph of model.md §1 by cell lists (binning):
 * every directed edge (i, j, n) with 0 < |r_j + n L - r_i| < r_c, stored as CSR rows by
 * receiving atom i in a canonical order (sorted by j, then n), each edge with the index of its
 * reverse (j, i, -n). Any cell works: triclinic, skewed (fully periodic cells are binned in a
 * Delaunay-reduced basis), shorter than r_c (many images), or partly periodic. */
#include "graph/neighbor_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mat3.h"
#include "core/memory.h"
#include "graph/symmetry.h"
#include "io/structure.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Bins are at least r_c / BINS_PER_CUTOFF wide; 2 searches 5^3 bins of (r_c/2)^3, about 2.4x
 * fewer candidate pairs than 3^3 bins of r_c^3. */
#define BINS_PER_CUTOFF 2
/* Two atoms closer than this (Å) are taken to be at the same position (model.md §1). */
#define COINCIDENT_DISTANCE 1e-8
/* Guard against absurd inputs (a cell much thinner than r_c makes every atom see huge numbers
 * of images): at most this many bins are visited per atom. */
#define MAX_BIN_VISITS_PER_ATOM 2000000L
/* The widest span (Å) binned: beyond it a double no longer resolves 1e-8 Å (COINCIDENT_DISTANCE)
 * between neighbours, and the bin arithmetic would overflow (issue 16: 1e200 Å gave SIGFPE). */
#define MAX_BINNED_SPAN 1e8
/* Builds of fewer atoms run on the calling thread (as the calculator does below 64 atoms). */
#define GRAPH_PARALLEL_MIN 64

typedef struct {
    int j;
    int n[3];
    double d[3];
    double r;
} edge_entry;

/* The binning frame: positions are w = origin + f B with f in [0,1) along every direction;
 * image shifts are integer combinations of the periodic rows of B; original image vectors are
 * n = n_B map (row vector times the integer matrix map). */
typedef struct {
    double basis[9], inverse[9], origin[3];
    int map[9];
    int periodic[3];
    int n_bins[3];
    int search[3];
} bin_frame;

static void normalize(double v[3]) {
    double n = sqrt(vec3_dot(v, v));
    for (int k = 0; k < 3; k++)
        v[k] /= n;
}

/* Unit vectors orthogonal to the periodic cell vectors (and to each other) for the
 * non-periodic directions. */
static void complete_basis(const mlpot_structure *s, double basis[9]) {
    int np = s->pbc[0] + s->pbc[1] + s->pbc[2];
    int per[3], non[3], a = 0, b = 0;
    for (int k = 0; k < 3; k++) {
        if (s->pbc[k])
            per[a++] = k;
        else
            non[b++] = k;
    }
    for (int k = 0; k < 3; k++)
        if (s->pbc[k])
            memcpy(&basis[3 * k], &s->cell[3 * k], 3 * sizeof(double));
    if (np == 0) {
        static const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        memcpy(basis, identity, sizeof identity);
    } else if (np == 1) {
        double u[3], ref[3] = {0, 0, 0}, e1[3], e2[3];
        memcpy(u, &s->cell[3 * per[0]], sizeof u);
        int smallest = 0;
        for (int k = 1; k < 3; k++)
            if (fabs(u[k]) < fabs(u[smallest]))
                smallest = k;
        ref[smallest] = 1.0;
        vec3_cross(u, ref, e1);
        normalize(e1);
        vec3_cross(u, e1, e2);
        normalize(e2);
        memcpy(&basis[3 * non[0]], e1, sizeof e1);
        memcpy(&basis[3 * non[1]], e2, sizeof e2);
    } else if (np == 2) {
        double e[3];
        vec3_cross(&s->cell[3 * per[0]], &s->cell[3 * per[1]], e);
        normalize(e);
        memcpy(&basis[3 * non[0]], e, sizeof e);
    }
    /* keep a right-handed frame, as fractional coordinates do not care either way */
}

static mlpot_status frame_setup(const mlpot_structure *s, double cutoff, bin_frame *fr) {
    memset(fr, 0, sizeof *fr);
    for (int k = 0; k < 3; k++) {
        fr->periodic[k] = s->pbc[k];
        fr->map[4 * k] = 1;
    }
    complete_basis(s, fr->basis);
    if (structure_is_periodic3(s)) {
        double reduced[9];
        int map[9];
        /* a failed reduction only costs speed: bin in the given cell */
        if (lattice_reduce(s->cell, 0, 1e-5, reduced, map) == MLPOT_OK) {
            memcpy(fr->basis, reduced, sizeof reduced);
            memcpy(fr->map, map, sizeof map);
        }
    }
    /* Non-periodic directions: stretch the unit vector over the extent of the atoms. */
    double extent_min[3] = {0, 0, 0}, extent_max[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (fr->periodic[k])
            continue;
        const double *e = &fr->basis[3 * k];
        for (int i = 0; i < s->n_atoms; i++) {
            double t = vec3_dot(&s->positions[3 * i], e);
            if (i == 0 || t < extent_min[k])
                extent_min[k] = t;
            if (i == 0 || t > extent_max[k])
                extent_max[k] = t;
        }
        double width = (extent_max[k] - extent_min[k]) * (1.0 + 1e-12) + 1e-3;
        if (!(width <= MAX_BINNED_SPAN))
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "atom positions span %g Å in an open direction, more than the %g Å "
                             "the neighbour search can resolve",
                             width, MAX_BINNED_SPAN);
        for (int c = 0; c < 3; c++) {
            fr->origin[c] += extent_min[k] * e[c];
            fr->basis[3 * k + c] = e[c] * width;
        }
    }
    if (mat3_inverse(fr->basis, fr->inverse) == 0.0)
        return error_set(MLPOT_ERR_INVALID_STRUCTURE, "singular cell");
    /* Perpendicular height of each direction: 1 / |column k of the inverse|. */
    long visits = 1;
    double total_bins = 1.0;
    double limit_bins = 8.0 * s->n_atoms + 4096.0;
    double height[3];
    for (int k = 0; k < 3; k++) {
        double col = sqrt(fr->inverse[k] * fr->inverse[k] + fr->inverse[3 + k] * fr->inverse[3 + k] +
                          fr->inverse[6 + k] * fr->inverse[6 + k]);
        height[k] = 1.0 / col;
        if (!(height[k] > 0.0 && height[k] <= MAX_BINNED_SPAN))
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "the cell spans %g Å, more than the %g Å the neighbour search can "
                             "resolve",
                             height[k], MAX_BINNED_SPAN);
        double nb = floor(height[k] * BINS_PER_CUTOFF / cutoff);
        fr->n_bins[k] = nb < 1 ? 1 : (nb > 1e6 ? 1000000 : (int)nb);
        total_bins *= fr->n_bins[k];
    }
    /* Mostly empty space (a molecule in a huge box, far-apart atoms): coarser bins. */
    while (total_bins > limit_bins) {
        int widest = 0;
        for (int k = 1; k < 3; k++)
            if (fr->n_bins[k] > fr->n_bins[widest])
                widest = k;
        total_bins /= fr->n_bins[widest];
        fr->n_bins[widest] = (fr->n_bins[widest] + 1) / 2;
        total_bins *= fr->n_bins[widest];
    }
    for (int k = 0; k < 3; k++) {
        double reach = ceil(cutoff * fr->n_bins[k] / height[k] * (1.0 + 1e-12));
        if (!fr->periodic[k] && reach > fr->n_bins[k])
            reach = fr->n_bins[k];
        if (reach > 1e6)
            reach = 1e6;
        fr->search[k] = (int)reach;
        visits *= 2L * fr->search[k] + 1;
        if (visits > MAX_BIN_VISITS_PER_ATOM)
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "the cell is too thin for cutoff %g Å (a perpendicular height of "
                             "%g Å needs more than %ld periodic images per atom)",
                             cutoff, height[k], MAX_BIN_VISITS_PER_ATOM);
    }
    return MLPOT_OK;
}

static int floor_div(int a, int b) {
    int q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int compare_edges(const edge_entry *x, const edge_entry *y) {
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    for (int k = 0; k < 3; k++)
        if (x->n[k] != y->n[k])
            return x->n[k] < y->n[k] ? -1 : 1;
    return 0;
}

static int compare_edges_qsort(const void *a, const void *b) {
    return compare_edges(a, b);
}

static void sort_edges(edge_entry *e, int n) {
    if (n > 48) {
        qsort(e, (size_t)n, sizeof *e, compare_edges_qsort);
        return;
    }
    for (int a = 1; a < n; a++) {
        edge_entry key = e[a];
        int b = a - 1;
        while (b >= 0 && compare_edges(&e[b], &key) > 0) {
            e[b + 1] = e[b];
            b--;
        }
        e[b + 1] = key;
    }
}

/* Wraps atoms into the frame and sorts them into bins (counting sort, stable in atom order). */
static mlpot_status bin_atoms(mlpot_graph *g, const mlpot_structure *s, const bin_frame *fr) {
    int n = s->n_atoms;
    int n_bins = fr->n_bins[0] * fr->n_bins[1] * fr->n_bins[2];
    mlpot_status st;
    if ((st = mem_reserve(&g->wrapped, &g->cap_wrapped, (size_t)n * 3, sizeof *g->wrapped)) ||
        (st = mem_reserve(&g->shift, &g->cap_shift, (size_t)n * 3, sizeof *g->shift)) ||
        (st = mem_reserve(&g->atom_bin, &g->cap_atom_bin, (size_t)n, sizeof *g->atom_bin)) ||
        (st = mem_reserve(&g->bin_atoms, &g->cap_bin_atoms, (size_t)n, sizeof *g->bin_atoms)) ||
        (st = mem_reserve(&g->bin_positions, &g->cap_bin_positions, (size_t)n * 3,
                          sizeof *g->bin_positions)) ||
        (st = mem_reserve(&g->bin_start, &g->cap_bin_start, (size_t)n_bins + 1,
                          sizeof *g->bin_start)))
        return st;
    memset(g->bin_start, 0, ((size_t)n_bins + 1) * sizeof *g->bin_start);
    for (int i = 0; i < n; i++) {
        double rel[3], f[3];
        for (int c = 0; c < 3; c++)
            rel[c] = s->positions[3 * i + c] - fr->origin[c];
        vec3_mat3(rel, fr->inverse, f);
        int b[3];
        for (int k = 0; k < 3; k++) {
            double sh = fr->periodic[k] ? floor(f[k]) : 0.0;
            if (fabs(sh) > 1e9)
                return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                                 "atom %d lies more than 10^9 cells away from the cell", i + 1);
            g->shift[3 * i + k] = (int)sh;
            f[k] -= sh;
            int bin = (int)floor(f[k] * fr->n_bins[k]);
            b[k] = bin < 0 ? 0 : (bin >= fr->n_bins[k] ? fr->n_bins[k] - 1 : bin);
        }
        vec3_mat3(f, fr->basis, &g->wrapped[3 * i]);
        for (int c = 0; c < 3; c++)
            g->wrapped[3 * i + c] += fr->origin[c];
        g->atom_bin[i] = (b[0] * fr->n_bins[1] + b[1]) * fr->n_bins[2] + b[2];
        g->bin_start[g->atom_bin[i] + 1]++;
    }
    for (int k = 0; k < n_bins; k++)
        g->bin_start[k + 1] += g->bin_start[k];
    /* fill using bin_start as a cursor, then shift it back */
    for (int i = 0; i < n; i++) {
        int slot = g->bin_start[g->atom_bin[i]]++;
        g->bin_atoms[slot] = i;
        memcpy(&g->bin_positions[3 * slot], &g->wrapped[3 * i], 3 * sizeof(double));
    }
    for (int k = n_bins; k > 0; k--)
        g->bin_start[k] = g->bin_start[k - 1];
    g->bin_start[0] = 0;
    return MLPOT_OK;
}

/* Visits the candidates of atom i, storing at most `capacity` edges in `out`. Returns the
 * number of edges (which may exceed capacity), or -1 - j when atom j coincides with atom i
 * (or one of its images). */
static long atom_edges(const mlpot_graph *g, const mlpot_structure *s, const bin_frame *fr,
                       double cutoff, int i, edge_entry *out, long capacity) {
    const int periodic3 = structure_is_periodic3(s);
    const double *L = s->cell;
    const double *wi = &g->wrapped[3 * i];
    double rc_candidate = cutoff + 1e-8 * (1.0 + cutoff);
    double rc2_candidate = rc_candidate * rc_candidate;
    int bin = g->atom_bin[i];
    int b[3] = {bin / (fr->n_bins[1] * fr->n_bins[2]), (bin / fr->n_bins[2]) % fr->n_bins[1],
                bin % fr->n_bins[2]};
    long count = 0;
    for (int o0 = -fr->search[0]; o0 <= fr->search[0]; o0++) {
        int t0 = b[0] + o0;
        if (!fr->periodic[0] && (t0 < 0 || t0 >= fr->n_bins[0]))
            continue;
        int img0 = floor_div(t0, fr->n_bins[0]);
        int c0 = t0 - img0 * fr->n_bins[0];
        for (int o1 = -fr->search[1]; o1 <= fr->search[1]; o1++) {
            int t1 = b[1] + o1;
            if (!fr->periodic[1] && (t1 < 0 || t1 >= fr->n_bins[1]))
                continue;
            int img1 = floor_div(t1, fr->n_bins[1]);
            int c1 = t1 - img1 * fr->n_bins[1];
            for (int o2 = -fr->search[2]; o2 <= fr->search[2]; o2++) {
                int t2 = b[2] + o2;
                if (!fr->periodic[2] && (t2 < 0 || t2 >= fr->n_bins[2]))
                    continue;
                int img2 = floor_div(t2, fr->n_bins[2]);
                int c2 = t2 - img2 * fr->n_bins[2];
                int target = (c0 * fr->n_bins[1] + c1) * fr->n_bins[2] + c2;
                double img[3] = {img0, img1, img2}, T[3];
                vec3_mat3(img, fr->basis, T);
                double base[3] = {T[0] - wi[0], T[1] - wi[1], T[2] - wi[2]};
                for (int slot = g->bin_start[target]; slot < g->bin_start[target + 1]; slot++) {
                    const double *wj = &g->bin_positions[3 * slot];
                    double dx = wj[0] + base[0], dy = wj[1] + base[1], dz = wj[2] + base[2];
                    double r2 = dx * dx + dy * dy + dz * dz;
                    if (r2 >= rc2_candidate)
                        continue;
                    int j = g->bin_atoms[slot];
                    /* the image in the binning basis, then in the structure's own basis */
                    int nb[3] = {img0 - g->shift[3 * j] + g->shift[3 * i],
                                 img1 - g->shift[3 * j + 1] + g->shift[3 * i + 1],
                                 img2 - g->shift[3 * j + 2] + g->shift[3 * i + 2]};
                    int n[3];
                    for (int k = 0; k < 3; k++)
                        n[k] = fr->periodic[k] || periodic3
                                   ? nb[0] * fr->map[k] + nb[1] * fr->map[3 + k] +
                                         nb[2] * fr->map[6 + k]
                                   : 0;
                    if (j == i && n[0] == 0 && n[1] == 0 && n[2] == 0)
                        continue;
                    /* model.md §1: d_ij = r_j + n L - r_i, from the positions as given */
                    double d[3];
                    for (int c = 0; c < 3; c++)
                        d[c] = (s->positions[3 * j + c] - s->positions[3 * i + c]) +
                               (n[0] * L[c] + n[1] * L[3 + c] + n[2] * L[6 + c]);
                    double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                    if (r < COINCIDENT_DISTANCE)
                        return -1 - (long)j;
                    if (!(r < cutoff))
                        continue;
                    if (count < capacity) {
                        edge_entry *e = &out[count];
                        e->j = j;
                        memcpy(e->n, n, sizeof n);
                        memcpy(e->d, d, sizeof d);
                        e->r = r;
                    }
                    count++;
                }
            }
        }
    }
    return count;
}

static int thread_count(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_index(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Index of edge (j, i, -n) in row j (rows are sorted), or -1. */
static int64_t find_reverse(const mlpot_graph *g, int64_t e, int i) {
    int j = g->neighbor[e];
    const int *n = &g->image[3 * e];
    edge_entry key = {.j = i, .n = {-n[0], -n[1], -n[2]}};
    int64_t lo = g->row_start[j], hi = g->row_start[j + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        edge_entry probe = {.j = g->neighbor[mid],
                            .n = {g->image[3 * mid], g->image[3 * mid + 1], g->image[3 * mid + 2]}};
        int c = compare_edges(&probe, &key);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Per-thread edge buffers of a single pass over the atoms; kept in the graph between builds. */
typedef struct {
    edge_entry *edges;
    size_t capacity;
    size_t count;
    int first_atom, last_atom; /* atoms [first, last) of this thread's static block */
    long bad_atom, bad_partner;
    mlpot_status status;
} thread_buffer;

/* Appends the sorted edges of atom i to the thread's buffer; the row length goes to counts. */
static void collect_atom(const mlpot_graph *g, const mlpot_structure *s, const bin_frame *fr,
                         double cutoff, int i, thread_buffer *tb, int64_t *counts) {
    long room = (long)(tb->capacity - tb->count);
    long c = atom_edges(g, s, fr, cutoff, i, tb->edges + tb->count, room);
    if (c < 0) {
        if (tb->bad_atom < 0) {
            tb->bad_atom = i;
            tb->bad_partner = -1 - c;
        }
        counts[i] = 0;
        return;
    }
    if (c > room) { /* the buffer was too small: grow it (rare after the first build), redo */
        size_t cap = tb->capacity ? tb->capacity : 1024;
        while (cap < tb->count + (size_t)c)
            cap *= 2;
        edge_entry *grown = realloc(tb->edges, cap * sizeof *grown);
        if (!grown) {
            tb->status = MLPOT_ERR_MEMORY;
            counts[i] = 0;
            return;
        }
        tb->edges = grown;
        tb->capacity = cap;
        atom_edges(g, s, fr, cutoff, i, tb->edges + tb->count, c);
    }
    sort_edges(tb->edges + tb->count, (int)c);
    tb->count += (size_t)c;
    counts[i] = c;
}

mlpot_status neighbor_graph_build(mlpot_graph *g, const mlpot_structure *s, double cutoff) {
    if (!(cutoff > 0) || !isfinite(cutoff))
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "cutoff must be a positive number, got %g",
                         cutoff);
    mlpot_status st = structure_validate(s, "neighbour graph");
    if (st)
        return st;
    int n = s->n_atoms;
    bin_frame fr;
    if ((st = frame_setup(s, cutoff, &fr)) || (st = bin_atoms(g, s, &fr)) ||
        (st = mem_reserve(&g->row_start, &g->cap_row_start, (size_t)n + 1, sizeof *g->row_start)))
        return st;
    g->n_atoms = n;
    g->cutoff = cutoff;
    int n_threads = thread_count();
    if (n_threads > g->n_buffers) {
        thread_buffer *grown = realloc(g->buffers, (size_t)n_threads * sizeof *grown);
        if (!grown)
            return error_set(MLPOT_ERR_MEMORY, "out of memory for neighbour buffers");
        memset(grown + g->n_buffers, 0, (size_t)(n_threads - g->n_buffers) * sizeof *grown);
        g->buffers = grown;
        g->n_buffers = n_threads;
    }
    thread_buffer *buffers = g->buffers;

    /* One pass: each thread collects the rows of a contiguous block of atoms. Rows do not
     * depend on each other, so the result is the same for any number of threads. */
    int64_t *counts = g->row_start + 1;
    int used_threads = 1;
    /* below GRAPH_PARALLEL_MIN atoms, starting threads costs more than the search (an 8-atom
     * MD step ran 18x slower on 2 threads of a loaded machine) */
    int parallel = n >= GRAPH_PARALLEL_MIN;
#pragma omp parallel if (parallel)
    {
        int t = thread_index(), nt = 1;
#ifdef _OPENMP
        nt = omp_get_num_threads();
#endif
#pragma omp single
        used_threads = nt;
        thread_buffer *tb = &buffers[t];
        tb->count = 0;
        tb->bad_atom = tb->bad_partner = -1;
        tb->status = MLPOT_OK;
        tb->first_atom = (int)((int64_t)n * t / nt);
        tb->last_atom = (int)((int64_t)n * (t + 1) / nt);
        for (int i = tb->first_atom; i < tb->last_atom && tb->status == MLPOT_OK; i++)
            collect_atom(g, s, &fr, cutoff, i, tb, counts);
    }
    for (int t = 0; t < used_threads; t++) {
        if (buffers[t].status)
            return error_set(MLPOT_ERR_MEMORY, "out of memory building the neighbour graph");
        if (buffers[t].bad_atom >= 0)
            return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                             "atoms %ld and %ld are at the same position (or periodic images of "
                             "each other)",
                             buffers[t].bad_atom + 1, buffers[t].bad_partner + 1);
    }
    g->row_start[0] = 0;
    for (int i = 0; i < n; i++)
        g->row_start[i + 1] += g->row_start[i];
    int64_t n_edges = g->row_start[n];
    size_t ne = (size_t)n_edges;
    if ((st = mem_reserve(&g->neighbor, &g->cap_neighbor, ne, sizeof *g->neighbor)) ||
        (st = mem_reserve(&g->image, &g->cap_image, ne * 3, sizeof *g->image)) ||
        (st = mem_reserve(&g->vector, &g->cap_vector, ne * 3, sizeof *g->vector)) ||
        (st = mem_reserve(&g->distance, &g->cap_distance, ne, sizeof *g->distance)) ||
        (st = mem_reserve(&g->reverse, &g->cap_reverse, ne, sizeof *g->reverse)))
        return st;
    g->n_edges = n_edges;

    /* Copy each thread's rows into the CSR arrays, then find reverse edges. d_ji = -d_ij holds
     * exactly in floating point (model.md §6 relies on it), so every edge has its reverse. */
    int missing = 0;
#pragma omp parallel reduction(| : missing) if (parallel)
    {
        int t = thread_index();
        if (t < used_threads) {
            const thread_buffer *tb = &buffers[t];
            int64_t e0 = tb->first_atom < n ? g->row_start[tb->first_atom] : n_edges;
            for (size_t k = 0; k < tb->count; k++) {
                int64_t e = e0 + (int64_t)k;
                g->neighbor[e] = tb->edges[k].j;
                memcpy(&g->image[3 * e], tb->edges[k].n, 3 * sizeof(int));
                memcpy(&g->vector[3 * e], tb->edges[k].d, 3 * sizeof(double));
                g->distance[e] = tb->edges[k].r;
            }
        }
#pragma omp barrier
#pragma omp for schedule(static)
        for (int i = 0; i < n; i++)
            for (int64_t e = g->row_start[i]; e < g->row_start[i + 1]; e++) {
                g->reverse[e] = find_reverse(g, e, i);
                missing |= g->reverse[e] < 0;
            }
    }
    if (missing)
        return error_set(MLPOT_ERR_INVALID_STRUCTURE,
                         "neighbour graph: an edge has no reverse (internal error)");
    return MLPOT_OK;
}

mlpot_status mlpot_graph_create(mlpot_graph **out) {
    return mem_calloc(out, 1, sizeof **out);
}

void mlpot_graph_free(mlpot_graph *g) {
    if (!g)
        return;
    free(g->row_start);
    free(g->neighbor);
    free(g->image);
    free(g->vector);
    free(g->distance);
    free(g->reverse);
    free(g->wrapped);
    free(g->shift);
    free(g->atom_bin);
    free(g->bin_atoms);
    free(g->bin_positions);
    free(g->bin_start);
    for (int t = 0; t < g->n_buffers; t++)
        free(((thread_buffer *)g->buffers)[t].edges);
    free(g->buffers);
    free(g);
}

mlpot_status mlpot_graph_build(mlpot_graph *g, const mlpot_structure *s, double cutoff) {
    if (!g || !s)
        return error_set(MLPOT_ERR_INVALID_ARGUMENT, "mlpot_graph_build: NULL argument");
    mlpot_status st = neighbor_graph_build(g, s, cutoff);
    if (st)
        g->n_edges = 0;
    return st;
}

int mlpot_graph_n_atoms(const mlpot_graph *g) {
    return g->n_atoms;
}
int64_t mlpot_graph_n_edges(const mlpot_graph *g) {
    return g->n_edges;
}
const int64_t *mlpot_graph_row_start(const mlpot_graph *g) {
    return g->row_start;
}
const int *mlpot_graph_neighbors(const mlpot_graph *g) {
    return g->neighbor;
}
const int *mlpot_graph_images(const mlpot_graph *g) {
    return g->image;
}
const double *mlpot_graph_vectors(const mlpot_graph *g) {
    return g->vector;
}
const double *mlpot_graph_distances(const mlpot_graph *g) {
    return g->distance;
}
const int64_t *mlpot_graph_reverse(const mlpot_graph *g) {
    return g->reverse;
}
