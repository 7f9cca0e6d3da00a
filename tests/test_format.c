/* test_format.c — the archive is a plain zstd stream any msgpack decoder
 * reads with docs/FORMAT.md in hand; the event model's checks. */
#include "archive.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A path in this test process' private temp dir (kept reachable: no leak
 * reports under ASan). */
static const char *tmp_file(const char *name) {
    static char *dir;
    static char bufs[8][4096];
    static int k;
    if (!dir) dir = th_tmpdir();
    char *p = bufs[k++ & 7];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

static const char *write_archive(int chunks, int per) {
    const char *path = tmp_file("a.msgpack.zst");
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

Test(format, zstd_dc_and_python_msgpack_decode_the_archive) {
    const char *path = write_archive(3, 50);
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "zstd -q -dc %s | " TH_PYTHON " %s/tests/py/decode_archive.py",
             path, DASF_SOURCE_DIR);
    cr_assert_eq(th_run(cmd, &out), 0, "zstd -dc | python failed: %s", out);
    /* Expected: our reader's view, line for line. */
    size_t cap = 1 << 16, len = 0;
    char *want = malloc(cap);
    len += (size_t)snprintf(want, cap, "150\n");
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    while (dasf_trace_next(r, &ev) == 1)
        len += (size_t)snprintf(want + len, cap - len, "%s %c %lld\n", ev->name, ev->phase,
                                (long long)ev->timestamp_ns);
    dasf_trace_close(r);
    cr_assert_str_eq(out, want);
    free(out);
    free(want);
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
