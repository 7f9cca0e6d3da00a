/*
 * ids.h — process, thread and event ids as text.  A trace's ids are
 * integers (the C writer), strings (a Python writer's "node-a") or nil;
 * the filters, stats rows and labels compare and print them as one text
 * form, so --pid 42, --pid node-a and --pid null all work the same way.
 * Depends only on numbers.h.
 */
#ifndef DASF_TRACE_IDS_H
#define DASF_TRACE_IDS_H

#include "dasf/profiler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_ID_TEXT_MAX 256

/* process_id / thread_id / id as text: ints in decimal, strings as they
 * are, nil as "null".  Returns buf. */
const char *dt_id_text(const dasf_value *v, char *buf, size_t n);

/* Viewers (Perfetto, the Trace Event Format) want integer pids and tids.
 * An id that is an int in 0..DT_REAL_ID_MAX (Linux's PID_MAX_LIMIT, 2^22) is
 * used as it is; other ids (strings, nil, out of range) get synthetic
 * numbers from DT_SYNTH_ID_BASE up, above every real one. */
#define DT_REAL_ID_MAX 4194304
#define DT_SYNTH_ID_BASE (DT_REAL_ID_MAX + 1)
/* True, with *out, when v is such a real pid/tid. */
bool dt_id_real(const dasf_value *v, int64_t *out);

#endif
