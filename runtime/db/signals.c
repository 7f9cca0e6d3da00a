/*
 * signals.c — commit everything recorded before a terminating signal, then
 * let the signal do what it would have done without the library.
 *
 * Threads: dasf_sig_install / dasf_sig_app_sigaction run on app threads
 * (under g_lock); on_signal runs in whatever thread the kernel picks, as a
 * signal handler; the committer thread (one per process, every signal
 * blocked) does the actual commits.  See signals.h for the design.
 * A snapshot signal (dasf_snapshot_on_signal, the flight recorder) only
 * asks the committer (dasf_sig_request_async: no wait) and never runs the
 * signal's default action.  Names, lists and the environment: sigenv.c;
 * which threads are the library's (a crash on one does not commit):
 * common/libthread.c.
 * Invariants: the handler only does AS-safe things (atomics, futex and
 * tgkill syscalls, clock_gettime, getpid, sigaction, pthread_sigmask);
 * g_slot[sig].app always holds the disposition the program believes it
 * has, so chaining to it is exactly what would have happened without us.
 */
#include "signals.h"
#include "libthread.h"
#include "registry.h"

#include "rt.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NSIG_MAX DASF_NSIG_MAX

typedef struct sig_slot {
    int wanted;           /* in the set the user asked for */
    int managed;          /* our handler is the kernel's disposition */
    int crash;            /* that handler is on_crash (SEGV BUS ABRT FPE ILL), not on_signal */
    int snapshot;         /* dasf_snapshot_on_signal: ask for a snapshot, don't wait, don't end */
    struct sigaction app; /* what the program set (or had when we installed) */
} sig_slot;

static sig_slot g_slot[NSIG_MAX];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dasf_sigaction_fn g_real = sigaction;
static int64_t g_timeout_ns = DASF_SIG_DEFAULT_TIMEOUT_NS;
static uint32_t g_req, g_done; /* futex words: commit requests, answered requests */
static pid_t g_committer_pid;  /* the process whose committer thread runs */
static int g_atfork_done;
static int64_t g_crash_timeout_ns = DASF_CRASH_DEFAULT_TIMEOUT_NS;
static pid_t g_crash_tid; /* the thread whose crash runs crash_actions (0: none yet) */

void dasf_sig_set_real_sigaction(dasf_sigaction_fn fn) {
    if (fn) g_real = fn;
}

static void futex_wake_all(uint32_t *w) {
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- the committer thread ------------------------------------------------------ */

static void *committer_main(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    dasf_library_thread(1);
    uint32_t served = __atomic_load_n(&g_done, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t r = __atomic_load_n(&g_req, __ATOMIC_ACQUIRE);
        if (r == served) {
            syscall(SYS_futex, &g_req, FUTEX_WAIT_PRIVATE, r, NULL, NULL, 0);
            continue;
        }
        dasf_registry_commit_all();
        served = r;
        __atomic_store_n(&g_done, r, __ATOMIC_RELEASE);
        futex_wake_all(&g_done);
    }
    return NULL;
}

/* Caller holds g_lock. */
static int committer_start(void) {
    if (g_committer_pid == getpid()) return DASF_OK;
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* Created with every signal blocked, so no signal lands on it before
     * committer_main blocks them itself. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&t, &a, committer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (e) return DASF_ENOMEM;
    __atomic_store_n(&g_committer_pid, getpid(), __ATOMIC_RELEASE);
    return DASF_OK;
}

static void fork_prepare(void) {
    pthread_mutex_lock(&g_lock);
}
static void fork_parent(void) {
    pthread_mutex_unlock(&g_lock);
}
static void fork_child(void) {
    /* The parent's committer does not exist here: start the child's own, so
     * a signal to the child commits the child's events. */
    g_req = g_done = 0;
    g_crash_tid = 0;
    int had = g_committer_pid != 0;
    g_committer_pid = 0;
    if (had) committer_start();
    pthread_mutex_unlock(&g_lock);
}

/* ---- the handler ------------------------------------------------------------------ */

int dasf_sig_commit_bounded(int64_t timeout_ns) {
    if (__atomic_load_n(&g_committer_pid, __ATOMIC_ACQUIRE) != getpid())
        return DASF_SIG_NO_COMMITTER;
    uint32_t mine = __atomic_add_fetch(&g_req, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &g_req, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    int64_t deadline = mono_ns() + timeout_ns;
    for (;;) {
        uint32_t d = __atomic_load_n(&g_done, __ATOMIC_ACQUIRE);
        if ((int32_t)(d - mine) >= 0) return DASF_SIG_COMMITTED;
        int64_t left = deadline - mono_ns();
        if (left <= 0) return DASF_SIG_TIMED_OUT;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        syscall(SYS_futex, &g_done, FUTEX_WAIT_PRIVATE, d, &ts, NULL, 0);
    }
}

int dasf_sig_request_async(void) {
    if (__atomic_load_n(&g_committer_pid, __ATOMIC_ACQUIRE) != getpid())
        return DASF_SIG_NO_COMMITTER;
    __atomic_add_fetch(&g_req, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &g_req, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return DASF_SIG_COMMITTED;
}

static void on_signal(int sig, siginfo_t *si, void *uc);
static void on_crash(int sig, siginfo_t *si, void *uc);

static struct sigaction ours_for(int sig, const struct sigaction *app) {
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = g_slot[sig].crash ? on_crash : on_signal;
    /* The program's mask and flags, so its handler runs as the kernel
     * would have run it; SA_RESETHAND is emulated in dasf_sig_chain. */
    a.sa_mask = app->sa_mask;
    a.sa_flags = SA_SIGINFO | (app->sa_flags & (SA_RESTART | SA_ONSTACK | SA_NODEFER));
    if (app->sa_handler == SIG_DFL && !(app->sa_flags & SA_SIGINFO)) a.sa_flags |= SA_RESTART;
    return a;
}

/* SIG_DFL straight into the kernel (rt_sigaction; a default disposition
 * needs no restorer).  Not through sigaction(): a sanitizer runtime that
 * interposes it (TSan) keeps its own handler in the kernel and would
 * swallow the re-raised signal instead of letting it end the process. */
static void dfl_in_kernel(int sig) {
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } k = {NULL /* SIG_DFL */, 0, NULL, 0};
    if (syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask) != 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        g_real(sig, &dfl, NULL);
    }
}

void dasf_sig_chain(int sig, siginfo_t *si, void *uc) {
    struct sigaction a = g_slot[sig].app;
    int is_info = (a.sa_flags & SA_SIGINFO) != 0;
    if (!is_info && a.sa_handler == SIG_IGN) return;
    if (is_info || a.sa_handler != SIG_DFL) {
        if (a.sa_flags & SA_RESETHAND) { /* the kernel would have reset it first */
            memset(&g_slot[sig].app, 0, sizeof g_slot[sig].app);
            g_slot[sig].app.sa_handler = SIG_DFL;
        }
        if (is_info)
            a.sa_sigaction(sig, si, uc);
        else
            a.sa_handler(sig);
        return;
    }
    /* The default action: restore it, raise, unblock.  Term and Core end the
     * process right here with the status (and core) they always give. */
    dfl_in_kernel(sig);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    /* Unblocked in the kernel directly, for the same reason as above. */
    uint64_t m = UINT64_C(1) << (sig - 1);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, NULL, sizeof m);
    /* Still here: a default action of stop or ignore.  Catch it again. */
    struct sigaction ours = ours_for(sig, &g_slot[sig].app);
    g_real(sig, &ours, NULL);
}

static void on_signal(int sig, siginfo_t *si, void *uc) {
    int saved = errno;
    if (__atomic_load_n(&g_slot[sig].snapshot, __ATOMIC_ACQUIRE)) {
        /* A snapshot signal: the committer thread takes the snapshot while
         * the program goes on; only a handler of the program's own runs
         * (never the default action, which would end the process). */
        dasf_sig_request_async();
        const struct sigaction *a = &g_slot[sig].app;
        if ((a->sa_flags & SA_SIGINFO) || (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN))
            dasf_sig_chain(sig, si, uc);
    } else {
        dasf_sig_commit_bounded(__atomic_load_n(&g_timeout_ns, __ATOMIC_RELAXED));
        dasf_sig_chain(sig, si, uc);
    }
    errno = saved;
}

/* Everything the library does when the program crashes, in order — the
 * one place to add a crash action (each must be async-signal-safe and
 * bounded: no lock, no malloc, a deadline on every wait).  Runs once per
 * process, on the first crashing thread that is not one of the library's.
 * The shared-memory rings (docs/RUNTIME.md) cover whatever this cannot
 * write in time. */
static void crash_actions(int sig) {
    (void)sig;
    /* Commit: the committer thread drains every ring into its file; for a
     * flight recorder (DASF_OVERFLOW_OVERWRITE) it takes a snapshot instead
     * (dasf_registry_commit_all → dasf_flusher_snapshot, flush/flight.c):
     * the window is written as chunks marked "snapshot", with what was
     * overwritten. */
    dasf_sig_commit_bounded(__atomic_load_n(&g_crash_timeout_ns, __ATOMIC_RELAXED));
}

static void on_crash(int sig, siginfo_t *si, void *uc) {
    int saved = errno;
    pid_t me = (pid_t)syscall(SYS_gettid), none = 0;
    /* Not on the committer or a flusher (they are what a commit waits
     * for), and once: a second crash (another thread, or the program's
     * handler returning onto the same fault) goes straight on. */
    if (!dasf_is_library_thread(me) &&
        __atomic_compare_exchange_n(&g_crash_tid, &none, me, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED))
        crash_actions(sig);
    dasf_sig_chain(sig, si, uc);
    errno = saved;
}

/* ---- installing ------------------------------------------------------------------- */

int dasf_sig_valid(int sig) {
    return sig >= 1 && sig < NSIG_MAX && sig != SIGKILL && sig != SIGSTOP;
}
#define valid_sig dasf_sig_valid

/* Caller holds g_lock.  crash: the slot runs on_crash (a commit-on-signal
 * slot of the same signal is switched over: a crash signal is a crash).
 * snapshot: on_signal asks for a snapshot instead of committing (a commit
 * slot of the same signal is switched over too). */
static int install_locked(int sig, int crash, int snapshot) {
    if (snapshot) __atomic_store_n(&g_slot[sig].snapshot, 1, __ATOMIC_RELEASE);
    if (g_slot[sig].wanted) {
        if (crash && !g_slot[sig].crash) {
            g_slot[sig].crash = 1;
            if (g_slot[sig].managed) {
                struct sigaction ours = ours_for(sig, &g_slot[sig].app);
                if (g_real(sig, &ours, NULL) != 0) return DASF_EINVAL;
            }
        }
        if (snapshot && !g_slot[sig].managed) {
            /* A commit signal the process ignored: a snapshot is still wanted. */
            struct sigaction ours = ours_for(sig, &g_slot[sig].app);
            if (g_real(sig, &ours, NULL) != 0) return DASF_EINVAL;
            g_slot[sig].managed = 1;
        }
        return DASF_OK;
    }
    struct sigaction cur;
    if (g_real(sig, NULL, &cur) != 0) return DASF_EINVAL;
    g_slot[sig].app = cur;
    g_slot[sig].crash = crash;
    g_slot[sig].wanted = 1;
    /* An ignored signal stays ignored (nohup, a parent's SIG_IGN), unless
     * it is to take snapshots (asked for by name). */
    if (snapshot || (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_IGN) {
        struct sigaction ours = ours_for(sig, &cur);
        if (g_real(sig, &ours, NULL) != 0) return DASF_EINVAL;
        g_slot[sig].managed = 1;
    }
    return DASF_OK;
}

/* Caller holds g_lock. */
static int prepare_locked(void) {
    if (!g_atfork_done) {
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        g_atfork_done = 1;
    }
    return committer_start();
}

int dasf_sig_install(int sig, int64_t timeout_ns) {
    if (!valid_sig(sig) || timeout_ns < 0) return DASF_EINVAL;
    pthread_mutex_lock(&g_lock);
    int rc = prepare_locked();
    __atomic_store_n(&g_timeout_ns, timeout_ns, __ATOMIC_RELAXED);
    if (rc == DASF_OK) rc = install_locked(sig, 0, 0);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static const int k_crash_sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

int dasf_sig_install_crash(int64_t timeout_ns) {
    if (timeout_ns < 0) return DASF_EINVAL;
    pthread_mutex_lock(&g_lock);
    int rc = prepare_locked();
    __atomic_store_n(&g_crash_timeout_ns, timeout_ns, __ATOMIC_RELAXED);
    for (size_t i = 0; rc == DASF_OK && i < sizeof k_crash_sigs / sizeof *k_crash_sigs; i++)
        rc = install_locked(k_crash_sigs[i], 1, 0);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int dasf_commit_on_crash(double timeout) {
    if (!(timeout >= 0) || timeout > 86400) return DASF_EINVAL;
    return dasf_sig_install_crash((int64_t)(timeout * 1e9));
}

int dasf_snapshot_on_signal(int sig) {
    if (!valid_sig(sig)) return DASF_EINVAL;
    pthread_mutex_lock(&g_lock);
    int rc = prepare_locked();
    if (rc == DASF_OK) rc = install_locked(sig, 0, 1);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int dasf_sig_managed(int sig) {
    return sig >= 1 && sig < NSIG_MAX && __atomic_load_n(&g_slot[sig].managed, __ATOMIC_RELAXED);
}

int dasf_sig_app_sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (sig < 1 || sig >= NSIG_MAX || !__atomic_load_n(&g_slot[sig].wanted, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(&g_lock);
    struct sigaction prev = g_slot[sig].app;
    int rc = 1;
    if (act) {
        /* A snapshot signal stays ours even when the program ignores it. */
        int ign = !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_IGN &&
                  !g_slot[sig].snapshot;
        /* Keep this thread from running the handler on a half-updated slot. */
        sigset_t m, oldm;
        sigemptyset(&m);
        sigaddset(&m, sig);
        pthread_sigmask(SIG_BLOCK, &m, &oldm);
        g_slot[sig].app = *act;
        struct sigaction k = ign ? *act : ours_for(sig, act);
        if (g_real(sig, &k, NULL) != 0) {
            g_slot[sig].app = prev;
            rc = -1;
        } else {
            g_slot[sig].managed = !ign;
        }
        pthread_sigmask(SIG_SETMASK, &oldm, NULL);
    }
    pthread_mutex_unlock(&g_lock);
    if (rc == 1 && old) *old = prev;
    return rc;
}

int dasf_commit_on_signals(const int *signals, size_t n, double timeout) {
    if ((n && !signals) || !(timeout >= 0) || timeout > 86400) return DASF_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!valid_sig(signals[i])) return DASF_EINVAL;
    int64_t ns = (int64_t)(timeout * 1e9);
    for (size_t i = 0; i < n; i++) {
        int rc = dasf_sig_install(signals[i], ns);
        if (rc) return rc;
    }
    return DASF_OK;
}
