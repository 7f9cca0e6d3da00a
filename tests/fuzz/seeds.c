/*
 * seeds.c — dasf-fuzz-seeds OUTDIR [TRACE...]: the project's seed corpus for
 * the fuzz targets, written by the library itself (so it always matches the
 * current format), deterministic.
 *
 *   OUTDIR/reader/   trace files: both layouts (legacy with 8-, 4-, 2- and
 *                    1-byte prefixes), every phase, typed/raw/nested args with
 *                    non-string keys, int/str/nil ids, cats, scopes, compact X
 *                    events with schemas and every time mode (through the
 *                    FileDatabase), many small chunks (through dasf_writer),
 *                    an empty file, a torn tail and a flipped byte; plus a
 *                    copy of every TRACE given (the repro inputs)
 *   OUTDIR/chunk/    the same traces in fuzz_chunk's form: a flags byte, then
 *                    each archive chunk's decompressed content (or each legacy
 *                    record body) separated by "\xc1\xc1\xc1\xc1"
 *   OUTDIR/encoder/  fixed pseudo-random inputs, one per writer x layout
 *
 * Used by `./build.sh fuzz` (fresh corpora) and by test_corpus (the corpus
 * replayed through every dasf-trace verb).  Exit 0, or 1 with a message.
 */
#include "dasf/profiler.h"

#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static const char *g_out;

static void die(const char *what) {
    fprintf(stderr, "dasf-fuzz-seeds: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void check(int rc, const char *what) {
    if (rc) {
        fprintf(stderr, "dasf-fuzz-seeds: %s: %s\n", what, dasf_strerror(rc));
        exit(1);
    }
}

static char *path_in(const char *sub, const char *name) {
    static char buf[8][4096];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s/%s", g_out, sub, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    *n = len;
    return b;
}

static void spit(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) die(path);
}

/* ---- traces through the FileDatabase (the profiler's path) ------------------- */

static int pack_write(void *data, const char *buf, size_t len) {
    return msgpack_sbuffer_write((msgpack_sbuffer *)data, buf, len);
}

static void every_kind(const char *path, int level, int byte_size) {
    unlink(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = level;
    o.default_byte_size = byte_size;
    o.commit_threshold = 1 << 20;
    dasf_db *db;
    check(dasf_file_db_open(&db, path, &o), path);
    static const char phases[] = "XBEIbnestfCNODMR";
    msgpack_sbuffer raw;
    msgpack_sbuffer_init(&raw);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &raw, pack_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "deps", 4);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, 7); /* a non-string key */
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "b", 1);
    msgpack_pack_bin(&pk, 3);
    msgpack_pack_bin_body(&pk, "\x00\x01\x02", 3);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "e", 1);
    msgpack_pack_ext(&pk, 2, 5);
    msgpack_pack_ext_body(&pk, "xy", 2);
    double t = 1000.0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 16; i++) {
            dasf_arg args[6] = {DASF_ARG_I64("n", -i),          DASF_ARG_U64("m", UINT64_MAX - i),
                                DASF_ARG_F64("f", 0.1 * i),      DASF_ARG_BOOL("b", i & 1),
                                DASF_ARG_STR("s", "str\xff"),    DASF_ARG_MSGPACK("r", raw.data, raw.size)};
            dasf_event e = {.name = i % 2 ? "compute" : "k", .timestamp = t + i * 1.0000000003,
                            .phase = (dasf_phase)phases[i]};
            if (e.phase == DASF_PHASE_COMPLETE) e.duration = 0.25 + i * 1e-10;
            if (e.phase == DASF_PHASE_INSTANT) e.scope = "gpt"[round];
            if (i >= 4 && i <= 13) {
                e.cat = "cat";
                e.id = round == 0 ? dasf_id_int(i) : round == 1 ? dasf_id_str("id") : dasf_id_nil();
            }
            if (round == 1) e.process_id = dasf_id_str("node-a");
            if (round == 2) e.thread_id = dasf_id_nil();
            if (i % 3 == 0) {
                e.args = args;
                e.n_args = 1 + (size_t)(i % 6);
            } else if (i % 3 == 1) {
                e.args_msgpack = raw.data;
                e.args_msgpack_size = raw.size;
            }
            check(dasf_db_record(db, &e), "record");
        }
        /* compact X: typed args matching a schema, overlaps, long and short gaps */
        for (int i = 0; i < 40; i++) {
            dasf_arg a[2] = {DASF_ARG_I64("n", i), DASF_ARG_I64("zz", 77)};
            double start = t + 20 + (i % 5) * 0.5 + (i / 5) * 3.0;
            dasf_event x = {.name = i % 3 ? "step" : "solve", .timestamp = start,
                            .duration = (i % 7) * 0.9 + 1e-9, .phase = DASF_PHASE_COMPLETE};
            if (i % 4) {
                x.args = a;
                x.n_args = 1 + (size_t)(i % 2);
            }
            check(dasf_db_record(db, &x), "record X");
        }
        check(dasf_db_commit(db), "commit");
        t += 100;
    }
    check(dasf_db_close(db), "close");
    msgpack_sbuffer_destroy(&raw);
}

/* Many small chunks through dasf_writer (what merge/convert write). */
static void many_chunks(const char *path, int level) {
    unlink(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = level;
    o.commit_threshold = 7;
    dasf_writer *w;
    check(dasf_writer_open(&w, path, &o), path);
    for (int i = 0; i < 60; i++) {
        dasf_trace_event e;
        memset(&e, 0, sizeof e);
        e.name = i % 2 ? "a" : "bb";
        e.phase = i % 5 ? DASF_PHASE_COMPLETE : DASF_PHASE_INSTANT;
        e.timestamp_ns = 5000000000LL + i * 1000003LL;
        e.timestamp = (double)e.timestamp_ns * 1e-9;
        if (e.phase == DASF_PHASE_COMPLETE) {
            e.duration_ns = 999 * (i % 11);
            e.has_duration = true;
        }
        e.process_id.type = DASF_VAL_INT;
        e.process_id.v.i = 100 + i % 3;
        e.thread_id.type = DASF_VAL_INT;
        e.thread_id.v.i = i % 2;
        e.args.type = DASF_VAL_MAP;
        check(dasf_writer_add(w, &e), "writer add");
    }
    check(dasf_writer_close(w), "writer close");
}

/* ---- fuzz_chunk's form ------------------------------------------------------------ */

#define SEP "\xc1\xc1\xc1\xc1"

static uint64_t be(const unsigned char *p, int k) {
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v = v << 8 | p[i];
    return v;
}

/* An archive's chunks, decompressed (at most 16 MiB each), joined by SEP.
 * Stops at the first chunk it cannot follow. */
static void chunk_seed_archive(const unsigned char *b, size_t n, const char *out) {
    msgpack_sbuffer s;
    msgpack_sbuffer_init(&s);
    msgpack_sbuffer_write(&s, "\x00", 1);
    size_t pos = 0;
    int first = 1;
    while (pos + 8 <= n) {
        uint32_t magic = (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 |
                         (uint32_t)b[pos + 2] << 16 | (uint32_t)b[pos + 3] << 24;
        uint32_t msize = (uint32_t)b[pos + 4] | (uint32_t)b[pos + 5] << 8 |
                         (uint32_t)b[pos + 6] << 16 | (uint32_t)b[pos + 7] << 24;
        if (magic != 0x184D2A5Du || msize > 4096 || pos + 8 + msize > n) break;
        msgpack_unpacked m;
        msgpack_unpacked_init(&m);
        size_t off = 0;
        uint64_t stored = 0;
        if (msgpack_unpack_next(&m, (const char *)b + pos + 8, msize, &off) ==
                MSGPACK_UNPACK_SUCCESS &&
            m.data.type == MSGPACK_OBJECT_MAP) {
            for (uint32_t i = 0; i < m.data.via.map.size; i++) {
                msgpack_object_kv *kv = &m.data.via.map.ptr[i];
                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 11 &&
                    !memcmp(kv->key.via.str.ptr, "stored_size", 11) &&
                    kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                    stored = kv->val.via.u64;
            }
        }
        msgpack_unpacked_destroy(&m);
        size_t data = pos + 8 + msize;
        if (stored == 0 || stored > n - data) break;
        ZSTD_DStream *ds = ZSTD_createDStream();
        size_t cap = 1 << 16, len = 0, limit = (size_t)16 << 20;
        char *content = malloc(cap);
        ZSTD_inBuffer in = {b + data, stored, 0};
        int ok = 1;
        while (ok && in.pos < in.size) {
            if (len == cap) {
                if (cap >= limit) {
                    ok = 0;
                    break;
                }
                content = realloc(content, cap *= 2);
            }
            ZSTD_outBuffer ob = {content, cap, len};
            size_t r = ZSTD_decompressStream(ds, &ob, &in);
            if (ZSTD_isError(r)) ok = 0;
            len = ob.pos;
            if (r == 0) break;
        }
        ZSTD_freeDStream(ds);
        if (ok) {
            if (!first) msgpack_sbuffer_write(&s, SEP, 4);
            msgpack_sbuffer_write(&s, content, len);
            first = 0;
        }
        free(content);
        if (!ok) break;
        pos = data + stored;
    }
    if (!first) spit(out, s.data, s.size);
    msgpack_sbuffer_destroy(&s);
}

static void chunk_seed_legacy(const unsigned char *b, size_t n, int k, const char *out) {
    msgpack_sbuffer s;
    msgpack_sbuffer_init(&s);
    unsigned char flags = (unsigned char)(1 | (k - 1) << 1);
    msgpack_sbuffer_write(&s, (const char *)&flags, 1);
    size_t pos = 0;
    int first = 1;
    while (pos + (size_t)k <= n) {
        uint64_t len = be(b + pos, k);
        if (len > n - pos - (size_t)k) break;
        if (!first) msgpack_sbuffer_write(&s, SEP, 4);
        msgpack_sbuffer_write(&s, (const char *)b + pos + k, len);
        first = 0;
        pos += (size_t)k + len;
    }
    if (!first) spit(out, s.data, s.size);
    msgpack_sbuffer_destroy(&s);
}

static void chunk_seed(const char *trace, int k, const char *name) {
    size_t n;
    unsigned char *b = slurp(trace, &n);
    if (!b) die(trace);
    char out[64];
    snprintf(out, sizeof out, "%s.chunk", name);
    if (n >= 4 && b[0] == 0x5D && b[1] == 0x2A && b[2] == 0x4D && b[3] == 0x18)
        chunk_seed_archive(b, n, path_in("chunk", out));
    else if (k > 0)
        chunk_seed_legacy(b, n, k, path_in("chunk", out));
    free(b);
}

/* ---- the corpus ---------------------------------------------------------------------- */

static void mkdirs(void) {
    if (mkdir(g_out, 0755) != 0 && errno != EEXIST) die(g_out);
    const char *subs[] = {"reader", "chunk", "encoder"};
    for (int i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", g_out, subs[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) die(p);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dasf-fuzz-seeds OUTDIR [TRACE...]\n");
        return 2;
    }
    g_out = argv[1];
    mkdirs();
    struct {
        const char *name;
        int level, k;
    } kinds[] = {{"kinds.zst", 1, 0},     {"kinds-l3.zst", 3, 0},  {"kinds.msgpack", 0, 8},
                 {"kinds-k4.msgpack", 0, 4}, {"kinds-k2.msgpack", 0, 2}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *p = path_in("reader", kinds[i].name);
        every_kind(p, kinds[i].level, kinds[i].k ? kinds[i].k : 8);
        chunk_seed(p, kinds[i].k, kinds[i].name);
    }
    /* k = 1: records of at most 255 bytes, so small events only */
    {
        const char *p = path_in("reader", "small-k1.msgpack");
        unlink(p);
        dasf_file_db_options o = dasf_file_db_options_default();
        o.flush = false;
        o.compression_level = 0;
        o.default_byte_size = 1;
        dasf_db *db;
        check(dasf_file_db_open(&db, p, &o), p);
        for (int i = 0; i < 10; i++) {
            dasf_event e = {.name = "t", .timestamp = i * 0.5, .phase = i % 2 ? DASF_PHASE_INSTANT
                                                                              : DASF_PHASE_DURATION_BEGIN};
            check(dasf_db_record(db, &e), "record");
        }
        check(dasf_db_close(db), "close");
        chunk_seed(p, 1, "small-k1.msgpack");
    }
    many_chunks(path_in("reader", "chunks.zst"), 1);
    chunk_seed(path_in("reader", "chunks.zst"), 0, "chunks.zst");
    many_chunks(path_in("reader", "chunks.msgpack"), 0);
    chunk_seed(path_in("reader", "chunks.msgpack"), 8, "chunks.msgpack");
    spit(path_in("reader", "empty"), "", 0);
    /* damage: a torn tail and a flipped byte */
    size_t n;
    unsigned char *b = slurp(path_in("reader", "chunks.zst"), &n);
    if (!b || n < 100) die("chunks.zst");
    spit(path_in("reader", "torn.zst"), b, n - 37);
    b[n / 2] ^= 0x40;
    spit(path_in("reader", "flipped.zst"), b, n);
    free(b);
    b = slurp(path_in("reader", "kinds.msgpack"), &n);
    if (!b || n < 100) die("kinds.msgpack");
    spit(path_in("reader", "torn.msgpack"), b, n - 5);
    free(b);
    /* the given traces (repro inputs): as they are, and in chunk form */
    for (int i = 2; i < argc; i++) {
        b = slurp(argv[i], &n);
        if (!b) die(argv[i]);
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        spit(path_in("reader", base), b, n);
        free(b);
        chunk_seed(argv[i], 8, base);
    }
    /* encoder inputs: each writer x layout, fixed pseudo-random bytes */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int cfg = 0; cfg < 12; cfg++) {
        unsigned char in[1024];
        size_t len = 64 + (size_t)cfg * 80;
        in[0] = (unsigned char)cfg;
        for (size_t j = 1; j < len; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[j] = (unsigned char)(x >> 24);
        }
        char name[32];
        snprintf(name, sizeof name, "cfg%02d", cfg);
        spit(path_in("encoder", name), in, len);
    }
    return 0;
}
