/*
 * fuzz_common.h — what the libFuzzer harnesses of tests/fuzz/ share (not
 * part of the library): the input as a file the reader can open, a walk over
 * every event and value of a trace that checks the reader's contract, a
 * byte consumer for structured inputs, and the comparison of a read-back
 * value tree with an independent msgpack-c decoding.
 *
 * Every harness is single-threaded (the FileDatabase's flusher aside).  A
 * contract violation calls fz_fail(), which prints what differed and
 * abort()s, so libFuzzer records the input as a crash.
 */
#ifndef DASF_FUZZ_COMMON_H
#define DASF_FUZZ_COMMON_H

#include "dasf/profiler.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints "fuzz contract violated: ..." and aborts. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A regular file (a memfd) holding the current input; the reader opens it
 * by path (/proc/self/fd/N). */
typedef struct fz_file {
    char path[4096];
    int fd;
} fz_file;
/* Creates it (once); aborts on failure. */
void fz_file_init(fz_file *f, const char *name);
/* Replaces the file's content with p[0..n). */
void fz_file_set(fz_file *f, const void *p, size_t n);
/* A private directory for files the harnesses write (made on first use, on
 * /dev/shm when writable, removed at exit). */
const char *fz_dir(void);

/* Opens path with the public reader and reads every event to the end,
 * touching every string, id and value (so ASan sees any bad pointer), and
 * checks what the reader promises: names are strings, phases valid, args a
 * map, value trees well formed, stats consistent with what was returned.
 * @return the number of events, or the negative open status. */
long fz_walk(const char *path);
/* Touches every byte of a value tree (depth-checked); aborts if malformed. */
void fz_walk_value(const dasf_value *v, int depth);

/* A byte consumer: structured choices from the fuzz input (0 when empty). */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;
uint8_t fz_u8(fz_in *in);
uint64_t fz_bits(fz_in *in, int bytes); /* big-endian, 0..8 bytes */
/* A string of up to max bytes (no NUL) copied into a per-input pool. */
const char *fz_str(fz_in *in, size_t max);
/* Frees the per-input string pool. */
void fz_pool_reset(void);

/* Packs a random msgpack value (any type, depth <= max_depth; maps with
 * any key types unless str_keys) from the input. */
void fz_pack_value(fz_in *in, msgpack_packer *pk, int max_depth, bool str_keys);

/* True when the read-back tree v holds the same value as the msgpack-c
 * object o (ints by value whatever their width or signedness, floats by
 * bits (float32 via double), ext as bin).  On a difference *why says where. */
bool fz_value_eq(const dasf_value *v, const msgpack_object *o, const char **why);
/* A dasf_value tree equal to o, allocated from the per-input pool. */
dasf_value fz_value_from(const msgpack_object *o);

#endif
