/*
 * stats_model.h — what `dasf-trace stats` collects (stats_model.c): one
 * group per name (in its thread, process or rank with --by) holding every
 * duration, its total, max and self (exclusive) time, and the share
 * scopes' self totals.  Self time needs each span's children, which may
 * come before or after it; stats_model.c says how both orders are handled.
 * The verb is cmd_stats.c, the table stats_table.c.
 */
#ifndef DASF_TRACE_STATS_MODEL_H
#define DASF_TRACE_STATS_MODEL_H

#include "filter.h"
#include "infile.h"
#include "metanames.h"
#include "runs.h"
#include "spans.h"
#include "strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { BY_NAME, BY_THREAD, BY_PROCESS, BY_RANK };

/* Scope columns of a row: process and thread, process, or rank. */
#define NSCOPE(c) ((c)->by == BY_THREAD ? 2 : (c)->by == BY_NAME ? 0 : 1)
enum { SORT_TOTAL, SORT_COUNT, SORT_MEAN, SORT_P50, SORT_P95, SORT_MAX, SORT_SELF, SORT_NAME };

/* What collecting a span returns (and the visit, through dt_each_event). */
typedef enum stats_status {
    ST_NO_MEMORY = -1,
    ST_OK = 0,
    /* spans out of end order or overlapping: read again with exact = true
     * (not an exit status: DT_FAIL and DT_USAGE are 1 and 2) */
    ST_RESTART = 100,
} stats_status;

typedef struct group {
    size_t name_len;
    char *label; /* "name" or "pid\ttid\tname" (the strmap key) */
    int64_t *d;  /* durations, ns */
    size_t n, cap;
    int64_t total, max;
    int64_t self; /* total minus the time in child spans (its own work) */
    size_t scope; /* thread/process index the share is relative to */
    /* computed at the end */
    double mean, p50, p95, share;
} group;

typedef struct stats_ctx {
    int by, sort;
    struct dt_align *align; /* --by rank: the processes' MPI ranks (align.h) */
    long long top;
    bool csv;
    dt_strmap groups_map;
    group *groups;
    size_t n_groups, cap_groups;
    dt_spans *spans;
    dt_filter after;      /* --name/--phase, applied to events and to paired spans */
    bool pairs;           /* --phase keeps B or E */
    bool filtering;       /* some filter of after is set */
    dt_strmap scopes_map; /* share scope ("" / "pid\ttid" / "pid") -> self total */
    int64_t *scope_total;
    bool exact;            /* self time by sorting every span (see stream_self) */
    struct span_rec *recs; /* exact mode: every span of the trace */
    size_t n_recs, cap_recs;
    struct thread_self *ts; /* streaming mode, by thread stream */
    size_t n_ts;
    dt_meta_names meta;
    dt_runs runs;
    bool *run_used; /* by run index: some event of it was counted */
    size_t cap_run_used, n_runs_used;
    size_t n_scopes, cap_scopes;
    uint64_t n_x, n_pairs, events;
    char *key;
    size_t key_cap;
    bool has_from, has_to; /* the time window, applied to whole spans */
    int64_t from, to;
} stats_ctx;

/* The visit (dt_visit_fn) of the reading pass: X events and B/E pairs into
 * their groups.  ST_OK, DT_FAIL (said on stderr) or ST_RESTART. */
int dt_stats_event(void *vctx, const dt_input *in, const dasf_trace_event *ev);
/* After reading in exact mode: every kept span's self time into its group
 * and scope.  0, or -1 out of memory. */
int dt_stats_self_times(stats_ctx *c);
void dt_stats_free(stats_ctx *c);

#endif
