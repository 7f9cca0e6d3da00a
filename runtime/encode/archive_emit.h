/*
 * archive_emit.h — writing one event array of an archive chunk, shared by
 * the two ways an event reaches the encoder (encode/ only, not installed):
 * archive_enc.c from a dasf_enc_event (dasf_writer, the flusher's generic
 * path) and ring_enc.c straight from a ring record (the flusher's hot
 * path).  Each path resolves the event's stream, name, times, fixes and
 * typed keys its own way into a dasf_enc_head; the choices that decide the
 * bytes — time mode, compact or full form, schema, field order — are made
 * here, once, so both paths write the same bytes for the same event
 * (tests/test_ringenc.c compares them chunk by chunk).
 *
 * Runs on the encoding thread.  Use: fill the head's inputs, then
 * dasf_enc_emit_head() (writes everything before the args), the args
 * (keys from e->kidx or interned as they are written, values), then
 * dasf_enc_emit_end() with the writers' status: it commits the event
 * (stream state, time range) or restores the buffer, the current stream
 * and a schema the head registered.
 */
#ifndef DASF_ARCHIVE_EMIT_H
#define DASF_ARCHIVE_EMIT_H

#include "chunk_enc.h"
#include "mp_write.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static inline int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline uint64_t mag(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }
/* Bytes of w_int(v). */
static inline unsigned int_size(int64_t v) {
    if (v >= -32 && v < 128) return 1;
    if (v >= -128 && v < 256) return 2;
    if (v >= -32768 && v < 65536) return 3;
    if (v >= INT32_MIN && v <= (int64_t)UINT32_MAX) return 5;
    return 9;
}

#define DASF_EX_FIXES (DASF_EX_TS_FIX | DASF_EX_DUR_FIX)

/* One event as its path resolved it. */
typedef struct dasf_enc_head {
    /* inputs */
    int64_t si;              /* stream index */
    int64_t ts_ns, dur;      /* start; duration (0 unless phase X) */
    int64_t ts_fix, dur_fix; /* version 3 fixes, 0 = none (their ext bits set) */
    uint32_t name_i;         /* the name's string index */
    uint32_t npairs;         /* args written after the head (pairs or schema values) */
    unsigned pi, ext;        /* phase index (0 = X); DASF_EX_* flags */
    int keys_ready;          /* e->kidx[0..npairs) hold the typed args' keys */
    int args_map;            /* EX_ARGS_MAP: one element, the map, follows */
    unsigned scope;          /* with EX_SCOPE */
    const char *cat;         /* with EX_CAT (cat_len 0: NUL-terminated) */
    size_t cat_len;
    const dasf_id *id;       /* with EX_ID_INT / EX_ID_STR */
    /* set by dasf_enc_emit_head */
    int compact, schema, registered;
    size_t start;
    uint32_t saved_cur;
    int64_t end;
} dasf_enc_head;

/* The compact form is possible: phase X, no extension fields but the fixes. */
static inline int dasf_enc_compact_candidate(unsigned pi, unsigned ext) {
    return pi == 0 && !(ext & ~(unsigned)DASF_EX_FIXES);
}

/* e->kidx holds at least n entries.  @return 0 or -1 (no memory). */
static inline int dasf_enc_kidx_room(dasf_chunk_enc *e, size_t n) {
    if (DASF_LIKELY(n <= e->capkidx)) return 0;
    uint32_t *v = realloc(e->kidx, n * sizeof *v);
    if (!v) return -1;
    e->kidx = v;
    e->capkidx = n;
    return 0;
}

/* Version 2 schemas: the arg keys of a name's first compact event become
 * its schema; later compact events of that name with the same keys in the
 * same order write only the values.  @return 1 when kidx[0..n) is (now)
 * the name's schema, 0 when the name has another one, -1 on ENOMEM.
 * *registered tells the caller to undo it if the event fails. */
static inline int dasf_enc_schema_use(dasf_chunk_enc *e, uint32_t name, const uint32_t *kidx,
                                      uint32_t n, int *registered) {
    *registered = 0;
    if (DASF_UNLIKELY(name >= e->capschemas)) {
        uint32_t cap = e->capschemas ? e->capschemas : 64;
        while (cap <= name) cap *= 2;
        schema_ent *v = realloc(e->schemas, cap * sizeof *v);
        if (!v) return -1;
        memset(v + e->capschemas, 0, (cap - e->capschemas) * sizeof *v);
        e->schemas = v;
        e->capschemas = cap;
    }
    schema_ent *sc = &e->schemas[name];
    if (sc->n) {
        if (sc->n != n) return 0;
        const uint32_t *pool = (const uint32_t *)e->schpool.data + sc->off;
        for (uint32_t i = 0; i < n; i++)
            if (pool[i] != kidx[i]) return 0;
        return 1;
    }
    if (e->schpool.len / 4 + n > UINT32_MAX) return 0;
    uint32_t off = (uint32_t)(e->schpool.len / 4);
    if (dasf_buf_append(&e->schpool, kidx, n * sizeof *kidx)) return -1;
    sc->off = off;
    sc->n = n;
    e->nschemas++;
    *registered = 1;
    return 1;
}

/* Writes the event array's header and every field before the args; sets
 * h->compact (the compact form: args are values only when h->schema, else
 * pairs) and what dasf_enc_emit_end needs.  @return 0 or -1 (no memory).
 * Longer than ~80 lines on purpose: every field before the args in the
 * format's order, the one place both encoder paths take their bytes from. */
static inline __attribute__((always_inline)) int dasf_enc_emit_head(dasf_chunk_enc *e,
                                                                    dasf_enc_head *h) {
    dasf_buf *b = &e->ev;
    stream_ent *s = &e->streams[h->si];
    unsigned ext = h->ext;
    int is_x = h->pi == 0;
    h->start = e->ev.len;
    h->saved_cur = e->cur;
    h->end = wadd(h->ts_ns, h->dur);
    h->schema = h->registered = 0;
    int64_t d_start = wsub(h->ts_ns, s->prev_end), d_end = wsub(h->end, s->prev_end);
    /* The first event of a chunk is in stream 0 unless it says otherwise. */
    int new_stream = (uint32_t)h->si != (e->cur == UINT32_MAX ? 0 : e->cur);

    /* Time value: the smaller of start or end against prev_end (both
     * forms); start against prev_start (compact form only) when that takes
     * fewer bytes — only then, so that regular traces keep one coding and
     * repeat byte for byte, which zstd rewards. */
    unsigned tmode = DASF_TM_START_PREV_END;
    int64_t tv = d_start;
    if (is_x && mag(d_end) < mag(d_start)) tmode = DASF_TM_END_PREV_END, tv = d_end;
    /* The compact form is possible (it carries the version 3 fixes too). */
    unsigned fixes = ext & DASF_EX_FIXES;
    int compact = dasf_enc_compact_candidate(h->pi, ext);
    if (compact) {
        int64_t d_ss = wsub(h->ts_ns, s->prev_start);
        if (int_size(d_ss) < int_size(tv)) tmode = DASF_TM_START_PREV_START, tv = d_ss;
    }
    /* Typed args of a compact candidate: try the name's schema. */
    if (compact && h->keys_ready && h->npairs) {
        h->schema = dasf_enc_schema_use(e, h->name_i, e->kidx, h->npairs, &h->registered);
        if (h->schema < 0) {
            h->schema = 0;
            return -1;
        }
    }
    compact = compact && (h->schema || tmode == DASF_TM_START_PREV_START);
    h->compact = compact;

    int rc = 0;
    if (compact) {
        unsigned c = (new_stream ? DASF_CC_STREAM : 0) | tmode << 1 |
                     (h->schema ? DASF_CC_SCHEMA : 0) | (fixes ? DASF_CC_FIX : 0);
        size_t n = 4 + (size_t)new_stream + (fixes ? 2 : 0) +
                   (h->schema ? h->npairs : 2 * (size_t)h->npairs);
        rc |= w_hdr(b, 0x90, 0xdc, n);
        rc |= w_byte(b, (uint8_t)(0xff - c)); /* negative fixint -1 - c */
        if (new_stream) rc |= w_uint(b, (uint64_t)h->si);
        rc |= w_uint(b, h->name_i);
        rc |= w_int(b, tv);
        rc |= w_int(b, h->dur);
        if (fixes) rc |= w_int(b, h->ts_fix) | w_int(b, h->dur_fix);
        return rc;
    }
    unsigned code = h->pi;
    if (new_stream) code |= DASF_EC_STREAM;
    if (tmode == DASF_TM_END_PREV_END) code |= DASF_EC_TSEND;
    if (ext) code |= DASF_EC_EXT;
    size_t n = 3 + (size_t)new_stream + (size_t)is_x;
    if (ext)
        n += 1 + !!(ext & DASF_EX_SCOPE) + !!(ext & DASF_EX_CAT) +
             !!(ext & (DASF_EX_ID_INT | DASF_EX_ID_STR)) + !!(ext & DASF_EX_TS_FIX) +
             !!(ext & DASF_EX_DUR_FIX) + (size_t)h->args_map;
    if (!h->args_map) n += 2 * (size_t)h->npairs;
    rc |= w_hdr(b, 0x90, 0xdc, n);
    rc |= w_byte(b, (uint8_t)code);
    if (new_stream) rc |= w_uint(b, (uint64_t)h->si);
    rc |= w_uint(b, h->name_i);
    rc |= w_int(b, tv);
    if (is_x) rc |= w_int(b, h->dur);
    if (ext) {
        rc |= w_uint(b, ext);
        if (ext & DASF_EX_SCOPE) rc |= w_uint(b, h->scope);
        if (ext & DASF_EX_CAT) {
            int64_t ci = intern_cached(e, h->cat, h->cat_len ? h->cat_len : SIZE_MAX);
            rc |= ci < 0 ? -1 : w_uint(b, (uint64_t)ci);
        }
        if (ext & DASF_EX_ID_INT) rc |= w_int(b, h->id->i);
        if (ext & DASF_EX_ID_STR) {
            int64_t ii = intern_cached(e, h->id->s, SIZE_MAX);
            rc |= ii < 0 ? -1 : w_uint(b, (uint64_t)ii);
        }
        if (ext & DASF_EX_TS_FIX) rc |= w_int(b, h->ts_fix);
        if (ext & DASF_EX_DUR_FIX) rc |= w_int(b, h->dur_fix);
    }
    return rc;
}

/* Commits the event written since dasf_enc_emit_head (rc == 0), or undoes
 * it.  @return DASF_OK or DASF_ENOMEM. */
static inline __attribute__((always_inline)) int dasf_enc_emit_end(dasf_chunk_enc *e,
                                                                   const dasf_enc_head *h,
                                                                   int rc) {
    if (DASF_UNLIKELY(rc)) {
        e->ev.len = h->start;
        e->cur = h->saved_cur;
        if (h->registered) {
            schema_ent *sc = &e->schemas[h->name_i];
            e->schpool.len = (size_t)sc->off * 4;
            sc->n = 0;
            e->nschemas--;
        }
        return DASF_ENOMEM;
    }
    stream_ent *s = &e->streams[h->si];
    e->cur = (uint32_t)h->si;
    s->prev_start = h->ts_ns;
    s->prev_end = h->end;
    if (h->ts_ns < e->ts_min) e->ts_min = h->ts_ns;
    if (h->end > e->ts_max) e->ts_max = h->end;
    return DASF_OK;
}

#endif
