/* test_record.c — `dasf-trace record` and the preload library, end to end:
 * an unmodified program (tests/record/traced.c, built with
 * -finstrument-functions) is run under record, and its trace is read back.
 * Covers: exit status passed through, bad -o → exit 2 before CMD runs,
 * patterns (%n, %p), SIGTERM mid-run (default action and the program's own
 * handler) keeps every event recorded before it, fork + exec children
 * (same file and --split), thread names, module maps, read-time
 * symbolization (demangled C++, static functions, the dlopen'd library),
 * and the filters. */
#include "helpers.h"

#include "dasf/profiler.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *tool(void) {
    const char *t = th_dasf_trace();
    cr_assert(t, "DASF_TRACE_BIN is not set");
    return t;
}

/* Starts `dasf-trace record ARGS...` (NULL-terminated); returns its pid. */
static pid_t spawn_record(const char *const *args, const char *out_file) {
    const char *argv[64];
    int n = 0;
    argv[n++] = tool();
    argv[n++] = "record";
    for (int i = 0; args[i]; i++) argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_file) posix_spawn_file_actions_addopen(&fa, 1, out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(e, 0, "posix_spawn: %s", strerror(e));
    return pid;
}

static int wait_status(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0) cr_assert_eq(errno, EINTR);
    return st;
}

/* Runs record to the end; returns the raw wait status. */
static int record(const char *const *args) {
    return wait_status(spawn_record(args, NULL));
}

/* ---- reading traces back ------------------------------------------------------ */

typedef struct tally {
    const char *name; /* count events with this name (NULL: none) */
    long named;
    long events;
    long x_events;
    int64_t pids[16];
    int n_pids;
    long max_same_name; /* the largest count of X events sharing one name */
    char top_name[64];
    /* name → count for X events (small, linear) */
    struct {
        char name[64];
        long n;
    } names[256];
    int n_names;
} tally;

static int tally_visit(const dasf_trace_event *ev, void *user) {
    tally *t = user;
    t->events++;
    if (t->name && !strcmp(ev->name, t->name)) t->named++;
    if (ev->process_id.type == DASF_VAL_INT) {
        int k = 0;
        while (k < t->n_pids && t->pids[k] != ev->process_id.v.i) k++;
        if (k == t->n_pids && k < 16) t->pids[t->n_pids++] = ev->process_id.v.i;
    }
    if (ev->phase != DASF_PHASE_COMPLETE) return 0;
    t->x_events++;
    int k = 0;
    while (k < t->n_names && strcmp(t->names[k].name, ev->name)) k++;
    if (k == t->n_names && k < 256) {
        snprintf(t->names[k].name, sizeof t->names[k].name, "%s", ev->name);
        t->n_names++;
    }
    if (k < 256 && ++t->names[k].n > t->max_same_name) {
        t->max_same_name = t->names[k].n;
        snprintf(t->top_name, sizeof t->top_name, "%s", ev->name);
    }
    return 0;
}

static tally read_tally(const char *path, const char *name) {
    tally t;
    memset(&t, 0, sizeof t);
    t.name = name;
    int rc = dasf_trace_read_file(path, tally_visit, &t);
    cr_assert_eq(rc, 0, "%s: %s", path, dasf_strerror(rc));
    return t;
}

/* The args "key" string of the first event named `name` whose args have
 * "match_key" == match (NULL: the first event named name). */
typedef struct find_ctx {
    const char *name, *key;
    char out[8192];
    int found;
    int64_t tid; /* of the found event */
} find_ctx;

static int find_visit(const dasf_trace_event *ev, void *user) {
    find_ctx *f = user;
    if (strcmp(ev->name, f->name)) return 0;
    const dasf_value *v = dasf_value_map_get(&ev->args, f->key);
    if (!v || v->type != DASF_VAL_STR) return 0;
    f->found++;
    if (f->found > 1 && strlen(f->out) + v->v.str.len + 2 < sizeof f->out) {
        strcat(f->out, "|");
        strncat(f->out, v->v.str.ptr, v->v.str.len);
    } else if (f->found == 1) {
        snprintf(f->out, sizeof f->out, "%.*s", (int)v->v.str.len, v->v.str.ptr);
    }
    f->tid = ev->thread_id.type == DASF_VAL_INT ? ev->thread_id.v.i : 0;
    return 0;
}

static find_ctx find_args(const char *path, const char *name, const char *key) {
    find_ctx f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.key = key;
    cr_assert_eq(dasf_trace_read_file(path, find_visit, &f), 0);
    return f;
}

static char *dir;

static void setup(void) {
    dir = th_tmpdir();
}

TestSuite(record, .init = setup, .timeout = 300);

/* ---- running and exit status --------------------------------------------------- */

Test(record, exit_status_is_the_commands) {
    const char *out = th_path(dir, "st.zst");
    int st = record((const char *[]){"-q", "-o", out, "--", "/bin/sh", "-c", "exit 7", NULL});
    cr_assert(WIFEXITED(st));
    cr_expect_eq(WEXITSTATUS(st), 7);
    tally t = read_tally(out, "process_name");
    cr_expect_geq(t.named, 1, "the shell's process_name was not recorded");
}

Test(record, unrunnable_command_is_127) {
    const char *out = th_path(dir, "nx.zst");
    int st = record((const char *[]){"-q", "-o", out, "--", "/nonexistent/prog", NULL});
    cr_assert(WIFEXITED(st));
    cr_expect_eq(WEXITSTATUS(st), 127);
    cr_expect_neq(access(out, F_OK), 0, "an empty trace of a program that never ran was left");
}

/* Every unusable output location: exit 2, and the command never ran. */
Test(record, bad_output_exits_2_before_the_command_runs) {
    const char *marker = th_path(dir, "ran");
    char touch[512];
    snprintf(touch, sizeof touch, "touch %s", marker);
    const char *existing = th_path(dir, "exists.zst");
    cr_assert_eq(th_write_file(existing, "", 0), 0);
    const char *bad[] = {
        "/nonexistent-dir/x.zst", /* no such directory */
        existing,                 /* exists, no %n, no --append */
        dir,                      /* a directory */
        "/proc/x-%p.zst",         /* not writable */
        "bad-%q.zst",             /* unknown escape */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = record((const char *[]){"-o", bad[i], "--", "/bin/sh", "-c", touch, NULL});
        cr_assert(WIFEXITED(st), "-o %s", bad[i]);
        cr_expect_eq(WEXITSTATUS(st), 2, "-o %s: status %d", bad[i], WEXITSTATUS(st));
        cr_expect_neq(access(marker, F_OK), 0, "-o %s: the command ran", bad[i]);
    }
    /* --append makes the existing file usable. */
    int st = record((const char *[]){"-q", "--append", "-o", existing, "--", "/bin/true", NULL});
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(record, counter_pattern_never_reuses_a_file) {
    char pat[512];
    snprintf(pat, sizeof pat, "%s/run-%%n.zst", dir);
    for (int i = 0; i < 3; i++) {
        int st = record((const char *[]){"-q", "-o", pat, "--", "/bin/true", NULL});
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int i = 1; i <= 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/run-%d.zst", dir, i);
        tally t = read_tally(p, "dasf.process");
        cr_expect_eq(t.named, 1, "%s: %ld process records (runs mixed?)", p, t.named);
    }
}

Test(record, pid_pattern_names_the_commands_pid) {
    char pat[512];
    snprintf(pat, sizeof pat, "%s/p-%%p-%%h.zst", dir);
    int st = record((const char *[]){"-q", "-o", pat, "--", "/bin/true", NULL});
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d))) {
        long pid;
        if (sscanf(de->d_name, "p-%ld-", &pid) != 1) continue;
        found++;
        tally t = read_tally(th_path(dir, de->d_name), NULL);
        cr_assert_eq(t.n_pids, 1);
        cr_expect_eq(t.pids[0], pid, "file %s holds pid %lld", de->d_name, (long long)t.pids[0]);
    }
    closedir(d);
    cr_expect_eq(found, 1);
}

/* ---- signals ------------------------------------------------------------------------ */

static long read_count(const char *file) {
    int fd = open(file, O_RDONLY);
    if (fd < 0) return 0;
    long v = 0;
    if (pread(fd, &v, sizeof v, 0) != (ssize_t)sizeof v) v = 0;
    close(fd);
    return v;
}

/* Starts the spinning program, waits until it is well into its run, sends
 * SIGTERM to record (which forwards it), returns record's wait status and
 * the program's own count of finished calls. */
static int spin_and_term(const char *out, const char *countfile, int handler, const char *stdout_file,
                         long *count) {
    const char *args[] = {"-q", "-o", out, "--", DASF_TEST_TRACED, "spin", countfile,
                          handler ? "handler" : NULL, NULL};
    pid_t pid = spawn_record(args, stdout_file);
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 1500 && read_count(countfile) < 20000; i++) nanosleep(&ts, NULL);
    cr_assert_geq(read_count(countfile), 20000, "the program did not get going");
    kill(pid, SIGTERM);
    int st = wait_status(pid);
    *count = read_count(countfile);
    return st;
}

Test(record, sigterm_default_action_keeps_every_event) {
    const char *out = th_path(dir, "term.zst"), *cnt = th_path(dir, "term.count");
    long count;
    int st = spin_and_term(out, cnt, 0, NULL, &count);
    cr_assert(WIFSIGNALED(st), "record did not end by the signal (status %#x)", st);
    cr_expect_eq(WTERMSIG(st), SIGTERM);
    tally t = read_tally(out, NULL);
    /* tick's exit hook records before the program counts the call, so the
     * trace may hold one call more than the count, never fewer. */
    cr_expect_geq(t.max_same_name, count, "%ld calls finished, %ld recorded", count,
                  t.max_same_name);
    cr_expect_leq(t.max_same_name, count + 1);
}

Test(record, sigterm_program_handler_runs_after_the_commit) {
    const char *out = th_path(dir, "termh.zst"), *cnt = th_path(dir, "termh.count");
    const char *so = th_path(dir, "termh.out");
    long count;
    int st = spin_and_term(out, cnt, 1, so, &count);
    cr_assert(WIFEXITED(st), "status %#x", st);
    cr_expect_eq(WEXITSTATUS(st), 3, "the program's own handler did not run");
    size_t len;
    uint8_t *raw = th_read_file(so, &len); /* not NUL-terminated */
    cr_assert(raw && len < 128);
    char text[128];
    memcpy(text, raw, len);
    text[len] = 0;
    free(raw);
    long reported = -1;
    cr_assert(sscanf(text, "count %ld", &reported) == 1, "program said: %s", text);
    tally t = read_tally(out, NULL);
    cr_expect_geq(t.max_same_name, reported, "the program reported %ld calls, %ld recorded",
                  reported, t.max_same_name);
    cr_expect_leq(t.max_same_name, reported + 1);
}

/* ---- children, threads, modules ---------------------------------------------------- */

Test(record, fork_and_exec_children_in_the_same_file) {
    const char *out = th_path(dir, "fork.zst");
    int st = record((const char *[]){"-q", "-o", out, "--", DASF_TEST_TRACED, "fork", "100",
                                     DASF_TEST_TRACED, DASF_TEST_TRACED_LIB, NULL});
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    tally t = read_tally(out, "dasf.process");
    cr_expect_eq(t.n_pids, 2, "%d processes in the trace", t.n_pids);
    /* parent image, forked child, and the image the child exec'd */
    cr_expect_eq(t.named, 3, "%ld process records", t.named);
    find_ctx f = find_args(out, "dasf.process", "argv");
    cr_expect(strstr(f.out, " calls 100 "), "no exec'd image among: %s", f.out);
    /* info shows the tree: the parent, the child one level down, its exec */
    char cmd[1024], *text = NULL;
    snprintf(cmd, sizeof cmd, "'%s' info '%s'", tool(), out);
    cr_assert_eq(th_run(cmd, &text), 0);
    const char *tree = strstr(text, "process tree");
    cr_assert(tree, "info has no process tree:\n%s", text);
    cr_expect(strstr(tree, "\n      ") && strstr(tree, " exec "), "tree:\n%s", tree);
    free(text);
}

Test(record, split_gives_each_process_its_own_file) {
    char pat[512];
    snprintf(pat, sizeof pat, "%s/split-%%p.zst", dir);
    int st = record((const char *[]){"-q", "--split", "-o", pat, "--", DASF_TEST_TRACED, "fork",
                                     "100", DASF_TEST_TRACED, DASF_TEST_TRACED_LIB, NULL});
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "split-", 6)) continue;
        files++;
        tally t = read_tally(th_path(dir, de->d_name), NULL);
        cr_expect_eq(t.n_pids, 1, "%s holds %d processes", de->d_name, t.n_pids);
    }
    closedir(d);
    cr_expect_eq(files, 2);
}

Test(record, threads_are_named) {
    const char *out = th_path(dir, "thr.zst");
    int st = record((const char *[]){"-q", "-o", out, "--", DASF_TEST_TRACED, "threads", NULL});
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    find_ctx f = find_args(out, "thread_name", "name");
    cr_expect(strstr(f.out, "worker-a"), "thread names: %s", f.out);
    cr_expect(strstr(f.out, "worker-b"), "thread names: %s", f.out);
    cr_expect(strstr(f.out, "dasf-test-trace"), "main thread's name missing: %s", f.out);
}

Test(record, module_maps_include_the_program_and_the_dlopened_library) {
    const char *out = th_path(dir, "mod.zst");
    int st = record((const char *[]){"-q", "-o", out, "--", DASF_TEST_TRACED, "calls", "10",
                                     DASF_TEST_TRACED_LIB, NULL});
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    find_ctx f = find_args(out, "dasf.module", "path");
    char exe[4096], lib[4096];
    cr_assert(realpath(DASF_TEST_TRACED, exe) && realpath(DASF_TEST_TRACED_LIB, lib));
    cr_expect(strstr(f.out, exe), "modules: %s", f.out);
    cr_expect(strstr(f.out, lib), "modules: %s", f.out);
    find_ctx b = find_args(out, "dasf.module", "build_id");
    cr_expect_geq(b.found, 3);
    cr_expect(strlen(b.out) >= 40, "build ids: %s", b.out);
}

/* ---- read-time symbolization and filters ---------------------------------------- */

/* The count column of `stats` for the row whose name is exactly `name`, or -1. */
static long stats_count(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, n) || line[n] != ' ') continue;
        long c;
        if (sscanf(line + n, "%ld", &c) == 1) return c;
    }
    return -1;
}

static char *run_text(const char *fmt, const char *a, const char *b) {
    char cmd[2048], *text = NULL;
    snprintf(cmd, sizeof cmd, fmt, tool(), a, b);
    cr_assert_eq(th_run(cmd, &text), 0, "%s", cmd);
    return text;
}

static const char *record_calls(const char *name, const char *extra) {
    const char *out = th_path(dir, name);
    const char *args[16];
    int n = 0;
    args[n++] = "-q";
    if (extra) args[n++] = extra;
    args[n++] = "-o";
    args[n++] = out;
    args[n++] = "--";
    args[n++] = DASF_TEST_TRACED;
    args[n++] = "calls";
    args[n++] = "1000";
    args[n++] = DASF_TEST_TRACED_LIB;
    args[n] = NULL;
    int st = record(args);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    return out;
}

Test(record, stats_shows_demangled_names_with_the_right_counts) {
    const char *out = record_calls("names.zst", NULL);
    char *text = run_text("'%s' stats '%s'%s", out, "");
    static const char *const names[] = {
        "c_static_leaf",               /* a static C function */
        "geo::Square::area() const",   /* C++ method in a namespace, demangled */
        "geo::Square::Square(double)", /* constructor */
        "lib_scale",                   /* the dlopen'd shared library */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect_eq(stats_count(text, names[i]), 1000, "%s: count %ld in\n%s", names[i],
                     stats_count(text, names[i]), text);
    cr_expect_eq(stats_count(text, "main"), 1, "%s", text);
    cr_expect_eq(stats_count(text, "run_calls"), 1, "%s", text);
    cr_expect_null(strstr(text, "\n0x"), "unresolved addresses:\n%s", text);
    free(text);
    /* file:line where DWARF has it (cat shows it as args.src) */
    text = run_text("'%s' cat --name c_static_leaf '%s'%s", out, " | head -1");
    cr_expect(strstr(text, "\"src\":\"") && strstr(text, "traced.c:"), "%s", text);
    free(text);
    /* --no-symbols: the addresses as recorded */
    text = run_text("'%s' stats --no-symbols '%s'%s", out, "");
    cr_expect_eq(stats_count(text, "c_static_leaf"), -1);
    cr_expect(strstr(text, "\n0x"), "%s", text);
    free(text);
}

Test(record, include_and_exclude_filter_resolved_names) {
    const char *out = record_calls("filt.zst", NULL);
    char *text = run_text("'%s' stats --include '^geo::Square' --exclude '~' '%s'%s", out, "");
    cr_expect_eq(stats_count(text, "geo::Square::area() const"), 1000, "%s", text);
    cr_expect_eq(stats_count(text, "geo::Square::Square(double)"), 1000, "%s", text);
    cr_expect_eq(stats_count(text, "geo::Square::~Square()"), -1, "%s", text);
    cr_expect_eq(stats_count(text, "c_static_leaf"), -1, "%s", text);
    cr_expect_eq(stats_count(text, "geo::Shape::Shape()"), -1, "%s", text);
    free(text);
    /* a bad regex is a usage error */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' stats --include '(' '%s' 2>/dev/null", tool(), out);
    cr_expect_eq(th_run(cmd, NULL), 2);
}

Test(record, min_duration_and_max_depth_apply_at_record_time) {
    const char *out = record_calls("mind.zst", "--min-duration=10s");
    tally t = read_tally(out, "dasf.process");
    cr_expect_eq(t.x_events, 0, "%ld calls shorter than 10 s recorded", t.x_events);
    cr_expect_eq(t.named, 1);
    out = record_calls("depth.zst", "--max-depth=1");
    char *text = run_text("'%s' stats '%s'%s", out, "");
    cr_expect_eq(stats_count(text, "main"), 1, "%s", text);
    cr_expect_eq(stats_count(text, "run_calls"), -1, "depth 2 recorded:\n%s", text);
    free(text);
    out = record_calls("depth2.zst", "--max-depth=2");
    t = read_tally(out, NULL);
    cr_expect_eq(t.x_events, 2, "main + run_calls expected, %ld calls", t.x_events);
    out = record_calls("nofn.zst", "--no-functions");
    t = read_tally(out, NULL);
    cr_expect_eq(t.x_events, 0);
}
