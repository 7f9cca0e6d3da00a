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
 * the append.  The descriptor is kept in af->fd across calls (-1 = not
 * open yet), with where our last append through it ended (af->end).
 * An archive file's torn tail (torn.c) is cut under the lock, said on
 * stderr: looked for at the first append after the file was (re)opened,
 * and at later ones when the file grew since our last append ended.
 * DASF_ESYMLINK / DASF_ENOTREG for a link (without follow) / non-regular file. */
DASF_HIDDEN int dasf_file_append(dasf_append_fd *af, const char *path, int layout,
                                 const void *buf, size_t len, double lock_timeout, int flush,
                                 int follow);
/* The same; *cut (when not NULL) grows by the bytes of a torn tail cut. */
DASF_HIDDEN int dasf_file_append_cut(dasf_append_fd *af, const char *path, int layout,
                                     const void *buf, size_t len, double lock_timeout,
                                     int flush, int follow, uint64_t *cut);
/* What is at path now is acceptable as a trace file to append to: nothing,
 * or a regular file (a link: DASF_ESYMLINK unless follow, then its target).
 * @return 0, DASF_ESYMLINK or DASF_ENOTREG.  Does not open anything. */
DASF_HIDDEN int dasf_trace_path_check(const char *path, int follow);
/* remove_old_output_file: unlinks a regular file or a symbolic link (the
 * link itself) at path; DASF_ENOTREG (nothing removed) for anything else. */
DASF_HIDDEN int dasf_trace_path_remove(const char *path);

/* ---- torn.c: a torn tail ------------------------------------------------ */

/* Where the torn tail of the archive file fd (size bytes) starts: the last
 * chunk, when its stated length runs past the end of the file and no chunk
 * starts after it (a writer killed inside its append); size when none.
 * The walk starts at `from`, a chunk boundary (0, or where an append of
 * ours ended): nothing before it is looked at.  Only meaningful with the
 * file lock held (torn.c says why). */
DASF_HIDDEN uint64_t dasf_torn_tail_at(int fd, uint64_t from, uint64_t size);
/* Cuts that tail (the caller holds flock LOCK_EX on fd).
 * @return the bytes cut (0: none) or DASF_EIO. */
DASF_HIDDEN int64_t dasf_cut_torn_tail(int fd, uint64_t from, uint64_t size);

#endif
