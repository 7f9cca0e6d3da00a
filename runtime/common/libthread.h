/*
 * libthread.h — the library's own threads: their names, and the set a
 * crash handler tells apart from the program's (libthread.c; not
 * installed).
 *
 * Called by the threads themselves (the flusher, signals.c's committer,
 * the compression workers for the name) and, async-signal-safely, by the
 * crash handler (db/signals.c).  A leaf: the flusher announces itself
 * without including db/signals.h (the include DAG: docs/RUNTIME.md).
 */
#ifndef DASF_LIBTHREAD_H
#define DASF_LIBTHREAD_H

#include "internal.h"

#include <sys/types.h>

#define DASF_LIB_THREADS 64 /* library threads a crash can tell apart */

/* ---- libthread.c --------------------------------------------------------- */
/* Names the calling library thread (top, perf, the bench) without going
 * through anything a preload wraps. */
DASF_HIDDEN void dasf_thread_name(const char *name);
/* The library's own threads (committer, flusher) announce themselves at
 * start (1) and exit (0): a crash on one of them does not wait for a commit
 * (it is what the commit waits for). */
DASF_HIDDEN void dasf_library_thread(int starting);
/* Async-signal-safe: 1 when tid (a thread of this process) announced
 * itself with dasf_library_thread(1) and has not left. */
DASF_HIDDEN int dasf_is_library_thread(pid_t tid);

#endif
