/*
 * timeline_model.c — the timeline's two reading passes and its lane
 * layout (timeline_model.h says what is kept and why it stays bounded).
 */
#include "timeline_model.h"

#include "array.h"
#include "ids.h"
#include "messages.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pass 1: the time span ------------------------------------------------ */

/* Every event: the trace start (t0); events the filters keep: the view's
 * extent when --from/--to do not give it. */
int dt_tl_span_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
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
int dt_tl_add_paired(void *vctx, const dt_span *sp) {
    tl_ctx *c = vctx;
    if (!dt_filter_match_span(&c->after, sp->name)) return 0;
    lane *l = lane_of_span(c, sp);
    uint32_t n = name_index(c, sp->name);
    if (!l || n == UINT32_MAX) return -1;
    int64_t end = sp->open ? (c->t_end > sp->start_ns ? c->t_end : sp->start_ns) : sp->end_ns;
    return add_span(c, l, sp->start_ns, end, n, sp->open);
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

int dt_tl_collect_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    tl_ctx *c = vctx;
    c->events += dt_filter_match(&c->after, ev);
    dasf_phase ph = ev->phase;
    if (ph == DASF_PHASE_COUNTER)
        return !dt_filter_match(&c->after, ev) || !add_counter(c, ev) ? 0 : dt_oom();
    if (ph != DASF_PHASE_COMPLETE && ph != DASF_PHASE_DURATION_BEGIN &&
        ph != DASF_PHASE_DURATION_END && ph != DASF_PHASE_INSTANT && ph != DASF_PHASE_METADATA &&
        ph != DASF_PHASE_ASYNC_INSTANT && ph != DASF_PHASE_MARK)
        return 0; /* async/flow/object events have no place in a lane picture */
    if (ph == DASF_PHASE_METADATA) return dt_meta_names_event(&c->meta, ev) ? dt_oom() : 0;
    if (ph == DASF_PHASE_DURATION_BEGIN || ph == DASF_PHASE_DURATION_END) {
        if (!dt_filter_wants_pairs(&c->after)) return 0;
        dt_span sp;
        int role = dt_spans_event(c->spans, in, ev, &sp);
        if (role < 0) return DT_FAIL;
        if (role == DT_SPAN_CLOSE && dt_tl_add_paired(c, &sp)) return dt_oom();
        return 0;
    }
    if (!dt_filter_match(&c->after, ev)) return 0;
    lane *l = lane_of(c, ev);
    if (!l) return dt_oom();
    if (ph == DASF_PHASE_INSTANT || ph == DASF_PHASE_ASYNC_INSTANT || ph == DASF_PHASE_MARK)
        return add_tick(c, l, ev->timestamp_ns) ? dt_oom() : 0;
    uint32_t n = name_index(c, ev->name ? ev->name : "");
    if (n == UINT32_MAX) return dt_oom();
    int64_t s = ev->timestamp_ns;
    return add_span(c, l, s, dt_add_ns(s, ev->duration_ns > 0 ? ev->duration_ns : 0), n, false)
               ? dt_oom()
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
int dt_tl_layout_lane(tl_ctx *c, lane *l, int **base_out) {
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

void dt_tl_set_view(tl_ctx *c) {
    if (!c->have_t0) c->t0 = 0;
    c->has_from = c->given.has_from, c->has_to = c->given.has_to;
    c->from = c->given.from_ns, c->to = c->given.to_ns;
    if (!c->has_from) c->from = c->ns_min;
    if (!c->has_to) c->to = c->ns_max;
    if (!c->pass1_any && !(c->has_from && c->has_to)) c->from = c->to = c->t0;
    if (c->to <= c->from) { /* an empty or instant trace: 1 us */
        if (c->from > INT64_MAX - 1000) c->from = INT64_MAX - 1000;
        c->to = c->from + 1000;
    }
    c->ns_per_px = dt_span_ns(c->from, c->to) / c->plot_w;
}

void dt_tl_free(tl_ctx *c) {
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
