/*
 * window.c — the reader's view of the file: a window buffer filled with
 * pread, and the account of damaged regions.
 *
 * Runs on the reader's thread.  Memory stays bounded by the largest chunk
 * or record asked for (plus WIN_MIN), whatever the file size; a file that
 * shrinks under the reader (a writer truncating back a failed append)
 * reads as a short tail, never a SIGBUS.  The first damage is described in
 * the stats, every one is counted.
 */
#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* @return a pointer to bytes [off, off+n) of the file, or NULL when the file
 * ends before (or on an I/O error, which sets r->io_error). */
const uint8_t *dasf_rd_win_get(dasf_trace *r, uint64_t off, size_t n) {
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

/* Bytes [off, off + n) with n >= want (fewer only at the end of the file),
 * n <= WIN_MIN unless the window already holds more: for forward scans,
 * which take what the window has instead of refilling it per candidate
 * (refilling moved a MiB per candidate: quadratic in the candidates). */
const uint8_t *dasf_rd_win_scan(dasf_trace *r, uint64_t off, size_t want, size_t *n) {
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
    return span ? dasf_rd_win_get(r, off, span) : NULL;
}

void dasf_rd_note_damage(dasf_trace *r, uint64_t index, uint64_t off, uint64_t len,
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
