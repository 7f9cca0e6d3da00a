/*
 * perfetto.h — `dasf-trace export --perfetto`: the events as a Perfetto
 * native trace (a stream of TracePackets, protos/perfetto/trace/ in the
 * Perfetto project; the subset used is tests/cli/perfetto_subset.proto).
 * perfetto.c says how events map to tracks and packets.
 */
#ifndef DASF_TRACE_PERFETTO_H
#define DASF_TRACE_PERFETTO_H

#include "filter.h"

#include <stdbool.h>

typedef struct dt_perfetto_opts {
    bool compress; /* deflate the packets into compressed_packets */
} dt_perfetto_opts;

/* Writes the events of files passing f to out ('-' = stdout).
 * @return DT_OK, DT_FAIL (a file damaged or unreadable, a write failed). */
int dt_perfetto_export(const char *out, char *const *files, int n, const dt_filter *f,
                       const dt_perfetto_opts *o);

#endif
