/*
 * fuzz_chunk.c — libFuzzer target: the input becomes the *contents* of
 * valid frames, so mutations reach the event decoder instead of dying at a
 * checksum.
 *
 * Input: one flags byte, then pieces separated by FZ_SEP ("\xc1\xc1\xc1\xc1";
 * 0xc1 is the one byte msgpack never uses).
 *   flags bit 0 clear — archive: each piece is a chunk's decompressed
 *     content (header map + event arrays).  It is compressed into a zstd
 *     frame with content size and checksum, and preceded by a metadata
 *     frame whose version and event count are taken from the piece's own
 *     header (so they agree unless the header is malformed), with a correct
 *     stored_size, raw_size and CRC-32C.
 *   flags bit 0 set — legacy: each piece is a record body, prefixed with its
 *     exact length in k = 1 + ((flags >> 1) & 7) bytes (pieces too long for
 *     k bytes are cut).
 * The file is then read and walked like fuzz_reader's.  tests/fuzz/seeds.c
 * writes seeds in this form from real traces.
 */
#include "archive.h"
#include "mp_cursor.h"
#include "fuzz_common.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define FZ_SEP "\xc1\xc1\xc1\xc1"
#define FZ_SEP_LEN 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dasf_buf g_out;
static ZSTD_CCtx *g_cctx;
static uint8_t *g_frame;
static size_t g_frame_cap;

/* The header map's "dasf" and "events" values, when it has them. */
static void header_counts(const uint8_t *p, size_t n, int64_t *version, uint64_t *events) {
    *version = 2;
    *events = 0;
    dasf_mp c = {p, p + n};
    dasf_mp_obj m;
    if (dasf_mp_read(&c, &m) || m.type != DASF_VAL_MAP) return;
    for (uint32_t i = 0; i < m.v.n; i++) {
        dasf_mp_obj k, v;
        if (dasf_mp_read(&c, &k)) return;
        const uint8_t *at = c.p;
        if (dasf_mp_read(&c, &v)) return;
        if (k.type == DASF_VAL_STR && (v.type == DASF_VAL_INT || v.type == DASF_VAL_UINT)) {
            if (k.v.s.len == 4 && !memcmp(k.v.s.ptr, "dasf", 4)) *version = v.v.i;
            if (k.v.s.len == 6 && !memcmp(k.v.s.ptr, "events", 6)) *events = v.v.u;
        }
        c.p = at;
        if (dasf_mp_skip(&c)) return;
    }
}

static int sbuf_write(void *data, const char *buf, size_t len) {
    return dasf_buf_append((dasf_buf *)data, buf, len) ? -1 : 0;
}

static void add_archive_chunk(const uint8_t *p, size_t n) {
    size_t bound = ZSTD_compressBound(n);
    if (bound > g_frame_cap) {
        free(g_frame);
        g_frame = malloc(bound);
        if (!g_frame) abort();
        g_frame_cap = bound;
    }
    ZSTD_CCtx_reset(g_cctx, ZSTD_reset_session_only);
    ZSTD_CCtx_setPledgedSrcSize(g_cctx, n);
    size_t z = ZSTD_compress2(g_cctx, g_frame, bound, p, n);
    if (ZSTD_isError(z)) fz_fail("zstd: %s", ZSTD_getErrorName(z));
    int64_t version;
    uint64_t events;
    header_counts(p, n, &version, &events);
    dasf_buf meta = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &meta, sbuf_write);
    msgpack_pack_map(&pk, 13);
#define KEY(s)                                                                                     \
    msgpack_pack_str(&pk, sizeof(s) - 1);                                                          \
    msgpack_pack_str_body(&pk, s, sizeof(s) - 1)
    KEY("dasf");
    msgpack_pack_int64(&pk, version);
    KEY("events");
    msgpack_pack_uint64(&pk, events);
    KEY("raw_size");
    msgpack_pack_uint64(&pk, n);
    KEY("stored_size");
    msgpack_pack_uint64(&pk, z);
    KEY("crc32c");
    msgpack_pack_uint64(&pk, dasf_crc32c(0, g_frame, z));
    KEY("ts_min");
    msgpack_pack_int64(&pk, 0);
    KEY("ts_max");
    msgpack_pack_int64(&pk, 1000);
    KEY("pid");
    msgpack_pack_int64(&pk, 42);
    KEY("host");
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "fuzz", 4);
    KEY("clock");
    msgpack_pack_str(&pk, 9);
    msgpack_pack_str_body(&pk, "monotonic", 9);
    KEY("rt_offset");
    msgpack_pack_int64(&pk, 0);
    KEY("dropped");
    msgpack_pack_uint64(&pk, 0);
    KEY("level");
    msgpack_pack_int64(&pk, 1);
#undef KEY
    uint8_t head[8];
    dasf_store_le32(head, DASF_CHUNK_MAGIC);
    dasf_store_le32(head + 4, (uint32_t)meta.len);
    if (dasf_buf_append(&g_out, head, 8) || dasf_buf_append(&g_out, meta.data, meta.len) ||
        dasf_buf_append(&g_out, g_frame, z))
        abort();
    dasf_buf_free(&meta);
}

static void add_legacy_record(const uint8_t *p, size_t n, int k) {
    uint64_t max = k == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * k)) - 1;
    if (n > max) n = (size_t)max;
    uint8_t len[8];
    for (int i = 0; i < k; i++) len[i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    if (dasf_buf_append(&g_out, len, (size_t)k) || dasf_buf_append(&g_out, p, n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fz_file f;
    fz_file_init(&f, "chunk-input");
    if (!g_cctx) {
        g_cctx = ZSTD_createCCtx();
        if (!g_cctx) abort();
        ZSTD_CCtx_setParameter(g_cctx, ZSTD_c_compressionLevel, 1);
        ZSTD_CCtx_setParameter(g_cctx, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(g_cctx, ZSTD_c_contentSizeFlag, 1);
    }
    if (size < 1) return 0;
    uint8_t flags = data[0];
    bool legacy = flags & 1;
    int k = 1 + ((flags >> 1) & 7);
    g_out.len = 0;
    const uint8_t *p = data + 1, *end = data + size;
    while (p <= end) {
        const uint8_t *sep = memmem(p, (size_t)(end - p), FZ_SEP, FZ_SEP_LEN);
        const uint8_t *stop = sep ? sep : end;
        if (legacy)
            add_legacy_record(p, (size_t)(stop - p), k);
        else if (stop > p)
            add_archive_chunk(p, (size_t)(stop - p));
        if (!sep) break;
        p = sep + FZ_SEP_LEN;
    }
    fz_file_set(&f, g_out.data, g_out.len);
    fz_walk(f.path);
    return 0;
}
