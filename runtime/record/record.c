/*
 * record.c — the FileDatabase's record paths, run on app threads.
 *
 * Plain records (interned name, no payload) go through ring.h's fast path.
 * Everything else — a copied name, explicit ids, cat/id, args — is copied
 * as a binary payload right behind the 32-byte header (no encoding here:
 * the flusher turns it into msgpack).  The event is validated first, so a
 * bad event is refused with nothing recorded.
 */
#include "record.h"
#include "ring.h"

#include <math.h>
#include <string.h>

/* Largest record: a quarter of the ring, so a record always fits, and at
 * most DASF_MAX_EVENT_BYTES, so every event reads back within the
 * reader's memory bound. */
static uint64_t max_record(const dasf_filedb *db) {
    uint64_t q = db->ring_cap / 4;
    return q < DASF_MAX_EVENT_BYTES ? q : DASF_MAX_EVENT_BYTES;
}

static size_t id_size(const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT:
        return 2 + 8;
    case DASF_ID_STR:
        return 2 + 4 + strlen(id->s) + 1;
    case DASF_ID_NIL:
        return 2;
    default:
        return 0;
    }
}

static size_t arg_size(const dasf_arg *a) {
    size_t n = 1 + 4 + strlen(a->key) + 1 + 1;
    switch (a->type) {
    case DASF_ARG_BOOL:
        return n + 1;
    case DASF_ARG_STR:
        return n + 4 + strlen(a->v.s) + 1;
    case DASF_ARG_MSGPACK:
        return n + 4 + a->v.raw.size + 1;
    default:
        return n + 8;
    }
}

typedef struct writer {
    uint8_t *p;
} writer;

static inline void put(writer *w, const void *src, size_t n) {
    memcpy(w->p, src, n);
    w->p += n;
}
static inline void put_u8(writer *w, uint8_t v) {
    *w->p++ = v;
}
static inline void put_u32(writer *w, uint32_t v) {
    put(w, &v, 4);
}
/* Strings keep a NUL after their bytes so the flusher can use them in place. */
static inline void put_str(writer *w, const char *s, size_t n) {
    put_u32(w, (uint32_t)n);
    put(w, s, n);
    put_u8(w, 0);
}

static void put_id(writer *w, uint8_t tag, const dasf_id *id) {
    if (id->kind == DASF_ID_AUTO) return;
    put_u8(w, tag);
    put_u8(w, (uint8_t)id->kind);
    if (id->kind == DASF_ID_INT)
        put(w, &id->i, 8);
    else if (id->kind == DASF_ID_STR)
        put_str(w, id->s, strlen(id->s));
}

static void put_arg(writer *w, const dasf_arg *a) {
    put_u8(w, DASF_PT_ARG);
    put_str(w, a->key, strlen(a->key));
    put_u8(w, (uint8_t)a->type);
    switch (a->type) {
    case DASF_ARG_BOOL:
        put_u8(w, a->v.b ? 1 : 0);
        break;
    case DASF_ARG_STR:
        put_str(w, a->v.s, strlen(a->v.s));
        break;
    case DASF_ARG_MSGPACK:
        put_str(w, a->v.raw.data, a->v.raw.size);
        break;
    default:
        put(w, &a->v, 8);
        break;
    }
}

static uint64_t dbl_bits(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* Resolves the 'automatic' scope of instant events to absent (0). */
static unsigned scope_of(const dasf_event *ev) {
    return ev->phase == DASF_PHASE_INSTANT ? (unsigned)ev->scope : 0;
}

int dasf_filedb_record_event(dasf_filedb *db, const dasf_event *ev) {
    int rc = dasf_event_validate(ev);
    if (rc) return rc;
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    dasf_name h = 0;
    size_t payload = 0;
    size_t name_len = strlen(ev->name);
    payload += 1 + 4 + name_len + 1; /* copied: names of generic events are arbitrary */
    payload += id_size(&ev->process_id) + id_size(&ev->thread_id) + id_size(&ev->id);
    if (ev->cat) payload += 1 + 4 + strlen(ev->cat) + 1;
    for (size_t i = 0; i < ev->n_args; i++) payload += arg_size(&ev->args[i]);
    if (ev->args_msgpack) payload += 1 + 4 + ev->args_msgpack_size + 1;
    payload += 1; /* END */
    uint64_t size = (DASF_REC_SIZE + payload + DASF_REC_SIZE - 1) & ~(uint64_t)(DASF_REC_SIZE - 1);
    if (size > max_record(db)) return DASF_EINVAL;

    dasf_ring *r = dasf_ring_for(db, key, &rc);
    if (!r) return rc;
    dasf_rec *rec = dasf_ring_reserve(r, size, &rc);
    if (!rec) return rc;
    double dur = ev->phase == DASF_PHASE_COMPLETE ? ev->duration : 0.0;
    rec->ts = dbl_bits(ev->timestamp);
    rec->dur = dbl_bits(dur);
    rec->word = dasf_rec_word(h, (unsigned)ev->phase, DASF_TS_DOUBLE | DASF_RF_PAYLOAD,
                              scope_of(ev));
    rec->size = size;
    writer w = {(uint8_t *)(rec + 1)};
    put_u8(&w, DASF_PT_NAME);
    put_str(&w, ev->name, name_len);
    put_id(&w, DASF_PT_PID, &ev->process_id);
    put_id(&w, DASF_PT_TID, &ev->thread_id);
    put_id(&w, DASF_PT_ID, &ev->id);
    if (ev->cat) {
        put_u8(&w, DASF_PT_CAT);
        put_str(&w, ev->cat, strlen(ev->cat));
    }
    for (size_t i = 0; i < ev->n_args; i++) put_arg(&w, &ev->args[i]);
    if (ev->args_msgpack) {
        put_u8(&w, DASF_PT_ARGS_MP);
        put_str(&w, ev->args_msgpack, ev->args_msgpack_size);
    }
    put_u8(&w, DASF_PT_END);
    dasf_ring_publish(r, size);
    return DASF_OK;
}

/* Copies a C string's n bytes and its NUL (m = n + 1 bytes) with a few
 * fixed-size moves for short strings (names, arg keys): no call, no
 * byte loop.  The overlapping pairs stay inside [0, m) of both sides. */
static inline void copy_cstr(uint8_t *d, const char *s, size_t m) {
    uint64_t a, b;
    uint32_t x, y;
    if (m >= 16 && m <= 32) {
        uint64_t a2, b2;
        memcpy(&a, s, 8), memcpy(&a2, s + 8, 8);
        memcpy(&b, s + m - 16, 8), memcpy(&b2, s + m - 8, 8);
        memcpy(d, &a, 8), memcpy(d + 8, &a2, 8);
        memcpy(d + m - 16, &b, 8), memcpy(d + m - 8, &b2, 8);
    } else if (m >= 8 && m < 16) {
        memcpy(&a, s, 8), memcpy(&b, s + m - 8, 8);
        memcpy(d, &a, 8), memcpy(d + m - 8, &b, 8);
    } else if (m >= 4 && m < 8) {
        memcpy(&x, s, 4), memcpy(&y, s + m - 4, 4);
        memcpy(d, &x, 4), memcpy(d + m - 4, &y, 4);
    } else if (m < 4) {
        for (size_t i = 0; i < m; i++) d[i] = (uint8_t)s[i];
    } else {
        memcpy(d, s, m);
    }
}

/* strlen for the short strings of the record path (names, arg keys),
 * inline: aligned 8-byte loads, which never cross a page, so reading the
 * rest of the word after the NUL cannot fault (glibc's strlen does the
 * same with wider loads).  The sanitizers see those bytes as outside the
 * object, so their builds call strlen. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DASF_PLAIN_STRLEN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define DASF_PLAIN_STRLEN 1
#endif
#endif
#ifdef DASF_PLAIN_STRLEN
static inline size_t short_strlen(const char *s) {
    return strlen(s);
}
#else
typedef uint64_t __attribute__((may_alias)) dasf_word;
static inline size_t short_strlen(const char *s) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uintptr_t off = (uintptr_t)s & 7;
    const dasf_word *w = (const dasf_word *)((uintptr_t)s - off);
    /* Bytes before s (the low ones, little-endian) are forced non-zero. */
    uint64_t v = *w | (off ? (UINT64_C(1) << (off * 8)) - 1 : 0);
    for (;;) {
        uint64_t z = (v - ones) & ~v & highs;
        if (z) return (size_t)((const char *)w - s) + (size_t)(__builtin_ctzll(z) >> 3);
        v = *++w;
    }
}
#endif

/* put_str for a C string of length n (its NUL is copied with it). */
static inline void put_cstr(writer *w, const char *s, size_t n) {
    put_u32(w, (uint32_t)n);
    copy_cstr(w->p, s, n + 1);
    w->p += n + 1;
}

#define FAST_ARGS 8

int dasf_record_named_db(dasf_filedb *db, uint64_t key, unsigned phase, unsigned scope,
                         const char *name, double ts, double dur, const dasf_arg *args,
                         size_t n_args) {
    uint64_t tsb = dbl_bits(ts), durb = dbl_bits(dur);
    if (DASF_UNLIKELY(!name || !dasf_finite_bits(tsb) || !dasf_nonneg_finite_bits(durb) ||
                      (n_args && !args) || n_args > FAST_ARGS))
        return DASF_EINVAL;
    size_t name_len = short_strlen(name);
    size_t klen[FAST_ARGS], slen[FAST_ARGS];
    size_t payload = 1 + 4 + name_len + 1 + 1;
    for (size_t i = 0; i < n_args; i++) {
        const dasf_arg *a = &args[i];
        if (DASF_UNLIKELY(!a->key || (unsigned)a->type - DASF_ARG_INT > DASF_ARG_STR - DASF_ARG_INT ||
                          (a->type == DASF_ARG_STR && !a->v.s)))
            return DASF_EINVAL; /* the generic path decides */
        klen[i] = short_strlen(a->key);
        payload += 1 + 4 + klen[i] + 1 + 1;
        if (a->type == DASF_ARG_STR) {
            slen[i] = short_strlen(a->v.s);
            payload += 4 + slen[i] + 1;
        } else {
            payload += a->type == DASF_ARG_BOOL ? 1 : 8;
        }
    }
    uint64_t size = (DASF_REC_SIZE + payload + DASF_REC_SIZE - 1) & ~(uint64_t)(DASF_REC_SIZE - 1);
    int rc = 0;
    dasf_ring *r = dasf_ring_for(db, key, &rc);
    if (DASF_UNLIKELY(!r)) return rc;
    if (DASF_UNLIKELY(size > max_record(db))) return DASF_EINVAL;
    dasf_rec *rec = dasf_ring_reserve(r, size, &rc);
    if (DASF_UNLIKELY(!rec)) return rc;
    rec->ts = tsb;
    rec->dur = durb;
    rec->word = dasf_rec_word(0, phase, DASF_TS_DOUBLE | DASF_RF_PAYLOAD, scope);
    rec->size = size;
    writer w = {(uint8_t *)(rec + 1)};
    put_u8(&w, DASF_PT_NAME);
    put_cstr(&w, name, name_len);
    for (size_t i = 0; i < n_args; i++) {
        const dasf_arg *a = &args[i];
        put_u8(&w, DASF_PT_ARG);
        put_cstr(&w, a->key, klen[i]);
        put_u8(&w, (uint8_t)a->type);
        if (a->type == DASF_ARG_STR)
            put_cstr(&w, a->v.s, slen[i]);
        else if (a->type == DASF_ARG_BOOL)
            put_u8(&w, a->v.b ? 1 : 0);
        else
            put(&w, &a->v, 8);
    }
    put_u8(&w, DASF_PT_END);
    dasf_ring_publish(r, size);
    return DASF_OK;
}

int dasf_filedb_record_plain(dasf_filedb *db, uint32_t name, unsigned phase, unsigned tskind,
                             uint64_t ts, uint64_t dur) {
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    return dasf_ring_push_plain(db, key, dasf_rec_word(name, phase, tskind, 0), ts, dur);
}
