/*
 * preload.c — libdasf-preload.so: trace a program without changing it
 * (LD_PRELOAD, set up by `dasf-trace record`; docs/RECORD.md).
 *
 * At load (a constructor, before the program's own): picks the output file
 * (the record protocol below), opens the process-wide default profiler,
 * records the process (argv, ppid, exe) and its loaded modules (path,
 * build-id, load address), hooks each thread's first record to record its
 * name, and catches the commit signals.  It then interposes what changes
 * those facts: pthread_setname_np/prctl(PR_SET_NAME) (thread names), dlopen
 * (modules), fork (a child's own file), exec* (commit first: the new image
 * starts from scratch), sigaction/signal (the program keeps its handlers;
 * signals.c chains to them).  __cyg_profile_func_enter/exit (programs built
 * with -finstrument-functions) record one X event per call, named by the
 * function's address ("0x55d0c0de1234"); dasf-trace turns addresses into
 * names at read time.  Nothing here touches symbols.
 *
 * Threads: the constructor, atfork and exec wrappers run on app threads;
 * the function hooks run on every instrumented thread and are the hot path:
 * a TLS shadow-stack push at entry; at exit one TLS address→name cache
 * probe and one 32-byte ring record (ring.h), no lock, no syscall.
 *
 * Record protocol (environment, set by dasf-trace record):
 *   DASF_TRACE_FILE      the file of the process DASF_RECORD_OWNER names
 *   DASF_RECORD_OWNER    that process's pid
 *   DASF_RECORD_PATTERN  -o PATTERN; with DASF_RECORD_SPLIT=1 every other
 *                        process claims its own file from it (else children
 *                        append to DASF_TRACE_FILE)
 *   DASF_RECORD_MANIFEST a file each claiming process appends "path\n" to
 *   DASF_RECORD_DEPTH    deepest call depth recorded (default 512, max 512)
 *   DASF_RECORD_MIN_NS   calls shorter than this are not recorded
 *   DASF_RECORD_FUNCTIONS=0  ignore the function hooks
 *
 * This file: the globals, choosing the file (the protocol above) and the
 * setup (the constructor, the fork child).  The rest of the library:
 * preload_hooks.c (function hooks), preload_facts.c (process, thread and
 * module facts), preload_interpose.c (interposed C library calls);
 * preload_int.h declares what they share.
 */
#include "preload_int.h"

dasf_profiler *g_prof;
dasf_filedb *g_fdb; /* the function hooks' database (NULL: hooks off) */
uint32_t g_max_depth;
uint64_t g_min_ticks;
int64_t g_image_ns; /* when this program image started (module tables key) */
pid_t g_pid;        /* the process the hooks were set up for (fork child: its own) */

/* ---- choosing the file -------------------------------------------------------- */

static int env_is(const char *var, const char *val) {
    const char *s = getenv(var);
    return s && !strcmp(s, val);
}

static void set_owner_env(const char *path) {
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)getpid());
    setenv("DASF_TRACE_FILE", path, 1);
    setenv("DASF_RECORD_OWNER", pid, 1);
}

static void manifest_add(const char *path) {
    const char *m = getenv("DASF_RECORD_MANIFEST");
    if (!m || !*m) return;
    int fd = open(m, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return;
    char line[PATH_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", path);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0) {
        /* the summary will miss this file; the trace itself is fine */
    }
    close(fd);
}

/* In split mode, a process that is not the owner of DASF_TRACE_FILE claims
 * its own file from the pattern.  @return 0, or -1 after a message (tracing
 * off for this process: never a silently shared or lost file). */
static int claim_own_file(char *out, size_t n) {
    const char *pattern = getenv("DASF_RECORD_PATTERN");
    if (!env_is("DASF_RECORD_SPLIT", "1") || !pattern) return 1;
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)getpid());
    if (env_is("DASF_RECORD_OWNER", pid)) return 1; /* exec'd in place: same file */
    const char *t = getenv("DASF_RECORD_START");
    dasf_path_vars v = {getpid(), NULL, t ? strtoll(t, NULL, 10) : (int64_t)time(NULL), -1};
    int rc = dasf_path_claim(out, n, pattern, &v, 0);
    if (rc) {
        fprintf(stderr, "dasf-preload: pid %lld: cannot create a trace file from '%s': %s; "
                        "this process is not traced\n",
                (long long)getpid(), pattern, rc == DASF_EIO ? strerror(errno) : dasf_strerror(rc));
        return -1;
    }
    set_owner_env(out);
    manifest_add(out);
    return 0;
}

/* ---- setup ----------------------------------------------------------------------- */

static void hooks_config(void) {
    const char *d = getenv("DASF_RECORD_DEPTH");
    long depth = d && *d ? strtol(d, NULL, 10) : (long)STACK_MAX;
    if (depth < 0) depth = 0;
    if (depth > (long)STACK_MAX) depth = STACK_MAX;
    const char *m = getenv("DASF_RECORD_MIN_NS");
    long long min_ns = m && *m ? strtoll(m, NULL, 10) : 0;
    if (min_ns > 0) {
        /* ticks per ns from the runtime's conversion of a large difference */
        double ns_per_2p30 =
            (double)dasf_clock_span_to_ns(dasf_ticks_inline(), UINT64_C(1) << 30);
        g_min_ticks = ns_per_2p30 > 0 ? (uint64_t)((double)min_ns * (double)(1u << 30) /
                                                    ns_per_2p30)
                                      : 0;
    }
    if (env_is("DASF_RECORD_FUNCTIONS", "0")) depth = 0;
    g_max_depth = (uint32_t)depth;
}

static void fork_child(void) {
    /* The runtime's own fork handler (registered earlier, so run first)
     * gave the child a clean database: no rings, no flusher. */
    if (!g_prof) return;
    g_pid = getpid();
    char path[PATH_MAX];
    int rc = claim_own_file(path, sizeof path);
    if (rc < 0) {
        g_fdb = NULL;
        g_prof = NULL;
        return;
    }
    if (rc == 0 && dasf_profiler_retarget(g_prof, path) != DASF_OK) {
        g_fdb = NULL;
        g_prof = NULL;
        return;
    }
    /* The child is a new process of the same image: its own facts. */
    forget_modules();
    pthread_mutex_init(&g_mod_lock, NULL);
    record_process();
    record_modules();
    char name[32];
    self_comm(name);
    if (name[0]) record_thread_name(0, name);
}

__attribute__((constructor)) static void preload_init(void) {
    dasf_sig_set_real_sigaction((dasf_sigaction_fn)dlsym(RTLD_NEXT, "sigaction"));
    char path[PATH_MAX];
    if (claim_own_file(path, sizeof path) < 0) return;
    const char *file = getenv("DASF_TRACE_FILE");
    if (!file || !*file) return; /* not under record and not asked: stay out of the way */
    g_image_ns = dasf_now_ns();
    __atomic_store_n(&dasf_on_first_record, on_first_record, __ATOMIC_RELEASE);
    dasf_profiler *p = dasf_default_profiler();
    if (!p) return; /* the runtime said why on stderr */
    g_prof = p;
    g_pid = getpid();
    g_fdb = dasf_profiler_filedb(p);
    record_process();
    record_modules();
    hooks_config();
    atexit(close_open_frames); /* runs before the default profiler's commit */
    pthread_atfork(NULL, NULL, fork_child);
}
