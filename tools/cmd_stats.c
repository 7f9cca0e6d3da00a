/*
 * cmd_stats.c — `dasf-trace stats`: the Python module's "function
 * bottleneck" analysis as a table.  Durations come from complete (X)
 * events and from B/E pairs, paired by spans.h (the one rule; B's left
 * open and E's without a B are counted and reported).  Per group: count,
 * total, self (exclusive) time, mean, p50, p95, max and share of the self
 * time.  Percentiles are exact (linear interpolation between closest
 * ranks, as numpy's default), from per-group arrays of integer nanoseconds
 * and quickselect.  Self time needs each span's children, which may come
 * before or after it: every span is kept as (start, end, thread, group)
 * and sorted once at the end (self_times).  40 bytes per span in all, the
 * only memory that grows with the trace.
 */
#include "align.h"
#include "args.h"
#include "array.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "metanames.h"
#include "numbers.h"
#include "runs.h"
#include "spans.h"
#include "strmap.h"
#include "verbs.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stats_help[] =
    "usage: dasf-trace stats [OPTIONS] [FILTERS] FILE...\n\n"
    "Durations per event name, as DASF's function-bottleneck analysis:\n"
    "count, total (with the spans nested inside), self (total minus the\n"
    "nested spans' time), mean, p50, p95, max and share of the self time in\n"
    "the table's scope (nested time counts once; shares add up to 100%).\n"
    "Durations come from X events and from B/E pairs: an E closes the most\n"
    "recent open B of its thread; threads with B events and no E (the Python\n"
    "module writes its ends as B) are read as B/B pairs and said so;\n"
    "unmatched ones are reported.\n\n"
    "  --by KEY      name (default), thread, process or rank (MPI traces, from\n"
    "                their clock samples): one row per name and\n"
    "                thread (or process); share is then within that thread\n"
    "                (process), like DASF's per-thread table; the names\n"
    "                thread_name/process_name metadata gave are shown\n"
    "  --sort KEY    total (default), self, count, mean, p50, p95, max or name\n"
    "  --top N       only the first N rows (after sorting)\n"
    "  --csv         comma-separated values, times in seconds\n\n"
    "--from/--to select the spans that overlap the window (whole spans: a B/E\n"
    "pair crossing the window's edge counts in full).\n\n";

enum { BY_NAME, BY_THREAD, BY_PROCESS, BY_RANK };

/* Scope columns of a row: process and thread, process, or rank. */
#define NSCOPE(c) ((c)->by == BY_THREAD ? 2 : (c)->by == BY_NAME ? 0 : 1)
enum { SORT_TOTAL, SORT_COUNT, SORT_MEAN, SORT_P50, SORT_P95, SORT_MAX, SORT_SELF, SORT_NAME };
enum { OPT_BY = DT_OPT_VERB, OPT_SORT, OPT_TOP, OPT_CSV };

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

static int stats_option(void *vctx, int opt, const char *arg) {
    stats_ctx *c = vctx;
    static const char *sorts[] = {"total", "count", "mean", "p50", "p95", "max", "self", "name"};
    switch (opt) {
    case OPT_BY:
        if (!strcmp(arg, "name"))
            c->by = BY_NAME;
        else if (!strcmp(arg, "thread"))
            c->by = BY_THREAD;
        else if (!strcmp(arg, "process"))
            c->by = BY_PROCESS;
        else if (!strcmp(arg, "rank"))
            c->by = BY_RANK;
        else
            return dt_usage("--by wants name, thread, process or rank, got '%s'", arg);
        return 1;
    case OPT_SORT:
        for (int i = 0; i < 8; i++)
            if (!strcmp(arg, sorts[i])) {
                c->sort = i;
                return 1;
            }
        return dt_usage("--sort wants total, self, count, mean, p50, p95, max or name, got '%s'",
                        arg);
    case OPT_TOP:
        if (!dt_parse_long(arg, 1, 1LL << 40, &c->top))
            return dt_usage("--top wants a positive number, got '%s'", arg);
        return 1;
    case OPT_CSV: c->csv = true; return 1;
    default: return 0;
    }
}

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

#define STATS_RESTART 100 /* visit's "read again in exact mode" */

/* b - a, saturated (a file can hold any int64 times, see dt_add_ns). */
static int64_t sub_ns(int64_t b, int64_t a) {
    int64_t r;
    if (__builtin_sub_overflow(b, a, &r)) return b > a ? INT64_MAX : INT64_MIN;
    return r;
}

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

/* @return 0, -1 out of memory, STATS_RESTART when the order does not allow
 * streaming. */
static int stream_self(stats_ctx *c, size_t thread, int64_t s, int64_t e, size_t gi) {
    if (grow_zeroed((void **)&c->ts, &c->n_ts, thread, sizeof *c->ts)) return -1;
    thread_self *t = &c->ts[thread];
    if (t->any && e < t->last_end) return STATS_RESTART; /* not in end order */
    int64_t child = 0;
    while (t->n && t->r[t->n - 1].s >= s) { /* ended before e: inside [s, e] */
        child = dt_add_ns(child, t->r[t->n - 1].e - t->r[t->n - 1].s);
        t->n--;
    }
    if (t->n && t->r[t->n - 1].e > s) return STATS_RESTART; /* overlap, no nesting */
    if (dt_grow((void **)&t->r, &t->cap, t->n, sizeof *t->r)) return -1;
    t->r[t->n++] = (root){s, e};
    t->last_end = e;
    t->any = true;
    add_self(c, gi, sub_ns(e - s, child));
    return 0;
}

static int add_rec(stats_ctx *c, size_t thread, int64_t start, int64_t d, size_t gi) {
    if (thread == SIZE_MAX) return -1;
    if (d < 0) d = 0;
    int64_t end = dt_add_ns(start, d);
    if (!c->exact) return stream_self(c, thread, start, end, gi);
    if (dt_grow((void **)&c->recs, &c->cap_recs, c->n_recs, sizeof *c->recs)) return -1;
    c->recs[c->n_recs] = (span_rec){
        start,    end, end - start, gi == SIZE_MAX ? UINT32_MAX : (uint32_t)gi, (uint32_t)thread,
        c->n_recs};
    c->n_recs++;
    return 0;
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
    if (dt_grow((void **)&g->d, &g->cap, g->n, sizeof *g->d)) return -1;
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
static int self_times(stats_ctx *c) {
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

/* add_rec's result as the visit's: -1 is out of memory. */
static int status(int rc) {
    return rc < 0 ? dt_oom() : rc;
}

/* Notes that run `run` contributed to the table. */
static int use_run(stats_ctx *c, size_t run) {
    if (grow_zeroed((void **)&c->run_used, &c->cap_run_used, run, sizeof *c->run_used)) return -1;
    if (!c->run_used[run]) c->n_runs_used++;
    c->run_used[run] = true;
    return 0;
}

static int stats_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
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
            return status(
                add_duration(c, gi, sp.start_ns, sub_ns(sp.end_ns, sp.start_ns), true, sp.thread));
        }
        return status(add_rec(c, sp.thread, sp.start_ns, sub_ns(sp.end_ns, sp.start_ns), SIZE_MAX));
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

/* The k-th smallest of a[0..n) (a is reordered). */
static int64_t select_kth(int64_t *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as the pivot keeps sorted input linear */
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = a[lo], y = a[mid], z = a[hi];
        int64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* numpy's default percentile: linear between the closest ranks. */
static double percentile(int64_t *a, size_t n, double p) {
    double pos = p * (double)(n - 1);
    size_t k = (size_t)pos;
    double frac = pos - (double)k;
    int64_t lo = select_kth(a, n, k);
    if (frac == 0 || k + 1 >= n) return (double)lo;
    int64_t hi = a[k + 1];
    for (size_t i = k + 2; i < n; i++) /* after selecting k, a[k+1..] are >= lo */
        if (a[i] < hi) hi = a[i];
    return (double)lo + frac * (double)(hi - lo);
}

static int sort_key;
static int cmp_groups(const void *pa, const void *pb) {
    const group *a = pa, *b = pb;
    double x = 0, y = 0;
    switch (sort_key) {
    case SORT_TOTAL: x = (double)a->total, y = (double)b->total; break;
    case SORT_COUNT: x = (double)a->n, y = (double)b->n; break;
    case SORT_MEAN: x = a->mean, y = b->mean; break;
    case SORT_P50: x = a->p50, y = b->p50; break;
    case SORT_P95: x = a->p95, y = b->p95; break;
    case SORT_MAX: x = (double)a->max, y = (double)b->max; break;
    case SORT_SELF: x = (double)a->self, y = (double)b->self; break;
    default: break;
    }
    if (x != y) return x < y ? 1 : -1;
    return strcmp(a->label, b->label);
}

static void finish_groups(stats_ctx *c) {
    size_t kept = 0;
    for (size_t i = 0; i < c->n_groups; i++) { /* a B that never closed has no row */
        if (c->groups[i].n)
            c->groups[kept++] = c->groups[i];
        else
            free(c->groups[i].d);
    }
    c->n_groups = kept;
    for (size_t i = 0; i < c->n_groups; i++) {
        group *g = &c->groups[i];
        g->mean = (double)g->total / (double)g->n;
        g->p50 = percentile(g->d, g->n, 0.50);
        g->p95 = percentile(g->d, g->n, 0.95);
        int64_t st = c->scope_total[g->scope];
        g->share = st > 0 ? 100.0 * (double)g->self / (double)st : 0;
        free(g->d);
        g->d = NULL;
    }
    sort_key = c->sort;
    if (c->n_groups > 1) qsort(c->groups, c->n_groups, sizeof *c->groups, cmp_groups);
}

/* Splits a label into its scope columns and the name (pointers into it). */
static void split_label(const stats_ctx *c, const group *g, char *cols[3]) {
    char *s = g->label;
    cols[0] = cols[1] = NULL;
    for (int i = 0; i < NSCOPE(c); i++) {
        cols[i] = s;
        s = strchr(s, '\t');
        *s++ = 0;
    }
    cols[2] = s;
}

static void csv_field(const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* The recorded name of the row's thread (--by thread) or process (--by
 * process), or NULL. */
static const char *scope_name(const stats_ctx *c, char *const cols[3]) {
    if (c->by == BY_THREAD) return dt_meta_thread_name(&c->meta, cols[0], cols[1]);
    if (c->by == BY_PROCESS) return dt_meta_process_name(&c->meta, cols[0]);
    return NULL;
}

static void print_csv(stats_ctx *c, size_t rows) {
    if (c->by == BY_THREAD) fputs("process_id,thread_id,thread_name,", stdout);
    if (c->by == BY_PROCESS) fputs("process_id,process_name,", stdout);
    if (c->by == BY_RANK) fputs("rank,", stdout);
    puts("name,count,total_s,self_s,mean_s,p50_s,p95_s,max_s,share_percent");
    for (size_t i = 0; i < rows; i++) {
        group *g = &c->groups[i];
        char *cols[3];
        split_label(c, g, cols);
        for (int k = 0; k < 2; k++)
            if (cols[k]) {
                csv_field(cols[k]);
                putchar(',');
            }
        if (c->by == BY_THREAD || c->by == BY_PROCESS) {
            const char *n = scope_name(c, cols);
            csv_field(n ? n : "");
            putchar(',');
        }
        csv_field(cols[2]);
        printf(",%zu,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.3f\n", g->n, (double)g->total / 1e9,
               (double)g->self / 1e9, g->mean / 1e9, g->p50 / 1e9, g->p95 / 1e9,
               (double)g->max / 1e9, g->share);
    }
}

#define NAME_MAX_WIDTH 60
#define SCOPE_MAX 96

static void print_table(stats_ctx *c, size_t rows) {
    static const char *hdr[] = {"count", "total", "self", "mean", "p50", "p95", "max", "share"};
    int wscope[2] = {7, 6}, wname = 4;
    char *(*cols)[3] = malloc((rows ? rows : 1) * sizeof *cols);
    char(*shown)[2][SCOPE_MAX] = malloc((rows ? rows : 1) * sizeof *shown);
    if (!cols || !shown) {
        free(cols);
        free(shown);
        dt_err("out of memory");
        return;
    }
    int nscope = NSCOPE(c);
    for (size_t i = 0; i < rows; i++) {
        split_label(c, &c->groups[i], cols[i]);
        for (int k = 0; k < nscope; k++) { /* the id, with its recorded name: "main (1)" */
            const char *n = k == nscope - 1 ? scope_name(c, cols[i]) : NULL;
            if (n)
                snprintf(shown[i][k], SCOPE_MAX, "%s (%s)", n, cols[i][k]);
            else
                snprintf(shown[i][k], SCOPE_MAX, "%s", cols[i][k]);
            if ((int)strlen(shown[i][k]) > wscope[k]) wscope[k] = (int)strlen(shown[i][k]);
        }
        int l = (int)strlen(cols[i][2]);
        if (l > wname) wname = l > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : l;
    }
    static const char *scope_hdr[] = {"process", "thread"};
    for (int k = 0; k < nscope; k++)
        printf("%-*s  ", wscope[k], c->by == BY_RANK ? "rank" : scope_hdr[k]);
    printf("%-*s %9s", wname, "name", hdr[0]);
    for (int k = 1; k < 7; k++)
        printf(" %12s", hdr[k]);
    printf(" %7s\n", hdr[7]);
    for (size_t i = 0; i < rows; i++) {
        group *g = &c->groups[i];
        char b[7][32];
        for (int k = 0; k < nscope; k++)
            printf("%-*s  ", wscope[k], shown[i][k]);
        const char *name = cols[i][2];
        if ((int)strlen(name) > wname)
            printf("%.*s...", wname - 3, name);
        else
            printf("%-*s", wname, name);
        printf(" %9zu %12s %12s %12s %12s %12s %12s %6.2f%%\n", g->n,
               dt_format_duration(b[1], 32, (double)g->total),
               dt_format_duration(b[6], 32, (double)g->self), dt_format_duration(b[2], 32, g->mean),
               dt_format_duration(b[3], 32, g->p50), dt_format_duration(b[4], 32, g->p95),
               dt_format_duration(b[5], 32, (double)g->max), g->share);
    }
    free(cols);
    free(shown);
}

/* Says when the table adds up several runs (writer processes). */
static void report_runs(const stats_ctx *c, FILE *o, const char *prefix) {
    if (c->n_runs_used < 2) return;
    fprintf(o, "%sthese figures sum %zu runs:", prefix, c->n_runs_used);
    size_t shown = 0;
    for (size_t i = 0; i < c->cap_run_used && i < c->runs.n; i++) {
        if (!c->run_used[i]) continue;
        if (shown++ == 4) {
            fprintf(o, " ...");
            break;
        }
        char label[DT_ID_TEXT_MAX + 96];
        fprintf(o, "%s %zu (%s)", shown > 1 ? "," : "", i + 1,
                dt_run_label(&c->runs.v[i], label, sizeof label));
    }
    fprintf(o, "; one run: --run N ('dasf-trace info' lists them)\n");
}

static void free_ctx(stats_ctx *c) {
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

int dt_cmd_stats(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"by", 1, NULL, OPT_BY},
                                         {"sort", 1, NULL, OPT_SORT},
                                         {"top", 1, NULL, OPT_TOP},
                                         {"csv", 0, NULL, OPT_CSV},
                                         DT_FILTER_LONGOPTS,
                                         {0}};
    stats_ctx c;
    memset(&c, 0, sizeof c);
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "", opts, stats_help, &f, stats_option, &c, 1, &first);
    if (rc >= 0) return rc;
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    /* B and E are paired before the window and the name filter apply, so a
     * span crossing --from or --to is counted whole instead of losing one
     * end, and --name never separates an E from its B. */
    c.has_from = f.has_from, c.has_to = f.has_to;
    c.from = f.from_ns, c.to = f.to_ns;
    dt_filter before;
    dt_filter_split(&f, &before, &c.after);
    c.pairs = dt_filter_wants_pairs(&c.after);
    c.filtering = dt_filter_active(&c.after);
    if (c.by == BY_RANK) {
        if (dt_align_create(&c.align, argv + first, argc - first)) return dt_oom();
        if (!c.align) {
            dt_err("--by rank: no MPI clock samples in these files (traces of "
                   "libdasf-profiler-mpi name each process's rank; docs/MPI.md)");
            return DT_FAIL;
        }
    }
    const stats_ctx options = c; /* the command line, for a second pass */
    int st;
    for (;;) {
        c.spans = dt_spans_new();
        if (!c.spans) return dt_oom();
        st =
            dt_each_event_runs(argv + first, argc - first, &before, stats_event, NULL, &c, &c.runs);
        if (st != STATS_RESTART) break;
        /* spans out of end order or overlapping: read again, keeping them all */
        free_ctx(&c);
        c = options;
        c.exact = true;
    }
    dt_spans_finish(c.spans, NULL, NULL);
    if (self_times(&c)) {
        free_ctx(&c);
        return dt_oom();
    }
    finish_groups(&c);
    size_t rows = c.n_groups;
    if (c.top && (size_t)c.top < rows) rows = (size_t)c.top;
    if (c.csv) {
        print_csv(&c, rows);
    } else if (c.n_groups == 0) {
        printf("no spans (X events or B/E pairs) in %" PRIu64 " events\n", c.events);
    } else {
        print_table(&c, rows);
        if (rows < c.n_groups) printf("(%zu more rows; see --top)\n", c.n_groups - rows);
        printf("\n%" PRIu64 " events; %" PRIu64 " spans: %" PRIu64 " X, %" PRIu64 " B/E pairs\n",
               c.events, c.n_x + c.n_pairs, c.n_x, c.n_pairs);
    }
    fflush(stdout);
    dt_spans_report(c.spans, c.csv ? stderr : stdout, c.csv ? "dasf-trace stats: " : "");
    report_runs(&c, c.csv ? stderr : stdout, c.csv ? "dasf-trace stats: " : "");
    fflush(stdout);
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    dt_align_free(c.align);
    free_ctx(&c);
    return dt_finish_stdout(st);
}
