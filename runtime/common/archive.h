/*
 * archive.h — the archive layout's constants (not installed).
 *
 * docs/FORMAT.md is the normative description of every constant here; a
 * change to one of them is a format change and bumps DASF_FORMAT_VERSION.
 * Shared by the encoder (encode/), the layout check (layout.c) and the
 * reader (read/); the msgpack cursor they read with is mp_cursor.h.
 */
#ifndef DASF_ARCHIVE_H
#define DASF_ARCHIVE_H

#include "byteorder.h"
#include "internal.h"

#include <string.h>

/* ---- the archive layout -------------------------------------------------- */

/* zstd skippable frame magic carrying a chunk's metadata (0x184D2A5D: the
 * last nibble 'D' for DASF), stored little-endian like every zstd magic. */
#define DASF_CHUNK_MAGIC 0x184D2A5Du
/* The same four bytes as they stand in the file, for byte searches and
 * prefix checks (resync, torn tails): an initializer,
 * `static const uint8_t m[4] = DASF_CHUNK_MAGIC_LE;`. */
#define DASF_CHUNK_MAGIC_LE {0x5D, 0x2A, 0x4D, 0x18}
#define DASF_ZSTD_MAGIC 0xFD2FB528u
#define DASF_FORMAT_VERSION 3     /* what the writer emits */
#define DASF_FORMAT_VERSION_MIN 1 /* oldest version the reader reads */
/* Upper bounds a reader accepts before believing a length (resync safety,
 * bounded memory: docs/FORMAT.md section 6 states the rule). */
#define DASF_MAX_META_SIZE 4096u
#define DASF_MAX_CHUNK_RAW ((uint64_t)64 << 20)
#define DASF_MAX_LEGACY_RECORD ((uint64_t)1 << 28)
/* Decoded structures a reader holds: one chunk's tables (strings, streams,
 * schemas) and one event (its args tree), each an arena of at most this. */
#define DASF_READ_TABLES_BUDGET ((size_t)48 << 20)
#define DASF_READ_EVENT_BUDGET ((size_t)32 << 20)
/* What writers produce, so that every chunk they write reads within the
 * reader's bounds (above, docs/FORMAT.md section 6): a chunk is closed
 * once it holds DASF_CHUNK_MAX_EVENTS events, as many strings or streams,
 * or DASF_CHUNK_TARGET_BYTES of encoded events and strings; one event's
 * record (profiler) or args encoding (dasf_writer) is at most
 * DASF_MAX_EVENT_BYTES. */
#define DASF_CHUNK_MAX_EVENTS ((size_t)1 << 18)
#define DASF_CHUNK_TARGET_BYTES ((size_t)8 << 20)
#define DASF_MAX_EVENT_BYTES ((size_t)1 << 20)

/* Event array, element 0: the code. */
enum {
    DASF_EC_PHASE = 0x0f,  /* phase index (dasf_phase_index order) */
    DASF_EC_STREAM = 0x10, /* a stream index follows */
    DASF_EC_TSEND = 0x20,  /* the time value is end - prev_end (else start - prev_end) */
    DASF_EC_EXT = 0x40,    /* an extension-flags integer follows */
};
/* Version 2: a negative code (a msgpack negative fixint, -32..-1) is the
 * compact form of an X event without extension fields; c = -1 - code. */
enum {
    DASF_CC_STREAM = 0x01,   /* a stream index follows */
    DASF_CC_TMODE = 0x06,    /* time mode, (c >> 1) & 3: one of DASF_TM_* */
    DASF_CC_SCHEMA = 0x08,   /* args are values only, keys from the name's schema */
    DASF_CC_FIX = 0x10, /* version 3: ts_fix, dur_fix follow dur (version 2: must be clear) */
};
enum {
    DASF_TM_START_PREV_END = 0, /* tv = start - prev_end */
    DASF_TM_END_PREV_END = 1,   /* tv = end - prev_end */
    DASF_TM_START_PREV_START = 2, /* tv = start - prev_start */
};
/* Extension flags: which optional fields follow, in this order. */
enum {
    DASF_EX_SCOPE = 0x01,    /* scope letter as an int */
    DASF_EX_CAT = 0x02,      /* cat as a string index */
    DASF_EX_ID_INT = 0x04,   /* id as an int */
    DASF_EX_ID_STR = 0x08,   /* id as a string index */
    DASF_EX_ID_NIL = 0x10,   /* id is nil (nothing follows) */
    DASF_EX_ARGS_MAP = 0x20, /* args as one verbatim msgpack map, no pairs */
    /* version 3 (lossless round trips): */
    DASF_EX_TS_FIX = 0x40,    /* int: the timestamp double's bits - those of ns_to_seconds(ns) */
    DASF_EX_DUR_FIX = 0x80,   /* int: the same for the duration (phase X) */
    DASF_EX_TS_INT = 0x100,   /* the timestamp was an integer (seconds); no field */
    DASF_EX_DUR_INT = 0x200,  /* the duration was an integer (phase X); no field */
    DASF_EX_ARGS_NIL = 0x400, /* args was nil (no pairs follow); no field */
    DASF_EX_V3_ALL = 0x7ff,
};

/* The caller's double from its nanoseconds and a version 3 fix: the bits
 * of dasf_ns_to_seconds(ns) plus fix (mod 2^64).  fix = 0: none. */
static inline double dasf_time_fixed(int64_t ns, int64_t fix) {
    double d = dasf_ns_to_seconds_inl(ns);
    if (fix) {
        uint64_t b;
        memcpy(&b, &d, 8);
        b += (uint64_t)fix;
        memcpy(&d, &b, 8);
    }
    return d;
}
/* The fix that makes dasf_time_fixed(ns, fix) give exactly d (0: none). */
static inline int64_t dasf_time_fix(double d, int64_t ns) {
    double g = dasf_ns_to_seconds_inl(ns);
    uint64_t a, b;
    memcpy(&a, &d, 8);
    memcpy(&b, &g, 8);
    return (int64_t)(a - b);
}

#endif
