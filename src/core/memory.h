/* memory.h — allocation helpers that check size arithmetic for overflow and report failures
 * through error_set(), so that an absurd size read from a file becomes an error, not a crash. */
#ifndef MLPOT_CORE_MEMORY_H
#define MLPOT_CORE_MEMORY_H

#include <stddef.h>

#include "mlpot/mlpot.h"

/* *ptr = calloc(count, size) with overflow check; on failure *ptr is unchanged. */
mlpot_status mem_calloc(void *ptr, size_t count, size_t size);
/* Grows *ptr (realloc) to hold `count` elements of `size` bytes; new bytes are not zeroed. */
mlpot_status mem_resize(void *ptr, size_t count, size_t size);
/* Ensures capacity for `needed` elements, growing geometrically; *capacity is updated. */
mlpot_status mem_reserve(void *ptr, size_t *capacity, size_t needed, size_t size);
/* strdup that reports failure; *out = NULL for a NULL input. */
mlpot_status mem_strdup(char **out, const char *text);

#endif
