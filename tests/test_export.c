/*
 * test_export.c — `dasf-trace export` for viewers: the Perfetto native
 * trace (decoded by an independent decoder, tests/cli/check_perfetto.py on
 * Debian's protoc + python3-protobuf, and compared with `dasf-trace cat` of
 * the source), a golden decode of a small trace, a property test over
 * random mixes of events, and the Chrome JSON forms (object/array, no empty
 * args, cat on X, gzip, the size warning).
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_DIR DASF_SOURCE_DIR "/tests/cli"

static char *dir;

static void setup(void) {
    cr_assert_not_null(th_dasf_trace(), "DASF_TRACE_BIN is not set");
    dir = th_tmpdir();
}

static void teardown(void) {
    dir = NULL;
}

/* Runs a shell command line in the fixture directory (printf-style), with
 * "DT" standing for the dasf-trace binary at the start.  stdout to *out. */
static int sh(char **out, const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && DT='%s' && %s", dir, th_dasf_trace(), args);
    return th_run(cmd, out);
}

/* ---- fixtures ------------------------------------------------------------- */


static dasf_trace_event ev(const char *name, char phase, int64_t ts, int64_t dur, dasf_value pid,
                           dasf_value tid) {
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.phase = (dasf_phase)phase;
    e.timestamp_ns = ts;
    e.timestamp = (double)ts / 1e9;
    if (phase == 'X') {
        e.duration_ns = dur;
        e.duration = (double)dur / 1e9;
        e.has_duration = true;
    }
    e.process_id = pid;
    e.thread_id = tid;
    e.id.type = DASF_VAL_NIL;
    e.args = th_v_map(NULL, 0);
    return e;
}

static dasf_writer *writer(const char *path, const char *host) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 100000;
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    dasf_chunk_info ci;
    memset(&ci, 0, sizeof ci);
    ci.writer_pid = 77;
    snprintf(ci.host, sizeof ci.host, "%s", host);
    snprintf(ci.clock, sizeof ci.clock, "monotonic");
    cr_assert_eq(dasf_writer_set_origin(w, &ci), 0);
    return w;
}

static void add(dasf_writer *w, const dasf_trace_event *e) {
    cr_assert_eq(dasf_writer_add(w, e), 0, "adding %s", e->name);
}

static void with_id(dasf_trace_event *e, const char *cat, dasf_value id) {
    e->cat = cat;
    e->id = id;
    e->has_id = true;
}

#define MS 1000000LL

/* Every phase, two processes (one with a string id), nesting, concurrent
 * spans on one thread, a parent sharing its child's start, args of every
 * type, a B never closed.  Times are ms from 1 s. */
static void write_viewers(const char *path) {
    dasf_writer *w = writer(path, "hostA");
    dasf_value p = th_v_int(100), t1 = th_v_int(1), t2 = th_v_int(2), np = th_v_str("node-a"),
               nt = {.type = DASF_VAL_NIL};
    dasf_trace_event e;
    dasf_kv pn = {th_v_str("name"), th_v_str("solver")}, tn = {th_v_str("name"), th_v_str("main")};
    e = ev("process_name", 'M', 0, 0, p, th_v_int(0));
    e.args = th_v_map(&pn, 1);
    add(w, &e);
    e = ev("thread_name", 'M', 0, 0, p, t1);
    e.args = th_v_map(&tn, 1);
    add(w, &e);
    e = ev("process_sort_index", 'M', 0, 0, p, t1);
    add(w, &e);
    int64_t T = 1000 * MS;
    /* nested: solve [0,50] > step [5,20], step [25,40] > leaf [25,30] (same start) */
    e = ev("step", 'X', T + 5 * MS, 15 * MS, p, t1);
    add(w, &e);
    e = ev("leaf", 'X', T + 25 * MS, 5 * MS, p, t1);
    add(w, &e);
    dasf_value arr_items[2] = {th_v_int(1), th_v_str("two")};
    dasf_value arr = {.type = DASF_VAL_ARRAY};
    arr.v.array.items = arr_items;
    arr.v.array.n = 2;
    dasf_value f = {.type = DASF_VAL_FLOAT}, b = {.type = DASF_VAL_BOOL}, u = {.type = DASF_VAL_UINT};
    f.v.f = 0.25;
    b.v.b = true;
    u.v.u = 18446744073709551615ull;
    dasf_kv inner = {th_v_str("k"), th_v_int(-3)};
    dasf_kv args[7] = {{th_v_str("iter"), th_v_int(7)},   {th_v_str("who"), th_v_str("x\"y")},
                       {th_v_str("frac"), f},          {th_v_str("ok"), b},
                       {th_v_str("big"), u},           {th_v_str("deps"), arr},
                       {th_v_str("nest"), th_v_map(&inner, 1)}};
    e = ev("step", 'X', T + 25 * MS, 15 * MS, p, t1);
    e.args = th_v_map(args, 7);
    e.cat = "compute";
    add(w, &e);
    e = ev("solve", 'X', T, 50 * MS, p, t1);
    add(w, &e);
    /* two concurrent tasks on thread 2, overlapping: [0,30] and [10,40] */
    e = ev("task", 'X', T, 30 * MS, p, t2);
    add(w, &e);
    e = ev("task", 'X', T + 10 * MS, 30 * MS, p, t2);
    add(w, &e);
    /* B/E with args on both ends; a B never closed */
    dasf_kv bk = {th_v_str("file"), th_v_str("a.dat")}, ek = {th_v_str("bytes"), th_v_int(4096)};
    e = ev("io", 'B', T + 60 * MS, 0, p, t2);
    e.args = th_v_map(&bk, 1);
    e.cat = "io";
    add(w, &e);
    e = ev("io", 'E', T + 70 * MS, 0, p, t2);
    e.args = th_v_map(&ek, 1);
    add(w, &e);
    e = ev("wait", 'B', T + 80 * MS, 0, p, t2);
    add(w, &e);
    /* instants of each scope, counters */
    e = ev("tick", 'I', T + 3 * MS, 0, p, t1);
    e.scope = DASF_SCOPE_THREAD;
    add(w, &e);
    e = ev("gc", 'I', T + 4 * MS, 0, p, t1);
    e.scope = DASF_SCOPE_PROCESS;
    add(w, &e);
    e = ev("epoch", 'I', T + 6 * MS, 0, p, t1);
    e.scope = DASF_SCOPE_GLOBAL;
    add(w, &e);
    dasf_value half = {.type = DASF_VAL_FLOAT};
    half.v.f = 1.5;
    dasf_kv ck[2] = {{th_v_str("bytes"), th_v_int(4096)}, {th_v_str("ratio"), half}};
    e = ev("mem", 'C', T + 10 * MS, 0, p, t1);
    e.args = th_v_map(ck, 2);
    add(w, &e);
    ck[0].val = th_v_int(8192);
    e = ev("mem", 'C', T + 20 * MS, 0, p, t1);
    e.args = th_v_map(ck, 1);
    add(w, &e);
    /* async fetch (b, n, e) and a flow s -> t -> f across processes */
    e = ev("fetch", 'b', T + 2 * MS, 0, p, t2);
    with_id(&e, "net", th_v_int(7));
    add(w, &e);
    e = ev("fetch", 'n', T + 3 * MS, 0, p, t2);
    with_id(&e, "net", th_v_int(7));
    add(w, &e);
    e = ev("fetch", 'e', T + 9 * MS, 0, p, t2);
    with_id(&e, "net", th_v_int(7));
    add(w, &e);
    e = ev("handoff", 's', T + 7 * MS, 0, p, t1);
    with_id(&e, "flow", th_v_str("f1"));
    add(w, &e);
    e = ev("handoff", 't', T + 12 * MS, 0, p, t2);
    with_id(&e, "flow", th_v_str("f1"));
    add(w, &e);
    e = ev("buffer", 'N', T + 1 * MS, 0, p, t1);
    with_id(&e, NULL, th_v_int(3));
    add(w, &e);
    e = ev("buffer", 'D', T + 45 * MS, 0, p, t1);
    with_id(&e, NULL, th_v_int(3));
    add(w, &e);
    cr_assert_eq(dasf_writer_close(w), 0);
    /* the Python-style process, another host */
    char path2[4096];
    snprintf(path2, sizeof path2, "%s.b", path);
    w = writer(path2, "hostB");
    e = ev("Compute", 'X', T + 15 * MS, 5 * MS, np, nt);
    add(w, &e);
    e = ev("handoff", 'f', T + 16 * MS, 0, np, nt);
    with_id(&e, "flow", th_v_str("f1"));
    add(w, &e);
    cr_assert_eq(dasf_writer_close(w), 0);
}

static void check_perfetto(const char *pf, const char *inputs, const char *extra) {
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" cat %s > src.jsonl", inputs), 0);
    free(out);
    int st = sh(&out, "%s '%s/check_perfetto.py' %s src.jsonl %s 2>&1", TH_PYTHON, CLI_DIR, pf,
                extra);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
}

/* ---- Perfetto ------------------------------------------------------------- */

Test(perfetto, every_phase_decodes_and_matches_the_source, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o v.pftrace v.zst v.zst.b 2>err.txt"), 0);
    free(out);
    /* the process_sort_index M event has no Perfetto equivalent: said */
    cr_assert_eq(sh(&out, "cat err.txt"), 0);
    cr_assert(strstr(out, "1 metadata event(s)"), "%s", out);
    cr_assert(strstr(out, "unmatched: 1 B without E"), "%s", out);
    free(out);
    /* thread 2's overlapping tasks need a second lane; the leaf sharing its
     * parent's start sends that parent to another lane of thread 1 */
    check_perfetto("v.pftrace", "v.zst v.zst.b", "--expect-compressed --expect-lanes 2");
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto --no-compress -o raw.pftrace v.zst v.zst.b"
                          " 2>/dev/null"),
                 0);
    free(out);
    check_perfetto("raw.pftrace", "v.zst v.zst.b", "--expect-lanes 2");
    cr_assert_eq(sh(&out, "test $(stat -c %%s v.pftrace) -lt $(stat -c %%s raw.pftrace)"), 0,
                 "compressing made the file bigger");
    free(out);
}

Test(perfetto, golden_small_trace, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto --no-compress -o g.pftrace v.zst v.zst.b "
                          "2>/dev/null && protoc -I '%s' --decode perfetto.protos.Trace "
                          "perfetto_subset.proto < g.pftrace > g.txt && "
                          "diff -u '%s/golden/perfetto_small.txt' g.txt",
                    CLI_DIR, CLI_DIR),
                 0, "the decoded trace differs from the golden file");
    free(out);
}

Test(perfetto, filters_stdout_and_bad_usage, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o - --name step v.zst > s.pftrace && "
                          "\"$DT\" cat --name step v.zst > src.jsonl && "
                          "%s '%s/check_perfetto.py' s.pftrace src.jsonl 2>&1",
                    TH_PYTHON, CLI_DIR),
                 0);
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto --chrome -o x v.zst 2>&1"), 2);
    cr_assert(strstr(out, "choose one"), "%s", out);
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto v.zst 2>&1"), 2);
    cr_assert(strstr(out, "OUT.pftrace"), "%s", out);
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o /nonexistent/x.pftrace v.zst 2>&1"),
                 1);
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o x.pftrace missing.zst 2>&1"), 1);
    free(out);
}

Test(perfetto, python_legacy_file_bb_pairs, .init = setup, .fini = teardown) {
    /* the Python module's layout, its end events written with phase B */
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o p.pftrace '%s/python_bb.msgpack' "
                          "2>err.txt && cat err.txt",
                    DASF_TEST_DATA),
                 0);
    cr_assert(strstr(out, "read as Python B/B pairs"), "%s", out);
    free(out);
    char in[4096];
    snprintf(in, sizeof in, "'%s/python_bb.msgpack'", DASF_TEST_DATA);
    check_perfetto("p.pftrace", in, "--expect-compressed");
}

/* Random mixes: nested and overlapping X spans on several threads and
 * processes, B/E pairs (some never closed), instants, counters, async and
 * flow events with random args; each decoded and compared with its source. */
static uint64_t rng_state;
static uint64_t rnd(uint64_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (rng_state >> 33) % n;
}

/* Writes the X spans of a random tree under [s, s+len] in end order. */
static void random_tree(dasf_writer *w, dasf_value p, dasf_value t, int64_t s, int64_t len,
                        int depth) {
    static const char *names[] = {"a", "b", "c", "dd", "e\xc3\xa9"};
    int64_t pos = s;
    int kids = depth < 4 ? (int)rnd(4) : 0;
    for (int k = 0; k < kids && pos < s + len; k++) {
        int64_t gap = (int64_t)rnd(3);               /* 0: starts with its parent */
        int64_t cl = 1 + (int64_t)rnd((uint64_t)(len / (kids + 1) + 1));
        if (pos + gap + cl > s + len) break;
        random_tree(w, p, t, pos + gap, cl, depth + 1);
        pos += gap + cl;
    }
    dasf_trace_event e = ev(names[rnd(5)], 'X', s, len, p, t);
    dasf_kv kv = {th_v_str("n"), th_v_int((int64_t)rnd(1000) - 500)};
    if (rnd(3) == 0) e.args = th_v_map(&kv, 1);
    add(w, &e);
}

Test(perfetto, property_random_mixes_round_trip, .init = setup, .fini = teardown) {
    for (int seed = 1; seed <= 6; seed++) {
        rng_state = (uint64_t)seed * 0x9e3779b97f4a7c15ull;
        char name[64];
        snprintf(name, sizeof name, "r%d.zst", seed);
        dasf_writer *w = writer(th_path(dir, name), seed % 2 ? "h1" : "h2");
        int64_t T = 5000 * MS;
        for (int i = 0; i < 60; i++) {
            dasf_value p = rnd(4) == 0 ? th_v_str("py") : th_v_int(10 + (int64_t)rnd(2));
            dasf_value t = th_v_int(1 + (int64_t)rnd(3));
            T += (int64_t)rnd(50);
            dasf_trace_event e;
            dasf_kv kv = {th_v_str("v"), th_v_int((int64_t)rnd(100))};
            switch (rnd(8)) {
            case 0:
            case 1:
            case 2: random_tree(w, p, t, T, 10 + (int64_t)rnd(200), 0); break;
            case 3: /* an overlapping pair of concurrent tasks */
                e = ev("task", 'X', T, 40, p, t);
                add(w, &e);
                e = ev("task", 'X', T + 20, 40, p, t);
                add(w, &e);
                break;
            case 4:
                e = ev("span", 'B', T, 0, p, t);
                e.args = th_v_map(&kv, 1);
                add(w, &e);
                if (rnd(4)) {
                    e = ev("span", 'E', T + 1 + (int64_t)rnd(30), 0, p, t);
                    add(w, &e);
                }
                break;
            case 5:
                e = ev("mark", 'I', T, 0, p, t);
                e.scope = "gpt"[rnd(3)];
                add(w, &e);
                e = ev("level", 'C', T, 0, p, t);
                e.args = th_v_map(&kv, 1);
                add(w, &e);
                break;
            case 6: {
                dasf_value id = th_v_int((int64_t)rnd(3));
                e = ev("job", 'b', T, 0, p, t);
                with_id(&e, "q", id);
                add(w, &e);
                e = ev("job", 'e', T + 5 + (int64_t)rnd(10), 0, p, t);
                with_id(&e, "q", id);
                add(w, &e);
                break;
            }
            default: {
                dasf_value id = th_v_int(100 + i);
                e = ev("msg", 's', T, 0, p, t);
                with_id(&e, "m", id);
                add(w, &e);
                e = ev("msg", 'f', T + 3, 0, th_v_int(10), th_v_int(3));
                with_id(&e, "m", id);
                add(w, &e);
            }
            }
            T += 300;
        }
        cr_assert_eq(dasf_writer_close(w), 0);
        char *out;
        cr_assert_eq(sh(&out, "\"$DT\" export --perfetto -o %s.pftrace %s 2>/dev/null", name,
                        name),
                     0);
        free(out);
        char pf[80];
        snprintf(pf, sizeof pf, "%s.pftrace", name);
        check_perfetto(pf, name, "");
    }
}

/* ---- Chrome JSON ----------------------------------------------------------- */

static int python_check(const char *script, const char *args, char **out) {
    return sh(out, "%s '%s/%s' %s 2>&1", TH_PYTHON, CLI_DIR, script, args);
}

Test(chrome, object_form_by_default_array_on_request, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export -o o.json v.zst v.zst.b 2>/dev/null"), 0);
    free(out);
    cr_assert_eq(python_check("check_chrome.py", "o.json --object", &out), 0, "%s", out);
    free(out);
    cr_assert_eq(sh(&out, "%s -c \"import json; d = json.load(open('o.json')); "
                          "print(d['displayTimeUnit'], type(d['traceEvents']).__name__)\"",
                    TH_PYTHON),
                 0);
    cr_assert_str_eq(out, "ns list\n");
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export --chrome --array -o a.json v.zst v.zst.b"), 0);
    free(out);
    cr_assert_eq(python_check("check_chrome.py", "a.json", &out), 0, "%s", out);
    free(out);
    /* the same events either way */
    cr_assert_eq(sh(&out, "%s -c \"import json; a = json.load(open('a.json')); "
                          "o = json.load(open('o.json'))['traceEvents']; print(a == o, len(a))\"",
                    TH_PYTHON),
                 0);
    cr_assert_str_eq(out, "True 28\n");
    free(out);
}

Test(chrome, no_empty_args_and_cat_on_x, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export --array -o - --name solve --name step v.zst"), 0);
    cr_assert_str_eq(
        out, "[\n"
             "{\"name\":\"step\",\"ph\":\"X\",\"ts\":1005000.000,\"pid\":100,\"tid\":1,"
             "\"dur\":15000.000,\"cat\":\"dasf\"},\n"
             "{\"name\":\"step\",\"ph\":\"X\",\"ts\":1025000.000,\"pid\":100,\"tid\":1,"
             "\"dur\":15000.000,\"cat\":\"compute\",\"args\":{\"iter\":7,\"who\":\"x\\\"y\","
             "\"frac\":0.25,\"ok\":true,\"big\":18446744073709551615,\"deps\":[1,\"two\"],"
             "\"nest\":{\"k\":-3}}},\n"
             "{\"name\":\"solve\",\"ph\":\"X\",\"ts\":1000000.000,\"pid\":100,\"tid\":1,"
             "\"dur\":50000.000,\"cat\":\"dasf\"}\n"
             "]\n");
    free(out);
}

Test(chrome, gz_name_writes_gzip, .init = setup, .fini = teardown) {
    write_viewers(th_path(dir, "v.zst"));
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export -o t.json.gz v.zst v.zst.b && "
                          "\"$DT\" export -o t.json v.zst v.zst.b && "
                          "%s -c \"import gzip; print(gzip.open('t.json.gz').read() == "
                          "open('t.json', 'rb').read())\"",
                    TH_PYTHON),
                 0);
    cr_assert_str_eq(out, "True\n");
    free(out);
    /* Perfetto output may be gzip-wrapped too (trace processor unpacks it) */
    cr_assert_eq(sh(&out, "\"$DT\" export --perfetto --no-compress -o p.pftrace.gz v.zst 2>/dev/null"
                          " && gunzip -k p.pftrace.gz && \"$DT\" cat v.zst > src.jsonl && "
                          "%s '%s/check_perfetto.py' p.pftrace src.jsonl",
                    TH_PYTHON, CLI_DIR),
                 0, "%s", out);
    free(out);
}

Test(chrome, warns_once_past_256_mb, .init = setup, .fini = teardown) {
    /* 14000 events with 100 args of 200 bytes: about 290 MB of JSON (short
     * strings, so the JSON writer's cache keeps this quick) */
    dasf_writer *w = writer(th_path(dir, "big.zst"), "h");
    static char keys[100][16], vals[100][201];
    dasf_kv kv[100];
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        memset(vals[i], 'a' + i % 26, 200);
        vals[i][200] = 0;
        kv[i].key = th_v_str(keys[i]);
        kv[i].val = th_v_str(vals[i]);
    }
    for (int i = 0; i < 14000; i++) {
        dasf_trace_event e = ev("big", 'X', 1000 + i, 1, th_v_int(1), th_v_int(1));
        e.args = th_v_map(kv, 100);
        add(w, &e);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    char *out;
    cr_assert_eq(sh(&out, "\"$DT\" export -o - big.zst 2>&1 >/dev/null"), 0);
    cr_assert(strstr(out, "passed 256 MB") && strstr(out, "--perfetto"), "%s", out);
    char *second = strstr(strstr(out, "passed 256 MB") + 1, "passed 256 MB");
    cr_assert_null(second, "warned twice: %s", out);
    free(out);
    cr_assert_eq(sh(&out, "\"$DT\" export -o - --name none big.zst 2>&1 >/dev/null"), 0);
    cr_assert_str_eq(out, "");
    free(out);
}
