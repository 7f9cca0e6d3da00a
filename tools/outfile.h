/*
 * outfile.h — the file an exporter writes: a plain file, stdout ('-'), or,
 * when the name ends in ".gz", a gzip stream (zlib's gz* API, so any gunzip
 * and every viewer that reads gzip opens it).  Created through output.c
 * (dt_out: a temporary renamed into place, links and non-regular files
 * refused), so a failed export leaves the destination as it was.  Counts the
 * bytes written (before compression) so a verb can warn about sizes viewers
 * cannot load.  Single-threaded; one outfile per export.
 */
#ifndef DASF_TRACE_OUTFILE_H
#define DASF_TRACE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

typedef struct dt_outfile {
    const char *path;
    dt_out out;   /* the temporary (or stdout) being written */
    FILE *f;      /* plain output (NULL when gz) */
    void *gz;     /* gzFile when gzip */
    bool is_stdout;
    bool failed;  /* a write failed (errno kept in err) */
    int err;
    uint64_t bytes; /* uncompressed bytes written so far */
} dt_outfile;

/* True when path names a gzip file ("*.gz"). */
bool dt_outfile_is_gz(const char *path);
/* Opens path for writing ('-' = stdout; "*.gz" = gzip at level level, 1..9,
 * 0 = 6).  Prints why not.  @return 0 or DT_FAIL. */
int dt_outfile_open(dt_outfile *o, const char *path, int gz_level);
/* Writes n bytes; on failure sets o->failed (checked at close). */
void dt_outfile_write(dt_outfile *o, const void *p, size_t n);
/* Flushes, closes and renames into place; after a write error (printed
 * here) removes the temporary instead.  @return 0 or DT_FAIL. */
int dt_outfile_close(dt_outfile *o);
/* Closes and removes the temporary (out of memory and the like). */
void dt_outfile_abort(dt_outfile *o);

#endif
