/*
 * input.h — the reading loop every verb uses (input.c): each file in
 * command-line order through the public reader, every event renamed
 * (symbols.h), put on rank 0's clock (align.h), counted in its run
 * (runs.h) and matched against the filters (filter.h) before the verb sees
 * it; damage said on stderr.  Also the one filter step that needs the
 * files read first: a window given from the trace start.
 */
#ifndef DASF_TRACE_INPUT_H
#define DASF_TRACE_INPUT_H

#include "filter.h"
#include "infile.h"
#include "runs.h"

/* Called for every event that passes the filter; non-zero stops reading
 * and becomes the result (use DT_FAIL after printing why). */
typedef int (*dt_visit_fn)(void *ctx, const dt_input *in, const dasf_trace_event *ev);

/* Reads every file in order, calls visit for each event passing f (NULL: no
 * filter).  A file that cannot be opened or is damaged is reported and
 * makes the result DT_FAIL; the other files are still read.  before_file,
 * when not NULL, is called after each open (non-zero stops). */
int dt_each_event(char *const *files, int n, const dt_filter *f, dt_visit_fn visit,
                  dt_visit_fn before_file, void *ctx);
/* dt_each_event that also tracks runs in *runs (in->run set for every
 * event; runs counts every event read, filtered or not). */
int dt_each_event_runs(char *const *files, int n, const dt_filter *f, dt_visit_fn visit,
                       dt_visit_fn before_file, void *ctx, dt_runs *runs);

/* The reading loop's last steps for one (symbolized, aligned) event: notes
 * it in the --from/--to window, applies the filters (filtering =
 * dt_filter_active(f)), counts a window hit.  True when it passes.  For a
 * verb that reads its files side by side (merge) instead of dt_each_event. */
bool dt_filter_pass(const dt_filter *f, bool filtering, const dasf_trace_event *ev);

/* Makes a window given from the trace start absolute: reads the files once
 * for their first event when needed (dt_first_time), then
 * dt_filter_set_start.  DT_OK or DT_USAGE (--from after --to). */
int dt_filter_resolve(dt_filter *f, char *const *files, int n);

#endif
