/* test_flight_crash.c — the flight recorder when the process dies: a
 * commit signal (SIGABRT) and the crash handler (dasf_commit_on_crash,
 * crash_actions() in runtime/db/signals.c) write the current window as
 * snapshot chunks with what was overwritten; with the rings in shared
 * memory, recovering the dead process afterwards writes nothing twice
 * (the snapshot chunks name their ring ranges); and a flight recorder
 * killed with SIGKILL is recovered as exactly the records after its last
 * snapshot that were still in its window. */
#include "helpers.h"
#include "flight_read.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

Test(flight_crash, abort_with_commit_signal_writes_the_window) {
    const char *path = th_tmp_file("abort.zst");
    const int64_t K = 10000;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (dasf_commit_on_signals((const int[]){SIGABRT}, 1, 10.0)) _exit(3);
        dasf_profiler *p = flight_profiler_in(path, WINDOW, "");
        dasf_name h = dasf_intern("w");
        for (int64_t i = 1; i <= K; i++)
            if (dasf_record_complete_ns(p, h, i, 1)) _exit(4);
        abort();
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "child status %d", st);
    rd_file f = read_back(path);
    uint64_t snap = 0;
    size_t kept = check_window(&f, 0, 0, K, &snap);
    cr_assert_geq(kept, (WINDOW - WINDOW / 32) / 32);
    cr_assert_eq(f.chunks[0].writer_pid, pid);
    rd_free(&f);
}

/* Events of f from `first` on that are in chunks of snapshot `snap`. */
static size_t count_snapshot(const rd_file *f, size_t first, uint64_t snap) {
    size_t n = 0;
    for (size_t i = first; i < f->n && f->chunks[f->ev[i].chunk].snapshot == snap; i++) n++;
    return n;
}

/* A child recording 1..k1 into a flight recorder with its rings in shm,
 * taking a snapshot, recording k1+1..k1+more, then (how) aborting with the
 * crash handler on, or telling the parent through a pipe and waiting to
 * be killed with SIGKILL.  @return the child's wait status. */
enum { DIE_ABORT, DIE_KILL };
static int run_child(const char *path, const char *shm, int64_t k1, int64_t more, int how) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (how == DIE_ABORT && dasf_commit_on_crash(10.0)) _exit(3);
        dasf_profiler *p = flight_profiler_in(path, WINDOW, shm);
        dasf_name h = dasf_intern("w");
        for (int64_t i = 1; i <= k1 + more; i++) {
            if (dasf_record_complete_ns(p, h, i, 1)) _exit(4);
            if (i == k1 && dasf_profiler_snapshot(p)) _exit(5);
        }
        if (how == DIE_ABORT) abort();
        if (write(fds[1], "r", 1) != 1) _exit(6);
        for (;;) pause();
    }
    close(fds[1]);
    char c;
    if (how == DIE_KILL) {
        cr_assert_eq(read(fds[0], &c, 1), 1, "the child died before it reported");
        cr_assert_eq(kill(pid, SIGKILL), 0);
    }
    close(fds[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return st;
}

static char *shm_dir(void) {
    return th_tmpdir(); /* private: only this test's maps are in it */
}

Test(flight_crash, crash_handler_writes_the_window_and_recovery_adds_nothing) {
    const char *path = th_tmp_file("crash.zst");
    char *shm = shm_dir();
    const int64_t K1 = 3000, MORE = 7000;
    int st = run_child(path, shm, K1, MORE, DIE_ABORT);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "child status %d", st);

    /* Snapshot 1 (dasf_profiler_snapshot): the last window of 1..K1;
     * snapshot 2 (the crash handler): the last window of K1+1..K1+MORE. */
    rd_file f = read_back(path);
    size_t n1 = count_snapshot(&f, 0, 1);
    cr_assert_gt(n1, 0, "the first snapshot is missing");
    size_t all = f.n;
    f.n = n1;
    uint64_t snap = 0;
    check_window(&f, 0, 0, K1, &snap);
    f.n = all;
    cr_assert_eq(count_snapshot(&f, n1, 2), all - n1, "after the first snapshot: only the crash's");
    size_t kept = check_window(&f, n1, K1, K1 + MORE, &snap);
    cr_assert_eq(snap, 2);
    cr_assert_geq(kept, (WINDOW - WINDOW / 32) / 32);
    for (size_t c = 0; c < f.n_chunks; c++) cr_assert_eq(f.chunks[c].recovered, 0);
    rd_free(&f);

    /* The dead process's map: every record in it is in the file already. */
    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(shm, path, 0, &rs), 0);
    cr_assert_eq(rs.maps_recovered, 1, "the map is drained and removed");
    cr_assert_eq(rs.events, 0, "recovery wrote %llu events a snapshot had written",
                 (unsigned long long)rs.events);
    f = read_back(path);
    cr_assert_eq(f.n, all);
    rd_free(&f);
}

/* SIGKILL after a snapshot and `more` records: recovery writes exactly the
 * records after the snapshot still in the window — the last `more` when
 * they fit, else the newest window of them (the ring overwrote the rest). */
static void kill_and_recover(const char *name, int64_t k1, int64_t more) {
    const char *path = th_tmp_file(name);
    char *shm = shm_dir();
    int st = run_child(path, shm, k1, more, DIE_KILL);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
    rd_file f = read_back(path);
    size_t n1 = f.n;
    uint64_t snap = 0;
    check_window(&f, 0, 0, k1, &snap);
    rd_free(&f);

    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(shm, path, 0, &rs), 0);
    cr_assert_eq(rs.maps_recovered, 1);
    cr_assert_eq(rs.torn, 0);
    f = read_back(path);
    size_t got = f.n - n1;
    cr_assert_eq(rs.events, got);
    int64_t lo = k1 + more - (int64_t)got + 1;
    cr_assert_gt(lo, k1, "recovery wrote records the snapshot had written");
    for (size_t i = n1; i < f.n; i++) {
        cr_assert_eq(f.ev[i].ts_ns, lo + (int64_t)(i - n1), "recovered event %zu", i - n1);
        cr_assert(f.chunks[f.ev[i].chunk].recovered, "not marked as recovered");
    }
    if (more <= (int64_t)((WINDOW - WINDOW / 32) / 32))
        cr_assert_eq(got, (size_t)more, "records after the snapshot were lost");
    else
        cr_assert_geq(got, (WINDOW - WINDOW / 32) / 32, "less than a window recovered");
    cr_assert_leq(got, WINDOW / 32);
    rd_free(&f);
    const char *bin = th_dasf_trace();
    if (bin) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "'%s' verify '%s' >/dev/null 2>&1", bin, path);
        cr_assert_eq(th_run(cmd, NULL), 0, "verify failed on the recovered file");
    }
}

Test(flight_crash, kill9_recovers_the_records_after_the_last_snapshot) {
    kill_and_recover("kill-few.zst", 3000, 500);
}

Test(flight_crash, kill9_recovers_the_window_once_it_wrapped) {
    kill_and_recover("kill-wrap.zst", 3000, 5000);
}
