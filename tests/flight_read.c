/* flight_read.c — what the flight-recorder tests share (test_flight.c,
 * test_flight_crash.c): a flight profiler, reading a file back with each
 * event's chunk metadata, and the checks of a snapshot window. */
#include "flight_read.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

dasf_profiler *flight_profiler_in(const char *path, size_t window, const char *shm_dir) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.overflow = DASF_OVERFLOW_OVERWRITE;
    o.ring_capacity = window;
    o.flush = false;
    o.shm_dir = shm_dir;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    return p;
}

dasf_profiler *flight_profiler(const char *path, size_t window) {
    return flight_profiler_in(path, window, NULL);
}

/* ---- reading a file back: events with their chunk's snapshot metadata ---- */


/* The string arg a stream writes with record seq: its length and bytes
 * depend on both, so a record torn between two writes shows. */
void pattern(char *out, int k, int64_t seq) {
    size_t len = (size_t)(seq * 7 + k) % 48;
    for (size_t i = 0; i < len; i++) out[i] = (char)('a' + (seq + (int64_t)i * (k + 1)) % 26);
    out[len] = 0;
}

static const dasf_value *arg(const dasf_trace_event *ev, const char *key) {
    if (ev->args.type != DASF_VAL_MAP) return NULL;
    for (uint32_t i = 0; i < ev->args.v.map.n; i++) {
        const dasf_kv *kv = &ev->args.v.map.items[i];
        if (kv->key.type == DASF_VAL_STR && kv->key.v.str.len == strlen(key) &&
            !memcmp(kv->key.v.str.ptr, key, kv->key.v.str.len))
            return &kv->val;
    }
    return NULL;
}

rd_file read_back(const char *path) {
    rd_file f = {0};
    dasf_trace *t;
    if (access(path, F_OK) != 0) return f;
    cr_assert_eq(dasf_trace_open(&t, path), 0);
    const dasf_trace_event *ev;
    uint64_t last_chunk = UINT64_MAX;
    int r;
    while ((r = dasf_trace_next(t, &ev)) == 1) {
        if (ev->chunk_index != last_chunk) {
            last_chunk = ev->chunk_index;
            f.chunks = realloc(f.chunks, (f.n_chunks + 1) * sizeof *f.chunks);
            cr_assert_eq(dasf_trace_chunk(t, &f.chunks[f.n_chunks]), 0);
            f.n_chunks++;
        }
        if (f.n == f.cap) {
            f.cap = f.cap ? f.cap * 2 : 1024;
            f.ev = realloc(f.ev, f.cap * sizeof *f.ev);
        }
        rd_ev *e = &f.ev[f.n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", ev->name);
        e->ts_ns = ev->timestamp_ns;
        e->chunk = f.n_chunks - 1;
        const dasf_value *seq = arg(ev, "seq"), *s = arg(ev, "s");
        e->seq = seq && (seq->type == DASF_VAL_INT || seq->type == DASF_VAL_UINT) ? seq->v.i : -1;
        e->s_ok = -1;
        if (s && e->seq >= 0 && e->name[0] == 't') {
            char want[64];
            pattern(want, atoi(e->name + 1), e->seq);
            e->s_ok = s->type == DASF_VAL_STR && s->v.str.len == strlen(want) &&
                      !memcmp(s->v.str.ptr, want, s->v.str.len);
        }
    }
    cr_assert_eq(r, 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    cr_assert_eq(st.chunks_damaged, 0);
    dasf_trace_close(t);
    return f;
}

void rd_free(rd_file *f) {
    free(f->ev);
    free(f->chunks);
    memset(f, 0, sizeof *f);
}

/* ---- a deterministic single thread ------------------------------------------ */

void record_ns(dasf_profiler *p, int64_t from, int64_t to) {
    dasf_name h = dasf_intern("w");
    for (int64_t i = from; i <= to; i++) cr_assert_eq(dasf_record_complete_ns(p, h, i, 1), 0);
}

/* Checks that the events from event `first` on are exactly the records
 * want_last - kept + 1 .. want_last of the stream, in order, in chunks of
 * snapshot `snap` whose overwritten counts say what is missing since
 * `prev_last`.  @return kept. */
size_t check_window(const rd_file *f, size_t first, int64_t prev_last, int64_t want_last,
                    uint64_t *snap) {
    size_t kept = f->n - first;
    cr_assert_gt(kept, 0, "the snapshot wrote nothing");
    int64_t lo = want_last - (int64_t)kept + 1;
    uint64_t ow = 0, ow_bytes = 0;
    size_t last_chunk = SIZE_MAX;
    for (size_t i = first; i < f->n; i++) {
        cr_assert_eq(f->ev[i].ts_ns, lo + (int64_t)(i - first), "event %zu: ts %lld, want %lld", i,
                     (long long)f->ev[i].ts_ns, (long long)(lo + (int64_t)(i - first)));
        const dasf_chunk_info *ci = &f->chunks[f->ev[i].chunk];
        cr_assert_gt(ci->snapshot, 0, "not marked as a snapshot chunk");
        if (f->ev[i].chunk != last_chunk) {
            last_chunk = f->ev[i].chunk;
            ow += ci->overwritten;
            ow_bytes += ci->overwritten_bytes;
            *snap = ci->snapshot;
        }
    }
    cr_assert_eq(ow, (uint64_t)(lo - prev_last - 1), "overwritten %llu, want %lld",
                 (unsigned long long)ow, (long long)(lo - prev_last - 1));
    cr_assert_eq(ow_bytes, ow * 32, "plain records are 32 bytes");
    return kept;
}
