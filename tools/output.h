/*
 * output.h — creating the files the verbs write (export, timeline, merge,
 * convert): a temporary beside the destination, renamed over it once
 * whole; links and non-regular files refused (output.c says the rules).
 * Depends only on messages.h.
 */
#ifndef DASF_TRACE_OUTPUT_H
#define DASF_TRACE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* --follow-symlinks (export, timeline, merge, convert): write through a
 * symbolic link at the output path to its existing target. */
extern bool dt_follow_symlinks;
/* Its option code: one of the shared codes below DT_OPT_VERB (args.h). */
#define DT_OPT_FOLLOW_SYMLINKS 0x1f0
#define DT_OUTPUT_LONGOPT                                                                          \
    { "follow-symlinks", 0, NULL, DT_OPT_FOLLOW_SYMLINKS }

enum {
    DT_OUT_NO_STDOUT = 1, /* "-" is a file name, not standard output */
    DT_OUT_NOREPLACE = 2, /* refuse an existing destination (merge without --force) */
    DT_OUT_FD_ONLY = 4,   /* no FILE: the caller writes through o->tmp or o->fd */
    DT_OUT_FSYNC = 8,     /* fsync before the rename */
};
/* An output being written: a temporary beside the destination, renamed
 * over it by dt_out_commit (see output.c for the rules). */
typedef struct dt_out {
    const char *path; /* as given */
    char *dest;       /* the file replaced or created (a link's target) */
    char *tmp;        /* the temporary being written; NULL for stdout */
    FILE *f;          /* stdout, or the temporary (unless DT_OUT_FD_ONLY) */
    int fd;
    unsigned flags;
} dt_out;
/* Checks the path (links, non-regular files), creates the temporary.
 * "-" is stdout.  @return DT_OK or DT_FAIL (message printed). */
int dt_out_open(dt_out *o, const char *path, unsigned flags);
/* Flushes, closes and renames the temporary into place; on any failure
 * says why, removes the temporary and returns DT_FAIL. */
int dt_out_commit(dt_out *o);
/* Closes and removes the temporary; the destination is untouched. */
void dt_out_abort(dt_out *o);

#endif
