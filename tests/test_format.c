/* test_format.c — the archive is a plain zstd stream any msgpack decoder
 * reads with docs/FORMAT.md in hand; the event model's checks. */
#include "archive.h"
#include "value.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *write_archive(int chunks, int per) {
    const char *path = th_tmp_file("a.msgpack.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = 1;
    o.commit_threshold = per;
    o.flush = false;
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    static const char *names[] = {"load", "compute", "store", "a name with spaces"};
    for (int i = 0; i < chunks * per; i++) {
        dasf_trace_event ev = {0};
        ev.name = names[i % 4];
        ev.phase = (dasf_phase)"XBEI"[i % 4];
        ev.timestamp_ns = 1000000000ll + i * 777 - (i % 5) * 300;
        ev.duration_ns = ev.phase == 'X' ? 100 + i : 0;
        ev.process_id.type = DASF_VAL_INT;
        ev.process_id.v.i = 10 + i % 2;
        ev.thread_id.type = DASF_VAL_INT;
        ev.thread_id.v.i = i % 3;
        ev.args.type = DASF_VAL_MAP;
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    return path;
}

/* Integer args as decode_archive.py prints them: sorted key=value, commas. */
static int cmp_kv(const void *a, const void *b) {
    const dasf_kv *x = *(const dasf_kv *const *)a, *y = *(const dasf_kv *const *)b;
    return strcmp(x->key.v.str.ptr, y->key.v.str.ptr);
}

static void int_args(char *out, size_t cap, const dasf_value *m) {
    const dasf_kv *kv[16];
    uint32_t n = m->v.map.n;
    cr_assert_leq(n, 16);
    for (uint32_t i = 0; i < n; i++) kv[i] = &m->v.map.items[i];
    qsort(kv, n, sizeof kv[0], cmp_kv);
    size_t len = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        const dasf_value *v = &kv[i]->val;
        cr_assert(v->type == DASF_VAL_INT || v->type == DASF_VAL_UINT);
        long long x = v->type == DASF_VAL_INT ? (long long)v->v.i : (long long)v->v.u;
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%lld", i ? "," : "",
                                kv[i]->key.v.str.ptr, x);
    }
}

/* `zstd -dc PATH | decode_archive.py` must print what our reader reads. */
static void python_agrees(const char *path, long events) {
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "zstd -q -dc %s | " TH_PYTHON " %s/tests/py/decode_archive.py",
             path, DASF_SOURCE_DIR);
    cr_assert_eq(th_run(cmd, &out), 0, "zstd -dc | python failed: %s", out);
    /* Expected: our reader's view, line for line. */
    size_t cap = 1 << 16, len = 0;
    char *want = malloc(cap);
    len += (size_t)snprintf(want, cap, "%ld\n", events);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    char args[1024];
    while (dasf_trace_next(r, &ev) == 1) {
        int_args(args, sizeof args, &ev->args);
        if (cap - len < 2048) {
            cap *= 2;
            want = realloc(want, cap);
        }
        len += (size_t)snprintf(want + len, cap - len, "%s %c %lld %lld %s\n", ev->name, ev->phase,
                                (long long)ev->timestamp_ns, (long long)ev->duration_ns, args);
    }
    dasf_trace_close(r);
    cr_assert_str_eq(out, want);
    free(out);
    free(want);
}

Test(format, zstd_dc_and_python_msgpack_decode_the_archive) {
    python_agrees(write_archive(3, 50), 150);
}

/* Version 2's compact events (all three time modes, keys from the name's
 * schema, keys given when an event's keys differ), through the recording
 * runtime, as a plain msgpack decoder with FORMAT.md in hand reads them. */
Test(format, compact_events_decode_with_the_spec_alone) {
    const char *path = th_tmp_file("compact.msgpack.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 400;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    uint64_t x = 88172645463325252ull;
    int64_t t = 5000000000ll;
    int modes[3] = {0};
    for (int i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int kind = (int)(x % 3); /* random steps vs nested-looking vs back to back */
        int64_t dur = kind == 0 ? (int64_t)(x >> 20 & 0xfffff) : kind == 1 ? 40 : 1000000;
        t += kind == 0 ? (int64_t)(x >> 44 & 0xffff) : kind == 1 ? 3 : 0;
        modes[kind]++;
        dasf_arg a[3] = {DASF_ARG_I64("step", i), DASF_ARG_I64("block", -(int64_t)(x >> 48)),
                         DASF_ARG_U64("extra", x >> 1)};
        size_t na = i % 7 == 3 ? 3 : i % 11 == 5 ? 0 : 2; /* keys differ now and then */
        char name[16];
        snprintf(name, sizeof name, "k%d", (int)(x >> 33) % 5);
        cr_assert_eq(dasf_record_complete_ns(p, dasf_intern(name), t, dur), 0);
        cr_assert_eq(dasf_record_complete_args(p, name, (double)t * 1e-9, (double)dur * 1e-9, a,
                                               na),
                     0);
        cr_assert_eq(dasf_profiler_record_instant_event(p, name, (double)t * 1e-9, NULL), 0);
    }
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    python_agrees(path, 3000);
    /* and the file did use the compact form with schemas */
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "zstd -q -dc %s | " TH_PYTHON " -c 'import msgpack,sys; u=msgpack.Unpacker(sys.stdin.buffer,"
             "strict_map_key=False); h=next(u); print(h[\"dasf\"], len(h.get(\"schemas\",{})), "
             "sum(1 for o in u if isinstance(o,list) and o[0]<0))'",
             path);
    cr_assert_eq(th_run(cmd, &out), 0, "%s", out);
    int ver, nsch, ncompact;
    cr_assert_eq(sscanf(out, "%d %d %d", &ver, &nsch, &ncompact), 3, "%s", out);
    cr_assert_eq(ver, DASF_FORMAT_VERSION);
    cr_assert_gt(nsch, 0, "schemas in the first chunk");
    cr_assert_gt(ncompact, 0, "compact events in the file");
    free(out);
}

Test(format, zstd_test_accepts_the_archive) {
    const char *path = write_archive(2, 10);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "zstd -q -t %s", path);
    cr_assert_eq(th_run(cmd, NULL), 0);
}

Test(format, phases_and_strerror) {
    const char *letters = "XBEIbnestfCNODMR";
    for (int i = 0; i < DASF_PHASE_COUNT; i++) {
        cr_assert_eq(dasf_phase_from_index(i), letters[i]);
        cr_assert_eq(dasf_phase_index(letters[i]), i);
        cr_assert(dasf_phase_valid(letters[i]));
    }
    cr_assert_eq(dasf_phase_index('Q'), -1);
    cr_assert_eq(dasf_phase_index(0), -1);
    cr_assert_eq(dasf_phase_index(300), -1);
    cr_assert_eq(dasf_phase_index(-5), -1);
    cr_assert_eq(dasf_phase_from_index(16), 0);
    cr_assert_eq(dasf_phase_from_index(-1), 0);
    cr_assert_not(dasf_phase_valid('x'));
    for (int s = 0; s >= -11; s--) {
        cr_assert_not_null(dasf_strerror(s));
        cr_assert_str_neq(dasf_strerror(s), dasf_strerror(-12), "status %d", s);
    }
    cr_assert_not_null(dasf_strerror(12345));
}

static dasf_event good(void) {
    dasf_event e = {.name = "ok", .timestamp = 1.0, .duration = 0.5,
                    .phase = DASF_PHASE_COMPLETE};
    return e;
}

Test(format, event_validate_refuses_bad_input) {
    static const uint8_t map[] = {0x81, 0xa1, 'k', 0x01};
    static const uint8_t arr[] = {0x91, 0x01};
    static const uint8_t two[] = {0x01, 0x02};
    static const uint8_t torn[] = {0x82, 0xa1, 'k'};
    dasf_arg a[2] = {DASF_ARG_I64("k", 1), DASF_ARG_STR("s", "v")};
    dasf_event e = good();
    cr_assert_eq(dasf_event_validate(&e), 0);
    cr_assert_eq(dasf_event_validate(NULL), DASF_EINVAL);
    e.name = NULL;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.timestamp = NAN;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.timestamp = INFINITY;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.duration = NAN;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.duration = -1e-9;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.phase = DASF_PHASE_INSTANT, e.duration = -1; /* ignored off X */
    cr_assert_eq(dasf_event_validate(&e), 0);
    e = good(), e.phase = (dasf_phase)0;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.phase = (dasf_phase)'Z';
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.phase = DASF_PHASE_INSTANT, e.scope = (dasf_scope)'q';
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.phase = DASF_PHASE_INSTANT, e.scope = DASF_SCOPE_THREAD;
    cr_assert_eq(dasf_event_validate(&e), 0);
    e = good(), e.args = a, e.n_args = 1, e.args_msgpack = map, e.args_msgpack_size = 4;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.n_args = 2;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.args = a, e.n_args = 2;
    cr_assert_eq(dasf_event_validate(&e), 0);
    a[0].key = NULL;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    a[0] = DASF_ARG_STR("k", NULL);
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    a[0] = DASF_ARG_MSGPACK("k", two, 2); /* two values, not one */
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    a[0] = DASF_ARG_MSGPACK("k", torn, sizeof torn);
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    a[0] = DASF_ARG_MSGPACK("k", arr, sizeof arr); /* any single value is fine */
    cr_assert_eq(dasf_event_validate(&e), 0);
    a[0].type = (dasf_arg_type)99;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.args_msgpack = arr, e.args_msgpack_size = sizeof arr; /* not a map */
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.args_msgpack = map, e.args_msgpack_size = sizeof map - 1;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.args_msgpack = map, e.args_msgpack_size = sizeof map;
    cr_assert_eq(dasf_event_validate(&e), 0);
    e = good(), e.process_id.kind = (dasf_id_kind)7;
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.thread_id = dasf_id_str(NULL);
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.id = dasf_id_str(NULL);
    cr_assert_eq(dasf_event_validate(&e), DASF_EINVAL);
    e = good(), e.process_id = dasf_id_str("h"), e.thread_id = dasf_id_nil(),
    e.id = dasf_id_int(-1);
    cr_assert_eq(dasf_event_validate(&e), 0);
}

Test(format, msgpack_check_and_deep_nesting) {
    cr_assert_eq(dasf_msgpack_check("\x01", 1, 0), 0);
    cr_assert_eq(dasf_msgpack_check("\x01", 1, 1), DASF_EINVAL);
    cr_assert_eq(dasf_msgpack_check("\xc1", 1, 0), DASF_EINVAL); /* never-used byte */
    cr_assert_eq(dasf_msgpack_check(NULL, 0, 0), DASF_EINVAL);
    cr_assert_eq(dasf_msgpack_check("\xdd\xff\xff\xff\xff", 5, 0), DASF_EINVAL);
    /* 100000 nested arrays: a check, not a stack overflow. */
    size_t n = 100001;
    uint8_t *deep = malloc(n);
    memset(deep, 0x91, n - 1);
    deep[n - 1] = 0x00;
    cr_assert_eq(dasf_msgpack_check(deep, n, 0), 0);
    /* ...but too deep for a value tree: decode fails cleanly. */
    dasf_arena a = {0};
    dasf_mp c = {deep, deep + n};
    dasf_value v;
    cr_assert_neq(dasf_value_decode(&c, &a, &v), 0);
    dasf_arena_free(&a);
    free(deep);
}
