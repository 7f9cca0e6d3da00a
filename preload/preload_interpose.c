/*
 * preload_interpose.c — the C library calls libdasf-preload.so interposes,
 * because they change what the trace records: sigaction/signal (the program
 * keeps its handlers; signals.c chains to them), pthread_setname_np and
 * prctl(PR_SET_NAME) (thread names), dlopen (modules), _exit/_Exit and
 * exec* (commit first: the new image starts from scratch), each then
 * calling the next definition (RTLD_NEXT).
 *
 * Threads: any program thread, possibly before the constructors have run
 * (g_prof still NULL: pass straight through), in signal handlers (sigaction,
 * signal, _exit) and in fork/vfork children (before_exit/before_exec check
 * the pid the hooks were set up for).  Invariant: each returns exactly what
 * the real call returns.
 */
#include "preload_int.h"

/* The next definition of an interposed function, looked up once (any
 * thread may be first: an atomic slot, the lookup is idempotent). */
static void *real_fn(void **slot, const char *name) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}
#define REAL(name, type) ((type)real_fn(&real_slot, name))

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    int r = dasf_sig_app_sigaction(sig, act, old);
    if (r == 1) return 0;
    if (r < 0) return -1;
    static void *real_slot;
    dasf_sigaction_fn real = REAL("sigaction", dasf_sigaction_fn);
    return real(sig, act, old);
}

static sighandler_t signal_common(int sig, sighandler_t h, int flags) {
    struct sigaction a, old;
    memset(&a, 0, sizeof a);
    a.sa_handler = h;
    a.sa_flags = flags;
    sigemptyset(&a.sa_mask);
    if (sigaction(sig, &a, &old) != 0) return SIG_ERR;
    return old.sa_handler;
}

/* signal() in glibc is BSD semantics: SA_RESTART, handler not reset. */
EXPORT sighandler_t signal(int sig, sighandler_t h) {
    return signal_common(sig, h, SA_RESTART);
}
sighandler_t bsd_signal(int sig, sighandler_t h);
EXPORT sighandler_t bsd_signal(int sig, sighandler_t h) {
    return signal_common(sig, h, SA_RESTART);
}
EXPORT sighandler_t sysv_signal(int sig, sighandler_t h) {
    return signal_common(sig, h, SA_RESETHAND | SA_NODEFER);
}

/* Finds the tid of a thread just named `name` by another thread (glibc has
 * no pthread_t → tid call): the one task whose comm is that name. */
static int64_t tid_by_comm(const char *name) {
    char want[16], path[300], comm[32];
    snprintf(want, sizeof want, "%s", name);
    int64_t found = 0;
    DIR *d = opendir("/proc/self/task"); /* one directory per thread */
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        int cf = open(path, O_RDONLY | O_CLOEXEC);
        if (cf < 0) continue;
        ssize_t k = read(cf, comm, sizeof comm - 1);
        close(cf);
        if (k <= 0) continue;
        comm[k] = 0;
        comm[strcspn(comm, "\n")] = 0;
        if (strcmp(comm, want)) continue;
        if (found) { /* two threads of that name: cannot tell which */
            found = 0;
            break;
        }
        found = strtoll(de->d_name, NULL, 10);
    }
    closedir(d);
    return found;
}

EXPORT int pthread_setname_np(pthread_t th, const char *name) {
    static void *real_slot;
    int (*real)(pthread_t, const char *) = REAL("pthread_setname_np", int (*)(pthread_t, const char *));
    int r = real(th, name);
    if (r == 0 && g_prof) {
        if (pthread_equal(th, pthread_self())) {
            record_thread_name(0, name);
        } else {
            int64_t tid = tid_by_comm(name);
            if (tid) record_thread_name(tid, name);
        }
    }
    return r;
}

int prctl(int option, ...);
EXPORT int prctl(int option, ...) {
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    static void *real_slot;
    int (*real)(int, ...) = REAL("prctl", int (*)(int, ...));
    int r = real(option, a2, a3, a4, a5);
    if (r == 0 && option == PR_SET_NAME_ && g_prof && a2) {
        char name[16];
        snprintf(name, sizeof name, "%s", (const char *)a2); /* the kernel keeps 15 bytes */
        record_thread_name(0, name);
    }
    return r;
}

EXPORT void *dlopen(const char *file, int mode) {
    static void *real_slot;
    void *(*real)(const char *, int) = REAL("dlopen", void *(*)(const char *, int));
    void *h = real(file, mode);
    if (h) record_modules();
    return h;
}

/* exec replaces the image: what was recorded must be in the file first.
 * The new image's preload appends to the same file (same pid). */
static void before_exec(void) {
    if (g_prof && getpid() == g_pid) {
        close_open_frames();
        dasf_profiler_commit(g_prof);
    }
}

/* _exit skips atexit (dash's `exit` builtin, fork children): commit first.
 * Not in a vfork child (its pid is not the one that set the hooks up): it
 * shares the parent's memory and must not start threads. */
static void before_exit(void) {
    if (g_prof && getpid() == g_pid) {
        close_open_frames();
        dasf_profiler_commit(g_prof);
    }
}

EXPORT void _exit(int status) {
    static void *real_slot;
    void (*real)(int) = REAL("_exit", void (*)(int));
    before_exit();
    real(status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status) {
    static void *real_slot;
    void (*real)(int) = REAL("_Exit", void (*)(int));
    before_exit();
    real(status);
    __builtin_unreachable();
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    static void *real_slot;
    execve_fn real = REAL("execve", execve_fn);
    before_exec();
    return real(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[]) {
    static void *real_slot;
    int (*real)(const char *, char *const[]) = REAL("execv", int (*)(const char *, char *const[]));
    before_exec();
    return real(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[]) {
    static void *real_slot;
    int (*real)(const char *, char *const[]) = REAL("execvp", int (*)(const char *, char *const[]));
    before_exec();
    return real(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    static void *real_slot;
    execve_fn real = REAL("execvpe", execve_fn);
    before_exec();
    return real(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    static void *real_slot;
    int (*real)(int, char *const[], char *const[]) = REAL("fexecve", int (*)(int, char *const[], char *const[]));
    before_exec();
    return real(fd, argv, envp);
}

/* execl* collect their arguments into an argv, then exec as above. */
#define COLLECT_ARGS(first, ap, argv, envp_out)                                               \
    do {                                                                                      \
        size_t n_ = 1;                                                                        \
        va_list c_;                                                                           \
        va_copy(c_, ap);                                                                      \
        while (va_arg(c_, char *)) n_++;                                                      \
        va_end(c_);                                                                           \
        argv = alloca((n_ + 1) * sizeof(char *));                                             \
        argv[0] = (char *)(first);                                                            \
        for (size_t i_ = 1; i_ <= n_; i_++) argv[i_] = va_arg(ap, char *);                    \
        char ***e_ = (envp_out);                                                              \
        if (e_) *e_ = va_arg(ap, char **);                                                    \
    } while (0)

EXPORT int execl(const char *path, const char *arg, ...) {
    char **argv;
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, (char ***)NULL);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...) {
    char **argv;
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, (char ***)NULL);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...) {
    char **argv, **envp = NULL;
    va_list ap;
    va_start(ap, arg);
    COLLECT_ARGS(arg, ap, argv, &envp);
    va_end(ap);
    return execve(path, argv, envp);
}
