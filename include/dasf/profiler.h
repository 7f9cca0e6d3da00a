/*
 * dasf-profiler — nanosecond-overhead trace recording for HPC codes.
 *
 * This header is the manual.  It reads top to bottom:
 *   1. status codes and small types (phases, scopes, ids, args),
 *   2. the simple profiler API: create, record_*, commit, destroy,
 *   3. fast paths for C users: dasf_now, interned names, DASF_ZONE,
 *   4. the EventDatabase interface and the built-in FileDatabase,
 *   5. the reader: iterate over the events of a trace file,
 *   6. tuning knobs and the process-wide default profiler.
 *
 * It is the C version of the Python module dasf.profile.profiler
 * (DASF, discovery-unicamp/dasf-core): same phases, same four event kinds,
 * same FileDatabase options and defaults, same EventProfiler rules.
 *
 * Conventions: every fallible call returns 0 (DASF_OK) or a negative
 * dasf_status; dasf_strerror() explains it.  Timestamps and durations are
 * seconds as doubles (CLOCK_MONOTONIC by default, like Python's
 * time.monotonic()).  Strings are NUL-terminated UTF-8 and are copied by
 * the library before the call returns unless stated otherwise.
 *
 * Thread safety: a profiler may be used from any number of threads at once;
 * each thread records into its own lock-free ring (see docs/DESIGN.md).
 * Functions that are not safe in a signal handler say so: none of them is
 * async-signal-safe except where stated.
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
#else
#define DASF_API
#endif

/* ======================================================================
 * 1. Status codes and small types
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

/*! dasf_strerror() : a static English sentence for a status (never NULL). */
DASF_API const char *dasf_strerror(int status);

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

/*! dasf_scope : instant event scope (phase I only).  0 means global. */
typedef enum dasf_scope {
    DASF_SCOPE_GLOBAL = 'g',
    DASF_SCOPE_PROCESS = 'p',
    DASF_SCOPE_THREAD = 't',
} dasf_scope;

/*! dasf_id : a process id, thread id or async/flow id.
 *  int, string or nil.  A zero-initialised dasf_id is DASF_ID_AUTO:
 *  for process_id/thread_id it means "the real pid / kernel tid"; for the
 *  event's `id` field it means "no id".  Python's default of 0 is
 *  dasf_id_int(0). */
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

/* DASF_ARG_*(key, value) : one dasf_arg, e.g. in an array initializer.  C
 * gets compound literals; C++ (which has neither compound literals nor, before
 * C++20, designated initializers) gets inline functions building the same
 * value: every byte of the union not set is zero in both.  See also
 * <dasf/profiler.hpp> for typed C++ args. */
#ifndef __cplusplus
#define DASF_ARG_I64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_INT, .v.i = (x)})
#define DASF_ARG_U64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_UINT, .v.u = (x)})
#define DASF_ARG_F64(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_DOUBLE, .v.d = (x)})
#define DASF_ARG_BOOL(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_BOOL, .v.b = (x)})
#define DASF_ARG_STR(k, x) ((dasf_arg){.key = (k), .type = DASF_ARG_STR, .v.s = (x)})
#define DASF_ARG_MSGPACK(k, p, n)                                                             \
    ((dasf_arg){.key = (k), .type = DASF_ARG_MSGPACK, .v.raw = {(p), (n)}})
#else
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
#define DASF_ARG_I64(k, x) dasf_arg_i64_((k), (x))
#define DASF_ARG_U64(k, x) dasf_arg_u64_((k), (x))
#define DASF_ARG_F64(k, x) dasf_arg_f64_((k), (x))
#define DASF_ARG_BOOL(k, x) dasf_arg_bool_((k), (x))
#define DASF_ARG_STR(k, x) dasf_arg_str_((k), (x))
#define DASF_ARG_MSGPACK(k, p, n) dasf_arg_msgpack_((k), (p), (n))
#endif

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

/*! dasf_record_opts : the keyword arguments of record_*_event (all optional;
 *  pass NULL for Python's defaults: automatic ids, no args, global scope). */
typedef struct dasf_record_opts {
    dasf_scope scope; /* instant events only */
    dasf_id process_id;
    dasf_id thread_id;
    const dasf_arg *args;
    size_t n_args;
    const void *args_msgpack; /* one msgpack map, instead of args */
    size_t args_msgpack_size;
} dasf_record_opts;

/* ======================================================================
 * 2. The profiler (EventProfiler)
 * ==================================================================== */

typedef struct dasf_profiler dasf_profiler;
typedef struct dasf_db dasf_db;
typedef struct dasf_file_db_options dasf_file_db_options;

/*! dasf_profiler_create() :
 *  The EventProfiler constructor, with the seed's rules:
 *  - database_file and database both non-NULL: DASF_EINVAL;
 *  - database non-NULL: events go to it (the profiler does not own it:
 *    close it yourself after dasf_profiler_destroy);
 *  - otherwise a FileDatabase is opened on database_file, or on
 *    "traces-XXXXXXXX.msgpack" (8 random hex digits; ".msgpack.zst" when
 *    compression_level asks for the archive) when database_file is NULL;
 *    with compression_level left at DASF_COMPRESSION_AUTO the layout then
 *    follows the name (".msgpack": legacy, ".zst" or other: archive);
 *  - database_creation_kwargs NULL means the profiler's defaults:
 *    dasf_file_db_options_default() with commit_threshold 1000.
 *  @return 0 and *out, or a negative dasf_status (*out untouched). */
DASF_API int dasf_profiler_create(dasf_profiler **out, const char *database_file,
                                  const dasf_file_db_options *database_creation_kwargs,
                                  dasf_db *database);

/*! dasf_profiler_record_complete_event() : phase X, [ts, ts+dur]. */
DASF_API int dasf_profiler_record_complete_event(dasf_profiler *p, const char *name,
                                                 double timestamp, double duration,
                                                 const dasf_record_opts *opts);
/*! dasf_profiler_record_instant_event() : phase I (opts->scope, default g). */
DASF_API int dasf_profiler_record_instant_event(dasf_profiler *p, const char *name,
                                                double timestamp,
                                                const dasf_record_opts *opts);
/*! dasf_profiler_record_duration_begin_event() : phase B. */
DASF_API int dasf_profiler_record_duration_begin_event(dasf_profiler *p, const char *name,
                                                       double timestamp,
                                                       const dasf_record_opts *opts);
/*! dasf_profiler_record_duration_end_event() : phase E (the Python original
 *  writes "B" here by mistake; we write "E"). */
DASF_API int dasf_profiler_record_duration_end_event(dasf_profiler *p, const char *name,
                                                     double timestamp,
                                                     const dasf_record_opts *opts);
/*! dasf_profiler_record() : any phase, every field (see dasf_event). */
DASF_API int dasf_profiler_record(dasf_profiler *p, const dasf_event *ev);

/*! dasf_profiler_commit() : a synchronous barrier.  Returns once every
 *  event recorded by any thread before the call is in the file, or with
 *  the error that prevented it (DASF_ELOCK_TIMEOUT, DASF_EIO, DASF_ENOSPC);
 *  on error the events stay in memory and the next commit retries. */
DASF_API int dasf_profiler_commit(dasf_profiler *p);

/*! dasf_trace_event : one event read back (reader, get_traces).  All
 *  pointers stay valid until the next call on the object that produced it. */
typedef struct dasf_value dasf_value;
typedef struct dasf_trace_event dasf_trace_event;

/*! dasf_trace_visit : callback of get_traces; return non-zero to stop
 *  (that value is then returned by get_traces). */
typedef int (*dasf_trace_visit)(const dasf_trace_event *ev, void *user);

/*! dasf_profiler_get_traces() : calls visit for every event of the
 *  database, in file order (events not yet committed are not included, as
 *  in the seed).  @return 0, visit's non-zero value, or a dasf_status. */
DASF_API int dasf_profiler_get_traces(dasf_profiler *p, dasf_trace_visit visit, void *user);

/*! dasf_profiler_output_file() : the file name, or NULL when the profiler
 *  was created on a user database.  Valid until destroy. */
DASF_API const char *dasf_profiler_output_file(const dasf_profiler *p);

/*! dasf_profiler_database() : the database the profiler records into. */
DASF_API dasf_db *dasf_profiler_database(dasf_profiler *p);

/*! dasf_profiler_destroy() : closes the profiler's own FileDatabase
 *  (commit_on_close honoured), joins its flusher and frees everything.
 *  Recording into p concurrently with or after destroy is undefined by
 *  contract; the library detects the common case (a record racing the
 *  close) and returns DASF_ECLOSED instead of corrupting memory.
 *  @return the close commit's status (0 when nothing was pending). */
DASF_API int dasf_profiler_destroy(dasf_profiler *p);

/* ======================================================================
 * 3. Fast paths for C users
 * ==================================================================== */

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

/*! dasf_name : an interned name (a small integer; 0 is never valid). */
typedef uint32_t dasf_name;

/*! dasf_intern() : interns a name process-wide and returns its handle.
 *  Interning the same string twice returns the same handle.  Handles stay
 *  valid for the life of the process and work with every profiler.
 *  @return a handle > 0, or 0 when name is NULL or memory is exhausted. */
DASF_API dasf_name dasf_intern(const char *name);
/*! dasf_profiler_intern() : dasf_intern() (kept for the profiler-centric
 *  style of the API; p may be NULL). */
DASF_API dasf_name dasf_profiler_intern(dasf_profiler *p, const char *name);
/*! dasf_name_str() : the string behind a handle, or NULL if invalid. */
DASF_API const char *dasf_name_str(dasf_name h);

/*! Record with an interned name, caller-given time, automatic ids, no args.
 *  The fastest calls: a few stores into this thread's ring. */
DASF_API int dasf_record_complete_h(dasf_profiler *p, dasf_name name, double timestamp,
                                    double duration);
DASF_API int dasf_record_instant_h(dasf_profiler *p, dasf_name name, double timestamp);
DASF_API int dasf_record_begin_h(dasf_profiler *p, dasf_name name, double timestamp);
DASF_API int dasf_record_end_h(dasf_profiler *p, dasf_name name, double timestamp);
/*! Same, timestamps in integer nanoseconds of dasf_now_ns()'s clock. */
DASF_API int dasf_record_complete_ns(dasf_profiler *p, dasf_name name, int64_t ts_ns,
                                     int64_t dur_ns);

/*! Record with the library clock read inside the call: one clock read (raw
 *  TSC ticks, converted to nanoseconds on the flusher), the cheapest way to
 *  timestamp an event.  A begin/end pair costs two reads, as a DASF_ZONE does.
 *  The instant has thread scope. */
DASF_API int dasf_record_instant_now(dasf_profiler *p, dasf_name name);
DASF_API int dasf_record_begin_now(dasf_profiler *p, dasf_name name);
DASF_API int dasf_record_end_now(dasf_profiler *p, dasf_name name);

/*! dasf_record_complete_args() : copied name (any length) + typed args,
 *  caller-given time, automatic ids. */
DASF_API int dasf_record_complete_args(dasf_profiler *p, const char *name, double timestamp,
                                       double duration, const dasf_arg *args, size_t n_args);

/*! Counters (phase C): one series per arg, e.g. {"bytes", 4096}. */
DASF_API int dasf_record_counter(dasf_profiler *p, const char *name, double timestamp,
                                 const dasf_arg *values, size_t n_values);
/*! Async events (b n e) with category and id. */
DASF_API int dasf_record_async(dasf_profiler *p, dasf_phase phase, const char *name,
                               const char *cat, dasf_id id, double timestamp);
/*! Flow events (s t f) with category and id. */
DASF_API int dasf_record_flow(dasf_profiler *p, dasf_phase phase, const char *name,
                              const char *cat, dasf_id id, double timestamp);
/*! Metadata (M): names this process / this thread in viewers. */
DASF_API int dasf_record_process_name(dasf_profiler *p, const char *process_name);
DASF_API int dasf_record_thread_name(dasf_profiler *p, const char *thread_name);

/*! DASF_ZONE(p, "literal") : a complete event from this line to the end
 *  of the enclosing block, timed with the library clock.  The literal is
 *  interned once per call site.  p may be NULL (the zone is then a no-op),
 *  so code can be built with tracing optionally on.  gcc/clang only (C and
 *  C++: the cleanup attribute); <dasf/profiler.hpp> has dasf::zone. */
typedef struct dasf_zone_ctx {
    dasf_profiler *p;
    dasf_name name;
    uint64_t start; /* raw clock ticks */
} dasf_zone_ctx;

DASF_API uint64_t dasf_zone_ticks(void);
DASF_API void dasf_zone_end(dasf_zone_ctx *z);
DASF_API dasf_name dasf_zone_intern_slow(dasf_name *site, const char *name);

#define DASF_CAT2_(a, b) a##b
#define DASF_CAT_(a, b) DASF_CAT2_(a, b)
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
 * 4. The EventDatabase interface and the FileDatabase
 * ==================================================================== */

/*! dasf_db_ops : the EventDatabase interface, as a vtable anyone can
 *  implement.  Each function gets the `self` given to dasf_db_create.
 *  record must copy what it keeps (the event's strings are the caller's).
 *  close is called once by dasf_db_close and must free self. */
typedef struct dasf_db_ops {
    int (*record)(void *self, const dasf_event *ev);
    int (*commit)(void *self);
    int (*get_traces)(void *self, dasf_trace_visit visit, void *user);
    int (*close)(void *self);
} dasf_db_ops;

/*! dasf_db_create() : wraps a user implementation in a dasf_db handle. */
DASF_API int dasf_db_create(dasf_db **out, const dasf_db_ops *ops, void *self);
/*! dasf_db_record() : validates the event (clear error, nothing recorded
 *  on bad input), then hands it to the database. */
DASF_API int dasf_db_record(dasf_db *db, const dasf_event *ev);
DASF_API int dasf_db_commit(dasf_db *db);
DASF_API int dasf_db_get_traces(dasf_db *db, dasf_trace_visit visit, void *user);
/*! dasf_db_close() : closes and frees the database (for a FileDatabase:
 *  commit_on_close honoured, flusher joined).  @return close's status. */
DASF_API int dasf_db_close(dasf_db *db);

/*! dasf_event_validate() : the checks dasf_db_record makes (exported so a
 *  user database can reuse them).  @return 0 or DASF_EINVAL. */
DASF_API int dasf_event_validate(const dasf_event *ev);

/*! dasf_overflow : what a producer does when its ring is full. */
typedef enum dasf_overflow {
    DASF_OVERFLOW_BLOCK = 0, /* wait for the flusher; nothing lost (default) */
    DASF_OVERFLOW_DROP = 1,  /* count the event as dropped; never wait */
} dasf_overflow;

/*! dasf_file_db_options : FileDatabase's constructor arguments.  Always
 *  start from dasf_file_db_options_default(). */
struct dasf_file_db_options {
    /* --- the seed's options, same names, same defaults --- */
    const char *database_file;   /* "traces.msgpack" */
    int64_t commit_threshold;    /* 5000 events: a ring this full wakes the flusher */
    bool remove_old_output_file; /* false: delete the file at open when true */
    bool commit_on_close;        /* true */
    double lock_timeout;         /* 30 s */
    int default_byte_size;       /* 8: length prefix of the legacy layout (1..8) */
    bool flush;                  /* true: fsync after every append */
    /* --- ours --- */
    int compression_level;    /* DASF_COMPRESSION_AUTO (default): by the file name (below);
                                 0 = legacy (Python) layout; 1..19 zstd archive */
    dasf_overflow overflow;   /* DASF_OVERFLOW_BLOCK */
    size_t ring_capacity;     /* bytes per (thread, db) ring, power of two */
    double flush_interval;    /* seconds between background flushes (1.0) */
    size_t max_pending_bytes; /* cap on unwritten compressed chunks kept in memory */
    bool follow_symlinks;     /* false: refuse a symbolic link at the trace path (below) */
    int compression_workers;  /* threads that encode + compress chunks beside the flusher:
                                 DASF_COMPRESSION_WORKERS_AUTO (default, below), 0 = none
                                 (the flusher does it all), 1..DASF_MAX_COMPRESSION_WORKERS */
};

#define DASF_MAX_COMPRESSION_WORKERS 64
/* compression_workers unset: one worker per 8 CPUs this process may run on,
 * at most 8; none below 8 CPUs (a worker pays off only on a spare core).
 * dasf_compression_workers() applies the rule (docs/RUNTIME.md). */
#define DASF_COMPRESSION_WORKERS_AUTO (-1)
#define DASF_COMPRESSION_WORKERS_DEFAULT DASF_COMPRESSION_WORKERS_AUTO

/*! dasf_compression_workers() : the number of workers a FileDatabase starts
 *  for `n` (DASF_COMPRESSION_WORKERS_AUTO: by the CPU count, as above;
 *  otherwise n itself). */
DASF_API int dasf_compression_workers(int n);

#define DASF_DEFAULT_COMPRESSION_LEVEL 1
#define DASF_DEFAULT_RING_CAPACITY ((size_t)4 << 20)
/* compression_level unset: the layout follows the file name, so the seed's
 * default "traces.msgpack" is a file the Python reader reads:
 *   "*.msgpack"       → 0, the legacy (Python) layout
 *   "*.zst", any other name → DASF_DEFAULT_COMPRESSION_LEVEL, the archive
 * (the comparison ignores case).  dasf_layout_level() applies the rule. */
#define DASF_COMPRESSION_AUTO (-1)

/*! dasf_layout_level() : the compression level a FileDatabase or writer
 *  uses for path when asked for `level` (DASF_COMPRESSION_AUTO: by the
 *  name, as above; otherwise level itself). */
DASF_API int dasf_layout_level(const char *path, int level);

/*! dasf_file_db_options_default() : the seed's defaults plus ours. */
DASF_API dasf_file_db_options dasf_file_db_options_default(void);

/*! dasf_file_db_open() : opens a FileDatabase on path (NULL: opts'
 *  database_file; opts NULL: defaults).  Nothing is created on disk until
 *  the first commit, except that remove_old_output_file deletes the file
 *  now (dasf_default_profiler checks DASF_TRACE_FILE's directory up front).  An existing file of the other layout is refused (DASF_EFORMAT)
 *  at the first append.
 *  Safe paths: the trace file must be a regular file; a FIFO, device,
 *  socket or directory at path is refused (DASF_ENOTREG, never opened for
 *  writing, never unlinked by remove_old_output_file).  A new file is
 *  created with O_CREAT|O_EXCL|O_NOFOLLOW, and an existing one is opened
 *  with O_NOFOLLOW: a symbolic link at path (dangling or not) is refused
 *  with DASF_ESYMLINK, so a link planted at the trace path cannot redirect
 *  the trace into another directory or file.  follow_symlinks = true (or,
 *  for dasf_default_profiler, DASF_FOLLOW_SYMLINKS=1) follows the link as
 *  open(2) does.  Symbolic links in the directories of path are followed
 *  as usual.  Both checks are made here (fail fast) and again at every
 *  append (the file may be replaced meanwhile); appending to an existing
 *  regular file, by many processes under flock, is unchanged. */
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
 *  record path. */
DASF_API int dasf_db_get_stats(dasf_db *db, dasf_db_stats *out);

/* ======================================================================
 * 5. The reader
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

/*! dasf_value_map_get() : the value of a string key in a map, or NULL. */
DASF_API const dasf_value *dasf_value_map_get(const dasf_value *map, const char *key);

/*! dasf_trace_event : one event as read from a file. */
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
 *  @return 0, DASF_ENOENT, DASF_EIO, DASF_ENOTREG, DASF_EFORMAT (not a trace). */
DASF_API int dasf_trace_open(dasf_trace **out, const char *path);
/*! dasf_trace_next() : 1 and *ev, 0 at the end, <0 on an I/O error.  A
 *  damaged chunk is skipped (counted in dasf_trace_info) and reading goes
 *  on with the next whole chunk. *ev stays valid until the next call. */
DASF_API int dasf_trace_next(dasf_trace *r, const dasf_trace_event **ev);
/*! dasf_trace_close() : frees the reader (NULL is fine). */
DASF_API void dasf_trace_close(dasf_trace *r);

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
} dasf_chunk_info;

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

DASF_API void dasf_trace_get_stats(const dasf_trace *r, dasf_trace_stats *out);
/*! dasf_trace_chunk() : metadata of the current chunk (after next()
 *  returned 1); DASF_ENOTSUP on legacy files. */
DASF_API int dasf_trace_chunk(const dasf_trace *r, dasf_chunk_info *out);

/*! dasf_trace_read_file() : convenience: visit every event of a file. */
DASF_API int dasf_trace_read_file(const char *path, dasf_trace_visit visit, void *user);

/* ======================================================================
 * 6. Writing files directly, and the process-wide default profiler
 * ==================================================================== */

/*! dasf_writer : writes already-formed events (e.g. read from another
 *  file) to a file of either layout, in chunks, with the FileDatabase's
 *  locking and its safe-path rules (regular files only; a symbolic link at
 *  path is refused unless opts->follow_symlinks).  Used by `dasf-trace
 *  convert` and `merge`. */
typedef struct dasf_writer dasf_writer;
DASF_API int dasf_writer_open(dasf_writer **out, const char *path,
                              const dasf_file_db_options *opts);
DASF_API int dasf_writer_add(dasf_writer *w, const dasf_trace_event *ev);
/*! dasf_writer_set_origin() : writer pid / host / clock recorded in the
 *  next chunks' metadata (merge keeps each chunk's writer). */
DASF_API int dasf_writer_set_origin(dasf_writer *w, const dasf_chunk_info *origin);
DASF_API int dasf_writer_flush(dasf_writer *w);
DASF_API int dasf_writer_close(dasf_writer *w);

/*! dasf_set_wait_hooks() : process-wide functions a recording thread calls
 *  right before it sleeps waiting for ring space (BLOCK policy, full ring)
 *  and right after it wakes, e.g. for a language binding to release and
 *  retake its interpreter lock around the wait (the Python package does).
 *  Either may be NULL (the default: no call).  They run on the recording
 *  thread, once per sleep (a long wait is several sleeps of at most 10 ms),
 *  and must not record.  Set them before recording starts. */
typedef void (*dasf_wait_hook)(void);
DASF_API void dasf_set_wait_hooks(dasf_wait_hook before_wait, dasf_wait_hook after_wait);

/*! dasf_default_profiler() : a process-wide profiler configured from the
 *  environment, created on first call, destroyed at exit:
 *    DASF_TRACE_FILE        output file (unset: tracing off, returns NULL)
 *    DASF_COMMIT_THRESHOLD  events (default 5000)
 *    DASF_COMPRESSION       0 legacy, 1..19 archive (default: by the file
 *                           name, see DASF_COMPRESSION_AUTO)
 *    DASF_OVERFLOW          "block" or "drop"
 *    DASF_RING_CAPACITY     bytes per thread ring (power of two, 64 KiB..1 GiB)
 *    DASF_COMMIT_SIGNALS, DASF_SIGNAL_TIMEOUT   see dasf_commit_on_signals()
 *    DASF_FOLLOW_SYMLINKS   "1": follow a symbolic link at DASF_TRACE_FILE
 *                           (default "0": refuse it, see dasf_file_db_open)
 *  @return the profiler, or NULL when tracing is off or misconfigured
 *  (a message goes to stderr once) — a DASF_TRACE_FILE in a missing
 *  directory or not writable is reported here, at creation. */
DASF_API dasf_profiler *dasf_default_profiler(void);

/* ======================================================================
 * 7. Signals and output-path patterns (docs/RECORD.md)
 * ==================================================================== */

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
 *  committer thread of the library and waits for it with a deadline.
 *  @return 0, or DASF_EINVAL (SIGKILL/SIGSTOP, a bad number or timeout). */
DASF_API int dasf_commit_on_signals(const int *signals, size_t n, double timeout);

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
/*! dasf_path_has_counter() : 1 when pattern contains %n. */
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

#ifdef __cplusplus
}
#endif
#endif /* DASF_PROFILER_H */
