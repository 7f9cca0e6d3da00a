/*
 * futex.c — futex wait/wake and the flusher's wake-up (interface: futex.h).
 *
 * Any thread: app threads (a ring crossing commit_threshold, a full ring),
 * the flusher, the compression workers, commit and close.
 * Invariants: a wake-up is a bump of the word before the wake (release),
 * so a sleeper that loaded the old value either sees the new one in
 * FUTEX_WAIT (no sleep) or is woken; every caller's sleep has a timeout
 * and re-checks its condition after it, so a spurious wake-up costs a
 * loop, never an event.
 */
#include "futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void dasf_futex_wake(uint32_t *addr, int n) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void dasf_futex_wait(uint32_t *addr, uint32_t val, double timeout_s) {
    struct timespec ts;
    ts.tv_sec = (time_t)timeout_s;
    ts.tv_nsec = (long)((timeout_s - (double)ts.tv_sec) * 1e9);
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

void dasf_flusher_wake(dasf_filedb *db) {
    __atomic_add_fetch(&db->wake_seq, 1, __ATOMIC_RELEASE);
    dasf_futex_wake(&db->wake_seq, 1);
}
