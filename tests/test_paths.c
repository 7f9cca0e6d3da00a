/*
 * test_paths.c — safe paths: FIFOs and other non-regular files are refused
 * (never waited on), symbolic links at output paths are refused unless the
 * user asks to follow them, and appending to an existing regular trace file
 * still works.  Covers the library (reader, FileDatabase, dasf_writer,
 * the default profiler's DASF_FOLLOW_SYMLINKS) and every dasf-trace verb
 * that reads or writes a file.  Every test has a timeout: the defect these
 * guard against is a verb blocking forever in open() (alarm in setup, and
 * `timeout` around every dasf-trace run).
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir;

/* The guard against blocking: a test still running after 120 s dies of
 * SIGALRM (Criterion reports it as a crash).  Not Criterion's .timeout,
 * which leaks in the runner under LeakSanitizer. */
static void setup(void) {
    alarm(120);
    dir = th_tmpdir();
}

static const char *in_dir(const char *name) { return th_path(dir, name); }

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static dasf_file_db_options quick_opts(void) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.lock_timeout = 2;
    return o;
}

/* Records n instants into a new FileDatabase on path and closes it.
 * @return the first failing status (open, record, commit or close), or 0. */
static int write_events(const char *path, const dasf_file_db_options *o, int n) {
    dasf_db *db;
    int rc = dasf_file_db_open(&db, path, o);
    if (rc) return rc;
    for (int i = 0; i < n && rc == 0; i++) {
        dasf_event e = {.name = "tick", .timestamp = i, .phase = DASF_PHASE_INSTANT};
        rc = dasf_db_record(db, &e);
    }
    int c = rc ? rc : dasf_db_commit(db);
    int cl = dasf_db_close(db);
    return c ? c : cl;
}

/* No ".NAME.tmp-*" left behind by the tool in d. */
static void no_temporaries(const char *d) {
    DIR *dd = opendir(d);
    cr_assert_not_null(dd);
    struct dirent *e;
    while ((e = readdir(dd)))
        cr_assert_null(strstr(e->d_name, ".tmp-"), "temporary left behind: %s/%s", d, e->d_name);
    closedir(dd);
}

/* ---- the library ----------------------------------------------------------- */

Test(paths_lib, reader_refuses_fifo_without_blocking, .init = setup) {
    const char *f = in_dir("fifo");
    cr_assert_eq(mkfifo(f, 0600), 0);
    dasf_trace *t = NULL;
    cr_assert_eq(dasf_trace_open(&t, f), DASF_ENOTREG);
    cr_assert_null(t);
    cr_assert_eq(dasf_trace_read_file(f, NULL, NULL), DASF_EINVAL);
    cr_assert_eq(dasf_trace_open(&t, dir), DASF_ENOTREG, "a directory is not a trace file");
    cr_assert_eq(dasf_trace_open(&t, "/dev/null"), DASF_ENOTREG);
    cr_assert_str_neq(dasf_strerror(DASF_ENOTREG), "unknown dasf status");
}

Test(paths_lib, trace_file_must_be_regular, .init = setup) {
    const char *f = in_dir("fifo");
    cr_assert_eq(mkfifo(f, 0600), 0);
    dasf_file_db_options o = quick_opts();
    dasf_db *db = NULL;
    cr_assert_eq(dasf_file_db_open(&db, f, &o), DASF_ENOTREG);
    /* remove_old_output_file never removes what is not a trace file */
    o.remove_old_output_file = true;
    cr_assert_eq(dasf_file_db_open(&db, f, &o), DASF_ENOTREG);
    cr_assert(exists(f));
    cr_assert_eq(dasf_file_db_open(&db, dir, &o), DASF_ENOTREG);
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, f, &o), DASF_ENOTREG);
    cr_assert(exists(f));
    /* A FIFO put at the path after open: the append refuses it, promptly. */
    o = quick_opts();
    const char *g = in_dir("later");
    cr_assert_eq(dasf_file_db_open(&db, g, &o), 0);
    dasf_event e = {.name = "x", .timestamp = 1, .phase = DASF_PHASE_INSTANT};
    cr_assert_eq(dasf_db_record(db, &e), 0);
    cr_assert_eq(mkfifo(g, 0600), 0);
    cr_assert_eq(dasf_db_commit(db), DASF_ENOTREG);
    /* The event is still pending: once the FIFO is replaced by nothing,
     * it lands (nothing silently lost). */
    cr_assert_eq(unlink(g), 0);
    cr_assert_eq(dasf_db_commit(db), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(th_count_events(g), 1);
}

Test(paths_lib, symlink_at_trace_path_refused, .init = setup) {
    const char *other = in_dir("other");
    cr_assert_eq(mkdir(other, 0700), 0);
    const char *target = th_path(other, "planted.zst");
    const char *link = in_dir("trace.zst");
    cr_assert_eq(symlink(target, link), 0); /* dangling */
    dasf_file_db_options o = quick_opts();
    dasf_db *db = NULL;
    cr_assert_eq(dasf_file_db_open(&db, link, &o), DASF_ESYMLINK);
    cr_assert(!exists(target), "a file was created through the link");
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, link, &o), DASF_ESYMLINK);
    /* A link planted after open (between commits): refused at the append. */
    const char *late = in_dir("late.zst");
    cr_assert_eq(dasf_file_db_open(&db, late, &o), 0);
    dasf_event e = {.name = "x", .timestamp = 1, .phase = DASF_PHASE_INSTANT};
    cr_assert_eq(dasf_db_record(db, &e), 0);
    cr_assert_eq(dasf_db_commit(db), 0);
    cr_assert_eq(unlink(late), 0);
    cr_assert_eq(symlink(target, late), 0);
    cr_assert_eq(dasf_db_record(db, &e), 0);
    cr_assert_eq(dasf_db_commit(db), DASF_ESYMLINK);
    cr_assert(!exists(target));
    cr_assert_eq(unlink(late), 0); /* the pending event lands once the link is gone */
    cr_assert_eq(dasf_db_commit(db), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    cr_assert_eq(th_count_events(late), 1);
    /* A link to an existing regular trace is refused too: its content stays. */
    const char *real = th_path(other, "real.zst");
    cr_assert_eq(write_events(real, &o, 3), 0);
    const char *link2 = in_dir("link2.zst");
    cr_assert_eq(symlink(real, link2), 0);
    cr_assert_eq(write_events(link2, &o, 5), DASF_ESYMLINK);
    cr_assert_eq(th_count_events(real), 3);
    cr_assert_str_neq(dasf_strerror(DASF_ESYMLINK), "unknown dasf status");
}

Test(paths_lib, follow_symlinks_option, .init = setup) {
    const char *other = in_dir("other");
    cr_assert_eq(mkdir(other, 0700), 0);
    const char *target = th_path(other, "t.zst"), *link = in_dir("l.zst");
    cr_assert_eq(symlink(target, link), 0);
    dasf_file_db_options o = quick_opts();
    o.follow_symlinks = true;
    cr_assert_eq(write_events(link, &o, 4), 0); /* dangling: created through it */
    cr_assert_eq(write_events(link, &o, 6), 0); /* existing: appended to */
    cr_assert_eq(th_count_events(target), 10);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link stays a link");
    /* dasf_writer honours it too */
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, link, &o), 0);
    dasf_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.name = "w";
    ev.phase = DASF_PHASE_INSTANT;
    ev.args.type = DASF_VAL_MAP;
    ev.process_id.type = DASF_VAL_INT;
    ev.thread_id.type = DASF_VAL_INT;
    cr_assert_eq(dasf_writer_add(w, &ev), 0);
    cr_assert_eq(dasf_writer_close(w), 0);
    cr_assert_eq(th_count_events(target), 11);
    /* A FIFO behind a followed link is still refused. */
    const char *f = th_path(other, "fifo"), *lf = in_dir("lf");
    cr_assert_eq(mkfifo(f, 0600), 0);
    cr_assert_eq(symlink(f, lf), 0);
    cr_assert_eq(write_events(lf, &o, 1), DASF_ENOTREG);
}

Test(paths_lib, appending_to_existing_regular_file_still_works, .init = setup) {
    const char *p = in_dir("shared.msgpack");
    dasf_file_db_options o = quick_opts();
    o.compression_level = 0;
    cr_assert_eq(write_events(p, &o, 7), 0);
    cr_assert_eq(write_events(p, &o, 5), 0);
    cr_assert_eq(th_count_events(p), 12);
    const char *a = in_dir("shared.zst");
    o.compression_level = 1;
    cr_assert_eq(write_events(a, &o, 7), 0);
    cr_assert_eq(write_events(a, &o, 5), 0);
    cr_assert_eq(th_count_events(a), 12);
    /* Several processes appending at once (flock semantics kept). */
    const char *w = getenv("DASF_TEST_WRITER");
    cr_assert_not_null(w);
    const char *m = in_dir("multi.zst");
    pid_t pids[4];
    for (int k = 0; k < 4; k++) {
        char ks[16];
        snprintf(ks, sizeof ks, "%d", k);
        const char *args[] = {"append", m, ks, "3000", NULL};
        pids[k] = th_spawn_writer(args);
        cr_assert_gt(pids[k], 0);
    }
    for (int k = 0; k < 4; k++) {
        int st;
        cr_assert_eq(waitpid(pids[k], &st, 0), pids[k]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cr_assert_eq(th_count_events(m), 12000);
    /* remove_old_output_file on a link removes the link, not its target */
    const char *real = in_dir("keep.zst"), *link = in_dir("old-link.zst");
    cr_assert_eq(write_events(real, &o, 2), 0);
    cr_assert_eq(symlink(real, link), 0);
    o.remove_old_output_file = true;
    cr_assert_eq(write_events(link, &o, 3), 0);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(th_count_events(link), 3);
    cr_assert_eq(th_count_events(real), 2);
}

Test(paths_lib, default_profiler_env, .init = setup) {
    const char *w = getenv("DASF_TEST_WRITER");
    cr_assert_not_null(w);
    const char *other = in_dir("other");
    cr_assert_eq(mkdir(other, 0700), 0);
    const char *target = th_path(other, "env.zst"), *link = in_dir("env-link.zst");
    cr_assert_eq(symlink(target, link), 0);
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "DASF_TRACE_FILE='%s' '%s' default 50 2>&1", link, w);
    int st = th_run(cmd, &out);
    cr_assert_eq(st, 5, "tracing must be off: %d %s", st, out); /* writer_proc: no profiler */
    cr_assert(strstr(out, "symbolic link"), "%s", out);
    free(out);
    cr_assert(!exists(target));
    snprintf(cmd, sizeof cmd, "DASF_FOLLOW_SYMLINKS=1 DASF_TRACE_FILE='%s' '%s' default 50 2>&1",
             link, w);
    st = th_run(cmd, &out);
    cr_assert_eq(st, 0, "%s", out);
    free(out);
    cr_assert_eq(th_count_events(target), 50);
}

/* ---- dasf-trace ------------------------------------------------------------------ */

/* "cd DIR && timeout 20 dasf-trace ARGS"; stderr into *err.  124 = blocked. */
static int run_cli(char **err, const char *fmt, ...) {
    char args[2048], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && timeout 20 '%s' %s 2>&1 >/dev/null", dir,
             th_dasf_trace(), args);
    char *out;
    int st = th_run(cmd, &out);
    if (err)
        *err = out;
    else
        free(out);
    return st;
}

static void cli_setup(void) {
    setup();
    cr_assert_not_null(th_dasf_trace(), "DASF_TRACE_BIN is not set");
    dasf_file_db_options o = quick_opts();
    cr_assert_eq(write_events(in_dir("t.zst"), &o, 20), 0);
    cr_assert_eq(mkfifo(in_dir("fifo"), 0600), 0);
    cr_assert_eq(mkdir(in_dir("other"), 0700), 0);
}

static const char *const read_cmds[] = {
    "info fifo",
    "cat fifo",
    "stats fifo",
    "verify fifo",
    "export -o x.json fifo",
    "timeline -o x.svg fifo",
    "merge -o x.zst fifo",
    "convert --to legacy fifo x.msgpack",
};

Test(paths_cli, every_verb_refuses_a_fifo_input, .init = cli_setup) {
    for (size_t i = 0; i < sizeof read_cmds / sizeof read_cmds[0]; i++) {
        char *err;
        int st = run_cli(&err, "%s", read_cmds[i]);
        cr_assert_eq(st, 1, "'%s': exit %d (124: blocked): %s", read_cmds[i], st, err);
        cr_assert(strstr(err, "fifo: not a regular file"), "'%s': %s", read_cmds[i], err);
        free(err);
    }
    no_temporaries(dir);
}

static const char *const write_cmds[] = {
    "export -o %s t.zst",
    "timeline -o %s t.zst",
    "merge -o %s t.zst",
    "convert --to legacy t.zst %s",
    "convert --to archive t.zst %s",
};
#define N_WRITE (sizeof write_cmds / sizeof write_cmds[0])

/* merge and convert refuse an existing output without --force. */
static bool takes_force(size_t i) { return write_cmds[i][0] == 'm' || write_cmds[i][0] == 'c'; }

/* Runs write_cmds[i] on out; extra options after the files ("--force" is
 * dropped for the verbs without it: they always replace). */
static int run_write(size_t i, const char *out, const char *extra, char **err) {
    char args[1024], opts[256];
    snprintf(args, sizeof args, write_cmds[i], out);
    snprintf(opts, sizeof opts, "%s", extra);
    char *f = strstr(opts, "--force");
    if (f && !takes_force(i)) memset(f, ' ', 7);
    return run_cli(err, "%s %s", args, opts); /* options may follow the files */
}

Test(paths_cli, output_symlinks_refused_unless_asked, .init = cli_setup) {
    for (size_t i = 0; i < N_WRITE; i++) {
        char *err;
        /* a dangling link: nothing is created in the other directory */
        cr_assert_eq(symlink("other/new", in_dir("dangling")), 0);
        int st = run_write(i, "dangling", "", &err);
        cr_assert_eq(st, 1, "'%s': %d %s", write_cmds[i], st, err);
        cr_assert(strstr(err, "symbolic link"), "'%s': %s", write_cmds[i], err);
        free(err);
        cr_assert(!exists(in_dir("other/new")), "'%s' wrote through the link", write_cmds[i]);
        /* still refused with --follow-symlinks: there is no target to replace */
        st = run_write(i, "dangling", "--follow-symlinks", &err);
        cr_assert_eq(st, 1, "'%s': %d %s", write_cmds[i], st, err);
        free(err);
        cr_assert(!exists(in_dir("other/new")));
        cr_assert_eq(unlink(in_dir("dangling")), 0);
        /* a link to an existing file: the target is not overwritten */
        cr_assert_eq(th_write_file(in_dir("other/victim"), "precious\n", 9), 0);
        cr_assert_eq(symlink("other/victim", in_dir("link")), 0);
        st = run_write(i, "link", "--force", &err);
        cr_assert_eq(st, 1, "'%s': %d %s", write_cmds[i], st, err);
        free(err);
        size_t n;
        char *v = (char *)th_read_file(in_dir("other/victim"), &n);
        cr_assert(n == 9 && !memcmp(v, "precious\n", 9), "'%s' overwrote the target",
                  write_cmds[i]);
        free(v);
        /* asked: the target is replaced, the link stays a link */
        st = run_write(i, "link", "--force --follow-symlinks", &err);
        cr_assert_eq(st, 0, "'%s': %d %s", write_cmds[i], st, err);
        free(err);
        v = (char *)th_read_file(in_dir("other/victim"), &n);
        cr_assert(n > 9 || memcmp(v, "precious\n", 9), "'%s': target not written",
                  write_cmds[i]);
        free(v);
        struct stat sst;
        cr_assert_eq(lstat(in_dir("link"), &sst), 0);
        cr_assert(S_ISLNK(sst.st_mode));
        cr_assert_eq(unlink(in_dir("link")), 0);
        cr_assert_eq(unlink(in_dir("other/victim")), 0);
        no_temporaries(dir);
        no_temporaries(in_dir("other"));
    }
}

Test(paths_cli, output_fifo_and_directory_refused, .init = cli_setup) {
    for (size_t i = 0; i < N_WRITE; i++) {
        char *err;
        int st = run_write(i, "fifo", "--force", &err);
        cr_assert_eq(st, 1, "'%s' -o fifo: exit %d (124: blocked): %s", write_cmds[i], st, err);
        cr_assert(strstr(err, "not a regular file"), "%s", err);
        free(err);
        struct stat st2;
        cr_assert_eq(lstat(in_dir("fifo"), &st2), 0);
        cr_assert(S_ISFIFO(st2.st_mode), "'%s' replaced the FIFO", write_cmds[i]);
        st = run_write(i, "other", "--force", &err);
        cr_assert_eq(st, 1, "'%s' -o dir: %d %s", write_cmds[i], st, err);
        free(err);
        no_temporaries(dir);
    }
}

Test(paths_cli, replacing_regular_outputs, .init = cli_setup) {
    for (size_t i = 0; i < N_WRITE; i++) {
        bool copy = takes_force(i);
        const char *p = in_dir("out.file");
        cr_assert_eq(th_write_file(p, "old\n", 4), 0);
        cr_assert_eq(chmod(p, 0604), 0);
        char *err;
        int st = run_write(i, "out.file", "", &err);
        size_t n;
        char *v = (char *)th_read_file(p, &n);
        if (copy) { /* merge/convert never replace without --force */
            cr_assert_eq(st, 1, "'%s': %d %s", write_cmds[i], st, err);
            cr_assert(strstr(err, "exists"), "%s", err);
            cr_assert(n == 4 && !memcmp(v, "old\n", 4));
            free(err);
            free(v);
            st = run_write(i, "out.file", "--force", &err);
            v = (char *)th_read_file(p, &n);
        }
        cr_assert_eq(st, 0, "'%s': %d %s", write_cmds[i], st, err);
        cr_assert(n > 4, "'%s' did not write", write_cmds[i]);
        free(v);
        free(err);
        struct stat sst;
        cr_assert_eq(stat(p, &sst), 0);
        cr_assert_eq(sst.st_mode & 0777, 0604, "'%s': mode %o", write_cmds[i], sst.st_mode & 0777);
        cr_assert_eq(unlink(p), 0);
        /* a new file: 0666 minus the umask, like fopen */
        mode_t um = umask(022);
        st = run_write(i, "new.file", "", NULL);
        umask(um);
        cr_assert_eq(st, 0);
        cr_assert_eq(stat(in_dir("new.file"), &sst), 0);
        cr_assert_eq(sst.st_mode & 0777, 0644, "'%s': mode %o", write_cmds[i], sst.st_mode & 0777);
        if (copy) cr_assert_eq(th_count_events(in_dir("new.file")), 20);
        cr_assert_eq(unlink(in_dir("new.file")), 0);
        no_temporaries(dir);
    }
}
