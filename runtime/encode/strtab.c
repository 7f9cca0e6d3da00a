/*
 * strtab.c — the archive chunk's string table and stream table.
 *
 * Runs on the encoding thread (the flusher, dasf_writer).  Strings are
 * stored once per chunk in strbytes/strents and found through an open-
 * addressing hash table (hash and length checked before the bytes); the
 * inline fast paths in front of it are in strtab.h.  A stream is one
 * (process_id, thread_id) pair with its delta-coding state; string ids are
 * owned copies, freed when the chunk is reset.  Every failure is "no
 * memory" and leaves the tables as they were.
 */
#include "strtab.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>

static int htab_grow(dasf_chunk_enc *e) {
    uint32_t cap = e->hcap * 2;
    struct hslot *t = calloc(cap, sizeof *t);
    if (!t) return DASF_ENOMEM;
    for (uint32_t i = 0; i < e->hcap; i++) {
        if (!e->htab[i].idx1) continue;
        uint32_t j = (uint32_t)e->htab[i].hash & (cap - 1);
        while (t[j].idx1) j = (j + 1) & (cap - 1);
        t[j] = e->htab[i];
    }
    free(e->htab);
    e->htab = t;
    e->hcap = cap;
    return DASF_OK;
}

int64_t dasf_enc_intern(dasf_chunk_enc *e, const char *s, size_t n) {
    uint64_t h = dasf_hash_bytes(s, n);
    uint32_t j = (uint32_t)h & (e->hcap - 1);
    const str_ent *ents = (const str_ent *)e->strents.data;
    for (;;) {
        const struct hslot *hs = &e->htab[j];
        if (!hs->idx1) break;
        if (hs->hash == h && hs->len == n &&
            bytes_eq(e->strbytes.data + ents[hs->idx1 - 1].off, s, n))
            return hs->idx1 - 1;
        j = (j + 1) & (e->hcap - 1);
    }
    if (e->nstr >= UINT32_MAX / 2 || e->strbytes.len + n > UINT32_MAX) return -1;
    str_ent ne = {(uint32_t)e->strbytes.len, (uint32_t)n};
    if (dasf_buf_append(&e->strbytes, s, n) || dasf_buf_append(&e->strents, &ne, sizeof ne))
        return -1;
    e->htab[j].idx1 = ++e->nstr;
    e->htab[j].len = (uint32_t)n;
    e->htab[j].hash = h;
    if ((uint64_t)e->nstr * 2 > e->hcap && htab_grow(e)) return -1;
    return e->nstr - 1;
}

dasf_enc_memo *dasf_enc_memo_claim(dasf_chunk_enc *e, dasf_enc_memo *m) {
    memset(m, 0, sizeof *m);
    m->owner = e;
    m->gen = e->gen;
    return m;
}

static int id_eq(const dasf_id *a, const dasf_id *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == DASF_ID_INT) return a->i == b->i;
    if (a->kind == DASF_ID_STR) return strcmp(a->s, b->s) == 0;
    return 1;
}

static int copy_id(dasf_id *dst, char **own, const dasf_id *src) {
    *dst = *src;
    *own = NULL;
    if (src->kind == DASF_ID_STR) {
        *own = strdup(src->s);
        if (!*own) return -1;
        dst->s = *own;
    }
    return 0;
}

int64_t dasf_enc_find_stream(dasf_chunk_enc *e, const dasf_id *pid, const dasf_id *tid,
                             int64_t ts_ns) {
    if (e->cur < e->nstreams && id_eq(&e->streams[e->cur].pid, pid) &&
        id_eq(&e->streams[e->cur].tid, tid))
        return e->cur;
    for (uint32_t i = 0; i < e->nstreams; i++)
        if (id_eq(&e->streams[i].pid, pid) && id_eq(&e->streams[i].tid, tid)) return i;
    if (e->nstreams == e->capstreams) {
        uint32_t cap = e->capstreams ? e->capstreams * 2 : 8;
        stream_ent *s = realloc(e->streams, cap * sizeof *s);
        if (!s) return -1;
        e->streams = s;
        e->capstreams = cap;
    }
    stream_ent *s = &e->streams[e->nstreams];
    if (copy_id(&s->pid, &s->pid_s, pid)) return -1;
    if (copy_id(&s->tid, &s->tid_s, tid)) {
        free(s->pid_s);
        return -1;
    }
    s->base = s->prev_end = s->prev_start = ts_ns;
    return e->nstreams++;
}

void dasf_enc_streams_clear(dasf_chunk_enc *e) {
    for (uint32_t i = 0; i < e->nstreams; i++) {
        free(e->streams[i].pid_s);
        free(e->streams[i].tid_s);
    }
    e->nstreams = 0;
    e->cur = UINT32_MAX;
}
