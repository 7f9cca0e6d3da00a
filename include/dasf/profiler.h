/*
 * dasf-profiler — nanosecond-overhead trace recording for HPC codes.
 *
 * This header is the manual: a user never has to open a .c file (one file,
 * longer than the project's ~500-line rule, on purpose: the manual reads
 * top to bottom, as zstd.h does).  The
 * library records Chrome-trace events from any number of threads into
 * compact, crash-tolerant trace files (a zstd chunk archive, or the legacy
 * layout of the Python module) that many processes can append to.  It is
 * the C version of the Python module dasf.profile.profiler (DASF,
 * discovery-unicamp/dasf-core): same phases, same four event kinds, same
 * FileDatabase options and defaults, same EventProfiler rules.
 *
 * Quick start
 * -----------
 *     #include <dasf/profiler.h>
 *
 *     dasf_profiler *p;
 *     if (dasf_profiler_create(&p, "run.msgpack.zst", NULL, NULL) != 0) return 1;
 *     double t0 = dasf_now();
 *     compute();
 *     dasf_profiler_record_complete_event(p, "compute", t0, dasf_now() - t0, NULL);
 *     {
 *         DASF_ZONE(p, "io");             // a complete event from here to the '}'
 *         write_results();
 *     }
 *     int rc = dasf_profiler_commit(p);   // every event above is in the file
 *     rc = dasf_profiler_destroy(p);      // commits what is left, frees p
 *     if (rc) fprintf(stderr, "trace: %s\n", dasf_strerror(rc));
 *
 * Then `dasf-trace info|cat|stats|export|timeline run.msgpack.zst` (docs/CLI.md),
 * or read it back with the reader below.  Link with `pkg-config --libs
 * dasf-profiler` or CMake's dasf::profiler (docs/BUILD.md).
 *
 * Contents
 *    1. status codes
 *    2. the profiler: create, commit, destroy; record_*_event; any event
 *    3. fast paths: the clock, interned names, DASF_ZONE, typed calls
 *    4. the EventDatabase interface; reading back through a database
 *    5. the FileDatabase: options (every default), open, statistics
 *    6. the reader: iterate over the events of a trace file
 *    7. writing files directly (convert, merge)
 *    8. the process-wide default profiler, wait hooks, signals
 *    9. output-path patterns
 *   10. ABI: which structs may grow, and how
 *   11. deprecated
 *   12. private: what the macros above expand to (not API)
 *
 * Conventions
 *  - Every fallible call returns 0 (DASF_OK) or a negative dasf_status, and
 *    says which ones under "@return"; dasf_strerror() explains any of them.
 *    Two groups recur and are listed once, in section 2: the *record
 *    statuses* and the *commit statuses*.
 *  - Timestamps and durations are seconds as doubles, on dasf_now()'s clock
 *    (CLOCK_MONOTONIC's time line, like Python's time.monotonic()) unless a
 *    call says nanoseconds.
 *  - Strings are NUL-terminated UTF-8 and are copied by the library before
 *    the call returns, unless stated otherwise.
 *  - Thread safety: a profiler (and a database) may be used from any number
 *    of threads at once; each thread records into its own lock-free ring
 *    (docs/RUNTIME.md).  No call is async-signal-safe except where stated.
 */
#ifndef DASF_PROFILER_H
#define DASF_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DASF_VERSION_MAJOR 0
#define DASF_VERSION_MINOR 1
#define DASF_VERSION_PATCH 0
#define DASF_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define DASF_API __attribute__((visibility("default")))
#define DASF_DEPRECATED_(msg) __attribute__((deprecated(msg)))
#else
#define DASF_API
#define DASF_DEPRECATED_(msg)
#endif

/* ======================================================================
 * 1. Status codes
 * ==================================================================== */

/*! dasf_status : what every fallible call returns (0 or negative). */
typedef enum dasf_status {
    DASF_OK = 0,
    DASF_EINVAL = -1,        /* bad argument: NULL name, NaN time, bad option */
    DASF_ENOMEM = -2,        /* out of memory */
    DASF_EIO = -3,           /* read/write/fsync failed (see errno) */
    DASF_ELOCK_TIMEOUT = -4, /* file lock not acquired within lock_timeout */
    DASF_ECORRUPT = -5,      /* damaged data (bad checksum, torn chunk) */
    DASF_EFORMAT = -6,       /* not a trace file, or the other layout */
    DASF_ECLOSED = -7,       /* object already closed / being destroyed */
    DASF_ENOSPC = -8,        /* no space left on the device */
    DASF_EDROPPED = -9,      /* DROP policy: the ring was full, event counted */
    DASF_ENOTSUP = -10,      /* operation not supported by this database */
    DASF_ENOENT = -11,       /* file does not exist */
    DASF_ENOTREG = -12,      /* not a regular file (FIFO, device, socket, directory) */
    DASF_ESYMLINK = -13,     /* output path is a symbolic link (see follow_symlinks) */
} dasf_status;

/*! dasf_strerror() : a static English sentence for a status, also for one
 *  that is not a dasf_status (never NULL).  Async-signal-safe. */
DASF_API const char *dasf_strerror(int status);

/* ======================================================================
 * 2. The profiler (EventProfiler)
 * ==================================================================== */

/*! dasf_profiler : a profiler (opaque).  It records into one database:
 *  its own FileDatabase (the usual case) or one you give it. */
typedef struct dasf_profiler dasf_profiler;
/*! dasf_db : an EventDatabase (opaque; section 4). */
typedef struct dasf_db dasf_db;
/*! dasf_file_db_options : the FileDatabase's options (section 5). */
typedef struct dasf_file_db_options dasf_file_db_options;

/* ---- create, commit, destroy ---------------------------------------- */

/*! dasf_profiler_create() :
 *  The EventProfiler constructor, with the seed's rules:
 *  - database_file and database both non-NULL: DASF_EINVAL;
 *  - database non-NULL: events go to it (the profiler does not own it:
 *    close it yourself after dasf_profiler_destroy);
 *  - otherwise a FileDatabase is opened on database_file, or on
 *    "traces-XXXXXXXX.msgpack" (8 random hex digits; ".msgpack.zst" when
 *    compression_level asks for the archive) when database_file is NULL;
 *    with compression_level left at DASF_COMPRESSION_AUTO the layout then
 *    follows the name (section 5);
 *  - database_creation_kwargs NULL means the FileDatabase defaults except
 *    commit_threshold = 1000, as the seed's EventProfiler.  The file is
 *    created at the first commit.
 *  @return 0 and *out, or (*out untouched) DASF_EINVAL (out NULL, both
 *  database_file and database, an option out of range, options not
 *  initialised), DASF_ENOTSUP (options of a later library version, section
 *  10), DASF_ENOMEM, or what dasf_file_db_open returns for the path:
 *  DASF_ENOTREG, DASF_ESYMLINK, DASF_EIO (remove_old_output_file failed). */
DASF_API int dasf_profiler_create(dasf_profiler **out, const char *database_file,
                                  const dasf_file_db_options *database_creation_kwargs,
                                  dasf_db *database);

/*! dasf_profiler_commit() : a synchronous barrier.  Returns once every
 *  event recorded by any thread before the call is in the file (fsynced
 *  when flush is on), or with the error that prevented it; on error the
 *  events stay in memory (up to max_pending_bytes) and the next commit
 *  retries.
 *  @return 0 or a commit status:
 *    DASF_ELOCK_TIMEOUT  another process held the file lock for lock_timeout
 *    DASF_EIO            write or fsync failed (errno says why)
 *    DASF_ENOSPC         the device is full
 *    DASF_ENOENT         the file's directory does not exist (any more)
 *    DASF_EFORMAT        the file holds the other layout, or is not a trace
 *    DASF_ENOTREG, DASF_ESYMLINK   something else appeared at the path
 *    DASF_ENOMEM         the flusher could not start or encode
 *  and DASF_ECLOSED after destroy, DASF_EINVAL when p is not a profiler.
 *  A user database (section 4) returns what its commit returns. */
DASF_API int dasf_profiler_commit(dasf_profiler *p);

/*! dasf_profiler_snapshot() : the flight recorder (DASF_OVERFLOW_OVERWRITE,
 *  section 5): writes each thread's current window — what it recorded
 *  since the previous snapshot and is still in its ring — once, as chunks
 *  marked "snapshot" with the count of records overwritten before they
 *  could be written; recording goes on meanwhile.  Synchronous like commit.
 *  Other policies: the same as dasf_profiler_commit().
 *  @return 0, DASF_ECLOSED, DASF_EINVAL (not a profiler), DASF_ENOTSUP (a
 *  user database), or a commit status (the chunks stay in memory and the
 *  next snapshot or commit retries the append). */
DASF_API int dasf_profiler_snapshot(dasf_profiler *p);

/*! dasf_profiler_destroy() : closes the profiler's own FileDatabase (with
 *  commit_on_close, the default, a last commit first), joins its flusher
 *  and frees everything; a user database is left open.  Recording into p
 *  concurrently with or after destroy is undefined by contract; the library
 *  detects the common case (a record racing the close) and returns
 *  DASF_ECLOSED instead of corrupting memory.
 *  @return 0, the last commit's commit status (the events it could not
 *  write are reported on stderr), DASF_ECLOSED (destroyed twice) or
 *  DASF_EINVAL (not a profiler). */
DASF_API int dasf_profiler_destroy(dasf_profiler *p);

/*! dasf_profiler_output_file() : the trace file's name, or NULL when the
 *  profiler was created on a user database.  Valid until destroy. */
DASF_API const char *dasf_profiler_output_file(const dasf_profiler *p);

/*! dasf_profiler_database() : the database the profiler records into
 *  (NULL after destroy). */
DASF_API dasf_db *dasf_profiler_database(dasf_profiler *p);

/* ---- record_*_event: the four kinds of the seed ------------------------
 *
 * Every record call of this header returns 0 or one of the *record
 * statuses*:
 *   DASF_EINVAL    bad input: p not a profiler, NULL or invalid name,
 *                  non-finite time, negative or non-finite duration, bad
 *                  id or args, an event too large for its ring (over a
 *                  quarter of ring_capacity); nothing is recorded
 *   DASF_ECLOSED   p is destroyed, or its database is closing
 *   DASF_EDROPPED  DROP policy and this thread's ring was full: the event
 *                  is counted in dasf_db_stats.dropped, not recorded
 *   DASF_ENOMEM    this thread's ring could not be allocated
 * On a user database (section 4): what its record function returns.
 * A record call returns before the event is in the file: commit() makes
 * it durable. */

/*! dasf_scope : instant event scope (phase I only).  0 means global. */
typedef enum dasf_scope {
    DASF_SCOPE_GLOBAL = 'g',
    DASF_SCOPE_PROCESS = 'p',
    DASF_SCOPE_THREAD = 't',
} dasf_scope;

/*! dasf_id : a process id, thread id or async/flow id: int, string or nil.
 *  A zero-initialised dasf_id is DASF_ID_AUTO: for process_id/thread_id it
 *  means "the real pid / kernel tid"; for the event's `id` field it means
 *  "no id".  Python's default of 0 is dasf_id_int(0). */
typedef enum dasf_id_kind {
    DASF_ID_AUTO = 0,
    DASF_ID_NIL = 1,
    DASF_ID_INT = 2,
    DASF_ID_STR = 3,
} dasf_id_kind;

typedef struct dasf_id {
    dasf_id_kind kind;
    int64_t i;     /* DASF_ID_INT */
    const char *s; /* DASF_ID_STR (NUL-terminated, copied on record) */
} dasf_id;

/*! dasf_id_int(), dasf_id_str(), dasf_id_nil() : an id of each kind. */
static inline dasf_id dasf_id_int(int64_t v) {
    dasf_id r = {DASF_ID_INT, v, NULL};
    return r;
}
static inline dasf_id dasf_id_str(const char *s) {
    dasf_id r = {DASF_ID_STR, 0, s};
    return r;
}
static inline dasf_id dasf_id_nil(void) {
    dasf_id r = {DASF_ID_NIL, 0, NULL};
    return r;
}

/*! dasf_arg : one key/value of an event's args, for writing. */
typedef enum dasf_arg_type {
    DASF_ARG_INT = 1,
    DASF_ARG_UINT = 2,
    DASF_ARG_DOUBLE = 3,
    DASF_ARG_BOOL = 4,
    DASF_ARG_STR = 5,
    DASF_ARG_MSGPACK = 6, /* one complete msgpack value (nested data) */
} dasf_arg_type;

typedef struct dasf_arg {
    const char *key;
    dasf_arg_type type;
    union {
        int64_t i;
        uint64_t u;
        double d;
        bool b;
        const char *s;
        struct {
            const void *data;
            size_t size;
        } raw;
    } v;
} dasf_arg;

/*! DASF_ARG_I64(key, x), DASF_ARG_U64, DASF_ARG_F64, DASF_ARG_BOOL,
 *  DASF_ARG_STR(key, s), DASF_ARG_MSGPACK(key, data, size) : one dasf_arg,
 *  e.g. in an array initializer:
 *      dasf_arg a[] = {DASF_ARG_I64("step", 3), DASF_ARG_STR("phase", "halo")};
 *  Every byte of the union not set is zero.  In C these are compound
 *  literals; C++ (which has neither compound literals nor, before C++20,
 *  designated initializers) gets inline functions building the same value
 *  (section 12).  <dasf/profiler.hpp> has typed C++ args. */
#ifndef __cplusplus
#define DASF_ARG_I64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_INT, .v.i = (x)})
#define DASF_ARG_U64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_UINT, .v.u = (x)})
#define DASF_ARG_F64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_DOUBLE, .v.d = (x)})
#define DASF_ARG_BOOL(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_BOOL, .v.b = (x)})
#define DASF_ARG_STR(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_STR, .v.s = (x)})
#define DASF_ARG_MSGPACK(k, p, n)                                                             \
    ((dasf_arg){.key = (k), .type = DASF_ARG_MSGPACK, .v.raw = {(p), (n)}})
#else
#define DASF_ARG_I64(k, x) dasf_arg_i64_((k), (x))
#define DASF_ARG_U64(k, x) dasf_arg_u64_((k), (x))
#define DASF_ARG_F64(k, x) dasf_arg_f64_((k), (x))
#define DASF_ARG_BOOL(k, x) dasf_arg_bool_((k), (x))
#define DASF_ARG_STR(k, x) dasf_arg_str_((k), (x))
#define DASF_ARG_MSGPACK(k, p, n) dasf_arg_msgpack_((k), (p), (n))
#endif

/*! dasf_record_opts : the keyword arguments of record_*_event.  Pass NULL
 *  for Python's defaults (automatic ids, no args, global scope), or
 *  zero-initialise one and set what you need. */
typedef struct dasf_record_opts {
    dasf_scope scope; /* instant events only */
    dasf_id process_id;
    dasf_id thread_id;
    const dasf_arg *args;
    size_t n_args;
    const void *args_msgpack; /* one msgpack map, instead of args */
    size_t args_msgpack_size;
} dasf_record_opts;

/*! dasf_profiler_record_complete_event() : phase X, [timestamp,
 *  timestamp + duration].  @return 0 or a record status. */
DASF_API int dasf_profiler_record_complete_event(dasf_profiler *p, const char *name,
                                                 double timestamp, double duration,
                                                 const dasf_record_opts *opts);
/*! dasf_profiler_record_instant_event() : phase I (opts->scope, default
 *  global).  @return 0 or a record status. */
DASF_API int dasf_profiler_record_instant_event(dasf_profiler *p, const char *name,
                                                double timestamp,
                                                const dasf_record_opts *opts);
/*! dasf_profiler_record_duration_begin_event() : phase B.
 *  @return 0 or a record status. */
DASF_API int dasf_profiler_record_duration_begin_event(dasf_profiler *p, const char *name,
                                                       double timestamp,
                                                       const dasf_record_opts *opts);
/*! dasf_profiler_record_duration_end_event() : phase E (the Python original
 *  writes "B" here by mistake; we write "E").  @return 0 or a record status. */
DASF_API int dasf_profiler_record_duration_end_event(dasf_profiler *p, const char *name,
                                                     double timestamp,
                                                     const dasf_record_opts *opts);

/* ---- any event ------------------------------------------------------------ */

/*! dasf_phase : the Chrome Trace Event phases of the seed, by their letter. */
typedef enum dasf_phase {
    DASF_PHASE_COMPLETE = 'X',
    DASF_PHASE_DURATION_BEGIN = 'B',
    DASF_PHASE_DURATION_END = 'E',
    DASF_PHASE_INSTANT = 'I',
    DASF_PHASE_ASYNC_BEGIN = 'b',
    DASF_PHASE_ASYNC_INSTANT = 'n',
    DASF_PHASE_ASYNC_END = 'e',
    DASF_PHASE_FLOW_BEGIN = 's',
    DASF_PHASE_FLOW_STEP = 't',
    DASF_PHASE_FLOW_END = 'f',
    DASF_PHASE_COUNTER = 'C',
    DASF_PHASE_OBJECT_CREATED = 'N',
    DASF_PHASE_OBJECT_SNAPSHOT = 'O',
    DASF_PHASE_OBJECT_DESTROYED = 'D',
    DASF_PHASE_METADATA = 'M',
    DASF_PHASE_MARK = 'R',
} dasf_phase;

#define DASF_PHASE_COUNT 16

/*! dasf_phase_valid() : 1 when p is one of the 16 phases above, else 0. */
DASF_API int dasf_phase_valid(int p);
/*! dasf_phase_index() : 0..15 in the order above, or -1 if invalid. */
DASF_API int dasf_phase_index(int p);
/*! dasf_phase_from_index() : the phase letter for index 0..15, else 0. */
DASF_API int dasf_phase_from_index(int idx);

/*! dasf_event : one event, for writing (dasf_profiler_record, dasf_db_record).
 *  Zero-initialise, then set what you need:
 *    name       required (non-NULL)
 *    timestamp  seconds, finite
 *    duration   seconds, finite, >= 0; phase X only (ignored otherwise)
 *    phase      one of dasf_phase (0 is an error)
 *    scope      phase I only; 0 = global
 *    process_id / thread_id   see dasf_id (zero = automatic)
 *    cat, id    category and id for async (b n e), flow (s t f) and
 *               object (N O D) events; NULL / DASF_ID_AUTO = absent
 *    args, n_args   typed key/value list, or
 *    args_msgpack, args_msgpack_size   one msgpack *map* (not both).
 */
typedef struct dasf_event {
    const char *name;
    double timestamp;
    double duration;
    dasf_phase phase;
    dasf_scope scope;
    dasf_id process_id;
    dasf_id thread_id;
    const char *cat;
    dasf_id id;
    const dasf_arg *args;
    size_t n_args;
    const void *args_msgpack;
    size_t args_msgpack_size;
} dasf_event;

/*! dasf_profiler_record() : any phase, every field (see dasf_event; the
 *  checks are dasf_event_validate's, section 4).
 *  @return 0 or a record status. */
DASF_API int dasf_profiler_record(dasf_profiler *p, const dasf_event *ev);

/* ======================================================================
 * 3. Fast paths for C users
 * ==================================================================== */

/* ---- the clock ------------------------------------------------------------ */

/*! dasf_now() : seconds on CLOCK_MONOTONIC's time line (comparable with
 *  Python's time.monotonic()), read from the invariant TSC when the kernel
 *  trusts it, else clock_gettime.  TSC ticks become ns through one
 *  continuous, monotone function for the whole run (the same in every
 *  thread and forked child), refitted against CLOCK_MONOTONIC without
 *  jumps; resolution ~1 ns, measured accuracy in docs/RUNTIME.md.
 *  Async-signal-safe. */
DASF_API double dasf_now(void);
/*! dasf_now_ns() : the same clock in integer nanoseconds. */
DASF_API int64_t dasf_now_ns(void);
/*! dasf_seconds_to_ns() : the library's one seconds → nanoseconds rule
 *  (recording, reading, converting, the CLI's time options): the nearest
 *  nanosecond, halves away from zero, computed exactly (no rounding of
 *  s * 1e9 on the way); out of range (|s| * 1e9 beyond int64) saturates to
 *  INT64_MIN / INT64_MAX; NaN gives 0.  Async-signal-safe. */
DASF_API int64_t dasf_seconds_to_ns(double s);
/*! dasf_ns_to_seconds() : ns / 1e9 as the nearest double (exactly rounded
 *  up to 2^53 ns, within one ulp beyond): what dasf_now() returns for
 *  dasf_now_ns(), and what the reader gives for an archive's nanoseconds.
 *  dasf_seconds_to_ns(dasf_ns_to_seconds(n)) == n for |n| < 2^52 (52 days). */
DASF_API double dasf_ns_to_seconds(int64_t ns);
/*! dasf_clock_source() : "tsc" or "clock_gettime". */
DASF_API const char *dasf_clock_source(void);

/* ---- interned names ------------------------------------------------------- */

/*! dasf_name : an interned name (a small integer; 0 is never valid). */
typedef uint32_t dasf_name;

/*! dasf_intern() : interns a name process-wide and returns its handle.
 *  Interning the same string twice returns the same handle.  Handles stay
 *  valid for the life of the process and work with every profiler.
 *  @return a handle > 0, or 0 when name is NULL or memory is exhausted
 *  (a record call given 0 returns DASF_EINVAL). */
DASF_API dasf_name dasf_intern(const char *name);
/*! dasf_name_str() : the string behind a handle, or NULL if invalid. */
DASF_API const char *dasf_name_str(dasf_name h);

/* ---- the typed calls: interned names, the library clock, args ------------
 * Automatic ids; each returns 0 or a record status (section 2). */

/*! dasf_record_complete_h(), _instant_h(), _begin_h(), _end_h() : an
 *  interned name and a caller-given time, no args; the fastest calls: a
 *  few stores into this thread's ring.  The instant has global scope. */
DASF_API int dasf_record_complete_h(dasf_profiler *p, dasf_name name, double timestamp,
                                    double duration);
DASF_API int dasf_record_instant_h(dasf_profiler *p, dasf_name name, double timestamp);
DASF_API int dasf_record_begin_h(dasf_profiler *p, dasf_name name, double timestamp);
DASF_API int dasf_record_end_h(dasf_profiler *p, dasf_name name, double timestamp);
/*! dasf_record_complete_ns() : the same with integer nanoseconds of
 *  dasf_now_ns()'s clock (dur_ns >= 0). */
DASF_API int dasf_record_complete_ns(dasf_profiler *p, dasf_name name, int64_t ts_ns,
                                     int64_t dur_ns);

/*! dasf_record_instant_now(), _begin_now(), _end_now() : the library clock
 *  read inside the call: one clock read (raw TSC ticks, converted to
 *  nanoseconds on the flusher), the cheapest way to timestamp an event.  A
 *  begin/end pair costs two reads, as a DASF_ZONE does.  The instant has
 *  thread scope. */
DASF_API int dasf_record_instant_now(dasf_profiler *p, dasf_name name);
DASF_API int dasf_record_begin_now(dasf_profiler *p, dasf_name name);
DASF_API int dasf_record_end_now(dasf_profiler *p, dasf_name name);

/*! dasf_record_complete_args() : copied name (any length) + typed args,
 *  caller-given time. */
DASF_API int dasf_record_complete_args(dasf_profiler *p, const char *name, double timestamp,
                                       double duration, const dasf_arg *args, size_t n_args);

/*! dasf_record_counter() : phase C, one series per arg, e.g.
 *  DASF_ARG_I64("bytes", 4096). */
DASF_API int dasf_record_counter(dasf_profiler *p, const char *name, double timestamp,
                                 const dasf_arg *values, size_t n_values);
/*! dasf_record_async() : async events (phase b, n or e; any other phase,
 *  or an id that is not an int or a string, is DASF_EINVAL) with category
 *  and id. */
DASF_API int dasf_record_async(dasf_profiler *p, dasf_phase phase, const char *name,
                               const char *cat, dasf_id id, double timestamp);
/*! dasf_record_flow() : flow events (phase s, t or f; any other phase,
 *  or an id that is not an int or a string, is DASF_EINVAL) with category
 *  and id. */
DASF_API int dasf_record_flow(dasf_profiler *p, dasf_phase phase, const char *name,
                              const char *cat, dasf_id id, double timestamp);
/*! dasf_record_process_name(), dasf_record_thread_name() : metadata (M)
 *  naming this process / this thread in viewers. */
DASF_API int dasf_record_process_name(dasf_profiler *p, const char *process_name);
DASF_API int dasf_record_thread_name(dasf_profiler *p, const char *thread_name);

/* ---- DASF_ZONE -------------------------------------------------------------- */

/*! DASF_ZONE(p, "literal") : a complete event from this line to the end of
 *  the enclosing block, timed with the library clock (two reads).  The
 *  literal is interned once per call site.  p may be NULL (the zone is then
 *  a no-op), so code can be built with tracing optionally on.  A zone whose
 *  record fails is lost silently (no status to return at a '}'): use the
 *  _now calls where the status matters.  gcc/clang only (C and C++: the
 *  cleanup attribute); <dasf/profiler.hpp> has dasf::zone, the Fortran
 *  module dasf_zone_begin/dasf_zone_end.  Expands to a dasf_zone_ctx
 *  (section 12). */
#define DASF_ZONE(p, literal)                                                                 \
    static dasf_name DASF_CAT_(dasf_zone_site_, __LINE__);                                     \
    __attribute__((cleanup(dasf_zone_end), unused)) /* clang: cleanup is not a use */         \
    dasf_zone_ctx DASF_CAT_(dasf_zone_, __LINE__) = {                                         \
        (p),                                                                                  \
        __builtin_expect(__atomic_load_n(&DASF_CAT_(dasf_zone_site_, __LINE__),               \
                                         __ATOMIC_RELAXED) != 0,                              \
                         1)                                                                   \
            ? __atomic_load_n(&DASF_CAT_(dasf_zone_site_, __LINE__), __ATOMIC_RELAXED)        \
            : dasf_zone_intern_slow(&DASF_CAT_(dasf_zone_site_, __LINE__), "" literal),       \
        dasf_zone_ticks()}

/* ======================================================================
 * 4. The EventDatabase interface
 * ==================================================================== */

/*! dasf_trace_event : one event as read back (defined in section 6). */
typedef struct dasf_trace_event dasf_trace_event;

/*! dasf_trace_visit : callback of the get_traces calls and
 *  dasf_trace_read_file, once per event; return non-zero to stop (that
 *  value is then returned).  ev and everything it points to are valid
 *  during the call only. */
typedef int (*dasf_trace_visit)(const dasf_trace_event *ev, void *user);

/*! dasf_db_ops : the EventDatabase interface, as a vtable anyone can
 *  implement.  Each function gets the `self` given to dasf_db_create and
 *  returns 0 or a dasf_status, which the dasf_db_* call (and a profiler on
 *  the database) passes on.  record must copy what it keeps (the event's
 *  strings are the caller's); it gets validated events only.  close (may be
 *  NULL) is called once, by dasf_db_close, and must free self. */
typedef struct dasf_db_ops {
    int (*record)(void *self, const dasf_event *ev);
    int (*commit)(void *self);
    int (*get_traces)(void *self, dasf_trace_visit visit, void *user);
    int (*close)(void *self);
} dasf_db_ops;

/*! dasf_db_create() : wraps a user implementation in a dasf_db handle.
 *  @return 0 and *out, DASF_EINVAL (out or ops NULL, or ops->record,
 *  commit or get_traces NULL) or DASF_ENOMEM. */
DASF_API int dasf_db_create(dasf_db **out, const dasf_db_ops *ops, void *self);
/*! dasf_db_record() : validates the event (dasf_event_validate: nothing
 *  recorded on bad input), then hands it to the database.
 *  @return 0 or a record status (DASF_ECLOSED after dasf_db_close). */
DASF_API int dasf_db_record(dasf_db *db, const dasf_event *ev);
/*! dasf_db_commit() : as dasf_profiler_commit.  @return 0 or a commit
 *  status; DASF_ECLOSED after close, DASF_EINVAL when db is not one. */
DASF_API int dasf_db_commit(dasf_db *db);
/*! dasf_db_snapshot() : as dasf_profiler_snapshot (the flight recorder,
 *  DASF_OVERFLOW_OVERWRITE; a commit for the other policies).  @return 0,
 *  a commit status, DASF_ECLOSED after close, DASF_EINVAL when db is not
 *  one, DASF_ENOTSUP for a user database. */
DASF_API int dasf_db_snapshot(dasf_db *db);
/*! dasf_db_close() : closes the database (for a FileDatabase:
 *  commit_on_close honoured, flusher joined) and frees it: a user
 *  database's handle goes; a FileDatabase's stays as a small shell that
 *  answers DASF_ECLOSED, so a late call on it is an error, not a crash.
 *  @return 0, close's status (a FileDatabase: the last commit's commit
 *  status), DASF_ECLOSED (a FileDatabase closed twice) or DASF_EINVAL. */
DASF_API int dasf_db_close(dasf_db *db);

/*! dasf_event_validate() : the checks dasf_db_record makes (exported so a
 *  user database can reuse them): a name, a valid phase, a finite
 *  timestamp, on X a finite duration >= 0, a scope of 0, g, p or t, ids of
 *  a known kind (a string id with its string), valid typed args or one
 *  well-formed msgpack map, not both.  @return 0 or DASF_EINVAL. */
DASF_API int dasf_event_validate(const dasf_event *ev);

/* ---- reading back through a database -------------------------------------- */

/*! dasf_db_get_traces() : calls visit for every event of the database, in
 *  file order (events not yet committed are not included, as in the seed).
 *  A FileDatabase reads its file with the reader of section 6 (a file not
 *  yet created has no events).
 *  @return 0, visit's non-zero value, DASF_EINVAL (visit NULL), DASF_ECLOSED,
 *  or what reading the file returns (dasf_trace_open's statuses). */
DASF_API int dasf_db_get_traces(dasf_db *db, dasf_trace_visit visit, void *user);
/*! dasf_profiler_get_traces() : dasf_db_get_traces on the profiler's
 *  database.  @return the same, and DASF_ECLOSED after destroy. */
DASF_API int dasf_profiler_get_traces(dasf_profiler *p, dasf_trace_visit visit, void *user);

/* ======================================================================
 * 5. The FileDatabase
 * ==================================================================== */

/*! dasf_overflow : what a recording thread does when its ring is full. */
typedef enum dasf_overflow {
    DASF_OVERFLOW_BLOCK = 0, /* wait for the flusher; nothing lost (default) */
    DASF_OVERFLOW_DROP = 1,  /* count the event as dropped; never wait */
    /* Flight recorder: keep the newest ring_capacity bytes per thread (at
     * least 31/32 of it) in memory, overwriting the oldest; write nothing
     * until dasf_profiler_snapshot(), a snapshot signal or a crash/commit
     * signal (docs/RUNTIME.md "Flight recorder").  Archive layout only. */
    DASF_OVERFLOW_OVERWRITE = 2,
} dasf_overflow;

/*! dasf_file_db_options : FileDatabase's constructor arguments.  Start from
 *  dasf_file_db_options_default() (or _init), then set what you need: a
 *  struct not made by them is refused (struct_size, section 10).  The
 *  defaults below are the only place this header states them. */
struct dasf_file_db_options {
    size_t struct_size; /* sizeof the struct the program was built with: set
                           by _init/_default, never by hand (section 10) */
    /* --- the seed's options, same names, same defaults --- */
    const char *database_file;   /* "traces.msgpack" (used when no path is given) */
    int64_t commit_threshold;    /* 5000: a thread's ring holding this many pending
                                    32-byte record slots (an event takes one, more
                                    with a copied name or args; docs/RUNTIME.md)
                                    wakes the flusher.  dasf_profiler_create with
                                    NULL options: 1000 (the seed's EventProfiler) */
    bool remove_old_output_file; /* false; true: delete the file at open */
    bool commit_on_close;        /* true: close/destroy commits what is pending */
    double lock_timeout;         /* 30 s to wait for the file lock, per append */
    int default_byte_size;       /* 8: length prefix of the legacy layout (1..8) */
    bool flush;                  /* true: fsync after every append */
    /* --- ours --- */
    int compression_level;    /* DASF_COMPRESSION_AUTO: by the file name (below);
                                 0 = legacy (Python) layout; 1..19 zstd archive */
    dasf_overflow overflow;   /* DASF_OVERFLOW_BLOCK */
    size_t ring_capacity;     /* DASF_DEFAULT_RING_CAPACITY (4 MiB) bytes per
                                 (thread, database) ring: a power of two,
                                 64 KiB .. 1 GiB */
    double flush_interval;    /* 1.0 s between background flushes (0 < x <= 3600) */
    size_t max_pending_bytes; /* 64 MiB of compressed chunks kept in memory while
                                 appends fail (retried at the next commit) */
    bool follow_symlinks;     /* false: refuse a symbolic link at the trace path
                                 (see dasf_file_db_open) */
    int compression_workers;  /* DASF_COMPRESSION_WORKERS_AUTO: threads that encode +
                                 compress chunks beside the flusher, by the CPU count
                                 (below); 0 = none (the flusher does it all),
                                 1..DASF_MAX_COMPRESSION_WORKERS */
    const char *shm_dir;      /* NULL: $DASF_SHM_DIR, else /dev/shm: the rings (archive
                                 layout) live in files under <shm_dir>/dasf-<uid>/<pid>-<start>/
                                 so that a killed process's events can be recovered
                                 (docs/RUNTIME.md); "" = anonymous memory */
};

#define DASF_MAX_COMPRESSION_WORKERS 64
/*! DASF_COMPRESSION_WORKERS_AUTO : compression_workers' default: one worker
 *  per 8 CPUs this process may run on, at most 8; none below 8 CPUs (a
 *  worker pays off only on a spare core).  With the rings in shared memory
 *  workers keep kill survival as the flusher does (a shared ring's space is
 *  released after the append).  dasf_compression_workers() applies the
 *  rule (docs/RUNTIME.md). */
#define DASF_COMPRESSION_WORKERS_AUTO (-1)
#define DASF_COMPRESSION_WORKERS_DEFAULT DASF_COMPRESSION_WORKERS_AUTO

/*! dasf_compression_workers() : the number of workers a FileDatabase starts
 *  for `n` (DASF_COMPRESSION_WORKERS_AUTO: by the CPU count, as above;
 *  otherwise n itself). */
DASF_API int dasf_compression_workers(int n);

/*! DASF_DEFAULT_RING_CAPACITY : ring_capacity's default. */
#define DASF_DEFAULT_RING_CAPACITY ((size_t)4 << 20)
/*! DASF_COMPRESSION_AUTO : compression_level's default: the layout follows
 *  the file name, so the seed's default "traces.msgpack" is a file the
 *  Python reader reads:
 *    "*.msgpack"              → 0, the legacy (Python) layout
 *    "*.zst", any other name  → DASF_DEFAULT_COMPRESSION_LEVEL, the archive
 *  (the comparison ignores case).  dasf_layout_level() applies the rule. */
#define DASF_COMPRESSION_AUTO (-1)
#define DASF_DEFAULT_COMPRESSION_LEVEL 1

/*! dasf_file_db_options_init() : fills the first struct_size bytes of *o
 *  with the defaults above (and struct_size); a program built against a
 *  later header passes its larger size, whose fields this library does not
 *  know are zeroed.  Use as dasf_file_db_options_init(&o, sizeof o).
 *  @return 0, or DASF_EINVAL (o NULL, struct_size smaller than this
 *  struct's first published version). */
DASF_API int dasf_file_db_options_init(dasf_file_db_options *o, size_t struct_size);

/*! dasf_file_db_options_default() : the defaults, by value (inline: the
 *  struct has the size of this header's, whatever library runs). */
static inline dasf_file_db_options dasf_file_db_options_default(void) {
    dasf_file_db_options o;
    dasf_file_db_options_init(&o, sizeof o);
    return o;
}

/*! dasf_layout_level() : the compression level a FileDatabase or writer
 *  uses for path when asked for `level` (DASF_COMPRESSION_AUTO: by the
 *  name, as above; otherwise level itself). */
DASF_API int dasf_layout_level(const char *path, int level);

/*! dasf_file_db_open() : opens a FileDatabase on path (NULL: opts'
 *  database_file; opts NULL: the defaults).  Nothing is created on disk
 *  until the first commit, except that remove_old_output_file deletes the
 *  file now.  An existing file of the other layout is refused (DASF_EFORMAT)
 *  at the first append.  Many processes may append to one file (each
 *  append under flock).
 *  Safe paths: the trace file must be a regular file; a FIFO, device,
 *  socket or directory at path is refused (DASF_ENOTREG, never opened for
 *  writing, never unlinked by remove_old_output_file).  A new file is
 *  created with O_CREAT|O_EXCL|O_NOFOLLOW, and an existing one is opened
 *  with O_NOFOLLOW: a symbolic link at path (dangling or not) is refused
 *  with DASF_ESYMLINK, so a link planted at the trace path cannot redirect
 *  the trace into another directory or file.  follow_symlinks = true
 *  follows the link as open(2) does.  Symbolic links in the directories of
 *  path are followed as usual.  Both checks are made here (fail fast) and
 *  again at every append (the file may be replaced meanwhile).
 *  @return 0 and *out, DASF_EINVAL (out NULL, no path, an option out of
 *  range, opts not initialised), DASF_ENOTSUP (opts of a later library
 *  version with a field set that this one does not know), DASF_ENOMEM,
 *  DASF_ENOTREG, DASF_ESYMLINK, DASF_EIO (remove_old_output_file failed). */
DASF_API int dasf_file_db_open(dasf_db **out, const char *path,
                               const dasf_file_db_options *opts);

/*! dasf_db_stats : counters of a FileDatabase (zero for user databases). */
typedef struct dasf_db_stats {
    uint64_t recorded;       /* events accepted into rings */
    uint64_t dropped;        /* events dropped (DROP policy) */
    uint64_t written;        /* events durably appended */
    uint64_t chunks_written; /* appends that succeeded */
    uint64_t bytes_written;  /* bytes appended */
    uint64_t pending_bytes;  /* compressed bytes waiting for a retry */
    uint64_t flushes;        /* flusher cycles */
    int last_error;          /* status of the last failed append, or 0 */
} dasf_db_stats;

/*! dasf_db_get_stats() : a consistent snapshot; `dropped` counts every drop
 *  so far, including those the flusher has not reported yet.  Waits for the
 *  flusher to finish the cycle it is in (not for lock_timeout).  Not for the
 *  record path.  @return 0 and *out, or DASF_EINVAL (db or out NULL, db
 *  not a database). */
DASF_API int dasf_db_get_stats(dasf_db *db, dasf_db_stats *out);

/* ======================================================================
 * 6. The reader
 * ==================================================================== */

/*! dasf_value : a lossless msgpack value tree (args, ids). */
typedef enum dasf_value_type {
    DASF_VAL_NIL = 0,
    DASF_VAL_BOOL,
    DASF_VAL_INT,
    DASF_VAL_UINT,
    DASF_VAL_FLOAT,
    DASF_VAL_STR,
    DASF_VAL_BIN,
    DASF_VAL_ARRAY,
    DASF_VAL_MAP,
} dasf_value_type;

typedef struct dasf_value dasf_value;
typedef struct dasf_kv dasf_kv;
struct dasf_value {
    dasf_value_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct {
            const char *ptr; /* not NUL-terminated for BIN; NUL-terminated for STR */
            uint32_t len;
        } str, bin;
        struct {
            dasf_value *items;
            uint32_t n;
        } array;
        struct {
            dasf_kv *items;
            uint32_t n;
        } map;
    } v;
};
struct dasf_kv {
    dasf_value key;
    dasf_value val;
};

/*! dasf_value_map_get() : the value of a string key in a map, or NULL (no
 *  such key, map NULL or not a map). */
DASF_API const dasf_value *dasf_value_map_get(const dasf_value *map, const char *key);

/*! dasf_trace_event : one event as read from a file.  All pointers stay
 *  valid until the next call on the object that produced it. */
struct dasf_trace_event {
    const char *name;
    double timestamp;     /* seconds: the writer's double, bit for bit (archive:
                             from format version 3; older: ns_to_seconds(ns)) */
    int64_t timestamp_ns; /* nanoseconds (archive: exact; legacy:
                             dasf_seconds_to_ns(timestamp)) */
    double duration;      /* phase X, else 0 */
    int64_t duration_ns;
    bool has_duration;
    dasf_phase phase;
    dasf_scope scope;     /* phase I (0 when the file had none) */
    dasf_value process_id; /* INT, STR or NIL */
    dasf_value thread_id;
    const char *cat;       /* NULL when absent */
    dasf_value id;         /* NIL when absent */
    bool has_id;
    dasf_value args;       /* MAP (possibly empty) */
    uint64_t chunk_index;  /* which chunk of the file it came from: its position among
                              the file's chunks (legacy: records) and damaged regions */
    /* How the file held the values, so dasf_writer writes them back as
     * they were (docs/FORMAT.md "Lossless round trips"): the timestamp /
     * duration was an integer number of seconds (a Python int; timestamp
     * holds it exactly), args was nil (Python's None; args is then an
     * empty MAP). */
    bool timestamp_is_int;
    bool duration_is_int;
    bool args_nil;
};

/*! dasf_trace : a reader on one file (opaque). */
typedef struct dasf_trace dasf_trace;

/*! dasf_layout : the two file layouts. */
typedef enum dasf_layout {
    DASF_LAYOUT_EMPTY = 0,   /* empty file */
    DASF_LAYOUT_LEGACY = 1,  /* the Python FileDatabase layout */
    DASF_LAYOUT_ARCHIVE = 2, /* zstd chunk archive */
} dasf_layout;

/*! dasf_trace_open() : opens a trace file of either layout (autodetected).
 *  The file is opened non-blocking and must be a regular file: a FIFO,
 *  device, socket or directory is refused (DASF_ENOTREG) without waiting
 *  for a writer.  Symbolic links are followed (it is an input).
 *  @return 0 and *out, DASF_EINVAL (out or path NULL), DASF_ENOENT,
 *  DASF_EIO, DASF_ENOTREG, DASF_EFORMAT (not a trace), DASF_ENOMEM. */
DASF_API int dasf_trace_open(dasf_trace **out, const char *path);
/*! dasf_trace_next() : the next event.  A damaged chunk is skipped
 *  (counted in dasf_trace_stats) and reading goes on with the next whole
 *  chunk.  *ev stays valid until the next call.
 *  @return 1 and *ev, 0 at the end, or DASF_EINVAL (r or ev NULL),
 *  DASF_EIO (read failed), DASF_ENOMEM. */
DASF_API int dasf_trace_next(dasf_trace *r, const dasf_trace_event **ev);
/*! dasf_trace_close() : frees the reader (NULL is fine).  @return 0 (a
 *  reader has nothing to lose at close; int like every close and destroy). */
DASF_API int dasf_trace_close(dasf_trace *r);

/*! dasf_trace_stats : what a reader saw so far. */
typedef struct dasf_trace_stats {
    dasf_layout layout;
    uint64_t chunks_read;    /* whole chunks (legacy: whole records) */
    uint64_t chunks_damaged; /* skipped as torn or corrupt */
    uint64_t events;
    uint64_t bytes_damaged;  /* bytes skipped */
    uint64_t file_size;
    uint64_t first_damage_offset; /* byte offset of the first damage */
    char first_damage[128];  /* what it was, "" when none */
    /* The latest damaged region: its position among the file's chunks
     * (legacy: records) and damaged regions, counted from 0 in file order
     * (the numbering of dasf_trace_event.chunk_index), offset and length. */
    uint64_t last_damage_index;
    uint64_t last_damage_offset;
    uint64_t last_damage_bytes;
} dasf_trace_stats;

/*! dasf_trace_get_stats() : a copy of the reader's counters (the shape of
 *  dasf_db_get_stats).  @return 0 and *out, or DASF_EINVAL (out NULL; r
 *  NULL: *out zeroed). */
DASF_API int dasf_trace_get_stats(const dasf_trace *r, dasf_trace_stats *out);

/*! dasf_chunk_info : metadata of the chunk the reader is in (archive). */
typedef struct dasf_chunk_info {
    uint64_t index;
    uint64_t offset;         /* byte offset of the chunk in the file */
    uint64_t n_events;
    uint64_t raw_size;       /* decompressed payload bytes */
    uint64_t stored_size;    /* bytes on disk, metadata included */
    int64_t ts_min_ns, ts_max_ns;
    int64_t writer_pid;
    char host[64];
    char clock[32];
    int64_t realtime_offset_ns; /* CLOCK_REALTIME - clock, at write time */
    uint64_t dropped;
    int compression_level;
    int recovered; /* written by a recoverer for a dead writer (metadata "recovered") */
    uint64_t torn; /* half-written records the recoverer dropped (metadata "torn") */
    uint32_t shm_fallback; /* rings of this chunk in anonymous memory although shared memory
                              was configured (full, absent, DASF_SHM_MAX): had the writer been
                              killed, their events would not have been recoverable */
    /* Flight recorder (metadata "snapshot", "overwritten", "overwritten_bytes"):
     * the writer's n-th snapshot (0: not a snapshot chunk), and the records
     * (bytes) of this chunk's thread overwritten since its previous snapshot. */
    uint64_t snapshot;
    uint64_t overwritten, overwritten_bytes;
} dasf_chunk_info;

/*! dasf_trace_chunk() : metadata of the current chunk.  @return 0 and
 *  *out, DASF_ENOTSUP (a legacy file: no chunk metadata), DASF_EINVAL (r or
 *  out NULL, or no event read yet). */
DASF_API int dasf_trace_chunk(const dasf_trace *r, dasf_chunk_info *out);

/*! dasf_recover_stats : what dasf_recover_maps() found and did. */
typedef struct dasf_recover_stats {
    uint64_t maps_seen;      /* process directories under <shm_dir>/dasf-<uid>/ */
    uint64_t maps_live;      /* their process runs: left alone */
    uint64_t maps_busy;      /* locked by their process or another recoverer: left alone */
    uint64_t maps_recovered; /* drained and removed */
    uint64_t rings, events, chunks; /* rings read, events and chunks appended */
    uint64_t torn;           /* records dropped as half-written or inconsistent */
    uint64_t undecodable_maps; /* rings kept: their names or clock table unreadable */
    uint64_t tail_bytes_cut; /* bytes of a torn last chunk (a writer killed inside its
                                append) cut from the trace files before appending */
} dasf_recover_stats;

/*! dasf_recover_maps() : appends the unwritten events of dead processes'
 *  shared rings (docs/RUNTIME.md, "Surviving the process") to their trace
 *  files as chunks marked "recovered", then removes the maps.  shm_dir NULL:
 *  $DASF_SHM_DIR or /dev/shm.  trace_path non-NULL: only rings of that file.
 *  list: print the stale maps on stdout instead, change nothing.  Never
 *  touches a live process's map, never writes an event twice (also when
 *  several recoverers race).  @return 0 or the first append error. */
DASF_API int dasf_recover_maps(const char *shm_dir, const char *trace_path, int list,
                               dasf_recover_stats *out);

/*! dasf_trace_read_file() : open, visit every event, close.
 *  @return 0, visit's non-zero value, DASF_EINVAL (visit NULL), or the
 *  statuses of dasf_trace_open and dasf_trace_next. */
DASF_API int dasf_trace_read_file(const char *path, dasf_trace_visit visit, void *user);

/* ======================================================================
 * 7. Writing files directly
 * ==================================================================== */

/*! dasf_writer : writes already-formed events (e.g. read from another
 *  file) to a file of either layout, in chunks of commit_threshold events,
 *  with the FileDatabase's locking and its safe-path rules (regular files
 *  only; a symbolic link at path is refused unless opts->follow_symlinks).
 *  Used by `dasf-trace convert` and `merge`.  Not thread-safe: one writer,
 *  one thread at a time. */
typedef struct dasf_writer dasf_writer;
/*! dasf_writer_open() : opts as for dasf_file_db_open (NULL: the defaults;
 *  compression_level, default_byte_size, commit_threshold, lock_timeout,
 *  flush, remove_old_output_file and follow_symlinks are used).
 *  @return 0 and *out, or dasf_file_db_open's statuses. */
DASF_API int dasf_writer_open(dasf_writer **out, const char *path,
                              const dasf_file_db_options *opts);
/*! dasf_writer_add() : copies one event into the current chunk, appending
 *  the chunk when it is full.  @return 0, DASF_EINVAL (w or ev NULL, an
 *  event the layout cannot hold), or a commit status of that append. */
DASF_API int dasf_writer_add(dasf_writer *w, const dasf_trace_event *ev);
/*! dasf_writer_set_origin() : writer pid / host / clock recorded in the
 *  next chunks' metadata (merge keeps each chunk's writer); appends the
 *  current chunk first.  @return 0, DASF_EINVAL, or a commit status. */
DASF_API int dasf_writer_set_origin(dasf_writer *w, const dasf_chunk_info *origin);
/*! dasf_writer_flush() : appends what is buffered.  @return 0, DASF_EINVAL
 *  (w NULL) or a commit status. */
DASF_API int dasf_writer_flush(dasf_writer *w);
/*! dasf_writer_close() : flushes and frees the writer (NULL is fine).
 *  @return 0 or the flush's commit status (the writer is freed anyway). */
DASF_API int dasf_writer_close(dasf_writer *w);

/* ======================================================================
 * 8. Process-wide: the default profiler, wait hooks, signals
 * ==================================================================== */

/*! dasf_default_profiler() : a process-wide profiler configured from the
 *  environment, created on first call, destroyed at exit:
 *    DASF_TRACE_FILE        output file (unset: tracing off, returns NULL)
 *    DASF_COMMIT_THRESHOLD  events (unset: commit_threshold's default)
 *    DASF_COMPRESSION       0 legacy, 1..19 archive (unset: by the file
 *                           name, see DASF_COMPRESSION_AUTO)
 *    DASF_OVERFLOW          "block", "drop" or "overwrite"
 *    DASF_FLIGHT_WINDOW     bytes per thread (K/M/G suffix; power of two): the
 *                           flight recorder, DASF_OVERFLOW_OVERWRITE with this
 *                           ring_capacity
 *    DASF_SNAPSHOT_SIGNAL   e.g. "USR2": see dasf_snapshot_on_signal()
 *    DASF_RING_CAPACITY     bytes per thread ring (power of two, 64 KiB..1 GiB)
 *    DASF_COMMIT_SIGNALS, DASF_SIGNAL_TIMEOUT   see dasf_commit_on_signals()
 *    DASF_FOLLOW_SYMLINKS   "1": follow a symbolic link at DASF_TRACE_FILE
 *                           ("0", the default: refuse it, see dasf_file_db_open)
 *  @return the profiler, or NULL when tracing is off or misconfigured
 *  (a message goes to stderr once) — a DASF_TRACE_FILE in a missing
 *  directory or not writable is reported here, at creation. */
DASF_API dasf_profiler *dasf_default_profiler(void);

/*! dasf_set_wait_hooks() : process-wide functions a recording thread calls
 *  right before it sleeps waiting for ring space (BLOCK policy, full ring)
 *  and right after it wakes, e.g. for a language binding to release and
 *  retake its interpreter lock around the wait (the Python package does).
 *  Either may be NULL (the default: no call).  They run on the recording
 *  thread, once per sleep (a long wait is several sleeps of at most 10 ms),
 *  and must not record.  Set them before recording starts. */
typedef void (*dasf_wait_hook)(void);
DASF_API void dasf_set_wait_hooks(dasf_wait_hook before_wait, dasf_wait_hook after_wait);

/*! dasf_commit_on_signals() : when one of `signals` arrives (typically
 *  SIGTERM, SIGINT, SIGHUP, SIGXCPU: a batch scheduler's walltime, Ctrl-C),
 *  every event recorded into any open FileDatabase before it is committed,
 *  waiting at most `timeout` seconds, and then the program's own handler
 *  runs — or the default action (same exit status, same core dump) — as if
 *  the library were not there.  Install after the program's own handlers
 *  (the LD_PRELOAD library of `dasf-trace record` also catches handlers set
 *  later).  A signal the process ignores stays ignored.  Environment
 *  equivalent, read by dasf_default_profiler(): DASF_COMMIT_SIGNALS=
 *  "TERM,INT,HUP,XCPU" | "default" | "none", DASF_SIGNAL_TIMEOUT=seconds
 *  (default 10).  The handler itself is async-signal-safe: it wakes a
 *  committer thread of the library and waits for it with a deadline
 *  (docs/RECORD.md).
 *  @return 0, DASF_EINVAL (SIGKILL/SIGSTOP, a bad number or timeout) or
 *  DASF_ENOMEM (the committer thread could not start). */
DASF_API int dasf_commit_on_signals(const int *signals, size_t n, double timeout);

/*! dasf_commit_on_crash() : the crash handler.  On SIGSEGV, SIGBUS, SIGABRT,
 *  SIGFPE or SIGILL the handler (async-signal-safe: no lock, no malloc)
 *  wakes the library's committer thread, waits at most `timeout` seconds
 *  for every open FileDatabase to be committed, then lets the signal take
 *  its course exactly as dasf_commit_on_signals() does (the program's own
 *  handler, or the default action: same exit status, same core dump).  A
 *  crash on a library thread (flusher, committer) skips the commit; what
 *  the commit could not write in time is in the shared-memory rings for
 *  `dasf-trace recover` (docs/RUNTIME.md).  On by default under `dasf-trace
 *  record` (--no-crash-handler); environment, read by
 *  dasf_default_profiler(): DASF_CRASH_HANDLER=1|0, DASF_CRASH_TIMEOUT=
 *  seconds (default 2).  @return 0, or DASF_EINVAL (a bad timeout). */
DASF_API int dasf_commit_on_crash(double timeout);

/*! dasf_snapshot_on_signal() : sig (e.g. SIGUSR2) makes every open
 *  FileDatabase take a snapshot (dasf_profiler_snapshot(); a commit for
 *  policies other than OVERWRITE).  The handler only wakes the library's
 *  committer thread (async-signal-safe, it does not wait) and then calls
 *  the program's own handler, if it has one; the signal's default action
 *  (terminate, for SIGUSR2) does not run.  The commit signals and the crash
 *  handler above write a flight recorder's window as a snapshot too.
 *  Environment, read by dasf_default_profiler(): DASF_SNAPSHOT_SIGNAL=USR2.
 *  @return 0, DASF_EINVAL (SIGKILL/SIGSTOP, a bad number) or DASF_ENOMEM
 *  (the committer thread could not start). */
DASF_API int dasf_snapshot_on_signal(int sig);

/* ======================================================================
 * 9. Output-path patterns (docs/RECORD.md)
 * ==================================================================== */

/*! dasf_path_vars : the values behind the escapes of an output pattern. */
typedef struct dasf_path_vars {
    int64_t pid;        /* %p */
    const char *host;   /* %h: up to the first '.', NULL = this host */
    int64_t start_time; /* %t: Unix seconds, written YYYYmmdd-HHMMSS (local time) */
    int64_t rank;       /* %r: an MPI rank; < 0 = none (then %r is an error) */
} dasf_path_vars;

/*! dasf_path_expand() : pattern with %p %h %t %r and %% replaced, and %n
 *  replaced by `counter`, into out[0..n).  Async-signal-unsafe only through
 *  %t (localtime_r).  @return the length, or DASF_EINVAL (unknown escape, a
 *  lone '%', %r without a rank, result longer than n - 1). */
DASF_API int dasf_path_expand(char *out, size_t n, const char *pattern,
                              const dasf_path_vars *v, int64_t counter);
/*! dasf_path_has_counter() : 1 when pattern contains %n, else 0. */
DASF_API int dasf_path_has_counter(const char *pattern);

#define DASF_PATH_APPEND 1 /* dasf_path_claim: an existing regular file is fine */

/*! dasf_path_claim() : expands pattern and creates the file (O_EXCL), so
 *  no two processes or runs share it unless asked: with %n the counter
 *  goes 1, 2, ... to the first name that does not exist; without %n an
 *  existing file is refused (errno EEXIST) unless flags has
 *  DASF_PATH_APPEND.  @return 0 with the name in out, DASF_EINVAL (bad
 *  pattern), DASF_EIO (errno says why: EEXIST, ENOENT, EACCES, ...),
 *  DASF_ENOSPC. */
DASF_API int dasf_path_claim(char *out, size_t n, const char *pattern,
                             const dasf_path_vars *v, int flags);

/* ======================================================================
 * 10. ABI: which structs may grow, and how
 * ======================================================================
 *
 * dasf_file_db_options is the options struct that grows (three fields so
 * far beyond the seed's, more to come), so it carries its size:
 * struct_size, set by dasf_file_db_options_init(&o, sizeof o) or by the
 * inline dasf_file_db_options_default().  The library reads only the
 * fields that fit in the caller's struct_size; the others keep their
 * defaults, so a program built against an older header runs unchanged on
 * a newer library.  A program built against a newer header runs on an
 * older library as long as it leaves the fields that library does not know
 * at 0 (their default); setting one gives DASF_ENOTSUP, never a silently
 * ignored option.  Rules for adding a field: at the end, starting at or
 * after the previous version's sizeof (never in its tail padding), with 0
 * meaning its default.
 *
 * The other structs carry no size, on purpose:
 *  - dasf_event, dasf_record_opts, dasf_arg, dasf_id, dasf_path_vars,
 *    dasf_db_ops: the caller zero-initialises or fills them field by field,
 *    so a size field would be 0 in existing code; they are frozen, and what
 *    is new comes as a new call (as dasf_record_opts came beside dasf_event);
 *  - dasf_db_stats, dasf_trace_stats, dasf_chunk_info: the library fills
 *    them; dasf_trace_event and dasf_value: the library owns them.  They
 *    change only with the library's major version (the SONAME).
 * DASF_VERSION_* above is the header's version; the shared library's
 * SONAME is libdasf-profiler.so.DASF_VERSION_MAJOR. */

/* ======================================================================
 * 11. Deprecated
 * ==================================================================== */

/*! dasf_profiler_intern() : dasf_intern(name); p is ignored (it may be
 *  NULL): names are process-wide, the same handle for every profiler.
 *  Kept for programs that call it; use dasf_intern. */
DASF_API DASF_DEPRECATED_("names are process-wide: use dasf_intern(name)") dasf_name
dasf_profiler_intern(dasf_profiler *p, const char *name);

/* ======================================================================
 * 12. Private: what the macros above expand to
 * ======================================================================
 * Not API: never call or fill these yourself; they may change between
 * versions (their ABI stays while DASF_ZONE's expansion may be compiled
 * into programs, and the Fortran module mirrors dasf_zone_ctx). */

/* DASF_ZONE's context: the profiler, the site's interned name, the start
 * in raw clock ticks.  The Fortran module's type(dasf_zone) has the same
 * layout. */
typedef struct dasf_zone_ctx {
    dasf_profiler *p;
    dasf_name name;
    uint64_t start; /* raw clock ticks */
} dasf_zone_ctx;

/* The raw clock ticks of dasf_now() (TSC or ns).  Async-signal-safe. */
DASF_API uint64_t dasf_zone_ticks(void);
/* DASF_ZONE's cleanup: records the zone as a complete event (nothing
 * when z->p or z->name is 0). */
DASF_API void dasf_zone_end(dasf_zone_ctx *z);
/* Interns name for a DASF_ZONE call site on its first pass and stores the
 * handle in *site. */
DASF_API dasf_name dasf_zone_intern_slow(dasf_name *site, const char *name);

#define DASF_CAT2_(a, b) a##b
#define DASF_CAT_(a, b) DASF_CAT2_(a, b)

#ifdef __cplusplus
/* The C++ DASF_ARG_* (section 2): a value-initialised dasf_arg (all bytes
 * zero), then key, type and value, as the C compound literals give. */
static inline dasf_arg dasf_arg_of_(const char *key, dasf_arg_type type) {
    dasf_arg a = dasf_arg(); /* value-initialised: all zero */
    a.key = key;
    a.type = type;
    return a;
}
static inline dasf_arg dasf_arg_i64_(const char *key, int64_t x) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_INT);
    a.v.i = x;
    return a;
}
static inline dasf_arg dasf_arg_u64_(const char *key, uint64_t x) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_UINT);
    a.v.u = x;
    return a;
}
static inline dasf_arg dasf_arg_f64_(const char *key, double x) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_DOUBLE);
    a.v.d = x;
    return a;
}
static inline dasf_arg dasf_arg_bool_(const char *key, bool x) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_BOOL);
    a.v.b = x;
    return a;
}
static inline dasf_arg dasf_arg_str_(const char *key, const char *x) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_STR);
    a.v.s = x;
    return a;
}
static inline dasf_arg dasf_arg_msgpack_(const char *key, const void *data, size_t size) {
    dasf_arg a = dasf_arg_of_(key, DASF_ARG_MSGPACK);
    a.v.raw.data = data;
    a.v.raw.size = size;
    return a;
}
#endif

#ifdef __cplusplus
}
#endif
#endif /* DASF_PROFILER_H */
