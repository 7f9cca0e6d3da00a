/*
 * infile.h — one trace file being read: its place on the command line and
 * its reader (dt_input, what every visit callback gets), opening it with a
 * clear message, and saying what was damaged.  Depends only on messages.h
 * (the statuses it returns).
 */
#ifndef DASF_TRACE_INFILE_H
#define DASF_TRACE_INFILE_H

#include "dasf/profiler.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dt_input {
    const char *path;
    size_t index; /* position on the command line */
    dasf_trace *trace;
    dasf_layout layout;
    size_t run; /* index of the event's run (runs.h); SIZE_MAX when not tracked */
} dt_input;

/* Opens path, printing why not ("No such file", "not a trace file").
 * @return 0 or DT_FAIL. */
int dt_open(const char *path, dasf_trace **out);
/* After reading a file: prints its damage (chunks and bytes skipped, first
 * offset and reason) on stderr.  @return DT_FAIL when damaged, else DT_OK. */
int dt_report_damage(const char *path, const dasf_trace *t);
/* The earliest start of a non-metadata event in the files (read quietly:
 * the verb's own pass reports damage).  0, or -1 when there is none. */
int dt_first_time(char *const *files, int n, int64_t *start);

#endif
