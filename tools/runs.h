/*
 * runs.h — the runs of a trace: which writer process wrote which events.
 * A file that several program runs appended to (the default file name is
 * shared) mixes their events; `info` lists the runs and every filtering
 * verb selects them with --run N.
 *
 * A run is one writer process:
 *   - archive: the chunk metadata's writer pid and host, in one clock
 *     domain (rt_offset = CLOCK_REALTIME - clock within 1 s: a reboot
 *     starts a new domain, so a pid reused after it is another run).  Its
 *     start is the earliest event it wrote.  The archive records no process
 *     start time, so two processes that got the same pid on the same host
 *     during one boot are one run (rare outside containers that restart a
 *     program as the same pid; their events still differ by time).
 *   - legacy: the layout has no writer metadata; a run is one process_id
 *     value as the events carry it (the C writer and DASF store the pid or
 *     a host name; the Python module's default is 0, so its runs of one
 *     program are one run).
 * Runs are numbered from 1 in the order their first event is read: files in
 * command-line order, and within a file in file order.
 */
#ifndef DASF_TRACE_RUNS_H
#define DASF_TRACE_RUNS_H

#include "ids.h"
#include "infile.h"
#include "strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dt_run {
    size_t file;                   /* index of its file on the command line */
    bool legacy;                   /* identified by process id (legacy layout) */
    int64_t writer_pid;            /* archive: chunk metadata */
    char host[64];                 /* archive: chunk metadata ("" when none) */
    char pid_text[DT_ID_TEXT_MAX]; /* legacy: the events' process_id */
    int64_t rt_offset;             /* archive: CLOCK_REALTIME - clock, ns (0: unknown) */
    int64_t first_ns, last_ns;     /* earliest start and latest end of its events */
    bool timed;
    uint64_t events, chunks;
} dt_run;

typedef struct dt_runs {
    dt_run *v;
    size_t n, cap;
    dt_strmap legacy_map; /* "file\tpid" -> index */
    /* the run of the current archive chunk */
    size_t cur_file, cur;
    uint64_t cur_chunk;
    bool have_cur;
} dt_runs;

/* The run of an event read from in (counted in its run).  Archive events
 * are looked up once per chunk.  @return its index (run number - 1), or
 * SIZE_MAX when out of memory (said on stderr). */
size_t dt_runs_event(dt_runs *r, const dt_input *in, const dasf_trace_event *ev);
void dt_runs_free(dt_runs *r);

/* "pid 22805 on vm" / "process 42" into buf. */
const char *dt_run_label(const dt_run *run, char *buf, size_t n);

#endif
