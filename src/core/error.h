/* error.h — setting the calling thread's last-error message together with a status code.
 * The library never prints: functions return a status and leave the message here. */
#ifndef MLPOT_CORE_ERROR_H
#define MLPOT_CORE_ERROR_H

#include "mlpot/mlpot.h"

#if defined(__GNUC__)
#define MLPOT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MLPOT_PRINTF(a, b)
#endif

/* Records a message for mlpot_last_error() and returns `status`, so that callers can write
 * `return error_set(MLPOT_ERR_PARSE, "%s:%d: expected ...", ...);`. */
mlpot_status error_set(mlpot_status status, const char *fmt, ...) MLPOT_PRINTF(2, 3);
/* Prefixes the current message with "prefix: " (used to add context on the way up). */
void error_prefix(const char *fmt, ...) MLPOT_PRINTF(1, 2);
void error_clear(void);

#endif
