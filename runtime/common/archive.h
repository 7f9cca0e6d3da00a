/*
 * archive.h — the archive layout's constants and the msgpack reading
 * primitives shared by the encoder (encode/), value.c and reader.c (not installed).
 *
 * docs/FORMAT.md is the normative description of every constant here; a
 * change to one of them is a format change and bumps DASF_FORMAT_VERSION.
 * The msgpack cursor is our own small decoder: the reader decodes millions
 * of tiny event arrays per second, and a bounds-checked cursor over a byte
 * span is several times faster than building msgpack-c object trees.
 * Every cursor function fails (returns -1) instead of reading past `end`.
 */
#ifndef DASF_ARCHIVE_H
#define DASF_ARCHIVE_H

#include "internal.h"

#include <string.h>

/* ---- the archive layout -------------------------------------------------- */

/* zstd skippable frame magic carrying a chunk's metadata (0x184D2A5D: the
 * last nibble 'D' for DASF), stored little-endian like every zstd magic. */
#define DASF_CHUNK_MAGIC 0x184D2A5Du
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
/* (What writers produce to stay within these: internal.h, DASF_CHUNK_*.) */

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

/* phase.c: letter → phase index + 1 (0: not a phase), for inline lookups. */
DASF_HIDDEN extern const signed char dasf_phase_index1[128];
static inline int dasf_phase_fast_index(int p) {
    return p > 0 && p < 128 ? dasf_phase_index1[p] - 1 : -1;
}

/* crc32c.c: the table-driven path whatever the CPU (tests compare both). */
DASF_HIDDEN uint32_t dasf_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* ---- arena (value.c): bump allocator reset per event / per chunk -------- */
typedef struct dasf_arena_block dasf_arena_block;
typedef struct dasf_arena {
    dasf_arena_block *head, *cur;
    dasf_arena_block *big; /* blocks of one large allocation each */
    size_t limit; /* bytes of blocks it may hold (0: no limit) */
    size_t held;  /* bytes of blocks it holds */
    int over;     /* an allocation failed because of limit (not malloc) */
} dasf_arena;

/* NULL on malloc failure or when the arena would pass its limit (then
 * a->over is set; dasf_arena_reset clears it). */
DASF_HIDDEN void *dasf_arena_alloc(dasf_arena *a, size_t n);
DASF_HIDDEN char *dasf_arena_strdup(dasf_arena *a, const void *p, size_t n);
DASF_HIDDEN void dasf_arena_reset(dasf_arena *a);
DASF_HIDDEN void dasf_arena_free(dasf_arena *a);

/* ---- msgpack cursor ------------------------------------------------------ */
typedef struct dasf_mp {
    const uint8_t *p, *end;
} dasf_mp;
/* Set (on the calling thread) when a cursor read failed for want of bytes
 * before `end`, as opposed to malformed bytes; never cleared by the cursor.
 * A caller parsing a prefix clears it first: set after a failure means
 * "the prefix is a plausible start, need more".  Only failure paths touch
 * it. */
DASF_HIDDEN extern __thread int dasf_mp_short;

/* One msgpack item header: scalars carry their value; STR/BIN carry a
 * pointer into the input; ARRAY/MAP carry their element count (the
 * elements follow in the input). ext values read as BIN (type dropped). */
typedef struct dasf_mp_obj {
    dasf_value_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct {
            const uint8_t *ptr;
            uint32_t len;
        } s;
        uint32_t n;
    } v;
} dasf_mp_obj;

DASF_HIDDEN int dasf_mp_read(dasf_mp *c, dasf_mp_obj *o);
/* Skips one complete value (any depth, no recursion). */
DASF_HIDDEN int dasf_mp_skip(dasf_mp *c);
/* Decodes one complete value into a tree allocated from a (strings
 * copied, NUL-terminated).  Depth is limited to 256. */
DASF_HIDDEN int dasf_value_decode(dasf_mp *c, dasf_arena *a, dasf_value *out);

static inline uint64_t dasf_load_be(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}
static inline uint32_t dasf_load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void dasf_store_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Fast paths for the integer-heavy event arrays; fall back to the general
 * reader for anything unusual.  @return 0 or -1. */
static inline int dasf_mp_int(dasf_mp *c, int64_t *out) {
    if (DASF_LIKELY(c->p < c->end)) {
        uint8_t b = *c->p;
        if (b <= 0x7f || b >= 0xe0) {
            *out = (int8_t)b;
            c->p++;
            return 0;
        }
    }
    dasf_mp_obj o;
    if (dasf_mp_read(c, &o)) return -1;
    if (o.type == DASF_VAL_INT) {
        *out = o.v.i;
        return 0;
    }
    if (o.type == DASF_VAL_UINT) { /* wrap-around deltas may use the full range */
        *out = (int64_t)o.v.u;
        return 0;
    }
    return -1;
}

static inline int dasf_mp_array(dasf_mp *c, uint32_t *n) {
    if (DASF_LIKELY(c->p < c->end) && (*c->p & 0xf0) == 0x90) {
        *n = *c->p++ & 0x0f;
        return 0;
    }
    dasf_mp_obj o;
    if (dasf_mp_read(c, &o) || o.type != DASF_VAL_ARRAY) return -1;
    *n = o.v.n;
    return 0;
}

#endif
