/*
 * record_child.c — finding the preload, and the forked child of `record`
 * (record_child.h).  The child runs between fork and exec: it only claims
 * the file, sets variables and execs (no stdio of the parent's is flushed
 * twice: the parent flushes before the fork).
 */
#include "record_child.h"

#include "messages.h"
#include "numbers.h"

#include "dasf/profiler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DASF_PRELOAD_NAME
#define DASF_PRELOAD_NAME "libdasf-preload.so"
#endif

static bool usable(const char *p, char *out) {
    return access(p, R_OK) == 0 && realpath(p, out) != NULL;
}

/* The library the environment variable var names, when it is set: 1 and
 * out, or -1 (said on stderr); 0 when var is unset or empty. */
static int from_env(const char *var, char *out) {
    const char *env = getenv(var);
    if (!env || !*env) return 0;
    if (usable(env, out)) return 1;
    dt_err("%s=%s: %s", var, env, strerror(errno));
    return -1;
}

bool dt_record_find_preload(char out[PATH_MAX]) {
    int got = from_env("DASF_PRELOAD", out);
    if (got) return got > 0;
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
bool dt_record_find_mpi_lib(const char *preload, char out[PATH_MAX]) {
    int got = from_env("DASF_MPI_PRELOAD", out);
    if (got) return got > 0;
    char dir[PATH_MAX], cand[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", preload);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(cand, sizeof cand, "%s/libdasf-profiler-mpi.so", dir);
    if (usable(cand, out)) return true;
    snprintf(cand, sizeof cand, "%s/mpi/libdasf-profiler-mpi.so", dir);
    if (usable(cand, out)) return true;
    dt_err("--mpi: cannot find libdasf-profiler-mpi.so beside %s (built when CMake finds MPI; "
           "or set DASF_MPI_PRELOAD to its path)",
           preload);
    return false;
}

/* The rank the MPI launcher gave this process (Open MPI, PMIx, MPICH/Hydra,
 * Slurm), or -1. */
int64_t dt_record_launcher_rank(void) {
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

_Noreturn void dt_record_child(int fd, const rec_opts *o, const char *preload, const char *manifest,
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
    setenv("DASF_CRASH_HANDLER", o->no_crash ? "0" : "1", 1);
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
