/*
 * perfetto.c — `dasf-trace export --perfetto`: a Perfetto native trace, a
 * stream of TracePackets (field numbers: Perfetto's public protos; the
 * subset used here is written out in tests/cli/perfetto_subset.proto, which
 * the tests decode the output with).  The wire bytes come from pb.h (why a
 * hand-written writer: see there).
 *
 * Mapping (docs/CLI.md, "export --perfetto", is the user's description):
 *   - each process (host + process_id) has a process track
 *     (TrackDescriptor + ProcessDescriptor) and each of its threads a
 *     thread track (ThreadDescriptor).  Each thread is its own packet
 *     sequence (trusted_packet_sequence_id) with its own interning, clocks
 *     and its track as TrackEventDefaults.track_uuid, so no sequence ever
 *     mixes processes or hosts, a thread's events need no track field and
 *     their timestamps (spans arrive in end order per thread) stay small
 *     deltas; the process's own sequence carries only its descriptor.  Names come from process_name
 * / thread_name M events (descriptors are re-emitted when a name arrives); string/nil/out-of-range
 * ids get synthetic pids/tids above 4194304 named after the original id text, as in the JSON
 * export.
 *   - X events and B/E pairs (tools/spans.c, the one pairing rule) are
 *     slices: TYPE_SLICE_BEGIN + TYPE_SLICE_END.  Slices must nest on a
 *     track, so each thread has lanes: lane 0 is the thread track, a span
 *     that would partially overlap a lane's spans (concurrent tasks on one
 *     thread) goes to the next lane, a child track of the thread track
 *     named "<thread> (2)", ...  A B never closed is a begin without an end
 *     (Perfetto shows it as not ended).
 *   - I: TYPE_INSTANT on the thread track (scope t), process track (p) or
 *     a global track (g).  R, N, O, D: instants on the thread track (N/O/D
 *     with their id as the "id" annotation).
 *   - C: one counter track per (process, name, arg key), named "name key",
 *     TYPE_COUNTER with counter_value (ints) or double_counter_value.
 *   - b/n/e: slices/instants on an async track per (process, cat, id),
 *     child of the process track.
 *   - s/t/f: instants on the thread track carrying flow_ids (s, t) or
 *     terminating_flow_ids (f); the flow id is a 64-bit hash of (cat, id),
 *     so flows join across processes.
 *   - args: debug annotations (ints, uints, doubles, bools, strings; maps
 *     and arrays as legacy_json_value).
 *   - names, categories and annotation names are interned per sequence
 *     (InternedData in the packet that first uses them, the sequence's
 *     incremental state, cleared and restarted past PF_MAX_INTERNED
 *     entries so memory stays bounded; iids are never reused).
 *   - timestamps: ns.  Each sequence starts with a ClockSnapshot defining
 *     clock 64 (incremental: each packet's timestamp is the delta from the
 *     previous one, 1-3 bytes) and clock 65 (absolute, offset by a base),
 *     both equal to BOOTTIME at the snapshot, i.e. the trace's own times.
 *     A packet whose time goes back (a slice's begin, written when the
 *     slice ends) uses clock 65 (TracePacket.timestamp_clock_id).
 *
 * Ordering: trace processor sorts events by timestamp and keeps file order
 * among equal timestamps.  Spans arrive when they end (children before
 * parents), so a parent that begins at the very same ns as an already
 * written child would sort after it; such a parent goes to another lane
 * instead of being drawn inside its child.
 *
 * Streaming, constant memory: per process and thread a few words, per lane
 * at most PF_MAX_ROOTS top-level spans (older ones collapse into one
 * range), bounded intern tables and track caches, and the packet buffer
 * (written every PF_CHUNK bytes, as one compressed_packets packet when
 * compressing; see perfetto_packets.c).
 * Single-threaded.
 *
 * Files: this one turns events into packets (slices, instants, counters,
 * async and flow events) and runs the export; perfetto_packets.c writes
 * packets, sequences and descriptors; perfetto_tracks.c keeps processes,
 * threads and lanes; perfetto_state.h holds the shared state.
 */
#include "perfetto.h"

#include "filter.h"
#include "ids.h"
#include "input.h"
#include "messages.h"
#include "outfile.h"
#include "perfetto_packets.h"
#include "perfetto_state.h"
#include "perfetto_tracks.h"
#include "spans.h"

#include <inttypes.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

    /* A saved B: its thread, category and encoded args (names inline, so the
     * bytes do not depend on interning state). */
    typedef struct pf_bsaved {
    size_t thread;
    size_t catlen;
    bool has_cat;
    size_t annlen;
    uint8_t data[]; /* cat bytes, then annotations */
} pf_bsaved;

/* A slice [s, e] (open: no end) on thread ti.  Begin with name, category
 * and either args (interned) or a saved B's annotation bytes; end with
 * end_args. */
static void emit_slice(pf_ctx *c, size_t ti, int64_t s, int64_t e, bool open, const char *name,
                       const char *cat, size_t catlen, const dasf_value *args, const uint8_t *ann,
                       size_t annlen, const dasf_value *end_args) {
    pf_thread *t = &c->thr[ti];
    pf_wseq *q = &t->w;
    if (e < s) e = s;
    uint64_t track = dt_pf_lane_for(c, t, s, open ? INT64_MAX : e);
    size_t m = dt_pf_pkt_begin(c, q, s);
    size_t te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, TYPE_SLICE_BEGIN);
    dt_pf_put_track(c, q, track);
    dt_pf_put_name_cat(c, q, name, cat, catlen);
    if (args) dt_pf_put_args(c, q, &c->pk, args);
    pb_raw(&c->pk, ann, annlen);
    pb_end(&c->pk, te);
    dt_pf_pkt_end(c, m);
    if (open) return;
    m = dt_pf_pkt_begin(c, q, e);
    te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, TYPE_SLICE_END);
    dt_pf_put_track(c, q, track);
    if (end_args) dt_pf_put_args(c, q, &c->pk, end_args);
    pb_end(&c->pk, te);
    dt_pf_pkt_end(c, m);
}

/* An instant (or async begin/end, flow step) on track. */
static void emit_simple(pf_ctx *c, pf_wseq *q, uint64_t track, int type, const dasf_trace_event *ev,
                        bool with_name, uint32_t flow_field, uint64_t flow) {
    size_t m = dt_pf_pkt_begin(c, q, ev->timestamp_ns);
    size_t te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, (uint64_t)type);
    dt_pf_put_track(c, q, track);
    if (with_name) dt_pf_put_name_cat(c, q, ev->name, ev->cat, ev->cat ? strlen(ev->cat) : 0);
    if (flow_field) pb_fixed64(&c->pk, flow_field, flow);
    dt_pf_put_args(c, q, &c->pk, &ev->args);
    if (ev->phase == DASF_PHASE_OBJECT_CREATED || ev->phase == DASF_PHASE_OBJECT_SNAPSHOT ||
        ev->phase == DASF_PHASE_OBJECT_DESTROYED) {
        char buf[DT_ID_TEXT_MAX];
        dasf_value idv = {.type = DASF_VAL_STR};
        idv.v.str.ptr = dt_id_text(&ev->id, buf, sizeof buf);
        idv.v.str.len = (uint32_t)strlen(buf);
        dt_pf_put_annotation(c, q, &c->pk, "id", 2, &idv);
        const char *what = ev->phase == DASF_PHASE_OBJECT_CREATED    ? "created"
                           : ev->phase == DASF_PHASE_OBJECT_SNAPSHOT ? "snapshot"
                                                                     : "destroyed";
        dasf_value wv = {.type = DASF_VAL_STR};
        wv.v.str.ptr = what;
        wv.v.str.len = (uint32_t)strlen(what);
        dt_pf_put_annotation(c, q, &c->pk, "object", 6, &wv);
    }
    pb_end(&c->pk, te);
    dt_pf_pkt_end(c, m);
}

/* Appends s (n bytes, cut to fit) and a tab to key[*len] (cap bytes). */
static void key_add(char *key, size_t cap, size_t *len, const void *s, size_t n) {
    if (*len + n + 1 > cap) n = cap - 1 - *len;
    memcpy(key + *len, s, n);
    *len += n;
    key[(*len)++] = '\t';
}

/* "tag\t[seq\t]cat\tid\t" -> a track or flow key (seq SIZE_MAX: none). */
static size_t id_key(char *key, size_t cap, char tag, size_t si, const dasf_trace_event *ev) {
    char idb[DT_ID_TEXT_MAX];
    size_t len = 0;
    key_add(key, cap, &len, &tag, 1);
    if (si != SIZE_MAX) key_add(key, cap, &len, &si, sizeof si);
    key_add(key, cap, &len, ev->cat ? ev->cat : "", ev->cat ? strlen(ev->cat) : 0);
    dt_id_text(&ev->id, idb, sizeof idb);
    key_add(key, cap, &len, idb, strlen(idb));
    return len;
}

static void emit_counter(pf_ctx *c, pf_wseq *w, pf_seq *q, size_t si, const dasf_trace_event *ev) {
    if (ev->args.type != DASF_VAL_MAP) return;
    const char *name = ev->name ? ev->name : "";
    char buf[DT_ID_TEXT_MAX];
    for (uint32_t i = 0; i < ev->args.v.map.n; i++) {
        const dasf_kv *kv = &ev->args.v.map.items[i];
        const dasf_value *v = &kv->val;
        if (v->type != DASF_VAL_INT && v->type != DASF_VAL_UINT && v->type != DASF_VAL_FLOAT &&
            v->type != DASF_VAL_BOOL) {
            c->counter_skipped++;
            continue;
        }
        size_t klen;
        const char *k = dt_pf_key_text(&kv->key, buf, &klen);
        char key[3 * DT_ID_TEXT_MAX];
        size_t kn = 0;
        key_add(key, sizeof key, &kn, "c", 1);
        key_add(key, sizeof key, &kn, &si, sizeof si);
        key_add(key, sizeof key, &kn, name, strlen(name));
        key_add(key, sizeof key, &kn, k, klen);
        uint64_t uuid = dt_pf_hashed_uuid(key, kn);
        if (dt_pf_first_sight(c, uuid)) {
            char tname[2 * DT_ID_TEXT_MAX];
            int tn =
                snprintf(tname, sizeof tname, "%s%s%.*s", name, *name ? " " : "", (int)klen, k);
            dt_pf_announce_track(c, w->id, uuid, q->uuid, tname,
                                 (size_t)tn < sizeof tname ? (size_t)tn : sizeof tname - 1, true);
        }
        size_t m = dt_pf_pkt_begin(c, w, ev->timestamp_ns);
        size_t te = pb_begin(&c->pk, F_TRACK_EVENT);
        pb_u64(&c->pk, F_TE_TYPE, TYPE_COUNTER);
        pb_u64(&c->pk, F_TE_TRACK, uuid);
        if (v->type == DASF_VAL_FLOAT)
            pb_double(&c->pk, F_TE_DOUBLE_COUNTER, v->v.f);
        else if (v->type == DASF_VAL_UINT && v->v.u > INT64_MAX)
            pb_double(&c->pk, F_TE_DOUBLE_COUNTER, (double)v->v.u);
        else
            pb_i64(&c->pk, F_TE_COUNTER,
                   v->type == DASF_VAL_INT    ? v->v.i
                   : v->type == DASF_VAL_UINT ? (int64_t)v->v.u
                                              : (int64_t)v->v.b);
        pb_end(&c->pk, te);
        dt_pf_pkt_end(c, m);
    }
}

static void on_metadata(pf_ctx *c, size_t si, size_t ti, const dasf_trace_event *ev) {
    const dasf_value *nm = dasf_value_map_get(&ev->args, "name");
    bool proc = ev->name && !strcmp(ev->name, "process_name");
    bool thread = ev->name && !strcmp(ev->name, "thread_name");
    if ((!proc && !thread) || !nm || nm->type != DASF_VAL_STR) {
        c->meta_other++;
        return;
    }
    char *label = malloc(nm->v.str.len + 1);
    if (!label) {
        c->pk.oom = true;
        return;
    }
    memcpy(label, nm->v.str.ptr, nm->v.str.len);
    label[nm->v.str.len] = 0;
    if (proc) {
        pf_seq *q = &c->seqs[si];
        free(q->label);
        q->label = label;
        q->show_label = true;
        dt_pf_announce_process(c, q);
    } else {
        pf_thread *t = &c->thr[ti];
        free(t->label);
        t->label = label;
        t->show_label = true;
        dt_pf_announce_thread(c, t);
    }
}

static int on_b_or_e(pf_ctx *c, const dt_input *in, size_t ti, const dasf_trace_event *ev) {
    dt_span sp;
    int r = dt_spans_event(c->spans, in, ev, &sp);
    if (r < 0) return -1;
    if (r == DT_SPAN_OPEN) {
        if (c->filtering &&
            !(dt_filter_match_span(&c->after, ev->name) && dt_filter_match(&c->window, ev))) {
            dt_spans_set_user(c->spans, 0); /* filtered out: pair it, write nothing */
            return 0;
        }
        dt_window_hit(&c->window);
        c->blob.len = 0;
        dt_pf_put_args(c, NULL, &c->blob, &ev->args);
        size_t catlen = ev->cat ? strlen(ev->cat) : 0;
        pf_bsaved *b = malloc(sizeof *b + catlen + c->blob.len);
        if (!b || c->blob.oom) {
            free(b);
            return -1;
        }
        b->thread = ti;
        b->has_cat = ev->cat != NULL;
        b->catlen = catlen;
        b->annlen = c->blob.len;
        if (catlen) memcpy(b->data, ev->cat, catlen);
        if (b->annlen) memcpy(b->data + catlen, c->blob.p, b->annlen);
        dt_spans_set_user(c->spans, (uint64_t)(uintptr_t)b);
    } else if (r == DT_SPAN_CLOSE) {
        pf_bsaved *b = (pf_bsaved *)(uintptr_t)sp.user;
        if (!b) return 0;
        emit_slice(c, b->thread, sp.start_ns, sp.end_ns, false, sp.name,
                   b->has_cat ? (const char *)b->data : NULL, b->catlen, NULL, b->data + b->catlen,
                   b->annlen, &ev->args);
        free(b);
    }
    return 0;
}

static int on_open_span(void *vctx, const dt_span *sp) {
    pf_ctx *c = vctx;
    pf_bsaved *b = (pf_bsaved *)(uintptr_t)sp->user;
    if (!b) return 0;
    emit_slice(c, b->thread, sp->start_ns, sp->start_ns, true, sp->name,
               b->has_cat ? (const char *)b->data : NULL, b->catlen, NULL, b->data + b->catlen,
               b->annlen, NULL);
    free(b);
    return c->pk.oom ? DT_FAIL : 0;
}

/* I: on the thread track (scope t), the process track (p) or the one
 * global track (g, announced at its first use). */
static void emit_instant(pf_ctx *c, pf_seq *q, pf_thread *t, const dasf_trace_event *ev) {
    uint64_t track = t->uuid;
    if (ev->scope == DASF_SCOPE_PROCESS) {
        track = q->uuid;
    } else if (ev->scope == DASF_SCOPE_GLOBAL) {
        if (!c->global_uuid) {
            c->global_uuid = ++c->next_uuid;
            dt_pf_announce_track(c, t->w.id, c->global_uuid, 0, "Global instants", 15, false);
        }
        track = c->global_uuid;
    }
    emit_simple(c, &t->w, track, TYPE_INSTANT, ev, true, 0, 0);
}

/* b/n/e: slices and instants on the async track of (process, cat, id). */
static void emit_async(pf_ctx *c, pf_wseq *w, pf_seq *q, size_t si, const dasf_trace_event *ev) {
    char key[3 * DT_ID_TEXT_MAX];
    size_t kn = id_key(key, sizeof key, 'a', si, ev);
    uint64_t uuid = dt_pf_hashed_uuid(key, kn);
    const char *nm = ev->name ? ev->name : "";
    if (dt_pf_first_sight(c, uuid))
        dt_pf_announce_track(c, w->id, uuid, q->uuid, nm, strlen(nm), false);
    int type = ev->phase == DASF_PHASE_ASYNC_BEGIN ? TYPE_SLICE_BEGIN
               : ev->phase == DASF_PHASE_ASYNC_END ? TYPE_SLICE_END
                                                   : TYPE_INSTANT;
    /* an async end closes the innermost open slice of its track, as
     * nestable async events do in the Trace Event Format */
    emit_simple(c, w, uuid, type, ev, type != TYPE_SLICE_END, 0, 0);
}

/* s/t/f: instants on the thread track carrying the flow's id. */
static void emit_flow(pf_ctx *c, pf_wseq *w, pf_thread *t, const dasf_trace_event *ev) {
    char key[3 * DT_ID_TEXT_MAX];
    /* flow ids are trace-global: the key leaves the process out */
    uint64_t flow = dt_hash(key, id_key(key, sizeof key, 'f', SIZE_MAX, ev)) | 1;
    emit_simple(c, w, t->uuid, TYPE_INSTANT, ev, true,
                ev->phase == DASF_PHASE_FLOW_END ? F_TE_TERMINATING_FLOW_IDS : F_TE_FLOW_IDS, flow);
}

/* The packets of one event of thread ti (process si); -1 out of memory. */
static int emit_event(pf_ctx *c, const dt_input *in, size_t si, size_t ti,
                      const dasf_trace_event *ev) {
    pf_seq *q = &c->seqs[si];
    pf_thread *t = &c->thr[ti];
    pf_wseq *w = &t->w; /* events go on their thread's sequence */
    switch (ev->phase) {
    case DASF_PHASE_COMPLETE:
        emit_slice(c, ti, ev->timestamp_ns,
                   ev->timestamp_ns + (ev->duration_ns > 0 ? ev->duration_ns : 0), false, ev->name,
                   ev->cat, ev->cat ? strlen(ev->cat) : 0, &ev->args, NULL, 0, NULL);
        break;
    case DASF_PHASE_DURATION_BEGIN:
    case DASF_PHASE_DURATION_END:
        if (dt_filter_wants_pairs(&c->after) && on_b_or_e(c, in, ti, ev)) return -1;
        break;
    case DASF_PHASE_INSTANT: emit_instant(c, q, t, ev); break;
    case DASF_PHASE_MARK:
    case DASF_PHASE_OBJECT_CREATED:
    case DASF_PHASE_OBJECT_SNAPSHOT:
    case DASF_PHASE_OBJECT_DESTROYED:
        emit_simple(c, w, t->uuid, TYPE_INSTANT, ev, true, 0, 0);
        break;
    case DASF_PHASE_COUNTER: emit_counter(c, w, q, si, ev); break;
    case DASF_PHASE_ASYNC_BEGIN:
    case DASF_PHASE_ASYNC_INSTANT:
    case DASF_PHASE_ASYNC_END: emit_async(c, w, q, si, ev); break;
    case DASF_PHASE_FLOW_BEGIN:
    case DASF_PHASE_FLOW_STEP:
    case DASF_PHASE_FLOW_END: emit_flow(c, w, t, ev); break;
    case DASF_PHASE_METADATA: on_metadata(c, si, ti, ev); break;
    default: c->meta_other++; break;
    }
    return 0;
}

static int pf_visit(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    pf_ctx *c = vctx;
    c->events++;
    dt_pf_update_host(c, in, ev);
    size_t si, ti;
    if (ev->phase == DASF_PHASE_METADATA && ev->name && !strcmp(ev->name, "process_name")) {
        si = dt_pf_seq_of(c, ev);
        if (si == SIZE_MAX) return dt_oom();
        on_metadata(c, si, 0, ev);
    } else {
        bool paired =
            ev->phase == DASF_PHASE_DURATION_BEGIN || ev->phase == DASF_PHASE_DURATION_END;
        if (c->filtering && !paired && ev->phase != DASF_PHASE_METADATA &&
            !(dt_filter_match(&c->after, ev) && dt_filter_match(&c->window, ev)))
            return 0;
        if (!paired && ev->phase != DASF_PHASE_METADATA) dt_window_hit(&c->window);
        if (dt_pf_lookup(c, in, ev, &si, &ti) || emit_event(c, in, si, ti, ev)) return dt_oom();
    }
    if (c->pk.oom || c->idata.oom) return dt_oom();
    if (c->pk.len >= PF_CHUNK && dt_pf_flush(c)) return dt_oom();
    if (c->out.failed) return DT_FAIL; /* reported at close */
    return 0;
}

static void pf_free(pf_ctx *c) {
    for (size_t i = 0; i < c->n_seqs; i++)
        free(c->seqs[i].label);
    for (size_t i = 0; i < c->n_thr; i++) {
        dt_strmap_free(&c->thr[i].w.names);
        dt_strmap_free(&c->thr[i].w.cats);
        dt_strmap_free(&c->thr[i].w.anames);
        free(c->thr[i].label);
        for (size_t l = 0; l < c->thr[i].n_lanes; l++)
            free(c->thr[i].lanes[l].roots);
        free(c->thr[i].lanes);
    }
    free(c->seqs);
    free(c->thr);
    dt_strmap_free(&c->seq_keys);
    dt_strmap_free(&c->thr_keys);
    dt_strmap_free(&c->pids_used);
    dt_strmap_free(&c->tids_used);
    dt_strmap_free(&c->announced);
    pb_free(&c->pk);
    pb_free(&c->idata);
    pb_free(&c->blob);
    free(c->z);
    libdeflate_free_compressor(c->deflater);
    dt_spans_free(c->spans);
}

int dt_perfetto_export(const char *out, char *const *files, int n, const dt_filter *f,
                       const dt_perfetto_opts *o) {
    pf_ctx c;
    memset(&c, 0, sizeof c);
    c.compress = o->compress;
    c.next_synth = DT_SYNTH_ID_BASE;
    c.spans = dt_spans_new();
    if (!c.spans) return dt_oom();
    if (dt_outfile_open(&c.out, out, 6)) {
        pf_free(&c);
        return DT_FAIL;
    }
    dt_filter none = {0}, before;
    dt_filter_split(f ? f : &none, &before, &c.after);
    if (f) {
        c.window.has_from = f->has_from, c.window.has_to = f->has_to;
        c.window.from_ns = f->from_ns, c.window.to_ns = f->to_ns;
        c.window.win = f->win; /* counts what the window kept (dt_window_report) */
    }
    c.filtering = dt_filter_active(&c.after) || dt_filter_active(&c.window);
    int st = dt_each_event(files, n, &before, pf_visit, NULL, &c);
    if (st != DT_USAGE && !c.pk.oom) {
        int rc = dt_spans_finish(c.spans, on_open_span, &c);
        if (rc) st = rc;
    }
    if (c.pk.oom || c.idata.oom || dt_pf_flush(&c)) {
        dt_err("out of memory");
        dt_outfile_abort(&c.out); /* never leave a trace with holes */
        st = DT_FAIL;
    } else if (dt_outfile_close(&c.out)) {
        st = DT_FAIL;
    }
    char prefix[256];
    snprintf(prefix, sizeof prefix, "dasf-trace export: %s: ", out);
    dt_spans_report(c.spans, stderr, prefix);
    if (c.meta_other)
        dt_err("%s: %" PRIu64 " metadata event(s) other than process_name/thread_name have no "
               "Perfetto track equivalent and were left out (--chrome keeps them)",
               out, c.meta_other);
    if (c.counter_skipped)
        dt_err("%s: %" PRIu64 " non-numeric counter value(s) left out", out, c.counter_skipped);
    if (c.lane_overflow)
        dt_err("%s: %" PRIu64 " span(s) overlapped on a thread with %d lanes already; they share "
               "the last lane and may show misnested",
               out, c.lane_overflow, PF_MAX_LANES);
    if (c.clamped)
        dt_err("%s: %" PRIu64 " event(s) before time 0 were placed at 0", out, c.clamped);
    pf_free(&c);
    return st;
}
