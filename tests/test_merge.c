/*
 * test_merge.c — `dasf-trace merge`, the streaming k-way merge by time
 * (tools/kmerge.h, docs/CLI.md "merge"): every input event exactly once,
 * in time order (each chunk sorted, chunks by their first event, nothing
 * earlier more than a group behind), on the aligned timeline, with each
 * chunk's writer metadata; random mixes of inputs (the round trip of the
 * reader and the writer through merge), overlapping chunks, 64 inputs,
 * empty / damaged / missing inputs, chunks out of order (late events).
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROUP 65536 /* tools/kmerge.h DT_KMERGE_GROUP */

static char *dir;

static void setup(void) {
    cr_assert_not_null(th_dasf_trace(), "DASF_TRACE_BIN is not set");
    dir = th_tmpdir();
}

/* ---- deterministic random numbers ----------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

/* ---- writing inputs --------------------------------------------------------- */

static dasf_writer *open_out(const char *path, bool archive) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = archive ? 1 : 0;
    o.flush = false;
    o.commit_threshold = 1 << 20; /* chunks are cut by origin() below */
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0, "%s", path);
    return w;
}

/* Ends the current chunk; the next one is written by pid on host h<pid>. */
static void origin(dasf_writer *w, int64_t pid, uint64_t dropped) {
    dasf_chunk_info ci;
    memset(&ci, 0, sizeof ci);
    ci.writer_pid = pid;
    snprintf(ci.host, sizeof ci.host, "h%" PRId64, pid);
    snprintf(ci.clock, sizeof ci.clock, "monotonic");
    ci.dropped = dropped;
    cr_assert_eq(dasf_writer_set_origin(w, &ci), 0);
}

static const char *const names[] = {"work", "wait", "MPI_Send", "io <&>", "\xc3\xa9t\xc3\xa9", "x"};
static const char phases[] = "XXXXBEICsftbenNODRM";

/* One random event of process pid at ts_ns (kv/items: storage for its args). */
static dasf_trace_event rnd_event(int64_t pid, int64_t ts_ns, dasf_kv *kv, dasf_value *items) {
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.phase = (dasf_phase)phases[rnd() % (sizeof phases - 1)];
    e.name = names[rnd() % 6];
    e.process_id = th_v_int(pid);
    e.thread_id = rnd() % 5 ? th_v_int(rnd_in(1, 3)) : th_v_str("worker");
    e.args.type = DASF_VAL_MAP;
    if (e.phase == DASF_PHASE_METADATA) {
        e.name = rnd() % 2 ? "thread_name" : "process_name";
        kv[0] = (dasf_kv){th_v_str("name"), th_v_str(rnd() % 2 ? "main" : "io")};
        e.args.v.map.items = kv;
        e.args.v.map.n = 1;
        ts_ns = 0;
    }
    e.timestamp_ns = ts_ns;
    e.timestamp = dasf_ns_to_seconds(ts_ns);
    if (e.phase == DASF_PHASE_COMPLETE) {
        e.duration_ns = rnd_in(0, 5000000);
        e.duration = dasf_ns_to_seconds(e.duration_ns);
        e.has_duration = true;
    }
    if (strchr("sftbenNOD", (char)e.phase)) {
        e.id = rnd() % 2 ? th_v_int(rnd_in(1, 9)) : th_v_str("req");
        e.has_id = true;
        e.cat = "c";
    }
    if (e.phase == DASF_PHASE_INSTANT) e.scope = DASF_SCOPE_THREAD;
    if (e.phase != DASF_PHASE_METADATA) switch (rnd() % 4) {
        case 0: break;
        case 1:
            kv[0] = (dasf_kv){th_v_str("bytes"), th_v_int(rnd_in(-5, 1 << 20))};
            e.args.v.map.items = kv;
            e.args.v.map.n = 1;
            break;
        case 2:
            items[0] = th_v_int(7);
            items[1] = th_v_str("y\"z");
            kv[0] = (dasf_kv){th_v_str("list"), {.type = DASF_VAL_ARRAY}};
            kv[0].val.v.array.items = items;
            kv[0].val.v.array.n = 2;
            kv[1] = (dasf_kv){th_v_str("f"), {.type = DASF_VAL_FLOAT}};
            kv[1].val.v.f = 0.1 * (double)rnd_in(0, 99);
            e.args.v.map.items = kv;
            e.args.v.map.n = 2;
            break;
        default: e.args_nil = true; break;
        }
    return e;
}

/* One input: n events of process pid in chunks of 1..max_chunk events.
 * Chunk k's earliest event starts at base_k (non-decreasing, as a
 * flusher's chunks do); the others anywhere in [base_k, base_k + overlap],
 * in random order, so chunks overlap.  Returns the events written. */
static long write_input(const char *path, bool archive, int64_t pid, int n, int max_chunk,
                        int64_t start_ns, int64_t step_ns, int64_t overlap_ns, uint64_t *dropped) {
    dasf_writer *w = open_out(path, archive);
    int64_t base = start_ns;
    long written = 0;
    while (written < n) {
        int c = (int)rnd_in(1, max_chunk);
        if (c > n - written) c = n - (int)written;
        if (archive) {
            uint64_t d = rnd() % 3 ? 0 : (uint64_t)rnd_in(1, 9);
            *dropped += d;
            origin(w, pid, d);
        }
        int first = (int)rnd_in(0, c - 1); /* which one starts at base */
        for (int i = 0; i < c; i++) {
            dasf_kv kv[2];
            dasf_value items[2];
            int64_t ts = i == first ? base : base + rnd_in(0, overlap_ns);
            dasf_trace_event e = rnd_event(pid, ts, kv, items);
            if (i == first && e.phase == DASF_PHASE_METADATA) { /* base is a start */
                e.phase = DASF_PHASE_INSTANT;
                e.timestamp_ns = ts;
                e.timestamp = dasf_ns_to_seconds(ts);
            }
            cr_assert_eq(dasf_writer_add(w, &e), 0);
        }
        written += c;
        base += rnd_in(0, step_ns);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    return written;
}

/* ---- checking the output ---------------------------------------------------- */

typedef struct offset_rule { /* key = ts + offset for events of pid */
    int64_t pid, offset_ns;
} offset_rule;

typedef struct merged {
    long events, timed, chunks;
    uint64_t dropped;
} merged;

static int64_t pid_of(const dasf_trace_event *ev) {
    return ev->process_id.type == DASF_VAL_INT ? ev->process_id.v.i : -1;
}

/* Reads out and checks the order merge promises, on keys = start + the
 * pid's offset: each chunk's timed events non-decreasing, the chunks'
 * first timed events non-decreasing, and no event preceded by a later one
 * more than GROUP events back.  Archive-written events (pid < 1000) must
 * sit in chunks of their writer (pid, host h<pid>); legacy ones (pid >=
 * 1000) in chunks of this host.  Late events (late_ok) skip the order. */
static merged check_merged(const char *out, const offset_rule *rules, size_t n_rules, bool late_ok) {
    merged m = {0};
    dasf_trace *t;
    cr_assert_eq(dasf_trace_open(&t, out), 0, "%s", out);
    const dasf_trace_event *ev;
    char self_host[64] = {0};
    gethostname(self_host, sizeof self_host - 1);
    size_t cap = 1024;
    int64_t *prefix_max = malloc(cap * sizeof *prefix_max); /* over the timed events */
    cr_assert_not_null(prefix_max);
    uint64_t chunk = UINT64_MAX;
    int64_t last_in_chunk = INT64_MIN, last_first = INT64_MIN, max_so_far = INT64_MIN;
    bool chunk_has_timed = false;
    int got;
    while ((got = dasf_trace_next(t, &ev)) > 0) {
        dasf_chunk_info ci;
        cr_assert_eq(dasf_trace_chunk(t, &ci), 0);
        if (ev->chunk_index != chunk) {
            chunk = ev->chunk_index;
            m.chunks++;
            m.dropped += ci.dropped;
            last_in_chunk = INT64_MIN;
            chunk_has_timed = false;
        }
        m.events++;
        int64_t pid = pid_of(ev);
        if (pid >= 0 && pid < 1000) {
            char want[64];
            snprintf(want, sizeof want, "h%" PRId64, pid);
            cr_assert_eq(ci.writer_pid, pid, "event of pid %" PRId64 " in a chunk of %" PRId64, pid,
                         ci.writer_pid);
            cr_assert_str_eq(ci.host, want);
        } else if (pid >= 1000) {
            cr_assert_str_eq(ci.host, self_host, "a legacy event in a chunk of %s", ci.host);
        }
        if (ev->phase == DASF_PHASE_METADATA) continue;
        int64_t key = ev->timestamp_ns;
        for (size_t r = 0; r < n_rules; r++)
            if (rules[r].pid == pid) key += rules[r].offset_ns;
        if (!late_ok) {
            cr_assert_geq(key, last_in_chunk, "chunk %" PRIu64 " not in time order", chunk);
            if (!chunk_has_timed) {
                cr_assert_geq(key, last_first, "chunk %" PRIu64 " starts before the one before", chunk);
                last_first = key;
            }
            if (m.timed >= GROUP)
                cr_assert_leq(prefix_max[m.timed - GROUP], key,
                              "event %ld preceded by a later one more than a group back", m.timed);
        }
        chunk_has_timed = true;
        last_in_chunk = key;
        if (key > max_so_far) max_so_far = key;
        if ((size_t)m.timed == cap) {
            cap *= 2;
            prefix_max = realloc(prefix_max, cap * sizeof *prefix_max);
            cr_assert_not_null(prefix_max);
        }
        prefix_max[m.timed++] = max_so_far;
    }
    cr_assert_eq(got, 0);
    dasf_trace_close(t);
    free(prefix_max);
    return m;
}

/* ---- every event exactly once ------------------------------------------------ */

typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        cr_assert_geq(k, 0);
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        t->cap = (t->cap + (size_t)k + 1) * 2;
        t->s = realloc(t->s, t->cap);
        cr_assert_not_null(t->s);
    }
}

static void put_value(text *t, const dasf_value *v) {
    switch (v->type) {
    case DASF_VAL_NIL: put(t, "nil"); break;
    case DASF_VAL_BOOL: put(t, v->v.b ? "true" : "false"); break;
    case DASF_VAL_INT: put(t, "%" PRId64, v->v.i); break;
    case DASF_VAL_UINT: put(t, "%" PRIu64 "u", v->v.u); break;
    case DASF_VAL_FLOAT: put(t, "%a", v->v.f); break;
    case DASF_VAL_STR: put(t, "'%.*s'", (int)v->v.str.len, v->v.str.ptr); break;
    case DASF_VAL_BIN: put(t, "bin%u", v->v.bin.len); break;
    case DASF_VAL_ARRAY:
        put(t, "[");
        for (uint32_t i = 0; i < v->v.array.n; i++) put_value(t, &v->v.array.items[i]), put(t, ",");
        put(t, "]");
        break;
    case DASF_VAL_MAP:
        put(t, "{");
        for (uint32_t i = 0; i < v->v.map.n; i++) {
            put_value(t, &v->v.map.items[i].key);
            put(t, ":");
            put_value(t, &v->v.map.items[i].val);
            put(t, ",");
        }
        put(t, "}");
        break;
    }
}

/* Every event of the files, one line each with every field the reader
 * gives (times in ns, floats in hex: exact in both layouts), sorted. */
static char *events_of(const char *files) {
    text t = {0};
    put(&t, "%s", "");
    char list[4096];
    snprintf(list, sizeof list, "%s", files);
    for (char *save, *f = strtok_r(list, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        dasf_trace *r;
        if (dasf_trace_open(&r, th_path(dir, f)) != 0) continue; /* missing, not a trace */
        const dasf_trace_event *e;
        while (dasf_trace_next(r, &e) > 0) {
            put(&t, "%s|%c|%" PRId64 "|%" PRId64 "|%d|%d|", e->name, (char)e->phase, e->timestamp_ns,
                e->has_duration ? e->duration_ns : -1, (int)e->scope, (int)e->args_nil);
            put_value(&t, &e->process_id);
            put(&t, "|");
            put_value(&t, &e->thread_id);
            put(&t, "|%s|", e->cat ? e->cat : "-");
            if (e->has_id) put_value(&t, &e->id);
            put(&t, "|");
            put_value(&t, &e->args);
            put(&t, "\n");
        }
        dasf_trace_close(r);
    }
    th_sort_lines(t.s);
    return t.s;
}

static void same_events(const char *inputs, const char *out) {
    char *a = events_of(inputs), *b = events_of(out);
    cr_assert(strcmp(a, b) == 0, "merge of %s lost, added or changed events", inputs);
    free(a);
    free(b);
}

/* `cat` (opts: "" aligned, or "--no-align") of the files, lines sorted. */
static char *cat_sorted(const char *opts, const char *files) {
    char *out;
    int st = th_cli(dir, &out, NULL, "cat %s %s", opts, files);
    cr_assert(st == 0 || st == 1, "cat exited %d", st);
    th_sort_lines(out);
    return out;
}

/* ---- tests ---------------------------------------------------------------- */

/* The round trip through merge over random mixes of inputs: archive and
 * legacy layouts, empty files, every phase, args of each kind (nil, none,
 * ints, strings, floats, arrays), string and int ids, metadata events,
 * chunks of 1..40 events overlapping in time, drop counts. */
Test(merge, random_mixes_round_trip, .init = setup, .timeout = 300) {
    for (int iter = 0; iter < 40; iter++) {
        rng_state = 0x5eed0000u + (uint64_t)iter;
        int nf = (int)rnd_in(1, 6);
        char files[4096] = "";
        uint64_t dropped = 0;
        long events = 0;
        for (int i = 0; i < nf; i++) {
            int kind = (int)rnd_in(0, 9); /* 0: empty, 1-2: legacy, else archive */
            bool archive = kind > 2;
            char name[64];
            snprintf(name, sizeof name, "in%d-%d.%s", iter, i, archive ? "zst" : "msgpack");
            int64_t pid = archive ? 10 + i : 1000 + i;
            int n = kind == 0 ? 0 : (int)rnd_in(1, 300);
            if (n == 0) /* a writer that got no events makes no file: an empty one */
                cr_assert_eq(th_write_file(th_path(dir, name), "", 0), 0);
            else
                events += write_input(th_path(dir, name), archive, pid, n, (int)rnd_in(1, 40),
                                      rnd_in(0, 1000000), rnd_in(0, 2000000),
                                      rnd_in(0, 8000000), &dropped);
            strcat(files, name);
            strcat(files, " ");
        }
        char out[64];
        snprintf(out, sizeof out, "out%d.zst", iter);
        char *err;
        int st = th_cli(dir, NULL, &err, "merge -o %s %s", out, files);
        cr_assert_eq(st, 0, "merge of %s: %d: %s", files, st, err);
        cr_assert_null(strstr(err, "out of time order"), "%s", err);
        free(err);
        same_events(files, out);
        merged m = check_merged(th_path(dir, out), NULL, 0, false);
        cr_assert_eq(m.events, events, "iteration %d", iter);
        cr_assert_eq(m.dropped, dropped, "drop counts of iteration %d", iter);
    }
}

/* 64 rank files whose chunks overlap: 70 400 events, so two groups. */
Test(merge, sixty_four_inputs, .init = setup, .timeout = 500) {
    rng_state = 64;
    char files[64 * 16] = "";
    uint64_t dropped = 0;
    long events = 0;
    for (int i = 0; i < 64; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%02d.zst", i);
        events += write_input(th_path(dir, name), true, 100 + i, 1100, 200, 1000000000, 400000,
                              2000000, &dropped);
        strcat(files, name);
        strcat(files, " ");
    }
    char *err;
    cr_assert_eq(th_cli(dir, NULL, &err, "merge -o all.zst %s", files), 0, "%s", err);
    cr_assert_null(strstr(err, "out of time order"), "%s", err);
    free(err);
    same_events(files, "all.zst");
    merged m = check_merged(th_path(dir, "all.zst"), NULL, 0, false);
    cr_assert_eq(m.events, events);
    cr_assert_gt(m.timed, GROUP, "not enough events for two groups");
    cr_assert_eq(m.dropped, dropped);
    char *info;
    cr_assert_eq(th_cli(dir, &info, NULL, "info all.zst"), 0);
    cr_assert(strstr(info, "  runs        64 "), "%s", info);
    free(info);
}

/* Two ranks whose clocks differ by 1000 s, with clock samples: merge puts
 * them in order on rank 0's clock, keeps the samples (the merged file
 * aligns the same), and orders by the recorded times with --no-align. */
Test(merge, aligned_order_and_clock_samples, .init = setup) {
    const int64_t off = -1000000000000LL; /* rank 0 - rank 1 */
    for (int r = 0; r < 2; r++) {
        char name[32];
        snprintf(name, sizeof name, "rank%d.zst", r);
        dasf_writer *w = open_out(th_path(dir, name), true);
        int64_t pid = 500 + r, shift = r ? -off : 0;
        origin(w, pid, 0);
        dasf_kv kv[8] = {
            {th_v_str("rank"), th_v_int(r)},
            {th_v_str("size"), th_v_int(2)},
            {th_v_str("ref_rank"), th_v_int(0)},
            {th_v_str("offset_ns"), th_v_int(r ? off : 0)},
            {th_v_str("rtt_ns"), th_v_int(r ? 4000 : 0)},
            {th_v_str("at_ns"), th_v_int(1000000000 + shift)},
            {th_v_str("when"), th_v_str("init")},
            {th_v_str("host"), th_v_str(r ? "h501" : "h500")},
        };
        dasf_trace_event s;
        memset(&s, 0, sizeof s);
        s.name = "dasf.clock_sync";
        s.phase = DASF_PHASE_METADATA;
        s.timestamp_ns = 1000000000 + shift;
        s.timestamp = dasf_ns_to_seconds(s.timestamp_ns);
        s.process_id = th_v_int(pid);
        s.thread_id = th_v_int(pid);
        s.args = (dasf_value){.type = DASF_VAL_MAP};
        s.args.v.map.items = kv;
        s.args.v.map.n = 8;
        cr_assert_eq(dasf_writer_add(w, &s), 0);
        for (int i = 0; i < 3000; i++) {
            if (i && i % 500 == 0) origin(w, pid, 0);
            dasf_trace_event e;
            memset(&e, 0, sizeof e);
            e.name = r ? "recv" : "send";
            e.phase = DASF_PHASE_INSTANT;
            e.scope = DASF_SCOPE_THREAD;
            /* true time: rank 0 at even, rank 1 at odd microseconds */
            e.timestamp_ns = 1000000000 + (int64_t)(2 * i + r) * 1000 + shift;
            e.timestamp = dasf_ns_to_seconds(e.timestamp_ns);
            e.process_id = th_v_int(pid);
            e.thread_id = th_v_int(pid);
            e.args = (dasf_value){.type = DASF_VAL_MAP};
            cr_assert_eq(dasf_writer_add(w, &e), 0);
        }
        cr_assert_eq(dasf_writer_close(w), 0);
    }
    cr_assert_eq(th_cli(dir, NULL, NULL, "merge -o m.zst rank0.zst rank1.zst"), 0);
    offset_rule rule = {501, off};
    merged m = check_merged(th_path(dir, "m.zst"), &rule, 1, false);
    cr_assert_eq(m.events, 6002);
    char *out;
    same_events("rank0.zst rank1.zst", "m.zst");
    /* the samples travel: the merged file aligns as its inputs do */
    char *a = cat_sorted("", "rank0.zst rank1.zst"), *b = cat_sorted("", "m.zst");
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    char *in_info, *m_info;
    cr_assert_eq(th_cli(dir, &in_info, NULL, "info rank0.zst rank1.zst | grep '    rank '"), 0);
    cr_assert_eq(th_cli(dir, &m_info, NULL, "info m.zst | grep '    rank '"), 0);
    cr_assert(strstr(in_info, "rank 1: pid 501"), "%s", in_info);
    cr_assert(strstr(m_info, "rank 1: pid 501"), "%s", m_info);
    free(in_info);
    free(m_info);
    /* --no-align: by the recorded times, rank 1's (1000 s later) after rank 0's */
    cr_assert_eq(th_cli(dir, NULL, NULL, "merge --no-align -o raw.zst rank0.zst rank1.zst"), 0);
    check_merged(th_path(dir, "raw.zst"), NULL, 0, false);
    cr_assert_eq(th_cli(dir, &out, NULL, "cat --no-align --phase I raw.zst | head -3000 | grep -c send"),
                 0);
    cr_assert_eq(atoi(out), 3000, "%s", out);
    free(out);
}

/* Empty, damaged, missing and non-trace inputs: each said on stderr, exit
 * 1, and every whole chunk of the others merged. */
Test(merge, empty_damaged_and_missing_inputs, .init = setup) {
    rng_state = 7;
    uint64_t dropped = 0;
    write_input(th_path(dir, "a.zst"), true, 1, 800, 50, 0, 1000000, 3000000, &dropped);
    write_input(th_path(dir, "b.zst"), true, 2, 800, 50, 0, 1000000, 3000000, &dropped);
    write_input(th_path(dir, "c.msgpack"), false, 1003, 300, 300, 0, 1000000, 3000000, &dropped);
    cr_assert_eq(th_write_file(th_path(dir, "empty.zst"), "", 0), 0);
    cr_assert_eq(th_write_file(th_path(dir, "junk.zst"), "not a trace at all\n", 19), 0);
    /* b cut in the middle of its last chunks: the tail is one damaged region */
    size_t len;
    uint8_t *b = th_read_file(th_path(dir, "b.zst"), &len);
    cr_assert_not_null(b);
    cr_assert_eq(th_write_file(th_path(dir, "b.zst"), b, len - 200), 0);
    free(b);
    const char *ins = "a.zst empty.zst b.zst junk.zst missing.zst c.msgpack";
    char *err;
    cr_assert_eq(th_cli(dir, NULL, &err, "merge -o m.zst %s", ins), 1);
    cr_assert(strstr(err, "b.zst: damaged"), "%s", err);
    cr_assert(strstr(err, "junk.zst: not a dasf trace file"), "%s", err);
    cr_assert(strstr(err, "missing.zst"), "%s", err);
    free(err);
    same_events("a.zst b.zst c.msgpack", "m.zst");
    merged m = check_merged(th_path(dir, "m.zst"), NULL, 0, false);
    cr_assert_gt(m.events, 1100);
    /* only empty inputs: an empty trace */
    cr_assert_eq(th_cli(dir, NULL, NULL, "merge -o e.zst empty.zst empty.zst"), 0);
    char *info;
    cr_assert_eq(th_cli(dir, &info, NULL, "info e.zst"), 0);
    cr_assert(strstr(info, "  layout      empty\n"), "%s", info);
    free(info);
}

/* A chunk that starts before the chunks read before it (a span that lasted
 * longer than a flush interval), and a window too small for overlapping
 * chunks: the events come late, are counted on stderr, and are all there. */
Test(merge, late_events_counted_never_lost, .init = setup) {
    dasf_writer *w = open_out(th_path(dir, "long.zst"), true);
    for (int c = 0; c < 5; c++) {
        origin(w, 3, 0);
        for (int i = 0; i < 100; i++) {
            dasf_kv kv[2];
            dasf_value items[2];
            dasf_trace_event e = rnd_event(3, 1000000000 + (c * 100 + i) * 1000000LL, kv, items);
            cr_assert_eq(dasf_writer_add(w, &e), 0);
        }
    }
    origin(w, 3, 0); /* the last chunk: a span from the very start */
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = "whole_run";
    e.phase = DASF_PHASE_COMPLETE;
    e.timestamp_ns = 1000000000;
    e.timestamp = 1.0;
    e.duration_ns = 500000000;
    e.duration = 0.5;
    e.has_duration = true;
    e.process_id = th_v_int(3);
    e.thread_id = th_v_int(1);
    e.args = (dasf_value){.type = DASF_VAL_MAP};
    cr_assert_eq(dasf_writer_add(w, &e), 0);
    cr_assert_eq(dasf_writer_close(w), 0);
    rng_state = 11;
    uint64_t dropped = 0;
    write_input(th_path(dir, "other.zst"), true, 4, 600, 100, 1000000000, 1000000, 2000000, &dropped);
    char *err;
    cr_assert_eq(th_cli(dir, NULL, &err, "merge -o m.zst long.zst other.zst"), 0);
    cr_assert(strstr(err, "events are out of time order"), "%s", err);
    free(err);
    same_events("long.zst other.zst", "m.zst");
    check_merged(th_path(dir, "m.zst"), NULL, 0, true);
    /* --window 1 with chunks overlapping by much more than a chunk */
    write_input(th_path(dir, "ovl.zst"), true, 5, 3000, 20, 0, 100000, 50000000, &dropped);
    cr_assert_eq(th_cli(dir, NULL, &err, "merge --window 1 -o w1.zst ovl.zst other.zst"), 0);
    cr_assert(strstr(err, "events are out of time order"), "%s", err);
    free(err);
    same_events("ovl.zst other.zst", "w1.zst");
    /* the default window holds them: in order */
    cr_assert_eq(th_cli(dir, NULL, &err, "merge -o w.zst ovl.zst other.zst"), 0);
    cr_assert_null(strstr(err, "out of time order"), "%s", err);
    free(err);
    check_merged(th_path(dir, "w.zst"), NULL, 0, false);
    /* bad --window values */
    cr_assert_eq(th_cli(dir, NULL, &err, "merge --window 0 -o x.zst ovl.zst"), 2);
    cr_assert(strstr(err, "--window"), "%s", err);
    free(err);
}

/* --run numbers runs across the files in command-line order, as info does. */
Test(merge, run_filter_numbers_as_info, .init = setup) {
    rng_state = 21;
    uint64_t dropped = 0;
    write_input(th_path(dir, "one.zst"), true, 7, 200, 30, 0, 1000000, 1000000, &dropped);
    /* two writers appended to one file: two runs */
    write_input(th_path(dir, "p8.zst"), true, 8, 200, 30, 0, 1000000, 1000000, &dropped);
    write_input(th_path(dir, "p9.zst"), true, 9, 200, 30, 0, 1000000, 1000000, &dropped);
    size_t l8, l9;
    uint8_t *b8 = th_read_file(th_path(dir, "p8.zst"), &l8), *b9 = th_read_file(th_path(dir, "p9.zst"), &l9);
    uint8_t *both = malloc(l8 + l9);
    cr_assert(b8 && b9 && both);
    memcpy(both, b8, l8);
    memcpy(both + l8, b9, l9);
    cr_assert_eq(th_write_file(th_path(dir, "two.zst"), both, l8 + l9), 0);
    free(b8);
    free(b9);
    free(both);
    cr_assert_eq(th_cli(dir, NULL, NULL, "merge -o r3.zst --run 3 one.zst two.zst"), 0);
    char *a, *b;
    th_cli(dir, &a, NULL, "cat --no-align --run 3 one.zst two.zst");
    th_cli(dir, &b, NULL, "cat --no-align r3.zst");
    th_sort_lines(a);
    th_sort_lines(b);
    cr_assert_str_eq(a, b);
    cr_assert(strstr(b, "\"process_id\":9"), "run 3 is pid 9's");
    cr_assert_null(strstr(b, "\"process_id\":8"));
    free(a);
    free(b);
    char *err;
    cr_assert_eq(th_cli(dir, NULL, &err, "merge -o r4.zst --run 4 one.zst two.zst"), 1);
    cr_assert(strstr(err, "no run 4"), "%s", err);
    free(err);
}
