/* bench_common.c — helpers shared by the benchmarks. */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double bench_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

long bench_peak_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

long bench_current_rss_kb(void) {
    long pages = 0, resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp)
        return 0;
    if (fscanf(fp, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(fp);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

mlpot_structure *bench_supercell(const char *name, int m) {
    char path[4096];
    snprintf(path, sizeof path, "%s/structures/%s", MLPOT_SOURCE_DIR, name);
    mlpot_structure **frames = NULL;
    int n_frames = 0;
    if (mlpot_read_all(path, NULL, &frames, &n_frames)) {
        fprintf(stderr, "bench: %s\n", mlpot_last_error());
        exit(1);
    }
    mlpot_structure *s = frames[0];
    for (int k = 1; k < n_frames; k++)
        mlpot_structure_free(frames[k]);
    free(frames);
    int n = mlpot_structure_n_atoms(s), total = n * m * m * m;
    const double *cell = mlpot_structure_cell(s), *pos = mlpot_structure_positions(s);
    const int *z = mlpot_structure_numbers(s);
    int *numbers = malloc((size_t)total * sizeof *numbers);
    double *p = malloc((size_t)total * 3 * sizeof *p), big[9];
    if (!numbers || !p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    int k = 0;
    for (int a = 0; a < m; a++)
        for (int b = 0; b < m; b++)
            for (int c = 0; c < m; c++)
                for (int i = 0; i < n; i++, k++) {
                    numbers[k] = z[i];
                    for (int x = 0; x < 3; x++)
                        p[3 * k + x] =
                            pos[3 * i + x] + a * cell[x] + b * cell[3 + x] + c * cell[6 + x];
                }
    for (int x = 0; x < 9; x++)
        big[x] = cell[x] * m;
    mlpot_structure *out = NULL;
    if (mlpot_structure_create(&out, total, numbers, p, big, mlpot_structure_pbc(s))) {
        fprintf(stderr, "bench: %s\n", mlpot_last_error());
        exit(1);
    }
    free(numbers);
    free(p);
    mlpot_structure_free(s);
    return out;
}
