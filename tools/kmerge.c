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
 *
 * The parts: this file (the heaps' orders, writing the smallest event, the
 * driver, --run numbering), kmerge_read.c (loading an input's next chunk),
 * kmerge_group.c (the output group), kmerge_heap.h, kmerge_state.h (the
 * state they share).
 */
#include "kmerge.h"

#include "input.h"
#include "kmerge_group.h"
#include "kmerge_read.h"
#include "kmerge_state.h"
#include "messages.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
    if (km_group_add(m, c, o->idx, false, o->key)) return -1;
    in->unwritten--;
    if (c->pos < c->n_ord) {
        km_heap_sift_top(&m->runs);
    } else {
        km_heap_pop(&m->runs);
        in->active_chunks--;
        km_pin(m, c);
    }
    km_queue_input(m, in); /* room again under its window */
    /* A group ends at DT_KMERGE_GROUP events, or sooner once the emptied
     * chunks it pins hold that many decoded events. */
    if (m->n_ent >= DT_KMERGE_GROUP || m->pinned_events >= DT_KMERGE_GROUP) return km_group_flush(m);
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
            km_heap_pop(&m->loads);
            in->queued = false;
            if (!km_can_load(m, in)) continue; /* queued again when it has room */
            if (km_load_chunk(m, in)) return -1;
            km_queue_input(m, in);
        }
        if (m->oom || m->write_failed) return -1;
        if (!m->runs.n) return km_group_flush(m);
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
        km_queue_input(&m, in);
    }
    run(&m);
    /* What is left after a failure: chunks still queued, half-read ones. */
    for (size_t i = 0; i < m.runs.n; i++) km_chunk_free(&m, m.runs.v[i]);
    m.n_ent = 0;
    km_group_flush(&m);
    for (int i = 0; i < n; i++) {
        if (m.in[i].filling) km_chunk_free(&m, m.in[i].filling);
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
