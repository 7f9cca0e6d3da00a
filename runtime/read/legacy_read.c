/*
 * legacy_read.c — events of a file in the Python FileDatabase layout.
 *
 * Runs on the reader's thread.  A record is a byte_size-byte big-endian
 * length and one msgpack map holding at least name, timestamp and phase.
 * Damage never stops reading: a record that does not parse is skipped and
 * counted, and reading resynchronises on the next offset where a whole
 * record parses.  A candidate costs its first LEGACY_PROBE bytes before
 * its whole claimed length is read, so garbage claiming long records
 * cannot make a scan quadratic.  Events live in r->ev_arena until the
 * next call.
 */
#include "reader.h"

#include <string.h>

/* A time value: the file's double as is, or an integer (a Python int):
 * *is_int when its nanoseconds are exact (|i| <= 9223372036 s), so that a
 * writer can write it back as that integer. */
static int number(const dasf_value *v, double *d, int64_t *ns, bool *is_int) {
    *is_int = false;
    if (v->type == DASF_VAL_FLOAT) {
        *d = v->v.f;
        *ns = dasf_seconds_to_ns(v->v.f);
    } else if (v->type == DASF_VAL_INT) {
        *d = (double)v->v.i;
        *is_int = v->v.i >= -9223372036 && v->v.i <= 9223372036;
        *ns = *is_int ? v->v.i * 1000000000 : dasf_seconds_to_ns(*d);
    } else if (v->type == DASF_VAL_UINT) {
        *d = (double)v->v.u;
        *ns = INT64_MAX; /* > INT64_MAX s: saturates, as dasf_seconds_to_ns */
    } else {
        return DASF_PARSE_BAD;
    }
    return 0;
}

static void empty_map(dasf_value *v) {
    v->type = DASF_VAL_MAP;
    v->v.map.items = NULL;
    v->v.map.n = 0;
}

/* The map of a legacy record, from c, into r->ev. */
static int legacy_map(dasf_trace *r, dasf_mp *c, const char **why) {
    dasf_trace_event *ev = &r->ev;
    dasf_mp_obj m;
    *why = "record is not a msgpack map";
    if (dasf_mp_read(c, &m) || m.type != DASF_VAL_MAP) return DASF_PARSE_BAD;
    int have_name = 0, have_ts = 0;
    for (uint32_t i = 0; i < m.v.n; i++) {
        dasf_mp_obj k;
        *why = "malformed record";
        if (dasf_mp_read(c, &k)) return DASF_PARSE_BAD;
        if (k.type != DASF_VAL_STR) {
            if (dasf_mp_skip(c)) return DASF_PARSE_BAD;
            continue;
        }
        dasf_value v;
        int rc = dasf_value_decode(c, &r->ev_arena, &v);
        if (rc) return rc;
        if (KEYIS(&k, "name")) {
            *why = "name is not a string";
            if (v.type != DASF_VAL_STR) return DASF_PARSE_BAD;
            ev->name = v.v.str.ptr;
            have_name = 1;
        } else if (KEYIS(&k, "timestamp")) {
            *why = "timestamp is not a number";
            if (number(&v, &ev->timestamp, &ev->timestamp_ns, &ev->timestamp_is_int)) return DASF_PARSE_BAD;
            have_ts = 1;
        } else if (KEYIS(&k, "duration")) {
            *why = "duration is not a number";
            if (number(&v, &ev->duration, &ev->duration_ns, &ev->duration_is_int)) return DASF_PARSE_BAD;
            ev->has_duration = true;
        } else if (KEYIS(&k, "phase")) {
            *why = "unknown phase";
            if (v.type != DASF_VAL_STR || v.v.str.len != 1 || !dasf_phase_valid(v.v.str.ptr[0]))
                return DASF_PARSE_BAD;
            ev->phase = (dasf_phase)v.v.str.ptr[0];
        } else if (KEYIS(&k, "scope")) {
            if (v.type == DASF_VAL_STR && v.v.str.len == 1) ev->scope = (dasf_scope)v.v.str.ptr[0];
        } else if (KEYIS(&k, "process_id")) {
            ev->process_id = v;
        } else if (KEYIS(&k, "thread_id")) {
            ev->thread_id = v;
        } else if (KEYIS(&k, "args")) {
            *why = "args is not a map";
            if (v.type == DASF_VAL_MAP)
                ev->args = v;
            else if (v.type == DASF_VAL_NIL)
                ev->args_nil = true; /* Python's None; args stays an empty map */
            else
                return DASF_PARSE_BAD;
        } else if (KEYIS(&k, "cat")) {
            if (v.type == DASF_VAL_STR) ev->cat = v.v.str.ptr;
        } else if (KEYIS(&k, "id")) {
            ev->id = v;
            ev->has_id = true;
        }
    }
    *why = "record is missing name, timestamp or phase";
    if (!have_name || !have_ts || !ev->phase) return DASF_PARSE_BAD;
    /* As in the archive: a duration only on X, a scope only on I (a record
     * may carry the keys on other phases; found by fuzz_reader). */
    if (ev->phase != DASF_PHASE_COMPLETE) {
        ev->duration = 0;
        ev->duration_ns = 0;
        ev->has_duration = false;
        ev->duration_is_int = false;
    }
    if (ev->phase != DASF_PHASE_INSTANT) ev->scope = 0;
    return 0;
}

/* Parses one legacy record body of len bytes, of which the first avail
 * (<= len) are at p, into r->ev.  @return 0, DASF_PARSE_BAD,
 * DASF_PARSE_NOMEM, or DASF_PARSE_MORE: the first avail bytes are a
 * plausible start (parse them all: call again with avail = len).  The body
 * must be exactly one map. */
static int legacy_parse_n(dasf_trace *r, const uint8_t *p, size_t avail, size_t len,
                          const char **why) {
    dasf_trace_event *ev = &r->ev;
    dasf_arena_reset(&r->ev_arena);
    memset(ev, 0, sizeof *ev);
    ev->process_id.type = DASF_VAL_INT;
    ev->thread_id.type = DASF_VAL_INT;
    empty_map(&ev->args);
    dasf_mp c = {p, p + avail};
    dasf_mp_short = 0;
    int rc = legacy_map(r, &c, why);
    if (rc == DASF_PARSE_BAD && dasf_mp_short && avail < len) return DASF_PARSE_MORE;
    if (rc == DASF_PARSE_NOMEM && r->ev_arena.over) {
        *why = "record needs more memory than the reader's bound";
        return DASF_PARSE_BAD;
    }
    if (rc) return rc;
    *why = "record length does not match its map";
    if (c.p != c.end || avail != len) return DASF_PARSE_BAD;
    return 0;
}

static int legacy_parse(dasf_trace *r, const uint8_t *p, size_t len, const char **why) {
    return legacy_parse_n(r, p, len, len, why);
}

static int is_map_byte(uint8_t b) {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

/* Bytes of a candidate record parsed before the rest is read: a record
 * that is not one fails within them, so a scan over garbage that claims
 * long records costs a few KiB per candidate, not the claimed length. */
#define LEGACY_PROBE 4096u

/* Parses the record body of len bytes at off into r->ev: its first bytes
 * first, the whole body only when they are a plausible start.  @return as
 * legacy_parse (DASF_PARSE_BAD also when the file ends early or on I/O
 * error). */
static int legacy_body(dasf_trace *r, uint64_t off, size_t len, const char **why) {
    size_t probe = len < LEGACY_PROBE ? len : LEGACY_PROBE;
    *why = "record runs past the end of the file";
    const uint8_t *body = dasf_rd_win_get(r, off, probe);
    if (!body) return DASF_PARSE_BAD;
    int rc = legacy_parse_n(r, body, probe, len, why);
    if (rc != DASF_PARSE_MORE) return rc;
    *why = "record runs past the end of the file";
    if (!(body = dasf_rd_win_get(r, off, len))) return DASF_PARSE_BAD;
    return legacy_parse(r, body, len, why);
}

/* A whole record at off (length of k bytes, then a map holding our keys):
 * cheapest checks first, the full length read only when its start parses. */
int dasf_rd_legacy_try(dasf_trace *r, uint64_t off, size_t k, uint64_t *rec_len) {
    const uint8_t *h = dasf_rd_win_get(r, off, k + 1);
    if (!h) return 0;
    uint64_t len = dasf_load_be(h, k);
    if (len < 2 || len > DASF_MAX_LEGACY_RECORD || !is_map_byte(h[k])) return 0;
    if (off + k + len > r->size) return 0;
    const char *why;
    if (legacy_body(r, off + k, (size_t)len, &why)) return 0;
    *rec_len = len;
    return 1;
}

/* The next offset >= from where a whole record starts (r->size if none).
 * A forward scan: an offset is a candidate only if the byte after its
 * k-byte length is a map marker and the length is plausible (tested on
 * the window's bytes in a tight loop); candidates are then checked by
 * legacy_try.  Linear in the bytes scanned. */
uint64_t dasf_rd_legacy_resync(dasf_trace *r, uint64_t from) {
    uint64_t len;
    size_t k = r->byte_size;
    uint64_t p = from;
    while (p + k < r->size && !r->io_error) {
        size_t span;
        const uint8_t *w = dasf_rd_win_scan(r, p, 4096, &span);
        if (!w || span <= k) return r->size;
        /* offsets p + i with i + k < span: their length and marker byte
         * are inside this span */
        size_t i = 0, lim = span - k;
        while (i < lim && (!is_map_byte(w[i + k]) ||
                           dasf_load_be(w + i, k) < 2 ||
                           dasf_load_be(w + i, k) > DASF_MAX_LEGACY_RECORD))
            i++;
        p += i;
        if (i == lim) continue;
        if (dasf_rd_legacy_try(r, p, k, &len)) return p;
        p++;
    }
    return r->size;
}

int dasf_rd_legacy_next(dasf_trace *r) {
    while (r->pos < r->size) {
        uint64_t at = r->pos, len;
        const char *why = "truncated record";
        const uint8_t *h = dasf_rd_win_get(r, at, r->byte_size);
        if (h) {
            len = dasf_load_be(h, r->byte_size);
            int rc = -1;
            if (len == 0 || len > DASF_MAX_LEGACY_RECORD)
                why = "implausible record length";
            else if (at + r->byte_size + len > r->size)
                why = "record runs past the end of the file";
            else
                rc = legacy_body(r, at + r->byte_size, (size_t)len, &why);
            if (rc == DASF_PARSE_NOMEM) return DASF_ENOMEM;
            if (rc == 0) {
                r->pos = at + r->byte_size + len;
                r->ev.chunk_index = dasf_rd_next_index(r);
                r->st.chunks_read++;
                r->st.events++;
                return 1;
            }
        }
        if (r->io_error) return r->io_error;
        uint64_t next = dasf_rd_legacy_resync(r, at + 1);
        if (r->io_error) return r->io_error;
        dasf_rd_note_damage(r, dasf_rd_next_index(r), at, next - at, "legacy record at byte %llu: %s",
                    (unsigned long long)at, why);
        r->pos = next;
        /* legacy_try left the record it found parsed in r->ev: use it. */
        if (next < r->size) {
            const uint8_t *nh = dasf_rd_win_get(r, next, r->byte_size);
            if (!nh) break;
            r->pos = next + r->byte_size + dasf_load_be(nh, r->byte_size);
            r->ev.chunk_index = dasf_rd_next_index(r);
            r->st.chunks_read++;
            r->st.events++;
            return 1;
        }
    }
    return r->io_error ? r->io_error : 0;
}
