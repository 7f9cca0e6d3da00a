/*
 * reader.h — the trace reader's state, shared by the read/ files (not
 * installed; the API is dasf_trace_* in include/dasf/profiler.h).
 *
 * One dasf_trace belongs to the thread that opened it.  reader.c owns its
 * life cycle and the public calls, window.c the file window and the damage
 * accounting, legacy_read.c the Python layout, archive_chunk.c loading and
 * verifying an archive chunk, archive_read.c its event arrays.
 */
#ifndef DASF_READER_H
#define DASF_READER_H

#include "archive.h"
#include "value.h"

#include <string.h>
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

static inline int key_is(const dasf_mp_obj *k, const char *lit, size_t n) {
    return k->v.s.len == n && memcmp(k->v.s.ptr, lit, n) == 0;
}
#define KEYIS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

/* ---- window.c ------------------------------------------------------------ */
/* @return a pointer to bytes [off, off+n) of the file, or NULL when the file
 * ends before (or on an I/O error, which sets r->io_error). */
DASF_HIDDEN const uint8_t *dasf_rd_win_get(dasf_trace *r, uint64_t off, size_t n);
/* Bytes [off, off + n) with n >= want (fewer only at the end of the file),
 * n <= WIN_MIN unless the window already holds more: for forward scans,
 * which take what the window has instead of refilling it per candidate
 * (refilling moved a MiB per candidate: quadratic in the candidates). */
DASF_HIDDEN const uint8_t *dasf_rd_win_scan(dasf_trace *r, uint64_t off, size_t want, size_t *n);
/* Position of the next chunk / record / damaged region in the file. */
static inline uint64_t dasf_rd_next_index(const dasf_trace *r) {
    return r->st.chunks_read + r->st.chunks_damaged;
}
/* Counts a damaged region at position index (see dasf_rd_next_index). */
DASF_HIDDEN void dasf_rd_note_damage(dasf_trace *r, uint64_t index, uint64_t off, uint64_t len,
                                     const char *fmt, ...);

/* ---- legacy_read.c --------------------------------------------------------- */
/* The next event of a legacy file.  @return 1 (in r->ev), 0 at the end, or
 * a dasf_status. */
DASF_HIDDEN int dasf_rd_legacy_next(dasf_trace *r);
/* A whole record at off with a k-byte length: 1 (*rec_len set, the record
 * parsed into r->ev) or 0. */
DASF_HIDDEN int dasf_rd_legacy_try(dasf_trace *r, uint64_t off, size_t k, uint64_t *rec_len);
/* The next offset >= from where a whole record starts (r->size if none). */
DASF_HIDDEN uint64_t dasf_rd_legacy_resync(dasf_trace *r, uint64_t from);

/* ---- archive_chunk.c ------------------------------------------------------- */
/* The next offset >= from where a plausible chunk starts (r->size if none). */
DASF_HIDDEN uint64_t dasf_rd_archive_resync(dasf_trace *r, uint64_t from);
/* Loads and verifies the chunk at r->pos.  @return 0 (r->pos moved past
 * it), DASF_PARSE_BAD (damaged: *why), or a dasf_status for I/O or
 * memory (DASF_EIO, DASF_ENOMEM). */
DASF_HIDDEN int dasf_rd_load_chunk(dasf_trace *r, const char **why);

/* ---- archive_read.c -------------------------------------------------------- */
/* The next event of an archive file.  @return as dasf_rd_legacy_next. */
DASF_HIDDEN int dasf_rd_archive_next(dasf_trace *r);

#endif
