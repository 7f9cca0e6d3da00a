/*
 * spans.h — the one B/E pairing rule of dasf-trace (stats, timeline,
 * export and every later reader of duration events use it, so two verbs
 * never disagree about one trace).  docs/CLI.md, "B/E pairing", is the
 * user's description; this is the contract:
 *
 *   - Events pair per thread stream: one (process_id, thread_id) within one
 *     input file.
 *   - An E closes the most recent open B of its thread, whatever its name
 *     (the Trace Event Format's rule, and what Perfetto and chrome://tracing
 *     draw).  An E whose name is not empty and differs from that B's is
 *     counted (renamed_e).  An E with no open B is counted (stray_e).
 *   - A B opens a span, except on a thread written the way the Python
 *     module (dasf.profile.profiler) writes: its DurationEndEvent carries
 *     phase "B", so such a thread has B events and no E event anywhere in
 *     its file.  There a B whose name equals the name of the most recent
 *     open B closes that span (a "B/B pair"); a B of another name opens a
 *     nested span.
 *
 * Deciding that a thread has no E in its file needs the whole file, but
 * the question only arises at the first B that meets an open B of the same
 * name on a thread that has shown no E yet (before that moment both
 * readings agree: every B so far opened a span).  Only then is the file
 * read once more, from its path, to learn which of its threads hold an E.
 * Traces without that pattern are read once, as a stream.
 *
 * Memory: the open B's of each thread, one entry per thread, the distinct
 * names.  Single-threaded, like the whole tool.
 */
#ifndef DASF_TRACE_SPANS_H
#define DASF_TRACE_SPANS_H

#include "infile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct dt_spans dt_spans;

/* A span that closed (or, from dt_spans_finish, never closed). */
typedef struct dt_span {
    const char *name; /* the B's name; valid as long as the dt_spans */
    uint32_t name_id; /* dense index of the name (0, 1, ...) */
    size_t thread;    /* dense index of its thread stream (dt_spans_thread) */
    int64_t start_ns, end_ns;
    uint32_t depth; /* spans of its thread open around it */
    uint64_t user;  /* what the caller stored with dt_spans_set_user at the B */
    bool bb;        /* closed by a B read as the end (Python writer) */
    bool open;      /* never closed; end_ns = the thread's last timestamp */
} dt_span;

typedef enum dt_span_role {
    DT_SPAN_NONE = 0,    /* not a B or E event */
    DT_SPAN_OPEN = 1,    /* a B opened a span */
    DT_SPAN_CLOSE = 2,   /* an E, or a B read as the end, closed *out */
    DT_SPAN_STRAY_E = 3, /* an E with no open B on its thread */
} dt_span_role;

typedef struct dt_spans_counts {
    uint64_t pairs;      /* spans closed (E or B/B) */
    uint64_t bb_pairs;   /* of those, closed by a B read as the end */
    uint64_t bb_threads; /* thread streams read as Python B/B */
    uint64_t open_b;     /* B's never closed (known after dt_spans_finish) */
    uint64_t stray_e;    /* E's with no open B */
    uint64_t renamed_e;  /* E's that closed a B of another name */
    uint64_t rescans;    /* files read a second time to decide */
} dt_spans_counts;

/* @return NULL when out of memory. */
dt_spans *dt_spans_new(void);
void dt_spans_free(dt_spans *s);

/* Feeds one event of file `in` (events of one file in file order, files
 * one after the other).  Non-B/E events return DT_SPAN_NONE and change
 * nothing.  On DT_SPAN_CLOSE *out is the span.  @return a dt_span_role, or
 * -1 when out of memory or the second read of the file failed (said on
 * stderr). */
int dt_spans_event(dt_spans *s, const dt_input *in, const dasf_trace_event *ev, dt_span *out);

/* After DT_SPAN_OPEN: a word kept with that span, returned in dt_span.user. */
void dt_spans_set_user(dt_spans *s, uint64_t user);

/* The thread stream of any event (made when new), in the index space of
 * dt_span.thread, so X events can be put with their thread's pairs.
 * SIZE_MAX when out of memory. */
size_t dt_spans_thread_of(dt_spans *s, const dt_input *in, const dasf_trace_event *ev);

/* The id texts (see dt_id_text) of a thread stream and its file's index. */
void dt_spans_thread(const dt_spans *s, size_t thread, const char **pid, const char **tid,
                     size_t *file_index);

/* Calls fn for every B still open (innermost last per thread), counts them
 * in open_b, and empties the stacks.  fn's non-zero return stops and is
 * returned. */
typedef int (*dt_span_fn)(void *ctx, const dt_span *sp);
int dt_spans_finish(dt_spans *s, dt_span_fn fn, void *ctx);

void dt_spans_get_counts(const dt_spans *s, dt_spans_counts *out);

/* Writes what the reader should know, one line each, every line starting
 * with `prefix`: each file read as Python B/B pairs (with how many), B's
 * left open and E's without a B, E's that closed a B of another name.
 * Writes nothing when there is nothing to say. */
void dt_spans_report(const dt_spans *s, FILE *o, const char *prefix);

#endif
