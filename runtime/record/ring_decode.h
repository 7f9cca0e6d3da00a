/*
 * ring_decode.h — a ring record → one event for the encoder, the inverse of
 * record.c's payload writer (not installed).
 *
 * Called by a recoverer (dasf_decode_rec: records of a dead process's
 * shared ring), by the flusher thread and the compression workers (flush/workers.c),
 * through encode/ring_enc.c, whose
 * direct path reads the payload with the same inline readers below.  The
 * record layout and the payload items (DASF_RF_*, DASF_PT_*) are in rt.h.
 */
#ifndef DASF_RING_DECODE_H
#define DASF_RING_DECODE_H

#include "clock.h"
#include "rt.h"

#include <string.h>

/* ---- the payload reader (also used by encode/ring_enc.c's direct path) ----
 * Every read is bounds-checked against the record: a ring garbled by a
 * signal handler that recorded on top of its own thread's half-written
 * record must not make the flusher read outside the ring.  c->bad is set
 * once a read would not fit, and every later read then fails.  Inline: in
 * the encoder's direct path the compiler folds the checks of one item
 * together (out of line they were a fifth of its instructions with copied
 * names and args). */
#define DASF_RD_INLINE static inline __attribute__((always_inline))
typedef struct dasf_rd_cursor {
    const uint8_t *p, *end;
    int bad;
} dasf_rd_cursor;

DASF_RD_INLINE int dasf_rd_need(dasf_rd_cursor *c, size_t n) {
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return 0;
    }
    return 1;
}

DASF_RD_INLINE uint8_t dasf_rd_u8(dasf_rd_cursor *c) {
    return dasf_rd_need(c, 1) ? *c->p++ : 0;
}

DASF_RD_INLINE uint32_t dasf_rd_u32(dasf_rd_cursor *c) {
    uint32_t v = 0;
    if (dasf_rd_need(c, 4)) {
        memcpy(&v, c->p, 4);
        c->p += 4;
    }
    return v;
}

DASF_RD_INLINE const char *dasf_rd_str(dasf_rd_cursor *c, uint32_t *len) {
    *len = dasf_rd_u32(c);
    if (!dasf_rd_need(c, (size_t)*len + 1) || c->p[*len] != 0) {
        c->bad = 1;
        *len = 0;
        return "";
    }
    const char *s = (const char *)c->p;
    c->p += *len + 1; /* bytes + NUL */
    return s;
}

/* A record's ts/dur word as the caller's double (DASF_TS_DOUBLE). */
DASF_RD_INLINE double dasf_rd_dbl(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* One DASF_PT_ARG item after its tag: key, type, value (strings and raw
 * msgpack point into the record). */
DASF_RD_INLINE void dasf_rd_arg(dasf_rd_cursor *c, dasf_arg *a, uint32_t *key_len) {
    uint32_t len;
    a->key = dasf_rd_str(c, key_len);
    a->type = (dasf_arg_type)dasf_rd_u8(c);
    switch (a->type) {
    case DASF_ARG_BOOL:
        a->v.b = dasf_rd_u8(c) != 0;
        break;
    case DASF_ARG_STR:
        a->v.s = dasf_rd_str(c, &len);
        break;
    case DASF_ARG_MSGPACK:
        a->v.raw.data = dasf_rd_str(c, &len);
        a->v.raw.size = len;
        break;
    case DASF_ARG_INT:
    case DASF_ARG_UINT:
    case DASF_ARG_DOUBLE:
        if (dasf_rd_need(c, 8)) {
            memcpy(&a->v, c->p, 8);
            c->p += 8;
        }
        break;
    default:
        c->bad = 1;
    }
}

/* Scratch for one decoded record (flusher-private, reused). */
typedef struct dasf_decode_scratch {
    dasf_arg *args;
    uint32_t *klens; /* each arg key's length, from the payload */
    size_t cap;
} dasf_decode_scratch;

/* Decodes rec (a record of ring r, not a PAD) into e, whose strings then
 * point into the ring (or the interned names) and into sc; memo is passed
 * through to the encoder (e->memo).  @return 0, DASF_ENOMEM, or
 * DASF_ECORRUPT for a record whose name handle is unknown or whose payload
 * does not parse within its bounds. */
DASF_HIDDEN int dasf_ring_decode(const dasf_ring *r, const dasf_rec *rec, dasf_enc_event *e,
                                 dasf_decode_scratch *sc, dasf_enc_memo *memo);

/* A record of another (dead) process's shared ring (recover.c): its names
 * and its clock function instead of this process's. */
typedef struct dasf_decode_ctx {
    const char *(*name)(void *user, uint32_t h, uint32_t *len);
    void *user;
    const dasf_clock_table *clock;
    int identity; /* ticks are ns */
} dasf_decode_ctx;
/* As dasf_ring_decode, pid/tid given, no memo.  *scratch: NULL first,
 * freed with dasf_decode_scratch_free.  @return 0, DASF_ECORRUPT (bad
 * payload or unknown name), DASF_ENOMEM. */
DASF_HIDDEN int dasf_decode_rec(const dasf_decode_ctx *ctx, int64_t pid, int64_t tid,
                                const dasf_rec *rec, dasf_enc_event *e, void **scratch);
DASF_HIDDEN void dasf_decode_scratch_free(void *scratch);

#endif
