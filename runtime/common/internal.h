/*
 * internal.h — contracts between the runtime's stages (not installed).
 *
 *   record/ → ring/ → flush/flusher.c → encode/ (one chunk) → append/append.c
 *   read/reader.c (decode) ← read/value.c (msgpack → dasf_value trees)
 *
 * Who calls what: app threads only touch ring.h's inline fast path; the
 * flusher thread (one per FileDatabase) calls the encoder and the append; tools
 * and get_traces call the reader.  Nothing here is thread-safe unless it
 * says so: each object belongs to one thread at a time.
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

DASF_HIDDEN int dasf_buf_reserve(dasf_buf *b, size_t extra);
DASF_HIDDEN int dasf_buf_append(dasf_buf *b, const void *p, size_t n);
DASF_HIDDEN void dasf_buf_free(dasf_buf *b);

/* ---- encode/ (chunk_enc.c): events → the bytes of one chunk ------------ */

/* One event ready to encode.  Ids are resolved (never DASF_ID_AUTO for
 * process_id/thread_id).  Timestamps come in both forms so each layout
 * gets what it needs bit-exactly: the legacy layout stores ts/dur (the
 * caller's doubles); the archive stores ts_ns/dur_ns plus, from version 3,
 * what turns dasf_ns_to_seconds(ns) back into the caller's double.  Exactly one of the
 * three args forms is used: args/n_args, args_msgpack (one msgpack map),
 * or args_value (a DASF_VAL_MAP tree); none → empty map. */
/* A caller-held memo of the strings it hands the encoder again and again
 * from storage whose address changes every event (the flusher keeps one
 * per ring: names and arg keys copied into the ring).  Slot → string
 * index in the encoder's current chunk; a hit is verified by length and
 * content against the chunk's own copy, so a new buffer with the same
 * bytes is recognised and a reused buffer with new bytes never aliases.
 * Belongs to one encoder chunk at a time (owner, gen): the encoder clears
 * it when the chunk changed.  Zero-initialised = empty. */
#define DASF_ENC_MEMO_KEYS 8  /* arg keys by position */
#define DASF_ENC_MEMO_NAMES 32 /* names by (length, first, last byte) */
typedef struct dasf_enc_memo {
    const void *owner;
    uint64_t gen;
    uint32_t key1[DASF_ENC_MEMO_KEYS];   /* string index + 1; 0 = empty */
    uint32_t name1[DASF_ENC_MEMO_NAMES]; /* string index + 1; 0 = empty */
} dasf_enc_memo;

typedef struct dasf_enc_event {
    const char *name;
    size_t name_len;
    int64_t ts_ns, dur_ns;
    double ts, dur;
    char phase;
    char scope;        /* 0 = absent (written as 'g' for phase I in legacy) */
    dasf_id pid, tid;  /* resolved */
    const char *cat;   /* NULL = absent */
    size_t cat_len;
    dasf_id id;        /* DASF_ID_AUTO = absent */
    const dasf_arg *args;
    size_t n_args;
    const uint32_t *key_lens; /* strlen of each args[i].key, or NULL: unknown */
    const void *args_msgpack;
    size_t args_msgpack_size;
    const dasf_value *args_value;
    unsigned char kept; /* DASF_KEEP_*: how a file being converted held the values */
    dasf_enc_memo *memo; /* NULL = none; used for keys of known length, and for */
    unsigned char name_copied; /* a name of known length when set: its address
                                  changes every event (a copy in a ring); else
                                  the name is found by its pointer (interned) */
    unsigned char ns_exact; /* the event's times are ts_ns/dur_ns (recorded in
                               ns or ticks): ts/dur are not set, the encoder
                               takes dasf_ns_to_seconds of them where a layout
                               needs doubles, and there is no version-3 fix */
} dasf_enc_event;

/* dasf_enc_event.kept: integer seconds (applied only when ts_ns / dur_ns is
 * a whole number of seconds), nil args (only when there are none). */
enum { DASF_KEEP_TS_INT = 1, DASF_KEEP_DUR_INT = 2, DASF_KEEP_ARGS_NIL = 4 };

/* Writer identity recorded in an archive chunk's metadata. */
typedef struct dasf_chunk_origin {
    int64_t pid;
    const char *host;
    const char *clock;          /* "monotonic" */
    int64_t realtime_offset_ns; /* CLOCK_REALTIME - clock at write time */
    uint64_t dropped;           /* events dropped since the previous chunk */
} dasf_chunk_origin;

typedef struct dasf_chunk_enc dasf_chunk_enc;

/* What writers produce, so that every chunk they write reads within the
 * reader's bounds (archive.h, docs/FORMAT.md section 6): a chunk is closed
 * once it holds DASF_CHUNK_MAX_EVENTS events, as many strings or streams,
 * or DASF_CHUNK_TARGET_BYTES of encoded events and strings; one event's
 * record (profiler) or args encoding (dasf_writer) is at most
 * DASF_MAX_EVENT_BYTES. */
#define DASF_CHUNK_MAX_EVENTS ((size_t)1 << 18)
#define DASF_CHUNK_TARGET_BYTES ((size_t)8 << 20)
#define DASF_MAX_EVENT_BYTES ((size_t)1 << 20)

/* level 0: legacy layout with byte_size-byte big-endian length prefixes;
 * level 1..19: archive chunk compressed at that zstd level. */
DASF_HIDDEN int dasf_chunk_enc_create(dasf_chunk_enc **out, int level, int byte_size);
/* Adds one event (DASF_EINVAL on a bad args_msgpack/args_value, nothing added). */
DASF_HIDDEN int dasf_chunk_enc_add(dasf_chunk_enc *e, const dasf_enc_event *ev);
DASF_HIDDEN size_t dasf_chunk_enc_count(const dasf_chunk_enc *e);
/* The chunk is full (DASF_CHUNK_* above): finish it before adding more. */
DASF_HIDDEN int dasf_chunk_enc_full(const dasf_chunk_enc *e);
/* Appends the whole chunk (the exact bytes to write to the file) to out
 * and resets the encoder for the next chunk.  0 events → nothing appended. */
DASF_HIDDEN int dasf_chunk_enc_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o,
                                      dasf_buf *out);
DASF_HIDDEN void dasf_chunk_enc_destroy(dasf_chunk_enc *e);

/* layout.c: the layout of a file from its first bytes (n may be < 8 for tiny files).
 * @return DASF_LAYOUT_* or DASF_EFORMAT. */
DASF_HIDDEN int dasf_detect_layout(const uint8_t *head, size_t n);

/* Validates that p..p+n is exactly one msgpack value; map_only → must be a map. */
DASF_HIDDEN int dasf_msgpack_check(const void *p, size_t n, int map_only);

/* ---- append.c: appending a chunk to a file ---------------------------- */

/* Opens (O_APPEND; a new file O_CREAT|O_EXCL; O_NOFOLLOW unless follow;
 * regular files only), takes flock(LOCK_EX) polled with backoff up to
 * lock_timeout seconds, checks that the file is empty or of `layout`,
 * writes all of buf in one write(), fsyncs when flush, unlocks.  On a
 * failed or short write the file is truncated back to its size before
 * the append.  fd is cached in *fdp across calls (-1 = not open yet).
 * DASF_ESYMLINK / DASF_ENOTREG for a link (without follow) / non-regular file. */
DASF_HIDDEN int dasf_file_append(int *fdp, const char *path, int layout, const void *buf,
                                 size_t len, double lock_timeout, int flush, int follow);
/* What is at path now is acceptable as a trace file to append to: nothing,
 * or a regular file (a link: DASF_ESYMLINK unless follow, then its target).
 * @return 0, DASF_ESYMLINK or DASF_ENOTREG.  Does not open anything. */
DASF_HIDDEN int dasf_trace_path_check(const char *path, int follow);
/* remove_old_output_file: unlinks a regular file or a symbolic link (the
 * link itself) at path; DASF_ENOTREG (nothing removed) for anything else. */
DASF_HIDDEN int dasf_trace_path_remove(const char *path);

/* db.c: 0 when path's directory exists and path can be created or written
 * there; else DASF_ENOENT (no such directory) or DASF_EIO, with the errno
 * in *err (and errno). */
DASF_HIDDEN int dasf_trace_path_writable(const char *path, int *err);

/* ---- misc -------------------------------------------------------------- */

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
DASF_HIDDEN uint32_t dasf_crc32c(uint32_t crc, const void *p, size_t n);

#endif
