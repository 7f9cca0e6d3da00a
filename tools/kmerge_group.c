/*
 * kmerge_group.c — the output group of the k-way merge (kmerge.h, "Output"):
 * the written events are indexed by the source chunk they came from (one
 * piece per chunk and kind, metadata apart); the group is written as one
 * chunk per piece, metadata pieces first, then by first event, with the
 * piece's writer metadata.  Emptied chunks are pinned until the group
 * holding their last events is written.  Single-threaded.
 */
#include "kmerge_group.h"

#include "array.h"
#include "messages.h"

#include <stdlib.h>

#define NO_PIECE UINT32_MAX

void km_no_memory(km *m) {
    if (!m->oom) dt_err("out of memory");
    m->oom = true;
    m->status = DT_FAIL;
}

int km_group_add(km *m, km_chunk *c, uint32_t idx, bool meta, int64_t key) {
    if (c->gen != m->gen) {
        c->gen = m->gen;
        c->piece = c->mpiece = NO_PIECE;
    }
    uint32_t *pp = meta ? &c->mpiece : &c->piece;
    if (*pp == NO_PIECE) {
        if (dt_grow((void **)&m->pieces, &m->cap_pieces, m->n_pieces, sizeof *m->pieces)) {
            km_no_memory(m);
            return -1;
        }
        *pp = (uint32_t)m->n_pieces;
        m->pieces[m->n_pieces++] = (km_piece){c, key, 0, 0, meta};
    }
    if (dt_grow((void **)&m->ent, &m->cap_ent, m->n_ent, sizeof *m->ent)) {
        km_no_memory(m);
        return -1;
    }
    m->ent[m->n_ent++] = (km_entry){c, idx, *pp};
    m->pieces[*pp].n++;
    return 0;
}

/* Metadata pieces first (file, then load order), then by first event. */
static int piece_cmp(const void *a, const void *b) {
    const km_piece *x = a, *y = b;
    if (x->meta != y->meta) return x->meta ? -1 : 1;
    if (!x->meta && x->first_key != y->first_key) return x->first_key < y->first_key ? -1 : 1;
    if (x->c->in->d.index != y->c->in->d.index) return x->c->in->d.index < y->c->in->d.index ? -1 : 1;
    return (x->c->seq > y->c->seq) - (x->c->seq < y->c->seq);
}

void km_chunk_free(km *m, km_chunk *c) {
    m->held -= c->n_ev;
    dt_evstore_free(&c->store);
    free(c->ev);
    free(c->ord);
    free(c);
}

static int writer_failed(km *m, int rc) {
    dt_err("%s: %s", m->out, dasf_strerror(rc));
    m->write_failed = true;
    m->status = DT_FAIL;
    return -1;
}

/* Writes the group: one chunk per piece, in piece order. */
int km_group_flush(km *m) {
    int rc = 0;
    if (m->n_ent && !m->write_failed) {
        /* The pieces are sorted in place; each entry finds its piece's new
         * position through `rank`, then a counting sort lays them out. */
        size_t np = m->n_pieces;
        uint32_t *rank = malloc(np * sizeof *rank);
        km_piece *order = malloc(np * sizeof *order);
        km_entry *out = realloc(m->sorted, m->n_ent * sizeof *out);
        if (!rank || !order || !out) {
            free(rank);
            free(order);
            if (out) m->sorted = out;
            km_no_memory(m);
            return -1;
        }
        m->sorted = out;
        for (size_t i = 0; i < np; i++) {
            order[i] = m->pieces[i];
            order[i].off = (uint32_t)i; /* its old index, for now */
        }
        qsort(order, np, sizeof *order, piece_cmp);
        uint32_t off = 0;
        for (size_t i = 0; i < np; i++) {
            rank[order[i].off] = (uint32_t)i;
            order[i].off = off;
            off += order[i].n;
        }
        uint32_t *fill = calloc(np, sizeof *fill);
        if (!fill) {
            free(rank);
            free(order);
            km_no_memory(m);
            return -1;
        }
        for (size_t i = 0; i < m->n_ent; i++) {
            uint32_t p = rank[m->ent[i].piece];
            out[order[p].off + fill[p]++] = m->ent[i];
        }
        free(fill);
        free(rank);
        for (size_t i = 0; i < np && rc == 0; i++) {
            km_chunk *c = order[i].c;
            dasf_chunk_info origin = c->has_info ? c->info : *m->self;
            origin.dropped = c->has_info && !c->dropped_given ? c->info.dropped : 0;
            c->dropped_given = true;
            rc = dasf_writer_set_origin(m->w, &origin); /* flushes the piece before */
            for (uint32_t j = 0; j < order[i].n && rc == 0; j++) {
                const km_entry *e = &out[order[i].off + j];
                rc = dasf_writer_add(m->w, &e->c->ev[e->idx]);
            }
            m->st->chunks++;
        }
        if (rc == 0) rc = dasf_writer_flush(m->w);
        free(order);
        m->st->events += m->n_ent;
        m->st->groups++;
        if (rc < 0) writer_failed(m, rc);
    }
    m->n_ent = 0;
    m->n_pieces = 0;
    m->gen++;
    while (m->pinned) {
        km_chunk *c = m->pinned;
        m->pinned = c->next_pinned;
        km_chunk_free(m, c);
    }
    m->pinned_events = 0;
    return rc < 0 ? -1 : 0;
}

/* c is emptied: freed when the group that holds its last events is written. */
void km_pin(km *m, km_chunk *c) {
    c->next_pinned = m->pinned;
    m->pinned = c;
    m->pinned_events += c->n_ev;
}
