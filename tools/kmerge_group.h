/*
 * kmerge_group.h — the merge's output group (kmerge_group.c).  Every call
 * that fails has said why on stderr and set m->status to DT_FAIL.
 */
#ifndef DT_KMERGE_GROUP_H
#define DT_KMERGE_GROUP_H

#include "kmerge_state.h"

#include <stdbool.h>
#include <stdint.h>

/* Says "out of memory" (once per merge) and fails the merge. */
void km_no_memory(km *m);
/* Adds event idx of c to the group being built (meta: a metadata event;
 * key: its aligned start).  @return 0, or -1 when out of memory. */
int km_group_add(km *m, km_chunk *c, uint32_t idx, bool meta, int64_t key);
/* Frees c and the events it holds. */
void km_chunk_free(km *m, km_chunk *c);
/* Writes the group (unless the writer failed before), then frees the
 * chunks it pinned.  @return 0, or -1 (out of memory, the writer failed). */
int km_group_flush(km *m);
/* c is emptied: freed when the group that holds its last events is written. */
void km_pin(km *m, km_chunk *c);

#endif
