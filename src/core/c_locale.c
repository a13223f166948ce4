/* c_locale.c — the "C" locale, created once, switched to per thread (uselocale) around
 * strtod and printf-style formatting of numbers. */
#define _POSIX_C_SOURCE 200809L
#include "core/c_locale.h"

#include <pthread.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_create(void) {
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t c_locale_begin(void) {
    pthread_once(&c_locale_once, c_locale_create);
    /* If newlocale failed (no memory), uselocale((locale_t)0) leaves the locale unchanged: the
     * numbers are then as the program's locale makes them, as before. */
    return uselocale(c_locale);
}

void c_locale_end(locale_t saved) {
    if (saved)
        uselocale(saved);
}
