/*
 * metanames.h — the process and thread names a trace records in metadata
 * (M) events: "process_name" / "thread_name" with the name in args.name,
 * as the Trace Event Format and the Python module's users write them.  The
 * latest name of a process or thread wins.  Kept apart from any per-thread
 * state of the verbs, so a thread that only names itself gets no row/lane.
 */
#ifndef DASF_TRACE_METANAMES_H
#define DASF_TRACE_METANAMES_H

#include <stddef.h>

#include "dasf/profiler.h"
#include "strmap.h"

typedef struct dt_meta_names {
    dt_strmap map; /* "P\tpid" or "T\tpid\ttid" -> index into v */
    char **v;
    size_t n, cap;
} dt_meta_names;

/* Notes the name an M event gives; other events are ignored.
 * @return 0, or -1 when out of memory. */
int dt_meta_names_event(dt_meta_names *m, const dasf_trace_event *ev);
/* The recorded name, or NULL.  Ids as dt_id_text writes them. */
const char *dt_meta_process_name(const dt_meta_names *m, const char *pid);
const char *dt_meta_thread_name(const dt_meta_names *m, const char *pid, const char *tid);
void dt_meta_names_free(dt_meta_names *m);

#endif
