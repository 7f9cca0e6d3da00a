/* flight_read.h — helpers of the flight-recorder tests (flight_read.c). */
#ifndef DASF_TEST_FLIGHT_READ_H
#define DASF_TEST_FLIGHT_READ_H

#include "dasf/profiler.h"

#include <stddef.h>
#include <stdint.h>

#define WINDOW ((size_t)64 << 10)

/* A DASF_OVERFLOW_OVERWRITE profiler on path with a `window`-byte ring
 * (flush off); _in: its shared-memory directory (NULL: the default). */
dasf_profiler *flight_profiler(const char *path, size_t window);
dasf_profiler *flight_profiler_in(const char *path, size_t window, const char *shm_dir);

typedef struct rd_ev {
    char name[16];
    int64_t ts_ns;
    int64_t seq; /* arg "seq", -1 when absent */
    int s_ok;    /* arg "s" equals pattern(name, seq) (1), absent (-1), wrong (0) */
    size_t chunk; /* index into rd_file.chunks */
} rd_ev;

typedef struct rd_file {
    rd_ev *ev;
    size_t n, cap;
    dasf_chunk_info *chunks;
    size_t n_chunks;
} rd_file;

/* The string arg stream k writes with record seq: its length and bytes
 * depend on both, so a record torn between two writes shows. */
void pattern(char *out, int k, int64_t seq);
/* Every event of path (none when it does not exist) with its chunk's
 * metadata; asserts the file is whole. */
rd_file read_back(const char *path);
void rd_free(rd_file *f);
/* Records "w" complete events at ts = from..to ns (dur 1). */
void record_ns(dasf_profiler *p, int64_t from, int64_t to);
/* The events from event `first` on are exactly the records
 * want_last - kept + 1 .. want_last of record_ns's stream, in order, in
 * snapshot chunks whose overwritten counts say what is missing since
 * `prev_last`; *snap = their snapshot number.  @return kept. */
size_t check_window(const rd_file *f, size_t first, int64_t prev_last, int64_t want_last,
                    uint64_t *snap);

#endif
