/*
 * test_profiler.c — the EventProfiler / FileDatabase contract of the seed:
 * constructor rules, defaults, the four record_*_event kinds, bad input
 * refused with nothing written, user databases through the vtable, and the
 * file-level promises (multi-process appends, lock timeout, layouts).
 */
#include "helpers.h"

#include "dasf/profiler.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static dasf_file_db_options fast_opts(int level) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = level;
    return o;
}

Test(profiler, options_default_are_the_seeds) {
    dasf_file_db_options o = dasf_file_db_options_default();
    cr_assert_str_eq(o.database_file, "traces.msgpack");
    cr_assert_eq(o.commit_threshold, 5000);
    cr_assert_eq(o.remove_old_output_file, false);
    cr_assert_eq(o.commit_on_close, true);
    cr_assert_eq(o.lock_timeout, 30.0);
    cr_assert_eq(o.default_byte_size, 8);
    cr_assert_eq(o.flush, true);
    cr_assert_eq(o.compression_level, DASF_COMPRESSION_AUTO, "the layout follows the file name");
    cr_assert_eq(o.overflow, DASF_OVERFLOW_BLOCK);
    cr_assert_eq(o.flush_interval, 1.0);
}

Test(profiler, file_and_database_together_is_an_error) {
    dasf_db *db;
    char *dir = th_tmpdir();
    cr_assert_eq(dasf_file_db_open(&db, th_path(dir, "x"), NULL), 0);
    dasf_profiler *p = NULL;
    cr_assert_eq(dasf_profiler_create(&p, "y.msgpack", NULL, db), DASF_EINVAL);
    cr_assert_null(p);
    cr_assert_eq(dasf_db_close(db), 0);
}

Test(profiler, default_file_name_is_traces_8hex) {
    char *dir = th_tmpdir();
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    regex_t re_zst, re_legacy;
    regcomp(&re_zst, "^traces-[0-9a-f]{8}\\.msgpack\\.zst$", REG_EXTENDED | REG_NOSUB);
    regcomp(&re_legacy, "^traces-[0-9a-f]{8}\\.msgpack$", REG_EXTENDED | REG_NOSUB);
    dasf_profiler *p, *q;
    /* an explicit archive level: the ".zst" name; the defaults: the seed's
     * ".msgpack" name, hence the legacy layout */
    dasf_file_db_options oz = fast_opts(1);
    cr_assert_eq(dasf_profiler_create(&p, NULL, &oz, NULL), 0);
    cr_assert_eq(regexec(&re_zst, dasf_profiler_output_file(p), 0, NULL, 0), 0, "%s",
                 dasf_profiler_output_file(p));
    cr_assert_eq(dasf_profiler_create(&q, NULL, NULL, NULL), 0);
    cr_assert_eq(regexec(&re_legacy, dasf_profiler_output_file(q), 0, NULL, 0), 0, "%s",
                 dasf_profiler_output_file(q));
    cr_assert_str_neq(dasf_profiler_output_file(p), dasf_profiler_output_file(q));
    cr_assert_eq(dasf_profiler_record_instant_event(p, "i", 1.0, NULL), 0);
    char name[64];
    snprintf(name, sizeof name, "%s", dasf_profiler_output_file(p));
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(dasf_profiler_destroy(q), 0);
    cr_assert_eq(th_count_events(name), 1);
    size_t len;
    uint8_t *head = th_read_file(name, &len);
    cr_assert(head && len >= 4 && !memcmp(head, "\x5d\x2a\x4d\x18", 4), "archive magic");
    free(head);
    regfree(&re_zst);
    regfree(&re_legacy);
    cr_assert_eq(chdir(cwd), 0);
}

typedef struct pair_seen {
    int n;
    dasf_trace_event ev[64];
    char names[64][128];
    char argdump[64][512];
} pair_seen;

static int keep_pairs(const dasf_trace_event *ev, void *user) {
    pair_seen *s = user;
    cr_assert_lt(s->n, 64);
    s->ev[s->n] = *ev;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", ev->name);
    s->argdump[s->n][0] = 0;
    th_dump_value(s->argdump[s->n], sizeof s->argdump[0], &ev->args);
    s->n++;
    return 0;
}

static void four_kinds(int level) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "k");
    dasf_file_db_options o = fast_opts(level);
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    dasf_arg args[2] = {DASF_ARG_I64("n", -5), DASF_ARG_STR("s", "v")};
    dasf_record_opts ro = {.scope = DASF_SCOPE_PROCESS,
                           .process_id = dasf_id_str("host-a"),
                           .thread_id = dasf_id_int(0),
                           .args = args,
                           .n_args = 2};
    cr_assert_eq(dasf_profiler_record_complete_event(p, "X1", 10.5, 0.25, NULL), 0);
    cr_assert_eq(dasf_profiler_record_instant_event(p, "I1", 11.0, &ro), 0);
    cr_assert_eq(dasf_profiler_record_duration_begin_event(p, "B1", 12.0, NULL), 0);
    cr_assert_eq(dasf_profiler_record_duration_end_event(p, "E1", 13.0, NULL), 0);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    pair_seen *g = calloc(1, sizeof *g);
    cr_assert_eq(dasf_profiler_get_traces(p, keep_pairs, g), 0);
    cr_assert_eq(g->n, 4);
    cr_assert_str_eq(g->names[0], "X1");
    cr_assert_eq(g->ev[0].phase, DASF_PHASE_COMPLETE);
    cr_assert_eq(g->ev[0].timestamp, 10.5);
    cr_assert_eq(g->ev[0].duration, 0.25);
    cr_assert_eq(g->ev[0].process_id.type, DASF_VAL_INT);
    cr_assert_eq(g->ev[0].process_id.v.i, getpid(), "automatic pid is the real pid");
    cr_assert_eq(g->ev[1].phase, DASF_PHASE_INSTANT);
    cr_assert_eq(g->ev[1].scope, DASF_SCOPE_PROCESS);
    cr_assert_eq(g->ev[1].process_id.type, DASF_VAL_STR);
    cr_assert_eq(g->ev[1].thread_id.type, DASF_VAL_INT);
    cr_assert_eq(g->ev[1].thread_id.v.i, 0, "explicit 0 (the Python default) is kept");
    cr_assert_eq(g->ev[2].phase, DASF_PHASE_DURATION_BEGIN);
    cr_assert_eq(g->ev[3].phase, DASF_PHASE_DURATION_END, "end events are E, not the seed's B");
    free(g);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
}

/* dasf_record_async / dasf_record_flow: each takes its kind's three phases
 * and an int or string id, and the file keeps phase and id. */
Test(profiler, async_and_flow_events_keep_phase_and_id) {
    char *dir = th_tmpdir();
    dasf_file_db_options o = fast_opts(1);
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, th_path(dir, "af"), &o, NULL), 0);
    const dasf_phase async[3] = {DASF_PHASE_ASYNC_BEGIN, DASF_PHASE_ASYNC_INSTANT,
                                 DASF_PHASE_ASYNC_END};
    const dasf_phase flow[3] = {DASF_PHASE_FLOW_BEGIN, DASF_PHASE_FLOW_STEP,
                                DASF_PHASE_FLOW_END};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(dasf_record_async(p, async[i], "req", "net", dasf_id_int(7), 1.0 + i), 0);
        cr_assert_eq(dasf_record_flow(p, flow[i], "msg", "mpi", dasf_id_str("m1"), 2.0 + i), 0);
        /* the other kind's phases, and ids that are neither int nor string */
        cr_assert_eq(dasf_record_async(p, flow[i], "x", "c", dasf_id_int(1), 1.0), DASF_EINVAL);
        cr_assert_eq(dasf_record_flow(p, async[i], "x", "c", dasf_id_int(1), 1.0), DASF_EINVAL);
    }
    dasf_id none = {DASF_ID_AUTO, 0, NULL};
    cr_assert_eq(dasf_record_async(p, async[0], "x", "c", none, 1.0), DASF_EINVAL);
    cr_assert_eq(dasf_record_flow(p, flow[0], "x", "c", dasf_id_nil(), 1.0), DASF_EINVAL);
    cr_assert_eq(dasf_record_async(p, DASF_PHASE_COMPLETE, "x", "c", dasf_id_int(1), 1.0),
                 DASF_EINVAL);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    pair_seen *g = calloc(1, sizeof *g);
    cr_assert_eq(dasf_profiler_get_traces(p, keep_pairs, g), 0);
    cr_assert_eq(g->n, 6, "only the 6 valid events are in the file");
    for (int i = 0; i < 3; i++) {
        const dasf_trace_event *a = &g->ev[2 * i], *f = &g->ev[2 * i + 1];
        cr_assert_eq(a->phase, async[i]);
        cr_assert_str_eq(g->names[2 * i], "req");
        cr_assert(a->has_id && a->id.type == DASF_VAL_INT && a->id.v.i == 7);
        cr_assert_eq(f->phase, flow[i]);
        cr_assert_str_eq(g->names[2 * i + 1], "msg");
        cr_assert(f->has_id && f->id.type == DASF_VAL_STR);
    }
    free(g);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(dasf_record_async(p, DASF_PHASE_COMPLETE, "x", "c", dasf_id_int(1), 1.0),
                 DASF_ECLOSED, "a destroyed profiler says so, whatever the phase");
}

Test(profiler, four_event_kinds_archive) {
    four_kinds(DASF_DEFAULT_COMPRESSION_LEVEL);
}

Test(profiler, four_event_kinds_legacy) {
    four_kinds(0);
}

Test(profiler, bad_input_is_refused_and_nothing_is_written) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "bad");
    dasf_profiler *p;
    dasf_file_db_options o = fast_opts(3);
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    cr_assert_eq(dasf_profiler_record_complete_event(p, NULL, 1, 1, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_record_complete_event(p, "n", NAN, 1, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_record_complete_event(p, "n", INFINITY, 1, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_record_complete_event(p, "n", 1, -1, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_record_complete_event(p, "n", 1, NAN, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_record_complete_h(p, 0, 1, 1), DASF_EINVAL);
    cr_assert_eq(dasf_record_complete_h(p, dasf_intern("n"), NAN, 1), DASF_EINVAL);
    dasf_event ev = {.name = "n", .timestamp = 1, .phase = (dasf_phase)'Q'};
    cr_assert_eq(dasf_profiler_record(p, &ev), DASF_EINVAL, "unknown phase");
    ev.phase = 0;
    cr_assert_eq(dasf_profiler_record(p, &ev), DASF_EINVAL, "no phase");
    const uint8_t not_map[] = {0x93, 1, 2, 3}; /* [1, 2, 3] */
    dasf_record_opts ro = {.args_msgpack = not_map, .args_msgpack_size = sizeof not_map};
    cr_assert_eq(dasf_profiler_record_instant_event(p, "n", 1, &ro), DASF_EINVAL,
                 "args must be a map");
    const uint8_t torn[] = {0x82, 0xa1, 'a'}; /* map cut short */
    ro.args_msgpack = torn;
    ro.args_msgpack_size = sizeof torn;
    cr_assert_eq(dasf_profiler_record_instant_event(p, "n", 1, &ro), DASF_EINVAL);
    dasf_arg bad_arg = {.key = NULL, .type = DASF_ARG_INT};
    ro = (dasf_record_opts){.args = &bad_arg, .n_args = 1};
    cr_assert_eq(dasf_profiler_record_instant_event(p, "n", 1, &ro), DASF_EINVAL);
    cr_assert_eq(dasf_record_complete_args(p, "n", 1, 1, &bad_arg, 1), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_record(NULL, &ev), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(access(path, F_OK), -1, "no event, no file");
}

Test(profiler, bad_options_are_refused) {
    dasf_db *db;
    dasf_file_db_options o = dasf_file_db_options_default();
    o.commit_threshold = 0;
    cr_assert_eq(dasf_file_db_open(&db, "/tmp/x", &o), DASF_EINVAL);
    o = dasf_file_db_options_default();
    o.default_byte_size = 9;
    cr_assert_eq(dasf_file_db_open(&db, "/tmp/x", &o), DASF_EINVAL);
    o = dasf_file_db_options_default();
    o.compression_level = 23;
    cr_assert_eq(dasf_file_db_open(&db, "/tmp/x", &o), DASF_EINVAL);
    o = dasf_file_db_options_default();
    o.ring_capacity = 100000; /* not a power of two */
    cr_assert_eq(dasf_file_db_open(&db, "/tmp/x", &o), DASF_EINVAL);
    o = dasf_file_db_options_default();
    o.lock_timeout = NAN;
    cr_assert_eq(dasf_file_db_open(&db, "/tmp/x", &o), DASF_EINVAL);
    cr_assert_eq(dasf_file_db_open(&db, "", NULL), DASF_EINVAL);
    cr_assert_str_neq(dasf_strerror(DASF_ELOCK_TIMEOUT), dasf_strerror(DASF_EIO));
    cr_assert_not_null(dasf_strerror(-12345));
}

/* struct_size (profiler.h section 10): a struct not made by _init/_default is
 * refused; a program built against a later header (a larger struct) works
 * as long as the fields this library does not know stay 0, and gets
 * DASF_ENOTSUP, not a silently ignored option, when it sets one. */
Test(profiler, options_struct_size_refuses_uninitialised_and_unknown_fields) {
    char *dir = th_tmpdir();
    const char *path = th_path(dir, "t.msgpack.zst");
    dasf_db *db = NULL;
    dasf_profiler *p = NULL;
    dasf_writer *w = NULL;
    dasf_file_db_options o = dasf_file_db_options_default();
    cr_assert_eq(o.struct_size, sizeof o);

    dasf_file_db_options zero;
    memset(&zero, 0, sizeof zero);
    zero.commit_threshold = 5000; /* every field valid but struct_size */
    zero.lock_timeout = 30;
    zero.default_byte_size = 8;
    zero.ring_capacity = DASF_DEFAULT_RING_CAPACITY;
    zero.flush_interval = 1;
    zero.max_pending_bytes = 1 << 20;
    cr_assert_eq(dasf_file_db_open(&db, path, &zero), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_create(&p, path, &zero, NULL), DASF_EINVAL);
    cr_assert_null(p);
    cr_assert_eq(dasf_writer_open(&w, path, &zero), DASF_EINVAL);
    cr_assert_null(w);
    cr_assert_eq(dasf_file_db_options_init(&o, 8), DASF_EINVAL);
    cr_assert_eq(dasf_file_db_options_init(NULL, sizeof o), DASF_EINVAL);

    /* The smallest struct_size accepted: up to the last field of the first version. */
    size_t v1 = offsetof(dasf_file_db_options, compression_workers) + sizeof(int);
    cr_assert_eq(dasf_file_db_options_init(&o, v1 - 1), DASF_EINVAL);
    cr_assert_eq(dasf_file_db_options_init(&o, v1), 0);
    cr_assert_eq(o.struct_size, v1);
    cr_assert_eq(o.commit_threshold, 5000);

    struct later {
        dasf_file_db_options o;
        uint64_t added[2]; /* fields of a later version */
    } big;
    memset(&big, 0xab, sizeof big);
    cr_assert_eq(dasf_file_db_options_init(&big.o, sizeof big), 0);
    cr_assert_eq(big.o.struct_size, sizeof big);
    cr_assert_eq(big.added[0], 0, "fields this library does not know are zeroed");
    cr_assert_eq(big.added[1], 0);
    cr_assert_eq(big.o.commit_threshold, 5000);
    big.o.flush = false;
    cr_assert_eq(dasf_file_db_open(&db, path, &big.o), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(dasf_profiler_create(&p, path, &big.o, NULL), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(dasf_writer_open(&w, path, &big.o), 0);
    cr_assert_eq(dasf_writer_close(w), 0);

    big.added[1] = 1;
    db = NULL, p = NULL, w = NULL;
    cr_assert_eq(dasf_file_db_open(&db, path, &big.o), DASF_ENOTSUP);
    cr_assert_eq(dasf_profiler_create(&p, path, &big.o, NULL), DASF_ENOTSUP);
    cr_assert_eq(dasf_writer_open(&w, path, &big.o), DASF_ENOTSUP);
    cr_assert(db == NULL && p == NULL && w == NULL);
}

/* ---- a user database through the vtable -------------------------------------- */

typedef struct memdb {
    int recorded, commits, closed;
    char last[32];
} memdb;

static int mem_record(void *self, const dasf_event *ev) {
    memdb *m = self;
    m->recorded++;
    snprintf(m->last, sizeof m->last, "%s%c", ev->name, (char)ev->phase);
    return 0;
}
static int mem_commit(void *self) {
    ((memdb *)self)->commits++;
    return 0;
}
static int mem_get(void *self, dasf_trace_visit v, void *u) {
    (void)self, (void)v, (void)u;
    return 0;
}
static int mem_close(void *self) {
    ((memdb *)self)->closed++;
    return 0;
}
static const dasf_db_ops mem_ops = {mem_record, mem_commit, mem_get, mem_close};

Test(profiler, user_database_receives_validated_events) {
    memdb m = {0};
    dasf_db *db;
    cr_assert_eq(dasf_db_create(&db, &mem_ops, &m), 0);
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, NULL, NULL, db), 0);
    cr_assert_null(dasf_profiler_output_file(p));
    cr_assert_eq(dasf_profiler_record_duration_end_event(p, "z", 1, NULL), 0);
    cr_assert_str_eq(m.last, "zE");
    cr_assert_eq(dasf_record_complete_h(p, dasf_intern("h"), 1, 2), 0, "handles work too");
    cr_assert_str_eq(m.last, "hX");
    cr_assert_eq(dasf_profiler_record_complete_event(p, "n", NAN, 1, NULL), DASF_EINVAL);
    cr_assert_eq(m.recorded, 2, "bad events never reach the database");
    {
        DASF_ZONE(p, "zone");
    }
    cr_assert_str_eq(m.last, "zoneX");
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(m.commits, 1);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(m.closed, 0, "the profiler does not own a user database");
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(m.closed, 1);
}

/* ---- file-level promises ------------------------------------------------------ */

typedef struct per_writer {
    long count[4];
    unsigned char *seen[4];
    long dup;
} per_writer;

static int check_writer(const dasf_trace_event *ev, void *user) {
    per_writer *w = user;
    int k;
    if (sscanf(ev->name, "w%d", &k) != 1 || k < 0 || k > 3) return 0;
    const dasf_value *v = dasf_value_map_get(&ev->args, "i");
    int64_t i = v->type == DASF_VAL_UINT ? (int64_t)v->v.u : v->v.i;
    if (w->seen[k][i]) w->dup++;
    w->seen[k][i] = 1;
    w->count[k]++;
    return 0;
}

Test(profiler, four_processes_append_to_one_file_every_event_once) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "shared.msgpack.zst");
    enum { N = 50000 };
    pid_t kids[4];
    for (int k = 0; k < 4; k++) { /* four separate processes (writer_proc.c) */
        char ks[16], ns[16];
        snprintf(ks, sizeof ks, "%d", k);
        snprintf(ns, sizeof ns, "%d", N);
        kids[k] = th_spawn_writer((const char *const[]){"append", path, ks, ns, NULL});
        cr_assert_gt(kids[k], 0);
    }
    for (int k = 0; k < 4; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d: %d", k, WEXITSTATUS(st));
    }
    per_writer w = {0};
    for (int k = 0; k < 4; k++) w.seen[k] = calloc(N, 1);
    cr_assert_eq(dasf_trace_read_file(path, check_writer, &w), 0);
    cr_assert_eq(w.dup, 0);
    for (int k = 0; k < 4; k++) cr_assert_eq(w.count[k], N, "writer %d", k);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    while (dasf_trace_next(r, &ev) == 1) {
    }
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    dasf_trace_close(r);
    cr_assert_eq(st.chunks_damaged, 0);
}

Test(profiler, lock_timeout_then_success_after_release) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "lock.msgpack");
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    fflush(NULL);
    pid_t holder = fork();
    if (holder == 0) { /* another process holds the lock */
        close(ready[0]);
        close(go[1]); /* so the read below ends if the test process dies */
        int fd = open(path, O_RDWR | O_CREAT, 0644);
        flock(fd, LOCK_EX);
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(1);
        if (read(go[0], &c, 1) != 1) _exit(1);
        _exit(0); /* exit releases the lock */
    }
    cr_assert_gt(holder, 0);
    close(ready[1]);
    close(go[0]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the holder took the lock");
    dasf_file_db_options o = fast_opts(0);
    o.lock_timeout = 0.2;
    dasf_db *db;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), 0);
    for (int i = 0; i < 10; i++) {
        dasf_event ev = {.name = "e", .timestamp = i, .phase = DASF_PHASE_INSTANT};
        cr_assert_eq(dasf_db_record(db, &ev), 0);
    }
    double t0 = dasf_now();
    cr_assert_eq(dasf_db_commit(db), DASF_ELOCK_TIMEOUT);
    double waited = dasf_now() - t0;
    cr_assert(waited >= 0.15 && waited < 5.0, "gave up after lock_timeout (%.3f s)", waited);
    cr_assert_eq(write(go[1], &c, 1), 1);
    waitpid(holder, NULL, 0);
    cr_assert_eq(dasf_db_commit(db), 0);
    cr_assert_eq(th_count_events(path), 10, "no event lost");
    cr_assert_eq(dasf_db_close(db), 0);
}

Test(profiler, remove_old_output_file_and_layout_mismatch) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "m.msgpack");
    dasf_file_db_options legacy = fast_opts(0), archive = fast_opts(3);
    dasf_db *db;
    dasf_event ev = {.name = "e", .timestamp = 1, .phase = DASF_PHASE_INSTANT};
    cr_assert_eq(dasf_file_db_open(&db, path, &legacy), 0);
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    /* archive onto a legacy file: refused, the file stays readable */
    archive.lock_timeout = 0.1;
    cr_assert_eq(dasf_file_db_open(&db, path, &archive), 0);
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_commit(db), DASF_EFORMAT);
    archive.commit_on_close = false;
    dasf_db_close(db);
    cr_assert_eq(th_count_events(path), 1);
    /* remove_old_output_file starts over */
    archive.remove_old_output_file = true;
    archive.commit_on_close = true;
    cr_assert_eq(dasf_file_db_open(&db, path, &archive), 0);
    cr_assert_eq(access(path, F_OK), -1, "deleted at open");
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(th_count_events(path), 2);
}

Test(profiler, commit_on_close_false_writes_nothing_uncommitted) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "n.msgpack.zst");
    dasf_file_db_options o = fast_opts(1);
    o.commit_on_close = false;
    dasf_db *db;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), 0);
    dasf_event ev = {.name = "e", .timestamp = 1, .phase = DASF_PHASE_INSTANT};
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_commit(db), 0);
    cr_assert_eq(dasf_db_record(db, &ev), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(th_count_events(path), 1);
}

/* ---- the light record path equals the generic one ------------------------------ */

static void light_equals_generic(int level) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "pairs");
    dasf_file_db_options o = fast_opts(level);
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    /* name lengths around every copy size class (1..3, 4..7, 8..15, 16..32, more) */
    static const size_t lens[] = {1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 100};
    enum { NL = sizeof lens / sizeof lens[0] };
    char name[NL][128];
    for (size_t i = 0; i < NL; i++) {
        for (size_t j = 0; j < lens[i]; j++) name[i][j] = (char)('a' + (i + j) % 26);
        name[i][lens[i]] = 0;
    }
    dasf_arg args[5] = {DASF_ARG_I64("k", -7), DASF_ARG_U64("a_longer_key_name", UINT64_MAX),
                        DASF_ARG_F64("double", 2.5), DASF_ARG_BOOL("flag", true),
                        DASF_ARG_STR("s", "a string value longer than thirty-two bytes")};
    for (size_t i = 0; i < NL; i++) { /* light path, then the same through dasf_profiler_record */
        double ts = 1.0 + (double)i, dur = i == 0 ? -0.0 : 0.125 * (double)i;
        dasf_record_opts ro = {.args = args, .n_args = i % 6};
        dasf_phase ph = i % 4 == 0   ? DASF_PHASE_COMPLETE
                        : i % 4 == 1 ? DASF_PHASE_INSTANT
                        : i % 4 == 2 ? DASF_PHASE_DURATION_BEGIN
                                     : DASF_PHASE_DURATION_END;
        int rc = ph == DASF_PHASE_COMPLETE ? dasf_profiler_record_complete_event(p, name[i], ts, dur, &ro)
                 : ph == DASF_PHASE_INSTANT
                     ? dasf_profiler_record_instant_event(p, name[i], ts, i % 2 ? NULL : &ro)
                 : ph == DASF_PHASE_DURATION_BEGIN
                     ? dasf_profiler_record_duration_begin_event(p, name[i], ts, &ro)
                     : dasf_profiler_record_duration_end_event(p, name[i], ts, &ro);
        cr_assert_eq(rc, 0, "light path, event %zu: %s", i, dasf_strerror(rc));
        dasf_event ev = {.name = name[i],
                         .timestamp = ts,
                         .duration = ph == DASF_PHASE_COMPLETE ? dur : 0,
                         .phase = ph,
                         .scope = ph == DASF_PHASE_INSTANT ? DASF_SCOPE_GLOBAL : 0,
                         .args = ph == DASF_PHASE_INSTANT && i % 2 ? NULL : args,
                         .n_args = ph == DASF_PHASE_INSTANT && i % 2 ? 0 : i % 6};
        cr_assert_eq(dasf_profiler_record(p, &ev), 0, "generic path, event %zu", i);
    }
    cr_assert_eq(dasf_record_complete_args(p, name[9], 50.0, 1.0, args, 5), 0);
    dasf_event ev = {.name = name[9], .timestamp = 50.0, .duration = 1.0,
                     .phase = DASF_PHASE_COMPLETE, .args = args, .n_args = 5};
    cr_assert_eq(dasf_profiler_record(p, &ev), 0);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    pair_seen *s = calloc(1, sizeof *s);
    cr_assert_eq(dasf_profiler_get_traces(p, keep_pairs, s), 0);
    cr_assert_eq(s->n, 2 * (NL + 1));
    for (int k = 0; k < s->n; k += 2) {
        const dasf_trace_event *a = &s->ev[k], *b = &s->ev[k + 1];
        cr_assert_str_eq(s->names[k], s->names[k + 1], "pair %d", k / 2);
        cr_assert_eq(a->phase, b->phase, "pair %d", k / 2);
        cr_assert_eq(a->scope, b->scope, "pair %d", k / 2);
        cr_assert_eq(a->timestamp, b->timestamp, "pair %d", k / 2);
        cr_assert_eq(a->duration, b->duration, "pair %d", k / 2);
        cr_assert_eq(a->process_id.v.i, b->process_id.v.i, "pair %d", k / 2);
        cr_assert_eq(a->thread_id.v.i, b->thread_id.v.i, "pair %d", k / 2);
        cr_assert_str_eq(s->argdump[k], s->argdump[k + 1], "pair %d", k / 2);
    }
    cr_assert_str_eq(s->names[2 * 9], name[9], "a 33-byte name survives the copy");
    cr_assert_str_eq(s->names[2 * 10], name[10]);
    cr_assert_eq(s->ev[0].duration, 0.0, "-0.0 duration is accepted");
    cr_assert_eq(s->ev[2].scope, DASF_SCOPE_GLOBAL, "instant without opts: global scope");
    free(s);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
}

Test(profiler, light_path_equals_generic_archive) {
    light_equals_generic(DASF_DEFAULT_COMPRESSION_LEVEL);
}

Test(profiler, light_path_equals_generic_legacy) {
    light_equals_generic(0);
}

/* ---- defaults that cannot surprise (issue 16) --------------------------------- */

/* 1: the file starts with the archive's chunk magic, 0: a legacy record. */
static int file_is_archive(const char *path) {
    size_t len;
    uint8_t *head = th_read_file(path, &len);
    cr_assert(head && len >= 4, "%s", path);
    int a = !memcmp(head, "\x5d\x2a\x4d\x18", 4);
    free(head);
    return a;
}

static void write_one(const char *path, const dasf_file_db_options *o) {
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, o, NULL), 0, "%s", path);
    cr_assert_eq(dasf_profiler_record_instant_event(p, "i", 1.0, NULL), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
}

Test(profiler, layout_follows_the_file_name_unless_compression_level_is_set) {
    char *dir = th_tmpdir();
    static const struct {
        const char *name;
        int level, archive;
    } cases[] = {
        {"a.msgpack", DASF_COMPRESSION_AUTO, 0},   {"b.zst", DASF_COMPRESSION_AUTO, 1},
        {"c.msgpack.zst", DASF_COMPRESSION_AUTO, 1}, {"d.trace", DASF_COMPRESSION_AUTO, 1},
        {"e.MSGPACK", DASF_COMPRESSION_AUTO, 0},   {"noext", DASF_COMPRESSION_AUTO, 1},
        {"f.msgpack", 3, 1},                       {"g.zst", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dasf_file_db_options o = dasf_file_db_options_default();
        o.flush = false;
        o.compression_level = cases[i].level;
        const char *path = th_path(dir, cases[i].name);
        write_one(path, &o);
        cr_assert_eq(file_is_archive(path), cases[i].archive, "%s level %d", cases[i].name,
                     cases[i].level);
        /* dasf_writer (convert, merge) follows the same rule */
        char wname[256];
        snprintf(wname, sizeof wname, "%s/w-%s", dir, cases[i].name);
        dasf_writer *w;
        cr_assert_eq(dasf_writer_open(&w, wname, &o), 0);
        dasf_trace_event ev;
        memset(&ev, 0, sizeof ev);
        ev.name = "x";
        ev.phase = DASF_PHASE_INSTANT;
        ev.timestamp = 1.0;
        ev.timestamp_ns = 1000000000;
        ev.process_id.type = ev.thread_id.type = DASF_VAL_INT;
        ev.args.type = DASF_VAL_MAP;
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
        cr_assert_eq(dasf_writer_close(w), 0);
        cr_assert_eq(file_is_archive(wname), cases[i].archive, "writer: %s", cases[i].name);
    }
    cr_assert_eq(dasf_layout_level("x.msgpack", DASF_COMPRESSION_AUTO), 0);
    cr_assert_eq(dasf_layout_level("x.zst", DASF_COMPRESSION_AUTO), DASF_DEFAULT_COMPRESSION_LEVEL);
    cr_assert_eq(dasf_layout_level("x.msgpack", 7), 7);
    /* the seed's default file name, through the FileDatabase defaults */
    cr_assert_eq(dasf_layout_level(dasf_file_db_options_default().database_file,
                                   dasf_file_db_options_default().compression_level),
                 0, "traces.msgpack must be the Python layout");
}

/* dasf_default_profiler() in a child with DASF_TRACE_FILE=path (as user
 * uid when uid >= 0): its return (1: a profiler) and what it printed. */
static int default_profiler_in_child(const char *path, int uid, char *err, size_t cap) {
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        if (uid >= 0 && (setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0)) _exit(3);
        setenv("DASF_TRACE_FILE", path, 1);
        dasf_profiler *p = dasf_default_profiler();
        _exit(p ? 1 : 0); /* _exit: no atexit commit, the file is not the point */
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd[0], err + n, cap - 1 - n)) > 0) n += (size_t)r;
    err[n] = 0;
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 3, "child could not drop privileges");
    return WEXITSTATUS(st);
}

Test(profiler, bad_dasf_trace_file_is_reported_when_the_default_profiler_is_created) {
    char err[1024];
    cr_assert_eq(default_profiler_in_child("/nonexistent-dasf-dir/run.zst", -1, err, sizeof err), 0);
    cr_assert(strstr(err, "/nonexistent-dasf-dir/run.zst") && strstr(err, "does not exist"), "%s",
              err);
    cr_assert_eq(default_profiler_in_child("/etc/passwd/run.zst", -1, err, sizeof err), 0);
    cr_assert(strstr(err, "does not exist"), "%s", err);
    /* not writable: a directory of mode 0555, as an unprivileged user */
    char ro[] = "/tmp/dasf-ro-XXXXXX";
    cr_assert_not_null(mkdtemp(ro));
    cr_assert_eq(chmod(ro, 0555), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/run.zst", ro);
    int rc = default_profiler_in_child(path, getuid() == 0 ? 65534 : -1, err, sizeof err);
    rmdir(ro);
    cr_assert_eq(rc, 0);
    cr_assert(strstr(err, "not writable"), "%s", err);
    /* a good one is created */
    const char *good = th_tmp_file("good.zst");
    cr_assert_eq(default_profiler_in_child(good, -1, err, sizeof err), 1, "%s", err);
    cr_assert_eq(err[0], 0, "%s", err);
}
