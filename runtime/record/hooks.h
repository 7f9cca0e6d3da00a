/*
 * hooks.h — what the LD_PRELOAD library (preload/) needs from the runtime
 * beyond the public API (not installed).
 *
 *  - a hook run on a thread's first record into a database (ring.c calls it
 *    right after the thread's ring exists; the preload records the thread's
 *    name there);
 *  - retargeting a profiler's own FileDatabase to another file in a fork
 *    child that traces into its own file (`dasf-trace record --split`).
 */
#ifndef DASF_HOOKS_H
#define DASF_HOOKS_H

#include "rt.h"

/* Called on the recording thread, outside any record, with the database its
 * new ring belongs to.  The hook may record into db.  NULL = none. */
typedef void (*dasf_first_record_hook)(dasf_filedb *db);
DASF_HIDDEN extern dasf_first_record_hook dasf_on_first_record;

/* Fork child only (one thread, no flusher yet): p's FileDatabase writes to
 * path from now on, and dasf_profiler_output_file(p) says so.
 * @return 0, DASF_EINVAL (not a FileDatabase profiler), DASF_ENOMEM. */
DASF_HIDDEN int dasf_profiler_retarget(dasf_profiler *p, const char *path);

/* The FileDatabase runtime behind a profiler, or NULL. */
DASF_HIDDEN dasf_filedb *dasf_profiler_filedb(dasf_profiler *p);

#endif
