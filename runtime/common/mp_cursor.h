/*
 * mp_cursor.h — our msgpack reading cursor over a byte span (not installed).
 *
 * Used by the reader (read/), the encoder's args checks (phase.c,
 * archive_enc.c) and the tools' tests; any thread, no state but the
 * cursor's.  Our own small decoder: the reader decodes millions of tiny
 * event arrays per second, and a bounds-checked cursor over a byte span
 * is several times faster than building msgpack-c object trees.  Every
 * cursor function fails (returns -1) instead of reading past `end`.
 * The implementation is mp_cursor.c; trees of values are value.h's.
 */
#ifndef DASF_MP_CURSOR_H
#define DASF_MP_CURSOR_H

#include "internal.h"

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
