/*
 * filter.h — the event filters every event-reading verb accepts (--phase
 * --name --pid --tid --run --from --to --include --exclude, and the
 * reading switches --no-symbols --no-align), their help, and the time
 * window's report when it holds nothing.  Matching only: the reading loop
 * that applies them is input.h's.  Depends on messages, numbers, ids.
 */
#ifndef DASF_TRACE_FILTER_H
#define DASF_TRACE_FILTER_H

#include "dasf/profiler.h"

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dt_filter dt_filter;

/* Long-option codes of the shared filters: in the range of shared codes
 * (0x100 up to DT_OPT_VERB, args.h), so no verb's own code collides. */
enum {
    DT_OPT_PHASE = 0x100,
    DT_OPT_NAME,
    DT_OPT_PID,
    DT_OPT_TID,
    DT_OPT_FROM,
    DT_OPT_TO,
    DT_OPT_RUN,
    DT_OPT_INCLUDE,
    DT_OPT_EXCLUDE,
    DT_OPT_NO_SYMBOLS,
    DT_OPT_NO_ALIGN,
};
#define DT_FILTER_LONGOPTS                                                                         \
    {"phase", 1, NULL, DT_OPT_PHASE}, {"name", 1, NULL, DT_OPT_NAME},                              \
        {"pid", 1, NULL, DT_OPT_PID}, {"tid", 1, NULL, DT_OPT_TID},                                \
        {"from", 1, NULL, DT_OPT_FROM}, {"to", 1, NULL, DT_OPT_TO}, {"run", 1, NULL, DT_OPT_RUN},  \
        {"include", 1, NULL, DT_OPT_INCLUDE}, {"exclude", 1, NULL, DT_OPT_EXCLUDE},                \
        {"no-symbols", 0, NULL, DT_OPT_NO_SYMBOLS}, {                                              \
        "no-align", 0, NULL, DT_OPT_NO_ALIGN                                                       \
    }

#define DT_MAX_FILTER_VALUES 32

struct dt_filter {
    uint32_t phases; /* bit dasf_phase_index(p) set = keep; 0 = every phase */
    const char *names[DT_MAX_FILTER_VALUES]; /* fnmatch globs, any may match */
    size_t n_names;
    const char *pids[DT_MAX_FILTER_VALUES]; /* ids as text (see dt_id_text) */
    size_t n_pids;
    const char *tids[DT_MAX_FILTER_VALUES];
    size_t n_tids;
    bool has_from, has_to;
    int64_t from_ns, to_ns;
    size_t runs[DT_MAX_FILTER_VALUES]; /* run numbers - 1 (runs.h); checked by the reading loop */
    size_t n_runs;
    struct dt_window *win; /* set with --from/--to; shared by copies of the filter */
    /* --include / --exclude: POSIX extended regexes on the (symbolized)
     * name; metadata events always pass.  Compiled into filter.c's pool. */
    const regex_t *include[DT_MAX_FILTER_VALUES], *exclude[DT_MAX_FILTER_VALUES];
    size_t n_include, n_exclude;
    bool no_symbols; /* --no-symbols: keep function addresses as recorded */
    bool no_align;   /* --no-align: MPI ranks' times as recorded (align.h) */
};

/* The time window of the command line: how it was given, and what was
 * seen, to say when it holds nothing. */
typedef struct dt_window {
    const char *from_text, *to_text;
    bool from_rel, to_rel; /* from_ns/to_ns still count from the trace start */
    bool resolved;         /* made absolute (dt_filter_resolve / _set_start) */
    bool have_start;
    int64_t start_ns;           /* the trace start: earliest start of a non-M event */
    bool seen;                  /* an event was read */
    int64_t seen_min, seen_max; /* earliest start, latest end of the events read */
    uint64_t hits;              /* events (or spans) in the window that the verb used */
} dt_window;

/* The help text of the shared filters (for each verb's --help). */
extern const char dt_filter_help[];
/* Handles one filter option: 1 when opt was a filter option (and valid),
 * 0 when it is not a filter option, DT_USAGE after reporting a bad value. */
int dt_filter_option(dt_filter *f, int opt, const char *arg);
/* True when the event passes every filter.  Time: the event's interval
 * [ts, ts + dur] (dur = 0 unless X) must overlap [from, to]. */
bool dt_filter_match(const dt_filter *f, const dasf_trace_event *ev);
/* True when some filter is set. */
bool dt_filter_active(const dt_filter *f);
/* Makes a window given from the trace start absolute, the trace start
 * known (dt_filter_resolve in input.h reads it from the files; the
 * timeline's first pass has it).  DT_OK or DT_USAGE (--from after --to). */
int dt_filter_set_start(dt_filter *f, int64_t start_ns);
/* The reading loop notes the extent of every timed event read (f->win set). */
void dt_window_seen(const dt_filter *f, const dasf_trace_event *ev);
/* A verb that applies the window itself counts what it kept. */
void dt_window_hit(const dt_filter *f);
/* After reading: when a window was given and nothing fell in it, says so
 * (with the times the events read span) and returns DT_FAIL. */
int dt_window_report(const dt_filter *f);
/* --run: true when run (an index, see runs.h) is selected or none is given. */
bool dt_filter_run_wanted(const dt_filter *f, size_t run);
/* For verbs that pair B/E (spans.h): *before gets the part of f to apply to
 * single events before pairing (--pid, --tid: pairing is per thread, so
 * they keep pairs whole); *after the rest minus the time window, which each
 * verb applies to whole spans.  Check B/E spans with dt_filter_match_span
 * and other events with dt_filter_match against *after. */
void dt_filter_split(const dt_filter *f, dt_filter *before, dt_filter *after);
/* A paired span against --name (its B's name) and --phase (B or E kept). */
bool dt_filter_match_span(const dt_filter *f, const char *name);
/* False when --phase keeps neither B nor E: the verb need not pair. */
bool dt_filter_wants_pairs(const dt_filter *f);

#endif
