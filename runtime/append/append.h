/*
 * append.h — appending one chunk to a trace file among many writers
 * (append.c; not installed).
 *
 * Called by the flusher thread and by dasf_writer's caller; the path
 * checks also by db.c at open.
 */
#ifndef DASF_APPEND_H
#define DASF_APPEND_H

#include "internal.h"

/* ---- append.c: appending a chunk to a file ---------------------------- */

/* Opens (O_APPEND; a new file O_CREAT|O_EXCL; O_NOFOLLOW unless follow;
 * regular files only), takes flock(LOCK_EX) polled with backoff up to
 * lock_timeout seconds, checks that the file is empty or of `layout`,
 * writes all of buf in one write(), fsyncs when flush, unlocks.  On a
 * failed or short write the file is truncated back to its size before
 * the append.  fd is cached in *fdp across calls (-1 = not open yet).
 * DASF_ESYMLINK / DASF_ENOTREG for a link (without follow) / non-regular file. */
DASF_HIDDEN int dasf_file_append(int *fdp, const char *path, int layout, const void *buf,
                                 size_t len, double lock_timeout, int flush, int follow);
/* What is at path now is acceptable as a trace file to append to: nothing,
 * or a regular file (a link: DASF_ESYMLINK unless follow, then its target).
 * @return 0, DASF_ESYMLINK or DASF_ENOTREG.  Does not open anything. */
DASF_HIDDEN int dasf_trace_path_check(const char *path, int follow);
/* remove_old_output_file: unlinks a regular file or a symbolic link (the
 * link itself) at path; DASF_ENOTREG (nothing removed) for anything else. */
DASF_HIDDEN int dasf_trace_path_remove(const char *path);

#endif
