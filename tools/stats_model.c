/*
 * stats_model.c — collecting durations and self times for `stats`
 * (stats_model.h).  40 bytes per span at most (exact mode), the only
 * memory that grows with the trace.
 */
#include "stats_model.h"

#include "align.h"
#include "array.h"
#include "ids.h"
#include "messages.h"
#include "numbers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds "prefix\tname" into c->key; prefix is the thread/process text. */
static const char *make_key(stats_ctx *c, const char *prefix, size_t plen, const char *name,
                            size_t nlen, size_t *klen) {
    size_t need = plen + nlen + 2;
    if (need > c->key_cap) {
        size_t cap = c->key_cap ? c->key_cap : 256;
        while (cap < need)
            cap *= 2;
        char *k = realloc(c->key, cap);
        if (!k) return NULL;
        c->key = k;
        c->key_cap = cap;
    }
    size_t o = 0;
    if (plen) {
        memcpy(c->key, prefix, plen);
        c->key[plen] = '\t';
        o = plen + 1;
    }
    memcpy(c->key + o, name, nlen);
    c->key[o + nlen] = 0;
    *klen = o + nlen;
    return c->key;
}

static size_t scope_index(stats_ctx *c, const char *s, size_t n) {
    bool created;
    dt_strent *e = dt_strmap_get(&c->scopes_map, s, n, &created);
    if (!e) return SIZE_MAX;
    if (created) {
        if (dt_grow((void **)&c->scope_total, &c->cap_scopes, c->n_scopes, sizeof *c->scope_total))
            return SIZE_MAX;
        c->scope_total[c->n_scopes] = 0;
        e->val = c->n_scopes++;
    }
    return e->val;
}

/* The group of an event's name (in its thread/process when --by). */
static size_t group_of(stats_ctx *c, const char *name, const char *scope, size_t slen) {
    size_t nlen = strlen(name), klen;
    const char *key = make_key(c, scope, slen, name, nlen, &klen);
    if (!key) return SIZE_MAX;
    bool created;
    dt_strent *e = dt_strmap_get(&c->groups_map, key, klen, &created);
    if (!e) return SIZE_MAX;
    if (created) {
        if (dt_grow((void **)&c->groups, &c->cap_groups, c->n_groups, sizeof *c->groups))
            return SIZE_MAX;
        group *g = &c->groups[c->n_groups];
        memset(g, 0, sizeof *g);
        g->label = e->key;
        g->name_len = nlen;
        g->scope = scope_index(c, scope, slen);
        if (g->scope == SIZE_MAX) return SIZE_MAX;
        e->val = c->n_groups++;
    }
    return e->val;
}

/* Self time.  A span's children are the spans of its thread that lie
 * inside it and are not inside another of its children.  Spans nearly
 * always arrive in end order (a profiler writes a span when it ends, a B/E
 * pair closes at its E), children before their parent: then each thread
 * keeps only its top-level spans so far (roots, by start), and a span's
 * children are the roots starting at or after it, popped when it arrives,
 * so its self time is final at once (stream_self).  A thread whose spans
 * come in another order, or overlap without nesting, makes the verb read
 * its files again in exact mode: every span kept as a span_rec, sorted by
 * thread and start at the end (self_times).  Both give the same figures;
 * the exact one costs 40 bytes per span and a sort. */
typedef struct span_rec {
    int64_t s, e;
    int64_t self;   /* e - s minus the children's time, after self_times() */
    uint32_t group; /* UINT32_MAX: not counted (filtered out), still a parent */
    uint32_t thread;
    uint64_t seq; /* arrival: of two equal spans the later one is the parent */
} span_rec;

typedef struct root {
    int64_t s, e;
} root;

typedef struct thread_self {
    root *r; /* top-level spans so far, by start (end order keeps them sorted) */
    size_t n, cap;
    int64_t last_end;
    bool any;
} thread_self;

static void add_self(stats_ctx *c, size_t gi, int64_t self) {
    if (gi == SIZE_MAX) return;
    group *g = &c->groups[gi];
    if (self < 0) self = 0;
    g->self = dt_add_ns(g->self, self);
    c->scope_total[g->scope] = dt_add_ns(c->scope_total[g->scope], self);
}

/* Makes *arr (of *cap elements of sz bytes) hold index, new ones zeroed. */
static int grow_zeroed(void **arr, size_t *cap, size_t index, size_t sz) {
    if (index < *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n <= index)
        n *= 2;
    char *p = realloc(*arr, n * sz);
    if (!p) return -1;
    memset(p + *cap * sz, 0, (n - *cap) * sz);
    *arr = p;
    *cap = n;
    return 0;
}

/* @return ST_OK, ST_NO_MEMORY, or ST_RESTART when the order does not
 * allow streaming. */
static int stream_self(stats_ctx *c, size_t thread, int64_t s, int64_t e, size_t gi) {
    if (grow_zeroed((void **)&c->ts, &c->n_ts, thread, sizeof *c->ts)) return ST_NO_MEMORY;
    thread_self *t = &c->ts[thread];
    if (t->any && e < t->last_end) return ST_RESTART; /* not in end order */
    int64_t child = 0;
    while (t->n && t->r[t->n - 1].s >= s) { /* ended before e: inside [s, e] */
        child = dt_add_ns(child, t->r[t->n - 1].e - t->r[t->n - 1].s);
        t->n--;
    }
    if (t->n && t->r[t->n - 1].e > s) return ST_RESTART; /* overlap, no nesting */
    if (dt_grow((void **)&t->r, &t->cap, t->n, sizeof *t->r)) return ST_NO_MEMORY;
    t->r[t->n++] = (root){s, e};
    t->last_end = e;
    t->any = true;
    add_self(c, gi, dt_sub_ns(e - s, child));
    return ST_OK;
}

static int add_rec(stats_ctx *c, size_t thread, int64_t start, int64_t d, size_t gi) {
    if (thread == SIZE_MAX) return ST_NO_MEMORY;
    if (d < 0) d = 0;
    int64_t end = dt_add_ns(start, d);
    if (!c->exact) return stream_self(c, thread, start, end, gi);
    if (dt_grow((void **)&c->recs, &c->cap_recs, c->n_recs, sizeof *c->recs)) return ST_NO_MEMORY;
    c->recs[c->n_recs] = (span_rec){
        start,    end, end - start, gi == SIZE_MAX ? UINT32_MAX : (uint32_t)gi, (uint32_t)thread,
        c->n_recs};
    c->n_recs++;
    return ST_OK;
}

/* A span [start, start + d]; counted when it overlaps the time window. */
static int add_duration(stats_ctx *c, size_t gi, int64_t start, int64_t d, bool pair,
                        size_t thread) {
    if (d < 0) d = 0;
    if ((c->has_from && dt_add_ns(start, d) < c->from) || (c->has_to && start > c->to))
        return add_rec(c, thread, start, d, SIZE_MAX);
    if (pair)
        c->n_pairs++;
    else
        c->n_x++;
    if (c->has_from || c->has_to) dt_window_hit(&c->after);
    group *g = &c->groups[gi];
    if (dt_grow((void **)&g->d, &g->cap, g->n, sizeof *g->d)) return ST_NO_MEMORY;
    g->d[g->n++] = d;
    g->total = dt_add_ns(g->total, d);
    if (g->n == 1 || d > g->max) g->max = d;
    return add_rec(c, thread, start, d, gi);
}

static int cmp_rec(const void *pa, const void *pb) {
    const span_rec *a = pa, *b = pb;
    if (a->thread != b->thread) return a->thread < b->thread ? -1 : 1;
    if (a->s != b->s) return a->s < b->s ? -1 : 1;
    if (a->e != b->e) return a->e > b->e ? -1 : 1; /* the longer one is the parent */
    return a->seq > b->seq ? -1 : a->seq < b->seq;
}

/* Exact mode: per thread, spans by start (longest first); each span's
 * parent is the innermost earlier span still running at its start, which
 * loses the part of the child inside it.  Then every counted span adds its
 * self time to its group and to its share scope. */
int dt_stats_self_times(stats_ctx *c) {
    if (c->n_recs > 1) qsort(c->recs, c->n_recs, sizeof *c->recs, cmp_rec);
    size_t *stack = malloc((c->n_recs + 1) * sizeof *stack), n = 0;
    if (!stack) return -1;
    for (size_t i = 0; i < c->n_recs; i++) {
        span_rec *r = &c->recs[i];
        while (n && (c->recs[stack[n - 1]].thread != r->thread || c->recs[stack[n - 1]].e <= r->s))
            n--;
        if (n) {
            span_rec *p = &c->recs[stack[n - 1]];
            p->self -= (r->e < p->e ? r->e : p->e) - r->s; /* within [0, p->e - p->s] */
        }
        stack[n++] = i;
    }
    free(stack);
    for (size_t i = 0; i < c->n_recs; i++) {
        const span_rec *r = &c->recs[i];
        if (r->group != UINT32_MAX) add_self(c, r->group, r->self);
    }
    free(c->recs);
    c->recs = NULL;
    c->n_recs = 0;
    return 0;
}

/* "pid" or "pid\ttid" (--by) into buf; returns the scope's length. */
static size_t scope_text(const stats_ctx *c, const char *pid, const char *tid, char *buf) {
    if (c->by == BY_NAME) return buf[0] = 0, 0;
    if (c->by == BY_RANK) { /* the rank its clock samples name, else its pid */
        char *end;
        long long v = strtoll(pid, &end, 10);
        int64_t rank = *end || end == pid ? -1 : dt_align_rank_of(c->align, v);
        return (size_t)(rank >= 0 ? sprintf(buf, "rank %lld", (long long)rank)
                                  : sprintf(buf, "pid %.40s", pid));
    }
    size_t plen = strlen(pid);
    memcpy(buf, pid, plen + 1);
    if (c->by == BY_PROCESS) return plen;
    buf[plen] = '\t';
    strcpy(buf + plen + 1, tid);
    return plen + 1 + strlen(tid);
}

/* add_rec's result (a stats_status) as the visit's: ST_NO_MEMORY said. */
static int status(int rc) {
    return rc == ST_NO_MEMORY ? dt_oom() : rc;
}

/* Notes that run `run` contributed to the table. */
static int use_run(stats_ctx *c, size_t run) {
    if (grow_zeroed((void **)&c->run_used, &c->cap_run_used, run, sizeof *c->run_used)) return -1;
    if (!c->run_used[run]) c->n_runs_used++;
    c->run_used[run] = true;
    return 0;
}

int dt_stats_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    stats_ctx *c = vctx;
    bool match = !c->filtering || dt_filter_match(&c->after, ev);
    c->events += match;
    if (match && in->run != SIZE_MAX && use_run(c, in->run)) return dt_oom();
    dasf_phase ph = ev->phase;
    char scope[2 * DT_ID_TEXT_MAX + 2];
    size_t slen;
    if (ph == DASF_PHASE_METADATA) return dt_meta_names_event(&c->meta, ev) ? dt_oom() : 0;
    if (ph == DASF_PHASE_DURATION_BEGIN || ph == DASF_PHASE_DURATION_END) {
        if (!c->pairs) return 0;
        dt_span sp;
        int role = dt_spans_event(c->spans, in, ev, &sp);
        if (role < 0) return DT_FAIL;
        if (role != DT_SPAN_CLOSE) return 0;
        size_t gi = SIZE_MAX;
        if (dt_filter_match_span(&c->after, sp.name)) {
            const char *pid, *tid;
            dt_spans_thread(c->spans, sp.thread, &pid, &tid, NULL);
            slen = scope_text(c, pid, tid, scope);
            gi = group_of(c, sp.name, scope, slen);
            if (gi == SIZE_MAX) return dt_oom();
            return status(add_duration(c, gi, sp.start_ns, dt_sub_ns(sp.end_ns, sp.start_ns), true,
                                       sp.thread));
        }
        return status(
            add_rec(c, sp.thread, sp.start_ns, dt_sub_ns(sp.end_ns, sp.start_ns), SIZE_MAX));
    }
    if (ph != DASF_PHASE_COMPLETE) return 0;
    size_t thread = dt_spans_thread_of(c->spans, in, ev);
    int64_t d = ev->duration_ns > 0 ? ev->duration_ns : 0;
    if (!match) return status(add_rec(c, thread, ev->timestamp_ns, d, SIZE_MAX));
    const char *pid = "", *tid = "";
    if (c->by != BY_NAME) {
        if (thread == SIZE_MAX) return dt_oom();
        dt_spans_thread(c->spans, thread, &pid, &tid, NULL);
    }
    slen = scope_text(c, pid, tid, scope);
    size_t gi = group_of(c, ev->name ? ev->name : "", scope, slen);
    if (gi == SIZE_MAX) return dt_oom();
    return status(add_duration(c, gi, ev->timestamp_ns, d, false, thread));
}

void dt_stats_free(stats_ctx *c) {
    for (size_t i = 0; i < c->n_groups; i++)
        free(c->groups[i].d);
    free(c->groups);
    dt_spans_free(c->spans);
    free(c->scope_total);
    free(c->recs);
    for (size_t i = 0; i < c->n_ts; i++)
        free(c->ts[i].r);
    free(c->ts);
    free(c->run_used);
    dt_runs_free(&c->runs);
    dt_meta_names_free(&c->meta);
    free(c->key);
    dt_strmap_free(&c->groups_map);
    dt_strmap_free(&c->scopes_map);
}
