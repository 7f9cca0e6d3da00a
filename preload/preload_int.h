/*
 * preload_int.h — what the preload library's files share (private: only
 * the .c files of preload/ include it).  libdasf-preload.so is built with
 * -fvisibility=hidden; everything declared here is DASF_HIDDEN as well, so
 * the library's dynamic symbols stay exactly its EXPORT interposers and
 * function hooks (preload_interpose.c, preload_hooks.c) plus the runtime's
 * public API.
 *
 * The files: preload.c (the record protocol, choosing the file, setup:
 * constructor and fork child), preload_hooks.c (-finstrument-functions
 * hooks, the hot path), preload_facts.c (process, thread and module facts),
 * preload_interpose.c (the interposed C library calls).
 *
 * Threads: the globals below are written by the constructor (before the
 * program's own code) and by the fork child handler (one thread then);
 * every other thread only reads them.
 */
#ifndef DASF_PRELOAD_INT_H
#define DASF_PRELOAD_INT_H

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

/* The deepest call depth the hooks record (DASF_RECORD_DEPTH is capped to it). */
#define STACK_MAX 512u

/* Setup's state (preload.c). */
DASF_HIDDEN extern dasf_profiler *g_prof;
DASF_HIDDEN extern dasf_filedb *g_fdb; /* the function hooks' database (NULL: hooks off) */
DASF_HIDDEN extern uint32_t g_max_depth;
DASF_HIDDEN extern uint64_t g_min_ticks;
DASF_HIDDEN extern int64_t g_image_ns; /* when this program image started (module tables key) */
DASF_HIDDEN extern pid_t g_pid; /* the process the hooks were set up for (fork child: its own) */

/* preload_hooks.c */
DASF_HIDDEN NOINSTR void close_open_frames(void);

/* preload_facts.c */
DASF_HIDDEN extern pthread_mutex_t g_mod_lock;
DASF_HIDDEN void record_thread_name(int64_t tid, const char *name);
DASF_HIDDEN void self_comm(char out[32]);
DASF_HIDDEN void on_first_record(dasf_filedb *db);
DASF_HIDDEN void record_process(void);
DASF_HIDDEN void record_modules(void);
DASF_HIDDEN void forget_modules(void);

#endif
