/*
 * cmd_timeline.c — `dasf-trace timeline -o OUT.svg FILE...`: a picture of
 * a trace that opens in any browser.  One lane per (process, thread) with
 * its label; complete (X) and B/E spans as boxes nested by depth, coloured
 * by name (legend below); instants as ticks; counters as lines in their own
 * tracks; a time axis with units picked by the span.
 *
 * It must stay readable, and small, at 10 M events, so memory and output do
 * not grow with the event count: a first pass finds the time span (unless
 * --from and --to give it); the second keeps only spans at least a pixel
 * wide (at most about width x depth per lane), and folds narrower ones into
 * per-level, per-pixel-column aggregates (busy time, span count, dominant
 * name) drawn as one translucent box per run of columns.  X events arrive
 * in end order (children before their parents): wide spans get their depth
 * at the end by sorting each lane's spans by start; narrow ones get their
 * level from a small per-lane forest (see narrow_add).
 */
#include "args.h"
#include "array.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "metanames.h"
#include "numbers.h"
#include "output.h"
#include "runs.h"
#include "spans.h"
#include "strmap.h"
#include "utf8.h"
#include "verbs.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char timeline_help[] =
    "usage: dasf-trace timeline -o OUT.svg [--width PX] [FILTERS] FILE...\n\n"
    "Draws the trace as an SVG: one lane per (process, thread), complete and\n"
    "B/E spans as boxes nested by depth and coloured by name (the colour\n"
    "depends on the name only; legend at the bottom), instants as ticks,\n"
    "counters as lines, a time axis counted from the trace start (also when\n"
    "zoomed, so its times can be typed as --from/--to).  Spans narrower than\n"
    "a pixel are merged into shaded boxes (hover for counts), so huge traces\n"
    "stay readable.  Use --from and --to to zoom: spans crossing the window\n"
    "are clipped to it and keep their nesting.\n\n"
    "  -o, --output F  the SVG file to write ('-' for stdout)\n"
    "  --width PX      picture width in pixels (default 1600, 600..20000)\n"
    "  --follow-symlinks  write through a symbolic link at F to its target\n\n";

enum { OPT_WIDTH = DT_OPT_VERB };

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

static int timeline_option(void *vctx, int opt, const char *arg) {
    tl_ctx *c = vctx;
    if (opt == 'o') {
        c->out_path = arg;
        return 1;
    }
    if (opt == OPT_WIDTH) {
        if (!dt_parse_long(arg, 600, 20000, &c->width))
            return dt_usage("--width wants 600..20000 pixels, got '%s'", arg);
        return 1;
    }
    return 0;
}

static int oom(void) {
    dt_err("out of memory");
    return DT_FAIL;
}

/* ---- pass 1: the time span ------------------------------------------------ */

/* Every event: the trace start (t0); events the filters keep: the view's
 * extent when --from/--to do not give it. */
static int span_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    tl_ctx *c = vctx;
    int64_t s = ev->timestamp_ns;
    int64_t e =
        dt_add_ns(s, ev->phase == DASF_PHASE_COMPLETE && ev->duration_ns > 0 ? ev->duration_ns : 0);
    if (ev->phase == DASF_PHASE_METADATA) return 0;
    if (!c->have_t0 || s < c->t0) c->t0 = s;
    if (!c->have_t0 || e > c->t_end) c->t_end = e;
    c->have_t0 = true;
    if (!dt_filter_run_wanted(&c->f, in->run) || !dt_filter_match(&c->f, ev)) return 0;
    bool be = ev->phase == DASF_PHASE_DURATION_BEGIN || ev->phase == DASF_PHASE_DURATION_END;
    if (be ? !dt_filter_match_span(&c->after, ev->name) : !dt_filter_match(&c->after, ev)) return 0;
    if (!c->pass1_any || s < c->ns_min) c->ns_min = s;
    if (!c->pass1_any || e > c->ns_max) c->ns_max = e;
    c->pass1_any = true;
    return 0;
}

/* ---- pass 2: collect ------------------------------------------------------- */

static uint32_t name_index(tl_ctx *c, const char *name) {
    bool created;
    dt_strent *e = dt_strmap_get(&c->names_map, name, strlen(name), &created);
    if (!e) return UINT32_MAX;
    if (created) {
        if (dt_grow((void **)&c->names, &c->cap_names, c->n_names, sizeof *c->names))
            return UINT32_MAX;
        c->names[c->n_names] = (struct name_st){NULL, 0, 0};
        e->val = c->n_names++;
    }
    c->names[e->val].s = e->key; /* the key string itself never moves */
    return (uint32_t)e->val;
}

/* The lane of "pid\ttid" (key, plen = the pid's length). */
static lane *lane_of_key(tl_ctx *c, const char *key, size_t plen) {
    bool created;
    dt_strent *e = dt_strmap_get(&c->lanes_map, key, strlen(key), &created);
    if (!e) return NULL;
    if (created) {
        if (dt_grow((void **)&c->lanes, &c->cap_lanes, c->n_lanes, sizeof *c->lanes)) return NULL;
        lane *l = &c->lanes[c->n_lanes];
        memset(l, 0, sizeof *l);
        l->pid = strndup(key, plen);
        l->tid = strdup(key + plen + 1);
        if (!l->pid || !l->tid) return NULL;
        e->val = c->n_lanes++;
    }
    return &c->lanes[e->val];
}

static lane *lane_of(tl_ctx *c, const dasf_trace_event *ev) {
    char key[2 * DT_ID_TEXT_MAX + 2];
    dt_id_text(&ev->process_id, key, DT_ID_TEXT_MAX);
    size_t plen = strlen(key);
    key[plen] = '\t';
    dt_id_text(&ev->thread_id, key + plen + 1, DT_ID_TEXT_MAX);
    return lane_of_key(c, key, plen);
}

static lane *lane_of_span(tl_ctx *c, const dt_span *sp) {
    const char *pid, *tid;
    dt_spans_thread(c->spans, sp->thread, &pid, &tid, NULL);
    char key[2 * DT_ID_TEXT_MAX + 2];
    size_t plen = strlen(pid);
    snprintf(key, sizeof key, "%s\t%s", pid, tid);
    return lane_of_key(c, key, plen);
}

/* A paired span (spans.h) passing --name/--phase becomes a box. */
static int add_span(tl_ctx *c, lane *l, int64_t s, int64_t e, uint32_t n, bool open);
static int add_paired(void *vctx, const dt_span *sp) {
    tl_ctx *c = vctx;
    if (!dt_filter_match_span(&c->after, sp->name)) return 0;
    lane *l = lane_of_span(c, sp);
    uint32_t n = name_index(c, sp->name);
    if (!l || n == UINT32_MAX) return -1;
    int64_t end = sp->open ? (c->t_end > sp->start_ns ? c->t_end : sp->start_ns) : sp->end_ns;
    return add_span(c, l, sp->start_ns, end, n, sp->open);
}

static double px_of(const tl_ctx *c, int64_t t) {
    return dt_span_ns(c->from, t) / c->ns_per_px;
}

static int col_of(const tl_ctx *c, int64_t t) {
    double x = px_of(c, t);
    if (x < 0) return 0;
    if (x >= c->plot_w) return c->plot_w - 1;
    return (int)x;
}

/* Adds a narrow span at nesting level `level` to its pixel columns.  The
 * longest span of a column names it (usually the outermost of its level). */
static void column_add(tl_ctx *c, lane *l, int level, const nnode *x) {
    column *cols = l->cols + (size_t)level * (size_t)c->plot_w;
    int a = col_of(c, x->cs), b = col_of(c, x->ce);
    int64_t dur = x->ce - x->cs;
    double part = (double)dur / (double)(b - a + 1);
    for (int k = a; k <= b; k++) {
        column *col = &cols[k];
        if (k == a) col->count++;
        if (dur > col->cand_dur || (col->cand_dur == 0 && col->busy == 0)) {
            if (col->cand != x->name) col->busy = 0;
            col->cand = x->name;
            col->cand_dur = dur;
        }
        if (col->cand == x->name) col->busy += part;
    }
}

/* Draws the finished subtree pend[a..b) (post-order: its root is last) at
 * levels relative to its root; the final row adds the wide spans above. */
static void narrow_flush_subtree(tl_ctx *c, lane *l, size_t a, size_t b) {
    size_t anc[64];
    int sp = 0;
    for (size_t i = b; i-- > a;) { /* reverse post-order: ancestors come first */
        const nnode *x = &l->pend[i];
        while (sp > 0 && !(x->s >= l->pend[anc[sp - 1]].s && x->e <= l->pend[anc[sp - 1]].e))
            sp--;
        column_add(c, l, sp < NARROW_LEVELS ? sp : NARROW_LEVELS - 1, x);
        if (sp < 64) anc[sp++] = i;
    }
}

/* Flushes the oldest roots that started before `limit` (all when limit is
 * INT64_MAX), then compacts the buffers once most of them is flushed. */
static void narrow_flush(tl_ctx *c, lane *l, int64_t limit) {
    while (l->rhead < l->n_roots && l->roots[l->rhead].s < limit) {
        size_t a = l->roots[l->rhead].start;
        size_t b = l->rhead + 1 < l->n_roots ? l->roots[l->rhead + 1].start : l->n_pend;
        narrow_flush_subtree(c, l, a, b);
        l->rhead++;
        l->head = b;
    }
    if (l->head > 1024 && l->head * 2 > l->n_pend) {
        memmove(l->pend, l->pend + l->head, (l->n_pend - l->head) * sizeof *l->pend);
        for (size_t i = l->rhead; i < l->n_roots; i++)
            l->roots[i].start -= l->head;
        l->n_pend -= l->head;
        l->head = 0;
        memmove(l->roots, l->roots + l->rhead, (l->n_roots - l->rhead) * sizeof *l->roots);
        l->n_roots -= l->rhead;
        l->rhead = 0;
    }
}

/* A span narrower than a pixel.  Spans arrive when they end, so a span's
 * children arrive before it (post-order): the pending roots it contains
 * become its subtree.  A root that started more than a pixel before the
 * latest end can get no narrow parent any more (that parent would be wider
 * than a pixel), so it is final: its subtree is drawn and forgotten.  The
 * buffers hold about a pixel's worth of spans per lane. */
static int narrow_add(tl_ctx *c, lane *l, int64_t s, int64_t e, int64_t cs, int64_t ce,
                      uint32_t n) {
    if (!l->cols) {
        l->cols = calloc((size_t)c->plot_w * NARROW_LEVELS, sizeof *l->cols);
        if (!l->cols) return -1;
    }
    size_t start = l->n_pend;
    while (l->n_roots > l->rhead && l->roots[l->n_roots - 1].s >= s)
        start = l->roots[--l->n_roots].start;
    if (dt_grow((void **)&l->pend, &l->cap_pend, l->n_pend, sizeof *l->pend) ||
        dt_grow((void **)&l->roots, &l->cap_roots, l->n_roots, sizeof *l->roots))
        return -1;
    l->pend[l->n_pend++] = (nnode){s, e, cs, ce, n};
    l->roots[l->n_roots++] = (nroot){start, s};
    narrow_flush(c, l, e - (int64_t)ceil(c->ns_per_px));
    return 0;
}

/* A finished span [s, e] of name n in lane l.  The legend counts the part
 * inside the window; nesting uses the span's own times, so a parent and a
 * child both cut by the window edge still nest (their clipped boxes may be
 * equal). */
static int add_span(tl_ctx *c, lane *l, int64_t s, int64_t e, uint32_t n, bool open) {
    if (e < c->from || s > c->to) return 0;
    dt_window_hit(&c->given);
    int64_t cs = s < c->from ? c->from : s, ce = e > c->to ? c->to : e;
    c->names[n].total += dt_span_ns(cs, ce);
    c->names[n].count++;
    double w = dt_span_ns(cs, ce) / c->ns_per_px;
    if (w >= 1.0 && c->wide_total < MAX_WIDE_SPANS) {
        if (dt_grow((void **)&l->spans, &l->cap_spans, l->n_spans, sizeof *l->spans)) return -1;
        l->spans[l->n_spans++] = (wide_span){cs, ce, s, e, n, 0, open};
        c->wide_total++;
        return 0;
    }
    c->aggregated++;
    return narrow_add(c, l, s, e, cs, ce, n);
}

static int add_tick(tl_ctx *c, lane *l, int64_t t) {
    if (t < c->from || t > c->to) return 0;
    dt_window_hit(&c->given);
    if (!l->ticks) {
        l->ticks = calloc((size_t)c->plot_w, 1);
        if (!l->ticks) return -1;
    }
    int k = col_of(c, t);
    if (l->ticks[k] < 255) l->ticks[k]++;
    return 0;
}

static int add_counter(tl_ctx *c, const dasf_trace_event *ev) {
    if (ev->timestamp_ns > c->to) return 0;
    if (ev->args.type != DASF_VAL_MAP) return 0;
    char pid[DT_ID_TEXT_MAX];
    dt_id_text(&ev->process_id, pid, sizeof pid);
    for (uint32_t i = 0; i < ev->args.v.map.n; i++) {
        const dasf_kv *kv = &ev->args.v.map.items[i];
        double v;
        switch (kv->val.type) {
        case DASF_VAL_INT: v = (double)kv->val.v.i; break;
        case DASF_VAL_UINT: v = (double)kv->val.v.u; break;
        case DASF_VAL_FLOAT: v = kv->val.v.f; break;
        case DASF_VAL_BOOL: v = kv->val.v.b; break;
        default: continue;
        }
        if (!isfinite(v)) continue;
        char kb[DT_ID_TEXT_MAX], key[3 * DT_ID_TEXT_MAX + 4];
        const char *series =
            kv->key.type == DASF_VAL_STR ? kv->key.v.str.ptr : dt_id_text(&kv->key, kb, sizeof kb);
        int klen = snprintf(key, sizeof key, "%s\t%s.%s", pid, ev->name ? ev->name : "", series);
        if (klen < 0 || (size_t)klen >= sizeof key) klen = (int)strlen(key);
        bool created;
        dt_strent *e = dt_strmap_get(&c->counters_map, key, (size_t)klen, &created);
        if (!e) return -1;
        if (created) {
            if (dt_grow((void **)&c->counters, &c->cap_counters, c->n_counters,
                        sizeof *c->counters))
                return -1;
            counter *k = &c->counters[c->n_counters];
            memset(k, 0, sizeof *k);
            k->pid = strdup(pid);
            k->label = strdup(strchr(e->key, '\t') + 1);
            k->pts = calloc((size_t)c->plot_w, sizeof *k->pts);
            if (!k->pid || !k->label || !k->pts) return -1;
            e->val = c->n_counters++;
        }
        counter *k = &c->counters[e->val];
        if (ev->timestamp_ns < c->from) { /* a counter holds its value: keep the latest */
            if (!k->has_pre || ev->timestamp_ns >= k->pre_ts) {
                k->pre = v;
                k->pre_ts = ev->timestamp_ns;
                k->has_pre = true;
            }
            continue;
        }
        dt_window_hit(&c->given);
        cpoint *p = &k->pts[col_of(c, ev->timestamp_ns)];
        if (!p->has) {
            p->first = p->min = p->max = v;
            p->has = true;
        }
        p->last = v;
        if (v < p->min) p->min = v;
        if (v > p->max) p->max = v;
        if (!k->has || v < k->min) k->min = v;
        if (!k->has || v > k->max) k->max = v;
        k->has = true;
    }
    return 0;
}

static int collect_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    tl_ctx *c = vctx;
    c->events += dt_filter_match(&c->after, ev);
    dasf_phase ph = ev->phase;
    if (ph == DASF_PHASE_COUNTER)
        return !dt_filter_match(&c->after, ev) || !add_counter(c, ev) ? 0 : oom();
    if (ph != DASF_PHASE_COMPLETE && ph != DASF_PHASE_DURATION_BEGIN &&
        ph != DASF_PHASE_DURATION_END && ph != DASF_PHASE_INSTANT && ph != DASF_PHASE_METADATA &&
        ph != DASF_PHASE_ASYNC_INSTANT && ph != DASF_PHASE_MARK)
        return 0; /* async/flow/object events have no place in a lane picture */
    if (ph == DASF_PHASE_METADATA) return dt_meta_names_event(&c->meta, ev) ? oom() : 0;
    if (ph == DASF_PHASE_DURATION_BEGIN || ph == DASF_PHASE_DURATION_END) {
        if (!dt_filter_wants_pairs(&c->after)) return 0;
        dt_span sp;
        int role = dt_spans_event(c->spans, in, ev, &sp);
        if (role < 0) return DT_FAIL;
        if (role == DT_SPAN_CLOSE && add_paired(c, &sp)) return oom();
        return 0;
    }
    if (!dt_filter_match(&c->after, ev)) return 0;
    lane *l = lane_of(c, ev);
    if (!l) return oom();
    if (ph == DASF_PHASE_INSTANT || ph == DASF_PHASE_ASYNC_INSTANT || ph == DASF_PHASE_MARK)
        return add_tick(c, l, ev->timestamp_ns) ? oom() : 0;
    uint32_t n = name_index(c, ev->name ? ev->name : "");
    if (n == UINT32_MAX) return oom();
    int64_t s = ev->timestamp_ns;
    return add_span(c, l, s, dt_add_ns(s, ev->duration_ns > 0 ? ev->duration_ns : 0), n, false)
               ? oom()
               : 0;
}

/* ---- layout ------------------------------------------------------------- */

static int cmp_span(const void *pa, const void *pb) {
    const wide_span *a = pa, *b = pb;
    if (a->os != b->os) return a->os < b->os ? -1 : 1;
    if (a->oe != b->oe) return a->oe > b->oe ? -1 : 1;
    return 0;
}

/* Depth = number of enclosing wide spans; narrow aggregates go below the
 * deepest wide span covering their whole column, plus their own level. */
static int layout_lane(tl_ctx *c, lane *l, int **base_out) {
    narrow_flush(c, l, INT64_MAX);
    if (l->n_spans > 1) qsort(l->spans, l->n_spans, sizeof *l->spans, cmp_span);
    int64_t *ends = malloc((l->n_spans + 1) * sizeof *ends);
    int *base = l->cols ? calloc((size_t)c->plot_w, sizeof *base) : NULL;
    if (!ends || (l->cols && !base)) {
        free(ends);
        free(base);
        return -1;
    }
    size_t depth = 0;
    int rows = 1;
    for (size_t i = 0; i < l->n_spans; i++) {
        wide_span *sp = &l->spans[i];
        while (depth > 0 && ends[depth - 1] <= sp->os)
            depth--;
        sp->depth = (uint32_t)depth;
        ends[depth++] = sp->oe;
        if ((int)depth > rows) rows = (int)depth;
        if (base) { /* only columns it covers whole: narrow spans there are inside it */
            double xa = ceil(px_of(c, sp->s)), xb = floor(px_of(c, sp->e)) - 1;
            int a = xa < 0 ? 0 : (int)xa, b = xb >= c->plot_w ? c->plot_w - 1 : (int)xb;
            for (int k = a; k <= b; k++)
                if (base[k] < (int)depth) base[k] = (int)depth;
        }
    }
    free(ends);
    for (int r = 0; base && r < NARROW_LEVELS; r++) {
        const column *cols = l->cols + (size_t)r * (size_t)c->plot_w;
        for (int k = 0; k < c->plot_w; k++)
            if ((cols[k].count || cols[k].busy > 0) && base[k] + r + 1 > rows)
                rows = base[k] + r + 1;
    }
    l->rows = rows;
    *base_out = base;
    return 0;
}

/* ---- SVG output ------------------------------------------------------------ */

/* A name's colour depends on the name alone (its hash: hue, and some
 * saturation and lightness so close hues still differ), so a name keeps
 * its colour in every view of every trace: zooming in does not repaint. */
static void color_of(const tl_ctx *c, uint32_t n, char out[24]) {
    uint64_t h = dt_hash(c->names[n].s, strlen(c->names[n].s));
    snprintf(out, 24, "hsl(%u,%u%%,%u%%)", (unsigned)(h % 360), 45 + (unsigned)((h >> 20) % 30),
             52 + (unsigned)((h >> 40) % 16));
}

/* Writes s escaped for XML text and attributes; drops characters XML 1.0
 * forbids and replaces invalid UTF-8 with U+FFFD. */
static void xml_text(FILE *o, const char *s, size_t max_chars) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0, len;
    for (size_t i = 0; i < n; i += len) {
        if (max_chars && chars == max_chars) {
            fputs("\xe2\x80\xa6", o); /* ellipsis */
            return;
        }
        chars++;
        unsigned ch = u[i];
        if (!dt_utf8_next(u + i, n - i, &len) ||
            (len == 3 && ch == 0xef && u[i + 1] == 0xbf && u[i + 2] >= 0xbe)) {
            fputs("\xef\xbf\xbd", o); /* ill-formed (utf8.h), or U+FFFE/U+FFFF: not XML */
        } else if (len > 1) {
            fwrite(u + i, 1, len, o);
        } else {
            switch (ch) {
            case '&': fputs("&amp;", o); break;
            case '<': fputs("&lt;", o); break;
            case '>': fputs("&gt;", o); break;
            case '"': fputs("&quot;", o); break;
            case '\'': fputs("&apos;", o); break;
            default:
                if (ch >= 0x20 || ch == '\t' || ch == '\n')
                    fputc((int)ch, o);
                else
                    fputc('?', o);
            }
        }
    }
}

/* The axis unit for times up to ns (ns, us, ms or s). */
static void axis_unit(double ns, double *unit, const char **uname) {
    if (ns < 2e3)
        *unit = 1, *uname = "ns";
    else if (ns < 2e6)
        *unit = 1e3, *uname = "\xc2\xb5s";
    else if (ns < 2e9)
        *unit = 1e6, *uname = "ms";
    else
        *unit = 1e9, *uname = "s";
}

/* A "nice" tick step (1, 2, 5 x 10^k) for about ten ticks over span_ns. */
static double axis_step(double span_ns) {
    double raw = span_ns / 10;
    double p = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void fmt_num(char *b, size_t n, double v) {
    snprintf(b, n, "%.6g", v);
}

/* Ticks at round times from the trace start (t0), labelled with them, so
 * a zoomed view shows the times to type for --from/--to.  The label unit
 * follows the largest time shown (800.1 ms, not 800100 us), with the
 * decimals the step needs. */
static void draw_axis(tl_ctx *c, FILE *o, int top, int bottom) {
    double span = dt_span_ns(c->from, c->to), step = axis_step(span), unit;
    const char *uname;
    double lo = dt_span_ns(c->t0, c->from); /* the window, in ns from t0 */
    double far = fabs(lo) > fabs(lo + span) ? fabs(lo) : fabs(lo + span);
    axis_unit(far > span ? far : span, &unit, &uname);
    int decimals = 0;
    while (decimals < 9 && step / unit * pow(10, decimals) < 0.999)
        decimals++;
    double first = ceil(lo / step - 1e-9) * step;
    fprintf(o, "<g class=\"axis\">\n");
    fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", LABEL_W, top,
            LABEL_W + c->plot_w, top);
    for (double t = first; t <= lo + span + step * 1e-9; t += step) {
        double x = LABEL_W + (t - lo) / c->ns_per_px;
        double v = t / unit;
        if (fabs(v) < 0.5 * pow(10, -decimals)) v = 0; /* no "-0.0" */
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f %s</text>\n",
                x, top, x, bottom, x, top - 4, x, top, x, top - 7, decimals, v, uname);
    }
    fprintf(o, "</g>\n");
}

/* One box per run of columns with the same row and dominant name. */
static void draw_narrow_level(tl_ctx *c, FILE *o, lane *l, const int *base, int r) {
    const column *cols = l->cols + (size_t)r * (size_t)c->plot_w;
    char col[24];
    for (int k = 0; k < c->plot_w;) {
        if (!cols[k].count && cols[k].busy <= 0) {
            k++;
            continue;
        }
        int a = k;
        double busy = 0;
        uint64_t cnt = 0;
        while (k < c->plot_w && (cols[k].count || cols[k].busy > 0) &&
               cols[k].cand == cols[a].cand && base[k] == base[a]) {
            busy += cols[k].busy;
            cnt += cols[k].count;
            k++;
        }
        double frac = busy / (c->ns_per_px * (k - a));
        if (frac > 1) frac = 1;
        color_of(c, cols[a].cand, col);
        fprintf(o,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                "fill-opacity=\"%.2f\"><title>%" PRIu64 " short spans (mostly ",
                LABEL_W + a, l->y + (base[a] + r) * ROW_H + 1, k - a, ROW_H - 2, col,
                0.35 + 0.65 * frac, cnt);
        xml_text(o, c->names[cols[a].cand].s, 0);
        fprintf(o, "), busy %.0f%%</title></rect>\n", frac * 100);
    }
}

static void draw_lane(tl_ctx *c, FILE *o, lane *l, const int *base) {
    int y = l->y, h = l->rows * ROW_H;
    char col[24], b1[32], b2[32];
    fprintf(o, "<g class=\"lane\" data-pid=\"");
    xml_text(o, l->pid, 0);
    fprintf(o, "\" data-tid=\"");
    xml_text(o, l->tid, 0);
    fprintf(o, "\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f7f7f7\"/>\n",
            LABEL_W, y, c->plot_w, h);
    fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"label\">", 14, y + 12);
    const char *tname = dt_meta_thread_name(&c->meta, l->pid, l->tid);
    if (tname) {
        xml_text(o, tname, 18);
        fprintf(o, " (");
        xml_text(o, l->tid, 10);
        fprintf(o, ")");
    } else {
        fprintf(o, "thread ");
        xml_text(o, l->tid, 20);
    }
    fprintf(o, "</text>\n");
    for (size_t i = 0; i < l->n_spans; i++) {
        wide_span *sp = &l->spans[i];
        double x = LABEL_W + px_of(c, sp->s), w = dt_span_ns(sp->s, sp->e) / c->ns_per_px;
        color_of(c, sp->name, col);
        fprintf(o, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"%s><title>",
                x, y + (int)sp->depth * ROW_H + 1, w, ROW_H - 2, col,
                sp->open ? " stroke=\"#c00\" stroke-dasharray=\"3,2\"" : "");
        xml_text(o, c->names[sp->name].s, 0);
        /* its own duration and start (from the trace start), even when cut */
        double at = dt_span_ns(c->t0, sp->os);
        fprintf(o, " \xe2\x80\x94 %s at %s%s%s</title></rect>\n",
                dt_format_duration(b1, sizeof b1, dt_span_ns(sp->os, sp->oe)), at < 0 ? "-" : "+",
                dt_format_duration(b2, sizeof b2, fabs(at)), sp->open ? " (never closed)" : "");
        if (w > 40) { /* the name fits inside: say it */
            fprintf(o, "<text x=\"%.2f\" y=\"%d\" class=\"in\">", x + 3,
                    y + (int)sp->depth * ROW_H + 12);
            xml_text(o, c->names[sp->name].s, (size_t)((w - 6) / 6.5));
            fprintf(o, "</text>\n");
        }
    }
    for (int r = 0; l->cols && r < NARROW_LEVELS; r++) /* aggregated narrow spans */
        draw_narrow_level(c, o, l, base, r);
    if (l->ticks) {
        int marked = 0;
        for (int k = 0; k < c->plot_w; k++)
            marked += l->ticks[k] != 0;
        /* Lines through the lane only while they are sparse enough to read. */
        if (marked * 8 < c->plot_w) {
            fprintf(o, "<path class=\"tick\" d=\"");
            for (int k = 0; k < c->plot_w; k++)
                if (l->ticks[k]) fprintf(o, "M%d.5 %dv%d", LABEL_W + k, y, h);
            fprintf(o, "\"/>\n");
        }
        fprintf(o, "<path class=\"mark\" d=\"");
        for (int k = 0; k < c->plot_w; k++) /* a small triangle above each instant */
            if (l->ticks[k]) fprintf(o, "M%d.5 %dl-3.5 -5h7z", LABEL_W + k, y);
        fprintf(o, "\"/>\n");
    }
    fprintf(o, "</g>\n");
}

static void draw_counter(tl_ctx *c, FILE *o, counter *k) {
    int y = k->y;
    if (k->has_pre) {
        if (!k->has || k->pre < k->min) k->min = k->pre;
        if (!k->has || k->pre > k->max) k->max = k->pre;
    }
    double lo = k->min, hi = k->max;
    if (hi == lo) hi = lo + 1;
    fprintf(o,
            "<g class=\"counter\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"#fbfbf5\"/>\n<text x=\"14\" y=\"%d\" class=\"label\">",
            LABEL_W, y, c->plot_w, COUNTER_H, y + 12);
    xml_text(o, k->label, 26);
    char b1[32], b2[32];
    fmt_num(b1, sizeof b1, k->min);
    fmt_num(b2, sizeof b2, k->max);
    fprintf(o, "</text>\n<text x=\"14\" y=\"%d\" class=\"small\">%s .. %s</text>\n", y + 26, b1,
            b2);
    fprintf(o, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.2\" points=\"");
    double span = COUNTER_H - 6;
#define CY(v) (y + 3 + span - ((v)-lo) / (hi - lo) * span)
    /* A counter is a step function: it holds each value until the next. */
    bool have = k->has_pre;
    double prev = k->pre;
    if (have) fprintf(o, "%d,%.1f ", LABEL_W, CY(prev));
    for (int i = 0; i < c->plot_w; i++) {
        cpoint *p = &k->pts[i];
        if (!p->has) continue;
        double x = LABEL_W + i + 0.5;
        if (have) fprintf(o, "%.1f,%.1f ", x, CY(prev));
        fprintf(o, "%.1f,%.1f ", x, CY(p->first));
        if (p->min != p->max) fprintf(o, "%.1f,%.1f %.1f,%.1f ", x, CY(p->min), x, CY(p->max));
        fprintf(o, "%.1f,%.1f ", x, CY(p->last));
        prev = p->last;
        have = true;
    }
    if (have) fprintf(o, "%d,%.1f", LABEL_W + c->plot_w, CY(prev));
#undef CY
    fprintf(o, "\"/>\n</g>\n");
}

static int cmp_name_total(const void *a, const void *b, void *vctx) {
    const tl_ctx *c = vctx;
    double x = c->names[*(const uint32_t *)a].total, y = c->names[*(const uint32_t *)b].total;
    if (x != y) return x > y ? -1 : 1;
    return strcmp(c->names[*(const uint32_t *)a].s, c->names[*(const uint32_t *)b].s);
}

/* Text sort of ids that puts numbers in numeric order. */
static int cmp_idtext(const char *a, const char *b) {
    char *ea, *eb;
    long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
    bool na = *a && !*ea, nb = *b && !*eb;
    if (na && nb) return x < y ? -1 : x > y;
    if (na != nb) return na ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_lane(const void *pa, const void *pb) {
    const lane *a = pa, *b = pb;
    int r = cmp_idtext(a->pid, b->pid);
    return r ? r : cmp_idtext(a->tid, b->tid);
}

static int write_svg(tl_ctx *c, FILE *o, char *const *files, int nfiles) {
    uint32_t *order = malloc((c->n_names + 1) * sizeof *order);
    int **bases = calloc(c->n_lanes + 1, sizeof *bases);
    if (!order || !bases) {
        free(order);
        free(bases);
        return oom();
    }
    if (c->n_lanes > 1) qsort(c->lanes, c->n_lanes, sizeof *c->lanes, cmp_lane);
    int rc = 0;
    for (size_t i = 0; i < c->n_lanes && !rc; i++)
        rc = layout_lane(c, &c->lanes[i], &bases[i]);
    for (uint32_t i = 0; i < c->n_names; i++)
        order[i] = i;
    qsort_r(order, c->n_names, sizeof *order, cmp_name_total, c);

    /* vertical layout: header, axis, lanes grouped by process, counters, legend */
    int y = 62, top = 56;
    const char *cur_pid = NULL;
    int *pid_y = calloc(c->n_lanes + 1, sizeof *pid_y);
    for (size_t i = 0; i < c->n_lanes && pid_y; i++) {
        lane *l = &c->lanes[i];
        if (!cur_pid || strcmp(cur_pid, l->pid)) {
            cur_pid = l->pid;
            pid_y[i] = y + 12;
            y += 18;
            for (size_t k = 0; k < c->n_counters; k++) /* this process's counters */
                if (!strcmp(c->counters[k].pid, l->pid)) {
                    c->counters[k].y = y;
                    y += COUNTER_H + LANE_GAP;
                }
        }
        l->y = y;
        y += l->rows * ROW_H + LANE_GAP;
    }
    for (size_t k = 0; k < c->n_counters; k++) /* counters of processes without lanes */
        if (!c->counters[k].y) {
            c->counters[k].y = y;
            y += COUNTER_H + LANE_GAP;
        }
    int bottom = y;
    size_t legend_n = c->n_names < LEGEND_MAX ? c->n_names : LEGEND_MAX;
    int legend_rows = (int)((legend_n + 3) / 4);
    int height = bottom + 30 + legend_rows * 18 + (c->n_names > legend_n ? 18 : 0) + 16;
    int width = LABEL_W + c->plot_w + RIGHT_PAD;

    fprintf(o,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
            "font-size=\"11\">\n",
            width, height, width, height);
    fprintf(
        o, "<style>.label{font-size:11px;fill:#222}.proc{font-size:12px;font-weight:bold;"
           "fill:#111}.small{font-size:9px;fill:#666}.in{font-size:10px;fill:#111;"
           "pointer-events:none}.tick{stroke:#000;stroke-opacity:.3;stroke-width:1}.mark{fill:#222}"
           ".lane rect:hover{stroke:#000;stroke-width:1}</style>\n");
    fprintf(o, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", width, height);
    fprintf(o, "<text x=\"14\" y=\"20\" font-size=\"14\" font-weight=\"bold\">");
    for (int i = 0; i < nfiles && i < 3; i++) {
        if (i) fprintf(o, ", ");
        xml_text(o, files[i], 60);
    }
    if (nfiles > 3) fprintf(o, " and %d more", nfiles - 3);
    char b1[32];
    char b2[32], b3[32];
    double wa = dt_span_ns(c->t0, c->from), wb = dt_span_ns(c->t0, c->to);
    fprintf(o,
            "</text>\n<text x=\"14\" y=\"36\" class=\"small\">%" PRIu64
            " events, %zu lanes; %s%s .. %s%s (%s) from the trace start t0 = @",
            c->events, c->n_lanes, wa < 0 ? "-" : "", dt_format_duration(b2, sizeof b2, fabs(wa)),
            wb < 0 ? "-" : "", dt_format_duration(b3, sizeof b3, fabs(wb)),
            dt_format_duration(b1, sizeof b1, dt_span_ns(c->from, c->to)));
    uint64_t a = c->t0 < 0 ? -(uint64_t)c->t0 : (uint64_t)c->t0;
    fprintf(o, "%s%" PRIu64 ".%09" PRIu64 " s (trace clock)", c->t0 < 0 ? "-" : "", a / 1000000000u,
            a % 1000000000u);
    if (c->aggregated)
        fprintf(o, "; %" PRIu64 " spans narrower than a pixel drawn as shaded boxes",
                c->aggregated);
    fprintf(o, "</text>\n");
    draw_axis(c, o, top, bottom);
    cur_pid = NULL;
    for (size_t i = 0; i < c->n_lanes; i++) {
        lane *l = &c->lanes[i];
        if (pid_y && pid_y[i]) {
            const char *pn = dt_meta_process_name(&c->meta, l->pid);
            fprintf(o, "<text x=\"6\" y=\"%d\" class=\"proc\">", pid_y[i]);
            if (pn) {
                xml_text(o, pn, 20);
                fprintf(o, " (");
                xml_text(o, l->pid, 12);
                fprintf(o, ")");
            } else {
                fprintf(o, "process ");
                xml_text(o, l->pid, 24);
            }
            fprintf(o, "</text>\n");
        }
        draw_lane(c, o, l, bases[i]);
    }
    for (size_t k = 0; k < c->n_counters; k++)
        draw_counter(c, o, &c->counters[k]);
    int ly = bottom + 24;
    fprintf(o,
            "<g class=\"legend\">\n<text x=\"14\" y=\"%d\" class=\"proc\">names by total "
            "time</text>\n",
            ly);
    for (size_t i = 0; i < legend_n; i++) {
        int lx = 160 + (int)(i % 4) * ((width - 180) / 4), yy = ly + (int)(i / 4) * 18;
        char col[24];
        color_of(c, order[i], col);
        fprintf(o,
                "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\">",
                lx, yy - 10, col, lx + 16, yy);
        xml_text(o, c->names[order[i]].s, 28);
        fprintf(o, " (%s, %" PRIu64 ")</text>\n",
                dt_format_duration(b1, sizeof b1, c->names[order[i]].total),
                c->names[order[i]].count);
    }
    if (c->n_names > legend_n)
        fprintf(o, "<text x=\"160\" y=\"%d\" class=\"small\">and %zu more names</text>\n",
                ly + legend_rows * 18, c->n_names - legend_n);
    fprintf(o, "</g>\n</svg>\n");
    for (size_t i = 0; i < c->n_lanes; i++)
        free(bases[i]);
    free(bases);
    free(order);
    free(pid_y);
    return rc ? oom() : 0;
}

static void free_ctx(tl_ctx *c) {
    for (size_t i = 0; i < c->n_lanes; i++) {
        lane *l = &c->lanes[i];
        free(l->pid);
        free(l->tid);
        free(l->spans);
        free(l->cols);
        free(l->pend);
        free(l->roots);
        free(l->ticks);
    }
    for (size_t k = 0; k < c->n_counters; k++) {
        free(c->counters[k].pid);
        free(c->counters[k].label);
        free(c->counters[k].pts);
    }
    free(c->lanes);
    free(c->counters);
    free(c->names);
    dt_strmap_free(&c->names_map);
    dt_strmap_free(&c->lanes_map);
    dt_strmap_free(&c->counters_map);
    dt_meta_names_free(&c->meta);
    dt_spans_free(c->spans);
    dt_runs_free(&c->runs);
}

int dt_cmd_timeline(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, {"output", 1, NULL, 'o'},
                                         DT_OUTPUT_LONGOPT,      {"width", 1, NULL, OPT_WIDTH},
                                         DT_FILTER_LONGOPTS,     {0}};
    tl_ctx c;
    memset(&c, 0, sizeof c);
    c.width = 1600;
    int first;
    int rc =
        dt_parse_args(argc, argv, "o:", opts, timeline_help, &c.f, timeline_option, &c, 1, &first);
    if (rc >= 0) return rc;
    if (!c.out_path) return dt_usage("no output file: give -o OUT.svg");
    c.plot_w = (int)c.width - LABEL_W - RIGHT_PAD;
    /* The window and --name apply to whole spans, not to B and E separately. */
    c.given = c.f;
    dt_filter_split(&c.given, &c.f, &c.after);
    c.spans = dt_spans_new();
    if (!c.spans) return oom();
    int files = argc - first;
    /* Pass 1, over every event: the trace start (t0, which the axis and
     * --from/--to count from) and the extent of what the filters keep. */
    int st = dt_each_event_runs(argv + first, files, NULL, span_event, NULL, &c, &c.runs);
    if ((rc = dt_filter_set_start(&c.given, c.have_t0 ? c.t0 : 0)) != DT_OK) {
        free_ctx(&c);
        return rc;
    }
    if (!c.have_t0) c.t0 = 0;
    c.has_from = c.given.has_from, c.has_to = c.given.has_to;
    c.from = c.given.from_ns, c.to = c.given.to_ns;
    if (!c.has_from) c.from = c.ns_min;
    if (!c.has_to) c.to = c.ns_max;
    if (!c.pass1_any && !(c.has_from && c.has_to)) c.from = c.to = c.t0;
    if (c.to <= c.from) { /* an empty or instant trace: 1 us */
        if (c.from > INT64_MAX - 1000) c.from = INT64_MAX - 1000;
        c.to = c.from + 1000;
    }
    c.ns_per_px = dt_span_ns(c.from, c.to) / c.plot_w;
    int st2 = dt_each_event(argv + first, files, &c.f, collect_event, NULL, &c);
    if (st2 != DT_OK) st = st2;
    if (dt_spans_finish(c.spans, add_paired, &c)) st = oom(); /* never closed: to the end */
    if (st == DT_FAIL && c.events == 0 && !c.pass1_any) {
        free_ctx(&c);
        return DT_FAIL; /* nothing readable: no picture */
    }
    dt_out out;
    if (dt_out_open(&out, c.out_path, 0) != DT_OK) {
        free_ctx(&c);
        return DT_FAIL;
    }
    if (write_svg(&c, out.f, argv + first, files)) {
        dt_out_abort(&out); /* never a half-written picture in place of the old one */
        st = DT_FAIL;
    } else if (dt_out_commit(&out) != DT_OK) {
        st = DT_FAIL;
    }
    fflush(stdout);
    dt_spans_report(c.spans, stderr, "dasf-trace timeline: ");
    if (dt_window_report(&c.given) != DT_OK) st = DT_FAIL;
    free_ctx(&c);
    return st;
}
