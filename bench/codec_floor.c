/*
 * codec_floor.c — the "codec floor" of an end-to-end run: zstd alone on the
 * very chunk payloads the flusher compressed, in events/s.
 *
 * Reads the archive an end-to-end run wrote (docs/FORMAT.md: per chunk a
 * little-endian magic and metadata length, the msgpack metadata, one zstd
 * frame of stored_size bytes), decompresses every chunk's frame back to the
 * payload the encoder produced (string table, stream table, event arrays),
 * then times compressing all of them again with the encoder's zstd
 * parameters (the level of the run, checksum on, minMatch 6 at levels 1-2:
 * runtime/encode/archive_finish.c) through one reused context, as the flusher does.  What is
 * timed is zstd alone: no encoding, no CRC, no file.  Median of `passes`.
 * msgpack-c and libzstd through their public APIs (the bench must not
 * depend on the runtime's internals to measure them).
 */
#include "bench_util.h"
#include "codec_floor.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define CHUNK_MAGIC 0x184D2A5Du

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, fp);
        n += got;
        if (n < cap) break;
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) free(b);
        b = nb;
        cap *= 2;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* events and stored_size of one chunk's metadata map; 0 on success. */
static int meta_fields(const uint8_t *p, size_t n, uint64_t *events, uint64_t *stored) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = -1;
    if (msgpack_unpack_next(&u, (const char *)p, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        int got = 0;
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR ||
                kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                continue;
            const char *k = kv->key.via.str.ptr;
            uint32_t kl = kv->key.via.str.size;
            if (kl == 6 && memcmp(k, "events", 6) == 0) *events = kv->val.via.u64, got |= 1;
            if (kl == 11 && memcmp(k, "stored_size", 11) == 0) *stored = kv->val.via.u64, got |= 2;
        }
        rc = got == 3 ? 0 : -1;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

typedef struct payload {
    void *data;
    size_t len;
} payload;

typedef struct payloads {
    payload *v;
    size_t n, cap;
} payloads;

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Decompresses the chunk at *off of the archive f[0..flen) into ps, adds its
 * counts to out and moves *off past it; -1 when it is not a readable chunk. */
static int load_chunk(const uint8_t *f, size_t flen, size_t *off, payloads *ps,
                      bench_floor *out) {
    size_t o = *off;
    if (le32(f + o) != CHUNK_MAGIC) return -1;
    size_t ml = le32(f + o + 4);
    uint64_t ev = 0, st = 0;
    if (o + 8 + ml > flen || meta_fields(f + o + 8, ml, &ev, &st) || st > flen - o - 8 - ml)
        return -1;
    const uint8_t *z = f + o + 8 + ml;
    unsigned long long raw = ZSTD_getFrameContentSize(z, st);
    if (raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN) return -1;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        payload *v = realloc(ps->v, ps->cap * sizeof *v);
        if (!v) bench_die("out of memory");
        ps->v = v;
    }
    payload *pl = &ps->v[ps->n];
    pl->data = malloc(raw ? raw : 1);
    if (!pl->data) bench_die("out of memory");
    size_t got = ZSTD_decompress(pl->data, raw, z, st);
    if (ZSTD_isError(got) || got != raw) {
        free(pl->data);
        return -1;
    }
    pl->len = raw;
    ps->n++;
    out->events += ev;
    out->raw_bytes += raw;
    out->stored_bytes += st;
    *off = o + 8 + ml + st;
    return 0;
}

/* Every chunk's payload of the archive `file`; -1 when it is not a readable
 * archive (what was loaded stays in ps). */
static int load_payloads(const char *file, payloads *ps, bench_floor *out) {
    size_t flen;
    uint8_t *f = read_all(file, &flen);
    if (!f) return -1;
    size_t off = 0;
    int rc = 0;
    while (off + 8 <= flen && rc == 0) rc = load_chunk(f, flen, &off, ps, out);
    free(f);
    if (rc == 0 && (off != flen || ps->n == 0)) rc = -1;
    return rc;
}

/* Times compressing every payload at `level` with the encoder's parameters,
 * `passes` times; the median pass into out.  -1 when zstd fails. */
static int time_compress(const payloads *ps, int level, int passes, bench_floor *out) {
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t bound = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (ZSTD_compressBound(ps->v[i].len) > bound) bound = ZSTD_compressBound(ps->v[i].len);
    void *dst = malloc(bound ? bound : 1);
    if (!cc || !dst) bench_die("out of memory");
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    if (level <= 2) ZSTD_CCtx_setParameter(cc, ZSTD_c_minMatch, 6);
    double *t = calloc((size_t)(passes > 0 ? passes : 1), sizeof *t);
    if (!t) bench_die("out of memory");
    int rc = 0;
    for (int k = 0; rc == 0 && k < passes; k++) {
        double t0 = bench_mono_s();
        for (size_t i = 0; i < ps->n; i++) {
            ZSTD_CCtx_reset(cc, ZSTD_reset_session_only);
            size_t zn = ZSTD_compress2(cc, dst, bound, ps->v[i].data, ps->v[i].len);
            if (ZSTD_isError(zn)) rc = -1;
        }
        t[k] = bench_mono_s() - t0;
    }
    if (rc == 0 && passes > 0) {
        qsort(t, (size_t)passes, sizeof *t, cmp_dbl);
        out->seconds = t[passes / 2];
        out->events_per_s = (double)out->events / out->seconds;
        out->chunks = ps->n;
    }
    free(t);
    free(dst);
    ZSTD_freeCCtx(cc);
    return rc;
}

int bench_codec_floor(const char *file, int level, int passes, bench_floor *out) {
    memset(out, 0, sizeof *out);
    payloads ps = {0};
    int rc = load_payloads(file, &ps, out);
    if (rc == 0) rc = time_compress(&ps, level, passes, out);
    for (size_t i = 0; i < ps.n; i++) free(ps.v[i].data);
    free(ps.v);
    return rc;
}
