/*
 * archive_enc.c — one event → its msgpack array in an archive chunk.
 *
 * Runs on the encoding thread (the flusher, dasf_writer); this is the
 * flusher's per-event hot loop.  Events are delta-coded per stream against
 * the previous event's start/end; an X event without extension fields
 * takes the version 2 compact form, whose typed args may use the name's
 * key schema (values only).  docs/FORMAT.md is the normative description
 * of every code and flag written here (constants in archive.h).
 * Invariant: dasf_enc_archive_add either encodes the whole event or
 * restores the buffer, the current stream and a schema it registered.
 */
#include "archive_emit.h"
#include "mp_cursor.h"

#include <stdlib.h>
#include <string.h>

/* Keys of an args map given as msgpack: all strings → flattened pairs. */
static int msgpack_keys_all_str(const void *p, size_t n, uint32_t *count) {
    dasf_mp c = {p, (const uint8_t *)p + n};
    dasf_mp_obj o;
    if (dasf_mp_read(&c, &o) || o.type != DASF_VAL_MAP) return -1;
    *count = o.v.n;
    for (uint32_t i = 0; i < o.v.n; i++) {
        dasf_mp_obj k;
        if (dasf_mp_read(&c, &k)) return -1;
        if (k.type != DASF_VAL_STR) return 0;
        if (dasf_mp_skip(&c)) return -1;
    }
    return 1;
}

static int value_keys_all_str(const dasf_value *v) {
    for (uint32_t i = 0; i < v->v.map.n; i++)
        if (v->v.map.items[i].key.type != DASF_VAL_STR) return 0;
    return 1;
}

/* The string index of ev's i-th typed arg key (memo slot by position). */
static inline int64_t arg_key(dasf_chunk_enc *e, dasf_enc_memo *m, const dasf_enc_event *ev,
                              size_t i) {
    const char *k = ev->args[i].key;
    if (!ev->key_lens) return intern_cached(e, k, SIZE_MAX);
    if (m && i < DASF_ENC_MEMO_KEYS) return intern_memo(e, &m->key1[i], k, ev->key_lens[i]);
    return intern_cached(e, k, ev->key_lens[i]);
}

static int archive_pairs(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_buf *b = &e->ev;
    int rc = 0;
    if (ev->args_msgpack) {
        dasf_mp c = {ev->args_msgpack, (const uint8_t *)ev->args_msgpack + ev->args_msgpack_size};
        dasf_mp_obj o;
        dasf_mp_read(&c, &o);
        for (uint32_t i = 0; i < o.v.n && !rc; i++) {
            dasf_mp_obj k;
            dasf_mp_read(&c, &k);
            int64_t ki = dasf_enc_intern(e, (const char *)k.v.s.ptr, k.v.s.len);
            const uint8_t *vs = c.p;
            dasf_mp_skip(&c);
            rc = ki < 0 ? -1 : w_uint(b, (uint64_t)ki) | w_raw(b, vs, (size_t)(c.p - vs));
        }
        return rc;
    }
    if (ev->args_value) {
        const dasf_value *m = ev->args_value;
        for (uint32_t i = 0; i < m->v.map.n && !rc; i++) {
            const dasf_value *k = &m->v.map.items[i].key;
            int64_t ki = dasf_enc_intern(e, k->v.str.ptr, k->v.str.len);
            rc = ki < 0 ? -1 : w_uint(b, (uint64_t)ki) | dasf_enc_w_value(b, &m->v.map.items[i].val);
        }
        return rc;
    }
    dasf_enc_memo *memo = ev->n_args ? memo_of(e, ev) : NULL;
    for (size_t i = 0; i < ev->n_args && !rc; i++) {
        const dasf_arg *a = &ev->args[i];
        int64_t ki = arg_key(e, memo, ev, i);
        rc = ki < 0 ? -1 : w_uint(b, (uint64_t)ki) | w_arg_value(b, a);
    }
    return rc;
}

/* One event → its array: resolve the event's stream, flags, fixes, name
 * and (for a compact candidate) keys, then archive_emit.h writes it; the
 * args are written here, from the event's own form.  Longer than ~80 lines
 * on purpose: it is the generic path's per-event step, each resolution in
 * the format's field order, and every split costs a call per event
 * (measured +10-15 instructions per event for one cross-file call). */
int dasf_enc_archive_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_buf *b = &e->ev;
    int pi = dasf_phase_fast_index(ev->phase);
    if (pi < 0 || !dasf_enc_id_resolved(&ev->pid) || !dasf_enc_id_resolved(&ev->tid))
        return DASF_EINVAL;
    if (ev->id.kind != DASF_ID_AUTO && !dasf_enc_id_resolved(&ev->id)) return DASF_EINVAL;

    /* Which args form: flattened pairs (string keys) or one verbatim map. */
    dasf_enc_head h;
    h.npairs = 0;
    h.args_map = 0;
    if (ev->args_msgpack) {
        int k = msgpack_keys_all_str(ev->args_msgpack, ev->args_msgpack_size, &h.npairs);
        if (k < 0) return DASF_EINVAL;
        h.args_map = !k;
    } else if (ev->args_value) {
        h.npairs = ev->args_value->v.map.n;
        h.args_map = !value_keys_all_str(ev->args_value);
    } else {
        if (ev->n_args > UINT32_MAX / 4) return DASF_EINVAL;
        h.npairs = (uint32_t)ev->n_args;
    }

    h.si = dasf_enc_find_stream(e, &ev->pid, &ev->tid, ev->ts_ns);
    if (h.si < 0) return DASF_ENOMEM;
    int is_x = ev->phase == 'X';
    h.pi = (unsigned)pi;
    h.ts_ns = ev->ts_ns;
    h.dur = is_x ? ev->dur_ns : 0;

    unsigned ext = 0;
    if (ev->phase == 'I' && ev->scope) ext |= DASF_EX_SCOPE;
    if (ev->cat) ext |= DASF_EX_CAT;
    if (ev->id.kind == DASF_ID_INT) ext |= DASF_EX_ID_INT;
    if (ev->id.kind == DASF_ID_STR) ext |= DASF_EX_ID_STR;
    if (ev->id.kind == DASF_ID_NIL) ext |= DASF_EX_ID_NIL;
    if (h.args_map) ext |= DASF_EX_ARGS_MAP;
    /* Version 3: what the reader needs to give back the caller's values. */
    h.ts_fix = h.dur_fix = 0;
    if (!ev->ns_exact) { /* doubles: one division each (times in ns need no fix) */
        h.ts_fix = dasf_time_fix(ev->ts, ev->ts_ns);
        h.dur_fix = is_x ? dasf_time_fix(ev->dur, ev->dur_ns) : 0;
    }
    if (h.ts_fix) ext |= DASF_EX_TS_FIX;
    if (h.dur_fix) ext |= DASF_EX_DUR_FIX;
    if (dasf_enc_keep_int(ev, DASF_KEEP_TS_INT, ev->ts_ns)) ext |= DASF_EX_TS_INT;
    if (is_x && dasf_enc_keep_int(ev, DASF_KEEP_DUR_INT, ev->dur_ns)) ext |= DASF_EX_DUR_INT;
    if (dasf_enc_keep_args_nil(ev)) ext |= DASF_EX_ARGS_NIL;
    h.ext = ext;
    h.scope = (unsigned char)ev->scope;
    h.cat = ev->cat;
    h.cat_len = ev->cat_len;
    h.id = &ev->id;

    int64_t name_i;
    if (DASF_UNLIKELY(ev->name_copied && ev->memo && ev->name_len))
        name_i = intern_memo(e, memo_name_slot(memo_of(e, ev), ev->name, ev->name_len), ev->name,
                             ev->name_len);
    else
        name_i = intern_cached(e, ev->name, ev->name_len ? ev->name_len : SIZE_MAX);
    if (name_i < 0) return DASF_ENOMEM;
    h.name_i = (uint32_t)name_i;

    /* Typed args of a compact candidate: intern the keys (the schema is
     * tried on them); other events intern their keys as they write them. */
    int typed = !ev->args_msgpack && !ev->args_value;
    h.keys_ready = 0;
    if (dasf_enc_compact_candidate(h.pi, ext) && typed && h.npairs) {
        if (dasf_enc_kidx_room(e, h.npairs)) return DASF_ENOMEM;
        dasf_enc_memo *memo = memo_of(e, ev);
        for (uint32_t i = 0; i < h.npairs; i++) {
            int64_t ki = arg_key(e, memo, ev, i);
            if (ki < 0) return DASF_ENOMEM;
            e->kidx[i] = (uint32_t)ki;
        }
        h.keys_ready = 1;
    }

    int rc = dasf_enc_emit_head(e, &h);
    if (rc == 0) {
        if (h.compact && typed) {
            /* Typed args: their keys were interned into kidx above, for
             * this event (kidx is scratch: never read for another one). */
            for (uint32_t i = 0; i < h.npairs && !rc; i++) {
                if (!h.schema) rc |= w_uint(b, e->kidx[i]);
                rc |= w_arg_value(b, &ev->args[i]);
            }
        } else if (h.args_map) {
            rc |= ev->args_msgpack ? w_raw(b, ev->args_msgpack, ev->args_msgpack_size)
                                   : dasf_enc_w_value(b, ev->args_value);
        } else {
            /* The full form, or a compact event with raw msgpack or a
             * value tree (string keys: no EX_ARGS_MAP, else not compact):
             * never a schema, pairs written from the event's own form. */
            rc |= archive_pairs(e, ev);
        }
    }
    return dasf_enc_emit_end(e, &h, rc);
}
