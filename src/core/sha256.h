/* sha256.h — SHA-256 (FIPS 180-4) of byte streams and files, for recording which dataset a
 * model was trained on. */
#ifndef MLPOT_CORE_SHA256_H
#define MLPOT_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "mlpot/mlpot.h"

typedef struct {
    uint32_t state[8];       /* working hash value H(i) */
    uint64_t length;         /* total bytes fed so far */
    unsigned char block[64]; /* pending partial block */
    size_t used;             /* bytes of block in use (< 64 between calls) */
} sha256_context;

void sha256_init(sha256_context *c);
/* Feeds n bytes (data may be NULL when n == 0); any split of a stream gives the same digest. */
void sha256_update(sha256_context *c, const void *data, size_t n);
/* Pads, writes the 32-byte big-endian digest and leaves c re-initialised. */
void sha256_final(sha256_context *c, unsigned char digest[32]);
/* hex[65] = lowercase hex digest of the whole file; MLPOT_ERR_IO (with error_set message naming
 * the file) if unreadable. */
mlpot_status sha256_file_hex(const char *path, char hex[65]);

#endif
