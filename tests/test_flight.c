/* test_flight.c — the flight recorder (DASF_OVERFLOW_OVERWRITE,
 * dasf_profiler_snapshot, dasf_snapshot_on_signal, the crash path): the
 * window holds exactly the newest records, a snapshot taken while threads
 * record is consistent (no torn record, per-thread sequences contiguous,
 * overwritten counts that add up), no record is written twice, and the
 * snapshot metadata round-trips through the encoder and the reader. */
#include "helpers.h"
#include "encode.h"
#include "flight_read.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

Test(flight, window_keeps_exactly_the_last_records) {
    const char *path = th_tmp_file("window.zst");
    dasf_profiler *p = flight_profiler(path, WINDOW);
    const int64_t K = 10000;
    record_ns(p, 1, K);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(access(path, F_OK), -1, "OVERWRITE wrote at commit");

    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    rd_file f = read_back(path);
    uint64_t s1 = 0, s2 = 0, s3 = 0;
    size_t kept = check_window(&f, 0, 0, K, &s1);
    /* At least 31/32 of the ring holds the newest records, never more than it. */
    cr_assert_geq(kept, (WINDOW - WINDOW / 32) / 32, "kept %zu", kept);
    cr_assert_leq(kept, WINDOW / 32, "kept %zu", kept);
    size_t n1 = f.n;
    rd_free(&f);

    /* Nothing new: a second snapshot writes nothing. */
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    f = read_back(path);
    cr_assert_eq(f.n, n1, "a snapshot wrote records twice");
    rd_free(&f);

    /* A few more: exactly those, nothing overwritten. */
    record_ns(p, K + 1, K + 100);
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    f = read_back(path);
    cr_assert_eq(check_window(&f, n1, K, K + 100, &s2), 100);
    cr_assert_gt(s2, s1);
    size_t n2 = f.n;
    rd_free(&f);

    /* Many more: the last window of them; the 100 already written are not
     * counted as overwritten. */
    record_ns(p, K + 101, K + 100 + 5000);
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    f = read_back(path);
    check_window(&f, n2, K + 100, K + 5100, &s3);
    cr_assert_gt(s3, s2);
    size_t n3 = f.n;
    rd_free(&f);

    const char *bin = th_dasf_trace();
    if (bin) {
        char cmd[2048], *out = NULL;
        snprintf(cmd, sizeof cmd, "'%s' info '%s'", bin, path);
        cr_assert_eq(th_run(cmd, &out), 0);
        char want[128];
        snprintf(want, sizeof want, "snapshots   3 (flight recorder): 3 chunks, %zu events", n3);
        cr_expect(strstr(out, want), "info says:\n%s\nwanted: %s", out, want);
        free(out);
    }
    /* Close writes nothing either. */
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    f = read_back(path);
    cr_assert_eq(f.n, n3);
    rd_free(&f);
}

/* Records with payloads of varying size (PAD records at the ring's end). */
static int record_seq(dasf_profiler *p, int k, int64_t seq) {
    char name[16], s[64];
    snprintf(name, sizeof name, "t%d", k);
    pattern(s, k, seq);
    dasf_arg a[2] = {DASF_ARG_I64("seq", seq), DASF_ARG_STR("s", s)};
    return dasf_record_complete_args(p, name, (double)seq * 1e-6, 1e-7, a, 2);
}

Test(flight, window_with_payload_records_is_exact) {
    const char *path = th_tmp_file("payload.zst");
    dasf_profiler *p = flight_profiler(path, WINDOW);
    const int64_t K = 20000;
    for (int64_t i = 0; i < K; i++) cr_assert_eq(record_seq(p, 3, i), 0);
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    rd_file f = read_back(path);
    cr_assert_gt(f.n, 100);
    cr_assert_eq(f.n_chunks, 1);
    cr_assert_eq(f.chunks[0].overwritten + f.n, (uint64_t)K);
    for (size_t i = 0; i < f.n; i++) {
        cr_assert_eq(f.ev[i].seq, K - (int64_t)f.n + (int64_t)i);
        cr_assert_eq(f.ev[i].s_ok, 1, "record %zu garbled", i);
    }
    rd_free(&f);
    dasf_profiler_destroy(p);
}

/* ---- 4 threads recording while signals take snapshots ------------------------ */

typedef struct stream {
    dasf_profiler *p;
    int k;
    int64_t n;     /* records accepted (written by the thread, read with acquire) */
    int errors;
    int *stop;
} stream;

static void *stream_main(void *arg) {
    stream *s = arg;
    int64_t i = 0;
    while (!__atomic_load_n(s->stop, __ATOMIC_ACQUIRE)) {
        if (record_seq(s->p, s->k, i) != 0) s->errors++;
        i++;
        __atomic_store_n(&s->n, i, __ATOMIC_RELEASE);
    }
    return NULL;
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void wait_each_recorded(stream *s, int n, int64_t more) {
    int64_t want[8];
    for (int k = 0; k < n; k++) want[k] = __atomic_load_n(&s[k].n, __ATOMIC_ACQUIRE) + more;
    for (int k = 0; k < n; k++)
        while (__atomic_load_n(&s[k].n, __ATOMIC_ACQUIRE) < want[k]) sleep_ms(1);
}

Test(flight, snapshot_on_signal_while_threads_record_is_consistent, .timeout = 300) {
    const char *path = th_tmp_file("signal.zst");
    cr_assert_eq(dasf_snapshot_on_signal(SIGUSR2), 0);
    dasf_profiler *p = flight_profiler(path, (size_t)256 << 10);
    enum { T = 4, SIGNALS = 3 };
    int stop = 0;
    stream s[T];
    pthread_t th[T];
    for (int k = 0; k < T; k++) {
        s[k] = (stream){p, k, 0, 0, &stop};
        cr_assert_eq(pthread_create(&th[k], NULL, stream_main, &s[k]), 0);
    }
    wait_each_recorded(s, T, 20000); /* every ring has wrapped */
    for (int i = 0; i < SIGNALS; i++) {
        off_t before = file_size(path);
        cr_assert_eq(kill(getpid(), SIGUSR2), 0);
        /* The handler returns at once; the snapshot lands meanwhile. */
        for (int w = 0; w < 20000 && file_size(path) == before; w++) sleep_ms(1);
        cr_assert_gt(file_size(path), before, "signal %d: no snapshot written", i);
        wait_each_recorded(s, T, 1000); /* new records for the next one */
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int k = 0; k < T; k++) pthread_join(th[k], NULL);
    /* The threads have exited: their windows are still there, once. */
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);

    rd_file f = read_back(path);
    for (int k = 0; k < T; k++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", k);
        cr_assert_eq(s[k].errors, 0, "OVERWRITE refused a record");
        int64_t last = -1;
        uint64_t kept = 0, ow = 0, snaps = 0, any_ow = 0;
        size_t chunk = SIZE_MAX;
        for (size_t i = 0; i < f.n; i++) {
            const rd_ev *e = &f.ev[i];
            cr_assert_neq(strcmp(e->name, "dasf.dropped"), 0, "records were lost undecoded");
            if (strcmp(e->name, name)) continue;
            cr_assert_eq(e->s_ok, 1, "%s seq %lld: torn record", name, (long long)e->seq);
            const dasf_chunk_info *ci = &f.chunks[e->chunk];
            cr_assert_gt(ci->snapshot, 0);
            uint64_t gap = 0;
            if (e->chunk != chunk) { /* a chunk holds one thread's records */
                chunk = e->chunk;
                gap = ci->overwritten;
                ow += gap;
                any_ow |= gap;
                snaps++;
            }
            cr_assert_eq(e->seq, last + 1 + (int64_t)gap,
                         "%s: seq %lld after %lld with %llu overwritten", name, (long long)e->seq,
                         (long long)last, (unsigned long long)gap);
            last = e->seq;
            kept++;
        }
        cr_assert_eq(last, s[k].n - 1, "%s: the last record is missing", name);
        cr_assert_eq(kept + ow, (uint64_t)s[k].n, "%s: kept + overwritten != recorded", name);
        /* A signal's snapshot may find all of a ring's copy overwritten
         * meanwhile (its flusher descheduled under load): then that ring has
         * nothing in it, and the next snapshot counts the loss.  The last
         * one, after the threads exited, cannot race. */
        cr_assert_geq(snaps, 2, "%s: in %llu snapshots", name, (unsigned long long)snaps);
        cr_assert(any_ow, "%s: nothing was overwritten: the test proves little", name);
    }
    rd_free(&f);
}

/* ---- the environment of the default profiler ------------------------------------ */

/* tests/record/sigprog.c, configured by the environment only: records n
 * events "work" at i microseconds (i = 0..n-1) into the default profiler,
 * then sends itself SIGTERM.  A separate program, not a fork: under
 * ThreadSanitizer a forked child of a threaded process never gets its
 * asynchronous signals delivered. */
static int run_sigprog(const char *path, const char *env, long n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "DASF_TRACE_FILE='%s' %s '%s' %ld 2>/dev/null; echo $?", path, env,
             DASF_TEST_SIGPROG, n);
    char *out = NULL;
    cr_assert_eq(th_run(cmd, &out), 0);
    int status = atoi(out);
    free(out);
    return status;
}

/* The file holds exactly the last records of sigprog's n, in order. */
static void check_sigprog_window(const char *path, long n) {
    rd_file f = read_back(path);
    cr_assert_gt(f.n, 0, "nothing written");
    cr_assert_leq(f.n, WINDOW / 32);
    cr_assert_geq(f.n, (WINDOW - WINDOW / 32) / 32);
    for (size_t i = 0; i < f.n; i++)
        cr_assert_eq(f.ev[i].ts_ns, (n - (long)f.n + (long)i) * 1000);
    cr_assert_eq(f.n_chunks, 1);
    cr_assert_gt(f.chunks[0].snapshot, 0);
    cr_assert_eq(f.chunks[0].overwritten, (uint64_t)n - f.n);
    rd_free(&f);
}

Test(flight, termination_signal_writes_the_window) {
    /* DASF_COMMIT_SIGNALS: the window is written, then SIGTERM ends the
     * process as it would have (status 128 + 15 from the shell). */
    const char *path = th_tmp_file("term.zst");
    cr_assert_eq(run_sigprog(path, "DASF_FLIGHT_WINDOW=64K DASF_COMMIT_SIGNALS=TERM", 10000),
                 128 + SIGTERM);
    check_sigprog_window(path, 10000);
}

Test(flight, snapshot_signal_from_the_environment_does_not_end_the_process) {
    /* DASF_SNAPSHOT_SIGNAL=TERM: a snapshot, and the program goes on (it
     * then sleeps 5 s and exits 12; its exit writes nothing more). */
    const char *path = th_tmp_file("snapsig.zst");
    cr_assert_eq(run_sigprog(path, "DASF_OVERFLOW=overwrite DASF_RING_CAPACITY=65536 "
                                   "DASF_SNAPSHOT_SIGNAL=TERM",
                             10000),
                 12);
    check_sigprog_window(path, 10000);
}

Test(flight, bad_environment_turns_tracing_off) {
    const char *path = th_tmp_file("bad.zst");
    cr_assert_eq(run_sigprog(path, "DASF_FLIGHT_WINDOW=100K", 10), 10, "not a power of two");
    cr_assert_eq(run_sigprog(path, "DASF_FLIGHT_WINDOW=2G", 10), 10);
    cr_assert_eq(run_sigprog(path, "DASF_FLIGHT_WINDOW=12Q", 10), 10);
    cr_assert_eq(run_sigprog(path, "DASF_OVERFLOW=sometimes", 10), 10);
    cr_assert_eq(access(path, F_OK), -1);
}

/* ---- bad input and the other policies ------------------------------------------- */

Test(flight, misuse_gets_clear_errors) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.overflow = DASF_OVERFLOW_OVERWRITE;
    dasf_profiler *p;
    /* The legacy layout has no chunk metadata to mark a snapshot with. */
    cr_assert_eq(dasf_profiler_create(&p, th_tmp_file("x.msgpack"), &o, NULL), DASF_EINVAL);
    o.compression_level = 0;
    cr_assert_eq(dasf_profiler_create(&p, th_tmp_file("x.zst"), &o, NULL), DASF_EINVAL);
    o = dasf_file_db_options_default();
    o.overflow = (dasf_overflow)7;
    cr_assert_eq(dasf_profiler_create(&p, th_tmp_file("y.zst"), &o, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_profiler_snapshot(NULL), DASF_EINVAL);
    cr_assert_eq(dasf_snapshot_on_signal(SIGKILL), DASF_EINVAL);
    cr_assert_eq(dasf_snapshot_on_signal(0), DASF_EINVAL);
    cr_assert_eq(dasf_snapshot_on_signal(99), DASF_EINVAL);

    /* No file name: the generated one is an archive. */
    o = dasf_file_db_options_default();
    o.overflow = DASF_OVERFLOW_OVERWRITE;
    char cwd[4096];
    cr_assert(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(th_tmpdir()), 0);
    cr_assert_eq(dasf_profiler_create(&p, NULL, &o, NULL), 0);
    cr_assert(strstr(dasf_profiler_output_file(p), ".zst"));
    dasf_profiler_destroy(p);
    cr_assert_eq(chdir(cwd), 0);

    /* BLOCK: a snapshot is a commit. */
    const char *path = th_tmp_file("block.zst");
    o = dasf_file_db_options_default();
    o.flush = false;
    o.flush_interval = 3600;
    o.commit_threshold = 1 << 20;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    record_ns(p, 1, 500);
    cr_assert_eq(dasf_profiler_snapshot(p), 0);
    rd_file f = read_back(path);
    cr_assert_eq(f.n, 500);
    cr_assert_eq(f.chunks[0].snapshot, 0);
    rd_free(&f);
    dasf_profiler_destroy(p);
    cr_assert_eq(dasf_profiler_snapshot(p), DASF_ECLOSED);

    /* dasf-trace record refuses the flight recorder into a legacy file
     * before running the command (exit 2, no file). */
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is not set");
    const char *legacy = th_tmp_file("rec.msgpack");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' record --overflow overwrite -o '%s' -- /bin/true 2>/dev/null",
             bin, legacy);
    cr_assert_eq(th_run(cmd, NULL), 2);
    cr_assert_eq(access(legacy, F_OK), -1);
}

/* ---- the encoder: snapshot metadata round trip ---------------------------------- */

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(flight, snapshot_metadata_roundtrips_property) {
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
    for (int round = 0; round < 40; round++) {
        const char *path = th_tmp_file("meta.zst");
        unlink(path);
        int n_chunks = 1 + (int)(rnd(&seed) % 6);
        dasf_chunk_origin want[6];
        size_t want_n[6];
        dasf_chunk_enc *enc;
        cr_assert_eq(dasf_chunk_enc_create(&enc, 1 + (int)(rnd(&seed) % 5), 8), 0);
        for (int c = 0; c < n_chunks; c++) {
            size_t n = 1 + rnd(&seed) % 200;
            for (size_t i = 0; i < n; i++) {
                dasf_enc_event e = {0};
                e.name = i % 2 ? "a" : "snap-b";
                e.name_len = strlen(e.name);
                e.phase = i % 3 ? 'X' : 'I';
                e.scope = 'g';
                e.ts_ns = (int64_t)(rnd(&seed) % 1000000000000ll);
                e.dur_ns = e.phase == 'X' ? (int64_t)(rnd(&seed) % 100000) : 0;
                e.ts = dasf_ns_to_seconds(e.ts_ns);
                e.dur = dasf_ns_to_seconds(e.dur_ns);
                e.pid = dasf_id_int(77);
                e.tid = dasf_id_int((int64_t)(rnd(&seed) % 5));
                cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0);
            }
            dasf_chunk_origin o = {.pid = (int64_t)(rnd(&seed) % 100000), .host = "h",
                                   .clock = "monotonic", .dropped = rnd(&seed) % 3};
            switch (rnd(&seed) % 4) {
            case 0: /* not a snapshot: the counts are not written */
                o.overwritten = rnd(&seed) % 5;
                break;
            case 1: o.snapshot = 1 + rnd(&seed) % 10; break;
            case 2: /* large values, all three keys */
                o.snapshot = 1 + (rnd(&seed) >> 2);
                o.overwritten = rnd(&seed) >> 2;
                o.overwritten_bytes = rnd(&seed) >> 2;
                break;
            default:
                o.snapshot = 1 + rnd(&seed) % 1000;
                o.overwritten = rnd(&seed) % 100000;
                o.overwritten_bytes = o.overwritten * 32 + rnd(&seed) % 4096;
            }
            dasf_buf out = {0};
            cr_assert_eq(dasf_chunk_enc_finish(enc, &o, &out), 0);
            FILE *fp = fopen(path, "ab");
            cr_assert(fp);
            cr_assert_eq(fwrite(out.data, 1, out.len, fp), out.len);
            fclose(fp);
            dasf_buf_free(&out);
            want[c] = o;
            want_n[c] = n;
        }
        dasf_chunk_enc_destroy(enc);
        rd_file f = read_back(path);
        cr_assert_eq(f.n_chunks, (size_t)n_chunks);
        for (int c = 0; c < n_chunks; c++) {
            const dasf_chunk_info *ci = &f.chunks[c];
            cr_assert_eq(ci->n_events, want_n[c]);
            cr_assert_eq(ci->writer_pid, want[c].pid);
            cr_assert_eq(ci->dropped, want[c].dropped);
            cr_assert_eq(ci->snapshot, want[c].snapshot, "round %d chunk %d", round, c);
            /* Without a snapshot number the other two are not written. */
            cr_assert_eq(ci->overwritten, want[c].snapshot ? want[c].overwritten : 0);
            cr_assert_eq(ci->overwritten_bytes, want[c].snapshot ? want[c].overwritten_bytes : 0);
        }
        rd_free(&f);
    }
}
