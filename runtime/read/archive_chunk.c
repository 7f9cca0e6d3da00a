/*
 * archive_chunk.c — finding, loading and verifying one archive chunk.
 *
 * Runs on the reader's thread.  A chunk is believed only after its
 * metadata parses, its data frame's header agrees with it, the CRC-32C
 * matches and the zstd frame decompresses to exactly raw_size bytes; no
 * allocation is sized from a length before the bytes behind it are known
 * to exist and to fit the limits of docs/FORMAT.md section 6.  Its tables
 * (strings, streams, schemas) go into r->chunk_arena, checked against this
 * chunk only.  Resynchronisation is a forward scan for the chunk magic
 * whose candidates are checked cheapest first.
 */
#include "reader.h"

#include <string.h>

typedef struct meta {
    int64_t version, events, raw, stored, crc;
    dasf_chunk_info info;
} meta;

static int meta_parse(const uint8_t *p, size_t n, meta *m) {
    dasf_mp c = {p, p + n};
    dasf_mp_obj o, k, v;
    memset(m, 0, sizeof *m);
    m->version = m->events = m->raw = m->stored = m->crc = -1;
    if (dasf_mp_read(&c, &o) || o.type != DASF_VAL_MAP) return DASF_PARSE_BAD;
    for (uint32_t i = 0; i < o.v.n; i++) {
        if (dasf_mp_read(&c, &k)) return DASF_PARSE_BAD;
        const uint8_t *vs = c.p;
        if (dasf_mp_read(&c, &v)) return DASF_PARSE_BAD;
        if (v.type == DASF_VAL_ARRAY || v.type == DASF_VAL_MAP) {
            c.p = vs;
            if (dasf_mp_skip(&c)) return DASF_PARSE_BAD;
            continue;
        }
        if (k.type != DASF_VAL_STR) continue;
        int64_t iv = v.type == DASF_VAL_INT ? v.v.i : -1;
        if (KEYIS(&k, "dasf")) m->version = iv;
        else if (KEYIS(&k, "events")) m->events = iv;
        else if (KEYIS(&k, "raw_size")) m->raw = iv;
        else if (KEYIS(&k, "stored_size")) m->stored = iv;
        else if (KEYIS(&k, "crc32c")) m->crc = iv;
        else if (KEYIS(&k, "ts_min")) m->info.ts_min_ns = iv;
        else if (KEYIS(&k, "ts_max")) m->info.ts_max_ns = iv;
        else if (KEYIS(&k, "pid")) m->info.writer_pid = iv;
        else if (KEYIS(&k, "rt_offset")) m->info.realtime_offset_ns = iv;
        else if (KEYIS(&k, "dropped")) m->info.dropped = (uint64_t)(iv < 0 ? 0 : iv);
        else if (KEYIS(&k, "level")) m->info.compression_level = (int)iv;
        else if (KEYIS(&k, "recovered")) m->info.recovered = iv > 0;
        else if (KEYIS(&k, "torn")) m->info.torn = (uint64_t)(iv < 0 ? 0 : iv);
        else if (KEYIS(&k, "shm_fallback"))
            m->info.shm_fallback = (uint32_t)(iv < 0 ? 0 : iv > UINT32_MAX ? UINT32_MAX : iv);
        else if (KEYIS(&k, "snapshot")) m->info.snapshot = (uint64_t)(iv < 0 ? 0 : iv);
        else if (KEYIS(&k, "overwritten")) m->info.overwritten = (uint64_t)(iv < 0 ? 0 : iv);
        else if (KEYIS(&k, "overwritten_bytes"))
            m->info.overwritten_bytes = (uint64_t)(iv < 0 ? 0 : iv);
        else if (KEYIS(&k, "host") && v.type == DASF_VAL_STR) {
            size_t l = v.v.s.len < sizeof m->info.host - 1 ? v.v.s.len : sizeof m->info.host - 1;
            memcpy(m->info.host, v.v.s.ptr, l);
        } else if (KEYIS(&k, "clock") && v.type == DASF_VAL_STR) {
            size_t l = v.v.s.len < sizeof m->info.clock - 1 ? v.v.s.len : sizeof m->info.clock - 1;
            memcpy(m->info.clock, v.v.s.ptr, l);
        }
    }
    if (c.p != c.end || m->version < 1 || m->events < 0 || m->raw < 0 || m->stored < 0 ||
        m->crc < 0 || m->crc > 0xffffffffll || (uint64_t)m->raw > DASF_MAX_CHUNK_RAW)
        return DASF_PARSE_BAD;
    /* A zstd frame of raw bytes never takes more than compressBound(raw):
     * a larger stated size is a lie, and believing it would make a scan
     * over damage read (and checksum) that much per candidate. */
    if ((uint64_t)m->stored > ZSTD_compressBound((size_t)m->raw)) return DASF_PARSE_BAD;
    return 0;
}

/* The data frame's header (its first bytes, avail of them) agrees with
 * the metadata: a zstd frame, content size = raw_size, content checksum
 * on.  Checked before the CRC so a candidate costs its header only. */
static int frame_header_ok(const uint8_t *z, size_t avail, const meta *m) {
    ZSTD_frameHeader fh;
    if (ZSTD_getFrameHeader(&fh, z, avail) != 0) return 0;
    return fh.frameType == ZSTD_frame && fh.checksumFlag &&
           fh.frameContentSize == (unsigned long long)m->raw;
}

/* The most bytes the blocks of the zstd frame z (exactly n bytes) can
 * regenerate, by RFC 8878 3.1.1.2: a raw or RLE block exactly its
 * Block_Size, a compressed block at most Block_Maximum_Size (min(window,
 * 128 KiB)); UINT64_MAX when the blocks are malformed.  The header's
 * content size must not exceed it, so the output buffer is never sized
 * from a claim the data cannot back (ZSTD_decompressBound trusts that
 * claim, which is what is being checked here). */
static uint64_t frame_regen_bound(const uint8_t *z, size_t n) {
    ZSTD_frameHeader fh;
    if (ZSTD_getFrameHeader(&fh, z, n) != 0 || fh.frameType != ZSTD_frame) return UINT64_MAX;
    size_t p = fh.headerSize;
    uint64_t total = 0;
    for (;;) {
        if (n - p < 3) return UINT64_MAX;
        uint32_t bh = (uint32_t)z[p] | (uint32_t)z[p + 1] << 8 | (uint32_t)z[p + 2] << 16;
        p += 3;
        unsigned last = bh & 1, type = (bh >> 1) & 3;
        uint32_t size = bh >> 3;
        if (type == 3) return UINT64_MAX; /* reserved */
        size_t body = type == 1 ? 1 : size;
        if (n - p < body) return UINT64_MAX;
        p += body;
        total += type == 2 ? fh.blockSizeMax : size;
        if (last) return total;
    }
}

/* Reads the metadata of a chunk starting at off.  @return 0, or
 * DASF_PARSE_BAD with *why. */
static int chunk_meta(dasf_trace *r, uint64_t off, meta *m, uint32_t *msize, const char **why) {
    const uint8_t *h = dasf_rd_win_get(r, off, 8);
    *why = "truncated chunk header";
    if (!h) return DASF_PARSE_BAD;
    *why = "no chunk magic";
    if (dasf_load_le32(h) != DASF_CHUNK_MAGIC) return DASF_PARSE_BAD;
    *msize = dasf_load_le32(h + 4);
    *why = "implausible metadata size";
    if (*msize == 0 || *msize > DASF_MAX_META_SIZE) return DASF_PARSE_BAD;
    const uint8_t *p = dasf_rd_win_get(r, off + 8, *msize);
    *why = "truncated chunk metadata";
    if (!p) return DASF_PARSE_BAD;
    *why = "malformed chunk metadata";
    if (meta_parse(p, *msize, m)) return DASF_PARSE_BAD;
    return 0;
}

uint64_t dasf_rd_archive_resync(dasf_trace *r, uint64_t from) {
    const uint8_t magic[4] = DASF_CHUNK_MAGIC_LE;
    uint64_t p = from;
    while (p + 8 <= r->size && !r->io_error) {
        size_t span;
        const uint8_t *w = dasf_rd_win_scan(r, p, 4096, &span);
        if (!w || span < 8) return r->size;
        /* memchr for the first magic byte (vectorised), then the rest */
        const uint8_t *hit = w, *end = w + span - 3;
        while ((hit = memchr(hit, magic[0], (size_t)(end - hit))) && memcmp(hit, magic, 4))
            hit++;
        if (!hit) {
            p += span - 3;
            continue;
        }
        uint64_t cand = p + (uint64_t)(hit - w);
        meta m;
        uint32_t ms;
        const char *why;
        if (chunk_meta(r, cand, &m, &ms, &why) == 0 && m.version >= DASF_FORMAT_VERSION_MIN &&
            m.version <= DASF_FORMAT_VERSION) {
            size_t hn = m.stored < ZSTD_FRAMEHEADERSIZE_MAX ? (size_t)m.stored
                                                             : ZSTD_FRAMEHEADERSIZE_MAX;
            const uint8_t *z = dasf_rd_win_get(r, cand + 8 + ms, hn);
            if (z && hn >= 4 && dasf_load_le32(z) == DASF_ZSTD_MAGIC && frame_header_ok(z, hn, &m))
                return cand;
        }
        p = cand + 1;
    }
    return r->size;
}

/* The header's "strings" table: each string copied into the chunk arena. */
static int load_strings(dasf_trace *r) {
    dasf_mp *c = &r->cur;
    dasf_mp_obj v;
    if (dasf_mp_read(c, &v) || v.type != DASF_VAL_ARRAY) return DASF_PARSE_BAD;
    if (v.v.n > (uint64_t)(c->end - c->p)) return DASF_PARSE_BAD;
    r->nstr = v.v.n;
    r->strs = dasf_arena_alloc(&r->chunk_arena, r->nstr * sizeof *r->strs);
    r->strlens = dasf_arena_alloc(&r->chunk_arena, r->nstr * sizeof *r->strlens);
    if (!r->strs || !r->strlens) return DASF_PARSE_NOMEM;
    for (uint32_t j = 0; j < r->nstr; j++) {
        dasf_mp_obj s;
        if (dasf_mp_read(c, &s) || s.type != DASF_VAL_STR) return DASF_PARSE_BAD;
        r->strs[j] = dasf_arena_strdup(&r->chunk_arena, s.v.s.ptr, s.v.s.len);
        if (!r->strs[j]) return DASF_PARSE_NOMEM;
        r->strlens[j] = s.v.s.len;
    }
    return 0;
}

/* The header's "streams" table: [pid, tid, base] per stream. */
static int load_streams(dasf_trace *r) {
    dasf_mp *c = &r->cur;
    dasf_mp_obj v;
    if (dasf_mp_read(c, &v) || v.type != DASF_VAL_ARRAY) return DASF_PARSE_BAD;
    if (v.v.n > (uint64_t)(c->end - c->p)) return DASF_PARSE_BAD;
    r->nstreams = v.v.n;
    r->streams = dasf_arena_alloc(&r->chunk_arena, r->nstreams * sizeof *r->streams);
    if (!r->streams) return DASF_PARSE_NOMEM;
    for (uint32_t j = 0; j < r->nstreams; j++) {
        uint32_t n;
        rstream *s = &r->streams[j];
        if (dasf_mp_array(c, &n) || n != 3) return DASF_PARSE_BAD;
        int rc = dasf_value_decode(c, &r->chunk_arena, &s->pid);
        if (!rc) rc = dasf_value_decode(c, &r->chunk_arena, &s->tid);
        if (rc) return rc;
        if (dasf_mp_int(c, &s->prev_end)) return DASF_PARSE_BAD;
        s->prev_start = s->prev_end;
    }
    return 0;
}

/* The header's "schemas" (version 2): {name index: [key index, ...]},
 * every index checked against the string table already loaded. */
static int load_schemas(dasf_trace *r) {
    dasf_mp *c = &r->cur;
    dasf_mp_obj v;
    if (dasf_mp_read(c, &v) || v.type != DASF_VAL_MAP) return DASF_PARSE_BAD;
    if (v.v.n > (uint64_t)(c->end - c->p)) return DASF_PARSE_BAD;
    r->sch_n = dasf_arena_alloc(&r->chunk_arena, (r->nstr + 1) * sizeof *r->sch_n);
    r->sch_keys = dasf_arena_alloc(&r->chunk_arena, (r->nstr + 1) * sizeof *r->sch_keys);
    if (!r->sch_n || !r->sch_keys) return DASF_PARSE_NOMEM;
    memset(r->sch_n, 0, (r->nstr + 1) * sizeof *r->sch_n);
    for (uint32_t j = 0; j < v.v.n; j++) {
        int64_t name, key;
        uint32_t nk;
        if (dasf_mp_int(c, &name) || name < 0 || (uint64_t)name >= r->nstr ||
            r->sch_n[name] || dasf_mp_array(c, &nk) || nk == 0 ||
            nk > (uint64_t)(c->end - c->p))
            return DASF_PARSE_BAD;
        uint32_t *keys = dasf_arena_alloc(&r->chunk_arena, nk * sizeof *keys);
        if (!keys) return DASF_PARSE_NOMEM;
        for (uint32_t q = 0; q < nk; q++) {
            if (dasf_mp_int(c, &key) || key < 0 || (uint64_t)key >= r->nstr)
                return DASF_PARSE_BAD;
            keys[q] = (uint32_t)key;
        }
        r->sch_keys[name] = keys;
        r->sch_n[name] = nk;
    }
    r->sch_cap = r->nstr; /* the table the schemas were checked against */
    return 0;
}

/* The chunk header (a map: dasf, events, strings, streams, schemas) into
 * r's tables.  @return 0, DASF_PARSE_BAD (*why) or DASF_PARSE_NOMEM. */
static int load_header(dasf_trace *r, const meta *m, const char **why) {
    dasf_mp *c = &r->cur;
    dasf_mp_obj o, k;
    *why = "malformed chunk header";
    if (dasf_mp_read(c, &o) || o.type != DASF_VAL_MAP) return DASF_PARSE_BAD;
    int have_strings = 0, have_streams = 0, rc;
    int64_t events = -1;
    /* Nothing of the previous chunk's tables survives: every index below
     * is checked against this chunk's tables only. */
    r->sch_n = NULL;
    r->sch_keys = NULL;
    r->strs = NULL;
    r->strlens = NULL;
    r->nstr = 0;
    r->streams = NULL;
    r->nstreams = 0;
    for (uint32_t i = 0; i < o.v.n; i++) {
        if (dasf_mp_read(c, &k)) return DASF_PARSE_BAD;
        if (k.type == DASF_VAL_STR && KEYIS(&k, "strings")) {
            /* A second table would leave the schemas (and anything else
             * checked against the first) pointing past the new one. */
            *why = "chunk header repeats a table";
            if (have_strings) return DASF_PARSE_BAD;
            *why = "malformed chunk header";
            if ((rc = load_strings(r))) return rc;
            have_strings = 1;
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "streams")) {
            *why = "chunk header repeats a table";
            if (have_streams) return DASF_PARSE_BAD;
            *why = "malformed chunk header";
            if ((rc = load_streams(r))) return rc;
            have_streams = 1;
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "schemas")) {
            /* after "strings" (version 2) */
            *why = "chunk header repeats a table";
            if (r->sch_n) return DASF_PARSE_BAD;
            *why = "schemas before the string table";
            if (!have_strings) return DASF_PARSE_BAD;
            *why = "malformed chunk header";
            if ((rc = load_schemas(r))) return rc;
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "events")) {
            if (dasf_mp_int(c, &events)) return DASF_PARSE_BAD;
        } else if (dasf_mp_skip(c)) {
            return DASF_PARSE_BAD;
        }
    }
    *why = "chunk header does not match its metadata";
    if (!have_strings || !have_streams || events != m->events) return DASF_PARSE_BAD;
    if (m->events > 0 && r->nstreams == 0) return DASF_PARSE_BAD;
    return 0;
}

/* Loads and verifies the chunk at r->pos.  @return 0 (r->pos moved past
 * it), DASF_PARSE_BAD (damaged: *why), or a dasf_status for I/O or
 * memory (DASF_EIO, DASF_ENOMEM). */
int dasf_rd_load_chunk(dasf_trace *r, const char **why) {
    meta m;
    uint32_t ms;
    uint64_t at = r->pos;
    if (chunk_meta(r, at, &m, &ms, why)) return r->io_error ? r->io_error : DASF_PARSE_BAD;
    *why = "unsupported chunk format version";
    if (m.version < DASF_FORMAT_VERSION_MIN || m.version > DASF_FORMAT_VERSION) return DASF_PARSE_BAD;
    const uint8_t *z = dasf_rd_win_get(r, at + 8 + ms, (size_t)m.stored);
    *why = "truncated chunk (writer stopped mid-append?)";
    if (!z) return r->io_error ? r->io_error : DASF_PARSE_BAD;
    *why = "chunk data is not one zstd frame of the stated size";
    if (!frame_header_ok(z, (size_t)m.stored, &m)) return DASF_PARSE_BAD;
    *why = "chunk checksum mismatch";
    if (dasf_crc32c(0, z, (size_t)m.stored) != (uint32_t)m.crc) return DASF_PARSE_BAD;
    *why = "chunk data is not one zstd frame of the stated size";
    if (ZSTD_findFrameCompressedSize(z, (size_t)m.stored) != (size_t)m.stored) return DASF_PARSE_BAD;
    *why = "zstd frame states more content than its blocks can hold";
    if (frame_regen_bound(z, (size_t)m.stored) < (uint64_t)m.raw) return DASF_PARSE_BAD;
    r->raw.len = 0;
    if (dasf_buf_reserve(&r->raw, (size_t)m.raw + 1)) return DASF_ENOMEM;
    size_t dn = ZSTD_decompressDCtx(r->dctx, r->raw.data, (size_t)m.raw + 1, z, (size_t)m.stored);
    *why = "zstd frame does not decompress (content checksum?)";
    if (ZSTD_isError(dn) || dn != (size_t)m.raw) return DASF_PARSE_BAD;
    r->raw.len = dn;

    dasf_arena_reset(&r->chunk_arena);
    r->cur.p = r->raw.data;
    r->cur.end = r->raw.data + dn;
    int rc = load_header(r, &m, why);
    if (rc == DASF_PARSE_NOMEM && r->chunk_arena.over) {
        *why = "chunk tables need more memory than the reader's bound";
        return DASF_PARSE_BAD;
    }
    if (rc == DASF_PARSE_NOMEM) return DASF_ENOMEM;
    if (rc) return DASF_PARSE_BAD;
    r->left = (uint64_t)m.events;
    r->cur_stream = UINT32_MAX;
    r->chunk_version = (int)m.version;
    r->chunk = m.info;
    r->chunk.index = dasf_rd_next_index(r);
    r->chunk.offset = at;
    r->chunk.n_events = (uint64_t)m.events;
    r->chunk.raw_size = (uint64_t)m.raw;
    r->chunk.stored_size = 8 + ms + (uint64_t)m.stored;
    r->have_chunk = 1;
    r->pos = at + r->chunk.stored_size;
    r->st.chunks_read++;
    return 0;
}
