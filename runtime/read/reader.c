/*
 * reader.c — iterate over the events of a trace file of either layout.
 *
 * Used by tools, get_traces and tests, on the caller's thread (one reader
 * per thread).  The file is streamed through a window buffer with pread:
 * memory stays bounded by the largest chunk (archive) or record (legacy),
 * whatever the file size, and a file that shrinks under us (a writer
 * truncating back a failed append) reads as a short tail, never a SIGBUS.
 * Damage never stops reading: a torn or corrupt chunk / record is skipped,
 * counted and described in the stats, and reading resynchronises on the
 * next valid chunk (archive: skippable magic + valid metadata) or record
 * (legacy: length + map holding name and phase).  Returned events live in
 * per-event and per-chunk arenas, reused by the next call.
 * Memory is bounded whatever the input (docs/FORMAT.md section 6): no
 * allocation is sized from a length before the bytes behind it are known
 * to exist and to fit the stated limits; the arenas carry limits, and a
 * chunk or record that would pass them is damage.  Resynchronisation is a
 * forward scan whose candidates are checked cheapest first (magic,
 * metadata, zstd frame header; legacy: a parse of the record's first bytes)
 * before anything costs the candidate's length.
 */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: exported by libzstd.so */
#include <zstd.h>

#define WIN_MIN ((size_t)1 << 20)

typedef struct rstream {
    dasf_value pid, tid;
    int64_t prev_end, prev_start;
} rstream;

struct dasf_trace {
    int fd;
    uint64_t size;
    uint8_t *win;
    size_t win_cap, win_len;
    uint64_t win_off;
    int io_error;

    uint64_t pos; /* next byte to parse */
    dasf_trace_stats st;
    dasf_trace_event ev;
    dasf_arena ev_arena;

    size_t byte_size; /* legacy length prefix */

    /* archive: the current chunk */
    ZSTD_DCtx *dctx;
    dasf_buf raw;
    dasf_arena chunk_arena;
    dasf_mp cur;
    uint64_t left;
    const char **strs;
    uint32_t *strlens;
    uint32_t nstr;
    rstream *streams;
    uint32_t nstreams, cur_stream;
    int chunk_version;
    uint32_t **sch_keys; /* version 2: per name (string index), its arg keys */
    uint32_t *sch_n;     /* and their count (0: no schema); NULL: none at all */
    uint32_t sch_cap;    /* entries of sch_n / sch_keys (= nstr when they were built) */
    dasf_chunk_info chunk;
    int have_chunk;
};

/* ---- the window ------------------------------------------------------------- */

/* @return a pointer to bytes [off, off+n) of the file, or NULL when the file
 * ends before (or on an I/O error, which sets r->io_error). */
static const uint8_t *win_get(dasf_trace *r, uint64_t off, size_t n) {
    if (off >= r->win_off && off + n <= r->win_off + r->win_len) return r->win + (off - r->win_off);
    if (off + n > r->size || off + n < off) return NULL;
    if (n > r->win_cap) {
        size_t cap = r->win_cap ? r->win_cap : WIN_MIN;
        while (cap < n) cap *= 2;
        uint8_t *w = malloc(cap); /* no realloc: nothing worth copying twice */
        if (!w) {
            r->io_error = DASF_ENOMEM;
            return NULL;
        }
        if (off >= r->win_off && off < r->win_off + r->win_len) {
            size_t keep = (size_t)(r->win_off + r->win_len - off);
            memcpy(w, r->win + (off - r->win_off), keep);
            r->win_len = keep;
        } else {
            r->win_len = 0;
        }
        free(r->win);
        r->win = w;
        r->win_cap = cap;
        r->win_off = off;
    } else if (off >= r->win_off && off < r->win_off + r->win_len) {
        size_t keep = (size_t)(r->win_off + r->win_len - off);
        memmove(r->win, r->win + (off - r->win_off), keep);
        r->win_len = keep;
        r->win_off = off;
    } else {
        r->win_len = 0;
        r->win_off = off;
    }
    while (r->win_len < n) {
        size_t want = r->win_cap - r->win_len;
        ssize_t got = pread(r->fd, r->win + r->win_len, want, (off_t)(r->win_off + r->win_len));
        if (got < 0) {
            if (errno == EINTR) continue;
            r->io_error = DASF_EIO;
            return NULL;
        }
        if (got == 0) return NULL; /* the file shrank */
        r->win_len += (size_t)got;
    }
    return r->win;
}

/* Position of the next chunk / record / damaged region in the file. */
static uint64_t next_index(const dasf_trace *r) {
    return r->st.chunks_read + r->st.chunks_damaged;
}

/* Counts a damaged region at position index (see next_index). */
/* Bytes [off, off + n) with n >= want (fewer only at the end of the file),
 * n <= WIN_MIN unless the window already holds more: for forward scans,
 * which take what the window has instead of refilling it per candidate
 * (refilling moved a MiB per candidate: quadratic in the candidates). */
static const uint8_t *win_scan(dasf_trace *r, uint64_t off, size_t want, size_t *n) {
    if (off >= r->win_off && off < r->win_off + r->win_len) {
        size_t have = (size_t)(r->win_off + r->win_len - off);
        if (have >= want || off + have >= r->size) {
            *n = have;
            return r->win + (off - r->win_off);
        }
    }
    uint64_t left = r->size - off;
    size_t span = left < WIN_MIN ? (size_t)left : WIN_MIN;
    *n = span;
    return span ? win_get(r, off, span) : NULL;
}

static void note_damage(dasf_trace *r, uint64_t index, uint64_t off, uint64_t len,
                        const char *fmt, ...) {
    r->st.chunks_damaged++;
    r->st.bytes_damaged += len;
    r->st.last_damage_index = index;
    r->st.last_damage_offset = off;
    r->st.last_damage_bytes = len;
    if (r->st.first_damage[0]) return;
    r->st.first_damage_offset = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->st.first_damage, sizeof r->st.first_damage, fmt, ap);
    va_end(ap);
    if (!r->st.first_damage[0]) strcpy(r->st.first_damage, "damaged data");
}

/* ---- legacy records ---------------------------------------------------------- */

static int key_is(const dasf_mp_obj *k, const char *lit, size_t n) {
    return k->v.s.len == n && memcmp(k->v.s.ptr, lit, n) == 0;
}
#define KEYIS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

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
        return -1;
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
    if (dasf_mp_read(c, &m) || m.type != DASF_VAL_MAP) return -1;
    int have_name = 0, have_ts = 0;
    for (uint32_t i = 0; i < m.v.n; i++) {
        dasf_mp_obj k;
        *why = "malformed record";
        if (dasf_mp_read(c, &k)) return -1;
        if (k.type != DASF_VAL_STR) {
            if (dasf_mp_skip(c)) return -1;
            continue;
        }
        dasf_value v;
        int rc = dasf_value_decode(c, &r->ev_arena, &v);
        if (rc) return rc;
        if (KEYIS(&k, "name")) {
            *why = "name is not a string";
            if (v.type != DASF_VAL_STR) return -1;
            ev->name = v.v.str.ptr;
            have_name = 1;
        } else if (KEYIS(&k, "timestamp")) {
            *why = "timestamp is not a number";
            if (number(&v, &ev->timestamp, &ev->timestamp_ns, &ev->timestamp_is_int)) return -1;
            have_ts = 1;
        } else if (KEYIS(&k, "duration")) {
            *why = "duration is not a number";
            if (number(&v, &ev->duration, &ev->duration_ns, &ev->duration_is_int)) return -1;
            ev->has_duration = true;
        } else if (KEYIS(&k, "phase")) {
            *why = "unknown phase";
            if (v.type != DASF_VAL_STR || v.v.str.len != 1 || !dasf_phase_valid(v.v.str.ptr[0]))
                return -1;
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
                return -1;
        } else if (KEYIS(&k, "cat")) {
            if (v.type == DASF_VAL_STR) ev->cat = v.v.str.ptr;
        } else if (KEYIS(&k, "id")) {
            ev->id = v;
            ev->has_id = true;
        }
    }
    *why = "record is missing name, timestamp or phase";
    if (!have_name || !have_ts || !ev->phase) return -1;
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
 * (<= len) are at p, into r->ev.  @return 0, -1 malformed, -2 out of
 * memory, -3 the first avail bytes are a plausible start (parse them all:
 * call again with avail = len).  The body must be exactly one map. */
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
    if (rc == -1 && dasf_mp_short && avail < len) return -3;
    if (rc == -2 && r->ev_arena.over) {
        *why = "record needs more memory than the reader's bound";
        return -1;
    }
    if (rc) return rc;
    *why = "record length does not match its map";
    if (c.p != c.end || avail != len) return -1;
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
 * legacy_parse (-1 also when the file ends early or on I/O error). */
static int legacy_body(dasf_trace *r, uint64_t off, size_t len, const char **why) {
    size_t probe = len < LEGACY_PROBE ? len : LEGACY_PROBE;
    *why = "record runs past the end of the file";
    const uint8_t *body = win_get(r, off, probe);
    if (!body) return -1;
    int rc = legacy_parse_n(r, body, probe, len, why);
    if (rc != -3) return rc;
    *why = "record runs past the end of the file";
    if (!(body = win_get(r, off, len))) return -1;
    return legacy_parse(r, body, len, why);
}

/* A whole record at off (length of k bytes, then a map holding our keys):
 * cheapest checks first, the full length read only when its start parses. */
static int legacy_try(dasf_trace *r, uint64_t off, size_t k, uint64_t *rec_len) {
    const uint8_t *h = win_get(r, off, k + 1);
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
static uint64_t legacy_resync(dasf_trace *r, uint64_t from) {
    uint64_t len;
    size_t k = r->byte_size;
    uint64_t p = from;
    while (p + k < r->size && !r->io_error) {
        size_t span;
        const uint8_t *w = win_scan(r, p, 4096, &span);
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
        if (legacy_try(r, p, k, &len)) return p;
        p++;
    }
    return r->size;
}

static int legacy_next(dasf_trace *r) {
    while (r->pos < r->size) {
        uint64_t at = r->pos, len;
        const char *why = "truncated record";
        const uint8_t *h = win_get(r, at, r->byte_size);
        if (h) {
            len = dasf_load_be(h, r->byte_size);
            int rc = -1;
            if (len == 0 || len > DASF_MAX_LEGACY_RECORD)
                why = "implausible record length";
            else if (at + r->byte_size + len > r->size)
                why = "record runs past the end of the file";
            else
                rc = legacy_body(r, at + r->byte_size, (size_t)len, &why);
            if (rc == -2) return DASF_ENOMEM;
            if (rc == 0) {
                r->pos = at + r->byte_size + len;
                r->ev.chunk_index = next_index(r);
                r->st.chunks_read++;
                r->st.events++;
                return 1;
            }
        }
        if (r->io_error) return r->io_error;
        uint64_t next = legacy_resync(r, at + 1);
        if (r->io_error) return r->io_error;
        note_damage(r, next_index(r), at, next - at, "legacy record at byte %llu: %s",
                    (unsigned long long)at, why);
        r->pos = next;
        /* legacy_try left the record it found parsed in r->ev: use it. */
        if (next < r->size) {
            const uint8_t *nh = win_get(r, next, r->byte_size);
            if (!nh) break;
            r->pos = next + r->byte_size + dasf_load_be(nh, r->byte_size);
            r->ev.chunk_index = next_index(r);
            r->st.chunks_read++;
            r->st.events++;
            return 1;
        }
    }
    return r->io_error ? r->io_error : 0;
}

/* ---- archive chunks ------------------------------------------------------------- */

typedef struct meta {
    int64_t version, events, raw, stored, crc;
    dasf_chunk_info info;
} meta;

static int meta_parse(const uint8_t *p, size_t n, meta *m) {
    dasf_mp c = {p, p + n};
    dasf_mp_obj o, k, v;
    memset(m, 0, sizeof *m);
    m->version = m->events = m->raw = m->stored = m->crc = -1;
    if (dasf_mp_read(&c, &o) || o.type != DASF_VAL_MAP) return -1;
    for (uint32_t i = 0; i < o.v.n; i++) {
        if (dasf_mp_read(&c, &k)) return -1;
        const uint8_t *vs = c.p;
        if (dasf_mp_read(&c, &v)) return -1;
        if (v.type == DASF_VAL_ARRAY || v.type == DASF_VAL_MAP) {
            c.p = vs;
            if (dasf_mp_skip(&c)) return -1;
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
        return -1;
    /* A zstd frame of raw bytes never takes more than compressBound(raw):
     * a larger stated size is a lie, and believing it would make a scan
     * over damage read (and checksum) that much per candidate. */
    if ((uint64_t)m->stored > ZSTD_compressBound((size_t)m->raw)) return -1;
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

/* Reads the metadata of a chunk starting at off.  @return 0, or -1 with *why. */
static int chunk_meta(dasf_trace *r, uint64_t off, meta *m, uint32_t *msize, const char **why) {
    const uint8_t *h = win_get(r, off, 8);
    *why = "truncated chunk header";
    if (!h) return -1;
    *why = "no chunk magic";
    if (dasf_load_le32(h) != DASF_CHUNK_MAGIC) return -1;
    *msize = dasf_load_le32(h + 4);
    *why = "implausible metadata size";
    if (*msize == 0 || *msize > DASF_MAX_META_SIZE) return -1;
    const uint8_t *p = win_get(r, off + 8, *msize);
    *why = "truncated chunk metadata";
    if (!p) return -1;
    *why = "malformed chunk metadata";
    if (meta_parse(p, *msize, m)) return -1;
    return 0;
}

static uint64_t archive_resync(dasf_trace *r, uint64_t from) {
    const uint8_t magic[4] = {0x5D, 0x2A, 0x4D, 0x18};
    uint64_t p = from;
    while (p + 8 <= r->size && !r->io_error) {
        size_t span;
        const uint8_t *w = win_scan(r, p, 4096, &span);
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
            const uint8_t *z = win_get(r, cand + 8 + ms, hn);
            if (z && hn >= 4 && dasf_load_le32(z) == DASF_ZSTD_MAGIC && frame_header_ok(z, hn, &m))
                return cand;
        }
        p = cand + 1;
    }
    return r->size;
}

static int load_header(dasf_trace *r, const meta *m, const char **why) {
    dasf_mp *c = &r->cur;
    dasf_mp_obj o, k, v;
    *why = "malformed chunk header";
    if (dasf_mp_read(c, &o) || o.type != DASF_VAL_MAP) return -1;
    int have_strings = 0, have_streams = 0;
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
        if (dasf_mp_read(c, &k)) return -1;
        if (k.type == DASF_VAL_STR && KEYIS(&k, "strings")) {
            /* A second table would leave the schemas (and anything else
             * checked against the first) pointing past the new one. */
            *why = "chunk header repeats a table";
            if (have_strings) return -1;
            *why = "malformed chunk header";
            if (dasf_mp_read(c, &v) || v.type != DASF_VAL_ARRAY) return -1;
            if (v.v.n > (uint64_t)(c->end - c->p)) return -1;
            r->nstr = v.v.n;
            r->strs = dasf_arena_alloc(&r->chunk_arena, r->nstr * sizeof *r->strs);
            r->strlens = dasf_arena_alloc(&r->chunk_arena, r->nstr * sizeof *r->strlens);
            if (!r->strs || !r->strlens) return -2;
            for (uint32_t j = 0; j < r->nstr; j++) {
                dasf_mp_obj s;
                if (dasf_mp_read(c, &s) || s.type != DASF_VAL_STR) return -1;
                r->strs[j] = dasf_arena_strdup(&r->chunk_arena, s.v.s.ptr, s.v.s.len);
                if (!r->strs[j]) return -2;
                r->strlens[j] = s.v.s.len;
            }
            have_strings = 1;
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "streams")) {
            *why = "chunk header repeats a table";
            if (have_streams) return -1;
            *why = "malformed chunk header";
            if (dasf_mp_read(c, &v) || v.type != DASF_VAL_ARRAY) return -1;
            if (v.v.n > (uint64_t)(c->end - c->p)) return -1;
            r->nstreams = v.v.n;
            r->streams = dasf_arena_alloc(&r->chunk_arena, r->nstreams * sizeof *r->streams);
            if (!r->streams) return -2;
            for (uint32_t j = 0; j < r->nstreams; j++) {
                uint32_t n;
                rstream *s = &r->streams[j];
                if (dasf_mp_array(c, &n) || n != 3) return -1;
                int rc = dasf_value_decode(c, &r->chunk_arena, &s->pid);
                if (!rc) rc = dasf_value_decode(c, &r->chunk_arena, &s->tid);
                if (rc) return rc;
                if (dasf_mp_int(c, &s->prev_end)) return -1;
                s->prev_start = s->prev_end;
            }
            have_streams = 1;
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "schemas")) {
            /* {name index: [key index, ...]}, after "strings" (version 2) */
            *why = "chunk header repeats a table";
            if (r->sch_n) return -1;
            *why = "schemas before the string table";
            if (!have_strings) return -1;
            *why = "malformed chunk header";
            if (dasf_mp_read(c, &v) || v.type != DASF_VAL_MAP) return -1;
            if (v.v.n > (uint64_t)(c->end - c->p)) return -1;
            r->sch_n = dasf_arena_alloc(&r->chunk_arena, (r->nstr + 1) * sizeof *r->sch_n);
            r->sch_keys = dasf_arena_alloc(&r->chunk_arena, (r->nstr + 1) * sizeof *r->sch_keys);
            if (!r->sch_n || !r->sch_keys) return -2;
            memset(r->sch_n, 0, (r->nstr + 1) * sizeof *r->sch_n);
            for (uint32_t j = 0; j < v.v.n; j++) {
                int64_t name, key;
                uint32_t nk;
                if (dasf_mp_int(c, &name) || name < 0 || (uint64_t)name >= r->nstr ||
                    r->sch_n[name] || dasf_mp_array(c, &nk) || nk == 0 ||
                    nk > (uint64_t)(c->end - c->p))
                    return -1;
                uint32_t *keys = dasf_arena_alloc(&r->chunk_arena, nk * sizeof *keys);
                if (!keys) return -2;
                for (uint32_t q = 0; q < nk; q++) {
                    if (dasf_mp_int(c, &key) || key < 0 || (uint64_t)key >= r->nstr) return -1;
                    keys[q] = (uint32_t)key;
                }
                r->sch_keys[name] = keys;
                r->sch_n[name] = nk;
            }
            r->sch_cap = r->nstr; /* the table the schemas were checked against */
        } else if (k.type == DASF_VAL_STR && KEYIS(&k, "events")) {
            if (dasf_mp_int(c, &events)) return -1;
        } else if (dasf_mp_skip(c)) {
            return -1;
        }
    }
    *why = "chunk header does not match its metadata";
    if (!have_strings || !have_streams || events != m->events) return -1;
    if (m->events > 0 && r->nstreams == 0) return -1;
    return 0;
}

/* Loads and verifies the chunk at r->pos.  @return 0 (r->pos moved past
 * it), -1 damaged (*why), or a negative dasf_status for I/O or memory. */
static int load_chunk(dasf_trace *r, const char **why) {
    meta m;
    uint32_t ms;
    uint64_t at = r->pos;
    if (chunk_meta(r, at, &m, &ms, why)) return r->io_error ? r->io_error : -1;
    *why = "unsupported chunk format version";
    if (m.version < DASF_FORMAT_VERSION_MIN || m.version > DASF_FORMAT_VERSION) return -1;
    const uint8_t *z = win_get(r, at + 8 + ms, (size_t)m.stored);
    *why = "truncated chunk (writer stopped mid-append?)";
    if (!z) return r->io_error ? r->io_error : -1;
    *why = "chunk data is not one zstd frame of the stated size";
    if (!frame_header_ok(z, (size_t)m.stored, &m)) return -1;
    *why = "chunk checksum mismatch";
    if (dasf_crc32c(0, z, (size_t)m.stored) != (uint32_t)m.crc) return -1;
    *why = "chunk data is not one zstd frame of the stated size";
    if (ZSTD_findFrameCompressedSize(z, (size_t)m.stored) != (size_t)m.stored) return -1;
    *why = "zstd frame states more content than its blocks can hold";
    if (frame_regen_bound(z, (size_t)m.stored) < (uint64_t)m.raw) return -1;
    r->raw.len = 0;
    if (dasf_buf_reserve(&r->raw, (size_t)m.raw + 1)) return DASF_ENOMEM;
    size_t dn = ZSTD_decompressDCtx(r->dctx, r->raw.data, (size_t)m.raw + 1, z, (size_t)m.stored);
    *why = "zstd frame does not decompress (content checksum?)";
    if (ZSTD_isError(dn) || dn != (size_t)m.raw) return -1;
    r->raw.len = dn;

    dasf_arena_reset(&r->chunk_arena);
    r->cur.p = r->raw.data;
    r->cur.end = r->raw.data + dn;
    int rc = load_header(r, &m, why);
    if (rc == -2 && r->chunk_arena.over) {
        *why = "chunk tables need more memory than the reader's bound";
        return -1;
    }
    if (rc == -2) return DASF_ENOMEM;
    if (rc) return -1;
    r->left = (uint64_t)m.events;
    r->cur_stream = UINT32_MAX;
    r->chunk_version = (int)m.version;
    r->chunk = m.info;
    r->chunk.index = next_index(r);
    r->chunk.offset = at;
    r->chunk.n_events = (uint64_t)m.events;
    r->chunk.raw_size = (uint64_t)m.raw;
    r->chunk.stored_size = 8 + ms + (uint64_t)m.stored;
    r->have_chunk = 1;
    r->pos = at + r->chunk.stored_size;
    r->st.chunks_read++;
    return 0;
}

static int str_at(dasf_trace *r, int64_t i, const char **s) {
    if (i < 0 || (uint64_t)i >= r->nstr) return -1;
    *s = r->strs[i];
    return 0;
}

/* The event's args map: np values, keyed by keys[] (a schema), or np
 * key-index/value pairs when keys is NULL.  @return 0, -1 malformed, -2
 * no memory. */
static int decode_args(dasf_trace *r, uint32_t np, const uint32_t *keys) {
    dasf_mp *c = &r->cur;
    dasf_kv *kv = np ? dasf_arena_alloc(&r->ev_arena, np * sizeof *kv) : NULL;
    if (np && !kv) return -2;
    for (uint32_t i = 0; i < np; i++) {
        int64_t k = keys ? (int64_t)keys[i] : -1;
        if (!keys && dasf_mp_int(c, &k)) return -1;
        if (k < 0 || (uint64_t)k >= r->nstr) return -1; /* schema keys too: same table */
        kv[i].key.type = DASF_VAL_STR;
        kv[i].key.v.str.ptr = r->strs[k];
        kv[i].key.v.str.len = r->strlens[k];
        int rc = dasf_value_decode(c, &r->ev_arena, &kv[i].val);
        if (rc) return rc;
    }
    r->ev.args.type = DASF_VAL_MAP;
    r->ev.args.v.map.items = kv;
    r->ev.args.v.map.n = np;
    return 0;
}

/* Decodes the next event array of the current chunk into r->ev. */
static int archive_event(dasf_trace *r) {
    dasf_mp *c = &r->cur;
    dasf_trace_event *ev = &r->ev;
    uint32_t n, used = 3;
    int64_t code, name, tv, dur = 0, ext = 0, v;
    dasf_arena_reset(&r->ev_arena);
    if (dasf_mp_array(c, &n) || n < 3 || dasf_mp_int(c, &code) || code < -32 || code > 0x7f)
        return -1;
    /* A negative code is version 2's compact X event (FORMAT.md 2.2). */
    int compact = code < 0;
    unsigned cc = compact ? (unsigned)(-1 - code) : 0;
    unsigned tmode = compact ? (cc & DASF_CC_TMODE) >> 1 : (code & DASF_EC_TSEND) ? 1 : 0;
    if (compact && (r->chunk_version < 2 || ((cc & DASF_CC_FIX) && r->chunk_version < 3) ||
                    tmode > 2))
        return -1;
    int ph = compact ? 'X' : dasf_phase_from_index((int)(code & DASF_EC_PHASE));
    if (compact ? (cc & DASF_CC_STREAM) : (code & DASF_EC_STREAM)) {
        if (dasf_mp_int(c, &v) || v < 0 || (uint64_t)v >= r->nstreams) return -1;
        r->cur_stream = (uint32_t)v;
        used++;
    } else if (r->cur_stream == UINT32_MAX) {
        r->cur_stream = 0;
    }
    if (r->cur_stream >= r->nstreams) return -1;
    if (dasf_mp_int(c, &name) || str_at(r, name, &ev->name) || dasf_mp_int(c, &tv)) return -1;
    int is_x = ph == 'X';
    if (is_x) {
        if (++used > n || dasf_mp_int(c, &dur)) return -1;
    }
    ev->scope = 0;
    ev->cat = NULL;
    ev->has_id = false;
    ev->id.type = DASF_VAL_NIL;
    int64_t ts_fix = 0, dur_fix = 0;
    if (cc & DASF_CC_FIX) { /* version 3 compact: both fixes, not both zero */
        used += 2;
        if (used > n || dasf_mp_int(c, &ts_fix) || dasf_mp_int(c, &dur_fix) ||
            (ts_fix == 0 && dur_fix == 0))
            return -1;
    }
    if (!compact && (code & DASF_EC_EXT)) {
        int64_t ext_max = r->chunk_version >= 3 ? DASF_EX_V3_ALL : 0x3f;
        if (++used > n || dasf_mp_int(c, &ext) || ext < 0 || ext > ext_max) return -1;
        if (ext & DASF_EX_SCOPE) {
            if (++used > n || dasf_mp_int(c, &v)) return -1;
            ev->scope = (dasf_scope)v;
        }
        if (ext & DASF_EX_CAT) {
            if (++used > n || dasf_mp_int(c, &v) || str_at(r, v, &ev->cat)) return -1;
        }
        if (ext & (DASF_EX_ID_INT | DASF_EX_ID_STR | DASF_EX_ID_NIL)) ev->has_id = true;
        if (ext & DASF_EX_ID_INT) {
            if (++used > n || dasf_mp_int(c, &v)) return -1;
            ev->id.type = DASF_VAL_INT;
            ev->id.v.i = v;
        } else if (ext & DASF_EX_ID_STR) {
            if (++used > n || dasf_mp_int(c, &v) || str_at(r, v, &ev->id.v.str.ptr)) return -1;
            ev->id.type = DASF_VAL_STR;
            ev->id.v.str.len = r->strlens[v];
        }
        /* version 3: the caller's exact doubles, integer times, nil args */
        if (ext & DASF_EX_TS_FIX) {
            if (++used > n || dasf_mp_int(c, &ts_fix) || ts_fix == 0) return -1;
        }
        if (ext & DASF_EX_DUR_FIX) {
            if (!is_x || ++used > n || dasf_mp_int(c, &dur_fix) || dur_fix == 0) return -1;
        }
        if ((ext & DASF_EX_DUR_INT) && !is_x) return -1;
        if ((ext & DASF_EX_ARGS_NIL) && ((ext & DASF_EX_ARGS_MAP) || n != used)) return -1;
    }
    if (used > n) return -1;
    int rc;
    if (cc & DASF_CC_SCHEMA) { /* values only; keys from the name's schema */
        uint32_t np = r->sch_n && (uint64_t)name < r->sch_cap ? r->sch_n[name] : 0;
        if (np == 0 || n - used != np) return -1;
        if ((rc = decode_args(r, np, r->sch_keys[name]))) return rc;
    } else if (ext & DASF_EX_ARGS_MAP) {
        if (n - used != 1 || dasf_value_decode(c, &r->ev_arena, &ev->args) ||
            ev->args.type != DASF_VAL_MAP)
            return -1;
    } else {
        if ((n - used) & 1) return -1;
        if ((rc = decode_args(r, (n - used) / 2, NULL))) return rc;
    }
    rstream *s = &r->streams[r->cur_stream];
    int64_t start, end;
    if (tmode == DASF_TM_END_PREV_END) {
        end = (int64_t)((uint64_t)s->prev_end + (uint64_t)tv);
        start = (int64_t)((uint64_t)end - (uint64_t)dur);
    } else {
        start = (int64_t)((uint64_t)(tmode == DASF_TM_START_PREV_START ? s->prev_start : s->prev_end) +
                          (uint64_t)tv);
        end = (int64_t)((uint64_t)start + (uint64_t)dur);
    }
    s->prev_start = start;
    s->prev_end = end;
    ev->phase = (dasf_phase)ph;
    ev->timestamp_ns = start;
    ev->timestamp = dasf_time_fixed(start, ts_fix);
    ev->has_duration = is_x;
    ev->duration_ns = dur;
    ev->duration = is_x ? dasf_time_fixed(dur, dur_fix) : 0;
    ev->timestamp_is_int = (ext & DASF_EX_TS_INT) != 0;
    ev->duration_is_int = (ext & DASF_EX_DUR_INT) != 0;
    ev->args_nil = (ext & DASF_EX_ARGS_NIL) != 0;
    ev->process_id = s->pid;
    ev->thread_id = s->tid;
    ev->chunk_index = r->chunk.index;
    return 0;
}

static int archive_next(dasf_trace *r) {
    for (;;) {
        if (r->left) {
            int rc = archive_event(r);
            if (rc == 0) {
                r->left--;
                r->st.events++;
                return 1;
            }
            int over = r->ev_arena.over;
            if (rc == -2 && !over) return DASF_ENOMEM;
            /* Checksums matched, so the writer itself produced this: report
             * it and drop the rest of the chunk, which is damaged, not whole
             * (it was counted whole when its checksums matched). */
            r->st.chunks_read--;
            note_damage(r, r->chunk.index, r->chunk.offset, r->chunk.stored_size,
                        "chunk at byte %llu: %s", (unsigned long long)r->chunk.offset,
                        over ? "an event needs more memory than the reader's bound"
                             : "malformed event array");
            r->left = 0;
            continue;
        }
        if (r->pos >= r->size) return 0;
        const char *why = "damaged chunk";
        uint64_t at = r->pos;
        int rc = load_chunk(r, &why);
        if (rc == 0) continue;
        if (rc != -1) return rc;
        uint64_t next = archive_resync(r, at + 1);
        if (r->io_error) return r->io_error;
        note_damage(r, next_index(r), at, next - at, "chunk at byte %llu: %s",
                    (unsigned long long)at, why);
        r->pos = next;
    }
}

/* ---- public API -------------------------------------------------------------------- */

/* For a legacy file: the length-prefix size whose first record parses. */
static int legacy_prefix(dasf_trace *r) {
    static const size_t order[8] = {8, 4, 2, 1, 3, 5, 6, 7};
    uint64_t len;
    for (int i = 0; i < 8; i++)
        if (legacy_try(r, 0, order[i], &len)) return (int)order[i];
    return 8; /* first record damaged: assume the default and resync */
}

int dasf_trace_open(dasf_trace **out, const char *path) {
    if (!out || !path) return DASF_EINVAL;
    /* Non-blocking: opening a FIFO without a writer must not wait forever;
     * anything but a regular file is refused (pread on it would block or
     * mean nothing).  O_NONBLOCK does not change reads of regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno == ENOENT ? DASF_ENOENT : DASF_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return DASF_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return DASF_ENOTREG;
    }
    dasf_trace *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return DASF_ENOMEM;
    }
    r->fd = fd;
    r->chunk_arena.limit = DASF_READ_TABLES_BUDGET;
    r->ev_arena.limit = DASF_READ_EVENT_BUDGET;
    r->size = (uint64_t)st.st_size;
    r->st.file_size = r->size;
    r->byte_size = 8;
    int rc = DASF_OK;
    if (r->size == 0) {
        r->st.layout = DASF_LAYOUT_EMPTY;
    } else {
        size_t hn = r->size < 16 ? (size_t)r->size : 16;
        const uint8_t *h = win_get(r, 0, hn);
        int lay = h ? dasf_detect_layout(h, hn) : (r->io_error ? r->io_error : DASF_EIO);
        if (lay == DASF_LAYOUT_LEGACY) {
            r->st.layout = DASF_LAYOUT_LEGACY;
            r->byte_size = (size_t)legacy_prefix(r);
        } else if (lay == DASF_LAYOUT_ARCHIVE) {
            r->st.layout = DASF_LAYOUT_ARCHIVE;
        } else if (lay == DASF_EFORMAT) {
            /* A file whose first chunk or record is damaged (torn by a
             * writer that died, then appended to) still has its others:
             * look for a whole one in the first MiB, archive first. */
            uint64_t lim = r->size;
            r->size = lim < ((uint64_t)1 << 20) ? lim : (uint64_t)1 << 20;
            int hit = archive_resync(r, 0) < r->size;
            if (hit) r->st.layout = DASF_LAYOUT_ARCHIVE;
            static const size_t order[8] = {8, 4, 2, 1, 3, 5, 6, 7};
            for (int i = 0; i < 8 && !hit && !r->io_error; i++) {
                r->byte_size = order[i];
                hit = legacy_resync(r, 0) < r->size;
                if (hit) r->st.layout = DASF_LAYOUT_LEGACY;
            }
            r->size = lim;
            if (!hit) {
                r->byte_size = 8;
                rc = r->io_error ? r->io_error : DASF_EFORMAT;
            }
        } else {
            rc = lay;
        }
    }
    if (rc == DASF_OK && r->st.layout == DASF_LAYOUT_ARCHIVE) {
        r->dctx = ZSTD_createDCtx();
        if (!r->dctx) rc = DASF_ENOMEM;
    }
    if (rc) {
        dasf_trace_close(r);
        return rc;
    }
    *out = r;
    return DASF_OK;
}

int dasf_trace_next(dasf_trace *r, const dasf_trace_event **ev) {
    if (!r || !ev) return DASF_EINVAL;
    int rc;
    switch (r->st.layout) {
    case DASF_LAYOUT_LEGACY: rc = legacy_next(r); break;
    case DASF_LAYOUT_ARCHIVE: rc = archive_next(r); break;
    default: rc = 0; break;
    }
    if (rc == 1) *ev = &r->ev;
    return rc;
}

void dasf_trace_close(dasf_trace *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->win);
    ZSTD_freeDCtx(r->dctx);
    dasf_buf_free(&r->raw);
    dasf_arena_free(&r->ev_arena);
    dasf_arena_free(&r->chunk_arena);
    free(r);
}

void dasf_trace_get_stats(const dasf_trace *r, dasf_trace_stats *out) {
    if (!out) return;
    if (!r) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = r->st;
}

int dasf_trace_chunk(const dasf_trace *r, dasf_chunk_info *out) {
    if (!r || !out) return DASF_EINVAL;
    if (r->st.layout != DASF_LAYOUT_ARCHIVE) return DASF_ENOTSUP;
    if (!r->have_chunk) return DASF_EINVAL;
    *out = r->chunk;
    return DASF_OK;
}

int dasf_trace_read_file(const char *path, dasf_trace_visit visit, void *user) {
    if (!visit) return DASF_EINVAL;
    dasf_trace *r;
    int rc = dasf_trace_open(&r, path);
    if (rc) return rc;
    const dasf_trace_event *ev;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        int v = visit(ev, user);
        if (v) {
            rc = v;
            break;
        }
    }
    dasf_trace_close(r);
    return rc;
}
