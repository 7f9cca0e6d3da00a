/*
 * cmd_record.c — `dasf-trace record [OPTIONS] -- CMD [ARGS...]`: run a
 * program unchanged under the preload library (preload/preload.c) and say
 * where its trace went (docs/RECORD.md).
 *
 * Order of events: parse and check the options (exit 2 on any problem);
 * fork; the child claims the output file for its own pid (dasf_path_claim,
 * O_EXCL) and execs CMD, or reports over a close-on-exec pipe why it could
 * not — so an unusable output location exits 2 before CMD runs; the parent
 * forwards SIGTERM/SIGHUP/SIGXCPU/SIGUSR1/SIGUSR2 to CMD (taken with
 * sigwaitinfo; SIGINT and SIGQUIT come from the terminal to the whole
 * process group: ignored here), waits,
 * prints the summary on stderr, and ends the way CMD ended: its exit status,
 * or the same signal (without a core of its own).
 */
#include "args.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "numbers.h"
#include "record_child.h"
#include "strmap.h"
#include "verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char record_help[] =
    "usage: dasf-trace record [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Runs CMD unchanged with the dasf preload library: the process, its threads\n"
    "(names included), its children (fork, exec) and, for programs built with\n"
    "-finstrument-functions, every function call are recorded.  Names of\n"
    "functions are resolved when the trace is read (stats, cat, export, timeline).\n"
    "The exit status is CMD's; a summary goes to stderr.\n"
    "\n"
    "options:\n"
    "  -o, --output PATTERN   trace file; %p pid, %h host, %t start time\n"
    "                         (YYYYmmdd-HHMMSS), %n the first free counter 1, 2, ...,\n"
    "                         %% a '%' (default dasf-%t-%p.msgpack.zst; a name ending\n"
    "                         in .msgpack is the Python layout)\n"
    "      --split            each process traces into its own file from PATTERN\n"
    "                         (PATTERN then needs %p or %n); default: children\n"
    "                         append to the first process's file\n"
    "      --append           an existing file is appended to (default: refused,\n"
    "                         so reruns never mix silently; or use %n)\n"
    "      --signals LIST     signals that commit before they take effect\n"
    "                         (default TERM,INT,HUP,XCPU; 'none' for none)\n"
    "      --signal-timeout S at most S seconds to commit on a signal (default 10)\n"
    "      --no-crash-handler on SIGSEGV/SIGBUS/SIGABRT/SIGFPE/SIGILL do not commit\n"
    "                         first (default: commit, at most 2 s, then the crash\n"
    "                         proceeds; the shared-memory rings keep the rest)\n"
    "      --max-depth N      record function calls up to call depth N (1..512,\n"
    "                         default 512); deeper calls cost a counter only\n"
    "      --min-duration D   do not record calls shorter than D (e.g. 500ns,\n"
    "                         10us, 1ms, 0.5s)\n"
    "      --no-functions     ignore -finstrument-functions hooks\n"
    "      --overflow MODE    block (default: lossless), drop, or overwrite (flight\n"
    "                         recorder: keep the last --ring-size per thread, write\n"
    "                         it on a commit signal or DASF_SNAPSHOT_SIGNAL)\n"
    "      --mpi              an MPI program under mpirun (mpirun -np N dasf-trace\n"
    "                         record --mpi -- ./app): every MPI call is recorded by\n"
    "                         libdasf-profiler-mpi (docs/MPI.md); %r in PATTERN is\n"
    "                         the rank (default dasf-mpi-%n-rank%r.msgpack.zst)\n"
    "      --ring-size SIZE   per-thread ring (power of two, 64K..1G, default 4M):\n"
    "                         bursts up to SIZE/32 calls never wait for the writer\n"
    "  -q, --quiet            no summary\n"
    "\n"
    "Exit status: CMD's (or CMD's signal); 2 when the options or the output\n"
    "location are unusable (CMD is then not run); 127 when CMD cannot be run.\n";

enum {
    OPT_SPLIT = DT_OPT_VERB + 1,
    OPT_APPEND,
    OPT_SIGNALS,
    OPT_SIGTIMEOUT,
    OPT_MAXDEPTH,
    OPT_MINDUR,
    OPT_NOFUNC,
    OPT_OVERFLOW,
    OPT_RING,
    OPT_MPI,
    OPT_NOCRASH,
};

/* "10us" → 10000; plain numbers are seconds (as --from/--to). */
static bool parse_duration_ns(const char *s, long long *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return false;
    double mul = 1e9;
    if (!strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "us"))
        mul = 1e3;
    else if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "s") || !*end)
        mul = 1e9;
    else
        return false;
    double ns = v * mul;
    if (ns > 9.2e18) return false;
    *out = (long long)(ns + 0.5);
    return true;
}

static int rec_option(void *ctx, int opt, const char *arg) {
    rec_opts *o = ctx;
    switch (opt) {
    case 'o': o->pattern = arg; return 1;
    case 'q': o->quiet = true; return 1;
    case OPT_SPLIT: o->split = true; return 1;
    case OPT_APPEND: o->append = true; return 1;
    case OPT_NOFUNC: o->no_functions = true; return 1;
    case OPT_MPI: o->mpi = true; return 1;
    case OPT_NOCRASH: o->no_crash = true; return 1;
    case OPT_SIGNALS: o->signals = arg; return 1;
    case OPT_SIGTIMEOUT: {
        double d;
        if (!dt_parse_double(arg, &d) || d < 0 || d > 86400)
            return dt_usage("--signal-timeout wants seconds in [0, 86400], got '%s'", arg);
        o->sig_timeout = arg;
        return 1;
    }
    case OPT_MAXDEPTH:
        if (!dt_parse_long(arg, 1, 512, &o->max_depth))
            return dt_usage("--max-depth wants a number in [1, 512], got '%s'", arg);
        return 1;
    case OPT_MINDUR:
        if (!parse_duration_ns(arg, &o->min_ns))
            return dt_usage("--min-duration wants a duration like 500ns, 10us, 1ms, 0.5s; got '%s'",
                            arg);
        return 1;
    case OPT_RING: {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        long long mul = !*end               ? 1
                        : !strcmp(end, "K") ? 1 << 10
                        : !strcmp(end, "M") ? 1 << 20
                        : !strcmp(end, "G") ? 1 << 30
                                            : 0;
        if (end == arg || errno || mul == 0 || v <= 0 || v > (1LL << 30) / mul ||
            ((v * mul) & (v * mul - 1)) || v * mul < (1 << 16))
            return dt_usage("--ring-size wants a power of two from 64K to 1G (e.g. 64M), got '%s'",
                            arg);
        o->ring = v * mul;
        return 1;
    }
    case OPT_OVERFLOW:
        if (strcmp(arg, "block") && strcmp(arg, "drop") && strcmp(arg, "overwrite"))
            return dt_usage("--overflow is block, drop or overwrite, not '%s'", arg);
        o->overflow = arg;
        return 1;
    default: return 0;
    }
}

/* Signal names as the runtime parses them (signals.c): checked here so a
 * typo exits 2 before CMD runs. */
static bool signals_valid(const char *s) {
    if (!strcasecmp(s, "none") || !strcasecmp(s, "default") || !*s) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        const char *name = tok;
        if (!strncasecmp(name, "SIG", 3)) name += 3;
        char *end;
        long v = strtol(name, &end, 10);
        bool ok = false;
        if (!*end) {
            ok = v >= 1 && v < 64 && v != SIGKILL && v != SIGSTOP;
        } else {
            for (int sig = 1; sig < 64 && !ok; sig++) {
                const char *ab = sigabbrev_np(sig);
                ok = ab && !strcasecmp(ab, name) && sig != SIGKILL && sig != SIGSTOP;
            }
        }
        if (!ok) return false;
    }
    return true;
}

/* ---- the parent: forward signals, wait, summarise ------------------------------- */

/* The signals forwarded to CMD, plus SIGCHLD: blocked before the fork (the
 * child restores the old mask before exec) and taken with sigwaitinfo, so
 * no signal is lost between fork and wait and no async handler runs here. */
static void forward_set(sigset_t *s) {
    sigemptyset(s);
    int fwd[] = {SIGTERM, SIGHUP, SIGXCPU, SIGUSR1, SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        sigaddset(s, fwd[i]);
}

/* Waits for the child, forwarding signals to it.  @return its wait status. */
static int wait_forwarding(pid_t pid) {
    sigset_t set;
    forward_set(&set);
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return status;
        if (w < 0 && errno != EINTR) return status;
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig > 0 && sig != SIGCHLD) kill(pid, sig);
    }
}

typedef struct summary {
    dt_strmap threads, procs;
    uint64_t events;
} summary;

static int sum_event(void *ctx, const dt_input *in, const dasf_trace_event *ev) {
    (void)in;
    summary *s = ctx;
    char p[DT_ID_TEXT_MAX], t[DT_ID_TEXT_MAX], key[2 * DT_ID_TEXT_MAX + 2];
    dt_id_text(&ev->process_id, p, sizeof p);
    dt_id_text(&ev->thread_id, t, sizeof t);
    int n = snprintf(key, sizeof key, "%s/%s", p, t);
    bool created;
    if (!dt_strmap_get(&s->procs, p, strlen(p), &created) ||
        !dt_strmap_get(&s->threads, key, (size_t)n, &created))
        return DT_FAIL;
    s->events++;
    return 0;
}

static void summarise(char **files, int n) {
    summary s;
    memset(&s, 0, sizeof s);
    int rc = dt_each_event(files, n, NULL, sum_event, NULL, &s);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "dasf-trace record: trace: %s\n", files[i]);
    fprintf(stderr, "dasf-trace record: %llu events, %zu threads, %zu processes%s%s\n",
            (unsigned long long)s.events, s.threads.len, s.procs.len, n > 1 ? " in " : "",
            n > 1 ? "these files" : "");
    if (rc != DT_OK) dt_err("(some of the trace could not be read; see above)");
    dt_strmap_free(&s.threads);
    dt_strmap_free(&s.procs);
}

/* The root file plus the manifest's lines (split mode), without repeats. */
static int collect_files(const char *root, const char *manifest, char ***out) {
    char **v = malloc(sizeof *v);
    if (!v) return 0;
    int n = 0;
    v[n++] = strdup(root);
    FILE *m = manifest ? fopen(manifest, "r") : NULL;
    char line[PATH_MAX + 2];
    while (m && fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = 0;
        bool dup = false;
        for (int i = 0; i < n && !dup; i++)
            dup = !strcmp(v[i], line);
        if (dup || !*line) continue;
        char **nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv) break;
        v = nv;
        v[n++] = strdup(line);
    }
    if (m) fclose(m);
    *out = v;
    return n;
}

/* Ends this process the way CMD's ended. */
static int exit_like(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* CMD dumped its core; we do not add ours */
        signal(sig, SIG_DFL);
        raise(sig); /* pending while blocked (the forwarded ones are) */
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, sig);
        sigprocmask(SIG_UNBLOCK, &m, NULL);
        return 128 + sig;
    }
    return 1;
}

static const struct option record_opts[] = {
    {"help", 0, NULL, 'h'},
    {"output", 1, NULL, 'o'},
    {"quiet", 0, NULL, 'q'},
    {"split", 0, NULL, OPT_SPLIT},
    {"append", 0, NULL, OPT_APPEND},
    {"signals", 1, NULL, OPT_SIGNALS},
    {"signal-timeout", 1, NULL, OPT_SIGTIMEOUT},
    {"max-depth", 1, NULL, OPT_MAXDEPTH},
    {"min-duration", 1, NULL, OPT_MINDUR},
    {"no-functions", 0, NULL, OPT_NOFUNC},
    {"overflow", 1, NULL, OPT_OVERFLOW},
    {"ring-size", 1, NULL, OPT_RING},
    {"mpi", 0, NULL, OPT_MPI},
    {"no-crash-handler", 0, NULL, OPT_NOCRASH},
    {0},
};

/* Parses and checks the options (CMD starts at *cmd_at).  @return
 * DT_ARGS_GO_ON, or the exit status (help printed, or DT_USAGE said). */
static int parse_record_args(int argc, char **argv, rec_opts *o, int *cmd_at) {
    memset(o, 0, sizeof *o);
    o->pattern = NULL;
    /* '+': options end at CMD, so CMD's own options are left alone. */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:ho:q", record_opts, NULL)) != -1) {
        const char *opt = argv[optind - 1];
        if (c == 'h') {
            printf("%s", record_help);
            return dt_finish_stdout(DT_OK);
        }
        if (c == ':') return dt_usage("option '%s' needs a value", opt);
        if (c == '?') return dt_usage("unknown option '%s'", opt);
        int r = rec_option(o, c, optarg);
        if (r == DT_USAGE) return r;
    }
    if (optind >= argc) return dt_usage("no command given (dasf-trace record [OPTIONS] -- CMD)");
    *cmd_at = optind;
    o->rank = -1;
    if (o->mpi) {
        o->rank = dt_record_launcher_rank();
        if (o->rank < 0)
            return dt_usage("--mpi: no MPI rank in the environment; run it under the launcher: "
                            "mpirun -np N dasf-trace record --mpi -- CMD");
    }
    if (!o->pattern)
        o->pattern = o->mpi ? "dasf-mpi-%n-rank%r.msgpack.zst" : "dasf-%t-%p.msgpack.zst";
    char probe[PATH_MAX];
    dasf_path_vars pv = {1, NULL, (int64_t)time(NULL), o->rank};
    if (dasf_path_expand(probe, sizeof probe, o->pattern, &pv, 1) < 0)
        return dt_usage("-o %s: not a usable pattern (escapes: %%p %%h %%t %%n %%%%, and %%r "
                        "with --mpi)",
                        o->pattern);
    /* The flight recorder marks its chunks as snapshots: archive only. */
    if (o->overflow && !strcmp(o->overflow, "overwrite") &&
        dasf_layout_level(probe, DASF_COMPRESSION_AUTO) == 0)
        return dt_usage("--overflow overwrite needs the archive layout: -o %s names a Python "
                        "(.msgpack) file; use a name ending in .zst",
                        o->pattern);
    if (o->split && !strstr(o->pattern, "%p") && !dasf_path_has_counter(o->pattern))
        return dt_usage("--split needs %%p or %%n in -o, so each process gets its own file");
    if (o->signals && !signals_valid(o->signals))
        return dt_usage("--signals %s: not a list of signal names like TERM,INT,HUP,XCPU",
                        o->signals);
    return DT_ARGS_GO_ON;
}

/* --split: the temporary file the processes list their trace files in. */
static int make_manifest(char manifest[PATH_MAX]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(manifest, PATH_MAX, "%s/dasf-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int mfd = mkstemp(manifest);
    if (mfd < 0) {
        dt_err("cannot create a temporary file in %s: %s", tmp && *tmp ? tmp : "/tmp",
               strerror(errno));
        return DT_USAGE;
    }
    close(mfd);
    return DT_OK;
}

/* The child's messages until exec closes the pipe: "P<path>", then
 * "E<why>" (no file, CMD not run) or "X<why>" (CMD could not run).
 * @return the failure's kind ('E', 'X') with its message in why, or 0. */
static char read_child_report(int fd, char path[PATH_MAX], char why[PATH_MAX + 256]) {
    char buf[2 * PATH_MAX + 512];
    size_t len = 0;
    ssize_t k;
    while ((k = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        len += (size_t)k;
        if (len == sizeof buf - 1) break;
    }
    buf[len] = 0;
    char kind = 0;
    path[0] = why[0] = 0;
    for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
        if (buf[off] == 'P') snprintf(path, PATH_MAX, "%s", buf + off + 1);
        if (buf[off] == 'E' || buf[off] == 'X') {
            kind = buf[off];
            snprintf(why, PATH_MAX + 256, "%s", buf + off + 1);
        }
    }
    return kind;
}

int dt_cmd_record(int argc, char **argv) {
    rec_opts o;
    int cmd_at = 0;
    int rc = parse_record_args(argc, argv, &o, &cmd_at);
    if (rc != DT_ARGS_GO_ON) return rc;
    char **cmd = argv + cmd_at;
    char preload[PATH_MAX];
    if (!dt_record_find_preload(preload)) return DT_USAGE;
    if (o.mpi && !dt_record_find_mpi_lib(preload, o.mpi_lib)) return DT_USAGE;
    char manifest[PATH_MAX] = "";
    if (o.split && make_manifest(manifest) != DT_OK) return DT_USAGE;
    time_t start = time(NULL);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        dt_err("pipe: %s", strerror(errno));
        return DT_FAIL;
    }
    fflush(NULL);
    sigset_t fwd, old_mask;
    forward_set(&fwd);
    sigprocmask(SIG_BLOCK, &fwd, &old_mask);
    pid_t pid = fork();
    if (pid < 0) {
        dt_err("fork: %s", strerror(errno));
        return DT_FAIL;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        close(pfd[0]);
        dt_record_child(pfd[1], &o, preload, manifest[0] ? manifest : NULL, start, cmd);
    }
    /* The terminal sends these to the whole process group, CMD included. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    close(pfd[1]);
    char path[PATH_MAX], why[PATH_MAX + 256];
    char fail_kind = read_child_report(pfd[0], path, why);
    close(pfd[0]);
    int status = wait_forwarding(pid);
    if (fail_kind) {
        dt_err("%s", why);
        if (path[0]) unlink(path); /* claimed but CMD never ran: nothing to keep */
        if (manifest[0]) unlink(manifest);
        return fail_kind == 'E' ? DT_USAGE : exit_like(status);
    }
    if (path[0]) {
        char **files = NULL;
        int n = collect_files(path, manifest[0] ? manifest : NULL, &files);
        /* A process of CMD killed (SIGKILL, OOM) or crashed left what it had
         * not written in its shared-memory rings: into the files now, before
         * the summary counts them (docs/RUNTIME.md, "Surviving the process"). */
        for (int i = 0; i < n; i++) dasf_recover_maps(NULL, files[i], 0, NULL);
        if (!o.quiet) summarise(files, n);
        for (int i = 0; i < n; i++)
            free(files[i]);
        free(files);
    }
    if (manifest[0]) unlink(manifest);
    fflush(stderr);
    return exit_like(status);
}
