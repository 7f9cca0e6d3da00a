/*
 * kmerge_read.c — the reading side of the k-way merge (kmerge.h, "Inputs"):
 * an input's next chunk is read, its events passed through the shared steps
 * (runs, alignment, filters), its timed events sorted by aligned start and
 * queued as a run; its metadata events join the group being built.
 * Single-threaded.
 */
#include "kmerge_read.h"

#include "array.h"
#include "input.h"
#include "kmerge_group.h"
#include "messages.h"

#include <stdlib.h>

#define LEGACY_CHUNK 4096 /* legacy records taken together (they have no chunks) */

bool km_can_load(const km *m, const km_input *in) {
    return !in->eof && (in->active_chunks < 2 || in->unwritten < m->window);
}

void km_queue_input(km *m, km_input *in) {
    if (in->queued || !km_can_load(m, in)) return;
    if (km_heap_push(&m->loads, in)) {
        km_no_memory(m);
        return;
    }
    in->queued = true;
}

static km_chunk *chunk_new(km *m, km_input *in) {
    km_chunk *c = calloc(1, sizeof *c);
    if (!c) {
        km_no_memory(m);
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
        km_no_memory(m);
        return -1;
    }
    if (ev->phase != DASF_PHASE_METADATA) {
        if (dt_grow((void **)&c->ord, &c->cap_ord, c->n_ord, sizeof *c->ord)) {
            km_no_memory(m);
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

/* Reads in's next chunk: sorts it, queues it as a run, hands its metadata
 * events to the group. */
int km_load_chunk(km *m, km_input *in) {
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
        if (km_group_add(m, c, (uint32_t)i, true, INT64_MIN)) return -1;
    }
    if (c->n_ord) {
        in->active_chunks++;
        in->unwritten += c->n_ord;
        if (c->ord[0].key > in->last_min) in->last_min = c->ord[0].key;
        if (km_heap_push(&m->runs, c)) {
            km_no_memory(m);
            return -1;
        }
    } else if (meta) {
        km_pin(m, c);
    } else {
        km_chunk_free(m, c);
    }
    return 0;
}
