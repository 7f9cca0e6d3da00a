/*
 * test_recover.c — nothing recorded is lost when the process dies
 * (docs/RUNTIME.md, "Surviving the process"): a writer program
 * (tests/writer_proc.c "crash") records batches without committing and
 * reports its count through a pipe after each batch; it is killed with
 * SIGKILL at random points (or aborts, or segfaults), then its shared rings
 * are recovered.  Every event recorded before the last report must be in the
 * trace exactly once, none twice, and the file must verify.
 *
 * CI time: DASF_KILL_ROUNDS (default 100) kills of a program that runs
 * 10-100 ms each, without and with 2 compression workers: about 10-20 s in
 * a debug build, more under sanitizers.
 */
#include "dasf/profiler.h"
#include "helpers.h"
#include "ring.h"
#include "shm.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every seq below `reported` exactly once, nothing twice, file whole:
 * also when the writer was killed inside its append (its torn last chunk
 * is cut by the recoverer, its events recovered from the ring). */
static void check_trace(const char *trace, long reported) {
    th_seq_check c = th_check_seqs(trace, reported);
    cr_assert_eq(c.read_rc, 0, "read %s: %s", trace, dasf_strerror(c.read_rc));
    cr_assert_eq(c.damaged, 0, "the file verifies (%llu damaged)", (unsigned long long)c.damaged);
    cr_assert_eq(c.dup, 0, "no event twice (%ld duplicates)", c.dup);
    cr_assert_eq(c.other, 0);
    cr_assert_eq(c.missing, 0, "every reported event is in the trace (%ld of %ld missing, first %ld)",
                 c.missing, reported, c.first_missing);
}

typedef th_child child;

static child start_writer(const char *trace, const char *how, const char *n) {
    child c = th_start_crash_writer(trace, how, n);
    cr_assert(c.pid > 0 && c.out, "the writer started");
    return c;
}

static int dir_empty_of_maps(const char *shm) {
    char p[4096];
    snprintf(p, sizeof p, "%s/dasf-%u", shm, (unsigned)getuid());
    DIR *d = opendir(p);
    if (!d) return 1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n == 0;
}

static const char *setup_shm(void) {
    const char *dir = th_tmpdir();
    char *shm = th_path(dir, "shm");
    mkdir(shm, 0700);
    setenv("DASF_SHM_DIR", shm, 1);
    return shm;
}

/* kill -9 at `rounds` random points of the writer (`workers` compression
 * workers), then recovery: every reported event exactly once, file whole. */
static void kill9_rounds(const char *workers) {
    const char *shm = setup_shm();
    const char *dir = th_tmpdir();
    setenv("DASF_TEST_WORKERS", workers, 1);
    long rounds = getenv("DASF_KILL_ROUNDS") ? atol(getenv("DASF_KILL_ROUNDS")) : 100;
    unsigned seed = (unsigned)getpid();
    long total_recovered = 0, total_reported = 0, in_file_before = 0, lossy = 0;
    uint64_t tails_cut = 0, bytes_cut = 0;
    for (long i = 0; i < rounds; i++) {
        char name[64];
        snprintf(name, sizeof name, "k%ld.dasf", i);
        char *trace = th_path(dir, name);
        child c = start_writer(trace, "loop", "0");
        long reported = th_read_reports(&c, 1 + (int)(rand_r(&seed) % 40));
        usleep(rand_r(&seed) % 2000); /* kill mid-batch too */
        kill(c.pid, SIGKILL);
        int st = th_wait_status(c.pid);
        fclose(c.out);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        long before = th_count_events(trace);
        if (before > 0) in_file_before += before;
        if (before < reported) lossy++;
        dasf_recover_stats rs;
        cr_assert_eq(dasf_recover_maps(NULL, trace, 0, &rs), 0);
        cr_assert_eq(rs.maps_recovered, 1, "round %ld: the map was drained", i);
        total_recovered += (long)rs.events;
        total_reported += reported;
        tails_cut += rs.tail_bytes_cut > 0;
        bytes_cut += rs.tail_bytes_cut;
        check_trace(trace, reported);
        cr_assert(dir_empty_of_maps(shm), "map removed once drained");
    }
    fprintf(stderr,
            "kill -9 x%ld, %s compression workers: %ld events reported before the kills, %ld in the files before "
            "recovery (%ld rounds short of the reported count), %ld recovered; after "
            "recovery every reported event exactly once, every file whole; %llu rounds killed "
            "inside an append (torn last chunk cut, %llu bytes)\n",
            rounds, workers, total_reported, in_file_before, lossy, total_recovered,
            (unsigned long long)tails_cut, (unsigned long long)bytes_cut);
}

Test(recover, kill9_at_random_points) {
    kill9_rounds("0");
}

/* Workers hand chunks back before the append: a shared ring's space must
 * still wait for the append, and their chunks name their ranges. */
Test(recover, kill9_with_compression_workers) {
    kill9_rounds("2");
}

/* Killed after an append but before the ring space was released (its tail
 * moved back to 0 in the dead writer's map after a commit): the chunks name
 * their shared ranges ("rings"), so recovery starts after them — inline and
 * with compression workers — and writes nothing twice. */
static void appended_not_released(const char *workers) {
    const char *shm = setup_shm();
    setenv("DASF_TEST_WORKERS", workers, 1);
    char name[64];
    snprintf(name, sizeof name, "anr%s.dasf", workers);
    char *trace = th_path(th_tmpdir(), name);
    child c = start_writer(trace, "commit-hold", "6");
    long reported = th_read_reports(&c, 7); /* 6 batches, then the count after the commit */
    kill(c.pid, SIGKILL);
    th_wait_status(c.pid);
    fclose(c.out);
    cr_assert_eq(reported, 6 * 500);
    cr_assert_eq(th_count_events(trace), reported, "committed: all in the file");
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls -d '%s'/dasf-%u/*/ring-*", shm, (unsigned)getuid());
    cr_assert_eq(th_run(cmd, &out), 0);
    int rings = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"), rings++) {
        int fd = open(l, O_RDWR);
        cr_assert(fd >= 0, "%s", l);
        uint64_t zero = 0;
        cr_assert_eq(pwrite(fd, &zero, 8, DASF_SHM_RING_OFF + offsetof(dasf_ring, tail)), 8);
        close(fd);
    }
    free(out);
    cr_assert_gt(rings, 0);
    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(NULL, trace, 0, &rs), 0);
    cr_assert_eq(rs.events, 0, "nothing written twice (%llu events recovered)",
                 (unsigned long long)rs.events);
    check_trace(trace, reported);
}

Test(recover, killed_between_append_and_release) {
    appended_not_released("0");
    appended_not_released("2");
}

static void crash_and_recover(const char *how, int sig) {
    setup_shm();
    char *trace = th_path(th_tmpdir(), "crash.dasf");
    child c = start_writer(trace, how, "30");
    long reported = th_read_reports(&c, 0);
    int st = th_wait_status(c.pid);
    fclose(c.out);
    cr_assert_eq(reported, 30 * 500);
    /* The sanitizers report a SEGV and exit with an error instead. */
    cr_assert(WIFSIGNALED(st) ? WTERMSIG(st) == sig : WEXITSTATUS(st) != 0);
    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(NULL, NULL, 0, &rs), 0);
    check_trace(trace, reported);
}

Test(recover, after_abort) {
    crash_and_recover("abort", SIGABRT);
}

Test(recover, after_segfault) {
    crash_and_recover("segv", SIGSEGV);
}

Test(recover, live_process_is_left_alone) {
    const char *shm = setup_shm();
    char *trace = th_path(th_tmpdir(), "live.dasf");
    child c = start_writer(trace, "loop", "0");
    th_read_reports(&c, 3);
    long before = th_count_events(trace);
    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(NULL, NULL, 0, &rs), 0);
    cr_assert_eq(rs.maps_live + rs.maps_busy, 1);
    cr_assert_eq(rs.events, 0);
    cr_assert(!dir_empty_of_maps(shm));
    /* Opening a profiler on the same file does not touch it either. */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, trace, NULL, NULL), 0);
    dasf_profiler_destroy(p);
    long now = th_count_events(trace);
    cr_assert(now >= before); /* only the writer itself appended */
    kill(c.pid, SIGKILL);
    th_wait_status(c.pid);
    fclose(c.out);
    cr_assert_eq(dasf_recover_maps(NULL, NULL, 0, &rs), 0);
    cr_assert_eq(rs.maps_recovered, 1);
}

Test(recover, next_profiler_on_the_file_recovers) {
    const char *shm = setup_shm();
    char *trace = th_path(th_tmpdir(), "next.dasf");
    child c = start_writer(trace, "hold", "5");
    long reported = th_read_reports(&c, 5);
    kill(c.pid, SIGKILL);
    th_wait_status(c.pid);
    fclose(c.out);
    cr_assert(th_count_events(trace) <= 0, "nothing written before the kill");
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, trace, NULL, NULL), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    check_trace(trace, reported);
    cr_assert(dir_empty_of_maps(shm));
    dasf_trace *t;
    cr_assert_eq(dasf_trace_open(&t, trace), 0);
    const dasf_trace_event *ev;
    int recovered = 0;
    while (dasf_trace_next(t, &ev) == 1) {
        dasf_chunk_info ci;
        if (dasf_trace_chunk(t, &ci) == 0 && ci.recovered) recovered = 1;
    }
    dasf_trace_close(t);
    cr_assert(recovered, "recovered chunks are marked in their metadata");
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is set");
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' info '%s'", bin, trace);
    cr_assert_eq(th_run(cmd, &out), 0);
    cr_assert(strstr(out, "recovered   "), "info counts recovered chunks: %s", out);
    free(out);
}

Test(recover, racing_recoverers_write_each_event_once) {
    setup_shm();
    char *trace = th_path(th_tmpdir(), "race.dasf");
    child c = start_writer(trace, "hold", "8");
    long reported = th_read_reports(&c, 8);
    kill(c.pid, SIGKILL);
    th_wait_status(c.pid);
    fclose(c.out);
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is set");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "for i in 1 2 3 4; do '%s' recover '%s' >/dev/null & done; wait", bin,
             trace);
    cr_assert_eq(th_run(cmd, NULL), 0);
    check_trace(trace, reported);
}

/* ---- space: the fallback to anonymous memory ------------------------------------ */

/* A whole file as a NUL-terminated string (th_read_file's bytes are not). */
static char *read_text(const char *path) {
    size_t n = 0;
    uint8_t *b = th_read_file(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    cr_assert(s);
    s[n] = 0;
    return s;
}

/* Runs the writer ("exit" after 4 batches) with env prefix `env` in a
 * shell; checks: exit 0, the one warning on stderr, every event in the
 * file, its chunks say "shm_fallback", and `info` says "unrecoverable". */
static void falls_back(const char *shell_prefix, const char *tag) {
    const char *dir = th_tmpdir();
    char name[64];
    snprintf(name, sizeof name, "fb-%s.dasf", tag);
    char *trace = th_path(dir, name);
    snprintf(name, sizeof name, "fb-%s.err", tag);
    char *err = th_path(dir, name);
    const char *exe = getenv("DASF_TEST_WRITER");
    cr_assert(exe && *exe, "DASF_TEST_WRITER is set");
    char cmd[16384], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s '%s' crash '%s' exit 4 2>'%s'", shell_prefix, exe, trace, err);
    int st = th_run(cmd, &out);
    char *e = read_text(err);
    cr_assert(e, "%s: stderr captured", tag);
    cr_assert_eq(st, 0, "%s: the writer records and exits normally (%d): %s", tag, st, e);
    long reported = 0; /* the last line */
    for (const char *q = out; *q;) {
        reported = atol(q);
        if (!(q = strchr(q, '\n'))) break;
        q++;
    }
    cr_assert_eq(reported, 4 * 500, "%s: %s", tag, out);
    const char *w = "shared memory for the rings unavailable";
    const char *first = strstr(e, w);
    cr_assert(first, "%s: the fallback is warned about: %s", tag, e);
    cr_assert_null(strstr(first + 1, w), "%s: warned once: %s", tag, e);
    check_trace(trace, reported);
    dasf_trace *t;
    cr_assert_eq(dasf_trace_open(&t, trace), 0);
    const dasf_trace_event *ev;
    uint64_t fallback_chunks = 0;
    int64_t last_chunk = -1;
    while (dasf_trace_next(t, &ev) == 1) {
        dasf_chunk_info ci;
        if (dasf_trace_chunk(t, &ci) == 0 && (int64_t)ci.offset != last_chunk) {
            last_chunk = (int64_t)ci.offset;
            if (ci.shm_fallback) fallback_chunks++;
        }
    }
    dasf_trace_close(t);
    cr_assert_gt(fallback_chunks, 0, "%s: chunks say their rings were not recoverable", tag);
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is set");
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' info '%s'", bin, trace);
    cr_assert_eq(th_run(cmd, &out), 0);
    cr_assert(strstr(out, "unrecoverable"), "%s: info says so: %s", tag, out);
    free(out);
    free(e);
}

Test(recover, absent_shm_dir_falls_back_to_anonymous_memory) {
    /* A directory that cannot be made, even by root: under a regular file. */
    const char *dir = th_tmpdir();
    char *file = th_path(dir, "not-a-dir");
    cr_assert_eq(th_write_file(file, "x", 1), 0);
    char env[8192];
    snprintf(env, sizeof env, "DASF_SHM_DIR='%s/shm'", file);
    falls_back(env, "absent");
}

Test(recover, shm_bound_falls_back_to_anonymous_memory) {
    /* The names arena and clock fit in 2 MiB, a 1 MiB ring beside them not. */
    char env[8192];
    snprintf(env, sizeof env, "DASF_SHM_DIR='%s' DASF_SHM_MAX=2M", setup_shm());
    falls_back(env, "bound");
}

/* A full /dev/shm: a tiny tmpfs in a private mount namespace (gone with the
 * shell; needs root, as CI runs).  64 KiB: not even the names arena fits;
 * 1200 KiB: the names (1 MiB) and the clock table (96 KiB) fit, the ring does not. */
Test(recover, full_shm_falls_back_to_anonymous_memory) {
    cr_assert_eq(getuid(), 0, "mounting a tmpfs needs root (CI runs as root)");
    const char *sizes[] = {"64k", "1200k"};
    for (int i = 0; i < 2; i++) {
        char *mnt = th_path(th_tmpdir(), sizes[i]);
        cr_assert_eq(mkdir(mnt, 0700), 0);
        char pre[8192];
        snprintf(pre, sizeof pre,
                 "exec unshare -m sh -c 'mount -t tmpfs -o size=%s tmpfs \"$0\" && "
                 "DASF_SHM_DIR=\"$0\" exec \"$@\"' '%s'",
                 sizes[i], mnt);
        falls_back(pre, sizes[i]);
    }
}

/* ---- the crash handler (dasf_commit_on_crash) ------------------------------------ */

/* The last number on the lines of out (the writer's reports). */
static long last_report(const char *out) {
    long v = 0;
    for (const char *q = out; *q;) {
        v = atol(q);
        if (!(q = strchr(q, '\n'))) break;
        q++;
    }
    return v;
}

/* Runs the writer crashing with `how` after 30 batches, `env` (shell
 * assignments) before it, no core file.  @return th_run's status; *out the
 * reports, *err its stderr. */
static int run_crash(const char *env, const char *how, const char *trace, char **out,
                     char **err) {
    const char *exe = getenv("DASF_TEST_WRITER");
    cr_assert(exe && *exe, "DASF_TEST_WRITER is set");
    char *errf = th_path(th_tmpdir(), "crash.err");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "ulimit -c 0; %s '%s' crash '%s' %s 30 2>'%s'", env, exe, trace,
             how, errf);
    int st = th_run(cmd, out);
    *err = read_text(errf);
    cr_assert(*err);
    return st;
}

/* The handler commits every event recorded before the crash (shared memory
 * off, nothing flushed before: only the handler can have written them), the
 * program's own handler still runs, and the exit status is the one the
 * program has without the handler; with shared memory on as well, recovery
 * adds the rest and nothing twice. */
static void crash_handler_case(const char *how, int sig) {
    setup_shm();
    const char *abbrev = sigabbrev_np(sig);
    char name[64], own[64], *out, *err;
    snprintf(own, sizeof own, "own handler %s", abbrev);
    snprintf(name, sizeof name, "ch-%s.dasf", how);
    char *with = th_path(th_tmpdir(), name);
    int st = run_crash("DASF_SHM_DIR= DASF_TEST_HOLD=1 DASF_TEST_OWN_HANDLER=1 "
                       "DASF_TEST_CRASH_HANDLER=1",
                       how, with, &out, &err);
    long reported = last_report(out);
    cr_assert_eq(reported, 30 * 500, "%s: %s", how, err);
    cr_assert(strstr(err, own), "%s: the program's own handler ran: %s", how, err);
    check_trace(with, reported);
    free(out);
    free(err);

    snprintf(name, sizeof name, "noch-%s.dasf", how);
    char *without = th_path(th_tmpdir(), name);
    int st0 = run_crash("DASF_SHM_DIR= DASF_TEST_HOLD=1 DASF_TEST_OWN_HANDLER=1 "
                        "DASF_TEST_CRASH_HANDLER=0",
                        how, without, &out, &err);
    cr_assert(strstr(err, own), "%s: %s", how, err);
    cr_assert_eq(st, st0, "%s: exit status %d with the handler, %d without", how, st, st0);
    if (!SANITIZED) cr_assert_eq(st, 128 + sig, "%s: died of its signal (%d)", how, st);
    cr_assert_leq(th_count_events(without), 0, "%s: without the handler nothing is written",
                  how);
    free(out);
    free(err);

    snprintf(name, sizeof name, "chshm-%s.dasf", how);
    char *both = th_path(th_tmpdir(), name);
    run_crash("DASF_TEST_CRASH_HANDLER=1", how, both, &out, &err);
    reported = last_report(out);
    dasf_recover_stats rs;
    cr_assert_eq(dasf_recover_maps(NULL, NULL, 0, &rs), 0);
    check_trace(both, reported);
    free(out);
    free(err);
}

Test(recover, crash_handler_on_abort) {
    crash_handler_case("abort", SIGABRT);
}

Test(recover, crash_handler_on_segv_bus_fpe_ill) {
    crash_handler_case("segv", SIGSEGV);
    crash_handler_case("bus", SIGBUS);
    crash_handler_case("fpe", SIGFPE);
    crash_handler_case("ill", SIGILL);
}
