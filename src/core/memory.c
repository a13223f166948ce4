/* memory.c — checked allocation helpers (see memory.h). */
#include "core/memory.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static int size_overflows(size_t count, size_t size) {
    return size != 0 && count > SIZE_MAX / size;
}

mlpot_status mem_calloc(void *ptr, size_t count, size_t size) {
    if (size_overflows(count, size))
        return error_set(MLPOT_ERR_MEMORY, "allocation of %zu x %zu bytes overflows", count, size);
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        return error_set(MLPOT_ERR_MEMORY, "out of memory allocating %zu x %zu bytes", count, size);
    *(void **)ptr = p;
    return MLPOT_OK;
}

mlpot_status mem_resize(void *ptr, size_t count, size_t size) {
    if (size_overflows(count, size))
        return error_set(MLPOT_ERR_MEMORY, "allocation of %zu x %zu bytes overflows", count, size);
    size_t bytes = count * size;
    void *p = realloc(*(void **)ptr, bytes ? bytes : 1);
    if (!p)
        return error_set(MLPOT_ERR_MEMORY, "out of memory allocating %zu bytes", bytes);
    *(void **)ptr = p;
    return MLPOT_OK;
}

mlpot_status mem_reserve(void *ptr, size_t *capacity, size_t needed, size_t size) {
    if (needed <= *capacity && *(void **)ptr)
        return MLPOT_OK;
    size_t cap = *capacity ? *capacity : 8;
    while (cap < needed)
        cap = cap > SIZE_MAX / 2 ? needed : cap * 2;
    mlpot_status st = mem_resize(ptr, cap, size);
    if (st == MLPOT_OK)
        *capacity = cap;
    return st;
}

mlpot_status mem_strdup(char **out, const char *text) {
    if (!text) {
        *out = NULL;
        return MLPOT_OK;
    }
    size_t n = strlen(text) + 1;
    char *p = malloc(n);
    if (!p)
        return error_set(MLPOT_ERR_MEMORY, "out of memory copying a string of %zu bytes", n);
    memcpy(p, text, n);
    *out = p;
    return MLPOT_OK;
}
