/*
 * fuzz_reader.c — libFuzzer target: raw bytes as a trace file.
 *
 * The input is written to a regular file and read with the public reader
 * (dasf_trace_open / next / chunk / stats): the layout is autodetected, so
 * the seed corpus (tests/fuzz/seeds.c: archives and legacy files of every
 * event kind, plus the repro inputs) drives both layouts; every event, id
 * and value tree is walked (fuzz_common.c), and the reader's promises are
 * checked.  Checksums make most mutations of an archive chunk damage, which
 * exercises resynchronisation and damage accounting; fuzz_chunk reaches the
 * event decoder behind them.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fz_file f;
    fz_file_init(&f, "reader-input");
    fz_file_set(&f, data, size);
    fz_walk(f.path);
    return 0;
}
