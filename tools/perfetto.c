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
 *     deltas; the process's own sequence carries only its descriptor.  Names come from process_name /
 *     thread_name M events (descriptors are re-emitted when a name
 *     arrives); string/nil/out-of-range ids get synthetic pids/tids above
 *     4194304 named after the original id text, as in the JSON export.
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
 * compressing: deflate in the zlib format, which trace processor inflates,
 * made by libdeflate: whole-buffer compression is exactly this use, and at
 * level 1 it runs about 3x faster than zlib's deflate, which was most of the
 * export's time).
 * Single-threaded.
 */
#include "perfetto.h"

#include "array.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "json.h"
#include "messages.h"
#include "outfile.h"
#include "pb.h"
#include "spans.h"
#include "strmap.h"

#include <errno.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- field numbers (protos/perfetto/trace/, see the .proto subset) ---- */
enum {
    F_TRACE_PACKET = 1,
    /* TracePacket */
    F_TIMESTAMP = 8,
    F_TIMESTAMP_CLOCK_ID = 58,
    F_CLOCK_SNAPSHOT = 6,
    F_TRACK_EVENT = 11,
    F_TRACK_DESCRIPTOR = 60,
    F_SEQUENCE_ID = 10,
    F_INTERNED_DATA = 12,
    F_SEQUENCE_FLAGS = 13,
    F_PACKET_DEFAULTS = 59,
    F_COMPRESSED_PACKETS = 50,
    /* TracePacketDefaults, TrackEventDefaults */
    F_DEFAULTS_CLOCK_ID = 58,
    F_DEFAULTS_TRACK_EVENT = 11,
    F_TED_TRACK = 11,
    /* ClockSnapshot / Clock */
    F_CLOCKS = 1,
    F_CLOCK_ID = 1,
    F_CLOCK_TIMESTAMP = 2,
    F_CLOCK_INCREMENTAL = 3,
    /* TrackDescriptor */
    F_TD_UUID = 1,
    F_TD_NAME = 2,
    F_TD_PROCESS = 3,
    F_TD_THREAD = 4,
    F_TD_PARENT = 5,
    F_TD_COUNTER = 8,
    /* ProcessDescriptor / ThreadDescriptor */
    F_PD_PID = 1,
    F_PD_NAME = 6,
    F_THD_PID = 1,
    F_THD_TID = 2,
    F_THD_NAME = 5,
    /* TrackEvent */
    F_TE_CATEGORY_IIDS = 3,
    F_TE_ANNOTATIONS = 4,
    F_TE_TYPE = 9,
    F_TE_NAME_IID = 10,
    F_TE_TRACK = 11,
    F_TE_COUNTER = 30,
    F_TE_DOUBLE_COUNTER = 44,
    F_TE_FLOW_IDS = 47,
    F_TE_TERMINATING_FLOW_IDS = 48,
    /* DebugAnnotation */
    F_DA_NAME_IID = 1,
    F_DA_BOOL = 2,
    F_DA_UINT = 3,
    F_DA_INT = 4,
    F_DA_DOUBLE = 5,
    F_DA_STRING = 6,
    F_DA_JSON = 9,
    F_DA_NAME = 10,
    /* InternedData and its entries */
    F_ID_CATEGORIES = 1,
    F_ID_NAMES = 2,
    F_ID_ANNOTATION_NAMES = 3,
    F_IE_IID = 1,
    F_IE_NAME = 2,
};
enum { TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3, TYPE_COUNTER = 4 };
enum { SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2 };

#define CLOCK_BOOTTIME 6
#define CLOCK_INC 64 /* sequence-scoped, delta-encoded */
#define CLOCK_ABS 65 /* sequence-scoped, absolute from base_abs */
#define ABS_MARGIN (1ll << 36) /* clock 65 starts ~69 s before the first event */

#define PF_MAX_INTERNED 65536 /* per sequence, then its incremental state restarts */
#define PF_MAX_ROOTS 1024     /* remembered top-level spans per lane */
#define PF_MAX_LANES 1024     /* per thread; more share the last one */
#define PF_MAX_ANNOUNCED 65536
#define PF_CHUNK (256u << 10) /* packets per write / per compressed_packets */

#define SYNTH_BASE 4194305 /* as cmd_export.c: above every Linux pid/tid */
#define REAL_ID_MAX 4194304

typedef struct pf_iv {
    int64_t s, e;
} pf_iv;

/* One track of a thread on which slices nest; roots are its top-level
 * spans so far, disjoint and in time order. */
typedef struct pf_lane {
    uint64_t uuid;
    pf_iv *roots;
    size_t n, cap;
    bool lost; /* roots [lost_first .. lost_end] were forgotten */
    int64_t lost_first, lost_end;
} pf_lane;

/* A packet sequence: its interning tables and clocks (incremental state). */
typedef struct pf_wseq {
    uint32_t id;
    bool started;
    int64_t last_inc, base_abs;
    uint64_t default_track; /* TrackEventDefaults.track_uuid; 0: none */
    dt_strmap names, cats, anames; /* string -> iid */
    uint64_t next_name, next_cat, next_aname;
    size_t n_interned;
} pf_wseq;

typedef struct pf_thread {
    pf_wseq w; /* the thread's own sequence */
    size_t seq;
    int32_t tid;
    uint64_t uuid;
    char *label; /* thread name (M event) or the id text */
    bool show_label;
    pf_lane *lanes;
    size_t n_lanes, cap_lanes;
} pf_thread;

/* A process: its track; its sequence carries only its descriptors. */
typedef struct pf_seq {
    pf_wseq w;
    int32_t pid;
    uint64_t uuid;
    char *label;
    bool show_label;
} pf_seq;

typedef struct pf_ctx {
    const dt_perfetto_opts *o;
    dt_outfile out;
    pb_buf pk;    /* whole packets not written yet */
    pb_buf idata; /* InternedData entries of the packet being built */
    pb_buf blob;  /* scratch for a B's args */
    uint8_t *z;
    size_t zcap;
    struct libdeflate_compressor *deflater;
    pf_seq *seqs;
    size_t n_seqs, cap_seqs;
    pf_thread *thr;
    size_t n_thr, cap_thr;
    dt_strmap seq_keys, thr_keys, pids_used, tids_used, announced;
    uint64_t next_uuid;
    uint32_t next_seq_id;
    int64_t next_synth;
    uint64_t global_uuid;
    dt_spans *spans;
    dt_filter after;  /* --name/--phase, applied after pairing (spans.h) */
    dt_filter window; /* --from/--to */
    bool filtering;
    /* the input being read */
    size_t file;
    uint64_t chunk;
    bool have_chunk;
    char host[64];
    uint64_t host_gen;
    /* last (process, thread) looked up, for the common all-int case */
    bool cache_ok;
    size_t cache_file;
    uint64_t cache_gen;
    int64_t cache_pid, cache_tid;
    size_t cache_seq, cache_thr;
    /* what could not be shown as is */
    uint64_t events, meta_other, counter_skipped, lane_overflow, clamped;
} pf_ctx;

/* ---- output ---------------------------------------------------------------- */

static int flush_packets(pf_ctx *c) {
    if (!c->pk.len || c->pk.oom) return c->pk.oom ? -1 : 0;
    if (!c->o->compress) {
        dt_outfile_write(&c->out, c->pk.p, c->pk.len);
        c->pk.len = 0;
        return 0;
    }
    if (!c->deflater && !(c->deflater = libdeflate_alloc_compressor(1))) return -1;
    size_t bound = libdeflate_zlib_compress_bound(c->deflater, c->pk.len);
    if (bound > c->zcap) {
        uint8_t *q = realloc(c->z, bound);
        if (!q) return -1;
        c->z = q;
        c->zcap = bound;
    }
    /* zlib format (what trace processor inflates), level 1: the packets are
     * repetitive, and higher levels cost the rate */
    size_t zlen = libdeflate_zlib_compress(c->deflater, c->pk.p, c->pk.len, c->z, c->zcap);
    if (!zlen) return -1;
    /* Trace.packet { compressed_packets: bytes }, the header in front */
    uint8_t hb[32];
    size_t hl = 0;
    size_t inner = 2 + pb_varint_size(zlen) + zlen; /* field 50's tag is 2 bytes */
    uint64_t parts[4] = {(uint64_t)F_TRACE_PACKET << 3 | PB_LEN, inner,
                         (uint64_t)F_COMPRESSED_PACKETS << 3 | PB_LEN, zlen};
    for (int i = 0; i < 4; i++) {
        uint64_t v = parts[i];
        while (v >= 0x80) {
            hb[hl++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        hb[hl++] = (uint8_t)v;
    }
    dt_outfile_write(&c->out, hb, hl);
    dt_outfile_write(&c->out, c->z, zlen);
    c->pk.len = 0;
    return 0;
}

/* ---- sequences, interning, timestamps -------------------------------------- */

static void put_clock(pb_buf *b, uint32_t id, uint64_t ts, bool incremental) {
    size_t m = pb_begin(b, F_CLOCKS);
    pb_u64(b, F_CLOCK_ID, id);
    pb_u64(b, F_CLOCK_TIMESTAMP, ts);
    if (incremental) pb_u64(b, F_CLOCK_INCREMENTAL, 1);
    pb_end(b, m);
}

/* Starts (or restarts) the sequence's incremental state at time t: packet
 * defaults (clock 64) and the clock snapshot. */
static void seq_restart(pf_ctx *c, pf_wseq *q, int64_t t) {
    if (t < 0) t = 0;
    if (!q->started) {
        q->base_abs = t > ABS_MARGIN ? t - ABS_MARGIN : 0;
        q->started = true;
    }
    dt_strmap_free(&q->names);
    dt_strmap_free(&q->cats);
    dt_strmap_free(&q->anames);
    q->n_interned = 0;
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, q->id);
    pb_u64(b, F_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
    size_t d = pb_begin(b, F_PACKET_DEFAULTS);
    pb_u64(b, F_DEFAULTS_CLOCK_ID, CLOCK_INC);
    if (q->default_track) {
        size_t ted = pb_begin(b, F_DEFAULTS_TRACK_EVENT);
        pb_u64(b, F_TED_TRACK, q->default_track);
        pb_end(b, ted);
    }
    pb_end(b, d);
    size_t cs = pb_begin(b, F_CLOCK_SNAPSHOT);
    put_clock(b, CLOCK_INC, (uint64_t)t, true);
    put_clock(b, CLOCK_ABS, (uint64_t)(t - q->base_abs), false);
    put_clock(b, CLOCK_BOOTTIME, (uint64_t)t, false);
    pb_end(b, cs);
    pb_end(b, m);
    q->last_inc = t;
}

static void put_ts(pf_ctx *c, pf_wseq *q, int64_t ts) {
    if (ts < 0) {
        ts = 0;
        c->clamped++;
    }
    if (ts >= q->last_inc) {
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)(ts - q->last_inc));
        q->last_inc = ts;
    } else if (ts >= q->base_abs) {
        pb_u64(&c->pk, F_TIMESTAMP_CLOCK_ID, CLOCK_ABS);
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)(ts - q->base_abs));
    } else {
        pb_u64(&c->pk, F_TIMESTAMP_CLOCK_ID, CLOCK_BOOTTIME);
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)ts);
    }
}

static uint64_t intern(pf_ctx *c, pf_wseq *q, dt_strmap *m, uint64_t *next, uint32_t field,
                       const char *s, size_t n) {
    bool created;
    dt_strent *e = dt_strmap_get(m, s, n, &created);
    if (!e) {
        c->pk.oom = true;
        return 0;
    }
    if (created) {
        e->val = (size_t)++*next; /* iid 0 means unset */
        q->n_interned++;
        size_t mk = pb_begin(&c->idata, field);
        pb_u64(&c->idata, F_IE_IID, e->val);
        pb_bytes(&c->idata, F_IE_NAME, s, n);
        pb_end(&c->idata, mk);
    }
    return e->val;
}

/* An event packet on sequence q at ts; returns the packet's mark. */
static size_t pkt_begin(pf_ctx *c, pf_wseq *q, int64_t ts) {
    if (!q->started) /* clocks start at the first timed event (M events carry 0) */
        seq_restart(c, q, ts);
    else if (q->n_interned >= PF_MAX_INTERNED)
        seq_restart(c, q, q->last_inc);
    size_t m = pb_begin(&c->pk, F_TRACE_PACKET);
    pb_u64(&c->pk, F_SEQUENCE_ID, q->id);
    pb_u64(&c->pk, F_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
    put_ts(c, q, ts);
    c->idata.len = 0;
    return m;
}

static void pkt_end(pf_ctx *c, size_t m) {
    if (c->idata.len) pb_bytes(&c->pk, F_INTERNED_DATA, c->idata.p, c->idata.len);
    pb_end(&c->pk, m);
}

/* ---- descriptors ------------------------------------------------------------ */

static void announce_process(pf_ctx *c, pf_seq *q) {
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, q->w.id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, q->uuid);
    size_t pd = pb_begin(b, F_TD_PROCESS);
    pb_i64(b, F_PD_PID, q->pid);
    if (q->show_label) pb_bytes(b, F_PD_NAME, q->label, strlen(q->label));
    pb_end(b, pd);
    pb_end(b, td);
    pb_end(b, m);
}

static void announce_thread(pf_ctx *c, pf_thread *t) {
    pf_seq *q = &c->seqs[t->seq];
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, t->w.id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, t->uuid);
    pb_u64(b, F_TD_PARENT, q->uuid);
    size_t thd = pb_begin(b, F_TD_THREAD);
    pb_i64(b, F_THD_PID, q->pid);
    pb_i64(b, F_THD_TID, t->tid);
    if (t->show_label) pb_bytes(b, F_THD_NAME, t->label, strlen(t->label));
    pb_end(b, thd);
    pb_end(b, td);
    pb_end(b, m);
}

/* A named track (lane, async, counter, global) with an optional parent. */
static void announce_track(pf_ctx *c, uint32_t seq_id, uint64_t uuid, uint64_t parent,
                           const char *name, size_t nlen, bool counter) {
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, seq_id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, uuid);
    if (parent) pb_u64(b, F_TD_PARENT, parent);
    pb_bytes(b, F_TD_NAME, name, nlen);
    if (counter) {
        size_t cd = pb_begin(b, F_TD_COUNTER);
        pb_end(b, cd);
    }
    pb_end(b, td);
    pb_end(b, m);
}

/* True the first time a hashed track is seen, so the caller announces it
 * (again after the cache is emptied: a repeated identical descriptor is
 * harmless). */
static bool first_sight(pf_ctx *c, uint64_t uuid) {
    if (c->announced.len >= PF_MAX_ANNOUNCED) dt_strmap_free(&c->announced);
    bool created;
    dt_strent *e = dt_strmap_get(&c->announced, (const char *)&uuid, sizeof uuid, &created);
    if (!e) {
        c->pk.oom = true;
        return false;
    }
    return created;
}

/* A stable uuid for a track named by key (above the sequential ones). */
static uint64_t hashed_uuid(const char *key, size_t n) {
    return dt_hash(key, n) | (1ull << 62);
}

/* ---- processes and threads -------------------------------------------------- */

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static bool small_id(const dasf_value *v, int64_t *out) {
    if (v->type == DASF_VAL_INT && v->v.i >= 0 && v->v.i <= REAL_ID_MAX) {
        *out = v->v.i;
        return true;
    }
    if (v->type == DASF_VAL_UINT && v->v.u <= REAL_ID_MAX) {
        *out = (int64_t)v->v.u;
        return true;
    }
    return false;
}

/* The output id for v: the real one when free in used, else synthetic. */
static int pick_id(pf_ctx *c, dt_strmap *used, const dasf_value *v, int32_t *out, bool *synth) {
    int64_t real;
    *synth = true;
    if (small_id(v, &real)) {
        char k[24];
        int n = snprintf(k, sizeof k, "%" PRId64, real);
        bool created;
        if (!dt_strmap_get(used, k, (size_t)n, &created)) return -1;
        if (created) {
            *out = (int32_t)real;
            *synth = false;
            return 0;
        }
    }
    *out = (int32_t)c->next_synth++;
    return 0;
}

static void update_host(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev) {
    if (c->have_chunk && c->file == in->index && c->chunk == ev->chunk_index) return;
    char host[64] = "";
    dasf_chunk_info ci;
    if (in->layout == DASF_LAYOUT_ARCHIVE && dasf_trace_chunk(in->trace, &ci) == 0)
        snprintf(host, sizeof host, "%s", ci.host);
    if (!c->have_chunk || c->file != in->index || strcmp(host, c->host)) {
        memcpy(c->host, host, sizeof host);
        c->host_gen++;
    }
    c->have_chunk = true;
    c->file = in->index;
    c->chunk = ev->chunk_index;
}

/* The sequence of the event's process; SIZE_MAX when out of memory. */
static size_t seq_of(pf_ctx *c, const dasf_trace_event *ev) {
    char key[64 + DT_ID_TEXT_MAX + 2];
    size_t hl = strlen(c->host);
    memcpy(key, c->host, hl);
    key[hl] = '\t';
    dt_id_text(&ev->process_id, key + hl + 1, DT_ID_TEXT_MAX);
    size_t klen = hl + 1 + strlen(key + hl + 1);
    bool created;
    dt_strent *e = dt_strmap_get(&c->seq_keys, key, klen, &created);
    if (!e) return SIZE_MAX;
    if (!created) return e->val;
    if (dt_grow((void **)&c->seqs, &c->cap_seqs, c->n_seqs, sizeof *c->seqs)) return SIZE_MAX;
    pf_seq *q = &c->seqs[c->n_seqs];
    memset(q, 0, sizeof *q);
    q->w.id = ++c->next_seq_id;
    q->uuid = ++c->next_uuid;
    bool synth;
    if (pick_id(c, &c->pids_used, &ev->process_id, &q->pid, &synth)) return SIZE_MAX;
    q->label = dup_str(key + hl + 1);
    if (!q->label) return SIZE_MAX;
    q->show_label = synth;
    e->val = c->n_seqs++;
    announce_process(c, q); /* the clocks come with its first timed event */
    return e->val;
}

/* The thread of the event (in sequence si); SIZE_MAX when out of memory. */
static size_t thread_of(pf_ctx *c, size_t si, const dasf_trace_event *ev) {
    char key[24 + DT_ID_TEXT_MAX + 2];
    int kl = snprintf(key, 24, "%zu\t", si);
    dt_id_text(&ev->thread_id, key + kl, DT_ID_TEXT_MAX);
    size_t klen = (size_t)kl + strlen(key + kl);
    bool created;
    dt_strent *e = dt_strmap_get(&c->thr_keys, key, klen, &created);
    if (!e) return SIZE_MAX;
    if (!created) return e->val;
    if (dt_grow((void **)&c->thr, &c->cap_thr, c->n_thr, sizeof *c->thr)) return SIZE_MAX;
    pf_thread *t = &c->thr[c->n_thr];
    memset(t, 0, sizeof *t);
    t->seq = si;
    t->uuid = ++c->next_uuid;
    t->w.id = ++c->next_seq_id;
    t->w.default_track = t->uuid;
    bool synth;
    if (pick_id(c, &c->tids_used, &ev->thread_id, &t->tid, &synth)) return SIZE_MAX;
    t->label = dup_str(key + kl);
    if (!t->label) return SIZE_MAX;
    t->show_label = synth;
    t->lanes = calloc(1, sizeof *t->lanes);
    if (!t->lanes) return SIZE_MAX;
    t->cap_lanes = t->n_lanes = 1;
    t->lanes[0].uuid = t->uuid;
    e->val = c->n_thr++;
    announce_thread(c, t);
    return e->val;
}

/* Sequence and thread of ev: the last pair again when both ids are the
 * same ints from the same file and host. */
static int lookup(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev, size_t *si,
                  size_t *ti) {
    bool ints = ev->process_id.type == DASF_VAL_INT && ev->thread_id.type == DASF_VAL_INT;
    if (ints && c->cache_ok && c->cache_file == in->index && c->cache_gen == c->host_gen &&
        c->cache_pid == ev->process_id.v.i && c->cache_tid == ev->thread_id.v.i) {
        *si = c->cache_seq;
        *ti = c->cache_thr;
        return 0;
    }
    *si = seq_of(c, ev);
    if (*si == SIZE_MAX) return -1;
    *ti = thread_of(c, *si, ev);
    if (*ti == SIZE_MAX) return -1;
    c->cache_ok = ints;
    c->cache_file = in->index;
    c->cache_gen = c->host_gen;
    c->cache_pid = ints ? ev->process_id.v.i : 0;
    c->cache_tid = ints ? ev->thread_id.v.i : 0;
    c->cache_seq = *si;
    c->cache_thr = *ti;
    return 0;
}

/* ---- lanes: where a span nests -------------------------------------------------- */

/* Places [s, e] on lane L when it nests with the lane's spans (spans arrive
 * in end order; see the file comment).  @return true when placed. */
static bool lane_take(pf_lane *L, int64_t s, int64_t e) {
    size_t n = L->n;
    if (n && e < L->roots[n - 1].e) return false; /* ends before a written span ends */
    size_t k = n;
    while (k && L->roots[k - 1].s >= s)
        k--;                                        /* roots k..n-1 become its children */
    if (k < n && L->roots[k].s == s) return false;  /* a child begins at the same ns */
    if (k && L->roots[k - 1].e > s) return false;   /* partial overlap */
    bool absorbs_lost = false;
    if (k == 0 && L->lost) {
        if (s < L->lost_first)
            absorbs_lost = true;
        else if (s < L->lost_end)
            return false; /* might straddle a forgotten span: play safe */
    }
    if (absorbs_lost) L->lost = false;
    L->n = k;
    if (L->n == L->cap) {
        if (L->cap < PF_MAX_ROOTS) {
            size_t nc = L->cap ? L->cap * 2 : 8;
            pf_iv *r = realloc(L->roots, nc * sizeof *r);
            if (!r) return false;
            L->roots = r;
            L->cap = nc;
        } else { /* forget the older half, remembering the range it covered */
            size_t half = L->n / 2;
            if (!L->lost) L->lost_first = L->roots[0].s;
            L->lost = true;
            L->lost_end = L->roots[half - 1].e;
            memmove(L->roots, L->roots + half, (L->n - half) * sizeof *L->roots);
            L->n -= half;
        }
    }
    L->roots[L->n].s = s;
    L->roots[L->n].e = e;
    L->n++;
    return true;
}

/* The track uuid the span goes to (announcing a new lane when needed). */
static uint64_t lane_for(pf_ctx *c, pf_thread *t, int64_t s, int64_t e) {
    for (size_t i = 0; i < t->n_lanes; i++)
        if (lane_take(&t->lanes[i], s, e)) return t->lanes[i].uuid;
    if (t->n_lanes >= PF_MAX_LANES) {
        c->lane_overflow++;
        return t->lanes[t->n_lanes - 1].uuid;
    }
    if (dt_grow((void **)&t->lanes, &t->cap_lanes, t->n_lanes, sizeof *t->lanes)) {
        c->pk.oom = true;
        return t->uuid;
    }
    pf_lane *L = &t->lanes[t->n_lanes++];
    memset(L, 0, sizeof *L);
    L->uuid = ++c->next_uuid;
    char name[DT_ID_TEXT_MAX + 32];
    int n = snprintf(name, sizeof name, "%s (%zu)", t->label, t->n_lanes);
    announce_track(c, t->w.id, L->uuid, t->uuid, name, (size_t)n, false);
    if (!lane_take(L, s, e)) c->pk.oom = true; /* an empty lane takes any span */
    return L->uuid;
}

/* ---- event bodies ------------------------------------------------------------- */

static const char *key_text(const dasf_value *k, char *buf, size_t *len) {
    if (k->type == DASF_VAL_STR) {
        *len = k->v.str.len;
        return k->v.str.ptr;
    }
    dt_id_text(k, buf, DT_ID_TEXT_MAX);
    *len = strlen(buf);
    return buf;
}

/* A map or array value as JSON text (legacy_json_value). */
static void put_json_value(pf_ctx *c, pb_buf *b, const dasf_value *v) {
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    dt_json j;
    if (!mf || dt_json_init(&j, mf)) {
        if (mf) fclose(mf);
        free(text);
        c->pk.oom = true;
        return;
    }
    int rc = dt_json_value(&j, v);
    dt_json_free(&j);
    if (fclose(mf) || rc) {
        free(text);
        c->pk.oom = true;
        return;
    }
    pb_bytes(b, F_DA_JSON, text, len);
    free(text);
}

static void put_value(pf_ctx *c, pb_buf *b, const dasf_value *v) {
    switch (v->type) {
    case DASF_VAL_NIL: pb_bytes(b, F_DA_STRING, "null", 4); break;
    case DASF_VAL_BOOL: pb_u64(b, F_DA_BOOL, v->v.b); break;
    case DASF_VAL_INT: pb_i64(b, F_DA_INT, v->v.i); break;
    case DASF_VAL_UINT: pb_u64(b, F_DA_UINT, v->v.u); break;
    case DASF_VAL_FLOAT: pb_double(b, F_DA_DOUBLE, v->v.f); break;
    case DASF_VAL_STR: pb_bytes(b, F_DA_STRING, v->v.str.ptr, v->v.str.len); break;
    case DASF_VAL_BIN: {
        if (!pb_reserve(b, 2 * (size_t)v->v.bin.len + 16)) return;
        pb_tag(b, F_DA_STRING, PB_LEN);
        pb_varint(b, 2 * (uint64_t)v->v.bin.len);
        for (uint32_t i = 0; i < v->v.bin.len; i++) {
            unsigned char x = (unsigned char)v->v.bin.ptr[i];
            b->p[b->len++] = (uint8_t)"0123456789abcdef"[x >> 4];
            b->p[b->len++] = (uint8_t)"0123456789abcdef"[x & 15];
        }
        break;
    }
    case DASF_VAL_ARRAY:
    case DASF_VAL_MAP: put_json_value(c, b, v); break;
    }
}

/* One debug annotation; name interned on q (q NULL: the name inline). */
static void put_annotation(pf_ctx *c, pf_wseq *q, pb_buf *b, const char *k, size_t klen,
                           const dasf_value *v) {
    size_t m = pb_begin(b, F_TE_ANNOTATIONS);
    if (q)
        pb_u64(b, F_DA_NAME_IID, intern(c, q, &q->anames, &q->next_aname, F_ID_ANNOTATION_NAMES, k,
                                        klen));
    else
        pb_bytes(b, F_DA_NAME, k, klen);
    put_value(c, b, v);
    pb_end(b, m);
}

static void put_args(pf_ctx *c, pf_wseq *q, pb_buf *b, const dasf_value *args) {
    if (args->type != DASF_VAL_MAP) return;
    char buf[DT_ID_TEXT_MAX];
    for (uint32_t i = 0; i < args->v.map.n; i++) {
        const dasf_kv *kv = &args->v.map.items[i];
        size_t klen;
        const char *k = key_text(&kv->key, buf, &klen);
        put_annotation(c, q, b, k, klen, &kv->val);
    }
}

static void put_name_cat(pf_ctx *c, pf_wseq *q, const char *name, const char *cat, size_t catlen) {
    if (!name) name = "";
    pb_u64(&c->pk, F_TE_NAME_IID,
           intern(c, q, &q->names, &q->next_name, F_ID_NAMES, name, strlen(name)));
    if (cat)
        pb_u64(&c->pk, F_TE_CATEGORY_IIDS,
               intern(c, q, &q->cats, &q->next_cat, F_ID_CATEGORIES, cat, catlen));
}

/* The event's track, unless it is the sequence's default (its thread). */
static void put_track(pf_ctx *c, const pf_wseq *q, uint64_t track) {
    if (track != q->default_track) pb_u64(&c->pk, F_TE_TRACK, track);
}

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
                       const char *cat, size_t catlen, const dasf_value *args,
                       const uint8_t *ann, size_t annlen, const dasf_value *end_args) {
    pf_thread *t = &c->thr[ti];
    pf_wseq *q = &t->w;
    if (e < s) e = s;
    uint64_t track = lane_for(c, t, s, open ? INT64_MAX : e);
    size_t m = pkt_begin(c, q, s);
    size_t te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, TYPE_SLICE_BEGIN);
    put_track(c, q, track);
    put_name_cat(c, q, name, cat, catlen);
    if (args) put_args(c, q, &c->pk, args);
    pb_raw(&c->pk, ann, annlen);
    pb_end(&c->pk, te);
    pkt_end(c, m);
    if (open) return;
    m = pkt_begin(c, q, e);
    te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, TYPE_SLICE_END);
    put_track(c, q, track);
    if (end_args) put_args(c, q, &c->pk, end_args);
    pb_end(&c->pk, te);
    pkt_end(c, m);
}

/* An instant (or async begin/end, flow step) on track. */
static void emit_simple(pf_ctx *c, pf_wseq *q, uint64_t track, int type,
                        const dasf_trace_event *ev, bool with_name, uint32_t flow_field,
                        uint64_t flow) {
    size_t m = pkt_begin(c, q, ev->timestamp_ns);
    size_t te = pb_begin(&c->pk, F_TRACK_EVENT);
    pb_u64(&c->pk, F_TE_TYPE, (uint64_t)type);
    put_track(c, q, track);
    if (with_name) put_name_cat(c, q, ev->name, ev->cat, ev->cat ? strlen(ev->cat) : 0);
    if (flow_field) pb_fixed64(&c->pk, flow_field, flow);
    put_args(c, q, &c->pk, &ev->args);
    if (ev->phase == DASF_PHASE_OBJECT_CREATED || ev->phase == DASF_PHASE_OBJECT_SNAPSHOT ||
        ev->phase == DASF_PHASE_OBJECT_DESTROYED) {
        char buf[DT_ID_TEXT_MAX];
        dasf_value idv = {.type = DASF_VAL_STR};
        idv.v.str.ptr = dt_id_text(&ev->id, buf, sizeof buf);
        idv.v.str.len = (uint32_t)strlen(buf);
        put_annotation(c, q, &c->pk, "id", 2, &idv);
        const char *what = ev->phase == DASF_PHASE_OBJECT_CREATED    ? "created"
                           : ev->phase == DASF_PHASE_OBJECT_SNAPSHOT ? "snapshot"
                                                                     : "destroyed";
        dasf_value wv = {.type = DASF_VAL_STR};
        wv.v.str.ptr = what;
        wv.v.str.len = (uint32_t)strlen(what);
        put_annotation(c, q, &c->pk, "object", 6, &wv);
    }
    pb_end(&c->pk, te);
    pkt_end(c, m);
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

static void emit_counter(pf_ctx *c, pf_wseq *w, pf_seq *q, size_t si,
                         const dasf_trace_event *ev) {
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
        const char *k = key_text(&kv->key, buf, &klen);
        char key[3 * DT_ID_TEXT_MAX];
        size_t kn = 0;
        key_add(key, sizeof key, &kn, "c", 1);
        key_add(key, sizeof key, &kn, &si, sizeof si);
        key_add(key, sizeof key, &kn, name, strlen(name));
        key_add(key, sizeof key, &kn, k, klen);
        uint64_t uuid = hashed_uuid(key, kn);
        if (first_sight(c, uuid)) {
            char tname[2 * DT_ID_TEXT_MAX];
            int tn = snprintf(tname, sizeof tname, "%s%s%.*s", name, *name ? " " : "", (int)klen, k);
            announce_track(c, w->id, uuid, q->uuid, tname,
                           (size_t)tn < sizeof tname ? (size_t)tn : sizeof tname - 1, true);
        }
        size_t m = pkt_begin(c, w, ev->timestamp_ns);
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
        pkt_end(c, m);
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
        announce_process(c, q);
    } else {
        pf_thread *t = &c->thr[ti];
        free(t->label);
        t->label = label;
        t->show_label = true;
        announce_thread(c, t);
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
        put_args(c, NULL, &c->blob, &ev->args);
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
                   b->has_cat ? (const char *)b->data : NULL, b->catlen, NULL,
                   b->data + b->catlen, b->annlen, &ev->args);
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

static int pf_visit(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    pf_ctx *c = vctx;
    c->events++;
    update_host(c, in, ev);
    size_t si, ti;
    if (ev->phase == DASF_PHASE_METADATA && ev->name && !strcmp(ev->name, "process_name")) {
        si = seq_of(c, ev);
        if (si == SIZE_MAX) goto oom;
        on_metadata(c, si, 0, ev);
        goto done;
    }
    bool paired = ev->phase == DASF_PHASE_DURATION_BEGIN || ev->phase == DASF_PHASE_DURATION_END;
    if (c->filtering && !paired && ev->phase != DASF_PHASE_METADATA &&
        !(dt_filter_match(&c->after, ev) && dt_filter_match(&c->window, ev)))
        return 0;
    if (!paired && ev->phase != DASF_PHASE_METADATA) dt_window_hit(&c->window);
    if (lookup(c, in, ev, &si, &ti)) goto oom;
    pf_seq *q = &c->seqs[si];
    pf_thread *t = &c->thr[ti];
    pf_wseq *w = &t->w; /* events go on their thread's sequence */
    char key[3 * DT_ID_TEXT_MAX];
    switch (ev->phase) {
    case DASF_PHASE_COMPLETE:
        emit_slice(c, ti, ev->timestamp_ns,
                   ev->timestamp_ns + (ev->duration_ns > 0 ? ev->duration_ns : 0), false, ev->name,
                   ev->cat, ev->cat ? strlen(ev->cat) : 0, &ev->args, NULL, 0, NULL);
        break;
    case DASF_PHASE_DURATION_BEGIN:
    case DASF_PHASE_DURATION_END:
        if (dt_filter_wants_pairs(&c->after) && on_b_or_e(c, in, ti, ev)) goto oom;
        break;
    case DASF_PHASE_INSTANT: {
        uint64_t track = t->uuid;
        if (ev->scope == DASF_SCOPE_PROCESS) {
            track = q->uuid;
        } else if (ev->scope == DASF_SCOPE_GLOBAL) {
            if (!c->global_uuid) {
                c->global_uuid = ++c->next_uuid;
                announce_track(c, w->id, c->global_uuid, 0, "Global instants", 15, false);
            }
            track = c->global_uuid;
        }
        emit_simple(c, w, track, TYPE_INSTANT, ev, true, 0, 0);
        break;
    }
    case DASF_PHASE_MARK:
    case DASF_PHASE_OBJECT_CREATED:
    case DASF_PHASE_OBJECT_SNAPSHOT:
    case DASF_PHASE_OBJECT_DESTROYED:
        emit_simple(c, w, t->uuid, TYPE_INSTANT, ev, true, 0, 0);
        break;
    case DASF_PHASE_COUNTER: emit_counter(c, w, q, si, ev); break;
    case DASF_PHASE_ASYNC_BEGIN:
    case DASF_PHASE_ASYNC_INSTANT:
    case DASF_PHASE_ASYNC_END: {
        size_t kn = id_key(key, sizeof key, 'a', si, ev);
        uint64_t uuid = hashed_uuid(key, kn);
        const char *nm = ev->name ? ev->name : "";
        if (first_sight(c, uuid)) announce_track(c, w->id, uuid, q->uuid, nm, strlen(nm), false);
        int type = ev->phase == DASF_PHASE_ASYNC_BEGIN   ? TYPE_SLICE_BEGIN
                   : ev->phase == DASF_PHASE_ASYNC_END ? TYPE_SLICE_END
                                                       : TYPE_INSTANT;
        /* an async end closes the innermost open slice of its track, as
         * nestable async events do in the Trace Event Format */
        emit_simple(c, w, uuid, type, ev, type != TYPE_SLICE_END, 0, 0);
        break;
    }
    case DASF_PHASE_FLOW_BEGIN:
    case DASF_PHASE_FLOW_STEP:
    case DASF_PHASE_FLOW_END: {
        /* flow ids are trace-global: the key leaves the process out */
        uint64_t flow = dt_hash(key, id_key(key, sizeof key, 'f', SIZE_MAX, ev)) | 1;
        emit_simple(c, w, t->uuid, TYPE_INSTANT, ev, true,
                    ev->phase == DASF_PHASE_FLOW_END ? F_TE_TERMINATING_FLOW_IDS : F_TE_FLOW_IDS,
                    flow);
        break;
    }
    case DASF_PHASE_METADATA: on_metadata(c, si, ti, ev); break;
    default: c->meta_other++; break;
    }
done:
    if (c->pk.oom || c->idata.oom) goto oom;
    if (c->pk.len >= PF_CHUNK && flush_packets(c)) goto oom;
    if (c->out.failed) return DT_FAIL; /* reported at close */
    return 0;
oom:
    dt_err("out of memory");
    return DT_FAIL;
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
    c.o = o;
    c.next_synth = SYNTH_BASE;
    c.spans = dt_spans_new();
    if (!c.spans) {
        dt_err("out of memory");
        return DT_FAIL;
    }
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
    if (c.pk.oom || c.idata.oom || flush_packets(&c)) {
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
