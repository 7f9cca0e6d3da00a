/* test_signals.c — commit-on-signal for programs that link the library
 * (dasf_commit_on_signals, runtime/db/signals.c) and the output-path patterns
 * (dasf_path_expand / dasf_path_claim, runtime/db/pathpat.c).  In-process, so
 * the sanitizer builds check the handler, the committer thread and fork. */
#include "helpers.h"

#include "dasf/profiler.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A profiler that writes only when asked: no background flush, no wake-up. */
static dasf_profiler *quiet_profiler(const char *path) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.commit_threshold = 1 << 20;
    o.ring_capacity = 64u << 20;
    o.flush_interval = 3600;
    o.flush = false;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    /* An empty commit first: it returns once the flusher has started and
     * answered, so its start-up cycle cannot drain what the test records
     * next (under load the flusher thread may start late). */
    cr_assert_eq(dasf_profiler_commit(p), 0);
    return p;
}

static void record_n(dasf_profiler *p, int n) {
    dasf_name h = dasf_intern("work");
    for (int i = 0; i < n; i++) cr_assert_eq(dasf_record_complete_h(p, h, i * 1e-6, 1e-7), 0);
}

static volatile sig_atomic_t g_handled, g_handled_sig, g_info_ok;

static void app_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    g_handled++;
    g_handled_sig = sig;
    g_info_ok = si && si->si_signo == sig && si->si_pid == getpid();
}

Test(signals, program_handler_runs_after_the_commit) {
    const char *path = th_tmp_file("handler.zst");
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = app_handler;
    a.sa_flags = SA_SIGINFO;
    cr_assert_eq(sigaction(SIGUSR1, &a, NULL), 0);
    cr_assert_eq(dasf_commit_on_signals((const int[]){SIGUSR1}, 1, 10.0), 0);
    dasf_profiler *p = quiet_profiler(path);
    record_n(p, 5000);
    cr_expect_leq(th_count_events(path), 0, "written before the signal: the test proves nothing");
    g_handled = 0;
    kill(getpid(), SIGUSR1);
    cr_expect_eq(g_handled, 1, "the program's handler did not run exactly once");
    cr_expect_eq(g_handled_sig, SIGUSR1);
    cr_expect(g_info_ok, "the handler did not get the original siginfo");
    cr_expect_eq(th_count_events(path), 5000, "the signal did not commit what was recorded");
    /* Still caught: a second signal commits the new events too. */
    record_n(p, 10);
    kill(getpid(), SIGUSR1);
    cr_expect_eq(g_handled, 2);
    cr_expect_eq(th_count_events(path), 5010);
    dasf_profiler_destroy(p);
}

/* A separate program (tests/record/sigprog.c), configured only by the
 * environment, as a user's program linking the library would be. */
Test(signals, default_action_after_the_commit_kills_as_without_us) {
    const char *path = th_tmp_file("default.zst");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "DASF_TRACE_FILE='%s' DASF_COMMIT_SIGNALS=TERM DASF_COMMIT_THRESHOLD=1000000 "
             "'%s' 777; echo $? > '%s.status'",
             path, DASF_TEST_SIGPROG, path);
    cr_assert_eq(th_run(cmd, NULL), 0);
    char stp[600];
    snprintf(stp, sizeof stp, "%s.status", path);
    size_t len;
    uint8_t *raw = th_read_file(stp, &len); /* not NUL-terminated */
    cr_assert(raw && len > 0 && len < 32);
    char st[32];
    memcpy(st, raw, len);
    st[len] = 0;
    free(raw);
    cr_expect_eq(atoi(st), 128 + SIGTERM, "exit status %s (not killed by SIGTERM)", st);
    cr_expect_eq(th_count_events(path), 777);
}

Test(signals, ignored_signal_stays_ignored) {
    signal(SIGUSR2, SIG_IGN);
    cr_assert_eq(dasf_commit_on_signals((const int[]){SIGUSR2}, 1, 1.0), 0);
    kill(getpid(), SIGUSR2); /* would end the process if not ignored */
    struct sigaction cur;
    sigaction(SIGUSR2, NULL, &cur);
    cr_expect_eq((void *)cur.sa_handler, (void *)SIG_IGN);
}

Test(signals, bad_arguments) {
    cr_expect_eq(dasf_commit_on_signals((const int[]){SIGKILL}, 1, 1.0), DASF_EINVAL);
    cr_expect_eq(dasf_commit_on_signals((const int[]){SIGSTOP}, 1, 1.0), DASF_EINVAL);
    cr_expect_eq(dasf_commit_on_signals((const int[]){0}, 1, 1.0), DASF_EINVAL);
    cr_expect_eq(dasf_commit_on_signals((const int[]){SIGHUP}, 1, -1.0), DASF_EINVAL);
    cr_expect_eq(dasf_commit_on_signals(NULL, 1, 1.0), DASF_EINVAL);
    cr_expect_eq(dasf_commit_on_signals(NULL, 0, 1.0), DASF_OK);
}

/* ---- output-path patterns ---------------------------------------------------------- */

Test(pattern, every_escape) {
    char out[256];
    dasf_path_vars v = {4242, "node7.cluster.example", 0, 3};
    int n = dasf_path_expand(out, sizeof out, "t-%p-%h-%n-%r-%%.zst", &v, 12);
    cr_assert_gt(n, 0);
    cr_expect_str_eq(out, "t-4242-node7-12-3-%.zst");
    cr_expect_eq((size_t)n, strlen(out));
    v.start_time = 86400 * 365; /* %t: local time, 15 characters */
    cr_assert_gt(dasf_path_expand(out, sizeof out, "%t", &v, 0), 0);
    cr_expect_eq(strlen(out), 15, "%s", out);
    cr_expect_eq(out[8], '-');
}

Test(pattern, errors) {
    char out[16];
    dasf_path_vars v = {1, "h", 0, -1};
    cr_expect_eq(dasf_path_expand(out, sizeof out, "x-%r", &v, 0), DASF_EINVAL); /* no rank */
    cr_expect_eq(dasf_path_expand(out, sizeof out, "x-%q", &v, 0), DASF_EINVAL);
    cr_expect_eq(dasf_path_expand(out, sizeof out, "x-%", &v, 0), DASF_EINVAL);
    cr_expect_eq(dasf_path_expand(out, sizeof out, "a-much-too-long-name", &v, 0), DASF_EINVAL);
    cr_expect_eq(dasf_path_expand(out, sizeof out, "", &v, 0), DASF_EINVAL);
    cr_expect(dasf_path_has_counter("a-%n"));
    cr_expect(!dasf_path_has_counter("a-%%n"));
}

Test(pattern, claim_counts_up_and_refuses_existing_files) {
    char dir[512], pat[600], out[700];
    snprintf(dir, sizeof dir, "%s", th_tmpdir());
    snprintf(pat, sizeof pat, "%s/c-%%n.zst", dir);
    dasf_path_vars v = {1, NULL, 0, -1};
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(dasf_path_claim(out, sizeof out, pat, &v, 0), 0);
        char want[700];
        snprintf(want, sizeof want, "%s/c-%d.zst", dir, i);
        cr_expect_str_eq(out, want);
    }
    snprintf(pat, sizeof pat, "%s/fixed.zst", dir);
    cr_assert_eq(dasf_path_claim(out, sizeof out, pat, &v, 0), 0);
    errno = 0;
    cr_expect_eq(dasf_path_claim(out, sizeof out, pat, &v, 0), DASF_EIO);
    cr_expect_eq(errno, EEXIST);
    cr_expect_eq(dasf_path_claim(out, sizeof out, pat, &v, DASF_PATH_APPEND), 0);
    cr_expect_eq(dasf_path_claim(out, sizeof out, "/nonexistent-dir/x", &v, 0), DASF_EIO);
    cr_expect_eq(errno, ENOENT);
}
