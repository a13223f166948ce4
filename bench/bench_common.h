/* bench_common.h — what the benchmarks share: a monotonic clock, supercells of the shipped
 * crystals, and peak memory. */
#ifndef MLPOT_BENCH_COMMON_H
#define MLPOT_BENCH_COMMON_H

#include "mlpot/mlpot.h"

double bench_seconds(void);
/* CPU time of the process (all threads): for single-thread rates on a shared machine. */
double bench_cpu_seconds(void);
/* The n x n x n supercell of structures/<name> (exits with a message on failure). */
mlpot_structure *bench_supercell(const char *name, int n);
/* Peak resident memory of the process so far, and current resident memory, in kB. */
long bench_peak_rss_kb(void);
long bench_current_rss_kb(void);

#endif
