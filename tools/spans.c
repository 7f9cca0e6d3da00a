/*
 * spans.c — B/E pairing (the rule and its reasons are in spans.h and
 * docs/CLI.md "B/E pairing").  Per thread stream a stack of open B's; a
 * name table so spans carry a stable name pointer and a dense id; for the
 * file being read, once needed, the set of its threads that hold an E.
 */
#include "spans.h"

#include "array.h"
#include "ids.h"
#include "infile.h"
#include "messages.h"
#include "strmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct open_b {
    int64_t ts;
    uint64_t user;
    uint32_t name;
} open_b;

typedef struct stream {
    char *pid, *tid; /* id texts */
    size_t file;
    open_b *stack;
    size_t n, cap;
    int64_t last_ts;
    bool seen_e;  /* an E arrived on this thread */
    bool decided; /* the file was asked whether this thread holds an E */
    bool bb;      /* read as Python B/B */
} stream;

typedef struct file_note {
    char *path;
    size_t index;
    uint64_t bb_pairs, bb_threads;
} file_note;

struct dt_spans {
    dt_strmap streams_map; /* "file\tpid\ttid" -> index */
    stream *streams;
    size_t n_streams, cap_streams;
    dt_strmap names_map; /* name -> index */
    const char **names;
    size_t n_names, cap_names;
    /* the file being read: which of its threads hold an E (after a rescan) */
    size_t cur_file;
    bool have_cur, scanned;
    dt_strmap with_e; /* "pid\ttid" */
    file_note *notes;
    size_t n_notes, cap_notes;
    size_t last_opened; /* stream of the latest DT_SPAN_OPEN */
    bool cache_ok;      /* the last event's thread (see stream_of) */
    uint64_t cache_key[5];
    size_t cache_idx;
    dt_spans_counts counts;
    char *key;
    size_t key_cap;
};

dt_spans *dt_spans_new(void) {
    dt_spans *s = calloc(1, sizeof *s);
    if (s) s->last_opened = SIZE_MAX;
    return s;
}

void dt_spans_free(dt_spans *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_streams; i++) {
        free(s->streams[i].pid);
        free(s->streams[i].tid);
        free(s->streams[i].stack);
    }
    for (size_t i = 0; i < s->n_notes; i++)
        free(s->notes[i].path);
    free(s->notes);
    free(s->streams);
    free(s->names);
    free(s->key);
    dt_strmap_free(&s->streams_map);
    dt_strmap_free(&s->names_map);
    dt_strmap_free(&s->with_e);
    free(s);
}

/* "pid\ttid" of ev into buf (2 * DT_ID_TEXT_MAX + 2); returns its length,
 * *plen the pid's. */
static size_t thread_text(const dasf_trace_event *ev, char *buf, size_t *plen) {
    dt_id_text(&ev->process_id, buf, DT_ID_TEXT_MAX);
    *plen = strlen(buf);
    buf[*plen] = '\t';
    dt_id_text(&ev->thread_id, buf + *plen + 1, DT_ID_TEXT_MAX);
    return *plen + 1 + strlen(buf + *plen + 1);
}

/* A numeric or nil id as (type, bits); false for strings and the rest. */
static bool id_bits(const dasf_value *v, uint64_t out[2]) {
    out[0] = (uint64_t)v->type;
    switch (v->type) {
    case DASF_VAL_INT: out[1] = (uint64_t)v->v.i; return true;
    case DASF_VAL_UINT: out[1] = v->v.u; return true;
    case DASF_VAL_NIL: out[1] = 0; return true;
    default: return false;
    }
}

static stream *stream_lookup(dt_spans *s, const dt_input *in, const dasf_trace_event *ev);

/* Consecutive events mostly share a thread: a one-entry cache on numeric
 * ids spares the id texts and the hash. */
static stream *stream_of(dt_spans *s, const dt_input *in, const dasf_trace_event *ev) {
    uint64_t key[5];
    key[4] = in->index;
    bool cacheable = id_bits(&ev->process_id, key) && id_bits(&ev->thread_id, key + 2);
    if (cacheable && s->cache_ok && !memcmp(key, s->cache_key, sizeof key))
        return &s->streams[s->cache_idx];
    stream *t = stream_lookup(s, in, ev);
    s->cache_ok = cacheable && t;
    if (s->cache_ok) {
        memcpy(s->cache_key, key, sizeof key);
        s->cache_idx = (size_t)(t - s->streams);
    }
    return t;
}

static stream *stream_lookup(dt_spans *s, const dt_input *in, const dasf_trace_event *ev) {
    char tt[2 * DT_ID_TEXT_MAX + 2];
    size_t plen, tlen = thread_text(ev, tt, &plen);
    size_t need = tlen + 24;
    if (need > s->key_cap) {
        char *k = realloc(s->key, need * 2);
        if (!k) return NULL;
        s->key = k;
        s->key_cap = need * 2;
    }
    int fl = snprintf(s->key, s->key_cap, "%zu\t", in->index);
    memcpy(s->key + fl, tt, tlen + 1);
    bool created;
    dt_strent *e = dt_strmap_get(&s->streams_map, s->key, (size_t)fl + tlen, &created);
    if (!e) return NULL;
    if (created) {
        if (dt_grow((void **)&s->streams, &s->cap_streams, s->n_streams, sizeof *s->streams))
            return NULL;
        stream *t = &s->streams[s->n_streams];
        memset(t, 0, sizeof *t);
        t->pid = strndup(tt, plen);
        t->tid = strdup(tt + plen + 1);
        t->file = in->index;
        if (!t->pid || !t->tid) {
            free(t->pid);
            free(t->tid);
            return NULL;
        }
        e->val = s->n_streams++;
    }
    return &s->streams[e->val];
}

static int name_of(dt_spans *s, const char *name, uint32_t *out) {
    bool created;
    dt_strent *e = dt_strmap_get(&s->names_map, name, strlen(name), &created);
    if (!e) return -1;
    if (created) {
        if (dt_grow((void **)&s->names, &s->cap_names, s->n_names, sizeof *s->names)) return -1;
        s->names[s->n_names] = e->key; /* the key string never moves */
        e->val = s->n_names++;
    }
    *out = (uint32_t)e->val;
    return 0;
}

/* Reads the file once more and notes every thread holding an E. */
static int scan_file(dt_spans *s, const dt_input *in) {
    dasf_trace *t;
    int rc = dasf_trace_open(&t, in->path);
    if (rc != 0) {
        dt_err("%s: reading it again to pair B events failed: %s", in->path, dasf_strerror(rc));
        return -1;
    }
    const dasf_trace_event *ev;
    while ((rc = dasf_trace_next(t, &ev)) > 0) {
        if (ev->phase != DASF_PHASE_DURATION_END) continue;
        char tt[2 * DT_ID_TEXT_MAX + 2];
        size_t plen, tlen = thread_text(ev, tt, &plen);
        bool created;
        if (!dt_strmap_get(&s->with_e, tt, tlen, &created)) {
            rc = DASF_ENOMEM;
            break;
        }
    }
    dasf_trace_close(t);
    if (rc < 0) {
        dt_err("%s: reading it again to pair B events failed: %s", in->path, dasf_strerror(rc));
        return -1;
    }
    s->scanned = true;
    s->counts.rescans++;
    return 0;
}

/* Does the thread hold an E anywhere in its file? */
static int thread_has_e(dt_spans *s, const dt_input *in, const stream *t, bool *has) {
    if (!s->have_cur || s->cur_file != in->index) {
        dt_strmap_free(&s->with_e);
        memset(&s->with_e, 0, sizeof s->with_e);
        s->cur_file = in->index;
        s->have_cur = true;
        s->scanned = false;
    }
    if (!s->scanned && scan_file(s, in)) return -1;
    char tt[2 * DT_ID_TEXT_MAX + 2];
    int n = snprintf(tt, sizeof tt, "%s\t%s", t->pid, t->tid);
    *has = dt_strmap_find(&s->with_e, tt, (size_t)n) != NULL;
    return 0;
}

static file_note *note_of(dt_spans *s, const dt_input *in) {
    if (s->n_notes && s->notes[s->n_notes - 1].index == in->index) return &s->notes[s->n_notes - 1];
    if (dt_grow((void **)&s->notes, &s->cap_notes, s->n_notes, sizeof *s->notes)) return NULL;
    file_note *n = &s->notes[s->n_notes];
    memset(n, 0, sizeof *n);
    n->index = in->index;
    n->path = strdup(in->path);
    if (!n->path) return NULL;
    s->n_notes++;
    return n;
}

static void close_top(dt_spans *s, stream *t, int64_t ts, dt_span *out) {
    open_b b = t->stack[--t->n];
    out->name = s->names[b.name];
    out->name_id = b.name;
    out->thread = (size_t)(t - s->streams);
    out->start_ns = b.ts;
    out->end_ns = ts;
    out->depth = (uint32_t)t->n;
    out->user = b.user;
    out->bb = false;
    out->open = false;
    s->counts.pairs++;
}

int dt_spans_event(dt_spans *s, const dt_input *in, const dasf_trace_event *ev, dt_span *out) {
    if (ev->phase != DASF_PHASE_DURATION_BEGIN && ev->phase != DASF_PHASE_DURATION_END)
        return DT_SPAN_NONE;
    stream *t = stream_of(s, in, ev);
    if (!t) goto oom;
    int64_t ts = ev->timestamp_ns;
    t->last_ts = ts;
    const char *name = ev->name ? ev->name : "";
    if (ev->phase == DASF_PHASE_DURATION_END) {
        t->seen_e = true;
        if (t->n == 0) {
            s->counts.stray_e++;
            return DT_SPAN_STRAY_E;
        }
        if (*name && strcmp(name, s->names[t->stack[t->n - 1].name])) s->counts.renamed_e++;
        close_top(s, t, ts, out);
        return DT_SPAN_CLOSE;
    }
    uint32_t nid;
    if (name_of(s, name, &nid)) goto oom;
    if (t->n && t->stack[t->n - 1].name == nid && !t->seen_e) {
        if (!t->decided) { /* the first B meeting an open B of its name */
            bool has_e;
            if (thread_has_e(s, in, t, &has_e)) return -1;
            t->decided = true;
            if (!has_e) {
                file_note *fn = note_of(s, in);
                if (!fn) goto oom;
                t->bb = true;
                fn->bb_threads++;
                s->counts.bb_threads++;
            }
        }
        if (t->bb) {
            close_top(s, t, ts, out);
            out->bb = true;
            s->counts.bb_pairs++;
            note_of(s, in)->bb_pairs++; /* exists: made when t->bb was set */
            return DT_SPAN_CLOSE;
        }
    }
    if (dt_grow((void **)&t->stack, &t->cap, t->n, sizeof *t->stack)) goto oom;
    t->stack[t->n++] = (open_b){ts, 0, nid};
    s->last_opened = (size_t)(t - s->streams);
    return DT_SPAN_OPEN;
oom:
    dt_err("out of memory");
    return -1;
}

void dt_spans_set_user(dt_spans *s, uint64_t user) {
    if (s->last_opened < s->n_streams) {
        stream *t = &s->streams[s->last_opened];
        if (t->n) t->stack[t->n - 1].user = user;
    }
}

size_t dt_spans_thread_of(dt_spans *s, const dt_input *in, const dasf_trace_event *ev) {
    stream *t = stream_of(s, in, ev);
    return t ? (size_t)(t - s->streams) : SIZE_MAX;
}

void dt_spans_thread(const dt_spans *s, size_t thread, const char **pid, const char **tid,
                     size_t *file_index) {
    const stream *t = &s->streams[thread];
    if (pid) *pid = t->pid;
    if (tid) *tid = t->tid;
    if (file_index) *file_index = t->file;
}

int dt_spans_finish(dt_spans *s, dt_span_fn fn, void *ctx) {
    int rc = 0;
    for (size_t i = 0; i < s->n_streams; i++) {
        stream *t = &s->streams[i];
        for (size_t k = 0; k < t->n && rc == 0; k++) {
            const open_b *b = &t->stack[k];
            dt_span sp = {s->names[b->name], b->name, i,     b->ts, t->last_ts,
                          (uint32_t)k,       b->user, false, true};
            s->counts.open_b++;
            if (fn) rc = fn(ctx, &sp);
        }
        t->n = 0;
        if (rc) break;
    }
    return rc;
}

void dt_spans_get_counts(const dt_spans *s, dt_spans_counts *out) {
    *out = s->counts;
}

void dt_spans_report(const dt_spans *s, FILE *o, const char *prefix) {
    for (size_t i = 0; i < s->n_notes; i++) {
        const file_note *n = &s->notes[i];
        fprintf(o,
                "%s%s: read as Python B/B pairs: %" PRIu64 " span(s) on %" PRIu64
                " thread(s) whose end events carry phase B, as dasf.profile.profiler "
                "writes them (see docs/CLI.md, B/E pairing)\n",
                prefix, n->path, n->bb_pairs, n->bb_threads);
    }
    const dt_spans_counts *c = &s->counts;
    if (c->open_b || c->stray_e)
        fprintf(o,
                "%sunmatched: %" PRIu64 " B without E (still open or never closed), %" PRIu64
                " E without B\n",
                prefix, c->open_b, c->stray_e);
    if (c->renamed_e)
        fprintf(o,
                "%s%" PRIu64 " E event(s) closed the most recent open B of their thread, "
                "which had another name\n",
                prefix, c->renamed_e);
}
