/*
 * test_corpus.c — the fuzz corpus through every dasf-trace verb.
 *
 * The corpus: the seeds dasf-fuzz-seeds makes (traces of every kind, both
 * layouts, damaged variants), the repro inputs of tests/data/repro, and every
 * reader input fuzzing found (tests/fuzz/regress/reader).  Each file goes
 * through every verb `dasf-trace --help` lists that reads traces (the table
 * below must cover them all; `record` reads none); each run must end by itself (timeout 120 s) with exit 0 or 1,
 * print no sanitizer report (this suite runs under ASan+UBSan and TSan in
 * CI), stay under 2 GiB (hard_rss_limit_mb under sanitizers, ulimit -v 4 GiB
 * without), and a file written with exit 0 must read back whole.
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


/* Every verb, run on IN with outputs in the work directory. */
static const struct {
    const char *verb, *args;
    const char *out; /* a trace it writes, checked when it exits 0 */
} k_runs[] = {
    {"info", "IN", NULL},
    {"cat", "IN", NULL},
    {"stats", "IN", NULL},
    {"stats", "--by thread --csv IN", NULL},
    {"export", "-o out.json IN", NULL},
    {"timeline", "-o out.svg IN", NULL},
    {"merge", "--force -o out-merge.zst IN IN", "out-merge.zst"},
    {"convert", "--force --to legacy IN out.msgpack", "out.msgpack"},
    {"convert", "--force --to archive IN out.zst", "out.zst"},
    {"verify", "IN", NULL},
};
#define N_RUNS (sizeof k_runs / sizeof k_runs[0])

/* Verbs that read no trace file, so there is nothing of the corpus to give
 * them (named here so a new verb cannot go unnoticed). */
static const char *const k_no_trace_input[] = {
    "record", /* runs a program (its output: dasf_path_claim, O_EXCL|O_NOFOLLOW; test_record) */
    "recover", /* reads shared-memory maps of dead writers; a trace is read only when a map
                  names it (test_recover) */
};

static char **g_files;
static size_t g_nfiles, g_capfiles;

static void add_dir(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (g_nfiles == g_capfiles) {
            g_capfiles = g_capfiles ? 2 * g_capfiles : 64;
            g_files = realloc(g_files, g_capfiles * sizeof *g_files);
        }
        g_files[g_nfiles++] = th_path(dir, e->d_name);
    }
    closedir(d);
}

/* The verbs `dasf-trace --help` lists: each must be in k_runs. */
static void every_verb_covered(void) {
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "'%s' --help", th_dasf_trace());
    cr_assert_eq(th_run(cmd, &out), 0);
    const char *p = strstr(out, "verbs:\n");
    cr_assert_not_null(p, "%s", out);
    p += 7;
    int n = 0;
    while (*p == ' ') {
        char verb[32];
        if (sscanf(p, " %31s", verb) != 1) break;
        bool found = false;
        for (size_t i = 0; i < N_RUNS; i++) found |= !strcmp(k_runs[i].verb, verb);
        for (size_t i = 0; i < sizeof k_no_trace_input / sizeof *k_no_trace_input; i++)
            found |= !strcmp(k_no_trace_input[i], verb);
        cr_assert(found, "verb '%s' is not replayed by test_corpus: add it to k_runs", verb);
        n++;
        p = strchr(p, '\n');
        if (!p) break;
        p++;
    }
    cr_assert_geq(n, 8, "%s", out);
    free(out);
}

static bool has_sanitizer_report(const char *s) {
    return strstr(s, "Sanitizer") || strstr(s, "runtime error:") || strstr(s, "==ERROR");
}

Test(corpus, every_verb_over_the_corpus) {
    const char *seeds = getenv("DASF_FUZZ_SEEDS");
    cr_assert_not_null(th_dasf_trace(), "DASF_TRACE_BIN is not set");
    cr_assert(seeds && *seeds, "DASF_FUZZ_SEEDS is not set");
    every_verb_covered();
    char *dir = th_tmpdir();
    char *corpus = th_path(dir, "corpus");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s/*.zst %s/*.msgpack", seeds, corpus,
             DASF_TEST_DATA "/repro", DASF_TEST_DATA "/repro");
    cr_assert_eq(th_run(cmd, NULL), 0, "%s", cmd);
    add_dir(th_path(corpus, "reader"));
    add_dir(DASF_SOURCE_DIR "/tests/fuzz/regress/reader");
    cr_assert_gt(g_nfiles, 20);
    const char *limits = SANITIZED ? "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
                                     "hard_rss_limit_mb=2048\" TSAN_OPTIONS=\"${TSAN_OPTIONS:+"
                                     "$TSAN_OPTIONS:}hard_rss_limit_mb=2048\"; "
                                   : "ulimit -v 4194304; ";
    long runs = 0, ok = 0;
    for (size_t f = 0; f < g_nfiles; f++) {
        for (size_t r = 0; r < N_RUNS; r++) {
            char args[8192] = "";
            const char *a = k_runs[r].args;
            while (*a) { /* IN -> 'file' */
                if (!strncmp(a, "IN", 2)) {
                    strcat(args, "'");
                    strcat(args, g_files[f]);
                    strcat(args, "'");
                    a += 2;
                } else {
                    size_t l = strlen(args);
                    args[l] = *a++;
                    args[l + 1] = 0;
                }
            }
            snprintf(cmd, sizeof cmd,
                     "cd '%s' && (%s timeout 120 '%s' %s %s >/dev/null 2>err.txt); echo $? >rc.txt; "
                     "cat err.txt rc.txt",
                     dir, limits, th_dasf_trace(), k_runs[r].verb, args);
            char *out;
            th_run(cmd, &out);
            char *last = strrchr(out, '\n');
            if (last) *last = 0;
            last = strrchr(out, '\n');
            int st = atoi(last ? last + 1 : out);
            cr_assert(!has_sanitizer_report(out), "%s %s: sanitizer report:\n%s", k_runs[r].verb,
                      g_files[f], out);
            cr_assert(st == 0 || st == 1, "%s %s: exit %d (124: timeout, >128: signal):\n%s",
                      k_runs[r].verb, g_files[f], st, out);
            free(out);
            runs++;
            if (st == 0) ok++;
            if (st == 0 && k_runs[r].out) {
                char *o = th_path(dir, k_runs[r].out);
                snprintf(cmd, sizeof cmd, "'%s' verify -q '%s'", th_dasf_trace(), o);
                cr_assert_eq(th_run(cmd, NULL), 0, "%s %s wrote %s, which is not whole",
                             k_runs[r].verb, g_files[f], o);
            }
        }
    }
    cr_log_info("corpus: %zu files x %zu runs = %ld runs, %ld exit 0", g_nfiles, N_RUNS, runs, ok);
    free(g_files);
}
