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
 * This file: open (layout detection), next, close and the other public
 * calls; the parts they call are listed in reader.h.
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- public API -------------------------------------------------------------------- */

/* For a legacy file: the length-prefix size whose first record parses. */
static int legacy_prefix(dasf_trace *r) {
    static const size_t order[8] = {8, 4, 2, 1, 3, 5, 6, 7};
    uint64_t len;
    for (int i = 0; i < 8; i++)
        if (dasf_rd_legacy_try(r, 0, order[i], &len)) return (int)order[i];
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
        const uint8_t *h = dasf_rd_win_get(r, 0, hn);
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
            int hit = dasf_rd_archive_resync(r, 0) < r->size;
            if (hit) r->st.layout = DASF_LAYOUT_ARCHIVE;
            static const size_t order[8] = {8, 4, 2, 1, 3, 5, 6, 7};
            for (int i = 0; i < 8 && !hit && !r->io_error; i++) {
                r->byte_size = order[i];
                hit = dasf_rd_legacy_resync(r, 0) < r->size;
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
    case DASF_LAYOUT_LEGACY: rc = dasf_rd_legacy_next(r); break;
    case DASF_LAYOUT_ARCHIVE: rc = dasf_rd_archive_next(r); break;
    default: rc = 0; break;
    }
    if (rc == 1) *ev = &r->ev;
    return rc;
}

int dasf_trace_close(dasf_trace *r) {
    if (!r) return DASF_OK;
    if (r->fd >= 0) close(r->fd);
    free(r->win);
    ZSTD_freeDCtx(r->dctx);
    dasf_buf_free(&r->raw);
    dasf_arena_free(&r->ev_arena);
    dasf_arena_free(&r->chunk_arena);
    free(r);
    return DASF_OK;
}

int dasf_trace_get_stats(const dasf_trace *r, dasf_trace_stats *out) {
    if (!out) return DASF_EINVAL;
    if (!r) {
        memset(out, 0, sizeof *out);
        return DASF_EINVAL;
    }
    *out = r->st;
    return DASF_OK;
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
