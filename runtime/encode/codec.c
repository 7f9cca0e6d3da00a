/*
 * codec.c — events → the exact bytes of one chunk, in either layout.
 *
 * Runs on the flusher thread (and in dasf_writer); one encoder per thread.
 * Level 0 writes the Python FileDatabase layout byte for byte: per event a
 * byte_size-byte big-endian length and the msgpack map ormsgpack would
 * produce for the Python dataclass (keys in field order, floats as float64,
 * integers and strings in their smallest form).  Levels 1..19 write one
 * archive chunk (docs/FORMAT.md): a skippable metadata frame, then one zstd
 * frame holding a string table, a stream table and one small msgpack array
 * per event.  Invariants: add() either encodes the whole event or leaves
 * the encoder as it was; finish() emits a self-contained chunk and resets,
 * so chunks never depend on each other.  The zstd context is reused.
 * Hot paths emit msgpack with the small inline writers below (measured: one
 * indirect msgpack_packer callback plus a memcpy call per item cost more than
 * the whole rest of the encoding); msgpack-c's packer writes the cold parts
 * (chunk header, metadata, value trees).  Both produce the same smallest-form
 * encodings, which are also ormsgpack's.
 */
#include "archive.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

typedef struct str_ent {
    uint32_t off, len;
} str_ent;

typedef struct stream_ent {
    dasf_id pid, tid; /* string ids point at owned copies */
    char *pid_s, *tid_s;
    int64_t base, prev_end, prev_start;
} stream_ent;

/* Version 2 arg-key schema of one name: n key indices at off in schpool
 * (n == 0: the name has none). */
typedef struct schema_ent {
    uint32_t off, n;
} schema_ent;

struct dasf_chunk_enc {
    int level, byte_size;
    size_t count;
    dasf_buf ev; /* legacy: the whole chunk; archive: the event arrays */
    /* archive only */
    ZSTD_CCtx *cctx;
    struct hslot {
        uint32_t idx1; /* string index + 1, 0 = empty */
        uint32_t len;
        uint64_t hash;
    } *htab;        /* open addressing; hash and length checked before bytes */
    uint32_t hcap;  /* power of two */
    dasf_buf strbytes, strents;
    uint32_t nstr;
    stream_ent *streams;
    uint32_t nstreams, capstreams, cur;
    int64_t ts_min, ts_max;
    dasf_buf raw, z, meta;
    struct icache {
        const char *p;
        uint32_t idx;
    } icache[1024]; /* pointer → string index, in front of htab */
    /* version 2: per-name arg-key schemas (indexed by the name's string
     * index), their key indices, and one event's key indices (scratch) */
    schema_ent *schemas;
    uint32_t capschemas, nschemas;
    dasf_buf schpool;
    uint32_t *kidx;
    size_t capkidx;
    uint64_t gen; /* chunk number: what a dasf_enc_memo's indices belong to */
};

/* The packer's write callback.  Each encoding function packs through a
 * packer on its own stack, initialised with this function, so the compiler
 * sees the callback and inlines it with constant sizes (no indirect call
 * and no memcpy call per msgpack item on the flusher's hot loop). */
static inline __attribute__((always_inline)) int buf_write(void *data, const char *p, size_t n) {
    dasf_buf *b = data;
    if (DASF_UNLIKELY(b->cap - b->len < n) && dasf_buf_reserve(b, n)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---- inline msgpack writers (smallest forms, as msgpack-c and ormsgpack) --- */

#define W_INLINE static inline __attribute__((always_inline))

W_INLINE int w_room(dasf_buf *b, size_t n) {
    return DASF_LIKELY(b->cap - b->len >= n) ? 0 : dasf_buf_reserve(b, n);
}

W_INLINE void w_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

W_INLINE int w_tagged(dasf_buf *b, uint8_t tag, uint64_t v, int n) {
    if (w_room(b, 9)) return -1;
    uint8_t *p = b->data + b->len;
    p[0] = tag;
    w_be(p + 1, v, n);
    b->len += 1 + (size_t)n;
    return 0;
}

W_INLINE int w_byte(dasf_buf *b, uint8_t x) {
    if (w_room(b, 1)) return -1;
    b->data[b->len++] = x;
    return 0;
}

W_INLINE int w_uint(dasf_buf *b, uint64_t v) {
    if (v < 128) return w_byte(b, (uint8_t)v);
    if (v < 256) return w_tagged(b, 0xcc, v, 1);
    if (v < 65536) return w_tagged(b, 0xcd, v, 2);
    if (v <= 0xffffffffu) return w_tagged(b, 0xce, v, 4);
    return w_tagged(b, 0xcf, v, 8);
}

W_INLINE int w_int(dasf_buf *b, int64_t v) {
    if (v >= 0) return w_uint(b, (uint64_t)v);
    if (v >= -32) return w_byte(b, (uint8_t)v);
    if (v >= -128) return w_tagged(b, 0xd0, (uint64_t)v, 1);
    if (v >= -32768) return w_tagged(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN) return w_tagged(b, 0xd2, (uint64_t)v, 4);
    return w_tagged(b, 0xd3, (uint64_t)v, 8);
}

W_INLINE int w_f64(dasf_buf *b, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return w_tagged(b, 0xcb, u, 8);
}

/* Array (fix 0x90, 0xdc) or map (fix 0x80, 0xde) header. */
W_INLINE int w_hdr(dasf_buf *b, uint8_t fix, uint8_t tag16, size_t n) {
    if (n < 16) return w_byte(b, (uint8_t)(fix | n));
    if (n < 65536) return w_tagged(b, tag16, n, 2);
    return w_tagged(b, (uint8_t)(tag16 + 1), n, 4);
}

W_INLINE int w_raw(dasf_buf *b, const void *p, size_t n) {
    if (w_room(b, n)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

W_INLINE int w_str(dasf_buf *b, const char *s, size_t n) {
    int rc;
    if (n < 32)
        rc = w_byte(b, (uint8_t)(0xa0 | n));
    else if (n < 256)
        rc = w_tagged(b, 0xd9, n, 1);
    else if (n < 65536)
        rc = w_tagged(b, 0xda, n, 2);
    else
        rc = w_tagged(b, 0xdb, n, 4);
    return rc | w_raw(b, s, n);
}

int dasf_chunk_enc_create(dasf_chunk_enc **out, int level, int byte_size) {
    if (!out || level < 0 || level > 19 || (level == 0 && (byte_size < 1 || byte_size > 8)))
        return DASF_EINVAL;
    dasf_chunk_enc *e = calloc(1, sizeof *e);
    if (!e) return DASF_ENOMEM;
    e->level = level;
    e->byte_size = byte_size;
    e->ts_min = INT64_MAX;
    e->ts_max = INT64_MIN;
    e->cur = UINT32_MAX;
    if (level > 0) {
        e->hcap = 1024;
        e->htab = calloc(e->hcap, sizeof *e->htab);
        e->cctx = ZSTD_createCCtx();
        /* strbytes is never NULL: a chunk whose only strings are empty
         * would otherwise offset a NULL pointer (UB, found by fuzz_encoder). */
        if (!e->htab || !e->cctx || dasf_buf_reserve(&e->strbytes, 256) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_contentSizeFlag, 1)) ||
            /* Event arrays are 6-10 bytes: at the fast levels, 6-byte minimum
             * matches measured smallest over the regular and random
             * workloads with the version 2 compact events (bench_codec: 4
             * and 5 compress slower, 7 misses the keyless leaf events'
             * repeats: 6.6 B/event instead of 5.2 on regular). */
            (level <= 2 &&
             ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_minMatch, 6)))) {
            dasf_chunk_enc_destroy(e);
            return DASF_ENOMEM;
        }
    }
    *out = e;
    return DASF_OK;
}

static void streams_clear(dasf_chunk_enc *e) {
    for (uint32_t i = 0; i < e->nstreams; i++) {
        free(e->streams[i].pid_s);
        free(e->streams[i].tid_s);
    }
    e->nstreams = 0;
    e->cur = UINT32_MAX;
}

void dasf_chunk_enc_destroy(dasf_chunk_enc *e) {
    if (!e) return;
    streams_clear(e);
    free(e->streams);
    free(e->htab);
    ZSTD_freeCCtx(e->cctx);
    free(e->schemas);
    free(e->kidx);
    dasf_buf_free(&e->schpool);
    dasf_buf_free(&e->ev);
    dasf_buf_free(&e->strbytes);
    dasf_buf_free(&e->strents);
    dasf_buf_free(&e->raw);
    dasf_buf_free(&e->z);
    dasf_buf_free(&e->meta);
    free(e);
}

size_t dasf_chunk_enc_count(const dasf_chunk_enc *e) { return e ? e->count : 0; }

int dasf_chunk_enc_full(const dasf_chunk_enc *e) {
    return e && (e->count >= DASF_CHUNK_MAX_EVENTS || e->nstr >= DASF_CHUNK_MAX_EVENTS ||
                 e->nstreams >= DASF_CHUNK_MAX_EVENTS ||
                 e->ev.len + e->strbytes.len + e->schpool.len >= DASF_CHUNK_TARGET_BYTES);
}

/* ---- small helpers --------------------------------------------------------- */

static size_t slen(const char *s, size_t given) { return given ? given : strlen(s); }

static int pack_str(msgpack_packer *pk, const char *s, size_t n) {
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

static int pack_id(msgpack_packer *pk, const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT: return msgpack_pack_int64(pk, id->i);
    case DASF_ID_STR: return pack_str(pk, id->s, strlen(id->s));
    case DASF_ID_NIL: return msgpack_pack_nil(pk);
    default: return -1;
    }
}

static int w_id(dasf_buf *b, const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT: return w_int(b, id->i);
    case DASF_ID_STR: return w_str(b, id->s, strlen(id->s));
    case DASF_ID_NIL: return w_byte(b, 0xc0);
    default: return -1;
    }
}

/* A value tree through msgpack-c's packer (cold: conversions, not the flusher). */
static int pack_value(msgpack_packer *pk, const dasf_value *v, int depth);
static int w_value(dasf_buf *b, const dasf_value *v) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, buf_write);
    return pack_value(&pk, v, 0);
}

static int pack_value(msgpack_packer *pk, const dasf_value *v, int depth) {
    if (depth > 256) return -1;
    switch (v->type) {
    case DASF_VAL_NIL: return msgpack_pack_nil(pk);
    case DASF_VAL_BOOL: return v->v.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case DASF_VAL_INT: return msgpack_pack_int64(pk, v->v.i);
    case DASF_VAL_UINT: return msgpack_pack_uint64(pk, v->v.u);
    case DASF_VAL_FLOAT: return msgpack_pack_double(pk, v->v.f);
    case DASF_VAL_STR: return pack_str(pk, v->v.str.ptr, v->v.str.len);
    case DASF_VAL_BIN:
        return msgpack_pack_bin(pk, v->v.bin.len) |
               msgpack_pack_bin_body(pk, v->v.bin.ptr, v->v.bin.len);
    case DASF_VAL_ARRAY: {
        int rc = msgpack_pack_array(pk, v->v.array.n);
        for (uint32_t i = 0; i < v->v.array.n && !rc; i++)
            rc = pack_value(pk, &v->v.array.items[i], depth + 1);
        return rc;
    }
    case DASF_VAL_MAP: {
        int rc = msgpack_pack_map(pk, v->v.map.n);
        for (uint32_t i = 0; i < v->v.map.n && !rc; i++)
            rc = pack_value(pk, &v->v.map.items[i].key, depth + 1) |
                 pack_value(pk, &v->v.map.items[i].val, depth + 1);
        return rc;
    }
    }
    return -1;
}

W_INLINE int w_arg_value(dasf_buf *b, const dasf_arg *a) {
    switch (a->type) {
    case DASF_ARG_INT: return w_int(b, a->v.i);
    case DASF_ARG_UINT: return w_uint(b, a->v.u);
    case DASF_ARG_DOUBLE: return w_f64(b, a->v.d);
    case DASF_ARG_BOOL: return w_byte(b, a->v.b ? 0xc3 : 0xc2);
    case DASF_ARG_STR: return w_str(b, a->v.s, strlen(a->v.s));
    case DASF_ARG_MSGPACK:
        /* One complete value, validated: appended verbatim. */
        return w_raw(b, a->v.raw.data, a->v.raw.size);
    }
    return -1;
}

/* Checks what the encoder relies on and cannot check cheaply later. */
static int check_args(const dasf_enc_event *ev) {
    int forms = (ev->n_args > 0) + (ev->args_msgpack != NULL) + (ev->args_value != NULL);
    if (forms > 1) return DASF_EINVAL;
    if (ev->n_args && !ev->args) return DASF_EINVAL;
    for (size_t i = 0; i < ev->n_args; i++) {
        const dasf_arg *a = &ev->args[i];
        if (!a->key) return DASF_EINVAL;
        if (a->type == DASF_ARG_STR && !a->v.s) return DASF_EINVAL;
        if (a->type == DASF_ARG_MSGPACK && dasf_msgpack_check(a->v.raw.data, a->v.raw.size, 0))
            return DASF_EINVAL;
        if (a->type < DASF_ARG_INT || a->type > DASF_ARG_MSGPACK) return DASF_EINVAL;
    }
    if (ev->args_msgpack && dasf_msgpack_check(ev->args_msgpack, ev->args_msgpack_size, 1))
        return DASF_EINVAL;
    if (ev->args_value && ev->args_value->type != DASF_VAL_MAP) return DASF_EINVAL;
    return DASF_OK;
}

static int id_resolved(const dasf_id *id) {
    return (id->kind == DASF_ID_INT || id->kind == DASF_ID_NIL ||
            (id->kind == DASF_ID_STR && id->s));
}

/* ---- legacy layout ----------------------------------------------------------- */

static int has_args(const dasf_enc_event *ev) {
    return ev->n_args || ev->args_msgpack || ev->args_value;
}
static int keep_args_nil(const dasf_enc_event *ev) {
    return (ev->kept & DASF_KEEP_ARGS_NIL) && !has_args(ev);
}
/* A time kept as integer seconds: when asked and its ns are whole seconds. */
static int keep_int(const dasf_enc_event *ev, unsigned bit, int64_t ns) {
    return (ev->kept & bit) && ns % 1000000000 == 0;
}
static int w_time(dasf_buf *b, const dasf_enc_event *ev, unsigned bit, double s, int64_t ns) {
    return keep_int(ev, bit, ns) ? w_int(b, ns / 1000000000) : w_f64(b, s);
}

static int legacy_args(dasf_buf *b, const dasf_enc_event *ev) {
    if (keep_args_nil(ev)) return w_byte(b, 0xc0);
    if (ev->args_msgpack) return w_raw(b, ev->args_msgpack, ev->args_msgpack_size);
    if (ev->args_value) return w_value(b, ev->args_value);
    int rc = w_hdr(b, 0x80, 0xde, ev->n_args);
    for (size_t i = 0; i < ev->n_args && !rc; i++)
        rc = w_str(b, ev->args[i].key, strlen(ev->args[i].key)) | w_arg_value(b, &ev->args[i]);
    return rc;
}

#define KEY(pk, lit) pack_str((pk), (lit), sizeof(lit) - 1)
#define WKEY(b, lit) w_raw((b), "" lit, sizeof(lit) - 1) /* lit includes its fixstr byte */

static int legacy_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
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

/* ---- archive: string table and streams ---------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n) { /* 1..7 tail bytes without a variable-length copy */
        const uint8_t *u = (const uint8_t *)s;
        uint64_t w;
        if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, u, 4);
            memcpy(&b, u + n - 4, 4);
            w = (uint64_t)a << 32 | b;
        } else {
            w = (uint64_t)u[0] << 16 | (uint64_t)u[n >> 1] << 8 | u[n - 1];
        }
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    }
    h ^= h >> 32;
    return h;
}

static int htab_grow(dasf_chunk_enc *e) {
    uint32_t cap = e->hcap * 2;
    struct hslot *t = calloc(cap, sizeof *t);
    if (!t) return DASF_ENOMEM;
    for (uint32_t i = 0; i < e->hcap; i++) {
        if (!e->htab[i].idx1) continue;
        uint32_t j = (uint32_t)e->htab[i].hash & (cap - 1);
        while (t[j].idx1) j = (j + 1) & (cap - 1);
        t[j] = e->htab[i];
    }
    free(e->htab);
    e->htab = t;
    e->hcap = cap;
    return DASF_OK;
}

/* Short keys and names: word compares beat a libc call. */
/* a[0..n) == b[0..n), with 8-byte (or 4-byte) loads only: the tail is one
 * load that overlaps the previous word, so no byte loop (whose variable
 * exit mispredicts on names of varied lengths). */
static inline int bytes_eq(const uint8_t *a, const char *b, size_t n) {
    uint64_t x, y;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t p, q, r, s;
        memcpy(&p, a, 4), memcpy(&q, b, 4);
        memcpy(&r, a + n - 4, 4), memcpy(&s, b + n - 4, 4);
        return p == q && r == s;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != (uint8_t)b[i]) return 0;
    return 1;
}

/* @return the string's index in this chunk's table, or -1 (no memory). */
static int64_t intern(dasf_chunk_enc *e, const char *s, size_t n) {
    uint64_t h = hash_bytes(s, n);
    uint32_t j = (uint32_t)h & (e->hcap - 1);
    const str_ent *ents = (const str_ent *)e->strents.data;
    for (;;) {
        const struct hslot *hs = &e->htab[j];
        if (!hs->idx1) break;
        if (hs->hash == h && hs->len == n &&
            bytes_eq(e->strbytes.data + ents[hs->idx1 - 1].off, s, n))
            return hs->idx1 - 1;
        j = (j + 1) & (e->hcap - 1);
    }
    if (e->nstr >= UINT32_MAX / 2 || e->strbytes.len + n > UINT32_MAX) return -1;
    str_ent ne = {(uint32_t)e->strbytes.len, (uint32_t)n};
    if (dasf_buf_append(&e->strbytes, s, n) || dasf_buf_append(&e->strents, &ne, sizeof ne))
        return -1;
    e->htab[j].idx1 = ++e->nstr;
    e->htab[j].len = (uint32_t)n;
    e->htab[j].hash = h;
    if ((uint64_t)e->nstr * 2 > e->hcap && htab_grow(e)) return -1;
    return e->nstr - 1;
}

/* intern() behind a pointer cache: names and keys usually come from the
 * same (interned or literal) storage event after event.  A hit is verified
 * against the stored bytes, so a reused buffer with new content never
 * aliases.  n == SIZE_MAX: NUL-terminated, length unknown (a hit then
 * needs no strlen). */
static inline int64_t intern_cached(dasf_chunk_enc *e, const char *s, size_t n) {
    struct icache *c = &e->icache[((uintptr_t)s >> 3 ^ (uintptr_t)s >> 13) & 1023];
    if (c->p == s) {
        const str_ent *se = (const str_ent *)e->strents.data + c->idx;
        const uint8_t *st = e->strbytes.data + se->off;
        if (n == SIZE_MAX) {
            /* Stored strings that reach here hold no NUL (c_str_ok), so a
             * byte equal to the stored one is never s's terminator and the
             * loop cannot read past it. */
            size_t i = 0, len = se->len;
            while (i < len && (uint8_t)s[i] == st[i]) i++;
            if (i == len && s[len] == 0) return c->idx;
        } else if (n == se->len && bytes_eq(st, s, n)) {
            return c->idx;
        }
    }
    int c_str_ok = n == SIZE_MAX || !memchr(s, 0, n);
    if (n == SIZE_MAX) n = strlen(s);
    int64_t idx = intern(e, s, n);
    if (idx >= 0 && c_str_ok) {
        c->p = s;
        c->idx = (uint32_t)idx;
    }
    return idx;
}

/* intern_cached() behind the caller's memo (dasf_enc_memo, internal.h):
 * for strings copied into a ring, whose pointer is new every event, so the
 * pointer cache never hits and every event paid memchr + hash + probe.
 * slot1 is the memo slot; a hit is checked by length and content against
 * the chunk's stored copy.  n is known (never SIZE_MAX) here. */
static inline int64_t intern_memo(dasf_chunk_enc *e, uint32_t *slot1, const char *s, size_t n) {
    uint32_t i1 = *slot1;
    if (i1 && i1 <= e->nstr) {
        const str_ent *se = (const str_ent *)e->strents.data + (i1 - 1);
        if (se->len == n && bytes_eq(e->strbytes.data + se->off, s, n)) return i1 - 1;
    }
    int64_t idx = intern_cached(e, s, n);
    if (idx >= 0) *slot1 = (uint32_t)idx + 1;
    return idx;
}

/* The memo of ev for this chunk (cleared when it was another's), or NULL. */
static __attribute__((noinline)) dasf_enc_memo *memo_of_slow(dasf_chunk_enc *e,
                                                                    dasf_enc_memo *m) {
    memset(m, 0, sizeof *m);
    m->owner = e;
    m->gen = e->gen;
    return m;
}

static inline dasf_enc_memo *memo_of(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_enc_memo *m = ev->memo;
    if (m && DASF_UNLIKELY(m->owner != e || m->gen != e->gen)) return memo_of_slow(e, m);
    return m;
}

static inline uint32_t *memo_name_slot(dasf_enc_memo *m, const char *s, size_t n) {
    unsigned h = n ? (unsigned)n * 7u ^ (uint8_t)s[0] ^ (unsigned)(uint8_t)s[n - 1] << 3 : 0;
    return &m->name1[h % DASF_ENC_MEMO_NAMES];
}

static int id_eq(const dasf_id *a, const dasf_id *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == DASF_ID_INT) return a->i == b->i;
    if (a->kind == DASF_ID_STR) return strcmp(a->s, b->s) == 0;
    return 1;
}

static int copy_id(dasf_id *dst, char **own, const dasf_id *src) {
    *dst = *src;
    *own = NULL;
    if (src->kind == DASF_ID_STR) {
        *own = strdup(src->s);
        if (!*own) return -1;
        dst->s = *own;
    }
    return 0;
}

/* @return the stream index of (pid, tid), creating it; -1 on no memory. */
static int64_t find_stream(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    if (e->cur < e->nstreams && id_eq(&e->streams[e->cur].pid, &ev->pid) &&
        id_eq(&e->streams[e->cur].tid, &ev->tid))
        return e->cur;
    for (uint32_t i = 0; i < e->nstreams; i++)
        if (id_eq(&e->streams[i].pid, &ev->pid) && id_eq(&e->streams[i].tid, &ev->tid))
            return i;
    if (e->nstreams == e->capstreams) {
        uint32_t cap = e->capstreams ? e->capstreams * 2 : 8;
        stream_ent *s = realloc(e->streams, cap * sizeof *s);
        if (!s) return -1;
        e->streams = s;
        e->capstreams = cap;
    }
    stream_ent *s = &e->streams[e->nstreams];
    if (copy_id(&s->pid, &s->pid_s, &ev->pid)) return -1;
    if (copy_id(&s->tid, &s->tid_s, &ev->tid)) {
        free(s->pid_s);
        return -1;
    }
    s->base = s->prev_end = s->prev_start = ev->ts_ns;
    return e->nstreams++;
}

/* ---- archive: events ----------------------------------------------------------- */

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
            int64_t ki = intern(e, (const char *)k.v.s.ptr, k.v.s.len);
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
            int64_t ki = intern(e, k->v.str.ptr, k->v.str.len);
            rc = ki < 0 ? -1 : w_uint(b, (uint64_t)ki) | w_value(b, &m->v.map.items[i].val);
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

static int archive_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_buf *b = &e->ev;
    int pi = dasf_phase_fast_index(ev->phase);
    if (pi < 0 || !id_resolved(&ev->pid) || !id_resolved(&ev->tid)) return DASF_EINVAL;
    if (ev->id.kind != DASF_ID_AUTO && !id_resolved(&ev->id)) return DASF_EINVAL;

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
    int64_t si = find_stream(e, ev);
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
    int64_t ts_fix = dasf_time_fix(ev->ts, ev->ts_ns);
    int64_t dur_fix = is_x ? dasf_time_fix(ev->dur, ev->dur_ns) : 0;
    if (ts_fix) ext |= DASF_EX_TS_FIX;
    if (dur_fix) ext |= DASF_EX_DUR_FIX;
    if (keep_int(ev, DASF_KEEP_TS_INT, ev->ts_ns)) ext |= DASF_EX_TS_INT;
    if (is_x && keep_int(ev, DASF_KEEP_DUR_INT, ev->dur_ns)) ext |= DASF_EX_DUR_INT;
    if (keep_args_nil(ev)) ext |= DASF_EX_ARGS_NIL;

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
                                   : w_value(b, ev->args_value);
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

int dasf_chunk_enc_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    if (!e || !ev || !ev->name || dasf_phase_fast_index(ev->phase) < 0) return DASF_EINVAL;
    if (ev->scope && ev->scope != 'g' && ev->scope != 'p' && ev->scope != 't')
        return DASF_EINVAL;
    int rc = check_args(ev);
    if (rc) return rc;
    if (e->level == 0) {
        if (!id_resolved(&ev->pid) || !id_resolved(&ev->tid)) return DASF_EINVAL;
        if (ev->id.kind != DASF_ID_AUTO && !id_resolved(&ev->id)) return DASF_EINVAL;
        rc = legacy_add(e, ev);
    } else {
        rc = archive_add(e, ev);
    }
    if (rc == DASF_OK) e->count++;
    return rc;
}

/* ---- archive: finishing a chunk --------------------------------------------- */

static void reset(dasf_chunk_enc *e) {
    e->count = 0;
    e->gen++; /* every caller's memo of this chunk's string indices is stale */
    e->ev.len = 0;
    if (e->level == 0) return;
    memset(e->htab, 0, e->hcap * sizeof *e->htab);
    memset(e->icache, 0, sizeof e->icache);
    e->nstr = 0;
    e->strbytes.len = e->strents.len = 0;
    streams_clear(e);
    if (e->nschemas) memset(e->schemas, 0, e->capschemas * sizeof *e->schemas);
    e->nschemas = 0;
    e->schpool.len = 0;
    e->ts_min = INT64_MAX;
    e->ts_max = INT64_MIN;
}

static int pack_header(dasf_chunk_enc *e, msgpack_packer *pk) {
    const str_ent *ents = (const str_ent *)e->strents.data;
    int rc = msgpack_pack_map(pk, e->nschemas ? 5 : 4);
    rc |= KEY(pk, "dasf") | msgpack_pack_int(pk, DASF_FORMAT_VERSION);
    rc |= KEY(pk, "events") | msgpack_pack_uint64(pk, e->count);
    rc |= KEY(pk, "strings") | msgpack_pack_array(pk, e->nstr);
    for (uint32_t i = 0; i < e->nstr && !rc; i++)
        rc |= pack_str(pk, (const char *)e->strbytes.data + ents[i].off, ents[i].len);
    rc |= KEY(pk, "streams") | msgpack_pack_array(pk, e->nstreams);
    for (uint32_t i = 0; i < e->nstreams && !rc; i++) {
        const stream_ent *s = &e->streams[i];
        rc |= msgpack_pack_array(pk, 3) | pack_id(pk, &s->pid) | pack_id(pk, &s->tid) |
              msgpack_pack_int64(pk, s->base);
    }
    if (e->nschemas) {
        const uint32_t *pool = (const uint32_t *)e->schpool.data;
        rc |= KEY(pk, "schemas") | msgpack_pack_map(pk, e->nschemas);
        for (uint32_t i = 0; i < e->capschemas && !rc; i++) {
            const schema_ent *sc = &e->schemas[i];
            if (!sc->n) continue;
            rc |= msgpack_pack_uint32(pk, i) | msgpack_pack_array(pk, sc->n);
            for (uint32_t j = 0; j < sc->n; j++) rc |= msgpack_pack_uint32(pk, pool[sc->off + j]);
        }
    }
    return rc;
}

static int pack_meta(dasf_chunk_enc *e, msgpack_packer *pk, const dasf_chunk_origin *o,
                     uint64_t raw, uint64_t stored, uint32_t crc) {
    const char *host = o->host ? o->host : "";
    const char *clock = o->clock ? o->clock : "monotonic";
    int rc = msgpack_pack_map(pk, 13);
    rc |= KEY(pk, "dasf") | msgpack_pack_int(pk, DASF_FORMAT_VERSION);
    rc |= KEY(pk, "events") | msgpack_pack_uint64(pk, e->count);
    rc |= KEY(pk, "raw_size") | msgpack_pack_uint64(pk, raw);
    rc |= KEY(pk, "stored_size") | msgpack_pack_uint64(pk, stored);
    rc |= KEY(pk, "crc32c") | msgpack_pack_uint32(pk, crc);
    rc |= KEY(pk, "ts_min") | msgpack_pack_int64(pk, e->ts_min);
    rc |= KEY(pk, "ts_max") | msgpack_pack_int64(pk, e->ts_max);
    rc |= KEY(pk, "pid") | msgpack_pack_int64(pk, o->pid);
    rc |= KEY(pk, "host") | pack_str(pk, host, strnlen(host, 63));
    rc |= KEY(pk, "clock") | pack_str(pk, clock, strnlen(clock, 31));
    rc |= KEY(pk, "rt_offset") | msgpack_pack_int64(pk, o->realtime_offset_ns);
    rc |= KEY(pk, "dropped") | msgpack_pack_uint64(pk, o->dropped);
    rc |= KEY(pk, "level") | msgpack_pack_int(pk, e->level);
    return rc;
}

static int archive_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o, dasf_buf *out) {
    msgpack_packer pk;
    e->raw.len = 0;
    msgpack_packer_init(&pk, &e->raw, buf_write);
    if (pack_header(e, &pk) || dasf_buf_append(&e->raw, e->ev.data, e->ev.len))
        return DASF_ENOMEM;

    size_t bound = ZSTD_compressBound(e->raw.len);
    e->z.len = 0;
    if (dasf_buf_reserve(&e->z, bound)) return DASF_ENOMEM;
    ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_only);
    size_t zn = ZSTD_compress2(e->cctx, e->z.data, bound, e->raw.data, e->raw.len);
    if (ZSTD_isError(zn)) return DASF_ENOMEM;
    e->z.len = zn;
    uint32_t crc = dasf_crc32c(0, e->z.data, zn);

    e->meta.len = 0;
    msgpack_packer_init(&pk, &e->meta, buf_write);
    if (pack_meta(e, &pk, o, e->raw.len, zn, crc)) return DASF_ENOMEM;
    if (e->meta.len > DASF_MAX_META_SIZE) return DASF_EINVAL;

    uint8_t hdr[8];
    dasf_store_le32(hdr, DASF_CHUNK_MAGIC);
    dasf_store_le32(hdr + 4, (uint32_t)e->meta.len);
    if (dasf_buf_reserve(out, sizeof hdr + e->meta.len + zn)) return DASF_ENOMEM;
    dasf_buf_append(out, hdr, sizeof hdr);
    dasf_buf_append(out, e->meta.data, e->meta.len);
    dasf_buf_append(out, e->z.data, zn);
    return DASF_OK;
}

int dasf_chunk_enc_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o, dasf_buf *out) {
    if (!e || !out) return DASF_EINVAL;
    if (e->count == 0) return DASF_OK;
    int rc;
    if (e->level == 0) {
        rc = dasf_buf_append(out, e->ev.data, e->ev.len);
    } else {
        dasf_chunk_origin def = {0};
        if (!o) {
            def.pid = getpid();
            def.host = dasf_hostname();
            def.clock = "monotonic";
            def.realtime_offset_ns = dasf_realtime_offset_ns();
            o = &def;
        }
        rc = archive_finish(e, o, out);
    }
    if (rc == DASF_OK) reset(e);
    return rc;
}

/* ---- layout detection ----------------------------------------------------------- */

static int is_map_marker(uint8_t b) { return (b >= 0x81 && b <= 0x8f) || b == 0xde || b == 0xdf; }

int dasf_detect_layout(const uint8_t *head, size_t n) {
    if (!head || n == 0) return DASF_LAYOUT_EMPTY;
    if (n >= 4 && dasf_load_le32(head) == DASF_CHUNK_MAGIC) return DASF_LAYOUT_ARCHIVE;
    /* Legacy: a big-endian length of k bytes (k = default_byte_size, 1..8,
     * 8 tried first), then a non-empty map whose first key is a string. */
    for (size_t k = 8; k >= 1; k--) {
        if (n < k + 2) continue;
        uint64_t len = dasf_load_be(head, k);
        if (len < 2 || len > DASF_MAX_LEGACY_RECORD) continue;
        if (!is_map_marker(head[k])) continue;
        size_t key = head[k] <= 0x8f ? k + 1 : head[k] == 0xde ? k + 3 : k + 5;
        if (key < n && !((head[key] >= 0xa1 && head[key] <= 0xbf) || head[key] == 0xd9))
            continue;
        return DASF_LAYOUT_LEGACY;
    }
    return DASF_EFORMAT;
}
