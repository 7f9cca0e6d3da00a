/*
 * test_wait_hooks.c — dasf_set_wait_hooks(): a recording thread that has to
 * wait for ring space (BLOCK policy) calls the "before" hook before it sleeps
 * and the "after" hook when it wakes, in pairs, on its own thread; without a
 * wait neither is called.  The Python package relies on this to release the
 * interpreter lock while a record blocks.
 */
#include "helpers.h"

#include "dasf/profiler.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

static int g_lock_fd = -1;
static long g_before, g_after;
static pthread_t g_recorder;
static int g_wrong_thread;

/* Releases the file lock that made the ring fill up: the wait then ends. */
static void before_wait(void) {
    if (!pthread_equal(pthread_self(), g_recorder)) g_wrong_thread = 1;
    if (g_before != g_after) g_wrong_thread = 1; /* not paired */
    g_before++;
    if (g_lock_fd >= 0) {
        flock(g_lock_fd, LOCK_UN);
        close(g_lock_fd);
        g_lock_fd = -1;
    }
}

static void after_wait(void) {
    if (!pthread_equal(pthread_self(), g_recorder)) g_wrong_thread = 1;
    g_after++;
}

Test(wait_hooks, called_in_pairs_around_a_blocked_record_and_nothing_is_lost) {
    const char *path = th_tmp_file("w.msgpack.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 1000;
    o.ring_capacity = 1 << 16;
    o.max_pending_bytes = 1; /* the flusher stops draining while the lock is held */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    g_lock_fd = open(path, O_RDWR | O_CREAT, 0644);
    cr_assert_geq(g_lock_fd, 0);
    cr_assert_eq(flock(g_lock_fd, LOCK_EX), 0);
    g_recorder = pthread_self();
    dasf_set_wait_hooks(before_wait, after_wait);
    dasf_name n = dasf_intern("w");
    for (int i = 0; i < 20000; i++) cr_assert_eq(dasf_record_complete_h(p, n, i, 1), 0);
    dasf_set_wait_hooks(NULL, NULL);
    cr_assert_geq(g_before, 1, "a full ring made the thread wait, through the hook");
    cr_assert_eq(g_before, g_after, "before/after come in pairs");
    cr_assert_eq(g_wrong_thread, 0, "hooks run on the recording thread, paired");
    cr_assert_eq(g_lock_fd, -1);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(th_count_events(path), 20000);
}

Test(wait_hooks, not_called_without_a_wait) {
    const char *path = th_tmp_file("n.msgpack.zst");
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, NULL, NULL), 0);
    g_before = g_after = 0;
    g_recorder = pthread_self();
    dasf_set_wait_hooks(before_wait, after_wait);
    dasf_name n = dasf_intern("n");
    for (int i = 0; i < 100; i++) cr_assert_eq(dasf_record_complete_h(p, n, i, 1), 0);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    dasf_set_wait_hooks(NULL, NULL);
    cr_assert_eq(g_before, 0);
    cr_assert_eq(g_after, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(th_count_events(path), 100);
}
