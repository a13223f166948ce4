/* fuzz_cif.c — libFuzzer harness for the CIF reader: reads every data block until the end or an
 * error; there is no CIF writer, so each structure read is written as extended XYZ and read back
 * (atoms, positions, cell and pbc must survive bit for bit). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_reader_via(data, size, cif_read, extxyz_write, extxyz_read, 0);
    return 0;
}
