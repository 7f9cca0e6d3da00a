/*
 * internal.h — what every stage of the runtime shares (not installed):
 * macros, the growable buffer, seconds <-> ns, layout detection, CRC-32C,
 * interned-name lookup, phases.
 *
 *   record/ → ring/ → flush/flusher.c → encode/ (one chunk) → append/append.c
 *   read/reader.c (decode) ← read/value.c (msgpack → dasf_value trees)
 *
 * Each stage's interface is its own header: ring.h, flusher.h, encode.h,
 * append.h, reader.h (read/ only), record.h, db.h, registry.h; rt.h holds
 * the structures they share.  Who calls what: app threads only touch
 * ring.h's inline fast path; the flusher thread (one per FileDatabase)
 * calls the encoder and the append; tools and get_traces call the reader.
 * Nothing here is thread-safe unless it says so: each object belongs to
 * one thread at a time.
 */
#ifndef DASF_INTERNAL_H
#define DASF_INTERNAL_H

#include "dasf/profiler.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define DASF_HIDDEN __attribute__((visibility("hidden")))
#define DASF_LIKELY(x) __builtin_expect(!!(x), 1)
#define DASF_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* llround() for |d| < 2^63, inline (the libm call costs more than the rest
 * of a clock conversion): truncate, then round half away from zero on the
 * exact remainder (t is exact below 2^53; above, d is already integral). */
static inline int64_t dasf_round_i64(double d) {
    int64_t t = (int64_t)d;
    double frac = d - (double)t;
    return t + (frac >= 0.5) - (frac <= -0.5);
}
#define DASF_COLD __attribute__((cold, noinline))

/* ---- growable byte buffer (buf.c) ------------------------------------- */
typedef struct dasf_buf {
    uint8_t *data;
    size_t len, cap;
} dasf_buf;

/* A file appended to through append/append.c: its descriptor (-1 until the
 * next append opens it) and where this writer's last append through it
 * ended, a chunk boundary — the next append looks for a torn tail only in
 * what others appended after it.  `end` means something only once fd is
 * open: every (re)opening walks the file from its start and sets it. */
typedef struct dasf_append_fd {
    int fd;
    uint64_t end;
} dasf_append_fd;

DASF_HIDDEN int dasf_buf_reserve(dasf_buf *b, size_t extra);
DASF_HIDDEN int dasf_buf_append(dasf_buf *b, const void *p, size_t n);
DASF_HIDDEN void dasf_buf_free(dasf_buf *b);

/* ---- layout.c ------------------------------------------------------------ */
/* The layout of a file from its first bytes (n may be < 8 for tiny files).
 * @return DASF_LAYOUT_* or DASF_EFORMAT. */
DASF_HIDDEN int dasf_detect_layout(const uint8_t *head, size_t n);

/* ---- misc.c ------------------------------------------------------------- */
/* The library's one seconds <-> nanoseconds conversion (docs/FORMAT.md 5),
 * inline: the flusher converts two doubles per event and the version-3 fix
 * converts back, and as calls into misc.c (whose dasf_seconds_to_ns and
 * dasf_ns_to_seconds are these) they were a quarter of its time.
 *
 * Exact: s = i + f with i = the integer part (|i| < 2^34: exact in int64
 * and in a double, so the truncating conversions below are trunc() without
 * a libm call) and f = s - i exact.  p = f * 1e9 is rounded once; rounding
 * is monotone and every k + 1/2 is a double here, so p lands on the same
 * side of a half as the true product unless p is exactly a half: then the
 * product's rounding error, fma(f, 1e9, -p) (exact), says which side the
 * true value is on (e.g. 1.5e-9 s is 1.49999999999999990e-9: 1 ns, not 2). */
static inline int64_t dasf_round_product_ns(double f) {
    double p = f * 1e9;
    int64_t t = (int64_t)p;
    double frac = p - (double)t;
    if (DASF_UNLIKELY(frac == 0.5)) return t + (fma(f, 1e9, -p) >= 0); /* true half: away from 0 */
    if (DASF_UNLIKELY(frac == -0.5)) return t - (fma(f, 1e9, -p) <= 0);
    return t + (frac > 0.5) - (frac < -0.5);
}

static inline int64_t dasf_seconds_to_ns_inl(double s) {
    if (DASF_UNLIKELY(s != s)) return 0;
    if (DASF_UNLIKELY(s >= 9223372036.854775807)) return INT64_MAX;
    if (DASF_UNLIKELY(s <= -9223372036.854775808)) return INT64_MIN;
    int64_t i = (int64_t)s; /* trunc(s), exact: |s| < 2^34 here */
    int64_t r = dasf_round_product_ns(s - (double)i), ns;
    if (DASF_UNLIKELY(__builtin_add_overflow(i * 1000000000, r, &ns)))
        return r > 0 ? INT64_MAX : INT64_MIN;
    return ns;
}

static inline double dasf_ns_to_seconds_inl(int64_t ns) {
    if (DASF_LIKELY(ns >= -(INT64_C(1) << 53) && ns <= INT64_C(1) << 53)) return (double)ns / 1e9;
    /* beyond 2^53 ns (double no longer holds every ns): whole seconds exact,
     * plus the fraction */
    int64_t q = ns / 1000000000, r = ns % 1000000000;
    return (double)q + (double)r / 1e9;
}

DASF_HIDDEN int64_t dasf_realtime_offset_ns(void);
DASF_HIDDEN const char *dasf_hostname(void);

/* ---- crc32c.c ----------------------------------------------------------- */
DASF_HIDDEN uint32_t dasf_crc32c(uint32_t crc, const void *p, size_t n);
/* crc32c.c: the table-driven path whatever the CPU (tests compare both). */
DASF_HIDDEN uint32_t dasf_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* ---- intern.c ------------------------------------------------------------ */
DASF_HIDDEN const char *dasf_intern_lookup(dasf_name h, uint32_t *len);
/* Every name interned from now on (and each one so far, at once) is passed
 * to fn (ring/shm.c's "names" file), under the intern lock; forget: stop. */
DASF_HIDDEN void dasf_intern_set_mirror(void (*fn)(uint32_t h, const char *s, uint32_t len));
DASF_HIDDEN void dasf_intern_forget_mirror(void);

/* ---- phase.c ------------------------------------------------------------- */
/* Letter → phase index + 1 (0: not a phase), for inline lookups. */
DASF_HIDDEN extern const signed char dasf_phase_index1[128];
static inline int dasf_phase_fast_index(int p) {
    return p > 0 && p < 128 ? dasf_phase_index1[p] - 1 : -1;
}
/* Validates that p..p+n is exactly one msgpack value; map_only → must be a map. */
DASF_HIDDEN int dasf_msgpack_check(const void *p, size_t n, int map_only);

#endif
