/*
 * libthread.c — naming the library's threads and the set of them a crash
 * handler skips (interface: libthread.h).
 *
 * Threads: dasf_thread_name and dasf_library_thread run on the library
 * thread itself; dasf_is_library_thread in a signal handler on any thread
 * (db/signals.c on_crash).
 * Invariants: a slot holds a tid or 0 (taken and given back with CAS,
 * read with acquire loads only, so the handler is AS-safe) and the process
 * it belongs to: a fork child does not have its parent's threads, and a
 * child's thread with a recycled tid is not mistaken for one of them.
 */
#include "libthread.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t g_lib_tid[DASF_LIB_THREADS], g_lib_pid[DASF_LIB_THREADS];

void dasf_thread_name(const char *name) {
    /* The raw system call, not pthread_setname_np or prctl(): under
     * `dasf-trace record` the preload wraps those to record the name, and
     * this thread must never record into its own database (it would wait
     * on reg_lock, which fork_prepare holds while it waits for us). */
    syscall(SYS_prctl, PR_SET_NAME, name, 0, 0, 0);
}

void dasf_library_thread(int starting) {
    pid_t me = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < DASF_LIB_THREADS; i++) {
        pid_t want = starting ? 0 : me;
        if (__atomic_compare_exchange_n(&g_lib_tid[i], &want, starting ? me : 0, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_store_n(&g_lib_pid[i], starting ? getpid() : 0, __ATOMIC_RELEASE);
            return;
        }
    }
    /* All slots taken: a crash on this thread waits its timeout, no more. */
}

int dasf_is_library_thread(pid_t tid) {
    pid_t pid = getpid();
    for (int i = 0; i < DASF_LIB_THREADS; i++)
        if (__atomic_load_n(&g_lib_tid[i], __ATOMIC_ACQUIRE) == tid &&
            __atomic_load_n(&g_lib_pid[i], __ATOMIC_ACQUIRE) == pid)
            return 1;
    return 0;
}
