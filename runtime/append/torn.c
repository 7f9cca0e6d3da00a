/*
 * torn.c — finding and cutting a torn tail: the prefix of a chunk that a
 * writer killed inside its append's write() left at the end of the file.
 *
 * Called by append.c (dasf_file_append) on whatever thread appends — the
 * flusher, a recoverer, dasf_writer's caller — with the file's flock
 * LOCK_EX held: at the first append after opening the file (walking from
 * its start), and at every later one when others appended since (walking
 * from where this writer's last append ended, a chunk boundary).
 * Invariants:
 *  - only ever called under the file lock: every writer of the protocol
 *    (C and Python) writes under it, so bytes that form an incomplete
 *    chunk at the end of the file while we hold it belong to a writer that
 *    died, never to one still writing;
 *  - only an incomplete tail is cut: a chunk frame (archive magic, a
 *    metadata size, the metadata and its stored_size) that starts on a
 *    chunk boundary (or, after damage, where a chunk with whole metadata
 *    starts) and whose stated length runs past the end of the file, with
 *    no chunk starting after it.  A chunk of full length whose CRC does
 *    not match, damage in the middle, bytes of another kind: left alone
 *    (the reader skips and reports them as before);
 *  - only the archive layout (the legacy layout's length prefix size is
 *    the writer's option, not in the file): a legacy file is left alone.
 *  - the walk reads chunk headers only (pread, no mapping: a file cut
 *    under us by a writer outside the protocol cannot SIGBUS us), and
 *    scans bytes only across damage and across the candidate tail.
 */
#include "append.h"
#include "archive.h"
#include "byteorder.h"
#include "mp_cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

enum { FR_BAD, FR_TORN_HDR, FR_TORN, FR_WHOLE };

static const uint8_t chunk_magic[4] = DASF_CHUNK_MAGIC_LE;

static int read_at(int fd, void *p, size_t n, uint64_t off) {
    uint8_t *b = p;
    while (n) {
        ssize_t r = pread(fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* The metadata map of a chunk: its stored_size, believed under the
 * reader's limits (docs/FORMAT.md section 6).  @return 0 or -1. */
static int meta_stored(const uint8_t *p, size_t n, uint64_t *stored) {
    dasf_mp c = {p, p + n};
    dasf_mp_obj o, k, v;
    int64_t st = -1, raw = -1;
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
        if (k.type != DASF_VAL_STR || v.type != DASF_VAL_INT) continue;
        if (k.v.s.len == 11 && !memcmp(k.v.s.ptr, "stored_size", 11)) st = v.v.i;
        if (k.v.s.len == 8 && !memcmp(k.v.s.ptr, "raw_size", 8)) raw = v.v.i;
    }
    if (c.p != c.end || st < 0 || raw < 0 || (uint64_t)raw > DASF_MAX_CHUNK_RAW ||
        (uint64_t)st > ZSTD_compressBound((size_t)raw))
        return -1;
    *stored = (uint64_t)st;
    return 0;
}

/* What starts at off in a file of `size` bytes: a whole-length chunk
 * (*len), a torn one (its header or its metadata runs past the end:
 * FR_TORN_HDR; its data does: FR_TORN), or no chunk (FR_BAD). */
static int frame_at(int fd, uint64_t off, uint64_t size, uint64_t *len) {
    uint64_t rem = size - off;
    uint8_t h[8], meta[DASF_MAX_META_SIZE];
    size_t n = rem < 8 ? (size_t)rem : 8;
    if (read_at(fd, h, n, off)) return FR_BAD;
    if (memcmp(h, chunk_magic, n < 4 ? n : 4)) return FR_BAD;
    if (n < 8) return FR_TORN_HDR;
    uint32_t ml = dasf_load_le32(h + 4);
    if (ml == 0 || ml > DASF_MAX_META_SIZE) return FR_BAD;
    if (8 + (uint64_t)ml > rem) return FR_TORN_HDR;
    uint64_t stored;
    if (read_at(fd, meta, ml, off + 8) || meta_stored(meta, ml, &stored)) return FR_BAD;
    *len = 8 + (uint64_t)ml + stored;
    return *len > rem ? FR_TORN : FR_WHOLE;
}

/* The first offset in [from, size) where a chunk with whole metadata
 * starts (whole-length or torn), or size. */
static uint64_t next_chunk(int fd, uint64_t from, uint64_t size) {
    enum { STEP = 1 << 16 };
    uint8_t *buf = malloc(STEP + 3);
    if (!buf) return size; /* nothing found: nothing is cut */
    uint64_t found = size;
    for (uint64_t at = from; at < size && found == size; at += STEP) {
        size_t n = size - at < STEP + 3 ? (size_t)(size - at) : STEP + 3;
        if (read_at(fd, buf, n, at)) break;
        size_t lim = n < STEP ? n : STEP; /* candidates start in [at, at + lim) */
        for (size_t i = 0; i < lim; i++) {
            const uint8_t *q = memchr(buf + i, chunk_magic[0], lim - i);
            if (!q) break;
            i = (size_t)(q - buf);
            uint64_t len;
            if (i + 4 <= n && !memcmp(q, chunk_magic, 4) &&
                frame_at(fd, at + i, size, &len) >= FR_TORN) {
                found = at + i;
                break;
            }
        }
    }
    free(buf);
    return found;
}

uint64_t dasf_torn_tail_at(int fd, uint64_t from, uint64_t size) {
    uint64_t off = from, prev = UINT64_MAX; /* prev: start of the chunk believed last */
    while (off < size) {
        uint64_t len = 0;
        int k = frame_at(fd, off, size, &len);
        if (k == FR_WHOLE) {
            prev = off;
            off += len;
            continue;
        }
        if (k != FR_BAD) { /* a torn chunk: the tail, when nothing starts after it */
            uint64_t next = next_chunk(fd, off + 1, size);
            if (next == size) return off;
            prev = UINT64_MAX;
            off = next; /* a torn chunk in the middle: left alone */
            continue;
        }
        /* No chunk here: damage.  The chunk before may have stated a
         * length it does not have (torn in the middle, later chunks after
         * it), so look again from just after its start. */
        off = next_chunk(fd, prev != UINT64_MAX ? prev + 1 : off + 1, size);
        prev = UINT64_MAX;
    }
    return size;
}

int64_t dasf_cut_torn_tail(int fd, uint64_t from, uint64_t size) {
    uint64_t at = dasf_torn_tail_at(fd, from, size);
    if (at >= size) return 0;
    if (ftruncate(fd, (off_t)at) != 0) return DASF_EIO;
    return (int64_t)(size - at);
}
