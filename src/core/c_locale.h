/* c_locale.h — numbers in text that do not depend on the program's locale: an embedding
 * program may call setlocale() with a decimal comma, while our files always use a point. */
#ifndef MLPOT_CORE_C_LOCALE_H
#define MLPOT_CORE_C_LOCALE_H

#include <locale.h>

/* Makes the calling thread use the "C" locale until c_locale_end(saved); returns what to pass
 * to c_locale_end. Cheap (a thread-local switch), so it can wrap each number. */
locale_t c_locale_begin(void);
void c_locale_end(locale_t saved);

#endif
