/* error.c — the per-thread last-error message. It is thread-local (like errno) so that
 * concurrent callers, e.g. OpenMP threads or several MD engines in one process, do not
 * overwrite each other's messages; it is the only state the library keeps outside handles. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MESSAGE_SIZE 1024

static _Thread_local char last_error[ERROR_MESSAGE_SIZE];

const char *mlpot_last_error(void) {
    return last_error;
}

mlpot_status error_set(mlpot_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void error_prefix(const char *fmt, ...) {
    char old[ERROR_MESSAGE_SIZE];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* "prefix: old message", cut at the buffer size (the start, which says where, matters most) */
    size_t used = n < 0 ? 0 : ((size_t)n < sizeof last_error ? (size_t)n : sizeof last_error - 1);
    size_t room = sizeof last_error - 1 - used;
    size_t old_len = strlen(old);
    const char sep[] = ": ";
    size_t take = room < 2 ? room : 2;
    memcpy(last_error + used, sep, take);
    used += take;
    room -= take;
    take = old_len < room ? old_len : room;
    memcpy(last_error + used, old, take);
    last_error[used + take] = '\0';
}

void error_clear(void) {
    last_error[0] = '\0';
}

const char *mlpot_status_string(mlpot_status status) {
    switch (status) {
    case MLPOT_OK: return "ok";
    case MLPOT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MLPOT_ERR_IO: return "input/output error";
    case MLPOT_ERR_PARSE: return "parse error";
    case MLPOT_ERR_MEMORY: return "out of memory";
    case MLPOT_ERR_INVALID_STRUCTURE: return "invalid structure";
    case MLPOT_ERR_UNSUPPORTED: return "unsupported";
    case MLPOT_ERR_SYMMETRY: return "symmetry error";
    }
    return "unknown status";
}

#define MLPOT_STR2(x) #x
#define MLPOT_STR(x) MLPOT_STR2(x)

const char *mlpot_version_string(void) {
    return MLPOT_STR(MLPOT_VERSION_MAJOR) "." MLPOT_STR(MLPOT_VERSION_MINOR) "." MLPOT_STR(
        MLPOT_VERSION_PATCH);
}
