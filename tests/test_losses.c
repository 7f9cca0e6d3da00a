/*
 * test_losses.c — every loss is written down (issue 15): the DROP policy's
 * drops reach the file even when whole chunks are thrown away, BLOCK on an
 * error that does not clear says so once, pending_bytes is real, a torn
 * first chunk or record never blocks later appends, and a process that
 * exits through a handled path (exit() from its own SIGTERM handler,
 * returning from main) leaves no undetectable gap.
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- reading a file back ---------------------------------------------------- */

typedef struct tally {
    long events;          /* events other than dasf.dropped */
    long dropped_markers; /* sum of the dasf.dropped events' counts */
    uint64_t dropped_meta; /* sum of the chunks' metadata "dropped" */
    dasf_trace_stats st;
} tally;

static tally read_tally(const char *path) {
    tally t;
    memset(&t, 0, sizeof t);
    dasf_trace *r;
    int rc = dasf_trace_open(&r, path);
    cr_assert_eq(rc, 0, "open %s: %s", path, dasf_strerror(rc));
    const dasf_trace_event *ev;
    uint64_t last_chunk = UINT64_MAX;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        dasf_chunk_info ci;
        if (dasf_trace_chunk(r, &ci) == 0 && ci.index != last_chunk) {
            last_chunk = ci.index;
            t.dropped_meta += ci.dropped;
        }
        if (strcmp(ev->name, "dasf.dropped") == 0) {
            const dasf_value *c = dasf_value_map_get(&ev->args, "count");
            cr_assert(c && c->type == DASF_VAL_INT, "dasf.dropped carries its count");
            t.dropped_markers += (long)c->v.i;
        } else {
            t.events++;
        }
    }
    cr_assert_eq(rc, 0, "reading %s: %s", path, dasf_strerror(rc));
    dasf_trace_get_stats(r, &t.st);
    dasf_trace_close(r);
    return t;
}

/* Holds the file lock (flock is per open file: another open of the same
 * file conflicts, also in this process) until released. */
static int hold_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    return fd;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- DROP: drops carried forward until written ------------------------------- */

Test(losses, drop_policy_thrown_chunks_are_counted_in_the_file) {
    /* The file is locked by someone else while 60 000 events are recorded
     * with a 4 KiB cap on unwritten chunks: whole chunks are thrown away,
     * and with them the dasf.dropped markers that carried earlier drops.
     * Once the lock is released every loss must be in the file. */
    const char *path = th_tmp_file("drop.zst");
    int lock = hold_lock(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.overflow = DASF_OVERFLOW_DROP;
    o.ring_capacity = 1 << 20;
    o.commit_threshold = 200;
    o.max_pending_bytes = 4 << 10;
    o.lock_timeout = 0.01;
    o.flush_interval = 0.01;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    enum { N = 60000 };
    th_job j = {.p = p, .k = 0, .n = N};
    for (long i = 0; i < 6; i++) { /* bursts, with commits that time out */
        th_job part = {.p = p, .k = 0, .n = N / 6};
        th_record_job(&part);
        j.ok += part.ok, j.drop += part.drop, j.other += part.other;
        int rc = dasf_profiler_commit(p);
        cr_assert(rc == DASF_ELOCK_TIMEOUT || rc == 0, "commit: %s", dasf_strerror(rc));
    }
    cr_assert_eq(j.other, 0);
    cr_assert_eq(j.ok + j.drop, N);
    dasf_db_stats before;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &before), 0);
    cr_assert_gt(before.dropped, (uint64_t)j.drop, "chunks were thrown away (not only ring drops): dropped %llu, ring drops %ld, pending %llu, written %llu", (unsigned long long)before.dropped, j.drop, (unsigned long long)before.pending_bytes, (unsigned long long)before.written);
    close(lock);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    tally t = read_tally(path);
    cr_assert_eq(t.st.chunks_damaged, 0);
    cr_assert_eq(t.events + t.dropped_markers, N,
                 "events in the file (%ld) + drops it reports (%ld) = events recorded (%d)",
                 t.events, t.dropped_markers, N);
    cr_assert_eq((uint64_t)t.dropped_markers, t.dropped_meta, "markers and metadata agree");
    cr_assert_eq((uint64_t)t.dropped_markers, st.dropped, "the stats say the same");
}

/* ---- pending_bytes ---------------------------------------------------------- */

Test(losses, pending_bytes_counts_unwritten_chunks) {
    const char *path = th_tmp_file("pending.zst");
    int lock = hold_lock(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.lock_timeout = 0.01;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    th_job j = {.p = p, .k = 0, .n = 20000};
    th_record_job(&j);
    cr_assert_eq(dasf_profiler_commit(p), DASF_ELOCK_TIMEOUT);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_gt(st.pending_bytes, 0, "the chunks waiting for the lock");
    cr_assert_eq(st.written, 0);
    close(lock);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_eq(st.pending_bytes, 0);
    cr_assert_gt(st.bytes_written, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(read_tally(path).events, 20000);
}

/* ---- BLOCK on an error that does not clear ----------------------------------- */

static void *record_all(void *arg) {
    th_record_job(arg);
    return NULL;
}

/* Occurrences of needle in the file at path. */
static int count_in_file(const char *path, const char *needle) {
    size_t n = 0;
    char *text = (char *)th_read_file(path, &n);
    if (!text) return 0;
    int k = 0;
    for (char *q = text; (q = memmem(q, n - (size_t)(q - text), needle, strlen(needle)));
         q += strlen(needle))
        k++;
    free(text);
    return k;
}

Test(losses, block_on_a_persistent_error_says_so_once) {
    /* BLOCK, the file locked by someone else: recording stops once
     * max_pending_bytes is unwritten.  The program is told once on stderr,
     * and again when the file can be written; nothing is lost. */
    const char *path = th_tmp_file("block.zst");
    const char *err = th_tmp_file("block.stderr");
    int lock = hold_lock(path);
    fflush(stderr);
    int saved = dup(2);
    int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(efd, 0);
    dup2(efd, 2);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.ring_capacity = 1 << 16;
    o.commit_threshold = 500;
    o.max_pending_bytes = 16 << 10;
    o.flush_interval = 0.01;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    enum { N = 200000 };
    th_job j = {.p = p, .k = 0, .n = N};
    pthread_t th;
    pthread_create(&th, NULL, record_all, &j);
    int said = 0;
    for (int i = 0; i < 1000 && !said; i++) {
        sleep_ms(10);
        said = count_in_file(err, "recording threads now wait");
    }
    sleep_ms(300); /* still blocked: no second message */
    int said_later = count_in_file(err, "recording threads now wait");
    close(lock);
    pthread_join(th, NULL);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(efd);
    cr_assert_eq(said, 1, "said when recording started to wait");
    cr_assert_eq(said_later, 1, "and only once");
    cr_assert_eq(count_in_file(err, "written again"), 1, "and when it goes on");
    cr_assert_eq(j.ok, N, "BLOCK loses nothing");
    cr_assert_eq(read_tally(path).events, N);
}

/* ---- a torn first chunk or record never blocks appends ----------------------- */

static void append_twice(const char *path, int level, long *recorded) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = level;
    for (int round = 0; round < 2; round++) {
        dasf_profiler *p;
        cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
        th_job j = {.p = p, .k = round, .n = 1000};
        th_record_job(&j);
        cr_assert_eq(dasf_profiler_commit(p), 0, "append %d after the torn start", round);
        cr_assert_eq(dasf_profiler_destroy(p), 0);
        *recorded += j.ok;
    }
}

Test(losses, torn_first_chunk_does_not_block_appends) {
    /* first_chunk_torn_3bytes.zst: a writer died after 3 bytes of the
     * archive magic; every later commit returned DASF_EFORMAT. */
    size_t n = 0;
    uint8_t *torn = th_read_file(DASF_TEST_DATA "/repro/first_chunk_torn_3bytes.zst", &n);
    cr_assert(torn && n == 3);
    const char *path = th_tmp_file("torn3.zst");
    cr_assert_eq(th_write_file(path, torn, n), 0);
    free(torn);
    long recorded = 0;
    append_twice(path, 1, &recorded);
    tally t = read_tally(path);
    cr_assert_eq(t.events, recorded);
    cr_assert_eq(t.st.layout, DASF_LAYOUT_ARCHIVE);
    /* The torn start was the file's last chunk: the first append cut it
     * (append/torn.c), so the file is whole. */
    cr_assert_eq(t.st.chunks_damaged, 0, "the torn start was cut");
    cr_assert_eq(t.st.bytes_damaged, 0);
}

Test(losses, torn_first_legacy_record_does_not_block_appends) {
    /* A legacy writer died after 5 bytes of its first length prefix. */
    static const uint8_t torn[5] = {0, 0, 0, 0, 0};
    const char *path = th_tmp_file("torn5.msgpack");
    cr_assert_eq(th_write_file(path, torn, sizeof torn), 0);
    long recorded = 0;
    append_twice(path, 0, &recorded);
    tally t = read_tally(path);
    cr_assert_eq(t.events, recorded);
    cr_assert_eq(t.st.layout, DASF_LAYOUT_LEGACY);
    cr_assert_eq(t.st.bytes_damaged, 5);
}

Test(losses, a_file_that_is_no_trace_is_still_refused) {
    const char *path = th_tmp_file("notes.txt");
    const char text[] = "these are my notes, not a trace file at all\n";
    cr_assert_eq(th_write_file(path, text, sizeof text - 1), 0);
    const char *tiny = th_tmp_file("tiny.txt");
    cr_assert_eq(th_write_file(tiny, "abc", 3), 0);
    const char *paths[2] = {path, tiny};
    for (int i = 0; i < 2; i++)
        for (int level = 0; level <= 1; level++) {
            dasf_file_db_options o = dasf_file_db_options_default();
            o.flush = false;
            o.compression_level = level;
            o.commit_on_close = false;
            dasf_profiler *p;
            cr_assert_eq(dasf_profiler_create(&p, paths[i], &o, NULL), 0);
            dasf_arg a = DASF_ARG_I64("k", 1);
            cr_assert_eq(dasf_record_complete_args(p, "x", 1.0, 0.5, &a, 1), 0);
            cr_assert_eq(dasf_profiler_commit(p), DASF_EFORMAT, "%s, level %d", paths[i], level);
            dasf_profiler_destroy(p);
        }
    size_t n = 0;
    uint8_t *back = th_read_file(path, &n);
    cr_assert(back && n == sizeof text - 1 && memcmp(back, text, n) == 0, "left untouched");
    free(back);
}

/* ---- exit through a handled path: no undetectable gap ------------------------ */

/* Shared with the child: how many records each thread saw accepted. */
typedef struct exit_share {
    long ok[2];
    int started[2];
} exit_share;

static exit_share *g_share;
static dasf_profiler *g_child_p;

static void on_term(int sig) {
    (void)sig;
    exit(0); /* the program's own handler: a handled path (atexit runs) */
}

static void *child_loop(void *arg) {
    long k = (long)arg;
    char name[8];
    snprintf(name, sizeof name, "t%ld", k);
    for (long i = 0;; i++) {
        dasf_arg a = DASF_ARG_I64("seq", i);
        int rc = dasf_record_complete_args(g_child_p, name, 1.0 + (double)i * 1e-6, 1e-7, &a, 1);
        if (rc == 0) __atomic_store_n(&g_share->ok[k], g_share->ok[k] + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&g_share->started[k], 1, __ATOMIC_RELEASE);
        if (rc == DASF_ECLOSED) return NULL;
    }
}

/* Runs in the forked child: two recording threads, then SIGTERM (mode 0:
 * handler calling exit) or a return from "main" (mode 1: exit from the
 * main thread while the threads record). */
static void child(const char *path, int mode) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    if (dasf_profiler_create(&g_child_p, path, &o, NULL)) _exit(3);
    if (mode == 0) signal(SIGTERM, on_term);
    pthread_t th[2];
    for (long k = 0; k < 2; k++) pthread_create(&th[k], NULL, child_loop, (void *)k);
    if (mode == 0)
        for (;;) pause();
    while (!__atomic_load_n(&g_share->started[0], __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&g_share->started[1], __ATOMIC_ACQUIRE))
        sleep_ms(1);
    sleep_ms(300);
    exit(0); /* what returning from main does */
}

static void exit_path_case(int mode) {
    const char *path = th_tmp_file(mode ? "exit-main.zst" : "exit-term.zst");
    g_share = mmap(NULL, sizeof *g_share, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(g_share, MAP_FAILED);
    memset(g_share, 0, sizeof *g_share);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) child(path, mode);
    if (mode == 0) {
        while (!__atomic_load_n(&g_share->started[0], __ATOMIC_ACQUIRE) ||
               !__atomic_load_n(&g_share->started[1], __ATOMIC_ACQUIRE))
            sleep_ms(1);
        sleep_ms(300);
        kill(pid, SIGTERM);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    long ok = g_share->ok[0] + g_share->ok[1];
    cr_assert_gt(ok, 1000);
    tally t = read_tally(path);
    cr_assert_eq(t.st.chunks_damaged, 0);
    /* Every record the program saw accepted is in the file or counted as
     * dropped; records in flight when exit() ran may be in the file without
     * their thread having counted them (it was stopped first). */
    cr_assert_geq(t.events + t.dropped_markers, ok, "file %ld + dropped %ld < accepted %ld",
                  t.events, t.dropped_markers, ok);
    cr_assert_leq(t.events + t.dropped_markers, ok + 2, "at most one in flight per thread");
    munmap(g_share, sizeof *g_share);
}

/* The child is forked from the Criterion worker and starts threads:
 * ThreadSanitizer does not support threads (nor its deferred signal
 * delivery) after a multi-threaded fork, so these run in the debug and
 * ASan+UBSan builds, not under TSan (as test_runtime's fork test). */
#if defined(__SANITIZE_THREAD__)
#define UNLESS_TSAN .disabled = true
#else
#define UNLESS_TSAN .disabled = false
#endif

Test(losses, exit_from_a_sigterm_handler_leaves_no_gap, UNLESS_TSAN) {
    exit_path_case(0);
}

Test(losses, exit_while_threads_record_leaves_no_gap, UNLESS_TSAN) {
    exit_path_case(1);
}
