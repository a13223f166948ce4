/* fuzz_extxyz.c — libFuzzer harness for the extended XYZ reader: reads every frame of the
 * input (at most FUZZ_MAX_FRAMES) until the end or an error, and writes each frame read back
 * and re-reads it, comparing atoms, cell, labels, info and extra columns. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_reader(data, size, extxyz_read, extxyz_write, 1);
    return 0;
}
