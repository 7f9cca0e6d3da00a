/*
 * futex.h — the two futex words of a FileDatabase and how threads sleep on
 * and wake each other through them (futex.c; not installed).
 *
 * db->wake_seq: the flusher sleeps on it; producers (ring.c), commit,
 * close and the compression workers bump it (dasf_flusher_wake).
 * db->drain_seq: producers blocked on a full ring (BLOCK) sleep on it; the
 * drain and the workers bump it once ring space is released.
 * Any thread.  A leaf under every stage that sleeps or wakes, so the
 * rings, the drain and the workers wake the flusher without including
 * flush/flusher.h (the include DAG: docs/RUNTIME.md).
 */
#ifndef DASF_FUTEX_H
#define DASF_FUTEX_H

#include "rt.h"

/* ---- futex.c ------------------------------------------------------------- */
/* FUTEX_WAKE_PRIVATE of up to n waiters on addr. */
DASF_HIDDEN void dasf_futex_wake(uint32_t *addr, int n);
/* FUTEX_WAIT_PRIVATE while *addr == val, at most timeout_s seconds (or
 * until woken, or a signal: callers re-check their condition). */
DASF_HIDDEN void dasf_futex_wait(uint32_t *addr, uint32_t val, double timeout_s);
/* Wakes db's flusher: bumps db->wake_seq (release) and wakes its sleep. */
DASF_HIDDEN void dasf_flusher_wake(dasf_filedb *db);

#endif
