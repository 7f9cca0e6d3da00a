/*
 * kmerge_state.h — the state of one `dasf-trace merge` run, shared by the
 * merge's parts: the inputs and their loaded chunks (kmerge_read.c), the
 * output group being built (kmerge_group.c), the heaps and the driver
 * (kmerge.c).  Not for the verb: kmerge.h is the merge's interface.
 */
#ifndef DT_KMERGE_STATE_H
#define DT_KMERGE_STATE_H

#include "align.h"
#include "evcopy.h"
#include "filter.h"
#include "infile.h"
#include "kmerge_heap.h"
#include "kmerge_stats.h"
#include "runs.h"

#include <dasf/profiler.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
