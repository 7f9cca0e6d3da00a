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
#include "mp_cursor.h"
#include "mp_write.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static uint64_t mag(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }
/* Bytes of w_int(v). */
static unsigned int_size(int64_t v) {
    if (v >= -32 && v < 128) return 1;
    if (v >= -128 && v < 256) return 2;
    if (v >= -32768 && v < 65536) return 3;
    if (v >= INT32_MIN && v <= (int64_t)UINT32_MAX) return 5;
    return 9;
}

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

/* Version 2 schemas: the arg keys of a name's first compact event become
 * its schema; later compact events of that name with the same keys in the
 * same order write only the values.  @return 1 when kidx[0..n) is (now)
 * the name's schema, 0 when the name has another one, -1 on ENOMEM.
 * *registered tells the caller to undo it if the event fails. */
static int schema_use(dasf_chunk_enc *e, uint32_t name, const uint32_t *kidx, uint32_t n,
                      int *registered) {
    *registered = 0;
    if (name >= e->capschemas) {
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

static void schema_undo(dasf_chunk_enc *e, uint32_t name) {
    schema_ent *sc = &e->schemas[name];
    e->schpool.len = (size_t)sc->off * 4;
    sc->n = 0;
    e->nschemas--;
}

/* One event → its array.  Long (~170 lines) for a reason: the choice
 * between the compact and the full form depends on values computed once
 * here (stream, deltas, extension flags, fixes, interned name and keys, the
 * schema), which both forms then write, and a failure anywhere must undo
 * the stream, buffer and schema state in one place; split into helpers,
 * a dozen locals would travel between them on the flusher's hot loop. */
int dasf_enc_archive_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_buf *b = &e->ev;
    int pi = dasf_phase_fast_index(ev->phase);
    if (pi < 0 || !dasf_enc_id_resolved(&ev->pid) || !dasf_enc_id_resolved(&ev->tid))
        return DASF_EINVAL;
    if (ev->id.kind != DASF_ID_AUTO && !dasf_enc_id_resolved(&ev->id)) return DASF_EINVAL;

    /* Which args form: flattened pairs (string keys) or one verbatim map. */
    uint32_t npairs = 0;
    int args_map = 0;
    if (ev->args_msgpack) {
        int k = msgpack_keys_all_str(ev->args_msgpack, ev->args_msgpack_size, &npairs);
        if (k < 0) return DASF_EINVAL;
        args_map = !k;
    } else if (ev->args_value) {
        npairs = ev->args_value->v.map.n;
        args_map = !value_keys_all_str(ev->args_value);
    } else {
        if (ev->n_args > UINT32_MAX / 4) return DASF_EINVAL;
        npairs = (uint32_t)ev->n_args;
    }

    size_t start = e->ev.len;
    uint32_t saved_cur = e->cur;
    int64_t si = dasf_enc_find_stream(e, ev);
    if (si < 0) return DASF_ENOMEM;
    stream_ent *s = &e->streams[si];
    int is_x = ev->phase == 'X';
    int64_t dur = is_x ? ev->dur_ns : 0;
    int64_t end = wadd(ev->ts_ns, dur);
    int64_t d_start = wsub(ev->ts_ns, s->prev_end), d_end = wsub(end, s->prev_end);
    /* The first event of a chunk is in stream 0 unless it says otherwise. */
    int new_stream = (uint32_t)si != (e->cur == UINT32_MAX ? 0 : e->cur);

    unsigned ext = 0;
    if (ev->phase == 'I' && ev->scope) ext |= DASF_EX_SCOPE;
    if (ev->cat) ext |= DASF_EX_CAT;
    if (ev->id.kind == DASF_ID_INT) ext |= DASF_EX_ID_INT;
    if (ev->id.kind == DASF_ID_STR) ext |= DASF_EX_ID_STR;
    if (ev->id.kind == DASF_ID_NIL) ext |= DASF_EX_ID_NIL;
    if (args_map) ext |= DASF_EX_ARGS_MAP;
    /* Version 3: what the reader needs to give back the caller's values. */
    int64_t ts_fix = 0, dur_fix = 0;
    if (!ev->ns_exact) { /* doubles: one division each (times in ns need no fix) */
        ts_fix = dasf_time_fix(ev->ts, ev->ts_ns);
        dur_fix = is_x ? dasf_time_fix(ev->dur, ev->dur_ns) : 0;
    }
    if (ts_fix) ext |= DASF_EX_TS_FIX;
    if (dur_fix) ext |= DASF_EX_DUR_FIX;
    if (dasf_enc_keep_int(ev, DASF_KEEP_TS_INT, ev->ts_ns)) ext |= DASF_EX_TS_INT;
    if (is_x && dasf_enc_keep_int(ev, DASF_KEEP_DUR_INT, ev->dur_ns)) ext |= DASF_EX_DUR_INT;
    if (dasf_enc_keep_args_nil(ev)) ext |= DASF_EX_ARGS_NIL;

    int64_t name_i;
    if (DASF_UNLIKELY(ev->name_copied && ev->memo && ev->name_len))
        name_i = intern_memo(e, memo_name_slot(memo_of(e, ev), ev->name, ev->name_len), ev->name,
                             ev->name_len);
    else
        name_i = intern_cached(e, ev->name, ev->name_len ? ev->name_len : SIZE_MAX);
    if (name_i < 0) return DASF_ENOMEM;

    /* Time value: the smaller of start or end against prev_end (both
     * forms); start against prev_start (compact form only) when that takes
     * fewer bytes — only then, so that regular traces keep one coding and
     * repeat byte for byte, which zstd rewards. */
    unsigned tmode = DASF_TM_START_PREV_END;
    int64_t tv = d_start;
    if (is_x && mag(d_end) < mag(d_start)) tmode = DASF_TM_END_PREV_END, tv = d_end;
    /* The compact form is possible (it carries the version 3 fixes too). */
    unsigned fixes = ext & (DASF_EX_TS_FIX | DASF_EX_DUR_FIX);
    int compact = is_x && !(ext & ~fixes);
    if (compact) {
        int64_t d_ss = wsub(ev->ts_ns, s->prev_start);
        if (int_size(d_ss) < int_size(tv)) tmode = DASF_TM_START_PREV_START, tv = d_ss;
    }

    /* Typed args of a compact candidate: intern the keys, try the schema. */
    int schema = 0, registered = 0;
    int typed = !ev->args_msgpack && !ev->args_value;
    if (compact && typed && npairs) {
        if (npairs > e->capkidx) {
            uint32_t *v = realloc(e->kidx, npairs * sizeof *v);
            if (!v) return DASF_ENOMEM;
            e->kidx = v;
            e->capkidx = npairs;
        }
        dasf_enc_memo *memo = memo_of(e, ev);
        for (uint32_t i = 0; i < npairs; i++) {
            int64_t ki = arg_key(e, memo, ev, i);
            if (ki < 0) return DASF_ENOMEM;
            e->kidx[i] = (uint32_t)ki;
        }
        schema = schema_use(e, (uint32_t)name_i, e->kidx, npairs, &registered);
        if (schema < 0) return DASF_ENOMEM;
    }
    compact = compact && (schema || tmode == DASF_TM_START_PREV_START);

    int rc = 0;
    if (compact) {
        unsigned c = (new_stream ? DASF_CC_STREAM : 0) | tmode << 1 | (schema ? DASF_CC_SCHEMA : 0) |
                     (fixes ? DASF_CC_FIX : 0);
        size_t n = 4 + (size_t)new_stream + (fixes ? 2 : 0) + (schema ? npairs : 2 * (size_t)npairs);
        rc |= w_hdr(b, 0x90, 0xdc, n);
        rc |= w_byte(b, (uint8_t)(0xff - c)); /* negative fixint -1 - c */
        if (new_stream) rc |= w_uint(b, (uint64_t)si);
        rc |= w_uint(b, (uint64_t)name_i);
        rc |= w_int(b, tv);
        rc |= w_int(b, dur);
        if (fixes) rc |= w_int(b, ts_fix) | w_int(b, dur_fix);
        if (typed) {
            /* Typed args: their keys were interned into kidx above, for
             * this event (kidx is scratch: never read for another one). */
            for (uint32_t i = 0; i < npairs && !rc; i++) {
                if (!schema) rc |= w_uint(b, e->kidx[i]);
                rc |= w_arg_value(b, &ev->args[i]);
            }
        } else {
            /* Raw msgpack or a value tree (string keys: no EX_ARGS_MAP,
             * else not compact): never a schema, pairs written from the
             * event's own form, exactly as the full form writes them. */
            rc |= archive_pairs(e, ev);
        }
    } else {
        unsigned code = (unsigned)pi;
        if (new_stream) code |= DASF_EC_STREAM;
        if (tmode == DASF_TM_END_PREV_END) code |= DASF_EC_TSEND;
        if (ext) code |= DASF_EC_EXT;
        size_t n = 3 + (size_t)new_stream + (size_t)is_x;
        if (ext)
            n += 1 + !!(ext & DASF_EX_SCOPE) + !!(ext & DASF_EX_CAT) +
                 !!(ext & (DASF_EX_ID_INT | DASF_EX_ID_STR)) + !!(ext & DASF_EX_TS_FIX) +
                 !!(ext & DASF_EX_DUR_FIX) + (size_t)args_map;
        if (!args_map) n += 2 * (size_t)npairs;
        rc |= w_hdr(b, 0x90, 0xdc, n);
        rc |= w_byte(b, (uint8_t)code);
        if (new_stream) rc |= w_uint(b, (uint64_t)si);
        rc |= w_uint(b, (uint64_t)name_i);
        rc |= w_int(b, tv);
        if (is_x) rc |= w_int(b, dur);
        if (ext) {
            rc |= w_uint(b, ext);
            if (ext & DASF_EX_SCOPE) rc |= w_uint(b, (unsigned char)ev->scope);
            if (ext & DASF_EX_CAT) {
                int64_t ci = intern_cached(e, ev->cat, ev->cat_len ? ev->cat_len : SIZE_MAX);
                rc |= ci < 0 ? -1 : w_uint(b, (uint64_t)ci);
            }
            if (ext & DASF_EX_ID_INT) rc |= w_int(b, ev->id.i);
            if (ext & DASF_EX_ID_STR) {
                int64_t ii = intern_cached(e, ev->id.s, SIZE_MAX);
                rc |= ii < 0 ? -1 : w_uint(b, (uint64_t)ii);
            }
            if (ext & DASF_EX_TS_FIX) rc |= w_int(b, ts_fix);
            if (ext & DASF_EX_DUR_FIX) rc |= w_int(b, dur_fix);
        }
        if (args_map)
            rc |= ev->args_msgpack ? w_raw(b, ev->args_msgpack, ev->args_msgpack_size)
                                   : dasf_enc_w_value(b, ev->args_value);
        else
            rc |= archive_pairs(e, ev);
    }
    if (rc) {
        e->ev.len = start;
        e->cur = saved_cur;
        if (registered) schema_undo(e, (uint32_t)name_i);
        return DASF_ENOMEM;
    }
    e->cur = (uint32_t)si;
    s->prev_start = ev->ts_ns;
    s->prev_end = end;
    if (ev->ts_ns < e->ts_min) e->ts_min = ev->ts_ns;
    if (end > e->ts_max) e->ts_max = end;
    return DASF_OK;
}
