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
 */
#include "hooks.h"
#include "clock.h"
#include "ring.h"
#include "signals.h"

#include <alloca.h>
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NOINSTR __attribute__((no_instrument_function))
#define EXPORT __attribute__((visibility("default")))

/* Declared here, not from <sys/prctl.h>, whose prototype we define. */
#define PR_SET_NAME_ 15

static dasf_profiler *g_prof;
static dasf_filedb *g_fdb; /* the function hooks' database (NULL: hooks off) */
static uint32_t g_max_depth;
static uint64_t g_min_ticks;
static int64_t g_image_ns; /* when this program image started (module tables key) */
static pid_t g_pid;        /* the process the hooks were set up for (fork child: its own) */

/* ---- the function hooks ---------------------------------------------------------- */

#define STACK_MAX 512u
#define CACHE_SLOTS 1024u

typedef struct frame {
    void *fn;
    uint64_t t0;
} frame;

typedef struct name_slot {
    uintptr_t fn;
    dasf_name h;
} name_slot;

typedef struct cyg_tls {
    uint32_t depth;
    frame st[STACK_MAX];
    name_slot cache[CACHE_SLOTS];
} cyg_tls;

static __thread cyg_tls t_cyg __attribute__((tls_model("initial-exec")));

/* Process-wide address → interned "0x..." name (the cache's backing). */
static pthread_mutex_t g_names_lock = PTHREAD_MUTEX_INITIALIZER;
static name_slot *g_names;
static size_t g_names_cap, g_names_len;

static size_t addr_hash(uintptr_t a) {
    return (size_t)((a >> 4) ^ (a >> 14) ^ (a >> 24));
}

static NOINSTR dasf_name name_lookup_slow(uintptr_t fn) {
    pthread_mutex_lock(&g_names_lock);
    dasf_name h = 0;
    if (g_names_len * 2 >= g_names_cap) { /* grow (and rehash) */
        size_t cap = g_names_cap ? g_names_cap * 2 : 4096;
        name_slot *n = calloc(cap, sizeof *n);
        if (!n) goto out;
        for (size_t i = 0; i < g_names_cap; i++) {
            if (!g_names[i].fn) continue;
            size_t j = addr_hash(g_names[i].fn) & (cap - 1);
            while (n[j].fn) j = (j + 1) & (cap - 1);
            n[j] = g_names[i];
        }
        free(g_names);
        g_names = n;
        g_names_cap = cap;
    }
    size_t j = addr_hash(fn) & (g_names_cap - 1);
    while (g_names[j].fn && g_names[j].fn != fn) j = (j + 1) & (g_names_cap - 1);
    if (!g_names[j].fn) {
        char b[32];
        snprintf(b, sizeof b, "0x%lx", (unsigned long)fn);
        g_names[j].h = dasf_intern(b);
        if (!g_names[j].h) goto out;
        g_names[j].fn = fn;
        g_names_len++;
    }
    h = g_names[j].h;
out:
    pthread_mutex_unlock(&g_names_lock);
    return h;
}

static inline NOINSTR dasf_name name_of(cyg_tls *t, void *fn) {
    uintptr_t a = (uintptr_t)fn;
    name_slot *s = &t->cache[addr_hash(a) & (CACHE_SLOTS - 1)];
    if (DASF_LIKELY(s->fn == a)) return s->h;
    dasf_name h = name_lookup_slow(a);
    if (h) {
        s->fn = a;
        s->h = h;
    }
    return h;
}

void __cyg_profile_func_enter(void *fn, void *site);
void __cyg_profile_func_exit(void *fn, void *site);

EXPORT NOINSTR void __cyg_profile_func_enter(void *fn, void *site) {
    (void)site;
    cyg_tls *t = &t_cyg;
    uint32_t d = t->depth++;
    if (DASF_LIKELY(d < g_max_depth)) {
        t->st[d].fn = fn;
        t->st[d].t0 = dasf_ticks_inline();
    }
}

EXPORT NOINSTR void __cyg_profile_func_exit(void *fn, void *site) {
    (void)site;
    cyg_tls *t = &t_cyg;
    uint32_t d = t->depth;
    if (DASF_UNLIKELY(d == 0)) return; /* entered before the hooks were on */
    t->depth = --d;
    if (d >= g_max_depth) return;
    uint64_t t1 = dasf_ticks_inline();
    frame *f = &t->st[d];
    if (DASF_UNLIKELY(f->fn != fn)) {
        /* A longjmp skipped exits: find the frame this exit closes. */
        uint32_t k = d;
        while (k > 0 && t->st[k].fn != fn) k--;
        if (t->st[k].fn != fn) return;
        t->depth = d = k;
        f = &t->st[k];
    }
    uint64_t dur = t1 - f->t0;
    if (dur < g_min_ticks) return;
    dasf_filedb *db = g_fdb;
    if (DASF_UNLIKELY(!db)) return;
    dasf_name h = name_of(t, fn);
    if (DASF_UNLIKELY(!h)) return;
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    dasf_ring_push_plain(db, key, dasf_rec_word(h, DASF_PHASE_COMPLETE, DASF_TS_TICKS, 0), f->t0,
                         dur);
}

/* At exit: the calls still open on the exiting thread (exit() called below
 * main, or main itself when exit runs from it) end now. */
static NOINSTR void close_open_frames(void) {
    cyg_tls *t = &t_cyg;
    dasf_filedb *db = g_fdb;
    if (!db) return;
    uint64_t now = dasf_ticks_inline();
    uint32_t top = t->depth < g_max_depth ? t->depth : g_max_depth;
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    for (uint32_t d = top; d-- > 0;) {
        frame *f = &t->st[d];
        dasf_name h = name_of(t, f->fn);
        if (h && now - f->t0 >= g_min_ticks)
            dasf_ring_push_plain(db, key, dasf_rec_word(h, DASF_PHASE_COMPLETE, DASF_TS_TICKS, 0),
                                 f->t0, now - f->t0);
    }
    t->depth = 0;
}

/* ---- process, thread and module facts ------------------------------------------- */

static int record_meta(const char *name, int64_t tid, const dasf_arg *args, size_t n) {
    if (!g_prof) return 0;
    dasf_event ev;
    memset(&ev, 0, sizeof ev);
    ev.name = name;
    ev.timestamp = dasf_now();
    ev.phase = DASF_PHASE_METADATA;
    if (tid) ev.thread_id = dasf_id_int(tid);
    ev.args = args;
    ev.n_args = n;
    return dasf_profiler_record(g_prof, &ev);
}

static void record_thread_name(int64_t tid, const char *name) {
    dasf_arg a = DASF_ARG_STR("name", name);
    record_meta("thread_name", tid, &a, 1);
}

static int64_t gettid_(void) {
    return (int64_t)syscall(SYS_gettid);
}

/* This thread's name as the kernel has it (comm). */
static void self_comm(char out[32]) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%lld/comm", (long long)gettid_());
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, out, 31);
    close(fd);
    if (n <= 0) return;
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
}

static void on_first_record(dasf_filedb *db) {
    if (!g_prof || db != g_fdb) return;
    char name[32];
    self_comm(name);
    if (name[0]) record_thread_name(0, name);
}

/* argv as one line (NULs become spaces), at most n - 1 bytes. */
static void read_cmdline(char *out, size_t n) {
    out[0] = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t k = read(fd, out, n - 1);
    close(fd);
    if (k <= 0) return;
    while (k > 0 && out[k - 1] == 0) k--;
    for (ssize_t i = 0; i < k; i++)
        if (out[i] == 0) out[i] = ' ';
    out[k] = 0;
}

static void record_process(void) {
    char cmd[1024], exe[PATH_MAX];
    read_cmdline(cmd, sizeof cmd);
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    dasf_record_process_name(g_prof, cmd[0] ? cmd : exe);
    dasf_arg a[4] = {DASF_ARG_I64("ppid", getppid()), DASF_ARG_STR("argv", cmd),
                     DASF_ARG_STR("exe", exe), DASF_ARG_I64("image", g_image_ns)};
    record_meta("dasf.process", 0, a, 4);
}

/* Modules already reported by this process image (load address + name). */
typedef struct seen_mod {
    uintptr_t base;
    char *path;
} seen_mod;
static seen_mod *g_seen;
static size_t g_seen_n, g_seen_cap;
static pthread_mutex_t g_mod_lock = PTHREAD_MUTEX_INITIALIZER;

static void build_id_hex(const struct dl_phdr_info *info, char *out, size_t n) {
    out[0] = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t nsz = (nh->n_namesz + 3) & ~(size_t)3, dsz = (nh->n_descsz + 3) & ~(size_t)3;
            const uint8_t *name = p + sizeof *nh, *desc = name + nsz;
            if (desc + nh->n_descsz > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                size_t k = 0;
                for (size_t j = 0; j < nh->n_descsz && k + 3 <= n; j++, k += 2)
                    snprintf(out + k, 3, "%02x", desc[j]);
                return;
            }
            p = desc + dsz;
        }
    }
}

static int seen_before(uintptr_t base, const char *path) {
    for (size_t i = 0; i < g_seen_n; i++)
        if (g_seen[i].base == base && !strcmp(g_seen[i].path, path)) return 1;
    if (g_seen_n == g_seen_cap) {
        size_t cap = g_seen_cap ? g_seen_cap * 2 : 64;
        seen_mod *v = realloc(g_seen, cap * sizeof *v);
        if (!v) return 1;
        g_seen = v;
        g_seen_cap = cap;
    }
    char *copy = strdup(path);
    if (!copy) return 1;
    g_seen[g_seen_n].base = base;
    g_seen[g_seen_n].path = copy;
    g_seen_n++;
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    (void)arg;
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path || !*path) { /* the main program */
        if (info->dlpi_addr == 0 && info->dlpi_phnum == 0) return 0;
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) return 0;
        exe[k] = 0;
        path = exe;
    }
    char abs[PATH_MAX];
    if (path[0] != '/') {
        /* dlopen("dir/lib.so") keeps the name as given (relative to the
         * working directory); linux-vdso.so.1 has no file at all. */
        if (!strchr(path, '/') || !realpath(path, abs)) return 0;
        path = abs;
    }
    if (seen_before((uintptr_t)info->dlpi_addr, path)) return 0;
    char bid[130];
    build_id_hex(info, bid, sizeof bid);
    dasf_arg a[4] = {DASF_ARG_STR("path", path), DASF_ARG_STR("build_id", bid),
                     DASF_ARG_U64("base", (uint64_t)info->dlpi_addr),
                     DASF_ARG_I64("image", g_image_ns)};
    record_meta("dasf.module", 0, a, 4);
    return 0;
}

static void record_modules(void) {
    if (!g_prof) return;
    pthread_mutex_lock(&g_mod_lock);
    dl_iterate_phdr(module_cb, NULL);
    pthread_mutex_unlock(&g_mod_lock);
}

static void forget_modules(void) {
    for (size_t i = 0; i < g_seen_n; i++) free(g_seen[i].path);
    g_seen_n = 0;
}

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

/* ---- interposed C library calls -------------------------------------------------- */

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
