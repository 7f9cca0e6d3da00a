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

#include <stddef.h>

#define DT_ID_TEXT_MAX 256

/* process_id / thread_id / id as text: ints in decimal, strings as they
 * are, nil as "null".  Returns buf. */
const char *dt_id_text(const dasf_value *v, char *buf, size_t n);

#endif
