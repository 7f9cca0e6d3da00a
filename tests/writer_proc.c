/*
 * writer_proc.c — a separate program the tests start (posix_spawn) when
 * they need whole processes writing traces: several processes appending to
 * one file, and the default profiler configured from the environment.
 * Starting a fresh program rather than fork()ing the test keeps these tests
 * valid under ThreadSanitizer, which does not support a child of a
 * multi-threaded process starting threads (the flusher) of its own.
 *
 *   dasf-test-writer append PATH K N   N complete events named "wK" with arg
 *                                      i = 0..N-1, committing every 10000;
 *                                      exit 0 when all were written
 *   dasf-test-writer default N         N instant events "tick" into the
 *                                      default profiler (DASF_TRACE_FILE ...),
 *                                      committed by the atexit handler
 *   dasf-test-writer fork PATH         fork in the middle of recording: the
 *                                      parent records t0 x5000, forks while a
 *                                      second thread records t3 x20000; the
 *                                      child records t1 x7000 and closes; the
 *                                      parent records t2 x3000 and closes.
 *                                      Prints "PARENT_PID CHILD_PID"; exit 0
 *                                      when every record call succeeded.
 *   dasf-test-writer fork-workers PATH W  with W compression workers kept busy
 *                                      (commit_threshold 200): a thread records
 *                                      200000 events (ts (0+1)e12 + i*1000 ns)
 *                                      while the main thread forks 4 times;
 *                                      child k records 5000 events (ts
 *                                      (k+1)e12 + i*1000) and closes.  Prints
 *                                      "PARENT_PID CHILD_PID..."; exit 0 when
 *                                      every call succeeded.
 *   dasf-test-writer crash PATH HOW N  records batches of 500 events, seq
 *                                      0, 1, ... (even: interned name "p",
 *                                      ts = seq ns; odd: copied name "a" with
 *                                      arg seq), writing the count recorded so
 *                                      far as a line on stdout after each
 *                                      batch, never committing; HOW: "loop"
 *                                      forever (the test kills it), "abort" or
 *                                      "segv" after N batches, "hold": no
 *                                      flush before N batches, then wait;
 *                                      "exit": return from main after N;
 *                                      "fpe", "ill", "bus": that fault after N;
 *                                      "commit-hold": commit after N batches,
 *                                      report the count again, then wait;
 *                                      "big": as "loop", each odd event with a
 *                                      1500-byte random string arg "pad" too
 *                                      (chunks of ~6 MiB that zstd cannot
 *                                      shrink much: the writes take long enough
 *                                      for a test to kill the writer inside one).
 *                                      Environment: DASF_TEST_WORKERS=N that
 *                                      many compression workers (else the
 *                                      default); DASF_TEST_HOLD=1 thresholds
 *                                      of "hold" for any HOW; DASF_TEST_CRASH_
 *                                      HANDLER=1 dasf_commit_on_crash(5) after
 *                                      creating the profiler; DASF_TEST_OWN_
 *                                      HANDLER=1 the program's own handler on
 *                                      the five crash signals first (writes
 *                                      "own handler SIG" to stderr, restores
 *                                      the default and returns, so the signal
 *                                      proceeds: the fault repeats, abort()
 *                                      raises again)
 * In "fork" the Criterion runner's own threads are absent, so the only
 * threads at fork time are the library's and the test's — the sanitizers'
 * allocators are not fork-safe against arbitrary other threads.
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int append(const char *path, int k, long n) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = DASF_DEFAULT_COMPRESSION_LEVEL;
    o.commit_threshold = 2000;
    o.lock_timeout = 30;
    dasf_profiler *p;
    int rc = dasf_profiler_create(&p, path, &o, NULL);
    if (rc) {
        fprintf(stderr, "create: %s\n", dasf_strerror(rc));
        return 1;
    }
    char name[16];
    snprintf(name, sizeof name, "w%d", k);
    for (long i = 0; i < n; i++) {
        dasf_arg a = DASF_ARG_I64("i", i);
        if ((rc = dasf_record_complete_args(p, name, (double)i, 0, &a, 1))) {
            fprintf(stderr, "record: %s\n", dasf_strerror(rc));
            return 2;
        }
        if (i % 10000 == 9999 && (rc = dasf_profiler_commit(p))) {
            fprintf(stderr, "commit: %s\n", dasf_strerror(rc));
            return 3;
        }
    }
    if ((rc = dasf_profiler_destroy(p))) {
        fprintf(stderr, "destroy: %s\n", dasf_strerror(rc));
        return 4;
    }
    return 0;
}

static int default_profiler(long n) {
    dasf_profiler *p = dasf_default_profiler();
    if (!p) return 5;
    for (long i = 0; i < n; i++)
        if (dasf_profiler_record_instant_event(p, "tick", (double)i, NULL)) return 6;
    return 0; /* the atexit handler commits */
}

static int fork_mid_recording(const char *path) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 1000000;
    o.flush_interval = 3600; /* the parent's events stay pending across fork */
    dasf_profiler *p;
    if (dasf_profiler_create(&p, path, &o, NULL)) return 1;
    th_job before = {.p = p, .k = 0, .n = 5000};
    th_record_job(&before);
    th_job bg = {.p = p, .k = 3, .n = 20000};
    pthread_t th;
    if (pthread_create(&th, NULL, th_record_job, &bg)) return 2;
    while (!__atomic_load_n(&bg.started, __ATOMIC_ACQUIRE)) sched_yield();
    fflush(NULL);
    pid_t child = fork(); /* while bg records */
    if (child < 0) return 3;
    if (child == 0) {
        th_job c = {.p = p, .k = 1, .n = 7000};
        th_record_job(&c);
        int rc = dasf_profiler_destroy(p);
        _exit(rc == 0 && c.ok == 7000 ? 0 : 4);
    }
    th_job after = {.p = p, .k = 2, .n = 3000};
    th_record_job(&after);
    pthread_join(th, NULL);
    int st;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
    if (dasf_profiler_destroy(p)) return 6;
    if (before.ok != 5000 || after.ok != 3000 || bg.ok != 20000) return 7;
    printf("%ld %ld\n", (long)getpid(), (long)child);
    return 0;
}

typedef struct ns_stream {
    dasf_profiler *p;
    int w;
    long n, ok;
    int started;
} ns_stream;

static void *record_ns_stream(void *arg) {
    ns_stream *s = arg;
    dasf_name h = dasf_intern(s->w ? "child" : "parent");
    for (long i = 0; i < s->n; i++) {
        if (dasf_record_complete_ns(s->p, h, (int64_t)(s->w + 1) * 1000000000000LL + i * 1000, 1) ==
            0)
            s->ok++;
        if (i == 100) __atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static int fork_with_workers(const char *path, int workers) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 200; /* hand-offs to the workers all the time */
    o.ring_capacity = 1 << 16;
    o.compression_workers = workers;
    dasf_profiler *p;
    if (dasf_profiler_create(&p, path, &o, NULL)) return 1;
    ns_stream bg = {.p = p, .w = 0, .n = 200000};
    pthread_t th;
    if (pthread_create(&th, NULL, record_ns_stream, &bg)) return 2;
    while (!__atomic_load_n(&bg.started, __ATOMIC_ACQUIRE)) sched_yield();
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        fflush(NULL);
        pid_t child = fork(); /* while bg records and the workers compress */
        if (child < 0) return 3;
        if (child == 0) {
            ns_stream c = {.p = p, .w = k + 1, .n = 5000};
            record_ns_stream(&c);
            int rc = dasf_profiler_destroy(p);
            _exit(rc == 0 && c.ok == 5000 ? 0 : 4);
        }
        kids[k] = child;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    pthread_join(th, NULL);
    for (int k = 0; k < 4; k++) {
        int st;
        if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
    }
    if (dasf_profiler_destroy(p)) return 6;
    if (bg.ok != 200000) return 7;
    printf("%ld", (long)getpid());
    for (int k = 0; k < 4; k++) printf(" %ld", (long)kids[k]);
    printf("\n");
    return 0;
}

static void own_handler(int sig) {
    char m[32] = "own handler ";
    size_t n = strlen(m);
    const char *abbrev = sigabbrev_np(sig);
    for (const char *q = abbrev ? abbrev : "?"; *q && n < sizeof m - 2; q++) m[n++] = *q;
    m[n++] = '\n';
    ssize_t w = write(2, m, n);
    (void)w;
    signal(sig, SIG_DFL); /* returning: the fault repeats, abort() raises again */
}

static int env_on(const char *v) {
    const char *s = getenv(v);
    return s && !strcmp(s, "1");
}

/* The faults of "segv", "bus", "fpe", "ill" (real ones, not raise()).
 * Not instrumented by UBSan: its division check would report and exit
 * before the CPU raises SIGFPE. */
__attribute__((no_sanitize("undefined"))) static void fault(const char *how, const char *path) {
    if (!strcmp(how, "segv")) {
        volatile uintptr_t bad = 8; /* opaque to the compiler: a real fault */
        *(volatile int *)bad = 1;
    } else if (!strcmp(how, "bus")) { /* a mapping beyond the end of its file */
        char p[4096];
        snprintf(p, sizeof p, "%s.bus", path);
        int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
        volatile char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) m[0] = 1;
    } else if (!strcmp(how, "fpe")) {
        volatile int num = 7, zero = 0; /* not 1 / x: gcc folds that to a compare */
        volatile int x = num / zero;
        (void)x;
    } else if (!strcmp(how, "ill")) {
        __builtin_trap(); /* ud2 on x86-64 */
    } else {
        return; /* not a fault */
    }
    fprintf(stderr, "%s: no fault happened\n", how); /* never loop on: the test would hang */
    _exit(3);
}

static int crash(const char *path, const char *how, long n) {
    if (env_on("DASF_TEST_OWN_HANDLER")) {
        const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], own_handler);
    }
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = DASF_DEFAULT_COMPRESSION_LEVEL;
    o.commit_threshold = 3000; /* some batches reach the file, some do not */
    o.ring_capacity = (size_t)1 << 20;
    if (!strcmp(how, "hold") || env_on("DASF_TEST_HOLD")) { /* nothing reaches the file */
        o.commit_threshold = (int64_t)1 << 30;
        o.flush_interval = 3600;
        o.ring_capacity = (size_t)4 << 20; /* 40 batches (~1 MiB for 30) never fill it */
    }
    if (getenv("DASF_TEST_WORKERS")) o.compression_workers = atoi(getenv("DASF_TEST_WORKERS"));
    int big = !strcmp(how, "big");
    if (big) { /* chunks of 8 MiB of ring (~6 MiB written): writes of milliseconds */
        o.ring_capacity = (size_t)32 << 20;
        o.commit_threshold = 1 << 18;
        o.flush_interval = 3600;
    }
    dasf_profiler *p;
    int rc = dasf_profiler_create(&p, path, &o, NULL);
    if (rc) {
        fprintf(stderr, "create: %s\n", dasf_strerror(rc));
        return 1;
    }
    if (env_on("DASF_TEST_CRASH_HANDLER") && (rc = dasf_commit_on_crash(5.0))) {
        fprintf(stderr, "crash handler: %s\n", dasf_strerror(rc));
        return 1;
    }
    /* An empty commit first: the flusher has started and run its first
     * cycle, so in "hold" a late-starting flusher cannot write a batch. */
    if (dasf_profiler_commit(p)) return 1;
    dasf_name h = dasf_intern("p");
    long seq = 0;
    char pad[1501];
    uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull | 1;
    for (long b = 0;; b++) {
        if (b == n && !strcmp(how, "abort")) abort();
        if (b == n && !strcmp(how, "exit")) return dasf_profiler_destroy(p) ? 4 : 0; /* commits */
        if (b == n && !strcmp(how, "hold"))
            for (;;) pause();
        if (b == n && !strcmp(how, "commit-hold")) { /* all in the file; then wait */
            if (dasf_profiler_commit(p)) return 5;
            printf("%ld\n", seq);
            fflush(stdout);
            for (;;) pause();
        }
        if (b == n) fault(how, path);
        for (int i = 0; i < 500; i++, seq++) {
            if (seq % 2 == 0) {
                rc = dasf_record_complete_ns(p, h, seq, 1);
            } else {
                dasf_arg a[2] = {DASF_ARG_I64("seq", seq), DASF_ARG_STR("pad", pad)};
                for (int k = 0; big && k < 1500; k++) { /* xorshift: letters zstd cannot shrink */
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    pad[k] = (char)('0' + (x >> 58)); /* printable ASCII */
                }
                pad[big ? 1500 : 0] = 0;
                rc = dasf_record_complete_args(p, "a", (double)seq * 1e-9, 0, a, big ? 2 : 1);
            }
            if (rc) {
                fprintf(stderr, "record: %s\n", dasf_strerror(rc));
                return 2;
            }
        }
        printf("%ld\n", seq);
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "crash") == 0) return crash(argv[2], argv[3], atol(argv[4]));
    if (argc == 4 && strcmp(argv[1], "fork-workers") == 0)
        return fork_with_workers(argv[2], atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "fork") == 0) return fork_mid_recording(argv[2]);
    if (argc == 5 && strcmp(argv[1], "append") == 0)
        return append(argv[2], atoi(argv[3]), atol(argv[4]));
    if (argc == 3 && strcmp(argv[1], "default") == 0) return default_profiler(atol(argv[2]));
    fprintf(stderr, "usage: %s append PATH K N | default N | fork PATH | fork-workers PATH W\n",
            argv[0]);
    return 64;
}
