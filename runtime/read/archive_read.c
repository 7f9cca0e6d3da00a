/*
 * archive_read.c — the event arrays of the current archive chunk → events.
 *
 * Runs on the reader's thread; the per-event loop of reading an archive.
 * Each array is decoded against the current chunk's tables (every index
 * checked against them) and the per-stream delta state; docs/FORMAT.md is
 * the normative description of the codes and flags.  A malformed array
 * after the chunk's checksums matched means the writer produced it: the
 * rest of the chunk is counted as damaged and reading goes on with the
 * next chunk.  Events live in r->ev_arena until the next call.
 */
#include "reader.h"

#include <string.h>

static int str_at(dasf_trace *r, int64_t i, const char **s) {
    if (i < 0 || (uint64_t)i >= r->nstr) return DASF_PARSE_BAD;
    *s = r->strs[i];
    return 0;
}

/* The event's args map: np values, keyed by keys[] (a schema), or np
 * key-index/value pairs when keys is NULL.  @return 0, DASF_PARSE_BAD or
 * DASF_PARSE_NOMEM. */
static int decode_args(dasf_trace *r, uint32_t np, const uint32_t *keys) {
    dasf_mp *c = &r->cur;
    dasf_kv *kv = np ? dasf_arena_alloc(&r->ev_arena, np * sizeof *kv) : NULL;
    if (np && !kv) return DASF_PARSE_NOMEM;
    for (uint32_t i = 0; i < np; i++) {
        int64_t k = keys ? (int64_t)keys[i] : -1;
        if (!keys && dasf_mp_int(c, &k)) return DASF_PARSE_BAD;
        if (k < 0 || (uint64_t)k >= r->nstr) return DASF_PARSE_BAD; /* schema keys too: same table */
        kv[i].key.type = DASF_VAL_STR;
        kv[i].key.v.str.ptr = r->strs[k];
        kv[i].key.v.str.len = r->strlens[k];
        int rc = dasf_value_decode(c, &r->ev_arena, &kv[i].val);
        if (rc) return rc;
    }
    r->ev.args.type = DASF_VAL_MAP;
    r->ev.args.v.map.items = kv;
    r->ev.args.v.map.n = np;
    return 0;
}

/* A full-form event's extension fields (code & DASF_EC_EXT): the flags,
 * then each optional field they announce, in order, into r->ev; *used
 * counts the array's elements read.  @return 0 or DASF_PARSE_BAD. */
static int decode_ext(dasf_trace *r, uint32_t n, uint32_t *used, int is_x, int64_t *ext,
                      int64_t *ts_fix, int64_t *dur_fix) {
    dasf_mp *c = &r->cur;
    dasf_trace_event *ev = &r->ev;
    int64_t v;
    int64_t ext_max = r->chunk_version >= 3 ? DASF_EX_V3_ALL : 0x3f;
    if (++*used > n || dasf_mp_int(c, ext) || *ext < 0 || *ext > ext_max)
        return DASF_PARSE_BAD;
    if (*ext & DASF_EX_SCOPE) {
        if (++*used > n || dasf_mp_int(c, &v)) return DASF_PARSE_BAD;
        ev->scope = (dasf_scope)v;
    }
    if (*ext & DASF_EX_CAT) {
        if (++*used > n || dasf_mp_int(c, &v) || str_at(r, v, &ev->cat)) return DASF_PARSE_BAD;
    }
    if (*ext & (DASF_EX_ID_INT | DASF_EX_ID_STR | DASF_EX_ID_NIL)) ev->has_id = true;
    if (*ext & DASF_EX_ID_INT) {
        if (++*used > n || dasf_mp_int(c, &v)) return DASF_PARSE_BAD;
        ev->id.type = DASF_VAL_INT;
        ev->id.v.i = v;
    } else if (*ext & DASF_EX_ID_STR) {
        if (++*used > n || dasf_mp_int(c, &v) || str_at(r, v, &ev->id.v.str.ptr))
            return DASF_PARSE_BAD;
        ev->id.type = DASF_VAL_STR;
        ev->id.v.str.len = r->strlens[v];
    }
    /* version 3: the caller's exact doubles, integer times, nil args */
    if (*ext & DASF_EX_TS_FIX) {
        if (++*used > n || dasf_mp_int(c, ts_fix) || *ts_fix == 0) return DASF_PARSE_BAD;
    }
    if (*ext & DASF_EX_DUR_FIX) {
        if (!is_x || ++*used > n || dasf_mp_int(c, dur_fix) || *dur_fix == 0)
            return DASF_PARSE_BAD;
    }
    if ((*ext & DASF_EX_DUR_INT) && !is_x) return DASF_PARSE_BAD;
    if ((*ext & DASF_EX_ARGS_NIL) && ((*ext & DASF_EX_ARGS_MAP) || n != *used))
        return DASF_PARSE_BAD;
    return 0;
}

/* The event's args, the n - used elements left in its array: values
 * keyed by the name's schema (compact), one verbatim map (DASF_EX_ARGS_MAP)
 * or key-index/value pairs.  @return 0, DASF_PARSE_BAD or DASF_PARSE_NOMEM. */
static int decode_event_args(dasf_trace *r, unsigned cc, int64_t ext, int64_t name, uint32_t n,
                             uint32_t used) {
    if (cc & DASF_CC_SCHEMA) { /* values only; keys from the name's schema */
        uint32_t np = r->sch_n && (uint64_t)name < r->sch_cap ? r->sch_n[name] : 0;
        if (np == 0 || n - used != np) return DASF_PARSE_BAD;
        return decode_args(r, np, r->sch_keys[name]);
    }
    if (ext & DASF_EX_ARGS_MAP) {
        if (n - used != 1 || dasf_value_decode(&r->cur, &r->ev_arena, &r->ev.args) ||
            r->ev.args.type != DASF_VAL_MAP)
            return DASF_PARSE_BAD;
        return 0;
    }
    if ((n - used) & 1) return DASF_PARSE_BAD;
    return decode_args(r, (n - used) / 2, NULL);
}

/* Decodes the next event array of the current chunk into r->ev. */
static int archive_event(dasf_trace *r) {
    dasf_mp *c = &r->cur;
    dasf_trace_event *ev = &r->ev;
    uint32_t n, used = 3;
    int64_t code, name, tv, dur = 0, ext = 0, v;
    dasf_arena_reset(&r->ev_arena);
    if (dasf_mp_array(c, &n) || n < 3 || dasf_mp_int(c, &code) || code < -32 || code > 0x7f)
        return DASF_PARSE_BAD;
    /* A negative code is version 2's compact X event (FORMAT.md 2.2). */
    int compact = code < 0;
    unsigned cc = compact ? (unsigned)(-1 - code) : 0;
    unsigned tmode = compact ? (cc & DASF_CC_TMODE) >> 1 : (code & DASF_EC_TSEND) ? 1 : 0;
    if (compact && (r->chunk_version < 2 || ((cc & DASF_CC_FIX) && r->chunk_version < 3) ||
                    tmode > 2))
        return DASF_PARSE_BAD;
    int ph = compact ? 'X' : dasf_phase_from_index((int)(code & DASF_EC_PHASE));
    if (compact ? (cc & DASF_CC_STREAM) : (code & DASF_EC_STREAM)) {
        if (dasf_mp_int(c, &v) || v < 0 || (uint64_t)v >= r->nstreams) return DASF_PARSE_BAD;
        r->cur_stream = (uint32_t)v;
        used++;
    } else if (r->cur_stream == UINT32_MAX) {
        r->cur_stream = 0;
    }
    if (r->cur_stream >= r->nstreams) return DASF_PARSE_BAD;
    if (dasf_mp_int(c, &name) || str_at(r, name, &ev->name) || dasf_mp_int(c, &tv))
        return DASF_PARSE_BAD;
    int is_x = ph == 'X';
    if (is_x) {
        if (++used > n || dasf_mp_int(c, &dur)) return DASF_PARSE_BAD;
    }
    ev->scope = 0;
    ev->cat = NULL;
    ev->has_id = false;
    ev->id.type = DASF_VAL_NIL;
    int64_t ts_fix = 0, dur_fix = 0;
    int rc;
    if (cc & DASF_CC_FIX) { /* version 3 compact: both fixes, not both zero */
        used += 2;
        if (used > n || dasf_mp_int(c, &ts_fix) || dasf_mp_int(c, &dur_fix) ||
            (ts_fix == 0 && dur_fix == 0))
            return DASF_PARSE_BAD;
    }
    if (!compact && (code & DASF_EC_EXT)) {
        if ((rc = decode_ext(r, n, &used, is_x, &ext, &ts_fix, &dur_fix))) return rc;
    }
    if (used > n) return DASF_PARSE_BAD;
    if ((rc = decode_event_args(r, cc, ext, name, n, used))) return rc;
    rstream *s = &r->streams[r->cur_stream];
    int64_t start, end;
    if (tmode == DASF_TM_END_PREV_END) {
        end = (int64_t)((uint64_t)s->prev_end + (uint64_t)tv);
        start = (int64_t)((uint64_t)end - (uint64_t)dur);
    } else {
        start = (int64_t)((uint64_t)(tmode == DASF_TM_START_PREV_START ? s->prev_start : s->prev_end) +
                          (uint64_t)tv);
        end = (int64_t)((uint64_t)start + (uint64_t)dur);
    }
    s->prev_start = start;
    s->prev_end = end;
    ev->phase = (dasf_phase)ph;
    ev->timestamp_ns = start;
    ev->timestamp = dasf_time_fixed(start, ts_fix);
    ev->has_duration = is_x;
    ev->duration_ns = dur;
    ev->duration = is_x ? dasf_time_fixed(dur, dur_fix) : 0;
    ev->timestamp_is_int = (ext & DASF_EX_TS_INT) != 0;
    ev->duration_is_int = (ext & DASF_EX_DUR_INT) != 0;
    ev->args_nil = (ext & DASF_EX_ARGS_NIL) != 0;
    ev->process_id = s->pid;
    ev->thread_id = s->tid;
    ev->chunk_index = r->chunk.index;
    return 0;
}

int dasf_rd_archive_next(dasf_trace *r) {
    for (;;) {
        if (r->left) {
            int rc = archive_event(r);
            if (rc == 0) {
                r->left--;
                r->st.events++;
                return 1;
            }
            int over = r->ev_arena.over;
            if (rc == DASF_PARSE_NOMEM && !over) return DASF_ENOMEM;
            /* Checksums matched, so the writer itself produced this: report
             * it and drop the rest of the chunk, which is damaged, not whole
             * (it was counted whole when its checksums matched). */
            r->st.chunks_read--;
            dasf_rd_note_damage(r, r->chunk.index, r->chunk.offset, r->chunk.stored_size,
                                "chunk at byte %llu: %s", (unsigned long long)r->chunk.offset,
                                over ? "an event needs more memory than the reader's bound"
                                     : "malformed event array");
            r->left = 0;
            continue;
        }
        if (r->pos >= r->size) return 0;
        const char *why = "damaged chunk";
        uint64_t at = r->pos;
        int rc = dasf_rd_load_chunk(r, &why);
        if (rc == 0) continue;
        if (rc != DASF_PARSE_BAD) return rc;
        uint64_t next = dasf_rd_archive_resync(r, at + 1);
        if (r->io_error) return r->io_error;
        dasf_rd_note_damage(r, dasf_rd_next_index(r), at, next - at, "chunk at byte %llu: %s",
                    (unsigned long long)at, why);
        r->pos = next;
    }
}
