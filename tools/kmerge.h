/*
 * kmerge.h — the k-way merge behind `dasf-trace merge`: the events of k
 * trace files, read side by side, written in time order in bounded memory.
 *
 * Order.  Events are ordered by their start on the aligned timeline (MPI
 * ranks on rank 0's clock, align.h; --no-align: as recorded), ties by
 * command-line position, then file order.  The written times are the
 * recorded ones: the clock samples travel with the events, so every reader
 * aligns the merged file as it aligned its inputs.
 *
 * Inputs are not sorted: a chunk holds what one flush drained from several
 * threads' rings, and a span is recorded when it ends, so chunks overlap in
 * time.  Each input is read a chunk at a time; a chunk is sorted when
 * loaded, and an input's next chunk is loaded before anything is written
 * at or after the start of the last chunk loaded (the smallest start in
 * that chunk, which bounds what follows when chunks start in order, as a
 * flusher's do).  An input holds at most `window` unwritten events (at
 * least two chunks): an event of a chunk that could not be loaded in time
 * is still written, later than events after it, and counted as late.
 *
 * Output.  A chunk's metadata names one writer (pid, host, clock, drops),
 * so the merged events go out in groups: every `group` events (or sooner,
 * to free memory), one chunk per source chunk with events in the group,
 * the chunks of a group ordered by their first event; each chunk is in
 * time order and every event of a group starts at or after every event of
 * the groups before it (late events aside).  Metadata events (names,
 * modules, clock samples: they carry no time) go out with the group being
 * built when their chunk is read, in chunks of their own ahead of it.
 *
 * Memory (independent of the inputs' total size): per input, its reader
 * (its file window, zstd context and current chunk) and at most
 * max(two chunks, window events + one chunk) of decoded events; the emptied
 * chunks whose last events are in the group being built, at most `group`
 * events + one chunk; the group's index (16 bytes an event) and the
 * writer's one output chunk.
 */
#ifndef DT_KMERGE_H
#define DT_KMERGE_H

#include "filter.h"
#include "kmerge_stats.h"

#include <dasf/profiler.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_KMERGE_WINDOW 16384 /* default unwritten events per input */
#define DT_KMERGE_GROUP 65536  /* events per output group */

/* Merges files[0..n) passing f into w (its chunk origins set per source
 * chunk; legacy inputs get *self).  window: unwritten events per input (0:
 * the default).  Damaged or missing inputs are reported on stderr and make
 * the result DT_FAIL; the rest is still merged.  *write_failed is set when
 * the writer failed (said on stderr, with out, the output's name).  @return DT_OK or DT_FAIL. */
int dt_kmerge(dasf_writer *w, const char *out, const dasf_chunk_info *self, char *const *files, int n,
              const dt_filter *f, size_t window, dt_kmerge_stats *st, bool *write_failed);

#endif
