/*
 * ring_decode.c — ring records → dasf_enc_event, for the encoder.
 *
 * Runs on the flusher thread (or a compression worker: workers.c), once per
 * record drained.  It reads what
 * record.c (and ring.h's plain fast path) wrote: the 32-byte header, then
 * for records with DASF_RF_PAYLOAD the binary payload items (DASF_PT_*,
 * rt.h).  Invariant: every read is bounds-checked against the record, so a
 * record garbled by a signal handler that recorded on top of its own
 * thread's half-written record yields DASF_ECORRUPT (counted as dropped by
 * the flusher), never a read outside the ring.  The event's strings are
 * not copied: they point into the ring, valid until its space is released.
 */
#include "ring_decode.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

static void get_id(dasf_rd_cursor *c, dasf_id *id) {
    id->kind = (dasf_id_kind)dasf_rd_u8(c);
    if (id->kind == DASF_ID_INT) {
        if (dasf_rd_need(c, 8)) {
            memcpy(&id->i, c->p, 8);
            c->p += 8;
        }
    } else if (id->kind == DASF_ID_STR) {
        uint32_t n;
        id->s = dasf_rd_str(c, &n);
    } else if (id->kind != DASF_ID_NIL) {
        c->bad = 1;
    }
}

/* The record's times, each converted once: the caller's doubles to ns
 * (their version-3 fix is the encoder's, one division each); ns and ticks
 * to ns only (ns_exact: no doubles, no fix — they would be
 * dasf_ns_to_seconds(ns) by construction, two divisions per event for
 * nothing in the archive layout). */
static void decode_times(const dasf_rec *rec, unsigned kind, dasf_enc_event *e,
                         const dasf_decode_ctx *ctx) {
    switch (kind) {
    case DASF_TS_DOUBLE:
        e->ts = dasf_rd_dbl(rec->ts);
        e->dur = dasf_rd_dbl(rec->dur);
        e->ts_ns = dasf_seconds_to_ns_inl(e->ts);
        e->dur_ns = dasf_seconds_to_ns_inl(e->dur);
        e->ns_exact = 0;
        break;
    case DASF_TS_NS:
        e->ts_ns = (int64_t)rec->ts;
        e->dur_ns = (int64_t)rec->dur;
        e->ts = e->dur = 0; /* not read (ns_exact) */
        e->ns_exact = 1;
        break;
    default: /* ticks */
        if (DASF_UNLIKELY(ctx != NULL)) { /* a dead process's function (recover.c) */
            if (ctx->identity) {
                e->ts_ns = (int64_t)rec->ts;
                e->dur_ns = (int64_t)rec->dur;
            } else {
                e->ts_ns = dasf_clock_table_ns(ctx->clock, rec->ts);
                e->dur_ns = (int64_t)((uint64_t)dasf_clock_table_ns(ctx->clock, rec->ts + rec->dur) -
                                      (uint64_t)e->ts_ns);
            }
        } else {
            e->ts_ns = dasf_clock_ticks_to_ns(rec->ts);
            e->dur_ns = dasf_clock_span_to_ns(rec->ts, rec->dur);
        }
        e->ts = e->dur = 0;
        e->ns_exact = 1;
        break;
    }
}

static int grow_args(dasf_decode_scratch *sc) {
    size_t cap = sc->cap ? sc->cap * 2 : 16;
    dasf_arg *a = realloc(sc->args, cap * sizeof *a);
    if (!a) return DASF_ENOMEM;
    sc->args = a;
    uint32_t *k = realloc(sc->klens, cap * sizeof *k);
    if (!k) return DASF_ENOMEM;
    sc->klens = k;
    sc->cap = cap;
    return DASF_OK;
}


static int decode_payload(dasf_rd_cursor *c, dasf_enc_event *e, dasf_decode_scratch *sc) {
    size_t n = 0;
    uint32_t len;
    while (!c->bad) {
        switch (dasf_rd_u8(c)) {
        case DASF_PT_END:
            if (c->bad) break;
            e->args = sc->args;
            e->key_lens = sc->klens;
            e->n_args = n;
            return e->name ? 0 : DASF_ECORRUPT;
        case DASF_PT_NAME:
            e->name = dasf_rd_str(c, &len);
            e->name_len = len;
            e->name_copied = 1;
            break;
        case DASF_PT_PID:
            get_id(c, &e->pid);
            break;
        case DASF_PT_TID:
            get_id(c, &e->tid);
            break;
        case DASF_PT_ID:
            get_id(c, &e->id);
            break;
        case DASF_PT_CAT:
            e->cat = dasf_rd_str(c, &len);
            e->cat_len = len;
            break;
        case DASF_PT_ARGS_MP:
            e->args_msgpack = dasf_rd_str(c, &len);
            e->args_msgpack_size = len;
            break;
        case DASF_PT_ARG:
            if (n == sc->cap && grow_args(sc)) return DASF_ENOMEM;
            dasf_rd_arg(c, &sc->args[n], &sc->klens[n]);
            n++;
            break;
        default:
            c->bad = 1;
        }
    }
    return DASF_ECORRUPT;
}

static int decode(int64_t pid, int64_t tid, const dasf_rec *rec, dasf_enc_event *e,
                  dasf_decode_scratch *sc, dasf_enc_memo *memo, const dasf_decode_ctx *ctx) {
    /* Field by field, not memset: a ~180-byte memset (rep stos) per event
     * was a tenth of the flusher's time.  Every field is set here or below
     * (times in decode_times, ids and phase from the record word). */
    e->name = NULL;
    e->name_len = 0;
    e->cat = NULL;
    e->cat_len = 0;
    e->id.kind = DASF_ID_AUTO;
    e->args = NULL;
    e->n_args = 0;
    e->key_lens = NULL;
    e->args_msgpack = NULL;
    e->args_msgpack_size = 0;
    e->args_value = NULL;
    e->kept = 0;
    e->memo = memo;
    e->name_copied = 0;
    uint64_t w = rec->word;
    unsigned flags = (unsigned)(w >> 40) & 0xff;
    e->phase = (char)((w >> 32) & 0xff);
    e->scope = (char)((w >> 48) & 0xff);
    e->pid = dasf_id_int(pid);
    e->tid = dasf_id_int(tid);
    decode_times(rec, flags & DASF_RF_TSKIND, e, ctx);
    if (e->phase != DASF_PHASE_COMPLETE) e->dur = 0, e->dur_ns = 0;
    dasf_name h = (dasf_name)(w & 0xffffffffu);
    if (h) {
        uint32_t len = 0;
        e->name = ctx ? ctx->name(ctx->user, h, &len) : dasf_intern_lookup(h, &len);
        e->name_len = len;
    }
    if (flags & DASF_RF_PAYLOAD) {
        dasf_rd_cursor c = {(const uint8_t *)(rec + 1), (const uint8_t *)rec + rec->size, 0};
        return decode_payload(&c, e, sc);
    }
    return e->name ? 0 : DASF_ECORRUPT;
}

int dasf_ring_decode(const dasf_ring *r, const dasf_rec *rec, dasf_enc_event *e,
                     dasf_decode_scratch *sc, dasf_enc_memo *memo) {
    return decode(r->pid, r->tid, rec, e, sc, memo, NULL);
}

int dasf_decode_rec(const dasf_decode_ctx *ctx, int64_t pid, int64_t tid, const dasf_rec *rec,
                    dasf_enc_event *e, void **scratch) {
    if (!*scratch && !(*scratch = calloc(1, sizeof(dasf_decode_scratch)))) return DASF_ENOMEM;
    return decode(pid, tid, rec, e, *scratch, NULL, ctx);
}

void dasf_decode_scratch_free(void *scratch) {
    dasf_decode_scratch *sc = scratch;
    if (!sc) return;
    free(sc->args);
    free(sc->klens);
    free(sc);
}
