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

#ifndef DASF_PRELOAD_NAME
#define DASF_PRELOAD_NAME "libdasf-preload.so"
#endif

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
    "      --max-depth N      record function calls up to call depth N (1..512,\n"
    "                         default 512); deeper calls cost a counter only\n"
    "      --min-duration D   do not record calls shorter than D (e.g. 500ns,\n"
    "                         10us, 1ms, 0.5s)\n"
    "      --no-functions     ignore -finstrument-functions hooks\n"
    "      --overflow MODE    block (default: lossless) or drop\n"
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
};

typedef struct rec_opts {
    const char *pattern;
    bool split, append, quiet, no_functions;
    const char *signals;
    const char *sig_timeout;
    long long max_depth;
    long long min_ns;
    const char *overflow;
    long long ring;
    bool mpi;
    int64_t rank;                /* --mpi: this process's rank, from the launcher */
    char mpi_lib[PATH_MAX];      /* --mpi: libdasf-profiler-mpi.so */
} rec_opts;

/* "10us" → 10000; plain numbers are seconds (as --from/--to). */
static bool parse_duration_ns(const char *s, long long *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return false;
    double mul = 1e9;
    if (!strcmp(end, "ns")) mul = 1;
    else if (!strcmp(end, "us")) mul = 1e3;
    else if (!strcmp(end, "ms")) mul = 1e6;
    else if (!strcmp(end, "s") || !*end) mul = 1e9;
    else return false;
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
        long long mul = !*end ? 1 : !strcmp(end, "K") ? 1 << 10 : !strcmp(end, "M") ? 1 << 20
                                  : !strcmp(end, "G") ? 1 << 30 : 0;
        if (end == arg || errno || mul == 0 || v <= 0 || v > (1LL << 30) / mul ||
            ((v * mul) & (v * mul - 1)) || v * mul < (1 << 16))
            return dt_usage("--ring-size wants a power of two from 64K to 1G (e.g. 64M), got '%s'",
                            arg);
        o->ring = v * mul;
        return 1;
    }
    case OPT_OVERFLOW:
        if (strcmp(arg, "block") && strcmp(arg, "drop"))
            return dt_usage("--overflow is block or drop, not '%s'", arg);
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

/* ---- finding the preload -------------------------------------------------------- */

static bool usable(const char *p, char *out) {
    return access(p, R_OK) == 0 && realpath(p, out) != NULL;
}

static bool find_preload(char out[PATH_MAX]) {
    const char *env = getenv("DASF_PRELOAD");
    if (env && *env) {
        if (usable(env, out)) return true;
        dt_err("DASF_PRELOAD=%s: %s", env, strerror(errno));
        return false;
    }
    char self[PATH_MAX], cand[PATH_MAX + 64];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k > 0) {
        self[k] = 0;
        char *slash = strrchr(self, '/');
        if (slash) *slash = 0;
        /* installed: <prefix>/bin/dasf-trace and <prefix>/<libdir>/ */
        snprintf(cand, sizeof cand, "%s/../%s/" DASF_PRELOAD_NAME, self, DASF_INSTALL_LIBDIR);
        if (usable(cand, out)) return true;
        /* build tree: <build>/tools/dasf-trace and <build>/ */
        snprintf(cand, sizeof cand, "%s/../" DASF_PRELOAD_NAME, self);
        if (usable(cand, out)) return true;
    }
    dt_err("cannot find %s next to this dasf-trace (set DASF_PRELOAD to its path)",
           DASF_PRELOAD_NAME);
    return false;
}

/* The MPI wrapper library: DASF_MPI_PRELOAD, or beside the preload (installed:
 * the same libdir; build tree: its mpi/ folder). */
static bool find_mpi_lib(const char *preload, char out[PATH_MAX]) {
    const char *env = getenv("DASF_MPI_PRELOAD");
    if (env && *env) {
        if (usable(env, out)) return true;
        dt_err("DASF_MPI_PRELOAD=%s: %s", env, strerror(errno));
        return false;
    }
    char dir[PATH_MAX], cand[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", preload);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(cand, sizeof cand, "%s/libdasf-profiler-mpi.so", dir);
    if (usable(cand, out)) return true;
    snprintf(cand, sizeof cand, "%s/mpi/libdasf-profiler-mpi.so", dir);
    if (usable(cand, out)) return true;
    dt_err("--mpi: cannot find libdasf-profiler-mpi.so beside %s (built when CMake finds MPI; "
           "or set DASF_MPI_PRELOAD to its path)", preload);
    return false;
}

/* The rank the MPI launcher gave this process (Open MPI, PMIx, MPICH/Hydra,
 * Slurm), or -1. */
static int64_t launcher_rank(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        long long r;
        if (v && *v && dt_parse_long(v, 0, INT32_MAX, &r)) return r;
    }
    return -1;
}

/* ---- the child: claim the file, exec ------------------------------------------- */

static void report(int fd, char kind, const char *msg) {
    char buf[PATH_MAX + 256];
    int n = snprintf(buf, sizeof buf, "%c%s", kind, msg);
    if (n > 0 && write(fd, buf, (size_t)n + 1) < 0) _exit(2);
}

static void set_num(const char *var, long long v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    setenv(var, b, 1);
}

static void child(int fd, const rec_opts *o, const char *preload, const char *manifest,
                  time_t start, char **cmd) {
    char path[PATH_MAX];
    dasf_path_vars v = {getpid(), NULL, (int64_t)start, o->mpi ? o->rank : -1};
    int rc = dasf_path_claim(path, sizeof path, o->pattern, &v, o->append ? DASF_PATH_APPEND : 0);
    if (rc) {
        char msg[PATH_MAX + 200];
        int e = errno;
        if (rc == DASF_EINVAL) {
            snprintf(msg, sizeof msg, "-o %s: the expanded name is too long", o->pattern);
        } else {
            char tried[PATH_MAX];
            if (dasf_path_expand(tried, sizeof tried, o->pattern, &v, 1) < 0) tried[0] = 0;
            snprintf(msg, sizeof msg, "cannot create the trace file %s: %s%s", tried,
                     rc == DASF_ENOSPC ? "no space left on device" : strerror(e),
                     e == EEXIST ? " (use %n in -o for a new name per run, or --append)" : "");
        }
        report(fd, 'E', msg);
        _exit(2);
    }
    report(fd, 'P', path);
    const char *old = getenv("LD_PRELOAD");
    char pre[2 * PATH_MAX + 2];
    if (o->mpi) /* the wrappers after the preload: its API serves them */
        snprintf(pre, sizeof pre, "%s:%s%s%s", preload, o->mpi_lib, old && *old ? ":" : "",
                 old ? old : "");
    else
        snprintf(pre, sizeof pre, "%s%s%s", preload, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", pre, 1);
    setenv("DASF_TRACE_FILE", path, 1);
    set_num("DASF_RECORD_OWNER", getpid());
    setenv("DASF_RECORD_PATTERN", o->pattern, 1);
    setenv("DASF_RECORD_SPLIT", o->split ? "1" : "0", 1);
    set_num("DASF_RECORD_START", (long long)start);
    if (manifest) setenv("DASF_RECORD_MANIFEST", manifest, 1);
    setenv("DASF_COMMIT_SIGNALS", o->signals ? o->signals : "default", 1);
    if (o->sig_timeout) setenv("DASF_SIGNAL_TIMEOUT", o->sig_timeout, 1);
    if (o->max_depth) set_num("DASF_RECORD_DEPTH", o->max_depth);
    if (o->min_ns) set_num("DASF_RECORD_MIN_NS", o->min_ns);
    if (o->no_functions) setenv("DASF_RECORD_FUNCTIONS", "0", 1);
    if (o->overflow) setenv("DASF_OVERFLOW", o->overflow, 1);
    if (o->ring) set_num("DASF_RING_CAPACITY", o->ring);
    /* Function tracing records tens of millions of events per second: wake
     * the flusher every 64 Ki records, not every 5000 (docs/RUNTIME.md); with
     * a larger ring, when it is half full (a burst that fits is written
     * after it, or at the 1 s background flush, not while it runs). */
    long long thresh = o->ring > (4LL << 20) ? o->ring / 64 : 65536;
    char tb[32];
    snprintf(tb, sizeof tb, "%lld", thresh);
    setenv("DASF_COMMIT_THRESHOLD", tb, 0);
    execvp(cmd[0], cmd);
    int e = errno;
    char msg[PATH_MAX + 64];
    snprintf(msg, sizeof msg, "cannot run %s: %s", cmd[0], strerror(e));
    report(fd, 'X', msg);
    _exit(e == ENOENT ? 127 : 126);
}

/* ---- the parent: forward signals, wait, summarise ------------------------------- */

/* The signals forwarded to CMD, plus SIGCHLD: blocked before the fork (the
 * child restores the old mask before exec) and taken with sigwaitinfo, so
 * no signal is lost between fork and wait and no async handler runs here. */
static void forward_set(sigset_t *s) {
    sigemptyset(s);
    int fwd[] = {SIGTERM, SIGHUP, SIGXCPU, SIGUSR1, SIGUSR2, SIGCHLD};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaddset(s, fwd[i]);
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
    for (int i = 0; i < n; i++) fprintf(stderr, "dasf-trace record: trace: %s\n", files[i]);
    fprintf(stderr,
            "dasf-trace record: %llu events, %zu threads, %zu processes%s%s\n",
            (unsigned long long)s.events, s.threads.len, s.procs.len,
            n > 1 ? " in " : "", n > 1 ? "these files" : "");
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
        for (int i = 0; i < n && !dup; i++) dup = !strcmp(v[i], line);
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

int dt_cmd_record(int argc, char **argv) {
    static const struct option opts[] = {
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
        {0},
    };
    rec_opts o;
    memset(&o, 0, sizeof o);
    o.pattern = NULL;
    /* '+': options end at CMD, so CMD's own options are left alone. */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:ho:q", opts, NULL)) != -1) {
        const char *opt = argv[optind - 1];
        if (c == 'h') {
            printf("%s", record_help);
            return dt_finish_stdout(DT_OK);
        }
        if (c == ':') return dt_usage("option '%s' needs a value", opt);
        if (c == '?') return dt_usage("unknown option '%s'", opt);
        int r = rec_option(&o, c, optarg);
        if (r == DT_USAGE) return r;
    }
    if (optind >= argc) return dt_usage("no command given (dasf-trace record [OPTIONS] -- CMD)");
    char **cmd = argv + optind;
    o.rank = -1;
    if (o.mpi) {
        o.rank = launcher_rank();
        if (o.rank < 0)
            return dt_usage("--mpi: no MPI rank in the environment; run it under the launcher: "
                            "mpirun -np N dasf-trace record --mpi -- CMD");
    }
    if (!o.pattern) o.pattern = o.mpi ? "dasf-mpi-%n-rank%r.msgpack.zst" : "dasf-%t-%p.msgpack.zst";

    char probe[PATH_MAX];
    dasf_path_vars pv = {1, NULL, (int64_t)time(NULL), o.rank};
    if (dasf_path_expand(probe, sizeof probe, o.pattern, &pv, 1) < 0)
        return dt_usage("-o %s: not a usable pattern (escapes: %%p %%h %%t %%n %%%%, and %%r "
                        "with --mpi)", o.pattern);
    if (o.split && !strstr(o.pattern, "%p") && !dasf_path_has_counter(o.pattern))
        return dt_usage("--split needs %%p or %%n in -o, so each process gets its own file");
    if (o.signals && !signals_valid(o.signals))
        return dt_usage("--signals %s: not a list of signal names like TERM,INT,HUP,XCPU",
                        o.signals);
    char preload[PATH_MAX];
    if (!find_preload(preload)) return DT_USAGE;
    if (o.mpi && !find_mpi_lib(preload, o.mpi_lib)) return DT_USAGE;

    char manifest[PATH_MAX] = "";
    if (o.split) {
        const char *tmp = getenv("TMPDIR");
        snprintf(manifest, sizeof manifest, "%s/dasf-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int mfd = mkstemp(manifest);
        if (mfd < 0) {
            dt_err("cannot create a temporary file in %s: %s", tmp && *tmp ? tmp : "/tmp",
                   strerror(errno));
            return DT_USAGE;
        }
        close(mfd);
    }
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
        child(pfd[1], &o, preload, manifest[0] ? manifest : NULL, start, cmd);
    }
    /* The terminal sends these to the whole process group, CMD included. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    close(pfd[1]);
    /* Messages from the child until exec closes the pipe: "P<path>", then
     * "E<why>" (no file, CMD not run) or "X<why>" (CMD could not run). */
    char buf[2 * PATH_MAX + 512], path[PATH_MAX] = "";
    size_t len = 0;
    ssize_t k;
    while ((k = read(pfd[0], buf + len, sizeof buf - 1 - len)) != 0) {
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        len += (size_t)k;
        if (len == sizeof buf - 1) break;
    }
    close(pfd[0]);
    buf[len] = 0;
    char fail_kind = 0;
    const char *fail_msg = NULL;
    for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
        if (buf[off] == 'P') snprintf(path, sizeof path, "%s", buf + off + 1);
        if (buf[off] == 'E' || buf[off] == 'X') {
            fail_kind = buf[off];
            fail_msg = buf + off + 1;
        }
    }
    int status = wait_forwarding(pid);
    if (fail_kind) {
        dt_err("%s", fail_msg);
        if (path[0]) unlink(path); /* claimed but CMD never ran: nothing to keep */
        if (manifest[0]) unlink(manifest);
        return fail_kind == 'E' ? DT_USAGE : exit_like(status);
    }
    if (!o.quiet && path[0]) {
        char **files = NULL;
        int n = collect_files(path, manifest[0] ? manifest : NULL, &files);
        summarise(files, n);
        for (int i = 0; i < n; i++) free(files[i]);
        free(files);
    }
    if (manifest[0]) unlink(manifest);
    fflush(stderr);
    return exit_like(status);
}
