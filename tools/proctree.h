/*
 * proctree.h — the process tree of a trace recorded by `dasf-trace record`
 * (proctree.c), from its "dasf.process" metadata events; `info` prints it.
 * Depends only on array.h.
 */
#ifndef DASF_TRACE_PROCTREE_H
#define DASF_TRACE_PROCTREE_H

#include "dasf/profiler.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dt_proc_image {
    int64_t pid, ppid, image; /* image: when this program image started (ns) */
    char *argv;
} dt_proc_image;
typedef struct dt_proctree {
    dt_proc_image *v;
    size_t n, cap;
} dt_proctree;
/* Takes a "dasf.process" metadata event (others are ignored).  -1: no memory. */
int dt_proctree_add(dt_proctree *t, const dasf_trace_event *ev);
/* Prints the tree (nothing when empty) on stdout, as info's section. */
void dt_proctree_print(dt_proctree *t);
void dt_proctree_free(dt_proctree *t);

#endif
