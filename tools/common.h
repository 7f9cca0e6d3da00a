/*
 * common.h — what the dasf-trace verbs share: exit codes and messages,
 * the event filters (--phase --name --pid --tid --from --to), the loop that
 * reads events from several files and reports damage, a string-keyed hash
 * map, id formatting, and the JSON writer used by cat and export.
 *
 * The tool is single-threaded.  It reads traces only through the public
 * reader (dasf_trace_*) and writes them only through dasf_writer_*, so it
 * is also an example of what any program can do with the library.
 */
#ifndef DASF_TRACE_COMMON_H
#define DASF_TRACE_COMMON_H

#include "dasf/profiler.h"

#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct dt_filter dt_filter;

/* Exit statuses of every verb. */
enum {
    DT_OK = 0,    /* everything read and written */
    DT_FAIL = 1,  /* a file was damaged, missing or could not be written */
    DT_USAGE = 2, /* bad command line */
};

#define DT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- messages (main.c) --------------------------------------------------- */

/* The verb being run ("cat", ...), for messages. */
extern const char *dt_verb;
/* "dasf-trace VERB: message" on stderr. */
void dt_err(const char *fmt, ...) DT_PRINTF(1, 2);
/* The message, then "Try 'dasf-trace VERB --help'."; returns DT_USAGE. */
int dt_usage(const char *fmt, ...) DT_PRINTF(1, 2);
/* Parses a whole decimal number (strtod/strtoll); false on junk. */
bool dt_parse_double(const char *s, double *out);
bool dt_parse_long(const char *s, long long min, long long max, long long *out);
/* Verb-specific option handler: 1 handled, 0 not an option of the verb,
 * DT_USAGE after reporting a bad value. */

typedef int (*dt_opt_fn)(void *ctx, int opt, const char *arg);
/* Parses argv with getopt_long (options may follow the files).  --help
 * (-h) prints help (then dt_filter_help when f is not NULL).  Filter
 * options go to f, others to fn.  @return -1 to go on (*first_file set,
 * at least min_files files present), else the exit status to return. */
int dt_parse_args(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  const char *help, dt_filter *f, dt_opt_fn fn, void *ctx, int min_files,
                  int *first_file);
/* Flushes stdout; on a write error says so and returns DT_FAIL. */
int dt_finish_stdout(int status);

/* ---- verbs --------------------------------------------------------------- */
int dt_cmd_cat(int argc, char **argv);
int dt_cmd_info(int argc, char **argv);
int dt_cmd_stats(int argc, char **argv);
int dt_cmd_export(int argc, char **argv);
int dt_cmd_timeline(int argc, char **argv);
int dt_cmd_merge(int argc, char **argv);
int dt_cmd_convert(int argc, char **argv);
int dt_cmd_verify(int argc, char **argv);
int dt_cmd_record(int argc, char **argv);

/* ---- output files (output.c) --------------------------------------------- */

/* --follow-symlinks (export, timeline, merge, convert): write through a
 * symbolic link at the output path to its existing target. */
extern bool dt_follow_symlinks;
#define DT_OPT_FOLLOW_SYMLINKS (DT_OPT_VERB + 60)
#define DT_OUTPUT_LONGOPT                                                                          \
    { "follow-symlinks", 0, NULL, DT_OPT_FOLLOW_SYMLINKS }
extern const char dt_output_help[];

enum {
    DT_OUT_NO_STDOUT = 1, /* "-" is a file name, not standard output */
    DT_OUT_NOREPLACE = 2, /* refuse an existing destination (merge without --force) */
    DT_OUT_FD_ONLY = 4,   /* no FILE: the caller writes through o->tmp or o->fd */
    DT_OUT_FSYNC = 8,     /* fsync before the rename */
};
/* An output being written: a temporary beside the destination, renamed
 * over it by dt_out_commit (see output.c for the rules). */
typedef struct dt_out {
    const char *path; /* as given */
    char *dest;       /* the file replaced or created (a link's target) */
    char *tmp;        /* the temporary being written; NULL for stdout */
    FILE *f;          /* stdout, or the temporary (unless DT_OUT_FD_ONLY) */
    int fd;
    unsigned flags;
} dt_out;
/* Checks the path (links, non-regular files), creates the temporary.
 * "-" is stdout.  @return DT_OK or DT_FAIL (message printed). */
int dt_out_open(dt_out *o, const char *path, unsigned flags);
/* Flushes, closes and renames the temporary into place; on any failure
 * says why, removes the temporary and returns DT_FAIL. */
int dt_out_commit(dt_out *o);
/* Closes and removes the temporary; the destination is untouched. */
void dt_out_abort(dt_out *o);

/* ---- filters (filter.c) -------------------------------------------------- */

/* Long-option codes of the shared filters; verbs number their own from
 * DT_OPT_VERB. */
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
    DT_OPT_VERB = 0x200,
};
#define DT_FILTER_LONGOPTS                                                                         \
    {"phase", 1, NULL, DT_OPT_PHASE}, {"name", 1, NULL, DT_OPT_NAME},                              \
        {"pid", 1, NULL, DT_OPT_PID}, {"tid", 1, NULL, DT_OPT_TID},                                \
        {"from", 1, NULL, DT_OPT_FROM}, {"to", 1, NULL, DT_OPT_TO}, {"run", 1, NULL, DT_OPT_RUN},  \
        {"include", 1, NULL, DT_OPT_INCLUDE}, {"exclude", 1, NULL, DT_OPT_EXCLUDE}, {              \
        "no-symbols", 0, NULL, DT_OPT_NO_SYMBOLS                                                   \
    }                                                                                              \
    , {"no-align", 0, NULL, DT_OPT_NO_ALIGN}

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
/* Makes a window given from the trace start absolute: reads the files once
 * for their first event when needed (dt_first_time).  DT_OK or DT_USAGE
 * (--from after --to). */
int dt_filter_resolve(dt_filter *f, char *const *files, int n);
/* The same with the trace start already known (the timeline's first pass). */
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

/* ---- ids ----------------------------------------------------------------- */

/* process_id / thread_id / id as text: ints in decimal, strings as they
 * are, nil as "null".  Returns buf. */
const char *dt_id_text(const dasf_value *v, char *buf, size_t n);
#define DT_ID_TEXT_MAX 256

/* ---- reading (input.c) --------------------------------------------------- */

typedef struct dt_input {
    const char *path;
    size_t index; /* position on the command line */
    dasf_trace *trace;
    dasf_layout layout;
    size_t run; /* index of the event's run (runs.h); SIZE_MAX when not tracked */
} dt_input;

/* Called for every event that passes the filter; non-zero stops reading
 * and becomes the result (use DT_FAIL after printing why). */
typedef int (*dt_visit_fn)(void *ctx, const dt_input *in, const dasf_trace_event *ev);

/* Opens path, printing why not ("No such file", "not a trace file").
 * @return 0 or DT_FAIL. */
int dt_open(const char *path, dasf_trace **out);
/* After reading a file: prints its damage (chunks and bytes skipped, first
 * offset and reason) on stderr.  @return DT_FAIL when damaged, else DT_OK. */
int dt_report_damage(const char *path, const dasf_trace *t);
/* The earliest start of a non-metadata event in the files (read quietly:
 * the verb's own pass reports damage).  0, or -1 when there is none. */
int dt_first_time(char *const *files, int n, int64_t *start);
/* Reads every file in order, calls visit for each event passing f (NULL: no
 * filter).  A file that cannot be opened or is damaged is reported and
 * makes the result DT_FAIL; the other files are still read.  before_file,
 * when not NULL, is called after each open (non-zero stops). */
int dt_each_event(char *const *files, int n, const dt_filter *f, dt_visit_fn visit,
                  dt_visit_fn before_file, void *ctx);

/* ---- the process tree of a recorded trace (proctree.c) ------------------- */

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

/* ---- read-time symbolization (symbols.c) --------------------------------- */

/* Function-call events of `dasf-trace record` are named by address
 * ("0x55d0c0de1234"); dt_each_event renames them with these (unless
 * --no-symbols), from the trace's "dasf.module" events and the binaries. */
typedef struct dt_resolved {
    char *name;      /* demangled function name, or "module+0xoffset" */
    char *src;       /* "file:line" or NULL */
    dasf_value args; /* {"src": src} (empty map without src) */
    dasf_kv kv;
} dt_resolved;
typedef struct dt_symbols dt_symbols;
int dt_symbols_create(dt_symbols **out);
/* Takes a "dasf.module" metadata event (others are ignored).  -1: no memory. */
int dt_symbols_add_module(dt_symbols *s, const dasf_trace_event *ev);
size_t dt_symbols_modules(const dt_symbols *s);
/* True for "0x" + lower-case hex digits: what the preload names calls. */
bool dt_symbols_is_address(const char *name);
/* The name of ev's address in its process image, or NULL (unknown). */
const dt_resolved *dt_symbols_lookup(dt_symbols *s, const dasf_trace_event *ev);
void dt_symbols_free(dt_symbols *s);

/* ---- string-keyed hash map (strmap.c) ------------------------------------ */

typedef struct dt_strent {
    char *key; /* NUL-terminated copy; NULL = empty slot */
    size_t klen;
    uint64_t hash;
    size_t val;
} dt_strent;

typedef struct dt_strmap {
    dt_strent *slots;
    size_t cap, len;
} dt_strmap;

uint64_t dt_hash(const void *p, size_t n);
/* The entry for key (inserted with val = SIZE_MAX when new, *created set).
 * NULL when out of memory.  Entry pointers are valid until the next insert. */
dt_strent *dt_strmap_get(dt_strmap *m, const char *key, size_t klen, bool *created);
/* The entry or NULL, never inserts. */
dt_strent *dt_strmap_find(const dt_strmap *m, const char *key, size_t klen);
void dt_strmap_free(dt_strmap *m);

/* Growable array helper: ensures room for one more element of size sz. */
int dt_grow(void **arr, size_t *cap, size_t len, size_t sz);

/* ---- JSON output (json.c) ------------------------------------------------ */

/* A string cache: the JSON encoding (quotes included) of recently seen
 * strings, so a name repeated a million times is escaped once.  Strings are
 * encoded by jansson; invalid UTF-8 is replaced by U+FFFD first, so the
 * output is always valid JSON. */
typedef struct dt_json {
    FILE *out;
    struct dt_outfile *sink; /* when set, output goes here instead of out */
    dt_strmap cache;         /* key -> index into enc */
    struct dt_json_enc {
        char *s;
        size_t len;
    } * enc;
    size_t n_enc, cap_enc;
    char *scratch;
    size_t scratch_cap;
    char *buf;   /* output buffer: stdio's per-call locking and printf parsing */
    size_t len;  /* cost more than the rest of export put together */
    bool failed; /* a write to out failed */
} dt_json;

#define DT_JSON_BUF (1u << 16)

/* @return 0 or -1 (out of memory). */
int dt_json_init(dt_json *j, FILE *out);
/* The same, writing to an outfile (outfile.h: plain or gzip). */
int dt_json_init_sink(dt_json *j, struct dt_outfile *sink);
/* Writes the buffered output to the FILE (call before closing it). */
void dt_json_flush(dt_json *j);
void dt_json_free(dt_json *j);
/* Writes s as a JSON string.  @return 0 or -1 (out of memory). */
int dt_json_str(dt_json *j, const char *s, size_t n);
/* A double in the shortest form that reads back to the same bits (always
 * with a '.' or exponent, as Python prints floats); NaN/inf as null. */
void dt_json_double(dt_json *j, double d);
/* ns nanoseconds as exact decimal seconds ("12.000001234", "5.0"). */
void dt_json_seconds_ns(dt_json *j, int64_t ns);
/* ns nanoseconds as microseconds with 3 decimals ("12000001.234"). */
void dt_json_micros_ns(dt_json *j, int64_t ns);
/* Any value tree: maps with non-string keys get the key's text; bin as a
 * hex string. */
int dt_json_value(dt_json *j, const dasf_value *v);
/* Writes straight to the output (bypassing the buffer). */
void dt_json_write_through(dt_json *j, const char *s, size_t n);
static inline void dt_json_raw(dt_json *j, const char *s, size_t n) {
    if (j->len + n > DT_JSON_BUF) {
        dt_json_flush(j);
        if (n > DT_JSON_BUF) {
            dt_json_write_through(j, s, n);
            return;
        }
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}
static inline void dt_json_putc(dt_json *j, char ch) {
    if (j->len == DT_JSON_BUF) dt_json_flush(j);
    j->buf[j->len++] = ch;
}
/* Integers in decimal. */
void dt_json_i64(dt_json *j, int64_t v);
void dt_json_u64(dt_json *j, uint64_t v);
#define DT_JSON_LIT(j, lit) dt_json_raw((j), lit, sizeof(lit) - 1)

/* The shortest round-trip text of d into buf (>= 32 bytes). */
int dt_format_double(char *buf, size_t n, double d);
/* ---- time arithmetic on int64 ns ------------------------------------------
 * A file can hold any int64 start and duration (damaged or hostile input
 * included), so sums and differences of them are taken here, never with a
 * plain + or - that could overflow (undefined behaviour in C). */
/* a + b, saturated at INT64_MIN / INT64_MAX. */
static inline int64_t dt_add_ns(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
/* to - from as a double: exact while the difference fits int64, otherwise
 * the nearest double of the true (up to 2^64 ns wide) difference. */
static inline double dt_span_ns(int64_t from, int64_t to) {
    int64_t r;
    if (!__builtin_sub_overflow(to, from, &r)) return (double)r;
    return (double)to - (double)from;
}

/* A duration in ns as "12.345 ms" (ns, us, ms, s chosen by size). */
const char *dt_format_duration(char *buf, size_t n, double ns);

#endif
