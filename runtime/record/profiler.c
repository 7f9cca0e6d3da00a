/*
 * profiler.c — the EventProfiler facade and the C convenience layer.
 *
 * Called from app threads.  It applies the seed's constructor rules, turns
 * record_*_event calls into ring records (through record.c / ring.h for the
 * built-in FileDatabase, through the vtable for a user database), and hosts
 * DASF_ZONE's runtime side (call-site names, start ticks, the end hook).
 * The environment-configured default profiler is default_profiler.c.
 * Invariant: a destroyed profiler keeps its small shell, so a stale pointer
 * returns DASF_ECLOSED instead of touching freed memory.
 */
#include "hooks.h"
#include "clock.h"
#include "db.h"
#include "record.h"
#include "ring.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define PROF_MAGIC 0x70726f66u /* "prof" */

struct dasf_profiler {
    uint32_t magic;
    int destroyed;
    dasf_filedb *fdb; /* the built-in FileDatabase's runtime, or NULL */
    dasf_db *db;
    int owns_db;
    char *output_file;
    struct dasf_profiler *next_shell; /* on g_shells once destroyed */
};

/* Destroyed profilers' shells, kept reachable on purpose (see above). */
static dasf_profiler *g_shells;
static pthread_mutex_t g_shells_lock = PTHREAD_MUTEX_INITIALIZER;

static int prof_ok(const dasf_profiler *p) {
    if (!p || p->magic != PROF_MAGIC) return DASF_EINVAL;
    return p->destroyed ? DASF_ECLOSED : DASF_OK;
}

static int random_hex8(char out[9]) {
    uint8_t b[4];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* No entropy source: pid and time still make clashes unlikely. */
        uint32_t v = (uint32_t)getpid() * 2654435761u ^ (uint32_t)dasf_now_ns();
        memcpy(b, &v, 4);
    }
    snprintf(out, 9, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
    return 0;
}

int dasf_profiler_create(dasf_profiler **out, const char *database_file,
                         const dasf_file_db_options *database_creation_kwargs,
                         dasf_db *database) {
    if (!out) return DASF_EINVAL;
    if (database && database_file) return DASF_EINVAL; /* the seed's ValueError */
    dasf_profiler *p = calloc(1, sizeof *p);
    if (!p) return DASF_ENOMEM;
    p->magic = PROF_MAGIC;
    if (database) {
        p->db = database;
        p->fdb = dasf_db_filedb(database);
        *out = p;
        return DASF_OK;
    }
    dasf_file_db_options o;
    int lrc = dasf_file_db_options_load(&o, database_creation_kwargs);
    if (lrc) {
        free(p);
        return lrc;
    }
    if (!database_creation_kwargs)
        o.commit_threshold = 1000; /* EventProfiler.default_database_kwargs */
    char name[64];
    if (!database_file) {
        char hex[9];
        random_hex8(hex);
        snprintf(name, sizeof name, "traces-%s.msgpack%s", hex,
                 o.compression_level > 0 || o.overflow == DASF_OVERFLOW_OVERWRITE ? ".zst" : "");
        database_file = name;
    }
    p->output_file = strdup(database_file);
    if (!p->output_file) {
        free(p);
        return DASF_ENOMEM;
    }
    int rc = dasf_file_db_open(&p->db, p->output_file, &o);
    if (rc) {
        free(p->output_file);
        free(p);
        return rc;
    }
    p->fdb = dasf_db_filedb(p->db);
    p->owns_db = 1;
    *out = p;
    return DASF_OK;
}

int dasf_profiler_destroy(dasf_profiler *p) {
    int rc = prof_ok(p);
    if (rc) return rc;
    p->destroyed = 1;
    if (p->owns_db) rc = dasf_db_close(p->db);
    /* The shell stays (see the file comment); its file name goes. */
    free(p->output_file);
    p->output_file = NULL;
    pthread_mutex_lock(&g_shells_lock);
    p->next_shell = g_shells;
    g_shells = p;
    pthread_mutex_unlock(&g_shells_lock);
    return rc;
}

const char *dasf_profiler_output_file(const dasf_profiler *p) {
    return prof_ok(p) == DASF_OK ? p->output_file : NULL;
}

dasf_db *dasf_profiler_database(dasf_profiler *p) {
    return prof_ok(p) == DASF_OK ? p->db : NULL;
}

int dasf_profiler_commit(dasf_profiler *p) {
    int rc = prof_ok(p);
    return rc ? rc : dasf_db_commit(p->db);
}

int dasf_profiler_snapshot(dasf_profiler *p) {
    int rc = prof_ok(p);
    if (rc) return rc;
    return dasf_db_snapshot(p->db);
}

int dasf_profiler_get_traces(dasf_profiler *p, dasf_trace_visit visit, void *user) {
    int rc = prof_ok(p);
    return rc ? rc : dasf_db_get_traces(p->db, visit, user);
}

int dasf_profiler_record(dasf_profiler *p, const dasf_event *ev) {
    int rc = prof_ok(p);
    return rc ? rc : dasf_db_record(p->db, ev);
}

/* ---- record_*_event -------------------------------------------------------------- */

static int record_kind(dasf_profiler *p, const char *name, dasf_phase ph, double ts, double dur,
                       const dasf_record_opts *o) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f) &&
        (!o || (!o->scope && !o->process_id.kind && !o->thread_id.kind && !o->args_msgpack))) {
        /* Automatic ids, typed args: the light path (it declines anything
         * else with DASF_EINVAL, and the generic path below decides). */
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        int rc = dasf_record_named_db(f, key, ph, ph == DASF_PHASE_INSTANT ? DASF_SCOPE_GLOBAL : 0,
                                      name, ts, ph == DASF_PHASE_COMPLETE ? dur : 0,
                                      o ? o->args : NULL, o ? o->n_args : 0);
        if (rc != DASF_EINVAL) return rc;
    }
    dasf_event ev;
    memset(&ev, 0, sizeof ev);
    ev.name = name;
    ev.timestamp = ts;
    ev.duration = dur;
    ev.phase = ph;
    if (o) {
        ev.scope = o->scope;
        ev.process_id = o->process_id;
        ev.thread_id = o->thread_id;
        ev.args = o->args;
        ev.n_args = o->n_args;
        ev.args_msgpack = o->args_msgpack;
        ev.args_msgpack_size = o->args_msgpack_size;
    }
    if (ph == DASF_PHASE_INSTANT && !ev.scope) ev.scope = DASF_SCOPE_GLOBAL;
    return dasf_profiler_record(p, &ev);
}

int dasf_profiler_record_complete_event(dasf_profiler *p, const char *name, double timestamp,
                                        double duration, const dasf_record_opts *opts) {
    return record_kind(p, name, DASF_PHASE_COMPLETE, timestamp, duration, opts);
}

int dasf_profiler_record_instant_event(dasf_profiler *p, const char *name, double timestamp,
                                       const dasf_record_opts *opts) {
    return record_kind(p, name, DASF_PHASE_INSTANT, timestamp, 0, opts);
}

int dasf_profiler_record_duration_begin_event(dasf_profiler *p, const char *name,
                                              double timestamp, const dasf_record_opts *opts) {
    return record_kind(p, name, DASF_PHASE_DURATION_BEGIN, timestamp, 0, opts);
}

int dasf_profiler_record_duration_end_event(dasf_profiler *p, const char *name,
                                            double timestamp, const dasf_record_opts *opts) {
    return record_kind(p, name, DASF_PHASE_DURATION_END, timestamp, 0, opts);
}

/* ---- fast paths -------------------------------------------------------------------- */

static inline uint64_t bits(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* Slow path of the handle-based calls for user databases (or bad input). */
static DASF_COLD int record_h_slow(dasf_profiler *p, dasf_name name, dasf_phase ph, double ts,
                                   double dur) {
    int rc = prof_ok(p);
    if (rc) return rc;
    const char *s = dasf_name_str(name);
    if (!s) return DASF_EINVAL;
    return record_kind(p, s, ph, ts, dur, NULL);
}

static inline int record_h(dasf_profiler *p, dasf_name name, dasf_phase ph, double ts,
                           double dur) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f && name && dasf_finite_bits(bits(ts)) && dasf_nonneg_finite_bits(bits(dur)))) {
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        return dasf_ring_push_plain(f, key, dasf_rec_word(name, ph, DASF_TS_DOUBLE, 0),
                                    bits(ts), bits(dur));
    }
    return record_h_slow(p, name, ph, ts, dur);
}

int dasf_record_complete_h(dasf_profiler *p, dasf_name name, double timestamp,
                           double duration) {
    return record_h(p, name, DASF_PHASE_COMPLETE, timestamp, duration);
}

int dasf_record_instant_h(dasf_profiler *p, dasf_name name, double timestamp) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f && name && dasf_finite_bits(bits(timestamp)))) {
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        return dasf_ring_push_plain(
            f, key, dasf_rec_word(name, DASF_PHASE_INSTANT, DASF_TS_DOUBLE, DASF_SCOPE_GLOBAL),
            bits(timestamp), 0);
    }
    return record_h_slow(p, name, DASF_PHASE_INSTANT, timestamp, 0);
}

int dasf_record_begin_h(dasf_profiler *p, dasf_name name, double timestamp) {
    return record_h(p, name, DASF_PHASE_DURATION_BEGIN, timestamp, 0);
}

int dasf_record_end_h(dasf_profiler *p, dasf_name name, double timestamp) {
    return record_h(p, name, DASF_PHASE_DURATION_END, timestamp, 0);
}

int dasf_record_complete_ns(dasf_profiler *p, dasf_name name, int64_t ts_ns, int64_t dur_ns) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f && name && dur_ns >= 0)) {
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        return dasf_ring_push_plain(f, key, dasf_rec_word(name, DASF_PHASE_COMPLETE, DASF_TS_NS, 0),
                                    (uint64_t)ts_ns, (uint64_t)dur_ns);
    }
    if (dur_ns < 0) return prof_ok(p) ? prof_ok(p) : DASF_EINVAL;
    return record_h_slow(p, name, DASF_PHASE_COMPLETE, dasf_ns_to_seconds(ts_ns),
                         dasf_ns_to_seconds(dur_ns));
}

int dasf_record_complete_args(dasf_profiler *p, const char *name, double timestamp,
                              double duration, const dasf_arg *args, size_t n_args) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f)) {
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        int rc = dasf_record_named_db(f, key, DASF_PHASE_COMPLETE, 0, name, timestamp, duration,
                                      args, n_args);
        if (rc != DASF_EINVAL) return rc;
        /* raw msgpack args and bad input: the generic path decides */
    }
    dasf_record_opts o;
    memset(&o, 0, sizeof o);
    o.args = args;
    o.n_args = n_args;
    return record_kind(p, name, DASF_PHASE_COMPLETE, timestamp, duration, &o);
}

static inline int record_now(dasf_profiler *p, dasf_name name, dasf_phase ph, unsigned scope) {
    dasf_filedb *f = p ? p->fdb : NULL;
    if (DASF_LIKELY(f && name)) {
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        return dasf_ring_push_plain(f, key, dasf_rec_word(name, ph, DASF_TS_TICKS, scope),
                                    dasf_ticks_inline(), 0);
    }
    return record_h_slow(p, name, ph, dasf_now(), 0);
}

int dasf_record_instant_now(dasf_profiler *p, dasf_name name) {
    return record_now(p, name, DASF_PHASE_INSTANT, DASF_SCOPE_THREAD);
}

int dasf_record_begin_now(dasf_profiler *p, dasf_name name) {
    return record_now(p, name, DASF_PHASE_DURATION_BEGIN, 0);
}

int dasf_record_end_now(dasf_profiler *p, dasf_name name) {
    return record_now(p, name, DASF_PHASE_DURATION_END, 0);
}

/* ---- DASF_ZONE (include/dasf/profiler.h): all of its runtime side ------------- */

/* The call site's name, interned once (the macro caches the handle in a
 * static per call site; racing first calls intern the same name). */
dasf_name dasf_zone_intern_slow(dasf_name *site, const char *name) {
    dasf_name h = dasf_intern(name);
    __atomic_store_n(site, h, __ATOMIC_RELAXED);
    return h;
}

/* The zone's start: raw ticks, converted on the flusher.  The clock is
 * initialised when the profiler is created, so with a profiler these are
 * the process's ticks; a zone without one records nothing. */
uint64_t dasf_zone_ticks(void) {
    return dasf_clock_raw_ticks();
}

/* The cleanup hook at the end of the zone's scope: one plain ring record
 * (ticks) for the built-in FileDatabase, else the user database's record. */
void dasf_zone_end(dasf_zone_ctx *z) {
    dasf_filedb *f = z->p ? z->p->fdb : NULL;
    if (DASF_LIKELY(f && z->name)) {
        uint64_t end = dasf_ticks_inline();
        uint64_t key = __atomic_load_n(&f->key, __ATOMIC_RELAXED);
        dasf_ring_push_plain(f, key, dasf_rec_word(z->name, DASF_PHASE_COMPLETE, DASF_TS_TICKS, 0),
                             z->start, end - z->start);
        return;
    }
    if (z->p && z->name && prof_ok(z->p) == DASF_OK) {
        /* A user database: convert the ticks now. */
        int64_t s = dasf_clock_ticks_to_ns(z->start);
        int64_t d = dasf_clock_span_to_ns(z->start, dasf_zone_ticks() - z->start);
        record_h_slow(z->p, z->name, DASF_PHASE_COMPLETE, dasf_ns_to_seconds(s), dasf_ns_to_seconds(d));
    }
}

/* ---- helpers for the other phases ------------------------------------------------- */

int dasf_record_counter(dasf_profiler *p, const char *name, double timestamp,
                        const dasf_arg *values, size_t n_values) {
    dasf_event ev = {.name = name, .timestamp = timestamp, .phase = DASF_PHASE_COUNTER,
                     .args = values, .n_args = n_values};
    return dasf_profiler_record(p, &ev);
}

/* Async and flow events: ph must be one of the kind's three phases, the id
 * an int or a string. */
static int record_with_id(dasf_profiler *p, dasf_phase ph, const dasf_phase kind[3],
                          const char *name, const char *cat, dasf_id id, double ts) {
    if (ph != kind[0] && ph != kind[1] && ph != kind[2])
        return prof_ok(p) ? prof_ok(p) : DASF_EINVAL;
    if (id.kind != DASF_ID_INT && id.kind != DASF_ID_STR) return DASF_EINVAL;
    dasf_event ev = {.name = name, .timestamp = ts, .phase = ph, .cat = cat, .id = id};
    return dasf_profiler_record(p, &ev);
}

int dasf_record_async(dasf_profiler *p, dasf_phase phase, const char *name, const char *cat,
                      dasf_id id, double timestamp) {
    static const dasf_phase async[3] = {DASF_PHASE_ASYNC_BEGIN, DASF_PHASE_ASYNC_INSTANT,
                                        DASF_PHASE_ASYNC_END};
    return record_with_id(p, phase, async, name, cat, id, timestamp);
}

int dasf_record_flow(dasf_profiler *p, dasf_phase phase, const char *name, const char *cat,
                     dasf_id id, double timestamp) {
    static const dasf_phase flow[3] = {DASF_PHASE_FLOW_BEGIN, DASF_PHASE_FLOW_STEP,
                                       DASF_PHASE_FLOW_END};
    return record_with_id(p, phase, flow, name, cat, id, timestamp);
}

static int record_meta(dasf_profiler *p, const char *what, const char *value) {
    if (!value) return DASF_EINVAL;
    dasf_arg a = DASF_ARG_STR("name", value);
    dasf_event ev = {.name = what, .timestamp = dasf_now(), .phase = DASF_PHASE_METADATA,
                     .args = &a, .n_args = 1};
    return dasf_profiler_record(p, &ev);
}

int dasf_record_process_name(dasf_profiler *p, const char *process_name) {
    return record_meta(p, "process_name", process_name);
}

int dasf_record_thread_name(dasf_profiler *p, const char *thread_name) {
    return record_meta(p, "thread_name", thread_name);
}

/* ---- for the preload (hooks.h) ---------------------------------------------------- */

dasf_filedb *dasf_profiler_filedb(dasf_profiler *p) {
    return prof_ok(p) == DASF_OK ? p->fdb : NULL;
}

int dasf_profiler_retarget(dasf_profiler *p, const char *path) {
    if (prof_ok(p) || !p->fdb || !p->owns_db || !path) return DASF_EINVAL;
    char *a = strdup(path), *b = strdup(path);
    if (!a || !b) {
        free(a);
        free(b);
        return DASF_ENOMEM;
    }
    dasf_filedb *f = p->fdb;
    /* The fork child's flusher state was reset (no fd, no pending chunk):
     * the next append opens the new path. */
    free(f->path);
    f->path = a;
    f->opts.database_file = a;
    free(p->output_file);
    p->output_file = b;
    return DASF_OK;
}
