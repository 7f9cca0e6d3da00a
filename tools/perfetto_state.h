/*
 * perfetto_state.h — the state of a Perfetto export (perfetto.c): the
 * field numbers of the protos used (tests/cli/perfetto_subset.proto), the
 * bounds that keep memory constant, and the export's context: packet
 * buffers, the packet sequences with their interning and clocks, the
 * process and thread tracks with their lanes.  Types only; the packets
 * are built by perfetto_packets.c, the tracks by perfetto_tracks.c.
 */
#ifndef DASF_TRACE_PERFETTO_STATE_H
#define DASF_TRACE_PERFETTO_STATE_H

#include "filter.h"
#include "outfile.h"
#include "pb.h"
#include "spans.h"
#include "strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
#define CLOCK_INC 64           /* sequence-scoped, delta-encoded */
#define CLOCK_ABS 65           /* sequence-scoped, absolute from base_abs */
#define ABS_MARGIN (1ll << 36) /* clock 65 starts ~69 s before the first event */

#define PF_MAX_INTERNED 65536 /* per sequence, then its incremental state restarts */
#define PF_MAX_ROOTS 1024     /* remembered top-level spans per lane */
#define PF_MAX_LANES 1024     /* per thread; more share the last one */
#define PF_MAX_ANNOUNCED 65536
#define PF_CHUNK (256u << 10) /* packets per write / per compressed_packets */

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
    uint64_t default_track;        /* TrackEventDefaults.track_uuid; 0: none */
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
    bool compress; /* deflate the packets (dt_perfetto_opts) */
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

#endif
