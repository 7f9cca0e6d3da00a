/*
 * kmerge_read.h — reading the merge's inputs a chunk at a time
 * (kmerge_read.c).  Every call that fails has said why on stderr and set
 * m->status to DT_FAIL.
 */
#ifndef DT_KMERGE_READ_H
#define DT_KMERGE_READ_H

#include "kmerge_state.h"

#include <stdbool.h>

/* in may load another chunk: not at its end, and fewer than two chunks or
 * `window` unwritten events held. */
bool km_can_load(const km *m, const km_input *in);
/* Puts in on the load heap when it may load and is not there yet. */
void km_queue_input(km *m, km_input *in);
/* Reads in's next chunk: sorts it, queues it as a run, hands its metadata
 * events to the group.  @return 0, or -1 (out of memory). */
int km_load_chunk(km *m, km_input *in);

#endif
