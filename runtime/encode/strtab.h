/*
 * strtab.h — the archive chunk's string table and streams: the inline fast
 * paths (encode/ only, not installed; the rest is strtab.c).
 *
 * Runs on the encoding thread.  A chunk's strings (names, arg keys, cats,
 * string ids) are stored once each; an event refers to them by index.
 * Lookups go pointer cache → caller's memo → hash table, and every hit is
 * verified against the stored bytes, so a reused buffer with new content
 * never aliases.  Indices belong to one chunk: finish() resets the table
 * and bumps e->gen, which invalidates every memo.
 */
#ifndef DASF_STRTAB_H
#define DASF_STRTAB_H

#include "chunk_state.h"

#include <string.h>

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
DASF_HIDDEN int64_t dasf_enc_intern(dasf_chunk_enc *e, const char *s, size_t n);

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
    int64_t idx = dasf_enc_intern(e, s, n);
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
DASF_HIDDEN __attribute__((noinline)) dasf_enc_memo *dasf_enc_memo_claim(dasf_chunk_enc *e,
                                                                          dasf_enc_memo *m);

static inline dasf_enc_memo *memo_of(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    dasf_enc_memo *m = ev->memo;
    if (m && DASF_UNLIKELY(m->owner != e || m->gen != e->gen)) return dasf_enc_memo_claim(e, m);
    return m;
}

static inline uint32_t *memo_name_slot(dasf_enc_memo *m, const char *s, size_t n) {
    unsigned h = n ? (unsigned)n * 7u ^ (uint8_t)s[0] ^ (unsigned)(uint8_t)s[n - 1] << 3 : 0;
    return &m->name1[h % DASF_ENC_MEMO_NAMES];
}

/* @return the stream index of (pid, tid), creating it (its time base
 * ts_ns); -1 on no memory. */
DASF_HIDDEN int64_t dasf_enc_find_stream(dasf_chunk_enc *e, const dasf_id *pid, const dasf_id *tid,
                                         int64_t ts_ns);
/* Frees the streams' id copies; the table is then empty. */
DASF_HIDDEN void dasf_enc_streams_clear(dasf_chunk_enc *e);

#endif
