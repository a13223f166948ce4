/* fuzz_poscar.c — libFuzzer harness for the POSCAR reader: reads structures from the input
 * until the end or an error (the rest of a POSCAR is read as a further POSCAR, which exercises
 * the reader on arbitrary text too), and writes each structure read back and re-reads it. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_reader(data, size, poscar_read, poscar_write, 0);
    return 0;
}
