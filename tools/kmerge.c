/*
 * kmerge.c — the streaming k-way merge of `dasf-trace merge` (kmerge.h
 * says what it guarantees and the memory it holds).
 *
 * Two binary heaps drive it: `runs`, the loaded chunks that still have
 * unwritten events, by their next event's key; `loads`, the inputs that
 * may load another chunk, by the start of their last loaded chunk.  Before
 * an event is written, every input whose last loaded chunk starts at or
 * before it loads its next chunk (which may hold earlier events).
 * Single-threaded, like the whole tool.
 */
#include "kmerge.h"

#include "align.h"
#include "array.h"
#include "evcopy.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "runs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LEGACY_CHUNK 4096 /* legacy records taken together (they have no chunks) */
#define NO_PIECE UINT32_MAX

typedef struct km_input km_input;

typedef struct km_ord {
    int64_t key;  /* aligned start */
    uint32_t idx; /* into ev[] */
} km_ord;

typedef struct km_chunk {
    km_input *in;
    uint64_t seq;         /* load order within the input */
    uint64_t src_index;   /* the source chunk (legacy: its first record) */
    dasf_chunk_info info; /* its metadata (archive) */
    bool has_info;
    bool dropped_given;   /* info.dropped went out with an output chunk */
    dt_evstore store;
    dasf_trace_event *ev; /* every event kept, file order */
    size_t n_ev, cap_ev, n_read;
    km_ord *ord;          /* the timed ones, by key */
    size_t n_ord, cap_ord, pos;
    uint64_t gen;         /* the group its pieces below belong to */
    uint32_t piece, mpiece;
    struct km_chunk *next_pinned;
} km_chunk;

struct km_input {
    dt_input d;
    bool eof, queued, gone;
    km_chunk *filling; /* holds the first event read of the next chunk */
    size_t active_chunks, unwritten;
    int64_t last_min;
    uint64_t nseq;
    dt_runs runs; /* this file's runs (run numbers: base + local) */
    size_t run_base;
};

typedef struct km_heap {
    void **v;
    size_t n, cap;
    bool (*less)(const void *a, const void *b);
} km_heap;

typedef struct km_entry {
    km_chunk *c;
    uint32_t idx, piece;
} km_entry;

typedef struct km_piece {
    km_chunk *c;
    int64_t first_key;
    uint32_t n, off;
    bool meta;
} km_piece;

typedef struct km {
    km_input *in;
    int n;
    const dt_filter *f;
    bool filtering, tracking_runs;
    dt_align *align;
    size_t window;
    dasf_writer *w;
    const char *out;
    const dasf_chunk_info *self;
    km_heap runs, loads;
    km_entry *ent, *sorted;
    size_t n_ent, cap_ent;
    km_piece *pieces;
    size_t n_pieces, cap_pieces;
    uint64_t gen;
    km_chunk *pinned;
    size_t pinned_events; /* decoded events the emptied chunks still hold */
    size_t held;
    int64_t last_key;
    bool any_written;
    int status;
    bool write_failed, oom;
    dt_kmerge_stats *st;
} km;

/* ---- heaps ------------------------------------------------------------- */

static int heap_push(km_heap *h, void *x) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        void **nv = realloc(h->v, cap * sizeof *nv);
        if (!nv) return -1;
        h->v = nv;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!h->less(x, h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = x;
    return 0;
}

/* Restores the order after the top's key grew (or after removing it). */
static void heap_sift_top(km_heap *h) {
    if (!h->n) return;
    void *x = h->v[0];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        void *mv = x;
        if (l < h->n && h->less(h->v[l], mv)) m = l, mv = h->v[l];
        if (r < h->n && h->less(h->v[r], mv)) m = r;
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    h->v[i] = x;
}

static void heap_pop(km_heap *h) {
    if (!h->n) return;
    h->v[0] = h->v[--h->n];
    heap_sift_top(h);
}

static bool run_less(const void *a, const void *b) {
    const km_chunk *x = a, *y = b;
    int64_t kx = x->ord[x->pos].key, ky = y->ord[y->pos].key;
    if (kx != ky) return kx < ky;
    if (x->in->d.index != y->in->d.index) return x->in->d.index < y->in->d.index;
    return x->seq < y->seq;
}

static bool load_less(const void *a, const void *b) {
    const km_input *x = a, *y = b;
    if (x->last_min != y->last_min) return x->last_min < y->last_min;
    return x->d.index < y->d.index;
}

/* ---- the group being built ---------------------------------------------- */

static void no_memory(km *m) {
    if (!m->oom) dt_err("out of memory");
    m->oom = true;
    m->status = DT_FAIL;
}

static int group_add(km *m, km_chunk *c, uint32_t idx, bool meta, int64_t key) {
    if (c->gen != m->gen) {
        c->gen = m->gen;
        c->piece = c->mpiece = NO_PIECE;
    }
    uint32_t *pp = meta ? &c->mpiece : &c->piece;
    if (*pp == NO_PIECE) {
        if (dt_grow((void **)&m->pieces, &m->cap_pieces, m->n_pieces, sizeof *m->pieces)) {
            no_memory(m);
            return -1;
        }
        *pp = (uint32_t)m->n_pieces;
        m->pieces[m->n_pieces++] = (km_piece){c, key, 0, 0, meta};
    }
    if (dt_grow((void **)&m->ent, &m->cap_ent, m->n_ent, sizeof *m->ent)) {
        no_memory(m);
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

static void chunk_free(km *m, km_chunk *c) {
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
static int group_flush(km *m) {
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
            no_memory(m);
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
            no_memory(m);
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
        chunk_free(m, c);
    }
    m->pinned_events = 0;
    return rc < 0 ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------- */

static bool can_load(const km *m, const km_input *in) {
    return !in->eof && (in->active_chunks < 2 || in->unwritten < m->window);
}

static void queue_input(km *m, km_input *in) {
    if (in->queued || !can_load(m, in)) return;
    if (heap_push(&m->loads, in)) {
        no_memory(m);
        return;
    }
    in->queued = true;
}

static km_chunk *chunk_new(km *m, km_input *in) {
    km_chunk *c = calloc(1, sizeof *c);
    if (!c) {
        no_memory(m);
        return NULL;
    }
    c->in = in;
    c->seq = in->nseq++;
    c->gen = UINT64_MAX;
    return c;
}

/* The read event ev through the shared steps (runs, alignment, window,
 * filters); kept in c when it passes. */
static int take(km *m, km_input *in, km_chunk *c, const dasf_trace_event *ev) {
    if (m->tracking_runs) {
        size_t local = dt_runs_event(&in->runs, &in->d, ev);
        if (local == SIZE_MAX) {
            m->oom = true;
            m->status = DT_FAIL;
            return -1;
        }
        if (!dt_filter_run_wanted(m->f, in->run_base + local)) return 0;
    }
    dasf_trace_event aligned;
    const dasf_trace_event *a = m->align ? dt_align_event(m->align, in->d.trace, ev, &aligned) : ev;
    if (!dt_filter_pass(m->f, m->filtering, a)) return 0;
    if (dt_grow((void **)&c->ev, &c->cap_ev, c->n_ev, sizeof *c->ev) ||
        dt_evstore_copy(&c->store, &c->ev[c->n_ev], ev)) {
        no_memory(m);
        return -1;
    }
    if (ev->phase != DASF_PHASE_METADATA) {
        if (dt_grow((void **)&c->ord, &c->cap_ord, c->n_ord, sizeof *c->ord)) {
            no_memory(m);
            return -1;
        }
        c->ord[c->n_ord++] = (km_ord){a->timestamp_ns, (uint32_t)c->n_ev};
    }
    c->n_ev++;
    m->held++;
    if (m->held > m->st->peak_held) m->st->peak_held = m->held;
    return 0;
}

static int ord_cmp(const void *a, const void *b) {
    const km_ord *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static void chunk_start(km_input *in, km_chunk *c, const dasf_trace_event *ev) {
    c->src_index = ev->chunk_index;
    c->has_info = in->d.layout == DASF_LAYOUT_ARCHIVE && dasf_trace_chunk(in->d.trace, &c->info) == 0;
}

static void input_done(km *m, km_input *in) {
    in->eof = true;
    if (m->f && m->f->n_runs) { /* the runs pass said the damage already */
        dasf_trace_stats ds;
        dasf_trace_get_stats(in->d.trace, &ds);
        if (ds.chunks_damaged || ds.bytes_damaged) m->status = DT_FAIL;
    } else if (dt_report_damage(in->d.path, in->d.trace) != DT_OK) {
        m->status = DT_FAIL;
    }
}

/* c is emptied: freed when the group that holds its last events is written. */
static void pin(km *m, km_chunk *c) {
    c->next_pinned = m->pinned;
    m->pinned = c;
    m->pinned_events += c->n_ev;
}

/* Reads in's next chunk: sorts it, queues it as a run, hands its metadata
 * events to the group. */
static int load_chunk(km *m, km_input *in) {
    km_chunk *c = in->filling;
    in->filling = NULL;
    if (!c && !(c = chunk_new(m, in))) return -1;
    for (;;) {
        const dasf_trace_event *ev;
        int got = dasf_trace_next(in->d.trace, &ev);
        if (got <= 0) {
            if (got < 0) {
                dt_err("%s: %s", in->d.path, dasf_strerror(got));
                m->status = DT_FAIL;
            }
            input_done(m, in);
            break;
        }
        if (in->d.layout == DASF_LAYOUT_EMPTY) { /* learnt from the first bytes */
            dasf_trace_stats st;
            dasf_trace_get_stats(in->d.trace, &st);
            in->d.layout = st.layout;
        }
        bool boundary = c->n_read && (in->d.layout == DASF_LAYOUT_ARCHIVE
                                          ? ev->chunk_index != c->src_index
                                          : c->n_read >= LEGACY_CHUNK);
        if (boundary) {
            km_chunk *next = chunk_new(m, in);
            if (!next) return -1;
            in->filling = next;
            chunk_start(in, next, ev);
            next->n_read = 1;
            if (take(m, in, next, ev)) return -1;
            break;
        }
        if (!c->n_read) chunk_start(in, c, ev);
        c->n_read++;
        if (take(m, in, c, ev)) return -1;
    }
    if (c->n_ord > 1) qsort(c->ord, c->n_ord, sizeof *c->ord, ord_cmp);
    bool meta = false;
    for (size_t i = 0; i < c->n_ev; i++) {
        if (c->ev[i].phase != DASF_PHASE_METADATA) continue;
        meta = true;
        if (group_add(m, c, (uint32_t)i, true, INT64_MIN)) return -1;
    }
    if (c->n_ord) {
        in->active_chunks++;
        in->unwritten += c->n_ord;
        if (c->ord[0].key > in->last_min) in->last_min = c->ord[0].key;
        if (heap_push(&m->runs, c)) {
            no_memory(m);
            return -1;
        }
    } else if (meta) {
        pin(m, c);
    } else {
        chunk_free(m, c);
    }
    return 0;
}

/* Writes the smallest event; a chunk it empties waits for the group's end. */
static int emit_one(km *m) {
    km_chunk *c = m->runs.v[0];
    km_input *in = c->in;
    const km_ord *o = &c->ord[c->pos++];
    if (m->any_written && o->key < m->last_key) {
        m->st->late++;
        int64_t by = (int64_t)((uint64_t)m->last_key - (uint64_t)o->key);
        if (by > m->st->max_late_ns) m->st->max_late_ns = by;
    } else {
        m->last_key = o->key;
    }
    m->any_written = true;
    if (group_add(m, c, o->idx, false, o->key)) return -1;
    in->unwritten--;
    if (c->pos < c->n_ord) {
        heap_sift_top(&m->runs);
    } else {
        heap_pop(&m->runs);
        in->active_chunks--;
        pin(m, c);
    }
    queue_input(m, in); /* room again under its window */
    /* A group ends at DT_KMERGE_GROUP events, or sooner once the emptied
     * chunks it pins hold that many decoded events. */
    if (m->n_ent >= DT_KMERGE_GROUP || m->pinned_events >= DT_KMERGE_GROUP) return group_flush(m);
    return 0;
}

static int run(km *m) {
    for (;;) {
        while (m->loads.n && !m->oom && !m->write_failed) {
            km_input *in = m->loads.v[0];
            if (m->runs.n) {
                const km_chunk *top = m->runs.v[0];
                if (in->last_min > top->ord[top->pos].key) break;
            }
            heap_pop(&m->loads);
            in->queued = false;
            if (!can_load(m, in)) continue; /* queued again when it has room */
            if (load_chunk(m, in)) return -1;
            queue_input(m, in);
        }
        if (m->oom || m->write_failed) return -1;
        if (!m->runs.n) return group_flush(m);
        if (emit_one(m)) return -1;
    }
}

/* --run: run numbers count across the files in command-line order, so a
 * first pass numbers them (each input then counts its own from its base). */
static int count_only(void *ctx, const dt_input *in, const dasf_trace_event *ev) {
    (void)ctx, (void)in, (void)ev;
    return 0;
}

static int number_runs(km *m, char *const *files) {
    dt_runs all;
    memset(&all, 0, sizeof all);
    dt_filter none;
    memset(&none, 0, sizeof none);
    none.no_symbols = none.no_align = true;
    int rc = dt_each_event_runs(files, m->n, &none, count_only, NULL, NULL, &all);
    if (rc != DT_OK) m->status = DT_FAIL;
    for (size_t r = 0; r < all.n; r++)
        for (size_t i = all.v[r].file + 1; i < (size_t)m->n; i++) m->in[i].run_base++;
    for (size_t i = 0; i < m->f->n_runs; i++)
        if (m->f->runs[i] >= all.n) {
            dt_err("no run %zu: the input has %zu run(s) (see 'dasf-trace info')",
                   m->f->runs[i] + 1, all.n);
            m->status = DT_FAIL;
        }
    dt_runs_free(&all);
    return 0;
}

int dt_kmerge(dasf_writer *w, const char *out, const dasf_chunk_info *self, char *const *files, int n,
              const dt_filter *f, size_t window, dt_kmerge_stats *st, bool *write_failed) {
    km m;
    memset(&m, 0, sizeof m);
    memset(st, 0, sizeof *st);
    m.n = n;
    m.f = f;
    m.filtering = dt_filter_active(f);
    m.tracking_runs = f && f->n_runs;
    m.window = window ? window : DT_KMERGE_WINDOW;
    m.w = w;
    m.out = out;
    m.self = self;
    m.st = st;
    m.runs.less = run_less;
    m.loads.less = load_less;
    m.in = calloc((size_t)(n > 0 ? n : 1), sizeof *m.in);
    if (!m.in) {
        dt_err("out of memory");
        return DT_FAIL;
    }
    if (!(f && f->no_align) && dt_align_create(&m.align, files, n)) {
        free(m.in);
        return DT_FAIL;
    }
    if (m.tracking_runs) number_runs(&m, files);
    for (int i = 0; i < n; i++) {
        km_input *in = &m.in[i];
        in->d = (dt_input){files[i], (size_t)i, NULL, DASF_LAYOUT_EMPTY, SIZE_MAX};
        in->last_min = INT64_MIN;
        if (dt_open(files[i], &in->d.trace) != DT_OK) {
            m.status = DT_FAIL;
            in->eof = in->gone = true;
            continue;
        }
        dasf_trace_stats ts;
        dasf_trace_get_stats(in->d.trace, &ts);
        in->d.layout = ts.layout;
        queue_input(&m, in);
    }
    run(&m);
    /* What is left after a failure: chunks still queued, half-read ones. */
    for (size_t i = 0; i < m.runs.n; i++) chunk_free(&m, m.runs.v[i]);
    m.n_ent = 0;
    group_flush(&m);
    for (int i = 0; i < n; i++) {
        if (m.in[i].filling) chunk_free(&m, m.in[i].filling);
        dasf_trace_close(m.in[i].d.trace);
        dt_runs_free(&m.in[i].runs);
    }
    free(m.runs.v);
    free(m.loads.v);
    free(m.ent);
    free(m.sorted);
    free(m.pieces);
    free(m.in);
    dt_align_free(m.align);
    *write_failed = m.write_failed;
    return m.status;
}
