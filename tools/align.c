/*
 * align.c — puts every MPI rank on rank 0's clock (align.h says how).
 * Memory: one entry per process with samples (a few samples each); the
 * per-event work is a cached lookup and one interpolation.
 */
#include "align.h"

#include "array.h"
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dt_align {
    dt_sync_proc *procs;
    size_t n, cap;
    /* The last lookup: the reader and chunk it was for, and its answer. */
    const dasf_trace *last_t;
    uint64_t last_chunk;
    char host[64];
    int64_t last_pid;
    dt_sync_proc *last;
};

static int64_t map_int(const dasf_value *m, const char *key, bool *ok) {
    const dasf_value *v = dasf_value_map_get(m, key);
    if (v && v->type == DASF_VAL_INT) return v->v.i;
    if (v && v->type == DASF_VAL_UINT && v->v.u <= INT64_MAX) return (int64_t)v->v.u;
    *ok = false;
    return 0;
}

int dt_sync_parse(const dasf_trace_event *ev, dt_sync_point *p, int64_t *rank, int64_t *size) {
    if (ev->phase != DASF_PHASE_METADATA || strcmp(ev->name, "dasf.clock_sync") != 0) return 0;
    bool ok = true;
    p->at_ns = map_int(&ev->args, "at_ns", &ok);
    p->offset_ns = map_int(&ev->args, "offset_ns", &ok);
    p->rtt_ns = map_int(&ev->args, "rtt_ns", &ok);
    *rank = map_int(&ev->args, "rank", &ok);
    *size = map_int(&ev->args, "size", &ok);
    return ok ? 1 : 0;
}

static int64_t event_pid(const dasf_trace_event *ev) {
    if (ev->process_id.type == DASF_VAL_INT) return ev->process_id.v.i;
    if (ev->process_id.type == DASF_VAL_UINT) return (int64_t)ev->process_id.v.u;
    return INT64_MIN;
}

/* The writer host of the chunk ev came from ("" for the legacy layout). */
static void chunk_host(const dasf_trace *t, char host[64]) {
    dasf_chunk_info ci;
    if (dasf_trace_chunk(t, &ci) == 0) {
        memcpy(host, ci.host, 64);
        host[63] = 0;
    } else {
        host[0] = 0;
    }
}

static dt_sync_proc *find(dt_align *a, int64_t pid, const char *host) {
    for (size_t i = 0; i < a->n; i++)
        if (a->procs[i].pid == pid && !strcmp(a->procs[i].host, host)) return &a->procs[i];
    return NULL;
}

static int add(dt_align *a, int64_t pid, const char *host, int64_t rank, int64_t size,
               const dt_sync_point *p) {
    dt_sync_proc *s = find(a, pid, host);
    if (!s) {
        if (dt_grow((void **)&a->procs, &a->cap, a->n, sizeof *a->procs)) return -1;
        s = &a->procs[a->n++];
        memset(s, 0, sizeof *s);
        s->pid = pid;
        snprintf(s->host, sizeof s->host, "%s", host);
    }
    s->rank = rank;
    s->size = size;
    if (dt_grow((void **)&s->pts, &s->cap, s->n, sizeof *s->pts)) return -1;
    /* Samples arrive in time order per process; keep them sorted anyway. */
    size_t i = s->n++;
    while (i > 0 && s->pts[i - 1].at_ns > p->at_ns) {
        s->pts[i] = s->pts[i - 1];
        i--;
    }
    s->pts[i] = *p;
    return 0;
}

/* Collects one file's samples; 0 when its first chunk has none. */
static int scan(dt_align *a, const char *path) {
    dasf_trace *t;
    if (dasf_trace_open(&t, path) != 0) return 0; /* the main pass reports it */
    const dasf_trace_event *ev;
    /* A file without a sample among its first events is not read further:
     * libdasf-profiler-mpi records the Init sample before the MPI_Init
     * span, so it sits in the chunk of the first non-metadata event or,
     * when a commit fell between the two, in the chunk before it. */
    bool any = false, seen_span = false;
    uint64_t span_chunk = 0;
    char host[64];
    int rc = 0;
    while (dasf_trace_next(t, &ev) > 0) {
        if (!seen_span && ev->phase != DASF_PHASE_METADATA)
            span_chunk = ev->chunk_index, seen_span = true;
        if (!any && seen_span && ev->chunk_index > span_chunk) break; /* not an MPI trace */
        dt_sync_point p;
        int64_t rank, size;
        if (!dt_sync_parse(ev, &p, &rank, &size)) continue;
        any = true;
        chunk_host(t, host);
        if (add(a, event_pid(ev), host, rank, size, &p)) {
            rc = -1;
            break;
        }
    }
    dasf_trace_close(t);
    return rc;
}

static int by_rank(const void *x, const void *y) {
    const dt_sync_proc *a = x, *b = y;
    return (a->rank > b->rank) - (a->rank < b->rank);
}

int dt_align_create(dt_align **out, char *const *files, int n) {
    *out = NULL;
    dt_align *a = calloc(1, sizeof *a);
    if (!a) return -1;
    for (int i = 0; i < n; i++)
        if (scan(a, files[i])) {
            dt_err("out of memory reading the clock samples");
            dt_align_free(a);
            return -1;
        }
    if (!a->n) {
        dt_align_free(a);
        return 0;
    }
    qsort(a->procs, a->n, sizeof *a->procs, by_rank);
    a->last_pid = INT64_MIN;
    *out = a;
    return 0;
}

const dt_sync_proc *dt_align_procs(const dt_align *a, size_t *n) {
    *n = a ? a->n : 0;
    return a ? a->procs : NULL;
}

/* The offset at local time t: linear between the samples around t. */
static int64_t offset_at(const dt_sync_proc *s, int64_t t) {
    const dt_sync_point *p = s->pts;
    if (s->n == 1 || t <= p[0].at_ns) return p[0].offset_ns;
    if (t >= p[s->n - 1].at_ns) return p[s->n - 1].offset_ns;
    size_t i = 1;
    while (p[i].at_ns < t) i++;
    double span = (double)(p[i].at_ns - p[i - 1].at_ns);
    double f = span > 0 ? (double)(t - p[i - 1].at_ns) / span : 0;
    return p[i - 1].offset_ns +
           (int64_t)((double)(p[i].offset_ns - p[i - 1].offset_ns) * f + (f >= 0 ? 0.5 : -0.5));
}

const dasf_trace_event *dt_align_event(dt_align *a, const dasf_trace *t,
                                       const dasf_trace_event *ev, dasf_trace_event *copy) {
    if (!a) return ev;
    if (t != a->last_t || ev->chunk_index != a->last_chunk) {
        a->last_t = t;
        a->last_chunk = ev->chunk_index;
        chunk_host(t, a->host);
        a->last_pid = INT64_MIN;
    }
    int64_t pid = event_pid(ev);
    if (pid != a->last_pid) {
        a->last_pid = pid;
        a->last = find(a, pid, a->host);
    }
    if (!a->last) return ev;
    int64_t off = offset_at(a->last, ev->timestamp_ns);
    if (off == 0) return ev;
    *copy = *ev;
    copy->timestamp_ns = ev->timestamp_ns + off;
    copy->timestamp = dasf_ns_to_seconds(copy->timestamp_ns);
    copy->timestamp_is_int = false;
    return copy;
}

int64_t dt_align_rank_of(const dt_align *a, int64_t pid) {
    for (size_t i = 0; a && i < a->n; i++)
        if (a->procs[i].pid == pid) return a->procs[i].rank;
    return -1;
}

void dt_align_free(dt_align *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->procs[i].pts);
    free(a->procs);
    free(a);
}
