/*
 * ring_enc.c — ring records (the 32-byte header + binary payload written by
 * record/record.c, format in common/rt.h) straight into the chunk.
 *
 * Runs on the flusher thread, one call per record (dasf_chunk_enc_add_rec).
 * The hot shapes — phase X, B, E or I; an interned name (handle) or a name
 * copied into the payload; 0..DASF_ENC_MEMO_KEYS typed args (int, uint,
 * double, bool, string); the ring's own pid/tid — go from the record into
 * the archive chunk's tables and event array without a dasf_enc_event in
 * between: the stream comes from the ring's memo, an interned name from a
 * handle → string index table (interned strings never change, so a hit
 * needs no byte compare), copied names and keys from the memo (checked by
 * content), each time is converted once.  Everything else (legacy layout,
 * explicit ids, cat/id, raw msgpack args, more args, any malformed record)
 * takes the generic path: record/ring_decode.c decodes it into a
 * dasf_enc_event, then dasf_chunk_enc_add.  The direct path reads the whole record before it
 * touches the encoder, so falling back leaves nothing behind, and it
 * makes its choices through archive_emit.h like the generic path does:
 * both give the same bytes (tests/test_ringenc.c compares them).
 *
 * The payload is read with ring_decode.h's bounds-checked readers: a ring
 * garbled by a signal handler that recorded on top of its own thread's
 * half-written record must not make the flusher read outside the ring.
 */
#include "archive_emit.h"
#include "clock.h"
#include "ring_decode.h"

#include <stdlib.h>
#include <string.h>

/* ---- the generic path: record/ring_decode.c, then dasf_chunk_enc_add -------- */

int dasf_chunk_enc_add_rec_generic(dasf_chunk_enc *e, const dasf_ring *r, const dasf_rec *rec,
                                   dasf_enc_memo *memo) {
    dasf_enc_event ev;
    int rc = dasf_ring_decode(r, rec, &ev, &e->rsc, memo);
    return rc ? rc : dasf_chunk_enc_add(e, &ev);
}

/* ---- the direct path --------------------------------------------------------- */

/* The record's times, converted once; a fix only for the caller's doubles. */
static inline void direct_times(const dasf_rec *rec, unsigned kind, int is_x, dasf_enc_head *h) {
    h->ts_fix = h->dur_fix = 0;
    h->dur = 0;
    if (kind == DASF_TS_DOUBLE) {
        double ts = dasf_rd_dbl(rec->ts);
        h->ts_ns = dasf_seconds_to_ns_inl(ts);
        h->ts_fix = dasf_time_fix(ts, h->ts_ns);
        if (is_x) {
            double dur = dasf_rd_dbl(rec->dur);
            h->dur = dasf_seconds_to_ns_inl(dur);
            h->dur_fix = dasf_time_fix(dur, h->dur);
        }
    } else if (kind == DASF_TS_NS) {
        h->ts_ns = (int64_t)rec->ts;
        if (is_x) h->dur = (int64_t)rec->dur;
    } else {
        h->ts_ns = dasf_clock_ticks_to_ns(rec->ts);
        if (is_x) h->dur = dasf_clock_span_to_ns(rec->ts, rec->dur);
    }
}

/* The string index of interned name handle hd (the table is per chunk,
 * cleared by reset; -1: no memory or no such handle). */
static __attribute__((noinline)) int64_t handle_miss(dasf_chunk_enc *e, uint32_t hd) {
    uint32_t len = 0;
    const char *s = dasf_intern_lookup(hd, &len);
    if (!s) return -1; /* checked before: not reached */
    int64_t idx = intern_cached(e, s, len ? len : SIZE_MAX);
    if (idx < 0 || hd >= DASF_ENC_HANDLES) return idx;
    if (hd >= e->caphname) {
        uint32_t cap = e->caphname ? e->caphname : 256;
        while (cap <= hd) cap *= 2;
        uint32_t *t = realloc(e->hname, cap * sizeof *t);
        if (!t) return idx; /* no table: the pointer cache still works */
        memset(t + e->caphname, 0, (cap - e->caphname) * sizeof *t);
        e->hname = t;
        e->caphname = cap;
    }
    e->hname[hd] = (uint32_t)idx + 1;
    if (hd > e->hname_hi) e->hname_hi = hd;
    return idx;
}

static inline int64_t handle_index(dasf_chunk_enc *e, uint32_t hd) {
    if (DASF_LIKELY(hd < e->caphname) && e->hname[hd]) return e->hname[hd] - 1;
    return handle_miss(e, hd);
}

/* The stream of the ring (pid, tid): the memo's, checked, or looked up. */
static inline int64_t ring_stream(dasf_chunk_enc *e, dasf_enc_memo *m, int64_t pid, int64_t tid,
                                  int64_t ts_ns) {
    if (m && m->stream1) {
        const stream_ent *s = &e->streams[m->stream1 - 1];
        if (s->pid.kind == DASF_ID_INT && s->pid.i == pid && s->tid.kind == DASF_ID_INT &&
            s->tid.i == tid)
            return m->stream1 - 1;
    }
    dasf_id p = dasf_id_int(pid), t = dasf_id_int(tid);
    int64_t si = dasf_enc_find_stream(e, &p, &t, ts_ns);
    if (m && si >= 0) m->stream1 = (uint32_t)si + 1;
    return si;
}

#define DIRECT_GENERIC 1 /* not a direct-path record: take the generic path */

/* The direct path's per-event step (ring record → event array).  Longer than
 * ~80 lines on purpose: one pass over the record in the format's field order;
 * test_ringenc holds it byte for byte to the generic path. */
static int add_direct(dasf_chunk_enc *e, const dasf_rec *rec, int64_t pid, int64_t tid,
                      dasf_enc_memo *m) {
    uint64_t w = rec->word;
    unsigned flags = (unsigned)(w >> 40) & 0xff;
    char phase = (char)((w >> 32) & 0xff), scope = (char)((w >> 48) & 0xff);
    if (phase != 'X' && phase != 'B' && phase != 'E' && phase != 'I') return DIRECT_GENERIC;
    if (scope && scope != 'g' && scope != 'p' && scope != 't') return DIRECT_GENERIC;

    /* The whole payload first: anything unusual goes to the generic path
     * before the encoder is touched. */
    const char *name = NULL;
    uint32_t name_len = 0, n = 0;
    dasf_arg args[DASF_ENC_MEMO_KEYS];
    uint32_t klens[DASF_ENC_MEMO_KEYS];
    if (flags & DASF_RF_PAYLOAD) {
        dasf_rd_cursor c = {(const uint8_t *)(rec + 1), (const uint8_t *)rec + rec->size, 0};
        for (;;) {
            unsigned tag = dasf_rd_u8(&c);
            if (c.bad) return DIRECT_GENERIC;
            if (tag == DASF_PT_END) break;
            if (tag == DASF_PT_NAME) {
                name = dasf_rd_str(&c, &name_len);
            } else if (tag == DASF_PT_ARG && n < DASF_ENC_MEMO_KEYS) {
                dasf_rd_arg(&c, &args[n], &klens[n]);
                if (args[n].type == DASF_ARG_MSGPACK) return DIRECT_GENERIC; /* checked there */
                n++;
            } else {
                return DIRECT_GENERIC;
            }
            if (c.bad) return DIRECT_GENERIC;
        }
    }
    uint32_t hd = (uint32_t)(w & 0xffffffffu);
    /* No name, or an unknown handle: the generic path reports it. */
    if (!name && !(hd < e->caphname && e->hname[hd]) && !dasf_intern_lookup(hd, NULL))
        return DIRECT_GENERIC;

    if (m && DASF_UNLIKELY(m->owner != e || m->gen != e->gen)) m = dasf_enc_memo_claim(e, m);
    dasf_enc_head h;
    int is_x = phase == 'X';
    h.pi = (unsigned)dasf_phase_fast_index(phase);
    direct_times(rec, flags & DASF_RF_TSKIND, is_x, &h);
    h.si = ring_stream(e, m, pid, tid, h.ts_ns);
    if (h.si < 0) return DASF_ENOMEM;
    h.ext = (phase == 'I' && scope ? DASF_EX_SCOPE : 0) | (h.ts_fix ? DASF_EX_TS_FIX : 0) |
            (h.dur_fix ? DASF_EX_DUR_FIX : 0);
    h.scope = (unsigned char)scope;
    h.args_map = 0;
    h.npairs = n;

    /* The name, then the keys: the order the generic path interns them. */
    int64_t name_i;
    if (name) {
        if (m && name_len)
            name_i = intern_memo(e, memo_name_slot(m, name, name_len), name, name_len);
        else
            name_i = intern_cached(e, name, name_len ? name_len : SIZE_MAX);
    } else {
        name_i = handle_index(e, hd);
    }
    if (name_i < 0) return DASF_ENOMEM;
    h.name_i = (uint32_t)name_i;
    h.keys_ready = n != 0;
    if (n) {
        if (dasf_enc_kidx_room(e, DASF_ENC_MEMO_KEYS)) return DASF_ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            int64_t ki = m ? intern_memo(e, &m->key1[i], args[i].key, klens[i])
                           : intern_cached(e, args[i].key, klens[i]);
            if (ki < 0) return DASF_ENOMEM;
            e->kidx[i] = (uint32_t)ki;
        }
    }

    dasf_buf *b = &e->ev;
    int rc = dasf_enc_emit_head(e, &h);
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (!(h.compact && h.schema)) rc |= w_uint(b, e->kidx[i]);
        rc |= w_arg_value(b, &args[i]);
    }
    rc = dasf_enc_emit_end(e, &h, rc);
    if (rc == DASF_OK) e->count++;
    return rc;
}

int dasf_chunk_enc_add_rec(dasf_chunk_enc *e, const dasf_ring *r, const dasf_rec *rec,
                           dasf_enc_memo *memo) {
    if (DASF_LIKELY(e->level > 0)) {
        int rc = add_direct(e, rec, r->pid, r->tid, memo);
        if (DASF_LIKELY(rc != DIRECT_GENERIC)) return rc;
    }
    return dasf_chunk_enc_add_rec_generic(e, r, rec, memo);
}
