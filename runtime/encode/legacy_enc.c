/*
 * legacy_enc.c — events in the Python FileDatabase layout (compression level 0).
 *
 * Runs on the encoding thread (the flusher, dasf_writer).  Byte for byte
 * what the Python FileDatabase writes: per event a byte_size-byte
 * big-endian length and the msgpack map ormsgpack would produce for the
 * Python dataclass (keys in field order, floats as float64, integers and
 * strings in their smallest form).  The chunk is the concatenation of the
 * records in e->ev.  Invariant: an event that fails (no memory, a record
 * too long for its length prefix) leaves e->ev as it was.
 */
#include "chunk_enc.h"
#include "mp_write.h"

#include <string.h>

static size_t slen(const char *s, size_t given) { return given ? given : strlen(s); }

static int w_id(dasf_buf *b, const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT: return w_int(b, id->i);
    case DASF_ID_STR: return w_str(b, id->s, strlen(id->s));
    case DASF_ID_NIL: return w_byte(b, 0xc0);
    default: return -1;
    }
}

static int w_time(dasf_buf *b, const dasf_enc_event *ev, unsigned bit, double s, int64_t ns) {
    if (dasf_enc_keep_int(ev, bit, ns)) return w_int(b, ns / 1000000000);
    return w_f64(b, ev->ns_exact ? dasf_ns_to_seconds_inl(ns) : s);
}

static int legacy_args(dasf_buf *b, const dasf_enc_event *ev) {
    if (dasf_enc_keep_args_nil(ev)) return w_byte(b, 0xc0);
    if (ev->args_msgpack) return w_raw(b, ev->args_msgpack, ev->args_msgpack_size);
    if (ev->args_value) return dasf_enc_w_value(b, ev->args_value);
    int rc = w_hdr(b, 0x80, 0xde, ev->n_args);
    for (size_t i = 0; i < ev->n_args && !rc; i++)
        rc = w_str(b, ev->args[i].key, strlen(ev->args[i].key)) | w_arg_value(b, &ev->args[i]);
    return rc;
}

#define WKEY(b, lit) w_raw((b), "" lit, sizeof(lit) - 1) /* lit includes its fixstr byte */

int dasf_enc_legacy_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_buf *b = &e->ev;
    size_t start = b->len;
    uint8_t zero[8] = {0};
    int is_x = ev->phase == 'X', is_i = ev->phase == 'I';
    int has_cat = ev->cat != NULL, has_id = ev->id.kind != DASF_ID_AUTO;
    size_t nkeys = 6 + is_x + is_i + has_cat + has_id;
    char ph = ev->phase, sc = ev->scope ? ev->scope : 'g';

    int rc = w_raw(b, zero, (size_t)e->byte_size);
    rc |= w_hdr(b, 0x80, 0xde, nkeys);
    rc |= WKEY(b, "\xa4" "name") | w_str(b, ev->name, slen(ev->name, ev->name_len));
    rc |= WKEY(b, "\xa9" "timestamp") | w_time(b, ev, DASF_KEEP_TS_INT, ev->ts, ev->ts_ns);
    if (is_x)
        rc |= WKEY(b, "\xa8" "duration") | w_time(b, ev, DASF_KEEP_DUR_INT, ev->dur, ev->dur_ns);
    rc |= WKEY(b, "\xa5" "phase") | w_str(b, &ph, 1);
    if (is_i) rc |= WKEY(b, "\xa5" "scope") | w_str(b, &sc, 1);
    rc |= WKEY(b, "\xaa" "process_id") | w_id(b, &ev->pid);
    rc |= WKEY(b, "\xa9" "thread_id") | w_id(b, &ev->tid);
    rc |= WKEY(b, "\xa4" "args") | legacy_args(b, ev);
    if (has_cat) rc |= WKEY(b, "\xa3" "cat") | w_str(b, ev->cat, slen(ev->cat, ev->cat_len));
    if (has_id) rc |= WKEY(b, "\xa2" "id") | w_id(b, &ev->id);
    if (rc) {
        e->ev.len = start;
        return DASF_ENOMEM;
    }
    uint64_t len = e->ev.len - start - (size_t)e->byte_size;
    if (e->byte_size < 8 && len >> (8 * e->byte_size)) { /* does not fit the prefix */
        e->ev.len = start;
        return DASF_EINVAL;
    }
    uint8_t *p = e->ev.data + start;
    for (int i = e->byte_size - 1; i >= 0; i--, len >>= 8) p[i] = (uint8_t)len;
    return DASF_OK;
}
