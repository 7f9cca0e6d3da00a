/*
 * timeline_model.h — what `dasf-trace timeline` draws, collected in bounded
 * memory (timeline_model.c): lanes of wide spans, per-pixel-column
 * aggregates of narrow ones, instants and counters, and the lanes' depth
 * layout.  cmd_timeline.c runs the two reading passes with these visit
 * functions; timeline_svg.c writes the result.
 *
 * Memory and output do not grow with the event count: a first pass finds
 * the time span (unless --from and --to give it); the second keeps only
 * spans at least a pixel wide (at most about width x depth per lane), and
 * folds narrower ones into per-level, per-pixel-column aggregates (busy
 * time, span count, dominant name).  X events arrive in end order
 * (children before their parents): wide spans get their depth at the end
 * by sorting each lane's spans by start; narrow ones get their level from
 * a small per-lane forest (see narrow_add).
 */
#ifndef DASF_TRACE_TIMELINE_MODEL_H
#define DASF_TRACE_TIMELINE_MODEL_H

#include "filter.h"
#include "infile.h"
#include "metanames.h"
#include "numbers.h"
#include "runs.h"
#include "spans.h"
#include "strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LABEL_W 210 /* left column with lane labels */
#define RIGHT_PAD 20
#define ROW_H 16 /* one depth level */
#define LANE_GAP 6
#define COUNTER_H 44
#define MAX_WIDE_SPANS (2u << 20) /* beyond this, every span is aggregated */
#define LEGEND_MAX 24

typedef struct wide_span {
    int64_t s, e;   /* drawn: clipped to the window */
    int64_t os, oe; /* the span's own times: nesting and its title */
    uint32_t name;
    uint32_t depth;
    bool open; /* a B that was never closed */
} wide_span;

typedef struct column {
    uint32_t count; /* narrow spans starting in this column */
    uint32_t cand;  /* name of the longest one: usually the outermost */
    int64_t cand_dur;
    double busy; /* ns covered by spans of that name */
} column;

/* A narrow span waiting until its narrow ancestors (if any) have arrived. */
typedef struct nnode {
    int64_t s, e;   /* the span's own times: nesting */
    int64_t cs, ce; /* clipped to the window: its columns */
    uint32_t name;
} nnode;

/* A root of the forest of pending narrow spans: its subtree is
 * pend[start .. the next root's start). */
typedef struct nroot {
    size_t start;
    int64_t s;
} nroot;

#define NARROW_LEVELS 6 /* nesting levels drawn for narrow spans; deeper ones share the last */

typedef struct lane {
    char *pid, *tid; /* id texts */
    wide_span *spans;
    size_t n_spans, cap_spans;
    column *cols; /* NARROW_LEVELS x plot-width columns, on first narrow span */
    nnode *pend;  /* narrow spans in arrival (end) order, from head on */
    size_t head, n_pend, cap_pend;
    nroot *roots; /* pending roots, oldest (rhead) first */
    size_t rhead, n_roots, cap_roots;
    uint8_t *ticks; /* instants per column, allocated on first instant */
    int rows;       /* depth levels drawn */
    int y;          /* top, set at layout */
} lane;

typedef struct cpoint {
    double first, last, min, max;
    bool has;
} cpoint;

typedef struct counter {
    char *pid;
    char *label; /* "name.series" */
    cpoint *pts;
    double min, max;
    bool has;
    double pre; /* the value holding at the window's start (latest before it) */
    int64_t pre_ts;
    bool has_pre;
    int y;
} counter;

typedef struct tl_ctx {
    const char *out_path;
    long long width;
    int plot_w;
    dt_filter given; /* as on the command line (its window made absolute) */
    dt_filter f;     /* what applies before pairing (see dt_filter_split) */
    dt_filter after; /* --name/--phase, for events and for paired spans */
    dt_runs runs;    /* pass 1 reads unfiltered and applies --run itself */
    bool have_t0;
    int64_t t0;    /* the trace start: times shown and typed count from it */
    int64_t t_end; /* the latest end: where a B never closed is drawn to */
    dt_spans *spans;
    bool has_from, has_to;
    int64_t from, to; /* the view */
    bool pass1_any;
    int64_t ns_min, ns_max;
    double ns_per_px;
    dt_strmap names_map;
    struct name_st {
        const char *s; /* key in names_map */
        double total;
        uint64_t count;
    } * names;
    size_t n_names, cap_names;
    dt_strmap lanes_map;
    lane *lanes;
    size_t n_lanes, cap_lanes;
    dt_strmap counters_map;
    counter *counters;
    size_t n_counters, cap_counters;
    dt_meta_names meta; /* process/thread names from M events */
    size_t wide_total;
    uint64_t events, aggregated;
} tl_ctx;

/* Pixels from the view's start to t (fractional; may be outside the plot). */
static inline double px_of(const tl_ctx *c, int64_t t) {
    return dt_span_ns(c->from, t) / c->ns_per_px;
}

/* Pass 1 (a dt_visit_fn over every event, runs tracked): the trace start
 * t0, and the extent of what the filters keep. */
int dt_tl_span_event(void *vctx, const dt_input *in, const dasf_trace_event *ev);
/* After pass 1: the view [from, to] (the window, else what pass 1 saw;
 * at least 1 us) and its ns per pixel. */
void dt_tl_set_view(tl_ctx *c);
/* Pass 2 (a dt_visit_fn over the events c->f keeps): spans, instants,
 * counters and names into the lanes.  0, or DT_FAIL (said on stderr). */
int dt_tl_collect_event(void *vctx, const dt_input *in, const dasf_trace_event *ev);
/* A paired B/E span (a dt_span_fn: also for the spans never closed, from
 * dt_spans_finish) passing --name/--phase becomes a box.  0, or -1 out of
 * memory. */
int dt_tl_add_paired(void *vctx, const dt_span *sp);
/* Gives each wide span of l its depth and l its rows; *base_out (the
 * plot's columns; NULL without narrow spans) the row below which each
 * column's narrow aggregates go.  0, or -1 out of memory. */
int dt_tl_layout_lane(tl_ctx *c, lane *l, int **base_out);
void dt_tl_free(tl_ctx *c);

#endif
